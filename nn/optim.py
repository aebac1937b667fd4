"""Optimizers (`SGD`, `Adam`) and learning-rate schedules (`LinearDecay`, `StepDecay`,
`CosineDecay`).

An optimizer holds a list of parameters (pass a list, or a `Module`: ``Adam(model)`` takes
``model.parameters()``); ``step()`` updates each ``p.data`` from ``p.grad``
(plain float arithmetic, no graph), ``zero_grad()`` resets the gradients. The update rules are
PyTorch's (``torch.optim.SGD`` / ``torch.optim.Adam``, checked in tests/reference), written in the
same order of floating-point operations.

The learning rate is a number or a schedule: any callable ``lr(k)`` giving the rate for step k
(k = 0 for the first ``step()``). micrograd's demo uses ``lr(k) = 1.0 - 0.9 k / 100``, which is
``LinearDecay(1.0, 0.1, 100)``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable

from autograd import Value

from .base import Module
from .modules import _check_size

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "Schedule",
    "LinearDecay",
    "StepDecay",
    "CosineDecay",
]

Schedule = Callable[[int], float]


def _real(x: object, what: str, low: float = 0.0, high: float = math.inf) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} must be a number, got {type(x).__name__} {x!r:.40}")
    v = float(x)
    if not low <= v <= high or math.isnan(v):
        hi = "" if high == math.inf else f" and <= {high}"
        raise ValueError(f"{what} must be >= {low}{hi}, got {v}")
    return v


class Optimizer:
    """Base class: parameters, a learning rate (number or schedule), `zero_grad`, `step`."""

    def __init__(self, params: Module | Iterable[Value], lr: float | Schedule) -> None:
        who = type(self).__name__
        if isinstance(params, Module):
            params = params.parameters()
        elif isinstance(params, Value):
            raise TypeError(f"{who} expects a list of parameters (or a Module), got one Value")
        elif isinstance(params, (str, bytes, dict)) or not hasattr(params, "__iter__"):
            raise TypeError(
                f"{who} expects a Module or a list of parameters (model.parameters()), "
                f"got {type(params).__name__}"
            )
        ps = list(params)
        if not ps:
            raise ValueError(f"{who} got an empty parameter list")
        seen: set[int] = set()
        for i, p in enumerate(ps):
            if p.__class__ is not Value:
                raise TypeError(f"{who}: params[{i}] must be a Value, got {type(p).__name__}")
            if id(p) in seen:
                raise ValueError(f"{who}: params[{i}] appears more than once")
            seen.add(id(p))
        self.params = ps
        self.lr: float | Schedule = lr if callable(lr) else _real(lr, "lr")
        self.steps = 0  # how many step() calls so far

    @property
    def current_lr(self) -> float:
        """The learning rate the next `step()` will use."""
        lr = self.lr
        return float(lr(self.steps)) if callable(lr) else lr

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.params)} parameters, lr={self.lr!r})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and weight decay (as torch.optim.SGD):

    $g_t = \\nabla_p L + \\lambda p$;  with momentum $\\mu > 0$: $v_1 = g_1$,
    $v_t = \\mu v_{t-1} + g_t$, and $g_t \\leftarrow v_t$ (or $g_t + \\mu v_t$ if nesterov);
    then $p \\leftarrow p - \\eta_t g_t$.
    """

    def __init__(
        self,
        params: Module | Iterable[Value],
        lr: float | Schedule,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _real(momentum, "SGD momentum")
        self.weight_decay = _real(weight_decay, "SGD weight_decay")
        if nesterov and self.momentum == 0.0:
            raise ValueError("SGD nesterov=True needs a momentum > 0")
        self.nesterov = bool(nesterov)
        self.velocity: list[float] | None = None

    def step(self) -> None:
        lr = self.current_lr
        mu, wd = self.momentum, self.weight_decay
        if mu == 0.0 and wd == 0.0:  # micrograd's update
            for p in self.params:
                p.data -= lr * p.grad
            self.steps += 1
            return
        vel = self.velocity
        first = vel is None
        if vel is None:
            vel = self.velocity = [0.0] * len(self.params)
        for i, p in enumerate(self.params):
            g = p.grad
            if wd != 0.0:
                g = g + wd * p.data
            if mu != 0.0:
                v = g if first else vel[i] * mu + g
                vel[i] = v
                g = g + mu * v if self.nesterov else v
            p.data = p.data + (-lr) * g
        self.steps += 1


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), as torch.optim.Adam (weight decay added to the gradient):

    $g_t = \\nabla_p L + \\lambda p$, $m_t = \\beta_1 m_{t-1} + (1-\\beta_1) g_t$,
    $v_t = \\beta_2 v_{t-1} + (1-\\beta_2) g_t^2$,
    $p \\leftarrow p - \\frac{\\eta_t}{1-\\beta_1^t} \\cdot
    \\frac{m_t}{\\sqrt{v_t} / \\sqrt{1-\\beta_2^t} + \\epsilon}$.
    """

    def __init__(
        self,
        params: Module | Iterable[Value],
        lr: float | Schedule = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam betas must be a pair (beta1, beta2), got {betas!r}")
        b1 = _real(betas[0], "Adam betas[0]", 0.0, 1.0)
        b2 = _real(betas[1], "Adam betas[1]", 0.0, 1.0)
        if b1 == 1.0 or b2 == 1.0:
            raise ValueError(f"Adam betas must be < 1, got {betas!r}")
        self.betas = (b1, b2)
        self.eps = _real(eps, "Adam eps")
        self.weight_decay = _real(weight_decay, "Adam weight_decay")
        n = len(self.params)
        self.m = [0.0] * n  # first moment (mean of gradients)
        self.v = [0.0] * n  # second moment (mean of squared gradients)

    def step(self) -> None:
        lr = self.current_lr
        b1, b2 = self.betas
        eps, wd = self.eps, self.weight_decay
        t = self.steps + 1
        step_size = lr / (1.0 - b1**t)
        bc2_sqrt = math.sqrt(1.0 - b2**t)
        c1, c2 = 1.0 - b1, 1.0 - b2
        params = self.params
        gs = [p.grad for p in params]
        if wd != 0.0:
            gs = [g + wd * p.data for g, p in zip(gs, params)]
        # the same float operations as torch, one list at a time (faster than one loop per param)
        m = self.m = [mi + c1 * (g - mi) for mi, g in zip(self.m, gs)]  # torch's lerp form
        v = self.v = [vi * b2 + c2 * g * g for vi, g in zip(self.v, gs)]
        ns, sqrt = -step_size, math.sqrt
        for p, mi, vi in zip(params, m, v):
            p.data = p.data + ns * mi / (sqrt(vi) / bc2_sqrt + eps)
        self.steps = t


class LinearDecay:
    """$\\eta_k = \\eta_0 + (\\eta_1 - \\eta_0) \\min(k, K) / K$: from `start` to `end` over
    `steps` = K steps, then constant. micrograd's demo: ``LinearDecay(1.0, 0.1, 100)``."""

    def __init__(self, start: float, end: float, steps: int) -> None:
        self.start = _real(start, "LinearDecay start")
        self.end = _real(end, "LinearDecay end")
        self.steps = _check_size(steps, "LinearDecay steps")

    def __call__(self, k: int) -> float:
        return self.start + (self.end - self.start) * min(k, self.steps) / self.steps

    def __repr__(self) -> str:
        return f"LinearDecay({self.start}, {self.end}, {self.steps})"


