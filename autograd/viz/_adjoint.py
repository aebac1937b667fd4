"""The adjoint picture's DOT: the forward edges reversed, each labelled with its local derivative
and the gradient it carries, each node with its adjoint and its place in the visiting order."""

from __future__ import annotations

import math

from ..engine import Value
from ._dot import Drawing, bundle, check_rankdir, draw_groups, esc, finish
from ._graph import Collapse, prepare
from ._labels import fmt4, number, op_text, rule_texts, short_name
from ._replay import reverse_steps
from ._style import ADJOINT_EDGE, ZERO_EDGE, kind_colours

__all__ = ["adjoint_dot"]

_MAX_FORMULA = 40


def _paint(carried: float) -> str:
    """An adjoint edge's colour: orange if it carries a gradient, grey dashed if exactly 0."""
    c = ZERO_EDGE if carried == 0 else ADJOINT_EDGE
    style = ' style="dashed"' if carried == 0 else ""
    return f'color="{c}" fontcolor="{c}" penwidth="1.4"{style}'


def _box_label(to: dict[int, list[float]]) -> str:
    """The label of an edge out of a box: the gradient it passes to one value, or how many
    values it passes gradients to."""
    if len(to) == 1:
        total = math.fsum(next(iter(to.values())))
        return f'label="carries {fmt4(total)}" {_paint(total)}'
    return f'label="{len(to)} gradients" {_paint(1.0)}'


def adjoint_dot(
    root: Value, rankdir: str, collapse: Collapse, max_nodes: int | None, clusters: bool,
    legend: bool,
) -> str:
    """DOT source of the adjoint graph of `root` (see `autograd.viz.draw_adjoint`)."""
    d = Drawing(check_rankdir(rankdir))
    g = prepare(root, None, collapse, max_nodes, "adjoint graph")
    order = g.order
    steps, adj = reverse_steps(order)
    visit = [0] * len(order)
    for k, s in enumerate(steps):
        visit[s.node] = k + 1
    names = [short_name(v, i) for i, v in enumerate(order)]

    for i, v in enumerate(order):
        if g.member_of[i] is not None:
            continue
        what = esc(op_text(v), record=True) if v._op else ("leaf" if v.label else "const")
        fields = [
            f"{{ {esc(names[i], record=True)} | {what} }}",
            f"{{ data {fmt4(v.data)} | adjoint {fmt4(adj[i])} }}",
            f"visit {visit[i]}",
        ]
        d.value(g, i, names[i], fields, kind_colours(v, root))

    draw_groups(d, g, True, clusters, lambda i: f"adjoint {fmt4(adj[i])}")

    # edges in visiting order: from each node to each of its arguments. Out of a box: one edge
    # per place the box passes gradient to, labelled with the sum it passes there.
    from_boxes: dict[tuple[str, str], dict[int, list[float]]] = {}  # -> per argument: carried
    for s in steps:
        i = s.node
        box = g.member_of[i]
        arg_names = [names[g.index[p]] for p in g.prev[i]]
        texts = rule_texts(order[i], arg_names, names[i]) if box is None and s.contributions else ()
        for c in s.contributions:
            to = g.member_of[c.parent]
            if box is not None:
                if to is not box:
                    from_boxes.setdefault((f"g{box.index}", g.name(c.parent)), {}).setdefault(
                        c.parent, []
                    ).append(c.carried)
                continue
            rule = texts[c.position] if c.position < len(texts) else ""
            law = f"∂{names[i]}/∂{arg_names[c.position]} = "
            if rule and len(rule) <= _MAX_FORMULA and rule not in (number(c.local), fmt4(c.local)):
                law += f"{rule} = "
            label = f"{esc(law)}{fmt4(c.local)}\\ncarries {fmt4(c.carried)}"
            edge = f' [id="a{i}_{c.position}" label="{label}" {_paint(c.carried)}]'
            d.edge(f"n{i}", g.name(c.parent), edge)
    bundle(d, {k: _box_label(v) for k, v in from_boxes.items()}, _paint(1.0))
    title = (
        f' label="adjoint graph of {esc(names[-1])}: each reverse edge carries the adjoint '
        f"of its tail × the local derivative\\nvisit k: the order in which reverse "
        f'accumulation reaches the node" labelloc="t"'
    )
    return finish(d, g, "adjoint", max_nodes, legend, False, title, nodesep=0.35, ranksep=0.6)
