"""The Derivation's network as its forward and adjoint graphs: ``python -m demos.adjoint_graph``.

Reproduces the article's sections "Adjoint graph" and "Derivation": backpropagation is reverse
accumulation on the adjoint graph, the computation graph with every edge reversed and labelled
with its local derivative. The network is the Derivation's, with the article's names: inputs
x1, x2; logistic hidden neurons 3 and 4 and output neuron 5, o_j = phi(net_j),
net_j = sum_i w_ij o_i (no biases); the error E = 1/2 (t - y)^2 with y = o_5.

It prints every node's adjoint dE/d(node) from the engine beside the article's values: the
adjoint of net_j is delta_j (Eq. 5's recursion: delta_5 = (o_5 - t) o_5 (1 - o_5),
delta_j = w_j5 delta_5 o_j (1 - o_j)) and the adjoint of w_ij is o_i delta_j. Then it writes,
into ``--out`` (default ``out/adjoint_graph/``), ``forward.svg`` and ``adjoint.svg`` (drawn by
`autograd.viz`; PNG copies too when Graphviz's ``dot`` program is installed) and ``tape.txt``,
the same graph as text with the adjoints. With no Graphviz renderer at all it writes the DOT
sources (``.gv``) and the tape and says how to install one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import autograd
from autograd import Value
from autograd.viz import RendererNotFound, available_renderers, render, tape, to_dot

from ._article import parser

X = (1.0, 0.5)
T = 1.0
WEIGHTS = {"w13": 0.6, "w23": -0.4, "w14": -0.3, "w24": 0.8, "w35": 1.2, "w45": -0.9}


@dataclass
class Network:
    inputs: dict[str, Value]  # x1, x2
    weights: dict[str, Value]  # w13 ... w45
    nodes: dict[str, Value]  # net3, o3, net4, o4, net5, y, E
    E: Value


def build(x: Sequence[float] = X, t: float = T, weights: dict[str, float] | None = None) -> Network:
    w = {k: Value(v, label=k) for k, v in (weights or WEIGHTS).items()}
    xs = {f"x{i}": Value(v, label=f"x{i}") for i, v in enumerate(x, start=1)}
    nodes: dict[str, Value] = {}
    o = {1: xs["x1"], 2: xs["x2"]}
    for j, sources in ((3, (1, 2)), (4, (1, 2)), (5, (3, 4))):
        net = autograd.dot([w[f"w{i}{j}"] for i in sources], [o[i] for i in sources])
        net.label = f"net{j}"
        o[j] = net.sigmoid()
        o[j].label = "y" if j == 5 else f"o{j}"  # the output o5 is y
        nodes[f"net{j}"], nodes[f"o{j}"] = net, o[j]
    E = 0.5 * (t - o[5]) ** 2
    E.label = "E"
    nodes["E"] = E
    return Network(xs, w, nodes, E)


def article_values(x: Sequence[float] = X, t: float = T,
                   weights: dict[str, float] | None = None) -> dict[str, float]:
    """The Derivation's formulas with plain floats: o_j, delta_j and dE/dw_ij = o_i delta_j."""
    w = weights or WEIGHTS

    def phi(z: float) -> float:
        return 1.0 / (1.0 + math.exp(-z))

    o = {1: x[0], 2: x[1]}
    o[3] = phi(w["w13"] * o[1] + w["w23"] * o[2])
    o[4] = phi(w["w14"] * o[1] + w["w24"] * o[2])
    o[5] = phi(w["w35"] * o[3] + w["w45"] * o[4])
    d5 = (o[5] - t) * o[5] * (1 - o[5])
    d = {5: d5, 3: w["w35"] * d5 * o[3] * (1 - o[3]), 4: w["w45"] * d5 * o[4] * (1 - o[4])}
    vals = {f"delta{j}": d[j] for j in (3, 4, 5)}
    for name in w:
        i, j = int(name[1]), int(name[2])
        vals[name] = o[i] * d[j]
    return vals


