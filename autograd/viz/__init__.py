"""Pictures of the computation graph: forward and adjoint graphs, a text tape, a backprop stepper.

    >>> from autograd import Value
    >>> from autograd.viz import draw_dot, draw_adjoint, render, tape
    >>> x = Value(2.0, label="x"); y = (x * x).tanh(); y.label = "y"
    >>> print(tape(y), end="")                    # needs nothing installed
    %0 = x             data=2.0000  grad=0.0000
    %1 = %0 * %0       data=4.0000  grad=0.0000
    %2 = tanh(%1)      data=0.9993  grad=0.0000   # y

`draw_dot` / `draw_adjoint` return a `graphviz.Digraph` (the ``graphviz`` Python package, in the
``viz`` extra); `render` writes SVG or PNG with the ``dot`` program or, without it, with
Graphviz compiled to WebAssembly; `to_dot` gives the DOT text with nothing installed;
`animate_backward` writes one self-contained HTML page that steps through backward.
"""

from __future__ import annotations

from typing import Any

from ..engine import Value
from ._adjoint import adjoint_dot
from ._forward import forward_dot
from ._graph import DEFAULT_MAX_NODES, Collapse, GraphTooLargeError
from ._render import (
    DEFAULT_TIMEOUT,
    RendererNotFound,
    RenderError,
    RenderTimeout,
    available_renderers,
    render,
    render_bytes,
)
from ._replay import reverse_steps
from ._stepper import animate_backward
from ._tape import tape
from ._text import TextPicture

__all__ = [
    "DEFAULT_MAX_NODES",
    "DEFAULT_TIMEOUT",
    "GraphTooLargeError",
    "RenderError",
    "RenderTimeout",
    "RendererNotFound",
    "animate_backward",
    "available_renderers",
    "draw_adjoint",
    "draw_dot",
    "render",
    "render_bytes",
    "reverse_steps",
    "tape",
    "to_dot",
]

_NEED_GRAPHVIZ = (
    "drawing a graph needs the graphviz Python package: pip install 'adjointgrad[viz]' "
    "(to_dot() gives the DOT text and tape() a text listing without it)"
)


def _check_root(root: object, fn: str) -> Value:
    if not isinstance(root, Value):
        raise TypeError(f"{fn}() takes the Value to draw, got {type(root).__name__}")
    return root


def _picture(source: str, fallback_text: str) -> Any:
    try:
        from ._digraph import make_picture
    except ImportError as exc:
        if exc.name == "graphviz" or (exc.name or "").startswith("graphviz."):
            # keep the README's promise: the tape and a hint, not a traceback
            return TextPicture(source, fallback_text, _NEED_GRAPHVIZ)
        raise
    return make_picture(source, fallback_text)


def to_dot(
    root: Value,
    *,
    adjoint: bool = False,
    rankdir: str | None = None,
    show_grad: bool = True,
    collapse: Collapse = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    clusters: bool = True,
    legend: bool = False,
) -> str:
    """The DOT source `draw_dot` (or, with ``adjoint=True``, `draw_adjoint`) would draw.

    Needs no third-party package. The same graph gives the same text byte for byte.
    """
    root = _check_root(root, "to_dot")
    if adjoint:
        return adjoint_dot(root, rankdir or "RL", collapse, max_nodes, clusters, legend)
    return forward_dot(root, rankdir or "LR", show_grad, collapse, max_nodes, clusters, legend)


def draw_dot(
    root: Value,
    rankdir: str = "LR",
    show_grad: bool = True,
    *,
    collapse: Collapse = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    clusters: bool = True,
    legend: bool = False,
) -> Any:
    """The forward graph of `root` as a `graphviz.Digraph`.

    Each Value is a record ``label | data | grad`` (4 significant digits; an unlabelled node is
    called ``%i``, its line in `tape`), each op a small node of its own, and edges follow
    argument order (``a + a`` has two edges). Colours: blue inputs and parameters, grey
    constants, amber ops, green the output; violet boxes are modules. The DOT source is the
    same byte for byte for the same graph. Nothing is changed: no backward, no value written.

    rankdir:   "LR" (inputs left, output right), "RL", "TB" or "BT".
    show_grad: include each node's current ``.grad``.
    collapse:  "neuron" or "layer" draws one box per `nn` neuron or layer; any other word
               one box per scope of that kind (``autograd.name_scope(name, kind)``). A node is
               grouped by ``node.scope.enclosing(kind)``; a parameter made outside any scope
               by the innermost scope its dotted label starts with. Or a function
               Value -> group name or None.
    max_nodes: refuse (`GraphTooLargeError`) to draw more nodes than this, or more than 4
               edges per allowed node; None: no limit.
    clusters:  uncollapsed, put each module's nodes in a labelled box; collapsed, put the
               boxes of one enclosing scope that has a kind (a layer's neurons) in one, titled
               by a node of its own so that no edge crosses the title.
    legend:    add a small key of the colours.

    A Value used far from where it is made (``x`` in ``x*x*...*x``, a weight shared by every
    step of an unrolled RNN) is drawn in full once, beside its nearest use, and again as a
    small dashed box with its name beside each distant use, so that no edge crosses the
    whole picture (such edges made Graphviz take minutes).

    In a notebook the result displays itself (falling back to text without a renderer); to
    write a file call ``autograd.viz.render(graph, "graph.svg")``.
    """
    root = _check_root(root, "draw_dot")
    source = forward_dot(root, rankdir, show_grad, collapse, max_nodes, clusters, legend)
    return _picture(source, tape(root, show_grad=show_grad, max_nodes=None))


def draw_adjoint(
    root: Value,
    rankdir: str = "RL",
    *,
    collapse: Collapse = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    clusters: bool = True,
    legend: bool = False,
) -> Any:
    """The adjoint graph of `root` as a `graphviz.Digraph`.

    The forward edges reversed: each goes from a node to one of its arguments and is labelled
    with the local derivative d node / d argument (its formula from the op table, then its
    value) and the gradient it carries (the node's adjoint times that derivative). Each node
    shows its adjoint d root / d node and its place in the order reverse accumulation visits
    the nodes (``visit 1`` is the root). Adjoints are replayed by the engine's own sweep with
    seed 1: ``.grad`` is neither read nor changed.

    The default rankdir "RL" keeps inputs on the left and the output on the right, as in
    `draw_dot`, with the arrows pointing back. ``collapse``, ``max_nodes``, ``clusters`` and
    ``legend`` work as in `draw_dot`: collapsed, a box shows its output's adjoint, and an edge
    out of a box the gradient it passes on.
    """
    root = _check_root(root, "draw_adjoint")
    source = adjoint_dot(root, rankdir, collapse, max_nodes, clusters, legend)
    return _picture(source, tape(root, adjoints=True, max_nodes=None))
