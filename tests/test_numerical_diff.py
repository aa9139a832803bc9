"""No credit for numerical differentiation (issue 21), and full credit for every honest style.

A backward that measures its derivative — finite differences element by element or vectorised,
Richardson extrapolation, relative or unit steps, the complex step, a slope computed in forward —
earns no backward, gradcheck or edge credit and is told why. Three signals, combined: the child's
watch (complex numbers, nudged copies of an input, work that grows like numel²), and the parent's
own accuracy cases (inputs where only the exact formula keeps float64's accuracy), which a
submission cannot touch. The hostile files are in tests/submissions/hw1/numdiff_*.py; honest
unusual styles (loops over rows or elements, recomputing from the saved input) are fair_*.py.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
import torch

from course_nn import registry
from course_nn.grading import engine, hw1, report, review
from course_nn.grading.child import numdiff_nudge, numdiff_scalar, probe_hw1

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = Path(__file__).resolve().parent / "submissions" / "hw1"
HW1 = registry.get("hw1")
TASKS = [t.name for t in HW1.tasks]
GATED = ("backward", "gradcheck", "edge")
# The lecture-style fair file uses ctx.saved_variables on purpose (deprecated, still supported).
pytestmark = pytest.mark.filterwarnings("ignore:'saved_variables' is deprecated")


@pytest.fixture(autouse=True)
def _same_draws():
    """Every test here draws its inputs from torch's global generator in a fixed state: the watch's
    findings depend on the values, so a run never depends on which tests ran before (gaps are xfails)."""
    state = torch.random.get_rng_state()
    torch.manual_seed(0)
    yield
    torch.random.set_rng_state(state)

# (file, the Functions it differentiates numerically, what the finding must say)
HOSTILE = [
    ("numdiff_central_loop", TASKS, "nudged copies"),
    ("numdiff_vectorised", ["Square", "Sigmoid", "ReLU"], "nudged copies of `"),
    ("numdiff_relative_richardson", ["Square", "Sigmoid"], "nudged copies"),
    ("numdiff_complex_step", ["Square", "Sigmoid", "Linear"], "complex numbers"),
    # a step of 1 element by element: its work grows, and where one element is nudged at a time the
    # pair x + e_j, x - e_j is also seen (Watch._paired)
    ("numdiff_large_step_loop", ["Square", "QuadraticForm", "Linear", "SquaredError"],
     ("grows with the number", "nudged copies")),
    ("numdiff_in_forward", ["Sigmoid"], "nudged copies of `z`"),
    ("numdiff_vectorised_unit_step", ["Square"], "nudged copies of `x`"),
]
HONEST = [ROOT / "solutions" / "hw1_autograd" / "functions.py", SUBMISSIONS / "correct_base.py",
          *sorted(SUBMISSIONS.glob("fair_*.py"))]


def submission(tmp_path: Path, name: str) -> Path:
    """A standalone numdiff file as it is; the others after the correct base (their classes replace its)."""
    text = (SUBMISSIONS / f"{name}.py").read_text()
    if name != "numdiff_central_loop":
        text = (SUBMISSIONS / "correct_base.py").read_text() + "\n\n" + text
    path = tmp_path / "functions.py"
    path.write_text(text)
    return path


def grade(path: Path, **kw):
    with contextlib.redirect_stdout(io.StringIO()):  # a chatty fair file prints
        return engine.grade(path, HW1, isolate=kw.pop("isolate", False), seed=kw.pop("seed", 31), **kw)


def outcome(result, task: str, category: str):
    return next(o for o in result.outcomes if o.task == task and o.category == category)


@pytest.fixture
def gate_off(monkeypatch):
    """Test only: the static gate passes anything, so that each finding here is this check's alone."""
    monkeypatch.setattr(review, "check", lambda source, assignment: review.Verdict())


