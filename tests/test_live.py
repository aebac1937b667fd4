"""demos.live: the recorded run against plain-float arithmetic, the page's file, the page in
headless Chromium (slider, play, hover text, no network)."""

from __future__ import annotations

import json
import math
import random
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from demos import live
from demos.__main__ import demos as listed_demos
from demos._live_page import CSP
from tests.test_stepper import browser, console_errors  # noqa: F401  (the Chromium fixture)

ROOT = Path(__file__).resolve().parent.parent
Vec = list[float]

# -- an independent computation: the MLP, its hinge + L2 loss and its gradient in plain floats -----


def offsets(sizes: Sequence[int]) -> list[int]:
    out, k = [], 0
    for a, b in zip(sizes, sizes[1:]):
        out.append(k)
        k += b * (a + 1)
    return out


def forward(w: Vec, sizes: Sequence[int], x: Vec) -> list[tuple[Vec, Vec, Vec]]:
    """Per layer: (w·h, z, y) of each neuron; ReLU on the hidden layers, the last one linear."""
    h, layers = x, []
    last = len(sizes) - 2
    for lay, o in enumerate(offsets(sizes)):
        n = sizes[lay]
        dots, zs, ys = [], [], []
        for j in range(sizes[lay + 1]):
            base = o + j * (n + 1)
            s = sum(w[base + i] * h[i] for i in range(n))
            z = s + w[base + n]
            dots.append(s)
            zs.append(z)
            ys.append(z if lay == last else max(z, 0.0))
        layers.append((dots, zs, ys))
        h = ys
    return layers


def backward(
    w: Vec, sizes: Sequence[int], x: Vec, d_score: float, grad: Vec
) -> tuple[list[tuple[Vec, Vec]], Vec]:
    """Hand backprop of one point: adds its share to `grad`; returns per layer (dL/dz, dL/dy)
    and dL/dx."""
    layers = forward(w, sizes, x)
    offs = offsets(sizes)
    last = len(sizes) - 2
    adj_y = [d_score]
    out: list[tuple[Vec, Vec]] = [([], [])] * (last + 1)
    for lay in range(last, -1, -1):
        n = sizes[lay]
        h = x if lay == 0 else layers[lay - 1][2]
        zs = layers[lay][1]
        adj_z = [a if lay == last else (a if z > 0 else 0.0) for a, z in zip(adj_y, zs)]
        adj_h = [0.0] * n
        for j, az in enumerate(adj_z):
            base = offs[lay] + j * (n + 1)
            for i in range(n):
                grad[base + i] += az * h[i]
                adj_h[i] += az * w[base + i]
            grad[base + n] += az
        out[lay] = (adj_z, adj_y)
        adj_y = adj_h
    return out, adj_y


def score(w: Vec, sizes: Sequence[int], x: Vec) -> float:
    return forward(w, sizes, x)[-1][2][0]


def loss(w: Vec, sizes: Sequence[int], X: list[Vec], y: Sequence[int], alpha: float) -> float:
    hinge = sum(max(0.0, 1.0 - t * score(w, sizes, x)) for x, t in zip(X, y)) / len(X)
    return hinge + alpha * sum(v * v for v in w)


def close(a: float, b: float, rel: float = 1e-9, tiny: float = 1e-12) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b)) + tiny


@pytest.fixture(scope="module")
def run() -> live.Recording:
    return live.train(steps=12, hidden=(5, 3), n=24, seed=3)


# -- the recording ---------------------------------------------------------------------------------


