"""Rules evaluated on symbols: derivative formulas as text and as Python source.

`SYMBOLIC` is a math namespace (see `autograd.ops`) whose values are small expression trees
(`Expr`). Evaluating an op's rule on symbols named after its arguments gives the rule itself as
a tree, which `text` prints as math for pictures (``1 - z·z``) and `source` prints as Python
for generated programs (``(1.0 - z * z)``). Nothing here executes anything.

A structural zero (``m.zero``) is the tree ``Expr("zero")``. Generated code never multiplies by
it: `nonzero` gives the condition under which a local derivative is not structurally zero and
the derivative there, so that ``parent_bar += g * d`` is written only under that condition
(``if not (x <= 0.0): x_bar += g`` for relu).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from .ops import OPS, Namespace, Op

__all__ = [
    "Expr", "SYMBOLIC", "formula", "formula_text", "nonzero", "op_table_markdown",
    "rule_exprs", "source", "source_factor", "text", "var", "var_counts",
]

# precedence: higher binds tighter
_P_COND, _P_OR, _P_AND, _P_NOT, _P_CMP, _P_ADD, _P_MUL, _P_NEG, _P_POW, _P_ATOM = range(10)
_CMP_TEXT = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤", "eq": "="}
_CMP_SRC = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "=="}
_RULE_HINT = (
    "in a derivative rule, write {what} with the namespace m ({how}): rules are evaluated on "
    "floats, on Values and on symbols alike"
)


class Expr:
    """A node of a symbolic expression: kind is var, const, zero (a structural zero), call, bin,
    neg, cond, cmp, and, or, not."""

    __slots__ = ("kind", "args")

    def __init__(self, kind: str, *args: Any) -> None:
        self.kind = kind
        self.args = args

    # arithmetic builds trees; numbers mix in as constants
    def __add__(self, o: Any) -> Expr:
        return _node("bin", "+", self, _e(o))

    def __radd__(self, o: Any) -> Expr:
        return _node("bin", "+", _e(o), self)

    def __sub__(self, o: Any) -> Expr:
        return _node("bin", "-", self, _e(o))

    def __rsub__(self, o: Any) -> Expr:
        return _node("bin", "-", _e(o), self)

    def __mul__(self, o: Any) -> Expr:
        return _node("bin", "*", self, _e(o))

    def __rmul__(self, o: Any) -> Expr:
        return _node("bin", "*", _e(o), self)

    def __neg__(self) -> Expr:
        return _node("neg", self)

    def __and__(self, o: Any) -> Expr:
        return Expr("and", self, _e(o))

    def __or__(self, o: Any) -> Expr:
        return Expr("or", self, _e(o))

    def __getitem__(self, i: int) -> Expr:  # a tuple parameter, e.g. clamp's (lo, hi)
        return Expr("var", f"{self.args[0]}[{i}]")

    def _refuse(self, what: str, how: str) -> Any:
        raise TypeError(_RULE_HINT.format(what=what, how=how))

    def __truediv__(self, o: Any) -> Expr:
        how = "m.div(a, b), IEEE: inf instead of ZeroDivisionError"
        return self._refuse("a division", how)  # type: ignore[no-any-return]

    __rtruediv__ = __truediv__

    def __pow__(self, o: Any) -> Expr:
        return self._refuse("a power", "m.pow(x, y)")  # type: ignore[no-any-return]

    __rpow__ = __pow__

    def __bool__(self) -> bool:
        return self._refuse("a branch", "m.cond(pred, a, b) and m.gt, m.ge, m.lt, m.le, m.eq")  # type: ignore[no-any-return]

    def __lt__(self, o: Any) -> bool:
        return self._refuse("a comparison", "m.lt(a, b) and the others")  # type: ignore[no-any-return]

    __le__ = __gt__ = __ge__ = __lt__

    def __repr__(self) -> str:
        return f"Expr({text(self)!r})"

    def is_const(self, x: float) -> bool:
        """Whether this is the constant `x`, sign included (generated code folds 1 and -1)."""
        if self.kind != "const":
            return False
        c = self.args[0]
        return bool(c == x and math.copysign(1.0, c) == math.copysign(1.0, x))


def var_counts(e: Expr, counts: dict[str, int] | None = None) -> dict[str, int]:
    """How often each variable occurs in `e` (added into `counts` if given)."""
    counts = {} if counts is None else counts
    if e.kind == "var":
        counts[e.args[0]] = counts.get(e.args[0], 0) + 1
    else:
        for a in e.args:
            if isinstance(a, Expr):
                var_counts(a, counts)
    return counts


def _node(kind: str, *args: Any) -> Expr:
    """An expression of arithmetic or a call; a structural zero may not be an operand."""
    if any(a.__class__ is Expr and a.kind == "zero" for a in args):
        raise TypeError(
            "a derivative rule used m.zero inside an expression; m.zero (a structural zero) may "
            "only be a whole local derivative or a branch of m.cond"
        )
    return Expr(kind, *args)


def _e(x: Any) -> Expr:
    if isinstance(x, Expr):
        return x
    if isinstance(x, bool):
        raise TypeError("a rule combined a symbol with a bool: use m.cond for branches")
    if isinstance(x, (int, float)):
        return Expr("const", float(x))
    raise TypeError(
        f"a derivative rule used a {type(x).__name__} ({x!r:.40}); rules work on numbers and m's functions"
    )


def var(name: str) -> Expr:
    return Expr("var", name)


class _SymbolicNamespace(Namespace):
    zero = Expr("zero")

    def make(self, op: Op) -> Callable[..., Any]:
        def call(*args: Any) -> Expr:
            return _node("call", op, *map(_e, args))

        return call

    @staticmethod
    def pow(x: Any, y: Any) -> Expr:
        return _node("call", "pow", _e(x), _e(y))

    @staticmethod
    def cond(pred: Any, a: Any, b: Any) -> Expr:
        return Expr("cond", _e(pred), _e(a), _e(b))

    @staticmethod
    def gt(a: Any, b: Any) -> Expr:
        return Expr("cmp", "gt", _e(a), _e(b))

    @staticmethod
    def ge(a: Any, b: Any) -> Expr:
        return Expr("cmp", "ge", _e(a), _e(b))

    @staticmethod
    def lt(a: Any, b: Any) -> Expr:
        return Expr("cmp", "lt", _e(a), _e(b))

    @staticmethod
    def le(a: Any, b: Any) -> Expr:
        return Expr("cmp", "le", _e(a), _e(b))

    @staticmethod
    def eq(a: Any, b: Any) -> Expr:
        return Expr("cmp", "eq", _e(a), _e(b))


SYMBOLIC = _SymbolicNamespace()


def rule_exprs(op: Op, arg_names: tuple[str, ...], out_name: str, param: Any) -> tuple[Expr, ...]:
    """The op's local derivatives as expression trees in the given names.

    For an n-ary op, give the names of one group (``("x",)`` for sum, ``("w", "x")`` for dot).
    """
    args = tuple(var(n) for n in arg_names)
    z = var(out_name)
    if op.nary:
        ds = op.rule(SYMBOLIC, z, *args)
    elif op.param:
        ds = op.rule(SYMBOLIC, z, *args, param)
    else:
        ds = op.rule(SYMBOLIC, z, *args)
    if not isinstance(ds, tuple) or len(ds) != len(args):
        raise TypeError(
            f"op {op.name!r}: its derivative rule must return a tuple of {len(args)} local "
            f"derivative(s), one per argument, got {ds!r:.80}"
        )
    return tuple(_e(d) for d in ds)


def nonzero(e: Expr) -> tuple[Expr | None, Expr] | None:
    """Where the local derivative `e` is not a structural zero: ``(condition, derivative)``, the
    condition None when it always holds; None when `e` is a structural zero everywhere.

    ``cond(x <= 0, zero, 1)`` (relu) gives ``(not (x <= 0), 1)``: generated code adds
    ``g * 1`` to the parent only under that condition, and nothing otherwise.
    """
    if e.kind == "zero":
        return None
    if e.kind != "cond":
        return None, e
    p, a, b = e.args
    na, nb = nonzero(a), nonzero(b)
    if na is None and nb is None:
        return None
    if na is None:
        assert nb is not None
        return _both(Expr("not", p), nb[0]), nb[1]
    if nb is None:
        return _both(p, na[0]), na[1]
    if na[0] is None and nb[0] is None:
        return None, Expr("cond", p, na[1], nb[1])
    when_a, when_b = _both(p, na[0]), _both(Expr("not", p), nb[0])
    return Expr("or", when_a, when_b), Expr("cond", p, na[1], nb[1])


def _both(p: Expr, q: Expr | None) -> Expr:
    return p if q is None else Expr("and", p, q)


_FORMULAS: dict[tuple[Any, ...], tuple[str, ...]] = {}


def formula(op: Op, arg_names: Sequence[str], out_name: str = "z", param: Any = None) -> tuple[str, ...]:
    """The local derivative of each argument of `op` as math text (`formula_text`)."""
    return formula_text(op, tuple(arg_names), out_name, param)


def formula_text(op: Op, arg_names: tuple[str, ...], out_name: str, param: Any) -> tuple[str, ...]:
    """The local derivative of each argument as math text, e.g. ``("1 - z·z",)`` for tanh.

    For n-ary ops with more names than one group, the group's rule is applied to each group.
    """
    key = (op, arg_names, out_name, repr(param))
    hit = _FORMULAS.get(key)
    if hit is not None:
        return hit
    if op.nary and len(arg_names) != op.arity:
        k = op.arity
        n = len(arg_names) // k
        groups = [tuple(arg_names[i + j * n] for j in range(k)) for i in range(n)]
        per = [rule_exprs(op, g, out_name, param) for g in groups]
        out = tuple(text(per[i][j]) for j in range(k) for i in range(n))
    else:
        out = tuple(text(d) for d in rule_exprs(op, arg_names, out_name, param))
    if len(_FORMULAS) < 4096:
        _FORMULAS[key] = out
    return out


# -- printers ------------------------------------------------------------------------------------


def _num_text(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"


def _num_src(x: float) -> str:
    if math.isnan(x):
        return "NAN"
    if math.isinf(x):
        return "INF" if x > 0 else "(-INF)"
    return repr(float(x)) if x >= 0 else f"({float(x)!r})"


def text(e: Expr) -> str:
    """Math text: ``·`` for products, ``^`` for powers, ``a if p else b`` for branches."""
    return _print(e, _TEXT)[0]


def source(e: Expr, names: dict[str, str] | None = None) -> str:
    """Python source for the expression; variables are renamed through `names`.

    Calls use each op's ``pyname`` (``exp(x)``, ``div(a, b)``, ``pow(x, y)``): the program that
    runs the source binds those names to the ops' forward functions.
    """
    return _print(e, _SRC if names is None else {**_SRC, "names": names})[0]


def source_factor(e: Expr, names: dict[str, str] | None = None) -> str:
    """`source`, parenthesized unless it is an atom, so that it can stand after ``g * ``."""
    s, p = _print(e, _SRC if names is None else {**_SRC, "names": names})
    return s if p >= _P_POW else f"({s})"


_TEXT: dict[str, Any] = {"mul": "·", "cmp": _CMP_TEXT, "and": " and ", "or": " or ", "num": _num_text}
_TEXT["src"] = False
_SRC: dict[str, Any] = {"mul": " * ", "cmp": _CMP_SRC, "and": " and ", "or": " or ", "num": _num_src}
_SRC["src"] = True


def _wrap(s: str, p: int, need: int) -> str:
    return f"({s})" if p < need else s


def _print(e: Expr, st: dict[str, Any]) -> tuple[str, int]:
    k, a = e.kind, e.args
    if k == "var":
        names = st.get("names")
        return (names.get(a[0], a[0]) if names else a[0]), _P_ATOM
    if k == "const":
        s = st["num"](a[0])
        return s, (_P_ATOM if not s.startswith("-") else _P_NEG)
    if k == "zero":
        return ("0.0" if st["src"] else "0"), _P_ATOM
    if k == "not":
        s, p = _print(a[0], st)
        return f"not {s}" if p == _P_ATOM else f"not ({s})", _P_NOT
    if k == "neg":
        s, p = _print(a[0], st)
        return "-" + _wrap(s, p, _P_NEG + (1 if st["src"] else 0)), _P_NEG
    if k == "bin":
        sym, x, y = a
        sx, px = _print(x, st)
        sy, py = _print(y, st)
        if sym == "*":
            return f"{_wrap(sx, px, _P_MUL)}{st['mul']}{_wrap(sy, py, _P_MUL + 1)}", _P_MUL
        return f"{_wrap(sx, px, _P_ADD)} {sym} {_wrap(sy, py, _P_ADD + 1)}", _P_ADD
    if k == "call":
        f = a[0]
        args = [_print(x, st) for x in a[1:]]
        if not st["src"]:
            if f == "pow" or (isinstance(f, Op) and f.name in ("**", "pow")):
                (bx, pb), (ex, pe) = args
                return f"{_wrap(bx, pb, _P_ATOM)}^{_wrap(ex, pe, _P_ATOM)}", _P_POW
            if isinstance(f, Op) and f.name == "/":
                (nx, pn), (dx, pd) = args
                return f"{_wrap(nx, pn, _P_MUL)}/{_wrap(dx, pd, _P_MUL + 1)}", _P_MUL
            if isinstance(f, Op) and f.name == "abs":
                return f"|{args[0][0]}|", _P_ATOM
        name = f if isinstance(f, str) else f.pyname
        return f"{name}({', '.join(s for s, _ in args)})", _P_ATOM
    if k == "cond":
        sp, pp = _print(a[0], st)
        sa, pa = _print(a[1], st)
        sb, pb = _print(a[2], st)
        sa, sp, sb = _wrap(sa, pa, _P_COND + 1), _wrap(sp, pp, _P_COND + 1), _wrap(sb, pb, _P_COND)
        return f"{sa} if {sp} else {sb}", _P_COND
    if k == "cmp":
        sx, px = _print(a[1], st)
        sy, py = _print(a[2], st)
        return f"{_wrap(sx, px, _P_ADD)} {st['cmp'][a[0]]} {_wrap(sy, py, _P_ADD)}", _P_CMP
    if k in ("and", "or"):
        need = _P_AND if k == "and" else _P_OR
        sx, px = _print(a[0], st)
        sy, py = _print(a[1], st)
        return f"{_wrap(sx, px, need)}{st[k]}{_wrap(sy, py, need + 1)}", need
    raise AssertionError(k)


# -- the README's op table -----------------------------------------------------------------------

_CALLS = {
    "+": "x + y", "-": "x - y", "*": "x * y", "/": "x / y", "neg": "-x", "abs": "abs(x)",
    "**": "x ** n (number n)", "pow": "x ** y (Value y)", "leaky_relu": "x.leaky_relu(s=0.01)",
    "clamp": "x.clamp(lo, hi)", "sum": "autograd.sum(xs)", "dot": "autograd.dot(ws, xs)",
    "maximum": "autograd.maximum(x, y)", "minimum": "autograd.minimum(x, y)",
    "where": "autograd.where(c, a, b)",
}
_PARAMS: dict[str, Any] = {"**": var("n"), "leaky_relu": var("s"), "clamp": (var("lo"), var("hi"))}


def op_table_markdown() -> str:
    """The table of built-in ops for the README: call, meaning, and each local derivative as
    printed from its rule (z is the op's output)."""
    rows = ["| op | computes | local derivative(s), printed from the rule |", "|---|---|---|"]
    for name, op in OPS.items():
        if not op.builtin:
            continue
        if op.nary:
            names: tuple[str, ...] = ("x_i",) if op.arity == 1 else ("w_i", "x_i")
        else:
            names = {1: ("x",), 2: ("x", "y"), 3: ("c", "a", "b")}[op.arity]
        ds = [text(d) for d in rule_exprs(op, names, "z", _PARAMS.get(name))]
        derivs = "; ".join(f"∂z/∂{n} = {d}" for n, d in zip(names, ds))
        call = _CALLS.get(name, f"x.{name}()")
        doc, cell = (t.replace("|", "\\|") for t in (op.doc, derivs))
        rows.append(f"| `{call}` | {doc} | {cell} |")
    return "\n".join(rows) + "\n"
