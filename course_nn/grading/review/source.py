"""The program the gate checks: a submission's text parsed exactly as the child will compile it.

The child imports the file as UTF-8 bytes, and Python honours a ``coding:`` line in bytes; the gate
is given the decoded text. Both are parsed here and must agree, so a line that is a comment to one
reader and code to the other (a UTF-7 coding line the submission reader missed) is refused, not run.
Deeply nested files are refused before any recursive pass sees them.
"""

from __future__ import annotations

import ast

# Honest code nests a few dozen syntax levels at most (the course's own modules: under 20). The gate's
# passes recurse once per level, so a deeper file is refused before any of them runs: a refusal, never a
# RecursionError in the grader, whatever the grader's own stack depth.
MAX_DEPTH = 100


def depth(tree: ast.AST) -> int:
    """How deeply the syntax tree nests (without recursion)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return deepest


_LAST: list = [None, None]  # the source object parsed last and its tree: the gate and the flags of one grading


def walk(node: ast.AST) -> list[ast.AST]:
    """Every node under ``node`` (itself first, in ``ast.walk``'s order), listed once per node: the gate's
    passes walk the same tree several times, and a parsed tree is only ever read."""
    nodes = node.__dict__.get("_walked")
    if nodes is None:
        nodes = node._walked = list(ast.walk(node))  # not one of the node's _fields: dumps and walks ignore it
    return nodes


def parse(source: str) -> ast.Module:
    """The tree the child will run. The child compiles ``source`` as UTF-8 bytes, and Python honours a
    ``coding:`` line in bytes: a file whose bytes read differently from its text (a UTF-7 line that
    turns a comment into code) is refused, so the gate and the child always see the same program.
    Raises SyntaxError (the child reports it) or ValueError (not checkable).

    The same ``source`` object parsed twice in a row (the gate, then the review flags of one grading)
    is parsed once: the tree is only read. Another object, even of equal text, is parsed again."""
    if _LAST[0] is source:
        return _LAST[1]
    try:
        compiled = ast.parse(source.encode("utf-8"))  # a SyntaxError here is the child's too
    except (RecursionError, MemoryError) as err:  # the parser's own limits (MemoryError: its stack)
        raise ValueError("the file nests expressions too deeply to be checked") from err
    except ValueError as err:  # null bytes
        raise ValueError("the file cannot be read as Python source") from err
    if depth(compiled) > MAX_DEPTH:
        raise ValueError(f"the file nests expressions more than {MAX_DEPTH} levels deep: split them into "
                         "named steps")
    if _may_declare_encoding(source):
        try:
            same = ast.dump(ast.parse(source)) == ast.dump(compiled)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            same = False
        if not same:
            raise ValueError("the file declares an encoding (a `coding:` line) under which Python reads it "
                             "differently from the text graded: delete that line and save the file as UTF-8")
    _LAST[:] = [source, compiled]
    return compiled


def _may_declare_encoding(source: str) -> bool:
    """Whether the bytes could be read other than as the text's UTF-8: Python looks for a byte-order mark
    and for ``coding[:=]`` in the first two lines only. Without either, the bytes are read as UTF-8 and
    both parses see the same characters, so comparing the two trees can be skipped. The test is wider
    than Python's: any ``\r`` in those lines (a line end Python knows that ``\n`` does not find) or any
    ``coding`` there at all takes the comparison."""
    end = source.find("\n", source.find("\n") + 1)
    head = source if end < 0 else source[:end]
    return source.startswith("\ufeff") or "coding" in head or "\r" in head
