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
from mobilecost.outputs.plots import contour_levels, pareto_front, plot_accuracy, plot_tradeoff
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
    assert "MAC = multiply-accumulate" in text
    if variant != "user":
        assert "arXiv:" in text and "Sources:" in text
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


def _scattered(ax):
    return np.vstack([c.get_offsets() for c in ax.collections if len(c.get_offsets())])


def test_accuracy_plots_one_point_per_checkpoint_at_exact_counts(keras_rows):
    fig = plot_accuracy()
    macs_ax, params_ax = fig.axes[:2]
    points = _scattered(macs_ax)
    # One point per released float checkpoint: TF-slim mobilenet_v1.md lists 16 (2017_06_14), the TF-slim
    # mobilenet README 22 MobileNetV2 checkpoints, the MobileNetV3 paper's Table 3 two of each V3 network.
    assert len(points) == 16 + 22 + 2 + 2
    assert len({(round(x, 6), y) for x, y in points}) == len(points)
    # MobileNetV1 1.0-224: 568,740,352 MACs (Keras reference), 70.7 % top-1 (mobilenet_v1.md, 2017_06_14).
    assert any(np.allclose(p, (568.740352, 70.7)) for p in points)
    # MobileNetV3-Small 1.0-224: 56,510,400 MACs (Keras reference), 67.4 % (MobileNetV3 paper, Table 3).
    assert any(np.allclose(p, (56.5104, 67.4)) for p in points)
    labels = macs_ax.get_legend_handles_labels()[1]
    assert "MobileNetV1 (16 checkpoints)" in labels and "MobileNetV3-Small (2 checkpoints)" in labels
    assert "ImageNet top-1" in macs_ax.get_ylabel() and "counted by mobilecost" in macs_ax.get_xlabel()
    assert "parameters" in params_ax.get_xlabel() and params_ax.get_xscale() == "log"
    text = _texts(fig)
    assert "a4e31b34db506e1ca0dcc5df00b71a56048f6f89" in text and "60c28f91c1a69098fa8d69e4430705981fc4e132" in text


def test_accuracy_of_mobilenet_v1_redraws_the_papers_figures_4_and_5(keras_rows):
    fig = plot_accuracy(["mobilenet_v1"])
    macs_ax, params_ax = fig.axes[:2]
    assert "Fig. 4" in macs_ax.get_title() and "Fig. 5" in params_ax.get_title()
    assert macs_ax.get_xscale() == "log"
    grid = [(a, r) for a in ("0.25", "0.5", "0.75", "1.0") for r in ("128", "160", "192", "224")]
    expected = {float(row["macs"]) / 1e6 for row in keras_rows if row["variant"] == "mobilenet_v1"
                and (row["alpha"], row["resolution"]) in grid}
    got = _scattered(macs_ax)
    assert len(got) == 16 and {round(x, 6) for x in got[:, 0]} == {round(x, 6) for x in expected}
    # Fig. 5: parameters do not depend on the resolution, four columns of four points. BN folded (the
    # paper's count) = Keras total - 2 x its non-trainable BN statistics (as many as the BN gammas, betas).
    folded = {(int(row["total_params"]) - 2 * (int(row["total_params"]) - int(row["trainable_params"]))) / 1e6
              for row in keras_rows if row["variant"] == "mobilenet_v1" and (row["alpha"], row["resolution"]) in grid}
    xs = _scattered(params_ax)[:, 0]
    assert {round(x, 6) for x in xs} == {round(x, 6) for x in folded} and len(folded) == 4
    assert 4.210088 in {round(x, 6) for x in xs}
    labels = {t.get_text() for t in macs_ax.texts}
    assert {"1.0-224", "0.25-128", "0.75-160"} <= labels  # every point of Fig. 4 named alpha-resolution


