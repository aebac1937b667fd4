"""nn.transformer: Linear, Embedding, the norms, causal attention with a KV cache, and the GPT.

Values are checked against the same formulas written out on floats, gradients against central
differences; PyTorch comparisons live in tests/reference/test_gpt_torch.py.
"""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

import pytest

import autograd
import nn
from autograd import Value
from nn.transformer import _config_args

CLASSES = [nn.Linear, nn.Embedding, nn.RMSNorm, nn.LayerNorm, nn.CausalSelfAttention, nn.FeedForward,
           nn.TransformerBlock, nn.GPT]


def small_gpt(seed: int = 0, **kw: int) -> nn.GPT:
    args = {"vocab": 7, "block": 6, "dim": 8, "heads": 2, "layers": 2, "mlp_ratio": 2, **kw}
    return nn.GPT(**args, seed=seed)


def scope_of(v: Value) -> str | None:
    s = v._scope
    return None if s is None else str(s)


# -- sizes, names, configs ------------------------------------------------------------------------


def test_microgpt_configuration_has_4192_parameters_with_torch_style_names() -> None:
    model = nn.GPT(27, 16, 16, 4, 1, seed=0)
    names = [n for n, _ in model.named_parameters()]
    assert len(names) == model.num_parameters() == 4192
    assert names[0] == "wte.weight.0.0"
    assert "wpe.weight.15.15" in names
    assert "layers.0.attn.wq.weight.3.5" in names
    assert "layers.0.mlp.fc1.weight.63.15" in names and "layers.0.mlp.fc2.weight.15.63" in names
    assert names[-1] == "lm_head.weight.26.15"
    assert all(p.label == n for n, p in model.named_parameters())
    assert model.summary() == "GPT(vocab 27, block 16, dim 16, 4 heads, 1 layer, mlp 64): 4192 parameters"


@pytest.mark.parametrize(
    "module",
    [
        nn.Linear(3, 5, seed=0),
        nn.Linear(4, 2, bias=False, seed=0),
        nn.Embedding(9, 3, seed=0),
        nn.RMSNorm(5),
        nn.RMSNorm(5, eps=1e-6, affine=True),
        nn.LayerNorm(4),
        nn.LayerNorm(4, affine=False),
        nn.CausalSelfAttention(6, 3, seed=0),
        nn.CausalSelfAttention(4, 2, bias=True, seed=0),
        nn.FeedForward(4, 8, seed=0),
        nn.FeedForward(4, 6, activation="tanh", bias=True, seed=0),
        nn.TransformerBlock(8, 2, mlp_ratio=3, seed=0),
        nn.GPT(5, 4, 6, 3, 2, mlp_ratio=2, seed=0),
    ],
    ids=repr,
)
def test_config_rebuilds_the_module_and_parameter_count_agrees(module: nn.Module) -> None:
    cfg = module.config()
    assert cfg is not None and cfg["type"] == type(module).__name__
    cls = type(module)
    rebuilt = cls(**{k: v for k, v in cfg.items() if k != "type"})
    assert rebuilt.config() == cfg
    assert [n for n, _ in rebuilt.named_parameters()] == [n for n, _ in module.named_parameters()]
    assert cls.parameter_count(cfg) == module.num_parameters()  # type: ignore[attr-defined]
    built = cls.from_config({k: v for k, v in cfg.items() if k != "type"})  # type: ignore[attr-defined]
    assert type(built) is cls and built.config() == cfg


def test_parameter_count_builds_nothing_and_checks_the_config() -> None:
    huge = {"type": "GPT", "vocab": 10**6, "block": 10**5, "dim": 4096, "heads": 32, "layers": 96,
            "mlp_ratio": 4}
    # (2 * vocab + block) * dim + layers * (4 dim^2 + 2 * dim * 4 dim): returned at once, no Values
    assert nn.GPT.parameter_count(huge) == (2 * 10**6 + 10**5) * 4096 + 96 * 12 * 4096**2
    with pytest.raises(ValueError, match="GPT dim must be a positive int, got -1"):
        nn.GPT.parameter_count({**huge, "dim": -1})
    with pytest.raises(TypeError, match="GPT layers must be a positive int, got str"):
        nn.GPT.parameter_count({**huge, "layers": "96"})
    with pytest.raises(ValueError, match="dim 10 is not divisible by heads 4"):
        nn.CausalSelfAttention.parameter_count({"dim": 10, "heads": 4})
    with pytest.raises(ValueError, match="got a config of type 'MLP'"):
        nn.Linear.parameter_count({"type": "MLP", "nin": 1, "nout": 1})
    with pytest.raises(TypeError, match="expects a config dict"):
        _config_args(nn.Linear, [1, 2])
    for cls in CLASSES:
        assert callable(cls.parameter_count)  # type: ignore[attr-defined]


