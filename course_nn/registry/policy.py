"""What a graded file may import, call and touch: one allow-list per assignment, stated once.

The static gate (``course_nn/grading/review/``) refuses everything that is not listed here, and
the handouts' "What your file may use" sections are generated from the same table
(``course_nn/handout/rules.py``), so the two cannot disagree. A name is admitted because it is
plain math on values — never because a deny-list forgot it — so a new torch or numpy release
adds nothing by itself.

The parts of a policy:

- ``imports``: the modules a file may import (and reach by attribute: ``torch.nn.functional``).
- ``callables``: module-level names by qualified name (``torch.exp``, ``numpy.where``,
  ``functools.reduce``), in titled groups (the handout prints the titles). A name reached under
  another module path is admitted when it is the very same object (``torch.nn.parameter.Parameter``
  is ``torch.nn.Parameter``).
- ``attributes``: attribute names a file may read on values the gate cannot type (tensors, numpy
  arrays, Modules, autograd's ctx, lists, strings, ...). Names a file assigns on its own
  ``self``/``ctx`` are added for those receivers only.
- ``builtins``: Python built-ins a file may name.
- ``stores``: attributes a file may assign on values it does not own (``p.grad = None``).
- ``handed``: names of the Functions handed to the file (hw2's ``functions`` object):
  ``getattr(functions, NAME)`` is allowed when NAME can only be one of them.
- ``refusals``: names refused often enough to deserve their own reason and alternative.

Adding a task (say hw2's ``feature_map``): add the ``Task`` to the assignment's registry as
usual. If its solution needs a name no list holds, give the task ``allowed={"torch.cos",
".cos"}`` (a qualified name for a module-level callable, ``.name`` for an attribute): a name is
harmless or not wherever it is called, so it is admitted file-wide, and the handout lists it.
Run ``course-nn handout sync`` afterwards: the handouts' rules text is regenerated.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Group:
    """Names of one kind, under a title the handout prints ("elementwise math")."""

    title: str
    module: str  # "torch", "numpy", "math", ...; "" for attribute names
    names: tuple[str, ...]

    def qualified(self) -> tuple[str, ...]:
        return tuple(f"{self.module}.{n}" if self.module else n for n in self.names)


def group(title: str, module: str, names: str) -> Group:
    """``group("elementwise math", "torch", "abs exp log")``: names separated by white space."""
    return Group(title, module, tuple(names.split()))


@dataclass(frozen=True)
class Refusal:
    """A name a graded file may not use, why, and what to write instead."""

    names: tuple[str, ...]  # qualified names ("torch.load"), modules ("os"), attributes (".ctypes")
    reason: str
    instead: str


@dataclass(frozen=True)
class Policy:
    imports: tuple[str, ...]
    callables: tuple[Group, ...]
    attributes: tuple[Group, ...]
    builtins: tuple[str, ...]
    stores: tuple[str, ...]
    refusals: tuple[Refusal, ...] = ()
    handed: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())  # assignment-specific lines for the handout

    def extend(self, *, imports: tuple[str, ...] = (), callables: tuple[Group, ...] = (),
               attributes: tuple[Group, ...] = (), handed: tuple[str, ...] = (),
               notes: tuple[str, ...] = ()) -> Policy:
        """This policy with more names (an assignment's additions to the shared base)."""
        return replace(self, imports=self.imports + imports, callables=self.callables + callables,
                       attributes=self.attributes + attributes, handed=self.handed + handed,
                       notes=self.notes + notes)

    def with_names(self, names: frozenset[str], title: str) -> Policy:
        """This policy with a task's extra names (``torch.cos`` or ``.cos``), file-wide."""
        if not names:
            return self
        calls: dict[str, list[str]] = {}
        attrs = []
        for name in sorted(names):
            if name.startswith("."):
                attrs.append(name[1:])
            else:
                module, _, short = name.rpartition(".")
                calls.setdefault(module, []).append(short)
        return self.extend(callables=tuple(Group(title, m, tuple(n)) for m, n in calls.items()),
                           attributes=(Group(title, "", tuple(attrs)),) if attrs else ())

    def qualified_names(self) -> frozenset[str]:
        return frozenset(q for g in self.callables for q in g.qualified())

    def attribute_names(self) -> frozenset[str]:
        return frozenset(n for g in self.attributes for n in g.names)
