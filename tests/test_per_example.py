"""demos.per_example: per-example gradients by program.batch, against independent computations.

The per-example gradients are checked against a backpropagation written here on plain floats
(forward pass, deltas, o_i delta_j) and against a loop of backward() on the nn.MLP; their mean
against the full-batch gradient of E = 1/n sum E_x built eagerly; the demo's SGD and full-batch
loss curves against the same descents replayed here on plain floats. Every test runs on numpy and
with numpy hidden (batch's pure-Python path), as tests/test_batch.py does.
"""

from __future__ import annotations

import math
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import autograd
import nn
from autograd.programs import batch as B
from demos import per_example as D

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(params=["numpy", "python"])
def backend(request: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "python":
        monkeypatch.setitem(sys.modules, "numpy", None)  # `import numpy` now fails
        assert B.default_backend() == "python"
    else:
        pytest.importorskip("numpy")
        assert B.default_backend() == "numpy"
    return str(request.param)


def close(a: float, b: float, tol: float = 1e-12) -> bool:
    return abs(a - b) <= tol * max(abs(a), abs(b), 1e-3)


def sizes_of(model: nn.MLP) -> list[int]:
    return [model.nin, *model.nouts]


def hand(sizes: list[int], w: list[float], x: list[float], y: float) -> tuple[float, list[float]]:
    """E_x = 1/2 (s - y)^2 and dE_x/dw for tanh hidden layers and a linear output, on floats.

    w is flat in nn's order: for each layer, each neuron: its weights, then its bias."""
    layers = []  # per layer: list of (weights, bias) and the offsets of each in w
    k = 0
    for nin, nout in zip(sizes, sizes[1:]):
        layer = []
        for _ in range(nout):
            layer.append((k, nin))
            k += nin + 1
        layers.append(layer)
    hs, zs = [list(x)], []
    for li, layer in enumerate(layers):
        z = [sum(w[o + i] * hs[-1][i] for i in range(nin)) + w[o + nin] for o, nin in layer]
        zs.append(z)
        hs.append(z if li == len(layers) - 1 else [math.tanh(v) for v in z])
    s = hs[-1][0]
    grad = [0.0] * len(w)
    da = [s - y]
    for li in range(len(layers) - 1, -1, -1):
        last = li == len(layers) - 1
        dz = [d if last else d * (1 - math.tanh(z) ** 2) for d, z in zip(da, zs[li])]
        prev = [0.0] * len(hs[li])
        for (o, nin), d in zip(layers[li], dz):
            for i in range(nin):
                grad[o + i] = d * hs[li][i]  # dE/dw_ij = o_i delta_j
                prev[i] += d * w[o + i]
            grad[o + nin] = d
        da = prev
    return 0.5 * (s - y) ** 2, grad


def setup(n: int, hidden: list[int], seed: int = 0) -> tuple[nn.MLP, list[list[float]], list[int]]:
    X, labels = nn.make_moons(n, 0.1, seed=seed)
    model = nn.MLP(2, [*hidden, 1], activation="tanh", seed=seed)
    return model, [list(x) for x in X], nn.signed(labels)


def test_per_example_gradients_equal_hand_backprop_and_a_loop_of_backward(backend: str) -> None:
    for hidden in ([3], [8, 8]):
        model, X, Y = setup(12, hidden)
        params = model.parameters()
        w = [p.data for p in params]
        program = autograd.trace(D.example_error(model), w, X[0], Y[0])
        values, G = D.per_example_gradients(program, w, X, Y)
        assert len(G) == len(X) and all(len(g) == len(w) for g in G)
        for x, y, v, g in zip(X, Y, values, G):
            e, want = hand(sizes_of(model), w, x, y)
            assert close(v, e)
            assert all(close(a, b) for a, b in zip(g, want)), hidden
            model.zero_grad()
            s = model(x)
            assert isinstance(s, autograd.Value)
            (0.5 * (s - y) ** 2).backward()
            assert all(close(a, p.grad) for a, p in zip(g, params))
        model.zero_grad()  # batch adds nothing to the model's own parameters: they are arguments
        D.per_example_gradients(program, w, X, Y)
        assert all(p.grad == 0.0 for p in params)


def test_mean_of_per_example_gradients_is_the_full_batch_gradient(backend: str) -> None:
    model, X, Y = setup(40, [8, 8])
    params = model.parameters()
    w = [p.data for p in params]
    program = autograd.trace(D.example_error(model), w, X[0], Y[0])
    _, G = D.per_example_gradients(program, w, X, Y)
    mean = [sum(col) / len(G) for col in zip(*G)]
    model.zero_grad()
    scores = [model(x) for x in X]
    E = autograd.sum([0.5 * (s - y) ** 2 for s, y in zip(scores, Y)]) * (1 / len(X))  # type: ignore[operator]
    E.backward()
    assert all(close(a, p.grad) for a, p in zip(mean, params))
    assert D.max_rel_diff(mean, [p.grad for p in params]) < 1e-12
    assert D.max_rel_diff([1.0, 0.0, 2.0], [1.0, 0.0, 1.0]) == 0.5  # the measure itself


def replay(sizes: list[int], w: list[float], X: list[list[float]], Y: list[int], quick_sgd: int,
           full_epochs: int, seed: int) -> tuple[list[float], list[float]]:
    """The demo's two descents on plain floats: SGD (shuffled by random.Random(seed) each epoch)
    and full-batch descent; E before each epoch and after the last."""
    n = len(X)

    def E(v: list[float]) -> float:
        return sum(hand(sizes, v, x, y)[0] for x, y in zip(X, Y)) / n

    sgd, v, rng = [], list(w), random.Random(seed)
    for _ in range(quick_sgd):
        sgd.append(E(v))
        order = list(range(n))
        rng.shuffle(order)
        for i in order:
            g = hand(sizes, v, X[i], Y[i])[1]
            v = [a - D.SGD_LR * b for a, b in zip(v, g)]
    sgd.append(E(v))
    full, v = [], list(w)
    for _ in range(full_epochs):
        full.append(E(v))
        gs = [hand(sizes, v, x, y)[1] for x, y in zip(X, Y)]
        v = [a - D.FULL_LR * sum(col) / n for a, col in zip(v, zip(*gs))]
    full.append(E(v))
    return sgd, full


def test_the_demo_quick_run_against_plain_floats(backend: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib", reason="the demo plots need: pip install -e '.[demo]'")
    r = D.main(["--quick", "--out", str(tmp_path / "pe")])
    out = capsys.readouterr().out
    assert r.backend == backend
    model, X, Y = setup(r.n, list(D.HIDDEN))
    w = [p.data for p in model.parameters()]
    sgd, full = replay(sizes_of(model), w, X, Y, r.sgd_epochs, r.full_epochs, 0)
    assert len(r.sgd) == len(sgd) and len(r.full) == len(full)
    assert all(close(a, b, 1e-9) for a, b in zip(r.sgd, sgd))
    assert all(close(a, b, 1e-9) for a, b in zip(r.full, full))
    assert sgd[-1] < sgd[0] and full[-1] < full[0]
    start = r.spreads[0]
    grads = [hand(sizes_of(model), w, x, y)[1] for x, y in zip(X, Y)]
    g = [sum(col) / len(grads) for col in zip(*grads)]
    for c, gx in zip(start.cosines, grads):
        dotp = sum(a * b for a, b in zip(gx, g))
        want = dotp / math.sqrt(sum(a * a for a in gx) * sum(b * b for b in g))
        assert abs(c - want) < 1e-9
    neg = sum(c < 0 for c in start.cosines)
    assert f"{neg} of {r.n} examples point uphill" in out
    m = re.search(r"largest \|batch - loop of backward\(\)\| over all components: (\S+)", out)
    assert m and float(m.group(1)) < 1e-12
    m = re.search(r"max relative difference (\S+)", out)
    assert m and float(m.group(1)) < 1e-12
    for name in ("components.png", "cosines.png", "sgd.png", "overview.png"):
        assert (tmp_path / "pe" / name).read_bytes()[:8] == PNG
        assert f"wrote {tmp_path / 'pe' / name}" in out


def test_listed_under_its_article_section() -> None:
    proc = subprocess.run([sys.executable, "-m", "demos"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if "demos.per_example " in x)
    assert "[Loss function: Assumptions] Per-example gradients" in line
    assert proc.stdout.index("demos.per_example") < proc.stdout.index("More demos:")


def test_bad_flag_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        D.main(["--fast"])
    assert "unrecognized arguments: --fast" in capsys.readouterr().err


def test_readme_row_and_image() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "| Loss function: Assumptions | `python -m demos.per_example` |" in text
    images = re.findall(r"!\[[^\]]*\]\((docs/img/per_example[^)]*)\)", text)
    assert images
    for path in images:
        assert (ROOT / path).read_bytes()[:8] == PNG, path
