"""Layers for attention models, and a small GPT, on the scalar engine.

    >>> from nn import GPT
    >>> model = GPT(vocab=27, block=16, dim=16, heads=4, layers=1, seed=0)   # microgpt's size
    >>> model.num_parameters()
    4192
    >>> loss = model.loss([26, 4, 12, 12, 0, 26])     # mean cross-entropy over 5 next tokens

Modules (each callable with plain numbers or Values, refusing wrong sizes by name):

    Linear(nin, nout, bias=True)        $y_j = w_j \\cdot x + b_j$: ONE ``dot`` node per output
    Embedding(num, dim)                 a table of `num` rows of `dim` parameters; ``emb(i)`` is row i
    RMSNorm(dim, eps=1e-5)              $y_i = x_i / \\sqrt{\\mathrm{mean}(x^2) + \\epsilon}$
    LayerNorm(dim, eps=1e-5)            $y_i = w_i (x_i - \\mu) / \\sqrt{\\sigma^2 + \\epsilon} + b_i$
    CausalSelfAttention(dim, heads)     one position at a time, with a `KVCache`
    FeedForward(dim, hidden)            Linear -> ReLU -> Linear (no biases, as in microgpt)
    TransformerBlock(dim, heads)        x += attn(rmsnorm(x)); x += mlp(rmsnorm(x))
    GPT(vocab, block, dim, heads, layers, mlp_ratio=4)

`GPT` is the model of Karpathy's microgpt.py (February 2026): token and position embeddings,
their sum normalised by RMSNorm, `layers` pre-norm blocks (RMSNorm, causal multi-head attention
with a residual, RMSNorm, ReLU MLP of width ``mlp_ratio * dim`` with a residual), and an untied
output head; no biases, no learned norm gains. It works one position at a time: the keys and
values of earlier positions wait in a cache, as microgpt keeps them in lists.

Parameter names follow PyTorch's: ``layers.0.attn.wq.weight.3.5`` is row 3, column 5 of that
Linear's weight (`nn.to_torch` relies on it). Every node a module creates while called carries
the module's `autograd.Scope` (path ``layers.0.attn.wq``, kind "linear": the lowercase class
name); an attention head's nodes carry ``layers.0.attn.heads.<h>`` (kind "head"), the embedding
sum ``embed``, the residual adds the block's scope, and the cross-entropy of `GPT.loss` ``loss``.

Every module class has ``parameter_count(config)``: the number of parameters a ``config()``
implies, computed without building anything; ``cls(**config_without_type)`` rebuilds it, and
``from_config`` does so from seed 0 (what `nn.load_model` calls).
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from autograd import Scope, Value, dot, no_grad
from autograd import sum as vsum

from .init import Initializer, RandomSource, get_initializer, make_rng
from .modules import ACTIVATIONS, Module, _as_inputs, _check_activation, _check_size, activation_fn

__all__ = [
    "Linear",
    "Embedding",
    "RMSNorm",
    "LayerNorm",
    "KVCache",
    "CausalSelfAttention",
    "FeedForward",
    "TransformerBlock",
    "GPT",
]


# -- helpers -----------------------------------------------------------------------------------


def _tag(nodes: Iterable[Value], scope: Scope | None) -> None:
    """Put the module's `scope` on nodes the module just made (nested under an enclosing
    `autograd.name_scope`, as `Scope.tag` and `nn.Neuron` do). The one place that writes node
    scopes here."""
    if scope is None:
        return
    nested = scope.nested_in
    for v in nodes:
        outer = v._scope
        v._scope = scope if outer is None else nested(outer)


def _bool(x: object, what: str) -> bool:
    if not isinstance(x, bool):
        raise TypeError(f"{what} must be True or False, got {type(x).__name__}: {x!r:.40}")
    return x


def _eps(x: object, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} must be a number, got {type(x).__name__}: {x!r:.40}")
    e = float(x)
    if not (e > 0 and math.isfinite(e)):
        raise ValueError(f"{what} must be a finite number > 0, got {e}")
    return e


def _config_args(cls: type, config: Any) -> dict[str, Any]:
    """The constructor arguments in `config` (as made by ``config()``), checked to be for `cls`."""
    if not isinstance(config, dict):
        raise TypeError(f"{cls.__name__}.parameter_count expects a config dict, got {type(config).__name__}")
    kind = config.get("type", cls.__name__)
    if kind != cls.__name__:
        raise ValueError(f"{cls.__name__}.parameter_count got a config of type {kind!r}")
    return {k: v for k, v in config.items() if k != "type"}


def _normal(std: float) -> Initializer:
    def draw(fan_in: int, fan_out: int, rng: RandomSource) -> float:
        return rng.gauss(0.0, std)

    return draw


def _token(t: object, vocab: int, who: str) -> int:
    if isinstance(t, bool) or not isinstance(t, numbers.Integral):
        raise TypeError(f"{who}: a token must be an int in [0, {vocab}), got {type(t).__name__}: {t!r:.40}")
    i = int(t)
    if not 0 <= i < vocab:
        raise ValueError(f"{who}: token {i} is outside the vocabulary [0, {vocab})")
    return i


_EXP_SAFE = 700.0  # |max z| below this: e^z neither overflows nor makes sum e^z underflow


def _shifted(zs: list[Value]) -> list[Value]:
    """`zs` ready for a softmax or log-sum-exp: as they are when the largest is within +-700
    (no ``e^z`` overflows and their sum stays a normal float), else minus their maximum (a
    constant, so the softmax and the gradients are unchanged). Skipping the subtraction where
    it is not needed saves one node per entry."""
    m = max([z.data for z in zs])
    if -_EXP_SAFE < m < _EXP_SAFE:
        return zs
    mv = Value(m)
    return [z - mv for z in zs]


def _who(m: Module) -> str:
    """The module's class and dotted name, for error messages."""
    where = f" '{m._path}'" if m._path else ""
    return f"{type(m).__name__}{where}"


