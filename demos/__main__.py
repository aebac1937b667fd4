"""List the demos, one line each: ``python -m demos``.

Each line is the command and the first line of the demo module's docstring, read from the source
file (nothing is imported, so listing needs no optional package). The demos that reproduce the
article come first, in the article's order; then every other module of the package.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Sequence
from pathlib import Path

ARTICLE = {  # demo -> the article's section it reproduces, in the article's order
    "matrix_form": "Matrix multiplication",
    "error_surface": "Learning as an optimization problem",
    "delta_rule": "Derivation",
    "second_order": "Second-order gradient descent",
    "forward_vs_reverse": "Overview: reverse accumulation",
    "local_minima": "Limitations",
    "vanishing_gradients": "Limitations",
    "adjoint_graph": "Adjoint graph",
    "per_example": "Loss function: Assumptions",
    "history": "History",
}
HERE = Path(__file__).resolve().parent


def summary(path: Path) -> str:
    """The first line of the module's docstring, without a trailing ``python -m ...`` mention."""
    try:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    except (OSError, SyntaxError, UnicodeDecodeError) as e:
        return f"(cannot read {path.name}: {e})"
    if not doc:
        return "(no description)"
    first = doc.strip().splitlines()[0].strip()
    return re.sub(r"\s*:?\s*``python -m demos\.\w+[^`]*``\.?$", "", first).rstrip(":. ") or first


def demos(folder: Path = HERE) -> list[tuple[str, str]]:
    """(name, one-line description) of every demo module: the article's first, then the rest."""
    names = sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))
    ordered = [n for n in ARTICLE if n in names] + [n for n in names if n not in ARTICLE]
    return [(n, summary(folder / f"{n}.py")) for n in ordered]


def main(argv: Sequence[str] | None = None) -> list[tuple[str, str]]:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return []
    if args:
        raise SystemExit(f"python -m demos takes no arguments (got {' '.join(args)}); "
                         "run one demo with python -m demos.<name>")
    listing = demos()
    width = max(len(n) for n, _ in listing) + len("python -m demos.")
    print("The article, section by section (each takes --quick and --out DIR):")
    for name, text in listing:
        if name == next((n for n, _ in listing if n not in ARTICLE), None):
            print("More demos:")
        section = f"[{ARTICLE[name]}] " if name in ARTICLE else ""
        print(f"  {'python -m demos.' + name:<{width}}  {section}{text}")
    print("Options of each: python -m demos.<name> --help")
    return listing


if __name__ == "__main__":
    main()
