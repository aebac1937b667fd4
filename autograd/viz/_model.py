"""What the pictures show, as plain data and DOT text (standard library only).

Everything here is deterministic: nodes are numbered by their position in `toposort(root)`
(``n5`` is the Value at index 5, ``op5`` the op that made it), never by ``id()``, so the same
graph gives the same DOT source byte for byte. Nothing here runs backward or writes to a Value:
adjoints are replayed by the engine's own chain-rule sweep (`autograd.backprop.sweep`), which
leaves every ``.grad`` as it was. Building the DOT text takes time linear in the graph's size.

Layout work is bounded before Graphviz sees the graph. Graphviz's `dot` turns every edge that
spans several ranks into a chain of invisible nodes, one per rank, and a Value used far from
where it is made (``x`` in ``x*x*...*x``, a weight shared by 50 steps of an RNN) makes
thousands of them: minutes of layout. So such a use gets a small dashed copy of the Value's
name beside the op that reads it (a *reference*), and the Value itself is drawn once, in full,
by its nearest use. Every edge then spans a few ranks at most.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..backprop import sweep, toposort
from ..context import Scope
from ..engine import Value
from ..ops import OPS
from ..symbolic import formula_text

__all__ = [
    "DEFAULT_MAX_NODES",
    "Collapse",
    "GraphTooLargeError",
    "Step",
    "Contribution",
    "adjoint_dot",
    "forward_dot",
    "fmt4",
    "fixed4",
    "op_text",
    "reverse_steps",
    "short_name",
    "visible",
]

DEFAULT_MAX_NODES = 500
"""Graphs with more Values than this are refused unless collapsed (or ``max_nodes=None``)."""

EDGES_PER_NODE = 4
"""A picture may have at most this many edges per allowed node (``max_nodes``)."""

Collapse = str | Callable[[Value], str | None] | None
"""A scope kind ("neuron", "layer", any kind a module gives its scope), a function, or None."""


class GraphTooLargeError(ValueError):
    """The graph has more nodes than a person can read in one picture."""


# -- numbers and names ------------------------------------------------------------------------


def _special(x: float, zero: str) -> str | None:
    """The text of nan, +-inf and 0 (each format writes zero its own way), else None."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return zero if x == 0 else None


def fmt4(x: float) -> str:
    """A number to 4 significant digits: 2.000, 0.7071, -1.500, 1.235e5, 1.000e-5, nan, inf."""
    special = _special(x, "0.000")
    if special is not None:
        return special
    s = f"{x:#.4g}"
    if "e" in s:
        mant, exp = s.split("e")
        s = f"{mant}e{int(exp)}"
    return s


def fixed4(x: float) -> str:
    """A number with 4 decimals (0.7071, -1.5000), or 4-decimal scientific if far from 1."""
    special = _special(x, "0.0000")
    if special is not None:
        return special
    return f"{x:.4f}" if 1e-4 <= abs(x) < 1e9 else f"{x:.4e}"


def _num(x: float) -> str:
    """A constant parameter as short as it reads: 2, 0.5, -1, 0.01."""
    return f"{x:g}" if x == x and not math.isinf(x) else repr(x)


_VISIBLE = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def visible(text: str) -> str:
    """`text` on one line with every control character shown as an escape (``\\n``, ``\\x00``):
    a label can never start a new line of a tape or forge text in a picture."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable() or ch == " ":
            out.append(ch)
        else:
            esc = _VISIBLE.get(ch)
            if esc is None:
                code = ord(ch)
                esc = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
            out.append(esc)
    return "".join(out)


_MAX_LABEL = 48


def short_name(v: Value, index: int) -> str:
    """How a node is called in pictures: its label, else %index."""
    lab = v.label
    if not lab:
        return f"%{index}"
    lab = visible(lab)
    return lab if len(lab) <= _MAX_LABEL else lab[: _MAX_LABEL - 1] + "…"


def param_text(arg: object) -> str:
    """An op's constant parameter as written in a picture or tape: 2, 0.01, "0, 1" (clamp)."""
    if isinstance(arg, tuple):
        return ", ".join(param_text(a) for a in arg)
    if isinstance(arg, (int, float)):
        return _num(float(arg))
    return visible(str(arg))


def op_text(v: Value) -> str:
    """The op as shown in a picture's op node: +, *, **2, tanh, leaky_relu(0.01), clamp(0, 1)."""
    op = v._op
    if v._arg is None:
        return op
    if op == "**":
        return f"**{param_text(v._arg)}"
    return f"{op}({param_text(v._arg)})"


def scope_path(v: Value) -> str | None:
    """The dotted name of the module that made `v` (its scope's path), or None."""
    s = v._scope
    return None if s is None else s.path


