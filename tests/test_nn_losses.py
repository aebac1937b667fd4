"""nn.losses: values against the formulas on floats, gradients against central differences,
stability at extreme logits, and the errors for malformed batches."""

from __future__ import annotations

import math

import pytest

import nn
from autograd import Value, gradcheck, toposort


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def vals(*xs: float) -> list[Value]:
    return [Value(x) for x in xs]


# -- values ------------------------------------------------------------------------------------


def test_mse_is_the_mean_of_squared_errors() -> None:
    p, t = [0.5, -1.0, 2.0], [1.0, 1.0, 1.5]
    expected = sum((a - b) ** 2 for a, b in zip(p, t)) / 3
    assert nn.mse(vals(*p), t).data == pytest.approx(expected, rel=1e-15)


def test_mse_over_vector_outputs_averages_all_elements() -> None:
    p = [vals(1.0, 2.0), vals(0.0, -1.0)]
    t = [[0.0, 2.0], [1.0, 1.0]]
    assert nn.mse(p, t).data == pytest.approx((1 + 0 + 1 + 4) / 4)


def test_half_squared_error_is_half_the_squared_distance_per_example() -> None:
    p = [vals(1.0, 2.0), vals(0.0, -1.0)]
    t = [[0.0, 2.0], [1.0, 1.0]]
    # example 0: |(1, 0)|^2 = 1; example 1: |(-1, -2)|^2 = 5; mean of halves
    assert nn.half_squared_error(p, t).data == pytest.approx((0.5 * 1 + 0.5 * 5) / 2)
    assert nn.half_squared_error(vals(3.0), [1.0]).data == pytest.approx(2.0)


def test_hinge_is_micrograds_max_margin_loss() -> None:
    s, y = [2.0, 0.5, -0.3, -3.0], [1, 1, 1, -1]
    expected = sum(max(0.0, 1 - yi * si) for si, yi in zip(s, y)) / 4
    assert nn.hinge(vals(*s), y).data == pytest.approx(expected, rel=1e-15)
    assert nn.hinge(vals(*s), y, margin=2.0).data == pytest.approx(
        sum(max(0.0, 2 - yi * si) for si, yi in zip(s, y)) / 4
    )


def test_bce_with_logits_matches_the_definition() -> None:
    z, t = [0.3, -1.2, 2.5, 0.0], [1.0, 0.0, 0.25, 1.0]
    expected = -sum(
        ti * math.log(sigmoid(zi)) + (1 - ti) * math.log(1 - sigmoid(zi)) for zi, ti in zip(z, t)
    ) / 4
    assert nn.binary_cross_entropy_with_logits(vals(*z), t).data == pytest.approx(
        expected, rel=1e-12
    )


def test_bce_with_logits_is_stable_at_plus_minus_1000() -> None:
    z = vals(1000.0, -1000.0, 1000.0, -1000.0)
    loss = nn.binary_cross_entropy_with_logits(z, [1, 0, 0, 1])
    # right and confident: 0; wrong and confident: |z| = 1000
    assert loss.data == pytest.approx((0 + 0 + 1000 + 1000) / 4)
    loss.backward()
    # d/dz = (sigma(z) - t) / N
    assert [v.grad for v in z] == pytest.approx([0.0, 0.0, 0.25, -0.25])


