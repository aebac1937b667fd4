"""Writing DOT: quoting, the boxes and edges both pictures share, and bounds on layout work.

Layout work is bounded before Graphviz sees the graph. Graphviz's `dot` turns every edge that
spans several ranks into a chain of invisible nodes, one per rank, and a Value used far from
where it is made (``x`` in ``x*x*...*x``, a weight shared by 50 steps of an RNN) makes
thousands of them: minutes of layout. So such a use gets a small dashed copy of the Value's
name beside the op that reads it (a *reference*, `shorten`), and the Value itself is drawn
once, in full, by its nearest use. Every edge then spans a few ranks at most. Writing the DOT
text takes time linear in the graph's size.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ._graph import EDGES_PER_NODE, Graph, Group, too_large
from ._labels import fmt4, op_text, visible
from ._style import ADJOINT_EDGE, CONST, FONT, GROUP, INPUT, OP, OUTPUT, REF_TEXT, VALUE, ZERO_EDGE

__all__ = [
    "Drawing",
    "attrs",
    "bundle",
    "check_rankdir",
    "draw_groups",
    "esc",
    "finish",
    "record",
]

_DOT_ESCAPES = {"&": "&amp;", '"': '\\"', "\\": "\\\\"}
_DOT = str.maketrans(_DOT_ESCAPES)
_RECORD = str.maketrans({**_DOT_ESCAPES, **{c: "\\" + c for c in "{}|<>"}})


def esc(text: str, record: bool = False) -> str:
    """Escape text for a double-quoted DOT string (and for a record field).

    Graphviz decodes HTML entities (``&amp;``, ``&#60;``) in every label, so ``&`` itself is
    written as ``&amp;``: a label ``amp&amp;`` is drawn as typed. Control characters are shown
    as escapes (`visible`)."""
    return visible(text).translate(_RECORD if record else _DOT)


def attrs(values: dict[str, str]) -> str:
    """``[k="v" ...]``; values are already escaped."""
    return "[" + " ".join(f'{k}="{v}"' for k, v in values.items()) + "]"


def record(fields: Sequence[str], rankdir: str, stacked: bool = False) -> str:
    """A record label whose fields run across the node (or, `stacked`, down it) whatever the
    rank direction."""
    body = " | ".join(fields)
    return "{ " + body + " }" if (rankdir in ("LR", "RL")) != stacked else body


def check_rankdir(rankdir: str) -> str:
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be one of 'LR', 'RL', 'TB', 'BT', got {rankdir!r}")
    return rankdir


# Graphviz's network simplex (ranks, then x coordinates) runs until optimal unless nslimit /
# nslimit1 cap its passes at that many times the number of nodes, and each pass costs about the
# size of the layout graph; mclimit scales the crossing-minimisation passes. Small pictures are
# laid out exactly; for big ones the cap keeps the product of passes and size near
# `_LAYOUT_WORK` (about a second of `dot` here), so the layout is a little less tidy instead of
# taking minutes.
_LAYOUT_WORK = 6e6
_EXACT_WORK = 1.5e6


def _bounds(n_nodes: int, n_edges: int) -> str:
    """Graph attributes that bound the layout work of a picture of this size."""
    work = n_nodes * (n_nodes + 2 * n_edges)
    if work <= _EXACT_WORK:
        return ""
    limit = f"{max(0.1, _LAYOUT_WORK / work):.2g}"
    return f' nslimit="{limit}" nslimit1="{limit}" mclimit="0.5"'


@dataclass
class Drawing:
    """A picture being assembled: node lines by cluster, edges, and what a reference to a
    node looks like (for `shorten`)."""

    rankdir: str
    stacked: bool = False  # a value's fields one under the other
    clusters: dict[str | None, list[str]] = field(default_factory=lambda: {None: []})
    cluster_of: dict[str, str | None] = field(default_factory=dict)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # src, dst, attributes
    refs: dict[str, tuple[str, str, str, str]] = field(default_factory=dict)  # name, fill, border, what
    rows: dict[str, list[str]] = field(default_factory=dict)  # cluster -> its boxes, in order
    n_refs: int = 0

    def node(self, cluster: str | None, name: str, line: str) -> None:
        self.clusters.setdefault(cluster, []).append(line)
        self.cluster_of[name] = cluster

    def edge(self, src: str, dst: str, attrs: str = "") -> None:
        self.edges.append((src, dst, attrs))

    def value(
        self,
        g: Graph,
        i: int,
        name: str,
        fields: list[str],
        colours: tuple[str, str],
        cluster: str | None = None,
        tooltip: str | None = None,
    ) -> None:
        """Node i's record box ``n<i>`` (a thick border for the root)."""
        fill, border = colours
        label = record(fields, self.rankdir, self.stacked)
        a = {"id": f"n{i}", "label": label, "fillcolor": fill, "color": border}
        if g.order[i] is g.root:
            a["penwidth"] = "2.2"
        if tooltip is not None:
            a["tooltip"] = esc(tooltip)
        self.node(cluster, f"n{i}", f"n{i} {attrs(a)}\n")
        self.refs[f"n{i}"] = (name, fill, border, f"{name} (%{i})")

    def lines(self) -> list[str]:
        # A cluster of module boxes with no edge between them (a layer's neurons) is drawn as
        # one row, in name order, under a title that is a node of its own: edges are routed
        # around nodes, but straight across a cluster's own label.
        rows = dict(self.rows)
        for s, t, _ in self.edges:
            c = self.cluster_of[s]
            if c is not None and c == self.cluster_of[t]:
                rows.pop(c, None)
        out = ["\t" + ln for ln in self.clusters[None]]
        named = [(k, b) for k, b in self.clusters.items() if k is not None]
        for n, (name, members) in enumerate(named):
            out.append(f"\tsubgraph cluster_{n} {{\n")
            row = rows.get(name)
            out.append(
                f'\t\tgraph [label="{"" if row else esc(name)}" style="rounded,dashed" '
                f'color="{GROUP[1]}" fontcolor="{GROUP[1]}" labeljust="l" margin="12"]\n'
            )
            if row:
                out.append(
                    f'\t\ttitle{n} [id="title{n}" label="{esc(name)}" shape="plaintext" '
                    f'style="" fontcolor="{GROUP[1]}" fontsize="12" height="0.2" margin="0.02"]\n'
                )
            out += ["\t\t" + ln for ln in members]
            if row:
                out.append('\t\t{ rank="same" ' + " ".join([f"title{n}", *row]) + " }\n")
            out.append("\t}\n")
        out += [f"\t{s} -> {d}{a}\n" for s, d, a in self.edges]
        return out


# -- module boxes ------------------------------------------------------------------------------


def _natural(key: str) -> list[tuple[int, int | str]]:
    """Sort "layers.1.neurons.10" after "layers.1.neurons.9"."""
    return [(0, int(t)) if t.isdigit() else (1, t) for t in re.split(r"(\d+)", key)]


def _group_node(g: Group, graph: Graph, show_grad: bool, rankdir: str, cluster: str | None,
                grad_field: Callable[[int], str]) -> str:
    members = [graph.order[i] for i in g.members]
    neurons = {
        s.path
        for v in members
        if (o := v._scope) is not None and (s := o.enclosing("neuron")) is not None
    }
    counts = [f"{len(neurons)} neurons"] if len(neurons) > 1 else []
    counts.append(f"{sum(1 for v in members if not v._op and v.label)} params")
    counts.append(f"{sum(1 for v in members if v._op)} ops")
    fields = [esc(g.shown(cluster), record=True), " · ".join(counts)]
    if len(g.outputs) == 1:
        out = graph.order[g.outputs[0]]
        fields.append(f"{esc(op_text(out), record=True)} → data {fmt4(out.data)}")
        if show_grad:
            fields.append(esc(grad_field(g.outputs[0]), record=True))
    else:
        fields.append(f"{len(g.outputs)} outputs")
    is_out = bool(g.outputs) and graph.order[g.outputs[-1]] is graph.root
    fill, border = OUTPUT if is_out else GROUP
    a = {
        "id": f"g{g.index}",
        "label": record(fields, rankdir),
        "fillcolor": fill,
        "color": border,
        "penwidth": "2.2" if is_out else "1.4",
        "tooltip": esc(f"{g.key}: {len(members)} nodes drawn as one box"),
    }
    return f"g{g.index} {attrs(a)}\n"


def draw_groups(d: Drawing, graph: Graph, show_grad: bool, clusters: bool,
                grad_field: Callable[[int], str]) -> None:
    """One box per collapsed group, in name order, inside its layer's cluster if it has one;
    `grad_field(i)` is the text of the last field (the grad or adjoint of node i)."""
    for g in sorted(graph.groups.values(), key=lambda g: _natural(g.key)):
        cl = g.cluster(clusters)
        d.node(cl, f"g{g.index}", _group_node(g, graph, show_grad, d.rankdir, cl, grad_field))
        if cl is not None:
            d.rows.setdefault(cl, []).append(f"g{g.index}")
        d.refs[f"g{g.index}"] = (g.shown(cl), GROUP[0], GROUP[1], f"the box {g.key}")


def bundle(d: Drawing, group_edges: dict[tuple[str, str], str], bus_attrs: str) -> None:
    """Edges into and out of module boxes (`group_edges`: (src, dst) -> the edge's label
    attributes, or ""). When several destinations all take the same two or more sources (every
    neuron of a layer reads every output of the previous one), the sources are joined at one
    point and fanned out from it: 16 + 16 lines instead of 16 x 16; those lines carry no
    per-pair label. `bus_attrs`: attributes of the lines into and out of a joining point."""
    srcs_of: dict[str, list[str]] = {}
    for src, dst in group_edges:
        srcs_of.setdefault(dst, []).append(src)
    by_set: dict[frozenset[str], list[str]] = {}
    for dst, srcs in srcs_of.items():
        by_set.setdefault(frozenset(srcs), []).append(dst)
    bussed = {k for k, ds in by_set.items() if len(k) >= 2 and len(ds) >= 2}

    def joined(*parts: str) -> str:
        text = " ".join(p.strip() for p in parts if p.strip())
        return f" [{text}]" if text else ""

    for b, (sset, dsts) in enumerate(by_set.items()):
        if sset not in bussed:
            continue
        d.node(
            None,
            f"bus{b}",
            f'bus{b} [id="bus{b}" shape="point" width="0.1" color="{GROUP[1]}" '
            f'tooltip="each of these {len(sset)} is joined to each of those {len(dsts)}"]\n',
        )
        for src in srcs_of[dsts[0]]:
            d.edge(src, f"bus{b}", joined('arrowhead="none"', bus_attrs))
        for dst in dsts:
            d.edge(f"bus{b}", dst, joined(bus_attrs))
    for (src, dst), label in group_edges.items():
        if frozenset(srcs_of[dst]) not in bussed:
            d.edge(src, dst, joined(label))


# -- short edges: references to far-away nodes ---------------------------------------------------

_MAX_SPAN = 4
"""Edges from a node to a use more than this many ranks away go from a reference instead."""


def _depths(n: int, heads: list[int], tails: list[int]) -> list[int]:
    """Each of nodes 0..n-1's longest path, in edges, to a sink (a node with no out-edges):
    the rank a layered layout gives it when everything is pushed towards the output. Edge k
    goes from tails[k] to heads[k]. Kahn's algorithm on integer lists: linear."""
    start = [0] * (n + 1)  # out-edges of node u: targets[start[u]:start[u + 1]]
    for t in tails:
        start[t + 1] += 1
    for u in range(n):
        start[u + 1] += start[u]
    fill = start[:-1]
    targets = [0] * len(tails)
    indeg = [0] * n
    for t, h in zip(tails, heads):
        targets[fill[t]] = h
        fill[t] += 1
        indeg[h] += 1
    topo = [u for u in range(n) if indeg[u] == 0]
    for u in topo:  # the list grows while it is walked
        for h in targets[start[u] : start[u + 1]]:
            indeg[h] -= 1
            if indeg[h] == 0:
                topo.append(h)
    depth = [0] * n
    for u in reversed(topo):
        a, b = start[u], start[u + 1]
        if a < b:
            depth[u] = 1 + max([depth[h] for h in targets[a:b]])
    return depth


def _shorten(d: Drawing, shared_is_tail: bool) -> None:
    """Replace each edge between a node and a far-away use by one from a reference: a small
    dashed box with the node's name, drawn in the use's cluster next to it.

    `shared_is_tail`: True for the forward graph (a Value feeds many ops: the tail is shared);
    False for the adjoint graph (many nodes send gradient to one argument: the head is)."""
    number = {name: k for k, name in enumerate(d.cluster_of)}.__getitem__
    srcs = list(map(number, [s for s, _, _ in d.edges]))
    dsts = list(map(number, [t for _, t, _ in d.edges]))
    shared_of, use_of = (srcs, dsts) if shared_is_tail else (dsts, srcs)
    depth = _depths(len(d.cluster_of), use_of, shared_of)
    names = list(d.cluster_of)
    made: dict[tuple[str, str], str] = {}
    for k, (a, b) in enumerate(zip(shared_of, use_of)):
        if depth[a] - depth[b] <= _MAX_SPAN or names[a] not in d.refs:
            continue
        src, dst, edge_attrs = d.edges[k]
        shared, use = names[a], names[b]
        ref = made.get((shared, use))
        if ref is None:
            ref = made[(shared, use)] = f"ref{d.n_refs}"
            d.n_refs += 1
            name, fill, border, what = d.refs[shared]
            a_ = {
                "id": ref,
                "label": esc(name),
                "shape": "box",
                "style": "filled,rounded,dashed",
                "fillcolor": fill,
                "color": border,
                "fontcolor": REF_TEXT,
                "fontsize": "10",
                "height": "0.25",
                "margin": "0.06,0.02",
                "tooltip": esc(
                    f"{what}, drawn in full elsewhere and named again beside this use, "
                    "so that no edge has to cross the whole picture"
                ),
            }
            d.node(d.cluster_of[use], ref, f"{ref} {attrs(a_)}\n")
        d.edges[k] = (ref, dst, edge_attrs) if shared_is_tail else (src, ref, edge_attrs)


# -- the whole picture -------------------------------------------------------------------------


def _legend(rankdir: str, with_group: bool, adjoint: bool, refs: bool) -> list[str]:
    """A key of the colours, built from plain nodes (no HTML-like labels, which Graphviz
    compiled to WebAssembly does not draw), in a dashed box of its own."""
    box, rounded = "box", "filled,rounded"
    items = [
        ("input / parameter", INPUT, box, rounded),
        ("constant", CONST, box, rounded),
        ("intermediate", VALUE, box, rounded),
        ("output", OUTPUT, box, rounded),
    ]
    if with_group:
        items.append(("neuron / layer", GROUP, box, rounded))
    if not adjoint:
        items.append(("op", OP, "ellipse", "filled"))
    if refs:
        items.append(("name: drawn again", VALUE, box, rounded + ",dashed"))
    out = [
        "\tsubgraph cluster_legend {\n",
        '\t\tgraph [label="key" style="rounded,dashed" color="#94a3b8" fontcolor="#64748b" '
        'labeljust="l" fontsize="10" margin="8"]\n',
    ]
    for k, (text, (fill, border), shape, style) in enumerate(items):
        out.append(
            f'\t\tkey{k} [id="key{k}" label="{text}" shape="{shape}" style="{style}" '
            f'fillcolor="{fill}" color="{border}" fontsize="9" height="0.25" '
            f'margin="0.06,0.02"]\n'
        )
    n = len(items)
    if adjoint:
        arrow = {"LR": "→", "RL": "←", "TB": "↓", "BT": "↑"}[rankdir]
        for text, colour in ((f"{arrow} carries a gradient", ADJOINT_EDGE),
                             (f"{arrow} dashed: carries 0", ZERO_EDGE)):
            out.append(
                f'\t\tkey{n} [id="key{n}" label="{text}" shape="plaintext" style="" '
                f'fontcolor="{colour}" fontsize="9" height="0.2" margin="0.02"]\n'
            )
            n += 1
    names = [f"key{k}" for k in range(n)]
    out.append('\t\t{ rank="same" ' + " ".join(names) + " }\n")
    # invisible edges keep the key in reading order: top to bottom in LR and RL pictures
    # (where Graphviz stacks a rank's order from the bottom up), left to right in TB/BT
    seq = names[::-1] if rankdir in ("LR", "RL") else names
    out += [f'\t\t{a} -> {b} [style="invis"]\n' for a, b in zip(seq, seq[1:])]
    out.append("\t}\n")
    return out


def finish(
    d: Drawing,
    g: Graph,
    name: str,
    max_nodes: int | None,
    legend: bool,
    shared_is_tail: bool,
    extra: str = "",
    nodesep: float = 0.25,
    ranksep: float = 0.35,
) -> str:
    """The DOT source of drawing `d`: checks the number of edges against `max_nodes`, shortens
    far-reaching edges, then writes the header, the nodes and clusters, the edges, the key."""
    if max_nodes is not None and len(d.edges) > EDGES_PER_NODE * max_nodes:
        too_large(len(d.edges), max_nodes, "edges", g.has_modules, g.collapse)
    _shorten(d, shared_is_tail)
    lines = [
        f"digraph {name} {{\n",
        f'\tgraph [rankdir="{d.rankdir}" fontname="{FONT}" fontsize="12" nodesep="{nodesep}" '
        f'ranksep="{ranksep}" bgcolor="white"{_bounds(len(d.cluster_of), len(d.edges))}{extra}]\n',
        f'\tnode [fontname="{FONT}" fontsize="11" shape="record" style="filled,rounded" '
        f'penwidth="1.2" margin="0.1,0.04"]\n',
        f'\tedge [fontname="{FONT}" fontsize="9" color="#64748b" arrowsize="0.7" '
        f'labelfontsize="8" labelfontcolor="#64748b" labeldistance="1.6"]\n',
        *d.lines(),
    ]
    if legend:
        lines += _legend(d.rankdir, bool(g.groups), not shared_is_tail, d.n_refs > 0)
    lines.append("}\n")
    return "".join(lines)

