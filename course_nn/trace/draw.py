"""The trace as a picture (matplotlib, Agg backend: no display, no graphviz) and as a text table.

Picture: one box per node, left to right in forward order (a column per depth, so two branches
stand one above the other). A box shows the call, the data it was given, its output, the upstream
gradient it received and each gradient it returned. Black arrows carry values forward, blue arrows
carry gradients back. Green: equals torch. Red: wrong itself, with torch's value and the likely
mistake. Orange: differs only because of a red node.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass

import torch

from course_nn.trace.record import NodeTrace, Trace, same

FONT = 8.0                       # points
CHAR_W = 0.602 * FONT / 72       # inches per character of DejaVu Sans Mono
LINE_H = 1.32 * FONT / 72        # inches per line
PAD = 0.09                       # inches of padding inside a box
GAP = 1.25                       # inches between columns (room for the edge labels)
WRAP = 46                        # characters per line of a reason or hint

COLOURS = {  # status -> (face, edge, text)
    "ok": ("#eef7ee", "#3f8f3f", "#1b5e20"),
    "wrong": ("#fdecec", "#c62828", "#b71c1c"),
    "error": ("#fdecec", "#c62828", "#b71c1c"),
    "inherits": ("#fff5e1", "#e08a00", "#9a5b00"),
}
FORWARD, BACKWARD = "#222222", "#1f5fbf"


# ----------------------------------------------------------------------------- numbers as text


def _num(v: float, fixed: bool) -> str:
    if v != v or v in (float("inf"), float("-inf")):
        return str(v)
    return f"{v:.3f}" if fixed else f"{v:.2e}"


def matrix_lines(t: object) -> list[str]:
    """A tensor as aligned rows, e.g. ['[ 0.330  1.100]', '[-1.206  2.041]']; a scalar as '0.734'."""
    if not isinstance(t, torch.Tensor):
        return ["—" if t is None else f"<{type(t).__name__}>"]
    x = t.detach().cpu()
    if x.dim() == 0:
        return [_num(float(x), 0.01 <= abs(float(x)) < 1e4 or float(x) == 0)]
    rows = x.reshape(1, -1) if x.dim() == 1 else x.reshape(x.shape[0], -1)
    # one format per tensor so the columns line up: 3 decimals, or exponents when all entries are tiny
    finite = x[torch.isfinite(x)].double().abs() if x.is_floating_point() else None
    fixed = finite is None or finite.numel() == 0 or float(finite.max()) == 0 or 0.01 <= float(finite.max()) < 1e4
    cells = [[_num(float(v), fixed) if x.is_floating_point() else str(int(v)) for v in row] for row in rows]
    width = max(len(c) for row in cells for c in row)
    return ["[" + " ".join(c.rjust(width) for c in row) + "]" for row in cells]


def flat(t: object, limit: int = 36) -> str:
    """A tensor on one line (rows separated by ';'), cut at ``limit`` characters."""
    if not isinstance(t, torch.Tensor):
        return "—" if t is None else f"<{type(t).__name__}>"
    text = "; ".join(line.strip("[]").strip() for line in matrix_lines(t))
    text = f"[{text}]" if t.dim() else text
    return text if len(text) <= limit else text[: limit - 2] + " …"


# ----------------------------------------------------------------------------- the table


def _rows(t: NodeTrace) -> list[list[str]]:
    head = [t.node.name, t.node.op, f"{t.node.output} = {flat(t.output)}"]
    if not t.grads:
        return [head + ["", "", "", t.status]]
    rows = []
    for i, g in enumerate(t.grads):
        lead = head if i == 0 else ["", "", ""]
        rows.append(lead + [f"dJ/d{g.tensor}", flat(g.yours), flat(g.torch), t.status if i == 0 else ""])
    return rows


def table(tr: Trace) -> str:
    """node, forward value, gradient, yours, torch's, status; one row per returned gradient, nodes
    in backward order (from the loss towards the input)."""
    header = ["node", "op", "forward value", "gradient", "yours", "torch's", "status"]
    rows = [header] + [r for t in tr.backward_order for r in _rows(t)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def verdict(tr: Trace) -> str:
    """The last lines of the text output: what is red and why, or that nothing is."""
    flagged = [t for t in tr.backward_order if t.status in ("wrong", "error")]
    if not flagged:
        return "every node matches torch's built-ins: nothing is red"
    lines = []
    for t in flagged:
        lines.append(f"{t.node.name} ({t.node.op}) {t.status.upper()}: {t.reason}")
        if t.hint:
            lines.append(f"  likely mistake: {t.hint}")
    inherits = [t for t in tr.backward_order if t.status == "inherits"]
    reached = [t.node.name for t in inherits if t.output is not None and t.upstream is not None]
    missed = [t.node.name for t in inherits if t.output is None or t.upstream is None]
    if reached:
        lines.append(f"inherit the difference (no mistake of their own): {', '.join(reached)}")
    if missed:
        lines.append(f"not reached because of the error: {', '.join(missed)}")
    first = flagged[0]
    lines.append(f"first wrong node along backpropagation: {first.node.name} ({first.node.op}); "
                 f"look at {first.node.op}.{first.stage}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the picture


@dataclass
class _Box:
    trace: NodeTrace
    lines: list[tuple[str, str, bool]]  # (text, colour, bold)
    col: int = 0
    x: float = 0.0
    y: float = 0.0  # top edge
    w: float = 0.0
    h: float = 0.0


def _labelled(label: str, value: object, colour: str) -> list[tuple[str, str, bool]]:
    rows = matrix_lines(value)
    pad = " " * len(label)
    return [((label if i == 0 else pad) + row, colour, False) for i, row in enumerate(rows)]


def _wrapped(prefix: str, text: str, colour: str, bold: bool = False) -> list[tuple[str, str, bool]]:
    return [(line, colour, bold) for line in textwrap.wrap(prefix + text, WRAP, subsequent_indent="  ")]


def _box_lines(t: NodeTrace, tr: Trace) -> list[tuple[str, str, bool]]:
    node, (_, _, ink) = t.node, COLOURS[t.status]
    lines = [(f"{node.name} = {node.op}({', '.join(node.inputs)})", "#000000", True)]
    for name, value in zip(node.inputs, t.inputs):
        if name in tr.net.leaves and name not in tr.net.params:  # the data; weights are in the JSON
            lines += _labelled(f"{name} = ", value, "#555555")
    if t.output is not None:
        lines += _labelled(f"{node.output} = ", t.output, "#000000")
    if t.upstream is not None:
        users = [n.name for n in tr.net.consumers(node.output)]
        note = f" = {' + '.join(users)}  (+=)" if len(users) > 1 else ""
        lines.append((f"received dJ/d{node.output}{note}", BACKWARD, False))
        lines += _labelled("  ", t.upstream, BACKWARD)
    for g in t.grads:
        if t.upstream is not None and (g.yours is not None or t.status != "error"):
            lines += _labelled(f"returned dJ/d{g.tensor} = ", g.yours, BACKWARD)
    lines += _status_lines(t, ink)
    return lines


def _status_lines(t: NodeTrace, ink: str) -> list[tuple[str, str, bool]]:
    if t.status == "ok":
        return [("✓ equals torch", ink, True)]
    if t.status == "inherits":
        return _wrapped("inherits: ", t.reason, ink, True)
    lines = _wrapped(f"{t.status.upper()}: ", t.reason, ink, True)
    wrong = next((g for g in t.grads if g.local is not None and not same(g.yours, g.local)), None)
    if t.status == "wrong" and wrong is None and t.expected_output is not None:
        lines += _labelled(f"torch: {t.node.output} = ", t.expected_output, ink)
    elif wrong is not None:
        lines += _labelled(f"torch: dJ/d{wrong.tensor} = ", wrong.local, ink)
    if t.hint:
        lines += _wrapped("likely mistake: ", t.hint, ink, False)
    return lines


def _columns(tr: Trace) -> dict[str, int]:
    """Depth of each node: one more than the deepest node that produces one of its inputs."""
    producer = {n.output: n.name for n in tr.net.nodes}
    depth: dict[str, int] = {}
    for n in tr.net.nodes:
        depth[n.name] = 1 + max((depth[producer[i]] for i in n.inputs if i in producer), default=-1)
    return depth


def _layout(tr: Trace) -> tuple[list[_Box], float, float]:
    boxes = [_Box(t, _box_lines(t, tr)) for t in tr.nodes]
    depth = _columns(tr)
    for b in boxes:
        b.col = depth[b.trace.node.name]
        b.w = max(len(text) for text, _, _ in b.lines) * CHAR_W + 2 * PAD
        b.h = len(b.lines) * LINE_H + 2 * PAD
    n_cols = max(b.col for b in boxes) + 1
    col_w = [max(b.w for b in boxes if b.col == c) for c in range(n_cols)]
    col_h = [sum(b.h for b in boxes if b.col == c) + 0.5 * (sum(b.col == c for b in boxes) - 1)
             for c in range(n_cols)]
    height = max(col_h)
    x = 0.3
    for c in range(n_cols):
        top = height  # tops aligned: a chain's arrows run straight across
        for b in (b for b in boxes if b.col == c):
            b.x, b.y = x + (col_w[c] - b.w) / 2, top
            top -= b.h + 0.5
        x += col_w[c] + GAP
    return boxes, x - GAP + 0.3, height


def figure(tr: Trace):
    """The matplotlib Figure of the trace."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    boxes, width, height = _layout(tr)
    title_h, legend_h = 0.75, 0.45
    fig_w, fig_h = max(width, 9.0), height + title_h + legend_h + 0.3
    fig = Figure(figsize=(fig_w, fig_h), dpi=110)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, fig_w)
    ax.set_ylim(-legend_h - 0.15, height + title_h + 0.15)
    ax.axis("off")
    mono = {"family": "DejaVu Sans Mono", "size": FONT}
    for b in boxes:
        face, edge, _ = COLOURS[b.trace.status]
        lw = 2.4 if b.trace.status in ("wrong", "error") else 1.1
        ax.add_patch(FancyBboxPatch((b.x, b.y - b.h), b.w, b.h, boxstyle="round,pad=0,rounding_size=0.06",
                                    fc=face, ec=edge, lw=lw))
        for i, (text, colour, bold) in enumerate(b.lines):
            ax.text(b.x + PAD, b.y - PAD - (i + 0.5) * LINE_H, text, color=colour, va="center", ha="left",
                    fontweight="bold" if bold else "normal", **mono)
    _edges(ax, tr, boxes)
    _title(ax, tr, height, fig_w)
    _legend(ax, fig_w, legend_h)
    return fig


