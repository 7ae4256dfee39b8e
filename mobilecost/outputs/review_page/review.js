// The design-review page: reads its configuration from the URL fragment, evaluates the generated
// per-variant functions (EVALUATORS, printed from mobilecost's expressions), and draws the results.
// Text that comes from tables or device profiles is only ever placed as text nodes or attribute values.

const DATA = JSON.parse(document.getElementById("mobilecost-data").textContent);
const FIELDS = DATA.fields;
const NF = FIELDS.length;
const COST_FIELDS = FIELDS.slice(4);
const DEVICE = DATA.device;
const METRICS = [["macs", "MACs"], ["params", "parameters"], ["act_peak", "peak activation memory, bytes"]]
  .concat(DEVICE ? [["latency_ms", "simulated latency, ms"]] : []);
const SVGNS = "http://www.w3.org/2000/svg";  // a namespace name, never fetched

// -- small DOM helpers: text is always a text node --------------------------------------------------
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== undefined && c !== null) node.append(c instanceof Node ? c : String(c));
  return node;
}
function sv(tag, attrs, ...children) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== undefined && c !== null) node.append(c instanceof Node ? c : String(c));
  return node;
}
function replace(node, ...children) { node.replaceChildren(...children.flat().filter(c => c !== null && c !== undefined)); }

function grouped(n) {
  if (!Number.isSafeInteger(n)) throw new Refused("not a whole number below 2**53: " + n);
  const s = String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return n < 0 ? "-" + s : s;
}
function ms(x) { return x.toFixed(3); }
function short(n) {
  const units = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
  for (const [u, s] of units) if (Math.abs(n) >= u) return (n / u).toPrecision(3).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "") + " " + s;
  return String(Math.round(n * 1000) / 1000);
}
function sumExact(values) { let t = 0; for (const v of values) t = safe(t + v); return t; }

// -- one configuration ------------------------------------------------------------------------------
function checkConfig(v, alpha, side) {
  if (!(Number.isFinite(alpha) && alpha > 0)) throw new Refused("alpha must be a positive number");
  if (alpha > DATA.max_alpha) throw new Refused("alpha must be at most " + DATA.max_alpha);
  if (!(Number.isInteger(side) && side > 0)) throw new Refused("the resolution must be a positive whole number of pixels");
  if (side > DATA.max_side) throw new Refused("the input side must be at most " + grouped(DATA.max_side) + " pixels");
  if (side < v.stride) throw new Refused("resolution " + side + " is too small for " + v.name + ": its strides divide the input side by " +
    v.stride + ", so the input must be at least " + v.stride + "x" + v.stride);
}

// An input size: one side in pixels (square). Rectangular HxW inputs would return two different sides.
function parseSide(text) {
  const t = String(text).trim();
  const m = /^(\d+)(?:\s*[xX\u00d7]\s*(\d+))?$/.exec(t);
  if (!m) throw new Refused("the resolution is a whole number of pixels, e.g. 224; got " + JSON.stringify(t.slice(0, 40)));
  const h = Number(m[1]), w = m[2] === undefined ? h : Number(m[2]);
  if (h !== w) throw new Refused("rectangular inputs (" + h + "x" + w + ") are not supported yet: give one side");
  return {h, w};
}

// Where a head table's branches meet, their rounded shapes must agree (numeric/joins.py): else refused.
function checkJoins(v, alpha, rho, side, ch) {
  for (const j of v.joins) {
    const a = j.first, b = j.other;
    if ((side(a) !== side(b) && !(j.broadcast && side(b) === 1)) || (j.widths && ch(a) !== ch(b))) {
      const shape = i => side(i) + "x" + side(i) + "x" + ch(i);
      throw new Refused(v.layers[j.join].name + " (" + v.layers[j.join].op + ") cannot join \u201c" + v.layers[b].name + "\u201d (" +
        shape(b) + ") and \u201c" + v.layers[a].name + "\u201d (" + shape(a) + ") at alpha " + alpha + ", rho " + +rho.toPrecision(6) +
        ": the rounded shapes differ there");
    }
  }
}

function evaluate(vi, alpha, side) {
  const v = DATA.variants[vi];
  checkConfig(v, alpha, side);
  const rho = side / v.size;  // as mobilecost resolves --resolution
  const raw = EVALUATORS[vi](alpha, rho);
  const values = {};
  FIELDS.forEach((f, j) => { values[f] = v.layers.map((_, i) => raw[i * NF + j]); });
  checkJoins(v, alpha, rho, i => values.out_side[i], i => values.out_ch[i]);
  return {alpha, side, rho, values};
}

function layerParams(values, convention) {
  const parts = DATA.conventions[convention];
  return values.macs.map((_, i) => sumExact(parts.map(p => values[p][i])));
}

// The sequential schedule's live set at every step (numeric/plan.py and numeric/liveness.py): a tensor lives
// from the step that makes it to the last step that reads it on any branch; the network's outputs (a head
// table's feature maps and predictions) live to the last step; an absent shortcut add's readers read its input.
// Which tensors are live depends only on which adds exist, so it is worked out once per pattern of present adds.
const planCache = new Map();

