"""Root with a Python that 'nobody' cannot reach: the Quickstart's venv made from whatever python3
is first on PATH (here one under /root, mode 0700).

A student's own `course-nn check` still runs (its child as root, and it says so); `grade` and
`grade-batch`, which run other people's code, refuse in one line; pytest collects everything and
skips what needs the sandbox, with that reason. The venv is real: built in the test, from the first
python3 on PATH when it matches this interpreter (else this one), copied into a 0700 folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_nn.cli import main as cli_main
from course_nn.grading import sandbox

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "hw1_autograd" / "functions.py"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (only root must drop to 'nobody')")
pytestmark = needs_root


def _base_python() -> str:
    """The first python3 on PATH when it is this Python's version (torch's wheels are built per version)."""
    found = shutil.which("python3")
    if found:
        probe = subprocess.run([found, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
        if probe.stdout.strip() == str(sys.version_info[:2]):
            return found
    return sys._base_executable


@pytest.fixture(scope="module")
def python(tmp_path_factory) -> Path:
    """A venv's interpreter, copied into a folder only root can enter, seeing this checkout and the
    packages these tests run with."""
    folder = tmp_path_factory.mktemp("root-only")
    folder.chmod(0o700)
    venv = folder / "venv"
    subprocess.run([_base_python(), "-m", "venv", "--copies", "--without-pip", str(venv)], check=True, timeout=120)
    exe = venv / "bin" / "python"
    site = subprocess.run([str(exe), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    dirs = [str(ROOT)] + [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (Path(site) / "zz_course_nn.pth").write_text("".join(f"import site; site.addsitedir({d!r})\n" for d in dirs))
    assert not sandbox.modes._world_reachable(exe)  # really out of nobody's reach
    return exe


def run(python: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k != "COURSE_NN_REQUIRE_SANDBOX"}
    return subprocess.run([str(python), *args], capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env={**clean, **(env or {})})


@pytest.mark.slow
def test_check_runs_for_the_student_and_says_its_child_ran_as_root(python):
    result = run(python, "-m", "course_nn", "check", str(SOLUTION))
    assert result.returncode == 0, result.stdout[-1500:] + result.stderr[-1500:]
    assert "35 passed, 0 failed" in result.stdout
    how = next(ln for ln in result.stdout.splitlines() if ln.startswith("how it ran: "))
    assert "child runs as root" in how and "'course-nn grade' refuses this" in how


@pytest.mark.slow
def test_grade_and_grade_batch_refuse_in_one_line(python, tmp_path):
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    (tmp_path / "subs" / "alice" / "functions.py").write_text(SOLUTION.read_text())
    for args in (["grade", str(SOLUTION), "--json", str(tmp_path / "r.json")],
                 ["grade-batch", str(tmp_path / "subs"), "-a", "hw1", "--csv", str(tmp_path / "g.csv")]):
        result = run(python, "-m", "course_nn", *args)
        err = result.stderr.strip()
        assert result.returncode == 2, result.stdout[-1500:] + err
        assert len(err.splitlines()) == 1 and "like 'nobody'), who cannot reach" in err and str(python.parent) in err
        assert "Traceback" not in err
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "g.csv").exists()


@pytest.mark.slow
def test_pytest_collects_every_module_and_skips_what_needs_the_sandbox_with_the_reason(python):
    redteam = ["tests/test_security.py", "tests/test_containment_redteam.py", "tests/test_root_redteam.py"]
    collected = run(python, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *redteam)
    assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr[-2000:]
    assert "error" not in collected.stdout.splitlines()[-1].lower()  # "N tests collected", no "errors"
    one = "tests/test_security.py::test_hw2_reference_keeps_full_credit_in_the_sandbox"
    skipped = run(python, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", one)
    assert skipped.returncode == 0 and "2 skipped" in skipped.stdout, skipped.stdout[-2000:]
    assert "needs an interpreter 'nobody' can reach" in skipped.stdout
    # CI asks for every layer: there the same refusal fails the run instead of skipping
    required = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", one, env={"COURSE_NN_REQUIRE_SANDBOX": "1"})
    assert required.returncode == 1 and "COURSE_NN_REQUIRE_SANDBOX is set" in required.stdout


def test_only_a_students_own_check_may_run_a_child_as_root(monkeypatch, tmp_path, capsys):
    """The policy, in this process: with 'nobody' unable to reach the interpreter, containment()
    (grade) refuses and containment(student_check=True) (check) runs the child as root, saying so."""
    monkeypatch.setattr(sandbox.modes, "_world_reachable", lambda path: False)
    sandbox.containment.cache_clear()
    try:
        assert sandbox.refusal() is not None and "cannot reach" in sandbox.refusal()
        with pytest.raises(Exception, match="cannot reach"):
            sandbox.containment()
        own = sandbox.containment(student_check=True)
        assert not own.leases and "child runs as root" in own.describe()
        assert cli_main(["grade", str(SOLUTION), "--json", str(tmp_path / "r.json")]) == 2
        assert "cannot reach" in capsys.readouterr().err and not (tmp_path / "r.json").exists()
    finally:
        sandbox.containment.cache_clear()