def test_every_step_matches_plain_float_arithmetic(run: live.Recording) -> None:
    sizes, X, y, P, N = run.sizes, run.X, run.y, run.point, len(run.X)
    assert sizes == [2, 5, 3, 1] and run.steps == 12 and len(run.weights[0]) == 5 * 3 + 3 * 6 + 4
    for k in range(run.steps):
        w = run.weights[k]
        assert close(run.losses[k], loss(w, sizes, X, y, run.alpha), 1e-12)
        right = sum((score(w, sizes, x) > 0) == (t > 0) for x, t in zip(X, y))
        assert run.accuracies[k] == right / N
        grad = [2 * run.alpha * v for v in w]
        for n, (x, t) in enumerate(zip(X, y)):
            d = -t / N if 1.0 - t * score(w, sizes, x) > 0 else 0.0
            adj, adj_x = backward(w, sizes, x, d, grad)
            if n == P:
                point_adj, point_adj_x = adj, adj_x
        assert all(close(a, b, 1e-9) for a, b in zip(run.grads[k], grad)), k
        # the chosen point's neurons: value, adjoint and local derivative
        layers = forward(w, sizes, X[P])
        want = []
        for lay, ((dots, zs, ys), (adj_z, adj_y)) in enumerate(zip(layers, point_adj)):
            linear = lay == len(layers) - 1
            for j in range(len(zs)):
                local = 1.0 if linear else float(zs[j] > 0)
                want.append([dots[j], zs[j], ys[j], adj_z[j], adj_y[j], local])
        assert len(run.nodes[k]) == len(want) == 9
        for got, exp in zip(run.nodes[k], want):
            assert all(close(a, b, 1e-9) for a, b in zip(got, exp)), (k, got, exp)
        assert all(close(a, b, 1e-9) for a, b in zip(run.input_grads[k], point_adj_x))
        # SGD with micrograd's schedule: lr 1.0 - 0.9 k / steps, w <- w - lr * grad
        assert close(run.lrs[k], 1.0 - 0.9 * k / run.steps, 1e-12)
        after = run.weights[k + 1] if k + 1 < run.steps else run.final_weights
        assert all(close(b, a - run.lrs[k] * g, 1e-12) for a, b, g in zip(w, after, run.grads[k]))
    assert run.losses[-1] < run.losses[0]


