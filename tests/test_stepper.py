"""autograd.viz.animate_backward: one self-contained HTML page, tested in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autograd import Value, local_grads, toposort
from autograd.viz import GraphTooLargeError, animate_backward, available_renderers
from autograd.viz._labels import fmt4
from tests.graphs import neuron


def shared() -> Value:
    """a is used twice, so its gradient accumulates over two steps."""
    a, b = Value(0.5, label="a"), Value(-1.5, label="b")
    y = (a * b + a).tanh() * 2.0
    y.label = "y"
    return y


def page_data(html: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="stepper-data">(.*?)</script>', html, re.S)
    assert m
    data: dict[str, Any] = json.loads(m.group(1))
    return data


# -- the file itself ---------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["auto", "simple"])
def test_page_is_self_contained(tmp_path: Path, layout: str) -> None:
    out = animate_backward(neuron(), tmp_path / "steps.html", layout=layout)  # type: ignore[arg-type]
    html = out.read_text(encoding="utf-8")
    assert out == tmp_path / "steps.html"
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "{{" not in html  # every placeholder filled
    lowered = html.lower()
    for external in ("<link", "@import", 'src="http', "src='http", 'href="http', "url(http",
                     "<script src", "fetch(", "xmlhttprequest"):
        assert external not in lowered, external
    assert html.count("<svg") == 1 and 'id="n9"' in html and 'id="op9"' in html


def test_page_data_matches_the_engine(tmp_path: Path) -> None:
    root = shared()
    before = [(v.data, v.grad) for v in toposort(root)]
    html = animate_backward(root, tmp_path / "s.html").read_text(encoding="utf-8")
    assert [(v.data, v.grad) for v in toposort(root)] == before  # nothing changed, no backward
    data = page_data(html)
    order = toposort(root)
    root.backward()
    # one step per op node, in reverse topological order; leaves are finished by the step of
    # their last use, and every node but the root is completed by exactly one step
    assert [s["node"] for s in data["steps"]] == op_steps(order)
    completed = [i for s in data["steps"] for i in s["completes"]]
    assert sorted(completed) == list(range(len(order) - 1))
    for s in data["steps"]:
        for i in s["completes"]:
            last = min(j for j, u in enumerate(order) if order[i] in u._prev)  # visited last
            assert s["node"] == last, (i, s["node"])
    assert [n["uses"] for n in data["nodes"]] == [
        sum(1 for u in order for p in u._prev if p is v) for v in order
    ]
    for i, v in enumerate(order):
        assert data["nodes"][i]["grad"] == fmt4(v.grad)
    # the chain-rule product of every step: adjoint x local = carried
    for s in data["steps"]:
        for c in s["contribs"]:
            assert abs(float(s["adjoint"]) * float(c["local"]) - float(c["carried"])) <= 1e-3 * (
                1 + abs(float(c["carried"]))
            )


def test_page_arguments(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        animate_backward(3.0, tmp_path / "x.html")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="layout"):
        animate_backward(neuron(), tmp_path / "x.html", layout="circle")  # type: ignore[arg-type]
    x = Value(1.0, label="x")
    y = x
    for _ in range(400):
        y = y + x
    with pytest.raises(GraphTooLargeError):
        animate_backward(y, tmp_path / "big.html")
    # a path without .html gets it
    assert animate_backward(neuron(), tmp_path / "plain").suffix == ".html"


def test_labels_cannot_break_out_of_the_page(tmp_path: Path) -> None:
    x = Value(1.0, label="</script><script>alert(1)</script>{{DATA}}")
    y = x * 2
    html = animate_backward(y, tmp_path / "x.html", layout="simple").read_text()
    assert "<script>alert" not in html
    assert html.count("</script>") == 2
    assert any(n["name"].startswith("</script>") for n in page_data(html)["nodes"])


# -- in a real browser ------------------------------------------------------------------------------

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                             "/usr/bin/chromium") if p and Path(p).exists()), None)
CHROMEDRIVER = next((p for p in (shutil.which("chromedriver"), "/usr/bin/chromedriver",
                                 "/usr/lib/chromium/chromedriver") if p and Path(p).exists()), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium is not installed (pip install selenium)"
    )
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="adjointgrad-chromium-")
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1400,900", f"--user-data-dir={profile}",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def shown_grads(driver: Any) -> list[tuple[str, str, str]]:
    """(node id, grad text, class) for every value node on the page."""
    rows: list[list[str]] = driver.execute_script(
        """
        return window.stepper.data.nodes.map(function (n, i) {
          var t = document.querySelector('#n' + i + ' text.grad');
          return ['n' + i, t ? t.textContent : null, t ? t.getAttribute('class') : null];
        });
        """
    )
    return [(r[0], r[1], r[2]) for r in rows]


def current(driver: Any) -> list[str]:
    return [e.get_attribute("id") for e in driver.find_elements("css selector", "g.current")]


def console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


LAYOUTS = ["simple"] + (["graphviz"] if available_renderers("svg") else [])


def op_steps(order: list[Value]) -> list[int]:
    """The nodes the page visits, in order: every op node, in reverse topological order."""
    return [i for i in range(len(order) - 1, -1, -1) if order[i]._op] or [len(order) - 1]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_stepping_in_chromium(browser: Any, tmp_path: Path, layout: str) -> None:
    browser.set_window_size(1400, 900)
    root = shared()
    path = animate_backward(root, tmp_path / f"steps-{layout}.html", layout=layout)  # type: ignore[arg-type]
    order = toposort(root)
    root.backward()
    final = {f"n{i}": fmt4(v.grad) for i, v in enumerate(order)}
    visits = op_steps(order)
    n = len(visits)
    browser.get(path.as_uri())
    assert browser.find_element("id", "counter").text == f"step 0 / {n}"
    grads = shown_grads(browser)
    assert all(text is not None for _, text, _ in grads)
    assert {nid: text for nid, text, _ in grads if not text.endswith("·")} == {
        f"n{len(order) - 1}": "grad 1.000"
    }
    nxt = browser.find_element("id", "next")
    ia = next(i for i, v in enumerate(order) if v.label == "a")
    saw_partial_a = False
    for k in range(1, n + 1):
        nxt.click()
        node = visits[k - 1]
        visited = order[node]
        done = set(visits[:k])
        assert current(browser) == [f"n{node}"], k
        assert browser.find_element("css selector", "body").get_attribute("data-state") == str(k)
        for nid, text, cls in shown_grads(browser):
            i = int(nid[1:])
            # uses of node i still to pass their share: one per argument slot of an unvisited node
            pending = sum(
                1 for j, u in enumerate(order) if u._op and j not in done for p in u._prev
                if p is order[i]
            )
            if i in done or (text != "grad ·" and pending == 0):
                # green means complete, and then it is the engine's gradient
                assert text == f"grad {final[nid]}", (k, nid)
                assert "g-final" in cls, (k, nid, cls)
            elif text != "grad ·":
                assert "g-partial" in cls and pending > 0, (k, nid, cls)
                if i == ia:
                    saw_partial_a = text != f"grad {final[nid]}" or saw_partial_a
        # the chain-rule products of this step are shown beside the graph
        panel = browser.find_element("id", "explain").text
        adjoint = fmt4(visited.grad)
        for d in local_grads(visited):
            assert f"{adjoint} × {fmt4(d)} = {fmt4(visited.grad * d)}" in panel, (k, panel)
        receiving = [e.get_attribute("id") for e in browser.find_elements("css selector", "g.receiving")]
        assert len([r for r in receiving if re.fullmatch(r"n\d+", r)]) == len(set(visited._prev))
        # a leaf is finished in the step of its last use
        for p in set(visited._prev):
            last_use = min(j for j, u in enumerate(order) if p in u._prev) == node
            if not p._op and last_use:
                assert f"{p.label or '%' + str(order.index(p))} (" in panel.split("last use of")[1], panel
    assert saw_partial_a  # a's gradient was shown mid-accumulation
    assert nxt.get_attribute("disabled") is not None
    # keys and slider
    body = browser.find_element("css selector", "body")
    from selenium.webdriver.common.keys import Keys

    body.send_keys(Keys.HOME)
    assert current(browser) == [] and browser.find_element("id", "counter").text.startswith("step 0")
    body.send_keys(Keys.ARROW_RIGHT)
    body.send_keys(Keys.ARROW_RIGHT)
    assert current(browser) == [f"n{visits[1]}"]
    body.send_keys(Keys.ARROW_LEFT)
    assert current(browser) == [f"n{visits[0]}"]
    body.send_keys(Keys.END)
    assert current(browser) == [f"n{visits[-1]}"]
    assert {nid: text for nid, text, _ in shown_grads(browser)} == {
        nid: f"grad {g}" for nid, g in final.items()
    }
    assert all("g-final" in cls for _, _, cls in shown_grads(browser))
    browser.execute_script(
        "var s = document.getElementById('slider'); s.value = '3';"
        "s.dispatchEvent(new Event('input'));"
    )
    assert current(browser) == [f"n{visits[2]}"]
    browser.find_element("id", "prev").click()
    assert current(browser) == [f"n{visits[1]}"]
    assert console_errors(browser) == []


def test_a_graph_of_one_leaf_has_one_step(browser: Any, tmp_path: Path) -> None:
    path = animate_backward(Value(2.0, label="x"), tmp_path / "leaf.html", layout="simple")
    browser.get(path.as_uri())
    assert browser.find_element("id", "counter").text == "step 0 / 1"
    browser.find_element("id", "next").click()
    assert current(browser) == ["n0"] and "nothing to pass on" in browser.find_element("id", "explain").text
    assert console_errors(browser) == []


# -- readable at common window sizes, checked by DOM geometry ----------------------------------------

SHOTS = Path(tempfile.gettempdir()) / "adjointgrad-stepper-shots"


def moons_net() -> Value:
    from nn import MLP

    model = MLP(2, [4, 4, 1], seed=0)
    loss = (1 - model([0.5, -1.0])).relu()
    loss.label = "loss"
    return loss


GEOMETRY = """
var graph = document.getElementById('graph');
var p = graph.getBoundingClientRect();
var texts = Array.prototype.map.call(document.querySelectorAll('#graph svg text'), function (t) {
  var f = parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a;
  return [f, t.getBoundingClientRect().height];
});
var k = window.stepper.state(), D = window.stepper.data;
var cur = document.getElementById('n' + (k === 0 ? D.root : D.steps[k - 1].node));
var r = cur.getBoundingClientRect();
var aside = document.querySelector('aside').getBoundingClientRect();
return {
  minFont: Math.min.apply(null, texts.map(function (x) { return x[0]; })),
  minHeight: Math.min.apply(null, texts.map(function (x) { return x[1]; })),
  pane: [p.left, p.top, p.right, p.bottom],
  node: [r.left, r.top, r.right, r.bottom],
  view: [window.innerWidth, window.innerHeight],
  docWidth: document.documentElement.scrollWidth,
  aside: [aside.left, aside.top, aside.right, aside.bottom],
  scale: parseFloat(graph.getAttribute('data-scale')),
};
"""


def check_geometry(g: dict[str, Any], where: str) -> None:
    vw, vh = g["view"]
    assert g["minFont"] >= 10 and g["minHeight"] >= 10, (where, g["minFont"], g["minHeight"])
    left, top, right, bottom = g["node"]
    pl, pt, pr, pb = g["pane"]
    assert pl - 1 <= left and right <= pr + 1 and pt - 1 <= top and bottom <= pb + 1, (where, g)
    assert 0 <= left and right <= vw and 0 <= top and bottom <= vh, (where, g)  # in the window
    assert g["docWidth"] <= vw + 1, (where, "the page is wider than the window")
    # the graph pane fills the height it has
    assert pb - pt >= 0.55 * vh, (where, "graph pane too short", g["pane"], vh)


SIZES = [(800, 600), (1024, 768), (1400, 900), (390, 800)]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_readable_at_common_sizes(browser: Any, tmp_path: Path, size: tuple[int, int], layout: str) -> None:
    w, h = size
    browser.set_window_size(w, h)
    root = moons_net()
    path = animate_backward(root, tmp_path / "net.html", layout=layout)  # type: ignore[arg-type]
    browser.get(path.as_uri())
    vw, vh = browser.execute_script("return [window.innerWidth, window.innerHeight]")
    n = len(page_data(path.read_text(encoding="utf-8"))["steps"])
    SHOTS.mkdir(exist_ok=True)
    for mode in ("fit", "1:1"):
        if mode == "1:1":
            browser.find_element("id", "zoom").click()
            scale = "return document.getElementById('graph').getAttribute('data-scale')"
            assert browser.execute_script(scale) == "1.000"
        for k in sorted({0, 1, n // 3, n // 2, n - 2, n}):
            browser.execute_script("window.stepper.show(arguments[0])", k)
            g = browser.execute_script(GEOMETRY)
            check_geometry(g, f"{layout} {vw}x{vh} {mode} step {k}")
            if k == n // 2:
                browser.save_screenshot(str(SHOTS / f"{layout}-{w}x{h}-{mode.replace(':', '_')}.png"))
    g = browser.execute_script(GEOMETRY)
    if vw <= 760:  # narrow: the panel goes below the graph
        assert g["aside"][1] >= g["pane"][3] - 1, g
    else:  # wide: beside it
        assert g["aside"][0] >= g["pane"][2] - 1, g
    assert console_errors(browser) == []


EDGE_HITS = """
var drawn = document.querySelectorAll('#graph g.node.value, #graph g.node.proxy');
var boxes = Array.prototype.map.call(drawn, function (g) {
  var r = g.querySelector('rect').getBoundingClientRect();
  return [g.id, r.left, r.top, r.right, r.bottom];
});
var hits = [];
Array.prototype.forEach.call(document.querySelectorAll('#graph g.edge'), function (e) {
  var m = /^e(\\d+)_(\\d+)$/.exec(e.id), head = 'n' + m[1];
  var path = e.querySelector('path'), len = path.getTotalLength(), ctm = path.getScreenCTM();
  var parents = window.stepper.data.nodes.length;
  for (var s = 0; s <= len; s += 1.5) {
    var q = path.getPointAtLength(s);
    var x = ctm.a * q.x + ctm.c * q.y + ctm.e, y = ctm.b * q.x + ctm.d * q.y + ctm.f;
    boxes.forEach(function (b) {
      if (b[0] === head) return;  // its own head box (it ends at the border)
      if (x > b[1] + 1.5 && x < b[3] - 1.5 && y > b[2] + 1.5 && y < b[4] - 1.5)
        hits.push([e.id, b[0], Math.round(x), Math.round(y)]);
    });
  }
});
return [hits, document.querySelectorAll('#graph g.edge').length];
"""


def skip_graph() -> Value:
    """The README's example, where `a` feeds both `%2 = a * b` and `%3 = %2 + a` (skips a column)."""
    return shared()