# -- DOT quoting ------------------------------------------------------------------------------

_DOT_ESCAPES = {"&": "&amp;", '"': '\\"', "\\": "\\\\"}
_DOT = str.maketrans(_DOT_ESCAPES)
_RECORD = str.maketrans({**_DOT_ESCAPES, **{c: "\\" + c for c in "{}|<>"}})


def _esc(text: str, record: bool = False) -> str:
    """Escape text for a double-quoted DOT string (and for a record field).

    Graphviz decodes HTML entities (``&amp;``, ``&#60;``) in every label, so ``&`` itself is
    written as ``&amp;``: a label ``amp&amp;`` is drawn as typed. Control characters are shown
    as escapes (`visible`)."""
    return visible(text).translate(_RECORD if record else _DOT)


def _attrs(attrs: dict[str, str]) -> str:
    """``[k="v" ...]``; values are already escaped."""
    return "[" + " ".join(f'{k}="{v}"' for k, v in attrs.items()) + "]"


# -- colours that carry meaning ----------------------------------------------------------------

# (fill, border). A colour-blind-safe set: blue inputs, amber ops, green output, violet modules.
INPUT = ("#dbeafe", "#1d4ed8")  # a labelled leaf: an input or a parameter
CONST = ("#f1f5f9", "#94a3b8")  # an unlabelled leaf: a number written in the expression
VALUE = ("#ffffff", "#475569")  # an intermediate result
OUTPUT = ("#dcfce7", "#15803d")  # the root: the value being differentiated
OP = ("#fef3c7", "#b45309")  # an op node
GROUP = ("#ede9fe", "#6d28d9")  # a collapsed neuron or layer
ADJOINT_EDGE = "#c2410c"  # reverse edges carrying a gradient
ZERO_EDGE = "#a8a29e"  # reverse edges carrying exactly 0
REF_TEXT = "#475569"  # the name in a reference to a node drawn elsewhere

# One font the layout measures and every browser draws at about the same width. Graphviz
# compiled to WebAssembly has no font files: it estimates widths from built-in tables, and for
# a list such as "Helvetica,Arial,sans-serif" it falls back to Times, so browsers that draw
# DejaVu Sans (minimal Linux) spilled text over the record separators. Verdana is in the
# tables; Windows and macOS have it; on Linux both `dot` and browsers substitute DejaVu Sans,
# whose widths are Verdana's to within 2%.
FONT = "Verdana"


def _kind_colours(v: Value, root: Value) -> tuple[str, str]:
    if v is root:
        return OUTPUT
    if not v._op:
        return INPUT if v.label else CONST
    return VALUE


# which argument is which, for the ops where order matters
_ROLES: dict[str, tuple[str, ...]] = {
    "-": ("+", "−"),
    "/": ("num", "den"),
    "pow": ("base", "exp"),
    "where": ("cond", "if >0", "else"),
}


# Bounds on Graphviz's work for big pictures (`_shorten` is the main one: it keeps every edge
# short). Graphviz's network simplex (ranks, then x coordinates) runs until optimal unless
# nslimit / nslimit1 cap its passes at that many times the number of nodes, and each pass costs
# about the size of the layout graph; mclimit scales the crossing-minimisation passes. Small
# pictures are laid out exactly as before; for big ones the cap keeps the product of passes and
# size near `_LAYOUT_WORK` (about a second of `dot` here), so the layout is a little less
# tidy instead of taking minutes.
_LAYOUT_WORK = 6e6
_EXACT_WORK = 1.5e6


def _bounds(n_nodes: int, n_edges: int) -> str:
    """Graph attributes that bound the layout work of a picture of this size."""
    work = n_nodes * (n_nodes + 2 * n_edges)
    if work <= _EXACT_WORK:
        return ""
    limit = f"{max(0.1, _LAYOUT_WORK / work):.2g}"
    return f' nslimit="{limit}" nslimit1="{limit}" mclimit="0.5"'


def _header(
    name: str,
    rankdir: str,
    d: _Drawing,
    extra: str = "",
    nodesep: float = 0.25,
    ranksep: float = 0.35,
) -> list[str]:
    return [
        f"digraph {name} {{\n",
        f'\tgraph [rankdir="{rankdir}" fontname="{FONT}" fontsize="12" nodesep="{nodesep}" '
        f'ranksep="{ranksep}" bgcolor="white"{_bounds(len(d.cluster_of), len(d.edges))}{extra}]\n',
        f'\tnode [fontname="{FONT}" fontsize="11" shape="record" style="filled,rounded" '
        f'penwidth="1.2" margin="0.1,0.04"]\n',
        f'\tedge [fontname="{FONT}" fontsize="9" color="#64748b" arrowsize="0.7" '
        f'labelfontsize="8" labelfontcolor="#64748b" labeldistance="1.6"]\n',
    ]


