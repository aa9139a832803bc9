"""course-nn trace: every .apply recorded, compared node by node with torch, drawn and logged.

Planted mistakes are the reference functions.py with one Function replaced by a version that makes
one classic mistake (marked "planted"), written to tmp_path.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from course_nn import cli
from course_nn.impl import load_functions
from course_nn.paths import solutions_dir
from course_nn.trace.nets import NETS, build_net
from course_nn.trace.record import trace

PLANTED = {
    "Sigmoid": '''class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return grad_output * z * (1 - z)  # planted: the input z where the output g(z) belongs
''',
    "ReLU": '''class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        out = z.clamp_min(0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * (out >= 0)  # planted: [g >= 0] lets the gradient through where z < 0
''',
    "Linear": '''class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        out = x.mm(weight.t())
        return out if bias is None else out + bias

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grad_b = grad_output if ctx.needs_input_grad[2] else None  # planted: not summed over the batch
        return grad_output.mm(weight), grad_output.t().mm(x), grad_b
''',
    "CrossEntropy": '''class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        shifted = logits - logits.amax(dim=1, keepdim=True)
        log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
        ctx.save_for_backward(log_probs, target)
        return -log_probs.gather(1, target.long().unsqueeze(1)).mean()

    @staticmethod
    def backward(ctx, grad_output):
        log_probs, target = ctx.saved_tensors
        grad = log_probs.exp()
        grad[torch.arange(len(target)), target] -= 1
        return grad * grad_output, None  # planted: no division by the batch size N
''',
}

# Function -> (network, nodes that must inherit, words of the likely mistake)
EXPECTED = {
    "Sigmoid": ("mlp", ["linear1"], "used the input z"),
    "ReLU": ("relu", ["linear1"], "[g > 0]"),
    "Linear": ("mlp", [], "sum the bias gradient over the batch"),
    "CrossEntropy": ("mlp", ["linear2", "sigmoid1", "linear1"], "divide by the batch size N"),
}


def plant(tmp_path: Path, cls: str, text: str) -> Path:
    """The reference with class ``cls`` replaced by ``text``, as tmp_path/functions.py."""
    source = (solutions_dir() / "hw1_autograd" / "functions.py").read_text()
    pattern = re.compile(rf"^class {cls}\(Function\):.*?(?=^class |\Z)", re.S | re.M)
    assert len(pattern.findall(source)) == 1, f"the reference has no single class {cls}"
    path = tmp_path / "functions.py"
    path.write_text(pattern.sub(lambda m: text + "\n\n", source))
    return path


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    rc = cli.main(["trace", *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def in_backward_order(report: dict) -> list[dict]:
    return report["nodes"][::-1]


# ----------------------------------------------------------------------------- correct implementations


@pytest.mark.parametrize("net", list(NETS))
def test_reference_matches_torch_on_every_node(net):
    tr = trace(load_functions("solutions"), build_net(net, seed=3), "solutions", 3)
    assert tr.first_wrong is None
    for t in tr.nodes:
        assert t.status == "ok", (t.node.name, t.reason)
        torch.testing.assert_close(t.output, t.torch_output, rtol=1e-6, atol=1e-9)
        torch.testing.assert_close(t.upstream, t.torch_upstream, rtol=1e-6, atol=1e-9)
        assert t.grads, t.node.name
        for g in t.grads:
            torch.testing.assert_close(g.yours, g.torch, rtol=1e-6, atol=1e-9)
            assert g.yours.abs().sum() > 0  # a real gradient, not a zero placeholder


def test_correct_run_says_nothing_is_red(tmp_path, capsys):
    rc, out, err = run_cli(capsys, "--net", "relu", "--json", str(tmp_path / "t.json"))
    assert (rc, err) == (0, "")
    assert "nothing is red" in out
    report = json.loads((tmp_path / "t.json").read_text())
    assert report["first_wrong"] is None
    assert [n["status"] for n in report["nodes"]] == ["ok"] * 4
    assert [n["op"] for n in report["nodes"]] == ["Linear", "ReLU", "Linear", "CrossEntropy"]


def test_torch_builtins_trace_cleanly():
    tr = trace(load_functions("torch"), build_net("paths"), "torch", 0)
    assert [t.status for t in tr.nodes] == ["ok"] * len(tr.nodes)


# ----------------------------------------------------------------------------- planted mistakes


@pytest.mark.parametrize("cls", list(PLANTED))
def test_planted_mistake_is_the_flagged_node(tmp_path, capsys, cls):
    net, inheriting, words = EXPECTED[cls]
    student = plant(tmp_path, cls, PLANTED[cls])
    rc, out, err = run_cli(capsys, "--impl", str(student), "--net", net, "--json", str(tmp_path / "t.json"))
    assert rc == 1 and err == ""
    report = json.loads((tmp_path / "t.json").read_text())
    assert report["first_wrong"] == cls
    order = in_backward_order(report)
    first = next(i for i, n in enumerate(order) if n["status"] in ("wrong", "error"))
    assert order[first]["op"] == cls
    assert words in order[first]["likely_mistake"]
    assert all(n["status"] == "ok" for n in order[:first])  # downstream of the mistake: untouched
    assert [n["name"] for n in order if n["status"] == "inherits"] == inheriting
    assert all(n["status"] != "inherits" for n in order[:first])  # only upstream nodes inherit
    for n in order[first + 1:]:
        assert n["op"] == cls if n["status"] in ("wrong", "error") else True  # no other Function blamed
    assert f"first wrong node along backpropagation: {order[first]['name']} ({cls})" in out
    assert words in out


def test_unsummed_bias_gradient_is_shown_as_returned(tmp_path):
    """autograd would sum a (N, out) bias gradient silently; called directly it is seen as returned."""
    fns = load_functions(str(plant(tmp_path, "Linear", PLANTED["Linear"])))
    tr = trace(fns, build_net("mlp"), "planted", 0)
    linear2 = tr.nodes[2]
    (bias,) = [g for g in linear2.grads if g.tensor == "b2"]
    assert linear2.status == "error" and "shape (3, 2), expected (2,)" in linear2.reason
    assert tuple(bias.yours.shape) == (3, 2)
    torch.testing.assert_close(bias.yours.sum(dim=0), bias.torch)
    # its other gradients are right, so the backward pass goes on through them
    assert tr.nodes[1].status == "ok" and tr.nodes[1].upstream is not None


def test_paths_gradient_is_the_sum_of_both_branches():
    tr = trace(load_functions("solutions"), build_net("paths"), "solutions", 0)
    nodes = {t.node.name: t for t in tr.nodes}
    from_b = next(g.yours for g in nodes["linear2"].grads if g.tensor == "a1")
    from_c = next(g.yours for g in nodes["linear3"].grads if g.tensor == "a1")
    received = nodes["sigmoid1"].upstream
    torch.testing.assert_close(received, from_b + from_c)  # the lecture's +=
    assert not torch.allclose(received, from_b) and not torch.allclose(received, from_c)
    torch.testing.assert_close(received, nodes["sigmoid1"].torch_upstream)


# ----------------------------------------------------------------------------- failures on a node

RAISES = '''class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        out = 1 / (1 + torch.exp(-z))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        raise ValueError("planted failure")
'''

NONE_FOR_WEIGHT = PLANTED["Linear"].replace("grad_output.t().mm(x), grad_b", "None, grad_output.sum(dim=0)")

FLOAT32 = RAISES.replace('raise ValueError("planted failure")', """(out,) = ctx.saved_tensors
        return (grad_output * out * (1 - out)).float()  # planted: float32 for float64 inputs""")

