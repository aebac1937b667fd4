"""A GPT's training loss through traced programs: one `autograd.trace` program per sequence length.

    >>> import nn
    >>> model = nn.GPT(vocab=27, block=16, dim=16, heads=4, layers=1, seed=0)
    >>> loss = nn.TracedLoss(model)
    >>> value = loss([26, 4, 12, 12, 0, 26])   # as model.loss(tokens).backward(), into .grad
    >>> sorted(loss.programs)                  # one program per number of tokens
    [6]

``model.loss(tokens)`` builds a new graph for every document. The graph's *structure* depends on
the tokens only through their number: which row of the embedding table enters, and which logit
is the target, are data. `TracedLoss` makes both data: the function it traces takes the input
tokens' embedding rows (numbers copied from ``model.wte``) and the targets as one-hot vectors,
and computes the target's logit as ``dot(one_hot, logits)``, which is exactly that logit (every
other term is 0 times a finite number). So one traced program serves every document of the same
length; after running it, the gradient with respect to each embedding row is added into the
``.grad`` of that token's row of ``model.wte`` (the program adds everything else into the
parameters' ``.grad`` itself, as ``backward()`` does).

The guards of the program are the comparisons that decide whether the logits must be shifted by
their maximum before ``exp`` (every logit below ``700 - ln n`` and one above -700: see
``nn.transformer._shifted``); a document whose logits fail them is traced again, and since a
traced function cannot read the maximum it would shift by, that document's step runs eagerly
(``model.loss(tokens).backward()``; counted in ``eager_steps``). Trained weights stay far from
that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from autograd import Program, Value, dot, trace
from autograd.programs import ProgramError

from .base import _part, _tag
from .gpt import GPT

__all__ = ["TracedLoss"]


class TracedLoss:
    """``TracedLoss(model)(tokens)``: the value of ``model.loss(tokens)``, with its gradient
    added into every parameter's ``.grad``, as ``model.loss(tokens).backward()`` would (equal to
    rounding: the tests check 1e-12), through one traced program per length of `tokens`.

    ``programs`` maps a number of tokens to its traced `autograd.Program` (``program.variants``
    holds its ways through the guards); a length is traced when its `trace_after`-th document
    comes (default 1: the first), and the documents of that length before it run eagerly: for
    a short run, tracing a length that comes only a few times costs more than it saves (a trace
    of microgpt's model takes 0.15 to 0.6 s, and saves about 8 ms a step). ``traced`` counts the
    traces made, ``eager_steps`` the calls that ran eagerly (those, and the ones of the module
    docstring). The program reads the parameters' current ``.data`` on every call, so an
    optimizer's updates between calls are seen.
    """

    def __init__(self, model: GPT, trace_after: int = 1) -> None:
        if not isinstance(model, GPT):
            raise TypeError(f"TracedLoss: expected an nn.GPT, got {type(model).__name__}")
        if isinstance(trace_after, bool) or not isinstance(trace_after, int) or trace_after < 1:
            raise ValueError(f"TracedLoss: trace_after must be an int >= 1, got {trace_after!r}")
        self.model = model
        self.trace_after = trace_after
        self.programs: dict[int, Program] = {}
        self.eager_steps = 0
        self._seen: dict[int, int] = {}  # documents of each length not yet traced

    @property
    def traced(self) -> int:
        """How many traces were made (one per length, plus one per guard that failed)."""
        return sum(len(p.variants) for p in self.programs.values())

    def _function(self, n: int) -> Callable[[list[list[Value]], list[list[Value]]], Value]:
        """The loss of a document of n + 1 tokens, from the embedding rows of its first n tokens
        and the one-hot vectors of its last n."""
        model = self.model
        scope = _part(model, "loss", "loss")

        def loss(rows: list[list[Value]], targets: list[list[Value]]) -> Value:
            def target(p: int, shifted: list[Value]) -> Value:
                picked = dot(targets[p], shifted)
                _tag([picked], scope)
                return picked

            return model._loss(rows, target)

        loss.__qualname__ = f"TracedLoss.loss_of_{n + 1}_tokens"
        return loss

    def __call__(self, tokens: Sequence[int]) -> float:
        model = self.model
        toks = model._tokens(tokens, 2, model.block + 1, "tokens")
        table = model.wte.weight
        rows = [[v.data for v in table[t]] for t in toks[:-1]]
        zeros = [0.0] * model.vocab
        targets = []
        for t in toks[1:]:
            hot = zeros.copy()
            hot[t] = 1.0
            targets.append(hot)
        length = len(toks)
        program = self.programs.get(length)
        if program is None:
            seen = self._seen[length] = self._seen.get(length, 0) + 1
            if seen < self.trace_after:
                return self._eager(toks)
        try:
            if program is None:
                program = trace(self._function(length - 1), rows, targets)
                self.programs[length] = program
            value, (grad_rows, _) = program.value_and_grad(rows, targets)
        except ProgramError:  # logits that need shifting by a maximum the program cannot read
            return self._eager(toks)
        for t, g in zip(reversed(toks[:-1]), reversed(grad_rows)):  # backward()'s order
            for p, gj in zip(table[t], g):
                p.grad += gj
        return float(value)

    def _eager(self, tokens: list[int]) -> float:
        self.eager_steps += 1
        out = self.model.loss(tokens)
        out.backward()
        return out.data

    def __repr__(self) -> str:
        lengths = ", ".join(map(str, sorted(self.programs))) or "none yet"
        return f"<nn.TracedLoss of {self.model.summary()}; programs for lengths {lengths}>"