def _record(fields: Sequence[str], rankdir: str) -> str:
    """A record label whose fields run across the node whatever the rank direction."""
    body = " | ".join(fields)
    return "{ " + body + " }" if rankdir in ("LR", "RL") else body


def _check_rankdir(rankdir: str) -> str:
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be one of 'LR', 'RL', 'TB', 'BT', got {rankdir!r}")
    return rankdir


# -- module groups (collapse) -------------------------------------------------------------------


class _Scopes:
    """The scopes of a graph's nodes, with every enclosing scope, by dotted path."""

    def __init__(self, order: Sequence[Value]) -> None:
        self.by_path: dict[str, Scope] = {}
        for v in order:
            s = v._scope
            while s is not None and s.path not in self.by_path:
                self.by_path[s.path] = s
                s = s.parent

    def owner(self, v: Value) -> Scope | None:
        """The scope that made `v`, else (a parameter: a leaf made outside any scope) the
        innermost scope whose path prefixes its dotted label (``layers.0.neurons.3.w.1``)."""
        s = v._scope
        if s is not None or v._op or not v.label or not self.by_path:
            return s
        name = v.label
        cut = name.rfind(".")
        while cut > 0:  # each shorter dotted prefix, one dict lookup each: linear in the label
            name = name[:cut]
            hit = self.by_path.get(name)
            if hit is not None:
                return hit
            cut = name.rfind(".")
        return None


def _check_collapse(collapse: object) -> Collapse:
    if collapse is None or callable(collapse):
        return collapse  # type: ignore[return-value]
    if isinstance(collapse, str) and collapse:
        return collapse
    raise ValueError(
        f"collapse must be a scope kind such as 'neuron' or 'layer', None, or a function "
        f"Value -> str | None, got {collapse!r}"
    )


def _too_large(n: int, limit: int, what: str, has_modules: bool, collapse: Collapse) -> None:
    if has_modules and collapse is None:
        hint = (
            f"draw one box per module instead: {'draw_adjoint' if 'adjoint' in what else 'draw_dot'}"
            "(root, collapse='neuron') or collapse='layer'"
        )
    elif collapse == "neuron":
        hint = "try collapse='layer'"
    else:
        hint = (
            "none of its nodes carries a module name to collapse by (build it with `nn` "
            "modules, or tag parts with autograd.name_scope(name, kind) and pass "
            "collapse=kind); autograd.viz.tape(root) lists any graph as text"
        )
    if what == "edges":
        size = (
            f"the picture would have {n} edges, more than {EDGES_PER_NODE} per allowed node "
            f"({EDGES_PER_NODE} x max_nodes={limit})"
        )
    else:
        size = f"the {what} has {n} nodes, more than max_nodes={limit}"
    raise GraphTooLargeError(
        f"{size}: one picture of it would be unreadable. {hint[0].upper()}{hint[1:]}; "
        "or pass max_nodes=None to draw it anyway."
    )


@dataclass
class _Group:
    key: str
    index: int
    scope: Scope | None
    members: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)


class _Grouping:
    """Which drawn box (if any) each node of `order` is collapsed into."""

    def __init__(self, order: list[Value], prev: list[tuple[Value, ...]], index: dict[Value, int],
                 collapse: Collapse, scopes: _Scopes) -> None:
        self.groups: dict[str, _Group] = {}
        self.member_of: list[_Group | None] = [None] * len(order)
        if collapse is None:
            return
        for i, v in enumerate(order):
            key, scope = self._key(v, collapse, scopes)
            if key is None:
                continue
            g = self.groups.get(key)
            if g is None:
                g = self.groups[key] = _Group(key, len(self.groups), scope)
            g.members.append(i)
            self.member_of[i] = g
        if not self.groups:
            kinds = sorted({k for sc in scopes.by_path.values() if (k := sc.kind) is not None})
            if isinstance(collapse, str) and kinds:
                raise ValueError(
                    f"collapse={collapse!r}: no node of this graph is inside a scope of kind "
                    f"{collapse!r}; the kinds here are {', '.join(map(repr, kinds))}"
                )
            return
        # a box's outputs: members used outside it, and the root
        is_output = [False] * len(order)
        for i in range(len(order)):
            gi = self.member_of[i]
            for p in prev[i]:
                pi = index[p]
                gp = self.member_of[pi]
                if gp is not None and gp is not gi:
                    is_output[pi] = True
        is_output[-1] = self.member_of[-1] is not None
        for i, out in enumerate(is_output):
            g = self.member_of[i]
            if out and g is not None:
                g.outputs.append(i)

    @staticmethod
    def _key(v: Value, collapse: Collapse, scopes: _Scopes) -> tuple[str | None, Scope | None]:
        if callable(collapse):
            key = collapse(v)
            if key is not None and not isinstance(key, str):
                raise TypeError(f"collapse function must return a str or None, got {key!r}")
            return (key or None), None
        assert isinstance(collapse, str)
        owner = scopes.owner(v)
        s = owner.enclosing(collapse) if owner is not None else None
        return (None, None) if s is None else (s.path, s)

    def drawn(self) -> int:
        return len(self.groups) + sum(1 for g in self.member_of if g is None)


