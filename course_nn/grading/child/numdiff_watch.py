"""The child's watch for numerical differentiation in one call of a hw1 Function (used by probe_hw1).

Standard library and torch only; it decides nothing. Every aten op's result passes through ``see``
and ``flow_op`` (from the dispatch recorder), and every torch function that hands values to numpy or
Python passes through ``left`` (from the function recorder; counted in backward): the parent judges the report
(grading/hw1/compliance.py), with the schema in grading/hw1/schema.py.

Arithmetic in numpy or on Python numbers reaches no recorder, so what can be seen of it is where values
cross torch's border: taken out (``left``), or brought in (``flow``: every tensor made from a numpy
array, a list or a Python number is born in ``aten.lift_fresh``; a number handed to an op arrives as an
argument; numpy may write into memory ``.numpy()`` shared). ``Flow`` follows what came in through the
ops that use it, from forward into backward.
"""

from __future__ import annotations

import random

import torch
from torch.utils._python_dispatch import _disable_current_modes

try:  # sandbox: numdiff_nudge.py sits beside this file
    from numdiff_nudge import (
        MOST,
        Input,
        Parts,
        central,
        could_be_nudged,
        displaced,
        dtype_eps,
        halfway,
        nudged,
        plausible,
        spread,
    )
    from numdiff_scalar import Scalars
except ImportError:
    from course_nn.grading.child.numdiff_nudge import (
        MOST,
        Input,
        Parts,
        central,
        could_be_nudged,
        displaced,
        dtype_eps,
        halfway,
        nudged,
        plausible,
        spread,
    )
    from course_nn.grading.child.numdiff_scalar import Scalars

# Tensor methods that hand values to numpy or Python (all reach __torch_function__), and how many
# elements each takes: the whole tensor, or one number.
WHOLE = frozenset({"numpy", "__array__", "tolist"})
ONE = frozenset({"item", "__float__", "__int__", "__complex__"})
# The aten ops that wrap outside data (a numpy array, a list, a Python number) as a new tensor:
# torch.tensor, as_tensor, asarray, from_numpy, Tensor(...), new_tensor, x[i] = 0.5, x * ndarray.
ENTRY = frozenset({"lift_fresh", "lift_fresh_copy", "lift"})
FLOATS = 4096  # distinct Python numbers remembered in one call: a numerical loop has long been seen by then


def _is_tensor(value) -> bool:
    """Exactly a torch.Tensor: never a subclass, whose methods could run the submission's code."""
    return type(value) is torch.Tensor


def _leaves(value, found: list) -> list:
    """The tensors in an op's arguments or result (in lists, tuples and dicts)."""
    if isinstance(value, torch.Tensor):
        found.append(value)
    elif type(value) in (list, tuple, dict):
        for v in (value.values() if type(value) is dict else value):
            _leaves(v, found)
    return found


def watched_inputs(inputs: list) -> list[Input]:
    """The inputs a watch compares against: floating tensors of two elements or more."""
    return [Input(i, x) for i, x in enumerate(inputs) if _is_tensor(x) and x.is_floating_point() and x.numel() >= 2]


