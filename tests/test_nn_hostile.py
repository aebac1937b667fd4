"""nn under hostile and unlucky input (issue 17): a foreign `autograd`, forged GPT save files,
bad tokens and temperatures, configs of gigabytes, long runs (memory) and reference cycles.

Each case gives the right number or a ValueError/TypeError/ImportError naming what was wrong.
"""

from __future__ import annotations

import gc
import json
import math
import os
import re
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import nn
from autograd import Value

ROOT = Path(__file__).resolve().parent.parent


def small_gpt(seed: int = 0) -> nn.GPT:
    return nn.GPT(vocab=7, block=6, dim=8, heads=2, layers=1, mlp_ratio=2, seed=seed)


# -- a foreign autograd ---------------------------------------------------------------------------


def import_nn(tmp_path: Path, fake_autograd: str | None) -> subprocess.CompletedProcess[str]:
    """``import nn`` in a fresh Python whose path holds `fake_autograd` (the text of an
    ``autograd/__init__.py``) before this checkout."""
    path = [str(ROOT)]
    if fake_autograd is not None:
        (tmp_path / "fake" / "autograd").mkdir(parents=True)
        (tmp_path / "fake" / "autograd" / "__init__.py").write_text(fake_autograd)
        path.insert(0, str(tmp_path / "fake"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    code = "import nn, autograd; print(autograd.__file__); print(nn.__file__)"
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)


HIPS_LIKE = '"""A stand-in for HIPS autograd: grad, no Value, no marker."""\n__version__ = "1.7.0"\n' \
            "def grad(fun, argnum=0):\n    return fun\n"


@pytest.mark.parametrize(
    ("source", "lacks"),
    [
        (HIPS_LIKE, r"__distribution__ is None, not 'adjointgrad'; it has no Value"),
        ('__distribution__ = "adjointgrad"\n', "it has no Value"),  # the marker alone is not enough
        ("class Value:\n    pass\n", r"__distribution__ is None, not 'adjointgrad'\)"),
    ],
    ids=["hips", "marker-without-Value", "Value-without-marker"],
)
def test_import_nn_refuses_a_foreign_autograd_and_says_how_to_fix_it(
    tmp_path: Path, source: str, lacks: str
) -> None:
    done = import_nn(tmp_path, source)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    fake = tmp_path / "fake" / "autograd" / "__init__.py"
    assert last.startswith("ImportError: nn needs adjointgrad's `autograd`, but `import autograd` found "
                           f"another package, at {fake} (")
    assert re.search(lacks, last), last
    assert "HIPS" in last and "`pip uninstall autograd`, then reinstall adjointgrad" in last
    assert "virtual environment of its own" in last and "print(autograd.__path__)" in last
    assert "cannot import name" not in done.stderr


def test_a_foreign_autograd_that_fails_to_import_is_named_too(tmp_path: Path) -> None:
    done = import_nn(tmp_path, "import numpy_that_is_not_installed_anywhere\n")  # HIPS without numpy
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: nn needs adjointgrad's `autograd`, and `import autograd` failed "
                           "(No module named 'numpy_that_is_not_installed_anywhere')")
    assert "`pip uninstall autograd`" in last


def test_an_autograd_folder_left_without_init_is_named(tmp_path: Path) -> None:
    """Uninstalling HIPS autograd where it had replaced our __init__.py leaves a bare folder."""
    import shutil

    (tmp_path / "site" / "autograd").mkdir(parents=True)
    (tmp_path / "site" / "autograd" / "engine.py").write_text("")
    shutil.copytree(ROOT / "nn", tmp_path / "site" / "nn")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    done = subprocess.run([sys.executable, "-S", "-c", "import nn"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)  # -S: no site-packages
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: nn needs adjointgrad's `autograd`, but `import autograd` found a "
                           f"folder with no __init__.py, at {tmp_path / 'site' / 'autograd'}: uninstalling")
    assert "`pip uninstall autograd`, then reinstall adjointgrad" in last


