"""adjointgrad's engine: scalar reverse-mode automatic differentiation.

    >>> from autograd import Value
    >>> x = Value(3.0, label="x")
    >>> y = x * x + 2 * x
    >>> y.backward(); x.grad
    8.0

Modules, each building only on those before it: `ops` (the op table: every op's forward rule and
local derivatives, written once), `symbolic` (rules as expression trees: math text and Python
source), `context` (no_grad, name_scope, detect_anomaly), `engine` (the Value node and the ops as
methods), `defop` (adding an op), `interpreters` (rules evaluated on floats and on Values),
`backprop` (topological order, the chain-rule sweep, backward, grad, gradcheck), `forward`
(forward accumulation: jvp, jacobian, hessian, hvp), `codegen` (compiling generated source),
`program` (compile and trace: a graph as its adjoint program), `viz` (pictures; needs nothing to
import, the graphviz package to draw) and `cli` (``python -m autograd``).
"""

from .backprop import GradcheckError, grad, gradcheck, sweep, toposort
from .context import (
    Scope,
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    name_scope,
    no_grad,
)
from .defop import defop
from .engine import Value, dot, maximum, minimum, sum, where
from .forward import Dual, hessian, hvp, jacobian, jvp
from .interpreters import local_grads
from .ops import OPS
from .program import Program, compile, trace

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
