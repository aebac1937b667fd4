"""nn.modules: structure, names, scopes, activations, initialization, input checks."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable

import pytest

import nn
from autograd import Scope, Value, name_scope, no_grad, toposort
from nn import MLP, Layer, Module, Neuron
from nn.init import INITIALIZERS


def interior(out: Value) -> list[Value]:
    """The non-leaf nodes of out's graph."""
    return [v for v in toposort(out) if v._op]


# -- structure and micrograd's conventions -----------------------------------------------------


def test_micrograd_demo_network_has_337_parameters() -> None:
    model = MLP(2, [16, 16, 1])
    # (2*16 + 16) + (16*16 + 16) + (16*1 + 1) weights and biases
    assert len(model.parameters()) == 48 + 272 + 17 == 337
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "linear"]
    assert model.nouts == [16, 16, 1] and model.nin == 2


def test_parameters_are_in_micrograds_order() -> None:
    model = MLP(3, [2, 1], seed=0)
    expected = []
    for layer in model.layers:
        for n in layer.neurons:
            expected += [*n.w, n.b]
    assert model.parameters() == expected
    assert [p for _, p in model.named_parameters()] == expected


def test_named_parameters_are_dotted_paths() -> None:
    model = MLP(2, [4, 3, 1], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert names[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert "layers.0.neurons.3.w.1" in names
    assert names[-1] == "layers.2.neurons.0.b"
    assert len(set(names)) == len(names) == len(model.parameters())


def test_parameter_labels_are_their_names() -> None:
    model = MLP(2, [3, 1], seed=0)
    for name, p in model.named_parameters():
        assert p.label == name


def test_labels_follow_composition_into_a_custom_module() -> None:
    class Net(Module):
        def __init__(self) -> None:
            self.encoder = Layer(2, 2, seed=1)
            self.heads = [Neuron(2, seed=2), Neuron(2, seed=3)]
            self.scale = Value(1.0)

    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == [
        "encoder.neurons.0.w.0", "encoder.neurons.0.w.1", "encoder.neurons.0.b",
        "encoder.neurons.1.w.0", "encoder.neurons.1.w.1", "encoder.neurons.1.b",
        "heads.0.w.0", "heads.0.w.1", "heads.0.b",
        "heads.1.w.0", "heads.1.w.1", "heads.1.b",
        "scale",
    ]
    assert all(p.label == name for name, p in net.named_parameters())
    assert net.parameters() == [p for _, p in net.named_parameters()]
    y = net.heads[1]([1.0, 2.0])
    assert y._scope == "heads.1"


def test_layer_with_one_output_returns_a_value_and_wider_layers_a_list() -> None:
    assert isinstance(Layer(3, 1, seed=0)([1, 2, 3]), Value)
    out = Layer(3, 2, seed=0)([1, 2, 3])
    assert isinstance(out, list) and len(out) == 2
    assert isinstance(MLP(2, [3, 1], seed=0)([1, 2]), Value)
    assert len(MLP(2, [3, 4], seed=0)([1, 2])) == 4  # type: ignore[arg-type]
    single = Layer(3, 1, seed=0).forward([1, 2, 3])
    assert isinstance(single, list) and len(single) == 1


def test_an_mlp_with_a_width_one_hidden_layer_still_chains() -> None:
    # micrograd's Layer returns a bare Value for width 1, which its next layer cannot zip over
    model = MLP(2, [1, 3, 1], seed=0)
    assert isinstance(model([0.5, 0.5]), Value)


def test_nonlin_flag_as_in_micrograd() -> None:
    assert Neuron(3, nonlin=False).activation == "linear"
    assert Neuron(3, False).activation == "linear"  # micrograd's positional form
    assert Neuron(3).activation == "relu" and Neuron(3, nonlin=True).activation == "relu"
    assert Layer(2, 2, nonlin=False).activation == "linear"
    n = Neuron(2, seed=0)
    n.nonlin = False
    assert n.activation == "linear" and not n.nonlin
    with pytest.raises(ValueError, match="conflicts"):
        Neuron(2, activation="tanh", nonlin=False)


def test_calling_accepts_numbers_and_values() -> None:
    model = MLP(2, [3, 1], seed=0)
    a = model([1, 2.5])
    x = [Value(1.0), Value(2.5)]
    b = model(x)
    assert isinstance(a, Value) and isinstance(b, Value) and a.data == b.data
    b.backward()
    assert any(v.grad != 0.0 for v in x)  # the caller's Values are used, not copies
    assert model((1, 2.5)).data == a.data  # type: ignore[union-attr]


def test_repr_shows_structure_like_micrograd_and_the_count() -> None:
    r = repr(MLP(2, [16, 16, 1]))
    assert r.startswith("MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2),")
    assert "Layer of [LinearNeuron(16)]]" in r
    assert r.endswith("(337 parameters)")
    assert repr(Neuron(3, activation="tanh")) == "TanhNeuron(3)"
    assert repr(Neuron(3, nonlin=False)) == "LinearNeuron(3)"
    assert repr(Layer(2, 2, activation="sigmoid")) == (
        "Layer of [SigmoidNeuron(2), SigmoidNeuron(2)] (6 parameters)"
    )
    assert MLP(2, [16, 16, 1]).summary() == (
        "MLP(2 -> 16 relu -> 16 relu -> 1 linear): 337 parameters"
    )


def test_zero_grad() -> None:
    model = MLP(2, [3, 1], seed=0)
    out = model([1.0, -2.0])
    assert isinstance(out, Value)
    (out * out + 1).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


# -- the neuron's graph ------------------------------------------------------------------------


def test_a_neuron_is_three_nodes_dot_plus_activation() -> None:
    n = Neuron(50, seed=0)
    y = n([0.1] * 50)
    assert [v._op for v in interior(y)] == ["dot", "+", "relu"]
    lin = Neuron(50, activation="linear", seed=0)([0.1] * 50)
    assert [v._op for v in interior(lin)] == ["dot", "+"]


@pytest.mark.parametrize("activation", list(nn.ACTIVATIONS))
def test_activation_values_match_their_formulas(activation: str) -> None:
    n = Neuron(2, activation=activation, seed=0, negative_slope=0.2)
    n.w[0].data, n.w[1].data, n.b.data = 0.5, -1.5, 0.25
    formulas: dict[str, Callable[[float], float]] = {
        "relu": lambda z: max(0.0, z),
        "tanh": math.tanh,
        "sigmoid": lambda z: 1.0 / (1.0 + math.exp(-z)),
        "leaky_relu": lambda z: z if z > 0 else 0.2 * z,
        "softplus": lambda z: math.log(1.0 + math.exp(z)),
        "gelu": lambda z: 0.5 * z * (1.0 + math.erf(z / math.sqrt(2.0))),
        "silu": lambda z: z / (1.0 + math.exp(-z)),
        "linear": lambda z: z,
    }
    for x in ([1.0, 2.0], [3.0, -1.0], [0.0, 0.0]):
        z = 0.5 * x[0] - 1.5 * x[1] + 0.25
        assert n(x).data == pytest.approx(formulas[activation](z), rel=1e-12, abs=1e-15)
    assert repr(n) == f"{nn.ACTIVATIONS[activation]}Neuron(2)"


def test_unknown_activation_is_rejected_with_the_choices() -> None:
    with pytest.raises(ValueError, match=r"unknown activation 'rellu'.*relu, tanh"):
        MLP(2, [3, 1], activation="rellu")
    with pytest.raises(ValueError, match="output_activation"):
        MLP(2, [3, 1], output_activation="softmax")


# -- scopes: the contract with the pictures ----------------------------------------------------


def test_nodes_carry_their_neurons_dotted_name() -> None:
    model = MLP(2, [4, 3, 1], seed=0)
    out = model([0.5, -0.5])
    assert isinstance(out, Value)
    param_names = {name for name, _ in model.named_parameters()}
    nodes = interior(out)
    assert len(nodes) == 3 * 4 + 3 * 3 + 2  # three per neuron, two for the linear output
    for v in nodes:
        assert v._scope is not None
        assert v._scope.startswith("layers.") and ".neurons." in v._scope
        assert f"{v._scope}.b" in param_names  # the scope is the prefix of its parameters
    # the dot node of neuron 3 of layer 0 reads that neuron's weights
    dots = [v for v in nodes if v._op == "dot" and v._scope == "layers.0.neurons.3"]
    assert len(dots) == 1
    assert {p.label for p in dots[0]._x} == {"layers.0.neurons.3.w.0", "layers.0.neurons.3.w.1"}


def test_scopes_nest_inside_an_outer_name_scope() -> None:
    model = MLP(2, [2, 1], seed=0)
    with name_scope("critic"):
        out = model([1.0, 1.0])
    assert isinstance(out, Value)
    assert {v._scope for v in interior(out)} == {
        "critic.layers.0.neurons.0", "critic.layers.0.neurons.1", "critic.layers.1.neurons.0"
    }


def test_a_lone_neurons_nodes_have_no_scope() -> None:
    y = Neuron(2, seed=0)([1.0, 2.0])
    assert {v._scope for v in interior(y)} == {None}


def test_scopes_are_scope_objects_with_kinds_and_parents() -> None:
    model = MLP(2, [3, 1], seed=0)
    out = model([1.0, 2.0])
    assert isinstance(out, Value)
    dot_node = next(v for v in interior(out) if v._op == "dot" and v.scope == "layers.0.neurons.2")
    scope = dot_node.scope
    assert isinstance(scope, Scope) and scope is model.layers[0].neurons[2].scope
    assert (scope.kind, scope.name, str(scope), scope.path) == (
        "neuron", "neurons.2", "layers.0.neurons.2", "layers.0.neurons.2"
    )
    layer = scope.enclosing("layer")
    assert layer is not None and layer is model.layers[0].scope and layer is scope.parent
    assert (layer.kind, str(layer), layer.parent) == ("layer", "layers.0", None)
    assert scope.enclosing("neuron") is scope and scope.enclosing("mlp") is None
    assert model.scope is None  # the outermost module names nothing


def test_a_modules_scope_kind_is_its_lowercase_class_name_unless_it_says() -> None:
    class Critic(Module):
        def __init__(self) -> None:
            self.body = MLP(2, [2], seed=0)
            self.head = Neuron(2, activation="linear", seed=1)

    class Gate(Module):
        scope_kind = "gate"

        def __init__(self) -> None:
            self.critic = Critic()

    gate = Gate()
    critic = gate.critic
    assert critic.scope is not None and critic.scope.kind == "critic"
    body_neuron = critic.body.layers[0].neurons[1].scope
    assert body_neuron is not None and str(body_neuron) == "critic.body.layers.0.neurons.1"
    assert [(str(s), s.kind) for s in ancestors(body_neuron)] == [
        ("critic.body.layers.0.neurons.1", "neuron"), ("critic.body.layers.0", "layer"),
        ("critic.body", "mlp"), ("critic", "critic"),
    ]
    hidden = critic.body([1.0, 2.0])
    assert isinstance(hidden, list)
    y = critic.head(hidden)
    assert y.scope is not None and y.scope.enclosing("critic") is critic.scope
    assert y.scope.enclosing("layer") is None  # the head is a neuron of no layer


def ancestors(scope: Scope | None) -> list[Scope]:
    out = []
    while scope is not None:
        out.append(scope)
        scope = scope.parent
    return out


def test_nodes_made_inside_a_name_scope_nest_their_module_scope_under_it() -> None:
    model = MLP(2, [2, 1], seed=0)
    with name_scope("critic", kind="agent") as outer:
        out = model([1.0, 1.0])
    assert isinstance(out, Value)
    scope = out.scope
    assert scope is not None and str(scope) == "critic.layers.1.neurons.0"
    assert scope.kind == "neuron" and scope.enclosing("agent") is outer
    layer = scope.enclosing("layer")
    assert layer is not None and str(layer) == "critic.layers.1"
    s, z = (v for v in interior(out) if v.scope is scope)  # the linear output: dot and +
    assert (s._op, z._op) == ("dot", "+")


def test_renaming_a_module_renames_its_scopes() -> None:
    class Holder(Module):
        def __init__(self, inner: Layer) -> None:
            self.inner = inner

    layer = Layer(2, 2, seed=0)
    assert layer.scope is None and str(layer.neurons[1].scope) == "neurons.1"
    Holder(layer)
    neuron = layer.neurons[1].scope
    assert neuron is not None and str(neuron) == "inner.neurons.1"
    assert neuron.parent is layer.scope and str(layer.scope) == "inner"


def test_plain_number_inputs_become_labelled_leaves() -> None:
    out = MLP(2, [1], seed=0)([3.0, 4.0])
    assert isinstance(out, Value)
    labels = {v.label for v in toposort(out) if not v._op and v.label.startswith("x")}
    assert labels == {"x[0]", "x[1]"}


def test_no_grad_forward_records_no_graph() -> None:
    model = MLP(2, [3, 1], seed=0)
    with_graph = model([0.3, 0.7])
    with no_grad():
        out = model([0.3, 0.7])
    assert isinstance(out, Value) and isinstance(with_graph, Value)
    assert out._prev == () and out.data == with_graph.data


# -- initialization ----------------------------------------------------------------------------


def weights(model: MLP) -> list[float]:
    return [p.data for p in model.parameters()]


def test_seed_makes_initialization_reproducible() -> None:
    assert weights(MLP(2, [8, 1], seed=3)) == weights(MLP(2, [8, 1], seed=3))
    assert weights(MLP(2, [8, 1], seed=3)) != weights(MLP(2, [8, 1], seed=4))
    rng_a, rng_b = random.Random(9), random.Random(9)
    assert weights(MLP(2, [8, 1], rng=rng_a)) == weights(MLP(2, [8, 1], rng=rng_b))
    # a shared rng keeps drawing: a second model differs from the first
    assert weights(MLP(2, [8, 1], rng=rng_a)) != weights(MLP(2, [8, 1], seed=9))
    with pytest.raises(ValueError, match="either seed= or rng="):
        MLP(2, [1], seed=1, rng=random.Random(1))


def test_global_random_without_seed_as_in_micrograd() -> None:
    random.seed(5)
    a = weights(MLP(2, [3, 1]))
    random.seed(5)
    assert weights(MLP(2, [3, 1])) == a


def test_biases_start_at_zero() -> None:
    model = MLP(3, [5, 2], seed=0)
    assert all(n.b.data == 0.0 for layer in model.layers for n in layer.neurons)


def test_default_init_per_activation_has_the_right_bounds() -> None:
    relu = Layer(50, 40, activation="relu", seed=0)
    tanh = Layer(50, 40, activation="tanh", seed=0)
    w_relu = [w.data for n in relu.neurons for w in n.w]
    w_tanh = [w.data for n in tanh.neurons for w in n.w]
    he, glorot = math.sqrt(6 / 50), math.sqrt(6 / (50 + 40))
    assert max(map(abs, w_relu)) <= he and max(map(abs, w_relu)) > 0.95 * he
    assert max(map(abs, w_tanh)) <= glorot and max(map(abs, w_tanh)) > 0.95 * glorot
    # U(-b, b) has variance b^2 / 3: 2/fan_in for He, 2/(fan_in+fan_out) for Glorot
    assert statistics.pvariance(w_relu) == pytest.approx(2 / 50, rel=0.1)
    assert statistics.pvariance(w_tanh) == pytest.approx(2 / 90, rel=0.1)


def test_micrograds_uniform_init_by_name() -> None:
    w = weights(MLP(30, [30, 1], init="uniform", seed=0))
    assert min(w) >= -1.0 and max(w) <= 1.0 and max(map(abs, w)) > 0.95


@pytest.mark.parametrize("scheme", sorted(INITIALIZERS))
def test_every_named_scheme_builds(scheme: str) -> None:
    w = weights(MLP(4, [3, 1], init=scheme, seed=0))
    assert all(math.isfinite(x) for x in w) and any(x != 0.0 for x in w)


def test_init_accepts_a_callable_and_rejects_unknown_names() -> None:
    n = Neuron(3, init=lambda fan_in, fan_out, rng: 0.5)
    assert [w.data for w in n.w] == [0.5, 0.5, 0.5]
    with pytest.raises(ValueError, match="unknown init 'xavier'"):
        Neuron(3, init="xavier")


# -- bad input ---------------------------------------------------------------------------------


def test_wrong_input_length_names_the_counts() -> None:
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match="MLP expects 2 inputs, got 3"):
        model([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Layer expects 3 inputs, got 1"):
        Layer(3, 2)([1.0])
    with pytest.raises(ValueError, match="Neuron expects 2 inputs, got 0"):
        Neuron(2)([])


@pytest.mark.parametrize("bad", ["ab", None, 3.0, Value(1.0), {"a": 1}])
def test_non_list_input_is_a_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="MLP expects a list of 2 numbers or Values"):
        MLP(2, [1], seed=0)(bad)  # type: ignore[arg-type]


def test_a_bad_element_is_named_by_position() -> None:
    with pytest.raises(TypeError, match="MLP input 1 must be a number or a Value, got str"):
        MLP(2, [1], seed=0)([1.0, "x"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"input 0 .* got None"):
        MLP(2, [1], seed=0)([None, 1.0])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: MLP(0, [1]), "MLP nin must be a positive int"),
        (lambda: MLP(2, []), "non-empty list"),
        (lambda: MLP(2, 16), "non-empty list"),  # type: ignore[arg-type]
        (lambda: MLP(2, [16, 0]), r"MLP nouts\[1\] must be a positive int"),
        (lambda: Layer(2, 2.5), "Layer nout must be a positive int"),  # type: ignore[arg-type]
        (lambda: Neuron(-1), "Neuron nin must be a positive int"),
    ],
)
def test_bad_sizes_are_rejected(make: object, message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        make()  # type: ignore[operator]
