"""The article demos (issue 9), each run in its fast mode, checked against independent sums.

Every number a demo takes from the engine is compared here with a computation that does not
use the engine: the closed-form expressions of the article written out in plain Python, central
differences of a plain-Python loss, or a direct iteration of the update rule.
"""

from __future__ import annotations

import builtins
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"


def needs_matplotlib() -> None:
    pytest.importorskip("matplotlib", reason="the demo plots need: pip install -e '.[demo]'")


def assert_pngs(folder: Path, names: list[str], out: str) -> None:
    for name in names:
        path = folder / name
        assert path.read_bytes()[:8] == PNG, name
        assert f"wrote {path}" in out


def central_diff(f: object, xs: list[float], h: float = 1e-6) -> list[float]:
    fn = f  # a plain-Python function of a list of floats
    out = []
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        out.append((fn(up) - fn(down)) / (2 * h))  # type: ignore[operator]
    return out


# --- matrix_form ---------------------------------------------------------------------------


def plain_loss(Ws: list[list[list[float]]], x: list[float], y: list[float]) -> float:
    """C = 1/2 ||a^3 - y||^2 for the tanh, tanh, logistic network, written out directly."""
    a = x
    for li, W in enumerate(Ws):
        z = [sum(w * v for w, v in zip(row, a)) for row in W]
        a = [math.tanh(v) for v in z] if li < len(Ws) - 1 else [1 / (1 + math.exp(-v)) for v in z]
    return 0.5 * sum((p - t) ** 2 for p, t in zip(a, y))