def rnn(steps: int = 12) -> Value:
    """A tanh RNN unrolled: w, u and b are used at every step."""
    w, u, b = Value(0.5, label="w"), Value(0.3, label="u"), Value(0.1, label="b")
    h = Value(0.0, label="h0")
    for t in range(steps):
        h = (w * h + u * Value(0.1 * t, label=f"x{t}") + b).tanh()
    h.label = "h"
    return h


def test_built_in_layout_keeps_an_unrolled_rnn_flat() -> None:
    """Each node sits just before its first use and shared inputs get dashed copies, so 12
    unrolled steps stay 5 rows tall instead of growing a lane per reuse."""
    from autograd.viz._layout import simple_svg

    order = toposort(rnn(12))
    svg = simple_svg(order, ["grad ·"] * len(order))
    m = re.search(r'viewBox="0 0 (\S+) (\S+)"', svg)
    assert m and float(m.group(2)) <= 5 * 90
    assert svg.count('class="node proxy"') == 3 * 11  # w, u, b again at steps 2..12


@pytest.mark.parametrize(
    "make",
    [skip_graph, moons_net, neuron, rnn],
    ids=["readme-example", "mlp", "neuron", "rnn"],
)
def test_built_in_layout_edges_never_cross_a_node(browser: Any, tmp_path: Path, make: Any) -> None:
    browser.set_window_size(1400, 900)
    root = make()
    path = animate_backward(root, tmp_path / "g.html", layout="simple")
    browser.get(path.as_uri())
    browser.find_element("id", "zoom").click()  # 1:1
    hits, count = browser.execute_script(EDGE_HITS)
    assert count == sum(len(v._prev) for v in toposort(root) if v._op)  # every edge is drawn
    assert hits == []


