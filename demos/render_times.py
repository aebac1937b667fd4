"""How long pictures take to lay out, on every renderer installed here.

    python -m demos.render_times            # the graphs of issue 11, forward and adjoint
    python -m demos.render_times --dot-text # also: to_dot() time at 21k and 82k nodes

The graphs are the ones that used to take minutes in Graphviz: a product ``x*x*...*x`` (one
Value used by every op), a tanh RNN unrolled 50 steps (three weights shared by every step), a
sum of ``sin(x*i)`` terms, and the moons network (``nn.MLP(2, [16, 16, 1])``) collapsed by neuron
and by layer. Each is drawn forward and adjoint, rendered to SVG by the ``dot`` program and by
Graphviz compiled to WebAssembly (whichever are installed), and timed once (wall clock, with
the time limit raised so that a slow picture shows its real time). The WebAssembly runtime
compiles Graphviz once per process, before the first picture; that is timed on its own.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import autograd
from autograd import Value
from autograd.viz import available_renderers, render_bytes, to_dot


def product(n: int) -> Value:
    """x * x * ... * x with n factors: x feeds every multiplication."""
    x = Value(1.001, label="x")
    y = x
    for _ in range(n - 1):
        y = y * x
    y.label = "y"
    return y


def rnn(steps: int) -> Value:
    """h = tanh(w*h + u*x_t), unrolled: w and u are used by every step."""
    w, u = Value(0.5, label="w"), Value(0.3, label="u")
    h = Value(0.0, label="h0")
    for t in range(steps):
        h = (w * h + u * (0.1 * t)).tanh()
    h.label = "h"
    return h


def sin_sum(n: int) -> Value:
    """sin(x*1) + sin(x*2) + ... + sin(x*n): x feeds every term."""
    x = Value(0.3, label="x")
    return autograd.sum([(x * i).sin() for i in range(1, n + 1)]) if n > 0 else x


def sin_sum_chain(n: int) -> Value:
    """The same sum written as Python's sum(): a chain of n additions."""
    x = Value(0.3, label="x")
    total: Value = Value(0.0)
    for i in range(1, n + 1):
        total = total + (x * i).sin()
    return total


def moons() -> Value:
    """The loss of the moons network on one input."""
    import nn

    model = nn.MLP(2, [16, 16, 1], seed=0)
    loss = (1 - model([0.5, -1.0])).relu()
    loss.backward()
    return loss


def cases(quick: bool = False) -> list[tuple[str, Callable[[], Value], dict[str, object]]]:
    if quick:  # small versions of the same shapes, for a smoke test
        return [
            ("x*x*...*x, 30 factors", lambda: product(30), {}),
            ("tanh RNN, 8 steps", lambda: rnn(8), {}),
            ("sum of 12 sin(x*i)", lambda: sin_sum_chain(12), {}),
            ("moons MLP, by layer", moons, {"collapse": "layer"}),
        ]
    return [
        ("x*x*...*x, 81 factors", lambda: product(81), {}),
        ("x*x*...*x, 151 factors", lambda: product(151), {}),
        ("x*x*...*x, 500 factors", lambda: product(500), {}),
        ("tanh RNN, 50 steps", lambda: rnn(50), {}),
        ("sum of 90 sin(x*i)", lambda: sin_sum_chain(90), {}),
        ("sum of 120 sin(x*i)", lambda: sin_sum_chain(120), {}),
        ("moons MLP, every node", moons, {}),
        ("moons MLP, by neuron", moons, {"collapse": "neuron"}),
        ("moons MLP, by layer", moons, {"collapse": "layer"}),
    ]


def big_batch(n_inputs: int) -> Value:
    """The moons network's summed loss over `n_inputs` points: about 440 nodes per point."""
    import nn

    model = nn.MLP(2, [16, 16, 1], seed=0)
    xs = [[0.01 * i, -0.02 * i] for i in range(n_inputs)]
    return autograd.sum([(1 - model(x)).relu() for x in xs])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dot-text", action="store_true", help="also time to_dot() on big graphs")
    ap.add_argument("--quick", action="store_true", help="small versions of the graphs")
    args = ap.parse_args(argv)

    routes = available_renderers("svg")
    print(f"renderers here: {', '.join(routes) or 'none'}")
    if "wasm" in routes:
        from autograd.viz._render import _WasmGraphviz

        t = time.perf_counter()
        _WasmGraphviz.supported()  # compiles graphviz.wasm
        print(f"WebAssembly: compiling Graphviz (once per process) took {time.perf_counter() - t:.2f} s")
    head = f"{'graph':28} {'values':>6} {'picture':8}" + "".join(f" {r + ' s':>8}" for r in routes)
    print(head)
    print("-" * len(head))
    worst = 0.0
    for name, build, kw in cases(args.quick):
        root = build()
        n = len(autograd.toposort(root))
        for adjoint in (False, True):
            src = to_dot(root, adjoint=adjoint, **kw)  # type: ignore[arg-type]
            row = f"{name:28} {n:6d} {'adjoint' if adjoint else 'forward':8}"
            for r in routes:
                t = time.perf_counter()
                render_bytes(src, "svg", backend=r, timeout=600)  # type: ignore[arg-type]
                dt = time.perf_counter() - t
                worst = max(worst, dt)
                row += f" {dt:8.2f}"
            print(row, flush=True)
    print(f"slowest picture: {worst:.2f} s")

    if args.dot_text:
        print("\nto_dot(root, max_nodes=None), forward and adjoint, text only:")
        for k in (200, 800):  # about 21,000 and 82,000 nodes
            root = big_batch(k)
            n = len(autograd.toposort(root))
            for adjoint in (False, True):
                t, c = time.perf_counter(), time.process_time()
                to_dot(root, adjoint=adjoint, max_nodes=None)
                print(f"  {n:6d} nodes {'adjoint' if adjoint else 'forward':8} "
                      f"{time.perf_counter() - t:6.2f} s ({time.process_time() - c:.2f} s CPU)",
                      flush=True)


if __name__ == "__main__":
    main()