def _group_cluster(g: _Group, clusters: bool) -> Scope | None:
    """The box a collapsed group is drawn in: its nearest enclosing scope that has a kind
    (a neuron's layer), if any."""
    if not clusters or g.scope is None:
        return None
    s = g.scope.parent
    while s is not None and s.kind is None:
        s = s.parent
    return s


# -- drawing: nodes, edges, clusters, references ---------------------------------------------------


def _in_order(names: list[str], rankdir: str) -> list[str]:
    """Invisible edges that keep same-rank nodes in reading order: top to bottom in LR and RL
    pictures (where Graphviz stacks a rank's order from the bottom up), left to right in TB/BT."""
    seq = names[::-1] if rankdir in ("LR", "RL") else names
    return [f'{a} -> {b} [style="invis"]\n' for a, b in zip(seq, seq[1:])]


@dataclass
class _Drawing:
    """A picture being assembled: node lines by cluster, edges, and what a reference to a
    node looks like (for `_shorten`)."""

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

    def lines(self, rankdir: str) -> list[str]:
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
            label = "" if row else _esc(name)
            out.append(
                f'\t\tgraph [label="{label}" style="rounded,dashed" color="{GROUP[1]}" '
                f'fontcolor="{GROUP[1]}" labeljust="l" margin="12"]\n'
            )
            if row:
                title = f"title{n}"
                out.append(
                    f'\t\t{title} [id="{title}" label="{_esc(name)}" shape="plaintext" '
                    f'style="" fontcolor="{GROUP[1]}" fontsize="12" height="0.2" margin="0.02"]\n'
                )
            out += ["\t\t" + ln for ln in members]
            if row:
                out.append('\t\t{ rank="same" ' + " ".join([title, *row]) + " }\n")
            out.append("\t}\n")
        out += [f"\t{s} -> {d}{a}\n" for s, d, a in self.edges]
        return out


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


def _shorten(d: _Drawing, shared_is_tail: bool) -> None:
    """Replace each edge between a node and a far-away use by one from a reference: a small
    dashed box with the node's name, drawn in the use's cluster next to it.

    `shared_is_tail`: True for the forward graph (a Value feeds many ops: the tail is shared);
    False for the adjoint graph (many nodes send gradient to one argument: the head is)."""
    number = {name: k for k, name in enumerate(d.cluster_of)}.__getitem__
    srcs = list(map(number, [s for s, _, _ in d.edges]))
    dsts = list(map(number, [t for _, t, _ in d.edges]))
    shared_of, use_of = (srcs, dsts) if shared_is_tail else (dsts, srcs)
    depth = _depths(len(d.cluster_of), use_of, shared_of)
    far = [
        k
        for k, (a, b) in enumerate(zip(shared_of, use_of))
        if depth[a] - depth[b] > _MAX_SPAN
    ]
    if not far:
        return
    names = list(d.cluster_of)
    made: dict[tuple[str, str], str] = {}
    for k in far:
        src, dst, attrs = d.edges[k]
        shared, use = names[shared_of[k]], names[use_of[k]]
        if shared not in d.refs:
            continue
        ref = made.get((shared, use))
        if ref is None:
            ref = made[(shared, use)] = f"ref{d.n_refs}"
            d.n_refs += 1
            name, fill, border, what = d.refs[shared]
            d.node(
                d.cluster_of[use],
                ref,
                f"{ref} "
                + _attrs(
                    {
                        "id": ref,
                        "label": _esc(name),
                        "shape": "box",
                        "style": "filled,rounded,dashed",
                        "fillcolor": fill,
                        "color": border,
                        "fontcolor": REF_TEXT,
                        "fontsize": "10",
                        "height": "0.25",
                        "margin": "0.06,0.02",
                        "tooltip": _esc(
                            f"{what}, drawn in full elsewhere and named again beside this use, "
                            "so that no edge has to cross the whole picture"
                        ),
                    }
                )
                + "\n",
            )
        d.edges[k] = (ref, dst, attrs) if shared_is_tail else (src, ref, attrs)


# -- the forward graph ----------------------------------------------------------------------------


