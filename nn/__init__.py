"""adjointgrad's neural networks, built on `autograd.Value` (micrograd-compatible).

    >>> from nn import MLP
    >>> model = MLP(2, [16, 16, 1], seed=0)       # ReLU hidden layers, linear output
    >>> len(model.parameters())
    337
    >>> score = model([0.5, -1.0])                 # a single Value

Layout:

    nn.modules        Module, Neuron, Layer, MLP (and the activations)
    nn.transformer    Linear, Embedding, RMSNorm, LayerNorm, CausalSelfAttention (KV cache),
                      FeedForward, TransformerBlock, GPT (microgpt's model)
    nn.init           weight initialization schemes (He, Glorot, LeCun, micrograd's uniform)
    nn.losses         mse, half_squared_error, hinge, binary_cross_entropy_with_logits,
                      cross_entropy, l2, softmax, log_softmax, logsumexp
    nn.optim          SGD, Adam; LinearDecay, StepDecay, CosineDecay learning-rate schedules
    nn.datasets       make_moons, make_circles, make_spirals, xor, encoder_patterns, minibatches
    nn.serialize      save / load as JSON (atomic writes, all checks before any change);
                      load_model rebuilds any registered Module subclass (register_module)
    nn.torch_bridge   to_torch / from_torch (torch imported only when called)

Naming convention (read by the graph pictures, `autograd.viz`):

* A parameter's dotted name is its path from the outermost module, as listed by
  ``named_parameters()``: ``layers.<i>.neurons.<j>.w.<k>`` and ``layers.<i>.neurons.<j>.b``
  for an MLP. Each parameter Value's ``label`` is that name.
* Every node a neuron creates when called (its n-ary ``dot``, the ``+ b`` and the activation)
  has ``node.scope`` = the neuron's `autograd.Scope`: ``str(node.scope)`` is its dotted name,
  e.g. ``"layers.0.neurons.3"`` -- the prefix of its parameters' names --, its ``kind`` is
  "neuron", and ``node.scope.enclosing("layer")`` is its layer's scope (kind "layer"; other
  modules' kind is their lowercase class name). Inside ``autograd.name_scope("outer")`` it is
  nested under that scope: ``"outer.layers.0.neurons.3"``. Pictures group nodes by these kinds.
  Modules set the scope directly on these few nodes (no context manager per call: this is
  the hot path of training).
* Inputs given to a model as plain numbers become leaves labelled ``x[0]``, ``x[1]``, ... with
  no scope: they are the model's inputs, not part of it. Nodes a loss creates have no scope.
"""

from .datasets import (
    encoder_patterns,
    make_circles,
    make_moons,
    make_spirals,
    minibatches,
    signed,
    xor,
)
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
from .modules import ACTIVATIONS, MLP, Layer, Module, Neuron, register_module
from .optim import SGD, Adam, CosineDecay, LinearDecay, StepDecay
from .serialize import load_model
from .torch_bridge import from_torch, to_torch
from .transformer import (
    GPT,
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
