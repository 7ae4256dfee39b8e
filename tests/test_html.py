"""The design-review page (`mobilecost export ... --html`) in headless Chromium: every number it computes
equals `mobilecost report ... --format json` (and `mobilecost latency ... --format json`) to the unit, it
requests nothing over the network, and text from a table stays text.

One browser serves the whole module, driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
NUL-terminated JSON on file descriptors 3 and 4), so no extra package is needed. Chromium runs with a
proxy and host rules under which any network request would fail, and every request it makes is logged.
"""

import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mobilecost.cli import app
from mobilecost.count.exact_rules import PYTHON_FUNCTIONS
from mobilecost.spec.files import list_variants
from mobilecost.spec.loader import load_variant

from test_heads import BACKBONE as TINY_BACKBONE, HEAD as TINY_HEAD

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package chromium)")

ROOT = Path(__file__).resolve().parent.parent
DEVICE = "pixel2_big_tflite_fp32_1t"
CONVENTIONS = ("paper", "torchvision", "keras")
runner = CliRunner()

# Configurations per variant: published ones, odd resolutions (SAME padding's ceil(H/s) at every stride), and
# alphas whose rounded widths sit on make_divisible's or truncation's boundaries: V1 0.25 (int truncation),
# V2 1.3 / 1.4 (the last layer above one), V3 0.5 (Keras's expansion 40 * 2.3 lands on a multiple of 8 / the
# 0.9 rule) and 0.35, MnasNet 1.4.
CONFIGS = {
    "mobilenet_v1": [(1.0, 224), (0.25, 128), (0.25, 97), (0.75, 193), (0.35, 161)],
    "mobilenet_v2": [(1.0, 224), (1.3, 224), (1.4, 224), (0.35, 97), (0.5, 160), (1.4, 193)],
    "mobilenet_v3_large": [(1.0, 224), (0.75, 224), (0.5, 193), (0.35, 97), (1.25, 161)],
    "mobilenet_v3_small": [(1.0, 224), (0.75, 224), (0.5, 193), (0.35, 97), (0.5, 33)],
    "mnasnet_a1": [(1.0, 224), (0.5, 193), (1.4, 97)],
}

# Every other table: every shipped one (`mobilecost list`, so a table added later is tested too) and the test
# tables of tests/reference/tables/. Three configurations each: the table's own, alpha 0.625 at an odd
# resolution, alpha 0.35 at another odd one. 0.625 puts every width that is 32 more than a multiple of 64
# (32, 96, 160, 480, 960: 96 * 0.625 = 60) on make_divisible's tie, v + 4 a multiple of 8; 0.35 sends small
# widths to the divisor floor and the 0.9 rule (80 * 0.35 = 28 -> 24 < 25.2 -> 32). Odd sides take ceil(H/s) at
# every stride and the valid pools' floor.
REFERENCE_TABLES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "reference" / "tables").glob("*.yaml"))
OTHER_TABLES = [name for name in list_variants() if name not in CONFIGS] + REFERENCE_TABLES