def _prepare(
    root: Value, order: list[Value] | None, collapse: object, max_nodes: int | None, what: str
) -> tuple[Collapse, list[Value], dict[Value, int], list[tuple[Value, ...]], _Scopes, _Grouping]:
    """What both pictures start from: the order, the parents, the scopes and the module groups;
    refuses a picture with more than `max_nodes` boxes (`what` names it in the message)."""
    checked = _check_collapse(collapse)
    if order is None:
        order = toposort(root)
    index = {v: i for i, v in enumerate(order)}
    prev = [v._prev for v in order]
    scopes = _Scopes(order)
    grouping = _Grouping(order, prev, index, checked, scopes)
    if checked is not None and not grouping.groups and max_nodes is not None and len(order) > max_nodes:
        _too_large(len(order), max_nodes, what, False, checked)
    if max_nodes is not None and grouping.drawn() > max_nodes:
        _too_large(grouping.drawn(), max_nodes, what, bool(scopes.by_path), checked)
    return checked, order, index, prev, scopes, grouping


def forward_dot(
    root: Value,
    *,
    rankdir: str = "LR",
    show_grad: bool = True,
    collapse: Collapse = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    clusters: bool = True,
    legend: bool = False,
    grad_text: Sequence[str] | None = None,
    order: list[Value] | None = None,
) -> str:
    """DOT source of the forward graph of `root` (see `autograd.viz.draw_dot`)."""
    rankdir = _check_rankdir(rankdir)
    collapse, order, index, prev, scopes, grouping = _prepare(root, order, collapse, max_nodes, "graph")
    has_modules = bool(scopes.by_path)
    groups, member_of = grouping.groups, grouping.member_of

    def grad_field(i: int) -> str:
        if grad_text is not None:
            return grad_text[i]
        return "grad " + fmt4(order[i].grad)

    d = _Drawing()

    # Uncollapsed: nodes made inside a module sit in a box named after it; a parameter joins
    # the box of the innermost module whose name prefixes its label.
    scope_cluster: list[str | None] = [None] * len(order)
    if clusters and collapse is None and has_modules:
        for i, v in enumerate(order):
            s = scopes.owner(v)
            scope_cluster[i] = None if s is None else s.path

    for i, v in enumerate(order):
        if member_of[i] is not None:
            continue
        fill, border = _kind_colours(v, root)
        name = short_name(v, i)
        fields = [_esc(name, record=True), f"data {fmt4(v.data)}"]
        if show_grad:
            fields.append(_esc(grad_field(i), record=True))
        attrs = {
            "id": f"n{i}",
            "label": _record(fields, rankdir),
            "fillcolor": fill,
            "color": border,
        }
        if v is root:
            attrs["penwidth"] = "2.2"
        attrs["tooltip"] = _esc(_tooltip(v, i))
        c = scope_cluster[i]
        d.node(c, f"n{i}", f"n{i} {_attrs(attrs)}\n")
        d.refs[f"n{i}"] = (name, fill, border, f"{name} (%{i})")
        if v._op:
            d.node(
                c,
                f"op{i}",
                f"op{i} "
                + _attrs(
                    {
                        "id": f"op{i}",
                        "label": _esc(op_text(v)),
                        "shape": "ellipse",
                        "style": "filled",
                        "fillcolor": OP[0],
                        "color": OP[1],
                        "fontsize": "10",
                        "width": "0.3",
                        "height": "0.3",
                        "margin": "0.04,0.02",
                    }
                )
                + "\n",
            )

    _draw_groups(d, groups, order, root, show_grad, rankdir, clusters, grad_field)

    # edges: consumers in topological order, each consumer's arguments in argument order; an
    # op node gets one edge per argument (labelled with its role where order matters), a box
    # one edge per box or node that feeds it
    group_edges: dict[tuple[str, str], dict[int, None]] = {}  # (src, dst) -> the values
    edges = d.edges
    node_name = [f"n{i}" if g is None else f"g{g.index}" for i, g in enumerate(member_of)]
    for i, v in enumerate(order):
        op = v._op
        if not op:
            continue
        gi = member_of[i]
        args = prev[i]
        if gi is None:
            dst = f"op{i}"
            roles = _ROLES.get(op)
            if roles is not None and len(roles) != len(args):
                roles = None
            for k, p in enumerate(args):
                tag = f' headlabel="{roles[k]}"' if roles is not None else ""
                edges.append((node_name[index[p]], dst, f' [id="e{i}_{k}"{tag}]'))
            edges.append((dst, f"n{i}", f' [id="eo{i}"]'))
            continue
        for p in args:
            pi = index[p]
            if member_of[pi] is not gi:  # else: inside one box
                group_edges.setdefault((node_name[pi], f"g{gi.index}"), {})[pi] = None
    _bundle(
        d, {k: f'label="{len(v)} values"' if len(v) > 1 else "" for k, v in group_edges.items()}, ""
    )
    _check_edges(d, max_nodes, has_modules, collapse)
    _shorten(d, shared_is_tail=True)

    lines = _header("forward", rankdir, d)
    lines += d.lines(rankdir)
    if legend:
        lines += _legend(rankdir, bool(groups), refs=d.n_refs > 0)
    lines.append("}\n")
    return "".join(lines)


