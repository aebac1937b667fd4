"""The graduation path to PyTorch: `to_torch` and `from_torch`.

``to_torch(model)`` builds a ``torch.nn.Sequential`` of ``Linear`` layers and activation
modules computing the same function with the same weights (float64 by default, so outputs and
gradients agree to rounding). Neuron j of a layer becomes row j of ``Linear.weight`` and entry j
of ``Linear.bias``. ``from_torch(seq)`` goes back, for a Sequential of Linear layers, each
followed by at most one supported activation.

torch is imported inside the functions: it is never a dependency of adjointgrad.
(torch's Softplus switches to the identity above 20, where the exact value differs by less
than 2.1e-9; ours is exact.)
"""

from __future__ import annotations

from typing import Any

from .modules import MLP, Layer, Module, Neuron

__all__ = ["to_torch", "from_torch"]


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as e:
        raise ImportError(
            "nn.to_torch / nn.from_torch need PyTorch: pip install torch"
        ) from e
    return torch


def _layers(model: Module) -> list[list[Neuron]]:
    if isinstance(model, MLP):
        return [list(layer.neurons) for layer in model.layers]
    if isinstance(model, Layer):
        return [list(model.neurons)]
    if isinstance(model, Neuron):
        return [[model]]
    raise TypeError(f"to_torch converts an MLP, Layer or Neuron, got {type(model).__name__}")


def _torch_activation(torch: Any, act: str, slope: float) -> Any:
    nn = torch.nn
    if act == "relu":
        return nn.ReLU()
    if act == "tanh":
        return nn.Tanh()
    if act == "sigmoid":
        return nn.Sigmoid()
    if act == "leaky_relu":
        return nn.LeakyReLU(negative_slope=slope)
    if act == "softplus":
        return nn.Softplus()
    if act == "gelu":
        return nn.GELU()  # the exact erf form, as Value.gelu
    if act == "silu":
        return nn.SiLU()
    raise ValueError(f"no torch module for activation {act!r}")


def to_torch(model: Module, dtype: Any = None) -> Any:
    """An equivalent ``torch.nn.Sequential`` (a copy: training one does not change the other)."""
    torch = _import_torch()
    dtype = torch.float64 if dtype is None else dtype
    mods: list[Any] = []
    for i, neurons in enumerate(_layers(model)):
        nin = len(neurons[0].w)
        acts = {(n.activation, n.negative_slope) for n in neurons}
        if len(acts) != 1 or any(len(n.w) != nin for n in neurons):
            raise ValueError(
                f"to_torch: the neurons of layer {i} differ in activation or input count; "
                "a torch Linear layer needs them uniform"
            )
        linear = torch.nn.Linear(nin, len(neurons), dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([[w.data for w in n.w] for n in neurons], dtype=dtype))
            linear.bias.copy_(torch.tensor([n.b.data for n in neurons], dtype=dtype))
        mods.append(linear)
        act, slope = acts.pop()
        if act != "linear":
            mods.append(_torch_activation(torch, act, slope))
    return torch.nn.Sequential(*mods)


def _activation_of(torch: Any, mod: Any) -> tuple[str, float]:
    nn = torch.nn
    if isinstance(mod, nn.ReLU):
        return "relu", 0.01
    if isinstance(mod, nn.Tanh):
        return "tanh", 0.01
    if isinstance(mod, nn.Sigmoid):
        return "sigmoid", 0.01
    if isinstance(mod, nn.LeakyReLU):
        return "leaky_relu", float(mod.negative_slope)
    if isinstance(mod, nn.Softplus):
        if mod.beta != 1:
            raise ValueError(f"from_torch: Softplus with beta={mod.beta} is not supported (beta=1)")
        return "softplus", 0.01
    if isinstance(mod, nn.GELU):
        if mod.approximate != "none":
            raise ValueError(
                f"from_torch: GELU(approximate={mod.approximate!r}) is not supported "
                "(nn's gelu is the exact erf form, approximate='none')"
            )
        return "gelu", 0.01
    if isinstance(mod, nn.SiLU):
        return "silu", 0.01
    if isinstance(mod, nn.Identity):
        return "linear", 0.01
    raise ValueError(
        f"from_torch: cannot convert {type(mod).__name__}; supported: Linear, ReLU, Tanh, "
        "Sigmoid, LeakyReLU, Softplus, GELU, SiLU, Identity"
    )


def from_torch(seq: Any) -> MLP:
    """An `MLP` with the weights of `seq`: a ``torch.nn.Sequential`` (or one ``Linear``) of
    Linear layers, each followed by at most one activation; the hidden layers must share one
    activation (an MLP has one hidden activation and one output activation)."""
    torch = _import_torch()
    nn = torch.nn
    mods = [seq] if isinstance(seq, nn.Linear) else list(seq) if isinstance(seq, nn.Sequential) else None
    if mods is None:
        raise TypeError(f"from_torch expects a torch.nn.Sequential or Linear, got {type(seq).__name__}")
    layers: list[tuple[Any, str, float]] = []
    for i, mod in enumerate(mods):
        if isinstance(mod, nn.Linear):
            if mod.bias is None:
                raise ValueError(f"from_torch: Linear #{i} has no bias; neurons always have one")
            if layers and layers[-1][0].out_features != mod.in_features:
                raise ValueError(
                    f"from_torch: Linear #{i} takes {mod.in_features} inputs but the layer "
                    f"before gives {layers[-1][0].out_features}"
                )
            layers.append((mod, "linear", 0.01))
            continue
        act, slope = _activation_of(torch, mod)
        if not layers:
            raise ValueError(f"from_torch: {type(mod).__name__} #{i} comes before any Linear")
        if layers[-1][1] != "linear" and act != "linear":
            raise ValueError(f"from_torch: two activations in a row at #{i}")
        if act != "linear":
            layers[-1] = (layers[-1][0], act, slope)
    if not layers:
        raise ValueError("from_torch: no Linear layer found")
    hidden = {(a, s) for _, a, s in layers[:-1]}
    if len(hidden) > 1:
        raise ValueError(
            f"from_torch: hidden layers use different activations {sorted(hidden)}; "
            "an MLP has one hidden activation"
        )
    act, slope = hidden.pop() if hidden else ("relu", 0.01)
    out_act, out_slope = layers[-1][1], layers[-1][2]
    if act == "leaky_relu" and out_act == "leaky_relu" and slope != out_slope:
        raise ValueError("from_torch: hidden and output LeakyReLU slopes differ")
    if out_act == "leaky_relu":
        slope = out_slope
    model = MLP(
        layers[0][0].in_features,
        [lin.out_features for lin, _, _ in layers],
        act,
        out_act,
        init="uniform",
        seed=0,
        negative_slope=slope,
    )
    state: dict[str, float] = {}
    for li, (lin, _, _) in enumerate(layers):
        weight = lin.weight.detach().to(torch.float64).tolist()
        bias = lin.bias.detach().to(torch.float64).tolist()
        for j, (row, b) in enumerate(zip(weight, bias)):
            for k, w in enumerate(row):
                state[f"layers.{li}.neurons.{j}.w.{k}"] = w
            state[f"layers.{li}.neurons.{j}.b"] = b
    model.load_state_dict(state)
    return model
