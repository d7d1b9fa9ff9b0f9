import os
import re
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
PROGRAMS = ROOT / "programs"


def reference_machines():
    """(standard text, steps, ones) triples from the reference table in tests/data/machines.md."""
    rows = []
    for line in (DATA / "machines.md").read_text().splitlines():
        m = re.match(r"\| `([0-9A-Z_\-]+)` \| ([\d,]+) \| ([\d,]+)", line)
        if m:
            rows.append((m.group(1), int(m.group(2).replace(",", "")), int(m.group(3).replace(",", ""))))
    return rows


def u15_vector():
    """The U15,2 test vector from tests/data/u15_2.md."""
    text = (DATA / "u15_2.md").read_text()
    program = re.search(r"Program part \(cells 0\.\.293\):\s*`([01]+)`", text).group(1)
    data = re.search(r"Data part \(cells 294\.\.343\): `([01]+)`", text).group(1)
    final = re.search(r"Final tape from cell 294 to the last 1:\s*`([01]+)`", text).group(1)
    return {"program": program, "data": data, "final_from_294": final, "steps": 39065, "head": 295}


#: Test modules that load a model, drive a browser, start servers or run long properties: all
#: ``slow`` (``make test-fast`` leaves them out; ``make test`` runs everything).
SLOW_MODULES = {"test_backends", "test_chain", "test_compact", "test_differential", "test_eval",
                "test_hardening", "test_hostile", "test_html", "test_model", "test_plot",
                "test_train", "test_trust", "test_usability", "test_viewer", "test_openai_cli",
                "test_html_fuzz", "test_readme", "test_eval_card", "test_tmio_compat", "test_pipes",
                "test_trace_bounds"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def u15():
    return u15_vector()
