"""The handouts' "What your file may use" sections, the gate and ``course-nn check`` agree.

The sections are generated from the registry's allow-list; these tests check that what a handout
says is allowed passes the gate, what it says is not is refused, and that a stale section is
caught by ``handout check`` like a stale stub.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from course_nn import registry
from course_nn.grading import review
from course_nn.handout import rules, sync

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = [registry.get(n) for n in registry.ASSIGNMENTS]


@pytest.mark.parametrize("a", ASSIGNMENTS, ids=lambda a: a.name)
def test_every_handout_carries_the_generated_rules(a):
    for top in ("solutions", "assignments"):
        readme = (ROOT / top / a.folder / "README.md").read_text()
        assert rules.markdown(a) in readme, f"{top}/{a.folder}/README.md"
        stub = (ROOT / top / a.folder / a.submission).read_text()
        assert rules.docstring(a) in stub, f"{top}/{a.folder}/{a.submission}"


def _section(a) -> str:
    readme = (ROOT / "assignments" / a.folder / "README.md").read_text()
    return readme[readme.index(rules.MD_BEGIN):readme.index(rules.MD_END)]


@pytest.mark.parametrize("a", ASSIGNMENTS, ids=lambda a: a.name)
def test_what_the_handout_allows_passes_the_gate(a):
    section = _section(a)
    lines = ["from __future__ import annotations"]
    for module in a.rules.imports:
        if module != "__future__":
            assert f"`{module}`" in section
            lines.append(f"import {module}")
    by_module: dict[str, list[str]] = {}
    for q in sorted(a.rules.qualified_names()):
        assert f"`{q}`" in section, q
        module, _, name = q.rpartition(".")
        by_module.setdefault(module, []).append(name)
    for module, names in by_module.items():
        tag = module.replace(".", "_")
        lines.append(f"from {module} import {', '.join(f'{n} as _{tag}_{n}' for n in names)}")
    verdict = review.check("\n".join(lines) + "\n", a)
    assert not verdict.escapes, [v.text() for v in verdict.escapes][:5]


@pytest.mark.parametrize("a", ASSIGNMENTS, ids=lambda a: a.name)
def test_what_the_handout_refuses_the_gate_refuses(a):
    section = _section(a)
    for refusal in a.rules.refusals:
        for name in refusal.names:
            assert f"`{name}`" in section
            if name.startswith("."):
                source = f"def f(x):\n    return x{name}\n"
            elif name in a.rules.builtins or "." not in name and not name.islower():
                continue
            elif "." not in name and name not in ("eval", "exec", "compile", "open", "globals", "locals", "vars",
                                                  "dir", "breakpoint", "input", "help", "exit", "quit",
                                                  "memoryview", "delattr", "id", "__import__"):
                source = f"import {name}\n"
            elif "." not in name or name.startswith("__"):
                source = f"x = {name}\n"
            else:
                module, _, short = name.rpartition(".")
                source = f"import {module.split('.')[0]}\nx = {name}\n"
            assert review.check(source, a).escapes, (name, source)


def test_a_stale_rules_section_is_reported_by_handout_check(tmp_path):
    root = tmp_path / "course"
    for top in ("solutions", "assignments"):
        shutil.copytree(ROOT / top, root / top, ignore=shutil.ignore_patterns("__pycache__"))
    a = registry.get("hw2")
    assert sync.check(root, ["hw2"]) == ""
    readme = root / "solutions" / a.folder / "README.md"
    text = readme.read_text()
    readme.write_text(text.replace("`numpy`", "`numpy` (anything)", 1))
    diff = sync.check(root, ["hw2"])
    assert "rules generated from the registry" in diff and "(anything)" in diff
    assert any("solutions/hw2_mlp/README.md" in c for c in sync.sync(root, ["hw2"]))
    assert readme.read_text() == text and sync.check(root, ["hw2"]) == ""


def test_the_handout_names_every_shortcut_the_gate_charges():
    a = registry.get("hw1")
    section = _section(a)
    for task in a.tasks:
        for name in rules.shortcuts(a, task):
            assert name in section
            if not name.startswith("."):
                module, _, short = name.rpartition(".")
                # called, not returned: a listed class with methods (torch.nn.Sigmoid) is never a bare value
                source = (f"import {module.split('.')[0]}\nimport {module}\n"
                          f"class {task.name}:\n    def forward(ctx, x):\n        return {name}(x)\n")
                verdict = review.check(source, a)
                assert not verdict.escapes and verdict.shortcuts(task), (task.name, name)
    assert re.search(r"every Function, autograd: .*torch\.autograd\.grad", section)
