"""Saving and loading parameters as JSON, without losing anything.

File format (UTF-8 JSON; floats are written with ``repr``, so they read back bit for bit)::

    {
      "format": "adjointgrad.nn",
      "version": 1,
      "architecture": {"type": "MLP", "nin": 2, "nouts": [16, 16, 1], ...},   (or null)
      "num_parameters": 337,
      "parameters": {"layers.0.neurons.0.w.0": 0.123, ...}
    }

`save` writes a temporary file in the same folder (``.<name>.adjointgrad-tmp-<pid>-<hex>``),
flushes it to disk, then renames it over the target (`os.replace`, atomic on POSIX and
Windows): a crash leaves the old file or the new one, never half of one, and the next
successful save removes temporary files that killed saves left. Through a symbolic link it
replaces the link's target; a new file gets ``0o666 & ~umask``; errors name the user's path.
`load` and `load_state_dict` check everything first (the format, the architecture, every
name, the count, every value) and only then assign: on any problem they raise `ValueError`
naming it, and the model is unchanged.

The architecture is ``{"type": name, **constructor keyword arguments}``; `load_model` finds
the class by name in `nn.registry` (every Module subclass, see `nn.register_module`), checks the
parameter count its ``parameter_count`` classmethod gives against the file's before building
anything, and builds it with ``from_config(kwargs)`` or ``cls(**kwargs)``.

This file knows no module class: it works on any `Model` (what `nn.Module` provides), so that
`nn.base` can call it from ``Module.save`` and ``Module.load`` (imports run registry <- serialize
<- base).
"""

from __future__ import annotations

import contextlib
import errno
import inspect
import json
import math
import numbers
import os
import re
import secrets
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from autograd import Value

from .registry import module_type, module_type_name

__all__ = ["FORMAT", "VERSION", "Model", "save", "load", "load_state_dict", "load_model", "build"]

FORMAT = "adjointgrad.nn"
VERSION = 1  # what save writes
VERSIONS = (1,)  # what load reads
MAX_DEPTH = 32  # how deeply an architecture may nest lists and objects
_SHOW = 5  # how many names an error message lists


class Model(Protocol):
    """What saving and loading need of a model (an `nn.Module`)."""

    def named_parameters(self, prefix: str = "") -> list[tuple[str, Value]]: ...

    def num_parameters(self) -> int: ...

    def config(self) -> dict[str, Any] | None: ...


def _some(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_SHOW])
    return shown + (f", ... ({len(names) - _SHOW} more)" if len(names) > _SHOW else "")


def _short(v: object) -> str:
    """A short description of a value (containers by size: their repr may be huge or deep)."""
    if isinstance(v, (list, tuple, dict, set)):
        return f"{type(v).__name__} of {len(v)} item{'s' if len(v) != 1 else ''}"
    return f"{type(v).__name__} {v!r:.40}"


def _check_state(module: Model, state: object, source: str) -> list[tuple[Value, float]]:
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
    out: list[tuple[Value, float]] = []
    for name, p in named:
        v = state[name]
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise ValueError(
                f"{source}: parameter {name!r} is {_short(v)}, not a number"
            )
        try:
            x = float(v)
        except OverflowError:
            raise ValueError(f"{source}: parameter {name!r} is too large for a float") from None
        if not math.isfinite(x):
            raise ValueError(f"{source}: parameter {name!r} is {x}, not a finite number")
        out.append((p, x))
    return out


def load_state_dict(module: Model, state: object, source: str = "state dict") -> None:
    """Assign `state` (name -> number) to `module`'s parameters, after checking all of it."""
    for p, x in _check_state(module, state, source):
        p.data = x


def _jsonable(arch: object, what: str) -> Any:
    """`arch` as it reads back from JSON (tuples become lists); ValueError if it is not JSON."""
    try:
        return json.loads(json.dumps(arch, allow_nan=False))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{what} is not JSON data (numbers, strings, lists, dicts): {e}") from None


