"""The Gradescope image's setup.sh installs only what grading imports, and grading imports no more.

Measured, not declared: the zip's own package grades a submission in a subprocess that records
every import statement course_nn runs; the distributions those imports come from must all be
installed by setup.sh's pip lines (with what those pull in). The child's files are read: they may
import the standard library and torch only.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
import zipfile
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

import pytest

from course_nn.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[1]
CHILD = ROOT / "course_nn" / "grading" / "child"
SOLUTIONS = {"hw1": ROOT / "solutions" / "hw1_autograd" / "functions.py",
             "hw2": ROOT / "solutions" / "hw2_mlp" / "mlp.py"}
TRAINING_ONLY = {"tensorboard", "matplotlib", "torchvision", "tqdm"}

# Runs in the subprocess: grade --gradescope from the zip's package, recording course_nn's imports.
RECORD = '''
import builtins, json, sys
seen = set()
real_import = builtins.__import__
def spy(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and (globals or {}).get("__name__", "").startswith("course_nn"):
        seen.add(name.split(".")[0])
    return real_import(name, globals, locals, fromlist, level)
builtins.__import__ = spy
from course_nn.cli import main
code = main(["grade", "--gradescope", "--assignment", sys.argv[1]])
import course_nn
print(json.dumps({"code": code, "imports": sorted(seen), "package": course_nn.__file__}))
'''


def pip_installs(setup_sh: str) -> tuple[set[str], list[str]]:
    """(distribution names setup.sh installs by name, its pip lines that install a local folder)."""
    names, folders = set(), []
    for line in setup_sh.splitlines():
        if line.lstrip().startswith("#") or "pip install" not in line:
            continue
        skip = False
        for arg in shlex.split(line.split("pip install", 1)[1]):
            if skip or arg.startswith("-"):
                skip = arg in ("--index-url", "-i", "--extra-index-url") if not skip else False
                continue
            if arg.startswith("/"):
                folders.append(line)
            else:
                names.add(re.split(r"[<>=!~;\[ ]", arg)[0].lower())
    return names, folders


def with_dependencies(names: set[str]) -> set[str]:
    """``names`` and everything they require, as this machine's installed metadata says."""
    todo, found = list(names), set()
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in found:
            continue
        found.add(name)
        try:
            reqs = requires(name) or []
        except PackageNotFoundError:
            continue
        todo += [re.split(r"[<>=!~;\[ (]", r)[0] for r in reqs if "extra ==" not in r]
    return found


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> dict[str, Path]:
    """hw1's and hw2's zips, unpacked as Gradescope lays them out."""
    roots = {}
    for name in SOLUTIONS:
        base = tmp_path_factory.mktemp(f"ag-{name}")
        assert cli_main(["autograder", "build", "-a", name, "--out", str(base / "ag.zip")]) == 0
        with zipfile.ZipFile(base / "ag.zip") as zf:
            zf.extractall(base / "source")
        roots[name] = base
    return roots


def test_setup_installs_the_package_without_its_training_dependencies(autograder):
    for root in autograder.values():
        names, folders = pip_installs((root / "source" / "setup.sh").read_text())
        assert "torch" in names and not names & TRAINING_ONLY, names
        assert folders and all("--no-deps" in line for line in folders), folders  # the package: nothing pulled in


@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.parametrize("assignment", list(SOLUTIONS))
def test_grading_imports_only_what_setup_installs(autograder, assignment):
    root = autograder[assignment]
    (root / "submission").mkdir(exist_ok=True)
    (root / "submission" / SOLUTIONS[assignment].name).write_text(SOLUTIONS[assignment].read_text())
    env = {**os.environ, "COURSE_NN_AUTOGRADER_ROOT": str(root), "PYTHONPATH": str(root / "source" / "package")}
    run = subprocess.run([sys.executable, "-c", RECORD, assignment], capture_output=True, text=True, env=env,
                         cwd=root / "source", timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["code"] == 0 and got["package"].startswith(str(root / "source" / "package"))
    assert json.loads((root / "results" / "results.json").read_text())["score"] == pytest.approx(100)
    dists = packages_distributions()
    third_party = {m for m in got["imports"] if m not in sys.stdlib_module_names and m != "course_nn"}
    assert "torch" in third_party  # the recorder saw grading's imports
    installed = with_dependencies(pip_installs((root / "source" / "setup.sh").read_text())[0])
    needed = {d.lower().replace("_", "-") for m in third_party for d in dists.get(m, [m])}
    assert needed <= installed, f"grading imports {sorted(needed - installed)}, which setup.sh does not install"


def test_the_childs_files_import_only_the_standard_library_and_torch():
    local = {p.stem for p in CHILD.glob("*.py")}
    for path in CHILD.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            for name in names:
                top = name.split(".")[0]
                own = name.startswith("course_nn.grading.child.")  # the same files, imported in-process
                assert top in sys.stdlib_module_names or top in local or top == "torch" or own, \
                    f"{path.name} imports {name}"
