"""`Module`, the base class of every model: parameters found in attributes, dotted names, scopes.

Names and scopes (the contract with the pictures in `autograd.viz`):

* every parameter has a dotted name, as returned by `Module.named_parameters()`, e.g.
  ``layers.0.neurons.3.w.1`` (MLP -> layer 0 -> neuron 3 -> weight 1); the parameter Value's
  ``label`` is that name (relative to the outermost module it belongs to);
* every module inside another gets an `autograd.Scope` when it is named (``module.scope``):
  its path is the module's dotted name, its ``kind`` the class's ``scope_kind`` or its
  lowercase class name, and its ``parent`` the owning module's scope (None under the outermost
  module, which has none). Nodes a module makes while called carry its scope.

Names are given when a module is assigned to an attribute of another module (``self.layers =
[...]``); `named_parameters()` always walks the live structure.

Saving goes through `nn.serialize` and class names through `nn.registry`, both below this file.
Built-in modules refuse, before allocating anything, a size of more than `MAX_PARAMETERS`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from autograd import Scope, Value

from . import registry, serialize

__all__ = ["MAX_PARAMETERS", "Module", "register_module", "check_budget"]

MAX_PARAMETERS = 5_000_000
"""The most parameters a built-in module builds (about 1 GB of Values); set it higher to go on."""

_BYTES_PER_PARAMETER = 200  # measured with tracemalloc on a GPT: a Value and its share of the rows


def check_budget(cls: Any, **config: Any) -> None:
    """Refuse, before anything is allocated, to build `cls` with the constructor arguments
    `config` if its ``parameter_count(config)`` (which checks the sizes) is over `MAX_PARAMETERS`."""
    count: int = cls.parameter_count(config)
    if count > MAX_PARAMETERS:
        args = ", ".join(f"{k}={v!r}" for k, v in config.items())
        raise ValueError(
            f"{cls.__name__}({args}) would have {count:,} parameters (about "
            f"{count * _BYTES_PER_PARAMETER / 1e9:,.1f} GB of Values); nn builds at most "
            f"nn.base.MAX_PARAMETERS = {MAX_PARAMETERS:,} (set it higher to build it anyway)"
        )


M = TypeVar("M", bound="type[Module]")


def register_module(cls: M, name: str | None = None) -> M:
    """Register `cls` (a Module subclass) under `name` (default: its class name) for loading.

    Every Module subclass is registered under its class name automatically (except classes
    defined inside a function); call this to register those, to give a class another name, or
    to settle a clash (two classes of one name). A file saved from the class records the name,
    and `nn.load_model` finds the class by it. Returns `cls`, so it can be used as a decorator.
    Raises ValueError if another class has the name (nn's own class names are taken).
    """
    if not isinstance(cls, type) or not issubclass(cls, Module):
        raise TypeError(f"register_module expects a subclass of nn.Module, got {cls!r:.60}")
    registry.register(cls, cls.__name__ if name is None else name)
    return cls


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


# -- what layers use to name the nodes they make and to name themselves in errors --------------


def _tag(nodes: Iterable[Value], scope: Scope | None) -> None:
    """Put the module's `scope` on nodes the module just made (nested under an enclosing
    `autograd.name_scope`, as `Scope.tag` and `nn.Neuron` do)."""
    if scope is None:
        return
    nested = scope.nested_in
    for v in nodes:
        outer = v._scope
        v._scope = scope if outer is None else nested(outer)


def _who(m: Module) -> str:
    """The module's class and dotted name, for error messages."""
    where = f" '{m._path}'" if m._path else ""
    return f"{type(m).__name__}{where}"


def _part(m: Module, name: str, kind: str) -> Scope:
    """The scope `name` (of `kind`) inside module `m`'s scope: an attention head
    (``layers.0.attn.heads.2``, kind "head"), the GPT's ``embed`` and ``loss``. Made once for
    each name the module has (a module renamed inside another gets new ones)."""
    base = m._scope
    parts: tuple[Scope | None, dict[str, Scope]] | None = m.__dict__.get("_parts")
    if parts is None or parts[0] is not base:
        parts = (base, {})
        object.__setattr__(m, "_parts", parts)
    s = parts[1].get(name)
    if s is None:
        s = parts[1][name] = Scope(name, kind, base)
    return s


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
        registry.auto_register(cls)

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

    def _type(self) -> str:
        """The name a saved file records for this module's class (for ``config()``)."""
        return registry.type_name(type(self))

    def state_dict(self) -> dict[str, float]:
        """``{name: value}`` for every parameter, in `named_parameters()` order."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Any) -> None:
        """Set every parameter from `state` (as made by `state_dict`).

        Every name, the total count and every value are checked first; on any problem a
        `ValueError` names it and no parameter is changed.
        """
        serialize.load_state_dict(self, state)

    def save(self, path: str | Path) -> Path:
        """Write the parameters (and the architecture) as JSON, atomically. Returns the path."""
        return serialize.save(self, path)

    def load(self, path: str | Path) -> None:
        """Read parameters saved by `save` into this model (all checks first, as in
        `load_state_dict`; the file must be for this architecture)."""
        serialize.load(self, path)
