"""microgpt's engine and model, as Karpathy's microgpt.py (February 2026) writes them, for W6 of
`demos.benchmark`: `MicroValue` (a scalar node that stores its children and local gradients when
it is made, backward through a depth-first topological sort: microgpt's recursion, walked here
with a stack in the same order), the model code (`mg_gpt`, which runs on any Value class with
+ * ** exp log relu: MicroValue or `autograd.Value`), and microgpt's training step with Adam
(`MicroTrainer`), loading its weights from an `nn.GPT`.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

# --- W6: one training step of microgpt's GPT, three ways ---------------------------------------
#
# (a) "microgpt engine": a scalar engine written the way microgpt.py writes its own (a Value with
#     __slots__ holding its children and the local gradients computed at construction, backward
#     through a depth-first topological sort, in microgpt's order), running the model code below;
# (b) nn.GPT: the same model from this project's layers (n-ary dot/sum nodes), with nn.Adam;
# (c) the model code below, unchanged, on autograd.Value (Python sum over generators, binary nodes).
# Same weights (copied from one nn.GPT), same documents, same Adam (betas 0.85, 0.99, lr 0.01
# decaying linearly to 0 over 1000 steps).

W6_CONFIG = {"vocab": 27, "block": 16, "dim": 16, "heads": 4, "layers": 1, "mlp_ratio": 4}
W6_STEPS = 1000  # the length of the learning-rate schedule, as in microgpt


class MicroValue:
    """A scalar node the way microgpt's engine makes one: children and local gradients stored at
    construction (as microgpt writes them: int 1s and 0s where it has them, exp's value computed
    twice), backward through microgpt's depth-first topological sort (walked with a stack)."""

    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(
        self, data: float, children: tuple[Any, ...] = (), local_grads: tuple[Any, ...] = ()
    ) -> None:
        self.data = data
        self.grad: Any = 0
        self._children = children
        self._local_grads = local_grads

    def __add__(self, other: Any) -> MicroValue:
        other = other if isinstance(other, MicroValue) else MicroValue(other)
        return MicroValue(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other: Any) -> MicroValue:
        other = other if isinstance(other, MicroValue) else MicroValue(other)
        return MicroValue(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, k: float) -> MicroValue:
        return MicroValue(self.data**k, (self,), (k * self.data ** (k - 1),))

    def log(self) -> MicroValue:
        return MicroValue(math.log(self.data), (self,), (1.0 / self.data,))

    def exp(self) -> MicroValue:
        return MicroValue(math.exp(self.data), (self,), (math.exp(self.data),))

    def relu(self) -> MicroValue:
        return MicroValue(max(0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self) -> MicroValue:
        return self * -1

    def __radd__(self, other: Any) -> MicroValue:
        return self + other

    def __sub__(self, other: Any) -> MicroValue:
        return self + (-other)

    def __rsub__(self, other: Any) -> MicroValue:
        return other + (-self)

    def __rmul__(self, other: Any) -> MicroValue:
        return self * other

    def __truediv__(self, other: Any) -> MicroValue:
        return self * other**-1

    def __rtruediv__(self, other: Any) -> MicroValue:
        return other * self**-1

    def backward(self) -> None:
        # microgpt's recursive depth-first sort, written with a stack: the same order, for graphs
        # deeper than Python's recursion limit
        topo: list[MicroValue] = []
        visited = {self}
        stack = [(self, iter(self._children))]
        while stack:
            v, children = stack[-1]
            for child in children:
                if child not in visited:
                    visited.add(child)
                    stack.append((child, iter(child._children)))
                    break
            else:
                stack.pop()
                topo.append(v)
        self.grad = 1
        for v in reversed(topo):
            for child, local in zip(v._children, v._local_grads):
                child.grad += local * v.grad


# The model as microgpt writes it: works on any Value class with + * ** exp log relu.
def mg_linear(x: list[Any], w: list[list[Any]]) -> list[Any]:
    return [sum(wi * xi for wi, xi in zip(wo, x)) for wo in w]


def mg_softmax(logits: list[Any]) -> list[Any]:
    top = max(v.data for v in logits)
    exps = [(v - top).exp() for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


def mg_rmsnorm(x: list[Any]) -> list[Any]:
    ms = sum(xi * xi for xi in x) / len(x)
    scale = (ms + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def mg_gpt(sd: dict[str, Any], token: int, pos: int, keys: list[Any], values: list[Any],
           n_layer: int, n_head: int) -> list[Any]:
    x = [t + p for t, p in zip(sd["wte"][token], sd["wpe"][pos])]
    x = mg_rmsnorm(x)
    head_dim = len(x) // n_head
    for li in range(n_layer):
        residual = x
        x = mg_rmsnorm(x)
        q = mg_linear(x, sd[f"layer{li}.attn_wq"])
        k = mg_linear(x, sd[f"layer{li}.attn_wk"])
        v = mg_linear(x, sd[f"layer{li}.attn_wv"])
        keys[li].append(k)
        values[li].append(v)
        x_attn: list[Any] = []
        for h in range(n_head):
            hs = h * head_dim
            q_h = q[hs : hs + head_dim]
            k_h = [ki[hs : hs + head_dim] for ki in keys[li]]
            v_h = [vi[hs : hs + head_dim] for vi in values[li]]
            logits = [
                sum(q_h[j] * k_h[t][j] for j in range(head_dim)) / head_dim**0.5 for t in range(len(k_h))
            ]
            weights = mg_softmax(logits)
            x_attn.extend(sum(weights[t] * v_h[t][j] for t in range(len(v_h))) for j in range(head_dim))
        x = mg_linear(x_attn, sd[f"layer{li}.attn_wo"])
        x = [a + b for a, b in zip(x, residual)]
        residual = x
        x = mg_rmsnorm(x)
        x = mg_linear(x, sd[f"layer{li}.mlp_fc1"])
        x = [xi.relu() for xi in x]
        x = mg_linear(x, sd[f"layer{li}.mlp_fc2"])
        x = [a + b for a, b in zip(x, residual)]
    return mg_linear(x, sd["lm_head"])


class MicroTrainer:
    """microgpt's training step (forward, loss, backward, Adam) on a given Value class.

    With ``keep_graph=True`` the step's loss (and so its whole graph) stays referenced until the
    next step has computed its own loss, as in microgpt.py, whose training loop runs at module
    level where ``loss`` stays bound: each forward pass then runs while the previous step's graph
    is still alive, and Python's garbage collector walks it too. With False the graph is freed
    when the step returns."""

    def __init__(self, model: Any, value_class: Any, keep_graph: bool = False) -> None:
        self.keep_graph = keep_graph
        self.last_loss: Any = None
        st = model.state_dict()

        def matrix(prefix: str, rows: int, cols: int) -> list[list[Any]]:
            return [[value_class(st[f"{prefix}.{i}.{j}"]) for j in range(cols)] for i in range(rows)]

        c = model.config()
        vocab, block, dim, hidden = c["vocab"], c["block"], c["dim"], c["mlp_ratio"] * c["dim"]
        sd = {"wte": matrix("wte.weight", vocab, dim), "wpe": matrix("wpe.weight", block, dim),
              "lm_head": matrix("lm_head.weight", vocab, dim)}
        for li in range(c["layers"]):
            for w in ("wq", "wk", "wv", "wo"):
                sd[f"layer{li}.attn_{w}"] = matrix(f"layers.{li}.attn.{w}.weight", dim, dim)
            sd[f"layer{li}.mlp_fc1"] = matrix(f"layers.{li}.mlp.fc1.weight", hidden, dim)
            sd[f"layer{li}.mlp_fc2"] = matrix(f"layers.{li}.mlp.fc2.weight", dim, hidden)
        self.sd = sd
        self.params = [p for mat in sd.values() for row in mat for p in row]
        self.n_layer, self.n_head, self.block = c["layers"], c["heads"], block
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)
        self.step_count = 0

    def step(self, tokens: list[int], lr: float = 0.01, beta1: float = 0.85, beta2: float = 0.99,
             eps: float = 1e-8) -> float:
        n = min(self.block, len(tokens) - 1)
        keys: list[Any] = [[] for _ in range(self.n_layer)]
        values: list[Any] = [[] for _ in range(self.n_layer)]
        losses = []
        for pos in range(n):
            logits = mg_gpt(self.sd, tokens[pos], pos, keys, values, self.n_layer, self.n_head)
            probs = mg_softmax(logits)
            losses.append(-probs[tokens[pos + 1]].log())
        loss = (1 / n) * sum(losses)
        if self.keep_graph:
            self.last_loss = loss  # only now is the previous step's graph let go
        loss.backward()
        k = self.step_count
        lr_t = lr * (1 - k / W6_STEPS)
        for i, p in enumerate(self.params):
            g = p.grad
            self.m[i] = beta1 * self.m[i] + (1 - beta1) * g
            self.v[i] = beta2 * self.v[i] + (1 - beta2) * g**2
            m_hat = self.m[i] / (1 - beta1 ** (k + 1))
            v_hat = self.v[i] / (1 - beta2 ** (k + 1))
            p.data -= lr_t * m_hat / (v_hat**0.5 + eps)
            p.grad = 0
        self.step_count += 1
        return float(loss.data)


def names_documents(n: int, seed: int = 42) -> tuple[list[list[int]], int]:
    """The first n names of demos/data/names.txt after a seeded shuffle, as token lists
    [BOS, letters..., BOS] with BOS = 26; and the vocabulary size (27)."""
    names = [w.strip() for w in (Path(__file__).parent / "data" / "names.txt").read_text().split("\n")]
    names = [w for w in names if w]
    random.Random(seed).shuffle(names)
    chars = sorted(set("".join(names)))
    bos = len(chars)
    return [[bos, *(chars.index(ch) for ch in w), bos] for w in names[:n]], bos + 1
