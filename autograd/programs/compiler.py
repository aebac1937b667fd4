# `compile` and `Program`: a graph frozen into its adjoint program (see the package docstring).

from __future__ import annotations

import gc
import numbers
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Protocol

from ..backprop import grad_lock, toposort
from ..engine import Value
from . import chains
from .levels import Batched, level_groups
from .names import ProgramError
from .tape import Guard, Tape, tape_of
from .writer import Writer, Written


class _Tracer(Protocol):
    """What a traced program asks of its tracer (`tracing.Tracer`)."""

    variants: list[Any]

    def current(self) -> Program: ...

    def call(self, args: tuple[Any, ...]) -> tuple[float, Any]: ...

    def batch(self, args: tuple[Any, ...], backend: str | None) -> tuple[Any, Any]: ...


__all__ = ["compile", "Program", "MAX_NODES", "READABLE_MAX", "LINES_MAX", "LINES_HARD", "write"]

#: the largest graph `compile` accepts (about 20 s of compiling at W1's rate; larger graphs are
#: refused with a message instead of exhausting time and memory)
MAX_NODES = 250_000
#: graphs with more inner nodes than this are written compactly: chains of two or more terms as
#: n-ary nodes, repeated blocks as loops, and an adjoint that merely copies another one is not
#: given a line of its own (smaller graphs: one op a line, chains of 8 terms or more n-ary)
READABLE_MAX = 2_000
#: a program longer than this (a large graph without repeated blocks) is weighed against the
#: batched form (`RUNS`, `COST`)
LINES_MAX = 20_000
#: programs longer than this are refused (about 5 s of compiling)
LINES_HARD = 100_000
#: a large graph's form is the one with the least compile time plus this many runs, estimated
#: from `COST` (seconds, measured on a 2-core machine with CPython 3.11: the line-by-line form
#: runs 1.5 to 3 times faster than the batched one, which compiles 5 to 10 times faster)
RUNS = 100
COST = {
    "line compile": 9e-6,  # per source line (writing and compiling)
    "line": 31e-9,  # per line run (a scalar node: about 2 + its number of parents)
    "vector": 190e-9,  # per n-ary node written as list operations...
    "vector element": 20e-9,  # ...and per operand
    "batched compile node": 3.4e-6,
    "batched compile line": 25e-6,
    "batched edge": 100e-9,  # per parent of a node, run
    "batched line": 300e-9,
}


class Program:
    """A graph compiled to Python: ``run()`` recomputes it from its leaves and backpropagates.

    Attributes: ``source`` (the program's Python text), ``leaves`` (the leaf Values it reads and
    whose ``.grad`` it updates), ``n_nodes``, ``form`` ("lines", "compact" or "batched");
    ``blocks`` maps the position of a node in ``toposort(output)`` to the first and last line
    (1-based) of its adjoint block in ``source`` (the nodes of a chain written as one node share
    its block), and ``seed_line`` is the line that sets the output's adjoint to 1 (0 when not
    written out line by line, as in the batched form). A traced program (`trace`) shows the
    variant it ran last.
    """

    def __init__(
        self, written: Written | None, n_nodes: int, form: str, tracer: _Tracer | None = None
    ) -> None:
        self._w = written
        self._n = n_nodes
        self._form = form
        self._tracer = tracer

    def _cur(self) -> Program:
        return self if self._tracer is None else self._tracer.current()

    def _written(self) -> Written:
        w = self._cur()._w
        assert w is not None
        return w

    @property
    def source(self) -> str:
        return self._written().source

    @property
    def leaves(self) -> tuple[Value, ...]:
        return self._written().leaves

    @property
    def blocks(self) -> dict[int, tuple[int, int]]:
        return self._written().blocks

    @property
    def seed_line(self) -> int:
        return self._written().seed_line

    @property
    def n_nodes(self) -> int:
        return self._cur()._n

    @property
    def form(self) -> str:
        return self._cur()._form

    @property
    def _fn(self) -> Any:
        return self._written().fn

    def run(self) -> float:
        """Recompute the graph from the leaves' current ``.data``, add d output / d leaf to each
        leaf's ``.grad`` (as ``output.backward()`` would) and return the output's value.

        Like ``backward()``, it holds the engine's gradient lock while it runs, so threads may run
        programs (and backward passes) that share leaves."""
        w = self._written()
        with grad_lock:
            try:
                return w.fn()
            except (TypeError, AttributeError) as e:
                bad = _bad_leaf(w.leaves)
                if bad is None:
                    raise
                raise TypeError(f"Program.run: {bad}") from e

    def __repr__(self) -> str:
        return f"<autograd.Program of {self.n_nodes} nodes, {len(self.leaves)} leaves>"

    # -- traced programs: functions of numbers -----------------------------------------------

    @property
    def variants(self) -> list[Any]:
        """A traced program's variants (`autograd.programs.tracing.Variant`), most recent first:
        one per way through the function (shape of the arguments, branches taken); [] for a
        compiled program."""
        return [] if self._tracer is None else list(self._tracer.variants)

    def __call__(self, *args: Any) -> float:
        """The value of the traced function at `args` (numbers, or nested lists of numbers)."""
        return self.value_and_grad(*args)[0]

    def value_and_grad(self, *args: Any) -> tuple[float, Any]:
        """The value of the traced function and its gradient with respect to every argument
        (shaped like the arguments)."""
        tr = self._tracer
        if tr is None:
            raise TypeError("value_and_grad: this program was made by compile(), not trace(); use run()")
        return tr.call(args)

    def batch(self, *args: Any, backend: str | None = None) -> tuple[Any, Any]:
        """The traced function over a batch: each argument is a sequence of N examples shaped
        like the traced one (lists, or numpy arrays with a leading axis). Returns ``(values,
        grads)``, the N values and the per-example gradients with respect to the arguments
        (shaped like `args`), and adds the summed gradient of the N values into the ``.grad`` of
        every captured leaf (the parameters), as ``autograd.sum([fn(*a) for a in examples])
        .backward()`` would. ``backend``: "numpy" (one array operation per op and level, a
        layer's dot products as one matrix product) or "python"; None picks numpy when it can
        be imported (`autograd.programs.batch.default_backend`)."""
        tr = self._tracer
        if tr is None:
            raise TypeError("batch: this program was made by compile(), not trace()")
        return tr.batch(args, backend)


