"""Refuse to run on another package named `autograd` (the name clash of issue 17).

The unrelated HIPS `autograd` on PyPI has the import name of adjointgrad's engine, so ``pip install
autograd`` can silently replace it. nn imports this file first: on anything but adjointgrad's
`autograd` (which sets ``__distribution__ = "adjointgrad"`` and has `Value`) it raises an
ImportError saying which package it found, where, and how to fix it, instead of a bare
``cannot import name 'Value'`` from deep inside nn.
"""

from __future__ import annotations

from types import ModuleType

MARKER = "adjointgrad"
FIX = (
    "To fix it: `pip uninstall autograd`, then reinstall adjointgrad (`pip install -e .` in its "
    "checkout), or give adjointgrad a virtual environment of its own. Check which one Python "
    "finds with: python -c \"import autograd; print(autograd.__file__)\""
)


def check(module: ModuleType) -> None:
    """ImportError unless `module` is adjointgrad's `autograd`."""
    if getattr(module, "__distribution__", None) == MARKER and hasattr(module, "Value"):
        return
    where = getattr(module, "__file__", None) or "an unknown place (a namespace package?)"
    marker = getattr(module, "__distribution__", None)
    lacks = [] if marker == MARKER else [f"__distribution__ is {marker!r}, not {MARKER!r}"]
    lacks += [] if hasattr(module, "Value") else ["it has no Value"]
    raise ImportError(
        f"nn needs adjointgrad's `autograd`, but `import autograd` found another package, at {where} "
        f"({'; '.join(lacks)}): probably the unrelated HIPS `autograd` from PyPI, which has the same import "
        f"name. {FIX}"
    )


try:
    import autograd
except ImportError as e:  # e.g. HIPS autograd without numpy, or no autograd at all
    raise ImportError(f"nn needs adjointgrad's `autograd`, and `import autograd` failed ({e}). {FIX}") from e
check(autograd)