def _part(m: Module, name: str, kind: str) -> Scope:
    """The scope `name` (of `kind`) inside module `m`'s scope: an attention head
    (``layers.0.attn.heads.2``, kind "head"), the GPT's ``embed`` and ``loss``. Made once for
    each name the module has (a module renamed inside another gets new ones)."""
    base = m._scope
    parts: tuple[Scope | None, dict[str, Scope]] | None = m.__dict__.get("_parts")
    if parts is None or parts[0] is not base:
        parts = (base, {})
        object.__setattr__(m, "_parts", parts)
    s = parts[1].get(name)
    if s is None:
        s = parts[1][name] = Scope(name, kind, base)
    return s


# -- Linear, Embedding, norms --------------------------------------------------------------------


class Linear(Module):
    """$y_j = \\sum_i W_{ji} x_i + b_j$ for j < nout: ONE ``dot`` node per output (plus ``+ b``).

    ``weight`` is a list of `nout` rows (tuples) of `nin` parameters (PyTorch's layout), ``bias`` a list
    of `nout` (absent with ``bias=False``). Weights are drawn by `init` (default Glorot-uniform,
    see `nn.init`; any ``init(fan_in, fan_out, rng)``), biases start at 0. Called on a list of
    `nin` numbers or Values, it returns the list of `nout` outputs.
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        bias: bool = True,
        *,
        init: str | Initializer = "auto",
        seed: int | None = None,
        rng: RandomSource | None = None,
    ) -> None:
        nin = _check_size(nin, "Linear nin")
        nout = _check_size(nout, "Linear nout")
        self._has_bias = _bool(bias, "Linear bias")
        draw = get_initializer(init, "linear")
        r = make_rng(seed, rng)
        # rows are tuples: the engine's dot takes a tuple as it is (no copy per call)
        self.weight = [tuple([Value(draw(nin, nout, r)) for _ in range(nin)]) for _ in range(nout)]
        if self._has_bias:
            self.bias = [Value(0.0) for _ in range(nout)]

    @property
    def nin(self) -> int:
        return len(self.weight[0])

    @property
    def nout(self) -> int:
        return len(self.weight)

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        return self._forward(_as_inputs(x, self.nin, f"{_who(self)} ({self.nin} -> {self.nout})"))

    def _forward(self, x: Sequence[Value]) -> list[Value]:
        xs = tuple(x)
        out = [dot(row, xs) for row in self.weight]
        if self._has_bias:
            made = out
            out = [y + b for y, b in zip(out, self.bias)]
            _tag(made, self._scope)
        _tag(out, self._scope)
        return out

    def config(self) -> dict[str, Any]:
        return {"type": "Linear", "nin": self.nin, "nout": self.nout, "bias": self._has_bias}

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        a = _config_args(cls, config)
        nin = _check_size(a.get("nin"), "Linear nin")
        nout = _check_size(a.get("nout"), "Linear nout")
        return nin * nout + (nout if _bool(a.get("bias", True), "Linear bias") else 0)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Linear:
        """This architecture with weights drawn from seed 0: what `nn.load_model` builds before
        loading the file's values into it (it draws no global randomness)."""
        return cls(**config, seed=0)

    def __repr__(self) -> str:
        return f"Linear({self.nin}, {self.nout}, bias={self._has_bias})"


