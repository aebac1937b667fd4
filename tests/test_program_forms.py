"""autograd.compile: the forms of a program (lines, compact with loops, batched), how it is
chosen, what a program keeps, and where the stepper finds each node's lines."""

from __future__ import annotations

import linecache
import random
from typing import Any

import pytest

import autograd
import autograd.programs.compiler as C
from autograd import Value
from tests.graphs import article_neuron
from tests.program_cases import check_parity, moons_loss, same


def test_source_is_registered_with_linecache() -> None:
    o, _ = article_neuron()
    prog = autograd.compile(o)
    filename = prog._fn.__code__.co_filename
    assert filename.startswith("<autograd program")
    assert "".join(linecache.getlines(filename)) == prog.source


def test_wide_sum_and_dot_are_one_line_each_not_thousands() -> None:
    def build(v: list[Value]) -> Value:
        h = len(v) // 2
        return autograd.sum(v) * autograd.dot(v[:h], v[h:])

    rng = random.Random(1)
    prog = check_parity(build, [rng.uniform(-1, 1) for _ in range(6000)])
    assert prog.source.count("\n") < 60
    assert "sum(map(mul, vec" in prog.source


def test_a_long_python_sum_is_one_node() -> None:
    xs = [Value(0.001 * i) for i in range(200_000)]
    out = sum(x * x for x in xs)  # 400,000 nodes: more than MAX_NODES, refused
    with pytest.raises(C.ProgramError, match="at most 250,000 nodes"):
        autograd.compile(out)
    out = sum(xs[:100_000])  # 100,000 additions: one node, a few lines
    prog = autograd.compile(out)
    assert prog.source.count("\n") < 40
    value = prog.run()
    ref = 0
    for x in xs[:100_000]:
        ref = ref + x.data
    assert value == ref and xs[5].grad == 1.0


def test_repeated_blocks_become_a_loop_bit_for_bit() -> None:
    import nn

    X, labels = nn.make_moons(60, 0.1, seed=3)
    y = nn.signed(labels)
    model = nn.MLP(2, [8, 8, 1], seed=1)
    loss = moons_loss(model, X, y)
    assert len(autograd.toposort(loss, leaves=False)) > C.READABLE_MAX
    prog = autograd.compile(loss)
    assert "for r in range(60):" in prog.source
    assert prog.source.count("\n") < 1500
    ref = nn.MLP(2, [8, 8, 1], seed=1)
    moons_loss(ref, X, y).backward()
    value = prog.run()
    assert same(value, loss.data)
    for a, b in zip(model.parameters(), ref.parameters()):
        assert same(a.grad, b.grad)


def test_a_graph_too_large_is_refused_with_the_supported_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(C, "MAX_NODES", 1000)
    x = Value(1.0)
    for _ in range(600):
        x = x * 1.0001 + 0.5
    with pytest.raises(C.ProgramError, match=r"at most 1,000 nodes"):
        autograd.compile(x)


def _wide(n: int, x: Value, c: Value) -> Value:
    outs = []
    for i in range(n):  # different chains side by side: wide levels, no repeats
        y = x * (0.5 + 0.01 * i)
        for j in range(i % 5 + 2):
            y = (y * c + 0.01 * j).tanh() if j % 2 else y.sin() + c
        outs.append(y)
    return autograd.sum(outs)


def test_a_wide_graph_without_repeats_is_written_batched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(C, "LINES_MAX", 200)
    monkeypatch.setattr(C, "READABLE_MAX", 100)
    monkeypatch.setattr(C, "RUNS", 1)  # compile time counts most: the batched form

    prog = check_parity(lambda v: _wide(60, *v), [0.3, 0.9], [[-0.2, 1.1]])
    assert "V += map(" in prog.source and prog.form == "batched"  # the batched form


def test_the_form_is_the_cheaper_one_for_a_hundred_runs() -> None:
    """Large graphs without repeated blocks: the batched form compiles 5 to 10 times faster,
    the line-by-line form runs 1.5 to 3 times faster; each is chosen where it costs less."""
    x, c = Value(0.3), Value(0.9)
    assert autograd.compile(_wide(600, x, c)).form == "batched"  # 24,000 lines against 85
    xs = [Value(0.01 * i) for i in range(30)]
    deep = xs[0]
    for i in range(3000):  # a deep chain: one level per node, the batched form no shorter
        deep = (deep * xs[i % 30] + 0.001).tanh()
    assert autograd.compile(deep).form == "compact"
    assert autograd.compile(_wide(600, x, c), batched=False).form == "compact"
    assert autograd.compile(deep, batched=True).form == "batched"


def test_a_deep_graph_too_long_to_compile_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(C, "LINES_HARD", 2000)
    x, c = Value(0.5), Value(0.9)
    for i in range(1000):
        x = x * c + 0.001 * (i % 3)
    with pytest.raises(C.ProgramError, match=r"programs support up to 2,000 lines"):
        autograd.compile(x)


def test_program_holds_only_leaves() -> None:
    o, _ = article_neuron()
    prog = autograd.compile(o)
    found: list[Value] = []

    def walk(x: Any, depth: int = 0) -> None:
        if isinstance(x, Value):
            found.append(x)
        elif isinstance(x, (tuple, list)) and depth < 3:
            for e in x:
                walk(e, depth + 1)

    for val in prog._fn.__globals__.values():
        walk(val)
    walk(prog.leaves)
    assert found and all(not v._op for v in found)
    assert prog._fn.__closure__ is None


def test_blocks_map_every_node_to_its_adjoint_lines() -> None:
    """The stepper highlights a node's block: the lines of its adjoint, headed by a comment
    naming its forward statement; the nodes of a chain written as one node share its block."""
    o, _ = article_neuron()
    prog = autograd.compile(o)
    lines = prog.source.splitlines()
    order = autograd.toposort(o)
    assert lines[prog.seed_line - 1].strip() == "o_bar = 1.0"
    for k, node in enumerate(order):
        if not node._op:
            assert k not in prog.blocks
            continue
        first, last = prog.blocks[k]
        assert lines[first - 1].strip().startswith("# ") and first <= last
    xs = [Value(0.1 * i, label=f"x{i}") for i in range(10)]
    chain = sum(xs[1:], xs[0])  # 9 additions: one node of the program
    prog = autograd.compile(chain)
    order = autograd.toposort(chain)
    spans = {prog.blocks[k] for k, node in enumerate(order) if node._op}
    assert len(spans) == 1 and len(prog.blocks) == 9


def test_compiled_program_has_no_value_and_grad() -> None:
    o, _ = article_neuron()
    with pytest.raises(TypeError, match="made by compile"):
        autograd.compile(o).value_and_grad(1.0)


def test_cli_prints_the_adjoint_program() -> None:
    import io

    from autograd.cli import main

    out = io.StringIO()
    code = main(["tanh(x1*w1 + x2*w2 + b)", "x1=2", "x2=0", "w1=-3", "w2=1", "b=6.88", "--program"], out)
    text = out.getvalue()
    assert code == 0
    assert "def program():" in text and "out = tanh(v8)" in text and "w1_bar += v2_bar * x1" in text
