"""The text of the pictures, the tape and the stepper page: numbers, names, ops and formulas."""

from __future__ import annotations

import math
import re

from ..engine import Value
from ..ops import OPS
from ..symbolic import formula_text

__all__ = [
    "fixed4",
    "fmt4",
    "node_expr",
    "number",
    "op_text",
    "param_text",
    "rule_texts",
    "scope_path",
    "short_name",
    "visible",
]


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


def number(x: float) -> str:
    """A constant as short as it reads: 2, 0.5, -1, 0.01."""
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
        return number(float(arg))
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


_INFIX = {"+", "-", "*", "/"}


def node_expr(v: Value, index: dict[Value, int], names: list[str] | None = None) -> str:
    """The right-hand side of node `v`'s tape line: ``%0 * %1``, ``tanh(%4)``, ``x1``.

    With `names` (one per node, by index) arguments are written by name instead of ``%i``;
    a label is written on one line (`visible`).
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
        return f"{args[0]} {op} {args[1]}"
    if op == "neg":
        return f"-{args[0]}"
    if op == "dot":
        n = len(args) // 2
        return f"dot([{', '.join(args[:n])}], [{', '.join(args[n:])}])"
    if v._arg is not None:
        args.append(param_text(v._arg))
    return f"{op}({', '.join(args)})"


_SLOT = re.compile("\ue000(\\d+)\ue001")


def rule_texts(v: Value, names: list[str], out: str) -> tuple[str, ...]:
    """Each argument's local derivative d v / d argument as math text in the nodes' names, from
    the op's own rule (``1 - y·y`` for tanh); "" for an op that has no text form (a `defop`).

    The table is asked with stand-in names, so its cache answers every node of an op alike, and
    the real names are put in afterwards (`visible` names never hold the stand-ins' characters).
    """
    slots = tuple(f"\ue000{k}\ue001" for k in range(len(names) + 1))
    try:
        texts = formula_text(OPS[v._op], slots[:-1], slots[-1], v._arg)
    except Exception:
        return ("",) * len(names)
    every = [*names, out]
    return tuple(_SLOT.sub(lambda m: every[int(m.group(1))], t) for t in texts)