LOSS_PER_EXAMPLE = PLANTED["CrossEntropy"].replace(
    "return -log_probs.gather(1, target.long().unsqueeze(1)).mean()",
    "return -log_probs.gather(1, target.long().unsqueeze(1)).squeeze(1)  # planted: no mean")


@pytest.mark.parametrize("cls, text, node, words, reached", [
    ("Sigmoid", RAISES, "sigmoid1", "Sigmoid.backward raised ValueError: planted failure", ["loss", "linear2"]),
    ("Sigmoid", FLOAT32, "sigmoid1", "Sigmoid.backward returned a torch.float32 gradient for `z` (z1)",
     ["loss", "linear2"]),
    ("Linear", NONE_FOR_WEIGHT, "linear2", "Linear.backward returned None for `weight` (W2)",
     ["loss", "sigmoid1"]),
    ("CrossEntropy", LOSS_PER_EXAMPLE, "loss", "CrossEntropy.forward returned shape (3,)", []),
])
def test_failing_function_is_one_line_on_its_node(tmp_path, capsys, cls, text, node, words, reached):
    student = plant(tmp_path, cls, text)
    picture = tmp_path / "t.png"
    rc, out, err = run_cli(capsys, "--impl", str(student), "--out", str(picture), "--json", str(tmp_path / "t.json"))
    assert rc == 1 and err == "" and "Traceback" not in out
    report = json.loads((tmp_path / "t.json").read_text())
    statuses = {n["name"]: n["status"] for n in report["nodes"]}
    assert statuses[node] == "error" and report["first_wrong"] == cls
    reason = next(n["reason"] for n in report["nodes"] if n["name"] == node)
    assert words in reason and "\n" not in reason
    assert [name for name, s in statuses.items() if s == "ok"] == reached[::-1]
    assert picture.stat().st_size > 10_000  # the graph is still drawn


# ----------------------------------------------------------------------------- outputs


def _ink(path: Path):
    import matplotlib.image

    img = matplotlib.image.imread(str(path))[..., :3]
    return img, (img < 0.9).any(axis=-1).mean()


