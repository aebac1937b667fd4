"""nn.transformer against PyTorch in float64: `to_torch` gives the same logits and gradients.

The torch modules take a whole sequence with a causal mask; ours go one position at a time with a
key/value cache. Skipped, with the reason shown, where torch is not installed.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

import autograd
import nn
from autograd import Value

torch = pytest.importorskip(
    "torch", reason="PyTorch reference tests need torch (pip install torch==2.13.0)"
)
F = torch.nn.functional

TOL = 1e-10


def assert_close(ours: list[float], theirs: Any, what: str) -> None:
    ref = theirs.detach().reshape(-1).tolist()
    assert len(ours) == len(ref), what
    worst = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(ours, ref))
    assert worst <= TOL, f"{what}: relative difference {worst:.3g}"


def grads_by_name(model: nn.Module, net: Any) -> None:
    """Every parameter's .grad against the torch parameter of the same name (row by row)."""
    ours = dict(model.named_parameters())
    n = 0
    for name, tensor in net.named_parameters():
        assert tensor.grad is not None, name
        g = tensor.grad.detach()
        if g.dim() == 2:
            mine = [ours[f"{name}.{i}.{j}"].grad for i in range(g.shape[0]) for j in range(g.shape[1])]
        else:
            mine = [ours[f"{name}.{i}"].grad for i in range(g.shape[0])]
        assert_close(mine, g, f"gradient of {name}")
        n += g.numel()
    assert n == model.num_parameters()


def sequence(t: int, dim: int, seed: int = 0) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-1.5, 1.5) for _ in range(dim)] for _ in range(t)]


@pytest.mark.parametrize(
    ("config", "tokens"),
    [
        ({"vocab": 27, "block": 16, "dim": 16, "heads": 4, "layers": 1}, [26, 4, 12, 12, 0, 26]),
        ({"vocab": 7, "block": 6, "dim": 8, "heads": 2, "layers": 2, "mlp_ratio": 2}, [6, 1, 2, 3, 1, 6, 0]),
        ({"vocab": 5, "block": 4, "dim": 6, "heads": 3, "layers": 3, "mlp_ratio": 1}, [4, 0, 1]),
    ],
)
def test_gpt_logits_loss_and_every_gradient_match_torch(config: dict[str, int], tokens: list[int]) -> None:
    model = nn.GPT(**config, seed=3, init_std=0.5)  # large weights: attention far from uniform
    net = nn.to_torch(model)
    assert all(p.dtype == torch.float64 for p in net.parameters())
    ids = torch.tensor(tokens)
    logits = model(tokens[:-1])  # the positions the loss predicts from
    ref = net(ids[:-1])
    assert_close([z.data for row in logits for z in row], ref, "logits")
    loss = model.loss(tokens)
    ref_loss = F.cross_entropy(ref, ids[1:])
    assert abs(loss.data - ref_loss.item()) <= TOL
    model.zero_grad()
    loss.backward()
    ref_loss.backward()
    grads_by_name(model, net)


def test_attention_with_a_cache_matches_masked_attention_and_its_input_gradients() -> None:
    attn = nn.CausalSelfAttention(6, 3, bias=True, seed=1, init="he_normal")
    for b in (attn.wq.bias, attn.wv.bias, attn.wo.bias):
        for i, p in enumerate(b):
            p.data = 0.1 * (i - 2)
    net = nn.to_torch(attn)
    xs = sequence(5, 6)
    vs = [[Value(v) for v in row] for row in xs]
    cache = attn.new_cache()
    out = [attn(row, cache) for row in vs]
    x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    ref = net(x)
    assert_close([y.data for row in out for y in row], ref, "attention outputs")
    w = sequence(5, 6, seed=9)
    score = autograd.sum([autograd.dot(wr, row) for wr, row in zip(w, out)])
    score.backward()
    (ref * torch.tensor(w, dtype=torch.float64)).sum().backward()
    assert x.grad is not None
    assert_close([v.grad for row in vs for v in row], x.grad, "gradients of the inputs")
    grads_by_name(attn, net)


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.Linear(5, 3, seed=0),
        lambda: nn.Linear(5, 3, bias=False, seed=0),
        lambda: nn.RMSNorm(5, eps=1e-6, affine=True),
        lambda: nn.RMSNorm(5),
        lambda: nn.LayerNorm(5),
        lambda: nn.LayerNorm(5, eps=1e-3, affine=False),
        lambda: nn.FeedForward(5, 7, activation="tanh", bias=True, seed=2),
        lambda: nn.FeedForward(5, 7, seed=2),
    ],
)
def test_position_wise_layers_match_torch(make: Any) -> None:
    layer = make()
    rng = random.Random(4)
    for p in layer.parameters():  # move gains and biases away from 1 and 0
        p.data += rng.uniform(-0.5, 0.5)
    net = nn.to_torch(layer)
    xs = sequence(3, 5, seed=1)
    vs = [[Value(v) for v in row] for row in xs]
    out = [layer(row) for row in vs]
    x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    ref = net(x)
    assert_close([y.data for row in out for y in row], ref, f"{layer!r} outputs")
    w = sequence(3, len(out[0]), seed=2)
    autograd.sum([autograd.dot(wr, row) for wr, row in zip(w, out)]).backward()
    (ref * torch.tensor(w, dtype=torch.float64)).sum().backward()
    assert x.grad is not None
    assert_close([v.grad for row in vs for v in row], x.grad, f"{layer!r} input gradients")
    if layer.num_parameters():
        grads_by_name(layer, net)


def test_embedding_and_block_match_torch() -> None:
    emb = nn.Embedding(6, 4, seed=0)
    net = nn.to_torch(emb)
    assert_close(list(v.data for v in emb(3)), net(torch.tensor(3)), "embedding row")
    block = nn.TransformerBlock(8, 2, mlp_ratio=2, seed=5, init="he_normal")
    tnet = nn.to_torch(block)
    xs = sequence(4, 8, seed=3)
    cache = block.new_cache()
    out = [block(row, cache) for row in xs]
    ref = tnet(torch.tensor(xs, dtype=torch.float64))
    assert_close([y.data for row in out for y in row], ref, "block outputs")


def test_trained_gpt_still_matches_after_adam_steps() -> None:
    """Train ours with nn.Adam and torch's copy with torch.optim.Adam on the same names: the
    losses stay equal step after step."""
    model = nn.GPT(27, 16, 16, 4, 1, seed=0)
    net = nn.to_torch(model)
    ours = nn.Adam(model, lr=nn.LinearDecay(0.01, 0.0, 1000), betas=(0.85, 0.99), eps=1e-8)
    theirs = torch.optim.Adam(net.parameters(), lr=0.01, betas=(0.85, 0.99), eps=1e-8)
    sched = torch.optim.lr_scheduler.LinearLR(theirs, 1.0, 0.0, total_iters=1000)
    docs = [[26, 4, 12, 12, 0, 26], [26, 14, 11, 8, 21, 8, 0, 26], [26, 0, 21, 0, 26]]
    for k in range(6):
        d = docs[k % 3]
        loss = model.loss(d)
        ours.zero_grad()
        loss.backward()
        ours.step()
        ids = torch.tensor(d)
        ref = F.cross_entropy(net(ids)[:-1], ids[1:])
        theirs.zero_grad()
        ref.backward()
        theirs.step()
        sched.step()
        assert abs(loss.data - ref.item()) <= 1e-9, k
