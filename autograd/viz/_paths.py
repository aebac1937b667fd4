"""One set of rules for every file the pictures, the stepper and the CLI write.

* The path is checked before any work is done: no NUL byte, not empty, not a folder, a suffix
  that says what is written (``x.pdf`` for an SVG is refused, not turned into ``x.pdf.svg``),
  and no existing *file* where a folder is needed (``/etc/passwd/x.svg``).
* A path without a suffix gets the default one (``graph`` -> ``graph.svg``).
* Missing folders are created, for every kind of output, when the file is written.
* A file is written whole or not at all (`write_file`): into a temporary file beside it, then
  renamed over it, so an interrupted write never leaves half a picture or a truncated old one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["OutputPathError", "output_path", "make_parent", "write_file"]


class OutputPathError(ValueError):
    """A path that cannot be written to, named with what is wrong with it."""


def output_path(
    path: str | os.PathLike[str], suffixes: Sequence[str], what: str, default: str | None = None
) -> Path:
    """Check `path` as the file to write `what` (e.g. "a picture") to; return it as a Path.

    `suffixes` are the accepted ones, lower case with the dot (``(".svg", ".png")``); a path
    without a suffix gets `default` (else the first of `suffixes`). Raises `OutputPathError`.
    """
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise OutputPathError(f"the path to write {what} to must be a str or a Path, got {path!r:.60}")
    text = os.fspath(path)
    if not isinstance(text, str):
        raise OutputPathError(f"the path to write {what} to must be a str, got {text!r:.60}")
    shown = text if len(text) <= 120 else text[:117] + "..."
    if "\x00" in text:
        raise OutputPathError(f"cannot write {what} to {shown!r}: the path contains a NUL byte")
    if not text.strip():
        raise OutputPathError(f"cannot write {what}: the path is empty")
    allowed = " or ".join(suffixes)
    example = f"graph{default or suffixes[0]}"
    if text.endswith(("/", os.sep)) or _is(Path(text), Path.is_dir):
        raise OutputPathError(
            f"cannot write {what} to {shown}: it is a folder; give a file name, "
            f"such as {os.path.join(text, example)}"
        )
    p = Path(text)
    suffix = p.suffix.lower()
    if not suffix:
        p = p.with_name(p.name + (default or suffixes[0]))
    elif suffix not in suffixes:
        raise OutputPathError(
            f"cannot write {what} to {shown}: the file name must end in {allowed} "
            f"(not {p.suffix})"
        )
    # the nearest existing ancestor must be a folder (missing ones are created later)
    parent = p.parent
    while True:
        if _is(parent, Path.exists):
            if not _is(parent, Path.is_dir):
                raise OutputPathError(
                    f"cannot write {what} to {shown}: {parent} is a file, not a folder"
                )
            break
        if parent.parent == parent:
            break
        parent = parent.parent
    return p


def _is(p: Path, test: Callable[[Path], bool]) -> bool:
    """`test(p)`, False where the file system will not say (no permission to look): writing
    the file then fails with the system's own error, which callers report."""
    try:
        return test(p)
    except (OSError, ValueError):
        return False


def make_parent(p: Path) -> None:
    """Create the missing folders above `p` (the one rule for every output)."""
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputPathError(f"cannot write {p}: {p.parent} is a file, not a folder") from None


def write_file(p: Path, data: str | bytes) -> Path:
    """Write `data` to `p` atomically (text as UTF-8), creating missing folders.

    The temporary file ``.<name>.adjointgrad-tmp-<pid>`` is created with the user's umask (as
    ``open()`` would), filled, flushed to disk and renamed over `p`; on any error it is removed
    and the old `p`, if there was one, is left as it was.
    """
    make_parent(p)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = p.with_name(f".{p.name}.adjointgrad-tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return p