class Embedding(Module):
    """A table of `num` rows of `dim` parameters: ``emb(i)`` is row i (the parameters
    themselves, no new node). ``weight[i][j]`` is named ``weight.i.j``. Default init N(0, 1),
    as PyTorch's."""

    def __init__(
        self,
        num: int,
        dim: int,
        *,
        init: str | Initializer | None = None,
        seed: int | None = None,
        rng: RandomSource | None = None,
    ) -> None:
        num = _check_size(num, "Embedding num")
        dim = _check_size(dim, "Embedding dim")
        draw = _normal(1.0) if init is None else get_initializer(init, "linear")
        r = make_rng(seed, rng)
        self.weight = [tuple([Value(draw(dim, num, r)) for _ in range(dim)]) for _ in range(num)]

    @property
    def num(self) -> int:
        return len(self.weight)

    @property
    def dim(self) -> int:
        return len(self.weight[0])

    def __call__(self, index: int) -> tuple[Value, ...]:
        return self.weight[_token(index, self.num, _who(self))]

    def config(self) -> dict[str, Any]:
        return {"type": "Embedding", "num": self.num, "dim": self.dim}

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        a = _config_args(cls, config)
        return _check_size(a.get("num"), "Embedding num") * _check_size(a.get("dim"), "Embedding dim")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Embedding:
        """This architecture with weights drawn from seed 0: what `nn.load_model` builds before
        loading the file's values into it (it draws no global randomness)."""
        return cls(**config, seed=0)

    def __repr__(self) -> str:
        return f"Embedding({self.num}, {self.dim})"


class _Norm(Module):
    """What RMSNorm and LayerNorm share: one size, eps, the affine flag, and their description."""

    _dim: int
    _eps: float
    _affine: bool

    @property
    def dim(self) -> int:
        return self._dim

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        return self._forward(_as_inputs(x, self._dim, f"{_who(self)} (dim {self._dim})"))

    def _forward(self, x: Sequence[Value]) -> list[Value]:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "dim": self._dim, "eps": self._eps, "affine": self._affine}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._dim}, eps={self._eps}, affine={self._affine})"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> _Norm:
        """This architecture (what `nn.load_model` builds before loading the file's values)."""
        return cls(**config)


class RMSNorm(_Norm):
    """$y_i = x_i \\cdot (\\frac{1}{n}\\sum_k x_k^2 + \\epsilon)^{-1/2}$ (times a gain ``weight``
    $g_i$, initially 1, with ``affine=True``). microgpt's norm: no gain. Nodes: one ``dot`` for
    $\\sum x^2$, three for the scale, one ``*`` per output (two with the gain)."""

    def __init__(self, dim: int, eps: float = 1e-5, affine: bool = False) -> None:
        self._dim = _check_size(dim, "RMSNorm dim")
        self._eps = _eps(eps, "RMSNorm eps")
        self._affine = _bool(affine, "RMSNorm affine")
        if self._affine:
            self.weight = [Value(1.0) for _ in range(self._dim)]

    def _forward(self, x: Sequence[Value]) -> list[Value]:
        xs = tuple(x)
        inv_n, eps = Value(1.0 / self._dim), Value(self._eps)
        ss = dot(xs, xs)
        ms = ss * inv_n
        e = ms + eps
        scale = e**-0.5
        out = [v * scale for v in xs]
        made = [inv_n, eps, ss, ms, e, scale, *out]
        if self._affine:
            out = [v * g for v, g in zip(out, self.weight)]
            made += out
        _tag(made, self._scope)
        return out

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        a = _config_args(cls, config)
        dim = _check_size(a.get("dim"), "RMSNorm dim")
        return dim if _bool(a.get("affine", False), "RMSNorm affine") else 0


