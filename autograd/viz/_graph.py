"""What both pictures start from: the graph in topological order, its scopes, its module boxes.

Nodes are numbered by their position in `toposort(root)` (``n5`` is the Value at index 5), never
by ``id()``, so the same graph gives the same picture byte for byte. With ``collapse`` each
scope of one kind ("neuron", "layer", or any kind given to ``autograd.name_scope``) becomes one
box (a `Group`); the size limits (``max_nodes``) are checked here, before any DOT is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..backprop import toposort
from ..context import Scope
from ..engine import Value

__all__ = [
    "DEFAULT_MAX_NODES",
    "EDGES_PER_NODE",
    "Collapse",
    "Graph",
    "GraphTooLargeError",
    "Group",
    "prepare",
    "too_large",
]

DEFAULT_MAX_NODES = 500
"""Graphs with more Values than this are refused unless collapsed (or ``max_nodes=None``)."""

EDGES_PER_NODE = 4
"""A picture may have at most this many edges per allowed node (``max_nodes``)."""

Collapse = str | Callable[[Value], str | None] | None
"""A scope kind ("neuron", "layer", any kind a module gives its scope), a function, or None."""


class GraphTooLargeError(ValueError):
    """The graph has more nodes than a person can read in one picture."""


class Scopes:
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


@dataclass
class Group:
    """One collapsed box: the nodes (by index) it stands for, and those used outside it."""

    key: str
    index: int
    scope: Scope | None
    members: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)

    def cluster(self, clusters: bool) -> str | None:
        """The dashed box this box is drawn in: the path of its nearest enclosing scope that
        has a kind (a neuron's layer), if any."""
        if not clusters or self.scope is None:
            return None
        s = self.scope.parent
        while s is not None and s.kind is None:
            s = s.parent
        return None if s is None else s.path

    def shown(self, cluster: str | None) -> str:
        """Its name inside its cluster: ``neurons.3`` inside ``layers.0``."""
        if cluster and self.key.startswith(cluster + "."):
            return self.key[len(cluster) + 1 :]
        return self.key


def _group_key(v: Value, collapse: Collapse, scopes: Scopes) -> tuple[str | None, Scope | None]:
    if callable(collapse):
        key = collapse(v)
        if key is not None and not isinstance(key, str):
            raise TypeError(f"collapse function must return a str or None, got {key!r}")
        return (key or None), None
    assert isinstance(collapse, str)
    owner = scopes.owner(v)
    s = owner.enclosing(collapse) if owner is not None else None
    return (None, None) if s is None else (s.path, s)


@dataclass
class Graph:
    """A graph ready to draw: ``member_of[i]`` is the box node ``order[i]`` is collapsed into."""

    root: Value
    order: list[Value]
    index: dict[Value, int]
    prev: list[tuple[Value, ...]]
    scopes: Scopes
    collapse: Collapse
    groups: dict[str, Group]
    member_of: list[Group | None]

    @property
    def has_modules(self) -> bool:
        return bool(self.scopes.by_path)

    def drawn(self) -> int:
        """How many boxes the picture has: one per group and per node outside every group."""
        return len(self.groups) + self.member_of.count(None)

    def name(self, i: int) -> str:
        """The DOT name of what node i is drawn as: its own box, or its group's."""
        g = self.member_of[i]
        return f"n{i}" if g is None else f"g{g.index}"


def _check_collapse(collapse: object) -> Collapse:
    if collapse is None or callable(collapse):
        return collapse  # type: ignore[return-value]
    if isinstance(collapse, str) and collapse:
        return collapse
    raise ValueError(
        f"collapse must be a scope kind such as 'neuron' or 'layer', None, or a function "
        f"Value -> str | None, got {collapse!r}"
    )


def _group(g: Graph) -> None:
    """Fill in `g.groups` and `g.member_of`, and each box's outputs."""
    if g.collapse is None:
        return
    for i, v in enumerate(g.order):
        key, scope = _group_key(v, g.collapse, g.scopes)
        if key is None:
            continue
        box = g.groups.get(key)
        if box is None:
            box = g.groups[key] = Group(key, len(g.groups), scope)
        box.members.append(i)
        g.member_of[i] = box
    if not g.groups:
        kinds = sorted({k for sc in g.scopes.by_path.values() if (k := sc.kind) is not None})
        if isinstance(g.collapse, str) and kinds:
            raise ValueError(
                f"collapse={g.collapse!r}: no node of this graph is inside a scope of kind "
                f"{g.collapse!r}; the kinds here are {', '.join(map(repr, kinds))}"
            )
        return
    # a box's outputs: members used outside it, and the root
    is_output = [False] * len(g.order)
    for i, args in enumerate(g.prev):
        for p in args:
            pi = g.index[p]
            gp = g.member_of[pi]
            if gp is not None and gp is not g.member_of[i]:
                is_output[pi] = True
    is_output[-1] = g.member_of[-1] is not None
    for i, out in enumerate(is_output):
        box = g.member_of[i]
        if out and box is not None:
            box.outputs.append(i)


def prepare(
    root: Value, order: list[Value] | None, collapse: object, max_nodes: int | None, what: str
) -> Graph:
    """The order, the parents, the scopes and the module boxes of `root`'s graph; refuses a
    picture with more than `max_nodes` boxes (`what` names it in the message)."""
    checked = _check_collapse(collapse)
    if order is None:
        order = toposort(root)
    g = Graph(
        root,
        order,
        {v: i for i, v in enumerate(order)},
        [v._prev for v in order],
        Scopes(order),
        checked,
        {},
        [None] * len(order),
    )
    _group(g)
    if max_nodes is not None:
        if checked is not None and not g.groups and len(order) > max_nodes:
            too_large(len(order), max_nodes, what, False, checked)
        if g.drawn() > max_nodes:
            too_large(g.drawn(), max_nodes, what, g.has_modules, checked)
    return g


def too_large(n: int, limit: int, what: str, has_modules: bool, collapse: Collapse) -> None:
    """Raise `GraphTooLargeError` for `n` nodes (or edges, `what` = "edges") over `limit`,
    saying what to do instead."""
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
