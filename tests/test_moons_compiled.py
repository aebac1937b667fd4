"""demos.moons trained through a compiled program (the default) against the eager run.

The compiled run must give the eager run's loss at every step (to 1e-9 relative; it is built
to be bit for bit), the same accuracies (which it reads from the backward pass, see
`moons.BatchedLoss`) and the same trained weights; the accuracy read that way is checked
against the sign of each score on hand-made cases (zero scores, inactive hinges).
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from autograd import no_grad
from autograd.programs import batch as B
from demos import moons
from nn import MLP, make_moons, signed


@pytest.fixture(params=["numpy", "python"])
def backend(request: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "python":
        monkeypatch.setitem(sys.modules, "numpy", None)  # `import numpy` now fails
    else:
        pytest.importorskip("numpy")
    assert B.default_backend() == request.param
    return str(request.param)


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_compiled_run_gives_the_eager_losses(optimizer: str, backend: str) -> None:
    kw = dict(steps=25, n=30, seed=3, hidden=(8, 8), optimizer=optimizer)
    eager = moons.train(**kw, compiled=False)  # type: ignore[arg-type]
    comp = moons.train(**kw, compiled=True)  # type: ignore[arg-type]
    assert comp.compiled and not eager.compiled
    assert len(comp.losses) == len(eager.losses) == 25
    assert max(rel(a, b) for a, b in zip(comp.losses, eager.losses)) <= 1e-9
    assert comp.losses[-1] < comp.losses[0]
    assert comp.accuracies == eager.accuracies
    assert comp.final_accuracy == eager.final_accuracy
    ws = [p.data for p in comp.model.parameters()]
    assert max(rel(a, b) for a, b in zip(ws, [p.data for p in eager.model.parameters()])) <= 1e-9


def eager_accuracy(model: MLP, X: list[list[float]], y: list[int]) -> float:
    with no_grad():
        right = sum((model(x).data > 0) == (t > 0) for x, t in zip(X, y))  # type: ignore[union-attr]
    return right / len(y)


def test_accuracy_from_the_per_example_gradients_matches_the_scores(backend: str) -> None:
    X, labels = make_moons(40, 0.1, seed=1)
    y = signed(labels)
    model = MLP(2, [6, 1], seed=1)
    out = model.layers[-1].parameters()
    start = [p.data for p in out]
    seen = {"inactive": 0, "active right": 0, "active wrong": 0}
    for scale in (0.0, 1.0, 50.0, -50.0):  # 0: every score exactly 0; +-50: many inactive hinges
        for p, w in zip(out, start):
            p.data = scale * w
        with no_grad():
            ys = [t * model(x).data for x, t in zip(X, y)]  # type: ignore[union-attr]
        seen["inactive"] += sum(v >= 1 for v in ys)
        seen["active right"] += sum(0 < v < 1 for v in ys)
        seen["active wrong"] += sum(v <= 0 for v in ys)
        _, acc = moons.BatchedLoss(model, X, y, 1e-4).step()
        assert acc == eager_accuracy(model, X, y), scale
        if scale == 0.0:  # s = 0: right exactly for the y = -1 points
            assert acc == sum(t < 0 for t in y) / len(y)
    assert min(seen.values()) > 0, seen  # every branch was taken


def test_eager_and_compiled_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert moons.parse_args([]).compiled is True
    assert moons.parse_args(["--compiled"]).compiled is True
    assert moons.parse_args(["--eager"]).compiled is False
    with pytest.raises(SystemExit):
        moons.parse_args(["--eager", "--compiled"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_grid_scores_are_the_model_scores_and_leave_grad_alone(backend: str) -> None:
    model = MLP(2, [8, 8, 1], seed=2)
    for k, p in enumerate(model.parameters()):
        p.grad = 0.25 * k
    pts = [[-1.5 + 0.1 * i, -1.0 + 0.07 * j] for i in range(12) for j in range(9)]
    got = moons.grid_scores(model, pts)
    with no_grad():
        want = [model(x).data for x in pts]  # type: ignore[union-attr]
    assert len(got) == len(pts)
    assert all(abs(a - b) <= 1e-12 * max(abs(a), abs(b), 1.0) for a, b in zip(got, want))
    assert [p.grad for p in model.parameters()] == [0.25 * k for k in range(len(model.parameters()))]