def test_seeded_initialisation_is_reproducible() -> None:
    a, b, c = small_gpt(3), small_gpt(3), small_gpt(4)
    assert a.state_dict() == b.state_dict()
    assert a.state_dict() != c.state_dict()
    rng = random.Random(5)
    d = nn.GPT(7, 6, 8, 2, 2, mlp_ratio=2, rng=rng)
    assert d.state_dict() == small_gpt(5).state_dict()
    # microgpt's init: N(0, 0.08^2)
    ws = [p.data for p in nn.GPT(27, 16, 16, 4, 1, seed=0).parameters()]
    sd = math.sqrt(sum(w * w for w in ws) / len(ws))
    assert 0.07 < sd < 0.09


# -- the layers ---------------------------------------------------------------------------------


def test_linear_is_one_dot_node_per_output() -> None:
    lin = nn.Linear(3, 2, seed=0)
    lin.bias[1].data = 0.25
    x = [0.5, -1.0, 2.0]
    ys = lin(x)
    for j, y in enumerate(ys):
        want = sum(w.data * xi for w, xi in zip(lin.weight[j], x)) + lin.bias[j].data
        assert y.data == pytest.approx(want, rel=1e-15)
        assert y._op == "+" and y._prev[0]._op == "dot"
    nobias = nn.Linear(3, 2, bias=False, seed=0)
    assert [y._op for y in nobias([1, 2, 3])] == ["dot", "dot"]
    assert not hasattr(nobias, "bias") and nobias.num_parameters() == 6


def test_embedding_returns_its_row_of_parameters() -> None:
    emb = nn.Embedding(5, 3, seed=0)
    assert emb(2) is emb.weight[2]
    names = [n for n, _ in emb.named_parameters()]
    assert names[:4] == ["weight.0.0", "weight.0.1", "weight.0.2", "weight.1.0"]
    with pytest.raises(ValueError, match=r"Embedding: token 5 is outside the vocabulary \[0, 5\)"):
        emb(5)
    with pytest.raises(TypeError, match="a token must be an int"):
        emb(1.0)  # type: ignore[arg-type]


def test_rmsnorm_and_layernorm_values() -> None:
    x = [0.3, -1.2, 2.0, 0.7]
    ms = sum(v * v for v in x) / 4
    want = [v / math.sqrt(ms + 1e-5) for v in x]
    assert [y.data for y in nn.RMSNorm(4)(x)] == pytest.approx(want, rel=1e-14)
    rms = nn.RMSNorm(4, affine=True)
    rms.weight[2].data = 3.0
    assert rms(x)[2].data == pytest.approx(3.0 * want[2], rel=1e-14)
    mu = sum(x) / 4
    var = sum((v - mu) ** 2 for v in x) / 4
    ln = nn.LayerNorm(4)
    ln.weight[0].data, ln.bias[0].data = 2.0, 0.5
    got = [y.data for y in ln(x)]
    want_ln = [(v - mu) / math.sqrt(var + 1e-5) for v in x]
    want_ln[0] = 2.0 * want_ln[0] + 0.5
    assert got == pytest.approx(want_ln, rel=1e-14)


@pytest.mark.parametrize("make", [lambda: nn.RMSNorm(4, affine=True), lambda: nn.LayerNorm(4)])
def test_norm_gradients_match_central_differences(make: object) -> None:
    norm = make()  # type: ignore[operator]
    mix = [0.7, -0.3, 1.1, 0.4]
    assert autograd.gradcheck(lambda *xs: autograd.dot(mix, norm(list(xs))), [0.3, -1.2, 2.0, 0.7])


