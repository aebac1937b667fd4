"""``python -m autograd EXPRESSION NAME=NUMBER ...``: see `autograd.cli`."""

from .cli import main

raise SystemExit(main())
