"""jvp, jacobian, hessian and hvp against torch.func.jvp and torch.autograd.functional, float64.

The same random functions of the engine's ops run on Values (ours) and on tensors (torch).
Skipped, with the reason shown, where torch is not installed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

import autograd
from tests.reference.test_ops_torch import TORCH_BINARY, TORCH_UNARY

torch = pytest.importorskip("torch", reason="PyTorch reference tests need torch (pip install torch==2.13.0)")

from tests.op_cases import BINARY, UNARY, domain  # noqa: E402


def pair(seed: int) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """One random function R^3 -> R^2, written twice: on Values and on torch tensors."""
    rng = random.Random(seed)
    unary = [n for n in UNARY if domain(n, 0.1) and domain(n, 0.9)]
    u = [rng.choice(unary) for _ in range(3)]
    b = [rng.choice(list(BINARY)) for _ in range(2)]

    def build(un: dict[str, Any], bi: dict[str, Any], sig: Callable[[Any], Any]) -> Callable[..., Any]:
        def f(x: Any, y: Any, z: Any) -> list[Any]:
            xs = [0.1 + 0.8 * sig(v) for v in (x, y, z)]
            p = un[u[0]](xs[0])
            q = bi[b[0]](xs[1], 0.1 + 0.8 * sig(p))
            return [un[u[1]](0.1 + 0.8 * sig(q * xs[2])), bi[b[1]](xs[0], xs[2]) * un[u[2]](xs[1])]

        return f

    ours = build(UNARY, BINARY, lambda v: v.sigmoid())
    theirs = build(TORCH_UNARY, TORCH_BINARY, torch.sigmoid)
    return ours, theirs


def scalar(f: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *a: f(*a)[0] * f(*a)[1]


def tensors(p: list[float]) -> tuple[Any, ...]:
    return tuple(torch.tensor(x, dtype=torch.float64) for x in p)


@pytest.mark.parametrize("seed", range(20))
def test_jvp_and_jacobians_match_torch(seed: int) -> None:
    ours, theirs = pair(seed)
    rng = random.Random(100 + seed)
    p = [rng.uniform(-2, 2) for _ in range(3)]
    t = [rng.uniform(-1, 1) for _ in range(3)]
    value, tangent = autograd.jvp(ours, p, t)
    tv, tt = torch.func.jvp(lambda *a: torch.stack(theirs(*a)), tensors(p), tensors(t))
    assert value == pytest.approx(tv.tolist(), rel=1e-12, abs=1e-13)
    assert tangent == pytest.approx(tt.tolist(), rel=1e-10, abs=1e-12)
    jt = torch.autograd.functional.jacobian(lambda *a: torch.stack(theirs(*a)), tensors(p))
    expected = [[jt[j][i].item() for j in range(3)] for i in range(2)]
    for mode in ("reverse", "forward"):
        for row, erow in zip(autograd.jacobian(ours, p, mode=mode), expected):
            assert row == pytest.approx(erow, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_hessian_and_hvp_match_torch(seed: int) -> None:
    ours, theirs = pair(seed)
    rng = random.Random(200 + seed)
    p = [rng.uniform(-2, 2) for _ in range(3)]
    v = [rng.uniform(-1, 1) for _ in range(3)]
    ht = torch.autograd.functional.hessian(scalar(theirs), tensors(p))
    expected = [[ht[i][j].item() for j in range(3)] for i in range(3)]
    for row, erow in zip(autograd.hessian(scalar(ours), p), expected):
        assert row == pytest.approx(erow, rel=1e-9, abs=1e-11)
    _, hv = torch.autograd.functional.hvp(scalar(theirs), tensors(p), tensors(v))
    assert autograd.hvp(scalar(ours), p, v) == pytest.approx([h.item() for h in hv], rel=1e-9, abs=1e-11)
