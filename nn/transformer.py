"""Layers for attention models on the scalar engine (`nn.gpt` puts them together).

Modules (each callable with plain numbers or Values, refusing wrong sizes by name):

    Linear(nin, nout, bias=True)        $y_j = w_j \\cdot x + b_j$: ONE ``dot`` node per output
    Embedding(num, dim)                 a table of `num` rows of `dim` parameters; ``emb(i)`` is row i
    RMSNorm(dim, eps=1e-5)              $y_i = x_i / \\sqrt{\\mathrm{mean}(x^2) + \\epsilon}$
    LayerNorm(dim, eps=1e-5)            $y_i = w_i (x_i - \\mu) / \\sqrt{\\sigma^2 + \\epsilon} + b_i$
    CausalSelfAttention(dim, heads)     one position at a time, with a `KVCache`
    FeedForward(dim, hidden)            Linear -> ReLU -> Linear (no biases, as in microgpt)
    TransformerBlock(dim, heads)        x += attn(rmsnorm(x)); x += mlp(rmsnorm(x))

Attention works one position at a time: the keys and values of earlier positions wait in a
`KVCache`, as microgpt keeps them in lists.

Parameter names follow PyTorch's: ``layers.0.attn.wq.weight.3.5`` is row 3, column 5 of that
Linear's weight (`nn.to_torch` relies on it). Every node a module creates while called carries
the module's `autograd.Scope` (path ``layers.0.attn.wq``, kind "linear": the lowercase class
name); an attention head's nodes carry ``layers.0.attn.heads.<h>`` (kind "head") and the
residual adds the block's scope.

Every module class has ``parameter_count(config)``: the number of parameters a ``config()``
implies, computed without building anything (constructors refuse more than
`nn.base.MAX_PARAMETERS` with it); ``cls(**config_without_type)`` rebuilds it, and
``from_config`` does so from seed 0 (what `nn.load_model` calls).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from autograd import Value, dot
from autograd import sum as vsum

from .base import Module, _part, _tag, _who, check_budget
from .init import Initializer, RandomSource, get_initializer, make_rng
from .modules import ACTIVATIONS, _as_inputs, _check_activation, _check_size, _real, activation_fn

__all__ = [
    "Linear", "Embedding", "RMSNorm", "LayerNorm", "KVCache", "CausalSelfAttention", "FeedForward",
    "TransformerBlock",
]


# -- helpers -----------------------------------------------------------------------------------


def _bool(x: object, what: str) -> bool:
    if not isinstance(x, bool):
        raise TypeError(f"{what} must be True or False, got {type(x).__name__}: {x!r:.40}")
    return x


def _config_args(cls: type, config: Any) -> dict[str, Any]:
    """The constructor arguments in `config` (as made by ``config()``), checked to be for `cls`."""
    if not isinstance(config, dict):
        raise TypeError(f"{cls.__name__}.parameter_count expects a config dict, got {type(config).__name__}")
    kind = config.get("type", cls.__name__)
    if kind != cls.__name__:
        raise ValueError(f"{cls.__name__}.parameter_count got a config of type {kind!r}")
    return {k: v for k, v in config.items() if k != "type"}


def _sizes(cls: type, config: Any, *names: str, **defaults: int) -> list[int]:
    """The sizes `names` of a ``config()`` for `cls`, each a positive int (absent: `defaults`)."""
    a = _config_args(cls, config)
    return [_check_size(a.get(n, defaults.get(n)), f"{cls.__name__} {n}") for n in names]


def _flag(cls: type, config: Any, name: str, default: bool) -> bool:
    return _bool(_config_args(cls, config).get(name, default), f"{cls.__name__} {name}")


def _seeded(cls: Any, config: Mapping[str, Any]) -> Any:
    """The architecture `config` with weights drawn from seed 0: what `nn.load_model` builds
    before loading a file's values into it (it draws no global randomness)."""
    return cls(**config, seed=0)


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


_EXP_SAFE = 700.0  # e^z for z below this is a finite float; e^-700 is still a normal one