function livePlan(vi, present) {  // present: one boolean per layer (false for an absent shortcut add)
  const key = vi + ":" + present.map(p => (p ? 1 : 0)).join("");
  if (planCache.has(key)) return planCache.get(key);
  const layers = DATA.variants[vi].layers, INPUT = "input";
  const absent = new Set(layers.filter((l, i) => !present[i]).map(l => l.name));
  const alias = new Map();
  for (const l of layers) if (absent.has(l.name)) alias.set(l.name, alias.has(l.inputs[0]) ? alias.get(l.inputs[0]) : l.inputs[0]);
  const stepOf = new Map(layers.map((l, i) => [l.name, i]));
  const tensors = [INPUT].concat(layers.filter(l => !absent.has(l.name)).map(l => l.name));
  const start = new Map(tensors.map(t => [t, t === INPUT ? 0 : stepOf.get(t)]));
  const end = new Map(start);
  for (const o of DATA.variants[vi].outputs) if (end.has(layers[o].name)) end.set(layers[o].name, layers.length - 1);
  layers.forEach((l, here) => {
    if (absent.has(l.name)) return;
    for (let src of l.inputs) {
      if (alias.has(src)) src = alias.get(src);
      if (end.has(src) && (src === INPUT || stepOf.get(src) !== here)) end.set(src, Math.max(end.get(src), here));
    }
  });
  // Per step: the live tensors' names, and where their sizes are (-1: the input, else the producing layer).
  const names = layers.map((_, i) => tensors.filter(t => start.get(t) <= i && i <= end.get(t)));
  const plan = {names, index: names.map(here => here.map(t => (t === INPUT ? -1 : stepOf.get(t))))};
  planCache.set(key, plan);
  return plan;
}

function presentOf(v, actOut) { return v.layers.map((l, i) => !(l.residual && !(actOut(i) > 0))); }

function liveFrom(plan, inputSize, actOut) {
  const live = plan.index.map(here => sumExact(here.map(i => (i < 0 ? inputSize : actOut(i)))));
  let peak = 0;
  live.forEach((x, i) => { if (x > live[peak]) peak = i; });
  return {live, peak};
}

function liveSet(vi, values) {
  const v = DATA.variants[vi], out = i => values.act_out[i];
  const plan = livePlan(vi, presentOf(v, out));
  const {live, peak} = liveFrom(plan, values.act_in[0], out);
  return {live, peak, members: plan.names};
}

// The work a runtime that pads 1x1 convolutions' channels to blocks does per MAC (count/ops.py
// Blocking.work_factor): channels rounded up to whole blocks, a cost per output element, a narrow input slower.
function paddedWork(inCh, outCh, d) {
  const block = d.pointwise_block, up = c => Math.ceil(c / block) * block;
  const narrow = inCh < block ? d.narrow_input : 1.0, channels = inCh * outCh;
  return up(outCh) * (up(inCh) + d.per_output_macs) * narrow / (channels === 0 ? 1 : channels);
}

// Simulated latency (latency/model.py): per step max(compute, memory) + separate activation pass + fixed
// costs (per step with MACs, per element-wise step, per channel of a depthwise layer off the runtime's channel
// blocks), plus one fixed cost per inference; a 1x1 convolution's compute on a runtime's padded blocks.
function latency(v, values) {
  const d = DEVICE, dtype = d.dtype_bytes;
  const stream = x => x / (x <= d.cache_bytes ? d.cache_gb_s * 1e6 : d.dram_gb_s * 1e6);
  const times = v.layers.map((l, i) => {
    const actIn = values.act_in[i], actOut = values.act_out[i];
    const nbytes = (actIn + actOut + values.weights[i] + values.biases[i] + actIn * (l.second_input ? 1 : 0)
      + values.out_ch[i] * (l.gate ? 1 : 0) + (actOut - actIn) * (l.other_inputs ? 1 : 0)) * dtype;
    const actBytes = actOut * (2.0 * dtype) * (l.separate ? 1 : 0);
    const mac = l.mac_class >= 0, present = actOut > 0 ? 1 : 0;
    const offBlocks = d.channel_block !== null && l.blocking === "channels" && values.out_ch[i] % d.channel_block !== 0;
    let computeMs = values.macs[i] / (d.gmacs * 1e6);
    if (d.pointwise_block !== null && l.blocking === "gemm") {
      computeMs *= paddedWork(values.in_ch[i], values.out_ch[i], d);
    }
    let compute = computeMs * (mac ? d.inverse_efficiency[l.mac_class] : 0);
    if (offBlocks) compute += computeMs * d.unblocked;
    const own = stream(nbytes) * (mac ? d.memory : d.elementwise);
    const pass = stream(actBytes) * d.elementwise;
    let overhead = present * (mac ? 1 : 0) * d.overhead_ms
      + present * ((mac ? 0 : 1) + (l.separate ? 1 : 0)) * d.elementwise_overhead_ms;
    if (offBlocks) overhead += values.out_ch[i] * d.unblocked_channel_ms;
    return Math.max(compute, own) + pass + overhead;
  });
  const total = times.reduce((a, b) => a + b, 0) + d.fixed_ms;
  return {times, total, low: total * d.band.low, high: total * d.band.high};
}

