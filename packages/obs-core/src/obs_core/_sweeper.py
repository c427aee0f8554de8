"""The recorder's sweeper: a daemon thread that ends runs whose end event never came.

It holds the recorder weakly, so a recorder nobody uses any more is collected (and the thread
ends) instead of being kept alive by its own sweeper.
"""

from __future__ import annotations

import threading
import weakref
from typing import Protocol


class Sweepable(Protocol):
    @property
    def open_run_count(self) -> int: ...

    def sweep(self, *, max_age_s: float | None = None) -> int: ...


def sweeper_thread(recorder: Sweepable, interval_s: float,
                   stop: threading.Event) -> threading.Thread:
    """A not yet started thread that sweeps ``recorder`` every ``interval_s`` until ``stop``."""
    recorder_ref = weakref.ref(recorder)

    def loop() -> None:
        while not stop.wait(interval_s):
            target = recorder_ref()
            if target is None:
                return
            if target.open_run_count:
                target.sweep()
            del target

    return threading.Thread(target=loop, name="obs-sweeper", daemon=True)
