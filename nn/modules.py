"""Layers: `Neuron`, `Layer`, `MLP` (micrograd-compatible) and the activations.

A neuron with weights $w \\in R^n$, bias $b$ and activation $f$ computes

    $y = f(w \\cdot x + b)$

as three graph nodes: one n-ary ``dot`` node, one ``+`` node and the activation node (none for a
linear neuron). A `Layer` is a list of neurons that all see the same input; an `MLP` chains
layers, the output of one being the input of the next.

Every node a neuron creates while being called (its ``dot``, ``+`` and activation nodes) has
``node.scope`` = the neuron's Scope (kind "neuron"), whose path is the prefix of its
parameters' names, e.g. ``"layers.0.neurons.3"``; ``node.scope.enclosing("layer")`` is its
layer's (kind "layer"). Inside ``autograd.name_scope("outer")`` the scope is nested under that
one (``"outer.layers.0.neurons.3"``). A neuron used on its own (not inside another module) has
no scope, so its nodes keep None (or the enclosing name_scope's). The naming rules are
`nn.base`'s.

Inputs given to a model as plain numbers become leaves labelled ``x[0]``, ``x[1]``, ... with no
scope: they are the model's inputs, not part of it. These input checks (`_as_inputs`,
`_check_size`, `_real`) serve `nn.transformer` too.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from autograd import Value, dot

from .base import Module, check_budget
from .init import Initializer, RandomSource, get_initializer, make_rng

__all__ = ["ACTIVATIONS", "Neuron", "Layer", "MLP", "activation_fn"]

# activation name -> (name in reprs, as in micrograd's "ReLUNeuron")
ACTIVATIONS: dict[str, str] = {
    "relu": "ReLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "leaky_relu": "LeakyReLU",
    "softplus": "Softplus",
    "gelu": "GELU",
    "silu": "SiLU",
    "linear": "Linear",
}

Act = Callable[[Value], Value]


def activation_fn(name: str, negative_slope: float = 0.01) -> Act | None:
    """The function applying activation `name` to one Value (None for "linear").

    relu: $\\max(0, z)$; tanh; sigmoid: $1/(1+e^{-z})$; leaky_relu: $z$ if $z>0$ else $s z$;
    softplus: $\\ln(1+e^z)$; gelu: $z \\Phi(z)$ (exact, with erf); silu: $z / (1 + e^{-z})$;
    linear: $z$.
    """
    if name == "linear":
        return None
    if name == "leaky_relu":
        return functools.partial(Value.leaky_relu, slope=negative_slope)
    f: Act = getattr(Value, _check_activation(name, "activation_fn"))
    return f


def _check_activation(name: object, what: str) -> str:
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(
            f"{what}: unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}"
        )
    return name


def _resolve_activation(activation: str | bool, nonlin: bool | None, who: str) -> str:
    """Combine the new ``activation=`` with micrograd's ``nonlin=`` (True: relu, False: linear)."""
    if isinstance(activation, bool):  # micrograd's positional Neuron(nin, nonlin)
        if nonlin is not None and bool(nonlin) != activation:
            raise ValueError(f"{who}: conflicting nonlin={activation} and nonlin={nonlin}")
        nonlin, activation = activation, "relu"
    act = _check_activation(activation, who)
    if nonlin is None:
        return act
    if nonlin:
        if act == "linear":
            raise ValueError(f"{who}: nonlin=True conflicts with activation='linear'")
        return act
    if act not in ("relu", "linear"):
        raise ValueError(f"{who}: nonlin=False conflicts with activation={act!r}")
    return "linear"


def _real(x: object, what: str, positive: bool = False) -> float:
    """A finite real number (> 0 if `positive`): a hyperparameter that must survive saving as JSON."""
    want = "a finite number > 0" if positive else "a finite number"
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} must be {want}, got {type(x).__name__}: {x!r:.40}")
    try:
        f = float(x)
    except OverflowError:
        f = math.inf
    if not math.isfinite(f) or (positive and f <= 0):
        raise ValueError(f"{what} must be {want}, got {f}")
    return f


