"""program.batch: one example's traced program over many examples, against loops of backward().

Every test runs twice: on numpy, and with numpy hidden (its import fails), so that the
pure-Python path runs too. Values, per-example gradients and the summed parameter gradients
must agree with the eager engine to 1e-12 (relative).
"""

from __future__ import annotations

import math
import random
import sys
from typing import Any

import pytest

import autograd
from autograd import Value
from autograd.programs import batch as B
from autograd.programs.tape import build, flatten

np = pytest.importorskip("numpy")  # CI installs it (the test extra); the python path hides it below


def Tracer(fn: Any, *example: Any) -> Any:
    """The traced program of fn (each trace is one of ``program.variants``)."""
    return autograd.trace(fn, *example)


@pytest.fixture(params=["numpy", "python"])
def backend(request: Any, monkeypatch: Any) -> str:
    if request.param == "python":
        monkeypatch.setitem(sys.modules, "numpy", None)  # `import numpy` now fails
        assert B.default_backend() == "python"
    else:
        assert B.default_backend() == "numpy"
    return str(request.param)


def close(a: float, b: float, tol: float = 1e-12) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol * max(abs(a), abs(b), 1e-3)


def flat(x: Any) -> list[float]:
    if isinstance(x, (list, tuple)):
        return [y for e in x for y in flat(e)]
    return [float(x)]


def eager(fn: Any, examples: list[tuple[Any, ...]], params: list[Value]) -> tuple[list[float], list[Any]]:
    """The loop: per-example values and input gradients, and sum(...).backward() into params."""
    values, grads, outs = [], [], []
    for ex in examples:
        nums: list[float] = []
        shape = [flatten(a, "", nums, "test") for a in ex]
        ins = [Value(x) for x in nums]
        it = iter(ins)
        out = fn(*[build(s, it) for s in shape])
        outs.append(out)
        values.append(out.data)
        grads.append([g.data for g in autograd.grad(out, ins)])
    for p in params:
        p.grad = 0.0
    autograd.sum(outs).backward()
    return values, grads


def check(
    fn: Any, examples: list[tuple[Any, ...]], params: list[Value], backend: str, arrays: bool = False
) -> Any:
    want_v, want_g = eager(fn, examples, params)
    want_p = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    tr = Tracer(fn, *examples[0])
    nargs = len(examples[0])
    cols: list[Any] = [[ex[i] for ex in examples] for i in range(nargs)]
    if arrays:
        cols = [np.array(c, dtype=float) for c in cols]
    values, grads = tr.batch(*cols, backend=backend if arrays else None)  # lists: the default backend
    grads = grads if nargs > 1 else (grads,)
    assert len(values) == len(examples)
    for t, (v, w) in enumerate(zip(values, want_v)):
        assert close(float(v), w), (t, v, w)
        got = [x for i in range(nargs) for x in flat(grads[i][t] if not arrays else grads[i][t].tolist())]
        assert all(close(a, b) for a, b in zip(got, want_g[t])), (t, got, want_g[t])
    for p, w in zip(params, want_p):
        assert close(p.grad, w), (p, p.grad, w)
    return tr, values, grads


# -- every op ------------------------------------------------------------------------------------

# the domain an op's varying argument is drawn from
POSITIVE = {"log", "sqrt", "pow", "**", "/"}
UNIT = {"asin", "acos"}


def unary(name: str) -> Any:
    if name == "**":
        return lambda v: v**2.5
    if name == "leaky_relu":
        return lambda v: v.leaky_relu(0.1)
    if name == "clamp":
        return lambda v: v.clamp(-0.3, 0.5)
    if name == "neg":
        return lambda v: -v
    if name == "abs":
        return abs
    return lambda v: getattr(v, name)()