def _architecture(module: Model) -> dict[str, Any] | None:
    """The architecture to record: the class's registered name and its constructor arguments,
    checked now so that the file can be loaded again (ValueError otherwise)."""
    cfg = module.config()
    if cfg is None:
        return None
    cls = type(module)
    who = f"{cls.__name__}.config()"
    if not isinstance(cfg, Mapping):
        raise ValueError(f"{who} must return a dict or None, got {type(cfg).__name__}")
    if not all(isinstance(k, str) for k in cfg):
        raise ValueError(f"{who}: argument names must be strings")
    kwargs = _jsonable({k: v for k, v in cfg.items() if k != "type"}, who)
    _check_tree(kwargs, who)
    name = module_type_name(cls)
    if _own(cls, "from_config") is None:
        try:
            inspect.signature(cls).bind(**kwargs)
        except TypeError as e:
            raise ValueError(
                f"{who} gives {_describe(kwargs)}, which {cls.__name__}(...) does not take ({e}); "
                "a file saved from it could not be loaded"
            ) from None
    count = _implied_count(cls, kwargs, who)
    have = module.num_parameters()
    if count is not None and count != have:
        raise ValueError(
            f"{cls.__name__}.parameter_count(config) gives {count} but the model has {have} "
            "parameters; a file saved from it could not be loaded (define parameter_count "
            f"for {cls.__name__}, or fix it)"
        )
    return {"type": name, **kwargs}


def _document(module: Model) -> dict[str, Any]:
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
    try:
        arch = _architecture(module)
    except ValueError as e:
        raise ValueError(f"cannot save: {e}; nothing was written") from None
    return {
        "format": FORMAT,
        "version": VERSION,
        "architecture": arch,
        "num_parameters": len(params),
        "parameters": params,
    }


# -- writing -----------------------------------------------------------------------------------
#
# The temporary file is ".<name>.adjointgrad-tmp-<pid>-<random>" beside the target. A save killed
# before its rename leaves one behind; the next successful save into that folder removes those
# whose process has ended (POSIX), or that are over an hour old (elsewhere).

_TMP_TAG = ".adjointgrad-tmp-"
_TMP_REST = re.compile(r"(\d{1,10})-([0-9a-f]{8})")
_STALE_AGE = 3600.0  # seconds; where we cannot ask whether a process is alive
_writing: set[str] = set()  # temporary files this process is writing now
_writing_lock = threading.Lock()


def _tmp_prefix(name: str) -> str:
    return f".{name[:150]}{_TMP_TAG}"


def save(module: Model, path: str | os.PathLike[str]) -> Path:
    """Write `module`'s parameters to `path` as JSON, atomically; returns the path.

    Through a symbolic link, the file it points to is replaced (the link stays). A new file
    gets the mode ``open()`` would give it (0o666 minus the umask); an existing file keeps its
    mode. On failure the error names `path`, and the old file is left as it was.
    """
    target = Path(path)
    user = os.fspath(path)
    text = _text(_document(module))
    real = os.path.realpath(target)
    try:
        if os.path.islink(real):  # realpath stops at a loop of links
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), real)
        _write_atomically(real, text)
    except OSError as e:
        raise _naming(e, user, real) from e
    return target


def _text(doc: dict[str, Any]) -> str:
    """`doc` as JSON: the envelope on the first line, then one parameter a line. Written by
    json's C encoder (no ``indent``: the pure-Python one it would use leaves a reference cycle)."""
    head = {k: v for k, v in doc.items() if k != "parameters"}
    params = json.dumps(doc["parameters"], allow_nan=False, separators=(",\n", ": "))
    return f'{json.dumps(head, allow_nan=False)[:-1]},\n"parameters": {params}}}\n'


def _naming(e: OSError, user: str, real: str) -> OSError:
    """The same error, naming the file the user asked for (and the real file behind a link)."""
    if e.errno is None:
        return OSError(f"cannot save {user!r}: {e}")
    if os.path.abspath(user) != real:
        return OSError(e.errno, e.strerror, user, None, real)
    return OSError(e.errno, e.strerror, user)