def test_cross_entropy_is_the_negative_log_softmax_of_the_target() -> None:
    logits = [[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]
    targets = [0, 2]
    nll = 0.0
    for z, c in zip(logits, targets):
        nll += -math.log(math.exp(z[c]) / sum(math.exp(v) for v in z))
    out = nn.cross_entropy([vals(*z) for z in logits], targets)
    assert out.data == pytest.approx(nll / 2, rel=1e-12)


def test_cross_entropy_is_stable_for_huge_logits() -> None:
    z = vals(1000.0, 0.0, -1000.0)
    loss = nn.cross_entropy([z], [1])
    assert loss.data == pytest.approx(1000.0)
    loss.backward()
    # gradient softmax(z) - onehot(1) = (1, -1, 0)
    assert [v.grad for v in z] == pytest.approx([1.0, -1.0, 0.0], abs=1e-300)


def test_softmax_sums_to_one_and_is_shift_invariant() -> None:
    a = [v.data for v in nn.softmax(vals(1.0, 2.0, 3.0))]
    b = [v.data for v in nn.softmax(vals(1001.0, 1002.0, 1003.0))]
    assert sum(a) == pytest.approx(1.0)
    assert a == pytest.approx(b, rel=1e-12)
    e = [math.exp(x) for x in (1.0, 2.0, 3.0)]
    assert a == pytest.approx([x / sum(e) for x in e], rel=1e-12)
    assert [v.data for v in nn.log_softmax(vals(1.0, 2.0, 3.0))] == pytest.approx(
        [math.log(x) for x in a]
    )
    assert nn.logsumexp(vals(1000.0, 1000.0)).data == pytest.approx(1000 + math.log(2))


def test_l2_is_alpha_times_the_sum_of_squares_in_one_dot_node() -> None:
    ps = vals(1.0, -2.0, 3.0)
    reg = nn.l2(ps, 1e-4)
    assert reg.data == pytest.approx(1e-4 * 14)
    assert [v._op for v in toposort(reg) if v._op] == ["dot", "*"]
    reg.backward()
    assert [p.grad for p in ps] == pytest.approx([2e-4 * 1, 2e-4 * -2, 2e-4 * 3])


def test_a_batch_loss_is_a_few_nodes_per_example() -> None:
    scores = [Value(0.1 * i) for i in range(100)]
    loss = nn.hinge(scores, [1] * 100)
    ops = [v._op for v in toposort(loss) if v._op]
    assert ops.count("sum") == 1  # one n-ary node sums the batch
    assert len(ops) <= 3 * 100 + 3


# -- gradients against central differences -----------------------------------------------------


def test_gradients_of_every_loss_pass_gradcheck() -> None:
    pts = [0.3, -0.7, 1.1]
    assert gradcheck(lambda a, b, c: nn.mse([a, b, c], [1.0, 0.0, -1.0]), pts)
    assert gradcheck(lambda a, b, c: nn.half_squared_error([[a, b], [c]], [[1, 0], [2]]), pts)
    assert gradcheck(lambda a, b, c: nn.hinge([a, b, c], [1, -1, 1]), [0.3, -0.7, 1.6])
    assert gradcheck(
        lambda a, b, c: nn.binary_cross_entropy_with_logits([a, b, c], [1, 0, 0.3]), pts
    )
    assert gradcheck(lambda a, b, c: nn.cross_entropy([[a, b, c], [c, a, b]], [2, 0]), pts)
    assert gradcheck(lambda a, b, c: nn.softmax([a, b, c])[1], pts)
    assert gradcheck(lambda a, b, c: nn.l2([a, b, c], 0.5), pts)


# -- errors ------------------------------------------------------------------------------------


def test_hinge_rejects_zero_one_labels_with_a_hint() -> None:
    with pytest.raises(ValueError, match=r"targets must be -1 or \+1, got 0.0 at index 1.*2\*y - 1"):
        nn.hinge(vals(0.1, 0.2), [1, 0])


def test_bce_rejects_targets_outside_0_1() -> None:
    with pytest.raises(ValueError, match=r"targets must be in \[0, 1\], got -1.0 at index 0"):
        nn.binary_cross_entropy_with_logits(vals(0.1), [-1])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: nn.mse([], []), ValueError, "the batch is empty"),
        (lambda: nn.mse(vals(1.0, 2.0), [1.0]), ValueError, "2 predictions but 1 targets"),
        (lambda: nn.mse(Value(1.0), [1.0]), TypeError, "expects a batch"),
        (lambda: nn.mse(vals(1.0), ["a"]), TypeError, "target 0 must be a number, got str"),
        (lambda: nn.mse(["a"], [1.0]), TypeError, "prediction 0 must be a Value or a number"),
        (lambda: nn.mse(vals(1.0), [math.nan]), ValueError, "target 0 must be finite"),
        (lambda: nn.mse([vals(1.0, 2.0)], [[1.0]]), ValueError, "example 0 has 2 outputs but 1"),
        (lambda: nn.cross_entropy([vals(1.0, 2.0)], [2]), ValueError, "class 2, but example 0 has 2"),
        (lambda: nn.cross_entropy([vals(1.0, 2.0)], [1.0]), TypeError, "int class index"),
        (lambda: nn.cross_entropy([vals(1.0, 2.0)], [True]), TypeError, "int class index"),
        (lambda: nn.cross_entropy(vals(1.0, 2.0), [0, 1]), TypeError, "list of logits"),
        (lambda: nn.cross_entropy([[]], [0]), ValueError, "example 0 has no logits"),
        (lambda: nn.l2([1.0], 0.1), TypeError, r"parameters\[0\] must be a Value"),
    ],
)
def test_malformed_batches_are_named(call: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call()  # type: ignore[operator]
