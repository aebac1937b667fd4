"""W1 of the benchmark: micrograd's demo training step written every way that `python -m
demos.benchmark` times side by side (by hand on floats, with nn, as micrograd's own code, each
eager and compiled, and on micrograd itself), with the timing helpers the other workloads share.
"""

from __future__ import annotations

import math
import random
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import autograd
from autograd import Value

from ._micrograd_code import MgMLP

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


def mlp(cls: Any, params: Params) -> Any:
    """``cls(nin, sizes)`` (an MLP: nn's, micrograd's, or micrograd's code on Value) with the
    given weights."""
    ws, bs = params
    model = cls(len(ws[0][0]), [len(layer) for layer in ws])
    flat = [v for layer_w, layer_b in zip(ws, bs) for row, b in zip(layer_w, layer_b) for v in (*row, b)]
    for p, v in zip(model.parameters(), flat):
        p.data = v
    return model


def engine_model(params: Params) -> Any:
    """nn.MLP with the given weights (micrograd's demo network)."""
    import nn

    return mlp(nn.MLP, params)


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


def compiled_step(
    model: Any, X: list[list[float]], Y: list[float], lr: float, alpha: float
) -> tuple[Callable[[], float], float, float]:
    """engine_step's graph compiled (`autograd.compile`): the step, the seconds compiling took
    (best of 3), and the bytes per graph node the program keeps once the graph is dropped."""
    params = model.parameters()
    scores = [model(x) for x in X]
    losses = [(1 - y * s).relu() for y, s in zip(Y, scores)]
    loss = autograd.sum(losses) * (1.0 / len(losses)) + alpha * autograd.dot(params, params)
    nodes = len(autograd.toposort(loss))
    seconds = best_of(lambda out=loss: autograd.compile(out), 3)
    tracemalloc.start()  # compiled again, to count what the program keeps (tracing is slow)
    program = autograd.compile(loss)
    del loss, scores, losses
    kept = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return program_step(model, program, lr), seconds, kept / nodes


def program_step(model: Any, program: autograd.Program, lr: float) -> Callable[[], float]:
    """A training step through a compiled loss: zero_grad, run (forward and backward), SGD."""
    params = model.parameters()

    def step() -> float:
        model.zero_grad()
        value = program.run()
        for p in params:
            p.data -= lr * p.grad
        return value

    return step


def mg_model(params: Params) -> MgMLP:
    """micrograd's MLP written on autograd.Value, with the given weights."""
    return mlp(MgMLP, params)  # type: ignore[no-any-return]


def mg_loss(model: MgMLP, X: list[list[float]], Y: list[float], alpha: float) -> Value:
    """The loss of micrograd's demo notebook, as it writes it."""
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(Y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def mg_step(model: MgMLP, X: list[list[float]], Y: list[float], lr: float, alpha: float) -> float:
    """micrograd's demo training step on autograd.Value, eagerly."""
    total_loss = mg_loss(model, X, Y, alpha)
    model.zero_grad()
    total_loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
    return total_loss.data


def mg_compiled_step(
    model: MgMLP, X: list[list[float]], Y: list[float], lr: float, alpha: float
) -> tuple[Callable[[], float], float]:
    """mg_step's graph compiled: the step and the seconds compiling took (best of 3)."""
    loss = mg_loss(model, X, Y, alpha)
    seconds = best_of(lambda: autograd.compile(loss), 3)
    return program_step(model, program=autograd.compile(loss), lr=lr), seconds


def side_by_side(ways: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """The best time of each way over `repeats` rounds; each round runs every way once, in turn,
    so that the machine's load changes all of them alike."""
    best = dict.fromkeys(ways, math.inf)
    for _ in range(repeats):
        for key, fn in ways.items():
            t = time.perf_counter()
            fn()
            best[key] = min(best[key], time.perf_counter() - t)
    return best


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

    return mlp(MLP, params)


def w1(reps: int, with_micrograd: bool = False) -> dict[str, float]:
    """W1: seconds per step of each way (best of `reps` rounds, side by side), compile seconds,
    and the bytes per node a compiled program keeps."""
    res: dict[str, float] = {}
    X, Y = moons(100)
    sizes = [2, 16, 16, 1]
    lr, alpha = 0.5, 1e-4
    hp = init_params(sizes)
    model = engine_model(init_params(sizes))
    # The steps must compute the same step: check one step from identical weights.
    check_h, check_e = init_params(sizes, 7), engine_model(init_params(sizes, 7))
    lh, le = hand_step(check_h, X, Y, lr, alpha), engine_step(check_e, X, Y, lr, alpha)
    assert abs(lh - le) <= 1e-9 * max(1.0, abs(lh)), (lh, le)
    # compiled (autograd.compile): the same step to the bit as the eager one
    check_c = engine_model(init_params(sizes, 7))
    step_c, _, _ = compiled_step(check_c, X, Y, lr, alpha)
    assert step_c() == le
    assert all(p.data == q.data for p, q in zip(check_c.parameters(), check_e.parameters()))
    # micrograd's code on autograd.Value: the same step as the hand-written one, and compiled, the
    # same to the bit as itself run eagerly
    check_m, check_mc = mg_model(init_params(sizes, 7)), mg_model(init_params(sizes, 7))
    lm = mg_step(check_m, X, Y, lr, alpha)
    assert abs(lh - lm) <= 1e-9 * max(1.0, abs(lh)), (lh, lm)
    step_mc, _ = mg_compiled_step(check_mc, X, Y, lr, alpha)
    assert step_mc() == lm
    assert all(p.data == q.data for p, q in zip(check_mc.parameters(), check_m.parameters()))
    step_c, res["w1_compile"], res["w1_program_bytes"] = compiled_step(
        engine_model(init_params(sizes)), X, Y, lr, alpha
    )
    mm_e = mg_model(init_params(sizes))
    step_mc, res["w1_mg_compile"] = mg_compiled_step(mg_model(init_params(sizes)), X, Y, lr, alpha)
    res.update(
        side_by_side(
            {
                "w1_hand": lambda: hand_step(hp, X, Y, lr, alpha),
                "w1_engine": lambda: engine_step(model, X, Y, lr, alpha),
                "w1_compiled": step_c,
                "w1_mg_engine": lambda: mg_step(mm_e, X, Y, lr, alpha),
                "w1_mg_compiled": step_mc,
            },
            reps,
        )
    )
    if with_micrograd:
        mm = micrograd_model(init_params(sizes))
        res["w1_micrograd"] = best_of(lambda: micrograd_step(mm, X, Y, lr, alpha), max(1, reps // 2))
    return res
