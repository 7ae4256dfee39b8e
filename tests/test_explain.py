"""explain: every walk ends at the published figure (printed precision) or states its residual."""

import pytest
from typer.testing import CliRunner

from mobilecost.cli import app
from mobilecost.analysis.explain import explain, lands
from mobilecost.spec.files import tables_dir

runner = CliRunner()


def _walk(e, metric, printed, source_part):
    for w in e.walks:
        if w.metric == metric and abs(w.printed - printed * 1e6) < 1 and source_part in w.figure.source:
            return w
    raise AssertionError(f"no walk for {metric} {printed} from {source_part}")


def _ends_right(w):
    final = w.base + sum(s.delta for s in w.reading.steps)
    if w.matched:
        printed_m = w.printed / 1e6
        assert lands(final, printed_m, w.decimals, w.printing)
    else:
        assert final + w.residual == pytest.approx(w.printed)


@pytest.fixture(scope="module")
def v1():
    return explain("mobilenet_v1", 1.0, 224)


def test_every_walk_ends_at_the_figure_or_a_residual(v1):
    for e in (v1, explain("mobilenet_v3_small"), explain("mobilenet_v2", 1.4, 224)):
        assert e.walks
        for w in e.walks:
            _ends_right(w)


def test_v1_params_paper_keras_tfslim(v1):
    assert _walk(v1, "params", 4.2, "1704.04861").matched
    keras = _walk(v1, "params", 4.3, "keras-io")
    # BN channels of MobileNets Table 1: 32 + 2*(32+64+128+256+512) ... summed by hand = 10,944.
    bn_channels = 32 + (32 + 64) + (64 + 128) + (128 + 128) + (128 + 256) + (256 + 256) + (256 + 512) \
        + 5 * 1024 + (512 + 1024) + (1024 + 1024)
    assert bn_channels == 10_944
    assert keras.matched and [s.delta for s in keras.reading.steps] == [2 * bn_channels, 2 * bn_channels]
    tfslim = _walk(v1, "params", 4.24, "mobilenet_v1.md")
    assert not tfslim.matched  # no documented reading prints 4.24; the residual is stated
    assert tfslim.residual == pytest.approx(4.24e6 - tfslim.base)


def test_v1_575_from_the_v2_paper_is_an_unexplained_residual(v1):
    w = _walk(v1, "macs", 575, "1801.04381")
    assert not w.matched
    assert w.residual == pytest.approx(575e6 - 568_740_352)
    assert _walk(v1, "macs", 569, "1704.04861").matched


def test_tfslim_v1_075_leaves_out_the_stem():
    e = explain("mobilenet_v1", 0.75, 224)
    w = _walk(e, "macs", 317, "mobilenet_v1.md")
    assert w.matched and w.reading.name == "stem convolution not counted"
    # conv1 at alpha 0.75: 112x112 outputs x 3x3x3 kernel x 24 filters.
    assert [s.delta for s in w.reading.steps] == [-(112 * 112 * 27 * 24)]
    assert _walk(e, "macs", 325, "1704.04861").matched


def test_v2_14_and_v3_cases():
    v2 = explain("mobilenet_v2", 1.4, 224)
    assert _walk(v2, "params", 6.06, "README").matched
    assert not _walk(v2, "params", 6.9, "1801.04381").matched
    large = explain("mobilenet_v3_large")
    assert _walk(large, "macs", 217, "README").matched
    paper = _walk(large, "macs", 219, "ICCV")
    assert not paper.matched and 2.0e6 < paper.residual < 2.5e6
    tv = _walk(large, "params", 5.483032, "torchvision")
    assert tv.matched and tv.reading.name.startswith("torchvision")
    small = explain("mobilenet_v3_small")
    assert _walk(small, "macs", 56, "later revision").matched
    assert not _walk(small, "macs", 66, "ICCV").matched
    assert not _walk(small, "params", 2.9, "ICCV").matched


def test_user_table_and_cli(tmp_path):
    src = (tables_dir() / "mobilenet_v1.yaml").read_text()
    path = tmp_path / "mine.yaml"
    path.write_text(src.replace("name: mobilenet_v1", "name: my_v1"))
    assert explain(str(path)).walks == ()  # no published figures for a table of one's own
    result = runner.invoke(app, ["explain", str(path)])
    assert result.exit_code == 0 and "no published figures" in result.output
    result = runner.invoke(app, ["explain", "mobilenet_v1", "--alpha", "0.75"])
    assert result.exit_code == 0 and "stem convolution not counted" in result.output
    assert "unexplained residual" in runner.invoke(app, ["explain", "mobilenet_v3_small"]).output
    bad = runner.invoke(app, ["explain", "mobilenet_v1", "--alpha", "zero"])
    assert bad.exit_code == 2 and "--alpha" in bad.output
