# trace: a function of Values, with guards on the Python branches it took (see the package
# docstring).

from __future__ import annotations

import inspect
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import engine as _engine
from ..backprop import grad_lock, toposort
from ..engine import Value
from .batch import run_batch
from .compiler import MAX_NODES, Program, write
from .names import GuardFailed, ProgramError
from .tape import Guard, Tape, build, flatten, tape_of

__all__ = ["trace", "Variant", "Tracer"]

_AUTOGRAD = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_trace_lock = threading.RLock()
_MAX_VARIANTS = 16
_CMP = {"__lt__": "<", "__le__": "<=", "__gt__": ">", "__ge__": ">="}
# what reads a Value's number, besides .data and the comparisons: each is refused while tracing
_NUMBER = {
    "__repr__": "turns a Value into text (repr, str, print, an f-string)",
    "__format__": "formats a Value (format, an f-string)",
    "__float__": "turns a Value into a float (float(), math functions, %f)",
    "__int__": "turns a Value into an int",
    "__index__": "uses a Value as an index or an int",
    "__complex__": "turns a Value into a complex number",
    "__round__": "rounds a Value (round())",
    "__trunc__": "truncates a Value (math.trunc, int())",
    "__floor__": "takes the floor of a Value (math.floor)",
    "__ceil__": "takes the ceiling of a Value (math.ceil)",
    "__reduce_ex__": "copies or pickles a Value",
}


@dataclass(eq=False)
class Variant:
    """One way through a traced function: what `trace` recorded for arguments of one shape.

    ``shape``: the arguments' shape (None for a number, a list of shapes for a list);
    ``program``: the scalar `Program` (the tape compiled, guards included); ``inputs``: the
    input leaves, one per number of the flattened arguments, in order (the program reads their
    ``.data`` and leaves d output / d input in their ``.grad``); ``guards``: the comparisons the
    program checks (`Guard`, with positions on ``tape``); ``tape``: the traced graph in
    topological order (`Tape`: output last; the nodes that only guards read are marked
    ``grad=False``). Its leaves are the inputs, the captured Values (parameters) and constants.
    """

    shape: list[Any]
    program: Program
    inputs: list[Value]
    guards: list[Guard]
    tape: Tape