def test_import_nn_accepts_adjointgrads_autograd(tmp_path: Path) -> None:
    done = import_nn(tmp_path, None)  # this checkout's autograd, which carries the marker
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(ROOT / name / "__init__.py") for name in ("autograd", "nn")]
    import autograd

    assert autograd.__distribution__ == "adjointgrad"
    nn._autograd.check(autograd)  # the check itself, in this process

# -- forged and damaged GPT save files ------------------------------------------------------------


@pytest.fixture
def gpt_file(tmp_path: Path) -> Path:
    return small_gpt(1).save(tmp_path / "gpt.json")


def loads_nothing(path: Path, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """load_model refuses `path` with `message`; model.load refuses it too, naming the file, and
    leaves the model as it was (or, where the file is fit for the model, loads exactly its values)."""
    with pytest.raises(ValueError, match=message):
        nn.load_model(path)
    model = small_gpt(2)
    before = model.state_dict()
    try:
        model.load(path)
    except ValueError as e:
        assert str(path) in str(e)
        assert model.state_dict() == before
    else:  # e.g. block=6.0 for block=6: the same architecture, and every value was checked
        assert model.state_dict() == json.loads(path.read_text())["parameters"]


def edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["architecture"].update(vocab=-5), "GPT vocab must be a positive int, got -5"),
        (lambda d: d["architecture"].update(dim=10**30), r"GPT\(vocab=7, block=6, dim=10{30}.*\) has \d+ "
                                                        "parameters but the file holds 672; refused before"),
        (lambda d: d["architecture"].update(heads=3), "dim 8 is not divisible by heads 3"),
        (lambda d: d["architecture"].update(layers="1"), "GPT layers must be a positive int, got str"),
        (lambda d: d["architecture"].update(block=6.0), "GPT block must be a positive int, got float"),
        (lambda d: d["architecture"].update(mlp_ratio=True), "GPT mlp_ratio must be a positive int, got bo"),
        (lambda d: d["architecture"].update(type="GPT2"), "unknown module type 'GPT2'; known types: "),
        (lambda d: d["architecture"].update(type=["GPT"]), r"unknown module type \['GPT'\]"),
        (lambda d: d["architecture"].update(seed=3), r"cannot build GPT\(.*seed=3\)"),
        (lambda d: d.update(num_parameters=-1), "says it holds -1 parameters but has 672"),
        (lambda d: d.update(num_parameters=10**30), "says it holds 10{30} parameters but has 672"),
        (lambda d: d.update(num_parameters="672"), r"\"num_parameters\" must be an int, got '672'"),
        (lambda d: d.update(parameters=[0.5] * 672), r"\"parameters\" must be an object"),
        (lambda d: d.update(architecture="GPT"), r"\"architecture\" must be an object or null"),
        (lambda d: d.update(version="1"), r"\"version\" must be an int, got '1'"),
        (lambda d: d["parameters"].update({"wte.weight.0.0": "0.1"}), r"'wte\.weight\.0\.0' is str"),
        (lambda d: d["parameters"].update({"lm_head.weight.6.7": None}), r"'lm_head\.weight\.6\.7' is None"),
    ],
)
def test_a_forged_gpt_file_is_refused_by_name(
    gpt_file: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    edit(gpt_file, change)
    loads_nothing(gpt_file, message, monkeypatch)


def test_a_gpt_file_with_a_huge_config_never_builds_the_model(gpt_file: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    edit(gpt_file, lambda d: d["architecture"].update(vocab=50257, block=1024, dim=768, heads=12, layers=12,
                                                     mlp_ratio=4))

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("a GPT was built for a file that should have been refused")

    monkeypatch.setattr(nn.GPT, "__init__", boom)
    with pytest.raises(ValueError, match="has 162915840 parameters but the file holds 672"):
        nn.load_model(gpt_file)


@pytest.mark.parametrize("cut", [0.0, 0.01, 0.3, 0.5, 0.9, 0.999])
def test_a_truncated_gpt_file_is_refused(gpt_file: Path, monkeypatch: pytest.MonkeyPatch, cut: float) -> None:
    text = gpt_file.read_text()
    gpt_file.write_text(text[: int(len(text) * cut)])
    loads_nothing(gpt_file, r"gpt\.json' is not valid JSON \(corrupt or truncated file\?\)", monkeypatch)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "is not UTF-8 text"),
        (b"null", "is not an adjointgrad model file"),
        (b"{}", "is not an adjointgrad model file"),
        (b'"adjointgrad.nn"', "is not an adjointgrad model file"),
        (b"model = GPT(27, 16, 16, 4, 1)", "is not valid JSON"),
    ],
)
def test_a_file_that_is_not_a_model_is_refused(gpt_file: Path, monkeypatch: pytest.MonkeyPatch, text: bytes,
                                               message: str) -> None:
    gpt_file.write_bytes(text)
    loads_nothing(gpt_file, message, monkeypatch)


