"""Colours that carry meaning, and the one font, for the DOT pictures and the built-in layout."""

from __future__ import annotations

from ..engine import Value

# (fill, border). A colour-blind-safe set: blue inputs, amber ops, green output, violet modules.
INPUT = ("#dbeafe", "#1d4ed8")  # a labelled leaf: an input or a parameter
CONST = ("#f1f5f9", "#94a3b8")  # an unlabelled leaf: a number written in the expression
VALUE = ("#ffffff", "#475569")  # an intermediate result
OUTPUT = ("#dcfce7", "#15803d")  # the root: the value being differentiated
OP = ("#fef3c7", "#b45309")  # an op node
GROUP = ("#ede9fe", "#6d28d9")  # a collapsed neuron or layer
ADJOINT_EDGE = "#c2410c"  # reverse edges carrying a gradient
ZERO_EDGE = "#a8a29e"  # reverse edges carrying exactly 0
REF_TEXT = "#475569"  # the name in a reference to a node drawn elsewhere

# One font the layout measures and every browser draws at about the same width. Graphviz
# compiled to WebAssembly has no font files: it estimates widths from built-in tables, and for
# a list such as "Helvetica,Arial,sans-serif" it falls back to Times, so browsers that draw
# DejaVu Sans (minimal Linux) spilled text over the record separators. Verdana is in the
# tables; Windows and macOS have it; on Linux both `dot` and browsers substitute DejaVu Sans,
# whose widths are Verdana's to within 2%.
FONT = "Verdana"


def kind_colours(v: Value, root: Value) -> tuple[str, str]:
    """The (fill, border) of a value's box: output, input or parameter, constant, intermediate."""
    if v is root:
        return OUTPUT
    if not v._op:
        return INPUT if v.label else CONST
    return VALUE