def test_png_is_written_and_not_blank(tmp_path, capsys):
    student = plant(tmp_path, "Sigmoid", PLANTED["Sigmoid"])
    picture = tmp_path / "pics" / "trace.png"
    rc, _, _ = run_cli(capsys, "--impl", str(student), "--out", str(picture))
    assert rc == 1
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img, inked = _ink(picture)
    assert img.shape[1] > 800 and 0.02 < inked < 0.9
    rc, _, _ = run_cli(capsys, "--out", str(tmp_path / "ok.png"))
    ok, inked = _ink(tmp_path / "ok.png")
    assert rc == 0 and 0.02 < inked < 0.9
    # the wrong node's box and text are red; a correct trace has red only in the legend
    assert _red(img) > 5 * _red(ok)


def _red(img) -> int:
    return int(((img[..., 0] > 0.6) & (img[..., 1] < 0.3) & (img[..., 2] < 0.3)).sum())


def test_svg_is_written(tmp_path, capsys):
    rc, _, _ = run_cli(capsys, "--net", "paths", "--out", str(tmp_path / "t.svg"))
    text = (tmp_path / "t.svg").read_text()
    assert rc == 0 and "<svg" in text and "linear3" in text


def test_tensorboard_run_has_the_picture_and_the_table(tmp_path, capsys):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    student = plant(tmp_path, "Sigmoid", PLANTED["Sigmoid"])
    rc, out, _ = run_cli(capsys, "--impl", str(student), "--logdir", str(tmp_path / "runs"), "--run-name", "t")
    assert rc == 1 and str(tmp_path / "runs" / "t") in out
    acc = EventAccumulator(str(tmp_path / "runs" / "t"), size_guidance={"images": 0, "tensors": 0})
    acc.Reload()
    assert acc.Tags()["images"] == ["trace/graph"]
    assert "trace/table" in acc.Tags()["tensors"]
    (image,) = acc.Images("trace/graph")
    assert image.encoded_image_string[:4] == b"\x89PNG" and image.width > 800
    (table,) = acc.Tensors("trace/table")
    text = table.tensor_proto.string_val[0].decode()
    assert "sigmoid1" in text and "wrong" in text and "inherits" in text
    # the same run name again is refused before any work
    rc, _, err = run_cli(capsys, "--logdir", str(tmp_path / "runs"), "--run-name", "t")
    assert rc == 2 and "already holds" in err


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("args, words", [
    (["--impl", "no/such/functions.py"], "no such file"),
    (["--impl", "{empty}"], "has no class Linear"),
    (["--net", "cnn"], "choose one of mlp, relu, regression, paths"),
    (["--out", "{tmp}/trace.pdf"], ".png or .svg"),
    (["--json", "{tmp}"], "is a folder"),
    (["--run-name", "x"], "add --logdir"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, words):
    empty = tmp_path / "functions.py"
    empty.write_text("import torch\n")
    args = [a.format(empty=empty, tmp=tmp_path) for a in args]
    rc, out, err = run_cli(capsys, *args)
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and words in err and "Traceback" not in err
    assert not (tmp_path / "trace.pdf").exists()


def test_help_explains_itself(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["trace", "--help"])
    out = capsys.readouterr().out
    assert exc.value.code == 0
    for words in ("--net", "--out", "--json", "--logdir", "inherits", "course-nn trace --impl functions.py"):
        assert words in out


# ----------------------------------------------------------------------------- writing into what it was given


SUBMISSIONS = Path(__file__).resolve().parent / "submissions" / "hw1"


def check_says(student: Path, task: str) -> set[str]:
    """What `course-nn check` says about ``task``'s backward: each failing line after its case label."""
    from course_nn import registry
    from course_nn.grading import engine

    result = engine.grade(student, registry.get("hw1"), visible_only=True, isolate=False)
    return {line.split("]: ", 1)[1] for o in result.outcomes if o.task == task and o.category == "backward"
            for line in o.lines if "]: " in line}


@pytest.mark.parametrize("mistake, what", [("relu_grad_output_in_place", "dJ/da1, the upstream gradient"),
                                           ("relu_saved_input_in_place", "its input z1")])
def test_a_backward_writing_in_place_is_the_wrong_node_with_checks_hint(tmp_path, capsys, mistake, what):
    student = tmp_path / "functions.py"
    student.write_text("\n\n".join((SUBMISSIONS / f"{m}.py").read_text() for m in ("correct_base", mistake)))
    rc, out, err = run_cli(capsys, "--impl", str(student), "--net", "relu", "--json", str(tmp_path / "t.json"))
    assert rc == 1 and err == ""
    report = json.loads((tmp_path / "t.json").read_text())
    assert report["first_wrong"] == "ReLU" and report["first_wrong_node"] == "relu1"
    nodes = {n["name"]: n for n in report["nodes"]}
    assert nodes["relu1"]["status"] == "wrong" and what in nodes["relu1"]["reason"]
    assert [n["status"] for name, n in nodes.items() if name != "relu1"] == ["ok"] * 3  # nobody else blamed
    assert nodes["relu1"]["likely_mistake"] in check_says(student, "ReLU")  # the grader's very words
    assert "first wrong node along backpropagation: relu1 (ReLU)" in out
