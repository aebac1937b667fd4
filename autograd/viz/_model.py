"""What the pictures show, as plain data and DOT text (standard library only).

Everything here is deterministic: nodes are numbered by their position in `toposort(root)`
(``n5`` is the Value at index 5, ``op5`` the op that made it), never by ``id()``, so the same
graph gives the same DOT source byte for byte. Nothing here runs backward or writes to a Value:
adjoints are computed into a separate list by the same chain rule `backward` uses.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ..backprop import toposort
from ..engine import Value, local_grads

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
]

DEFAULT_MAX_NODES = 500
"""Graphs with more Values than this are refused unless collapsed (or ``max_nodes=None``)."""

Collapse = Literal["neuron", "layer"] | Callable[[Value], str | None] | None


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


_MAX_LABEL = 48


def short_name(v: Value, index: int) -> str:
    """How a node is called in pictures: its label, else %index."""
    lab = v.label
    if not lab:
        return f"%{index}"
    lab = " ".join(lab.split())  # no newlines or tabs
    return lab if len(lab) <= _MAX_LABEL else lab[: _MAX_LABEL - 1] + "…"


def op_text(v: Value) -> str:
    """The op as shown in a picture's op node: +, *, **2, tanh, leaky_relu(0.01), ..."""
    op = v._op
    if op == "**" and v._arg is not None:
        return f"**{_num(float(v._arg))}"
    if op == "leaky_relu" and v._arg is not None:
        return f"leaky_relu({_num(float(v._arg))})"
    return op


# -- DOT quoting ------------------------------------------------------------------------------

_RECORD_SPECIAL = set('{}|<>"\\')


def _esc(text: str, record: bool = False) -> str:
    """Escape user text for a double-quoted DOT string (and for a record field)."""
    out = []
    for ch in text:
        if ch in "\r\n\t":
            ch = " "
        if record and ch in _RECORD_SPECIAL:
            out.append("\\" + ch)
        elif ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable() or ch == " ":
            out.append(ch)
    return "".join(out)


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

FONT = "Helvetica,Arial,sans-serif"


def _kind_colours(v: Value, root: Value) -> tuple[str, str]:
    if v is root:
        return OUTPUT
    if not v._op:
        return INPUT if v.label else CONST
    return VALUE


# which argument is which, for the ops where order matters (x ** y with a Value exponent)
_ROLES = {"-": ("+", "−"), "/": ("num", "den"), "**": ("base", "exp")}


