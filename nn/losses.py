"""Losses over a batch, softmax, log-sum-exp and L2 regularization.

Every loss takes ``(predictions, targets)`` for a batch of N examples and returns the batch
MEAN as one Value. An example's prediction is a Value (a scalar output) or, for `mse`,
`half_squared_error` and `binary_cross_entropy_with_logits`, a list of Values (a vector
output) with a target list of the same length. `cross_entropy` takes a list of per-example
lists of logits and integer class targets. Plain numbers are accepted wherever a Value is.

Sums are single n-ary ``sum``/``dot`` nodes, so a loss adds a few nodes per example.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

from autograd import Value, dot
from autograd import sum as vsum

__all__ = [
    "mse",
    "half_squared_error",
    "hinge",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "l2",
    "softmax",
    "log_softmax",
    "logsumexp",
]

# a batch: per example a Value or number, or a list of them (a model's output, as it returns it)
Batch = Sequence[Any]


def _value(v: object, who: str, where: str) -> Value:
    if v.__class__ is Value:
        return v  # type: ignore[return-value]
    if isinstance(v, numbers.Real) and not isinstance(v, bool):
        return Value(v)
    raise TypeError(f"{who}: {where} must be a Value or a number, got {type(v).__name__} {v!r:.40}")


def _number(t: object, who: str, where: str) -> float:
    if isinstance(t, Value):
        t = t.data
    if isinstance(t, bool) or not isinstance(t, numbers.Real):
        raise TypeError(f"{who}: {where} must be a number, got {type(t).__name__} {t!r:.40}")
    x = float(t)
    if not math.isfinite(x):
        raise ValueError(f"{who}: {where} must be finite, got {x}")
    return x


def _batch_size(
    predictions: Any, targets: Any, who: str, preds: str = "predictions", targs: str = "targets"
) -> int:
    """Check that a batch is a list of predictions with one target each; return its size."""
    if isinstance(predictions, Value) or not isinstance(predictions, Sequence):
        raise TypeError(f"{who} expects a batch: a list of {preds}, got {type(predictions).__name__}")
    if isinstance(targets, (str, bytes)) or not isinstance(targets, Sequence):
        raise TypeError(f"{who} expects a list of {targs}, got {type(targets).__name__}")
    n = len(predictions)
    if n == 0:
        raise ValueError(f"{who}: the batch is empty")
    if len(targets) != n:
        raise ValueError(f"{who}: {n} {preds} but {len(targets)} targets")
    return n


def _pairs(
    predictions: Any, targets: Any, who: str
) -> tuple[list[Value], list[float], int]:
    """Flatten a batch into (predictions, targets) element pairs; also return the batch size."""
    n = _batch_size(predictions, targets, who)
    ps: list[Value] = []
    ts: list[float] = []
    for i, (p, t) in enumerate(zip(predictions, targets)):
        if isinstance(p, (list, tuple)):
            if not isinstance(t, (list, tuple)) or len(t) != len(p):
                got = f"{len(t)} targets" if isinstance(t, (list, tuple)) else repr(t)
                raise ValueError(f"{who}: example {i} has {len(p)} outputs but {got}")
            for j, (pj, tj) in enumerate(zip(p, t)):
                ps.append(_value(pj, who, f"prediction [{i}][{j}]"))
                ts.append(_number(tj, who, f"target [{i}][{j}]"))
        else:
            ps.append(_value(p, who, f"prediction {i}"))
            ts.append(_number(t, who, f"target {i}"))
    return ps, ts, n


def _mean(terms: list[Value], n: int) -> Value:
    return vsum(terms) * (1.0 / n)


def mse(predictions: Batch, targets: Sequence[Any]) -> Value:
    """Mean squared error over all elements: $\\frac{1}{M} \\sum_k (p_k - t_k)^2$.

    M is the number of scalar outputs in the batch (as ``torch.nn.MSELoss()``). The squares
    are summed by one ``dot(d, d)`` node.
    """
    ps, ts, _ = _pairs(predictions, targets, "mse")
    d = [p - t for p, t in zip(ps, ts)]
    return dot(d, d) * (1.0 / len(d))


def half_squared_error(predictions: Batch, targets: Sequence[Any]) -> Value:
    """$\\frac{1}{N} \\sum_{n} \\frac{1}{2} \\lVert y_n - y'_n \\rVert^2$: half the squared
    Euclidean distance between each example's output and target vectors, averaged over the N
    examples (Rumelhart, Hinton & Williams 1986). Its gradient is $(y_n - y'_n)/N$."""
    ps, ts, n = _pairs(predictions, targets, "half_squared_error")
    d = [p - t for p, t in zip(ps, ts)]
    return dot(d, d) * (0.5 / n)


def hinge(scores: Batch, targets: Sequence[Any], margin: float = 1.0) -> Value:
    """Max-margin loss, as in micrograd's demo: $\\frac{1}{N} \\sum_n \\max(0, m - y_n s_n)$.

    Targets y are -1 or +1 (map 0/1 labels with ``2*y - 1``); s is the raw score; m = margin.
    """
    ps, ts, _ = _pairs(scores, targets, "hinge")
    for i, t in enumerate(ts):
        if t != 1.0 and t != -1.0:
            raise ValueError(
                f"hinge: targets must be -1 or +1, got {t} at index {i} "
                "(map 0/1 labels with 2*y - 1)"
            )
    return _mean([(margin - s * t).relu() for s, t in zip(ps, ts)], len(ps))


def binary_cross_entropy_with_logits(logits: Batch, targets: Sequence[Any]) -> Value:
    """Mean over elements of $-[t \\log \\sigma(z) + (1-t) \\log(1 - \\sigma(z))]$.

    Computed stably as $\\mathrm{softplus}(z) - t z$ ($= \\mathrm{softplus}(-z)$ for t = 1),
    with $\\mathrm{softplus}(z) = \\max(z, 0) + \\log(1 + e^{-|z|})$, so logits of +-1000 give
    finite losses and gradients $\\sigma(z) - t$. Targets t are in [0, 1].
    """
    who = "binary_cross_entropy_with_logits"
    zs, ts, _ = _pairs(logits, targets, who)
    terms = []
    for i, (z, t) in enumerate(zip(zs, ts)):
        if t == 0.0:
            terms.append(z.softplus())
        elif t == 1.0:
            terms.append((-z).softplus())
        elif 0.0 < t < 1.0:
            terms.append(z.softplus() - z * t)
        else:
            raise ValueError(f"{who}: targets must be in [0, 1], got {t} at index {i}")
    return _mean(terms, len(terms))


def _logits(row: object, who: str, what: str = "logits") -> list[Value]:
    if isinstance(row, (str, bytes, Value)) or not isinstance(row, Sequence):
        raise TypeError(
            f"{who}: {what} must be a list of logits (one per class), got {type(row).__name__}"
        )
    if len(row) == 0:
        raise ValueError(f"{who}: {what} has no logits")
    return [_value(z, who, f"{what}[{j}]") for j, z in enumerate(row)]


def logsumexp(values: Iterable[Value | float]) -> Value:
    """$\\log \\sum_i e^{z_i} = m + \\log \\sum_i e^{z_i - m}$ with $m = \\max_i z_i$ (no overflow).

    m is a constant (a leaf): the value does not depend on it, and the gradient is softmax(z).
    """
    zs = _logits(list(values), "logsumexp")
    m = max(z.data for z in zs)
    if math.isinf(m):  # all -inf, or some +inf: fall back to the plain formula's limit
        m = 0.0
    mv = Value(m)
    return vsum([(z - mv).exp() for z in zs]).log() + mv


def softmax(logits: Sequence[Value | float]) -> list[Value]:
    """$\\mathrm{softmax}(z)_i = e^{z_i - m} / \\sum_j e^{z_j - m}$ with $m = \\max_j z_j$."""
    zs = _logits(logits, "softmax")
    mv = Value(max(z.data for z in zs))
    es = [(z - mv).exp() for z in zs]
    s = vsum(es)
    return [e / s for e in es]


def log_softmax(logits: Sequence[Value | float]) -> list[Value]:
    """$\\log \\mathrm{softmax}(z)_i = z_i - \\mathrm{logsumexp}(z)$."""
    zs = _logits(logits, "log_softmax")
    lse = logsumexp(zs)
    return [z - lse for z in zs]


def cross_entropy(logits: Sequence[Any], targets: Sequence[int]) -> Value:
    """Softmax cross-entropy with integer class targets:
    $\\frac{1}{N} \\sum_n [\\mathrm{logsumexp}(z_n) - z_{n, c_n}]$ (the negative log-likelihood of
    the softmax of the logits $z_n$), through a stable log-sum-exp."""
    who = "cross_entropy"
    n = _batch_size(logits, targets, who, "examples of logits", "class indices")
    terms: list[Value] = []
    for i, (row, c) in enumerate(zip(logits, targets)):
        zs = _logits(row, who, f"example {i}")
        if isinstance(c, bool) or not isinstance(c, numbers.Integral):
            raise TypeError(
                f"{who}: target {i} must be an int class index, got {type(c).__name__} {c!r}"
            )
        if not 0 <= c < len(zs):
            raise ValueError(
                f"{who}: target {i} is class {c}, but example {i} has {len(zs)} classes"
            )
        terms.append(logsumexp(zs) - zs[int(c)])
    return _mean(terms, n)


def l2(parameters: Iterable[Value], alpha: float = 1.0) -> Value:
    """L2 regularization, as in micrograd's demo: $\\alpha \\sum_i p_i^2$, one ``dot`` node."""
    ps = list(parameters)
    for i, p in enumerate(ps):
        if p.__class__ is not Value:
            raise TypeError(f"l2: parameters[{i}] must be a Value, got {type(p).__name__}")
    a = _number(alpha, "l2", "alpha")
    return dot(ps, ps) * a
