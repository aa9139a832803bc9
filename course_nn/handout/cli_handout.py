"""Keep one source of truth: generate the student handouts from solutions/.

  course-nn handout sync                 rewrite assignments/ from solutions/ (all assignments)
  course-nn handout check                exit 1 with a diff when assignments/ is stale
  course-nn handout build -a hw1 --out DIR  write the student bundle (DIR/hw1_autograd/, or a .zip)
  course-nn handout build -a hw1 --format ipynb --out hw1.ipynb   the notebook handout (Jupyter, Colab)

In solutions/, code between '# BEGIN SOLUTION' and '# END SOLUTION' becomes
raise NotImplementedError("<Class>.<method> is not implemented yet (hw1 task N)"); everything else
(docstrings, hints, public tests, README) is copied. Files named hidden* stay instructor-only.
The "What your file may use" sections (README.md, the stub's docstring) are generated from the
registry's allow-list, in solutions/ and assignments/ alike, so they match what the grader checks.
The bundle is checked line by line: no solution line may appear in it.

The notebook handout (assignments/<hw>/<hw folder>.ipynb, written by sync like every other file)
holds the README as markdown and the stub as one code cell per task, tagged course-nn:<hw>:<Task>
(the cells the grader takes from a notebook), each followed by a check cell; then training, the
trace, TensorBoard and the export of the file to upload. On Colab its first cell installs the
package from course_nn/registry/__init__.py's INSTALL (or build's --install).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from course_nn import cli_types, paths, registry
from course_nn.errors import UsageError


def _bundle_target(text: str, name: str, root: Path) -> Path:
    """--out as a zip file or a folder this process can write, away from what the build reads
    (assignments/<hw>/, solutions/); UsageError (one line) otherwise."""
    from course_nn.files import check_output_dir, check_output_file, refuse_overwrite
    from course_nn.handout import sync

    path = Path(text)
    if path.suffix != ".zip" and path.exists() and not path.is_dir():
        raise UsageError(f"--out {text} is a file; give a folder (created if missing), or a path ending in .zip")
    target = sync.target(path, name)
    refuse_overwrite(target, "--out", reads=[root / "assignments" / registry.get(name).folder, root / "solutions"],
                     shown=f"--out {text}" + (f" (the bundle goes to {target})" if target != path else ""))
    if path.suffix == ".zip":
        return check_output_file(path, "--out", "hw1.zip")
    return check_output_dir(path, "--out")


def _notebook_target(text: str) -> Path:
    """--out for --format ipynb: a .ipynb file in an existing folder, or a folder (created if missing)."""
    from course_nn.files import check_output_dir, check_output_file

    path = Path(text)
    if path.suffix == ".ipynb":
        return check_output_file(path, "--out", "hw1.ipynb")
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {text} is a file; give a path ending in .ipynb, or a folder")
    return check_output_dir(path, "--out")


def _build_notebook(root: Path, name: str, args: argparse.Namespace) -> int:
    from course_nn.files import refuse_overwrite, write_or_fail
    from course_nn.handout import notebook, sync

    a = registry.get(name)
    out = _notebook_target(args.out)
    refuse_overwrite(out, "--out", reads=[root / "assignments" / a.folder, root / "solutions"])
    written = write_or_fail(lambda: sync.build_notebook(root, name, out, args.install, args.github, args.force), out)
    github = args.github or registry.COLAB_GITHUB
    print(f"wrote {written}: the {a.name} notebook handout (Jupyter and Colab); students upload the "
          f"{a.submission} its last cell writes, or the notebook itself")
    print("'Open in Colab' badge for the course page (Markdown)" + ("" if github else
          ", once assignments/ is on GitHub: replace OWNER/REPO (or pass --github OWNER/REPO[@BRANCH])") + ":")
    print(notebook.badge_line(a, github or "OWNER/REPO"))
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    s = sub.add_parser("sync", help="regenerate assignments/ from solutions/",
                       description="Rewrite assignments/<hw>/ from solutions/<hw>/: solution blocks become "
                                   "NotImplementedError stubs; README, conftest.py and test_*.py are copied. "
                                   "Example: course-nn handout sync hw1")
    s.add_argument("assignments", nargs="*", metavar="HW", help=f"which assignments: {', '.join(registry.ASSIGNMENTS)} (default: all)")
    c = sub.add_parser("check", help="exit 1 with a readable diff when assignments/ is not what sync writes",
                       description="Compare assignments/ with what 'course-nn handout sync' would write; print a "
                                   "unified diff and exit 1 when they differ (CI runs this). "
                                   "Example: course-nn handout check")
    c.add_argument("assignments", nargs="*", metavar="HW", help=f"which assignments: {', '.join(registry.ASSIGNMENTS)} (default: all)")
    b = sub.add_parser("build", help="write the student bundle (stubs, public tests, handout, notebook) or the notebook",
                       description="Write assignments/<hw>/ as a folder (OUT/<hw folder>/) or a zip (OUT ending in "
                                   ".zip), after checking that it is current and that no line from a solution block "
                                   "is in it. OUT is created if missing (its parent must exist). A folder "
                                   "OUT/<hw folder>/ that holds anything the build did not write (a student's "
                                   "functions.py, runs/, data/) is refused unless --force. Every picture the "
                                   "handout shows ships in the bundle (img/). OUT may not lie in assignments/<hw>/ "
                                   "or solutions/. "
                                   "With --format ipynb, write only the notebook handout (OUT a .ipynb file, or a "
                                   "folder that gets <hw folder>.ipynb) and print the 'Open in Colab' badge line. "
                                   "Example: course-nn handout build -a hw1 --out hw1.zip; "
                                   "course-nn handout build -a hw1 --format ipynb --out hw1.ipynb")
    cli_types.add_assignment(b, guessed=False, legacy_positional=True)
    b.add_argument("--out", required=True, metavar="DIR|FILE.zip|FILE.ipynb",
                   help="a folder (the bundle goes into DIR/<hw folder>/), or a path ending in .zip; with "
                        "--format ipynb a .ipynb file or a folder")
    b.add_argument("--format", choices=("bundle", "ipynb"), default=None,
                   help="bundle: the student folder or zip; ipynb: the notebook handout only "
                        "(default: ipynb when --out ends in .ipynb, else bundle)")
    b.add_argument("--install", metavar="REQUIREMENT",
                   help="what the notebook installs on Colab, a pip requirement such as a wheel URL or "
                        f"git+https://... (default: the registry's INSTALL, now {registry.INSTALL!r})")
    b.add_argument("--github", metavar="OWNER/REPO[@BRANCH]",
                   help="where the course publishes assignments/ on GitHub, for the 'Open in Colab' badge "
                        "(default: the registry's COLAB_GITHUB)")
    b.add_argument("--force", action="store_true",
                   help="replace DIR/<hw folder>/ (or the .ipynb) even when it holds what the build did not write")


def run(args: argparse.Namespace) -> int:
    from course_nn.files import write_or_fail
    from course_nn.handout import sync

    root = paths.repo_root()
    paths.solutions_dir()  # one clear line when solutions/ is missing
    names = list(getattr(args, "assignments", None) or registry.ASSIGNMENTS)
    for n in names:
        registry.get(n)
    if args.action == "sync":
        changed = sync.sync(root, names)
        print("\n".join(f"wrote {c}" for c in changed) if changed else "assignments/ already up to date")
        return 0
    if args.action == "check":
        diff = sync.check(root, names)
        if diff:
            print(diff, end="")
            print("\nassignments/ differs from what solutions/ generates: run 'course-nn handout sync' and commit")
            return 1
        print(f"assignments/ is up to date ({', '.join(names)})")
        return 0
    name = cli_types.assignment_given(args)
    if args.format == "ipynb" or (args.format is None and args.out.endswith(".ipynb")):
        return _build_notebook(root, name, args)
    if args.install or args.github:
        raise UsageError("--install and --github shape the notebook handout; add --format ipynb")
    out = _bundle_target(args.out, name, root)
    files = write_or_fail(lambda: sync.build(root, name, out, force=args.force), out)
    print(f"wrote {len(files)} files to {sync.target(out, name)}: {', '.join(files)}")
    return 0
