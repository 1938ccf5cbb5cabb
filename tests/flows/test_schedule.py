"""What `callqa schedule` relies on, checked without waiting for a cron minute.

Served flows run in a subprocess: Prefect pickles the flow by value, so the flow must not capture the
module's locks or loaded models (this broke the first scheduled run once). The full schedule was checked
by hand with a per-minute cron: docs/operations.md.
"""

from __future__ import annotations

import pickle

import cloudpickle


def test_the_served_flow_can_be_pickled_and_restored() -> None:
    from flows.nightly import nightly_inspection

    restored = pickle.loads(cloudpickle.dumps(nightly_inspection))
    assert restored.name == "nightly_inspection"


def test_importing_the_cli_does_not_import_prefect() -> None:
    import subprocess
    import sys

    code = "import sys, callqa.cli; print(any(m.split('.')[0] == 'prefect' for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # Prefect reads PREFECT_API_URL when imported; `callqa schedule` sets it first (flows/schedule.py).
    assert out.strip() == "False"
