"""What the command line prints and writes: the value and gradients as text or strict JSON,
the tape, the adjoint program, and the pictures and stepper page of ``-o FILE``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from ..engine import Value
from ..programs import compile as compile_program
from .errors import EXIT_MATH, ExpressionError
from .evaluation import fmt

# autograd.viz is imported where a picture, a page or the tape is made, not at the top: importing
# it would cost every run of the command line about 27 ms of its ~110 ms (-X importtime)

__all__ = ["SUFFIXES", "check_output", "print_json", "print_result", "write_output"]

SUFFIXES = (".svg", ".png", ".gv", ".dot", ".html")


def print_json(
    value: float | None, grads: dict[str, float] | None, stream: TextIO, error: str | None = None
) -> None:
    """Strict JSON (never NaN or Infinity): an error gives null values and the message."""
    data: dict[str, object] = {"value": value, "grad": grads}
    if error is not None:
        data["error"] = error
    print(json.dumps(data, allow_nan=False), file=stream)


def print_result(
    out: Value, grads: dict[str, float], stream: TextIO, *, as_json: bool, tape: bool, program: bool
) -> None:
    """``value = ...`` and ``d/dx = ...`` (or JSON), then the tape and the program if asked for."""
    if as_json:
        print_json(out.data, grads, stream)
    else:
        width = max([len(n) for n in grads] + [0])
        print(f"value = {fmt(out.data)}", file=stream)
        for name, g in grads.items():
            print(f"d/d{name.ljust(width)} = {fmt(g)}", file=stream)
    if tape:
        from ..viz import tape as tape_text

        print(file=stream)
        print(tape_text(out, max_nodes=None), end="", file=stream)
    if program:
        print(file=stream)
        print(compile_program(out).source, end="", file=stream)


def check_output(path: str | None, adjoint: bool) -> Path | None:
    """The file ``-o`` names, checked before any work: its suffix, and that it can be written
    (not a folder, no NUL byte, no file where a folder should be). Raises `ExpressionError`."""
    if path is None:
        if adjoint:
            raise ExpressionError("--adjoint needs -o FILE.svg (or .png, .gv)")
        return None
    from ..viz._paths import OutputPathError, output_path

    if Path(path.replace("\x00", "")).suffix.lower() not in SUFFIXES:
        raise ExpressionError(f"-o {path!r:.80}: the file must end in .svg, .png, .gv, .dot or .html")
    try:
        checked = output_path(path, SUFFIXES, "the output")
    except OutputPathError as exc:
        raise ExpressionError(f"-o: {exc}", status=EXIT_MATH) from None
    if adjoint and checked.suffix.lower() == ".html":
        raise ExpressionError("--adjoint draws a picture; the .html stepper has its own view")
    return checked


def write_output(out: Value, path: Path, adjoint: bool) -> str:
    """Write the stepper page (.html), the DOT source (.gv, .dot) or the picture (.svg, .png)
    of the forward graph, or with `adjoint` of the adjoint graph; say what was written where.
    Missing folders are created for every kind of file. Raises `ExpressionError` (status 1)
    if it cannot be written or drawn."""
    from .. import viz
    from ..viz._paths import write_file

    suffix = path.suffix.lower()
    what = "adjoint graph" if adjoint else "forward graph"
    try:
        if suffix == ".html":
            return f"wrote the backprop stepper to {viz.animate_backward(out, path)}"
        source = viz.to_dot(out, adjoint=adjoint)
        if suffix in (".gv", ".dot"):
            return f"wrote the {what} (DOT source) to {write_file(path, source)}"
        return f"wrote the {what} to {viz.render(source, path, suffix.lstrip('.'))}"
    except (viz.RenderError, viz.GraphTooLargeError, OSError, ValueError) as exc:
        raise ExpressionError(str(exc), status=EXIT_MATH) from None
