"""Grading: the self-check, the autograder, Gradescope output and batch grading.

Layout:
- ``child/``: code that runs inside the sandboxed child process next to student code. It imports only
  the standard library and torch, and it never scores anything: it returns plain tensors.
- ``hw1.py`` / ``hw2/``: per-assignment cases (parent-chosen inputs) and scoring (parent side);
  ``feedback.py``: comparing tensors and wording the difference.
- ``engine.py``: runs the child, enforces limits, collects results, scores in the parent.
"""
