"""Modules: `Module`, `Neuron`, `Layer`, `MLP` (micrograd-compatible, plus activations and init).

A neuron with weights $w \\in R^n$, bias $b$ and activation $f$ computes

    $y = f(w \\cdot x + b)$

as three graph nodes: one n-ary ``dot`` node, one ``+`` node and the activation node (none for a
linear neuron). A `Layer` is a list of neurons that all see the same input; an `MLP` chains
layers, the output of one being the input of the next.

Names and scopes (the contract with the pictures in `autograd.viz`):

* every parameter has a dotted name, as returned by `Module.named_parameters()`, e.g.
  ``layers.0.neurons.3.w.1`` (MLP -> layer 0 -> neuron 3 -> weight 1) or ``layers.0.neurons.3.b``;
  the parameter Value's ``label`` is that name (relative to the outermost module it belongs to);
* every module inside another gets an `autograd.Scope` when it is named (``module.scope``):
  its path is the module's dotted name, its ``kind`` is "neuron" for a Neuron, "layer" for a
  Layer and the lowercase class name otherwise (or the class's ``scope_kind``), and its
  ``parent`` is the owning module's scope (None under the outermost module, which has none);
* every node a neuron creates while being called (its ``dot``, ``+`` and activation nodes) has
  ``node.scope`` = the neuron's Scope, whose path (``str(scope)``) is the prefix of its
  parameters' names, e.g. ``"layers.0.neurons.3"``; ``node.scope.enclosing("layer")`` is its
  layer's. Inside ``autograd.name_scope("outer")`` the scope is nested under that one
  (``"outer.layers.0.neurons.3"``). A neuron used on its own (not inside another module) has
  no scope, so its nodes keep None (or the enclosing name_scope's).

Names are given when a module is assigned to an attribute of another module (``self.layers =
[...]``); `named_parameters()` always walks the live structure.
"""

from __future__ import annotations

import functools
import math
import numbers
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from autograd import Scope, Value, dot

from .init import Initializer, RandomSource, get_initializer, make_rng

__all__ = [
    "ACTIVATIONS",
    "Module",
    "Neuron",
    "Layer",
    "MLP",
    "activation_fn",
    "register_module",
    "module_type",
    "module_type_name",
]

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
    if name == "relu":
        return Value.relu
    if name == "tanh":
        return Value.tanh
    if name == "sigmoid":
        return Value.sigmoid
    if name == "softplus":
        return Value.softplus
    if name == "gelu":
        return Value.gelu
    if name == "silu":
        return Value.silu
    if name == "leaky_relu":
        return functools.partial(Value.leaky_relu, slope=negative_slope)
    raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")


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