def attention_by_hand(attn: nn.CausalSelfAttention, xs: list[list[float]]) -> list[list[float]]:
    """Causal attention over a whole sequence, on floats."""

    def lin(m: nn.Linear, x: list[float]) -> list[float]:
        return [sum(w.data * v for w, v in zip(row, x)) for row in m.weight]

    q = [lin(attn.wq, x) for x in xs]
    k = [lin(attn.wk, x) for x in xs]
    v = [lin(attn.wv, x) for x in xs]
    hd = attn.head_dim
    outs = []
    for t in range(len(xs)):
        cat: list[float] = []
        for h in range(attn.heads):
            sl = slice(h * hd, (h + 1) * hd)
            logits = [sum(a * b for a, b in zip(q[t][sl], k[s][sl])) / math.sqrt(hd) for s in range(t + 1)]
            m = max(logits)
            e = [math.exp(z - m) for z in logits]
            w = [u / sum(e) for u in e]
            cat += [sum(w[s] * v[s][sl][j] for s in range(t + 1)) for j in range(hd)]
        outs.append(lin(attn.wo, cat))
    return outs


def test_attention_with_a_cache_is_causal_attention_over_the_sequence() -> None:
    attn = nn.CausalSelfAttention(6, 3, seed=1)
    rng = random.Random(0)
    xs = [[rng.uniform(-1, 1) for _ in range(6)] for _ in range(4)]
    cache = attn.new_cache()
    got = [[y.data for y in attn(x, cache)] for x in xs]
    assert len(cache) == 4 and repr(cache) == "KVCache(4 positions, 3 heads of 2)"
    want = attention_by_hand(attn, xs)
    for g, w in zip(got, want):
        assert g == pytest.approx(w, rel=1e-12, abs=1e-15)
    # the first position alone, with no cache, is the first output
    assert [y.data for y in attn(xs[0])] == pytest.approx(want[0], rel=1e-12, abs=1e-15)


def test_attention_gradients_match_central_differences() -> None:
    attn = nn.CausalSelfAttention(4, 2, seed=2)

    def f(*vals: Value) -> Value:
        cache = attn.new_cache()
        attn(list(vals[:4]), cache)
        out = attn(list(vals[4:]), cache)
        return autograd.dot([0.3, -0.5, 0.9, 0.2], out)

    assert autograd.gradcheck(f, [0.1, -0.4, 0.8, 0.3, -0.6, 0.5, 0.2, -0.1])


def test_wrong_sizes_are_refused_with_the_module_and_the_sizes() -> None:
    model = small_gpt()
    with pytest.raises(ValueError, match=r"Linear 'layers\.0\.attn\.wq' \(8 -> 8\) expects 8 inputs, got 3"):
        model.layers[0].attn.wq([1, 2, 3])
    with pytest.raises(ValueError, match=r"RMSNorm \(dim 4\) expects 4 inputs, got 5"):
        nn.RMSNorm(4)([1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="dim 6 is not divisible by heads 4"):
        nn.CausalSelfAttention(6, 4)
    with pytest.raises(TypeError, match="cache must be a KVCache"):
        nn.CausalSelfAttention(4, 2)([1, 2, 3, 4], cache=[])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="the cache holds 2 heads of 2, this module has 1 of 4"):
        nn.CausalSelfAttention(4, 1)([1, 2, 3, 4], nn.CausalSelfAttention(4, 2).new_cache())
    with pytest.raises(ValueError, match=r"GPT: tokens has 8 tokens; it needs 2 to 7 \(block of 6"):
        model.loss([0] * 8)
    with pytest.raises(ValueError, match="tokens has 1 tokens; it needs 2"):
        model.loss([0])
    with pytest.raises(ValueError, match=r"token 7 is outside the vocabulary \[0, 7\)"):
        model.loss([0, 7])
    with pytest.raises(TypeError, match="GPT: tokens must be a list of int tokens, got str"):
        model.loss("abc")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="position 6 is past the block of 6 positions"):
        caches = model.new_cache()
        for _ in range(7):
            model.step(0, caches)
    with pytest.raises(ValueError, match="GPT vocab must be a positive int, got 0"):
        nn.GPT(0, 4, 4, 1, 1)


# -- the GPT ------------------------------------------------------------------------------------


def test_untrained_loss_is_about_log_vocab_and_equals_cross_entropy_of_the_logits() -> None:
    model = nn.GPT(27, 16, 16, 4, 1, seed=0)
    tokens = [26, 4, 12, 12, 0, 26]  # BOS e m m a BOS
    loss = model.loss(tokens)
    assert abs(loss.data - math.log(27)) < 0.05
    logits = model(tokens[:-1])
    assert len(logits) == 5 and all(len(z) == 27 for z in logits)
    ref = nn.cross_entropy(logits, tokens[1:])
    assert loss.data == pytest.approx(ref.data, rel=1e-13)


