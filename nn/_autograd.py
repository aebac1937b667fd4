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
    "To fix it: `pip uninstall autograd`, then reinstall adjointgrad (`pip install --force-reinstall "
    "-e .` in its checkout: uninstalling removes the autograd/__init__.py the two packages share), "
    "or give adjointgrad a virtual environment of its own. See which one Python finds with: "
    "python -c \"import autograd; print(autograd.__path__)\""
)


def check(module: ModuleType) -> None:
    """ImportError unless `module` is adjointgrad's `autograd`."""
    if getattr(module, "__distribution__", None) == MARKER and hasattr(module, "Value"):
        return
    if getattr(module, "__file__", None) is None:  # a namespace package: a folder, no __init__.py
        folder = next(iter(getattr(module, "__path__", [])), "?")
        raise ImportError(
            f"nn needs adjointgrad's `autograd`, but `import autograd` found a folder with no "
            f"__init__.py, at {folder}: uninstalling HIPS autograd (an unrelated PyPI package with "
            f"the same import name) removes the __init__.py it had written over adjointgrad's. {FIX}"
        )
    where = module.__file__
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
