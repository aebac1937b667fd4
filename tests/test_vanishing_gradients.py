"""demos.vanishing_gradients in its quick mode, checked against backprop written here in floats.

The demo computes its gradients with traced programs run over the batch (``Program.batch``) and
with the eager engine; this file recomputes every number it prints from the weights it returns,
with a forward and backward pass through the MLP written out in plain Python.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable
from pathlib import Path

import pytest

from demos import vanishing_gradients as vg
from demos._article import weights

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"

Weights = list[list[list[float]]]
Biases = list[list[float]]


def act(name: str) -> tuple[Callable[[float], float], Callable[[float, float], float]]:
    """The activation and its derivative (from the input z and the output a)."""
    if name == "sigmoid":
        return (lambda z: 1 / (1 + math.exp(-z))), (lambda z, a: a * (1 - a))
    if name == "tanh":
        return math.tanh, (lambda z, a: 1 - a * a)
    return (lambda z: max(0.0, z)), (lambda z, a: 1.0 if z > 0 else 0.0)


def backprop(W: Weights, b: Biases, x: list[float], t: float, name: str
             ) -> tuple[float, list[list[float]], Weights]:
    """One point's loss ln(1 + e^z) - t z, its delta dL/dnet per neuron and its dL/dW."""
    f, df = act(name)
    hs, zs = [x], []
    for li, (Wl, bl) in enumerate(zip(W, b)):
        z = [sum(w * h for w, h in zip(row, hs[-1])) + bj for row, bj in zip(Wl, bl)]
        zs.append(z)
        hs.append(z if li == len(W) - 1 else [f(v) for v in z])
    z = hs[-1][0]
    loss = (math.log1p(math.exp(-abs(z))) + max(z, 0.0)) - t * z
    deltas: list[list[float]] = [[] for _ in W]
    deltas[-1] = [1 / (1 + math.exp(-z)) - t]
    for li in range(len(W) - 2, -1, -1):
        up = [sum(W[li + 1][k][j] * deltas[li + 1][k] for k in range(len(W[li + 1])))
              for j in range(len(W[li]))]
        deltas[li] = [u * df(zv, a) for u, zv, a in zip(up, zs[li], hs[li + 1])]
    gW = [[[d * h for h in hs[li]] for d in deltas[li]] for li in range(len(W))]
    return loss, deltas, gW


def batch(W: Weights, b: Biases, X: list[list[float]], T: list[float], name: str
          ) -> tuple[float, Weights, Biases, list[list[list[float]]]]:
    """The mean loss, dL/dW, dL/db and every point's deltas."""
    n = len(X)
    L = 0.0
    gW = [[[0.0] * len(row) for row in Wl] for Wl in W]
    gb = [[0.0] * len(bl) for bl in b]
    per_point = []
    for x, t in zip(X, T):
        loss, deltas, g = backprop(W, b, x, t, name)
        L += loss / n
        per_point.append(deltas)
        for li in range(len(W)):
            for j in range(len(W[li])):
                gb[li][j] += deltas[li][j] / n
                for i in range(len(W[li][j])):
                    gW[li][j][i] += g[li][j][i] / n
    return L, gW, gb, per_point


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b)) + 1e-300


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> tuple[vg.Result, str, Path]:
    import contextlib
    import io

    out = tmp_path_factory.mktemp("vg")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        r = vg.main(["--quick", "--out", str(out)])
    return r, buf.getvalue(), out


def test_per_layer_gradients_equal_plain_backprop(result: tuple[vg.Result, str, Path]) -> None:
    r, out, _ = result
    X, T = r.X, r.T
    assert len(r.profiles) == 3
    for p in r.profiles:
        for (W, b), got in zip(p.weights, p.per_seed):
            _, gW, _, _ = batch(W, b, X, T, p.activation)
            want = [statistics.fmean(abs(g) for row in layer for g in row) for layer in gW]
            assert len(got) == vg.HIDDEN + 1
            assert all(close(a, c) for a, c in zip(got, want)), (p.activation, got, want)
    sig, tanh = r.profiles[0], r.profiles[1]
    assert sig.activation == "sigmoid" and tanh.activation == "tanh"
    # the sigmoid net's first layer gets far less than its last; the tanh net's does not
    assert sig.mean[0] < 1e-3 * sig.mean[-1] and tanh.mean[0] > 0.1 * tanh.mean[-1]
    assert f"{sig.mean[0]:11.2e}" in out


