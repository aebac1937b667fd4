"""Programs: a graph written out as its adjoint program, one Python function of floats.

Reverse accumulation is a program that runs backward: for every forward statement
``z = f(x, y)`` it executes ``x_bar += z_bar * df/dx`` and ``y_bar += z_bar * df/dy``, in reverse
order. `compile(output)` writes that program for the graph of `output` as Python source and
compiles it with `autograd.codegen.run_source`; ``program.run()`` recomputes every node from the
leaves' current ``.data``, adds d output / d leaf to each leaf's ``.grad`` and returns the
output's new value. The program computes exactly what ``output.backward()`` computes: the same
floating-point operations in the same order, bit for bit. It keeps references to the leaves
only (parameters, inputs, constants), so the graph it was compiled from can be dropped.

How a graph becomes a program, one module a step:

1. `tape` -- ``toposort(output)`` as plain lists (`Tape`: op names, parents' positions, constant
   parameters, labels, the leaf Values), so the steps below never touch the graph again.
2. `chains` -- chains of binary ``+``/``-`` (Python's ``sum``, ``functools.reduce``, ``a - b - c``)
   become one "lin" node ``start ± t_1 ± ... ± t_n``, each product term ``w_i * x_i`` used only
   there folded in, and chains of ``*`` one "prod" node. The new node adds the same numbers in
   the same order, and passes every parent the same contributions ``backward()`` passes (a chain
   is left as it is where another node adds into the same parent in between, which would change
   the order of a float sum). Python 3.12+ ``sum()`` compensates rounding, so there a chain is
   replayed with ``functools.reduce(operator.add, ...)``, plain additions, never with ``sum``;
   the engine's own n-ary `autograd.sum` nodes use ``sum`` on every version, as the engine does.
3. the writer, in one of three forms (`compiler.write` picks the one that runs fastest):
   "lines" (`lines`: one op a line, each adjoint block headed by a comment naming the forward
   statement it differentiates, every local derivative printed from the op table's rule;
   graphs of up to `compiler.READABLE_MAX` inner nodes), "compact" (the same, with wide n-ary
   nodes reading and writing whole lists (`vectors`: a dot product is one ``sum(map(mul, ws,
   xs))``, its adjoint two slice updates, at C speed) and repeated blocks, one training example
   after another, written once as a loop (`loops`)), and "batched" (`levels`: one line per
   level of the graph and op, ``operator.itemgetter`` gathers; for large graphs without repeated
   blocks). `writer` assembles the function: read the leaves, forward, backward, store ``.grad``.
4. `names` -- the names a program uses (labels that are plain identifiers, else ``v<k>`` with the
   picture's numbering ``%k``) and the globals it runs with; labels reach the source only as
   checked identifiers or inside comments escaped onto one line.

`compile` replays the graph *as it was built*: it cannot see the Python that built it. A graph
built by code that branched on a value (``if x.data > 0: ...``) is replayed along the branch
taken when it was built. `trace(fn, *args)` (`tracing`) runs a function of Values and watches
for such branches: each comparison of a Value becomes a guard that the program checks on every
call, right after the last node it reads (a failed guard traces again), and every other way of
reading a Value's number inside `fn` is refused, with the line of `fn` that did it. Each way
through `fn` is kept as a `tracing.Variant` (its shape, program, input leaves, guards and tape).
"""

from .compiler import MAX_NODES, Program, compile
from .names import ProgramError
from .tracing import trace

__all__ = ["compile", "trace", "Program", "ProgramError", "MAX_NODES"]
