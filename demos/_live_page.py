"""The page of `demos.live`: one HTML file with its CSS and JavaScript inline, no network access.

The page reads the run from a JSON block (``<script type="application/json" id="live-data">``)
and draws everything itself: the network in SVG, the decision boundary on a canvas (the MLP's
forward pass, recomputed in JavaScript from the stored weights), the loss curve in SVG. Its
Content-Security-Policy forbids every load but inline script and style (and data: images).
``window.live`` exposes the data and the controls (``show(k)``, ``state()``, ``describe(id)``,
``score(k, x)``) for the tests.
"""

from __future__ import annotations

__all__ = ["CSP", "render"]

CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"


def render(data_json: str) -> str:
    """The page with `data_json` (the run, as `demos.live.page_data` gives it) inlined."""
    safe = data_json.replace("</", "<\\/")  # no "</script>" can end the data block early
    return PAGE.replace("{{CSP}}", CSP).replace("{{DATA}}", safe)


PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{CSP}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>adjointgrad: a training run, step by step</title>
<style>
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1d2430; background: #f6f7f9; }
header { padding: 10px 16px 4px; }
h1 { font-size: 18px; margin: 0 0 2px; }
h2 { font-size: 13px; margin: 0 0 4px; color: #4a5568; font-weight: 600; }
#summary { margin: 0; color: #4a5568; font-size: 13px; }
#controls { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 14px; padding: 6px 16px;
            position: sticky; top: 0; z-index: 2; background: #f6f7f9; border-bottom: 1px solid #dde1e7; }
#play { font: inherit; font-weight: 600; min-width: 84px; padding: 4px 10px; border: 1px solid #2952a3;
        background: #2952a3; color: #fff; border-radius: 4px; cursor: pointer; }
#slider { flex: 1 1 220px; min-width: 160px; }
.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
#controls label { white-space: nowrap; cursor: pointer; }
main { display: grid; grid-template-columns: minmax(0, 1.1fr) minmax(0, 1fr); gap: 12px;
       padding: 10px 16px 16px; }
.pane { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: 8px 10px; min-width: 0; }
#side { display: flex; flex-direction: column; gap: 12px; min-width: 0; }
#net { display: block; width: 100%; height: auto; max-height: calc(100vh - 200px); margin: 0 auto; }
#net text { font-size: 12px; fill: #2d3748; }
#net .head { font-weight: 600; }
#net line.e { stroke-linecap: round; }
#net line.hit { stroke: transparent; stroke-width: 7; pointer-events: stroke; cursor: pointer; }
#net line.e.hl { stroke: #111 !important; stroke-opacity: 1 !important; }
#net circle { stroke: #2d3748; stroke-width: 1.2; cursor: pointer; }
#net circle.off { stroke-dasharray: 2.5 2; }
#net circle.hl { stroke: #111; stroke-width: 3; }
#legend { font-size: 12px; color: #4a5568; margin: 4px 0 0; }
#field { display: block; width: 100%; height: auto; max-height: 36vh; object-fit: contain; }
#losssvg { display: block; width: 100%; height: auto; max-height: 24vh; }
#losssvg text { font-size: 13px; fill: #4a5568; }
#info { font-size: 13px; min-height: 7.5em; }
#info b, #tip b { display: block; margin-bottom: 2px; }
#info div, #tip div { font-variant-numeric: tabular-nums; }
#tip { position: fixed; z-index: 5; pointer-events: none; max-width: 360px; background: #fff;
       border: 1px solid #8a94a6; border-radius: 4px; padding: 6px 8px; font-size: 12px;
       box-shadow: 0 2px 8px rgba(0, 0, 0, 0.15); }
