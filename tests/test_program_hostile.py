"""Programs under hostile and unlucky input: labels made to inject code, leaves changed after
compiling, several threads at once, memory over many compiles and runs, reference cycles."""

from __future__ import annotations

import gc
import random
import threading
import tracemalloc
from collections.abc import Iterator

import pytest

import autograd
from autograd import Value
from tests.graphs import article_neuron
from tests.program_cases import check_parity, same

HOSTILE = [
    "x\nimport os; os.system('echo pwned')",
    '"""',
    "'''",
    "# comment",
    "a\\",
    "__import__('os').system('true')",
    "\r\n\x0b\x0c\x1c\u2028\u2029",
    "def",
    "tanh",
    "x_bar",
    "v3",
    "sum",
    "ok_name",
    "é",
    "\x00",
    " " * 200,
    "}{",
    "%s{0}",
    # names the generated code itself uses
    "_L",
    "_data",
    "_grad",
    "_nz",
    "_calm0",
    "_tape0",
    "_o0_0",
    "vec0",
    "vec0_bar",
    "_g",
    "_gm",
    "_v",
    "r",
    "program",
    "INF",
    "NAN",
    "map",
    "mul",
    "add",
    "reduce",
    "sub_",
    "log_checked",
    "None",
    "True",
    "V",
    "A",
    "C",
    "_T0",
    "_d0",
    "_p3",
    "_prod_back",
    "_cs",
    "_ct",
    "_GuardFailed",
    "print",
    "self",
]


def hostile_labels(rng: random.Random) -> Iterator[str]:
    while True:
        yield rng.choice(HOSTILE) + rng.choice(["", "", "\n", "#", '"', "\\", "'", "1"])


def _labelled(labels: Iterator[str]) -> object:
    def build(v: list[Value]) -> Value:
        x, y = v
        x.label, y.label = next(labels), next(labels)
        a = x * y
        a.label = next(labels)
        b = a.tanh() + autograd.dot([x, y, a], [a, x, y]) + sum((x * a, y * a, x * y), a)
        b.label = next(labels)
        c = b.sin() * x
        c.label = next(labels)
        return c

    return build


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("form", ["lines", "compact", "batched"])
def test_hostile_labels_reach_the_source_only_as_escaped_comments(
    seed: int, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import autograd.programs.compiler as C

    if form == "compact":
        monkeypatch.setattr(C, "READABLE_MAX", 0)
    rng = random.Random(seed)
    build = _labelled(hostile_labels(rng))
    prog = check_parity(build, [0.5, -1.5], [[2.0, 0.25]], batched=form == "batched")  # type: ignore[arg-type]
    lines = prog.source.splitlines()
    end = next(i for i, ln in enumerate(lines) if i > 1 and '"""' in ln)
    for line in lines[end + 1 :]:  # after the docstring
        code = line.split("#", 1)[0]
        for bad in ("import", "os.", "system", '"""', "'''", "\\", "\x00", "pwned"):
            assert bad not in code, line
    assert "\x00" not in prog.source and "\u2028" not in prog.source
    compile(prog.source, "<check>", "exec")  # it is valid Python on its own


def test_a_traced_functions_labels_and_argument_names_are_escaped_too() -> None:
    def f(__import__: Value) -> Value:  # an argument named like a builtin
        y = __import__ * 2
        y.label = "y\nimport os"
        return y.tanh()

    p = autograd.trace(f, 0.3)
    assert "import os" not in "".join(ln.split("#", 1)[0] for ln in p.source.splitlines()[3:])
    assert p(0.5) == (Value(0.5) * 2).tanh().data


def test_leaves_changed_after_compiling_give_a_clear_error_or_the_right_number() -> None:
    o, v = article_neuron()
    prog = autograd.compile(o)
    with pytest.raises(TypeError, match=r"Value\.data"):
        v["x1"].data = "abc"  # type: ignore[assignment]
    v["x1"].data = 1  # an int: a float from now on
    v["x1"].grad = 0  # as micrograd's zero_grad() writes it
    got = prog.run()
    o2, v2 = article_neuron()
    v2["x1"].data = 1.0
    assert same(got, autograd.compile(o2).run()) and same(v["x1"].grad, v2["x1"].grad)
    v["w1"].grad = None  # type: ignore[assignment]  # as PyTorch users reset gradients
    with pytest.raises(TypeError, match=r"Program.run: leaf \d+ \('w1'\) has .grad = None .*set it to 0.0"):
        prog.run()
    v["w1"].grad = "0"  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"\('w1'\) has .grad = '0' \(str\)"):
        prog.run()
    v["w1"].grad = 0.0
    prog.run()  # fine again