@pytest.mark.parametrize("families", [None, ["mobilenet_v1"]])
def test_accuracy_labels_collide_with_nothing(families):
    from mobilecost.outputs.labels import overlaps

    fig = plot_accuracy(families)
    assert sum(len(ax.texts) for ax in fig.axes) >= 10
    assert overlaps(fig) == []


def test_v1_source_agrees_with_the_papers_tables_where_both_give_a_figure():
    from mobilecost.analysis.accuracy import checkpoints
    from mobilecost.analysis.published import published_rows

    # MobileNets arXiv:1704.04861: Table 6 (1.0/0.75/0.5/0.25 at 224), Table 7 (1.0 at 192/160/128), Table 9
    # (0.5 at 160), as typed in mobilecost/data/published_models.csv.
    paper = {(p.alpha, p.resolution): p.top1 for p in published_rows()
             if p.variant == "mobilenet_v1" and "1704.04861" in p.source and p.top1 is not None}
    readme = {(c.alpha, c.resolution): c.top1 for c in checkpoints(["mobilenet_v1"])}
    assert len(paper) == 8 and set(paper) < set(readme)
    assert max(abs(paper[k] - readme[k]) for k in paper) == pytest.approx(0.3)


def test_accuracy_against_simulated_latency_adds_a_panel():
    fig = plot_accuracy(["mobilenet_v3_small"], device=DEVICE)
    assert len(fig.axes) == 3 and "latency (ms)" in fig.axes[2].get_xlabel()


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
    (["plot", "layers", "mobilenet_v1", "--dpi", "5", "-o", "x.png"], "--dpi"),
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


def test_contour_levels_follow_the_ladder_and_include_the_headline():
    # MobileNetV2 over the default plane spans about 8 to 1,300 M MACs; its paper's headline is 300 M.
    assert contour_levels([8.1, 1300], [300]).tolist() == [10, 20, 50, 100, 200, 300, 500, 1000]
    assert contour_levels([0.3, 4.0]).tolist() == [0.5, 1, 2]


def test_tradeoff_draws_the_headline_and_labels_without_collisions():
    from mobilecost.outputs.labels import overlaps

    fig = plot_tradeoff(["mobilenet_v2"])  # the default plane: 1.3-224 and 1.4-224 are neighbours
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "300 (paper)" in texts  # MobileNetV2 paper, Table 4: 300 M multiply-adds for 1.0-224
    assert {"74.4%", "75.0%", "72.0%"} & set(texts) == {"74.4%", "75.0%"}  # README top-1, not the paper's 72.0
    assert {"10", "20", "50", "100", "200", "500", "1000"} <= set(texts)
    assert sum(t.endswith("%") for t in texts) == 22  # every released MobileNetV2 checkpoint keeps its label
    assert overlaps(fig) == []
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("papers' algebra" in t for t in legend) and any("headline" in t for t in legend)


def test_side_by_side_panels_share_one_colour_scale():
    from matplotlib.collections import QuadMesh

    fig = plot_tradeoff(["mobilenet_v1", "mobilenet_v3_small"], alphas=SMALL_ALPHAS, resolutions=SMALL_RES)
    meshes = [c for ax in fig.axes if ax.get_label() != "<colorbar>" for c in ax.collections
              if isinstance(c, QuadMesh)]
    assert len(meshes) == 2 and meshes[0].norm is meshes[1].norm
    assert sum(1 for ax in fig.axes if ax.get_label() == "<colorbar>") == 1


def test_parameters_are_a_curve_over_alpha():
    from matplotlib.collections import QuadMesh

    fig = plot_tradeoff(["mobilenet_v1", "mobilenet_v2"], metric="params")
    ax = fig.axes[0]
    assert len(fig.axes) == 1 and ax.get_xlabel() == "width multiplier α"
    assert not any(isinstance(c, QuadMesh) for c in ax.collections)
    v1 = ax.get_lines()[0]
    x, y = v1.get_xdata(), v1.get_ydata()
    assert y[np.argmin(abs(x - 1.0))] * 1e6 == pytest.approx(4_210_088)  # Keras 4,231,976 trainable - 21,888 BN


