"""The README's promises: two Quickstart commands that CI runs, and the default runs' quality bars."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from course_nn import cli

ROOT = Path(__file__).resolve().parents[1]


def quickstart_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the Quickstart holds exactly one bash block"
    return [line for line in blocks[0].splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_quickstart_is_two_commands_install_and_train_then_test():
    install, test = quickstart_commands()
    assert "pip install" in install and install.rstrip().endswith("course-nn train")
    assert test.strip() == "pytest"


def test_ci_installs_as_the_readme_says_and_runs_its_test_command():
    install, test = quickstart_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    assert install.split(" && ")[0] in ci  # pip install -e ".[dev]"
    assert re.search(rf"^{re.escape(test.strip())}$", ci, flags=re.M)
    assert "venv" in ci


@pytest.mark.slow
def test_default_train_reaches_97_percent_on_spiral(tmp_path):
    summary = tmp_path / "spiral.json"
    assert cli.main(["train", "--device", "cpu", "--quiet", "--logdir", str(tmp_path), "--summary", str(summary)]) == 0
    data = json.loads(summary.read_text())
    assert data["task"] == "spiral" and data["impl"] == "solutions"
    assert data["val_accuracy"] >= 0.97


@pytest.mark.slow
def test_sine_reaches_validation_mse_below_001(tmp_path):
    summary = tmp_path / "sine.json"
    assert cli.main(["train", "--task", "sine", "--device", "cpu", "--quiet", "--logdir", str(tmp_path),
                     "--summary", str(summary)]) == 0
    assert json.loads(summary.read_text())["val_loss"] < 0.01