def test_one_step_and_the_reported_steps(result: tuple[vg.Result, str, Path]) -> None:
    r, out, _ = result
    for run in r.runs + r.norm_runs:
        X = r.X if run.inputs == "moons" else (
            vg.rescale(r.X) if run.inputs == "raw" else vg.standardise(vg.rescale(r.X)))
        W0, b0 = weights(vg.network(run.activation, run.seed).layers)
        L0, gW, gb, _ = batch(W0, b0, X, r.T, run.activation)
        assert close(run.losses[0], L0)
        if len(run.losses) > 1 and math.isfinite(L0):  # one gradient-descent step, by hand
            W1 = [[[w - run.lr * g for w, g in zip(row, grow)] for row, grow in zip(Wl, gl)]
                  for Wl, gl in zip(W0, gW)]
            b1 = [[v - run.lr * g for v, g in zip(bl, gl)] for bl, gl in zip(b0, gb)]
            L1 = batch(W1, b1, X, r.T, run.activation)[0]
            assert close(run.losses[1], L1, 1e-7)
        # the criterion, re-checked from the returned weights
        W, b = run.final
        L = batch(W, b, X, r.T, run.activation)[0]
        if run.reached is not None:
            assert L < vg.THRESHOLD and run.reached == len(run.losses) - 1
            assert all(v >= vg.THRESHOLD for v in run.losses[:-1])
        elif math.isfinite(L):
            assert L >= vg.THRESHOLD and len(run.losses) == r.steps + 1
    sig = [x for x in r.runs if x.activation == "sigmoid"]
    assert sig and all(x.reached is None for x in sig)
    assert f"not within {r.steps}" in out


def test_adjoint_colours_equal_plain_deltas(result: tuple[vg.Result, str, Path]) -> None:
    r, _, _ = result
    for a in r.adjoints:
        W, b = weights(vg.network(a.activation, 0).layers)
        _, gW, _, per_point = batch(W, b, r.X, r.T, a.activation)
        for li in range(len(W)):
            for j in range(len(W[li])):
                want = statistics.fmean(abs(pt[li][j]) for pt in per_point)
                assert close(a.neurons[li][j], want), (a.activation, li, j)
                for i in range(len(W[li][j])):
                    assert close(a.weights[li][j][i], abs(gW[li][j][i]))


def test_inputs_are_rescaled_and_standardised() -> None:
    X, _ = vg.data()
    raw = vg.rescale(X)
    assert raw[3] == [20 * X[3][0] + 100, 20 * X[3][1] + 100]
    S = vg.standardise(raw)
    for c in range(2):
        col = [x[c] for x in S]
        assert abs(sum(col) / len(col)) < 1e-12
        assert abs(math.sqrt(sum(v * v for v in col) / len(col)) - 1) < 1e-12


def test_plots_are_written(result: tuple[vg.Result, str, Path]) -> None:
    pytest.importorskip("matplotlib", reason="the demo plots need: pip install -e '.[demo]'")
    _, out, folder = result
    for name in ("gradient_by_layer.png", "adjoint_by_layer.png", "learning_curves.png",
                 "normalisation.png"):
        assert (folder / name).read_bytes()[:8] == PNG
        assert f"wrote {folder / name}" in out
    assert out.index("4. inputs") < out.index("wrote ")  # the numbers come first


def test_readme_images_of_this_demo_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    paths = re.findall(r"!\[[^\]]*\]\((docs/img/vanishing[^)]*)\)", readme)
    assert paths, "the README shows this demo's picture"
    for p in paths:
        data = (ROOT / p).read_bytes()
        assert data[:8] == PNG and len(data) < 400_000, p
