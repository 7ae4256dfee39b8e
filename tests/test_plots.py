"""Figures: every kind renders for the four variants and a user table, with the right content.

Expected figures: MobileNets (arXiv:1704.04861) Table 6, 1.0 MobileNet-224: 569 M mult-adds, 70.6 % top-1;
Keras Applications MobileNet(alpha=1.0), 224: 568,740,352 MACs and MobileNetV3Small(alpha=1.0), 224:
56,510,400 MACs (tests/reference/keras_applications.csv).
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mobilecost.cli import app
from mobilecost.latency.devices import list_devices
from mobilecost.outputs.plots import pareto_front, plot_accuracy, plot_tradeoff
from mobilecost.outputs.plots_layers import plot_layers, plot_roofline

VARIANTS = ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small")
ROOT = Path(__file__).resolve().parent.parent
DEVICE = "pixel4_a76_tflite_fp32_1t" if "pixel4_a76_tflite_fp32_1t" in list_devices() else list_devices()[0]
SMALL_ALPHAS = np.array([0.25, 0.5, 0.75, 1.0, 1.25])
SMALL_RES = np.arange(96, 257, 32)


@pytest.fixture(scope="module")
def user_table(tmp_path_factory):
    text = (ROOT / "tables" / "mobilenet_v2.yaml").read_text()
    text = text.replace("name: mobilenet_v2", "name: my_net", 1).replace("title: MobileNetV2", "title: MyNet", 1)
    path = tmp_path_factory.mktemp("tables") / "my_net.yaml"
    path.write_text(text)
    return str(path)


def _texts(fig):
    from matplotlib.text import Text

    return " ".join(t.get_text() for t in fig.findobj(Text))


@pytest.mark.parametrize("variant", [*VARIANTS, "user"])
def test_tradeoff_renders_with_contours_checkpoints_and_footnote(variant, user_table):
    name = user_table if variant == "user" else variant
    fig = plot_tradeoff(name, alphas=SMALL_ALPHAS, resolutions=SMALL_RES)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "width multiplier α" and "pixels" in ax.get_ylabel()
    assert len(ax.collections) >= 2  # the shaded plane and contour sets
    text = _texts(fig)
    assert "MAC = multiply-accumulate" in text and "arXiv:1704.04861" in text
    markers = [(x, y) for line in ax.get_lines() for x, y in zip(line.get_xdata(), line.get_ydata())]
    if variant == "mobilenet_v1":
        assert (0.75, 224) in markers  # MobileNets Table 6: 0.75 MobileNet-224
    if variant == "user":
        assert markers == []  # a user table has no published checkpoints


def test_tradeoff_shows_rounding_steps_in_exact_mode():
    # V1 channels are int(c * alpha): between alpha 0.5 and 0.5 + 1/1024 * 0.9 no width of the 1024-wide
    # layers changes, so exact MACs are flat there while the papers' algebra keeps growing.
    from mobilecost import sweep

    exact = sweep("mobilenet_v1", [0.5, 0.5004], resolutions=[224])["macs"].to_numpy()
    ideal = sweep("mobilenet_v1", [0.5, 0.5004], resolutions=[224], mode="ideal")["macs"].to_numpy()
    assert exact[0] == exact[1] and ideal[1] > ideal[0]
    fig = plot_tradeoff("mobilenet_v1", alphas=SMALL_ALPHAS, resolutions=SMALL_RES)
    styles = {tuple(c.get_linestyle()[0][1] or ()) for c in fig.axes[0].collections if hasattr(c, "get_linestyle")}
    assert len(styles) >= 2  # solid exact iso-lines and dashed ideal ones


@pytest.mark.parametrize("metric", ["params", "act_peak_bytes", "latency_ms"])
def test_tradeoff_other_metrics(metric):
    fig = plot_tradeoff("mobilenet_v3_small", metric=metric, device=DEVICE, alphas=SMALL_ALPHAS, resolutions=SMALL_RES)
    label = fig.axes[-1].get_ylabel() + " ".join(a.get_ylabel() for a in fig.axes)
    assert {"params": "parameters", "act_peak_bytes": "MB", "latency_ms": "ms"}[metric] in label


def test_accuracy_plots_every_family_with_published_points():
    fig = plot_accuracy()
    ax = fig.axes[0]
    points = np.vstack([c.get_offsets() for c in ax.collections if len(c.get_offsets())])
    assert any(np.allclose(p, (569, 70.6)) for p in points)  # MobileNets Table 6, 1.0-224
    labels = ax.get_legend_handles_labels()[1]
    for family in ("MobileNetV1", "MobileNetV2", "MobileNetV3-Large", "MobileNetV3-Small"):
        assert any(label.startswith(family) for label in labels)
    assert "ImageNet top-1" in ax.get_ylabel() and "MACs" in ax.get_xlabel()


def test_accuracy_against_simulated_latency_adds_a_panel():
    fig = plot_accuracy(["mobilenet_v3_small"], device=DEVICE)
    assert len(fig.axes) == 2 and "latency (ms)" in fig.axes[1].get_xlabel()


def test_pareto_front_by_hand():
    # (cost, accuracy): (1, 50) (2, 49) (2, 60) (3, 55) (4, 70): (2, 49) and (3, 55) are beaten by (2, 60).
    x = np.array([1, 2, 2, 3, 4])
    y = np.array([50, 49, 60, 55, 70])
    assert pareto_front(x, y) == [0, 2, 4]


@pytest.mark.parametrize("variant,keras_macs", [("mobilenet_v1", 568_740_352), ("mobilenet_v3_small", 56_510_400)])
def test_layers_bars_add_up_to_the_reference_total(variant, keras_macs):
    fig = plot_layers(variant, alpha=1.0, resolution=224)
    macs_ax = fig.axes[0]
    heights = sum(p.get_height() for p in macs_ax.patches)
    assert heights * 1e6 == pytest.approx(keras_macs, rel=1e-12)
    assert "MACs (millions)" in macs_ax.get_ylabel()


@pytest.mark.parametrize("variant", [*VARIANTS, "user"])
def test_layers_and_roofline_render(variant, user_table):
    name = user_table if variant == "user" else variant
    fig = plot_layers(name, alpha=0.75, resolution=160, device=DEVICE)
    assert len(fig.axes) == 4 and "time (ms)" in fig.axes[3].get_ylabel()
    roof = plot_roofline(name, DEVICE, alpha=0.75, resolution=160)
    ax = roof.axes[0]
    assert ax.get_xscale() == "log" and "GMAC/s" in ax.get_ylabel() and "MACs per byte" in ax.get_xlabel()
    scattered = sum(len(c.get_offsets()) for c in ax.collections)
    assert scattered >= 20  # every layer with multiply-accumulates is a point


runner = CliRunner()


@pytest.mark.parametrize("suffix,magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_cli_writes_each_format(tmp_path, suffix, magic):
    out = tmp_path / f"fig{suffix}"
    result = runner.invoke(app, ["plot", "layers", "mobilenet_v3_small", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(magic)


@pytest.mark.parametrize("args,field", [
    (["plot", "tradeoff", "mobilenet_v2", "-o", "x.gif"], "-o"),
    (["plot", "roofline", "mobilenet_v2", "-o", "x.png"], "--device"),
    (["plot", "tradeoff", "mobilenet_v2", "--metric", "latency_ms", "-o", "x.png"], "--metric"),
    (["plot", "layers", "mobilenet_v1", "mobilenet_v2", "-o", "x.png"], "VARIANT"),
])
def test_cli_bad_input_is_one_line_and_no_file(tmp_path, monkeypatch, args, field):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and field in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_report_does_not_import_matplotlib():
    code = ("import sys; from typer.testing import CliRunner; from mobilecost.cli import app; "
            "r = CliRunner().invoke(app, ['report', 'mobilenet_v1']); assert r.exit_code == 0; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_latency_tradeoff_draws_the_error_band():
    # Dotted contours where the band's low and high ends (prediction x the profile's band factors) reach each level.
    from mobilecost.latency.devices import load_device

    fig = plot_tradeoff("mobilenet_v3_small", metric="latency_ms", device=DEVICE, alphas=SMALL_ALPHAS,
                        resolutions=SMALL_RES)
    dotted = [c for c in fig.axes[0].collections
              if hasattr(c, "get_linestyle") and c.get_linestyle()[0][1] is not None
              and len(c.get_linestyle()[0][1]) == 2 and c.get_linestyle()[0][1][0] < c.get_linestyle()[0][1][1]]
    assert len(dotted) == 2
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "error band" in legend
    assert load_device(DEVICE).band().low_factor < 1 < load_device(DEVICE).band().high_factor
