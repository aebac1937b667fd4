"""Speed and memory of the engine, against hand-written floats and micrograd, in one run.

    python -m demos.benchmark            # full sizes (about a minute)
    python -m demos.benchmark --quick    # small sizes, to check it runs

Workloads (each timed as the best of several repeats, with Python's garbage collector on, as a
user runs it):
  W1  one full-batch training step of micrograd's demo: MLP(2, [16, 16, 1]) (337 parameters) on
      100 two-moons points, hinge loss + 1e-4 L2, zero_grad, backward, SGD update; written with
      nn (n-ary dot and sum nodes) and as micrograd's own nn.py and notebook write it (Python's
      sum: chains of binary nodes), each eager and compiled (autograd.compile), all timed side
      by side (one round runs every way once, in turn);
  W2  a chain x = x*c1 + c2 of 10^6 steps (2*10^6 nodes; c1, c2 are Values), forward + backward;
  W3  autograd.sum of 100,000 products a_i*b_i, forward + backward;
  W4  bytes per node (tracemalloc) while the W2 chain is alive (after forward; and after backward);
  W5  the reverse sweep alone on W1's, W2's and W3's graphs: backward()'s kernel against the plain
      `chain_rule` loop it is generated from (alternating rounds; the ratio's median and range);
  W6  one training step of microgpt's GPT (names, 4192 parameters, Adam) four ways: on an engine
      written the way microgpt writes its own (demos/_microgpt.py), as nn.GPT eagerly and
      through traced programs (nn.TracedLoss, one per name length), and microgpt's model code on
      autograd.Value (mean ms/step over the same documents; the losses must agree to 1e-12);
  W7  W1's step over 100, 2,000 and 20,000 moons points as one batch program (program.batch, numpy)
      against the same step written by hand; per-example gradients against a loop of backward().
"hand" is the same computation written by hand on plain Python floats, with no graph objects.
"""

from __future__ import annotations

import argparse
import functools
import gc
import math
import random
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import autograd
from autograd import Value

from ._bench_w1 import best_of, engine_model, engine_step, hand_step, init_params, moons, w1
from ._microgpt import W6_CONFIG, W6_STEPS, MicroTrainer, MicroValue, names_documents
from ._micrograd_code import MgMLP

__all__ = [
    "W6_CONFIG", "W6_STEPS", "MgMLP", "MicroTrainer", "MicroValue", "best_of", "engine_model", "engine_step",
    "hand_step", "init_params", "main", "moons", "names_documents", "run", "w1",
]

# --- W2 / W3 / W4 -----------------------------------------------------------------------------


def w2_engine(n: int) -> tuple[float, float]:
    x, c1, c2 = Value(0.5), Value(0.999999), Value(1e-6)
    for _ in range(n):
        x = x * c1 + c2
    x.backward()
    return c1.grad, c2.grad


def w2_hand(n: int) -> tuple[float, float]:
    x, c1, c2 = 0.5, 0.999999, 1e-6
    xs = []
    for _ in range(n):
        xs.append(x)
        x = x * c1 + c2
    g, d1, d2 = 1.0, 0.0, 0.0
    for xi in reversed(xs):
        d1 += g * xi
        d2 += g
        g *= c1
    return d1, d2


def w3_data(n: int) -> tuple[list[float], list[float]]:
    rng = random.Random(3)
    return [rng.uniform(-1, 1) for _ in range(n)], [rng.uniform(-1, 1) for _ in range(n)]


def w3_engine(a: list[Value], b: list[Value]) -> float:
    s = autograd.sum([x * y for x, y in zip(a, b)])
    s.backward()
    return s.data


def w3_hand(a: list[float], b: list[float]) -> tuple[float, list[float], list[float]]:
    prods = [x * y for x, y in zip(a, b)]
    s = sum(prods)
    g = 1.0
    return s, [g * y for y in b], [g * x for x in a]


def chain_bytes_per_node(
    make: Callable[[float], Any], n: int, differentiate: bool = True
) -> tuple[float, float]:
    """Bytes per node (tracemalloc) of the W2 chain built from `make`: after forward, after backward
    (NaN without `differentiate`: micrograd's recursive backward cannot take a deep chain).

    The collector is paused while measuring, so micrograd's cyclic nodes are counted too.
    """
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    tracemalloc.start()
    try:
        x, c1, c2 = make(0.5), make(0.999999), make(1e-6)
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(n):
            x = x * c1 + c2
        after_forward = (tracemalloc.get_traced_memory()[0] - base) / (2 * n)
        after_backward = math.nan
        if differentiate:
            x.backward()
            after_backward = (tracemalloc.get_traced_memory()[0] - base) / (2 * n)
        del x
    finally:
        tracemalloc.stop()
        if was_enabled:
            gc.enable()
        gc.collect()
    return after_forward, after_backward