def _check_size(n: object, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{what} must be a positive int, got {type(n).__name__}: {n!r}")
    if n < 1:
        raise ValueError(f"{what} must be a positive int, got {n}")
    return int(n)


def _kind(x: object) -> str:
    return "None" if x is None else f"{type(x).__name__} {x!r:.40}"


def _as_inputs(x: object, nin: int, who: str) -> list[Value]:
    """Check a model's input once at the entry and lift plain numbers to leaves ``x[i]``."""
    cls = x.__class__
    if cls is not list and cls is not tuple:
        if (
            x is None
            or isinstance(x, (str, bytes, Value, numbers.Number, dict))
            or not hasattr(x, "__len__")
            or not hasattr(x, "__getitem__")
        ):
            raise TypeError(f"{who} expects a list of {nin} numbers or Values, got {_kind(x)}")
        x = list(x)  # type: ignore[call-overload]  # numpy arrays, ranges, ...
    xs: Sequence[Any] = x  # type: ignore[assignment]
    if len(xs) != nin:
        raise ValueError(f"{who} expects {nin} inputs, got {len(xs)}")
    out: list[Value] = []
    for i, v in enumerate(xs):
        if v.__class__ is Value:
            out.append(v)
        elif isinstance(v, numbers.Real) and not isinstance(v, bool):
            out.append(Value(v, label=f"x[{i}]"))
        else:
            raise TypeError(f"{who} input {i} must be a number or a Value, got {_kind(v)}")
    return out


def _zeros(fan_in: int, fan_out: int, rng: RandomSource) -> float:
    return 0.0


def _zeroed(cls: Any, config: Mapping[str, Any]) -> Any:
    """The architecture `config` with zero weights: what `nn.load_model` builds before loading
    a file's values into it (it draws no randomness)."""
    return cls(**config, init=_zeros, seed=0)


class Neuron(Module):
    """$y = f(\\sum_i w_i x_i + b)$ with activation $f$.

    ``Neuron(nin)`` is micrograd's ReLU neuron; ``Neuron(nin, nonlin=False)`` (or
    ``activation="linear"``) is linear; ``activation`` is one of relu, tanh, sigmoid,
    leaky_relu, softplus, gelu, silu, linear. Weights are drawn by `init` ("auto": the activation's
    default, see `nn.init`) from `fan_in` = nin and `fan_out` (the layer's width); b = 0.
    """

    scope_kind = "neuron"

    def __init__(
        self,
        nin: int,
        activation: str | bool = "relu",
        nonlin: bool | None = None,
        *,
        init: str | Initializer = "auto",
        seed: int | None = None,
        rng: RandomSource | None = None,
        fan_out: int = 1,
        negative_slope: float = 0.01,
    ) -> None:
        nin = _check_size(nin, "Neuron nin")
        check_budget(Neuron, nin=nin)
        fan_out = _check_size(fan_out, "Neuron fan_out")
        act = _resolve_activation(activation, nonlin, "Neuron")
        slope = _real(negative_slope, "Neuron negative_slope")
        draw = get_initializer(init, act)
        r = make_rng(seed, rng)
        self.w = [Value(draw(nin, fan_out, r)) for _ in range(nin)]
        self.b = Value(0.0)
        self._negative_slope = slope
        self._set_activation(act)

    def _set_activation(self, act: str) -> None:
        self._activation = _check_activation(act, "Neuron")
        self._act = activation_fn(act, self._negative_slope)

    @property
    def activation(self) -> str:
        return self._activation

    @activation.setter
    def activation(self, name: str) -> None:
        self._set_activation(name)

    @property
    def nonlin(self) -> bool:
        """micrograd's flag: False for a linear neuron."""
        return self._activation != "linear"

    @nonlin.setter
    def nonlin(self, flag: bool) -> None:
        self._set_activation("relu" if flag else "linear")

    @property
    def negative_slope(self) -> float:
        return self._negative_slope

    @property
    def nin(self) -> int:
        return len(self.w)

    def __call__(self, x: Sequence[Value | float]) -> Value:
        return self._forward(_as_inputs(x, len(self.w), "Neuron"))

    def _forward(self, x: list[Value]) -> Value:
        # the hot path of training: three nodes, tagged with this neuron's name
        s = dot(self.w, x)
        z = s + self.b
        f = self._act
        y = z if f is None else f(z)
        scope = self._scope
        if scope is not None:  # what scope.tag(s, z, y) does, inline (and y may be z)
            outer = s._scope  # set only inside autograd.name_scope(...)
            if outer is not None:
                scope = scope.nested_in(outer)
            s._scope = z._scope = y._scope = scope
        return y

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {
            "type": self._type(), "nin": self.nin, "activation": self.activation
        }
        if self.activation == "leaky_relu":
            cfg["negative_slope"] = self._negative_slope
        return cfg

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """nin weights and a bias, from `config()`'s keyword arguments (nothing built)."""
        return _check_size(config.get("nin"), "Neuron nin") + 1

    from_config = classmethod(_zeroed)

    def __repr__(self) -> str:
        return f"{ACTIVATIONS[self._activation]}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` neurons that all read the same `nin` inputs: $y_j = f(w_j \\cdot x + b_j)$.

    Called on a list of inputs it returns the list of outputs, or a single Value if nout == 1
    (as in micrograd). Keyword arguments are those of `Neuron`.
    """

    scope_kind = "layer"

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | bool = "relu",
        nonlin: bool | None = None,
        *,
        init: str | Initializer = "auto",
        seed: int | None = None,
        rng: RandomSource | None = None,
        negative_slope: float = 0.01,
    ) -> None:
        nin = _check_size(nin, "Layer nin")
        nout = _check_size(nout, "Layer nout")
        check_budget(Layer, nin=nin, nout=nout)
        act = _resolve_activation(activation, nonlin, "Layer")
        _real(negative_slope, "Layer negative_slope")
        r = make_rng(seed, rng)
        self.neurons = [
            Neuron(nin, act, init=init, rng=r, fan_out=nout, negative_slope=negative_slope)
            for _ in range(nout)
        ]

    @property
    def nin(self) -> int:
        return self.neurons[0].nin

    @property
    def nout(self) -> int:
        return len(self.neurons)

    @property
    def activation(self) -> str:
        return self.neurons[0].activation

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out = self._forward(_as_inputs(x, self.nin, "Layer"))
        return out[0] if len(out) == 1 else out

    def forward(self, x: Sequence[Value | float]) -> list[Value]:
        """Like calling the layer, but always a list (also for a single neuron)."""
        return self._forward(_as_inputs(x, self.nin, "Layer"))

    def _forward(self, x: list[Value]) -> list[Value]:
        return [n._forward(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {
            "type": self._type(), "nin": self.nin, "nout": self.nout,
            "activation": self.activation,
        }
        if self.activation == "leaky_relu":
            cfg["negative_slope"] = self.neurons[0].negative_slope
        return cfg

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """nout * (nin + 1), from `config()`'s keyword arguments (nothing built)."""
        nin = _check_size(config.get("nin"), "Layer nin")
        return _check_size(config.get("nout"), "Layer nout") * (nin + 1)

    from_config = classmethod(_zeroed)

    def _structure(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"

    def __repr__(self) -> str:
        return f"{self._structure()} ({len(self.parameters())} parameters)"


def _mlp_sizes(nin: object, nouts: object) -> list[int]:
    sizes = [_check_size(nin, "MLP nin")]
    if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
        raise TypeError(f"MLP nouts must be a non-empty list of layer sizes, got {nouts!r:.60}")
    return sizes + [_check_size(n, f"MLP nouts[{i}]") for i, n in enumerate(nouts)]


class MLP(Module):
    """A multi-layer perceptron: ``MLP(nin, [n1, n2, ..., nk])`` chains k layers,
    $h_0 = x$, $h_l = f_l(W_l h_{l-1} + b_l)$, with `activation` on the hidden layers and
    `output_activation` on the last (micrograd: ReLU hidden, linear output).

    Returns a single Value if the last layer has one neuron, else a list. ``seed=`` or
    ``rng=`` make the initialization reproducible; ``init=`` picks a scheme (see `nn.init`).
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        output_activation: str = "linear",
        *,
        init: str | Initializer = "auto",
        seed: int | None = None,
        rng: RandomSource | None = None,
        negative_slope: float = 0.01,
    ) -> None:
        sizes = _mlp_sizes(nin, nouts)
        check_budget(MLP, nin=nin, nouts=nouts)
        self._activation = _check_activation(activation, "MLP activation")
        self._output_activation = _check_activation(output_activation, "MLP output_activation")
        self._negative_slope = _real(negative_slope, "MLP negative_slope")
        r = make_rng(seed, rng)
        last = len(sizes) - 2
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                self._output_activation if i == last else self._activation,
                init=init,
                rng=r,
                negative_slope=negative_slope,
            )
            for i in range(last + 1)
        ]

    @property
    def nin(self) -> int:
        return self.layers[0].nin

    @property
    def nouts(self) -> list[int]:
        return [layer.nout for layer in self.layers]

    @property
    def activation(self) -> str:
        return self._activation

    @property
    def output_activation(self) -> str:
        return self._output_activation

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        xs = _as_inputs(x, self.layers[0].nin, "MLP")
        for layer in self.layers:
            xs = layer._forward(xs)
        return xs[0] if len(xs) == 1 else xs

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for n in layer.neurons for p in (*n.w, n.b)]

    def config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {
            "type": self._type(),
            "nin": self.nin,
            "nouts": self.nouts,
            "activation": self._activation,
            "output_activation": self._output_activation,
        }
        if "leaky_relu" in (self._activation, self._output_activation):
            cfg["negative_slope"] = self._negative_slope
        return cfg

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """$\\sum_l n_l (n_{l-1} + 1)$, from `config()`'s keyword arguments (nothing built)."""
        sizes = _mlp_sizes(config.get("nin"), config.get("nouts"))
        return sum(sizes[i + 1] * (sizes[i] + 1) for i in range(len(sizes) - 1))

    from_config = classmethod(_zeroed)

    def summary(self) -> str:
        """One line: ``MLP(2 -> 16 relu -> 16 relu -> 1 linear): 337 parameters``."""
        steps = " -> ".join(f"{layer.nout} {layer.activation}" for layer in self.layers)
        return f"MLP({self.nin} -> {steps}): {len(self.parameters())} parameters"

    def __repr__(self) -> str:
        inner = ", ".join(layer._structure() for layer in self.layers)
        return f"MLP of [{inner}] ({len(self.parameters())} parameters)"


