"""demos.history in its quick mode, checked against computations written here in plain floats.

The adjoint program against central differences; Amari's first epoch of one-example-at-a-time
SGD and Rumelhart, Hinton & Williams' first sweeps with momentum replayed by hand from the
weights the demo returns; the success criteria re-checked from the final weights.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from demos import history

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"

Weights = list[list[list[float]]]
Biases = list[list[float]]


def sig(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def forward(W: Weights, b: Biases, x: Sequence[float], hidden: str = "sigmoid"
            ) -> tuple[list[list[float]], list[float]]:
    """Every layer's output (the input first); logistic output, `hidden` units inside."""
    hs = [list(x)]
    for li, (Wl, bl) in enumerate(zip(W, b)):
        z = [sum(w * h for w, h in zip(row, hs[-1])) + bj for row, bj in zip(Wl, bl)]
        inner = li < len(W) - 1 and hidden == "tanh"
        hs.append([math.tanh(v) if inner else sig(v) for v in z])
    return hs, hs[-1]


def gradient(W: Weights, b: Biases, x: Sequence[float], t: Sequence[float], hidden: str = "sigmoid"
             ) -> tuple[float, Weights, Biases]:
    """E = 1/2 sum (y - t)^2 for one pattern and its gradient, by the delta rule."""
    hs, y = forward(W, b, x, hidden)
    E = 0.5 * sum((yj - tj) ** 2 for yj, tj in zip(y, t))
    delta = [(yj - tj) * yj * (1 - yj) for yj, tj in zip(y, t)]
    gW: Weights = [[] for _ in W]
    gb: Biases = [[] for _ in W]
    for li in range(len(W) - 1, -1, -1):
        gW[li] = [[d * h for h in hs[li]] for d in delta]
        gb[li] = list(delta)
        if li:
            up = [sum(W[li][k][j] * delta[k] for k in range(len(delta))) for j in range(len(hs[li]))]
            a = hs[li]
            delta = [u * ((1 - v * v) if hidden == "tanh" else v * (1 - v)) for u, v in zip(up, a)]
    return E, gW, gb


def flat(W: Weights, b: Biases) -> list[float]:
    return [v for Wl, bl in zip(W, b) for row, bj in zip(Wl, bl) for v in (*row, bj)]


def unflat(v: list[float], W: Weights) -> tuple[Weights, Biases]:
    it = iter(v)
    nW, nb = [], []
    for Wl in W:
        rows, bs = [], []
        for row in Wl:
            rows.append([next(it) for _ in row])
            bs.append(next(it))
        nW.append(rows)
        nb.append(bs)
    return nW, nb


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> tuple[history.Result, str, Path]:
    out = tmp_path_factory.mktemp("history")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        r = history.main(["--quick", "--out", str(out)])
    return r, buf.getvalue(), out


def test_adjoint_program_against_central_differences(result: tuple[history.Result, str, Path]) -> None:
    r, out, _ = result
    rv = r.reverse

    def f(x1: float, x2: float) -> float:
        return x1 * math.sin(x1 * x2 + math.exp(x1 / x2))

    x1, x2 = rv.point
    h = 1e-6
    d1 = (f(x1 + h, x2) - f(x1 - h, x2)) / (2 * h)
    d2 = (f(x1, x2 + h) - f(x1, x2 - h)) / (2 * h)
    assert abs(rv.value - f(x1, x2)) < 1e-14
    assert abs(rv.program[0] - d1) < 1e-7 and abs(rv.program[1] - d2) < 1e-7
    assert rv.program == rv.backward  # bit for bit
    lines = rv.source.splitlines()
    assert lines.index("    # backward: adjoints in reverse order") > lines.index("    y = x1 * w")
    assert "x2_bar += u_bar * x1" in rv.source and "backward() gives the same bits" in out


