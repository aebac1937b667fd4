"""A small GPT on the scalar engine: microgpt's model, its loss, and sampling from it.

    >>> from nn import GPT
    >>> model = GPT(vocab=27, block=16, dim=16, heads=4, layers=1, seed=0)   # microgpt's size
    >>> model.num_parameters()
    4192
    >>> loss = model.loss([26, 4, 12, 12, 0, 26])     # mean cross-entropy over 5 next tokens

`GPT` is the model of Karpathy's microgpt.py (February 2026): token and position embeddings,
their sum normalised by RMSNorm, `layers` pre-norm blocks (RMSNorm, causal multi-head attention
with a residual, RMSNorm, ReLU MLP of width ``mlp_ratio * dim`` with a residual), and an untied
output head; no biases, no learned norm gains. It works one position at a time: the keys and
values of earlier positions wait in one `KVCache` per block. The layers are `nn.transformer`'s;
the embedding sum carries the scope ``embed`` and the cross-entropy of `GPT.loss` ``loss``.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from autograd import Value, no_grad
from autograd import sum as vsum

from .base import Module, _part, _tag, _who, check_budget
from .init import RandomSource, make_rng
from .modules import _check_size, _real
from .transformer import (
    Embedding,
    KVCache,
    Linear,
    RMSNorm,
    TransformerBlock,
    _normal,
    _seeded,
    _shifted,
    _sizes,
    _token,
)

__all__ = ["GPT"]


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
    - ``model.sample(start, max_len, temperature, seed)``: tokens drawn one at a time;
    - ``nn.TracedLoss(model)(tokens)``: ``loss(tokens).backward()`` through one traced program per
      length of `tokens` (`nn.gpt_programs`).
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
        check_budget(GPT, vocab=vocab, block=block, dim=dim, heads=heads, layers=layers, mlp_ratio=mlp_ratio)
        draw = _normal(_real(init_std, "GPT init_std", positive=True))
        r = make_rng(seed, rng)
        self.wte = Embedding(vocab, dim, init=draw, rng=r)
        self.wpe = Embedding(block, dim, init=draw, rng=r)
        self.norm = RMSNorm(dim)
        self.layers = [TransformerBlock(dim, heads, mlp_ratio, init=draw, rng=r) for _ in range(layers)]
        self.lm_head = Linear(dim, vocab, bias=False, init=draw, rng=r)
        self._mlp_ratio = int(mlp_ratio)

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
        return self._embedded(self.wte.weight[token], pos, caches)

    def _embedded(self, row: Sequence[Value], pos: int, caches: list[KVCache]) -> list[Value]:
        """`_step` from the token's embedding row (its parameters, or Values standing for them)."""
        x = [t + p for t, p in zip(row, self.wpe.weight[pos])]
        _tag(x, _part(self, "embed", "embed"))
        x = self.norm._forward(x)
        for layer, cache in zip(self.layers, caches):
            x = layer._forward(x, cache)
        return self.lm_head._forward(x)

    def _tokens(self, tokens: object, least: int, most: int, what: str) -> list[int]:
        who = _who(self)
        if isinstance(tokens, (str, bytes, dict, set, frozenset)) or not (
            isinstance(tokens, Iterable) and hasattr(tokens, "__len__")
        ):  # a list, tuple, range or numpy array (a sized, ordered collection)
            raise TypeError(f"{who}: {what} must be a list of int tokens, got {type(tokens).__name__}")
        toks = list(tokens)
        if not least <= len(toks) <= most:
            raise ValueError(
                f"{who}: {what} has {len(toks)} tokens; it needs {least} to {most} "
                f"(block of {self.block} positions)"
            )
        return [_token(t, self.vocab, who) for t in toks]

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
        rows = [self.wte.weight[t] for t in toks[:-1]]
        return self._loss(rows, lambda p, shifted: shifted[toks[p + 1]])

    def _loss(self, rows: Sequence[Sequence[Value]], target: Callable[[int, list[Value]], Value]) -> Value:
        """`loss` from the embedding rows of the input tokens; ``target(p, shifted)`` is the
        (shifted) logit of the token after position p (`nn.gpt_programs` passes a one-hot dot)."""
        n = len(rows)
        caches = self.new_cache()
        terms: list[Value] = []
        made: list[Value] = []
        for p in range(n):
            logits = self._embedded(rows[p], p, caches)
            shifted = _shifted(logits)
            es = [s.exp() for s in shifted]
            total = vsum(es)
            lse = total.log()
            term = lse - target(p, shifted)
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

        A temperature near 0 (1e-6, even 1e-300) is greedy decoding; 0 itself is refused.

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
        temp = _real(temperature, f"{who} sample temperature", positive=True)
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
                z = [v.data for v in self._step(tok, p, caches)]
                if not all(map(math.isfinite, z)):
                    bad = next(v for v in z if not math.isfinite(v))
                    raise ValueError(
                        f"{who}: a logit at position {p} is {bad}, so no token can be drawn "
                        "(the weights have overflowed or become nan)"
                    )
                m = max(z)
                weights = [math.exp((v - m) / temp) for v in z]  # shifted first: no inf / inf
                tok = rng.choices(choices, weights=weights)[0]
                if tok == end:
                    break
                out.append(tok)
        return out

    # -- architecture --
    def config(self) -> dict[str, Any]:
        return {
            "type": self._type(),
            "vocab": self.vocab,
            "block": self.block,
            "dim": self.dim,
            "heads": self.heads,
            "layers": len(self.layers),
            "mlp_ratio": self._mlp_ratio,
        }

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        names = ("vocab", "block", "dim", "heads", "layers", "mlp_ratio")
        vocab, block, dim, heads, layers, ratio = _sizes(cls, config, *names, mlp_ratio=4)
        per_block = TransformerBlock.parameter_count({"dim": dim, "heads": heads, "mlp_ratio": ratio})
        return (2 * vocab + block) * dim + layers * per_block

    from_config = classmethod(_seeded)

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
