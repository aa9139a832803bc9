"""Write the file to upload from a notebook handout: its graded cells, as the assignment's file.

The cells the handout marked as graded (their tag course-nn:<hw>:<Task>), in notebook order, with
IPython magics and shell lines left out — exactly what the grader takes from the notebook — go
into upload/functions.py (hw1) or upload/mlp.py (hw2) beside the notebook. Save the notebook first:
this reads the file on disk. (The notebook's last cell does the same from the cells you ran.)

Examples:
  course-nn submit hw1_autograd.ipynb                  # -> upload/functions.py beside the notebook
  course-nn submit hw2_mlp.ipynb --out mlp.py --force   # replace an mlp.py of your own

A file course-nn did not write (your own functions.py) is never replaced without --force.
Exit status: 0 when the file was written; 2 for a notebook that cannot be read (one line says why).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from course_nn import cli_types
from course_nn.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", metavar="NOTEBOOK", help="your notebook handout (.ipynb), saved")
    cli_types.add_assignment(parser, guessed=True)
    parser.add_argument("--out", metavar="FILE",
                        help="where to write (default: upload/<functions.py|mlp.py> beside the notebook)")
    parser.add_argument("--force", action="store_true", help="replace FILE even when course-nn did not write it")


def run(args: argparse.Namespace) -> int:
    from course_nn import registry
    from course_nn.grading import submission
    from course_nn.notebook import kernel

    nb = Path(args.notebook)
    if nb.suffix != submission.NOTEBOOK or not nb.is_file():
        raise UsageError(f"{nb}: {'no such file' if not nb.exists() else 'not a notebook (.ipynb)'}; "
                         "give your saved notebook handout, e.g. hw1_autograd.ipynb")
    name = args.assignment or submission.notebook_assignment(nb)
    if name is None:
        raise UsageError(f"cannot tell the assignment of {nb} from its graded cells; add --assignment hw1 or hw2")
    a = registry.get(name)
    source = submission.read(nb, a)
    if source.problem:
        raise UsageError(source.problem)
    if args.out:
        from course_nn.files import check_output_file

        out = check_output_file(args.out, "--out", a.submission)  # its folder must exist
    else:
        out = nb.parent / "upload" / a.submission
    if out.resolve() == nb.resolve():
        raise UsageError(f"--out {out} is the notebook itself; write the .py file somewhere else")
    kernel.export(a, source.text, out, force=args.force)
    print(f"wrote {out}: upload this file to Gradescope as {a.submission}")
    for note in source.notes:
        print(f"note: {note}")
    return 0