.kl { color: rgb(41, 98, 201); }
.ka { color: rgb(214, 72, 30); }
.key { display: inline-block; width: 18px; height: 4px; vertical-align: middle; margin: 0 3px 0 8px; }
@media (max-width: 800px) {
  main { grid-template-columns: minmax(0, 1fr); padding: 8px; gap: 8px; }
  #controls { padding: 6px 8px; }
  header { padding: 8px 8px 2px; }
  #net { max-height: none; }
  #field, #losssvg { max-height: none; }
}
</style>
</head>
<body>
<header>
<h1>A training run, step by step</h1>
<p id="summary"></p>
</header>
<div id="controls">
<button id="play" type="button">&#9654; Play</button>
<input id="slider" type="range" min="0" max="0" value="0" step="1" aria-label="step">
<span id="stepText" class="num"></span>
<span id="lossText" class="num"></span>
<span id="accText" class="num"></span>
<span id="lrText" class="num"></span>
<span>colour by:
<label><input type="radio" name="mode" value="weight" checked> weights</label>
<label><input type="radio" name="mode" value="grad"> gradients</label></span>
</div>
<main>
<section class="pane" id="netPane">
<h2 id="netTitle">Network</h2>
<svg id="net" role="img" aria-label="the network"></svg>
<p id="legend"></p>
</section>
<div id="side">
<section class="pane"><h2 id="fieldTitle">Decision boundary</h2><canvas id="field"></canvas></section>
<section class="pane"><h2><span class="kl">Loss</span> (hinge + L2, log scale, left) and
<span class="ka">training accuracy</span> (right)</h2>
<svg id="losssvg" role="img" aria-label="loss curve"></svg></section>
<section class="pane" id="info"></section>
</div>
</main>
<div id="tip" hidden></div>
<script type="application/json" id="live-data">{{DATA}}</script>
<script>
(function () {
'use strict';
var D = JSON.parse(document.getElementById('live-data').textContent);
var S = D.sizes, NL = S.length - 1, T = D.loss.length, F = D.fields.length, N = D.X.length;
var P = D.point, XP = D.X[P];
var DOT = 0, Z = 1, Y = 2, AZ = 3, AY = 4, LOC = 5;
var NS = 'http://www.w3.org/2000/svg';
var POS = [41, 98, 201], NEG = [214, 72, 30];
function $(id) { return document.getElementById(id); }
function el(name, attrs, parent) {
  var e = document.createElementNS(NS, name);
  for (var a in attrs) e.setAttribute(a, attrs[a]);
  if (parent) parent.appendChild(e);
  return e;
}
function fmt(x) {
  if (x === 0) return '0';
  var a = Math.abs(x);
  if (a < 1e-3 || a >= 1e5) return x.toExponential(3).replace('e+', 'e');
  return String(parseFloat(x.toPrecision(4)));
}
function mix(c, t) {  // white to colour c by t in [0, 1]
  t = Math.max(0, Math.min(1, t));
  return 'rgb(' + c.map(function (v) { return Math.round(255 + (v - 255) * t); }).join(',') + ')';
}

// -- the parameters: model.parameters() order, per layer, per neuron: its weights, then its bias
var off = [], unitBase = [], np = 0, nu = 0;
for (var l = 0; l < NL; l++) {
  off.push(np); np += S[l + 1] * (S[l] + 1);
  unitBase.push(nu); nu += S[l + 1];
}
function wIndex(l, j, i) { return off[l] + j * (S[l] + 1) + i; }  // i = S[l]: the bias
function node(k, l, j, f) { return D.nodes[k][(unitBase[l] + j) * F + f]; }
function layerName(l, j) { return 'layers.' + l + '.neurons.' + j; }
function forward(w, x) {  // the MLP's score for point x from the flat parameter list w
  var h = x;
  for (var l = 0; l < NL; l++) {
    var n = S[l], out = new Array(S[l + 1]), relu = D.activations[l] === 'relu';
    for (var j = 0; j < S[l + 1]; j++) {
      var o = off[l] + j * (n + 1), s = 0;
      for (var i = 0; i < n; i++) s += w[o + i] * h[i];
      s += w[o + n];
      out[j] = relu && s <= 0 ? 0 : s;
    }
    h = out;
  }
  return h[0];
}

// -- the network ---------------------------------------------------------------------------
var net = $('net'), maxS = Math.max.apply(null, S);
var rowH = Math.max(26, Math.min(60, 300 / maxS)), colW = 96, left = 46, top = 52;
var NW = left + colW * NL + 52, NH = top + maxS * rowH + 6;
net.setAttribute('viewBox', '0 0 ' + NW + ' ' + NH);
net.style.maxWidth = Math.round(NW * 1.45) + 'px';  // a small network is not blown up
var pos = S.map(function (n, l) {
  var y0 = top + (maxS - n) * rowH / 2;
  var ps = [];
  for (var j = 0; j < n; j++) ps.push([left + colW * l, y0 + rowH * (j + 0.5)]);
  return ps;
});
var gEdges = el('g', {}, net), gHits = el('g', {}, net), gNodes = el('g', {}, net);
var edges = [], units = [];
for (l = 0; l < NL; l++) {
  for (var j = 0; j < S[l + 1]; j++) {
    for (var i = 0; i < S[l]; i++) {
      var a = pos[l][i], b = pos[l + 1][j], id = 'e:' + l + ':' + j + ':' + i;
      var ends = {x1: a[0], y1: a[1], x2: b[0], y2: b[1]};
      var line = el('line', Object.assign({'class': 'e', id: 'e' + l + '_' + j + '_' + i}, ends), gEdges);
      el('line', Object.assign({'class': 'hit', 'data-id': id}, ends), gHits);
      edges.push({l: l, j: j, i: i, el: line, id: id});
    }
  }
}
for (l = 0; l <= NL; l++) {
  var head = l === 0 ? ['input', S[0] + ' numbers'] : l === NL ? ['output', 'linear score']
    : ['hidden ' + l, S[l] + ' ' + (D.activations[l - 1] === 'relu' ? 'ReLU' : D.activations[l - 1])];
  var hx = left + colW * l;
  el('text', {x: hx, y: 16, 'text-anchor': 'middle', 'class': 'head'}, net).textContent = head[0];
  el('text', {x: hx, y: 30, 'text-anchor': 'middle'}, net).textContent = head[1];
  for (j = 0; j < S[l]; j++) {
    var p = pos[l][j], uid = 'u:' + l + ':' + j;
    var c = el('circle', {cx: p[0], cy: p[1], r: Math.min(9, rowH * 0.36), id: 'u' + l + '_' + j,
                          'data-id': uid}, gNodes);
    units.push({l: l, j: j, el: c, id: uid});
    var side = {x: p[0] - 14, y: p[1] + 4, 'text-anchor': 'end'};
    if (l === 0) el('text', side, net).textContent = 'x[' + j + ']';
    if (l === NL) el('text', {x: p[0] + 14, y: p[1] + 4}, net).textContent = 'score';
  }
}
var wmax = [], ymax = [];  // the largest |weight| of each layer and |value| of each column, over the run
for (l = 0; l < NL; l++) {
  var m = 1e-12;
  for (var k = 0; k < T; k++) {
    for (i = off[l]; i < off[l] + S[l + 1] * (S[l] + 1); i++) m = Math.max(m, Math.abs(D.w[k][i]));
  }
  wmax.push(m);
}
ymax.push(Math.max(Math.abs(XP[0]), Math.abs(XP[1]), 1e-12));
for (l = 0; l < NL; l++) {
  m = 1e-12;
  for (k = 0; k < T; k++) for (j = 0; j < S[l + 1]; j++) m = Math.max(m, Math.abs(node(k, l, j, Y)));
  ymax.push(m);
}
function unitValue(k, l, j) { return l === 0 ? XP[j] : node(k, l - 1, j, Y); }
function unitAdjoint(k, l, j) { return l === 0 ? D.xg[k][j] : node(k, l - 1, j, AY); }

// -- the decision boundary: the model's score on a grid, its zero contour, the points -----------
var xs = D.X.map(function (q) { return q[0]; }), ys = D.X.map(function (q) { return q[1]; });
var X0 = Math.min.apply(null, xs) - 0.5, X1 = Math.max.apply(null, xs) + 0.5;
var Y0 = Math.min.apply(null, ys) - 0.5, Y1 = Math.max.apply(null, ys) + 0.5;
var field = $('field'), CW = 520, CH = Math.round(CW * (Y1 - Y0) / (X1 - X0));
field.width = CW; field.height = CH;
var ctx = field.getContext('2d');
var GX = 64, GY = Math.max(8, Math.round(GX * (Y1 - Y0) / (X1 - X0)));
var small = document.createElement('canvas'); small.width = GX + 1; small.height = GY + 1;
var sctx = small.getContext('2d'), img = sctx.createImageData(GX + 1, GY + 1);
function cx(x) { return (x - X0) / (X1 - X0) * CW; }
function cy(y) { return (Y1 - y) / (Y1 - Y0) * CH; }
function drawField(k) {
  var w = D.w[k], grid = [];
  for (var r = 0; r <= GY; r++) {
    var row = [], yv = Y1 - (Y1 - Y0) * r / GY;
    for (var q = 0; q <= GX; q++) {
      var s = forward(w, [X0 + (X1 - X0) * q / GX, yv]);
      row.push(s);
      var t = Math.min(1, Math.abs(s)) * 0.55 + 0.12, col = s > 0 ? POS : NEG, o = 4 * (r * (GX + 1) + q);
      for (var ch = 0; ch < 3; ch++) img.data[o + ch] = Math.round(255 + (col[ch] - 255) * t);
      img.data[o + 3] = 255;
    }
    grid.push(row);
  }
  sctx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, GX + 1, GY + 1, -CW / GX / 2, -CH / GY / 2, CW + CW / GX, CH + CH / GY);
  // the zero contour, by marching squares over the grid's cells
  ctx.beginPath();
  var dx = CW / GX, dy = CH / GY;
  function cut(a, b) { return a / (a - b); }
  for (r = 0; r < GY; r++) {
    for (q = 0; q < GX; q++) {
      var v = [grid[r][q], grid[r][q + 1], grid[r + 1][q + 1], grid[r + 1][q]];
      var corner = [[0, 0], [1, 0], [1, 1], [0, 1]], pts = [];
      for (var e = 0; e < 4; e++) {
        var v1 = v[e], v2 = v[(e + 1) % 4];
        if ((v1 > 0) !== (v2 > 0)) {
          var f = cut(v1, v2), c1 = corner[e], c2 = corner[(e + 1) % 4];
          pts.push([(q + c1[0] + (c2[0] - c1[0]) * f) * dx, (r + c1[1] + (c2[1] - c1[1]) * f) * dy]);
        }
      }
      for (var z = 0; z + 1 < pts.length; z += 2) {
        ctx.moveTo(pts[z][0], pts[z][1]);
        ctx.lineTo(pts[z + 1][0], pts[z + 1][1]);
      }
    }
  }
  ctx.strokeStyle = '#111'; ctx.lineWidth = 2; ctx.stroke();
  for (var n = 0; n < N; n++) {
    ctx.beginPath(); ctx.arc(cx(D.X[n][0]), cy(D.X[n][1]), 5.5, 0, 2 * Math.PI);
    ctx.fillStyle = D.y[n] > 0 ? 'rgb(' + POS + ')' : 'rgb(' + NEG + ')';
    ctx.fill(); ctx.lineWidth = 1.2; ctx.strokeStyle = '#fff'; ctx.stroke();
  }
  ctx.beginPath(); ctx.arc(cx(XP[0]), cy(XP[1]), 10, 0, 2 * Math.PI);
  ctx.lineWidth = 2.5; ctx.strokeStyle = '#111'; ctx.stroke();
}

// -- the loss curve ------------------------------------------------------------------------------
var lsvg = $('losssvg'), LW = 440, LH = 180, ml = 46, mr = 40, mt = 10, mb = 30;
lsvg.setAttribute('viewBox', '0 0 ' + LW + ' ' + LH);
var L10 = D.loss.map(function (v) { return Math.log(v) / Math.LN10; });
var lhi = Math.ceil(Math.max.apply(null, L10) + 1e-9), llo = Math.floor(Math.min.apply(null, L10) - 1e-9);
if (lhi - llo < 1) llo = lhi - 1;
function lx(k) { return ml + (LW - ml - mr) * (T > 1 ? k / (T - 1) : 0); }
function ly(v) { return mt + (LH - mt - mb) * (lhi - Math.log(v) / Math.LN10) / (lhi - llo); }
function ay(v) { return mt + (LH - mt - mb) * (1 - v); }
el('rect', {x: ml, y: mt, width: LW - ml - mr, height: LH - mt - mb, fill: 'none', stroke: '#c3c9d3'}, lsvg);
for (var ex = llo; ex <= lhi; ex++) {
  var ty = ly(Math.pow(10, ex));
  if (ex > llo && ex < lhi) el('line', {x1: ml, x2: LW - mr, y1: ty, y2: ty, stroke: '#e5e8ed'}, lsvg);
  el('text', {x: ml - 5, y: ty + 4, 'text-anchor': 'end'}, lsvg).textContent = fmt(Math.pow(10, ex));
}
[0, 0.5, 1].forEach(function (t) {
  el('text', {x: LW - mr + 5, y: ay(t) + 4}, lsvg).textContent = Math.round(100 * t) + '%';
});
[0, Math.round((T - 1) / 2), T - 1].forEach(function (k) {
  el('text', {x: lx(k), y: LH - mb + 14, 'text-anchor': 'middle'}, lsvg).textContent = String(k);
});
el('text', {x: (ml + LW - mr) / 2, y: LH - 3, 'text-anchor': 'middle'}, lsvg).textContent = 'step';
function pointsOf(vals, f) {
  return vals.map(function (v, k) { return lx(k).toFixed(1) + ',' + f(v).toFixed(1); }).join(' ');
}
el('polyline', {points: pointsOf(D.acc, ay), fill: 'none', stroke: 'rgb(' + NEG + ')', 'stroke-width': 1.3,
                'stroke-opacity': 0.7}, lsvg);
el('polyline', {points: pointsOf(D.loss, ly), fill: 'none', stroke: 'rgb(' + POS + ')',
                'stroke-width': 1.8}, lsvg);
var mark = el('line', {id: 'lossMark', y1: mt, y2: LH - mb, stroke: '#111', 'stroke-width': 1,
                       'stroke-dasharray': '3 2'}, lsvg);
var dot = el('circle', {id: 'lossDot', r: 4, fill: '#111'}, lsvg);

// -- what a hovered neuron or edge shows --------------------------------------------------------
function describe(id, k) {
  var q = id.split(':').map(Number), lines = [], title, h, w, g;
  var at = 'point #' + P + ' = (' + fmt(XP[0]) + ', ' + fmt(XP[1]) + '), label ' +
    (D.y[P] > 0 ? '+1' : '-1') + ', step ' + k;
  if (id[0] === 'u' && q[1] === 0) {
    title = 'input x[' + q[2] + ']';
    lines.push('value x[' + q[2] + '] = ' + fmt(XP[q[2]]));
    lines.push('adjoint ∂L/∂x[' + q[2] + '] = ' + fmt(D.xg[k][q[2]]));
  } else if (id[0] === 'u') {
    var l = q[1] - 1, j = q[2], b = wIndex(l, j, S[l]);
    var d = function (f) { return fmt(node(k, l, j, f)); };
    if (D.activations[l] === 'relu') {
      title = layerName(l, j) + ' (ReLU)';
      lines.push('value s = w·h = ' + d(DOT) + ', z = s + b = ' + d(Z) + ', y = relu(z) = ' + d(Y));
      lines.push('adjoint ∂L/∂y = ' + d(AY));
      lines.push('local ∂y/∂z = ' + D.rules.relu + ' = ' + d(LOC));
      lines.push('adjoint ∂L/∂z = ∂L/∂y · ∂y/∂z = ' + d(AZ));
    } else {
      title = layerName(l, j) + ' (linear): the score';
      lines.push('value score = w·h + b = ' + d(Z) + ' (w·h = ' + d(DOT) + ')');
      var met = node(k, l, j, AY) === 0;
      lines.push('adjoint ∂L/∂score = ' + d(AY) +
        (met ? ' (margin met: y·score ≥ 1)' : ' (= −y/N: margin not met)'));
      lines.push('local ∂score/∂(w·h) = ' + D.rules.add + ', ∂score/∂b = ' + D.rules.add);
    }
    lines.push('bias b = ' + fmt(D.w[k][b]) + ', ∂L/∂b (all ' + N + ' points) = ' + fmt(D.g[k][b]));
  } else {
    var l2 = q[1], j2 = q[2], i = q[3], wi = wIndex(l2, j2, i);
    w = D.w[k][wi]; g = D.g[k][wi];
    h = l2 === 0 ? XP[i] : node(k, l2 - 1, i, Y);
    var az = node(k, l2, j2, AZ), src = l2 === 0 ? 'x[' + i + ']' : layerName(l2 - 1, i);
    title = 'weight ' + layerName(l2, j2) + '.w[' + i + '] (from ' + src + ')';
    lines.push('value w = ' + fmt(w));
    lines.push('gradient ∂L/∂w (all ' + N + ' points + L2) = ' + fmt(g) + '; next w = w − ' + fmt(D.lr[k]) +
      '·∂L/∂w = ' + fmt(w - D.lr[k] * g));
    lines.push('local ∂(w·h)/∂w = ' + D.rules.dot[0] + ' = ' + fmt(h) + ', ∂(w·h)/∂h = ' + D.rules.dot[1] +
      ' = ' + fmt(w));
    lines.push('this point: ∂L/∂z · h = ' + fmt(az * h) + ' of ∂L/∂w; ∂L/∂z · w = ' + fmt(az * w) +
      ' sent back to h');
  }
  return {title: title, at: at, lines: lines};
}
function fill(box, id, k) {
  var r = describe(id, k);
  box.textContent = '';
  var t = document.createElement('b'); t.textContent = r.title; box.appendChild(t);
  [r.at].concat(r.lines).forEach(function (s) {
    var e = document.createElement('div');
    e.textContent = s;
    box.appendChild(e);
  });
}

// -- the state and its drawing ---------------------------------------------------------------------
var slider = $('slider'), play = $('play'), tip = $('tip'), info = $('info');
var cur = 0, mode = 'weight', playing = false, hover = null, pinned = null, hl = null;
slider.max = T - 1;
var OFF = 'Dashed: a ReLU that is off for it (local derivative 0).';
function setMode(m) {
  mode = m;
  document.querySelectorAll('input[name=mode]').forEach(function (r) { r.checked = r.value === m; });
  $('legend').textContent = m === 'weight'
    ? 'Edges: weight w, width ∝ |w| (largest of its layer over the run), blue > 0, orange < 0. ' +
      'Neurons: their value y for point #' + P + ' (the ringed point). ' + OFF
    : 'Edges: gradient ∂L/∂w over all points, width ∝ |∂L/∂w| (largest of its layer at this step), ' +
      'blue > 0, orange < 0. Neurons: their adjoint ∂L/∂y for point #' + P + '. ' + OFF;
  draw();
}
function draw() {
  var k = cur, src = mode === 'weight' ? D.w[k] : D.g[k], scale = [];
  for (var l = 0; l < NL; l++) {
    if (mode === 'weight') { scale.push(wmax[l]); continue; }
    var m = 1e-30;
    for (var i = off[l]; i < off[l] + S[l + 1] * (S[l] + 1); i++) m = Math.max(m, Math.abs(src[i]));
    scale.push(m);
  }
  edges.forEach(function (e) {
    var v = src[wIndex(e.l, e.j, e.i)], t = Math.min(1, Math.abs(v) / scale[e.l]);
    e.el.setAttribute('stroke', 'rgb(' + (v >= 0 ? POS : NEG) + ')');
    e.el.setAttribute('stroke-width', (0.25 + 3.75 * t).toFixed(2));
    e.el.setAttribute('stroke-opacity', (0.2 + 0.8 * t).toFixed(2));
  });
  var umax = [];
  for (l = 0; l <= NL; l++) {
    if (mode === 'weight') { umax.push(ymax[l]); continue; }
    m = 1e-30;
    for (var j = 0; j < S[l]; j++) m = Math.max(m, Math.abs(unitAdjoint(k, l, j)));
    umax.push(m);
  }
  units.forEach(function (u) {
    var v = mode === 'weight' ? unitValue(k, u.l, u.j) : unitAdjoint(k, u.l, u.j);
    u.el.setAttribute('fill', mix(v >= 0 ? POS : NEG, Math.abs(v) / umax[u.l]));
    var off_ = u.l > 0 && D.activations[u.l - 1] === 'relu' && node(k, u.l - 1, u.j, LOC) === 0;
    u.el.classList.toggle('off', off_);
  });
  slider.value = k;
  $('stepText').textContent = 'step ' + k + ' / ' + (T - 1);
  $('lossText').textContent = 'loss ' + D.loss[k].toFixed(5);
  $('accText').textContent = 'accuracy ' + (100 * D.acc[k]).toFixed(0) + '%';
  $('lrText').textContent = 'lr ' + fmt(D.lr[k]);
  $('fieldTitle').textContent = 'Decision boundary at step ' + k +
    ' (score > 0 blue, < 0 orange; ringed: point #' + P + ')';
  drawField(k);
  mark.setAttribute('x1', lx(k)); mark.setAttribute('x2', lx(k));
  dot.setAttribute('cx', lx(k)); dot.setAttribute('cy', ly(D.loss[k]));
  var shown = hover || pinned;
  if (shown) fill(info, shown, k);
  else info.textContent = 'Hover (or tap) a neuron or an edge: its value, adjoint and local derivative ' +
    'for point #' + P + ' at this step.';
  if (hover && !tip.hidden) fill(tip, hover, k);
}
function show(k) { cur = Math.max(0, Math.min(T - 1, Math.round(k))); draw(); }
function highlight(id) {
  if (hl) hl.classList.remove('hl');
  hl = null;
  if (!id) return;
  var q = id.split(':');
  hl = id[0] === 'u' ? $('u' + q[1] + '_' + q[2]) : $('e' + q[1] + '_' + q[2] + '_' + q[3]);
  if (hl) hl.classList.add('hl');
}
net.addEventListener('mouseover', function (ev) {
  var id = ev.target.getAttribute && ev.target.getAttribute('data-id');
  if (!id) return;
  hover = id; highlight(id);
  tip.hidden = false; fill(tip, id, cur); fill(info, id, cur); moveTip(ev);
});
net.addEventListener('mousemove', function (ev) { if (hover) moveTip(ev); });
net.addEventListener('mouseout', function (ev) {
  var id = ev.target.getAttribute && ev.target.getAttribute('data-id');
  if (!id) return;
  hover = null; tip.hidden = true; highlight(pinned);
  if (pinned) fill(info, pinned, cur);
});
net.addEventListener('click', function (ev) {
  var id = ev.target.getAttribute && ev.target.getAttribute('data-id');
  pinned = id || null; highlight(pinned); draw();
});
function moveTip(ev) {
  var x = ev.clientX + 14, y = ev.clientY + 14, r = tip.getBoundingClientRect();
  if (x + r.width > innerWidth - 4) x = Math.max(4, ev.clientX - r.width - 14);
  if (y + r.height > innerHeight - 4) y = Math.max(4, ev.clientY - r.height - 14);
  tip.style.left = x + 'px'; tip.style.top = y + 'px';
}

// -- playing ----------------------------------------------------------------------------------------
var SPEED = 30, last = 0, carry = 0;  // steps per second
function setPlaying(on) {
  playing = on;
  play.innerHTML = on ? '&#10074;&#10074; Pause' : '&#9654; Play';
  document.body.setAttribute('data-playing', on ? '1' : '0');
  if (on) { if (cur >= T - 1) show(0); last = 0; carry = 0; requestAnimationFrame(frame); }
}
function frame(t) {
  if (!playing) return;
  if (last) carry += (t - last) / 1000 * SPEED;
  last = t;
  var n = Math.floor(carry);
  if (n > 0) {
    carry -= n;
    show(cur + n);
    if (cur >= T - 1) { setPlaying(false); return; }
  }
  requestAnimationFrame(frame);
}
play.addEventListener('click', function () { setPlaying(!playing); });
slider.addEventListener('input', function () { show(+slider.value); });
document.querySelectorAll('input[name=mode]').forEach(function (r) {
  r.addEventListener('change', function () { if (r.checked) setMode(r.value); });
});
document.addEventListener('keydown', function (ev) {
  if (ev.target === slider) return;
  if (ev.key === ' ') { ev.preventDefault(); setPlaying(!playing); }
  else if (ev.key === 'ArrowRight') show(cur + 1);
  else if (ev.key === 'ArrowLeft') show(cur - 1);
});

var shape = 'MLP(2, [' + S.slice(1).join(', ') + '])';
$('netTitle').textContent = 'Network ' + shape + ', point #' + P + ' flowing through it';
$('summary').textContent = shape + ', ' + np + ' parameters, ' + N + ' moons points; hinge loss + ' +
  D.alpha + '·L2; full-batch SGD, lr ' + fmt(D.lr[0]) + ' → ' + fmt(D.lr[T - 1]) + '; ' + T +
  ' steps (trained in ' + D.seconds + ' s); training accuracy after the last step ' +
  Math.round(100 * D.final.acc) + '%.';
window.live = {
  data: D, show: show, state: function () { return cur; }, playing: function () { return playing; },
  describe: function (id, k) { return describe(id, k === undefined ? cur : k); },
  score: function (k, x) { return forward(k < T ? D.w[k] : D.final.w, x); }, setMode: setMode,
};
setPlaying(false);
setMode('weight');
})();
</script>
</body>
</html>
"""