def _storage(t: torch.Tensor):
    """(storage, (address, bytes)) of the memory a tensor's values live in (views share it), or None."""
    try:
        st = t.untyped_storage()
        return (st, (st.data_ptr(), st.nbytes())) if st.data_ptr() else None
    except Exception:  # noqa: BLE001 - a tensor without storage (meta, sparse) carries nothing here
        return None


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal values, NaN equal to NaN (a snapshot compared with the memory it was taken from)."""
    return bool(((a == b) | (a.isnan() & b.isnan())).all()) if a.is_floating_point() else torch.equal(a, b)


STACKED = (2, 3, 4)  # copies of an input stacked into one tensor that the watch also compares, copy by copy
PAIRS = 8  # backward tensors of an input's size kept per call to pair with later ones (x' + h, x' - h)
QUESTIONS = frozenset({"__bool__", "__index__"})  # one yes/no (or one integer) out of torch per call


class Flow:
    """Values from outside torch in one case, shared by forward's watch and backward's.

    Each tensor made from outside data (``aten.lift_fresh``, floats and integers; a Python number
    handed to any op; a float reinterpreted from integer bits; memory numpy wrote into through
    ``.numpy()``) is an origin of its size (a constant table counts one; one origin per distinct
    Python number). ``tainted`` maps a storage's memory interval (address,
    bytes) to the origins of the values in it: views share a storage, storages that overlap share
    their origins, an op's results take the union of its arguments' origins, an in-place write adds to
    what the storage held. The storage objects are held so no address is reused while the case runs.
    Not origins: tensors whose values are all 0 or 1 (one-hot rows, masks) and copies of an input.
    Forward may compute its output in numpy (that is allowed): when forward returns, the output's own
    origins are dropped everywhere (what forward computed from its output in torch is clean too),
    unless they hold more values than the output. ``entered``: elements brought in during backward;
    ``floats``: the distinct Python numbers backward gave torch.
    """

    def __init__(self):
        self.tainted: dict[tuple[int, int], tuple[object, frozenset]] = {}
        self.sizes: list[int] = []
        self.numbers: dict[float, int] = {}
        self.exposed: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.foreign: set[tuple[int, int]] = set()  # intervals of memory torch's allocator did not give
        self.entered = 0
        self.floats: set[float] = set()
        self.tainted_grads = 0

    def enter(self, t: torch.Tensor) -> None:
        """A new origin of ``t``'s size (a constant table, every value the same, counts as one)."""
        flat = t.detach().reshape(-1)
        self.sizes.append(1 if flat.numel() > 1 and bool((flat == flat[0]).all()) else flat.numel())
        self._mark(t, frozenset((len(self.sizes) - 1,)))
        found = _storage(t)
        if found is not None:
            self.foreign.add(found[1])

    def number(self, value: float) -> int:
        """The origin of one Python number (the same number is one origin however often it comes)."""
        if value not in self.numbers:
            self.sizes.append(1)
            self.numbers[value] = len(self.sizes) - 1
        return self.numbers[value]

    def _mark(self, t: torch.Tensor, origins: frozenset) -> None:
        found = _storage(t)
        if found is not None:
            st, key = found
            old = self.tainted.get(key)
            self.tainted[key] = (st, origins | old[1] if old else origins)

    def origins(self, t: torch.Tensor) -> frozenset:
        found = _storage(t)
        if found is None or not self.tainted:
            return frozenset()
        (start, size), hit = found[1], self.tainted.get(found[1])
        out = hit[1] if hit else frozenset()
        for a, n in self.foreign:  # another storage over the same memory (only memory from outside
            if a < start + size and start < a + n and (a, n) != (start, size) and (a, n) in self.tainted:
                out = out | self.tainted[(a, n)][1]  # torch can share: its allocator never overlaps)
        return out

    def follow(self, args: tuple, out) -> None:
        """An op's results carry the outside values its tensor arguments carried."""
        found = frozenset().union(*(self.origins(t) for t in _leaves(list(args), [])))
        if found:
            for t in _leaves(out, []):
                self._mark(t, found)

    def size(self, t: torch.Tensor) -> int:
        """How many outside values went into ``t``."""
        return sum(self.sizes[i] for i in self.origins(t))

    def expose(self, t: torch.Tensor) -> None:
        """``t``'s memory was handed to numpy (``.numpy()``, ``__array__``), which may write into it."""
        with _disable_current_modes(), torch._C.DisableTorchFunction():
            if len(self.exposed) < 64 and t.is_floating_point():
                self.exposed.append((t.detach(), t.detach().clone()))

    def written(self) -> None:
        """Memory numpy wrote into since it was handed out becomes an origin of its size."""
        for i, (view, snap) in enumerate(self.exposed):
            if not _same(view, snap):
                self.enter(view)
                self.exposed[i] = (view, view.clone())

    def forward_output(self, out) -> None:
        """Forward's own output may be computed anywhere: its interval is no longer tainted (another
        storage over the same memory, holding more than the output, keeps its origins)."""
        with torch._C.DisableTorchFunction():
            self.written()
            found = _storage(out) if _is_tensor(out) else None
            if found is None or found[1][1] != out.numel() * out.element_size() or found[1] not in self.tainted:
                return
            own = self.tainted[found[1]][1]
            if sum(self.sizes[i] for i in own) > out.numel():
                return  # more outside values than the output holds: not only the output's
            for key, (st, origins) in list(self.tainted.items()):
                rest = origins - own
                if rest:
                    self.tainted[key] = (st, rest)
                else:
                    del self.tainted[key]

    def returned(self, grads) -> None:
        """Backward's gradients: how many hold at least as many outside values as elements."""
        with torch._C.DisableTorchFunction():
            self.written()
            items = grads if type(grads) in (tuple, list) else (grads,)
            self.tainted_grads = sum(1 for g in items if _is_tensor(g) and self.size(g) >= max(2, g.numel()))


