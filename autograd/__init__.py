"""adjointgrad's engine: scalar reverse-mode automatic differentiation.

    >>> from autograd import Value
    >>> x = Value(3.0, label="x")
    >>> y = x * x + 2 * x
    >>> y.backward(); x.grad
    8.0

Modules: `ops` (the op table: every op's forward rule and local derivatives, written once),
`engine` (the Value node and the ops as methods), `backprop` (topological order, the chain-rule
sweep, backward, grad, gradcheck), `forward` (forward accumulation: jvp, jacobian, hessian,
hvp), `programs` (compile and trace: a graph as its adjoint program), `symbolic` (rules as text
and as Python source), `codegen` (compiling generated source), `viz` (pictures; needs nothing
to import, the graphviz package to draw) and `cli` (``python -m autograd``).
"""

from .backprop import GradcheckError, grad, gradcheck, sweep, toposort
from .engine import (
    Scope,
    Value,
    defop,
    detect_anomaly,
    dot,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    local_grads,
    maximum,
    minimum,
    name_scope,
    no_grad,
    sum,
    where,
)
from .forward import Dual, hessian, hvp, jacobian, jvp
from .ops import OPS
from .programs import Program, compile, trace

__all__ = [
    "Value",
    "OPS",
    "Scope",
    "sum",
    "dot",
    "maximum",
    "minimum",
    "where",
    "defop",
    "grad",
    "gradcheck",
    "GradcheckError",
    "sweep",
    "toposort",
    "no_grad",
    "is_grad_enabled",
    "enable_grad",
    "is_anomaly_enabled",
    "name_scope",
    "detect_anomaly",
    "local_grads",
    "Dual",
    "jvp",
    "jacobian",
    "hessian",
    "hvp",
    "compile",
    "trace",
    "Program",
]
__version__ = "0.1.0"
#: marks this package as adjointgrad's `autograd` (the unrelated HIPS `autograd` on PyPI uses the same
#: import name; `nn` and the command line check this marker to detect the clash)
__distribution__ = "adjointgrad"