def op_function(name: str, p: list[Value]) -> Any:
    """A function of one example [x0, x1, x2] using op `name` on varying and shared operands."""

    def f(x: list[Value]) -> Value:
        if name in UNIT:
            u = (x[0] * p[0]).tanh() * 0.9
        elif name in POSITIVE or name == "log1p":
            u = x[0] * x[0] * p[0] + 0.5
        else:
            u = x[0] * p[0] + p[1]
        s = p[2]  # a shared operand
        op = autograd.OPS[name]
        if name == "sum":
            return autograd.sum([u, x[1], s, p[0], x[1]])
        if name == "dot":
            # shared weights x varying vector (a matrix product), varying x varying, mixed sides
            return (
                autograd.dot(p, x) + autograd.dot(x, x) + autograd.dot([u, s, x[1]], [x[2], p[0], x[1]])
            )
        if name == "where":
            return autograd.where(x[1], u, s) + autograd.where(s - 0.5, u, x[2]) * p[1]
        if op.arity == 2:
            g = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
                 "/": lambda a, b: a / b, "pow": lambda a, b: a**b,
                 "maximum": autograd.maximum, "minimum": autograd.minimum}[name]
            w = x[2] * x[2] + 0.25 if name in POSITIVE else x[2]
            return g(u, w) + g(u, s) * p[1] + g(s, u) + g(x[1], x[2])
        h = unary(name)
        return h(u) * p[1] + h(s) * x[1] + h(x[1])

    return f


def examples_for(name: str, n: int = 12, seed: int = 0) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)
    out = []
    for t in range(n):
        x = [rng.uniform(-1.5, 1.5) for _ in range(3)]
        if t % 4 == 1:
            x[1] = 0.0  # at the kink of relu, abs, sign, clamp, where
        if t % 4 == 2:
            x[2] = x[1]  # a tie of maximum and minimum
        if name in POSITIVE or name in UNIT or name == "log1p":
            x[1] = abs(x[1]) * 0.5 + 0.1
            x[2] = abs(x[2]) * 0.5 + 0.1
        out.append((x,))
    return out


BUILTIN = [name for name, op in autograd.OPS.items() if op.builtin]


@pytest.mark.parametrize("name", BUILTIN)
def test_every_op_against_backward(name: str, backend: str) -> None:
    p = [Value(0.7), Value(-0.3), Value(0.4)]
    check(op_function(name, p), examples_for(name), p, backend)


def test_every_builtin_op_is_covered() -> None:
    assert set(BUILTIN) >= {"+", "*", "dot", "sum", "relu", "where", "erf", "gelu", "pow", "clamp"}


# -- the micrograd network, arrays and lists ---------------------------------------------------


def mlp_loss() -> tuple[Any, list[Value]]:
    import nn

    model = nn.MLP(2, [16, 16, 1], seed=0)
    params = model.parameters()

    def loss(x: list[Value], y: Value) -> Value:
        return (1 - y * model(x)).relu() * 0.01 + 1e-4 * autograd.dot(params, params)

    return loss, params


def moons(n: int) -> list[tuple[Any, ...]]:
    import nn

    X, labels = nn.make_moons(n, 0.1, seed=1)
    return [(list(map(float, x)), float(y)) for x, y in zip(X, nn.signed(labels))]


def test_mlp_lists(backend: str) -> None:
    loss, params = mlp_loss()
    _, values, (gx, gy) = check(loss, moons(40), params, backend)
    assert isinstance(values, list) and isinstance(gx[0], list) and isinstance(gy[0], float)


@pytest.mark.parametrize("backend", ["numpy", "python"])  # numpy arrays in, numpy arrays out
def test_mlp_arrays(backend: str) -> None:
    loss, params = mlp_loss()
    _, values, (gx, gy) = check(loss, moons(40), params, backend, arrays=True)
    assert isinstance(values, np.ndarray) and values.shape == (40,)
    assert gx.shape == (40, 2) and gy.shape == (40,)


def test_layer_is_one_matrix_product() -> None:
    loss, _ = mlp_loss()
    tr = Tracer(loss, [0.1, 0.2], 1.0)
    tr.batch([[0.1, 0.2], [0.3, 0.4]], [1.0, -1.0], backend="numpy")
    _, _, prog = B._program(tr.variants[0], "numpy")
    src = prog.source
    assert src.count("one matrix product") == 3  # the three layers
    assert "for " not in src  # no loop over examples
    assert "@" in src.split("def backward")[1]  # the layers' adjoints: matrix products too


def test_backends_agree_and_grads_accumulate(monkeypatch: Any) -> None:
    loss, params = mlp_loss()
    data = moons(30)
    X, Y = [d[0] for d in data], [d[1] for d in data]
    tr = Tracer(loss, X[0], Y[0])
    for p in params:
        p.grad = 1.0
    v1, g1 = tr.batch(X, Y, backend="numpy")
    first = [p.grad for p in params]
    v2, g2 = tr.batch(X, Y, backend="python")
    assert all(close(a, b) for a, b in zip(v1, v2))
    assert all(close(a, b) for a, b in zip(flat(g1), flat(g2)))
    # the second call added the same gradient again on top of the first
    assert all(close(p.grad - 1.0, 2 * (f - 1.0)) for p, f in zip(params, first))