def _check_edges(d: _Drawing, max_nodes: int | None, has_modules: bool, collapse: Collapse) -> None:
    if max_nodes is not None and len(d.edges) > EDGES_PER_NODE * max_nodes:
        _too_large(len(d.edges), max_nodes, "edges", has_modules, collapse)


def _natural(key: str) -> list[tuple[int, int | str]]:
    """Sort "layers.1.neurons.10" after "layers.1.neurons.9"."""
    return [(0, int(t)) if t.isdigit() else (1, t) for t in re.split(r"(\d+)", key)]


def _bundle(d: _Drawing, group_edges: dict[tuple[str, str], str], bus_attrs: str) -> None:
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
    bussed: set[frozenset[str]] = {k for k, ds in by_set.items() if len(k) >= 2 and len(ds) >= 2}

    def attrs(*parts: str) -> str:
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
            d.edge(src, f"bus{b}", attrs('arrowhead="none"', bus_attrs))
        for dst in dsts:
            d.edge(f"bus{b}", dst, attrs(bus_attrs))
    for (src, dst), label in group_edges.items():
        if frozenset(srcs_of[dst]) not in bussed:
            d.edge(src, dst, attrs(label))


def _tooltip(v: Value, i: int) -> str:
    parts = [f"%{i}"]
    if v._op:
        parts.append(f"= {op_text(v)}")
    s = scope_path(v)
    if s:
        parts.append(f"in {s}")
    return " ".join(parts)


def _group_shown(g: _Group, cluster: str | None) -> str:
    """A box's name inside its cluster: ``neurons.3`` inside ``layers.0``."""
    return g.key[len(cluster) + 1 :] if cluster and g.key.startswith(cluster + ".") else g.key


def _draw_groups(
    d: _Drawing,
    groups: dict[str, _Group],
    order: list[Value],
    root: Value,
    show_grad: bool,
    rankdir: str,
    clusters: bool,
    field: Callable[[int], str],
) -> None:
    """One box per collapsed group, in name order, inside its layer's cluster if it has one."""
    for g in sorted(groups.values(), key=lambda g: _natural(g.key)):
        cs = _group_cluster(g, clusters)
        cl = None if cs is None else cs.path
        d.node(cl, f"g{g.index}", _group_node(g, order, root, show_grad, rankdir, cl, field))
        if cl is not None:
            d.rows.setdefault(cl, []).append(f"g{g.index}")
        d.refs[f"g{g.index}"] = (_group_shown(g, cl), GROUP[0], GROUP[1], f"the box {g.key}")


def _group_node(
    g: _Group,
    order: list[Value],
    root: Value,
    show_grad: bool,
    rankdir: str,
    cluster: str | None,
    grad_field: Callable[[int], str],
    adjoint: bool = False,
) -> str:
    members = [order[i] for i in g.members]
    n_params = sum(1 for v in members if not v._op and v.label)
    n_ops = sum(1 for v in members if v._op)
    neurons = {
        s.path
        for v in members
        if (o := v._scope) is not None and (s := o.enclosing("neuron")) is not None
    }
    counts = []
    if len(neurons) > 1:
        counts.append(f"{len(neurons)} neurons")
    counts.append(f"{n_params} params")
    counts.append(f"{n_ops} ops")
    fields = [_esc(_group_shown(g, cluster), record=True), " · ".join(counts)]
    if len(g.outputs) == 1:
        out = order[g.outputs[0]]
        fields.append(f"{_esc(op_text(out), record=True)} → data {fmt4(out.data)}")
        if show_grad:
            fields.append(_esc(grad_field(g.outputs[0]), record=True))
    else:
        fields.append(f"{len(g.outputs)} outputs")
    is_out = bool(g.outputs) and order[g.outputs[-1]] is root
    fill, border = OUTPUT if is_out else GROUP
    attrs = {
        "id": f"g{g.index}",
        "label": _record(fields, rankdir),
        "fillcolor": fill,
        "color": border,
        "penwidth": "2.2" if is_out else "1.4",
        "tooltip": _esc(f"{g.key}: {len(members)} nodes drawn as one box"),
    }
    return f"g{g.index} {_attrs(attrs)}\n"