def _check_slope(x: object, what: str) -> float:
    """A finite real number (a hyperparameter that must survive saving as JSON)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} must be a finite number, got {type(x).__name__}: {x!r:.40}")
    try:
        f = float(x)
    except OverflowError:
        f = math.inf
    if not math.isfinite(f):
        raise ValueError(f"{what} must be a finite number, got {f}")
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


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _name_tree(value: object, name: str, owner: Scope | None, rel: str) -> None:
    """Give `value` (a module, a parameter, or a list of them) the dotted `name`; `rel` is the
    name relative to the owning module, whose scope is `owner`."""
    if isinstance(value, Module):
        value._set_path(name, owner, rel)
    elif value.__class__ is Value:
        value.label = name  # type: ignore[union-attr]
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            if isinstance(item, (Module, Value, list, tuple)):
                _name_tree(item, f"{name}.{i}", owner, f"{rel}.{i}")


# -- the registry of module types (how nn.load_model finds the class a file names) -------------
#
# Every subclass of Module is registered under its class name when it is defined
# (`Module.__init_subclass__`), except classes defined inside a function (another run of the
# program may not define them). Classes of the nn package own their names. If two other classes
# share a name (two `Net`s in two files), neither is found by that name -- a file naming it could
# mean either -- until one is given its own name with `register_module(cls, name)`. A class
# defined again under the same module and qualified name (a re-run notebook cell) replaces the
# old one.

_registry_lock = threading.RLock()
_REGISTRY: dict[str, type[Module]] = {}  # name -> class
_NAMES: dict[type[Module], str] = {}  # class -> its name (only for classes found by it)
_CLAIMED: set[str] = set()  # names given by register_module (or by nn): never taken automatically
_CLASHES: dict[str, list[type[Module]]] = {}  # name -> the classes sharing it

M = TypeVar("M", bound="type[Module]")


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _same_class(a: type, b: type) -> bool:
    """The same class defined again (same module and qualified name), or the class itself."""
    return a is b or _qualified(a) == _qualified(b)


def _give(cls: type[Module], name: str) -> None:
    old = _REGISTRY.get(name)
    if old is not None and old is not cls:
        _NAMES.pop(old, None)
    _REGISTRY[name] = cls
    _NAMES[cls] = name


def _auto_register(cls: type[Module]) -> None:
    name = cls.__name__
    if "<locals>" in cls.__qualname__:
        return  # made inside a function: another run may not make it; register_module(cls)
    with _registry_lock:
        if cls.__module__ == "nn" or cls.__module__.startswith("nn."):
            register_module(cls)
            return
        owner = _REGISTRY.get(name)
        if name in _CLAIMED:
            if owner is not None and _same_class(owner, cls):
                _give(cls, name)
            return  # the name belongs to another class: this one needs register_module
        clash = _CLASHES.get(name)
        if clash is not None:
            kept = [c for c in clash if not _same_class(c, cls)]
            _CLASHES[name] = [*kept, cls]
            return
        if owner is None or _same_class(owner, cls):
            _give(cls, name)
            return
        del _REGISTRY[name]
        _NAMES.pop(owner, None)
        _CLASHES[name] = [owner, cls]


def register_module(cls: M, name: str | None = None) -> M:
    """Register `cls` (a Module subclass) under `name` (default: its class name) for loading.

    Every Module subclass is registered under its class name automatically (except classes
    defined inside a function); call this to register those, to give a class another name, or
    to settle a clash (two classes of one name, or a name nn uses).
    A file saved from the class records the name, and `nn.load_model` finds the class by it.
    Returns `cls`, so it can be used as a decorator. Re-registering a name raises ValueError.
    """
    if not isinstance(cls, type) or not issubclass(cls, Module):
        raise TypeError(f"register_module expects a subclass of nn.Module, got {cls!r:.60}")
    if name is None:
        name = cls.__name__
    if not isinstance(name, str) or not name or len(name) > 200 or not name.isprintable():
        raise ValueError(f"a module type name must be a printable, non-empty str, got {name!r:.60}")
    with _registry_lock:
        owner = _REGISTRY.get(name)
        if name in _CLAIMED and owner is not None and not _same_class(owner, cls):
            raise ValueError(
                f"the module type name {name!r} is already registered for {_qualified(owner)}; "
                f"register {_qualified(cls)} under another name"
            )
        old = _NAMES.get(cls)
        if old is not None and old != name and _REGISTRY.get(old) is cls:
            del _REGISTRY[old]
            _CLAIMED.discard(old)
        for other, classes in list(_CLASHES.items()):  # cls no longer competes for other names
            if cls in classes:
                classes.remove(cls)
                if len(classes) == 1 and other not in _CLAIMED:
                    del _CLASHES[other]
                    _give(classes[0], other)
        _CLASHES.pop(name, None)
        _give(cls, name)
        _CLAIMED.add(name)
    return cls


def module_type_name(cls: type[Module]) -> str:
    """The name `cls` is registered under (what a saved file records as "type").

    Raises ValueError saying what to do if `cls` cannot be found by a name.
    """
    with _registry_lock:
        name = _NAMES.get(cls)
        if name is not None and _REGISTRY.get(name) is cls:
            return name
        base = cls.__name__
        clash = _CLASHES.get(base)
    if clash:
        others = ", ".join(_qualified(c) for c in clash if c is not cls)
        why = f"other Module classes are also named {base!r} ({others})"
    elif base in _REGISTRY:
        why = f"the name {base!r} belongs to {_qualified(_REGISTRY[base])}"
    elif "<locals>" in cls.__qualname__:
        why = "it is defined inside a function, so it is not registered automatically"
    else:
        why = "it is not registered"
    raise ValueError(
        f"{_qualified(cls)} cannot be saved by name: {why}; give it its own name with "
        f"nn.register_module({cls.__name__}, name=...)"
    )


def module_type(name: object) -> type[Module]:
    """The Module class registered under `name` (ValueError naming the choices if none)."""
    with _registry_lock:
        cls = _REGISTRY.get(name) if isinstance(name, str) else None
        if cls is not None:
            return cls
        clash = _CLASHES.get(name) if isinstance(name, str) else None
        known = sorted(_REGISTRY)
    if clash:
        shown = ", ".join(_qualified(c) for c in clash)
        raise ValueError(
            f"module type {name!r} is ambiguous: several classes have that name ({shown}); "
            f"register the one the file was saved from with nn.register_module(cls, name={name!r})"
        )
    listed = ", ".join(known[:12]) + (f", ... ({len(known) - 12} more)" if len(known) > 12 else "")
    raise ValueError(
        f"unknown module type {name!r:.60}; known types: {listed} (define or import the class, "
        "or register it with nn.register_module, before loading)"
    )


def _type_name(module: Module) -> str:
    """The registered name of `module`'s class, or its class name (checked again by save)."""
    cls = type(module)
    name = _NAMES.get(cls)
    return name if name is not None else cls.__name__