def test_long_edges_take_their_own_slot(browser: Any, tmp_path: Path) -> None:
    """A chain with an input reused at every step: each long edge must route around the chain."""
    x = Value(0.7, label="x")
    y = x
    for _ in range(6):
        y = (y * x).tanh()
    y.label = "y"
    path = animate_backward(y, tmp_path / "chain.html", layout="simple")
    browser.set_window_size(1400, 900)
    browser.get(path.as_uri())
    hits, _ = browser.execute_script(EDGE_HITS)
    assert hits == []
    # x is drawn in full once and as a dashed copy beside each later use: two rows, not seven
    proxies = browser.find_elements("css selector", "#graph g.node.proxy")
    assert len(proxies) == 5
    height = browser.execute_script("return document.querySelector('#graph svg').viewBox.baseVal.height")
    assert height < 3 * 90
    # a copy lights up with its input when gradient flows through it
    browser.execute_script("window.stepper.show(1)")  # visit y = tanh(...): nothing to x
    browser.execute_script("window.stepper.show(2)")  # visit the last product: x receives
    lit = [e.get_attribute("id") for e in browser.find_elements("css selector", "g.receiving")]
    assert "n0" in lit and any(i.startswith("p") for i in lit), lit


def test_readme_stepper_example_quotes_the_page(tmp_path: Path) -> None:
    """The README's stepper bullet points quote the page for its own example graph."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### The backprop stepper", 1)[1].split("\n### ", 1)[0]
    quoted = re.findall(r"`([^`]*(?:∂|\+=)[^`]*)`", section)
    assert len(quoted) >= 2, quoted
    data = page_data(animate_backward(shared(), tmp_path / "r.html").read_text(encoding="utf-8"))
    names = [n["name"] for n in data["nodes"]]
    lines = []
    for st in data["steps"]:
        for c in st["contribs"]:
            me, arg = names[st["node"]], names[c["parent"]]
            lines.append(f"∂{me}/∂{arg} = {c['rule']} = {c['local']}")
            lines.append(f"grad({arg}) += {st['adjoint']} × {c['local']} = {c['carried']}")
    for q in quoted:
        assert q in lines, (q, lines)


def test_program_beside_the_graph_highlights_each_step(browser: Any, tmp_path: Path) -> None:
    from autograd import compile as compile_program

    browser.set_window_size(1024, 768)
    root = shared()
    program = compile_program(root)
    lines = program.source.splitlines()
    path = animate_backward(root, tmp_path / "prog.html", layout="simple")
    browser.get(path.as_uri())
    data = page_data(path.read_text(encoding="utf-8"))
    assert data["program"] == lines
    script = """
        var hl = Array.prototype.slice.call(document.querySelectorAll('#program span.hl'));
        var box = document.getElementById('program').getBoundingClientRect();
        return hl.map(function (s) {
          var r = s.getBoundingClientRect();
          return [s.id, s.textContent, r.top >= box.top - 1 && r.bottom <= box.bottom + 1];
        });
    """
    for k in range(len(data["steps"]) + 1):
        browser.execute_script("window.stepper.show(arguments[0])", k)
        shown = browser.execute_script(script)
        if k == 0:  # the seed: the output's adjoint is 1
            assert [t for _, t, _ in shown] == [lines[program.seed_line - 1]]
            assert shown[0][1].strip().endswith("_bar = 1.0")
        else:
            node = data["steps"][k - 1]["node"]
            first, last = program.blocks[node]
            assert [i for i, _, _ in shown] == [f"pl{j}" for j in range(first, last + 1)]
            assert shown[0][1].strip().startswith("# ")  # headed by the forward statement
            assert all(visible for _, _, visible in shown), (k, shown)
        assert browser.find_element("tag name", "body").get_attribute("data-program-lines")
    # Next and the arrow keys move the highlight too
    browser.execute_script("window.stepper.show(0)")
    browser.find_element("id", "next").click()
    node = data["steps"][0]["node"]
    assert browser.find_element("tag name", "body").get_attribute("data-program-lines") == "-".join(
        map(str, program.blocks[node])
    )
    assert console_errors(browser) == []


# -- a small graph at every size: whole, no blank gap, program lines inside their box ------------

WHOLE = """
var graph = document.getElementById('graph'), svg = graph.querySelector('svg');
var p = graph.getBoundingClientRect(), s = svg.getBoundingClientRect();
var aside = document.querySelector('aside').getBoundingClientRect();
var prog = document.getElementById('program'), box = prog.getBoundingClientRect();
var spans = Array.prototype.map.call(prog.children, function (sp) {
  return sp.getBoundingClientRect().right;
});
var k = window.stepper.state(), D = window.stepper.data;
var cur = document.getElementById('n' + (k === 0 ? D.root : D.steps[k - 1].node)).getBoundingClientRect();
return {
  pane: [p.left, p.top, p.right, p.bottom], svg: [s.left, s.top, s.right, s.bottom],
  node: [cur.left, cur.top, cur.right, cur.bottom],
  scroll: [graph.scrollWidth, graph.clientWidth, graph.scrollHeight, graph.clientHeight],
  aside: [aside.left, aside.top], view: [window.innerWidth, window.innerHeight],
  docWidth: document.documentElement.scrollWidth, padding: parseFloat(getComputedStyle(graph).paddingTop),
  program: [prog.scrollWidth, prog.clientWidth, box.right, Math.max.apply(null, spans)],
  scale: parseFloat(graph.getAttribute('data-scale')), drawing: graph.getAttribute('data-drawing'),
  texts: Math.min.apply(null, Array.prototype.map.call(svg.querySelectorAll('text'), function (t) {
    return parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a;
  })),
};
"""

SMALL_SIZES = [(390, 844), (800, 600), (1024, 768), (1400, 900)]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("size", SMALL_SIZES, ids=[f"{w}x{h}" for w, h in SMALL_SIZES])
def test_a_small_graph_is_whole_at_every_size(
    browser: Any, tmp_path: Path, size: tuple[int, int], layout: str
) -> None:
    """The README's example: the whole graph in view with text of 11 px or more (drawn across
    or down, whichever fits), else scrolled to the node being visited; no horizontal scrollbar;
    narrow, the panel follows the graph without a gap; program lines wrap inside their box."""
    w, h = size
    browser.set_window_size(w, h)
    path = animate_backward(shared(), tmp_path / "small.html", layout=layout)  # type: ignore[arg-type]
    browser.get(path.as_uri())
    n = len(page_data(path.read_text(encoding="utf-8"))["steps"])
    SHOTS.mkdir(exist_ok=True)
    for k in range(n + 1):
        browser.execute_script("window.stepper.show(arguments[0])", k)
        g = browser.execute_script(WHOLE)
        where = f"{layout} {w}x{h} step {k}: {g}"
        (pl, pt, pr, pb), (sl, st, sr, sb) = g["pane"], g["svg"]
        whole = pl - 1 <= sl and sr <= pr + 1 and pt - 1 <= st and sb <= pb + 1
        sw, cw, sh, ch = g["scroll"]
        if layout == "simple" or w in (390, 1024, 1400):
            assert whole and sw <= cw + 1 and sh <= ch + 1, where  # nothing to scroll
        else:  # too big for the pane at readable size: scrolled to the node being visited
            left, top, right, bottom = g["node"]
            assert whole or (pl - 1 <= left and right <= pr + 1 and pt - 1 <= top and bottom <= pb + 1), where
        assert g["texts"] >= 10.5, where
        assert g["docWidth"] <= g["view"][0] + 1, where
        if w <= 760:  # the panel right below the graph, and the pane as tall as the drawing
            assert abs(g["aside"][1] - pb) <= 1 and pb - sb <= g["padding"] + 16, where
        else:
            assert g["aside"][0] >= pr - 1, where
        scroll_w, client_w, box_right, line_right = g["program"]
        assert scroll_w <= client_w + 1 and line_right <= box_right + 1, where  # lines wrap
        if k == 2:
            browser.save_screenshot(str(SHOTS / f"small-{layout}-{w}x{h}.png"))
    assert console_errors(browser) == []


def test_a_wide_pane_draws_across_and_a_narrow_one_down(browser: Any, tmp_path: Path) -> None:
    path = animate_backward(shared(), tmp_path / "turn.html", layout="simple")
    drawn = []
    for w, h in ((1400, 900), (390, 844), (1400, 900)):  # and back, on resizing the window
        browser.set_window_size(w, h)
        if not drawn:
            browser.get(path.as_uri())
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(browser, 10).until(  # the window has its new size (slow on a busy machine)
            lambda d, w=w: abs(d.execute_script("return window.innerWidth") - w) <= 20
        )
        browser.execute_script("window.dispatchEvent(new Event('resize'))")
        drawn.append(browser.execute_script(
            "var s = document.querySelector('#graph svg').viewBox.baseVal;"
            "return [document.getElementById('graph').getAttribute('data-drawing'), s.width > s.height];"
        ))
        # the grad fields of the drawing shown are the ones kept up to date
        browser.execute_script("window.stepper.show(window.stepper.data.steps.length)")
        assert all(cls and "g-final" in cls for _, _, cls in shown_grads(browser)), (w, h)
    assert drawn == [["across", True], ["down", False], ["across", True]]
    assert len(browser.find_elements("css selector", "svg")) == 1  # one drawing in the page
    assert console_errors(browser) == []


# -- graph and program linked both ways ------------------------------------------------------------

HIGHLIGHT = """
var ids = function (sel) {
  return Array.prototype.map.call(document.querySelectorAll(sel), function (e) { return e.id; });
};
var hl = ids('#program span.hl'), fwd = ids('#program span.fwd');
var first = document.querySelector('#program span.hl'), seen = false;
if (first) {  // the first lit line is in view: inside the program's box and the window
  var r = first.getBoundingClientRect(), box = document.getElementById('program').getBoundingClientRect();
  seen = r.top >= box.top - 1 && r.bottom <= box.bottom + 1 && r.top >= 0 && r.bottom <= innerHeight;
}
return [window.stepper.state(), ids('#graph g.current'), ids('#graph g.receiving'), hl, fwd, seen];
"""


def click_line(driver: Any, j: int) -> None:
    driver.find_element("id", f"pl{j}").click()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_clicking_a_program_line_or_a_node_highlights_the_other(
    browser: Any, tmp_path: Path, layout: str
) -> None:
    from autograd import compile as compile_program

    browser.set_window_size(1400, 900)
    root = shared()
    order = toposort(root)
    program = compile_program(root)
    lines = program.source.splitlines()
    path = animate_backward(root, tmp_path / "link.html", layout=layout)  # type: ignore[arg-type]
    browser.get(path.as_uri())
    data = page_data(path.read_text(encoding="utf-8"))
    state_of = {st["node"]: k + 1 for k, st in enumerate(data["steps"])}

    def block(i: int) -> list[str]:
        first, last = program.blocks[i]
        return [f"pl{j}" for j in range(first, last + 1)]

    # a line of a node's adjoint block: that node is visited, its whole block lit
    for i, (first, last) in sorted(program.blocks.items()):
        browser.execute_script("window.stepper.show(0)")
        click_line(browser, last)
        state, cur, _, hl, fwd, _ = browser.execute_script(HIGHLIGHT)
        assert (state, cur, hl) == (state_of[i], [f"n{i}"], block(i)), (i, lines[last - 1])
        # and its forward statement, lit more faintly, is the line the block is headed by
        assert len(fwd) == 1 and "# " + lines[int(fwd[0][2:]) - 1].strip() == lines[first - 1].strip()
    # the forward statement of a node goes to the node too
    j = next(j for j, ln in enumerate(lines, 1) if ln.strip() == "v4 = tanh(v3)")
    click_line(browser, j)
    assert browser.execute_script(HIGHLIGHT)[1] == [f"n{order.index(root._prev[0])}"]
    # the seed line: the start, the output receiving its seed
    click_line(browser, program.seed_line)
    state, cur, receiving, hl, _, _ = browser.execute_script(HIGHLIGHT)
    assert (state, cur, hl) == (0, [], [f"pl{program.seed_line}"]) and f"n{len(order) - 1}" in receiving
    # a line that belongs to no node changes nothing
    browser.execute_script("window.stepper.show(2)")
    click_line(browser, 1)
    assert browser.execute_script(HIGHLIGHT)[0] == 2

    # a node of the graph: it is visited and its lines are lit
    for i in sorted(program.blocks):
        browser.execute_script("window.stepper.show(0)")
        browser.find_element("id", f"n{i}").click()
        state, cur, _, hl, _, seen = browser.execute_script(HIGHLIGHT)
        assert (state, cur, hl, seen) == (state_of[i], [f"n{i}"], block(i), True), i
        if i == 4:
            browser.save_screenshot(str(SHOTS / f"linked-node-{layout}.png"))
    # a leaf: the step that finishes it (its last use), where it receives its last share
    ia = next(i for i, v in enumerate(order) if v.label == "a")
    browser.find_element("id", f"n{ia}").click()
    state, cur, receiving, hl, _, seen = browser.execute_script(HIGHLIGHT)
    last_use = min(j for j, u in enumerate(order) if order[ia] in u._prev)
    assert cur == [f"n{last_use}"] and f"n{ia}" in receiving and hl == block(last_use) and seen
    assert any(lines[int(s[2:]) - 1].strip().startswith("a_bar +=") for s in hl)
    assert ia in data["steps"][state - 1]["completes"]
    if layout == "simple":  # its dashed copy beside a later use stands for it too
        browser.execute_script("window.stepper.show(0)")
        browser.find_element("css selector", "#graph g.node.proxy").click()
        assert browser.execute_script(HIGHLIGHT)[0] == state
    browser.save_screenshot(str(SHOTS / f"linked-leaf-{layout}.png"))
    assert console_errors(browser) == []


def test_a_structural_zero_is_a_step_with_local_derivative_0(browser: Any, tmp_path: Path) -> None:
    """An inactive relu under an infinite adjoint passes nothing back (the engine gives 0, not
    nan); the page still visits it and shows its local derivative as 0."""
    import math

    x = Value(-1.0, label="x")
    r = x.relu()
    y = r * Value(math.inf, label="big")
    y.label = "y"
    order = toposort(y)
    path = animate_backward(y, tmp_path / "zero.html", layout="simple")
    data = page_data(path.read_text(encoding="utf-8"))
    ir, ix = order.index(r), order.index(x)
    assert [s["node"] for s in data["steps"]] == op_steps(order)  # the relu is visited
    step = next(s for s in data["steps"] if s["node"] == ir)
    assert step["adjoint"] == "inf" and ix in step["completes"]
    (c,) = step["contribs"]
    got = (c["parent"], c["local"], c["carried"], c["after"], c["zero"])
    assert got == (ix, "0.000", "0.000", "0.000", True)
    y.backward()
    assert data["nodes"][ix]["grad"] == fmt4(x.grad) == "0.000"
    browser.set_window_size(1024, 768)
    browser.get(path.as_uri())
    browser.execute_script("window.stepper.show(arguments[0])", data["steps"].index(step) + 1)
    panel = browser.find_element("id", "explain").text
    assert "= 0 if x ≤ 0 else 1 = 0.000" in panel and "inf × 0.000 = 0.000" in panel
    assert "nothing is added" in panel
    assert shown_grads(browser)[ix][1] == "grad 0.000"
    assert console_errors(browser) == []