def test_matrix_form_gradient_equals_the_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    needs_matplotlib()
    from demos import matrix_form

    r = matrix_form.main(["--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert r.max_diff_W < 1e-12 and r.max_diff_x < 1e-12
    assert "largest |formula - engine .grad| over all 41 weights" in out
    # the engine's gradient against central differences of a loss written here
    Ws, x, y = matrix_form.random_network(matrix_form.SIZES, 0)
    flat = [w for W in Ws for row in W for w in row]
    shapes = [(len(W), len(W[0])) for W in Ws]

    def loss_of(ws: list[float]) -> float:
        it = iter(ws)
        return plain_loss([[[next(it) for _ in range(c)] for _ in range(r_)] for r_, c in shapes], x, y)

    numeric = central_diff(loss_of, flat)
    engine = [g for W in r.engine.grad_W for row in W for g in row]
    assert max(abs(a - b) for a, b in zip(engine, numeric)) < 1e-8
    numeric_x = central_diff(lambda xs: plain_loss(Ws, xs, y), x)
    assert max(abs(a - b) for a, b in zip(r.engine.grad_x, numeric_x)) < 1e-8
    assert abs(r.engine.loss - plain_loss(Ws, x, y)) < 1e-15
    # the counted multiplications against the closed forms for n units in each of L layers:
    # backward: L (n + n^2); forward: n^2 + (L - 1)(n^3 + n^2) + n^2
    n, L3 = r.width, r.depth
    for L, nb, nf in r.depth_sweep:
        assert nb == L * (n + n * n)
        assert nf == 2 * n * n + (L - 1) * (n**3 + n * n)
    for n, nb, nf in r.width_sweep:
        assert (nb, nf) == (L3 * (n + n * n), 2 * n * n + (L3 - 1) * (n**3 + n * n))
    assert_pngs(tmp_path, ["multiplications.png"], out)


# --- error_surface -------------------------------------------------------------------------


def test_error_surface_paths_follow_the_closed_form(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    needs_matplotlib()
    from demos import error_surface

    r = error_surface.main(["--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    eta = error_surface.ETA
    for start, path in zip(error_surface.STARTS, r.one_case):
        assert len(path) == r.steps + 1
        # E = (w1 + w2)^2: s = w1 + w2 shrinks by (1 - 4 eta) per step, d = w1 - w2 stays
        s0, d = start[0] + start[1], start[0] - start[1]
        for k, (w1, w2, E) in enumerate(path):
            s = s0 * (1 - 4 * eta) ** k
            assert abs(w1 - (s + d) / 2) < 1e-12 and abs(w2 - (s - d) / 2) < 1e-12
            assert abs(E - s * s) < 1e-12
        assert abs(path[-1][0] + path[-1][1]) < 1e-7  # on the valley floor w1 = -w2
    ends = {round(p[-1][0] - p[-1][1], 6) for p in r.one_case}
    assert len(ends) == len(r.one_case)  # different minima
    # two cases: grad E = H w - b with H = [[2, 2], [2, 4]], b = (0, 2); minimum (-1, 1)
    rate = max(abs(1 - eta * (3 - math.sqrt(5))), abs(1 - eta * (3 + math.sqrt(5))))
    for start, path in zip(error_surface.STARTS, r.two_cases):
        w1, w2 = start
        for p in path:
            assert abs(p[0] - w1) < 1e-12 and abs(p[1] - w2) < 1e-12
            w1, w2 = w1 - eta * (2 * w1 + 2 * w2), w2 - eta * (2 * w1 + 4 * w2 - 2)
        d0 = math.hypot(start[0] + 1, start[1] - 1)
        assert math.hypot(path[-1][0] + 1, path[-1][1] - 1) <= d0 * rate**r.steps * (1 + 1e-9)
    assert "(w1 + w2)^2" in out
    assert_pngs(tmp_path, ["parabola.png", "surface_one_case.png", "surface_two_cases.png"], out)


# --- delta_rule ----------------------------------------------------------------------------


def xor_error(flat: list[float]) -> float:
    """E = sum of 1/2 (t - y)^2 of the 2-3-1 logistic net (bias first in each neuron's weights)."""
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    hidden = [flat[3 * j: 3 * j + 3] for j in range(3)]
    out = flat[9:13]
    E = 0.0
    for (x1, x2), t in (((0, 0), 0), ((0, 1), 1), ((1, 0), 1), ((1, 1), 0)):
        h = [sig(w[0] + w[1] * x1 + w[2] * x2) for w in hidden]
        y = sig(out[0] + out[1] * h[0] + out[2] * h[1] + out[3] * h[2])
        E += 0.5 * (t - y) ** 2
    return E


def test_delta_rule_gradient_and_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    needs_matplotlib()
    from demos import delta_rule

    r = delta_rule.main(["--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    flat0 = [w for layer in r.w0 for wj in layer for w in wj]
    numeric = central_diff(xor_error, flat0)
    engine = [g for layer in r.engine_grad for gj in layer for g in gj]
    formulas = [g for layer in r.formula_grad for gj in layer for g in gj]
    assert max(abs(a - b) for a, b in zip(engine, numeric)) < 1e-8
    assert max(abs(a - b) for a, b in zip(formulas, engine)) < 1e-12 and r.grad_diff < 1e-12
    # Delta w = -eta dE/dw, with the gradient from central differences
    stepped = [w for layer in r.engine_step for wj in layer for w in wj]
    for w, w_new, g in zip(flat0, stepped, numeric):
        assert abs(w_new - (w - delta_rule.ETA * g)) < 1e-8
    assert r.step_diff < 1e-12
    # the output delta of the first case by hand: (y - t) y (1 - y)
    y = r.first_case.outputs[-1][0]
    assert abs(r.first_case.delta[-1][0] - (y - 0.0) * y * (1 - y)) < 1e-15
    assert len(r.engine_errors) == r.epochs and max(r.weight_diffs) < 1e-10
    assert r.engine_errors[-1] < r.engine_errors[0]
    # the trained weights' error, recomputed here from the formula copy's error curve
    assert abs(r.formula_errors[0] - xor_error(flat0)) < 1e-14
    assert "largest difference" in out
    assert_pngs(tmp_path, ["training.png"], out)


# --- second_order --------------------------------------------------------------------------


def test_second_order_recursion_equals_the_engine_hessian(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    needs_matplotlib()
    from demos import second_order as so

    r = so.main(["--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert r.max_diff < 1e-10
    W, x1, y = so.network(0)

    def loss_from(layer: int, x: list[float]) -> float:  # L as a function of x^(layer), plain floats
        h = x
        for Wm in W[layer - 1:]:
            a = [math.tanh(v) for v in h]
            h = [sum(w * aj for w, aj in zip(row, a)) for row in Wm]
        return 0.5 * sum((math.tanh(v) - t) ** 2 for v, t in zip(h, y))

    xs = [x1]
    for Wm in W:
        xs.append([sum(w * math.tanh(v) for w, v in zip(row, xs[-1])) for row in Wm])
    h = 1e-4
    for layer in range(1, len(so.SIZES) + 1):
        x = xs[layer - 1]
        n = len(x)
        for i in range(n):
            for j in range(n):
                def at(di: float, dj: float, i: int = i, j: int = j, x: list[float] = x,
                       layer: int = layer) -> float:
                    p = list(x)
                    p[i] += di
                    p[j] += dj
                    return loss_from(layer, p)
                fd = (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h)
                assert abs(r.H_engine[layer - 1][i][j] - fd) < 1e-6, (layer, i, j)
    # Levenberg-Marquardt ends at a stationary point: J^T r = 0, J by central differences here
    def resid(c: list[float]) -> list[float]:
        return [c[0] * math.exp(-c[1] * t) + c[2] - yk for t, yk in zip(r.ts, r.ys)]
    c = r.lm_c
    J_cols = []
    for p in range(3):
        up, down = list(c), list(c)
        up[p] += 1e-6
        down[p] -= 1e-6
        J_cols.append([(a - b) / 2e-6 for a, b in zip(resid(up), resid(down))])
    res = resid(c)
    assert max(abs(sum(Jk * rk for Jk, rk in zip(col, res))) for col in J_cols) < 1e-6
    assert abs(r.lm_losses[-1] - 0.5 * sum(v * v for v in res)) < 1e-12
    # gradient descent's first step, from the gradient J^T r at the start
    start = list(so.START)
    res0 = resid(start)
    for eta, losses in r.gd.items():
        g = []
        for p in range(3):
            up, down = list(start), list(start)
            up[p] += 1e-6
            down[p] -= 1e-6
            g.append(sum(rk * (a - b) / 2e-6 for rk, a, b in zip(res0, resid(up), resid(down))))
        c1 = [s - eta * gp for s, gp in zip(start, g)]
        assert abs(losses[1] - 0.5 * sum(v * v for v in resid(c1))) < 1e-6
    # the claim: Levenberg-Marquardt needs fewer iterations than the best gradient descent
    best = r.gd_iters[r.best_eta]
    assert r.lm_iters is not None and best is not None and r.lm_iters < best
    assert f"Levenberg-Marquardt reaches the target after {r.lm_iters} iterations" in out
    assert_pngs(tmp_path, ["fit_loss.png", "fit_curve.png"], out)


# --- adjoint_graph -------------------------------------------------------------------------


def derivation_error(p: dict[str, float]) -> float:
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    o3 = sig(p["w13"] * p["x1"] + p["w23"] * p["x2"])
    o4 = sig(p["w14"] * p["x1"] + p["w24"] * p["x2"])
    y = sig(p["w35"] * o3 + p["w45"] * o4)
    return 0.5 * (1.0 - y) ** 2


def test_adjoint_graph_adjoints_and_pictures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from autograd.viz import available_renderers
    from demos import adjoint_graph as ag

    r = ag.main(["--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    point = {**ag.WEIGHTS, "x1": ag.X[0], "x2": ag.X[1]}
    names = list(point)
    numeric = central_diff(lambda v: derivation_error(dict(zip(names, v))), list(point.values()))
    for name, g in zip(names, numeric):
        assert abs(r.adjoints[name] - g) < 1e-9, name
    assert abs(r.error - derivation_error(point)) < 1e-15
    # dE/dnet5 = (y - t) y (1 - y), the output delta, from y recomputed here
    y = r.output
    assert abs(r.adjoints["net5"] - (y - 1.0) * y * (1 - y)) < 1e-15
    assert r.max_diff < 1e-15
    tape_text = (tmp_path / "tape.txt").read_text(encoding="utf-8")
    assert "# net3" in tape_text and "adjoint=" in tape_text
    if available_renderers("svg"):
        for name in ("forward", "adjoint"):
            svg = (tmp_path / f"{name}.svg").read_text(encoding="utf-8")
            assert "<svg" in svg
            assert f"wrote {tmp_path / f'{name}.svg'}" in out
        adjoint_svg = (tmp_path / "adjoint.svg").read_text(encoding="utf-8").replace("&#45;", "-")
        assert f"adjoint {r.adjoints['net5']:.4f}" in adjoint_svg  # the node shows dE/dnet5
        assert "∂net5/∂w35" in adjoint_svg  # an edge shows its local derivative
    if available_renderers("png"):
        assert (tmp_path / "adjoint.png").read_bytes()[:8] == PNG


def test_adjoint_graph_without_a_renderer_writes_dot_text_and_the_tape(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from demos import adjoint_graph as ag

    monkeypatch.setattr(ag, "available_renderers", lambda fmt="svg": [])
    r = ag.main(["--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert r.renderer is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adjoint.gv", "forward.gv", "tape.txt"]
    assert (tmp_path / "adjoint.gv").read_text(encoding="utf-8").startswith("digraph adjoint")
    assert "no Graphviz renderer is installed" in out and "pip install 'adjointgrad[viz]'" in out


# --- local_minima --------------------------------------------------------------------------


def plain_xor_error(p: list[float]) -> float:
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    E = 0.0
    for (x1, x2), t in (((0, 0), 0), ((0, 1), 1), ((1, 0), 1), ((1, 1), 0)):
        h1 = sig(p[0] * x1 + p[1] * x2 + p[2])
        h2 = sig(p[3] * x1 + p[4] * x2 + p[5])
        E += 0.5 * (t - sig(p[6] * h1 + p[7] * h2 + p[8])) ** 2
    return E


def test_eigenvalues_of_a_rotated_diagonal_matrix() -> None:
    from demos._article import eigenvalues

    c, s = math.cos(0.7), math.sin(0.7)
    R = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
    D = [3.0, -1.5, 0.25]
    A = [[sum(R[i][k] * D[k] * R[j][k] for k in range(3)) for j in range(3)] for i in range(3)]
    assert max(abs(a - b) for a, b in zip(eigenvalues(A), sorted(D))) < 1e-12


def test_local_minima_counts_and_criteria(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    needs_matplotlib()
    from autograd import hessian
    from demos import local_minima as lm

    r = lm.main(["--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert [x.seed for x in r.xor] == list(range(10))
    for x in r.xor:
        assert len(x.errors) == r.steps + 1
        assert abs(plain_xor_error(x.weights) - x.errors[-1]) < 1e-12
        assert x.solved == (plain_xor_error(x.weights) < lm.SOLVED)
        # the first step is w - eta dE/dw, the gradient by central differences here
        w0 = lm.initial_weights(x.seed)
        w1 = [w - lm.ETA * g for w, g in zip(w0, central_diff(plain_xor_error, w0))]
        assert abs(plain_xor_error(w1) - x.errors[1]) < 1e-8
    assert f"solved (E < {lm.SOLVED}): {sum(x.solved for x in r.xor)} of 10" in out
    for x in r.xor:  # the plateau: E stayed >= 0.4 before that step, dropped below at it
        k = x.plateau_steps
        assert k is not None and min(x.errors[:k], default=1.0) >= 0.4 > x.errors[k]
    assert r.stalled  # seeds 2 and 5 stall in the quick run
    for x in r.stalled:
        # the Hessian against second differences, and the smallest eigenvalue as a lower bound
        H = hessian(lm.xor_error, x.weights)
        h = 1e-4
        for i in range(9):
            for j in range(9):
                def at(di: float, dj: float, i: int = i, j: int = j, w: list[float] = x.weights) -> float:
                    p = list(w)
                    p[i] += di
                    p[j] += dj
                    return plain_xor_error(p)
                fd = (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h)
                assert abs(H[i][j] - fd) < 1e-6
        assert x.min_eigenvalue is not None
        rng = random.Random(x.seed)
        for _ in range(20):
            v = [rng.gauss(0, 1) for _ in range(9)]
            quad = sum(v[i] * H[i][j] * v[j] for i in range(9) for j in range(9))
            assert quad >= x.min_eigenvalue * sum(c * c for c in v) - 1e-12
    # the encoder's success criterion, recomputed from its parameters in plain Python
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    for e in r.encoder:
        enc, dec = e.result.model.encoder, e.result.model.decoder
        hidden, right = [], []
        for k in range(8):
            x = [1.0 if i == k else 0.0 for i in range(8)]
            hs = [sig(sum(w.data * xi for w, xi in zip(n.w, x)) + n.b.data) for n in enc.neurons]
            zs = [sum(w.data * hi for w, hi in zip(n.w, hs)) + n.b.data for n in dec.neurons]
            hidden.append(hs)
            right.append(max(range(8), key=zs.__getitem__) == k)
        binary = all(v < 0.2 or v > 0.8 for hs in hidden for v in hs)
        codes = {tuple(v > 0.5 for v in hs) for hs in hidden}
        assert e.success == (all(right) and binary and len(codes) == 8)
    assert_pngs(tmp_path, ["xor_final_errors.png", "xor_curves.png", "encoder.png"], out)


# --- forward_vs_reverse --------------------------------------------------------------------


def test_forward_vs_reverse_jacobians_and_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    needs_matplotlib()
    from autograd import jacobian
    from demos import forward_vs_reverse as fr

    r = fr.main(["--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert r.max_diff_modes < 1e-12 and r.max_diff_formula < 1e-12
    # both modes against central differences of f written here with plain floats
    As, B, x = fr.problem(5, 3)

    def f_plain(xs: list[float]) -> list[float]:
        h = xs
        for A in As:
            h = [math.tanh(sum(a * v for a, v in zip(row, h))) for row in A]
        return [sum(b * v for b, v in zip(row, h)) for row in B]

    f = fr.make_f(As, B)
    for mode in ("forward", "reverse"):
        J = jacobian(f, x, mode=mode)
        for j in range(5):
            up, down = list(x), list(x)
            up[j] += 1e-6
            down[j] -= 1e-6
            col = [(a - b) / 2e-6 for a, b in zip(f_plain(up), f_plain(down))]
            assert max(abs(J[i][j] - col[i]) for i in range(3)) < 1e-8
    # the counts: edges of the body, H (2n + 1) + (DEPTH - 1) H (2H + 1), and 2H per output
    H, D = fr.HIDDEN, fr.DEPTH
    for p in r.vary_m + r.vary_n:
        body = H * (2 * p.n + 1) + (D - 1) * H * (2 * H + 1)
        assert p.forward_mults == p.n * (body + 2 * H * p.m)
        assert p.reverse_mults == p.m * (body + 2 * H)
        assert p.forward_s > 0 and p.reverse_s > 0
    assert [p.m for p in r.vary_m] == [1, 2, 4, 8, 16, 32] and {p.n for p in r.vary_m} == {r.fixed}
    assert "the multiplication counts cross between" in out
    assert_pngs(tmp_path, ["crossover.png"], out)


# --- the listing, the commands, and running without matplotlib -----------------------------


def test_python_m_demos_lists_every_demo_with_its_docstring() -> None:
    import ast

    proc = subprocess.run([sys.executable, "-m", "demos"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    modules = sorted(p.stem for p in (ROOT / "demos").glob("*.py") if not p.stem.startswith("_"))
    for name in ("matrix_form", "error_surface", "delta_rule", "second_order", "forward_vs_reverse",
                 "local_minima", "vanishing_gradients", "adjoint_graph", "per_example", "history", "moons",
                 "xor", "encoder", "live", "benchmark"):
        assert name in modules
    listed = [line.split()[2].removeprefix("demos.") for line in lines if line.startswith("  python -m")]
    assert sorted(listed) == modules  # every module once, nothing else
    assert listed[:10] == ["matrix_form", "error_surface", "delta_rule", "second_order",
                           "forward_vs_reverse", "local_minima", "vanishing_gradients",
                           "adjoint_graph", "per_example", "history"]
    for name in modules:
        source = (ROOT / "demos" / f"{name}.py").read_text(encoding="utf-8")
        first = (ast.get_docstring(ast.parse(source)) or "").splitlines()[0]
        words = first.split(":")[0].split()[:4]  # its opening words appear on the demo's line
        line = next(x for x in lines if x.startswith(f"  python -m demos.{name} "))
        assert " ".join(words) in line, (name, line)
    assert "[Matrix multiplication]" in proc.stdout and "[Limitations]" in proc.stdout
    assert "[History]" in proc.stdout


def test_a_demo_runs_as_a_command(tmp_path: Path) -> None:
    needs_matplotlib()
    proc = subprocess.run(
        [sys.executable, "-m", "demos.error_surface", "--quick", "--out", str(tmp_path / "es")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "es" / "surface_one_case.png").read_bytes()[:8] == PNG
    assert "every path ends on the valley floor w1 = -w2" in proc.stdout


@pytest.mark.parametrize("name", ["matrix_form", "error_surface"])
def test_without_matplotlib_the_numbers_print_and_the_pip_command_is_named(
        name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import importlib

    real_import = builtins.__import__

    def no_matplotlib(mod: str, *args: object, **kwargs: object) -> object:
        if mod.split(".")[0] == "matplotlib":
            raise ImportError("No module named 'matplotlib'", name="matplotlib")
        return real_import(mod, *args, **kwargs)  # type: ignore[arg-type]

    demo = importlib.import_module(f"demos.{name}")
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    demo.main(["--quick", "--out", str(tmp_path / "plots")])
    out = capsys.readouterr().out
    assert "plots skipped" in out and "pip install -e '.[demo]'" in out
    assert not (tmp_path / "plots").exists()