class StepDecay:
    """$\\eta_k = \\eta_0 \\gamma^{\\lfloor k / s \\rfloor}$: multiply by `gamma` every `every` steps
    (as torch.optim.lr_scheduler.StepLR)."""

    def __init__(self, start: float, gamma: float, every: int) -> None:
        self.start = _real(start, "StepDecay start")
        self.gamma = _real(gamma, "StepDecay gamma")
        self.every = _check_size(every, "StepDecay every")

    def __call__(self, k: int) -> float:
        return self.start * self.gamma ** (k // self.every)

    def __repr__(self) -> str:
        return f"StepDecay({self.start}, {self.gamma}, {self.every})"


class CosineDecay:
    """$\\eta_k = \\eta_1 + (\\eta_0 - \\eta_1) (1 + \\cos(\\pi \\min(k, K) / K)) / 2$: half a
    cosine from `start` to `end` over `steps` = K steps (torch's CosineAnnealingLR), then
    constant."""

    def __init__(self, start: float, end: float = 0.0, steps: int = 100) -> None:
        self.start = _real(start, "CosineDecay start")
        self.end = _real(end, "CosineDecay end")
        self.steps = _check_size(steps, "CosineDecay steps")

    def __call__(self, k: int) -> float:
        frac = min(k, self.steps) / self.steps
        return self.end + (self.start - self.end) * (1.0 + math.cos(math.pi * frac)) / 2.0

    def __repr__(self) -> str:
        return f"CosineDecay({self.start}, {self.end}, {self.steps})"