class LayerNorm(_Norm):
    """$y_i = g_i (x_i - \\mu) (\\sigma^2 + \\epsilon)^{-1/2} + b_i$, with $\\mu$ the mean and
    $\\sigma^2$ the (biased) variance of x; gain ``weight`` starts at 1, ``bias`` at 0 (PyTorch's
    LayerNorm). ``affine=False``: no gain, no bias."""

    def __init__(self, dim: int, eps: float = 1e-5, affine: bool = True) -> None:
        self._dim = _check_size(dim, "LayerNorm dim")
        self._eps = _eps(eps, "LayerNorm eps")
        self._affine = _bool(affine, "LayerNorm affine")
        if self._affine:
            self.weight = [Value(1.0) for _ in range(self._dim)]
            self.bias = [Value(0.0) for _ in range(self._dim)]

    def _forward(self, x: Sequence[Value]) -> list[Value]:
        inv_n, eps = Value(1.0 / self._dim), Value(self._eps)
        total = vsum(x)
        mean = total * inv_n
        d = [v - mean for v in x]
        ss = dot(d, d)
        var = ss * inv_n
        e = var + eps
        scale = e**-0.5
        out = [v * scale for v in d]
        made = [inv_n, eps, total, mean, *d, ss, var, e, scale, *out]
        if self._affine:
            scaled = [v * g for v, g in zip(out, self.weight)]
            out = [v + b for v, b in zip(scaled, self.bias)]
            made += scaled
            made += out
        _tag(made, self._scope)
        return out

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        a = _config_args(cls, config)
        dim = _check_size(a.get("dim"), "LayerNorm dim")
        return 2 * dim if _bool(a.get("affine", True), "LayerNorm affine") else 0


# -- attention -----------------------------------------------------------------------------------


class KVCache:
    """The keys and values of the positions seen so far, for one `CausalSelfAttention`.

    ``keys[h][t]`` is head h's key at position t (a tuple of head_dim Values); ``values[h][j]``
    is the list, over positions, of entry j of head h's value (so a head's output j is one
    ``dot`` of the attention weights with it). ``len(cache)`` is the number of positions.
    """

    __slots__ = ("heads", "head_dim", "keys", "values")

    def __init__(self, heads: int, head_dim: int) -> None:
        self.heads = heads
        self.head_dim = head_dim
        self.keys: list[list[tuple[Value, ...]]] = [[] for _ in range(heads)]
        self.values: list[list[list[Value]]] = [[[] for _ in range(head_dim)] for _ in range(heads)]

    def __len__(self) -> int:
        return len(self.keys[0])

    def __repr__(self) -> str:
        return f"KVCache({len(self)} positions, {self.heads} heads of {self.head_dim})"