def test_adjoints_are_central_differences(run: live.Recording) -> None:
    """d loss / d x of the chosen point and d loss / d w, by central differences of the loss."""
    sizes, X, y, P, h = run.sizes, run.X, run.y, run.point, 1e-6
    for k in (0, run.steps // 2, run.steps - 1):
        w = run.weights[k]
        for i in range(2):
            up = [list(p) for p in X]
            down = [list(p) for p in X]
            up[P][i] += h
            down[P][i] -= h
            fd = (loss(w, sizes, up, y, run.alpha) - loss(w, sizes, down, y, run.alpha)) / (2 * h)
            assert abs(fd - run.input_grads[k][i]) <= 1e-6, (k, i)
        for i in random.Random(k).sample(range(len(w)), 6):
            wp, wm = list(w), list(w)
            wp[i] += h
            wm[i] -= h
            fd = (loss(wp, sizes, X, y, run.alpha) - loss(wm, sizes, X, y, run.alpha)) / (2 * h)
            assert abs(fd - run.grads[k][i]) <= 1e-6, (k, i)


def test_the_default_point_is_nearest_to_the_other_class(run: live.Recording) -> None:
    X, y = run.X, run.y
    gaps = [min(math.dist(X[i], X[j]) for j in range(len(X)) if y[j] != y[i]) for i in range(len(X))]
    assert gaps[run.point] == min(gaps)
    assert live.train(steps=1, hidden=(2,), n=10, point=7).point == 7
    with pytest.raises(ValueError, match="point 10 is out of range"):
        live.train(steps=1, hidden=(2,), n=10, point=10)


# -- the file --------------------------------------------------------------------------------------


def page_json(html: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="live-data">(.*?)</script>', html, re.S)
    assert m
    data: dict[str, Any] = json.loads(m.group(1))
    return data


def test_the_page_stores_the_run_rounded(run: live.Recording, tmp_path: Path) -> None:
    html = live.write_page(run, tmp_path).read_text(encoding="utf-8")
    data = page_json(html)
    assert data["sizes"] == run.sizes and data["point"] == run.point and data["y"] == run.y
    for k in range(run.steps):
        assert close(data["loss"][k], run.losses[k], 1e-6)
        for key, rows in (("w", run.weights), ("g", run.grads), ("xg", run.input_grads)):
            assert all(close(a, b, 5e-4) for a, b in zip(data[key][k], rows[k])), key
        flat = [x for nd in run.nodes[k] for x in nd]
        assert len(data["nodes"][k]) == len(flat)
        assert all(close(a, b, 5e-4) for a, b in zip(data["nodes"][k], flat))
    assert data["rules"]["relu"] == "0 if z ≤ 0 else 1" and data["rules"]["dot"] == ["h", "w"]


def test_the_page_loads_nothing(run: live.Recording, tmp_path: Path) -> None:
    html = live.write_page(run, tmp_path).read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "{{" not in html
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in html
    assert re.search(r"""\b(src|href|action)\s*=\s*["']?\s*(https?:)?//""", html, re.I) is None
    lowered = html.lower()
    for external in ("<link", "@import", "url(", "<script src", "<img", "<iframe", "fetch(",
                     "xmlhttprequest", "import("):
        assert external not in lowered, external
    assert html.count("</script>") == 2  # the data block and the code


def synthetic(steps: int, hidden: Sequence[int], n: int) -> live.Recording:
    """A recording of the given size filled with random full-precision numbers (the longest
    text each number can take), to measure the page's size without training."""
    rng = random.Random(0)
    sizes = [2, *hidden, 1]
    nw = sum(b * (a + 1) for a, b in zip(sizes, sizes[1:]))
    nn_ = sum(sizes[1:])

    def vec(k: int) -> Vec:
        return [rng.uniform(-3, 3) * 10 ** rng.randint(-6, 0) for _ in range(k)]

    rec = live.Recording(sizes, ["relu"] * len(hidden) + ["linear"], [vec(2) for _ in range(n)],
                         [rng.choice((-1, 1)) for _ in range(n)], 0, 1e-4)
    rec.lrs, rec.losses, rec.accuracies = vec(steps), [abs(v) for v in vec(steps)], vec(steps)
    rec.weights = [vec(nw) for _ in range(steps)]
    rec.grads = [vec(nw) for _ in range(steps)]
    rec.nodes = [[vec(6) for _ in range(nn_)] for _ in range(steps)]
    rec.input_grads = [vec(2) for _ in range(steps)]
    rec.final_weights = vec(nw)
    return rec


def test_the_default_run_page_stays_under_5_mb(tmp_path: Path) -> None:
    path = live.write_page(synthetic(200, [16, 16], 100), tmp_path)
    assert 500_000 < path.stat().st_size < live.estimated_bytes(200, [16, 16]) < live.MAX_BYTES


@pytest.mark.parametrize(("steps", "hidden"), [(3, [2]), (40, [8, 8, 8])])
def test_the_size_bound_holds(tmp_path: Path, steps: int, hidden: list[int]) -> None:
    path = live.write_page(synthetic(steps, hidden, 500), tmp_path)
    assert path.stat().st_size < live.estimated_bytes(steps, hidden)


def test_command_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "demos.live", "--quick", "--steps", "5", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {tmp_path / 'live.html'}" in proc.stdout and "MLP(2, [8, 8, 1])" in proc.stdout
    assert len(page_json((tmp_path / "live.html").read_text(encoding="utf-8"))["loss"]) == 5
    assert ("live", "A training run as one self-contained HTML page to play") in listed_demos()


@pytest.mark.parametrize(("flags", "message"), [
    (["--point", "40", "--quick"], "--point 40 is out of range: there are 40 points"),
    (["--hidden", "4,x"], "--hidden: expected layer sizes like 16,16"),
    (["--hidden", "0"], "--hidden: expected 1 to 4 hidden layer sizes from 1 to 32"),
    (["--steps", "0"], "--steps: must be from 1 to 2000, got 0"),
    (["--n", "2"], "--n: must be from 4 to 500"),
    (["--lr", "-1"], "--lr must be > 0"),
    (["--hidden", "32,32,32", "--steps", "400"], "would make a page of up to 20.3 MB, over the 5 MB limit"),
])
def test_bad_flags_are_named(flags: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        live.parse_args(flags)
    assert message in capsys.readouterr().err


def test_readme_shows_the_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Demos", 1)[1].split("### Measured", 1)[0]
    assert "**`demos.live`**" in section and "python -m demos.live" in section
    images = re.findall(r"!\[[^\]]*\]\((docs/img/live[^)]*)\)", section)
    assert images == ["docs/img/live.png"]
    png = ROOT / images[0]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size < 300_000


# -- in headless Chromium --------------------------------------------------------------------------

READ = """
var e = document.getElementById(arguments[0]);
return [window.live.state(), e.getAttribute('stroke'), e.getAttribute('stroke-width'),
        document.getElementById('lossText').textContent, document.getElementById('accText').textContent,
        document.getElementById('stepText').textContent, document.getElementById('field').toDataURL()];
"""


def number_after(text: str, prefix: str) -> float:
    m = re.search(re.escape(prefix) + r"\s*(-?[0-9.]+(?:e-?[0-9]+)?)", text)
    assert m, (prefix, text)
    return float(m.group(1))


def test_the_page_in_chromium(browser: Any, run: live.Recording, tmp_path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    browser.set_window_size(1400, 900)
    path = live.write_page(run, tmp_path)
    browser.get(path.as_uri())
    T, P = run.steps, run.point
    # nothing loaded but the file itself; the policy is the page's
    assert browser.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; })"
    ) == []
    assert browser.execute_script(
        "return document.querySelector('meta[http-equiv=Content-Security-Policy]').content") == CSP
    first = browser.execute_script(READ, "e0_0_0")
    assert first[0] == 0 and first[5] == f"step 0 / {T - 1}"
    # the slider: End moves it to the last step, and what is drawn changes
    slider = browser.find_element("id", "slider")
    slider.send_keys(Keys.END)
    last = browser.execute_script(READ, "e0_0_0")
    assert last[0] == T - 1 and last[5] == f"step {T - 1} / {T - 1}"
    assert last[6] != first[6]  # the decision boundary was redrawn
    assert (last[1], last[2]) != (first[1], first[2]) or run.weights[0][0] == run.weights[-1][0]
    slider.send_keys(Keys.HOME, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    assert browser.execute_script("return window.live.state()") == 2
    # the numbers shown for each step are the engine's, for the loss and the accuracy
    for k in range(T):
        browser.execute_script("window.live.show(arguments[0])", k)
        _, stroke, _, loss_text, acc_text, _, _ = browser.execute_script(READ, "e0_0_0")
        assert abs(number_after(loss_text, "loss") - run.losses[k]) <= 1.1e-5
        assert acc_text == f"accuracy {round(100 * run.accuracies[k])}%"
        w = run.weights[k][0]  # the edge's colour is its weight's sign, its width grows with |w|
        assert stroke == ("rgb(41,98,201)" if w >= 0 else "rgb(214,72,30)")
        # the page's own forward pass (from the stored weights) gives the engine's score
        got = browser.execute_script("return window.live.score(arguments[0], arguments[1])", k, run.X[P])
        assert close(got, run.nodes[k][-1][1], 2e-3, 1e-3), k
    widths = browser.execute_script(
        "window.live.show(0); return Array.prototype.map.call(document.querySelectorAll('line.e'),"
        " function (e) { return [e.id, parseFloat(e.getAttribute('stroke-width'))]; })")
    layer0 = {i: wd for i, wd in widths if i.startswith("e0_")}
    j, i = max(((j, i) for j in range(5) for i in (0, 1)), key=lambda q: abs(run.weights[0][q[0] * 3 + q[1]]))
    assert max(layer0, key=layer0.__getitem__) == f"e0_{j}_{i}"
    # hover a neuron at step 3: value, adjoint and local derivative of the chosen point
    k = 3
    browser.execute_script("window.live.show(3)")
    ActionChains(browser).move_to_element(browser.find_element("id", "u1_1")).perform()
    tip = browser.find_element("id", "tip")
    WebDriverWait(browser, 5).until(lambda d: tip.is_displayed())
    text = tip.text
    dot_, z, yv, adj_z, adj_y, local = run.nodes[k][1]
    assert text.startswith("layers.0.neurons.1 (ReLU)") and f"point #{P} " in text and "step 3" in text
    for prefix, want in (("s = w·h =", dot_), ("z = s + b =", z), ("y = relu(z) =", yv),
                         ("adjoint ∂L/∂y =", adj_y), ("0 if z ≤ 0 else 1 =", local),
                         ("adjoint ∂L/∂z = ∂L/∂y · ∂y/∂z =", adj_z)):
        assert close(number_after(text, prefix), want, 1e-3, 1e-9), (prefix, text)
    assert browser.find_element("id", "info").text == text  # the panel says the same
    # hover an edge: the weight of layers.1.neurons.2.w[0], its gradient, its local derivatives
    browser.execute_script(
        "var e = document.querySelector('line.hit[data-id=\"e:1:2:0\"]'), r = e.getBoundingClientRect();"
        "e.dispatchEvent(new MouseEvent('mouseover', {bubbles: true, clientX: r.left, clientY: r.top}));")
    text = browser.find_element("id", "info").text
    wi = 5 * 3 + 2 * 6 + 0
    assert text.startswith("weight layers.1.neurons.2.w[0] (from layers.0.neurons.0)")
    assert close(number_after(text, "value w ="), run.weights[k][wi], 1e-3)
    assert close(number_after(text, "points + L2) ="), run.grads[k][wi], 1e-3, 1e-9)
    h = run.nodes[k][0][2]
    assert close(number_after(text, "local ∂(w·h)/∂w = h ="), h, 1e-3, 1e-9)
    assert close(number_after(text, "this point: ∂L/∂z · h ="), run.nodes[k][5 + 2][3] * h, 2e-3, 1e-9)
    # the toggle: gradients. The widest edge of layer 0 is the largest |gradient| at this step
    browser.find_element("css selector", "input[name=mode][value=grad]").click()
    widths = browser.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('line.e'),"
        " function (e) { return [e.id, parseFloat(e.getAttribute('stroke-width'))]; })")
    layer0 = {i: wd for i, wd in widths if i.startswith("e0_")}
    j, i = max(((j, i) for j in range(5) for i in (0, 1)), key=lambda q: abs(run.grads[k][q[0] * 3 + q[1]]))
    assert layer0[f"e0_{j}_{i}"] == max(layer0.values()) == 4.0
    # play: the steps advance by themselves and stop at the last one
    browser.execute_script("window.live.show(0)")
    browser.find_element("id", "play").click()
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return window.live.state()") > 0)
    WebDriverWait(browser, 20).until(
        lambda d: d.execute_script("return !window.live.playing() && window.live.state()") == T - 1)
    assert browser.find_element("id", "stepText").text == f"step {T - 1} / {T - 1}"
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert console_errors(browser) == []


LAYOUT = """
var net = document.getElementById('net').getBoundingClientRect();
var pane = document.getElementById('netPane').getBoundingClientRect();
var texts = Array.prototype.map.call(document.querySelectorAll('#net text, #losssvg text'), function (t) {
  return parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a;
});
return {doc: document.documentElement.scrollWidth, view: innerWidth, net: [net.left, net.right],
        pane: [pane.left, pane.right], font: Math.min.apply(null, texts)};
"""


@pytest.mark.parametrize("size", [(1400, 900), (390, 844)], ids=["1400x900", "390x844"])
def test_the_page_fits_the_window(browser: Any, run: live.Recording, tmp_path: Path,  # noqa: F811
                                  size: tuple[int, int]) -> None:
    browser.set_window_size(*size)
    browser.get(live.write_page(run, tmp_path).as_uri())
    g = browser.execute_script(LAYOUT)
    assert g["doc"] <= g["view"] + 1, g  # no sideways scrolling
    assert g["pane"][0] - 1 <= g["net"][0] and g["net"][1] <= g["pane"][1] + 1, g
    assert g["font"] >= 9.5, g  # the network's and the loss curve's text stay readable
    assert console_errors(browser) == []