# --- W5: the generated kernel against the plain chain rule ------------------------------------


def w5_graphs(n2: int, n3: int) -> dict[str, Value]:
    """The graphs W1, W2 and W3 differentiate, built once (the roots, not yet differentiated)."""
    X, Y = moons(100)
    model = engine_model(init_params([2, 16, 16, 1]))
    params = model.parameters()
    losses = [(1 - y * model(x)).relu() for x, y in zip(X, Y)]
    w1_loss = autograd.sum(losses) * (1.0 / len(losses)) + 1e-4 * autograd.dot(params, params)
    x, c1, c2 = Value(0.5), Value(0.999999), Value(1e-6)
    for _ in range(n2):
        x = x * c1 + c2
    a, b = w3_data(n3)
    w3_sum = autograd.sum([Value(p) * Value(q) for p, q in zip(a, b)])
    return {"W1": w1_loss, "W2": x, "W3": w3_sum}


def w5_sweep(order: list[Value], leaves: list[Value], fn: Callable[[list[Value]], None]) -> float:
    """Seconds of the reverse sweep `fn` over `order` (root first), every adjoint reset before."""
    for v in order:
        v.grad = 0.0
    for v in leaves:
        v.grad = 0.0
    order[0].grad = 1.0
    t = time.perf_counter()
    fn(order)
    return time.perf_counter() - t


