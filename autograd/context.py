"""How nodes are recorded: the per-thread modes `no_grad`, `enable_grad`, `detect_anomaly` and
`name_scope` (with `Scope`, the module a node belongs to).

The engine makes a node by its fast path unless one of these contexts is open somewhere
(`_special` > 0); only then does it consult the current thread's state (`_state`): whether to
record a graph at all, which scope to tag the node with, and whether to remember where it was
made and check it for nan and infinity.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "Scope",
    "name_scope",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
    "creation_site",
    "user_site",
]

# ---------------------------------------------------------------------------------------------
# Per-thread state. Ops only look at it while at least one context is open somewhere
# (`_special` > 0), so the common path costs one attribute read.
# ---------------------------------------------------------------------------------------------


class _State(threading.local):
    def __init__(self) -> None:
        self.grad_enabled = True
        self.grad_saved: list[bool] = []  # no_grad's saved states, per thread
        self.anomaly = 0
        self.scope: Scope | None = None
        self.sites: dict[int, tuple[Any, str]] = {}  # id(node) -> (node, file:line)


_state = _State()
_special = 0
_special_lock = threading.Lock()


def _special_add(k: int) -> None:
    global _special
    with _special_lock:
        _special += k


def is_grad_enabled() -> bool:
    """True unless the current thread is inside `no_grad()`."""
    return bool(_state.grad_enabled)


def is_anomaly_enabled() -> bool:
    """True inside `detect_anomaly()` (in the current thread)."""
    return bool(_state.anomaly)


class no_grad:
    """Context manager and decorator: ops inside it record no graph (results are leaves).

    Thread-local: another thread building a graph at the same time is not affected, and one
    instance may be entered by several threads (and inside itself) at once.
    """

    def __enter__(self) -> no_grad:
        st = _state
        st.grad_saved.append(st.grad_enabled)
        st.grad_enabled = False
        _special_add(1)
        return self

    def __exit__(self, *exc: object) -> None:
        st = _state
        st.grad_enabled = st.grad_saved.pop()
        _special_add(-1)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper


@contextmanager
def enable_grad() -> Iterator[None]:
    """Record graphs inside it even within `no_grad()` (grad(..., create_graph=True) does so)."""
    st = _state
    if st.grad_enabled:
        yield
        return
    st.grad_enabled = True
    try:
        yield
    finally:
        st.grad_enabled = False


# ---------------------------------------------------------------------------------------------
# Scopes: which module made a node
# ---------------------------------------------------------------------------------------------


class Scope(str):
    """The dotted name of the module that made a node, with its kind and its enclosing scope.

    A `Scope` is a `str` (its dotted path, ``"layers.0.neurons.3"``), so it prints and compares
    as one; ``kind`` says what sort of part it is (``"neuron"``, ``"layer"``, or any word a module
    chooses), ``parent`` is the enclosing scope and ``enclosing(kind)`` the innermost scope of a
    kind. Pictures group nodes by ``node.scope.enclosing(kind)``.
    """

    name: str
    kind: str | None
    parent: Scope | None
    _under: tuple[Scope, Scope] | None  # the last (outer, self nested in outer)

    def __new__(cls, name: str, kind: str | None = None, parent: Scope | None = None) -> Scope:
        if not isinstance(name, str) or not name:
            raise TypeError(f"a scope name must be a non-empty str, got {name!r:.60}")
        if kind is not None and not isinstance(kind, str):
            raise TypeError(f"a scope kind must be a str or None, got {kind!r:.60}")
        if parent is not None and not isinstance(parent, Scope):
            raise TypeError(f"a scope's parent must be a Scope or None, got {type(parent).__name__}")
        self = super().__new__(cls, name if parent is None else f"{parent}.{name}")
        self.name, self.kind, self.parent = name, kind, parent
        self._under = None
        return self

    @property
    def path(self) -> str:
        return str.__str__(self)

    def enclosing(self, kind: str) -> Scope | None:
        """The innermost scope of `kind`: this one or an enclosing one (None if there is none)."""
        s: Scope | None = self
        while s is not None:
            if s.kind == kind:
                return s
            s = s.parent
        return None

    def nested_in(self, outer: Scope) -> Scope:
        """This scope (and its ancestors) placed inside `outer`."""
        hit = self._under  # one entry: a forward pass tags many nodes inside one outer scope
        if hit is not None and hit[0] is outer:
            return hit[1]
        parent = outer if self.parent is None else self.parent.nested_in(outer)
        s = Scope(self.name, self.kind, parent)
        self._under = (outer, s)
        return s

    def tag(self, *nodes: Any) -> None:
        """Mark nodes as made by this scope (nested inside the scope they were made in, if any).

        Modules call it on the few nodes they make, which is cheaper than a `name_scope`.
        """
        for v in nodes:
            cur = v._scope
            v._scope = self if cur is None else self.nested_in(cur)

    def __repr__(self) -> str:
        return f"Scope({self.path!r}, kind={self.kind!r})"

    def __reduce__(self) -> Any:
        return (Scope, (self.name, self.kind, self.parent))


@contextmanager
def name_scope(name: str, kind: str | None = None) -> Iterator[Scope]:
    """Tag every node created inside with a `Scope` named `name` (nested scopes join with '.').

    ``kind`` is an optional word for what the scope is (``"layer"``, ``"head"``, ...); pictures
    can collapse a graph to one box per scope of a kind.
    """
    outer = _state.scope
    scope = Scope(name, kind, outer)
    _state.scope = scope
    _special_add(1)
    try:
        yield scope
    finally:
        _state.scope = outer
        _special_add(-1)


# ---------------------------------------------------------------------------------------------
# detect_anomaly
# ---------------------------------------------------------------------------------------------


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise `FloatingPointError` at the first NaN or infinity made in forward or backward.

    The error names the op, its input values and the file:line where the node was created.
    Nodes created inside the context remember where they were made; wrap both the forward and
    the backward pass in it.
    """
    _state.anomaly += 1
    _special_add(1)
    try:
        yield
    finally:
        _state.anomaly -= 1
        _special_add(-1)
        if not _state.anomaly:
            _state.sites.clear()


_PKG = os.path.dirname(os.path.abspath(__file__))


def user_site() -> str:
    """file:line of the innermost frame outside this package (where the user made the node)."""
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _PKG:
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def creation_site(v: Any) -> str | None:
    """Where `v` was created, if it was created inside `detect_anomaly()`."""
    hit = _state.sites.get(id(v))
    return hit[1] if hit is not None and hit[0] is v else None