class CausalSelfAttention(Module):
    """Multi-head causal self-attention, one position at a time.

    For the input x of the current position: $q = W_q x$, $k = W_k x$, $v = W_v x$ (k and v
    are appended to the cache); head h attends over every cached position t:
    $a_t = \\mathrm{softmax}_t(q_h \\cdot k_{h,t} / \\sqrt{d})$, $o_h = \\sum_t a_t v_{h,t}$
    (d = dim / heads); the heads are concatenated and projected, $y = W_o [o_1 .. o_H]$.
    Positions after the current one are never seen: that is what makes it causal.

    Nodes per head: d for the scaled query, one ``dot`` per position for the logits, an ``exp``
    per position (after subtracting the largest logit only where exp could overflow), a ``sum``,
    its reciprocal, and d outputs, each one ``dot`` of the unnormalised weights with the cached
    values times the reciprocal.
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        bias: bool = False,
        *,
        init: str | Initializer = "auto",
        seed: int | None = None,
        rng: RandomSource | None = None,
    ) -> None:
        dim = _check_size(dim, "CausalSelfAttention dim")
        heads = _check_size(heads, "CausalSelfAttention heads")
        if dim % heads:
            raise ValueError(
                f"CausalSelfAttention: dim {dim} is not divisible by heads {heads} "
                "(each head takes dim / heads channels)"
            )
        self._heads = heads
        self._head_dim = dim // heads
        r = make_rng(seed, rng)
        self.wq = Linear(dim, dim, bias, init=init, rng=r)
        self.wk = Linear(dim, dim, bias, init=init, rng=r)
        self.wv = Linear(dim, dim, bias, init=init, rng=r)
        self.wo = Linear(dim, dim, bias, init=init, rng=r)

    @property
    def dim(self) -> int:
        return self.wq.nin

    @property
    def heads(self) -> int:
        return self._heads

    @property
    def head_dim(self) -> int:
        return self._head_dim

    def new_cache(self) -> KVCache:
        return KVCache(self._heads, self._head_dim)

    def __call__(self, x: Sequence[Value | float], cache: KVCache | None = None) -> list[Value]:
        """The output at the next position of `cache` (a fresh cache: the first position)."""
        xs = _as_inputs(x, self.dim, f"{_who(self)} (dim {self.dim})")
        if cache is None:
            cache = self.new_cache()
        elif not isinstance(cache, KVCache):
            raise TypeError(f"{_who(self)}: cache must be a KVCache, got {type(cache).__name__}")
        elif cache.heads != self._heads or cache.head_dim != self._head_dim:
            raise ValueError(
                f"{_who(self)}: the cache holds {cache.heads} heads of {cache.head_dim}, "
                f"this module has {self._heads} of {self._head_dim}"
            )
        return self._forward(xs, cache)

    def _forward(self, x: Sequence[Value], cache: KVCache) -> list[Value]:
        q = self.wq._forward(x)
        k = self.wk._forward(x)
        v = self.wv._forward(x)
        hd = self._head_dim
        scale = 1.0 / math.sqrt(hd)
        heads_out: list[Value] = []
        for h in range(self._heads):
            lo = h * hd
            keys = cache.keys[h]
            keys.append(tuple(k[lo : lo + hd]))
            cols = cache.values[h]
            for j in range(hd):
                cols[j].append(v[lo + j])
            sc = Value(scale)  # one constant leaf per head, in the head's scope
            qh = tuple([qi * sc for qi in q[lo : lo + hd]])
            logits = [dot(qh, kt) for kt in keys]
            shifted = _shifted(logits)
            es = [s.exp() for s in shifted]
            total = vsum(es)
            inv = total**-1
            dots = [dot(es, col) for col in cols]
            out = [o * inv for o in dots]
            made = [sc, *qh, *logits, *es, total, inv, *dots, *out]
            if shifted is not logits:
                made += shifted
            _tag(made, _part(self, f"heads.{h}", "head"))
            heads_out += out
        return self.wo._forward(heads_out)

    def config(self) -> dict[str, Any]:
        return {
            "type": "CausalSelfAttention", "dim": self.dim, "heads": self._heads, "bias": self.wq._has_bias
        }

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        a = _config_args(cls, config)
        dim = _check_size(a.get("dim"), "CausalSelfAttention dim")
        heads = _check_size(a.get("heads"), "CausalSelfAttention heads")
        if dim % heads:
            raise ValueError(f"CausalSelfAttention: dim {dim} is not divisible by heads {heads}")
        bias = _bool(a.get("bias", False), "CausalSelfAttention bias")
        return 4 * Linear.parameter_count({"nin": dim, "nout": dim, "bias": bias})

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CausalSelfAttention:
        """This architecture with weights drawn from seed 0: what `nn.load_model` builds before
        loading the file's values into it (it draws no global randomness)."""
        return cls(**config, seed=0)

    def __repr__(self) -> str:
        return f"CausalSelfAttention(dim={self.dim}, heads={self._heads})"