def _bad_leaf(leaves: tuple[Value, ...]) -> str | None:
    """What is wrong with a leaf whose .data or .grad is not a number (set after compiling)."""
    for i, v in enumerate(leaves):
        name = f"leaf {i}" + (f" ({v._label!r:.40})" if v._label else "")
        for attr in ("data", "grad"):
            try:
                x = getattr(v, attr)
            except Exception as e:
                return f"{name}: reading .{attr} raised {type(e).__name__}: {e}"
            if not isinstance(x, numbers.Real) or (isinstance(x, bool) and attr == "data"):
                what = (
                    "adds d output / d leaf into it, as backward() does; set it to 0.0"
                    if attr == "grad"
                    else ("reads it as the leaf's number")
                )
                return f"{name} has .{attr} = {x!r:.60} ({type(x).__name__}); the program {what}"
    return None


def compile(output: Value, *, batched: bool | None = None) -> Program:
    """Freeze the graph of `output` into a `Program` (see the package docstring).

    The graph is replayed as it was built: Python code that built it is not seen, so a graph
    built by code that branched on a value is replayed along the branch taken then (use
    `trace` for functions with such branches). ``batched``: True for the level-batched form,
    False never to use it, None (default) to pick the form that runs fastest.
    """
    if output.__class__ is not Value:
        raise TypeError(f"compile: expected a Value, got {type(output).__name__}")
    with _collector_paused():
        order = toposort(output)
    if len(order) > MAX_NODES:
        raise ProgramError(
            f"compile: the graph has {len(order):,} nodes; programs support graphs of at most "
            f"{MAX_NODES:,} nodes (compiling takes about 1 s per 40,000 nodes). Use "
            "output.backward() for larger graphs, or compile a smaller piece (for example one "
            "training example or one batch)"
        )
    with _collector_paused():
        written, form = write(tape_of(order), batched)
    return Program(written, len(order), form)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Compiling allocates many small objects and makes no reference cycle, so Python's cyclic
    garbage collector is paused meanwhile: it would walk the whole graph again and again."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def write(tape: Tape, batched: bool | None = None, guards: Sequence[Guard] = ()) -> tuple[Written, str]:
    """The program of a tape, in the form that runs fastest (or the batched form if asked).
    With guards (a traced function's comparisons), the line-by-line form."""
    inner = sum(1 for op in tape.ops if op)
    compact = inner > READABLE_MAX
    keep = {x for g in guards for x in ((g.a, int(g.b)) if g.b_node else (g.a,))}
    rw = chains.rewrite(tape, keep, min_terms=chains.MIN_TERMS if compact else 8)
    if rw is not tape and guards:  # the guards' nodes were kept: find them on the new tape
        where = {o[0]: k for k, o in enumerate(rw.origin)}

        def at(k: int) -> int:
            return where[tape.origin[k][0]]

        guards = [replace(g, a=at(g.a), b=at(int(g.b)) if g.b_node else g.b) for g in guards]
    leaf_root = not tape.ops[-1]
    if batched and not leaf_root and not guards:
        return _batched(tape, rw), "batched"
    w = Writer(rw, compact, guards)
    lines = w.estimate_lines()
    if batched is None and not leaf_root and not guards and lines > LINES_MAX:
        cost_lines = COST["line compile"] * lines + RUNS * w.estimate_run(COST)
        groups = 4 * level_groups(rw)
        edges = sum(map(len, rw.parents))
        cost_batched = (
            COST["batched compile node"] * len(rw)
            + COST["batched compile line"] * groups
            + RUNS * (COST["batched edge"] * edges + COST["batched line"] * groups)
        )
        if cost_batched < cost_lines and groups <= LINES_HARD:
            return _batched(tape, rw), "batched"
    if lines > LINES_HARD:
        raise ProgramError(
            f"compile: this graph of {tape.nodes:,} nodes would make a program of about "
            f"{lines:,} lines (CPython compiles about 20,000 lines a second); programs support "
            f"up to {LINES_HARD:,} lines: graphs of up to about 50,000 nodes, or larger ones made "
            "of repeated blocks (one training example after another), which become loops. Use "
            "output.backward() for this graph"
        )
    return w.program(), "compact" if compact else "lines"


def _batched(tape: Tape, rw: Tape) -> Written:
    if "prod" in rw.ops:  # the batched form writes product chains as their binary nodes
        rw = chains.rewrite(tape, products=False)
    return Batched(rw).program()