def _legend(rankdir: str, with_group: bool, adjoint: bool = False, refs: bool = False) -> list[str]:
    """A key of the colours, built from plain nodes (no HTML-like labels, which Graphviz
    compiled to WebAssembly does not draw), in a dashed box of its own."""
    items = [
        ("input / parameter", INPUT, "box", ""),
        ("constant", CONST, "box", ""),
        ("intermediate", VALUE, "box", ""),
        ("output", OUTPUT, "box", ""),
    ]
    if with_group:
        items.append(("neuron / layer", GROUP, "box", ""))
    if not adjoint:
        items.append(("op", OP, "ellipse", ""))
    if refs:
        items.append(("name: drawn again", (VALUE[0], VALUE[1]), "box", "dashed"))
    out = [
        "\tsubgraph cluster_legend {\n",
        '\t\tgraph [label="key" style="rounded,dashed" color="#94a3b8" fontcolor="#64748b" '
        'labeljust="l" fontsize="10" margin="8"]\n',
    ]
    names = []
    for k, (text, (fill, border), shape, dashed) in enumerate(items):
        style = "filled" if shape == "ellipse" else "filled,rounded"
        if dashed:
            style += ",dashed"
        out.append(
            f'\t\tkey{k} [id="key{k}" label="{text}" shape="{shape}" style="{style}" '
            f'fillcolor="{fill}" color="{border}" fontsize="9" height="0.25" '
            f'margin="0.06,0.02"]\n'
        )
        names.append(f"key{k}")
    if adjoint:
        arrow = {"LR": "→", "RL": "←", "TB": "↓", "BT": "↑"}[rankdir]
        for text, colour in (
            (f"{arrow} carries a gradient", ADJOINT_EDGE),
            (f"{arrow} dashed: carries 0", ZERO_EDGE),
        ):
            k = len(names)
            out.append(
                f'\t\tkey{k} [id="key{k}" label="{text}" shape="plaintext" style="" '
                f'fontcolor="{colour}" fontsize="9" height="0.2" margin="0.02"]\n'
            )
            names.append(f"key{k}")
    out.append('\t\t{ rank="same" ' + " ".join(names) + " }\n")
    out += ["\t\t" + ln for ln in _in_order(names, rankdir)]
    out.append("\t}\n")
    return out


# -- reverse accumulation, step by step ------------------------------------------------------


@dataclass(frozen=True)
class Contribution:
    """One chain-rule product: parent ``order[parent]`` (argument `position` of the node)
    receives ``adjoint * local``; its running total goes from `before` to `after`."""

    position: int
    parent: int
    local: float
    carried: float
    before: float
    after: float


@dataclass(frozen=True)
class Step:
    """Reverse accumulation reaching ``order[node]``, whose adjoint is now complete."""

    node: int
    adjoint: float
    contributions: tuple[Contribution, ...]


def reverse_steps(order: list[Value], seed: float = 1.0) -> tuple[list[Step], list[float]]:
    """Replay reverse accumulation over `order` (root last) without touching any ``.grad``.

    The replay is the engine's own sweep (`autograd.backprop.sweep`), observed. Returns the
    steps in visiting order (root first) and the final adjoint of every node
    (d root / d order[i], times `seed`).
    """
    index = {v: i for i, v in enumerate(order)}
    made: list[list[Contribution]] = [[] for _ in order]
    seen: list[float] = [0.0] * len(order)

    def observe(
        node: Value, adjoint: float, k: int, parent: Value, local: float, carried: float,
        before: float, after: float,
    ) -> None:
        i = index[node]
        seen[i] = adjoint
        made[i].append(
            Contribution(k, index[parent], float(local), float(carried), float(before),
                         float(after))
        )

    adj = [float(a) for a in sweep(order, seed, observe=observe)]
    steps = [
        Step(i, seen[i] if made[i] else adj[i], tuple(made[i]))
        for i in range(len(order) - 1, -1, -1)
    ]
    return steps, adj


# -- the adjoint graph ------------------------------------------------------------------------------


_SLOT = re.compile("\ue000(\\d+)\ue001")


def _formula(v: Value, prev: tuple[Value, ...], names: list[str], out: str) -> tuple[str, ...]:
    """Each parent's local derivative as text, in the nodes' names, from the op table.

    The table is asked with stand-in names (so its cache answers every node of an op alike)
    and the real names are put in afterwards."""
    slots = [f"\ue000{k}\ue001" for k in range(len(names) + 1)]
    try:
        texts = formula_text(OPS[v._op], tuple(slots[:-1]), slots[-1], v._arg)
    except Exception:  # an op without a text form (a user's defop): the number alone
        return tuple("" for _ in prev)
    every = [*names, out]
    return tuple(_SLOT.sub(lambda m: every[int(m.group(1))], t) for t in texts)


_MAX_FORMULA = 40


