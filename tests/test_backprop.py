"""backward()'s fast path is chain_rule's own text, specialised: the two stay one."""

from __future__ import annotations

import inspect
import textwrap

import autograd
from autograd import Value, backprop


def _without_branches(kernel: str) -> list[str]:
    """The kernel's lines with the generated per-op branches taken out and the fallback block
    put back in place: what is left must be chain_rule's own loop."""
    lines = kernel.splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.startswith("        if op == "))
    last = next(i for i, ln in enumerate(lines) if ln.startswith("        else:  # every other op"))
    block = [ln[4:] for ln in lines[last + 1 :]]
    return [*lines[2:first], "        # -- the chain rule at one node --", *block]


def test_the_kernel_is_chain_rule_specialised() -> None:
    plain = textwrap.dedent(inspect.getsource(backprop.chain_rule)).splitlines()
    doc_end = next(i for i, ln in enumerate(plain) if i > 1 and ln.strip().endswith('"""'))
    loop = [ln for ln in plain[doc_end + 1 :] if "observe" not in ln]
    assert len(loop) > 8
    assert _without_branches(backprop.KERNEL_SOURCE) == loop


def test_editing_chain_rule_changes_the_kernel() -> None:
    plain = textwrap.dedent(inspect.getsource(backprop.chain_rule))
    edited = plain.replace("p.grad = m.plus(before, c)", "p.grad = m.plus(before, c)  # EDITED")
    assert "# EDITED" in backprop.kernel_source(edited)
    # every inline op's branch is the op's rule compiled; the rest fall through to the block
    for name in ("dot", "+", "*", "relu", "tanh"):
        assert f"op == {name!r}:" in backprop.KERNEL_SOURCE


def test_kernel_and_plain_loop_give_the_same_bits() -> None:
    xs = [Value(0.1 * i - 0.4) for i in range(8)]
    y = autograd.sum([(x * x).tanh() + x.exp() / (1.0 + x.sigmoid()) - abs(x).relu() for x in xs])
    y = autograd.dot(xs, [y] * len(xs)).tanh() + (y ** 3).sin().leaky_relu(0.2)
    order = autograd.toposort(y)
    for v in order:
        v.grad = 0.0
    y.grad = 1.0
    backprop.chain_rule(reversed(order))
    plain = [v.grad for v in order]
    for v in order:
        v.grad = 0.0
    y.backward()
    assert [v.grad for v in order] == plain