def w5(graphs: dict[str, Value], rounds: int) -> dict[str, tuple[float, float, float]]:
    """Per graph, the plain loop's time over the kernel's: (median, min, max) over `rounds`
    alternating rounds. Both sweeps must leave the same gradients, to the bit."""
    from autograd import backprop

    out = {}
    for name, root in graphs.items():
        every = backprop.toposort(root)
        order = [v for v in reversed(every) if v._op]
        leaves = [v for v in every if not v._op]
        ratios = []
        for _ in range(rounds):
            kernel = w5_sweep(order, leaves, backprop._kernel)
            after_kernel = [v.grad for v in leaves]
            plain = w5_sweep(order, leaves, backprop.chain_rule)
            assert [v.grad for v in leaves] == after_kernel, name
            ratios.append(plain / kernel)
        ratios.sort()
        out[name] = (ratios[len(ratios) // 2], ratios[0], ratios[-1])
    return out


def w6_trainers(seed: int = 0, keep_graph: bool = True) -> tuple[Any, Any, MicroTrainer, MicroTrainer]:
    """nn.GPT with its Adam, and microgpt's loop on MicroValue and on autograd.Value, all from the
    same initial weights."""
    import nn

    model = nn.GPT(**W6_CONFIG, seed=seed)
    opt = nn.Adam(model, lr=nn.LinearDecay(0.01, 0.0, W6_STEPS), betas=(0.85, 0.99), eps=1e-8)
    return (model, opt, MicroTrainer(model, MicroValue, keep_graph),
            MicroTrainer(model, Value, keep_graph))


def nn_gpt_step(model: Any, opt: Any, tokens: list[int]) -> float:
    loss = model.loss(tokens)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return float(loss.data)


def traced_gpt_step(loss: Any, opt: Any, tokens: list[int]) -> float:
    """`nn_gpt_step` through `nn.TracedLoss` (one traced program per document length)."""
    opt.zero_grad()
    value = loss(tokens)
    opt.step()
    return float(value)


def w6_traced(docs: list[list[int]], seed: int = 0) -> tuple[Any, list[float], float]:
    """An nn.GPT (the same initial weights as `w6_trainers`'), its `nn.TracedLoss` with a program
    traced for every length in `docs`, the initial weights, and the seconds the traces took."""
    import nn

    model = nn.GPT(**W6_CONFIG, seed=seed)
    start = [p.data for p in model.parameters()]
    loss = nn.TracedLoss(model)
    t = time.perf_counter()
    for d in {len(d): d for d in docs}.values():
        loss(d)  # traces (and runs once: the .grad it leaves is zeroed by the first step)
    return loss, start, time.perf_counter() - t


def w6(n_steps: int, rounds: int) -> dict[str, Any]:
    """Seconds per step of each way (the mean over the same n_steps documents, best of `rounds`
    rounds; wall clock, and CPU time under "<way>_cpu") and each way's losses.

    Ways: "micro" (microgpt's loop on the microgpt-style engine, the previous step's graph alive
    during the next forward pass, as in microgpt.py), "micro_freed" (the same engine, each graph
    freed when its step returns), "nn" (nn.GPT; freed too), "traced" (nn.GPT through
    `nn.TracedLoss`: its programs are traced before the rounds, "w6_trace_seconds"), "value"
    (microgpt's loop and code on autograd.Value, previous graph alive as in "micro"). Every round
    runs each way in turn, from the same initial weights, after a `gc.collect()`, and lets go of
    the way's last graph before the next way starts, so that one way's objects do not cost
    another anything."""
    import nn

    docs, _ = names_documents(n_steps)
    spent: dict[str, float] = {}
    losses: dict[str, list[float]] = {}
    traced, start, spent["trace_seconds"] = w6_traced(docs)
    spent["trace_lengths"] = len(traced.programs)
    for _ in range(rounds):
        model, opt, micro, on_value = w6_trainers()
        freed = MicroTrainer(model, MicroValue, keep_graph=False)
        for p, x in zip(traced.model.parameters(), start):  # the programs' own parameters
            p.data = x
        opt_t = nn.Adam(traced.model, lr=nn.LinearDecay(0.01, 0.0, W6_STEPS), betas=(0.85, 0.99),
                        eps=1e-8)
        ways: dict[str, Callable[[list[int]], float]] = {
            "micro": micro.step,
            "micro_freed": freed.step,
            "nn": functools.partial(nn_gpt_step, model, opt),
            "traced": functools.partial(traced_gpt_step, traced, opt_t),
            "value": on_value.step,
        }
        for key, step in ways.items():
            gc.collect()
            t, c = time.perf_counter(), time.process_time()
            got = [step(d) for d in docs]
            took = (time.perf_counter() - t) / len(docs)
            cpu = (time.process_time() - c) / len(docs)
            micro.last_loss = on_value.last_loss = None
            spent[key] = min(spent.get(key, math.inf), took)
            spent[f"{key}_cpu"] = min(spent.get(f"{key}_cpu", math.inf), cpu)
            losses.setdefault(key, got)
    out: dict[str, Any] = dict(spent)
    assert traced.traced == spent["trace_lengths"] == len(traced.programs)  # no trace while timed
    out["losses"] = (losses["micro"], losses["nn"], losses["value"], losses["micro_freed"],
                     losses["traced"])
    return out


# --- W7: a full-batch step as one batch program (program.batch) --------------------------------


def w7_program(model: Any, n: int, alpha: float) -> tuple[Any, list[Value]]:
    """W1's loss as the sum of one share per point: hinge / n + L2 / n (the L2 term does not
    depend on the point, so the batch computes it once)."""
    params = model.parameters()

    def share(x: list[Value], y: Value) -> Value:
        score: Value = model(x)
        return (1 - y * score).relu() * (1.0 / n) + (alpha / n) * autograd.dot(params, params)

    return autograd.trace(share, [0.0, 0.0], 1.0), params


def w7_step(
    program: Any, params: list[Value], X: Any, Y: Any, lr: float, backend: str | None = None
) -> float:
    """One full-batch step: values and gradients of every point at once, then SGD."""
    for p in params:
        p.grad = 0.0
    values, _ = program.batch(X, Y, backend=backend)
    for p in params:
        p.data -= lr * p.grad
    return float(sum(values))


def w7_size(n: int, reps: int, steps: int) -> dict[str, Any]:
    """W7 at n points: hand-written step and batch step from the same weights, side by side."""
    import numpy as np

    net, lr, alpha = [2, 16, 16, 1], 0.5, 1e-4
    X, Y = moons(n)
    Xa, Ya = np.array(X), np.array(Y)
    hp, model = init_params(net), engine_model(init_params(net))
    program, params = w7_program(model, n, alpha)
    lh = [hand_step(hp, X, Y, lr, alpha) for _ in range(steps)]
    lb = [w7_step(program, params, Xa, Ya, lr) for _ in range(steps)]
    out: dict[str, Any] = {"agree": max(abs(a - b) / max(1.0, abs(a)) for a, b in zip(lh, lb))}
    assert out["agree"] <= 1e-9, (lh, lb)
    out["hand"] = out["batch"] = math.inf
    for _ in range(reps):  # alternated, so that both sides see the same load
        out["hand"] = min(out["hand"], best_of(lambda: hand_step(hp, X, Y, lr, alpha), 1))
        out["batch"] = min(out["batch"], best_of(lambda: w7_step(program, params, Xa, Ya, lr), 3))
    out["python"] = best_of(lambda: w7_step(program, params, X, Y, lr, "python"), 1) if n <= 2000 else None
    return out


def w7_grads(n: int) -> dict[str, float]:
    """Per-example gradients d share / d (x, y) of n points: program.batch against a loop of
    backward() calls (the batch timed once its program is built; the build timed too)."""
    import numpy as np

    alpha = 1e-4
    X, Y = moons(n)
    model = engine_model(init_params([2, 16, 16, 1]))
    program, params = w7_program(model, n, alpha)
    Xa, Ya = np.array(X), np.array(Y)
    t = time.perf_counter()
    program.batch(Xa[:1], Ya[:1])
    build = time.perf_counter() - t
    t = time.perf_counter()
    _, (gx, gy) = program.batch(Xa, Ya)
    took = time.perf_counter() - t
    t = time.perf_counter()
    loop = []
    for x, y in zip(X, Y):
        xs, yv = [Value(a) for a in x], Value(y)
        s = (1 - yv * model(xs)).relu() * (1.0 / n) + (alpha / n) * autograd.dot(params, params)
        s.backward()
        loop.append([xs[0].grad, xs[1].grad, yv.grad])
    looped = time.perf_counter() - t
    want = np.array(loop)
    diff = float(np.max(np.abs(np.column_stack([gx, gy]) - want)) / np.max(np.abs(want)))
    return {"build": build, "batch": took, "loop": looped, "diff": diff}


def have_numpy() -> bool:
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


def have_micrograd() -> bool:
    try:
        import micrograd.nn  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes: checks that it runs")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--no-gc", action="store_true", help="switch Python's cyclic garbage collector off while timing"
    )
    args = ap.parse_args(argv)
    if args.no_gc:
        gc.disable()
    try:
        return run(args)
    finally:
        if args.no_gc:
            gc.enable()


def run(args: argparse.Namespace) -> dict[str, float]:
    n2 = 10_000 if args.quick else 1_000_000
    n3 = 10_000 if args.quick else 100_000
    reps = 2 if args.quick else args.repeats
    res: dict[str, float] = {}

    res.update(w1(reps, with_micrograd=have_micrograd()))

    res["w2_hand"] = best_of(lambda: w2_hand(n2), reps)
    res["w2_engine"] = best_of(lambda: w2_engine(n2), reps)
    # the same chain 100 times shorter: how the cost per node grows with the size of the graph
    n2s = n2 // 100
    res["w2s_hand"] = best_of(lambda: w2_hand(n2s), reps * 4)
    res["w2s_engine"] = best_of(lambda: w2_engine(n2s), reps * 4)
    assert all(math.isclose(p, q, rel_tol=1e-9) for p, q in zip(w2_hand(1000), w2_engine(1000)))

    a, b = w3_data(n3)
    va, vb = [Value(x) for x in a], [Value(y) for y in b]
    res["w3_hand"] = best_of(lambda: w3_hand(a, b), reps)
    res["w3_engine"] = best_of(lambda: w3_engine(va, vb), reps)

    n4 = min(n2, 200_000)
    res["w4_forward"], res["w4_backward"] = chain_bytes_per_node(Value, n4)
    if have_micrograd():
        from micrograd.engine import Value as MValue

        res["w4_micrograd"] = chain_bytes_per_node(MValue, min(n4, 100_000), differentiate=False)[0]

    r5 = w5(w5_graphs(n2 // 5, n3), 3 if args.quick else 7)
    for name, (mid, lo, hi) in r5.items():
        res[f"w5_{name}"], res[f"w5_{name}_min"], res[f"w5_{name}_max"] = mid, lo, hi

    n6 = 2 if args.quick else 10
    r6 = w6(n6, 1 if args.quick else 3)
    w6_keys = {"micro": "w6_microgpt", "micro_freed": "w6_microgpt_freed", "nn": "w6_nn",
               "traced": "w6_traced", "value": "w6_value"}
    for way, key in w6_keys.items():
        res[key], res[f"{key}_cpu"] = r6[way], r6[f"{way}_cpu"]
    res["w6_trace_seconds"], res["w6_trace_lengths"] = r6["trace_seconds"], r6["trace_lengths"]
    l_micro, *others = r6["losses"]
    rel = [abs(a - b) / max(1.0, abs(a)) for other in others for a, b in zip(l_micro, other)]
    first = min(3, n6)
    assert all(
        abs(a - b) <= 1e-12 * max(1.0, abs(a)) for other in others for a, b in zip(l_micro[:first], other)
    ), (l_micro[:first], [o[:first] for o in others])
    res["w6_agreement"] = max(rel)
    res["w6_traced_agreement"] = max(abs(a - b) / max(1.0, abs(a)) for a, b in zip(l_micro, others[-1]))

    gc_note = "garbage collector OFF (--no-gc)" if args.no_gc else "garbage collector on"
    print(f"adjointgrad benchmark ({'quick' if args.quick else 'full'} sizes, best of {reps}, {gc_note})")

    def row(name: str, value: str, ratio: float | None = None, extra: str = "") -> None:
        tail = f"   {ratio:6.2f}x hand" if ratio is not None else ""
        print(f"   {name:<20}{value:>16}{tail}{extra}")

    print("W1 training step, MLP(2,[16,16,1]), 100 points (timed side by side):")
    row("hand-written floats", f"{res['w1_hand'] * 1e3:.2f} ms")
    w1_rows = [
        ("nn (n-ary nodes)", "w1_engine", "   (target <= 8x)"),
        (
            "  compiled",
            "w1_compiled",
            f"   (target <= 1.0x; compile {res['w1_compile']:.3f} s (best of 3), target <= 0.3 s;"
            f" {res['w1_program_bytes']:.0f} B/node kept)",
        ),
        ("micrograd's code", "w1_mg_engine", "   (micrograd's nn.py and notebook loss on autograd.Value)"),
        (
            "  compiled",
            "w1_mg_compiled",
            f"   (target <= 1.2x; compile {res['w1_mg_compile']:.3f} s (best of 3), target <= 0.3 s)",
        ),
    ]
    for name, key, note in w1_rows:
        row(name, f"{res[key] * 1e3:.2f} ms", res[key] / res["w1_hand"], note)
    if "w1_micrograd" in res:
        ratio = res["w1_micrograd"] / res["w1_hand"]
        faster = f"   (adjointgrad is {res['w1_micrograd'] / res['w1_engine']:.1f}x faster)"
        row("micrograd 0.1.0", f"{res['w1_micrograd'] * 1e3:.2f} ms", ratio, faster)
    else:
        row("micrograd", "not installed", None, "   (pip install micrograd==0.1.0)")
    nodes2 = 2 * n2
    print(f"W2 chain x = x*c1 + c2, {n2:,} steps ({nodes2:,} nodes), forward + backward:")
    row("hand-written floats", f"{res['w2_hand'] * 1e9 / nodes2:.1f} ns/node")
    ratio = res["w2_engine"] / res["w2_hand"]
    row("adjointgrad", f"{res['w2_engine'] * 1e9 / nodes2:.1f} ns/node", ratio)
    nodes2s = 2 * n2s
    small = res["w2s_engine"] * 1e9 / nodes2s
    print(f"   the same chain at {nodes2s:,} nodes:")
    row("hand-written floats", f"{res['w2s_hand'] * 1e9 / nodes2s:.1f} ns/node")
    row("adjointgrad", f"{small:.1f} ns/node", res["w2s_engine"] / res["w2s_hand"],
        f"   (per node, {nodes2:,} nodes cost {res['w2_engine'] * 1e9 / nodes2 / small:.2f}x "
        f"what {nodes2s:,} do)")
    print(f"W3 sum of {n3:,} products, forward + backward:")
    row("hand-written floats", f"{res['w3_hand'] * 1e9 / n3:.1f} ns/node")
    ratio = res["w3_engine"] / res["w3_hand"]
    row("adjointgrad", f"{res['w3_engine'] * 1e9 / n3:.1f} ns/node", ratio, "   (target <= 10x)")
    print(f"W4 memory while a W2 chain of {2 * n4:,} nodes is alive (tracemalloc):")
    row("after forward", f"{res['w4_forward']:.1f} B/node", None, "   (target <= 160)")
    row(
        "after backward", f"{res['w4_backward']:.1f} B/node", None, "   (each grad is now a float of its own)"
    )
    if "w4_micrograd" in res:
        row("micrograd 0.1.0", f"{res['w4_micrograd']:.1f} B/node", None, "   (after forward)")
    print("W5 the reverse sweep alone: the plain chain_rule loop's time over backward()'s kernel "
          "(same graphs, same gradients, alternating rounds):")
    for name, (mid, lo, hi) in r5.items():
        print(f"   on {name}'s graph{'':<10}{mid:>8.1f}x   ({lo:.1f}x to {hi:.1f}x)")
    print(
        f"W6 training step of microgpt's GPT (4192 parameters, Adam), mean over the same {n6} "
        f"names, best of {1 if args.quick else 3}:"
    )

    def row6(name: str, key: str, extra: str = "") -> None:
        ms, cpu = res[key] * 1e3, res[f"{key}_cpu"] * 1e3
        ratio = res["w6_microgpt"] / res[key]
        cpu_ratio = res["w6_microgpt_cpu"] / res[f"{key}_cpu"]
        print(
            f"   {name:<34}{ms:>9.2f} ms/step (CPU {cpu:7.2f} ms)   {ratio:6.2f}x faster than the "
            f"microgpt engine (CPU time: {cpu_ratio:.2f}x){extra}"
        )

    row6("microgpt-style engine, its loop", "w6_microgpt")
    row6("  the same, each graph freed", "w6_microgpt_freed")
    row6("nn.GPT", "w6_nn", "   (target >= 15x)")
    row6("  through traced programs", "w6_traced",
         f"   (target >= 40x; {res['w6_nn'] / res['w6_traced']:.2f}x faster than nn.GPT eager)")
    row6("microgpt's code on autograd.Value", "w6_value")
    print(
        "   (microgpt's loop keeps the previous step's graph alive through the next forward pass; "
        f"nn.GPT against the freed engine: {res['w6_microgpt_freed'] / res['w6_nn']:.2f}x, "
        f"CPU time {res['w6_microgpt_freed_cpu'] / res['w6_nn_cpu']:.2f}x)"
    )
    print(
        f"   (nn.TracedLoss: one program per name length, {res['w6_trace_lengths']:.0f} lengths traced "
        f"in {res['w6_trace_seconds']:.2f} s before the rounds; the freed engine against it: "
        f"{res['w6_microgpt_freed'] / res['w6_traced']:.2f}x)"
    )
    print(
        f"   losses agree on the first {min(3, n6)} steps to 1e-12 (largest relative difference "
        f"over all {n6} steps: {res['w6_agreement']:.1e}; traced programs against the microgpt "
        f"engine: {res['w6_traced_agreement']:.1e})"
    )
    if have_numpy():
        sizes7 = [100, 2000] if args.quick else [100, 2000, 20_000]
        reps7 = 2 if args.quick else args.repeats
        r7 = {n: w7_size(n, reps7, 5) for n in sizes7}
        n7 = 100 if args.quick else 2000
        g7 = w7_grads(n7)
        print("W7 full-batch step of W1's network as one batch program (program.batch on numpy), SGD:")
        for n, r in r7.items():
            target = "   (target >= 20x)" if n == 2000 else ""
            hand, bat = r["hand"], r["batch"]
            print(
                f"   {n:>6,} points   hand-written {hand * 1e3:9.2f} ms   batch {bat * 1e3:7.2f} ms"
                f"   {hand / bat:6.1f}x faster{target}   (loss over 5 steps agrees to {r['agree']:.1e})"
            )
            res[f"w7_hand_{n}"], res[f"w7_batch_{n}"], res[f"w7_agree_{n}"] = hand, bat, r["agree"]
            if r["python"] is not None:
                res[f"w7_python_{n}"] = r["python"]
        n = max(k for k in r7 if r7[k]["python"] is not None)
        print(f"   the pure-Python path (backend='python'), {n:,} points: {r7[n]['python'] * 1e3:.1f} ms")
        print(
            f"   per-example gradients d share/d(x, y) of {n7:,} points: batch {g7['batch'] * 1e3:.2f} ms "
            f"(its program built in {g7['build'] * 1e3:.0f} ms), a loop of backward() "
            f"{g7['loop'] * 1e3:.1f} ms ({g7['loop'] / g7['batch']:.0f}x); largest difference "
            f"{g7['diff']:.1e} (relative to the largest)"
        )
        res.update({f"w7_grads_{k}": v for k, v in g7.items()})
    else:
        print("W7 batch program: numpy not installed (pip install 'adjointgrad[fast]')")
    return res


if __name__ == "__main__":
    main()
