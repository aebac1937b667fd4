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
from autograd.viz._model import fmt4
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
    assert len(data["steps"]) == len(order)
    assert [s["node"] for s in data["steps"]] == list(range(len(order) - 1, -1, -1))
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


@pytest.mark.parametrize("layout", LAYOUTS)
def test_stepping_in_chromium(browser: Any, tmp_path: Path, layout: str) -> None:
    root = shared()
    path = animate_backward(root, tmp_path / f"steps-{layout}.html", layout=layout)  # type: ignore[arg-type]
    order = toposort(root)
    root.backward()
    final = {f"n{i}": fmt4(v.grad) for i, v in enumerate(order)}
    n = len(order)
    browser.get(path.as_uri())
    assert browser.find_element("id", "counter").text == f"step 0 / {n}"
    grads = shown_grads(browser)
    assert all(text is not None for _, text, _ in grads)
    assert {nid: text for nid, text, _ in grads if not text.endswith("·")} == {
        f"n{n - 1}": "grad 1.000"
    }
    nxt = browser.find_element("id", "next")
    ia = next(i for i, v in enumerate(order) if v.label == "a")
    saw_partial_a = False
    for k in range(1, n + 1):
        nxt.click()
        visited = order[n - k]
        assert current(browser) == [f"n{n - k}"], k
        assert browser.find_element("css selector", "body").get_attribute("data-state") == str(k)
        for nid, text, cls in shown_grads(browser):
            i = int(nid[1:])
            if i >= n - k:  # visited: complete, and equal to the engine's gradient
                assert text == f"grad {final[nid]}", (k, nid)
                assert "g-final" in cls
            elif text != "grad ·":
                assert "g-partial" in cls
                if i == ia:
                    saw_partial_a = text != f"grad {final[nid]}" or saw_partial_a
        # the chain-rule products of this step are shown beside the graph
        panel = browser.find_element("id", "explain").text
        if visited._op:
            adjoint = fmt4(visited.grad)
            for d in local_grads(visited):
                assert f"{adjoint} × {fmt4(d)} = {fmt4(visited.grad * d)}" in panel, (k, panel)
            assert len(browser.find_elements("css selector", "g.receiving")) == len(
                set(visited._prev)
            )
        else:
            assert "leaf" in panel
    assert saw_partial_a  # a's gradient was shown mid-accumulation
    assert nxt.get_attribute("disabled") is not None
    # keys and slider
    body = browser.find_element("css selector", "body")
    from selenium.webdriver.common.keys import Keys

    body.send_keys(Keys.HOME)
    assert current(browser) == [] and browser.find_element("id", "counter").text.startswith("step 0")
    body.send_keys(Keys.ARROW_RIGHT)
    body.send_keys(Keys.ARROW_RIGHT)
    assert current(browser) == [f"n{n - 2}"]
    body.send_keys(Keys.ARROW_LEFT)
    assert current(browser) == [f"n{n - 1}"]
    body.send_keys(Keys.END)
    assert current(browser) == ["n0"]
    assert {nid: text for nid, text, _ in shown_grads(browser)} == {
        nid: f"grad {g}" for nid, g in final.items()
    }
    browser.execute_script(
        "var s = document.getElementById('slider'); s.value = '3';"
        "s.dispatchEvent(new Event('input'));"
    )
    assert current(browser) == [f"n{n - 3}"]
    browser.find_element("id", "prev").click()
    assert current(browser) == [f"n{n - 2}"]
    assert console_errors(browser) == []
