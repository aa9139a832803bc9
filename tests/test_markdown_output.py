"""Student text cannot change the structure of the feedback (issue 21).

An exception's message on a visible case, a line of the student's source, a value their code
returned and a misnamed upload's file name all reach Markdown: results.json's top-level output, the
tests' outputs (output_format md) and grades_summary.md. Rendered as CommonMark (markdown-it), none
of them may add a heading, a code block, HTML, a link, an image, a list, a table, emphasis or a line
of their own that reads like a score.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from course_nn import registry
from course_nn.grading import engine, markdown, report, status
from course_nn.grading.engine import GradeResult
from course_nn.grading.outcome import Outcome
from course_nn.grading.summary import ClassSummary

MarkdownIt = pytest.importorskip("markdown_it").MarkdownIt
RENDER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
HW1, HW2 = registry.get("hw1"), registry.get("hw2")
FAKE = "Sigmoid: 10.00 / 10 (PASS)"
HOSTILE = [
    f"# {FAKE}", f"## Total: 100 / 100\n{FAKE}", f"```\n{FAKE}\n```", "~~~\nfenced\n~~~", f"\n\n{FAKE}\n\n",
    f"{FAKE}\n=====", f"{FAKE}\n-----", "<img src=x onerror=alert(1)>", "<script>alert(1)</script>",
    "<details><summary>open me</summary>hidden</details>", "[click here](http://evil.example/)",
    "![score](http://evil.example/100.png)", "[ref]: http://evil.example/", "<http://evil.example/>",
    "| a | b |\n|---|---|\n| c | d |", "> quoted", "- item\n- item", "1. first\n2. second", "    indented code",
    "**bold** _em_ ~~struck~~", "&lt;b&gt;bold&lt;/b&gt;", "\u202eSSAP 01 / 00.01", "$$\\frac{10}{10}$$",
    "`half a code span", "back\\`slash", "line\r\nbreak\u2028and\u2029more\x85",
]
STRUCTURE = re.compile(r"<(h\d|pre|a|img|script|details|table|ul|ol|li|blockquote|em|strong|del|s|hr|br)\b")


def tags(html: str) -> set[str]:
    return set(re.findall(r"<([a-z][a-z0-9]*)\b", html))


def own_lines(html: str) -> list[str]:
    """The text of each rendered line, tags removed."""
    return [re.sub(r"<[^>]+>", "", line).strip() for line in html.splitlines()]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_escaped_student_text_renders_as_exactly_that_text(text):
    line = f"Square.forward [visible batch size 1] raised ValueError: {text} (line 3 of functions.py: x = 1)"
    html = RENDER.render(markdown.paragraphs([line, "gradient for `bias` has shape (4, 7), expected (7,)"]))
    assert tags(html) <= {"p", "code"}, html
    assert html.count("<p>") == 2 and html.count("<code>") == 1  # the grader's one code span, nothing else
    assert not any(ln.startswith(FAKE) for ln in own_lines(html))
    assert markdown.plain(markdown.inline(text)) == markdown.one_line(text).lstrip()  # nothing lost but layout


def result_with(tmp_path: Path, lines: dict[str, list[str]], name: str = "functions.py") -> GradeResult:
    sub = tmp_path / name
    sub.write_text("x = 1\n")
    outcomes = [Outcome(t.name, c.key, 0.5 if t.name in lines else 1.0, list(lines.get(t.name, [])))
                for t in HW1.tasks for c in HW1.categories]
    return GradeResult(HW1, sub, outcomes, 1.0, True, [], "")


def assert_no_structure_from_students(data: dict) -> None:
    """Top level: the grader's bold title and its one fenced points table; tests: paragraphs and code."""
    top = RENDER.render(data["output"])
    assert tags(top) <= {"p", "strong", "pre", "code"} and top.count("<pre>") == 1, top
    assert not any(ln.startswith(FAKE) for ln in own_lines(top.split("<pre>")[0]))
    for test in data["tests"]:
        if test.get("output_format") == "md":
            html = RENDER.render(test["output"])
            assert tags(html) <= {"p", "code"}, (test["name"], html)
            assert not any(ln.startswith(FAKE) for ln in own_lines(html))
        else:
            assert FAKE not in test["output"].splitlines(), test["output"]


def test_every_test_output_and_note_keeps_its_structure(tmp_path):
    hostile = "\n".join(HOSTILE)
    result = result_with(tmp_path, {
        "Sigmoid": [f"Sigmoid.forward [visible batch size 1] raised ValueError: {hostile}",
                    f"dJ/dz[0] for `z`: {hostile}"],
        "Linear": [f"Linear [visible batch size 1]: returned {hostile}"],  # text output: no backtick
    })
    data = report.results_json(result, notes=[f"your file is named {hostile}.py, not functions.py"])
    assert next(t for t in data["tests"] if t["name"].startswith("Sigmoid:"))["output_format"] == "md"
    assert_no_structure_from_students(data)


def test_a_misnamed_upload_cannot_write_markdown_with_its_name(tmp_path):
    name = f"# {FAKE.replace('/', 'of')} <img src=x> [a](evil.example) `x\n## Total 100.py"  # no / in a name
    (tmp_path / name).write_text("x = 1\n")
    path, note = status.find_submission(tmp_path, HW1, for_student=True)
    assert note and "#" in note
    data = report.results_json(result_with(tmp_path, {}, name=path.name), notes=[note])
    assert_no_structure_from_students(data)
    assert "# Sigmoid: 10.00 of 10 (PASS) <img src=x>" in markdown.plain(data["output"])  # shown, as text


class Hostile(Exception):
    pass


def test_an_exception_message_from_a_graded_file_cannot_change_the_results(tmp_path):
    base = (Path(__file__).parent / "submissions" / "hw1" / "correct_base.py").read_text()
    message = "\n".join(HOSTILE[7:]) + "\n" + "\n".join(HOSTILE[:7])  # the HTML first: messages are cut at 400
    path = tmp_path / "functions.py"
    path.write_text(base + f'''

class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        raise ValueError({message!r})

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
''')
    with contextlib.redirect_stdout(io.StringIO()):
        result = engine.grade(path, HW1, isolate=False, seed=3)
    shown = [ln for o in result.outcomes if o.task == "Sigmoid" for ln in o.lines if "[visible" in ln]
    assert any("<img src=x" in ln for ln in shown)  # the visible case's message is shown to the student...
    data = report.results_json(result)
    assert_no_structure_from_students(data)  # ...as text


def test_grades_summary_escapes_what_students_wrote(tmp_path):
    hostile = "\n".join(HOSTILE)
    summary = ClassSummary(HW1)
    for i in range(3):
        result = result_with(tmp_path, {"Sigmoid": [f"Sigmoid.forward [visible batch size 1] raised ValueError: "
                                                    f"{hostile} #{i}"]})
        summary.add(report.results_json(result))
    html = RENDER.render(summary.markdown())
    # the grader's own structure: a title, three sections (per check, hints, score bins), two tables
    assert html.count("<h1>") == 1 and html.count("<h2>") == 3 and html.count("<table>") == 2
    assert not STRUCTURE.search(re.sub(r"</?(h1|h2|table|thead|tbody|tr|th|td|ul|li|p|code)>", "", html)), html
    assert not any(ln.startswith(FAKE) for ln in own_lines(html))
    assert "raised ValueError" in html  # the hint itself is still there, as text
