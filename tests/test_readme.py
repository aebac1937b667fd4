"""The README's snippets run as written, and its quick-start commands are the ones CI uses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_has_python_snippets() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_snippet_runs(index: int, tmp_path: Path) -> None:
    script = tmp_path / f"snippet_{index}.py"
    script.write_text(BLOCKS[index], encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, f"snippet {index} failed:\n{BLOCKS[index]}\n{proc.stderr}"


def test_quick_start_commands_are_marked_for_ci() -> None:
    for marker, target in (("ci:demo-command", "demos.moons"), ("ci:test-command", "pytest")):
        after = README.split(marker, 1)[1]
        command = next(line for line in after.splitlines() if line.startswith("python3 "))
        assert "python3 -m venv .venv" in command and target in command
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "ci:test-command" in ci