def _zeros(fan_in: int, fan_out: int, rng: RandomSource) -> float:
    return 0.0  # weights about to be overwritten by a file: draw nothing


class Module:
    """Base class: a module owns parameters (Values) and sub-modules, found in its attributes.

    Attributes whose names start with "_" are private; every other attribute holding a Value,
    a Module, or a list/tuple of them is part of the model, in attribute order. So a subclass
    only assigns ``self.w = [...]`` or ``self.layers = [...]``, and `parameters`,
    `named_parameters`, `zero_grad`, `state_dict`, `save` and `load` work.

    For `nn.load_model` to rebuild a subclass, define `config()` returning its constructor's
    keyword arguments (JSON values). Every subclass is registered under its class name (see
    `register_module`); loading calls ``cls(**kwargs)``, or the classmethod
    ``from_config(kwargs)`` if the class defines one. An optional classmethod
    ``parameter_count(kwargs) -> int`` lets `load_model` refuse a file whose architecture
    does not match its parameters before building anything.
    """

    _path: str = ""  # dotted name inside the outermost module ("" for the outermost)
    _scope: Scope | None = None  # the Scope named _path (None for the outermost module)
    scope_kind: ClassVar[str | None] = None  # the kind of its Scope; None: lowercase class name

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _auto_register(cls)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if not name.startswith("_"):
            _name_tree(value, _join(self._path, name), self._scope, name)

    def _set_path(self, path: str, owner: Scope | None = None, rel: str = "") -> None:
        """Name this module `path` (`rel` inside its owner, whose scope is `owner`), and its
        parameters and sub-modules after it."""
        cls = type(self)
        scope = Scope(rel, cls.scope_kind or cls.__name__.lower(), owner) if rel else None
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_scope", scope)
        for name, value in vars(self).items():
            if not name.startswith("_"):
                _name_tree(value, _join(path, name), scope, name)

    @property
    def scope(self) -> Scope | None:
        """The `autograd.Scope` of the nodes this module makes (None for the outermost module):
        its path is the module's dotted name, its kind "neuron", "layer" or the lowercase class
        name, its parent the owning module's scope."""
        return self._scope

    # -- parameters ---------------------------------------------------------------------------

    def named_parameters(self, prefix: str = "") -> list[tuple[str, Value]]:
        """(dotted name, parameter) pairs, in `parameters()` order; a shared Value appears once."""
        out: list[tuple[str, Value]] = []
        _collect(self, prefix, out, set())
        return out

    def parameters(self) -> list[Value]:
        """Every parameter, in the order of `named_parameters()`."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        return len(self.parameters())

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0 (backward accumulates into it)."""
        for p in self.parameters():
            p.grad = 0.0

    def config(self) -> dict[str, Any] | None:
        """The architecture: ``{"type": name, **constructor keyword arguments}`` (None: unknown).

        Subclasses return their keyword arguments as JSON values (numbers, strings, lists,
        dicts); "type" may be left out, `save` records the class's registered name.
        """
        return None

    # -- saving and loading -------------------------------------------------------------------

    def state_dict(self) -> dict[str, float]:
        """``{name: value}`` for every parameter, in `named_parameters()` order."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Any) -> None:
        """Set every parameter from `state` (as made by `state_dict`).

        Every name, the total count and every value are checked first; on any problem a
        `ValueError` names it and no parameter is changed.
        """
        from .serialize import load_state_dict

        load_state_dict(self, state)

    def save(self, path: str | Path) -> Path:
        """Write the parameters (and the architecture) as JSON, atomically. Returns the path."""
        from .serialize import save

        return save(self, path)

    def load(self, path: str | Path) -> None:
        """Read parameters saved by `save` into this model (all checks first, as in
        `load_state_dict`; the file must be for this architecture)."""
        from .serialize import load

        load(self, path)


def _collect(obj: object, name: str, out: list[tuple[str, Value]], seen: set[int]) -> None:
    if obj.__class__ is Value:
        if id(obj) not in seen:
            seen.add(id(obj))
            out.append((name, obj))  # type: ignore[arg-type]
    elif isinstance(obj, Module):
        for attr, value in vars(obj).items():
            if not attr.startswith("_"):
                _collect(value, _join(name, attr), out, seen)
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            _collect(item, f"{name}.{i}", out, seen)


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
        fan_out = _check_size(fan_out, "Neuron fan_out")
        act = _resolve_activation(activation, nonlin, "Neuron")
        slope = _check_slope(negative_slope, "Neuron negative_slope")
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
            "type": _type_name(self), "nin": self.nin, "activation": self.activation
        }
        if self.activation == "leaky_relu":
            cfg["negative_slope"] = self._negative_slope
        return cfg

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """nin weights and a bias, from `config()`'s keyword arguments (nothing built)."""
        return _check_size(config.get("nin"), "Neuron nin") + 1

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Neuron:
        """A neuron with this architecture and zero weights (for loading: draws no randomness)."""
        return cls(**config, init=_zeros, seed=0)

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
        act = _resolve_activation(activation, nonlin, "Layer")
        _check_slope(negative_slope, "Layer negative_slope")
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
            "type": _type_name(self), "nin": self.nin, "nout": self.nout,
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

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Layer:
        """A layer with this architecture and zero weights (for loading: draws no randomness)."""
        return cls(**config, init=_zeros, seed=0)

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
        self._activation = _check_activation(activation, "MLP activation")
        self._output_activation = _check_activation(output_activation, "MLP output_activation")
        self._negative_slope = _check_slope(negative_slope, "MLP negative_slope")
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
            "type": _type_name(self),
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

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MLP:
        """An MLP with this architecture and zero weights (for loading: draws no randomness)."""
        return cls(**config, init=_zeros, seed=0)

    def summary(self) -> str:
        """One line: ``MLP(2 -> 16 relu -> 16 relu -> 1 linear): 337 parameters``."""
        steps = " -> ".join(f"{layer.nout} {layer.activation}" for layer in self.layers)
        return f"MLP({self.nin} -> {steps}): {len(self.parameters())} parameters"

    def __repr__(self) -> str:
        inner = ", ".join(layer._structure() for layer in self.layers)
        return f"MLP of [{inner}] ({len(self.parameters())} parameters)"