// Said beside a band when the configuration's MACs lie outside those of the profile's calibration rows.
function outsideCalibration(macs) {
  const span = DEVICE.calibrated_macs;
  if (!span || (macs >= span[0] && macs <= span[1])) return "";
  return "; outside the " + grouped(span[0]) + " to " + grouped(span[1]) +
    " MACs of the rows the profile was calibrated on, so the band may understate the error";
}

function metricsOf(vi, alpha, side, convention, wanted) {
  const v = DATA.variants[vi];
  const r = evaluate(vi, alpha, side);
  const kept = v.layers.map((l, i) => i).filter(i => !(v.layers[i].residual && r.values.act_out[i] === 0));
  const out = {r, kept};
  if (!wanted || wanted === "macs") {
    out.macs = sumExact(kept.map(i => r.values.macs[i]));  // attention's matrix products included, as report counts by default
    out.attn_macs = sumExact(kept.map(i => r.values.attn_macs[i]));
  }
  if (!wanted || wanted === "params") {
    out.layerParams = layerParams(r.values, convention);
    out.params = sumExact(kept.map(i => out.layerParams[i]));
  }
  if (!wanted && v.backbone) {  // a head table: the backbone's share and the head's (report's "parts")
    out.parts = [["backbone", kept.filter(i => v.layers[i].backbone)], ["head", kept.filter(i => !v.layers[i].backbone)]]
      .map(([part, index]) => ({part, layers: index.length, macs: sumExact(index.map(i => r.values.macs[i])),
        params: sumExact(index.map(i => out.layerParams[i]))}));
  }
  if (!wanted || wanted === "act_peak") {
    out.liveSet = liveSet(vi, r.values);
    out.act_peak = safe(out.liveSet.live[out.liveSet.peak] * 4);  // fp32 bytes
  }
  if (DEVICE && (!wanted || wanted === "latency_ms")) {
    out.latency = latency(v, r.values);
    out.latency_ms = out.latency.total;
  }
  return out;
}

// -- state: the URL fragment ------------------------------------------------------------------------
const state = {
  variant: 0, convention: DATA.convention, metric: "macs",
  // Where the page opens: export's first --alpha and --resolution when given, else alpha 1 at each table's own side.
  configs: DATA.variants.map(v => ({alpha: String(DATA.start.alpha ?? 1), side: String(DATA.start.resolution ?? v.size)})),
};
let fragmentProblem = null;

function readFragment() {
  fragmentProblem = null;
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  if (params.has("variant")) {
    const i = DATA.variants.findIndex(v => v.name === params.get("variant"));
    if (i < 0) fragmentProblem = "the link names the variant " + JSON.stringify(params.get("variant")) +
      ", which this page does not hold (it holds " + DATA.variants.map(v => v.name).join(", ") + ")";
    else state.variant = i;
  }
  const c = state.configs[state.variant];
  if (params.has("alpha")) c.alpha = params.get("alpha");
  if (params.has("resolution")) c.side = params.get("resolution");
  if (params.has("convention")) {
    if (DATA.conventions[params.get("convention")]) state.convention = params.get("convention");
    else fragmentProblem = "unknown convention " + JSON.stringify(params.get("convention")) + "; use paper, torchvision or keras";
  }
  if (params.has("metric") && METRICS.some(([k]) => k === params.get("metric"))) state.metric = params.get("metric");
}

function writeFragment() {
  const c = state.configs[state.variant];
  const params = new URLSearchParams({variant: DATA.variants[state.variant].name, alpha: c.alpha, resolution: c.side,
    convention: state.convention});
  if (state.metric !== "macs") params.set("metric", state.metric);
  history.replaceState(null, "", "#" + params.toString());
}