def test_scalar_nested_and_ragged_examples(backend: str) -> None:
    w = Value(0.5)

    def f(a: Value, m: list[list[Value]], r: list[Any]) -> Value:
        return a * w * m[0][1] + m[1][0].tanh() + r[0][1] * r[1][0] * w

    rng = random.Random(2)
    ex = [
        (rng.uniform(-1, 1), [[rng.uniform(-1, 1) for _ in range(2)] for _ in range(2)],
         [[rng.uniform(-1, 1), rng.uniform(-1, 1)], [rng.uniform(-1, 1)]])
        for _ in range(7)
    ]
    _, _, (ga, gm, gr) = check(f, ex, [w], backend)
    assert isinstance(ga[0], float) and len(gm[0]) == 2 and len(gr[0][1]) == 1


# -- guards --------------------------------------------------------------------------------------


def test_guards_that_differ_between_examples(backend: str) -> None:
    w = Value(0.8)

    def f(x: Value, y: Value) -> Value:
        z = x * w + y
        if z > 0.5:
            return z.log() * w  # would be outside log's domain for the other examples
        if x < y:
            return (z * z).exp() + y
        return z.tanh() * x

    rng = random.Random(3)
    ex = [(rng.uniform(-2, 2), rng.uniform(-2, 2)) for _ in range(60)]
    tr, _, _ = check(f, ex, [w], backend)
    assert len(tr.variants) == 3  # one trace per branch, not per example
    w.grad = 0.0
    tr.batch([e[0] for e in ex], [e[1] for e in ex], backend=backend)  # all branches known now
    assert len(tr.variants) == 3


def test_guard_on_a_shared_value(backend: str) -> None:
    w = Value(0.8)

    def f(x: Value) -> Value:
        return x * w if w > 0 else x * x

    check(f, [(0.5,), (-1.0,), (2.0,)], [w], backend)
    w.data = -1.0
    check(f, [(0.5,), (-1.0,), (2.0,)], [w], backend)


def test_output_not_depending_on_the_example(backend: str) -> None:
    w = Value(0.3)
    _, values, grads = check(lambda x: (w * w).exp(), [(1.0,), (2.0,)], [w], backend)
    assert list(grads[0]) == [0.0, 0.0] and values[0] == values[1] == math.exp(0.09)


# -- semantics: inf, nan, domain errors, user ops ---------------------------------------------------


def test_inf_and_nan_as_backward(backend: str) -> None:
    w = Value(1.0)

    def f(x: Value) -> Value:
        return autograd.where(x, x * w, (x * 800.0).exp() * w) + (x * w).relu()

    check(f, [(1.0,), (2.0,), (-1.0,), (float("inf"),), (float("nan"),)], [w], backend)


def test_domain_error_names_op_and_example(backend: str) -> None:
    w = Value(1.0, label="w")

    def f(x: Value) -> Value:
        return (x * w).log()

    tr = Tracer(f, 1.0)
    with pytest.raises(ValueError, match=r"log: input must be > 0, got -2\.0 in example 2"):
        tr.batch([1.0, 3.0, -2.0, -5.0], backend=backend)
    assert w.grad == 0.0  # nothing half-added

    def g(x: Value) -> Value:
        return w / (x - 1.0)

    tr = Tracer(g, 3.0)
    with pytest.raises(ZeroDivisionError, match=r"/: division by zero: 1\.0 / 0\.0 in example 1"):
        tr.batch([3.0, 1.0], backend=backend)

    def h(x: Value) -> Value:
        return x * (w - 2.0).sqrt()

    w.data = 9.0  # traced inside sqrt's domain; then the shared part leaves it
    tr = Tracer(h, 3.0)
    w.data = 1.0
    with pytest.raises(ValueError, match=r"sqrt: .* \(in the part shared by all examples\)"):
        tr.batch([3.0, 1.0], backend=backend)


def test_user_op(backend: str) -> None:
    cube = autograd.defop(
        f"cube_{backend}", lambda x: x**3, lambda m, z, x: (3.0 * x * x,),
        check=lambda x: "cube of a huge number" if abs(x) > 1e100 else None,
    )
    w = Value(0.5)
    check(lambda x: cube(x * w) + cube(w), [(1.0,), (-2.0,), (0.3,)], [w], backend)
    tr = Tracer(lambda x: cube(x * w), 1.0)
    with pytest.raises(ValueError, match=r"cube_.*: cube of a huge number in example 1"):
        tr.batch([1.0, 1e200], backend=backend)


