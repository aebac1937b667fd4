"""adjointgrad's engine: scalar reverse-mode automatic differentiation.

    >>> from autograd import Value
    >>> x = Value(3.0, label="x")
    >>> y = x * x + 2 * x
    >>> y.backward(); x.grad
    8.0

Modules: `engine` (the Value node, every op with its derivative rule), `backprop` (topological
order, backward, grad, gradcheck).
"""

from .backprop import GradcheckError, grad, gradcheck, toposort
from .engine import (
    RULES,
    Value,
    detect_anomaly,
    dot,
    is_grad_enabled,
    local_grads,
    name_scope,
    no_grad,
    sum,
)

__all__ = [
    "Value",
    "RULES",
    "sum",
    "dot",
    "grad",
    "gradcheck",
    "GradcheckError",
    "toposort",
    "no_grad",
    "is_grad_enabled",
    "name_scope",
    "detect_anomaly",
    "local_grads",
]
__version__ = "0.1.0"