function configOf(vi) {
  const c = state.configs[vi];
  const alphaText = String(c.alpha).trim();
  if (!/^[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?$/.test(alphaText)) throw new Refused("alpha must be a positive number, got " + JSON.stringify(alphaText.slice(0, 40)));
  const side = parseSide(c.side);
  return {alpha: Number(alphaText), side: side.h};
}

// -- rendering ----------------------------------------------------------------------------------------
function metricCell(vi, metric, text, extra) {
  return el("td", Object.assign({"data-variant": DATA.variants[vi].name, "data-metric": metric}, extra || {}), text);
}

function renderSummary(results) {
  const head = el("tr", {}, el("th", {}, "variant"), el("th", {}, "\u03b1"), el("th", {}, "resolution"),
    el("th", {}, "MACs"), el("th", {}, "parameters (" + state.convention + ")"), el("th", {}, "peak activations, bytes (fp32)"),
    DEVICE ? [el("th", {}, "simulated latency, ms"), el("th", {}, "band, ms")] : []);
  const rows = DATA.variants.map((v, vi) => {
    const res = results[vi];
    const name = el("td", {class: "text"}, el("a", {href: "#", "data-select": vi}, v.name), el("div", {class: "muted small"}, v.title));
    if (res.error) {
      return el("tr", {class: vi === state.variant ? "selected" : ""}, name,
        el("td", {colspan: DEVICE ? 7 : 5, class: "text refused", "data-variant": v.name, "data-metric": "refused"}, "refused: " + res.error));
    }
    const m = res.m;
    return el("tr", {class: vi === state.variant ? "selected" : ""}, name,
      el("td", {"data-variant": v.name, "data-metric": "alpha"}, String(res.alpha)),
      el("td", {"data-variant": v.name, "data-metric": "resolution"}, String(res.side)),
      metricCell(vi, "macs", grouped(m.macs)),
      metricCell(vi, "params", grouped(m.params), {"data-convention": state.convention}),
      metricCell(vi, "act_peak", grouped(m.act_peak)),
      DEVICE ? [metricCell(vi, "latency_ms", ms(m.latency_ms)),
        el("td", {}, el("span", {"data-variant": v.name, "data-metric": "latency_ms_low"}, ms(m.latency.low)), " \u2013 ",
          el("span", {"data-variant": v.name, "data-metric": "latency_ms_high"}, ms(m.latency.high)))] : []);
  });
  replace(document.getElementById("summary"), el("thead", {}, head), el("tbody", {}, rows));
  for (const a of document.querySelectorAll("#summary a[data-select]")) {
    a.addEventListener("click", e => { e.preventDefault(); state.variant = Number(a.getAttribute("data-select")); update(); });
  }
}

function renderControls(vi) {
  const v = DATA.variants[vi], c = state.configs[vi];
  replace(document.getElementById("variant-tabs"), DATA.variants.map((w, i) => {
    const b = el("button", {type: "button", role: "tab", "aria-selected": i === vi ? "true" : "false", class: i === vi ? "tab on" : "tab"}, w.name);
    b.addEventListener("click", () => { state.variant = i; update(); });
    return b;
  }));
  const alpha = document.getElementById("alpha"), side = document.getElementById("resolution");
  if (document.activeElement !== alpha) alpha.value = c.alpha;
  if (document.activeElement !== side) side.value = c.side;
  const conv = document.getElementById("convention");
  replace(conv, Object.keys(DATA.conventions).map(k => el("option", {value: k, title: DATA.convention_text[k]}, k)));
  conv.value = state.convention;
  const metric = document.getElementById("plane-metric");
  replace(metric, METRICS.map(([k, label]) => el("option", {value: k}, label)));
  metric.value = state.metric;
  replace(document.getElementById("checkpoints"), v.checkpoints.length ? v.checkpoints.map(cp => {
    const on = Number(c.alpha) === cp.alpha && String(c.side).trim() === String(cp.resolution);
    const tip = cp.published.map(p => p.label + ": " + [p.macs_millions != null ? p.macs_millions + " M MACs" : null,
      p.params_millions != null ? p.params_millions + " M params" : null, p.top1 != null ? "top-1 " + p.top1 + " %" : null]
      .filter(Boolean).join(", ") + " (" + p.source + ")").join("\n");
    const b = el("button", {type: "button", class: on ? "checkpoint on" : "checkpoint", title: tip}, "\u03b1 " + cp.alpha + " \u00b7 " + cp.resolution);
    b.addEventListener("click", () => { c.alpha = String(cp.alpha); c.side = String(cp.resolution); update(); });
    return b;
  }) : el("span", {class: "muted"}, "none listed for this table"));
}

function card(label, valueNode, note) {
  return el("div", {class: "card"}, el("div", {class: "card-label"}, label), valueNode, note ? el("div", {class: "card-note"}, note) : null);
}

function renderCards(vi, res) {
  const v = DATA.variants[vi];
  if (res.error) { replace(document.getElementById("cards")); return; }
  const m = res.m, peakLayer = v.layers[m.liveSet.peak];
  const cards = [
    card("MACs", el("div", {class: "card-value", "data-variant": v.name, "data-metric": "macs"}, grouped(m.macs)),
      "FLOPs = 2 \u00d7 MACs = " + grouped(safe(2 * m.macs)) + (v.attention ? "; attention's matrix products included" : "")),
    card("parameters (" + state.convention + ")", el("div", {class: "card-value", "data-variant": v.name, "data-metric": "params",
      "data-convention": state.convention}, grouped(m.params)), DATA.convention_text[state.convention]),
    card("peak activation memory", el("div", {class: "card-value", "data-variant": v.name, "data-metric": "act_peak"}, grouped(m.act_peak)),
      "bytes at fp32, while " + peakLayer.name + " runs (live: " + m.liveSet.members[m.liveSet.peak].join(", ") + ")"),
  ];
  if (v.attention) {
    cards.push(card("attention MACs", el("div", {class: "card-value", "data-variant": v.name, "data-metric": "attn_macs"}, grouped(m.attn_macs)),
      "QK\u1d40 and attention \u00d7 V (no weights), counted in MACs above; without them " + grouped(safe(m.macs - m.attn_macs)) +
      " (report --attention-macs excluded)"));
  }
  if (DEVICE) {
    cards.push(card("simulated latency, ms", el("div", {class: "card-value", "data-variant": v.name, "data-metric": "latency_ms"}, ms(m.latency_ms)),
      "band " + ms(m.latency.low) + " \u2013 " + ms(m.latency.high) + " ms on " + DEVICE.name + outsideCalibration(m.macs)));
  }
  if (m.parts) {
    const pct = x => (m.macs ? (100 * x / m.macs).toFixed(1) : "0.0") + " %";
    const split = card("backbone and head", el("table", {class: "split"},
      el("tr", {}, el("th", {}, ""), el("th", {}, "layers"), el("th", {}, "MACs"), el("th", {}, "of MACs"), el("th", {}, "parameters")),
      m.parts.map(p => el("tr", {}, el("th", {class: "text"}, p.part === "backbone" ? "backbone: " + v.backbone : "head"),
        el("td", {}, String(p.layers)),
        el("td", {"data-variant": v.name, "data-metric": p.part + "_macs"}, grouped(p.macs)), el("td", {}, pct(p.macs)),
        el("td", {"data-variant": v.name, "data-metric": p.part + "_params", "data-convention": state.convention}, grouped(p.params))))),
      "the backbone table's layers, then the head's own (its branches, joins and predictions)");
    split.classList.add("wide");
    cards.push(split);  // last: it spans two columns
  }
  replace(document.getElementById("cards"), cards);
}

function renderLayers(vi, res) {
  const v = DATA.variants[vi], table = document.getElementById("layers");
  document.getElementById("layers-title").textContent = "Layers of " + v.name + (res.error ? "" : " at \u03b1 " + res.alpha + ", " + res.side + "\u00d7" + res.side);
  if (res.error) { replace(table); return; }
  const m = res.m, val = m.r.values;
  const head = el("tr", {}, ["#", "layer", "block", "type", "k", "s", "act", "input", "output", "MACs"].map(h => el("th", {}, h)),
    v.attention ? el("th", {title: "attention's QK\u1d40 and attention \u00d7 V, included in MACs"}, "attn MACs") : null,
    ["params", "output elements", "live bytes"].map(h => el("th", {}, h)), DEVICE ? el("th", {}, "time, ms") : null);
  const rows = m.kept.map(i => {
    const l = v.layers[i];
    const cell = (field, text) => el("td", {"data-layer": i, "data-field": field}, text);
    const part = (field, text) => el("span", {"data-layer": i, "data-field": field}, text);
    const cls = [i === m.liveSet.peak ? "peak" : "", v.backbone && !l.backbone && (i === 0 || v.layers[i - 1].backbone) ? "head-start" : ""];
    return el("tr", {class: cls.filter(Boolean).join(" ")},
      el("td", {}, String(l.row)), el("td", {class: "text"}, l.name), el("td", {class: "text"}, l.block),
      el("td", {class: "text"}, l.type), el("td", {}, String(l.kernel)), el("td", {}, String(l.stride)), el("td", {class: "text"}, l.act),
      el("td", {}, part("in_side", grouped(val.in_side[i])), "\u00b2\u00d7", part("in_ch", grouped(val.in_ch[i]))),
      el("td", {}, part("out_side", grouped(val.out_side[i])), "\u00b2\u00d7", part("out_ch", grouped(val.out_ch[i]))),
      cell("macs", grouped(val.macs[i])), v.attention ? cell("attn_macs", grouped(val.attn_macs[i])) : null,
      cell("params", grouped(m.layerParams[i])), cell("act_out", grouped(val.act_out[i])),
      cell("live_bytes", grouped(safe(m.liveSet.live[i] * 4))),
      DEVICE ? cell("time_ms", m.latency.times[i].toFixed(4)) : null);
  });
  const total = el("tr", {class: "total"}, el("td", {colspan: 9, class: "text"}, "total"),
    el("td", {}, grouped(m.macs)), v.attention ? el("td", {}, grouped(m.attn_macs)) : null, el("td", {}, grouped(m.params)), el("td", {}, grouped(sumExact(m.kept.map(i => val.act_out[i])))),
    el("td", {}, "peak " + grouped(m.act_peak)), DEVICE ? el("td", {}, ms(m.latency_ms)) : null);
  replace(table, el("thead", {}, head), el("tbody", {}, rows, total));
}

// Per-layer bars: MACs, parameters, live activations (and time) side by side, one row per layer.
function renderBars(vi, res) {
  const v = DATA.variants[vi], box = document.getElementById("bars");
  document.getElementById("bars-caption").textContent = res.error ? "" : "Per layer, at this configuration (bars scaled to each column's largest layer)";
  if (res.error) { replace(box); return; }
  const m = res.m, val = m.r.values;
  const cols = [["MACs", i => val.macs[i], "#3b6ea8"], ["params", i => m.layerParams[i], "#c9772b"],
    ["live bytes", i => m.liveSet.live[i] * 4, "#4f9a6a"]].concat(DEVICE ? [["time, ms", i => m.latency.times[i], "#8a5aa8"]] : []);
  const rowH = 11, labelW = 130, colW = 108, gap = 12, top = 30;
  const width = labelW + cols.length * (colW + gap), height = top + m.kept.length * rowH + 6;
  const g = sv("svg", {viewBox: `0 0 ${width} ${height}`, width: width, height: height, class: "bars", role: "img"});
  g.append(sv("title", {}, "per-layer bars for " + v.name));
  cols.forEach(([label, get, color], c) => {
    const x0 = labelW + c * (colW + gap);
    const maxv = Math.max(...m.kept.map(get), 1e-300);
    g.append(sv("text", {x: x0, y: 12, class: "bar-head"}, label));
    g.append(sv("text", {x: x0, y: 24, class: "bar-sub"}, "max " + short(maxv)));
    m.kept.forEach((i, r) => {
      const w = Math.max(0, get(i) / maxv * colW);
      const y = top + r * rowH;
      g.append(sv("rect", {x: x0, y: y + 1, width: colW, height: rowH - 2, class: "bar-bg"}));
      g.append(sv("rect", {x: x0, y: y + 1, width: w.toFixed(2), height: rowH - 2, fill: color,
        opacity: c === 2 && i === m.liveSet.peak ? 1 : 0.85},
        sv("title", {}, v.layers[i].name + ": " + label + " " + (c === 3 ? get(i).toFixed(4) : grouped(get(i))))));
    });
  });
  const headStart = v.backbone ? m.kept.findIndex(i => !v.layers[i].backbone) : -1;
  if (headStart > 0) {  // a head table: a rule where the backbone ends
    const y = top + headStart * rowH;
    g.append(sv("line", {x1: 0, x2: width, y1: y, y2: y, class: "part-rule"}));
    g.append(sv("text", {x: 2, y: y - 2, class: "part-label"}, "\u2191 backbone"));
    g.append(sv("text", {x: 2, y: y + 9, class: "part-label"}, "\u2193 head"));
  }
  m.kept.forEach((i, r) => {
    const y = top + r * rowH;
    g.append(sv("text", {x: labelW - 6, y: y + rowH - 2, class: i === m.liveSet.peak ? "bar-label peak" : "bar-label", "text-anchor": "end"},
      v.layers[i].name));
  });
  replace(box, g);
}

// -- the alpha-rho plane: a raster of the metric, iso-lines of the raster, checkpoints -----------------------
const planeCache = new Map();

function niceLevels(lo, hi) {
  const out = [];
  for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)); e++) {
    for (const f of [1, 2, 5]) { const x = f * 10 ** e; if (x > lo && x < hi) out.push(x); }
  }
  while (out.length > 7) out.splice(0, out.length, ...out.filter((_, i) => i % 2 === 0));
  return out;
}

