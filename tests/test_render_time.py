"""demos.render_times runs (a smoke test: it prints times, nothing here is timed)."""

from __future__ import annotations

import pytest

from autograd import toposort
from autograd.viz import available_renderers, to_dot
from demos import render_times


def test_render_times_script_prints_every_graph_on_every_route(
    capsys: pytest.CaptureFixture[str],
) -> None:
    render_times.main(["--quick"])
    out = capsys.readouterr().out
    routes = available_renderers("svg")
    assert f"renderers here: {', '.join(routes) or 'none'}" in out
    for name, _, _ in render_times.cases(quick=True):
        rows = [ln for ln in out.splitlines() if ln.startswith(name)]
        assert len(rows) == 2, name  # forward and adjoint
        for row in rows:
            assert len(row.split()) >= len(name.split()) + 2 + len(routes)
    assert "slowest picture:" in out


def test_the_issue_graphs_are_within_the_limits_and_short_edged() -> None:
    # every graph of issue 11 is allowed by the default limits, and is drawn with references
    # beside far uses (the reason it lays out in a second instead of minutes)
    for name, build, kw in render_times.cases():
        root = build()
        assert len(toposort(root)) <= 500, name
        for adjoint in (False, True):
            src = to_dot(root, adjoint=adjoint, **kw)  # type: ignore[arg-type]
            if "moons" not in name:
                assert "\tref" in src, (name, adjoint)