class _Recorder:
    """Watches a function of Values while it runs (in this thread only): comparisons become
    guards; reading the number of a computed Value or of an argument in any other way is
    refused, with the line that did it."""

    def __init__(self, fn: Callable[..., Any], inputs: set[Value]) -> None:
        self.fn = fn
        self.inputs = inputs
        self.guards: list[tuple[Value, str, Value | float, bool, str]] = []
        self.refused: list[str] = []  # domain errors raised by ops (fn may have caught them)
        self.thread = threading.get_ident()

    def site(self) -> str:
        f: Any = sys._getframe(2)
        code = getattr(self.fn, "__code__", None)
        first: Any = None
        while f is not None:
            c = f.f_code
            if code is not None and c is code:
                return f"{c.co_filename}:{f.f_lineno} (in {c.co_name})"
            if first is None and not _ours(c.co_filename):
                first = f
            f = f.f_back
        if first is not None:
            return f"{first.f_code.co_filename}:{first.f_lineno} (in {first.f_code.co_name})"
        return "<unknown>"

    def refuse(self, what: str) -> ProgramError:
        return ProgramError(
            f"trace: {self.site()} {what}, which reads its number; a program replays the graph "
            "and would not see Python act on that number. Use Values and their ops (comparisons "
            "become guards; relu, abs, maximum, where, clamp branch inside the program), or do "
            "it outside fn"
        )

    def __enter__(self) -> _Recorder:
        _trace_lock.acquire()
        try:
            self.install()
        except BaseException:
            _trace_lock.release()
            raise
        return self

    def install(self) -> None:
        rec = self
        mine = threading.get_ident
        names = ("data", *_CMP, "__bool__", *_NUMBER)
        self.saved = {n: Value.__dict__[n] for n in names if n in Value.__dict__}
        slot = Value.__dict__["data"]
        getd = slot.__get__

        def watched(v: Value) -> bool:
            return bool(v._op) or v in rec.inputs

        def compare(op: str, orig: Callable[[Value, Any], bool]) -> Callable[[Value, Any], bool]:
            def cmp(self: Value, other: Any) -> bool:
                result = orig(self, other)
                if mine() == rec.thread:
                    b = other if other.__class__ is Value else float(other)
                    rec.guards.append((self, op, b, bool(result), rec.site()))
                return result

            return cmp

        def data_get(self: Value) -> float:
            if mine() == rec.thread and watched(self) and not _ours(sys._getframe(1).f_code.co_filename):
                what = "a computed Value" if self._op else "an argument"
                raise rec.refuse(f"reads .data of {what}")
            return getd(self)  # type: ignore[no-any-return]

        def data_set(self: Value, x: float) -> None:
            slot.__set__(self, x)

        def no_bool(self: Value) -> bool:
            if mine() != rec.thread:
                return True  # as without trace: a Value has no truth value of its own
            raise ProgramError(
                f"trace: {rec.site()} asks a Value for its truth value (if v:, while v:, v and w); "
                "it would depend on the number. Compare explicitly (v > 0), which becomes a guard"
            )

        def number(name: str, what: str) -> Callable[..., Any]:
            orig = self.saved.get(name) or getattr(object, name, None)

            def f(self: Value, *args: Any) -> Any:
                if mine() == rec.thread and not _ours(sys._getframe(1).f_code.co_filename):
                    raise rec.refuse(what)
                if orig is None:  # as without trace: Value does not define it
                    raise TypeError(f"a Value does not support {name} (it {what.split(' (')[0]})")
                return orig(self, *args)

            f.__name__ = name
            return f

        orig_domain = self.domain_error = _engine.domain_error

        def domain_error(op: str, msg: str, *nodes: Value) -> Exception:
            if mine() == rec.thread:
                rec.refused.append(f"{rec.site()}: {op}: {msg}")
            return orig_domain(op, msg, *nodes)

        _engine.domain_error = domain_error  # type: ignore[assignment]
        setattr(Value, "data", property(data_get, data_set))  # noqa: B010 (a slot, for mypy)
        for n, op in _CMP.items():
            setattr(Value, n, compare(op, self.saved[n]))
        Value.__bool__ = no_bool  # type: ignore[attr-defined]
        for n, what in _NUMBER.items():
            setattr(Value, n, number(n, what))

    def __exit__(self, *exc: object) -> None:
        try:
            _engine.domain_error = self.domain_error  # type: ignore[assignment]
            for n in ("data", *_CMP, "__bool__", *_NUMBER):
                if n in self.saved:
                    setattr(Value, n, self.saved[n])
                elif n in Value.__dict__:
                    delattr(Value, n)
        finally:
            _trace_lock.release()


def _ours(filename: str) -> bool:
    """Code of this package (the engine reads numbers on the user's behalf)."""
    return filename.startswith(_AUTOGRAD) or os.path.abspath(filename).startswith(_AUTOGRAD)


