"""``python -m autograd EXPRESSION NAME=NUMBER ...``: see `autograd.cli`.

First it checks that the `autograd` package Python imported is adjointgrad's. HIPS autograd
(``pip install autograd``) is an unrelated project with the same import name. Installed into the
same environment, it writes its ``autograd/__init__.py`` over ours and leaves this file in place,
so this file (standard library only) can say what happened, instead of failing deep inside.
"""

from __future__ import annotations

import json
import sys
from types import ModuleType
from urllib.parse import unquote, urlparse

import autograd

EXIT_FOREIGN = 3


def foreign_package_message(package: ModuleType) -> str | None:
    """None if `package` is adjointgrad's `autograd`; else what is installed where, and the fix."""
    if getattr(package, "__distribution__", None) == "adjointgrad":
        return None
    from importlib import metadata  # here, not at the top: it would cost every run ~20 ms

    folder = next(iter(getattr(package, "__path__", [])), getattr(package, "__file__", "?"))
    found, source = [], "adjointgrad"
    for dist in metadata.distributions():  # each that installed an autograd/__init__.py
        if any(str(f) == "autograd/__init__.py" for f in dist.files or ()):
            name = dist.metadata["Name"]
            found.append(f"{name} {dist.version} (in {dist.locate_file('')})")
            try:
                url = json.loads(dist.read_text("direct_url.json") or "{}").get("url", "")
            except (ValueError, AttributeError):
                url = ""
            if name == "adjointgrad" and url:  # reinstall it from where it came from
                source = unquote(urlparse(url).path) if url.startswith("file:") else url
    pip = f"{sys.executable} -m pip"
    reinstall = f"    {pip} install --force-reinstall {source}\n"
    if getattr(package, "__file__", None) is None:  # a namespace package: no __init__.py at all
        return (
            f"the `autograd` package at {folder} has no __init__.py: uninstalling HIPS autograd\n"
            "(`pip uninstall autograd`, an unrelated project with the same import name) removes the\n"
            "__init__.py it had written over adjointgrad's. To fix it, run\n" + reinstall
        ).rstrip()
    return (
        f"the `autograd` package at {folder} is not adjointgrad's "
        '(its __init__.py has no __distribution__ = "adjointgrad").\n'
        f"Installed with an autograd/__init__.py: {', '.join(dict.fromkeys(found)) or 'none found'}.\n"
        "HIPS autograd (`pip install autograd`) is an unrelated project with the same import name:\n"
        "installed into the same environment, the one installed last replaces the other's\n"
        "autograd/__init__.py. To fix it, run\n"
        f"    {pip} uninstall autograd\n" + reinstall +
        "(uninstalling removes the shared __init__.py, hence the reinstall), or give adjointgrad\n"
        "and HIPS autograd each their own virtual environment (python -m venv)."
    )


if __name__ == "__main__":
    problem = foreign_package_message(autograd)
    if problem is not None:
        print(f"python -m autograd: error: {problem}", file=sys.stderr)
        if "--json" in sys.argv[1:]:
            print(json.dumps({"value": None, "grad": None, "error": problem}))
        raise SystemExit(EXIT_FOREIGN)
    from .cli import main  # after the check: with a foreign __init__.py, cli may not import

    raise SystemExit(main())