def _shifted(zs: list[Value]) -> list[Value]:
    """`zs` ready for a softmax or log-sum-exp: as they are where the sum of the ``e^z`` is a
    finite, normal float (the largest z above -700, and n e^z below e^700 for n entries), else
    minus their maximum (a constant, so the softmax and the gradients are unchanged). Skipping
    the subtraction where it is not needed saves one node per entry."""
    hi = _EXP_SAFE - math.log(len(zs))
    # the test compares Values (not their .data), so under autograd.trace each comparison is a
    # guard and a traced program takes this branch for as long as every one still holds
    if all(z < hi for z in zs) and any(z > -_EXP_SAFE for z in zs):
        return zs
    m = max([z.data for z in zs])  # a traced function cannot read this: see nn.gpt_programs
    mv = Value(m)
    return [z - mv for z in zs]


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
        check_budget(Linear, nin=nin, nout=nout, bias=bias)
        nin, nout, self._has_bias = int(nin), int(nout), bias
        draw = get_initializer(init, "linear")
        r = make_rng(seed, rng)
        # rows are tuples: the engine's dot takes a tuple as it is (no copy per call)
        self.weight = [tuple([Value(draw(nin, nout, r)) for _ in range(nin)]) for _ in range(nout)]
        if bias:
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
        return {"type": self._type(), "nin": self.nin, "nout": self.nout, "bias": self._has_bias}

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        nin, nout = _sizes(cls, config, "nin", "nout")
        return nin * nout + (nout if _flag(cls, config, "bias", True) else 0)

    from_config = classmethod(_seeded)

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
        check_budget(Embedding, num=num, dim=dim)
        num, dim = int(num), int(dim)
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
        return {"type": self._type(), "num": self.num, "dim": self.dim}

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        num, dim = _sizes(cls, config, "num", "dim")
        return num * dim

    from_config = classmethod(_seeded)

    def __repr__(self) -> str:
        return f"Embedding({self.num}, {self.dim})"