class Tracer:
    """The variants of one traced function, most recently made first."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.variants: list[Variant] = []
        self.last: Variant | None = None
        try:
            self.argnames = list(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            self.argnames = []

    def current(self) -> Program:
        v = self.last or self.variants[0]
        return v.program

    def trace(self, args: tuple[Any, ...]) -> Variant:
        nums: list[float] = []
        shape = [flatten(a, f"argument {i}", nums, "trace") for i, a in enumerate(args)]
        inputs: list[Value] = []
        structured = []
        for i, (a, sh) in enumerate(zip(args, shape)):  # labels: the parameter names (x, x_0, ...)
            base = self.argnames[i] if i < len(self.argnames) else f"a{i}"
            got: list[float] = []
            flatten(a, "", got, "trace")
            mine = [Value(x, label=base if sh is None else f"{base}_{j}") for j, x in enumerate(got)]
            inputs += mine
            structured.append(build(sh, iter(mine)))
        with _Recorder(self.fn, set(inputs)) as rec:
            out = self.fn(*structured)
        if rec.refused:
            raise ProgramError(
                f"trace: {rec.refused[0]}; fn went on after that error (it caught it), so which way "
                "it takes depends on the number in a way a program cannot check. Test the number "
                "with a comparison instead (if x > 0: ...), which becomes a guard"
            )
        if out.__class__ is not Value:
            raise TypeError(f"trace: fn must return a Value, got {type(out).__name__}")
        order = toposort(out)
        have = set(order)
        extra = list(
            {v: None for g in rec.guards for v in (g[0], g[2]) if v.__class__ is Value and v not in have}
        )
        if len(order) + len(extra) > MAX_NODES:
            raise ProgramError(
                f"trace: the graph has {len(order) + len(extra):,} nodes; at most {MAX_NODES:,} are supported"
            )
        index: dict[Value, int] = {}
        tape = tape_of(order, extra, index)
        guards = [
            Guard(index[a], op, index[b] if isinstance(b, Value) else b, isinstance(b, Value), res, site)
            for a, op, b, res, site in rec.guards
        ]
        written, form = write(tape, None, guards)
        var = Variant(shape, Program(written, len(order), form), inputs, guards, tape)
        self.variants.insert(0, var)
        del self.variants[_MAX_VARIANTS:]
        return var

    def call(self, args: tuple[Any, ...]) -> tuple[float, Any]:
        nums: list[float] = []
        shape = [flatten(a, f"argument {i}", nums, "trace") for i, a in enumerate(args)]
        for var in list(self.variants):
            if var.shape != shape:
                continue
            try:
                return self.run(var, nums)
            except GuardFailed:
                continue
            except (ValueError, ZeroDivisionError):
                # a domain error in this variant: fn may take another way here (or raise itself)
                break
        return self.run(self.trace(args), nums)

    def batch(self, args: tuple[Any, ...], backend: str | None) -> tuple[Any, Any]:
        return run_batch(args, self.variants, self.trace, backend=backend)

    def run(self, var: Variant, nums: list[float]) -> tuple[float, Any]:
        with grad_lock:  # the inputs are this program's own leaves: one call at a time
            for v, x in zip(var.inputs, nums):
                v.data = x
                v.grad = 0.0
            value = var.program.run()
            it = iter([v.grad for v in var.inputs])
        self.last = var
        grads = [build(s, it) for s in var.shape]
        return value, (grads[0] if len(grads) == 1 else tuple(grads))


def trace(fn: Callable[..., Any], *example_args: Any) -> Program:
    """Run `fn` on Values made from `example_args` (numbers, or nested lists of numbers) and
    compile the graph it builds into a `Program`: ``program(*args)`` gives the value at new
    arguments, ``program.value_and_grad(*args)`` the value and the gradient with respect to every
    argument (shaped like the arguments).

    A traced program never silently gives what running `fn` would not: every comparison of a
    Value that `fn` makes (``x > 0``, ``min``, ``sorted``) is recorded as a guard, checked each
    time the program runs (the program computes what a guard reads, on the output's path or
    not); when one comes out otherwise, `fn` is traced again along the new branch. Anything
    else that reads a Value's number inside `fn` is refused with the line that did it: ``.data``
    of a computed Value or an argument, its truth value, ``repr``/``str``/f-strings, ``float``,
    ``int``, ``round``, math functions, copying and pickling. Branches inside ops (relu, abs,
    maximum, where, clamp, ...) need no guard: they are evaluated in the program.

    While `fn` is traced, `Value`'s comparisons and number conversions are watched in the
    thread that traces (class-wide, so traces take a lock: one runs at a time; other threads
    keep the usual behaviour). The variants are kept in ``program.variants`` (`Variant`).
    """
    if not callable(fn):
        raise TypeError(f"trace: fn must be a function, got {type(fn).__name__}")
    tracer = Tracer(fn)
    tracer.trace(example_args)
    return Program(None, 0, "", tracer)
