"""nn.TracedLoss: a GPT's loss and gradients through one traced program per sequence length,
against ``model.loss(tokens).backward()`` built anew for each document (and central differences)."""

from __future__ import annotations

import random

import pytest

import nn


def small_gpt(seed: int = 0) -> nn.GPT:
    return nn.GPT(vocab=7, block=6, dim=8, heads=2, layers=2, mlp_ratio=2, seed=seed)


def documents(n: int, seed: int) -> list[list[int]]:
    """Random documents BOS ... BOS (BOS = 6) of 0 to 5 letters."""
    rng = random.Random(seed)
    return [[6, *(rng.randrange(6) for _ in range(rng.randrange(6))), 6] for _ in range(n)]


def eager(model: nn.GPT, tokens: list[int]) -> tuple[float, list[float]]:
    model.zero_grad()
    loss = model.loss(tokens)
    loss.backward()
    return loss.data, [p.grad for p in model.parameters()]


def traced(loss: nn.TracedLoss, tokens: list[int]) -> tuple[float, list[float]]:
    loss.model.zero_grad()
    value = loss(tokens)
    return value, [p.grad for p in loss.model.parameters()]


def assert_close(got: tuple[float, list[float]], want: tuple[float, list[float]]) -> None:
    assert got[0] == pytest.approx(want[0], rel=1e-12, abs=1e-12)
    assert len(got[1]) == len(want[1])
    worst = max(abs(a - b) for a, b in zip(got[1], want[1]))
    assert worst <= 1e-12 * max(1.0, max(map(abs, want[1])))


def test_loss_and_every_gradient_equal_the_eager_step_for_many_documents_and_lengths() -> None:
    model = small_gpt(1)
    loss = nn.TracedLoss(model)
    docs = documents(30, 0)
    for d in docs:
        assert_close(traced(loss, d), eager(model, d))
    lengths = {len(d) for d in docs}
    assert len(lengths) == 6  # 2 to 7 tokens
    assert sorted(loss.programs) == sorted(lengths)  # one program per length...
    assert loss.traced == len(lengths) and loss.eager_steps == 0  # ...traced once each
    assert all(len(p.variants) == 1 for p in loss.programs.values())


def test_the_cache_traces_a_new_program_only_for_a_new_length() -> None:
    model = small_gpt(2)
    loss = nn.TracedLoss(model)
    loss([6, 1, 2, 6])
    first = loss.programs[4]
    loss([6, 3, 0, 6])  # the same length, other tokens: the same program, no new trace
    assert loss.programs == {4: first} and loss.traced == 1
    assert_close(traced(loss, [6, 5, 5, 6]), eager(model, [6, 5, 5, 6]))
    loss([6, 1, 2, 3, 4, 6])  # a new length: a new program
    assert sorted(loss.programs) == [4, 6] and loss.traced == 2 and loss.programs[4] is first
    assert "lengths 4, 6" in repr(loss)


def test_trace_after_runs_a_length_eagerly_until_it_has_come_that_many_times() -> None:
    model = small_gpt(6)
    loss = nn.TracedLoss(model, trace_after=3)
    docs = [[6, 1, 2, 6], [6, 3, 4, 6], [6, 0, 6], [6, 5, 5, 6], [6, 2, 1, 6]]
    for k, d in enumerate(docs):
        assert_close(traced(loss, d), eager(model, d))
        if k == 1:
            assert loss.programs == {} and loss.eager_steps == 2
    assert sorted(loss.programs) == [4] and loss.traced == 1  # traced at its third document
    assert loss.eager_steps == 3  # two of length 4, and the one of length 3
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="trace_after must be an int >= 1"):
            nn.TracedLoss(model, trace_after=bad)  # type: ignore[arg-type]


def test_gradients_accumulate_into_grad_and_match_central_differences() -> None:
    model = small_gpt(3)
    loss = nn.TracedLoss(model)
    doc = [6, 2, 2, 4, 6]  # a token twice: its embedding row receives two contributions
    model.zero_grad()
    loss(doc)
    loss(doc)  # a second call adds to .grad, as a second backward() would
    twice = [p.grad for p in model.parameters()]
    _, once = eager(model, doc)
    assert twice == pytest.approx([2 * g for g in once], rel=1e-12, abs=1e-15)
    # central differences, written out here, for a few parameters (the embedding row of token 2
    # included: its gradient is the one TracedLoss adds itself)
    model.zero_grad()
    loss(doc)
    h = 1e-6
    for p in (model.wte.weight[2][3], model.wpe.weight[1][0], model.lm_head.weight[4][5],
              model.layers[1].attn.wq.weight[0][1]):
        x = p.data
        p.data = x + h
        up = model.loss(doc).data
        p.data = x - h
        down = model.loss(doc).data
        p.data = x
        assert p.grad == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-8)