def test_compiled_programs_run_from_several_threads_at_once() -> None:
    """Threads sharing leaves: each run holds the gradient lock, as backward() does, so every
    run adds its whole gradient and no two runs mix their partial sums."""
    o, v = article_neuron()
    prog = autograd.compile(o)
    o2, v2 = article_neuron()
    o2.backward()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(500):
                assert prog.run() == o2.data
        except BaseException as e:
            errors.append(e)

    for leaf in v.values():
        leaf.grad = 0.0
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    ref = 0.0
    for _ in range(2000):
        ref += v2["w1"].grad
    assert v["w1"].grad == ref  # 2000 runs, each adding the same gradient, none lost


def _tiny() -> Value:
    x, y = Value(2.0), Value(3.0)
    return (x * y + 1).tanh() + sum((x * x, y * x), y)


def test_memory_stays_flat_over_100000_runs_and_runs_leave_no_cycle() -> None:
    prog = autograd.compile(_tiny())
    for _ in range(1000):
        prog.run()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(100_000):
            prog.run()
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert grown < 2_000, grown
    was = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        for _ in range(100):
            prog.run()
        tp = autograd.trace(lambda a: (a * a).tanh() if a > 0 else a * 2, 1.0)
        for x in (1.0, -1.0, 2.0):
            tp(x)
        del tp
        assert gc.collect() == 0  # nothing was left in a reference cycle
    finally:
        if was:
            gc.enable()


def test_compiling_leaves_no_reference_cycle() -> None:
    big = sum(Value(0.001 * i) * Value(0.5) for i in range(3000))  # the compact form
    was = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        for out in (_tiny(), big):
            for kw in ({}, {"batched": True}):
                p = autograd.compile(out, **kw)  # type: ignore[arg-type]
                p.run()
                del p
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()


def _growth_per_compile(n: int) -> tuple[float, float]:
    """Bytes kept per compile (and run) over n compiles, after 4n to warm up (the first compiles
    fill a few caches, inside Python too): in all, and outside autograd/codegen.py."""
    import autograd.codegen

    out = _tiny()
    tracemalloc.start(1)  # (the filenames are made in run_source itself: one frame is enough)
    try:
        for _ in range(4 * n):
            autograd.compile(out).run()
        gc.collect()
        before = tracemalloc.take_snapshot()
        for _ in range(n):
            autograd.compile(out).run()
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    total = sum(st.size_diff for st in after.compare_to(before, "filename"))
    codegen = [tracemalloc.Filter(False, autograd.codegen.__file__, all_frames=True)]
    rest = after.filter_traces(codegen).compare_to(before.filter_traces(codegen), "filename")
    return total / n, sum(st.size_diff for st in rest) / n


_GROWTH: list[tuple[float, float]] = []


def _growth() -> tuple[float, float]:
    if not _GROWTH:  # 500 compiles measured (100,000 take about 30 s here, without tracemalloc)
        _GROWTH.append(_growth_per_compile(500))
    return _GROWTH[0]


def test_what_compiling_keeps_outside_codegen_is_nothing() -> None:
    # nothing per compile: a few one-off kilobytes at most over the 500 (Python 3.10 keeps a
    # frame for each large function it has run, and replaces it now and then)
    assert _growth()[1] * 500 < 8_000


def test_memory_stays_flat_over_repeated_compiles() -> None:
    assert _growth()[0] < 4  # (60 to 72 bytes a compile while codegen gave every source a new name)
