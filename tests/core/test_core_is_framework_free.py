"""obs-core must import, with every subsystem, without LangChain or LlamaIndex loaded."""

from __future__ import annotations

import subprocess
import sys


def test_importing_every_core_subpackage_loads_no_framework() -> None:
    code = (
        "import sys\n"
        "import obs_core, obs_core.cli, obs_core.store, obs_core.payloads, obs_core.evals,"
        " obs_core.evals.pipeline, obs_core.metrics, obs_core.alerts, obs_core.drift, obs_core.ui,"
        " obs_core.testing\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('langchain', 'langchain_core',"
        " 'langgraph', 'llama_index', 'openai')]\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
