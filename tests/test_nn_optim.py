"""nn.optim: update rules worked by hand, schedules, and argument checks.

(The trajectories are checked against torch.optim in tests/reference/test_nn_torch.py.)
"""

from __future__ import annotations

import math

import pytest

import nn
from autograd import Value


def with_grads(data: list[float], grads: list[float]) -> list[Value]:
    ps = [Value(d) for d in data]
    for p, g in zip(ps, grads):
        p.grad = g
    return ps


def test_sgd_is_p_minus_lr_grad() -> None:
    ps = with_grads([1.0, -2.0], [0.5, -4.0])
    nn.SGD(ps, lr=0.1).step()
    assert [p.data for p in ps] == [1.0 - 0.1 * 0.5, -2.0 - 0.1 * -4.0]


def test_sgd_momentum_and_weight_decay_by_hand() -> None:
    (p,) = ps = with_grads([1.0], [2.0])
    opt = nn.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.5)
    opt.step()
    g1 = 2.0 + 0.5 * 1.0  # gradient plus weight decay
    v1 = g1  # the first step's velocity is the gradient
    p1 = 1.0 - 0.1 * v1
    assert p.data == pytest.approx(p1, rel=1e-15)
    p.grad = 2.0
    opt.step()
    g2 = 2.0 + 0.5 * p1
    v2 = 0.9 * v1 + g2
    assert p.data == pytest.approx(p1 - 0.1 * v2, rel=1e-15)


def test_sgd_nesterov_by_hand() -> None:
    (p,) = ps = with_grads([1.0], [2.0])
    nn.SGD(ps, lr=0.1, momentum=0.9, nesterov=True).step()
    assert p.data == pytest.approx(1.0 - 0.1 * (2.0 + 0.9 * 2.0))


def test_adams_first_step_moves_each_parameter_by_lr_against_its_gradient() -> None:
    # m1 = (1-b1) g, v1 = (1-b2) g^2; after bias correction m/sqrt(v) = sign(g)
    ps = with_grads([0.0, 0.0, 0.0], [3.0, -0.001, 250.0])
    nn.Adam(ps, lr=0.01).step()
    assert [p.data for p in ps] == pytest.approx([-0.01, 0.01, -0.01], rel=1e-5)


def test_adam_by_hand_for_two_steps() -> None:
    b1, b2, eps, lr, wd = 0.8, 0.9, 1e-3, 0.5, 0.1
    (p,) = ps = with_grads([1.0], [2.0])
    opt = nn.Adam(ps, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    x, m, v = 1.0, 0.0, 0.0
    for t, grad in ((1, 2.0), (2, -1.0)):
        p.grad = grad
        opt.step()
        g = grad + wd * x
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = x - lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
        assert p.data == pytest.approx(x, rel=1e-12)


@pytest.mark.parametrize("make", [lambda ps: nn.SGD(ps, lr=0.1, momentum=0.5),
                                  lambda ps: nn.Adam(ps, lr=0.1)])
def test_optimizers_minimise_a_quadratic(make: object) -> None:
    x, y = Value(3.0), Value(-2.0)
    opt = make([x, y])  # type: ignore[operator]
    for _ in range(300):
        loss = (x - 1) * (x - 1) + 10 * (y + 0.5) * (y + 0.5)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert x.data == pytest.approx(1.0, abs=1e-3) and y.data == pytest.approx(-0.5, abs=1e-3)


def test_zero_grad_and_step_count() -> None:
    ps = with_grads([1.0, 2.0], [1.0, 1.0])
    opt = nn.SGD(ps, lr=0.1)
    opt.step()
    opt.step()
    assert opt.steps == 2
    opt.zero_grad()
    assert [p.grad for p in ps] == [0.0, 0.0]


# -- schedules ---------------------------------------------------------------------------------


def test_linear_decay_is_micrograds_schedule() -> None:
    sched = nn.LinearDecay(1.0, 0.1, 100)
    for k in range(100):
        assert sched(k) == pytest.approx(1.0 - 0.9 * k / 100, rel=1e-15)
    assert sched(100) == sched(500) == pytest.approx(0.1)


def test_the_optimizer_evaluates_the_schedule_at_its_step_count() -> None:
    (p,) = ps = with_grads([0.0], [1.0])
    opt = nn.SGD(ps, lr=nn.LinearDecay(1.0, 0.1, 100))
    moved = []
    for _ in range(3):
        before = p.data
        opt.step()
        moved.append(before - p.data)
    assert moved == pytest.approx([1.0, 0.991, 0.982])
    assert opt.current_lr == pytest.approx(0.973)


def test_step_decay() -> None:
    sched = nn.StepDecay(0.5, 0.1, every=10)
    assert [sched(k) for k in (0, 9, 10, 19, 20)] == pytest.approx([0.5, 0.5, 0.05, 0.05, 0.005])


def test_cosine_decay_endpoints_and_midpoint() -> None:
    sched = nn.CosineDecay(1.0, 0.2, steps=50)
    assert sched(0) == 1.0
    assert sched(25) == pytest.approx(0.6)  # halfway down: the mean of start and end
    assert sched(50) == pytest.approx(0.2) and sched(80) == pytest.approx(0.2)
    values = [sched(k) for k in range(51)]
    assert all(a >= b for a, b in zip(values, values[1:]))


# -- argument checks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: nn.SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda: nn.SGD(Value(1.0), lr=0.1), TypeError, "got one Value"),  # type: ignore[arg-type]
        (lambda: nn.SGD([1.0], lr=0.1), TypeError, r"params\[0\] must be a Value"),  # type: ignore[list-item]
        (lambda: nn.SGD([Value(1.0)], lr=-1), ValueError, "lr must be >= 0"),
        (lambda: nn.SGD([Value(1.0)], lr="fast"), TypeError, "lr must be a number"),  # type: ignore[arg-type]
        (lambda: nn.SGD([Value(1.0)], lr=0.1, nesterov=True), ValueError, "needs a momentum"),
        (lambda: nn.Adam([Value(1.0)], betas=(0.9, 1.0)), ValueError, "betas must be < 1"),
        (lambda: nn.Adam([Value(1.0)], betas=(0.9,)), TypeError, "pair"),  # type: ignore[arg-type]
        (lambda: nn.Adam([Value(1.0)], eps=-1.0), ValueError, "eps must be >= 0"),
        (lambda: nn.LinearDecay(1.0, 0.1, 0), ValueError, "steps must be a positive int"),
    ],
)
def test_bad_arguments_are_named(make: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        make()  # type: ignore[operator]


def test_a_parameter_listed_twice_is_rejected() -> None:
    p = Value(1.0)
    with pytest.raises(ValueError, match=r"params\[1\] appears more than once"):
        nn.SGD([p, p], lr=0.1)
