"""What the class got wrong: a batch's results.json files summarised for the next lecture.

Per task and check: the mean score and how many students lost points there; the most frequent
hints with how many students got each ("23 students: did you forget to sum the bias gradient over
the batch (dim 0)?"); and a score histogram. Built from results.json alone, so a summary can be
made again from a finished (or interrupted) batch without grading anything.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from course_nn.grading import markdown
from course_nn.registry import Assignment

# Parts of a feedback line that differ between students with the same mistake.
_CASE = re.compile(r"\[[^\]]*\]")  # [visible random float64 #1]
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
_SHAPE = re.compile(r"\((?:\s*N?\d*\s*,?)+\)")


def hint_of(line: str) -> str:
    """The teachable part of a feedback line: the likely-mistake question when there is one, else
    the line with case labels, shapes and numbers taken out."""
    if "?" in line:
        start = max(line.rfind(" — ", 0, line.rfind("?")), line.rfind(": ", 0, line.rfind("?")))
        question = line[start + 3 if line[start:start + 3] == " — " else start + 2:line.rfind("?") + 1].strip()
        question = " ".join(re.sub(r"\s*\([^)]*\)", "", question).split())  # "(dim 0)" or not: one hint
        if len(question) > 12:
            return question[0].upper() + question[1:]
    text = _CASE.sub("", line)
    text = _SHAPE.sub("(…)", text)
    text = _NUMBER.sub("#", text)
    return " ".join(text.split())[:200]


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

    def add(self, results: dict) -> None:
        """One student's results.json."""
        self.totals.append(float(results.get("score", 0.0)))
        seen: set[tuple[str, str]] = set()
        for test in results.get("tests", []):
            tags = test.get("tags") or []
            if test.get("max_score", 0) <= 0 or len(tags) < 3:
                continue
            task = test["name"].split(":", 1)[0]
            stats = self.checks.setdefault((task, tags[2]), CheckStats(task, tags[2], float(test["max_score"])))
            stats.scores.append(float(test.get("score", 0.0)))
            if float(test.get("score", 0.0)) < float(test["max_score"]) - 1e-9:
                output = str(test.get("output", ""))
                if test.get("output_format") == "md":
                    output = markdown.plain(output)  # the hint is written again, escaped, below
                for line in output.splitlines():
                    line = line.strip().removeprefix("- ")
                    if line and line != "ok" and not line.lower().startswith("tip"):  # tips cost nothing
                        seen.add((task, hint_of(line)))
        for key in seen:
            self.hints[key] += 1

    def markdown(self, top: int = 10) -> str:
        a = self.assignment
        n = len(self.totals)
        mean = sum(self.totals) / n if n else 0.0
        lines = [f"# {a.name} ({a.title}): what the class got wrong", "",
                 f"{n} submissions, mean {mean:.2f} / {a.total_points:g}.", "",
                 "## Per task and check", "", "| task | check | mean | max | students who lost points |",
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
        for (task, hint), count in self.hints.most_common(top):
            lines.append(f"- {count} student{'s' if count != 1 else ''} ({markdown.inline(task)}): "
                         f"{markdown.inline(hint, code=True)}")  # student text (exceptions) escaped
        return "\n".join(lines) + "\n"

    def printed(self, top: int = 3) -> str:
        worst = sorted(self.checks.values(), key=lambda s: -s.lost)[:top]
        lost = ", ".join(f"{s.task} {s.check} ({s.lost} students)" for s in worst if s.lost)
        out = [f"most points lost: {lost or 'none'}"]
        out += [f"  {count} students: {hint}" if count != 1 else f"  1 student: {hint}"
                for (_task, hint), count in self.hints.most_common(top)]
        return "\n".join(out)

    def histogram(self, path: Path) -> None:
        from course_nn.files import atomic_write

        fig = _figure_class()(figsize=(6, 3.2), dpi=100)
        ax = fig.add_subplot()
        bins = min(20, max(5, len(set(self.totals))))
        ax.hist(self.totals, bins=bins, range=(0, self.assignment.total_points), color="#3b7dd8", edgecolor="white")
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
