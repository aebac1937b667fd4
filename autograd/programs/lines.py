# The writer of readable source: one forward statement a line, one adjoint block per node, each
# derivative printed from the op's rule (see the package docstring).

from __future__ import annotations

from ..codegen import comment
from ..ops import OPS
from ..symbolic import Expr, nonzero, rule_exprs, source, source_factor
from .names import INLINE_FWD, Names, fwd_name, param_src
from .tape import Tape

__all__ = ["LineWriter", "Vec"]


# how each op's local derivatives are added, by (op, parameter, number of parents): from the rules
_TEMPLATES: dict[tuple[str, str, int], list[tuple[str | None, str, str]]] = {}


class Vec:
    """A tuple of operand nodes read by n-ary nodes: its value list, and maybe its adjoints."""

    __slots__ = ("idx", "j", "uses", "home", "leaves", "built", "started", "name")

    def __init__(self, idx: tuple[int, ...], j: int) -> None:
        self.idx = idx
        self.j = j
        self.uses = 0
        self.home = False  # the adjoints of its members live in the list <name>_bar
        self.leaves = False
        self.built = False
        self.started = False
        self.name = f"vec{j}"  # a loop's list of outputs is a vector of its own (_o0_1)


class LineWriter:
    """Forward lines and adjoint blocks for the ops of the op table, on a `Tape`.

    Adjoints are locals ``name_bar`` (or slots of a vector's adjoint list, or of a loop's
    list, see `bar`); `add_to` adds a contribution exactly as ``backward()`` does: an inner
    node's adjoint starts at 0.0, so its first contribution is written ``0.0 + c``.
    """

    def __init__(self, tape: Tape, compact: bool) -> None:
        self.t = tape
        self.ops, self.parents, self.args = tape.ops, tape.parents, tape.args
        n = len(tape)
        names = Names()
        self.name = [names.pick(lab, tape.number(k)) for k, lab in enumerate(tape.labels)]
        self.inner = [k for k in range(n) if self.ops[k]]
        self.compact = compact
        self.home: dict[int, tuple[Vec, int]] = {}  # node -> (vector, slot) holding its adjoint
        self.home_expr: dict[int, str] = {}  # node -> its adjoint's expression (loop outputs)
        self.started = [False] * n  # an inner adjoint has had its first contribution
        # compact: an adjoint whose only contribution so far is a copy of another adjoint is that
        # adjoint's name (no line); the first further contribution makes it a local
        self.alias: dict[int, str] = {}
        self.fwd_text = [""] * n
        self.spans: dict[int, tuple[int, int]] = {}

    # -- adjoints ---------------------------------------------------------------------------

    def bar(self, i: int) -> str:
        e = self.home_expr.get(i)
        if e is not None:
            return e
        a = self.alias.get(i)
        if a is not None:
            return a
        h = self.home.get(i)
        if h is None:
            return f"{self.name[i]}_bar"
        return f"{h[0].name}_bar[{h[1]}]"

    def start_vec(self, vec: Vec, out: list[str], ind: str) -> None:
        if not vec.leaves and not vec.started:
            vec.started = True
            out.append(f"{ind}{vec.name}_bar = [0.0] * {len(vec.idx)}")

    def add_to(self, i: int, contrib: str, sign: str, out: list[str], ind: str) -> None:
        """``adjoint(i) += contrib`` (sign '+') or ``-= contrib`` (sign '-'), exactly as the
        kernel: an inner node's adjoint starts at 0.0, so the first contribution is 0.0 + c."""
        h = self.home.get(i)
        if h is not None:
            self.start_vec(h[0], out, ind)
            out.append(f"{ind}{self.bar(i)} {sign}= {contrib}")
            return
        a = self.alias.pop(i, None)
        if a is not None:  # 0.0 + g + c == g + c: g, an inner adjoint, is never -0.0
            out.append(f"{ind}{self.bar(i)} = {a} {sign} {contrib}")
            return
        if self.ops[i] == "" or self.started[i]:
            out.append(f"{ind}{self.bar(i)} {sign}= {contrib}")
            return
        self.started[i] = True
        copy = sign == "+" and contrib.endswith("_bar") and contrib.isidentifier()
        if copy and self.compact:
            self.alias[i] = contrib
        elif copy:
            # an inner adjoint is never -0.0 (it starts as 0.0 + c), so 0.0 + g == g exactly
            out.append(f"{ind}{self.bar(i)} = {contrib}")
        elif sign == "+" and contrib == "1.0":
            out.append(f"{ind}{self.bar(i)} = 1.0")
        else:
            out.append(f"{ind}{self.bar(i)} = 0.0 {sign} {contrib}")

    def zero_start(self, i: int, out: list[str], ind: str) -> None:
        """Make sure an inner adjoint is a local (0.0 if nothing was added yet) before a
        contribution that may not happen."""
        a = self.alias.pop(i, None)
        if a is not None:
            out.append(f"{ind}{self.bar(i)} = {a}")
        elif self.ops[i] and not self.started[i] and i not in self.home and i not in self.home_expr:
            self.started[i] = True
            out.append(f"{ind}{self.bar(i)} = 0.0")

    # -- one op ------------------------------------------------------------------------------

    def forward_rhs(self, k: int, out: list[str], ind: str) -> str:
        op, nm, ps = self.ops[k], self.name, self.parents[k]
        if op in INLINE_FWD:
            return f"{nm[ps[0]]} {INLINE_FWD[op]} {nm[ps[1]]}"
        if op == "neg":
            return f"-{nm[ps[0]]}"
        o = OPS[op]
        args = [nm[p] for p in ps]
        if o.param:
            args.append(param_src(self.args[k]))
        return f"{fwd_name(o)}({', '.join(args)})"

    def forward_line(self, k: int, out: list[str], ind: str) -> None:
        line = f"{self.name[k]} = {self.forward_rhs(k, out, ind)}"
        self.fwd_text[k] = line
        lab = self.t.labels[k]
        tail = f"  # {comment(lab, 60)}" if lab and lab != self.name[k] else ""
        out.append(f"{ind}{line}{tail}")

    def backward_block(self, k: int, out: list[str], ind: str) -> None:
        h = self.home.get(k)
        if h is not None:  # a node that received nothing (structural zeros) has adjoint 0.0
            self.start_vec(h[0], out, ind)
        else:
            self.zero_start(k, out, ind)
        first = len(out)
        out.append(f"{ind}# {self.fwd_text[k]}")
        self.block(k, out, ind)
        if ind == "    ":
            self.spans[k] = (first + 1, len(out))

    def block(self, k: int, out: list[str], ind: str) -> None:
        """The adjoint block of node k (an op of the op table with a fixed number of arguments)."""
        op = self.ops[k]
        o = OPS[op]
        ps = self.parents[k]
        key = (op, repr(self.args[k]) if o.param else "", len(ps))
        tpl = _TEMPLATES.get(key)
        if tpl is None:
            argn = tuple(f"_x{i}" for i in range(len(ps)))
            exprs = rule_exprs(o, argn, "_z", self.args[k] if o.param else None)
            marks = {a: "{" + str(i) + "}" for i, a in enumerate(argn)}
            marks["_z"] = "{z}"
            tpl = [_template(e, marks, fold=not o.param) for e in exprs]
            if len(_TEMPLATES) < 1024:
                _TEMPLATES[key] = tpl
        g = self.bar(k)
        pnames = [self.name[p] for p in ps]
        for p, (when, kind, t) in zip(ps, tpl):
            z = self.name[k]
            cond = when.format(*pnames, z=z) if when else None
            self.emit(p, cond, kind, t.format(*pnames, z=z), g, out, ind)

    def contribute(self, p: int, e: Expr, names: dict[str, str], g: str, out: list[str], ind: str) -> None:
        """Add ``g * e`` (e in the given names) to p's adjoint, as the kernel adds it."""
        self.emit(p, *_template(e, names, fold=True), g, out, ind)

    def emit(self, p: int, when: str | None, kind: str, t: str, g: str, out: list[str], ind: str) -> None:
        """Add a contribution: ``kind`` "+"/"-" adds or subtracts g, "*" adds ``g * t``, "0" adds
        nothing (a structural zero); under the condition `when` if there is one."""
        if kind == "0":
            return
        contrib, sign = (g, kind) if kind in "+-" else (f"{g} * {t}", "+")
        if when is None:
            self.add_to(p, contrib, sign, out, ind)
            return
        h = self.home.get(p)
        if h is not None:
            self.start_vec(h[0], out, ind)
        else:
            self.zero_start(p, out, ind)
        out.append(f"{ind}if {when}:")
        self.add_to(p, contrib, sign, out, ind + "    ")


def _template(e: Expr, names: dict[str, str], fold: bool) -> tuple[str | None, str, str]:
    """How a local derivative is added, as `LineWriter.emit` takes it: (condition or None, kind,
    factor). A structural zero (`symbolic.nonzero`) adds nothing, or adds only under the
    condition that it is not one; derivatives of 1 and -1 add or subtract the adjoint itself
    (exact: g * 1.0 is g)."""
    nz = nonzero(e)
    if nz is None:
        return None, "0", ""
    cond, d = nz
    when = None if cond is None else source(cond, names)
    if fold and d.is_const(1.0):
        return when, "+", ""
    if fold and d.is_const(-1.0):
        return when, "-", ""
    return when, "*", source_factor(d, names)


def join_terms(terms: list[str], first: str, op: str = " + ", width: int = 16) -> list[str]:
    """``first op t1 op t2 ...`` split into pieces of at most `width` terms (deep expressions
    are slow to compile and may exceed the compiler's nesting limit): the first piece, then
    pieces to continue with."""
    pieces = [terms[i : i + width] for i in range(0, len(terms), width)] or [[]]
    head = op.join([first, *pieces[0]])
    return [head] + [op.join(p) for p in pieces[1:]]