def test_training_with_adam_follows_the_eager_trajectory() -> None:
    a, b = small_gpt(4), small_gpt(4)
    opt_a, opt_b = nn.Adam(a, lr=0.05), nn.Adam(b, lr=0.05)
    loss_b = nn.TracedLoss(b)
    for d in documents(12, 1):
        opt_a.zero_grad()
        la = a.loss(d)
        la.backward()
        opt_a.step()
        opt_b.zero_grad()
        lb = loss_b(d)
        opt_b.step()
        assert lb == pytest.approx(la.data, rel=1e-12)
    assert [p.data for p in b.parameters()] == pytest.approx([p.data for p in a.parameters()], rel=1e-9)


def test_the_microgpt_configuration_on_names() -> None:
    from demos import benchmark

    docs, _ = benchmark.names_documents(6)
    model = nn.GPT(vocab=27, block=16, dim=16, heads=4, layers=1, seed=0)
    loss = nn.TracedLoss(model)
    for d in docs:
        assert_close(traced(loss, d), eager(model, d))
    assert sorted(loss.programs) == sorted({len(d) for d in docs})


def test_logits_that_need_shifting_run_eagerly_and_still_agree() -> None:
    model = small_gpt(5)
    loss = nn.TracedLoss(model)
    doc = [6, 1, 2, 6]
    assert_close(traced(loss, doc), eager(model, doc))
    for row in model.lm_head.weight:  # logits in the thousands: the loss shifts them by their max
        for p in row:
            p.data *= 1e5
    got, want = traced(loss, doc), eager(model, doc)  # a guard fails: traced again, refused
    assert_close(got, want)
    assert loss.eager_steps == 1
    fresh = nn.TracedLoss(model)  # refused at the first trace too
    assert_close(traced(fresh, doc), want)
    assert fresh.eager_steps == 1 and fresh.programs == {}


def test_bad_input_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match=r"TracedLoss: expected an nn\.GPT, got MLP"):
        nn.TracedLoss(nn.MLP(2, [1]))  # type: ignore[arg-type]
    loss = nn.TracedLoss(small_gpt())
    with pytest.raises(ValueError, match="has 8 tokens; it needs 2 to 7"):
        loss([6] * 8)
    with pytest.raises(ValueError, match="token 7 is outside the vocabulary"):
        loss([6, 7, 6])
    assert loss.programs == {}


def test_the_demo_trains_through_programs_by_default_and_eagerly_with_the_flag() -> None:
    from demos import gpt

    docs = gpt.load_documents(gpt.DATA)[:200]
    traced = gpt.train(docs, steps=25, dim=4, heads=2, block=8, trace_min=3)
    eager = gpt.train(docs, steps=25, dim=4, heads=2, block=8, eager=True)
    assert traced.losses == pytest.approx(eager.losses, rel=1e-12)
    assert eager.traced is None and eager.eager_steps == 25 and traced.traced is not None
    lengths = [len(traced.vocab.encode(d)[:9]) for d in traced.docs[:25]]
    common = {n for n in lengths if lengths.count(n) >= 3}
    assert common and sorted(traced.traced.programs) == sorted(common)  # one program per length
    assert traced.eager_steps == sum(1 for n in lengths if n not in common)
    assert traced.traced.eager_steps == 0 and traced.traced.traced == len(common)
    args = gpt.parse_args(["--eager", "--trace-min", "3"])
    assert args.eager and args.trace_min == 3 and not gpt.parse_args([]).eager
    with pytest.raises(SystemExit):
        gpt.parse_args(["--trace-min", "0"])


def test_negzero_finds_a_negative_zero_in_any_list() -> None:
    """The program's check for a leaf .grad of -0.0 (read at C speed) against the definition."""
    import math

    from autograd.programs.names import _negzero

    rng = random.Random(0)
    pool = [0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, math.nan, 5e-324, -5e-324, 0]
    for _ in range(500):
        lists = [[rng.choice(pool) for _ in range(rng.randrange(4))] for _ in range(rng.randrange(4))]
        want = any(x == 0.0 and math.copysign(1.0, x) < 0 for xs in lists for x in xs)
        assert _negzero(*lists) is want, lists
