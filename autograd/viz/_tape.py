"""The graph as text: one line per node, in topological order, like a program."""

from __future__ import annotations

from ..backprop import toposort
from ..engine import Value
from ._model import DEFAULT_MAX_NODES, fixed4, param_text, reverse_steps, scope_path, visible
from ._text import TapeText

__all__ = ["tape", "node_expr"]

_INFIX = {"+": "+", "-": "-", "*": "*", "/": "/"}
_MAX_EXPR_COLUMN = 36


def node_expr(v: Value, index: dict[Value, int], names: list[str] | None = None) -> str:
    """The right-hand side of node `v`'s tape line: ``%0 * %1``, ``tanh(%4)``, ``x1``.

    With `names` (one per node, by index) arguments are written by name instead of ``%i``.
    A label is written on one line, its control characters as escapes (``\\n``).
    """
    if not v._op:
        return visible(v.label) if v.label else "const"
    args = [names[index[p]] if names else f"%{index[p]}" for p in v._prev]
    op = v._op
    if op == "**" and v._arg is not None:
        return f"{args[0]} ** {param_text(v._arg)}"
    if op == "pow":
        return f"{args[0]} ** {args[1]}"
    if op in _INFIX and len(args) == 2:
        return f"{args[0]} {_INFIX[op]} {args[1]}"
    if op == "neg":
        return f"-{args[0]}"
    if op == "dot":
        n = len(args) // 2
        return f"dot([{', '.join(args[:n])}], [{', '.join(args[n:])}])"
    if v._arg is not None:
        args.append(param_text(v._arg))
    return f"{op}({', '.join(args)})"


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
        from ._model import GraphTooLargeError

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
