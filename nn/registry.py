"""The names of Module classes: what the ``"type"`` of a saved architecture means.

Every subclass of `nn.Module` is entered here under its class name when it is defined
(``Module.__init_subclass__`` calls `auto_register`), so `nn.load_model` finds the class a file
names. The rest is three rules:

* ``nn.register_module(cls, name)`` gives a class a name of its own: a class defined inside a
  function (not entered automatically: another run may not define it), or one of two classes
  sharing a class name. Such a name, like the names of nn's own classes, belongs to its class.
* Two other classes of one class name (two ``Net`` in two files) make that name ambiguous: a
  file naming it is refused, naming both, until one of them is given a name of its own.
* A class is told apart by its module and qualified name, so defining it again (a re-run
  notebook cell) replaces the old definition instead of clashing with it.

This file imports nothing from nn: `nn.serialize` looks classes up here, and `nn.base` (the
Module class) enters them.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["auto_register", "register", "module_type", "module_type_name", "type_name"]

_lock = threading.Lock()
_REGISTRY: dict[str, type[Any]] = {}  # a name given by register_module, or nn's own class names
_DEFINED: dict[str, dict[str, type[Any]]] = {}  # class name -> {qualified name: class}, the others


def qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def auto_register(cls: type) -> None:
    """Enter `cls` under its class name (called when a Module subclass is defined)."""
    if "<locals>" in cls.__qualname__:
        return
    if cls.__module__ == "nn" or cls.__module__.startswith("nn."):
        register(cls, cls.__name__)
        return
    with _lock:
        _DEFINED.setdefault(cls.__name__, {})[qualified(cls)] = cls


def register(cls: type, name: str) -> None:
    """Give `cls` the name `name` (ValueError if another class has it)."""
    if not isinstance(name, str) or not name or len(name) > 200 or not name.isprintable():
        raise ValueError(f"a module type name must be a printable, non-empty str, got {name!r:.60}")
    me = qualified(cls)
    with _lock:
        owner = _REGISTRY.get(name)
        if owner is not None and qualified(owner) != me:
            raise ValueError(
                f"the module type name {name!r} is already registered for {qualified(owner)}; "
                f"register {me} under another name"
            )
        for old in [n for n, c in _REGISTRY.items() if qualified(c) == me]:
            del _REGISTRY[old]  # one name a class
        _DEFINED.get(cls.__name__, {}).pop(me, None)  # it no longer competes for its class name
        _REGISTRY[name] = cls


def module_type(name: object) -> type[Any]:
    """The class a file's ``"type"`` names (ValueError naming the choices if none)."""
    with _lock:
        key = name if isinstance(name, str) else None
        cls = _REGISTRY.get(key) if key is not None else None
        found = list(_DEFINED.get(key, {}).values()) if key is not None else []
        known = sorted({*_REGISTRY, *(n for n, d in _DEFINED.items() if len(d) == 1)})
    if cls is not None:
        return cls
    if len(found) == 1:
        return found[0]
    if found:
        raise ValueError(
            f"module type {name!r} is ambiguous: several classes have that name "
            f"({', '.join(qualified(c) for c in found)}); register the one the file was saved "
            f"from with nn.register_module(cls, name={name!r})"
        )
    listed = ", ".join(known[:12]) + (f", ... ({len(known) - 12} more)" if len(known) > 12 else "")
    raise ValueError(
        f"unknown module type {name!r:.60}; known types: {listed} (define or import the class, "
        "or register it with nn.register_module, before loading)"
    )


def module_type_name(cls: type) -> str:
    """The name a file saved from `cls` records (ValueError saying what to do if there is none)."""
    base = cls.__name__
    with _lock:
        name = next((n for n, c in _REGISTRY.items() if c is cls), None)
        owner = _REGISTRY.get(base)
        rivals = [c for c in _DEFINED.get(base, {}).values() if c is not cls]
        mine = _DEFINED.get(base, {}).get(qualified(cls)) is cls
    if name is not None:
        return name
    if owner is None and mine and not rivals:
        return base
    if owner is not None:
        why = f"the name {base!r} belongs to {qualified(owner)}"
    elif mine:
        others = ", ".join(qualified(c) for c in rivals)
        why = f"other Module classes are also named {base!r} ({others})"
    elif "<locals>" in cls.__qualname__:
        why = "it is defined inside a function, so it is not registered automatically"
    else:
        why = "it is not registered (a newer definition of it replaced it?)"
    raise ValueError(
        f"{qualified(cls)} cannot be saved by name: {why}; give it its own name with "
        f"nn.register_module({base}, name=...)"
    )


def type_name(cls: type) -> str:
    """`module_type_name`, or the class name where it has none (what ``config()`` reports)."""
    with _lock:
        return next((n for n, c in _REGISTRY.items() if c is cls), cls.__name__)