class FeedForward(Module):
    """$y = W_2 f(W_1 x)$: ``fc1`` (dim -> hidden), the activation (ReLU), ``fc2`` (hidden -> dim)."""

    def __init__(
        self,
        dim: int,
        hidden: int,
        activation: str = "relu",
        bias: bool = False,
        *,
        init: str | Initializer = "auto",
        seed: int | None = None,
        rng: RandomSource | None = None,
    ) -> None:
        dim = _check_size(dim, "FeedForward dim")
        hidden = _check_size(hidden, "FeedForward hidden")
        self._activation = _check_activation(activation, "FeedForward activation")
        if self._activation == "leaky_relu":
            raise ValueError("FeedForward: leaky_relu is not offered here; use relu or another activation")
        self._act = activation_fn(self._activation)
        r = make_rng(seed, rng)
        self.fc1 = Linear(dim, hidden, bias, init=init, rng=r)
        self.fc2 = Linear(hidden, dim, bias, init=init, rng=r)

    @property
    def activation(self) -> str:
        return self._activation

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        return self._forward(_as_inputs(x, self.fc1.nin, f"{_who(self)} (dim {self.fc1.nin})"))

    def _forward(self, x: Sequence[Value]) -> list[Value]:
        h = self.fc1._forward(x)
        f = self._act
        if f is not None:
            h = [f(z) for z in h]
            _tag(h, self._scope)
        return self.fc2._forward(h)

    def config(self) -> dict[str, Any]:
        return {
            "type": "FeedForward",
            "dim": self.fc1.nin,
            "hidden": self.fc1.nout,
            "activation": self._activation,
            "bias": self.fc1._has_bias,
        }

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        a = _config_args(cls, config)
        dim = _check_size(a.get("dim"), "FeedForward dim")
        hidden = _check_size(a.get("hidden"), "FeedForward hidden")
        bias = _bool(a.get("bias", False), "FeedForward bias")
        return Linear.parameter_count({"nin": dim, "nout": hidden, "bias": bias}) + Linear.parameter_count(
            {"nin": hidden, "nout": dim, "bias": bias}
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FeedForward:
        """This architecture with weights drawn from seed 0: what `nn.load_model` builds before
        loading the file's values into it (it draws no global randomness)."""
        return cls(**config, seed=0)

    def __repr__(self) -> str:
        act = ACTIVATIONS[self._activation]
        return f"FeedForward({self.fc1.nin} -> {self.fc1.nout} {act} -> {self.fc2.nout})"


class TransformerBlock(Module):
    """A pre-norm block: $x \\leftarrow x + \\mathrm{attn}(\\mathrm{norm}_1(x))$, then
    $x \\leftarrow x + \\mathrm{mlp}(\\mathrm{norm}_2(x))$, with RMSNorm and a ReLU MLP of width
    ``mlp_ratio * dim``. No biases (microgpt's block)."""

    def __init__(
        self,
        dim: int,
        heads: int,
        mlp_ratio: int = 4,
        *,
        init: str | Initializer = "auto",
        seed: int | None = None,
        rng: RandomSource | None = None,
    ) -> None:
        dim = _check_size(dim, "TransformerBlock dim")
        ratio = _check_size(mlp_ratio, "TransformerBlock mlp_ratio")
        r = make_rng(seed, rng)
        self.norm1 = RMSNorm(dim)
        self.attn = CausalSelfAttention(dim, heads, init=init, rng=r)
        self.norm2 = RMSNorm(dim)
        self.mlp = FeedForward(dim, ratio * dim, init=init, rng=r)
        self._mlp_ratio = ratio

    def new_cache(self) -> KVCache:
        return self.attn.new_cache()

    def __call__(self, x: Sequence[Value | float], cache: KVCache | None = None) -> list[Value]:
        xs = _as_inputs(x, self.attn.dim, f"{_who(self)} (dim {self.attn.dim})")
        if cache is None:
            cache = self.new_cache()
        elif not isinstance(cache, KVCache):
            raise TypeError(f"{_who(self)}: cache must be a KVCache, got {type(cache).__name__}")
        return self._forward(xs, cache)

    def _forward(self, x: Sequence[Value], cache: KVCache) -> list[Value]:
        a = self.attn._forward(self.norm1._forward(x), cache)
        x1 = [p + r for p, r in zip(a, x)]
        m = self.mlp._forward(self.norm2._forward(x1))
        x2 = [p + r for p, r in zip(m, x1)]
        _tag([*x1, *x2], self._scope)
        return x2

    def config(self) -> dict[str, Any]:
        return {
            "type": "TransformerBlock", "dim": self.attn.dim, "heads": self.attn.heads,
            "mlp_ratio": self._mlp_ratio,
        }

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        a = _config_args(cls, config)
        dim = _check_size(a.get("dim"), "TransformerBlock dim")
        heads = _check_size(a.get("heads"), "TransformerBlock heads")
        ratio = _check_size(a.get("mlp_ratio", 4), "TransformerBlock mlp_ratio")
        attn = CausalSelfAttention.parameter_count({"dim": dim, "heads": heads})
        return attn + FeedForward.parameter_count({"dim": dim, "hidden": ratio * dim})

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TransformerBlock:
        """This architecture with weights drawn from seed 0: what `nn.load_model` builds before
        loading the file's values into it (it draws no global randomness)."""
        return cls(**config, seed=0)

    def __repr__(self) -> str:
        return f"TransformerBlock(dim={self.attn.dim}, heads={self.attn.heads}, mlp_ratio={self._mlp_ratio})"


# -- the GPT -------------------------------------------------------------------------------------


class GPT(Module):
    """microgpt's model: ``GPT(vocab, block, dim, heads, layers, mlp_ratio=4, seed=None)``.

    Position p of a token list computes, from token $t_p$:
    $x = \\mathrm{rmsnorm}(E_{t_p} + P_p)$, then each `TransformerBlock` (attending to positions
    0..p through the caches), then the logits $W_{head} x$ of the next token (vocab of them).
    `block` is the number of positions. Weights are drawn from N(0, init_std^2) (microgpt: 0.08)
    with ``seed=`` / ``rng=`` as elsewhere in `nn`.

    - ``model(tokens)``: the logits at every position (a list of lists);
    - ``model.step(token, caches)``: the logits at the next position of `caches`
      (``model.new_cache()``), feeding one token: what sampling does;
    - ``model.loss(tokens)``: the mean cross-entropy of predicting ``tokens[p + 1]`` at each
      position p, as microgpt's training step computes it for one document;
    - ``model.sample(start, max_len, temperature, seed)``: tokens drawn one at a time.
    """

    def __init__(
        self,
        vocab: int,
        block: int,
        dim: int,
        heads: int,
        layers: int,
        mlp_ratio: int = 4,
        seed: int | None = None,
        *,
        rng: RandomSource | None = None,
        init_std: float = 0.08,
    ) -> None:
        vocab = _check_size(vocab, "GPT vocab")
        block = _check_size(block, "GPT block")
        dim = _check_size(dim, "GPT dim")
        heads = _check_size(heads, "GPT heads")
        nlayers = _check_size(layers, "GPT layers")
        ratio = _check_size(mlp_ratio, "GPT mlp_ratio")
        if dim % heads:
            raise ValueError(f"GPT: dim {dim} is not divisible by heads {heads}")
        draw = _normal(_eps(init_std, "GPT init_std"))
        r = make_rng(seed, rng)
        self.wte = Embedding(vocab, dim, init=draw, rng=r)
        self.wpe = Embedding(block, dim, init=draw, rng=r)
        self.norm = RMSNorm(dim)
        self.layers = [TransformerBlock(dim, heads, ratio, init=draw, rng=r) for _ in range(nlayers)]
        self.lm_head = Linear(dim, vocab, bias=False, init=draw, rng=r)
        self._mlp_ratio = ratio

    # -- sizes --
    @property
    def vocab(self) -> int:
        return self.wte.num

    @property
    def block(self) -> int:
        return self.wpe.num

    @property
    def dim(self) -> int:
        return self.wte.dim

    @property
    def heads(self) -> int:
        return self.layers[0].attn.heads

    def new_cache(self) -> list[KVCache]:
        """One empty `KVCache` per block."""
        return [b.new_cache() for b in self.layers]

    # -- forward --
    def step(self, token: int, caches: list[KVCache]) -> list[Value]:
        """Feed `token` at the next position of `caches`; the logits of the token after it."""
        who = _who(self)
        if not isinstance(caches, list) or len(caches) != len(self.layers) or not all(
            isinstance(c, KVCache) for c in caches
        ):
            raise TypeError(f"{who}: caches must be model.new_cache() (one KVCache per layer)")
        pos = len(caches[0])
        if pos >= self.block:
            raise ValueError(f"{who}: position {pos} is past the block of {self.block} positions")
        return self._step(_token(token, self.vocab, who), pos, caches)

    def _step(self, token: int, pos: int, caches: list[KVCache]) -> list[Value]:
        x = [t + p for t, p in zip(self.wte.weight[token], self.wpe.weight[pos])]
        _tag(x, _part(self, "embed", "embed"))
        x = self.norm._forward(x)
        for layer, cache in zip(self.layers, caches):
            x = layer._forward(x, cache)
        return self.lm_head._forward(x)

    def _tokens(self, tokens: object, least: int, most: int, what: str) -> list[int]:
        who = _who(self)
        if isinstance(tokens, (str, bytes)) or not isinstance(tokens, Sequence):
            raise TypeError(f"{who}: {what} must be a list of int tokens, got {type(tokens).__name__}")
        if not least <= len(tokens) <= most:
            raise ValueError(
                f"{who}: {what} has {len(tokens)} tokens; it needs {least} to {most} "
                f"(block of {self.block} positions)"
            )
        return [_token(t, self.vocab, who) for t in tokens]

    def __call__(self, tokens: Sequence[int]) -> list[list[Value]]:
        """The logits at each position of `tokens` (at most `block` of them)."""
        toks = self._tokens(tokens, 1, self.block, "tokens")
        caches = self.new_cache()
        return [self._step(t, p, caches) for p, t in enumerate(toks)]

    def loss(self, tokens: Sequence[int]) -> Value:
        """$\\frac{1}{n} \\sum_{p<n} -\\log \\mathrm{softmax}(z_p)_{t_{p+1}}$ with n = len(tokens) - 1
        (at most `block`): microgpt's loss for one document. Each term is computed as
        $\\log \\sum_j e^{z_{pj}} - z_{p,t_{p+1}}$, with the logits shifted by their maximum
        first where $e^z$ could overflow or underflow (see `_shifted`)."""
        toks = self._tokens(tokens, 2, self.block + 1, "tokens")
        n = len(toks) - 1
        caches = self.new_cache()
        terms: list[Value] = []
        made: list[Value] = []
        for p in range(n):
            logits = self._step(toks[p], p, caches)
            shifted = _shifted(logits)
            es = [s.exp() for s in shifted]
            total = vsum(es)
            lse = total.log()
            term = lse - shifted[toks[p + 1]]
            terms.append(term)
            if shifted is not logits:
                made += shifted
            made += es
            made += (total, lse, term)
        s = vsum(terms)
        inv_n = Value(1.0 / n)
        out = s * inv_n
        made += (s, inv_n, out)
        _tag(made, _part(self, "loss", "loss"))
        return out

    def sample(
        self,
        start: int | Sequence[int],
        max_len: int | None = None,
        temperature: float = 1.0,
        seed: int | random.Random | None = None,
        stop: int | None = None,
    ) -> list[int]:
        """Draw tokens one at a time from softmax(logits / temperature), without a graph.

        `start` is the first token (microgpt: BOS) or a list of prompt tokens; generation stops
        at the token `stop` (default: the first token of `start`, so a BOS-delimited model stops
        at its end-of-document), after `max_len` tokens, or at the end of the block. Returns
        the drawn tokens, without the prompt and without `stop`. `seed` (an int or a
        ``random.Random``) makes it reproducible; None uses the global `random` module.
        """
        who = _who(self)
        prompt = [start] if isinstance(start, numbers.Integral) and not isinstance(start, bool) else start
        toks = self._tokens(prompt, 1, self.block, "start")
        room = self.block - len(toks) + 1
        if max_len is None:
            max_len = room
        limit = _check_size(max_len, f"{who} sample max_len")
        if limit > room:
            raise ValueError(
                f"{who}: max_len {limit} does not fit: a prompt of {len(toks)} leaves room for "
                f"{room} tokens in the block of {self.block}"
            )
        temp = _eps(temperature, f"{who} sample temperature")
        end = toks[0] if stop is None else _token(stop, self.vocab, who)
        if isinstance(seed, random.Random):
            rng: Any = seed
        elif seed is None:
            rng = random
        elif isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"{who}: seed must be an int or a random.Random, got {type(seed).__name__}")
        else:
            rng = random.Random(seed)
        choices = range(self.vocab)
        out: list[int] = []
        with no_grad():
            caches = self.new_cache()
            for p, t in enumerate(toks[:-1]):
                self._step(t, p, caches)
            tok = toks[-1]
            for p in range(len(toks) - 1, len(toks) - 1 + limit):
                z = [v.data / temp for v in self._step(tok, p, caches)]
                m = max(z)
                weights = [math.exp(v - m) for v in z]
                tok = rng.choices(choices, weights=weights)[0]
                if tok == end:
                    break
                out.append(tok)
        return out

    # -- architecture --
    def config(self) -> dict[str, Any]:
        return {
            "type": "GPT",
            "vocab": self.vocab,
            "block": self.block,
            "dim": self.dim,
            "heads": self.heads,
            "layers": len(self.layers),
            "mlp_ratio": self._mlp_ratio,
        }

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        a = _config_args(cls, config)
        vocab = _check_size(a.get("vocab"), "GPT vocab")
        block = _check_size(a.get("block"), "GPT block")
        dim = _check_size(a.get("dim"), "GPT dim")
        heads = _check_size(a.get("heads"), "GPT heads")
        layers = _check_size(a.get("layers"), "GPT layers")
        ratio = _check_size(a.get("mlp_ratio", 4), "GPT mlp_ratio")
        if dim % heads:
            raise ValueError(f"GPT: dim {dim} is not divisible by heads {heads}")
        per_block = TransformerBlock.parameter_count({"dim": dim, "heads": heads, "mlp_ratio": ratio})
        return (2 * vocab + block) * dim + layers * per_block

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> GPT:
        """This architecture with weights drawn from seed 0: what `nn.load_model` builds before
        loading the file's values into it (it draws no global randomness)."""
        return cls(**config, seed=0)

    def summary(self) -> str:
        """One line, e.g. ``GPT(vocab 27, block 16, dim 16, 4 heads, 1 layer, mlp 64): 4192 parameters``."""
        n = len(self.layers)
        return (
            f"GPT(vocab {self.vocab}, block {self.block}, dim {self.dim}, {self.heads} heads, "
            f"{n} layer{'s' if n != 1 else ''}, mlp {self._mlp_ratio * self.dim}): "
            f"{self.num_parameters()} parameters"
        )

    def __repr__(self) -> str:
        return self.summary()
