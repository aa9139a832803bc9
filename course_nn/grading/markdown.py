"""Feedback text into Markdown that keeps its structure, whatever a submission wrote.

Feedback lines mix the grader's words with text a student controls: an exception's message on a
visible case, a line of their source, a file name, a value their code returned. Gradescope renders
Markdown where ``output_format`` is ``md``, so that text could add headings, code fences, HTML,
links, images or a fake ``Sigmoid: 10.00 / 10 (PASS)`` line. Every piece of text is therefore
escaped before it enters Markdown, the grader's own words included (escaping changes nothing a
reader sees): the one construct left is the inline code span, written only where a line has a
matched pair of backticks on one line, and rendered literally. Line breaks inside a line become
spaces, so each feedback line stays one paragraph. ``plain`` reads the text back (summaries).
"""

from __future__ import annotations

import html
import re
import unicodedata

_ESCAPED = set("\\`*_[]~|#!$")  # inline markup (and math), escaped with a backslash wherever it appears
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}  # raw HTML and autolinks in angle brackets
_CODE = re.compile(r"(?<!`)`([^`]+)`(?!`)")  # a pair of single backticks on one line: a code span, shown literally
_BLOCK_START = re.compile(r"^([-+=]|\d+[.)])")  # a list item, setext underline or ordered list at line start
_AUTOLINK = re.compile(r"(?i)(https?|ftp)(:)(//)|(www)(\.)|(@)")  # GFM's bare links and e-mail addresses
_BREAK = "\u200b"  # zero-width space: splits a bare link so nothing links it
_SPANS = ("\u2028", "\u2029", "\x85")  # line and paragraph separators that str.splitlines honours


def one_line(text: object) -> str:
    """``text`` on one line: line breaks, tabs, other control characters and invisible format
    characters (bidirectional overrides that could reorder what a reader sees) become spaces."""
    out = str(text)
    for sep in _SPANS:
        out = out.replace(sep, " ")
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cf") else c for c in out)


def _escape_text(text: str) -> str:
    text = "".join("\\" + c if c in _ESCAPED else _ENTITIES.get(c, c) for c in text)
    return _AUTOLINK.sub(lambda m: _BREAK.join(g for g in m.groups() if g) + _BREAK, text)


def _code(content: str) -> str:
    # Inside a code span nothing is markup; the span's content may not touch a backtick.
    return f"` {content} `" if content.startswith(" ") or content.endswith(" ") else f"`{content}`"


def inline(text: object, code: bool = False) -> str:
    """``text`` as Markdown that renders as exactly that text on one line (``code``: a matched pair of
    backticks, as the grader writes around names, becomes a code span instead of two backticks)."""
    flat = one_line(text)
    if not code:
        out = _escape_text(flat)
    else:
        pieces, at = [], 0
        for m in _CODE.finditer(flat):
            pieces += [_escape_text(flat[at:m.start()]), _code(m.group(1))]
            at = m.end()
        out = "".join(pieces) + _escape_text(flat[at:])
    out = out.lstrip()  # four leading spaces would open a code block
    return _BLOCK_START.sub(lambda m: "\\" + m.group(1) if m.group(1)[0] in "-+=" else
                            m.group(1)[:-1] + "\\" + m.group(1)[-1], out)


def paragraphs(lines: list[str]) -> str:
    """Feedback lines as Markdown, one paragraph each (a blank line between: no line can continue
    another's paragraph into a heading or a table), code spans where the grader wrote backticks."""
    return "\n\n".join(inline(line, code=True) for line in lines)


def plain(markdown: str) -> str:
    """Text back from what ``inline`` and ``paragraphs`` wrote: escapes undone, code spans unwrapped."""
    text = markdown.replace(_BREAK, "")
    text = re.sub(r"\\(.)", r"\1", text)
    return html.unescape(text)