// One metric at one point, straight from the evaluator's flat output (the plane evaluates thousands).
const AT = Object.fromEntries(FIELDS.map((f, j) => [f, j]));
function pointMetric(vi, alpha, side, metric, convention) {
  const v = DATA.variants[vi];
  checkConfig(v, alpha, side);
  const raw = EVALUATORS[vi](alpha, side / v.size), n = v.layers.length;
  const col = f => i => raw[i * NF + AT[f]];
  if (v.joins.length) checkJoins(v, alpha, side / v.size, col("out_side"), col("out_ch"));
  if (metric === "macs") { const m = col("macs"); let t = 0; for (let i = 0; i < n; i++) t = safe(t + m(i)); return t; }
  if (metric === "params") {
    const parts = DATA.conventions[convention].map(col); let t = 0;
    for (let i = 0; i < n; i++) for (const p of parts) t = safe(t + p(i));
    return t;
  }
  if (metric === "act_peak") {
    const out = col("act_out"), r = liveFrom(livePlan(vi, presentOf(v, out)), raw[AT.act_in], out);
    return safe(r.live[r.peak] * 4);
  }
  const values = {};
  for (const f of FIELDS) { const c = col(f); values[f] = v.layers.map((_, i) => c(i)); }
  return latency(v, values).total;
}