def _edges(ax, tr: Trace, boxes: list[_Box]) -> None:
    """A black arrow forward (labelled with the value) and a blue one back (its gradient)."""
    by_output = {b.trace.node.output: b for b in boxes}
    for dst in boxes:
        for name in dst.trace.node.inputs:
            src = by_output.get(name)
            if src is None:
                continue
            x0, x1 = src.x + src.w, dst.x
            y0, y1 = src.y - 0.4, dst.y - 0.4
            for dy, colour, label, start, end, va in (
                    (0.07, FORWARD, name, (x0, y0), (x1, y1), "bottom"),
                    (-0.07, BACKWARD, f"dJ/d{name}", (x1, y1), (x0, y0), "top")):
                ax.annotate("", xy=(end[0], end[1] + dy), xytext=(start[0], start[1] + dy),
                            arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.2,
                                        "shrinkA": 2, "shrinkB": 2})
                ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 2 * dy, label, color=colour, ha="center", va=va,
                        family="DejaVu Sans Mono", size=FONT,
                        bbox={"fc": "white", "ec": "none", "pad": 0.4, "alpha": 0.85})


def _title(ax, tr: Trace, height: float, fig_w: float) -> None:
    source = tr.impl
    ax.text(0.3, height + 0.55, f"course-nn trace --net {tr.net.name}: {source} against torch's built-ins "
            f"(seed {tr.seed}; {tr.net.description})", ha="left", va="center", size=FONT + 2, fontweight="bold")
    first = tr.first_wrong
    if first is None:
        text, colour = "Nothing is red: every node's output and returned gradients equal torch's.", COLOURS["ok"][2]
    else:
        text = (f"First wrong node along backpropagation: {first.node.name} ({first.node.op}) — "
                f"look at {first.node.op}.{first.stage}")
        colour = COLOURS["wrong"][2]
    ax.text(0.3, height + 0.22, text, ha="left", va="center", size=FONT + 1.5, color=colour, fontweight="bold")


def _legend(ax, fig_w: float, legend_h: float) -> None:
    items = [("green: equals torch", COLOURS["ok"][2]),
             ("red: wrong itself (torch's value and the likely mistake)", COLOURS["wrong"][2]),
             ("orange: differs only because of a red node", COLOURS["inherits"][2]),
             ("black →: values (forward)   blue ←: gradients dJ/d· (backward, summed += where a value "
              "feeds several nodes)", FORWARD)]
    x = 0.3
    for i, (text, colour) in enumerate(items):
        row, col = divmod(i, 3)
        if i == 3:
            x = 0.3
        ax.text(x if row == 0 else 0.3, -0.12 - row * 0.22, text, color=colour, size=FONT, ha="left", va="center")
        x += (len(text) + 4) * CHAR_W * 0.85


def render(tr: Trace, fmt: str = "png") -> bytes:
    """The picture as PNG or SVG bytes."""
    fig = figure(tr)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    return buf.getvalue()


def rgb(tr: Trace):
    """The picture as an (H, W, 3) uint8 array, for TensorBoard's add_image."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure(tr))
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