def test_loss_gradients_match_central_differences() -> None:
    model = small_gpt(1)
    tokens = [6, 1, 2, 3, 1, 6]
    loss = model.loss(tokens)
    model.zero_grad()
    loss.backward()
    named = dict(model.named_parameters())
    picks = ["wte.weight.1.3", "wpe.weight.2.0", "layers.0.attn.wq.weight.4.1", "layers.0.attn.wk.weight.0.7",
             "layers.1.attn.wv.weight.5.5", "layers.1.attn.wo.weight.2.6", "layers.0.mlp.fc1.weight.9.2",
             "layers.1.mlp.fc2.weight.3.12", "lm_head.weight.6.4"]
    h = 1e-6
    for name in picks:
        p = named[name]
        keep = p.data
        p.data = keep + h
        up = model.loss(tokens).data
        p.data = keep - h
        down = model.loss(tokens).data
        p.data = keep
        assert p.grad == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-9), name


def test_later_tokens_do_not_change_earlier_logits() -> None:
    model = small_gpt(2)
    a = model([1, 2, 3, 4])
    b = model([1, 2, 5, 0])
    assert [z.data for z in a[1]] == [z.data for z in b[1]]
    assert [z.data for z in a[2]] != [z.data for z in b[2]]


def test_nodes_carry_the_scope_of_the_module_that_made_them() -> None:
    model = small_gpt()
    loss = model.loss([6, 1, 2, 6])
    scopes = {scope_of(v) for v in autograd.toposort(loss)}
    for want in ("embed", "norm", "layers.0.norm1", "layers.0.attn.wq", "layers.0.attn.heads.0",
                 "layers.0.attn.heads.1", "layers.0.attn.wo", "layers.0", "layers.1.mlp",
                 "layers.1.mlp.fc2", "lm_head", "loss"):
        assert want in scopes, want
    assert scope_of(loss) == "loss"
    # scopes are autograd.Scope objects with a kind: a head sits inside its attention module
    head = next(v for v in autograd.toposort(loss) if scope_of(v) == "layers.1.attn.heads.0")
    assert head._scope is not None and head._scope.kind == "head"
    attn = head._scope.enclosing("causalselfattention")
    assert attn is not None and str(attn) == "layers.1.attn"
    assert {v._scope.kind for v in autograd.toposort(loss) if v._scope is not None} >= {
        "embed", "rmsnorm", "linear", "head", "feedforward", "transformerblock", "loss"}
    with autograd.name_scope("outer"):
        inner = small_gpt().loss([6, 1, 6])
    assert scope_of(inner) == "outer.loss"
    assert "outer.layers.0.attn.heads.1" in {scope_of(v) for v in autograd.toposort(inner)}


def test_sampling_is_reproducible_and_stops_at_the_stop_token() -> None:
    model = small_gpt(3)
    a = model.sample(6, temperature=0.8, seed=11)
    assert a == model.sample(6, temperature=0.8, seed=11)
    assert len(a) <= 6 and 6 not in a and all(0 <= t < 7 for t in a)
    draws = {tuple(model.sample(6, temperature=1.5, seed=s)) for s in range(20)}
    assert len(draws) > 5  # different seeds, different samples
    rng = random.Random(4)
    assert model.sample([6, 1], seed=rng) == model.sample([6, 1], seed=random.Random(4))
    long = model.sample([6, 1, 2], max_len=4, seed=0, stop=0)
    assert len(long) <= 4 and 0 not in long
    with pytest.raises(ValueError, match="max_len 5 does not fit"):
        model.sample([6, 1, 2], max_len=5)
    with pytest.raises(ValueError, match=r"temperature must be a finite number > 0, got 0\.0"):
        model.sample(6, temperature=0.0)
    # a very low temperature is greedy decoding
    greedy = model.sample(6, temperature=1e-6, seed=1)
    assert greedy == model.sample(6, temperature=1e-6, seed=2)