function planeRaster(vi, metric, convention, range) {
  const key = [vi, metric, metric === "params" ? convention : "", range.a0, range.a1, range.r0, range.r1].join("|");
  if (planeCache.has(key)) return planeCache.get(key);
  const NA = 72, NR = 56, grid = [];
  for (let j = 0; j < NR; j++) {
    const side = Math.round(range.r0 + (j + 0.5) / NR * (range.r1 - range.r0));
    const row = [];
    for (let i = 0; i < NA; i++) {
      const alpha = range.a0 + (i + 0.5) / NA * (range.a1 - range.a0);
      let x = NaN;
      try { x = pointMetric(vi, alpha, side, metric, convention); } catch (e) { if (!(e instanceof Refused)) throw e; }
      row.push(x);
    }
    grid.push(row);
  }
  const out = {NA, NR, grid};
  planeCache.set(key, out);
  return out;
}

function colour(t) {  // light to dark blue
  const a = [247, 251, 255], b = [8, 48, 107];
  return a.map((x, k) => Math.round(x + (b[k] - x) * t));
}

function renderPlane(vi, res) {
  const v = DATA.variants[vi], box = document.getElementById("plane");
  const metric = state.metric, label = METRICS.find(([k]) => k === metric)[1];
  const cur = res.error ? null : res;
  const range = {a0: 0.25, a1: Math.max(1.5, cur ? Math.ceil(cur.alpha * 1.15 * 4) / 4 : 1.5),
    r0: Math.max(v.stride, Math.min(96, cur ? Math.floor(cur.side * 0.8 / 8) * 8 : 96)),
    r1: Math.max(320, cur ? Math.ceil(cur.side * 1.15 / 32) * 32 : 320)};
  for (const cp of v.checkpoints) {
    range.a1 = Math.max(range.a1, cp.alpha); range.r0 = Math.max(v.stride, Math.min(range.r0, cp.resolution - 8));
    range.r1 = Math.max(range.r1, cp.resolution + 8);
  }
  document.getElementById("plane-caption").textContent = "The \u03b1\u2013resolution plane of " + v.name + ": " + label +
    " (shade, log scale; lines at round values, drawn along the exact steps of the rounding rules)";
  const {NA, NR, grid} = planeRaster(vi, metric, state.convention, range);
  const finite = grid.flat().filter(x => Number.isFinite(x) && x > 0);
  const W = 620, H = 470, L = 58, R = 16, T = 14, B = 44, pw = W - L - R, ph = H - T - B;
  const X = a => L + (a - range.a0) / (range.a1 - range.a0) * pw;
  const Y = s => T + ph - (s - range.r0) / (range.r1 - range.r0) * ph;
  const g = sv("svg", {viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "plane", role: "img"});
  g.append(sv("title", {}, "alpha-resolution plane of " + v.name));
  if (finite.length) {
    const lo = Math.min(...finite), hi = Math.max(...finite), span = Math.log(hi / lo) || 1;
    const canvas = document.createElement("canvas");
    canvas.width = NA; canvas.height = NR;
    const ctx = canvas.getContext("2d"), img = ctx.createImageData(NA, NR);
    for (let j = 0; j < NR; j++) for (let i = 0; i < NA; i++) {
      const x = grid[j][i], p = ((NR - 1 - j) * NA + i) * 4;
      const [r, gg, b] = Number.isFinite(x) && x > 0 ? colour(0.08 + 0.72 * Math.log(x / lo) / span) : [230, 200, 200];
      img.data[p] = r; img.data[p + 1] = gg; img.data[p + 2] = b; img.data[p + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    g.append(sv("image", {x: L, y: T, width: pw, height: ph, preserveAspectRatio: "none", href: canvas.toDataURL(), style: "image-rendering:pixelated"}));
    // Iso-lines: the edges between raster cells on either side of a level.
    const cw = pw / NA, ch = ph / NR, labelled = [];
    for (const level of niceLevels(lo, hi)) {
      let d = "";
      for (let j = 0; j < NR; j++) for (let i = 0; i < NA; i++) {
        const above = grid[j][i] >= level;
        if (i + 1 < NA && above !== (grid[j][i + 1] >= level)) d += `M${(L + (i + 1) * cw).toFixed(1)} ${(T + ph - (j + 1) * ch).toFixed(1)}v${ch.toFixed(1)}`;
        if (j + 1 < NR && above !== (grid[j + 1][i] >= level)) d += `M${(L + i * cw).toFixed(1)} ${(T + ph - (j + 1) * ch).toFixed(1)}h${cw.toFixed(1)}`;
      }
      if (!d) continue;
      g.append(sv("path", {d, class: "iso"}));
      // Label each line where it crosses the top, right, left or bottom edge of the plane.
      let lx = null, ly = null;
      const top = grid[NR - 1], right = grid.map(row => row[NA - 1]), left = grid.map(row => row[0]);
      const crossing = cells => cells.findIndex((x, k) => k > 0 && x >= level && cells[k - 1] < level);
      let k;
      if ((k = crossing(top)) > 0) { lx = L + k * cw; ly = T + 11; }
      else if ((k = crossing(right)) > 0) { lx = L + pw - 4; ly = T + ph - k * ch - 3; }
      else if ((k = crossing(left)) > 0) { lx = L + 2; ly = T + ph - k * ch - 3; }
      else if ((k = crossing(grid[0])) > 0) { lx = L + k * cw; ly = T + ph - 4; }
      if (lx !== null && labelled.some(([x, y]) => Math.abs(x - lx) < 44 && Math.abs(y - ly) < 12)) lx = null;
      if (lx !== null) labelled.push([lx, ly]);
      if (lx !== null) g.append(sv("text", {x: lx + 2, y: ly, class: "iso-label", "text-anchor": lx > L + pw - 40 ? "end" : "start"},
        metric === "latency_ms" ? level + " ms" : short(level)));
    }
  } else {
    g.append(sv("text", {x: L + 10, y: T + 20, class: "muted"}, "no configuration of this plane can be counted exactly in float64"));
  }
  // Axes.
  g.append(sv("rect", {x: L, y: T, width: pw, height: ph, class: "frame"}));
  for (let a = Math.ceil(range.a0 * 4) / 4; a <= range.a1 + 1e-9; a += 0.25) {
    g.append(sv("line", {x1: X(a), x2: X(a), y1: T + ph, y2: T + ph + 4, class: "tick"}));
    g.append(sv("text", {x: X(a), y: T + ph + 16, class: "axis", "text-anchor": "middle"}, String(+a.toFixed(2))));
  }
  const step = (range.r1 - range.r0) > 400 ? 64 : 32;
  for (let s = Math.ceil(range.r0 / step) * step; s <= range.r1; s += step) {
    g.append(sv("line", {x1: L - 4, x2: L, y1: Y(s), y2: Y(s), class: "tick"}));
    g.append(sv("text", {x: L - 7, y: Y(s) + 4, class: "axis", "text-anchor": "end"}, String(s)));
  }
  g.append(sv("text", {x: L + pw / 2, y: H - 6, class: "axis-title", "text-anchor": "middle"}, "width multiplier \u03b1"));
  g.append(sv("text", {x: 14, y: T + ph / 2, class: "axis-title", "text-anchor": "middle", transform: `rotate(-90 14 ${T + ph / 2})`}, "input resolution, pixels"));
  // Checkpoints and the current configuration.
  for (const cp of v.checkpoints) {
    const dot = sv("g", {class: "checkpoint-dot"},
      sv("circle", {cx: X(cp.alpha), cy: Y(cp.resolution), r: 4.5}),
      sv("title", {}, "published: \u03b1 " + cp.alpha + ", " + cp.resolution + " (" + cp.published.map(p => p.label).join("; ") + ")"));
    dot.addEventListener("click", e => { e.stopPropagation(); state.configs[vi] = {alpha: String(cp.alpha), side: String(cp.resolution)}; update(); });
    g.append(dot);
  }
  if (cur && cur.alpha <= range.a1 && cur.side >= range.r0 && cur.side <= range.r1) {
    g.append(sv("line", {x1: X(cur.alpha), x2: X(cur.alpha), y1: T, y2: T + ph, class: "cross"}));
    g.append(sv("line", {x1: L, x2: L + pw, y1: Y(cur.side), y2: Y(cur.side), class: "cross"}));
    g.append(sv("circle", {cx: X(cur.alpha), cy: Y(cur.side), r: 7, class: "current"}));
  }
  g.addEventListener("click", e => {
    const box2 = g.getBoundingClientRect(), sx = W / box2.width;
    const px = (e.clientX - box2.left) * sx, py = (e.clientY - box2.top) * sx;
    if (px < L || px > L + pw || py < T || py > T + ph) return;
    const a = range.a0 + (px - L) / pw * (range.a1 - range.a0), s = range.r0 + (T + ph - py) / ph * (range.r1 - range.r0);
    state.configs[vi] = {alpha: String(Math.max(0.01, Math.round(a * 100) / 100)), side: String(Math.round(s))};
    update();
  });
  replace(box, g);
}

function renderNotes() {
  const items = [
    "Mode exact: channels rounded by each table's width rule (TF-slim / Keras / torchvision _make_divisible, TF-slim depth), " +
      "input side round(size \u00d7 \u03c1), strided sides ceil(H/s) with SAME padding (or the table's padding). The page evaluates " +
      "one function per network, printed as JavaScript from mobilecost's symbolic expressions; the rounding rules are " +
      "JavaScript twins of mobilecost/count/exact_rules.py.",
    "Exact or refused: JavaScript numbers are float64, exact for whole numbers up to 2**53; a configuration whose counts pass it " +
      "is refused here (mobilecost report counts it exactly with integers).",
    DATA.headers[state.convention],
    "Parameters are kept split (weights, biases, BN gamma/beta, BN mean/var); " +
      Object.entries(DATA.convention_text).map(([k, t]) => k + ": " + t).join("; ") + ".",
    "Peak activation memory: the largest live set of the sequential schedule (one layer per step, every output materialised " +
      "whole; a tensor lives until its last reader on any branch, and the network's outputs to the end), in bytes at fp32 \u2014 " +
      "as mobilecost memory and report count it.",
    "Published checkpoints: " + DATA.sources + ".",
  ];
  if (DEVICE) {
    items.push("Simulated latency (a roofline-style model, not a measurement): " + DEVICE.label + ". Peak: " + DEVICE.peak +
      " (" + DEVICE.peak_source + "). Memory: " + DEVICE.memory_source + ". Efficiencies: " + DEVICE.efficiency_source + ".");
  }
  for (const v of DATA.variants) {
    items.push(v.name + " (" + v.title + "), semantics " + v.semantics + ": " + v.source);
  }
  replace(document.getElementById("conventions"), items.map(t => el("li", {}, t)));
}

// -- the update loop ----------------------------------------------------------------------------------
function update(fromFragment) {
  if (!fromFragment) writeFragment();
  const errorBox = document.getElementById("error");
  errorBox.hidden = !fragmentProblem;
  errorBox.textContent = fragmentProblem || "";
  const results = DATA.variants.map((_, vi) => {
    try {
      const {alpha, side} = configOf(vi);
      return {alpha, side, m: metricsOf(vi, alpha, side, state.convention)};
    } catch (e) {
      if (e instanceof Refused) return {error: e.message};
      throw e;
    }
  });
  const vi = state.variant, res = results[vi];
  renderSummary(results);
  renderControls(vi);
  const refused = document.getElementById("refused");
  refused.hidden = !res.error;
  refused.textContent = res.error ? "Refused: " + res.error : "";
  renderCards(vi, res);
  renderPlane(vi, res);
  renderBars(vi, res);
  renderLayers(vi, res);
  renderNotes();
  document.body.setAttribute("data-ready", location.hash);
}

function onInput() {
  const c = state.configs[state.variant];
  c.alpha = document.getElementById("alpha").value;
  c.side = document.getElementById("resolution").value;
  update();
}

document.getElementById("alpha").addEventListener("change", onInput);
document.getElementById("resolution").addEventListener("change", onInput);
document.getElementById("convention").addEventListener("change", e => { state.convention = e.target.value; update(); });
document.getElementById("plane-metric").addEventListener("change", e => { state.metric = e.target.value; update(); });
window.addEventListener("hashchange", () => { readFragment(); update(true); });
readFragment();
update(true);
