"""Speed and memory of the engine, against hand-written floats and micrograd, in one run.

    python -m demos.benchmark            # full sizes (about a minute)
    python -m demos.benchmark --quick    # small sizes, to check it runs

Workloads (each timed as the best of several repeats, with Python's garbage collector on, as a
user runs it):
  W1  one full-batch training step of micrograd's demo: MLP(2, [16, 16, 1]) (337 parameters) on
      100 two-moons points, hinge loss + 1e-4 L2, zero_grad, backward, SGD update;
  W2  a chain x = x*c1 + c2 of 10^6 steps (2*10^6 nodes; c1, c2 are Values), forward + backward;
  W3  autograd.sum of 100,000 products a_i*b_i, forward + backward;
  W4  bytes per node (tracemalloc) while the W2 chain is alive (after forward; and after backward).
"hand" is the same computation written by hand on plain Python floats, with no graph objects.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import autograd
from autograd import Value

Params = tuple[list[list[list[float]]], list[list[float]]]  # weights[l][j][i], biases[l][j]


def best_of(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


# --- W1: micrograd's demo training step --------------------------------------------------------


def moons(n: int, seed: int = 1) -> tuple[list[list[float]], list[float]]:
    """n two-moons points with noise 0.1 (`nn.make_moons`), labels -1/+1 for the hinge loss."""
    import nn

    X, y = nn.make_moons(n, noise=0.1, seed=seed)
    return [list(map(float, x)) for x in X], [float(t) for t in nn.signed(y)]


def init_params(sizes: list[int], seed: int = 0) -> Params:
    rng = random.Random(seed)
    ws = [[[rng.uniform(-1, 1) for _ in range(a)] for _ in range(b)] for a, b in zip(sizes, sizes[1:])]
    bs = [[0.0 for _ in range(b)] for b in sizes[1:]]
    return ws, bs


def hand_step(params: Params, X: list[list[float]], Y: list[float], lr: float, alpha: float) -> float:
    """Forward, hinge + L2 loss, backward and SGD update of the MLP, written out on floats."""
    ws, bs = params
    nl = len(ws)
    gw = [[[0.0] * len(row) for row in layer] for layer in ws]
    gb = [[0.0] * len(layer) for layer in bs]
    n = len(X)
    loss = 0.0
    for x, y in zip(X, Y):
        acts = [x]
        h = x
        for li in range(nl):
            zs = [sum(w * a for w, a in zip(row, h)) + b for row, b in zip(ws[li], bs[li])]
            h = [z if z > 0 else 0.0 for z in zs] if li < nl - 1 else zs
            acts.append(h)
        margin = 1.0 - y * h[0]
        if margin <= 0:
            continue
        loss += margin / n
        delta = [-y / n]  # d loss / d score
        for li in range(nl - 1, -1, -1):
            a_in = acts[li]
            wl, gwl, gbl = ws[li], gw[li], gb[li]
            back = [0.0] * len(a_in)
            for j, d in enumerate(delta):
                if d == 0.0:
                    continue
                gbl[j] += d
                row, grow = wl[j], gwl[j]
                for i, a in enumerate(a_in):
                    grow[i] += d * a
                    back[i] += d * row[i]
            if li:
                delta = [d if a > 0 else 0.0 for d, a in zip(back, a_in)]
    sq = 0.0
    for layer, glayer in zip(ws, gw):
        for row, grow in zip(layer, glayer):
            for i, w in enumerate(row):
                sq += w * w
                grow[i] += 2 * alpha * w
    for layer, glayer in zip(bs, gb):
        for j, b in enumerate(layer):
            sq += b * b
            glayer[j] += 2 * alpha * b
    for layer, glayer in zip(ws, gw):
        for row, grow in zip(layer, glayer):
            for i, g in enumerate(grow):
                row[i] -= lr * g
    for layer, glayer in zip(bs, gb):
        for j, g in enumerate(glayer):
            layer[j] -= lr * g
    return loss + alpha * sq


def engine_model(params: Params) -> Any:
    """nn.MLP with the given weights (micrograd's demo network)."""
    import nn

    ws, bs = params
    model = nn.MLP(len(ws[0][0]), [len(layer) for layer in ws])
    flat = [v for layer_w, layer_b in zip(ws, bs) for row, b in zip(layer_w, layer_b) for v in (*row, b)]
    for p, v in zip(model.parameters(), flat):
        p.data = v
    return model


def engine_step(model: Any, X: list[list[float]], Y: list[float], lr: float, alpha: float) -> float:
    params = model.parameters()
    scores = [model(x) for x in X]
    losses = [(1 - y * s).relu() for y, s in zip(Y, scores)]
    loss = autograd.sum(losses) * (1.0 / len(losses)) + alpha * autograd.dot(params, params)
    model.zero_grad()
    loss.backward()
    for p in params:
        p.data -= lr * p.grad
    return loss.data


def micrograd_step(model: Any, X: list[list[float]], Y: list[float], lr: float, alpha: float) -> float:
    from micrograd.engine import Value as MValue

    inputs = [list(map(MValue, x)) for x in X]
    scores = list(map(model, inputs))
    losses = [(1 + -y * s).relu() for y, s in zip(Y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg = alpha * sum(p * p for p in model.parameters())
    loss = data_loss + reg
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
    return float(loss.data)


def micrograd_model(params: Params) -> Any:
    from micrograd.nn import MLP

    ws, bs = params
    model = MLP(len(ws[0][0]), [len(layer) for layer in ws])
    flat = [v for layer_w, layer_b in zip(ws, bs) for row, b in zip(layer_w, layer_b) for v in (*row, b)]
    for p, v in zip(model.parameters(), flat):
        p.data = v
    return model


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

    X, Y = moons(100)
    sizes = [2, 16, 16, 1]
    lr, alpha = 0.5, 1e-4
    hp = init_params(sizes)
    res["w1_hand"] = best_of(lambda: hand_step(hp, X, Y, lr, alpha), reps)
    model = engine_model(init_params(sizes))
    res["w1_engine"] = best_of(lambda: engine_step(model, X, Y, lr, alpha), reps)
    # The two must compute the same step: check one step from identical weights.
    check_h, check_e = init_params(sizes, 7), engine_model(init_params(sizes, 7))
    lh, le = hand_step(check_h, X, Y, lr, alpha), engine_step(check_e, X, Y, lr, alpha)
    assert abs(lh - le) <= 1e-9 * max(1.0, abs(lh)), (lh, le)
    if have_micrograd():
        mm = micrograd_model(init_params(sizes))
        res["w1_micrograd"] = best_of(lambda: micrograd_step(mm, X, Y, lr, alpha), max(1, reps // 2))

    res["w2_hand"] = best_of(lambda: w2_hand(n2), reps)
    res["w2_engine"] = best_of(lambda: w2_engine(n2), reps)
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

    gc_note = "garbage collector OFF (--no-gc)" if args.no_gc else "garbage collector on"
    print(f"adjointgrad benchmark ({'quick' if args.quick else 'full'} sizes, best of {reps}, {gc_note})")

    def row(name: str, value: str, ratio: float | None = None, extra: str = "") -> None:
        tail = f"   {ratio:6.2f}x hand" if ratio is not None else ""
        print(f"   {name:<20}{value:>16}{tail}{extra}")

    print("W1 training step, MLP(2,[16,16,1]), 100 points:")
    row("hand-written floats", f"{res['w1_hand'] * 1e3:.2f} ms")
    row(
        "adjointgrad",
        f"{res['w1_engine'] * 1e3:.2f} ms",
        res["w1_engine"] / res["w1_hand"],
        "   (target <= 8x)",
    )
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
    row("adjointgrad", f"{res['w2_engine'] * 1e9 / nodes2:.1f} ns/node", ratio, "   (target <= 10x)")
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
    return res


if __name__ == "__main__":
    main()
