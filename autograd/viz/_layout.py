"""A small layered layout drawn as SVG, for the stepper page when no Graphviz is installed.

Each node is one box of three lines: its name and op (``%4 = tanh``), its data and its grad.
The ids follow the DOT pictures, so the page's script works on either: ``n5`` is node 5's box,
``op5`` the op badge inside it, ``e5_0`` the edge from argument 0 of node 5 (drawn straight into
the box: there is no separate op node, which keeps the graph narrow enough to read at 1:1).

Columns (rows, when drawn down) follow the longest path from the inputs. An edge that skips
columns gets a slot of its own in every column it crosses, as in Sugiyama's method, and slots
are ordered by a few barycentre sweeps. Edges run straight through columns and bend only in the
gaps between them, so an edge never passes through a node's box.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ..engine import Value
from ._labels import fmt4, op_text, short_name
from ._style import CONST, FONT, INPUT, OP, kind_colours

__all__ = ["simple_svg", "FONT_PX"]

FONT_PX = 13.0  # every text of the picture
_LINE = 18.0  # line height inside a box
_H = 3 * _LINE + 6  # box height: name and op, data, grad
# px per character at 13px: generous enough for DejaVu Sans (the usual Linux substitute for
# Helvetica/Arial), whose digits are 0.64 em wide
_CHAR = 0.63 * FONT_PX
_BOLD = 1.12  # bold text is wider
_ROW = _H + 24.0  # vertical distance between rows (> box height: a row's band holds one box)
_GAP = 44.0  # gap between columns: edges bend only here
_GAP_DOWN = 24.0  # the same between rows, drawn down
_SLOT_GAP = 16.0  # drawn down, between the boxes of a row
_PAD = 14.0

Item = tuple[str, int]  # ("n", i) node i's box, ("p", k) dashed copy k, ("d", k) a long edge's slot


def _tw(text: str) -> float:
    return len(text) * _CHAR


def simple_svg(order: list[Value], grad_text: Sequence[str], down: bool = False) -> str:
    """An SVG of the forward graph of ``order[-1]``: one box per node (name = op, data, grad),
    inputs on the left (or, with `down`, at the top)."""
    root = order[-1]
    index = {v: i for i, v in enumerate(order)}
    items: list[Item] = [("n", i) for i in range(len(order))]
    layer: dict[Item, int] = {}
    for i, v in enumerate(order):
        layer[("n", i)] = 1 + max(layer[("n", index[p])] for p in v._prev) if v._op else 0
    # every node sits just left of its first consumer (as late as possible: a product of two
    # inputs used at the end is drawn at the end, not in the first column with a long edge)
    consumers: dict[int, list[int]] = {}
    for i, v in enumerate(order):
        for p in v._prev:
            consumers.setdefault(index[p], []).append(i)
    for i in range(len(order) - 2, -1, -1):
        if i in consumers:
            layer[("n", i)] = min(layer[("n", c)] for c in consumers[i]) - 1

    # edges in argument order: (tail, head, id, argument k, of n arguments). An input used
    # again further right (x in x*x*...*x, a weight shared by every step) is drawn in full
    # beside its nearest use and as a small dashed copy, a "proxy", beside each distant use,
    # instead of a long edge from far away.
    edges: list[tuple[Item, Item, str, int, int]] = []
    proxies: list[tuple[int, int]] = []  # (the input, the node using it)
    proxy_of: dict[tuple[int, int], Item] = {}
    for i, v in enumerate(order):
        prev = v._prev if v._op else ()
        for k, p in enumerate(prev):
            tail: Item = ("n", index[p])
            if not p._op and layer[tail] < layer[("n", i)] - 1:
                key = (index[p], i)
                if key not in proxy_of:
                    proxy_of[key] = ("p", len(proxies))
                    proxies.append(key)
                    layer[proxy_of[key]] = layer[("n", i)] - 1
                    items.append(proxy_of[key])
                tail = proxy_of[key]
            edges.append((tail, ("n", i), f"e{i}_{k}", k, len(prev)))
    # every edge as a chain of items, one per column: a long edge gets a slot ("d", _) in each
    # column it crosses
    chains: list[list[Item]] = []
    dummies = 0
    for a, b, _, _, _ in edges:
        chain = [a]
        for lay in range(layer[a] + 1, layer[b]):
            d: Item = ("d", dummies)
            dummies += 1
            layer[d] = lay
            items.append(d)
            chain.append(d)
        chain.append(b)
        chains.append(chain)
    preds: dict[Item, list[Item]] = {it: [] for it in items}
    succs: dict[Item, list[Item]] = {it: [] for it in items}
    for chain in chains:
        for s, t in zip(chain, chain[1:]):
            preds[t].append(s)
            succs[s].append(t)

    n_layers = max(layer.values()) + 1
    columns: list[list[Item]] = [[] for _ in range(n_layers)]
    for it in items:
        columns[layer[it]].append(it)
    pos = {it: float(r) for col in columns for r, it in enumerate(col)}
    for _ in range(4):
        for cols, nbrs in ((columns, preds), (columns[::-1], succs)):
            for col in cols:
                keyed = []
                for r, it in enumerate(col):
                    ns = nbrs[it]
                    bary = sum(pos[n] for n in ns) / len(ns) if ns else pos[it]
                    keyed.append((bary, r, it))
                keyed.sort()
                for r, (_, _, it) in enumerate(keyed):
                    pos[it] = float(r)
                col[:] = [it for _, _, it in keyed]

    def lines(i: int) -> tuple[str, str, str, str]:
        """name, op badge text ('' for a leaf), data line, grad line."""
        v = order[i]
        if v._op:
            op = op_text(v)
        else:
            op = "" if v.label else "const"
        return short_name(v, i), op, f"data {fmt4(v.data)}", grad_text[i]

    def width(it: Item) -> float:
        if it[0] == "d":
            return 0.0
        if it[0] == "p":
            return max(40.0, _tw(short_name(order[proxies[it[1]][0]], proxies[it[1]][0])) + 18)
        name, op, data, grad = lines(it[1])
        head = _tw(name) * _BOLD + (_tw(" = ") + _tw(op) + 10 if op else 0)
        return max(64.0, head + 18, _tw(data) + 16, _tw(grad) * _BOLD + 16)

    # Positions along the layers (u: x when drawn across, y when drawn down) and across them
    # (v). Drawn across, every slot of a column is one row high; drawn down, as wide as its box.
    def extent(it: Item) -> float:  # along u
        if not down:
            return width(it)
        return {"n": _H, "p": 24.0, "d": 0.0}[it[0]]

    def slot(it: Item) -> float:  # along v
        return (width(it) if it[0] != "d" else 0.0) + _SLOT_GAP if down else _ROW

    size = [max(12.0, max(extent(it) for it in col)) for col in columns]
    start = []
    u = _PAD
    for w in size:
        start.append(u)
        u += w + (_GAP_DOWN if down else _GAP)
    total_u = u - (_GAP_DOWN if down else _GAP) + _PAD
    spans = [sum(slot(it) for it in col) for col in columns]
    total_v = 2 * _PAD + max(spans)
    centre: dict[Item, tuple[float, float]] = {}  # (u, v)
    for c, col in enumerate(columns):
        at = _PAD + (max(spans) - spans[c]) / 2
        for it in col:
            centre[it] = (start[c] + size[c] / 2, at + slot(it) / 2)
            at += slot(it)

    def pt(u: float, v: float) -> str:
        return f"{v:.1f},{u:.1f}" if down else f"{u:.1f},{v:.1f}"

    total_w, total_h = (total_v, total_u) if down else (total_u, total_v)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w:.0f}" height="{total_h:.0f}" '
        f'viewBox="0 0 {total_w:.0f} {total_h:.0f}" font-family="{FONT}" '
        f'font-size="{FONT_PX:.0f}" data-layout="simple">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker></defs>',
        '<g class="graph">',
    ]

    # An edge runs along u through each column it crosses and bends only in the gaps between
    # columns. Arguments enter a box side by side (a + a keeps two visible edges).
    for (a, b, eid, k, n), chain in zip(edges, chains):
        room = (width(b) if down else _H) - 16
        off = (k - (n - 1) / 2) * min(12.0, room / max(n - 1, 1)) if n > 1 else 0.0
        vs = [centre[it][1] for it in chain]
        vs[-1] += off
        u0 = centre[a][0] + extent(a) / 2
        cmds = [f"M{pt(u0, vs[0])}"]
        for j in range(len(chain) - 1):
            s, t = chain[j], chain[j + 1]
            leave = start[layer[s]] + size[layer[s]]
            enter = start[layer[t]]
            if leave > u0 + 0.05 or j:
                cmds.append(f"L{pt(leave, vs[j])}")
            mid = (leave + enter) / 2
            cmds.append(f"C{pt(mid, vs[j])} {pt(mid, vs[j + 1])} {pt(enter, vs[j + 1])}")
            if t[0] == "d":
                cmds.append(f"L{pt(enter + size[layer[t]], vs[j + 1])}")
        u1 = centre[b][0] - extent(b) / 2
        if u1 > start[layer[b]] + 0.05:
            cmds.append(f"L{pt(u1, vs[-1])}")
        out.append(
            f'<g id="{eid}" class="edge"><path d="{" ".join(cmds)}" fill="none" stroke="#64748b" '
            'stroke-width="1.3" marker-end="url(#arrow)"/></g>'
        )
    xy = {it: ((v, u) if down else (u, v)) for it, (u, v) in centre.items()}
    base = FONT_PX * 0.35  # from a line's middle to its text baseline

    def proxy(it: Item) -> str:
        leaf, user = proxies[it[1]]
        v = order[leaf]
        fill, border = INPUT if v.label else CONST
        cx, cy = xy[it]
        w = width(it)
        name = short_name(v, leaf)
        return (
            f'<g id="p{user}_{leaf}" class="node proxy"><title>{escape(name)} again (%{leaf}): '
            f"its full box is beside its first use</title>"
            f'<rect x="{cx - w / 2:.1f}" y="{cy - 12:.1f}" width="{w:.1f}" height="24" rx="5" '
            f'fill="{fill}" stroke="{border}" stroke-dasharray="4 3"/>'
            f'<text x="{cx:.1f}" y="{cy + base:.1f}" text-anchor="middle">{escape(name)}</text></g>'
        )
    for it in items:
        kind, i = it
        if kind == "d":
            continue
        if kind == "p":
            out.append(proxy(it))
            continue
        v = order[i]
        cx, cy = xy[it]
        w = width(it)
        fill, border = kind_colours(v, root)
        x0 = cx - w / 2
        y0 = cy - _H / 2
        name, op, data, grad = lines(i)
        parts = [
            f'<g id="n{i}" class="node value"><title>%{i}</title>'
            f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{w:.1f}" height="{_H:.0f}" rx="5" '
            f'fill="{fill}" stroke="{border}" stroke-width="{2.2 if v is root else 1.2}"/>'
        ]
        y_head = y0 + 3 + _LINE / 2
        if op:
            # the name (and "=") from the left, the op badge against the right border
            bw = _tw(op) + 10
            bx = x0 + w - 7 - bw
            eq = " =" if v._op else ""
            parts.append(
                f'<text x="{x0 + 7:.1f}" y="{y_head + base:.1f}"><tspan font-weight="600">'
                f"{escape(name)}</tspan>{eq}</text>"
            )
            if v._op:
                parts.append(
                    f'<g id="op{i}" class="node op"><title>%{i} = {escape(op)}</title>'
                    f'<rect x="{bx:.1f}" y="{y_head - _LINE / 2 + 1:.1f}" width="{bw:.1f}" '
                    f'height="{_LINE - 2:.0f}" rx="8" fill="{OP[0]}" stroke="{OP[1]}"/>'
                    f'<text x="{bx + bw / 2:.1f}" y="{y_head + base:.1f}" text-anchor="middle">'
                    f"{escape(op)}</text></g>"
                )
            else:
                parts.append(
                    f'<text x="{bx + bw / 2:.1f}" y="{y_head + base:.1f}" text-anchor="middle" '
                    f'fill="#64748b">{escape(op)}</text>'
                )
        else:
            parts.append(
                f'<text x="{cx:.1f}" y="{y_head + base:.1f}" text-anchor="middle" '
                f'font-weight="600">{escape(name)}</text>'
            )
        parts.append(
            f'<line x1="{x0:.1f}" y1="{y0 + 3 + _LINE:.1f}" x2="{x0 + w:.1f}" '
            f'y2="{y0 + 3 + _LINE:.1f}" stroke="{border}" stroke-opacity="0.5"/>'
            f'<text x="{cx:.1f}" y="{y_head + _LINE + base:.1f}" text-anchor="middle">'
            f"{escape(data)}</text>"
            f'<text class="grad" x="{cx:.1f}" y="{y_head + 2 * _LINE + base:.1f}" '
            f'text-anchor="middle">{escape(grad)}</text></g>'
        )
        out.append("".join(parts))
    out.append("</g></svg>")
    return "\n".join(out)