def test_log_ticks_are_labelled_below_one():
    from matplotlib.ticker import FuncFormatter

    from mobilecost.outputs.plots import new_figure, plain_ticks

    ax = new_figure(4, 3).subplots()
    plain_ticks(ax.yaxis)
    minor = ax.yaxis.get_minor_formatter()
    assert isinstance(minor, FuncFormatter)
    assert [minor(v, 0) for v in (0.02, 0.03, 0.2, 0.5, 0.7, 2, 50, 300)] == ["0.02", "", "0.2", "0.5", "", "2", "50", ""]


def test_png_is_wide_enough_for_slides_and_dpi_scales_it(tmp_path):
    import struct

    def width(path):
        return struct.unpack(">I", path.read_bytes()[16:20])[0]

    default, small = tmp_path / "a.png", tmp_path / "b.png"
    for out, extra in ((default, []), (small, ["--dpi", "75"])):
        result = runner.invoke(app, ["plot", "tradeoff", "mobilenet_v3_small", "-o", str(out), *extra])
        assert result.exit_code == 0, result.output
    assert width(default) >= 1600 and width(small) == pytest.approx(width(default) / 2, abs=2)


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


def test_latency_tradeoff_hatches_the_configurations_outside_the_calibration_rows_sizes():
    # pixel4_a76_tflite_fp32_1t was calibrated on 56,510,400 to 568,740,352 MACs (V3-Small and V1 at 1.0/224,
    # Keras Applications). MobileNetV3-Small at alpha 0.25-1.25 and 96-256 pixels has fewer MACs than that at
    # its small corner (alpha 0.25 at 96: a few M) and within it at its large one (1.25 at 256: over 56.5 M).
    from matplotlib.colors import to_hex

    fig = plot_tradeoff("mobilenet_v3_small", metric="latency_ms", device="pixel4_a76_tflite_fp32_1t",
                        alphas=SMALL_ALPHAS, resolutions=SMALL_RES)
    hatched = [c for c in fig.axes[0].collections if any(getattr(c, "hatches", None) or ())]
    assert len(hatched) == 1 and to_hex(hatched[0].get_edgecolor()[0]) == "#dddddd"
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "outside the 56.5-568.7 M MACs of the calibration rows" in legend
    # A spec-only profile has no rows: nothing is hatched, and the legend says nothing of it.
    fig = plot_tradeoff("mobilenet_v3_small", metric="latency_ms", device="generic_cpu", alphas=SMALL_ALPHAS,
                        resolutions=SMALL_RES)
    assert not [c for c in fig.axes[0].collections if any(getattr(c, "hatches", None) or ())]
    assert "calibration rows" not in " ".join(t.get_text() for t in fig.legends[0].get_texts())


@pytest.mark.parametrize("args,line", [
    (["roofline", "mobilenet_v1", "--device", "generic_cpu", "-m", "latency_ms"],
     "mobilecost: error: --metric: the metric is the trade-off plot's; 'roofline' has no --metric"),
    (["accuracy", "mobilenet_v1", "-m", "params"],
     "mobilecost: error: --metric: the metric is the trade-off plot's; 'accuracy' has no --metric"),
    (["accuracy", "mobilenet_v1", "--mode", "ideal"],
     "mobilecost: error: --mode: --mode ideal is the trade-off plot's; 'accuracy' counts exactly"),
])
def test_options_only_the_tradeoff_plot_reads_are_refused_elsewhere(tmp_path, args, line):
    # They were ignored: `plot roofline -m latency_ms` drew the same figure as without it, exit 0.
    out = tmp_path / "f.png"
    result = CliRunner().invoke(app, ["plot", *args, "-o", str(out)])
    assert result.exit_code == 2 and result.stderr == line + "\n"
    assert not out.exists()