def test_amari_first_epoch_replayed_by_hand(result: tuple[history.Result, str, Path]) -> None:
    r, out, _ = result
    for g in r.rings:
        W, b = g.init
        for i in g.first_order:  # one example at a time
            _, gW, gb = gradient(W, b, g.X[i], [g.T[i]], "tanh")
            W = [[[w - 0.1 * d for w, d in zip(row, drow)] for row, drow in zip(Wl, gl)]
                 for Wl, gl in zip(W, gW)]
            b = [[v - 0.1 * d for v, d in zip(bl, gl)] for bl, gl in zip(b, gb)]
        assert sorted(g.first_order) == list(range(len(g.X)))
        assert max(abs(a - c) for a, c in zip(flat(W, b), flat(*g.after_first))) < 1e-12
        Wf, bf = g.final
        ys = [forward(Wf, bf, x, "tanh")[1][0] for x in g.X]
        acc = sum((y > 0.5) == (t == 1.0) for y, t in zip(ys, g.T)) / len(g.X)
        assert acc == g.accuracy[-1]
        E = sum(0.5 * (t - y) ** 2 for y, t in zip(ys, g.T)) / len(g.X)
        assert abs(E - g.errors[-1]) < 1e-12
    mlp, linear = r.rings
    assert mlp.hidden == 8 and linear.hidden == 0
    assert mlp.accuracy[-1] >= 0.95 and max(linear.accuracy) < 0.8  # no line separates rings
    assert f"{mlp.accuracy[-1]:.1%}" in out


def test_rhw_sweeps_replayed_by_hand(result: tuple[history.Result, str, Path]) -> None:
    r, out, _ = result
    names = {s.problem.name for s in r.runs}
    assert names == {"XOR 2-2-1", "symmetry 6-2-1", "encoder 8-3-8"}
    for s in r.runs:
        p = s.problem
        W, b = s.init
        v = flat(W, b)
        step = [0.0] * len(v)
        for k in range(min(3, len(s.errors))):  # E before sweeps 0, 1, 2
            Wk, bk = unflat(v, W)
            E, g = 0.0, [0.0] * len(v)
            for x, t in zip(p.patterns, p.targets):
                e, gW, gb = gradient(Wk, bk, x, t)
                E += e
                g = [a + c for a, c in zip(g, flat(gW, gb))]
            assert abs(E - s.errors[k]) < 1e-10 * max(1.0, E), (p.name, s.seed, k)
            step = [-p.eta * gi + p.alpha * si for gi, si in zip(g, step)]
            v = [a + c for a, c in zip(v, step)]
        Wf, bf = s.final
        worst = max(abs(y - t) for x, ts in zip(p.patterns, p.targets)
                    for y, t in zip(forward(Wf, bf, x)[1], ts))
        if s.reached[0.1] is not None:
            assert worst < 0.1 and s.reached[0.1] == len(s.errors) - 1
            assert s.reached[0.4] is not None and s.reached[0.4] <= s.reached[0.1]
        else:
            assert worst >= 0.1 and len(s.errors) == r.max_sweeps + 1
    sym = next(s for s in r.runs if s.problem.name.startswith("symmetry"))
    assert len(sym.problem.patterns) == 64 and sum(t[0] for t in sym.problem.targets) == 8
    assert "1,208 sweeps (PDP chapter)" in out


def test_plots_are_written(result: tuple[history.Result, str, Path]) -> None:
    pytest.importorskip("matplotlib", reason="the demo plots need: pip install -e '.[demo]'")
    _, out, folder = result
    for name in ("rings.png", "rhw_sweeps.png"):
        assert (folder / name).read_bytes()[:8] == PNG
        assert f"wrote {folder / name}" in out
    assert out.index("(c) Rumelhart") < out.index("wrote ")


def test_readme_images_of_this_demo_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    paths = re.findall(r"!\[[^\]]*\]\((docs/img/history[^)]*)\)", readme)
    assert paths, "the README shows this demo's pictures"
    for p in paths:
        data = (ROOT / p).read_bytes()
        assert data[:8] == PNG and len(data) < 400_000, p
