"""The graph as text: one line per node, in topological order, like a program."""

from __future__ import annotations

from ..backprop import toposort
from ..engine import Value
from ._graph import DEFAULT_MAX_NODES, GraphTooLargeError
from ._labels import fixed4, node_expr, scope_path, visible
from ._replay import reverse_steps
from ._text import TapeText

__all__ = ["tape"]

_MAX_EXPR_COLUMN = 36


def tape(
    root: Value,
    *,
    show_grad: bool = True,
    adjoints: bool = False,
    max_nodes: int | None = DEFAULT_MAX_NODES * 20,
) -> str:
    """The graph of `root` as text, one node a line, parents before children (root last)::

        %0 = x1              data=2.0000   grad=-1.5000
        %2 = %0 * %1         data=-6.0000  grad=0.5000
        %9 = tanh(%8)        data=0.7071   grad=1.0000   # o

    A leaf shows its label (``const`` for a bare number), an op node what it computes from
    earlier lines; a trailing comment gives a node's label and the module that made it.
    ``grad`` is the node's ``.grad`` as it is now (run ``backward()`` first to fill it in);
    with ``adjoints=True`` the column is d root / d node computed afresh (no ``.grad`` is read
    or changed). Needs no Graphviz at all.
    """
    order = toposort(root)
    if max_nodes is not None and len(order) > max_nodes:
        raise GraphTooLargeError(
            f"the graph has {len(order)} nodes, more than max_nodes={max_nodes}; "
            "pass max_nodes=None to list it anyway"
        )
    index = {v: i for i, v in enumerate(order)}
    if adjoints:
        grads = reverse_steps(order)[1]
    else:
        grads = [v.grad for v in order]
    width = len(f"%{len(order) - 1}")
    lefts = [f"%{i}".ljust(width) + " = " + node_expr(v, index) for i, v in enumerate(order)]
    col = min(max(len(s) for s in lefts), _MAX_EXPR_COLUMN + width)
    datas = [f"data={fixed4(v.data)}" for v in order]
    dcol = max(len(s) for s in datas)
    name = "adjoint" if adjoints else "grad"
    out = []
    for i, v in enumerate(order):
        line = lefts[i].ljust(col) + "  " + (datas[i].ljust(dcol) if show_grad else datas[i])
        if show_grad:
            line += f"  {name}={fixed4(grads[i])}"
        notes = []
        if v._op and v.label:
            notes.append(visible(v.label))
        scope = scope_path(v)
        if scope:
            notes.append(f"[{visible(scope)}]")
        if notes:
            line += "   # " + " ".join(notes)
        out.append(line.rstrip())
    return TapeText("\n".join(out) + "\n")  # a str that a notebook shows as monospaced text