def configs_of(table: str) -> list[tuple[float, int]]:
    size = load_variant(str(ROOT / table) if table.endswith(".yaml") else table).input.size
    odd = lambda side: side | 1  # noqa: E731
    return [(1.0, size), (0.625, odd(size * 3 // 4)), (0.35, odd(size + 1))]


# A hand table with what no shipped table has yet: a valid 3x3 average-pool window (floor((16 - 3) / 2) + 1 = 7
# at 32 pixels; refused where the map is smaller than the window), a 5x3 kernel, GELU and SiLU.
WINDOWED = """name: windowed
title: Windowed pool and a 5x3 kernel
source: hand
format: v3
input: {size: 32, channels: 3}
classes: 10
width: {rounding: make_divisible, divisor: 8}
padding: {pool: valid}
layers:
  - {input: 32^2x3,  operator: "conv2d, 3x3", exp: -, out: 16, se: -, nl: swish, s: 2}
  - {input: 16^2x16, operator: "bneck, 5x3", exp: 40, out: 16, se: -, nl: gelu, s: 1}
  - {input: 16^2x16, operator: "conv2d, 1x1", exp: -, out: 32, se: -, nl: RE, s: 1}
  - {input: 16^2x32, operator: "pool, 3x3", exp: -, out: -, se: -, nl: -, s: 2, name: window}
  - {input: 7^2x32,  operator: "pool, 7x7", exp: -, out: -, se: -, nl: -, s: 1, name: pool}
  - {input: 1^2x32,  operator: "conv2d 1x1, NBN", exp: -, out: k, se: -, nl: -, s: 1}
"""
WINDOWED_CONFIGS = [(1.0, 32), (0.625, 33), (0.35, 47), (1.5, 4)]

# Hand tables, written beside the page: file -> (text, configurations). The branching head of test_heads.py
# (upsample, add, multiply, concat, a second output) with its widths scaled, and with them fixed, where
# alpha 0.5 gives the backbone's tap 8 channels against the gate's 16: refused.
HAND_TABLES = {
    "windowed.yaml": (WINDOWED, WINDOWED_CONFIGS),
    "tiny_backbone.yaml": (TINY_BACKBONE, None),
    "tiny_head.yaml": (TINY_HEAD, [(1.0, 8), (0.5, 9), (1.5, 17)]),
    "tiny_fixed_head.yaml": (TINY_HEAD.replace("name: tiny_head", "name: tiny_fixed_head")
                             .replace("head_widths: scaled", "head_widths: fixed"), [(1.0, 16), (0.5, 8), (0.75, 11)]),
}
HAND = [name for name, (_, configs) in HAND_TABLES.items() if configs]

COLLECT = """JSON.stringify({
  ready: document.body.getAttribute('data-ready'),
  metrics: [...document.querySelectorAll('[data-metric]')].map(e => [e.getAttribute('data-variant'),
    e.getAttribute('data-metric'), e.getAttribute('data-convention'), e.textContent]),
  layers: [...document.querySelectorAll('#layers [data-field]')].map(e => [Number(e.getAttribute('data-layer')),
    e.getAttribute('data-field'), e.textContent]),
  refused: document.getElementById('refused').hidden ? null : document.getElementById('refused').textContent,
  problem: document.getElementById('error').hidden ? null : document.getElementById('error').textContent,
  injected: window.INJECTED === undefined ? null : String(window.INJECTED),
})"""


def mobilecost(*args) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def refusal(*args) -> str | None:
    """The one-line error of a mobilecost command that refuses (exit 2), or None when it succeeds."""
    result = runner.invoke(app, list(args))
    if result.exit_code == 0:
        return None
    assert result.exit_code == 2, result.output
    return result.stderr.strip()


def report(variant, alpha, resolution, convention="paper") -> dict:
    return json.loads(mobilecost("report", variant, "--alpha", str(alpha), "--resolution", str(resolution),
                                 "--convention", convention, "--format", "json"))


def latency(variant, alpha, resolution, device=DEVICE) -> dict:
    return json.loads(mobilecost("latency", variant, "--device", device, "--alpha", str(alpha), "--resolution",
                                 str(resolution), "--format", "json"))["totals"]


# -- the browser ------------------------------------------------------------------------------------------
TRAMPOLINE = ("import fcntl, os, sys\n"
              "r, w = (fcntl.fcntl(int(fd), fcntl.F_DUPFD, 10) for fd in sys.argv[1:3])\n"
              "os.dup2(r, 3); os.dup2(w, 4); os.close(r); os.close(w)\n"
              "os.execv(sys.argv[3], sys.argv[3:])\n")


class Browser:
    """Headless Chromium spoken to over the DevTools protocol on a pipe."""

    def __init__(self, profile: str):
        to_child, self._out = os.pipe()
        self._in, from_child = os.pipe()
        args = [CHROMIUM, "--headless=new", "--remote-debugging-pipe", f"--user-data-dir={profile}", "--no-sandbox",
                "--no-first-run", "--disable-gpu", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--metrics-recording-only",
                "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND", "about:blank"]
        self.proc = subprocess.Popen([sys.executable, "-c", TRAMPOLINE, str(to_child), str(from_child), *args],
                                     pass_fds=(to_child, from_child), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        os.close(to_child)
        os.close(from_child)
        self._buffer, self._id, self.events = b"", 0, []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Network", "Page", "Runtime"):
            self.call(f"{domain}.enable", session=True)

    def _read(self, timeout=60.0) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._in], [], [], timeout)
            assert ready, "Chromium did not answer within a minute"
            chunk = os.read(self._in, 1 << 20)
            assert chunk, "Chromium closed its DevTools pipe"
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, session=False, **params):
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == self._id:
                assert "error" not in answer, answer
                return answer["result"]
            self.events.append(answer)

    def wait_for(self, method):
        for event in self.events:
            if event.get("method") == method:
                self.events.remove(event)
                return event
        while True:
            event = self._read()
            if event.get("method") == method:
                return event
            if "id" not in event:
                self.events.append(event)

    def open(self, url: str) -> dict:
        """Load `url` afresh and read what the page shows."""
        self.events = [e for e in self.events if e.get("method") == "Network.requestWillBeSent"]
        self.call("Page.navigate", session=True, url=url)
        self.wait_for("Page.loadEventFired")
        return self.read()

    def read(self) -> dict:
        result = self.call("Runtime.evaluate", session=True, expression=COLLECT, returnByValue=True)
        assert "exceptionDetails" not in result, result
        thrown = [e for e in self.events if e.get("method") == "Runtime.exceptionThrown"]
        assert not thrown, thrown
        return json.loads(result["result"]["value"])

    def evaluate(self, expression: str):
        return self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def close(self):
        try:
            self.call("Browser.close")
        except (AssertionError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._in)
        os.close(self._out)


@pytest.fixture(scope="module")
def work():
    folder = tempfile.mkdtemp(prefix="mobilecost-html-")
    yield Path(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(work):
    b = Browser(str(work / "profile"))
    yield b
    b.close()


def table_path(work: Path, table: str) -> str:
    """What mobilecost is given for a table: a built-in's name, else a file's path."""
    if table in HAND_TABLES:
        return str(work / table)
    return str(ROOT / table) if table.endswith(".yaml") else table


def write_hand_tables(work: Path) -> None:
    for name, (text, _) in HAND_TABLES.items():
        (work / name).write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def page(work):
    path = work / "review.html"
    write_hand_tables(work)
    tables = [table_path(work, t) for t in [*CONFIGS, *OTHER_TABLES, *HAND]]
    mobilecost("export", *tables, "--html", str(path), "--device", DEVICE)
    return path


class Pages:
    loads = 0

    def __init__(self, browser, path):
        self.browser, self.path = browser, path

    def show(self, fragment: str) -> dict:
        Pages.loads += 1  # a new query string: a fresh document each time, not only a hash change
        return self.browser.open(f"{self.path.as_uri()}?load={Pages.loads}#{fragment}")


def number(text: str) -> int:
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", text), text
    return int(text.replace(",", ""))


def shown(state: dict, variant: str, metric: str) -> list[str]:
    return [text for v, m, _, text in state["metrics"] if v == variant and m == metric]


def live_bytes(variant, alpha, resolution) -> dict:
    """Step name -> live bytes of the sequential schedule, from `mobilecost memory --format json`."""
    steps = json.loads(mobilecost("memory", variant, "--alpha", str(alpha), "--resolution", str(resolution),
                                  "--format", "json"))["steps"]
    return {step["step"]: int(step["live_bytes"]) for step in steps}


def check_against_report(state, variant, alpha, resolution, convention, expected, with_latency=None, live=None):
    assert state["problem"] is None and state["refused"] is None, state
    totals = expected["totals"]
    for metric, want in (("macs", totals["macs"]), ("params", totals["params"]),
                         ("act_peak", expected["memory"]["act_peak_bytes"])):
        texts = shown(state, variant, metric)
        assert texts, (variant, metric)
        for text in texts:
            assert number(text) == want, (variant, alpha, resolution, convention, metric, text, want)
    conventions = {c for v, m, c, _ in state["metrics"] if v == variant and m in ("params", "backbone_params", "head_params")}
    assert conventions == {convention}
    # Attention's matrix products: counted in MACs (report's default) and shown on their own.
    if totals["attn_macs"]:
        assert [number(t) for t in shown(state, variant, "attn_macs")] == [totals["attn_macs"]], (variant, alpha, resolution)
    # A head table: the backbone's share and the head's.
    parts = expected.get("parts")
    for part in ("backbone", "head"):
        for metric in ("macs", "params"):
            texts = shown(state, variant, f"{part}_{metric}")
            if parts is None:
                assert not texts
            else:
                assert [number(t) for t in texts] == [parts[part][metric]], (variant, alpha, resolution, part, metric)
    # Every layer the report lists, in order, with its shapes and counts.
    rows: dict = {}
    for index, field, text in state["layers"]:
        rows.setdefault(index, {})[field] = text
    layers = [rows[i] for i in sorted(rows)]
    assert len(layers) == len(expected["layers"])
    for got, want in zip(layers, expected["layers"]):
        for field in ("in_side", "in_ch", "out_side", "out_ch", "macs", "params", "act_out"):
            assert number(got[field]) == want[field], (variant, alpha, resolution, want["name"], field)
        if totals["attn_macs"]:
            assert number(got["attn_macs"]) == want["attn_macs"], (variant, alpha, resolution, want["name"])
    if live is not None:  # the live set of every step, branches and outputs kept live included
        assert [number(got["live_bytes"]) for got in layers] == [live[w["name"]] for w in expected["layers"]], (variant, alpha, resolution)
    if with_latency is not None:
        for metric, key in (("latency_ms", "latency_ms"), ("latency_ms_low", "latency_ms_low"),
                            ("latency_ms_high", "latency_ms_high")):
            for text in shown(state, variant, metric):
                assert re.fullmatch(r"\d+\.\d{3}", text), text
                assert abs(float(text) - with_latency[key]) <= 0.0005 + 1e-9, (variant, alpha, resolution, metric, text)
            assert shown(state, variant, metric)


@needs_chromium
@pytest.mark.parametrize("variant", list(CONFIGS))
def test_every_number_equals_the_report(browser, page, variant):
    pages = Pages(browser, page)
    for n, (alpha, resolution) in enumerate(CONFIGS[variant]):
        lat = latency(variant, alpha, resolution)
        conventions = CONVENTIONS[n % 3:] + CONVENTIONS[:n % 3]
        for k, convention in enumerate(conventions):
            fragment = f"variant={variant}&alpha={alpha}&resolution={resolution}&convention={convention}"
            if k == 0:  # a fresh document
                state = pages.show(fragment)
            else:  # the fragment changed in the open page (a link followed, the back button)
                browser.evaluate(f"location.hash = {json.dumps(fragment)}")
                state = browser.read()
            assert state["ready"] == "#" + fragment, state["ready"]
            check_against_report(state, variant, alpha, resolution, convention,
                                 report(variant, alpha, resolution, convention), lat,
                                 live_bytes(variant, alpha, resolution) if k == 0 else None)
    assert all(url.startswith(("file:", "data:")) for url in browser.requests()), browser.requests()


@needs_chromium
def test_latency_on_a_profile_with_every_fixed_cost_and_channel_blocks(browser, work):
    """generic_cpu_onnxruntime has a cost per inference, its own cost per element-wise step, and depthwise
    channel blocks (MobileNetV1 at alpha 0.35 has depthwise layers off them, at 0.5 none): the page's latency
    and band equal `mobilecost latency`'s."""
    device, path = "generic_cpu_onnxruntime", work / "review_blocks.html"
    mobilecost("export", "mobilenet_v1", "mobilenet_v3_small", "--html", str(path), "--device", device)
    pages = Pages(browser, path)
    for variant, alpha, resolution in (("mobilenet_v1", 0.35, 160), ("mobilenet_v1", 0.5, 224),
                                       ("mobilenet_v3_small", 0.75, 192)):
        state = pages.show(f"variant={variant}&alpha={alpha}&resolution={resolution}&convention=paper")
        check_against_report(state, variant, alpha, resolution, "paper", report(variant, alpha, resolution),
                             latency(variant, alpha, resolution, device))


@needs_chromium
def test_a_band_outside_the_calibration_rows_sizes_says_so(browser, work):
    # pixel4_a76_tflite_fp32_1t was calibrated on rows of 56,510,400 (V3-Small 1.0/224) to 568,740,352 MACs
    # (V1 1.0/224; both Keras Applications): V3-Small 0.75/224 has fewer, V2 1.0/224 lies within.
    path = work / "review_span.html"
    mobilecost("export", "mobilenet_v3_small", "mobilenet_v2", "--html", str(path), "--device", "pixel4_a76_tflite_fp32_1t")
    pages = Pages(browser, path)
    note = "outside the 56,510,400 to 568,740,352 MACs of the rows the profile was calibrated on"
    for variant, alpha, outside in (("mobilenet_v3_small", 0.75, True), ("mobilenet_v2", 1.0, False)):
        pages.show(f"variant={variant}&alpha={alpha}&resolution=224&convention=paper")
        text = browser.evaluate("document.body.innerText")["result"]["value"]
        assert (note in text) == outside, (variant, alpha)


@needs_chromium
@pytest.mark.parametrize("table", [*OTHER_TABLES, *HAND])
def test_every_table_equals_the_report(browser, page, work, table):
    """MobileNetV4 (attention MACs), head tables (branches, outputs live to the end, the backbone/head split),
    torchvision's fractional expansion (round half to even), windowed pools: every total, layer and live set."""
    path = table_path(work, table)
    name = load_variant(path).name
    pages = Pages(browser, page)
    configs = HAND_TABLES[table][1] if table in HAND_TABLES else configs_of(table)
    for n, (alpha, resolution) in enumerate(configs):
        convention = CONVENTIONS[n % 3]
        fragment = f"variant={name}&alpha={alpha}&resolution={resolution}&convention={convention}"
        if n == 0:  # a fresh document, then the fragment changed in the open page
            state = pages.show(fragment)
        else:
            browser.evaluate(f"location.hash = {json.dumps(fragment)}")
            state = browser.read()
        assert state["ready"] == "#" + fragment, state["ready"]
        problem = refusal("report", path, "--alpha", str(alpha), "--resolution", str(resolution), "--format", "json")
        if problem is not None:  # refused by both, for the same reason
            assert state["refused"], (table, alpha, resolution, problem)
            for reason in ("window", "cannot join"):
                assert (reason in problem) == (reason in state["refused"]), (problem, state["refused"])
            continue
        check_against_report(state, name, alpha, resolution, convention, report(path, alpha, resolution, convention),
                             latency(path, alpha, resolution), live_bytes(path, alpha, resolution))
    assert all(url.startswith(("file:", "data:")) for url in browser.requests()), browser.requests()


def test_the_hand_tables_are_refused_where_they_cannot_be_built(work):
    """So the test above checks refusals as well as counts: the windowed table at 4 pixels (allowed by the total
    stride 4, but the stem leaves 2x2, smaller than the 3x3 window) and the fixed-width head at alpha 0.5."""
    write_hand_tables(work)
    for table, (alpha, resolution), reason in (("windowed.yaml", WINDOWED_CONFIGS[-1], "window"),
                                               ("tiny_fixed_head.yaml", (0.5, 8), "cannot join")):
        problem = refusal("report", str(work / table), "--alpha", str(alpha), "--resolution", str(resolution))
        assert problem is not None and reason in problem, problem


@needs_chromium
def test_every_rounding_rule_has_a_javascript_twin(browser, page):
    """Each rule of count/exact_rules.py, run in the page on the same arguments, gives Python's result (ties of
    make_divisible and of round-half-even, the 0.9 rule, windows larger than the map refused)."""
    Pages(browser, page).show("variant=mobilenet_v1")
    cases = {
        "make_divisible": [(k / 8 + f, d) for k in range(0, 800, 3) for f in (0, 0.5, 0.499999) for d in (8, 16)]
                          + [(c * a, 8) for c in (16, 24, 32, 40, 80, 96, 160, 960) for a in (0.35, 0.5, 0.625, 0.75, 1.3)],
        "truncate": [(c * a, 8) for c in (16, 32, 64, 1024) for a in (0.25, 0.35, 0.5, 0.75, 1.4)],
        "scale_by": [(c, 2.3) for c in (8, 16, 40, 96)],
        "ceil_div": [(h, s) for h in range(1, 70) for s in (1, 2, 3, 4)],
        "pad_bottom_right": [(h, k, s) for h in range(3, 40) for k in (1, 3, 5) for s in (1, 2)],
        "valid_window": [(h, k, s) for h in range(1, 40) for k in (1, 3, 7) for s in (1, 2, 3)],
        "round_half_even": [(x / 2,) for x in range(-9, 900)] + [(x / 10,) for x in range(0, 300)],
        "round_half_up": [(x / 2,) for x in range(-9, 900)] + [(x / 10,) for x in range(0, 300)],
    }
    assert set(cases) == set(PYTHON_FUNCTIONS)
    for rule, args in cases.items():
        want = []
        for a in args:
            try:
                want.append(PYTHON_FUNCTIONS[rule](*a))
            except Exception as exc:  # noqa: BLE001 - a refusal: the page must refuse too
                want.append("refused" if "window" in str(exc) else repr(exc))
        expression = (f"JSON.stringify({json.dumps(args)}.map(a => {{ try {{ return {rule}(...a); }} "
                      "catch (e) { return e instanceof Refused && /window/.test(e.message) ? 'refused' : String(e); } }))")
        got = json.loads(browser.evaluate(expression)["result"]["value"])
        assert got == want, (rule, [(a, g, w) for a, g, w in zip(args, got, want) if g != w][:5])


@needs_chromium
def test_the_page_opens_at_the_configuration_export_was_given(browser, work):
    """export --alpha/--resolution: the page opens at the first of each (every variant); a link's fragment wins."""
    path = work / "start.html"
    mobilecost("export", "mobilenet_v2", "ssdlite_mobilenet_v2", "--html", str(path), "--alpha", "0.625,1.0",
               "--resolution", "161:225:32")
    pages = Pages(browser, path)
    state = pages.show("")
    for variant in ("mobilenet_v2", "ssdlite_mobilenet_v2"):
        assert shown(state, variant, "alpha") == ["0.625"] and shown(state, variant, "resolution") == ["161"]
        totals = report(variant, 0.625, 161)["totals"]
        assert number(shown(state, variant, "macs")[0]) == totals["macs"]
    state = pages.show("variant=mobilenet_v2&alpha=1.4&resolution=224")
    assert number(shown(state, "mobilenet_v2", "macs")[0]) == report("mobilenet_v2", 1.4, 224)["totals"]["macs"]
    # Without --alpha and --resolution: alpha 1 at each table's own input side (SSDLite: 320).
    mobilecost("export", "mobilenet_v2", "ssdlite_mobilenet_v2", "--html", str(path))
    state = pages.show("")
    assert shown(state, "ssdlite_mobilenet_v2", "resolution") == ["320"] and shown(state, "mobilenet_v2", "alpha") == ["1"]
    assert number(shown(state, "ssdlite_mobilenet_v2", "macs")[0]) == report("ssdlite_mobilenet_v2", 1, 320)["totals"]["macs"]


@needs_chromium
def test_counts_past_two_to_the_53_are_refused(browser, page):
    big = report("mobilenet_v2", 100000, 224)["totals"]["macs"]
    assert big > 2**53  # counted exactly by the report; float64 cannot hold it
    state = Pages(browser, page).show("variant=mobilenet_v2&alpha=100000&resolution=224")
    assert state["refused"] and "2**53" in state["refused"], state["refused"]
    assert not shown(state, "mobilenet_v2", "macs") and not shown(state, "mobilenet_v2", "params")
    # The other variants keep their own configuration.
    assert number(shown(state, "mobilenet_v1", "macs")[0]) == report("mobilenet_v1", 1.0, 224)["totals"]["macs"]


@needs_chromium
def test_bad_fragment_and_small_input_are_explained(browser, page):
    pages = Pages(browser, page)
    state = pages.show("variant=nonesuch&alpha=0.5")
    assert "nonesuch" in state["problem"]
    state = pages.show("variant=mobilenet_v1&alpha=1&resolution=16")
    assert "at least 32x32" in state["refused"]
    state = pages.show("variant=mobilenet_v1&alpha=1&resolution=160x128")
    assert "rectangular" in state["refused"]


HOSTILE_NAME = "</script><script>window.INJECTED=1</script><!--"
HOSTILE_TITLE = "<img src=x onerror=\"window.INJECTED=2\"> & </style><b>bold</b> /*DATA*/"


@needs_chromium
def test_a_user_table_is_counted_and_its_text_stays_text(browser, work):
    text = (ROOT / "tables" / "mobilenet_v3_small.yaml").read_text(encoding="utf-8")
    text = text.replace("name: mobilenet_v3_small", f"name: {json.dumps(HOSTILE_NAME)}", 1)
    text = text.replace("title: MobileNetV3-Small", f"title: {json.dumps(HOSTILE_TITLE)}", 1)
    table = work / "hostile.yaml"
    table.write_text(text, encoding="utf-8")
    path = work / "user.html"
    mobilecost("export", str(table), "--html", str(path))
    html = path.read_text(encoding="utf-8")
    assert HOSTILE_NAME not in html and "<img" not in html and "</style><b>" not in html
    pages = Pages(browser, path)
    fragment = "variant=" + re.sub(r"[^A-Za-z0-9]", lambda m: "%%%02X" % ord(m.group()), HOSTILE_NAME)
    for alpha, resolution in ((1.0, 224), (0.5, 193), (0.35, 97)):
        state = pages.show(f"{fragment}&alpha={alpha}&resolution={resolution}")
        assert state["injected"] is None
        assert state["problem"] is None, state["problem"]
        check_against_report(state, HOSTILE_NAME, alpha, resolution, "paper", report(str(table), alpha, resolution))
    title = browser.evaluate("document.querySelector('#summary .small').textContent")["result"]["value"]
    assert title == HOSTILE_TITLE
    assert browser.evaluate("document.querySelectorAll('img, b').length")["result"]["value"] == 0


@needs_chromium
def test_the_page_loads_nothing(browser, page):
    html = page.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    for pattern in (r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", r"url\(\s*[\"']?\s*(?:https?:)?//",
                    r"\bfetch\(", r"XMLHttpRequest", r"WebSocket", r"sendBeacon", r"EventSource", r"\bimport\(",
                    r"<link\b", r"<iframe\b", r"<script[^>]+src"):
        assert not re.search(pattern, html), pattern
    Pages(browser, page).show("variant=mobilenet_v2&alpha=0.5&resolution=160")
    assert all(url.startswith(("file:", "data:")) for url in browser.requests()), browser.requests()


def test_the_page_holds_formulas_not_counts(page):
    """No total of a published configuration is written in the page: the browser computes them all. (The device
    profile's own figures are data, as its peak is: the MACs span of its calibration rows may equal a total.)"""
    from mobilecost.latency.devices import load_device

    html = page.read_text(encoding="utf-8")
    stated = set(load_device(DEVICE).calibration.macs_span)
    tested = [(variant, config) for variant, configs in CONFIGS.items() for config in configs[:2]]
    tested += [(table_path(page.parent, table), configs_of(table)[0]) for table in OTHER_TABLES]
    for variant, (alpha, resolution) in tested:
        totals = report(variant, alpha, resolution)["totals"]
        for value in (totals["macs"], totals["params"], totals["act_out"], totals["attn_macs"]):
            if value >= 100_000 and value not in stated:  # a smaller number may be any number in the page
                assert str(value) not in html and f"{value:,}" not in html, (variant, alpha, resolution, value)
    assert all(f"function {rule}(" in html for rule in PYTHON_FUNCTIONS)


def test_a_page_that_cannot_be_written_is_refused_before_any_work(work):
    result = runner.invoke(app, ["export", "mobilenet_v1", "--html", str(work / "missing" / "review.html")])
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert message.startswith("mobilecost: error:") and "--html" in message and len(message.splitlines()) == 1
    assert not (work / "missing").exists()
    result = runner.invoke(app, ["export", "mobilenet_v1"])
    assert result.exit_code == 2 and "--html" in result.stderr


def test_a_rule_without_a_javascript_twin_is_refused_not_written():
    """A rounding rule the page cannot evaluate stops the page from being written (one clear error), rather
    than leaving a page that fails in the browser."""
    import sympy as sp

    from mobilecost.count.rounding import ALPHA, RHO
    from mobilecost.errors import MobilecostError
    from mobilecost.outputs.html_formulas import js_function

    with pytest.raises(MobilecostError, match="no JavaScript twin of nearest_multiple"):
        js_function([sp.Function("nearest_multiple")(32 * ALPHA, 8) * RHO])
