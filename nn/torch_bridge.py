"""The graduation path to PyTorch: `to_torch` and `from_torch`.

``to_torch(model)`` builds a ``torch.nn.Sequential`` of ``Linear`` layers and activation
modules computing the same function with the same weights (float64 by default, so outputs and
gradients agree to rounding). For the layers of `nn.transformer` it builds the equivalent torch
module with the same parameter names (``layers.0.attn.wq.weight`` holds our
``layers.0.attn.wq.weight.<i>.<j>``): ``torch.nn.Linear``, ``Embedding``, ``RMSNorm``,
``LayerNorm``, and small torch modules for attention, the MLP, a block and the GPT that take a
whole sequence at once (a ``(T, dim)`` tensor, or the ``(T,)`` token ids for the GPT) with a
causal mask, which is what the KV cache computes one position at a time.

Neuron j of a layer becomes row j of ``Linear.weight`` and entry j
of ``Linear.bias``. ``from_torch(seq)`` goes back, for a Sequential of Linear layers, each
followed by at most one supported activation.

torch is imported inside the functions: it is never a dependency of adjointgrad.
(torch's Softplus switches to the identity above 20, where the exact value differs by less
than 2.1e-9; ours is exact.)
"""

from __future__ import annotations

from typing import Any

from .base import Module
from .gpt import GPT
from .modules import ACTIVATIONS, MLP, Layer, Neuron
from .transformer import (
    CausalSelfAttention,
    Embedding,
    FeedForward,
    LayerNorm,
    Linear,
    RMSNorm,
    TransformerBlock,
)

__all__ = ["to_torch", "from_torch"]

_TRANSFORMER = (
    Linear, Embedding, RMSNorm, LayerNorm, CausalSelfAttention, FeedForward, TransformerBlock, GPT
)


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
    raise TypeError(
        f"to_torch converts an MLP, Layer or Neuron, or an nn.transformer module (Linear, "
        f"Embedding, RMSNorm, LayerNorm, CausalSelfAttention, FeedForward, TransformerBlock, GPT), "
        f"got {type(model).__name__}"
    )


def _torch_activation(torch: Any, act: str, slope: float) -> Any:
    """The torch module of activation `act` (its class name is the one in ``ACTIVATIONS``; GELU
    is the exact erf form, as Value.gelu)."""
    if act == "leaky_relu":
        return torch.nn.LeakyReLU(negative_slope=slope)
    return getattr(torch.nn, ACTIVATIONS[act])()


def to_torch(model: Module, dtype: Any = None) -> Any:
    """An equivalent ``torch.nn.Sequential`` (a copy: training one does not change the other);
    for an `nn.transformer` module, the equivalent torch module (see the module docstring)."""
    torch = _import_torch()
    dtype = torch.float64 if dtype is None else dtype
    if isinstance(model, _TRANSFORMER):
        return _transformer_to_torch(torch, model, dtype)
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


_CLASSES: dict[str, Any] = {}


def _torch_classes(torch: Any) -> dict[str, Any]:
    """torch modules for attention, the MLP, a block and the GPT (made once, when first needed)."""
    if _CLASSES:
        return _CLASSES
    tnn = torch.nn

    class CausalSelfAttention(tnn.Module):  # type: ignore[misc,name-defined]
        def __init__(self, dim: int, heads: int, bias: bool, dtype: Any) -> None:
            super().__init__()
            self.heads = heads
            self.wq = tnn.Linear(dim, dim, bias=bias, dtype=dtype)
            self.wk = tnn.Linear(dim, dim, bias=bias, dtype=dtype)
            self.wv = tnn.Linear(dim, dim, bias=bias, dtype=dtype)
            self.wo = tnn.Linear(dim, dim, bias=bias, dtype=dtype)

        def forward(self, x: Any) -> Any:  # x: (T, dim)
            t, dim = x.shape
            hd = dim // self.heads
            q = self.wq(x).view(t, self.heads, hd).transpose(0, 1)  # (heads, T, hd)
            k = self.wk(x).view(t, self.heads, hd).transpose(0, 1)
            v = self.wv(x).view(t, self.heads, hd).transpose(0, 1)
            att = q @ k.transpose(1, 2) / hd**0.5
            future = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
            att = att.masked_fill(future, float("-inf")).softmax(dim=-1)
            return self.wo((att @ v).transpose(0, 1).reshape(t, dim))

    class FeedForward(tnn.Module):  # type: ignore[misc,name-defined]
        def __init__(self, dim: int, hidden: int, act: Any, bias: bool, dtype: Any) -> None:
            super().__init__()
            self.fc1 = tnn.Linear(dim, hidden, bias=bias, dtype=dtype)
            self.act = act
            self.fc2 = tnn.Linear(hidden, dim, bias=bias, dtype=dtype)

        def forward(self, x: Any) -> Any:
            return self.fc2(self.act(self.fc1(x)))

    class TransformerBlock(tnn.Module):  # type: ignore[misc,name-defined]
        def __init__(self, norm1: Any, attn: Any, norm2: Any, mlp: Any) -> None:
            super().__init__()
            self.norm1, self.attn, self.norm2, self.mlp = norm1, attn, norm2, mlp

        def forward(self, x: Any) -> Any:
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))

    class GPT(tnn.Module):  # type: ignore[misc,name-defined]
        def __init__(self, wte: Any, wpe: Any, norm: Any, layers: list[Any], lm_head: Any) -> None:
            super().__init__()
            self.wte, self.wpe, self.norm = wte, wpe, norm
            self.layers = tnn.ModuleList(layers)
            self.lm_head = lm_head

        def forward(self, tokens: Any) -> Any:  # tokens: (T,) int64 -> logits (T, vocab)
            x = self.norm(self.wte(tokens) + self.wpe(torch.arange(tokens.shape[0])))
            for layer in self.layers:
                x = layer(x)
            return self.lm_head(x)

    _CLASSES.update(CausalSelfAttention=CausalSelfAttention, FeedForward=FeedForward,
                    TransformerBlock=TransformerBlock, GPT=GPT)
    return _CLASSES


