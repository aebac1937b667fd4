"""Saving and loading parameters as JSON, without losing anything.

File format (UTF-8 JSON; floats are written with ``repr``, so they read back bit for bit)::

    {
      "format": "adjointgrad.nn",
      "version": 1,
      "architecture": {"type": "MLP", "nin": 2, "nouts": [16, 16, 1], ...},   (or null)
      "num_parameters": 337,
      "parameters": {"layers.0.neurons.0.w.0": 0.123, ...}
    }

`save` writes a temporary file in the same folder, flushes it to disk, then renames it over
the target (`os.replace`, atomic on POSIX and Windows): a crash leaves the old file or the
new one, never half of one. `load` and `load_state_dict` check everything first (the format,
the architecture, every name, the count, every value) and only then assign: on any problem
they raise `ValueError` naming it, and the model is unchanged.
"""

from __future__ import annotations

import contextlib
import json
import math
import numbers
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autograd import Value

    from .modules import Module

__all__ = ["FORMAT", "VERSION", "save", "load", "load_state_dict", "load_model", "build"]

FORMAT = "adjointgrad.nn"
VERSION = 1
_SHOW = 5  # how many names an error message lists


def _some(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_SHOW])
    return shown + (f", ... ({len(names) - _SHOW} more)" if len(names) > _SHOW else "")


def _check_state(module: Module, state: object, source: str) -> list[tuple[Value, float]]:
    """Validate `state` against `module`; return the (parameter, new value) assignments."""
    if not isinstance(state, Mapping):
        raise ValueError(
            f"{source}: expected a mapping of parameter names to numbers, "
            f"got {type(state).__name__}"
        )
    named = module.named_parameters()
    want = [name for name, _ in named]
    have = set(state)
    missing = [n for n in want if n not in have]
    wanted = set(want)
    extra = [str(k) for k in state if k not in wanted]
    kind = type(module).__name__
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing ({_some(missing)})")
        if extra:
            parts.append(f"{len(extra)} unexpected ({_some(extra)})")
        raise ValueError(
            f"{source} does not match this {kind}: parameters {'; '.join(parts)}; "
            f"it has {len(state)} parameters, the model {len(named)} "
            "(a file for another architecture?)"
        )
    if len(state) != len(named):  # unreachable with a dict, kept for odd mappings
        raise ValueError(f"{source} has {len(state)} parameters, the model {len(named)}")
    out: list[tuple[Value, float]] = []
    for name, p in named:
        v = state[name]
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise ValueError(
                f"{source}: parameter {name!r} is {type(v).__name__} {v!r:.40}, not a number"
            )
        try:
            x = float(v)
        except OverflowError:
            raise ValueError(f"{source}: parameter {name!r} is too large for a float") from None
        if not math.isfinite(x):
            raise ValueError(f"{source}: parameter {name!r} is {x}, not a finite number")
        out.append((p, x))
    return out


def load_state_dict(module: Module, state: object, source: str = "state dict") -> None:
    """Assign `state` (name -> number) to `module`'s parameters, after checking all of it."""
    for p, x in _check_state(module, state, source):
        p.data = x


def _document(module: Module) -> dict[str, Any]:
    named = module.named_parameters()
    params: dict[str, float] = {}
    for name, p in named:
        x = p.data
        if not math.isfinite(x):
            raise ValueError(
                f"cannot save: parameter {name!r} is {x} (JSON has no NaN or infinity); "
                "nothing was written"
            )
        params[name] = x
    return {
        "format": FORMAT,
        "version": VERSION,
        "architecture": module.config(),
        "num_parameters": len(params),
        "parameters": params,
    }


def save(module: Module, path: str | os.PathLike[str]) -> Path:
    """Write `module`'s parameters to `path` as JSON, atomically; returns the path."""
    target = Path(path)
    text = json.dumps(_document(module), indent=1, allow_nan=False) + "\n"
    folder = target.parent
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)
    return target


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _no_constants(name: str) -> float:
    raise ValueError(f"{name} is not a number in JSON")


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a saved file's envelope; returns the document."""
    source = f"{os.fspath(path)!r}"
    try:
        raw = Path(path).read_bytes()
    except IsADirectoryError:
        raise ValueError(f"{source} is a folder, not a saved model") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{source} is not UTF-8 text (corrupt file?): {e}") from None
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except json.JSONDecodeError as e:
        raise ValueError(
            f"{source} is not valid JSON (corrupt or truncated file?): {e.msg} at line "
            f"{e.lineno} column {e.colno}"
        ) from None
    except ValueError as e:
        raise ValueError(f"{source}: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{source} is not an adjointgrad model file (no \"format\": \"{FORMAT}\")")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"{source}: \"version\" must be an int, got {version!r}")
    if version > VERSION:
        raise ValueError(
            f"{source} has format version {version}; this adjointgrad reads up to {VERSION}"
        )
    params = doc.get("parameters")
    if not isinstance(params, dict):
        raise ValueError(f"{source}: \"parameters\" must be an object of name: number")
    count = doc.get("num_parameters")
    if isinstance(count, bool) or not isinstance(count, int):
        raise ValueError(f"{source}: \"num_parameters\" must be an int, got {count!r}")
    if count != len(params):
        raise ValueError(
            f"{source} says it holds {count} parameters but has {len(params)} "
            "(truncated or edited?)"
        )
    arch = doc.get("architecture")
    if arch is not None and not isinstance(arch, dict):
        raise ValueError(f"{source}: \"architecture\" must be an object or null")
    return doc


def _describe(cfg: Mapping[str, Any]) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in cfg.items() if k != "type")
    return f"{cfg.get('type', '?')}({args})"


def load(module: Module, path: str | os.PathLike[str]) -> None:
    """Load a file written by `save` into `module` (everything checked before any change)."""
    doc = read(path)
    source = f"{os.fspath(path)!r}"
    arch, mine = doc.get("architecture"), module.config()
    if arch is not None and mine is not None and arch != mine:
        raise ValueError(
            f"{source} holds {_describe(arch)} but this model is {_describe(mine)}"
        )
    load_state_dict(module, doc["parameters"], source)


def build(config: Mapping[str, Any]) -> Module:
    """A new module with the architecture `config` (as returned by ``module.config()``)."""
    from .modules import MLP, Layer, Neuron

    cfg = dict(config)
    kind = cfg.pop("type", None)
    slope = cfg.pop("negative_slope", 0.01)
    try:
        if kind == "MLP":
            return MLP(**cfg, negative_slope=slope, init="uniform", seed=0)
        if kind == "Layer":
            return Layer(**cfg, negative_slope=slope, init="uniform", seed=0)
        if kind == "Neuron":
            return Neuron(**cfg, negative_slope=slope, init="uniform", seed=0)
    except TypeError as e:
        raise ValueError(f"bad architecture {dict(config)!r}: {e}") from None
    raise ValueError(f"unknown architecture type {kind!r} (expected MLP, Layer or Neuron)")


def load_model(path: str | os.PathLike[str]) -> Module:
    """Rebuild the model saved in `path` from its architecture, and load its parameters."""
    doc = read(path)
    arch = doc.get("architecture")
    if arch is None:
        raise ValueError(
            f"{os.fspath(path)!r} records no architecture; build the model yourself and call "
            "model.load(path)"
        )
    model = build(arch)
    load_state_dict(model, doc["parameters"], f"{os.fspath(path)!r}")
    return model