# -- bad input -------------------------------------------------------------------------------------


@pytest.fixture
def mlp_tracer() -> Tracer:
    loss, _ = mlp_loss()
    return Tracer(loss, [0.1, 0.2], 1.0)


@pytest.mark.parametrize(
    "args, error, message",
    [
        (([[0.1, 0.2, 0.3]], [1.0]), ValueError, r"argument 0: each example is a list of 3 numbers, but the "
         r"program was traced on a list of 2 numbers"),
        (([[0.1, 0.2], [0.3]], [1.0, 2.0]), ValueError, r"argument 0, example 1 is a list of 1 number, "
         r"but example 0 is a list of 2 numbers"),
        (([[0.1, "a"]], [1.0]), TypeError, r"batch: argument 0, example 0\[1\] must be a number or a list "
         r"of numbers, got str 'a'"),
        (([[0.1, None]], [1.0]), TypeError, r"batch: argument 0, example 0\[1\] must be a number or a list "
         r"of numbers, got NoneType"),
        (([[0.1, 0.2]], [True]), TypeError, r"argument 1, example 0 must be a number or a list of numbers, "
         r"got bool"),
        (([], []), ValueError, r"argument 0 holds no examples"),
        (([[0.1, 0.2]], [1.0, 2.0]), ValueError, r"argument 1 has 2 examples, argument 0 has 1"),
        (([[0.1, 0.2]],), TypeError, r"the program takes 2 argument\(s\), as traced, got 1"),
        ((0.5, [1.0]), TypeError, r"argument 0 must be a sequence of examples"),
    ],
)
def test_bad_input(mlp_tracer: Tracer, backend: str, args: Any, error: Any, message: str) -> None:
    with pytest.raises(error, match=message):
        mlp_tracer.batch(*args)


def test_bad_numpy_input(mlp_tracer: Tracer) -> None:
    with pytest.raises(ValueError, match=r"each example is a list of 3 numbers"):
        mlp_tracer.batch(np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match=r"each example is a 2 x 1 nested list"):
        mlp_tracer.batch(np.zeros((5, 2, 1)), np.zeros(5))
    with pytest.raises(TypeError, match=r"argument 0 is a numpy array of <U1; expected numbers"):
        mlp_tracer.batch(np.array([["a", "b"]]), np.zeros(1))
    with pytest.raises(ValueError, match=r"argument 0 holds no examples"):
        mlp_tracer.batch(np.zeros((0, 2)), np.zeros(0))
    with pytest.raises(ValueError, match=r"backend must be one of 'numpy', 'python'"):
        mlp_tracer.batch(np.zeros((1, 2)), np.zeros(1), backend="cuda")


def test_numpy_backend_without_numpy(mlp_tracer: Tracer, monkeypatch: Any) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(ImportError, match=r"pip install 'adjointgrad\[fast\]'"):
        mlp_tracer.batch([[0.1, 0.2]], [1.0], backend="numpy")


# -- W7 (the benchmark's batch row) ---------------------------------------------------------------


def test_w7_batch_step_follows_the_hand_written_step() -> None:
    from demos import benchmark

    r = benchmark.w7_size(100, 1, 4)
    assert r["agree"] <= 1e-9 and r["hand"] > 0 and r["batch"] > 0
    g = benchmark.w7_grads(30)
    assert g["diff"] <= 1e-12


def test_a_guard_on_a_value_off_the_outputs_path(backend: str) -> None:
    # abs(x) > 1 is computed only for the guard: the batch computes it and passes nothing back
    w = Value(0.5, label="w")

    def f(x: Value) -> Value:
        return x * w * 2 if abs(x) > 1 else x * w * 5

    tr = Tracer(f, 2.0)
    xs = [2.0, 0.5, -3.0, -0.25]
    w.grad = 0.0
    values, grads = tr.batch(xs, backend=backend)
    assert values == [2.0 * 0.5 * 2, 0.5 * 0.5 * 5, -3.0 * 0.5 * 2, -0.25 * 0.5 * 5]
    assert grads == [1.0, 2.5, 1.0, 2.5]
    assert close(w.grad, 2.0 * 2 + 0.5 * 5 - 3.0 * 2 - 0.25 * 5)
    assert len(tr.variants) == 2
