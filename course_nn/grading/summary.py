"""What the class got wrong: a batch's results.json files summarised for the next lecture.

Per task and check: the mean score and how many students lost points there; the most frequent
hints with how many students got each ("23 students: did you forget to sum the bias gradient over
the batch?"), each mistake counted once per student under one wording, in a fixed order; and the
scores in 10-point bins. Files that were missing or of another assignment are counted once, apart:
they say nothing about this assignment's mistakes. Built from results.json alone, so a summary can
be made again from a finished (or interrupted) batch without grading anything.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from course_nn.grading import markdown
from course_nn.grading import status as statuses
from course_nn.registry import Assignment

# Parts of a feedback line that differ between students with the same mistake.
_CASE = re.compile(r"\[[^\]]*\]")  # [visible random float64 #1]
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
_SHAPE = re.compile(r"\((?:\s*N?\d*\s*,?)+\)")
_WHERE = re.compile(r"^\w+(?:\.\w+)?(?::\s*\w+)?\s*(?:\[[^\]]*\])?\s*:\s*")  # "Linear.backward [case]: "
_VALUES = re.compile(r"(?:\s*(?:expected #, got #|\((?:relative|absolute) error [^)]*\)|(?:relative|absolute) error #"
                     r"(?: where # is expected)?|\(hidden case: values not shown\)|\(tolerance #\)|numerical #|"
                     r"analytical #)[,;]?)+")
BIN_WIDTH = 10  # points per histogram bin


def _tidy(text: str) -> str:
    """One sentence, capitalised, without asides such as " (dim 0)": the same hint either way (a
    formula's parentheses, σ(z)(1 − σ(z)), have no space before them and stay)."""
    text = " ".join(re.sub(r"\s+\([^()]*\)", "", text).split()).strip(" ;,")
    return text if text[1:2].isupper() else text[:1].upper() + text[1:]  # dJ/dz stays dJ/dz


def diagnosis(line: str) -> str | None:
    """The likely mistake a feedback line names ("likely mistake: X", or a question such as "did
    you forget to sum the bias gradient over the batch?"), or None when it only describes a symptom."""
    message = _WHERE.sub("", line.strip(), count=1)
    if "likely mistake:" in message:
        return _tidy(message.rsplit("likely mistake:", 1)[1]) or None
    if "?" in message:
        end = message.rfind("?")
        dash, colon = message.rfind(" — ", 0, end), message.rfind(": ", 0, end)
        begin = dash + 3 if dash > colon else colon + 2 if colon >= 0 else 0  # the question alone
        question = _tidy(message[begin:end + 1])
        if len(question) > 12:
            return question
    return None


def hint_of(line: str) -> str:
    """The teachable part of a feedback line: the likely mistake when it names one, else the line
    without where it happened (function, case label) and without shapes, numbers and values."""
    found = diagnosis(line)
    if found:
        return found
    text = _WHERE.sub("", line.strip(), count=1)
    text = _CASE.sub("", text)
    text = _SHAPE.sub("(…)", text)
    text = _VALUES.sub(" differs", _NUMBER.sub("#", text))
    return _tidy(text)[:200]


def task_hints(lines: list[str]) -> set[str]:
    """One student's hints for one task: every likely mistake its failing lines name, or, when none
    names one, the first line's symptom (later lines are mostly the same mistake seen elsewhere)."""
    named = {d for line in lines if (d := diagnosis(line))}
    return named or ({hint_of(lines[0])} if lines else set())


def score_bins(total: float) -> list[float]:
    """Histogram edges every BIN_WIDTH points from 0 to the assignment's total (the last bin holds the total)."""
    top = max(BIN_WIDTH, -(-int(total) // BIN_WIDTH) * BIN_WIDTH)
    return [float(edge) for edge in range(0, top + 1, BIN_WIDTH)]


@dataclass
class CheckStats:
    task: str
    check: str
    max_score: float
    scores: list[float] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return sum(self.scores) / len(self.scores) if self.scores else 0.0

    @property
    def lost(self) -> int:
        return sum(s < self.max_score - 1e-9 for s in self.scores)


@dataclass
class ClassSummary:
    assignment: Assignment
    totals: list[float] = field(default_factory=list)
    checks: dict[tuple[str, str], CheckStats] = field(default_factory=dict)
    hints: Counter = field(default_factory=Counter)  # (task, hint) -> number of students
    not_graded: Counter = field(default_factory=Counter)  # status (missing, wrong assignment) -> students
    whole_file: Counter = field(default_factory=Counter)  # status (import error, not started, empty) -> students

    def add(self, results: dict) -> None:
        """One student's results.json."""
        status = (results.get("extra_data") or {}).get("status", statuses.OK)
        if status in statuses.NOT_GRADED:  # nothing of this assignment to learn from: counted apart
            self.not_graded[status] += 1
            return
        self.totals.append(float(results.get("score", 0.0)))
        if status != statuses.OK:
            self.whole_file[status] += 1  # one reason for every task: not a per-task mistake
        failing: dict[str, list[str]] = {}
        for test in results.get("tests", []):
            tags = test.get("tags") or []
            if test.get("max_score", 0) <= 0 or len(tags) < 3:
                continue
            task = test["name"].split(":", 1)[0]
            for check, max_score, score in self._checks_of(task, tags[2], test):
                self.checks.setdefault((task, check), CheckStats(task, check, max_score)).scores.append(score)
            if float(test.get("score", 0.0)) < float(test["max_score"]) - 1e-9:
                output = str(test.get("output", ""))
                if test.get("output_format") == "md":
                    output = markdown.plain(output)  # the hint is written again, escaped, below
                for line in output.splitlines():
                    line = line.strip().removeprefix("- ")
                    if line and line != "ok" and not line.lower().startswith("tip"):  # tips cost nothing
                        failing.setdefault(task, []).append(line)
        if status == statuses.OK:
            for task, lines in failing.items():
                for hint in task_hints(lines):
                    self.hints[(task, hint)] += 1

    def _checks_of(self, task: str, check: str, test: dict) -> list[tuple[str, float, float]]:
        """(check, max, score) rows a test adds: a task that could not run at all (check "all") lost
        every one of its checks, so it counts as 0 in each rather than as a row of its own."""
        if check != "all":
            return [(check, float(test["max_score"]), float(test.get("score", 0.0)))]
        a = self.assignment
        return [(c.key, a.max_score(a.task(task), c), 0.0) for c in a.categories]

    def top_hints(self, top: int) -> list[tuple[tuple[str, str], int]]:
        """The most frequent hints in a fixed order: by count, then the registry's task order, then text."""
        order = {t.name: i for i, t in enumerate(self.assignment.tasks)}
        ranked = sorted(self.hints.items(), key=lambda kv: (-kv[1], order.get(kv[0][0], 99), kv[0][1]))
        return ranked[:top]

    def bins(self) -> list[tuple[float, float, int]]:
        """(low, high, students) per 10-point bin; the last bin includes the full score."""
        edges = score_bins(self.assignment.total_points)
        counts = [0] * (len(edges) - 1)
        for score in self.totals:
            counts[min(max(int(score // BIN_WIDTH), 0), len(counts) - 1)] += 1
        return [(edges[i], edges[i + 1], n) for i, n in enumerate(counts)]

    def apart(self) -> str:
        """'not graded (left out above): 2 missing, 1 wrong assignment', or ''."""
        if not self.not_graded:
            return ""
        return "not graded (left out of everything here, 0 in the gradebook): " + ", ".join(
            f"{n} {name}" for name, n in sorted(self.not_graded.items()))

    def markdown(self, top: int = 10) -> str:
        a = self.assignment
        n = len(self.totals)
        mean = sum(self.totals) / n if n else 0.0
        lines = [f"# {a.name} ({a.title}): what the class got wrong", "",
                 f"{n} submissions, mean {mean:.2f} / {a.total_points:g}."]
        if self.apart():
            lines.append(self.apart()[0].upper() + self.apart()[1:] + ".")
        if self.whole_file:
            lines.append("Whole-file problems (every task lost its points for one reason; not in the hints): "
                         + ", ".join(f"{k} {name}" for name, k in sorted(self.whole_file.items())) + ".")
        lines += ["", "## Per task and check", "", "| task | check | mean | max | students who lost points |",
                  "|---|---|---|---|---|"]
        order = {t.name: i for i, t in enumerate(a.tasks)}
        cats = {c.key: i for i, c in enumerate(a.categories)}
        for (task, check), s in sorted(self.checks.items(),
                                       key=lambda kv: (order.get(kv[0][0], 99), cats.get(kv[0][1], 99))):
            lines.append(f"| {markdown.inline(task)} | {markdown.inline(check)} | {s.mean:.2f} | {s.max_score:g} "
                         f"| {s.lost} |")
        lines += ["", "## Most frequent hints", ""]
        if not self.hints:
            lines.append("No check failed.")
        for (task, hint), count in self.top_hints(top):
            lines.append(f"- {count} student{'s' if count != 1 else ''} ({markdown.inline(task)}): "
                         f"{markdown.inline(hint, code=True)}")  # student text (exceptions) escaped
        lines += ["", f"## Scores ({BIN_WIDTH}-point bins)", "", "| score | students |", "|---|---|"]
        for low, high, count in self.bins():
            lines.append(f"| {low:g} ≤ score {'≤' if high >= a.total_points else '<'} {high:g} | {count} |")
        return "\n".join(lines) + "\n"

    def printed(self, top: int = 3) -> str:
        order = {t.name: i for i, t in enumerate(self.assignment.tasks)}
        cats = {c.key: i for i, c in enumerate(self.assignment.categories)}
        worst = sorted(self.checks.values(), key=lambda s: (-s.lost, order.get(s.task, 99), cats.get(s.check, 99)))
        lost = ", ".join(f"{s.task} {s.check} ({s.lost} student{'s' if s.lost != 1 else ''})"
                         for s in worst[:top] if s.lost)
        out = [f"most points lost: {lost or 'none'}"]
        out += [f"  {count} students: {hint}" if count != 1 else f"  1 student: {hint}"
                for (_task, hint), count in self.top_hints(top)]
        if self.apart():
            out.append(self.apart())
        return "\n".join(out)

    def histogram(self, path: Path) -> None:
        from course_nn.files import atomic_write

        fig = _figure_class()(figsize=(6, 3.2), dpi=100)
        ax = fig.add_subplot()
        ax.hist(self.totals, bins=score_bins(self.assignment.total_points), color="#3b7dd8", edgecolor="white")
        ax.set_xlabel(f"score (out of {self.assignment.total_points:g})")
        ax.set_ylabel("students")
        ax.set_title(f"{self.assignment.name}: {len(self.totals)} submissions")
        fig.tight_layout()
        atomic_write(path, lambda fh: fig.savefig(fh, format="png"))


def _figure_class():
    """matplotlib's Figure with the Agg canvas: no pyplot, no GUI backend, no global figure list."""
    from matplotlib.figure import Figure

    return Figure


def preload() -> None:
    """Import matplotlib and draw a throwaway figure now (0.4 s: the Agg canvas, the font cache, text
    layout), e.g. in a thread while the batch's workers grade, so the histogram at the end does not
    wait for any of it."""
    import io

    try:
        fig = _figure_class()(figsize=(1, 1), dpi=20)
        ax = fig.add_subplot()
        ax.hist([0.0, 1.0], bins=2)
        ax.set_xlabel("score")
        fig.tight_layout()
        fig.savefig(io.BytesIO(), format="png")
    except Exception:  # noqa: BLE001 - only a head start; the real histogram reports its own failure
        pass