def _box_label(to: dict[int, list[float]]) -> str:
    """The label of an edge out of a box: the gradient it passes to one value, or how many
    values it passes gradients to."""
    if len(to) == 1:
        total = math.fsum(next(iter(to.values())))
        return f'label="carries {fmt4(total)}" {_paint(total)}'
    return f'label="{len(to)} gradients" {_paint(1.0)}'


def _paint(carried: float) -> str:
    """An adjoint edge's colour: orange if it carries a gradient, grey dashed if exactly 0."""
    c = ZERO_EDGE if carried == 0 else ADJOINT_EDGE
    style = ' style="dashed"' if carried == 0 else ""
    return f'color="{c}" fontcolor="{c}" penwidth="1.4"{style}'


def adjoint_dot(
    root: Value,
    *,
    rankdir: str = "RL",
    collapse: Collapse = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    clusters: bool = True,
    legend: bool = False,
    order: list[Value] | None = None,
) -> str:
    """DOT source of the adjoint graph of `root` (see `autograd.viz.draw_adjoint`)."""
    rankdir = _check_rankdir(rankdir)
    collapse, order, index, prev, scopes, grouping = _prepare(
        root, order, collapse, max_nodes, "adjoint graph"
    )
    has_modules = bool(scopes.by_path)
    groups, member_of = grouping.groups, grouping.member_of
    steps, adj = reverse_steps(order)
    visit = [0] * len(order)
    for k, s in enumerate(steps):
        visit[s.node] = k + 1
    names = [short_name(v, i) for i, v in enumerate(order)]

    d = _Drawing()
    for i, v in enumerate(order):
        if member_of[i] is not None:
            continue
        fill, border = _kind_colours(v, root)
        name = _esc(names[i], record=True)
        what = _esc(op_text(v), record=True) if v._op else ("leaf" if v.label else "const")
        fields = [
            f"{{ {name} | {what} }}",
            f"{{ data {fmt4(v.data)} | adjoint {fmt4(adj[i])} }}",
            f"visit {visit[i]}",
        ]
        attrs = {
            "id": f"n{i}",
            "label": _record(fields, rankdir),
            "fillcolor": fill,
            "color": border,
        }
        if v is root:
            attrs["penwidth"] = "2.2"
        d.node(None, f"n{i}", f"n{i} {_attrs(attrs)}\n")
        d.refs[f"n{i}"] = (names[i], fill, border, f"{names[i]} (%{i})")

    def adjoint_field(i: int) -> str:
        return f"adjoint {fmt4(adj[i])}"

    _draw_groups(d, groups, order, root, True, rankdir, clusters, adjoint_field)

    # edges in visiting order: from each node to each of its arguments. Out of a box: one edge
    # per place the box passes gradient to, labelled with the sum it passes there.
    boxed: dict[tuple[str, str], dict[int, list[float]]] = {}  # -> per argument: carried
    for s in steps:
        i = s.node
        v = order[i]
        gi = member_of[i]
        if not s.contributions:
            continue
        args = prev[i]
        arg_names = [names[index[p]] for p in args]
        texts = _formula(v, args, arg_names, names[i]) if gi is None else ()
        for c in s.contributions:
            gp = member_of[c.parent]
            if gi is not None and gp is gi:
                continue
            dst = f"n{c.parent}" if gp is None else f"g{gp.index}"
            if gi is not None:
                boxed.setdefault((f"g{gi.index}", dst), {}).setdefault(c.parent, []).append(
                    c.carried
                )
                continue
            rule = texts[c.position] if c.position < len(texts) else ""
            law = f"∂{names[i]}/∂{arg_names[c.position]} = "
            if rule and len(rule) <= _MAX_FORMULA and rule not in (_num(c.local), fmt4(c.local)):
                law += f"{rule} = "
            label = f"{_esc(law)}{fmt4(c.local)}\\ncarries {fmt4(c.carried)}"
            d.edge(f"n{i}", dst, f' [id="a{i}_{c.position}" label="{label}" {_paint(c.carried)}]')
    _bundle(d, {k: _box_label(v) for k, v in boxed.items()}, _paint(1.0))
    _check_edges(d, max_nodes, has_modules, collapse)
    _shorten(d, shared_is_tail=False)
    lines = _header(
        "adjoint",
        rankdir,
        d,
        f' label="adjoint graph of {_esc(names[-1])}: each reverse edge carries the adjoint '
        f"of its tail × the local derivative\\nvisit k: the order in which reverse "
        f'accumulation reaches the node" labelloc="t"',
        nodesep=0.35,
        ranksep=0.6,
    )
    lines += d.lines(rankdir)
    if legend:
        lines += _legend(rankdir, bool(groups), adjoint=True, refs=d.n_refs > 0)
    lines.append("}\n")
    return "".join(lines)