class _Watch:
    """What numerical differentiation leaves in one call, seen at every aten op, for the parent to judge:
    ``complex`` (a complex tensor in a real Function: the complex step), ``perturbed`` (inputs of which a
    copy nudged by a small step, in one element or all, or by one uniform shift or scale appeared),
    ``produced`` (values computed, views not counted: a loop that re-runs the Function per input element
    computes about numel² of them) and ``ops``; with ``exits`` (backward), ``left_torch``: the elements
    taken out to numpy or Python numbers (and the yes/no reads), where arithmetic no recorder sees could
    differentiate numerically, and ``entered_torch``: what came back in (the case's ``Flow``). No
    boundary: the parent's accuracy cases are that."""

    LIMIT = 4000  # tensors compared in one call: a numerical loop has long been seen by then

    def __init__(self, inputs: list[Input], exits: bool = False, flow: Flow | None = None):
        self.inputs, self.perturbed, self._done = inputs, set(), set()
        self._held: list = []  # the tensors compared, held so no address in _done is reused this call
        self.complex, self.produced, self.ops, self._compared = False, 0, 0, 0
        self.exits, self.left_elements, self.left_ways, self.questions = exits, 0, set(), 0
        self.flow = flow if flow is not None else Flow()
        self._same: dict[int, list] = {}  # per input: backward's tensors of its size, to pair (x' ± h)
        self._random: random.Random | None = None  # where _scan looks besides the ends (made when first needed)
        sizes = {inp.numel for inp in inputs}  # the inputs' sizes, which every op's result is compared by
        self._sizes, self._largest, self._smallest = sizes, max(sizes, default=0), min(sizes, default=0)
        self._parts = Parts()  # per input: its elements seen nudged in smaller tensors, over the call
        self._scalars = Scalars()  # one-element results: x[i] ± h evaluated one element at a time

    def left(self, name: str, args: tuple) -> None:
        """A torch function called from the Function's code: memory handed to numpy is watched for
        writes (both phases); in backward, counted when it takes values out of torch (a whole tensor of
        floating values or of a float's bits, one number, one formatted number)."""
        if name not in WHOLE and name not in ONE and name not in QUESTIONS and name != "__format__":
            return
        try:  # watching must never change what the submission's code does
            t = args[0] if isinstance(args[0], torch.Tensor) else None
            if name in ("numpy", "__array__") and t is not None:
                self.flow.expose(t)
            if not self.exits:
                return
            if name == "__format__" and not (len(args) > 1 and args[1]):
                return  # f"{x}" prints; a format spec (".17g") reads a number's digits
            if name in QUESTIONS:
                self.questions += 1  # an element loop asks one or two per element; bit by bit asks dozens
                return
            if name in WHOLE and t is not None:
                base = t._base if t._base is not None else t
                if not t.is_floating_point() and not base.is_floating_point():
                    return  # integer class labels read as a list carry no derivative
                self.left_elements += t.numel()
            else:
                self.left_elements += 1
            self.left_ways.add(name)
        except Exception:  # noqa: BLE001 - an odd argument is counted as one number
            self.left_elements += 1

    def flow_op(self, name: str, args: tuple, out) -> None:
        """One aten op (``name`` without overload): values coming into torch, and where they go."""
        flow = self.flow
        floats = [a for a in args if type(a) is float]  # Python numbers handed to the op
        if name not in ENTRY and name != "view" and not flow.tainted and not flow.exposed \
                and not floats:  # most ops: nothing from outside
            return
        try:  # watching must never change what the submission's code does
            with torch._C.DisableTorchFunction():  # the watch's own calls stay out of the function recorder
                self._flow(flow, name, args, out, floats)
        except Exception:  # noqa: BLE001 - an odd value is not followed
            pass

    def _flow(self, flow: Flow, name: str, args: tuple, out, floats: list[float]) -> None:
        if flow.exposed:
            flow.written()
        if self.exits:
            for a in floats:
                self._number(a)
        if name in ENTRY:
            if _is_tensor(out) and out.is_floating_point() and len(flow.exposed) < 64:
                flow.exposed.append((out.detach(), out.detach().clone()))  # from_numpy shares numpy's memory
            if _is_tensor(out) and self._carries(out):
                flow.enter(out)
                if self.exits:
                    flow.entered += out.numel()
                    if out.numel() == 1 and out.is_floating_point():
                        self._number(float(out.detach().reshape(-1)[0]))
            return
        if name == "view" and _is_tensor(out) and _is_tensor(args[0]) \
                and out.is_floating_point() != args[0].is_floating_point():
            if out.is_floating_point():  # integer bits read as floats
                flow.enter(out)
                flow.entered += out.numel() if self.exits else 0
                return
            if self.exits:  # a float's bits read as an integer: on their way out
                self.left_elements += out.numel()
                self.left_ways.add("view(int)")
        numbers = [flow.number(a) for a in floats if a not in (0.0, 1.0)]
        if numbers:  # a Python number handed to an op: its results carry it
            for t in _leaves(out, []):
                flow._mark(t, frozenset(numbers))
        if flow.tainted:
            flow.follow(args, out)

    def _carries(self, t: torch.Tensor) -> bool:
        """Whether values brought in could carry a derivative: not all 0 or 1 (one-hot rows, masks), not
        a copy of an input (integer labels do count: few distinct values, a small origin)."""
        if t.numel() >= 2 and bool(((t == 0) | (t == 1)).all()):  # (one number at a time still counts)
            return False
        if not t.is_floating_point():
            return t.numel() > 0 and not t.is_complex()  # labels are few distinct values: a small origin
        flat = t.detach().to("cpu", torch.float64).reshape(-1)
        return not any(inp.numel == flat.numel() and _same(flat, inp.stats()[1]) for inp in self.inputs)

    def _number(self, value: float) -> None:
        if len(self.flow.floats) < FLOATS:
            self.flow.floats.add(value)

    def see(self, out, view: bool = False, inplace: bool = False) -> None:
        """One op's result (every value a Function computes is some op's result, so its arguments need
        no look; an in-place op also changed the tensor its result is a view of, as in x[j] += h)."""
        try:  # watching must never change what the submission's code does
            self.ops += 1
            if view:  # a view (x[i], x.t()) computes nothing new
                return
            outs = [out] if isinstance(out, torch.Tensor) else _leaves(out, [])
            for t in outs:
                self.produced += t.numel()
                self.complex = self.complex or t.is_complex()
            if self._compared > self.LIMIT or len(self.perturbed) == len(self.inputs):
                return
            if inplace:
                outs += [t._base for t in outs if t._base is not None]
            sizes, smallest = self._sizes, self._smallest
            if self.exits:  # backward: small results (x[i] ± h), paired once the call is over (report)
                self._scalars.add(outs, self._largest)
            if self.exits and self._parts.open():  # backward: nudged copies of part of an input, any split
                for t in outs:
                    if 2 <= t.numel() < self._largest and t.is_floating_point() and not t.is_complex():
                        with torch._C.DisableTorchFunction():
                            self._part(t)
            candidates = [(t, n) for t in outs if t.is_floating_point() and not t.is_complex()
                          and smallest <= (n := t.numel()) <= MOST]
            if candidates:
                with torch._C.DisableTorchFunction():  # the checks' own ops stay out of the function recorder
                    for t, n in candidates:
                        if n in sizes:
                            self._check(t, n)
                        else:  # x ± h stacked into one tensor (torch.stack([x, x]) + steps): each copy
                            for k in STACKED:
                                if n % k == 0 and n // k in sizes:
                                    for chunk in t.detach().reshape(k, -1):
                                        self._check(chunk, n // k)
                        if self.exits:  # backward: where a derivative is measured
                            self._scan(t, n)
        except Exception:  # noqa: BLE001 - an odd tensor (inference mode, a device without data) is not watched
            pass

    def _check(self, t: torch.Tensor, numel: int) -> None:
        ptr, version = t.data_ptr(), t._version
        key = (ptr, version, numel)
        if key in self._done:
            return
        self._done.add(key)
        self._held.append(t)
        head = None
        for inp in self.inputs:
            if inp.index in self.perturbed or numel != inp.numel or (ptr == inp.ptr and version == inp.version):
                continue
            x_head, x64, mean_abs, _ = inp.stats()
            eps = max(inp.eps, dtype_eps(t.dtype))
            head = head or (Input.values_of(t)[:2] if numel <= 64 else t.detach().reshape(-1)[:2].tolist())
            if not could_be_nudged(head, x_head, mean_abs, eps):  # two elements rule most tensors out
                continue
            self._compared += 1
            if nudged(t.detach().to("cpu", torch.float64).reshape(-1), x64, inp, eps):
                self.perturbed.add(inp.index)

    def _scan(self, t: torch.Tensor, m: int) -> None:
        """Order-free: most of an input's values, each moved by a small step, anywhere in ``t`` (padded,
        flipped, stacked, batched z[:, None, :] + h·I)."""
        ptr, sample = t.data_ptr(), None
        key = (ptr, t._version, m, "scan")
        if key in self._done:
            return
        self._done.add(key)
        self._held.append(t)
        for inp in self.inputs:
            if inp.index in self.perturbed or m < inp.numel or (ptr == inp.ptr and t._version == inp.version):
                continue
            if sample is None:  # a few values, where a layout puts them and where it cannot know
                rng = self._rng()
                at = (0, 1, m // 2, m - 1, rng.randrange(m), rng.randrange(m))
                values = Input.values_of(t) if m <= 512 else t.detach().reshape(-1)[list(at)].tolist()
                sample = [values[i] for i in at] if m <= 512 else values
            eps = max(inp.eps, dtype_eps(t.dtype))
            if m == inp.numel and self._paired(t, sample, inp, eps):
                self.perturbed.add(inp.index)
                continue
            if not plausible(sample, inp.sorted()[1], inp.stats()[2], eps, m > inp.numel) and \
                    not (m == inp.numel and spread(t, inp, eps)):
                continue
            self._compared += 1
            if displaced(t, inp, eps):
                self.perturbed.add(inp.index)

    def _rng(self) -> random.Random:
        """Spread, yet repeatable: seeded alike in every call (made on first use: most calls never scan)."""
        if self._random is None:
            self._random = random.Random(FLOATS)
        return self._random

    def _part(self, t: torch.Tensor) -> None:
        """A tensor smaller than an input (nudged copies of part of it, split in halves, rows, chunks)."""
        key = (t.data_ptr(), t._version, t.numel(), "part")
        if key not in self._done:
            self._done.add(key)
            self._held.append(t)
            self.perturbed |= self._parts.see(t, self.inputs, self.perturbed)

    def _paired(self, t: torch.Tensor, sample: list, inp, eps: float) -> bool:
        """Whether ``t`` and an earlier tensor of the input's size are x' ± h (a central difference at a
        step of any size, in any order), screened on the values at their first, second and last places."""
        ends = [sample[0], sample[1], sample[3]]
        earlier = self._same.setdefault(inp.index, [])
        for s, s_ends in earlier:
            if halfway(ends, s_ends, inp.sorted()[1], eps) and central(t, s, inp, eps):
                return True
        if len(earlier) < PAIRS:
            earlier.append((t, ends))
        return False

    def report(self) -> dict:
        if self.exits:  # x[i] ± h evaluated one element at a time, over the whole call
            self.perturbed |= self._scalars.straddled(self.inputs, self.perturbed)
        found = {"complex": self.complex, "perturbed": sorted(self.perturbed), "produced": self.produced, "ops": self.ops}
        if self.exits:
            found["left_torch"] = {"elements": self.left_elements, "ways": sorted(self.left_ways),
                                   "questions": self.questions}
            found["entered_torch"] = {"elements": self.flow.entered, "numbers": len(self.flow.floats),
                                      "tainted_grads": self.flow.tainted_grads}
        return found

