"""micrograd's own code runs unchanged on nn, and gives micrograd's numbers.

micrograd draws each weight with ``random.uniform(-1, 1)`` from the global generator, neuron by
neuron; ``init="uniform"`` without a seed does the same draws, so after the same
``random.seed`` the two networks hold identical weights and must compute the same function.
"""

from __future__ import annotations

import random

import pytest

import nn
from autograd import Value

micrograd_nn = pytest.importorskip("micrograd.nn")
micrograd_engine = pytest.importorskip("micrograd.engine")


def twin_models() -> tuple[object, nn.MLP]:
    random.seed(1337)
    theirs = micrograd_nn.MLP(2, [16, 16, 1])
    random.seed(1337)
    ours = nn.MLP(2, [16, 16, 1], init="uniform")
    return theirs, ours


def test_same_seed_same_weights_same_order() -> None:
    theirs, ours = twin_models()
    a = [p.data for p in theirs.parameters()]  # type: ignore[attr-defined]
    b = [p.data for p in ours.parameters()]
    assert len(a) == len(b) == 337
    assert a == b


def test_same_outputs_and_gradients() -> None:
    theirs, ours = twin_models()
    rng = random.Random(0)
    for _ in range(5):
        x = [rng.uniform(-2, 2), rng.uniform(-2, 2)]
        s_theirs = theirs([micrograd_engine.Value(v) for v in x])  # type: ignore[operator]
        s_ours = ours(x)
        assert isinstance(s_ours, Value)
        # micrograd adds w_i x_i one at a time onto b; we sum w.x then add b: rounding differs
        assert s_ours.data == pytest.approx(s_theirs.data, rel=1e-12, abs=1e-12)
        theirs.zero_grad()  # type: ignore[attr-defined]
        ours.zero_grad()
        s_theirs.backward()
        s_ours.backward()
        for p, q in zip(theirs.parameters(), ours.parameters()):  # type: ignore[attr-defined]
            assert q.grad == pytest.approx(p.grad, rel=1e-12, abs=1e-12)


def test_micrograds_demo_loop_runs_unchanged() -> None:
    """The training loop of micrograd's demo.ipynb, verbatim apart from the data source."""
    X, y01 = nn.make_moons(n=16, noise=0.1, seed=3)
    y = [2 * t - 1 for t in y01]

    def run(MLP: type, Value: type) -> list[float]:  # micrograd's names
        random.seed(1337)
        model = MLP(2, [16, 16, 1])  # 2-layer neural network

        def loss() -> tuple[object, float]:
            inputs = [list(map(Value, xrow)) for xrow in X]
            scores = list(map(model, inputs))
            losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
            data_loss = sum(losses) * (1.0 / len(losses))
            alpha = 1e-4
            reg_loss = alpha * sum(p * p for p in model.parameters())
            total_loss = data_loss + reg_loss
            accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
            return total_loss, sum(accuracy) / len(accuracy)

        history = []
        for k in range(4):
            total_loss, _acc = loss()
            model.zero_grad()
            total_loss.backward()  # type: ignore[attr-defined]
            learning_rate = 1.0 - 0.9 * k / 100
            for p in model.parameters():
                p.data -= learning_rate * p.grad
            history.append(total_loss.data)  # type: ignore[attr-defined]
        return history

    ours = run(lambda nin, nouts: nn.MLP(nin, nouts, init="uniform"), Value)  # type: ignore[arg-type]
    theirs = run(micrograd_nn.MLP, micrograd_engine.Value)
    assert ours == pytest.approx(theirs, rel=1e-9)


def test_nn_optimizer_and_losses_reproduce_the_hand_written_loop() -> None:
    """hinge + l2 + SGD(LinearDecay(1.0, 0.1, 100)) is micrograd's loop, step for step."""
    X, y01 = nn.make_moons(n=40, noise=0.1, seed=3)
    y = nn.signed(y01)
    _, ours = twin_models()
    _, mirror = twin_models()
    opt = nn.SGD(ours.parameters(), lr=nn.LinearDecay(1.0, 0.1, 100))
    for k in range(5):
        # the library way
        total = nn.hinge([ours(x) for x in X], y) + nn.l2(ours.parameters(), 1e-4)
        opt.zero_grad()
        total.backward()
        opt.step()
        # micrograd's way, on a twin
        scores = [mirror(x) for x in X]
        data_loss = sum((1 + -yi * s).relu() for yi, s in zip(y, scores)) * (1.0 / len(y))  # type: ignore[operator]
        reg = 1e-4 * sum(p * p for p in mirror.parameters())
        total_m = data_loss + reg
        mirror.zero_grad()
        total_m.backward()  # type: ignore[union-attr]
        for p in mirror.parameters():
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
        assert total.data == pytest.approx(total_m.data, rel=1e-12)  # type: ignore[union-attr]
    for p, q in zip(ours.parameters(), mirror.parameters()):
        assert p.data == pytest.approx(q.data, rel=1e-9, abs=1e-12)