@pytest.mark.parametrize(
    ("pattern", "new", "message"),
    [
        ('"dim": 8,', '"dim": 8, "dim": 4000,', "duplicate key 'dim'"),
        ('"format"', '"format": "x", "format"', "duplicate key 'format'"),
        (r'"wte\.weight\.0\.1"', '"wte.weight.0.0"', "duplicate key 'wte.weight.0.0'"),
        (r'(?<="wte\.weight\.0\.0": )[^,}]+', "NaN", "NaN is not a number in JSON"),
        (r'(?<="wte\.weight\.0\.0": )[^,}]+', "-Infinity", "-Infinity is not a number in JSON"),
        (r'(?<="wte\.weight\.0\.0": )[^,}]+', "1e999", r"'wte\.weight\.0\.0' is inf, not a finite number"),
        (r'(?<="dim": )8', "1e999", "architecture 'dim' is inf, not a finite number"),
    ],
)
def test_bad_text_in_a_gpt_file_is_refused(gpt_file: Path, monkeypatch: pytest.MonkeyPatch, pattern: str,
                                           new: str, message: str) -> None:
    text, n = re.subn(pattern, new, json.dumps(json.loads(gpt_file.read_text())), count=1)
    assert n == 1
    gpt_file.write_text(text)
    loads_nothing(gpt_file, message, monkeypatch)


def test_nan_or_infinite_weights_are_never_saved(tmp_path: Path) -> None:
    model = small_gpt()
    for bad in (math.nan, math.inf, -math.inf):
        model.lm_head.weight[3][2].data = bad
        with pytest.raises(ValueError, match=rf"'lm_head\.weight\.3\.2' is {bad}.*nothing was written"):
            model.save(tmp_path / "gpt.json")
    assert list(tmp_path.iterdir()) == []


# -- tokens, contexts, temperatures, lengths ------------------------------------------------------