def _build_torch(torch: Any, m: Module, dtype: Any) -> Any:
    tnn = torch.nn
    cls = _torch_classes(torch)
    if isinstance(m, Linear):
        return tnn.Linear(m.nin, m.nout, bias=m._has_bias, dtype=dtype)
    if isinstance(m, Embedding):
        return tnn.Embedding(m.num, m.dim, dtype=dtype)
    if isinstance(m, RMSNorm):
        return tnn.RMSNorm(m.dim, eps=m._eps, elementwise_affine=m._affine, dtype=dtype)
    if isinstance(m, LayerNorm):
        return tnn.LayerNorm(m.dim, eps=m._eps, elementwise_affine=m._affine, bias=m._affine, dtype=dtype)
    if isinstance(m, CausalSelfAttention):
        return cls["CausalSelfAttention"](m.dim, m.heads, m.wq._has_bias, dtype)
    if isinstance(m, FeedForward):
        act = tnn.Identity() if m.activation == "linear" else _torch_activation(torch, m.activation, 0.01)
        return cls["FeedForward"](m.fc1.nin, m.fc1.nout, act, m.fc1._has_bias, dtype)
    if isinstance(m, TransformerBlock):
        parts = (m.norm1, m.attn, m.norm2, m.mlp)
        return cls["TransformerBlock"](*(_build_torch(torch, s, dtype) for s in parts))
    if isinstance(m, GPT):
        return cls["GPT"](
            _build_torch(torch, m.wte, dtype),
            _build_torch(torch, m.wpe, dtype),
            _build_torch(torch, m.norm, dtype),
            [_build_torch(torch, b, dtype) for b in m.layers],
            _build_torch(torch, m.lm_head, dtype),
        )
    raise TypeError(f"to_torch cannot convert {type(m).__name__}")


def _transformer_to_torch(torch: Any, model: Module, dtype: Any) -> Any:
    """The torch module for `model`, its parameters copied by name."""
    net = _build_torch(torch, model, dtype)
    state = model.state_dict()
    used = 0
    with torch.no_grad():
        for name, tensor in net.named_parameters():
            values: list[Any]
            if tensor.dim() == 2:
                rows, cols = tensor.shape
                values = [[state[f"{name}.{i}.{j}"] for j in range(cols)] for i in range(rows)]
            else:
                values = [state[f"{name}.{i}"] for i in range(tensor.shape[0])]
            tensor.copy_(torch.tensor(values, dtype=dtype))
            used += tensor.numel()
    if used != len(state):  # every parameter has found its place
        raise AssertionError(f"to_torch: copied {used} of {len(state)} parameters")
    return net


def _activation_of(torch: Any, mod: Any) -> tuple[str, float]:
    """(activation name, negative slope) of the torch activation module `mod`."""
    nn = torch.nn
    if isinstance(mod, nn.Softplus) and mod.beta != 1:
        raise ValueError(f"from_torch: Softplus with beta={mod.beta} is not supported (beta=1)")
    if isinstance(mod, nn.GELU) and mod.approximate != "none":
        raise ValueError(
            f"from_torch: GELU(approximate={mod.approximate!r}) is not supported "
            "(nn's gelu is the exact erf form, approximate='none')"
        )
    if isinstance(mod, nn.Identity):
        return "linear", 0.01
    for act, name in ACTIVATIONS.items():
        if act != "linear" and isinstance(mod, getattr(nn, name)):
            return act, float(mod.negative_slope) if act == "leaky_relu" else 0.01
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