def _header(
    name: str, rankdir: str, extra: str = "", nodesep: float = 0.25, ranksep: float = 0.35
) -> list[str]:
    return [
        f"digraph {name} {{\n",
        f'\tgraph [rankdir="{rankdir}" fontname="{FONT}" fontsize="12" nodesep="{nodesep}" '
        f'ranksep="{ranksep}" bgcolor="white"{extra}]\n',
        f'\tnode [fontname="{FONT}" fontsize="11" shape="record" style="filled,rounded" '
        f'penwidth="1.2"]\n',
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

_NEURON = re.compile(r"^((?:.*?\.)?neurons\.\d+)(?:\.|$)")
_LAYER = re.compile(r"^((?:.*?\.)?layers\.\d+)(?:\.|$)")


def module_path(v: Value) -> str | None:
    """The dotted module name a node belongs to: its scope, or a parameter leaf's label."""
    if v._scope:
        return v._scope
    if not v._op and v.label:
        return v.label
    return None


def _group_key(v: Value, collapse: Collapse) -> str | None:
    if collapse is None:
        return None
    if callable(collapse):
        key = collapse(v)
        if key is not None and not isinstance(key, str):
            raise TypeError(f"collapse function must return a str or None, got {key!r}")
        return key or None
    path = module_path(v)
    if path is None:
        return None
    first, second = (_NEURON, _LAYER) if collapse == "neuron" else (_LAYER, _NEURON)
    m = first.match(path) or second.match(path)
    return m.group(1) if m else None


def _check_collapse(collapse: object) -> Collapse:
    if collapse is None or callable(collapse) or collapse in ("neuron", "layer"):
        return collapse  # type: ignore[return-value]
    raise ValueError(
        f"collapse must be 'neuron', 'layer', None or a function Value -> str | None, "
        f"got {collapse!r}"
    )


def _too_large(n: int, limit: int, what: str, has_modules: bool, collapse: Collapse) -> None:
    if has_modules and collapse is None:
        hint = (
            "draw one box per module instead: draw_dot(root, collapse='neuron') "
            "or collapse='layer'"
        )
    elif collapse == "neuron":
        hint = "try collapse='layer'"
    else:
        hint = (
            "none of its nodes carries a module name to collapse by (build it with `nn` "
            "modules, or tag parts with autograd.name_scope(...) and pass collapse=...); "
            "autograd.viz.tape(root) lists any graph as text"
        )
    raise GraphTooLargeError(
        f"the {what} has {n} nodes, more than max_nodes={limit}: one picture of it would be "
        f"unreadable. {hint[0].upper()}{hint[1:]}; or pass max_nodes=None to draw it anyway."
    )


# -- the forward graph ----------------------------------------------------------------------------


@dataclass
class _Group:
    key: str
    index: int
    members: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)


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
    collapse = _check_collapse(collapse)
    if order is None:
        order = toposort(root)
    index = {v: i for i, v in enumerate(order)}
    has_modules = any(v._scope for v in order)

    groups: dict[str, _Group] = {}
    member_of: list[_Group | None] = [None] * len(order)
    if collapse is not None:
        for i, v in enumerate(order):
            key = _group_key(v, collapse)
            if key is not None:
                g = groups.get(key)
                if g is None:
                    g = groups[key] = _Group(key, len(groups))
                g.members.append(i)
                member_of[i] = g
        if not groups and max_nodes is not None and len(order) > max_nodes:
            _too_large(len(order), max_nodes, "graph", False, collapse)
    drawn = len(groups) + sum(1 for g in member_of if g is None)
    if max_nodes is not None and drawn > max_nodes:
        _too_large(drawn, max_nodes, "graph", has_modules, collapse)

    def grad_field(i: int) -> str:
        if grad_text is not None:
            return grad_text[i]
        return "grad " + fmt4(order[i].grad)

    lines = _header("forward", rankdir)
    body: dict[str | None, list[str]] = {None: []}  # cluster name -> lines

    # Uncollapsed: nodes made inside a module sit in a box named after it; a parameter joins
    # the box of the longest module name that prefixes its label.
    scope_cluster: list[str | None] = [None] * len(order)
    if clusters and collapse is None and has_modules:
        scopes = sorted({v._scope for v in order if v._scope})
        for i, v in enumerate(order):
            if v._scope:
                scope_cluster[i] = v._scope
            elif not v._op and v.label:
                best = None
                for s in scopes:
                    if v.label.startswith(s + ".") and (best is None or len(s) > len(best)):
                        best = s
                scope_cluster[i] = best

    # group outputs: members used outside the group, or the root itself
    if groups:
        for i, v in enumerate(order):
            gi = member_of[i]
            for p in v._prev:
                pi = index[p]
                gp = member_of[pi]
                if gp is not None and gp is not gi and pi not in gp.outputs:
                    gp.outputs.append(pi)
        root_group = member_of[len(order) - 1]
        if root_group is not None and len(order) - 1 not in root_group.outputs:
            root_group.outputs.append(len(order) - 1)

    def add(cluster: str | None, line: str) -> None:
        body.setdefault(cluster, []).append(line)

    for i, v in enumerate(order):
        if member_of[i] is not None:
            continue
        fill, border = _kind_colours(v, root)
        fields = [_esc(short_name(v, i), record=True), f"data {fmt4(v.data)}"]
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
        tip = _tooltip(v, i)
        if tip:
            attrs["tooltip"] = _esc(tip)
        c = scope_cluster[i]
        add(c, f"n{i} {_attrs(attrs)}\n")
        if v._op:
            add(
                c,
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

    for g in sorted(groups.values(), key=lambda g: _natural(g.key)):
        cl = _group_cluster(g, clusters, collapse)
        add(cl, _group_node(g, order, root, show_grad, rankdir, cl))

    # edges: consumers in topological order, each consumer's arguments in argument order
    edge_lines: list[str] = []
    group_edges: dict[tuple[str, str], list[int]] = {}
    for i, v in enumerate(order):
        if not v._op:
            continue
        gi = member_of[i]
        dst = f"op{i}" if gi is None else f"g{gi.index}"
        for k, p in enumerate(v._prev):
            pi = index[p]
            gp = member_of[pi]
            if gi is not None and gp is gi:
                continue  # inside one box
            src = f"n{pi}" if gp is None else f"g{gp.index}"
            if gi is None and gp is None:
                role = _ROLES.get(v._op) if len(v._prev) == 2 else None
                tag = f' headlabel="{role[k]}"' if role else ""
                edge_lines.append(f'\t{src} -> {dst} [id="e{i}_{k}"{tag}]\n')
            else:
                seen = group_edges.setdefault((src, dst), [])
                if pi not in seen:
                    seen.append(pi)
        if gi is None:
            edge_lines.append(f"\top{i} -> n{i} [id=\"eo{i}\"]\n")
    edge_lines += _bundle(group_edges)

    lines += ["\t" + ln for ln in body[None]]
    for n, (name, members) in enumerate((k, b) for k, b in body.items() if k is not None):
        lines.append(f"\tsubgraph cluster_{n} {{\n")
        lines.append(
            f'\t\tgraph [label="{_esc(name)}" style="rounded,dashed" color="{GROUP[1]}" '
            f'fontcolor="{GROUP[1]}" labeljust="l"]\n'
        )
        lines += ["\t\t" + ln for ln in members]
        lines.append("\t}\n")
    lines += edge_lines
    if legend:
        lines += _legend(collapse is not None and bool(groups))
    lines.append("}\n")
    return "".join(lines)


def _natural(key: str) -> list[tuple[int, int | str]]:
    """Sort "layers.1.neurons.10" after "layers.1.neurons.9"."""
    return [(0, int(t)) if t.isdigit() else (1, t) for t in re.split(r"(\d+)", key)]


def _bundle(group_edges: dict[tuple[str, str], list[int]]) -> list[str]:
    """Edges into and out of module boxes. When several boxes all take the same two or more
    sources (every neuron of a layer reads every output of the previous one), the sources are
    joined at one point and fanned out from it: 16 + 16 lines instead of 16 x 16."""
    srcs_of: dict[str, list[str]] = {}
    for src, dst in group_edges:
        srcs_of.setdefault(dst, []).append(src)
    by_set: dict[frozenset[str], list[str]] = {}
    for dst, srcs in srcs_of.items():
        by_set.setdefault(frozenset(srcs), []).append(dst)
    bussed: set[frozenset[str]] = {k for k, d in by_set.items() if len(k) >= 2 and len(d) >= 2}

    def label(n: int) -> str:
        return f' [label="{n} values"]' if n > 1 else ""

    lines: list[str] = []
    for b, (sset, dsts) in enumerate(by_set.items()):
        if sset not in bussed:
            continue
        lines.append(
            f'\tbus{b} [id="bus{b}" shape="point" width="0.1" color="{GROUP[1]}" '
            f'tooltip="each of these {len(sset)} feeds each of those {len(dsts)}"]\n'
        )
        for src in srcs_of[dsts[0]]:
            n = len(group_edges[(src, dsts[0])])
            extra = f' label="{n} values"' if n > 1 else ""
            lines.append(f'\t{src} -> bus{b} [arrowhead="none"{extra}]\n')
        for dst in dsts:
            lines.append(f"\tbus{b} -> {dst}\n")
    for (src, dst), parents in group_edges.items():
        if frozenset(srcs_of[dst]) not in bussed:
            lines.append(f"\t{src} -> {dst}{label(len(parents))}\n")
    return lines


def _tooltip(v: Value, i: int) -> str:
    parts = [f"%{i}"]
    if v._op:
        parts.append(f"= {op_text(v)}")
    if v._scope:
        parts.append(f"in {v._scope}")
    return " ".join(parts)


def _group_cluster(g: _Group, clusters: bool, collapse: Collapse) -> str | None:
    if not clusters or collapse != "neuron":
        return None
    m = _LAYER.match(g.key)
    return m.group(1) if m and m.group(1) != g.key else None


def _group_node(
    g: _Group,
    order: list[Value],
    root: Value,
    show_grad: bool,
    rankdir: str,
    cluster: str | None = None,
) -> str:
    members = [order[i] for i in g.members]
    n_params = sum(1 for v in members if not v._op and v.label)
    n_ops = sum(1 for v in members if v._op)
    neurons = {m.group(1) for v in members if (p := module_path(v)) and (m := _NEURON.match(p))}
    counts = []
    if len(neurons) > 1:
        counts.append(f"{len(neurons)} neurons")
    counts.append(f"{n_params} params")
    counts.append(f"{n_ops} ops")
    shown = g.key[len(cluster) + 1 :] if cluster and g.key.startswith(cluster + ".") else g.key
    fields = [_esc(shown, record=True), " · ".join(counts)]
    if len(g.outputs) == 1:
        out = order[g.outputs[0]]
        fields.append(f"{_esc(op_text(out), record=True)} → data {fmt4(out.data)}")
        if show_grad:
            fields.append(f"grad {fmt4(out.grad)}")
    else:
        fields.append(f"{len(g.outputs)} outputs")
    is_out = g.outputs and order[g.outputs[-1]] is root
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


def _legend(with_group: bool, adjoint: bool = False) -> list[str]:
    """A key of the colours: one small table node."""
    items = [
        ("input / parameter", INPUT),
        ("constant", CONST),
        ("intermediate", VALUE),
        ("output", OUTPUT),
    ]
    if with_group:
        items.append(("neuron / layer", GROUP))
    if not adjoint:
        items.append(("op", OP))
    cells = "".join(
        f'<td bgcolor="{fill}" color="{border}">{text}</td>' for text, (fill, border) in items
    )
    if adjoint:
        cells += (
            f'<td color="white"><font color="{ADJOINT_EDGE}">&#8594; carries a gradient</font>'
            f'</td><td color="white"><font color="{ZERO_EDGE}">- - &#8594; carries 0</font></td>'
        )
    return [
        f'	legend [id="legend" shape="plaintext" style="" fontsize="9" label=<<table '
        f'border="0" cellborder="1" cellspacing="3" cellpadding="3"><tr>'
        f'<td border="0"><font color="#64748b">key:</font></td>{cells}</tr></table>>]\n'
    ]


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

    Returns the steps in visiting order (root first) and the final adjoint of every node
    (d root / d order[i], times `seed`).
    """
    index = {v: i for i, v in enumerate(order)}
    adj = [0.0] * len(order)
    if order:
        adj[-1] = seed
    steps: list[Step] = []
    for i in range(len(order) - 1, -1, -1):
        v = order[i]
        g = adj[i]
        contribs = []
        if v._op:
            for k, (p, d) in enumerate(zip(v._prev, local_grads(v))):
                pi = index[p]
                before = adj[pi]
                c = g * d
                adj[pi] = before + c
                contribs.append(Contribution(k, pi, d, c, before, adj[pi]))
        steps.append(Step(i, g, tuple(contribs)))
    return steps, adj


# -- the adjoint graph ------------------------------------------------------------------------------


def adjoint_dot(
    root: Value,
    *,
    rankdir: str = "RL",
    max_nodes: int | None = DEFAULT_MAX_NODES,
    legend: bool = False,
    order: list[Value] | None = None,
) -> str:
    """DOT source of the adjoint graph of `root` (see `autograd.viz.draw_adjoint`)."""
    rankdir = _check_rankdir(rankdir)
    if order is None:
        order = toposort(root)
    if max_nodes is not None and len(order) > max_nodes:
        _too_large(len(order), max_nodes, "adjoint graph", False, "layer")
    steps, adj = reverse_steps(order)
    visit = {s.node: k + 1 for k, s in enumerate(steps)}
    root_name = short_name(root, len(order) - 1)

    lines = _header(
        "adjoint",
        rankdir,
        f' label="adjoint graph of {_esc(root_name)}: each reverse edge carries the adjoint '
        f"of its tail × the local derivative\\nvisit k: the order in which reverse "
        f'accumulation reaches the node" labelloc="t"',
        nodesep=0.35,
        ranksep=0.6,
    )
    for i, v in enumerate(order):
        fill, border = _kind_colours(v, root)
        name = _esc(short_name(v, i), record=True)
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
        lines.append(f"\tn{i} {_attrs(attrs)}\n")
    for s in steps:
        v = order[s.node]
        vname = short_name(v, s.node)
        for c in s.contributions:
            pname = short_name(order[c.parent], c.parent)
            label = (
                f"∂{_esc(vname)}/∂{_esc(pname)} = {fmt4(c.local)}\\n"
                f"carries {fmt4(c.carried)}"
            )
            colour = ZERO_EDGE if c.carried == 0 else ADJOINT_EDGE
            style = ' style="dashed"' if c.carried == 0 else ""
            lines.append(
                f'\tn{s.node} -> n{c.parent} [id="a{s.node}_{c.position}" label="{label}" '
                f'color="{colour}" fontcolor="{colour}" penwidth="1.4"{style}]\n'
            )
    if legend:
        lines += _legend(False, adjoint=True)
    lines.append("}\n")
    return "".join(lines)