def _write_atomically(real: str, text: str) -> None:
    folder, name = os.path.split(real)
    prefix = _tmp_prefix(name)
    fd, tmp = _create_temporary(folder, prefix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        try:
            mode = os.stat(real).st_mode & 0o777
        except FileNotFoundError:
            pass  # a new file: created with 0o666 minus the umask, as open() does
        else:
            os.chmod(tmp, mode)
        os.replace(tmp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        with _writing_lock:
            _writing.discard(tmp)
    _fsync_dir(folder)
    _remove_stale(folder, prefix)


def _create_temporary(folder: str, prefix: str) -> tuple[int, str]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(folder, f"{prefix}{os.getpid()}-{secrets.token_hex(4)}")
        with _writing_lock:
            _writing.add(tmp)
        try:
            return os.open(tmp, flags, 0o666), tmp  # the kernel applies the umask
        except FileExistsError:
            continue
        except BaseException:
            with _writing_lock:
                _writing.discard(tmp)
            raise
    raise FileExistsError(errno.EEXIST, "no free temporary file name", folder)


def _remove_stale(folder: str, prefix: str) -> None:
    """Remove temporary files that saves of this name left behind (never fails the save)."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith(prefix):
                    m = _TMP_REST.fullmatch(entry.name[len(prefix):])
                    if m and _abandoned(entry, int(m.group(1))):
                        with contextlib.suppress(OSError):
                            os.unlink(entry.path)
    except OSError:
        pass


def _abandoned(entry: os.DirEntry[str], pid: int) -> bool:
    if not entry.is_file(follow_symlinks=False) or not 0 < pid < 2**31:
        return False  # not a file a save of ours made
    if pid == os.getpid():
        with _writing_lock:
            return entry.path not in _writing
    if os.name == "posix":
        try:
            os.kill(pid, 0)  # signal 0: only asks whether the process exists
        except ProcessLookupError:
            return True
        except OSError:
            return False  # it exists (PermissionError: someone else's)
        return False
    try:
        return time.time() - entry.stat(follow_symlinks=False).st_mtime > _STALE_AGE
    except OSError:
        return False


def _fsync_dir(folder: str) -> None:
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- reading -----------------------------------------------------------------------------------


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
    """Read and check a saved file's envelope and architecture; returns the document."""
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
    except RecursionError:
        raise ValueError(
            f"{source} is not a model file: its JSON is nested too deeply to read"
        ) from None
    except ValueError as e:
        raise ValueError(f"{source}: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{source} is not an adjointgrad model file (no \"format\": \"{FORMAT}\")")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"{source}: \"version\" must be an int, got {version!r:.40}")
    if version not in VERSIONS:
        newer = " (written by a newer adjointgrad?)" if version > max(VERSIONS) else ""
        known = ", ".join(map(str, VERSIONS))
        raise ValueError(
            f"{source} has format version {version}{newer}; this adjointgrad reads version {known}"
        )
    params = doc.get("parameters")
    if not isinstance(params, dict):
        raise ValueError(f"{source}: \"parameters\" must be an object of name: number")
    count = doc.get("num_parameters")
    if isinstance(count, bool) or not isinstance(count, int):
        raise ValueError(f"{source}: \"num_parameters\" must be an int, got {count!r:.40}")
    if count != len(params):
        raise ValueError(
            f"{source} says it holds {count} parameters but has {len(params)} "
            "(truncated or edited?)"
        )
    arch = doc.get("architecture")
    if arch is not None:
        if not isinstance(arch, dict):
            raise ValueError(f"{source}: \"architecture\" must be an object or null")
        _check_tree(arch, f"{source}: architecture")
    return doc


def _check_tree(tree: object, what: str) -> None:
    """JSON values only, nested at most MAX_DEPTH deep, every number finite (ValueError)."""
    stack: list[tuple[object, str, int]] = [(tree, "", 0)]
    while stack:
        x, where, depth = stack.pop()
        shown = where.lstrip(".")
        at = f" {shown if len(shown) <= 60 else shown[:57] + '...'!r}" if where else ""
        if depth > MAX_DEPTH:
            raise ValueError(f"{what}{at} is nested more than {MAX_DEPTH} deep")
        if isinstance(x, float) and not math.isfinite(x):
            raise ValueError(f"{what}{at} is {x}, not a finite number")
        if isinstance(x, dict):
            stack.extend((v, f"{where}.{k}", depth + 1) for k, v in x.items())
        elif isinstance(x, list):
            stack.extend((v, f"{where}[{i}]", depth + 1) for i, v in enumerate(x))
        elif x is not None and not isinstance(x, (bool, int, float, str)):
            raise ValueError(f"{what}{at} is {type(x).__name__}, not a JSON value")


def _describe(cfg: Mapping[str, Any]) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in cfg.items() if k != "type")
    kind = cfg.get("type", "?")
    text = f"{kind}({args})" if isinstance(kind, str) else f"?({args})"
    return text if len(text) <= 300 else text[:300] + "...)"


