"""The accuracy suite: evaluations on labelled data and real recordings, marked ``accuracy``, with a report.

``./run tests -m accuracy`` runs it alone; ``.ci/run`` runs it with the rest. Tests add their figures through
the ``accuracy_report`` fixture, and pytest prints them in an "accuracy report" section at the end of the run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
_REPORT: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.accuracy)


@pytest.fixture()
def accuracy_report() -> Callable[[str], None]:
    """Add a block of figures to the run's accuracy report."""
    return _REPORT.append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _REPORT:
        terminalreporter.section("accuracy report")
        for block in _REPORT:
            terminalreporter.write_line(block)
