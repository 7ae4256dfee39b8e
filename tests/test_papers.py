"""paper: the papers' cost tables reproduced from (transformed) tables."""

import sympy as sp
from typer.testing import CliRunner

from mobilecost.cli import app
from mobilecost.api import evaluate
from mobilecost.spec.loader import load_variant
from mobilecost.spec.files import tables_dir
from mobilecost.analysis.papers import memory_table, paper_tables, separable_ratio
from mobilecost.analysis.transforms import drop_rows, full_convolutions, separable_rows_at, with_classes

runner = CliRunner()


def _get(frame, table, row, metric):
    hit = frame[(frame["table"] == table) & (frame["row"] == row) & (frame["metric"] == metric)]
    assert len(hit) == 1, (table, row, metric)
    return hit.iloc[0]


def test_separable_ratio_is_one_over_n_plus_one_over_dk_squared():
    _, simple = separable_ratio()
    dk, n = sp.symbols("D_K N", positive=True)
    assert sp.simplify(simple - (1 / n + 1 / dk**2)) == 0


def test_v1_table3_one_layer():
    v1 = paper_tables("mobilenet_v1")
    t = "mobilenet_v1 Table 3"
    # Hand derivation, D_F = 14, M = N = 512, D_K = 3 (MobileNets Sec. 3.1-3.3):
    assert _get(v1, t, "Convolution", "macs_millions").mobilecost * 1e6 == 14 * 14 * 9 * 512 * 512
    assert _get(v1, t, "Depthwise Separable Conv", "macs_millions").mobilecost * 1e6 == 14 * 14 * (9 * 512 + 512 * 512)
    assert _get(v1, t, "alpha = 0.75", "macs_millions").mobilecost * 1e6 == 14 * 14 * (9 * 384 + 384 * 384)
    assert _get(v1, t, "rho = 0.714", "macs_millions").mobilecost * 1e6 == 10 * 10 * (9 * 384 + 384 * 384)
    # Printed: 462, 52.3, 29.6, 15.1 M and 2.36, 0.27, 0.15, 0.15 M parameters.
    for row in ("Convolution", "Depthwise Separable Conv", "alpha = 0.75", "rho = 0.714"):
        for metric in ("macs_millions", "params_millions"):
            assert "residual" not in _get(v1, t, row, metric).note


def test_v1_table2_weights_only_shares_and_the_swapped_digits():
    v1 = paper_tables("mobilenet_v1")
    t = "mobilenet_v1 Table 2"
    for kind, printed in (("Conv 1x1", 74.59), ("Conv dw 3x3", 1.06), ("Conv 3x3", 0.02), ("Fully connected", 24.33)):
        assert round(_get(v1, t, kind, "params_pct").mobilecost, 2) == printed
    # The paper prints 1.19 % for the first 3x3 conv; 112*112*27*32 / 568,740,352 is 1.906 %.
    assert round(_get(v1, t, "Conv 3x3", "macs_pct").mobilecost, 2) == round(100 * 112 * 112 * 27 * 32 / 568_740_352, 2)
    assert "erratum" in _get(v1, t, "Conv 3x3", "macs_pct").note


def test_v1_tables_4_5_are_transformed_tables():
    spec = load_variant("mobilenet_v1")
    conv = evaluate(full_convolutions(spec)).attrs["totals"]
    assert round(conv["params"] / 1e6, 1) == 29.3          # Table 4: 29.3 M
    assert abs(conv["macs"] / 1e6 - 4866) < 0.001 * 4866  # Table 4: 4866 M (residual 1.3 M shown by `paper`)
    rows = separable_rows_at(spec, 14, 512)
    assert len(rows) == 10
    shallow = evaluate(drop_rows(spec, rows)).attrs["totals"]
    assert round(shallow["macs"] / 1e6) == 307 and round(shallow["params"] / 1e6, 1) == 2.9  # Table 5
    # Hand: dropping five separable blocks removes 5 x 14x14x(9x512 + 512x512) MACs.
    base = evaluate(spec).attrs["totals"]
    assert base["macs"] - shallow["macs"] == 5 * 14 * 14 * (9 * 512 + 512 * 512)


def test_v2_memory_table_readings():
    rows = {(r["row"], r["metric"], r["table"]): r for r in memory_table()}
    t = "mobilenet_v2 Table 3"
    for side, ch in ((112, 64), (56, 128), (28, 256), (14, 512), (7, 1024), (1, 1024)):
        assert rows[(f"MobileNetV1 {side}x{side}", "channels", t)]["mobilecost"] == ch
    assert rows[("MobileNetV1 max", "memory_k (16-bit)", t)]["mobilecost"] == 112 * 112 * 64 * 2 / 1000
    assert rows[("MobileNetV2 112x112", "channels", t)]["mobilecost"] == 16
    assert rows[("MobileNetV2 max", "memory_k (16-bit)", t)]["mobilecost"] == 112 * 112 * 16 * 2 / 1000
    conf = t + " (conference)"
    assert rows[("MobileNetV1 max", "memory_k", conf)]["mobilecost"] == 112 * 112 * 64 / 1000  # 800K: elements
    assert rows[("MobileNetV2 max", "memory_k", conf)]["mobilecost"] == 112 * 112 * 16 / 1000  # 200K
    assert "input" in rows[("MobileNetV2 56x56", "channels", t)]["note"]


def test_user_table_transforms_and_cli(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text((tables_dir() / "mobilenet_v1.yaml").read_text().replace("1024x1000", "1024x10")
                    .replace("classes: 1000", "classes: 10").replace("1x1x1000", "1x1x10"))
    mine = load_variant(str(path))
    assert evaluate(mine).attrs["totals"]["biases"] == 10
    assert evaluate(with_classes(mine, 11)).attrs["totals"]["biases"] == 11
    assert evaluate(full_convolutions(mine)).attrs["totals"]["weights"] > evaluate(mine).attrs["totals"]["weights"]
    out = runner.invoke(app, ["paper", "mobilenet_v1"])
    assert out.exit_code == 0 and "1/N + D_K**(-2)" in out.output and "Table 5" in out.output
    assert runner.invoke(app, ["paper", "mobilenet_v2"]).exit_code == 0
    assert "ICCV" in runner.invoke(app, ["paper", "mobilenet_v3"]).output
    bad = runner.invoke(app, ["paper", "resnet"])
    assert bad.exit_code == 2 and "unknown paper" in bad.output


def test_published_figures_print_as_published():
    """MobileNetV3 paper Table 3 prints V3-Large 0.75 with 4.0 M and V3-Small 0.75 with 2.4 M parameters; the
    TF-slim README prints V3-Small-minimalistic with 2.0 M: a trailing zero is part of the figure."""
    text = runner.invoke(app, ["paper", "mobilenet_v3", "--width", "0"]).stdout
    rows = [line for line in text.splitlines() if "MobileNetV3-Large alpha=0.75 224" in line and "params" in line]
    assert rows and all("│       4.0 │" in line for line in rows), rows
    report = runner.invoke(app, ["report", "mobilenet_v3_large", "--alpha", "0.75", "--width", "0"]).stdout
    assert "│        4.0 │" in report
    # data outputs keep numbers as numbers
    assert '"published":4.0' in runner.invoke(app, ["paper", "mobilenet_v3", "-f", "json"]).stdout.replace(" ", "")