def load(module: Model, path: str | os.PathLike[str]) -> None:
    """Load a file written by `save` into `module` (everything checked before any change)."""
    doc = read(path)
    source = f"{os.fspath(path)!r}"
    arch = doc.get("architecture")
    try:
        mine = _architecture(module)
    except ValueError:
        mine = None  # a model that could not be saved by name: its parameter names still count
    if arch is not None and mine is not None and arch != mine:
        raise ValueError(f"{source} holds {_describe(arch)} but this model is {_describe(mine)}")
    load_state_dict(module, doc["parameters"], source)


def _own(cls: type, method: str) -> Any:
    """``cls.<method>`` if it was written for `cls`'s constructor: defined by `cls` itself or by
    a subclass of the class whose ``__init__`` `cls` uses; else None (not to be trusted)."""
    owner = next((c for c in cls.__mro__ if method in vars(c)), None)
    if owner is None:
        return None
    init = next(c for c in cls.__mro__ if "__init__" in vars(c))
    return getattr(cls, method) if issubclass(owner, init) else None


def _implied_count(cls: type, kwargs: dict[str, Any], what: str) -> int | None:
    """The parameter count `cls.parameter_count` gives for `kwargs` (None: no such method)."""
    rule = _own(cls, "parameter_count")
    if rule is None:
        return None
    try:
        count = rule(dict(kwargs))
    except (TypeError, ValueError, KeyError, OverflowError) as e:
        raise ValueError(f"{what}: bad architecture {cls.__name__}: {e}") from None
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(
            f"{cls.__name__}.parameter_count returned {count!r:.40}, not a count of parameters"
        )
    return count


def build(
    config: Mapping[str, Any], *, parameters: int | None = None, source: str = "architecture"
) -> Any:
    """A new module with the architecture `config` (as returned by ``module.config()``).

    The class is found by ``config["type"]`` in the registry (see `nn.register_module`) and
    built by its ``from_config(kwargs)`` classmethod if it has one, else by ``cls(**kwargs)``.
    With `parameters` (the number of values a file holds), a class with a
    ``parameter_count(kwargs)`` classmethod is refused before anything is built if the counts
    differ: a few bytes of file cannot make the loader build a huge model.
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"{source}: expected an object with a \"type\", got {type(config).__name__}")
    cls = module_type(config.get("type"))
    kwargs = {k: v for k, v in config.items() if k != "type"}
    if not all(isinstance(k, str) for k in kwargs):
        raise ValueError(f"{source}: argument names must be strings")
    count = _implied_count(cls, kwargs, source)
    if parameters is not None and count is not None and count != parameters:
        raise ValueError(
            f"{source}: {_describe(config)} has {count} parameters but the file holds "
            f"{parameters}; refused before building anything"
        )
    make = _own(cls, "from_config")
    try:
        model = make(dict(kwargs)) if make is not None else cls(**kwargs)
    except (TypeError, ValueError, OverflowError) as e:
        raise ValueError(f"{source}: cannot build {_describe(config)}: {e}") from None
    if not isinstance(model, cls):
        raise ValueError(f"{source}: {cls.__name__}.from_config returned {type(model).__name__}")
    return model


def load_model(path: str | os.PathLike[str]) -> Any:
    """Rebuild the model saved in `path` from its architecture (an `nn.Module` of the class the
    file names), and load its parameters.

    Every check that needs no model (format, version, counts, the architecture's values, and
    its parameter count for classes that define ``parameter_count``) comes before building.
    """
    doc = read(path)
    source = f"{os.fspath(path)!r}"
    arch = doc.get("architecture")
    if arch is None:
        raise ValueError(
            f"{source} records no architecture; build the model yourself and call "
            "model.load(path)"
        )
    model = build(arch, parameters=len(doc["parameters"]), source=source)
    load_state_dict(model, doc["parameters"], source)
    return model