@pytest.mark.parametrize(("name", "tasks", "evidence"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_numerical_derivative_earns_no_backward_gradcheck_or_edge_credit(tmp_path, gate_off, name, tasks, evidence):
    result = grade(submission(tmp_path, name))
    points = result.points_by_task()
    for task in TASKS:
        if task not in tasks:
            assert points[task][0] == pytest.approx(points[task][1]), (task, report.details(result))
            continue
        for category in GATED:
            o = outcome(result, task, category)
            assert o.fraction == 0, (task, category, o.lines[:2])
            assert "differentiates numerically" in o.lines[0]
        finding = outcome(result, task, "compliance").lines[0]
        assert finding.startswith(f"{task} differentiates numerically — "), finding
        assert any(e in finding for e in ((evidence,) if isinstance(evidence, str) else evidence)), finding
        assert "earns no backward, gradcheck or edge credit" in finding


@pytest.mark.sandbox
def test_in_the_sandbox_with_the_gate_on_a_numerical_backward_earns_nothing_either(tmp_path):
    result = grade(submission(tmp_path, "numdiff_vectorised"), isolate=True)
    for task in ("Square", "Sigmoid", "ReLU"):
        assert all(outcome(result, task, c).fraction == 0 for c in GATED), task
    assert result.points_by_task()["Linear"][0] == pytest.approx(HW1.task("Linear").points)


def test_the_parents_accuracy_cases_cost_points_even_where_the_watch_is_blinded(tmp_path, gate_off, monkeypatch):
    # What a submission that defeated the child's watch would send: no finding at all. The accuracy
    # cases are the parent's own computation: each numerical Function still fails them, with the hint.
    monkeypatch.setattr(probe_hw1._Watch, "report",
                        lambda self: {"complex": False, "perturbed": [], "produced": 0, "ops": 0})
    result = grade(submission(tmp_path, "numdiff_vectorised"))
    for task, case in (("Square", "large |x| (about 1e8)"), ("Sigmoid", "z from +16 to +19"),
                       ("ReLU", "tiny |z| (about 1e-9)")):
        edge = outcome(result, task, "edge")
        assert edge.fraction < 1
        line = next((ln for ln in edge.lines if case in ln), "")
        assert "finite-difference (numerical) derivative is off here" in line, edge.lines
        assert not any("differentiates numerically" in ln for o in result.outcomes for ln in o.lines)


@pytest.mark.parametrize(("name", "task"), [("rt5_numdiff_padded_nudge", "Sigmoid"),
                                           ("rt5_numdiff_batched_class_steps", "CrossEntropy")])
def test_the_precision_cases_cost_a_blinded_numerical_derivative_points_with_a_line_that_teaches(
        tmp_path, gate_off, monkeypatch, name, task):
    # A difference of log(1 + exp(-z)) at its best step, or of the row losses in float64, is off by
    # 1e-11 to 1e-9: inside every other tolerance, outside the precision cases' 1e-12 (float64 at
    # moderate inputs, where the formulas are exact to a few ulps; the honest styles pass them).
    monkeypatch.setattr(probe_hw1._Watch, "report",
                        lambda self: {"complex": False, "perturbed": [], "produced": 0, "ops": 0})
    result = grade(submission(tmp_path, name), seed=3)
    edge = outcome(result, task, "edge")
    assert edge.fraction < 1 and outcome(result, task, "backward").fraction == 1
    line = next((ln for ln in edge.lines if "(relative tolerance 1e-12)]" in ln and ".backward" in ln), "")
    assert line.startswith(f"{task}.backward [visible "), edge.lines
    assert "relative (expected " in line and "typical of a numerical (finite-difference) derivative" in line, line


@pytest.mark.parametrize("seed", [5, 6])
@pytest.mark.parametrize("path", HONEST, ids=lambda p: p.stem)
def test_honest_backwards_in_every_style_are_never_taken_for_numerical_ones(tmp_path, path, seed):
    # Loops over rows and over elements, sigmoid recomputed from the saved input, softmax recomputed
    # from the saved logits, gradients for inputs that need none: full credit on hidden cases too.
    target = tmp_path / "functions.py"
    target.write_text(path.read_text())
    result = grade(target, seed=seed)
    assert not any("numerically" in ln for o in result.outcomes for ln in o.lines)
    assert result.score == pytest.approx(HW1.total_points), report.details(result)


def watched(call, *inputs, backward: bool = False) -> dict:
    """What the child's watch reports for ``call`` run on ``inputs`` (the recorders as the probe runs them)."""
    watch = probe_hw1._Watch(probe_hw1.watched_inputs(list(inputs)), exits=backward)
    probe_hw1._recorded(set(), True, call, watch)
    return watch.report()


def test_the_watch_sees_nudges_of_every_kind_and_nothing_in_honest_arithmetic():
    x = torch.randn(4, 5, dtype=torch.float64)
    g = torch.randn(4, 5, dtype=torch.float64)

    def one_element():
        moved = x.clone()
        moved.view(-1)[7] += 1e-6
        return moved * moved

    nudges = {"small step": lambda: (x + 1e-6) * (x + 1e-6), "unit shift": lambda: (x - 1) * (x - 1),
              "relative step": lambda: torch.exp(x * (1 + 1e-3)), "one element": one_element}
    for what, call in nudges.items():
        assert watched(call, x)["perturbed"] == [0], what
    honest = {"2 x g": lambda: 2 * x * g, "x + x": lambda: (x + x) * g, "sigmoid": lambda: torch.exp(-x) * g,
              "mask": lambda: g * (x > 0), "clone": lambda: x.clone().double() * g, "x * 2.5": lambda: x * 2.5}
    for what, call in honest.items():
        assert watched(call, x)["perturbed"] == [], what
    assert watched(lambda: (x.to(torch.complex128) + 1e-20j).imag, x)["complex"]
    assert not watched(lambda: 2 * x, x)["complex"]


@pytest.mark.parametrize("seed", [0, 8, 15, 19])  # 8, 15, 19: draws whose small mean once read as a step
def test_a_shift_by_a_reduction_of_the_input_is_the_stable_softmax_idiom_not_a_step(seed):
    x = torch.randn(6, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)) * 2
    honest = {"global max": lambda: torch.exp(x - x.max()), "global mean": lambda: (x - x.mean()) * 2.5,
              "row max": lambda: torch.exp(x - x.amax(1, keepdim=True)),
              "row logsumexp": lambda: x - torch.logsumexp(x, 1, keepdim=True),
              "one row": lambda: torch.exp(x[:1] - x[:1].max())}
    for what, call in honest.items():
        assert watched(call, x)["perturbed"] == [], what
        assert watched(call, x, backward=True)["perturbed"] == [], what
    x1 = x[:1].clone()
    assert watched(lambda: torch.exp(x1 - torch.logsumexp(x1, 1, keepdim=True)), x1)["perturbed"] == []
    steps = {"x + h": lambda: torch.exp(x + 1e-5), "x - h": lambda: torch.exp(x - 1e-5),
             "x + max": lambda: torch.exp(x + x.max()), "x - 1": lambda: (x - 1) * (x - 1)}
    for what, call in steps.items():
        assert watched(call, x)["perturbed"] == [0], what


def test_backwards_watch_sees_nudged_copies_in_any_size_layout_or_order():
    x = torch.randn(6, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 2
    flat, spare = x.reshape(-1), x.new_zeros(1)
    nudges = {
        "padded": lambda: torch.cat([flat, spare]) + torch.cat([1e-4 * (flat.abs() + 1), spare]),
        "padded in front": lambda: torch.cat([spare, flat - 1e-5]),
        "flipped": lambda: flat.flip(0) + 1e-5,
        "flipped, relative": lambda: flat.flip(0) * (1 - 1e-4),
        "batched class steps": lambda: x.unsqueeze(1) + 1e-6 * torch.eye(5, dtype=x.dtype),
        "rows reversed, float32 step": lambda: (x.float().flip(0) + 1e-2 * (x.float().flip(0).abs() + 1)),
        "sorted and shifted": lambda: x.reshape(-1).sort().values + 0.5,
    }
    for what, call in nudges.items():
        assert watched(call, x, backward=True)["perturbed"] == [0], what
    g = torch.randn(6, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    honest = {"padded copy": lambda: torch.cat([flat, spare]) * 1.0, "flipped copy": lambda: flat.flip(0) * g.reshape(-1),
              "relu": lambda: x.clamp(min=0) * g, "2 x g": lambda: 2 * x * g, "softmax": lambda: torch.softmax(x, 1) - g,
              "outer": lambda: x.unsqueeze(2) * x.unsqueeze(1), "float32 copy": lambda: x.float().flip(0) * 1.0,
              "x + tiny": lambda: torch.log(torch.sigmoid(x) + 1e-12), "x.T copy": lambda: x.t().contiguous() * 2}
    for what, call in honest.items():
        assert watched(call, x, backward=True)["perturbed"] == [], what


@pytest.mark.xfail(strict=True, reason="numdiff_nudge.displaced guesses the step (a, b) from the values beside the "
                   "input's largest and smallest elements; for some draws (8 of seeds 0-59 of the padded copy above, "
                   "seed 10 among them) no guess from the two ends is the step a + b·|x| = 1e-4·(|x| + 1), so a "
                   "padded nudged copy goes unseen in that call (the other cases of a grading usually still see it)")
def test_backwards_watch_sees_a_padded_nudged_copy_for_every_draw():
    x = torch.randn(6, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(10)) * 2
    flat, spare = x.reshape(-1), x.new_zeros(1)
    call = lambda: torch.cat([flat, spare]) + torch.cat([1e-4 * (flat.abs() + 1), spare])  # noqa: E731
    assert watched(call, x, backward=True)["perturbed"] == [0]


def test_backwards_watch_pairs_a_central_differences_two_copies_at_any_step():
    x, t = torch.randn(6, 5, dtype=torch.float64), torch.randn(6, 5, dtype=torch.float64)
    flat = x.reshape(-1).flip(0)

    def pair(step):
        return lambda: ((flat + step) ** 2 - (flat - step) ** 2) / (2 * step)

    for what, step in {"|p - t| / 2": (flat - t.reshape(-1)).abs() / 2 + 1e-300, "|x| + 1": flat.abs() + 1,
                       "0.5": torch.full_like(flat, 0.5)}.items():
        assert watched(pair(step), x, backward=True)["perturbed"] == [0], what
    honest = {"z ± |z| (a ReLU with abs)": lambda: (x + x.abs()) * (x - x.abs()),
              "2 x and zeros": lambda: 2 * x + torch.zeros_like(x), "two copies": lambda: x.clone() * x.clone()}
    for what, call in honest.items():
        assert watched(call, x, backward=True)["perturbed"] == [], what


def test_backwards_watch_accounts_nudged_parts_of_an_input_over_the_whole_call():
    x, g = torch.randn(6, 5, dtype=torch.float64) * 2, torch.randn(6, 5, dtype=torch.float64)
    flat = x.reshape(-1)

    def pieces(cuts, move):  # each piece moved (both ways: a central difference), then squared
        return lambda: torch.cat([(move(flat[a:b], 1) ** 2 - move(flat[a:b], -1) ** 2) for a, b in cuts])

    halves, rows, pairs = [(0, 15), (15, 30)], [(5 * i, 5 * i + 5) for i in range(6)], [(i, i + 2) for i in range(0, 30, 2)]
    nudges = {"halves, unit shift": pieces(halves, lambda p, s: p + s),
              "rows, small shift": pieces(rows, lambda p, s: p + s * 0.02),
              "pairs, shift": pieces(pairs, lambda p, s: p + s * 0.5),
              "halves, step 1e-3 |x|": pieces(halves, lambda p, s: p + s * 1e-3 * p.abs()),
              "rows in reverse, scaled": pieces(rows[::-1], lambda p, s: p.flip(0) * (1 + s * 1e-4)),
              "halves, an exact copy in front": pieces(halves, lambda p, s: torch.cat([p[:1], p + s * 0.5]))}
    for what, call in nudges.items():
        assert watched(call, x, backward=True)["perturbed"] == [0], what

    def rows_of(f):
        return lambda: torch.stack([f(i) for i in range(6)])

    honest = {"row softmax (max)": rows_of(lambda i: torch.exp(x[i] - x[i].max())),
              "row log-softmax": rows_of(lambda i: x[i] - torch.logsumexp(x[i], 0)),
              "row centred": rows_of(lambda i: x[i] - x[i].mean()),
              "row minus its first logit": rows_of(lambda i: x[i] - x[i, 0]),
              "row global max": rows_of(lambda i: torch.exp(x[i] - x.max())),
              "row copies": rows_of(lambda i: x[i].clone() * 1.0), "row clamp": rows_of(lambda i: x[i].clamp(min=0)),
              "row float32": rows_of(lambda i: x[i].float() * 1.0), "row x + x": rows_of(lambda i: x[i] + x[i]),
              "masked selection": lambda: x[x > 0] * 1.0, "halves copied": lambda: torch.cat([flat[:15] * 1, flat[15:] * 1]),
              "rows times g": lambda: torch.stack([g[i, j] * x[i] for i in range(6) for j in range(5)])}
    for what, call in honest.items():
        assert watched(call, x, backward=True)["perturbed"] == [], what


def test_backwards_watch_pairs_one_element_evaluations_that_straddle_the_input_over_the_whole_call():
    x, g = torch.randn(6, 5, dtype=torch.float64) * 2, torch.randn(6, 5, dtype=torch.float64)
    flat, gs = x.reshape(-1), g.reshape(-1)
    n = flat.numel()

    def per_element(step, f=torch.sigmoid):  # f at x[i] + h and x[i] - h, each a 0-dim tensor
        return lambda: torch.stack([(f(flat[i] + step(flat[i])) - f(flat[i] - step(flat[i]))) for i in range(n)])

    def sides_apart():  # every +h first, then every -h: the pairs are far apart in the call
        ups = [torch.sigmoid(flat[i] + 1e-4) for i in range(n)]
        return torch.stack(ups) - torch.stack([torch.sigmoid(flat[i] - 1e-4) for i in range(n)])

    nudges = {"small step": per_element(lambda z: 1e-5), "stencil step 0.08": per_element(lambda z: 0.08),
              "relative |z| / 2": per_element(lambda z: z.abs() / 2, lambda t: t.clamp(min=0)),
              "sides apart": sides_apart}
    for what, call in nudges.items():
        assert watched(call, x, backward=True)["perturbed"] == [0], what

    def honest_loop(f):
        return lambda: torch.stack([f(i) for i in range(n)])

    top = flat.max()
    honest = {"s (1 - s) g": honest_loop(lambda i: torch.sigmoid(flat[i]) * (1 - torch.sigmoid(flat[i])) * gs[i]),
              "1 + exp(-z)": honest_loop(lambda i: 1 / (1 + torch.exp(-flat[i])) * gs[i]),
              "mask": honest_loop(lambda i: (1.0 if flat[i] > 0 else 0.0) * gs[i]),
              "z ± |z|": honest_loop(lambda i: (flat[i] + flat[i].abs()) * (flat[i] - flat[i].abs()) + gs[i]),
              "tanh(z / 2)": honest_loop(lambda i: (1 - torch.tanh(flat[i] / 2) ** 2) / 4 * gs[i]),
              "z - max": honest_loop(lambda i: torch.exp(flat[i] - top) * gs[i]),
              "2 z g": honest_loop(lambda i: 2 * flat[i] * gs[i]),
              "copies": honest_loop(lambda i: flat[i].clone() * 1.0 + flat[(i + 1) % n] * 1.0)}
    for what, call in honest.items():
        assert watched(call, x, backward=True)["perturbed"] == [], what
    assert watched(per_element(lambda z: 1e-5), x)["perturbed"] == []  # forward's watch keeps no numbers


def test_backwards_watch_pairs_small_tensors_and_mirrored_sides_but_not_arithmetic_between_inputs():
    # numdiff_scalar keeps every value of results of up to SMALL values, and their negatives: x[i] + (h, -h) in
    # one two-element tensor, or the lower side through a mirror (h - x[i]); a half-step that is an input's
    # magnitude (p ± t, z ± |z|) is arithmetic between inputs
    x, t = torch.randn(6, 5, dtype=torch.float64) * 2, torch.randn(6, 5, dtype=torch.float64)
    flat, ts = x.reshape(-1), t.reshape(-1)
    n, sign = flat.numel(), torch.tensor([1.0, -1.0], dtype=torch.float64)

    def loop(f):
        return lambda: torch.stack([f(i) for i in range(n)])

    nudges = {"pair tensor": loop(lambda i: torch.sigmoid(flat[i] + sign * 0.02).diff()[0]),
              "stencil in one tensor": loop(lambda i: torch.sigmoid(flat[i] + 0.01 * torch.arange(-4.0, 5.0,
                                                                                  dtype=torch.float64)).sum()),
              "mirrored": loop(lambda i: torch.sigmoid(flat[i] + 0.02) - (1 - torch.sigmoid(0.02 - flat[i]))),
              "mirrored relative": loop(lambda i: (flat[i] * 1.5).clamp(min=0) - (-(flat[i] / 2)).clamp(min=0))}
    for what, call in nudges.items():
        assert watched(call, x, backward=True)["perturbed"] == [0], what
    honest = {"p ± t": loop(lambda i: torch.stack([flat[i] + ts[i], flat[i] - ts[i]]).prod()),
              "t - p and p + t": loop(lambda i: (ts[i] - flat[i]) * (flat[i] + ts[i])),
              "(z, -z)": loop(lambda i: torch.sigmoid(torch.stack([flat[i], -flat[i]])).prod()),
              "z ± |z| in a pair": loop(lambda i: torch.stack([flat[i] + flat[i].abs(), flat[i].abs() - flat[i]])[0]),
              "two-class rows": loop(lambda i: torch.softmax(torch.stack([flat[i], ts[i]]), 0)[0] * (flat[i] - ts[i]))}
    for what, call in honest.items():
        assert watched(call, x, t, backward=True)["perturbed"] == [], what
    # few kept values (SCREEN) are screened in plain Python first: never looser than the pairing itself
    small = torch.randn(2, 4, dtype=torch.float64) * 2
    few = small.reshape(-1)
    for step in (1e-6, 0.02, 0.5):
        def pairs(step=step):
            return torch.stack([torch.sigmoid(few[i] + sign * step).diff()[0] for i in range(few.numel())])

        def mirrored(step=step):
            return torch.stack([torch.sigmoid(few[i] + step) - 1 + torch.sigmoid(step - few[i]) for i in range(8)])
        for call in (pairs, mirrored):
            assert watched(call, small, backward=True)["perturbed"] == [0], (step, call.__name__)
    for dtype in (torch.float32, torch.float64):
        z, sc = small.to(dtype), numdiff_scalar.Scalars()
        sc.add([z.reshape(-1)[i] + torch.tensor([0.01, -0.01], dtype=dtype) for i in range(8)])
        assert numdiff_scalar._screen(sorted([*sc.values, *(-v for v in sc.values)]), numdiff_nudge.Input(0, z), sc.eps)


@pytest.mark.xfail(strict=True, reason=(
    "numdiff_watch compares results with the inputs themselves: a vectorised central difference on the negated "
    "input (w = -z, then 1 - sigma(w - h) and 1 - sigma(w + h)) forms nudged copies of -z only, which neither the "
    "in-order check nor the order-free scan compares with (docs/security.md, limits)"))
def test_backwards_watch_sees_a_vectorised_central_difference_on_the_negated_input():
    x = torch.randn(6, 5, dtype=torch.float64) * 2
    w = -x
    def mirrored():  # σ(z ± h) = 1 - σ(w ∓ h): only w ∓ h is formed
        return (1 - torch.sigmoid(w - 1e-4)) - (1 - torch.sigmoid(w + 1e-4))

    assert watched(mirrored, x, backward=True)["perturbed"] == [0]


def test_in_float32_a_long_honest_loops_chance_midpoints_are_no_central_difference():
    # float32 rounding is coarse: thousands of honest numbers average to most of 192 elements by chance, and
    # about as often to points beside them (the control); a stencil's pairs straddle the elements only.
    x = torch.randn(2, 96, generator=torch.Generator().manual_seed(4)) * 2
    g = torch.randn(2, 96, generator=torch.Generator().manual_seed(5))
    flat, gs, inp = x.reshape(-1), g.reshape(-1), numdiff_nudge.Input(0, x)

    def kept(per_element) -> numdiff_scalar.Scalars:
        scalars = numdiff_scalar.Scalars()
        for i in range(flat.numel()):
            scalars.add(per_element(flat[i], gs[i]))
        return scalars

    def honest(z, gi):
        e = torch.exp(-z)
        s = 1 / (1 + e)
        return [e, 1 + e, s, 1 - s, s * (1 - s), s * (1 - s) * gi, torch.tanh(z / 2), z / 2, z * gi, z + gi,
                2.5 * z - gi, gi - z, z / (1 + z.abs()), 0.3 * z + 1, z * z, torch.sin(z), torch.cos(z), z - flat.max(),
                *(c * z - gi for c in (0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 1.1, 1.2, 1.3, 1.4, 1.6, 1.7, 1.8))]

    chance = kept(honest)
    values = torch.tensor(sorted(chance.values), dtype=torch.float64)
    assert numdiff_scalar._midpoints(values, inp.sorted()[0], inp.stats()[2], chance.eps, 1e9) >= 0.9 * flat.numel()
    assert chance.straddled([inp], set()) == set()
    assert kept(lambda z, gi: [z + 0.02 * k for k in (-2, -1, 1, 2)]).straddled([inp], set()) == {0}


def test_a_complex_gradient_is_reported_as_such_and_never_framed():
    import types

    module = types.ModuleType("functions")
    exec(compile("import torch\nfrom torch.autograd import Function\n"
                 "class Square(Function):\n"
                 "    @staticmethod\n    def forward(ctx, x):\n        ctx.save_for_backward(x)\n        return x * x\n"
                 "    @staticmethod\n    def backward(ctx, g):\n        (x,) = ctx.saved_tensors\n"
                 "        return (2 * x * g).to(torch.complex128)\n", "functions.py", "exec"), module.__dict__)
    case = next(c for c in hw1.make_cases(HW1, 1, True)["Square"] if c["kind"] == "main")
    result = probe_hw1.run_case(module, case, "functions.py")
    assert result["direct"]["grad_types"] == ["complex tensor"] and result["direct"]["grads"] == [None]
    assert "returned a complex tensor for `x`" in hw1.check_backward("Square", case, result)[0]


def test_backwards_watch_counts_the_values_taken_out_of_torch():
    # numpy, __array__ and tolist take the whole tensor; item and float() one number. Only backward's
    # watch counts (exits=True): forward's report has no such field.
    import numpy as np

    x = torch.randn(3, 4, dtype=torch.float64)

    def leaves_torch():
        x.numpy()
        np.asarray(x[0])
        x[1].tolist()
        x.sum().item()
        float(x[2, 0])
        return x * 2

    watch = probe_hw1._Watch(probe_hw1.watched_inputs([x]), exits=True)
    probe_hw1._recorded(set(), True, leaves_torch, watch)
    left = watch.report()["left_torch"]
    assert left["elements"] == 12 + 4 + 4 + 1 + 1, left
    assert left["ways"] == ["__array__", "__float__", "item", "numpy", "tolist"], left
    assert "left_torch" not in watched(leaves_torch, x)  # forward's watch
    assert watched(lambda: x * 2, x).keys() == {"complex", "perturbed", "produced", "ops"}


def test_the_flow_follows_values_brought_into_torch_from_forward_to_backwards_gradient():
    # Every tensor made from numpy, a list or a Python number is born in aten.lift_fresh: backward's watch
    # counts those elements and the distinct numbers handed to ops; the shared Flow follows the values
    # through ops, views and in-place writes, and forgets forward's own output (numpy forwards are fair).
    import numpy as np

    from course_nn.grading.child.numdiff_watch import Flow

    x = torch.randn(3, 4, dtype=torch.float64)
    flow = Flow()
    fwd = probe_hw1._Watch(probe_hw1.watched_inputs([x]), flow=flow)
    kept = {}

    def forward():
        kept["out"] = torch.from_numpy(np.tanh(x.numpy()))  # forward's output, computed in numpy
        kept["derivative"] = torch.tensor(np.linspace(0.1, 0.9, 12).reshape(3, 4)) * 0.5  # brought in, computed on
        buffer = np.zeros(24)
        big = torch.from_numpy(buffer)  # zeros (data, not an origin) ...
        buffer[:] = np.linspace(1.5, 2.5, 24)  # ... until numpy writes into the memory they share
        kept["view_out"], kept["rest"] = big[:12], big[12:]  # an "output" sharing a larger buffer
        kept["constant"] = torch.tensor(2.0, dtype=torch.float64)
        return kept["out"]

    probe_hw1._recorded(set(), True, forward, fwd)
    flow.forward_output(kept["out"])
    flow.forward_output(kept["view_out"])
    assert flow.size(kept["out"]) == 0 and flow.size(kept["derivative"]) == 12 + 1
    assert flow.size(kept["rest"]) == 24 and flow.size(kept["constant"]) == 1

    bwd = probe_hw1._Watch(probe_hw1.watched_inputs([x]), exits=True, flow=flow)

    def backward():
        g = torch.zeros_like(x)
        flat = g.view(-1)
        for i in range(6):  # one Python number per element, written in place through a view
            flat[i] = 0.1 * i + 0.01
        return (g * kept["out"], kept["derivative"] * x, kept["constant"] * x, x * 3.0)

    grads = probe_hw1._recorded(set(), True, backward, bwd)
    flow.returned(grads)
    came = bwd.report()["entered_torch"]
    assert came["elements"] == 6 and came["numbers"] == 6 + 1, came  # six written numbers, then 3.0
    assert [flow.size(g) for g in grads] == [6, 12 + 1, 1, 1]  # (0.5 and 3.0: one origin each)
    assert came["tainted_grads"] == 1  # only the one holding as many outside values as elements
    assert "entered_torch" not in fwd.report()


def test_integer_labels_read_as_a_list_are_not_counted_as_values_leaving_torch():
    labels, x = torch.tensor([0, 2, 1]), torch.randn(3, 4, dtype=torch.float64)
    watch = probe_hw1._Watch(probe_hw1.watched_inputs([x]), exits=True)
    probe_hw1._recorded(set(), True, lambda: (labels.tolist(), x * 2)[1], watch)
    assert watch.report()["left_torch"] == {"elements": 0, "ways": [], "questions": 0}
