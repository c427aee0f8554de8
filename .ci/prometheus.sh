#!/usr/bin/env bash
# Make a `prometheus` binary (and `promtool`) available for the tests marked `prometheus`.
# Idempotent: does nothing when both are already on PATH. Uses Debian's package.
set -euo pipefail

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

$SUDO apt-get update -qq
# The package's maintainer scripts may start a system daemon on :9090. The tests never use it
# (each starts its own instance on a free port); policy-rc.d keeps it from being started at all
# where no init system is running anyway.
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod 755 "$POLICY"
  CREATED_POLICY=1
fi
cleanup() {
  if [ "$CREATED_POLICY" -eq 1 ]; then
    $SUDO rm -f "$POLICY"
  fi
}
trap cleanup EXIT

$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null

command -v prometheus >/dev/null
command -v promtool >/dev/null
prometheus --version 2>&1 | head -n 1
