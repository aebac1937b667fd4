"""The forward picture's DOT: a record per Value, an ellipse per op, edges in argument order."""

from __future__ import annotations

from collections.abc import Sequence

from ..engine import Value
from ._dot import Drawing, attrs, bundle, check_rankdir, draw_groups, esc, finish
from ._graph import Collapse, prepare
from ._labels import fmt4, op_text, scope_path, short_name
from ._style import OP, kind_colours

__all__ = ["forward_dot"]

# which argument is which, for the ops where order matters
_ROLES: dict[str, tuple[str, ...]] = {
    "-": ("+", "−"),
    "/": ("num", "den"),
    "pow": ("base", "exp"),
    "where": ("cond", "if >0", "else"),
}


def _tooltip(v: Value, i: int) -> str:
    parts = [f"%{i}"]
    if v._op:
        parts.append(f"= {op_text(v)}")
    s = scope_path(v)
    if s:
        parts.append(f"in {s}")
    return " ".join(parts)


def forward_dot(
    root: Value, rankdir: str, show_grad: bool, collapse: Collapse, max_nodes: int | None,
    clusters: bool, legend: bool, *, grad_text: Sequence[str] | None = None,
    order: list[Value] | None = None, compact: bool = False,
) -> str:
    """DOT source of the forward graph of `root` (see `autograd.viz.draw_dot`). For the stepper
    page: `grad_text` replaces each node's grad field, `compact` stacks a value's fields and
    packs the ranks closer; `order` is `toposort(root)` if known."""
    d = Drawing(check_rankdir(rankdir), compact)
    g = prepare(root, order, collapse, max_nodes, "graph")
    order = g.order

    def grad_field(i: int) -> str:
        return grad_text[i] if grad_text is not None else "grad " + fmt4(order[i].grad)

    # Uncollapsed, nodes made inside a module sit in a box named after it; a parameter joins
    # the box of the innermost module whose name prefixes its label.
    by_scope = clusters and g.collapse is None and g.has_modules
    for i, v in enumerate(order):
        if g.member_of[i] is not None:
            continue
        name = short_name(v, i)
        fields = [esc(name, record=True), f"data {fmt4(v.data)}"]
        if show_grad:
            fields.append(esc(grad_field(i), record=True))
        s = g.scopes.owner(v) if by_scope else None
        c = None if s is None else s.path
        d.value(g, i, name, fields, kind_colours(v, root), c, _tooltip(v, i))
        if v._op:
            op = {
                "id": f"op{i}",
                "label": esc(op_text(v)),
                "shape": "ellipse",
                "style": "filled",
                "fillcolor": OP[0],
                "color": OP[1],
                "fontsize": "10",
                "width": "0.3",
                "height": "0.3",
                "margin": "0.04,0.02",
            }
            d.node(c, f"op{i}", f"op{i} {attrs(op)}\n")

    draw_groups(d, g, show_grad, clusters, grad_field)

    # edges: consumers in topological order, each consumer's arguments in argument order; an
    # op node gets one edge per argument (labelled with its role where order matters), a box
    # one edge per box or node that feeds it
    into_boxes: dict[tuple[str, str], dict[int, None]] = {}  # (src, dst) -> the values
    for i, v in enumerate(order):
        if not v._op:
            continue
        args = g.prev[i]
        box = g.member_of[i]
        if box is None:
            roles = _ROLES.get(v._op)
            if roles is not None and len(roles) != len(args):
                roles = None
            for k, p in enumerate(args):
                tag = f' headlabel="{roles[k]}"' if roles is not None else ""
                d.edge(g.name(g.index[p]), f"op{i}", f' [id="e{i}_{k}"{tag}]')
            d.edge(f"op{i}", f"n{i}", f' [id="eo{i}"]')
            continue
        for p in args:
            pi = g.index[p]
            if g.member_of[pi] is not box:  # else: inside one box
                into_boxes.setdefault((g.name(pi), f"g{box.index}"), {})[pi] = None
    bundle(d, {k: f'label="{len(v)} values"' if len(v) > 1 else "" for k, v in into_boxes.items()}, "")
    nodesep, ranksep = (0.15, 0.2) if compact else (0.25, 0.35)
    return finish(d, g, "forward", max_nodes, legend, True, "", nodesep, ranksep)
