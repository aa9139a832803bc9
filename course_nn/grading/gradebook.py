"""The batch's own outputs: the CSV gradebook (written after every student, so an interrupted batch keeps
its work) and, beside it, what the class got wrong (<name>_summary.md and <name>_histogram.png)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from course_nn.grading import options

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A text cell a spreadsheet shows as text: one that starts like a formula (= + - @, tab, CR) gets a
    leading apostrophe (OWASP's CSV injection advice). A student's folder name, an error or a note
    is student-chosen text; numbers pass unchanged."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    """The gradebook, atomically: one row per student in name order, every text cell spreadsheet-safe."""
    from course_nn.files import atomic_write_text

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in sorted(rows, key=lambda r: r["student"]):
        writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
    options.write_or_fail(lambda: atomic_write_text(path, buf.getvalue()), path)


def summary_paths(csv_path: Path) -> tuple[Path, Path]:
    """<name>_summary.md and <name>_histogram.png beside the CSV."""
    return csv_path.with_name(csv_path.stem + "_summary.md"), csv_path.with_name(csv_path.stem + "_histogram.png")


def write_summary(a, rows: list[dict], results_dir: Path, csv_path: Path) -> str:
    """grades_summary.md and grades_histogram.png beside the CSV; returns the short printed summary."""
    import json

    from course_nn.files import atomic_write_text
    from course_nn.grading.summary import ClassSummary

    summary = ClassSummary(a)
    for row in rows:
        path = results_dir / row["student"] / "results.json"
        if row.get("score", "") == "" or not path.is_file():
            continue  # a grader error is not the class's mistake
        try:
            summary.add(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    md, png = summary_paths(csv_path)
    options.write_or_fail(lambda: atomic_write_text(md, summary.markdown()), md)
    if summary.totals:
        options.write_or_fail(lambda: summary.histogram(png), png)
    return summary.printed() + f"\nwhat the class got wrong -> {md}" + (f", {png}" if summary.totals else "")