def test_training_lowers_the_loss_with_adam_given_the_module() -> None:
    model = small_gpt(0)
    opt = nn.Adam(model, lr=0.02, betas=(0.85, 0.99))
    docs = [[6, 1, 2, 3, 6], [6, 2, 3, 1, 6], [6, 1, 3, 6]]
    first = sum(model.loss(d).data for d in docs)
    for k in range(60):
        loss = model.loss(docs[k % 3])
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert sum(model.loss(d).data for d in docs) < 0.5 * first


def test_optimizers_accept_a_module_and_say_what_else_they_take() -> None:
    mlp = nn.MLP(2, [3, 1], seed=0)
    assert nn.Adam(mlp).params == mlp.parameters()
    assert nn.SGD(mlp, lr=0.1).params == mlp.parameters()
    for bad in (3, "ab", {"w": 1.0}):
        with pytest.raises(TypeError, match="Adam expects a Module or a list of parameters"):
            nn.Adam(bad)  # type: ignore[arg-type]


def test_save_and_load_round_trip_bit_for_bit(tmp_path: Path) -> None:
    model = small_gpt(7)
    path = model.save(tmp_path / "gpt.json")
    copy = small_gpt(8)
    copy.load(path)
    assert copy.state_dict() == model.state_dict()
    assert copy.loss([6, 1, 2, 6]).data == model.loss([6, 1, 2, 6]).data
    other = small_gpt(8, dim=4)
    with pytest.raises(ValueError, match="holds GPT"):
        other.load(path)


def test_benchmark_w6_three_ways_give_the_same_losses() -> None:
    """W6 times one training step three ways; they must be the same computation."""
    from demos import benchmark

    docs, vocab = benchmark.names_documents(3)
    assert vocab == 27 and all(d[0] == d[-1] == 26 for d in docs)
    model, opt, micro, on_value = benchmark.w6_trainers(seed=1)
    for d in docs:
        a, b, c = micro.step(d), benchmark.nn_gpt_step(model, opt, d), on_value.step(d)
        assert b == pytest.approx(a, rel=1e-12) and c == pytest.approx(a, rel=1e-12)
    # and the weights after three Adam steps
    after = [p.data for p in on_value.params][:50]
    assert [p.data for p in micro.params][:50] == pytest.approx(after, rel=1e-9)
    assert micro.params[0].data == pytest.approx(model.wte.weight[0][0].data, rel=1e-9)


def test_every_node_of_a_gpt_loss_has_a_scope() -> None:
    loss = small_gpt().loss([6, 1, 2, 3, 6])
    unscoped = [v for v in autograd.toposort(loss) if v._op and v._scope is None]
    assert unscoped == []


def test_a_gpt_round_trips_bit_for_bit_through_save_and_load_model(tmp_path: Path) -> None:
    model = small_gpt(9)
    opt = nn.Adam(model, lr=0.05)
    for _ in range(3):  # trained weights, not just the seeded ones
        loss = model.loss([6, 1, 2, 3, 6])
        opt.zero_grad()
        loss.backward()
        opt.step()
    back = nn.load_model(model.save(tmp_path / "gpt.json"))
    assert isinstance(back, nn.GPT) and back.config() == model.config()
    assert back.state_dict() == model.state_dict()  # every float, bit for bit
    assert back.sample(6, seed=3) == model.sample(6, seed=3)
    state = random.getstate()
    nn.load_model(tmp_path / "gpt.json")
    assert random.getstate() == state  # loading draws nothing from the global random module


# -- the demo -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, str]:
    import contextlib
    import io

    from demos import gpt

    out = tmp_path_factory.mktemp("gpt")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        result = gpt.main(["--quick", "--out", str(out), "--quiet"])
    return out, result, buf.getvalue()


def test_demo_quick_run_learns_and_writes_its_files(quick_run: tuple[Path, object, str]) -> None:
    from demos import gpt

    out, result, printed = quick_run
    assert isinstance(result, gpt.TrainResult)
    losses = result.losses
    assert len(losses) == 300
    first, last = sum(losses[:10]) / 10, sum(losses[-50:]) / 50
    assert first > 3.1 and last < first - 0.5  # from about ln 27 = 3.30 down
    names = [line.split()[1] for line in printed.splitlines() if line.startswith("  ") and
             line.split()[0].isdigit() and len(line.split()) == 2]
    assert len(names) == 20 and all(n.isalpha() and n.islower() for n in names)
    for name in ("loss.png", "model.json", "vocab.json"):
        assert (out / name).stat().st_size > 0
        assert str(out / name) in printed
    assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    back = nn.load_model(out / "model.json")
    assert back.state_dict() == result.model.state_dict()
    pictures = [out / f"position_graph.{ext}" for ext in ("svg", "png", "gv")]
    assert any(p.exists() for p in pictures)
    assert "graph of one position's loss" in printed