@dataclass
class Result:
    adjoints: dict[str, float]  # engine: dE/d(node) for every named node, weight and input
    article: dict[str, float]
    max_diff: float
    output: float = 0.0
    error: float = 0.0
    files: list[Path] = field(default_factory=list)
    renderer: str | None = None
    tape: str = ""


def run(out: Path) -> Result:
    net = build()
    named = {**net.inputs, **net.weights, **net.nodes}
    grads = autograd.grad(net.E, list(named.values()))
    adj = {k: g.data for k, g in zip(named, grads)}
    art = article_values()
    pairs = [(adj[f"net{j}"], art[f"delta{j}"]) for j in (3, 4, 5)]
    pairs += [(adj[k], art[k]) for k in WEIGHTS]
    r = Result(adj, art, max(abs(a - b) for a, b in pairs), net.nodes["o5"].data, net.E.data)
    out.mkdir(parents=True, exist_ok=True)
    r.tape = tape(net.E, adjoints=True)
    tape_path = out / "tape.txt"
    tape_path.write_text(r.tape + "\n", encoding="utf-8")
    r.files.append(tape_path)
    net.E.backward()  # so that the forward picture shows each .grad
    # top to bottom (inputs at the top, E at the bottom): 8 ranks, far narrower than left to right
    forward = to_dot(net.E, rankdir="TB", legend=True)
    title = ('label="forward graph of E = 1/2 (t - y)^2 for the Derivation\'s network, '
             'after E.backward()" labelloc="t" ')
    forward = forward.replace('graph [rankdir="TB" ', f'graph [rankdir="TB" {title}', 1)
    sources = {"forward": forward,
               "adjoint": to_dot(net.E, adjoint=True, rankdir="BT", legend=True)}
    formats = [f for f in ("svg", "png") if available_renderers(f)]
    if not formats:
        for name, src in sources.items():
            path = out / f"{name}.gv"
            path.write_text(src, encoding="utf-8")
            r.files.append(path)
        return r
    r.renderer = available_renderers(formats[0])[0]
    for name, src in sources.items():
        for fmt in formats:
            try:
                r.files.append(render(src, out / f"{name}.{fmt}"))
            except RendererNotFound:  # a renderer vanished between the check and the call
                r.renderer = None
    return r


def report(r: Result) -> None:
    print(f"network x1, x2 -> logistic neurons 3, 4 -> logistic output 5; x = {X}, t = {T}; "
          "E = 1/2 (t - y)^2")
    print(f"  y = o5 = {r.output:.10f}, E = {r.error:.10f}")
    print("adjoints dE/d(node) from the engine's reverse sweep, against the Derivation's formulas:")
    for j in (5, 3, 4):
        print(f"  dE/dnet{j} = {r.adjoints[f'net{j}']:+.10f}   delta_{j} = {r.article[f'delta{j}']:+.10f}")
    for k in WEIGHTS:
        print(f"  dE/d{k}  = {r.adjoints[k]:+.10f}   o_{k[1]} delta_{k[2]} = {r.article[k]:+.10f}")
    print(f"  dE/dx1 = {r.adjoints['x1']:+.10f}, dE/dx2 = {r.adjoints['x2']:+.10f}")
    print(f"largest difference: {r.max_diff:.1e}")
    print("the tape (adjoints in the grad column):")
    print(r.tape)
    if r.renderer is None:
        print("no Graphviz renderer is installed, so the graphs are written as DOT text (.gv) and "
              "the tape above; to draw them: pip install 'adjointgrad[viz]' or apt-get install graphviz")
    for path in r.files:
        print(f"wrote {path}")


def main(argv: Sequence[str] | None = None) -> Result:
    args = parser("adjoint_graph", __doc__).parse_args(argv)
    r = run(args.out)
    report(r)
    return r


if __name__ == "__main__":
    main()