class _Norm(Module):
    """What RMSNorm and LayerNorm share: one size, eps, the affine flag, and their description."""

    _vectors: ClassVar[int]  # how many parameter vectors of length dim affine=True adds
    _default_affine: ClassVar[bool]

    def __init__(self, dim: int, eps: float, affine: bool) -> None:
        check_budget(type(self), dim=dim, affine=affine)
        self._dim = int(dim)
        self._eps = _real(eps, f"{type(self).__name__} eps", positive=True)
        self._affine = affine
        if affine:
            self.weight = [Value(1.0) for _ in range(self._dim)]

    @property
    def dim(self) -> int:
        return self._dim

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        return self._forward(_as_inputs(x, self._dim, f"{_who(self)} (dim {self._dim})"))

    def _forward(self, x: Sequence[Value]) -> list[Value]:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        return {"type": self._type(), "dim": self._dim, "eps": self._eps, "affine": self._affine}

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        (dim,) = _sizes(cls, config, "dim")
        return cls._vectors * dim if _flag(cls, config, "affine", cls._default_affine) else 0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> _Norm:
        """This architecture (what `nn.load_model` builds before loading the file's values)."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._dim}, eps={self._eps}, affine={self._affine})"


class RMSNorm(_Norm):
    """$y_i = x_i \\cdot (\\frac{1}{n}\\sum_k x_k^2 + \\epsilon)^{-1/2}$ (times a gain ``weight``
    $g_i$, initially 1, with ``affine=True``). microgpt's norm: no gain. Nodes: one ``dot`` for
    $\\sum x^2$, three for the scale, one ``*`` per output (two with the gain)."""

    _vectors, _default_affine = 1, False  # a gain

    def __init__(self, dim: int, eps: float = 1e-5, affine: bool = False) -> None:
        super().__init__(dim, eps, affine)

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


class LayerNorm(_Norm):
    """$y_i = g_i (x_i - \\mu) (\\sigma^2 + \\epsilon)^{-1/2} + b_i$, with $\\mu$ the mean and
    $\\sigma^2$ the (biased) variance of x; gain ``weight`` starts at 1, ``bias`` at 0 (PyTorch's
    LayerNorm). ``affine=False``: no gain, no bias."""

    _vectors, _default_affine = 2, True  # a gain and a bias

    def __init__(self, dim: int, eps: float = 1e-5, affine: bool = True) -> None:
        super().__init__(dim, eps, affine)
        if affine:
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
        check_budget(CausalSelfAttention, dim=dim, heads=heads, bias=bias)
        self._heads = int(heads)
        self._head_dim = int(dim) // self._heads
        r = make_rng(seed, rng)
        self.wq, self.wk, self.wv, self.wo = (Linear(dim, dim, bias, init=init, rng=r) for _ in range(4))

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

    def _cache(self, cache: object, who: str) -> KVCache:
        """`cache` checked to fit this module's heads (a new one for None)."""
        if cache is None:
            return self.new_cache()
        if not isinstance(cache, KVCache):
            raise TypeError(f"{who}: cache must be a KVCache, got {type(cache).__name__}")
        if cache.heads != self._heads or cache.head_dim != self._head_dim:
            raise ValueError(
                f"{who}: the cache holds {cache.heads} heads of {cache.head_dim}, "
                f"this module has {self._heads} of {self._head_dim}"
            )
        return cache

    def __call__(self, x: Sequence[Value | float], cache: KVCache | None = None) -> list[Value]:
        """The output at the next position of `cache` (a fresh cache: the first position)."""
        who = _who(self)
        return self._forward(_as_inputs(x, self.dim, f"{who} (dim {self.dim})"), self._cache(cache, who))

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
        return {"type": self._type(), "dim": self.dim, "heads": self._heads, "bias": self.wq._has_bias}

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        dim, heads = _sizes(cls, config, "dim", "heads")
        if dim % heads:
            raise ValueError(
                f"CausalSelfAttention: dim {dim} is not divisible by heads {heads} "
                "(each head takes dim / heads channels)"
            )
        return 4 * (dim * dim + (dim if _flag(cls, config, "bias", False) else 0))

    from_config = classmethod(_seeded)

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
        check_budget(FeedForward, dim=dim, hidden=hidden, bias=bias)
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
            "type": self._type(), "dim": self.fc1.nin, "hidden": self.fc1.nout,
            "activation": self._activation, "bias": self.fc1._has_bias,
        }

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        dim, hidden = _sizes(cls, config, "dim", "hidden")
        return 2 * dim * hidden + (dim + hidden if _flag(cls, config, "bias", False) else 0)

    from_config = classmethod(_seeded)

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
        check_budget(TransformerBlock, dim=dim, heads=heads, mlp_ratio=mlp_ratio)
        r = make_rng(seed, rng)
        self.norm1 = RMSNorm(dim)
        self.attn = CausalSelfAttention(dim, heads, init=init, rng=r)
        self.norm2 = RMSNorm(dim)
        self.mlp = FeedForward(dim, mlp_ratio * dim, init=init, rng=r)
        self._mlp_ratio = int(mlp_ratio)

    def new_cache(self) -> KVCache:
        return self.attn.new_cache()

    def __call__(self, x: Sequence[Value | float], cache: KVCache | None = None) -> list[Value]:
        who = _who(self)
        xs = _as_inputs(x, self.attn.dim, f"{who} (dim {self.attn.dim})")
        return self._forward(xs, self.attn._cache(cache, who))

    def _forward(self, x: Sequence[Value], cache: KVCache) -> list[Value]:
        a = self.attn._forward(self.norm1._forward(x), cache)
        x1 = [p + r for p, r in zip(a, x)]
        m = self.mlp._forward(self.norm2._forward(x1))
        x2 = [p + r for p, r in zip(m, x1)]
        _tag([*x1, *x2], self._scope)
        return x2

    def config(self) -> dict[str, Any]:
        return {
            "type": self._type(), "dim": self.attn.dim, "heads": self.attn.heads,
            "mlp_ratio": self._mlp_ratio,
        }

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        dim, heads, ratio = _sizes(cls, config, "dim", "heads", "mlp_ratio", mlp_ratio=4)
        attn = CausalSelfAttention.parameter_count({"dim": dim, "heads": heads})
        return attn + FeedForward.parameter_count({"dim": dim, "hidden": ratio * dim})

    from_config = classmethod(_seeded)

    def __repr__(self) -> str:
        return f"TransformerBlock(dim={self.attn.dim}, heads={self.attn.heads}, mlp_ratio={self._mlp_ratio})"
