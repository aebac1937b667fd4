"""adjointgrad's neural networks, built on `autograd.Value` (micrograd-compatible).

    >>> from nn import MLP
    >>> model = MLP(2, [16, 16, 1], seed=0)       # ReLU hidden layers, linear output
    >>> len(model.parameters())
    337
    >>> score = model([0.5, -1.0])                 # a single Value

Layout, in the order the files import one another (each imports only files above it):

    nn.registry       the names of Module classes (what a saved file's "type" means)
    nn.serialize      save / load as JSON (atomic writes, all checks before any change);
                      load_model rebuilds any registered Module subclass (register_module)
    nn.base           Module, the base class: parameters, dotted names, scopes, save/load;
                      register_module; MAX_PARAMETERS, the most a built-in module builds
    nn.init           weight initialization schemes (He, Glorot, LeCun, micrograd's uniform)
    nn.modules        Neuron, Layer, MLP (and the activations)
    nn.transformer    Linear, Embedding, RMSNorm, LayerNorm, CausalSelfAttention (KV cache),
                      FeedForward, TransformerBlock
    nn.gpt            GPT (microgpt's model): loss, step, sampling
    nn.gpt_programs   TracedLoss: a GPT's loss and gradients through one traced program per
                      sequence length
    nn.losses         mse, half_squared_error, hinge, binary_cross_entropy_with_logits,
                      cross_entropy, l2, softmax, log_softmax, logsumexp
    nn.optim          SGD, Adam; LinearDecay, StepDecay, CosineDecay learning-rate schedules
    nn.datasets       make_moons, make_circles, make_spirals, xor, encoder_patterns, minibatches
    nn.torch_bridge   to_torch / from_torch (torch imported only when called)

Names and scopes (what the graph pictures of `autograd.viz` read) are set out in `nn.base`:
``layers.0.neurons.3.w.1`` names a parameter, and the nodes neuron 3 of layer 0 makes carry the
`autograd.Scope` ``layers.0.neurons.3`` (kind "neuron") inside ``layers.0`` (kind "layer").

`nn._autograd`, imported first, refuses a foreign `autograd` (the HIPS package of the same name).
"""

from . import _autograd  # noqa: F401  (imported first: it refuses a foreign autograd)
from .base import Module, register_module
from .datasets import (
    encoder_patterns,
    make_circles,
    make_moons,
    make_spirals,
    minibatches,
    signed,
    xor,
)
from .gpt import GPT
from .gpt_programs import TracedLoss
from .init import INITIALIZERS
from .losses import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    half_squared_error,
    hinge,
    l2,
    log_softmax,
    logsumexp,
    mse,
    softmax,
)
from .modules import ACTIVATIONS, MLP, Layer, Neuron
from .optim import SGD, Adam, CosineDecay, LinearDecay, StepDecay
from .serialize import load_model
from .torch_bridge import from_torch, to_torch
from .transformer import (
    CausalSelfAttention,
    Embedding,
    FeedForward,
    KVCache,
    LayerNorm,
    Linear,
    RMSNorm,
    TransformerBlock,
)

__all__ = [
    "ACTIVATIONS",
    "GPT",
    "INITIALIZERS",
    "MLP",
    "SGD",
    "Adam",
    "CausalSelfAttention",
    "CosineDecay",
    "Embedding",
    "FeedForward",
    "KVCache",
    "Layer",
    "LayerNorm",
    "Linear",
    "LinearDecay",
    "Module",
    "Neuron",
    "RMSNorm",
    "StepDecay",
    "TracedLoss",
    "TransformerBlock",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "encoder_patterns",
    "from_torch",
    "half_squared_error",
    "hinge",
    "l2",
    "load_model",
    "log_softmax",
    "logsumexp",
    "make_circles",
    "make_moons",
    "make_spirals",
    "minibatches",
    "mse",
    "register_module",
    "signed",
    "softmax",
    "to_torch",
    "xor",
]
