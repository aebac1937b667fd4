"""nn against PyTorch in float64: to_torch/from_torch, optimizer trajectories, schedules, losses.

Skipped, with the reason shown, where torch is not installed (``pip install torch==2.13.0``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import pytest

import nn
from autograd import Value

torch = pytest.importorskip(
    "torch", reason="PyTorch reference tests need torch (pip install torch==2.13.0)"
)
F = torch.nn.functional

TOL = 1e-12


def close(a: float, b: float, tol: float = TOL) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def points(k: int, nin: int, seed: int = 0) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-2, 2) for _ in range(nin)] for _ in range(k)]


def as_list(out: Any) -> list[Value]:
    return out if isinstance(out, list) else [out]


def torch_params_in_our_order(seq: Any) -> list[Any]:
    """torch's parameters, flattened to nn's order: per neuron its weight row, then its bias."""
    out = []
    for mod in seq:
        if isinstance(mod, torch.nn.Linear):
            for j in range(mod.out_features):
                out += [(mod.weight, (j, i)) for i in range(mod.in_features)]
                out.append((mod.bias, (j,)))
    return out


# -- to_torch / from_torch ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "activation", ["relu", "tanh", "sigmoid", "leaky_relu", "softplus", "gelu", "silu", "linear"]
)
def test_to_torch_gives_identical_outputs_and_gradients(activation: str) -> None:
    model = nn.MLP(3, [5, 4, 2], activation=activation, output_activation="tanh",
                   negative_slope=0.1, seed=0)
    seq = nn.to_torch(model)
    assert all(p.dtype == torch.float64 for p in seq.parameters())
    X = points(6, 3)
    ours_loss = nn.mse([as_list(model(x)) for x in X], [[0.5, -0.5]] * len(X))
    ours_loss.backward()
    theirs_out = seq(torch.tensor(X, dtype=torch.float64))
    theirs_loss = F.mse_loss(theirs_out, torch.tensor([[0.5, -0.5]] * len(X), dtype=torch.float64))
    theirs_loss.backward()
    assert close(ours_loss.data, theirs_loss.item())
    for x, row in zip(X, theirs_out.tolist()):
        assert all(close(a.data, b) for a, b in zip(as_list(model(x)), row))
    for p, (tensor, idx) in zip(model.parameters(), torch_params_in_our_order(seq)):
        assert close(p.grad, tensor.grad[idx].item()), p.label


def test_to_torch_structure_for_micrograds_network() -> None:
    seq = nn.to_torch(nn.MLP(2, [16, 16, 1], seed=0))
    kinds = [type(m).__name__ for m in seq]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert sum(p.numel() for p in seq.parameters()) == 337


def test_to_torch_of_a_layer_and_a_neuron() -> None:
    layer = nn.Layer(3, 2, activation="sigmoid", seed=1)
    neuron = nn.Neuron(3, activation="softplus", seed=2)
    x = [0.3, -0.2, 1.5]
    tx = torch.tensor(x, dtype=torch.float64)
    assert [v.data for v in as_list(layer(x))] == pytest.approx(nn.to_torch(layer)(tx).tolist(), rel=TOL)
    assert neuron(x).data == pytest.approx(nn.to_torch(neuron)(tx).item(), rel=TOL)


def test_from_torch_reads_a_torch_network() -> None:
    torch.manual_seed(0)
    seq = torch.nn.Sequential(
        torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8), torch.nn.Tanh(),
        torch.nn.Linear(8, 3),
    ).double()
    model = nn.from_torch(seq)
    assert model.config() == {"type": "MLP", "nin": 2, "nouts": [8, 8, 3], "activation": "tanh",
                              "output_activation": "linear"}
    X = points(5, 2, seed=3)
    expected = seq(torch.tensor(X, dtype=torch.float64)).tolist()
    for x, row in zip(X, expected):
        assert all(close(a.data, b) for a, b in zip(as_list(model(x)), row))


def test_from_torch_inverts_to_torch() -> None:
    model = nn.MLP(4, [6, 1], activation="leaky_relu", output_activation="sigmoid",
                   negative_slope=0.05, seed=7)
    back = nn.from_torch(nn.to_torch(model))
    assert back.config() == model.config()
    assert [p.data for p in back.parameters()] == [p.data for p in model.parameters()]


@pytest.mark.parametrize("activation", ["gelu", "silu"])
def test_from_torch_reads_gelu_and_silu(activation: str) -> None:
    model = nn.MLP(3, [4, 1], activation=activation, output_activation=activation, seed=3)
    seq = nn.to_torch(model)
    assert [type(m).__name__ for m in seq][1] == {"gelu": "GELU", "silu": "SiLU"}[activation]
    assert nn.from_torch(seq).config() == model.config()


def test_from_torch_also_reads_float32_weights() -> None:
    lin = torch.nn.Linear(3, 2)  # float32
    model = nn.from_torch(lin)
    assert [n.w[0].data for n in model.layers[0].neurons] == lin.weight[:, 0].double().tolist()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Dropout()), "cannot convert Dropout"),
        (lambda: torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(2, 3)), "before any Linear"),
        (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(4, 1)), "takes 4 inputs"),
        (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3, bias=False)), "has no bias"),
        (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 3),
                                     torch.nn.Tanh(), torch.nn.Linear(3, 1)), "different activations"),
        (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Tanh()),
         "two activations in a row"),
        (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.GELU(approximate="tanh")),
         r"GELU\(approximate='tanh'\) is not supported"),
    ],
)
def test_from_torch_refuses_what_an_mlp_cannot_hold(build: Callable[[], Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        nn.from_torch(build())


# -- optimizers: same parameters, same gradients, same trajectory --------------------------------


def small_problem(seed: int) -> tuple[nn.MLP, Any, list[list[float]], list[float]]:
    model = nn.MLP(2, [6, 1], activation="tanh", seed=seed)
    seq = nn.to_torch(model)
    X = points(12, 2, seed=seed)
    y = [math.sin(a) * b for a, b in X]
    return model, seq, X, y


OPTIMIZERS: dict[str, tuple[Callable[[list[Value]], nn.optim.Optimizer], Callable[[Any], Any]]] = {
    "sgd": (lambda ps: nn.SGD(ps, lr=0.1), lambda tp: torch.optim.SGD(tp, lr=0.1)),
    "sgd momentum+wd": (
        lambda ps: nn.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01),
        lambda tp: torch.optim.SGD(tp, lr=0.05, momentum=0.9, weight_decay=0.01),
    ),
    "sgd nesterov": (
        lambda ps: nn.SGD(ps, lr=0.05, momentum=0.8, nesterov=True),
        lambda tp: torch.optim.SGD(tp, lr=0.05, momentum=0.8, nesterov=True),
    ),
    "adam": (lambda ps: nn.Adam(ps, lr=0.01), lambda tp: torch.optim.Adam(tp, lr=0.01)),
    "adam betas+eps+wd": (
        lambda ps: nn.Adam(ps, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
        lambda tp: torch.optim.Adam(tp, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
    ),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_updates_match_torch_given_the_same_gradients(name: str) -> None:
    """Feed both optimizers identical gradients each step: the update rules alone are compared."""
    make_ours, make_theirs = OPTIMIZERS[name]
    rng = random.Random(1)
    ours = [Value(rng.uniform(-1, 1)) for _ in range(7)]
    theirs = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in ours]
    opt_ours, opt_theirs = make_ours(ours), make_theirs(theirs)
    for _ in range(25):
        for p, t in zip(ours, theirs):
            g = rng.uniform(-3, 3)
            p.grad = g
            t.grad = torch.tensor(g, dtype=torch.float64)
        opt_ours.step()
        opt_theirs.step()
        for p, t in zip(ours, theirs):
            assert close(p.data, t.item()), (name, p.data, t.item())


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_training_trajectories_match_torch(name: str) -> None:
    """Each side computes its own gradients (checked equal) and takes its own steps."""
    make_ours, make_theirs = OPTIMIZERS[name]
    model, seq, X, y = small_problem(seed=2)
    opt_ours, opt_theirs = make_ours(model.parameters()), make_theirs(seq.parameters())
    tx = torch.tensor(X, dtype=torch.float64)
    ty = torch.tensor(y, dtype=torch.float64).unsqueeze(1)
    pairs = torch_params_in_our_order(seq)
    for _ in range(15):
        loss = nn.mse([model(x) for x in X], y)  # type: ignore[misc]
        opt_ours.zero_grad()
        loss.backward()
        opt_theirs.zero_grad()
        t_loss = F.mse_loss(seq(tx), ty)
        t_loss.backward()
        assert close(loss.data, t_loss.item())
        for p, (tensor, idx) in zip(model.parameters(), pairs):
            assert close(p.grad, tensor.grad[idx].item())
        opt_ours.step()
        opt_theirs.step()
        for p, (tensor, idx) in zip(model.parameters(), pairs):
            assert close(p.data, tensor[idx].item())


# -- schedules ---------------------------------------------------------------------------------


def torch_lrs(make_scheduler: Callable[[Any], Any], base: float, steps: int) -> list[float]:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def test_linear_decay_matches_torch_linear_lr() -> None:
    ours = nn.LinearDecay(1.0, 0.1, 100)
    theirs = torch_lrs(lambda o: torch.optim.lr_scheduler.LinearLR(
        o, start_factor=1.0, end_factor=0.1, total_iters=100), 1.0, 130)
    assert all(close(ours(k), lr) for k, lr in enumerate(theirs))


def test_step_decay_matches_torch_step_lr() -> None:
    ours = nn.StepDecay(0.3, 0.5, every=7)
    theirs = torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5), 0.3, 40)
    assert all(close(ours(k), lr) for k, lr in enumerate(theirs))


def test_cosine_decay_matches_torch_cosine_annealing() -> None:
    ours = nn.CosineDecay(0.5, 0.01, steps=50)
    theirs = torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(
        o, T_max=50, eta_min=0.01), 0.5, 51)
    assert all(close(ours(k), lr) for k, lr in enumerate(theirs))


# -- losses ------------------------------------------------------------------------------------


def values_and_tensor(xs: list[float]) -> tuple[list[Value], Any]:
    return [Value(x) for x in xs], torch.tensor(xs, dtype=torch.float64, requires_grad=True)


def check_loss(ours: Value, theirs: Any, vs: list[Value], t: Any) -> None:
    ours.backward()
    theirs.backward()
    assert close(ours.data, theirs.item())
    assert all(close(v.grad, g) for v, g in zip(vs, t.grad.tolist()))


def t64(xs: list[float]) -> Any:
    return torch.tensor(xs, dtype=torch.float64)


def test_losses_match_torch() -> None:
    z = [0.3, -1.7, 2.2, 1000.0, -1000.0, 0.0]
    targets01 = [1.0, 0.0, 0.3, 0.0, 1.0, 1.0]
    vs, t = values_and_tensor(z)
    check_loss(nn.binary_cross_entropy_with_logits(vs, targets01),
               F.binary_cross_entropy_with_logits(t, t64(targets01)), vs, t)
    vs, t = values_and_tensor(z[:3])
    check_loss(nn.mse(vs, [1.0, 2.0, -1.0]), F.mse_loss(t, t64([1.0, 2.0, -1.0])), vs, t)
    vs, t = values_and_tensor(z[:3])
    pm = t64([1.0, -1.0, 1.0])
    check_loss(nn.hinge(vs, [1, -1, 1]), torch.clamp(1 - pm * t, min=0).mean(), vs, t)


def test_cross_entropy_and_softmax_match_torch() -> None:
    rows = [[0.5, -1.0, 2.0, 0.0], [1000.0, 0.0, -1000.0, 3.0], [0.1, 0.2, 0.3, 0.4]]
    classes = [2, 1, 0]
    flat = [x for r in rows for x in r]
    vs, t = values_and_tensor(flat)
    ours = nn.cross_entropy([vs[i * 4:(i + 1) * 4] for i in range(3)], classes)
    theirs = F.cross_entropy(t.view(3, 4), torch.tensor(classes))
    check_loss(ours, theirs, vs, t)
    sm = nn.softmax([Value(x) for x in rows[1]])
    expected = torch.softmax(t64(rows[1]), 0).tolist()
    assert all(close(a.data, b) for a, b in zip(sm, expected))
