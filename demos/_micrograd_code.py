"""micrograd's nn.py (Neuron, Layer, MLP) as micrograd writes it, on `autograd.Value`: the code
users write (Python's sum over generators, so chains of binary + and * nodes), unchanged but for
type hints. W1 of `demos.benchmark` runs it eagerly and compiled."""

from __future__ import annotations

import random
from typing import Any

from autograd import Value

# micrograd's nn.py and its demo notebook's loss, on autograd.Value: the code users write (Python's
# sum over generators, so chains of binary + and * nodes), unchanged but for type hints and the
# weights being copied in.


class MgModule:
    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0

    def parameters(self) -> list[Value]:
        return []


class MgNeuron(MgModule):
    def __init__(self, nin: int, nonlin: bool = True) -> None:
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x: list[Value]) -> Value:
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Value]:
        return self.w + [self.b]  # noqa: RUF005 (micrograd's code as it is)


class MgLayer(MgModule):
    def __init__(self, nin: int, nout: int, **kwargs: Any) -> None:
        self.neurons = [MgNeuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x: list[Value]) -> Any:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]


class MgMLP(MgModule):
    def __init__(self, nin: int, nouts: list[int]) -> None:
        sz = [nin] + nouts  # noqa: RUF005 (micrograd's code as it is)
        self.layers = [MgLayer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

    def __call__(self, x: list[Value]) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]