def test_demo_sample_only_is_reproducible(quick_run: tuple[Path, object, str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from demos import gpt

    out, result, _ = quick_run
    a = gpt.main(["--sample-only", "--out", str(out), "--seed", "5"])
    b = gpt.main(["--sample-only", "--out", str(out), "--seed", "5"])
    c = gpt.main(["--sample-only", "--out", str(out), "--seed", "6", "--temperature", "1.0"])
    assert a == b and a != c and len(a) == 20
    assert isinstance(result, gpt.TrainResult)
    assert a == gpt.sample_names(result.model, result.vocab, 20, 0.5, 5)
    assert "from " + str(out / "model.json") in capsys.readouterr().out


def test_demo_without_a_renderer_writes_dot_text_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from demos import gpt

    monkeypatch.setattr(gpt, "available_renderers", lambda fmt="svg": [])
    model = nn.GPT(27, 16, 8, 2, 1, seed=0)
    vocab = gpt.Vocab("abcdefghijklmnopqrstuvwxyz")
    pic = gpt.draw_position_graph(model, vocab, "emma", 3, tmp_path)
    assert pic.renderer is None
    assert [p.name for p in pic.files] == ["position_graph.gv", "position_graph.txt"]
    dot_text = (tmp_path / "position_graph.gv").read_text()
    boxes = set(re.findall(r'label="\{?([^"|]*?) \|', dot_text))
    assert boxes == {"wte", "wpe", "embed", "norm", "layers.0.norm1", "layers.0.attn.wq", "layers.0.attn.wk",
                     "layers.0.attn.wv", "layers.0.attn.kv_cache", "layers.0.attn.heads.0",
                     "layers.0.attn.heads.1", "layers.0.attn.wo", "layers.0", "layers.0.norm2",
                     "layers.0.mlp", "lm_head", "loss"}
    assert pic.boxes == len(boxes)
    assert "%" not in dot_text  # no node left outside a box
    listing = (tmp_path / "position_graph.txt").read_text()
    assert listing.count("\n") == pic.nodes


def test_demo_trains_on_any_text_file_and_refuses_bad_input(tmp_path: Path) -> None:
    from demos import gpt

    data = tmp_path / "words.txt"
    data.write_text("abc\nbca\n\ncab\nabcabcabcabcabcabcabc\n", encoding="utf-8")
    result = gpt.train(gpt.load_documents(data), steps=5, dim=4, heads=2, block=8)
    assert result.vocab.chars == "abc" and result.model.vocab == 4 and len(result.losses) == 5
    with pytest.raises(SystemExit, match="no data file"):
        gpt.load_documents(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("\n\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="no non-empty lines"):
        gpt.load_documents(tmp_path / "empty.txt")
    with pytest.raises(SystemExit, match="train first"):
        gpt.main(["--sample-only", "--out", str(tmp_path / "nothing")])
    with pytest.raises(SystemExit):
        gpt.parse_args(["--dim", "6", "--heads", "4"])
    with pytest.raises(ValueError, match="character 'z' is not in the vocabulary"):
        result.vocab.encode("abz")


def test_demo_without_tqdm_or_matplotlib_still_reports(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from demos import gpt

    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert gpt._plt() is None
    update, close = gpt._progress(20, quiet=False)
    for k in range(20):
        update(k, 3.0 - k / 10)
    close()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 10 and lines[-1].startswith("step    20/20  loss 1.1000")
    assert "steps/s" in lines[0]


def test_load_model_refuses_a_gpt_file_whose_architecture_is_far_larger(tmp_path: Path) -> None:
    """parameter_count lets load_model compare the architecture with the file's parameters
    before building anything: a 10-billion-parameter architecture is refused at once."""
    import json

    path = small_gpt().save(tmp_path / "gpt.json")
    doc = json.loads(path.read_text())
    doc["architecture"].update(dim=8192, heads=64, layers=12)
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="GPT"):
        nn.load_model(path)
