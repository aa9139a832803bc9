"""Build the zip a Gradescope programming assignment takes (setup.sh and run_autograder at its root).

  course-nn autograder build -a hw1 --out hw1_autograder.zip

Upload the zip as the assignment's autograder. Inside: this package's source (no solutions/ —
references come from torch's built-ins at grading time), the secret seed of the hidden cases
(solutions/<hw>/hidden.json; a fresh random one is made when that file is missing), setup.sh
(installs python, CPU torch, numpy and the package without its training-only dependencies:
grading imports nothing else) and run_autograder (grades /autograder/submission
into /autograder/results/results.json). To try the zip locally, unzip it into a folder laid out
like /autograder (the zip's content in ag/source/, the submission in ag/submission/) and run:
  COURSE_NN_AUTOGRADER_ROOT=$PWD/ag COURSE_NN_PYTHON=$(which python) bash ag/source/run_autograder
"""

from __future__ import annotations

import argparse
import json
import secrets
import zipfile
from pathlib import Path

from course_nn import cli_types, paths, registry

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when building the autograder image.
set -euo pipefail
apt-get update -q
apt-get install -y -q python3 python3-pip python3-venv
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q --upgrade pip
# Only what grading imports: CPU torch (small wheels; CUDA is used only where the machine has it) and
# numpy, then the package itself without its training dependencies (tensorboard, matplotlib, ...).
/autograder/venv/bin/pip install -q {torch_pin} --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install -q {others}
/autograder/venv/bin/pip install -q --no-deps /autograder/source/package
chown -R root:root /autograder/source/hidden
chmod -R go-rwx /autograder/source/hidden
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. results.json is written by the grader's parent
# process after the submission's process is gone, whatever the submission does.
set -uo pipefail
ROOT="${{COURSE_NN_AUTOGRADER_ROOT:-/autograder}}"
PY="${{COURSE_NN_PYTHON:-$ROOT/venv/bin/python}}"
export COURSE_NN_AUTOGRADER_ROOT="$ROOT"
# The seed is root's alone (0600): without namespaces (a default container) the child is a uid of its
# own that reads what every user may, and the grader refuses to grade while the seed is readable.
if [ "$(id -u)" = 0 ]; then chown -R root:root "$ROOT/source/hidden" 2>/dev/null || true; fi
chmod -R go-rwx "$ROOT/source/hidden" "$ROOT/submission_metadata.json" 2>/dev/null || true
mkdir -p "$ROOT/results"
cd "$ROOT/source"
PYTHONPATH="$ROOT/source/package" exec "$PY" -m course_nn grade --gradescope --assignment {assignment}
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    b = sub.add_parser("build", help="write the Gradescope autograder zip",
                       description="Write the zip a Gradescope programming assignment takes: setup.sh and "
                                   "run_autograder at its root, this package's source, the hidden-case seed. "
                                   "Example: course-nn autograder build -a hw1 --out hw1_autograder.zip")
    cli_types.add_assignment(b, guessed=False, legacy_positional=True)
    b.add_argument("--out", required=True, metavar="FILE.zip", type=cli_types.output_file("hw1_autograder.zip", ".zip"),
                   help="where to write the zip (a path ending in .zip; its folder must exist)")


#: Package folders grading never imports; bench/ holds hand-tuned Functions with hand-written backward.
NOT_SHIPPED = ("bench",)
#: What grading imports beyond the standard library and course_nn (tests/test_autograder_setup.py keeps
#: this true): torch, and numpy, which torch loads where it is installed (without it, every import of
#: torch warns, and the warning would land in what the submission printed).
GRADING_NEEDS = ("torch", "numpy")


def _torch_pin() -> str:
    """The torch this zip was built (and tested) with, so the image grades the same way."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"torch=={version('torch').split('+')[0]}"
    except PackageNotFoundError:
        return "torch"


def _declared(name: str) -> str:
    """``name`` with the version range pyproject.toml declares for it (e.g. numpy>=1.24)."""
    import re
    from importlib.metadata import PackageNotFoundError, requires

    try:
        declared = requires("course-nn") or []
    except PackageNotFoundError:
        declared = []
    found = [r.split(";")[0].strip() for r in declared if re.match(rf"{name}\b", r) and ";" not in r]
    return f"'{found[0]}'" if found else name


def setup_script() -> str:
    """setup.sh: python, then exactly GRADING_NEEDS, then the package with --no-deps."""
    return SETUP_SH.format(torch_pin=_torch_pin(), others=" ".join(_declared(n) for n in GRADING_NEEDS[1:]))


def _package_files(root: Path) -> dict[str, bytes]:
    pkg = Path(__file__).resolve().parents[1]
    # the checkout this package runs from (the course repo may be another folder: COURSE_NN_ROOT)
    src = next((d for d in (pkg.parent, root) if (d / "pyproject.toml").is_file()), None)
    if src is None:
        from course_nn.errors import UsageError

        raise UsageError(f"no pyproject.toml in {pkg.parent} or {root}; build the zip from a clone of the course repository")
    files = {"package/pyproject.toml": (src / "pyproject.toml").read_bytes(),
             "package/README.md": (src / "README.md").read_bytes() if (src / "README.md").is_file() else b""}
    for f in sorted(pkg.rglob("*")):
        rel = f.relative_to(pkg)
        if rel.parts[0] in NOT_SHIPPED:
            continue
        if f.is_file() and "__pycache__" not in f.parts and f.suffix in (".py", ".typed"):
            files[f"package/course_nn/{f.relative_to(pkg).as_posix()}"] = f.read_bytes()
    return files


def run(args: argparse.Namespace) -> int:
    from course_nn.files import atomic_write, refuse_overwrite
    from course_nn.grading import options

    out = Path(args.out)  # a writable .zip path: checked by argparse (cli_types.output_file)
    a = registry.get(cli_types.assignment_given(args))
    root = paths.repo_root()
    seed_file = (paths.solutions_dir(required=False) or root / "solutions") / a.folder / "hidden.json"
    if seed_file.is_file():
        seed = int(json.loads(seed_file.read_text())["seed"])
        origin = str(seed_file)
    else:
        seed, origin = secrets.randbelow(2**31), "a fresh random seed (no solutions/<hw>/hidden.json)"
    refuse_overwrite(out, "--out", reads=[Path(__file__).resolve().parents[1], seed_file.parent])
    # Gradescope unzips this into /autograder/source and copies run_autograder to /autograder.
    files = _package_files(root)
    files[f"hidden/{a.name}.json"] = json.dumps({"assignment": a.name, "seed": seed}).encode()
    files["assignment.txt"] = (a.name + "\n").encode()
    files["setup.sh"] = setup_script().encode()
    files["run_autograder"] = RUN_AUTOGRADER.format(assignment=a.name).encode()

    def write(f) -> None:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
            hidden = zipfile.ZipInfo("hidden/", date_time=(2026, 1, 1, 0, 0, 0))
            hidden.external_attr = (0o40700 << 16) | 0x10  # a folder only its owner (root) may open
            zf.writestr(hidden, b"")
            for name, data in sorted(files.items()):
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                mode = 0o755 if name.endswith(("run_autograder", "setup.sh")) else 0o644
                info.external_attr = (0o600 if name.startswith("hidden/") else mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, data)

    options.write_or_fail(lambda: atomic_write(out, write), out)
    print(f"wrote {out} ({len(files)} files; hidden cases from {origin}). Upload it as the autograder of "
          f"a Gradescope programming assignment; students submit {a.submission}.")
    return 0
