"""A small layered layout drawn as SVG, for the stepper page when no Graphviz is installed.

Same node ids as the DOT pictures (``n5`` value, ``op5`` op, ``e5_0`` edge from argument 0 of
node 5 to its op, ``eo5`` from the op to the value), so the page's script works on either.
Columns follow the longest path from the inputs; rows are ordered by a few barycentre sweeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ..engine import Value
from ._model import (
    CONST,
    FONT,
    INPUT,
    OP,
    OUTPUT,
    VALUE,
    fmt4,
    op_text,
    short_name,
)

__all__ = ["simple_svg"]

_CHAR = 6.9  # px per character at 12px sans-serif, roughly
_H = 26.0  # value box height
_ROW = 46.0  # vertical distance between rows
_GAP = 42.0  # horizontal gap between columns
_PAD = 16.0


def _w(text: str) -> float:
    return max(28.0, len(text) * _CHAR + 14.0)


def simple_svg(order: list[Value], grad_text: Sequence[str]) -> str:
    """An SVG of the forward graph of ``order[-1]`` with fields ``name | data | grad``."""
    root = order[-1]
    index = {v: i for i, v in enumerate(order)}
    # drawn items: ("n", i) value boxes and ("op", i) op ellipses
    items: list[tuple[str, int]] = []
    layer: dict[tuple[str, int], int] = {}
    for i, v in enumerate(order):
        if v._op:
            op_layer = 1 + max(layer[("n", index[p])] for p in v._prev)
            layer[("op", i)] = op_layer
            layer[("n", i)] = op_layer + 1
            items += [("op", i), ("n", i)]
        else:
            layer[("n", i)] = 0
            items.append(("n", i))
    # inputs sit just left of their first consumer
    consumers: dict[int, list[int]] = {}
    for i, v in enumerate(order):
        for p in v._prev:
            consumers.setdefault(index[p], []).append(i)
    for i, v in enumerate(order):
        if not v._op and i in consumers:
            layer[("n", i)] = min(layer[("op", c)] for c in consumers[i]) - 1

    # edges between drawn items, in argument order
    edges: list[tuple[tuple[str, int], tuple[str, int], str]] = []
    for i, v in enumerate(order):
        if v._op:
            for k, p in enumerate(v._prev):
                edges.append((("n", index[p]), ("op", i), f"e{i}_{k}"))
            edges.append((("op", i), ("n", i), f"eo{i}"))
    preds: dict[tuple[str, int], list[tuple[str, int]]] = {it: [] for it in items}
    succs: dict[tuple[str, int], list[tuple[str, int]]] = {it: [] for it in items}
    for a, b, _ in edges:
        preds[b].append(a)
        succs[a].append(b)

    n_layers = max(layer.values()) + 1
    columns: list[list[tuple[str, int]]] = [[] for _ in range(n_layers)]
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

    def fields(i: int) -> list[str]:
        v = order[i]
        return [short_name(v, i), f"data {fmt4(v.data)}", grad_text[i]]

    def width(it: tuple[str, int]) -> float:
        kind, i = it
        if kind == "op":
            return _w(op_text(order[i])) * 0.9
        return sum(_w(f) for f in fields(i))

    col_w = [max((width(it) for it in col), default=0.0) for col in columns]
    col_x = []
    x = _PAD
    for w in col_w:
        col_x.append(x)
        x += w + _GAP
    total_w = x - _GAP + _PAD
    tallest = max(len(col) for col in columns)
    total_h = 2 * _PAD + tallest * _ROW

    centre: dict[tuple[str, int], tuple[float, float]] = {}
    for c, col in enumerate(columns):
        top = _PAD + (tallest - len(col)) * _ROW / 2
        for r, it in enumerate(col):
            centre[it] = (col_x[c] + col_w[c] / 2, top + r * _ROW + _ROW / 2)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w:.0f}" height="{total_h:.0f}" '
        f'viewBox="0 0 {total_w:.0f} {total_h:.0f}" font-family="{FONT}" font-size="12">',
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker></defs>',
        '<g class="graph">',
    ]
    seen_pairs: dict[tuple[tuple[str, int], tuple[str, int]], int] = {}
    for a, b, eid in edges:
        ax, ay = centre[a]
        bx, by = centre[b]
        ax += width(a) / 2
        bx -= width(b) / 2
        dup = seen_pairs.get((a, b), 0)
        seen_pairs[(a, b)] = dup + 1
        off = 5.0 * dup
        dx = max(20.0, (bx - ax) / 2)
        d = (
            f"M{ax:.1f},{ay + off:.1f} C{ax + dx:.1f},{ay + off:.1f} "
            f"{bx - dx:.1f},{by + off:.1f} {bx:.1f},{by + off:.1f}"
        )
        out.append(
            f'<g id="{eid}" class="edge"><path d="{d}" fill="none" stroke="#64748b" '
            'stroke-width="1.2" marker-end="url(#arrow)"/></g>'
        )
    for it in items:
        kind, i = it
        v = order[i]
        cx, cy = centre[it]
        w = width(it)
        if kind == "op":
            out.append(
                f'<g id="op{i}" class="node op"><title>%{i} = {escape(op_text(v))}</title>'
                f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{w / 2:.1f}" ry="12" '
                f'fill="{OP[0]}" stroke="{OP[1]}"/>'
                f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle" font-size="11">'
                f"{escape(op_text(v))}</text></g>"
            )
            continue
        if v is root:
            fill, border = OUTPUT
        elif not v._op:
            fill, border = INPUT if v.label else CONST
        else:
            fill, border = VALUE
        x0 = cx - w / 2
        y0 = cy - _H / 2
        parts = [
            f'<g id="n{i}" class="node value"><title>%{i}</title>'
            f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{w:.1f}" height="{_H:.0f}" rx="4" '
            f'fill="{fill}" stroke="{border}" stroke-width="{2.2 if v is root else 1.2}"/>'
        ]
        fx = x0
        fs = fields(i)
        for k, f in enumerate(fs):
            fw = _w(f)
            if k:
                parts.append(
                    f'<line x1="{fx:.1f}" y1="{y0:.1f}" x2="{fx:.1f}" y2="{y0 + _H:.1f}" '
                    f'stroke="{border}"/>'
                )
            cls = ' class="grad"' if k == len(fs) - 1 else ""
            parts.append(
                f'<text{cls} x="{fx + fw / 2:.1f}" y="{cy + 4:.1f}" text-anchor="middle">'
                f"{escape(f)}</text>"
            )
            fx += fw
        parts.append("</g>")
        out.append("".join(parts))
    out.append("</g></svg>")
    return "\n".join(out)
