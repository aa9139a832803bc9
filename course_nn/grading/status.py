"""What happened to a submission, in one word and one line: for gradebooks and results.json.

Computed from the submitted text and the outcomes only, so it works the same whatever the
engine's internals are. Also: finding the submission in a folder (Gradescope's upload folder,
a student's folder in a batch), including a misnamed upload such as ``functions (1).py``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from course_nn.errors import UsageError
from course_nn.registry import Assignment

OK = "ok"
EMPTY = "empty"
IMPORT_ERROR = "import error"
NOT_STARTED = "not started"
MISSING = "missing"  # no submission file at all (a student's score of 0)
WRONG_ASSIGNMENT = "wrong assignment"  # another assignment's file (hw2's mlp.py handed in for hw1): a 0
NOT_GRADED = (MISSING, WRONG_ASSIGNMENT)  # nothing of this assignment was graded: not the class's mistakes
GRADER_ERROR = "grader error"  # the grader failed: never a student's score


@dataclass(frozen=True)
class Status:
    name: str  # one of the constants above
    reason: str = ""  # one line for people; empty when ok

    @property
    def ok(self) -> bool:
        return self.name == OK


def _has_code(source: str) -> bool:
    """False for a file of blanks, comments and at most a docstring."""
    body = ast.parse(source).body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]
    return bool(body)


def of_source(source: str, submission: str) -> Status | None:
    """The status the text alone decides (empty file, syntax error), else None."""
    try:
        if not _has_code(source):
            return Status(EMPTY, f"{submission} has no code in it (an empty file was uploaded?)")
    except SyntaxError as err:
        where = f"line {err.lineno}" if err.lineno else "somewhere"
        return Status(IMPORT_ERROR, f"{submission} does not import: SyntaxError at {where}: {err.msg}")
    except ValueError as err:  # e.g. null bytes: not a text file
        return Status(IMPORT_ERROR, f"{submission} is not a Python source file ({err})")
    return None


def of_result(result) -> Status:
    """The status of a graded submission (``engine.GradeResult``)."""
    from course_nn.grading import submission

    a: Assignment = result.assignment
    if getattr(result, "grader_error", ""):
        return Status(GRADER_ERROR, f"the grader failed, not the submission: {result.grader_error}")
    read = submission.read(result.submission, a)
    if read.problem:  # not UTF-8 text, a broken notebook: the student's import error
        return Status(IMPORT_ERROR, read.problem)
    decided = of_source(read.text, a.submission)
    if decided is not None:
        return decided
    outcomes = result.outcomes
    if not outcomes or any(o.fraction > 0 for o in outcomes):
        return Status(OK)
    reasons = [o.reason() for o in outcomes]
    if len(set(reasons)) == 1 and "import" in reasons[0].lower():
        return Status(IMPORT_ERROR, reasons[0])
    if all("not implemented" in r.lower() for r in reasons):
        return Status(NOT_STARTED, f"every task of {a.name} still raises NotImplementedError (the unchanged stub?)")
    return Status(OK)


# ----------------------------------------------------------------------------- finding the file

_SKIP = ("__MACOSX", "__pycache__")


def _python_files(folder: Path) -> list[Path]:
    """.py files and notebooks (.ipynb: graded by their marked cells, see submission.py)."""
    from course_nn.grading.submission import SUFFIXES

    return sorted(p for p in folder.rglob("*") if p.suffix in SUFFIXES and p.is_file()
                  and not any(part.startswith(".") or part in _SKIP for part in p.relative_to(folder).parts))


def find_submission(folder: Path, assignment: Assignment, for_student: bool = False,
                    batch_hint: bool = True) -> tuple[Path, str | None]:
    """The file to grade in ``folder`` and a note for the student when it was misnamed.

    Exactly one ``functions.py`` (at any depth) is graded; otherwise exactly one ``.py`` file is
    graded under its own name, with a note. Anything else is a UsageError that says what to do
    (``for_student``: to the student who uploaded it, as on Gradescope).
    """
    want = assignment.submission
    if for_student:
        return _for_student(folder, assignment)
    exact = [p for p in _python_files(folder) if p.name == want]
    if len(exact) == 1:
        return exact[0], _notebooks_not_graded(folder, exact[0])
    if len(exact) > 1:
        listed = ", ".join(str(p.relative_to(folder)) for p in exact[:4])
        raise UsageError(f"{folder} holds {len(exact)} files named {want} ({listed}); grade one file at a time"
                         + (", or use 'course-nn grade-batch' for a folder with one subfolder per student"
                            if batch_hint else ""))
    others = _python_files(folder)
    if len(others) == 1 and others[0].suffix == ".ipynb":
        return others[0], None  # the course's notebook: its marked cells are the file (notes say so)
    if len(others) == 1:
        name = others[0].relative_to(folder)
        return others[0], (f"your file is named {name}, not {want}; it was graded anyway, but name it "
                           f"exactly {want} next time")
    if not others:
        raise UsageError(f"{folder}: no {want} inside; {assignment.name} submissions are the one file {want}")
    listed = ", ".join(str(p.relative_to(folder)) for p in others[:4])
    raise UsageError(f"{folder}: no file named {want}, and {len(others)} other .py files ({listed}); "
                     f"submit exactly one file named {want}"
                     + (" (or use 'course-nn grade-batch' for a folder of students)" if batch_hint else ""))


def _notebooks_not_graded(folder: Path, graded: Path) -> str | None:
    """A note when a notebook came along with the graded .py file: only one of them is graded."""
    books = [str(p.relative_to(folder)) for p in _python_files(folder) if p.suffix == ".ipynb"]
    if not books:
        return None
    return (f"{graded.name} was graded; {', '.join(books[:2])} (uploaded with it) was not: upload only the file "
            f"you want graded ({graded.name}, or the notebook alone)")


def _for_student(folder: Path, assignment: Assignment) -> tuple[Path, str | None]:
    want = assignment.submission
    found = _python_files(folder) if folder.is_dir() else []
    exact = [p for p in found if p.name == want]
    if len(exact) == 1:
        return exact[0], _notebooks_not_graded(folder, exact[0])
    if len(found) == 1:
        return find_submission(folder, assignment)
    names = ", ".join(str(p.relative_to(folder)) for p in found[:4]) or "no Python file"
    raise UsageError(f"Nothing was graded: the upload holds {names}. Upload exactly one file, named {want} "
                     f"(rename your file to {want} before uploading) or the course's notebook, and submit again.")