TEMPERATURE = "GPT sample temperature must be a finite number > 0, got "
BAD_CALLS: list[tuple[Callable[[nn.GPT], object], type[Exception], str]] = [
    (lambda m: m.step(7, m.new_cache()), ValueError, r"GPT: token 7 is outside the vocabulary \[0, 7\)"),
    (lambda m: m.step(-1, m.new_cache()), ValueError, r"token -1 is outside the vocabulary \[0, 7\)"),
    (lambda m: m.step(1.0, m.new_cache()), TypeError, r"a token must be an int in \[0, 7\), got float: 1\.0"),  # type: ignore[arg-type]
    (lambda m: m.step("a", m.new_cache()), TypeError, "a token must be an int .* got str"),  # type: ignore[arg-type]
    (lambda m: m.step(True, m.new_cache()), TypeError, "a token must be an int .* got bool"),
    (lambda m: m.step(None, m.new_cache()), TypeError, "a token must be an int .* got NoneType"),  # type: ignore[arg-type]
    (lambda m: m.step(1, []), TypeError, r"caches must be model\.new_cache\(\)"),
    (lambda m: m.sample(7), ValueError, "token 7 is outside the vocabulary"),
    (lambda m: m.sample([6, 9]), ValueError, "token 9 is outside the vocabulary"),
    (lambda m: m.sample(6, stop=7), ValueError, "token 7 is outside the vocabulary"),
    (lambda m: m.sample(6, stop=1.5), TypeError, "a token must be an int"),  # type: ignore[arg-type]
    (lambda m: m.sample("BOS"), TypeError, "start must be a list of int tokens, got str"),
    (lambda m: m.sample([]), ValueError, "start has 0 tokens; it needs 1 to 6"),
    (lambda m: m.sample([6] * 7), ValueError, r"start has 7 tokens; it needs 1 to 6 \(block of 6"),
    (lambda m: m([1] * 7), ValueError, "tokens has 7 tokens; it needs 1 to 6"),
    (lambda m: m.loss([1] * 8), ValueError, "tokens has 8 tokens; it needs 2 to 7"),
    (lambda m: m.sample(6, max_len=10**100), ValueError, "max_len 10{100} does not fit: a prompt of 1 leaves "
                                                         "room for 6 tokens"),
    (lambda m: m.sample([6, 1, 2], max_len=5), ValueError, "max_len 5 does not fit"),
    (lambda m: m.sample(6, max_len=0), ValueError, "max_len must be a positive int, got 0"),
    (lambda m: m.sample(6, max_len=-3), ValueError, "max_len must be a positive int, got -3"),
    (lambda m: m.sample(6, max_len=2.5), TypeError, "max_len must be a positive int, got float"),  # type: ignore[arg-type]
    (lambda m: m.sample(6, temperature=0), ValueError, TEMPERATURE + r"0\.0"),
    (lambda m: m.sample(6, temperature=-1.0), ValueError, TEMPERATURE + r"-1\.0"),
    (lambda m: m.sample(6, temperature=math.nan), ValueError, TEMPERATURE + "nan"),
    (lambda m: m.sample(6, temperature=math.inf), ValueError, TEMPERATURE + "inf"),
    (lambda m: m.sample(6, temperature="hot"), TypeError, TEMPERATURE + "str"),  # type: ignore[arg-type]
    (lambda m: m.sample(6, seed=1.5), TypeError, r"seed must be an int or a random\.Random, got float"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("call", "error", "message"), BAD_CALLS)
def test_bad_generation_arguments_are_refused_by_name(
    call: Callable[[nn.GPT], object], error: type[Exception], message: str
) -> None:
    model = small_gpt()
    with pytest.raises(error, match=message):
        call(model)


def test_a_context_longer_than_the_block_is_refused_at_the_position_past_it() -> None:
    model = small_gpt()
    caches = model.new_cache()
    for t in [6, 1, 2, 3, 4, 5]:
        model.step(t, caches)
    with pytest.raises(ValueError, match="GPT: position 6 is past the block of 6 positions"):
        model.step(1, caches)
    assert len(caches[0]) == 6  # the refused step added nothing to the cache


def test_numpy_integer_tokens_are_tokens() -> None:
    np = pytest.importorskip("numpy", reason="numpy is optional (adjointgrad[fast])")
    model = small_gpt()
    toks = np.array([6, 1, 2, 6])
    assert model.loss(toks).data == model.loss([6, 1, 2, 6]).data  # type: ignore[arg-type]
    assert model.sample(np.int64(6), seed=0) == model.sample(6, seed=0)  # type: ignore[arg-type]


def greedy(model: nn.GPT, start: int) -> list[int]:
    """Greedy decoding by hand: the largest logit at each position."""
    caches, tok, out = model.new_cache(), start, []
    for _ in range(model.block):
        z = [v.data for v in model.step(tok, caches)]
        tok = z.index(max(z))
        if tok == start:
            break
        out.append(tok)
    return out


@pytest.mark.parametrize("temperature", [1e-6, 1e-300, 5e-324])
def test_a_temperature_near_zero_is_greedy_decoding(temperature: float) -> None:
    model = small_gpt(0)
    want = greedy(model, 6)
    assert len(want) >= 2
    for seed in range(5):
        assert model.sample(6, temperature=temperature, seed=seed) == want


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_sampling_from_non_finite_logits_says_so(bad: float) -> None:
    model = small_gpt()
    model.lm_head.weight[0][0].data = bad  # as a diverged training run leaves it
    with pytest.raises(ValueError, match=r"GPT: a logit at position 0 is (nan|-?inf), so no token can be "
                                         r"drawn \(the weights have overflowed or become nan\)"):
        model.sample(6, seed=0)


def test_the_loss_stays_finite_when_every_logit_is_near_the_overflow_of_exp() -> None:
    """40,000 logits of 699.9: each e^z is finite, their sum is not (4e4 * e^699.9 > 1.8e308)."""
    vocab = 40_000
    model = nn.GPT(vocab, 2, 1, 1, 1, mlp_ratio=1, seed=0)
    for p in model.layers[0].parameters():
        p.data = 0.0  # the block adds nothing: the head sees the normed embedding, +-1
    x = model.norm([model.wte.weight[3][0] + model.wpe.weight[0][0]])[0].data
    for row in model.lm_head.weight:
        row[0].data = 699.9 / x
    loss = model.loss([3, 5])
    assert loss.data == pytest.approx(math.log(vocab), rel=1e-9)  # was inf
    loss.backward()
    g = model.lm_head.weight[5][0].grad
    assert g == pytest.approx(x * (1 / vocab - 1), rel=1e-6)  # softmax - onehot, times the input


# -- configs of gigabytes -------------------------------------------------------------------------


def no_weights_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail fast, instead of allocating gigabytes, if a constructor gets past its size check."""
    def boom(*args: object) -> None:
        raise AssertionError("a constructor went on to draw weights for a refused size")

    for module in (nn.modules, nn.transformer, nn.gpt):
        monkeypatch.setattr(module, "make_rng", boom)


def test_a_gpt_of_gigabytes_is_refused_at_once_naming_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    no_weights_drawn(monkeypatch)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError, match=(
            r"GPT\(vocab=50257, block=1024, dim=768, heads=12, layers=12, mlp_ratio=4\) would have "
            r"162,915,840 parameters \(about 32\.6 GB of Values\); nn builds at most "
            r"nn\.base\.MAX_PARAMETERS = 5,000,000 \(set it higher to build it anyway\)")):
            nn.GPT(vocab=50257, block=1024, dim=768, heads=12, layers=12)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 1.0 and peak < 1_000_000


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda: nn.Neuron(2000), r"Neuron\(nin=2000\) would have 2,001"),
        (lambda: nn.Layer(100, 20), r"Layer\(nin=100, nout=20\) would have 2,020"),
        (lambda: nn.MLP(2, [40, 40, 1]), r"MLP\(nin=2, nouts=\[40, 40, 1\]\) would have 1,801"),
        (lambda: nn.Linear(50, 40), r"Linear\(nin=50, nout=40, bias=True\) would have 2,040"),
        (lambda: nn.Embedding(1000, 8), r"Embedding\(num=1000, dim=8\) would have 8,000"),
        (lambda: nn.RMSNorm(5000, affine=True), r"RMSNorm\(dim=5000, affine=True\) would have 5,000"),
        (lambda: nn.LayerNorm(5000), r"LayerNorm\(dim=5000, affine=True\) would have 10,000"),
        (lambda: nn.CausalSelfAttention(32, 4), r"CausalSelfAttention\(dim=32, heads=4, bias=False\) would "
                                                "have 4,096"),
        (lambda: nn.FeedForward(32, 64), r"FeedForward\(dim=32, hidden=64, bias=False\) would have 4,096"),
        (lambda: nn.TransformerBlock(16, 2), r"TransformerBlock\(dim=16, heads=2, mlp_ratio=4\) would have "
                                             "3,072"),
        (lambda: nn.GPT(50, 8, 16, 2, 1), r"GPT\(vocab=50, block=8, dim=16, .*\) would have 4,800"),
    ],
)
def test_every_built_in_module_checks_its_size_before_allocating(
    monkeypatch: pytest.MonkeyPatch, make: Callable[[], nn.Module], what: str
) -> None:
    monkeypatch.setattr(nn.base, "MAX_PARAMETERS", 1000)
    no_weights_drawn(monkeypatch)
    monkeypatch.setattr(nn.transformer, "Value", lambda *a: pytest.fail("allocated a parameter"))
    with pytest.raises(ValueError, match=what + r" parameters \(about 0\.0 GB of Values\); nn builds at "
                                                r"most nn\.base\.MAX_PARAMETERS = 1,000"):
        make()


def test_the_limit_can_be_raised_and_counts_exactly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = nn.MLP(2, [16, 16, 1], seed=0).save(tmp_path / "m.json")  # 337 parameters
    monkeypatch.setattr(nn.base, "MAX_PARAMETERS", 336)
    with pytest.raises(ValueError, match="would have 337 parameters"):
        nn.MLP(2, [16, 16, 1])
    with pytest.raises(ValueError, match=r"m\.json': cannot build MLP\(.*\): MLP\(nin=2, nouts=\[16, 16, "
                                         r"1\]\) would have 337 parameters"):
        nn.load_model(path)  # a file is held to the same limit
    monkeypatch.setattr(nn.base, "MAX_PARAMETERS", 337)
    assert nn.load_model(path).num_parameters() == 337


# -- memory and reference cycles ------------------------------------------------------------------


def growth(step: Callable[[], object], warmup: int = 5, repeats: int = 40) -> int:
    """Bytes still allocated after `repeats` more calls of `step` than after `warmup` calls."""
    for _ in range(warmup):
        step()
    gc.collect()
    tracemalloc.start()
    try:
        step()
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(repeats):
            step()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_over_repeated_training_steps() -> None:
    model = small_gpt()
    opt = nn.Adam(model, lr=0.01)
    docs = [[6, 1, 2, 3, 6], [6, 2, 3, 6]]
    k = [0]

    def gpt_step() -> None:
        loss = model.loss(docs[k[0] % 2])
        k[0] += 1
        opt.zero_grad()
        loss.backward()
        opt.step()

    mlp = nn.MLP(2, [8, 8, 1], seed=0)
    sgd = nn.SGD(mlp, lr=0.05)

    def mlp_step() -> None:
        loss = nn.mse([mlp(x) for x in ([0.5, -1.0], [1.0, 2.0])], [1.0, -1.0])
        sgd.zero_grad()
        loss.backward()
        sgd.step()

    assert growth(gpt_step) < 10_000  # bytes, over 40 steps of about 9,000 nodes each
    assert growth(mlp_step, repeats=400) < 10_000
    assert growth(lambda: model.sample(6, seed=0)) < 10_000


def test_no_call_leaves_a_reference_cycle(tmp_path: Path) -> None:
    def refused(call: Callable[[], object]) -> None:
        try:
            call()
        except ValueError:
            pass
        else:
            raise AssertionError("expected a refusal")

    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "adjointgrad.nn", "version": 1, "architecture": {"type": "Bomb"}, '
                   '"num_parameters": 0, "parameters": {}}')
    calls: dict[str, Callable[[], object]] = {
        "build a GPT": small_gpt,
        "loss and backward": lambda: small_gpt().loss([6, 1, 2, 6]).backward(),
        "logits": lambda: small_gpt()([6, 1, 2]),
        "sample": lambda: small_gpt().sample(6, seed=0),
        "an Adam step": lambda: nn.Adam(small_gpt()).step(),
        "save": lambda: small_gpt().save(tmp_path / "gpt.json"),
        "load_model": lambda: nn.load_model(tmp_path / "gpt.json"),
        "load": lambda: small_gpt().load(tmp_path / "gpt.json"),
        "an MLP step": lambda: nn.hinge([nn.MLP(2, [4, 1], seed=0)([1.0, 2.0])], [1]).backward(),
        "a refused file": lambda: refused(lambda: nn.load_model(bad)),
        "a refused token": lambda: refused(lambda: small_gpt().sample(99)),
        "a refused size": lambda: refused(lambda: nn.GPT(50257, 1024, 768, 12, 12)),
        "a Value graph": lambda: (Value(2.0) * Value(3.0)).backward(),
    }
    gc.collect()
    gc.disable()
    try:
        for name, call in calls.items():
            call()
            assert gc.collect() == 0, f"{name} left a reference cycle"
    finally:
        gc.enable()
