"""`mobilecost measure`: the CSV calibration reads, its statistics, and its failure modes.

No assertion here is about speed; only about what is written and how.
"""

import csv
import io
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from mobilecost.cli import app  # noqa: E402
from mobilecost.measure.timing import cpu_model, summarise, vector_isa  # noqa: E402

runner = CliRunner()


def test_summary_statistics_by_hand():
    # Five runs 1..5 ms: median 3; numpy's linear quartiles at positions 1 and 3 of 0..4 -> 2 and 4.
    stats = summarise(np.array([5.0, 1.0, 4.0, 2.0, 3.0]))
    assert stats == {"latency_ms": 3.0, "latency_p25_ms": 2.0, "latency_p75_ms": 4.0,
                     "latency_min_ms": 1.0, "latency_max_ms": 5.0}


def test_cpu_model_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Example CPU @ 2.00GHz\n\n"
                    "processor\t: 1\nmodel name\t: Example CPU @ 2.00GHz\n")
    assert cpu_model(info) == "Example CPU @ 2.00GHz"
    assert cpu_model(tmp_path / "missing")  # falls back to what platform reports, never empty


def test_vector_isa_from_cpuinfo(tmp_path):
    import platform

    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw\n", encoding="utf-8")
    assert vector_isa(info) == "avx512f"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n", encoding="utf-8")
    assert vector_isa(info) == "avx2"
    info.write_text("processor\t: 0\nFeatures\t: fp asimd evtstrm aes\n", encoding="utf-8")  # an Arm core: no x86 flags
    assert vector_isa(info) == platform.machine()


def test_measure_writes_the_calibration_csv(tmp_path):
    out = tmp_path / "m.csv"
    result = runner.invoke(app, ["measure", "mobilenet_v3_small", "mobilenet_v1", "--alpha", "0.25,0.5",
                                 "--resolution", "64", "--repeats", "3", "--warmup", "1", "--threads", "1",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["variant"], r["alpha"], r["resolution"]) for r in rows] == [
        ("mobilenet_v3_small", "0.25", "64"), ("mobilenet_v3_small", "0.5", "64"),
        ("mobilenet_v1", "0.25", "64"), ("mobilenet_v1", "0.5", "64")]
    for r in rows:
        low, p25, median, p75, high = (float(r[k]) for k in (
            "latency_min_ms", "latency_p25_ms", "latency_ms", "latency_p75_ms", "latency_max_ms"))
        assert 0 < low <= p25 <= median <= p75 <= high
        assert (r["repeats"], r["warmup"], r["threads"]) == ("3", "1", "1")
        assert r["runtime"] == f"onnxruntime {ort.__version__}"
        assert r["cpu"] and r["isa"]
    assert "100%" in result.stderr  # the progress bar ran to the end


def test_measure_a_user_table(tmp_path, ):
    from pathlib import Path

    table = Path(__file__).resolve().parent.parent / "tables" / "mobilenet_v3_small.yaml"
    result = runner.invoke(app, ["measure", str(table), "--alpha", "0.35", "--resolution", "64",
                                 "--repeats", "2", "--warmup", "0"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 1 and rows[0]["variant"] == "mobilenet_v3_small"


@pytest.mark.parametrize("args,field", [
    (["--repeats", "0"], "--repeats"),
    (["--threads", "0"], "--threads"),
    (["--alpha", "0.5,x"], "--alpha"),
    (["--resolution", "64.5"], "--resolution"),
    (["--resolution", "16"], "--resolution"),  # below V1's total stride of 32
])
def test_bad_options_are_one_line_and_write_nothing(tmp_path, args, field):
    out = tmp_path / "m.csv"
    result = runner.invoke(app, ["measure", "mobilenet_v1", "--repeats", "1", *args, "-o", str(out)])
    assert result.exit_code == 2, result.output
    message = result.stderr.strip().splitlines()
    assert len(message) == 1 and message[0].startswith("mobilecost: error:") and field in message[0]
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_without_onnxruntime_the_command_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    result = runner.invoke(app, ["measure", "mobilenet_v1", "-o", str(tmp_path / "m.csv")])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("mobilecost: error: this command needs onnx and onnxruntime: "
                                     "pip install 'mobilecost[measure]'")
    assert list(tmp_path.iterdir()) == []


def test_rows_keep_the_requested_order_across_chunks(monkeypatch):
    import mobilecost.measure.timing as measure_module

    monkeypatch.setattr(measure_module, "CHUNK", 2)  # 5 configurations -> 3 strided chunks: {0,3}, {1,4}, {2}
    configs = measure_module.configurations(["mobilenet_v3_small"], [0.25, 0.5, 0.75, 1.0, 1.25], [64])
    steps = []
    frame = measure_module.measure(configs, measure_module.Settings(repeats=2, warmup=0),
                                   lambda done, total, text: steps.append((done, total)))
    assert list(frame["alpha"]) == [0.25, 0.5, 0.75, 1.0, 1.25]
    assert steps[-1] == (15, 15)  # 5 sessions built + 5 x 2 timed runs


def test_rank_correlation_of_the_host_report():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from host_latency_report import mape, ranks, spearman

    assert list(ranks([30, 10, 20, 20])) == [4.0, 1.0, 2.5, 2.5]  # ties share the mean of ranks 2 and 3
    assert spearman([1, 2, 3, 4], [10, 20, 35, 1000]) == pytest.approx(1.0)  # any increasing map
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    # ranks (1,2,3,4) vs (2,1,4,3): d^2 = 1+1+1+1 = 4; rho = 1 - 6*4 / (4*(16-1)) = 0.6
    assert spearman([1, 2, 3, 4], [2, 1, 4, 3]) == pytest.approx(0.6)
    assert mape([110, 90], [100, 100]) == pytest.approx(10.0)


def test_configurations_take_turns_in_visits_of_untimed_then_timed_runs(monkeypatch):
    """Two configurations, 4 timed runs each: visits of 2 untimed + 3 timed runs, then 2 untimed + the 1 left,
    the configurations taking turns (a log of runs, no timing)."""
    from mobilecost.measure import timing

    log = []

    class Session:
        def __init__(self, name):
            self.name = name

        def run(self, outputs, feed):
            log.append(self.name)

    monkeypatch.setattr(timing, "build_model", lambda variant, *args, **kwargs: variant)
    monkeypatch.setattr(timing, "open_session", lambda model, settings: (Session(model), {}))
    monkeypatch.setattr(timing, "_variant_name", lambda variant: variant)
    frame = timing.measure([("A", 1.0, 224), ("B", 1.0, 224)], timing.Settings(repeats=4, warmup=0))
    assert "".join(log) == "AAAAA" "BBBBB" "AAA" "BBB"
    assert list(frame["repeats"]) == [4, 4]


def test_run_scatter_takes_out_each_runs_level():
    """Run B is run A at twice the time, its third configuration e^0.3 slower still. Log times A (0, 0, 0),
    B (ln 2, ln 2, ln 2 + 0.3); less each run's mean: A (0, 0, 0), B (-0.1, -0.1, 0.2); less each configuration's
    mean over runs (-0.05, -0.05, 0.1): A (0.05, 0.05, -0.1), B (-0.05, -0.05, 0.1). Standard deviation
    sqrt((4 x 0.05^2 + 2 x 0.1^2) / 6) = sqrt(0.005), largest 0.1."""
    import pandas as pd

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from host_noise_floor import run_scatter

    keys = {"variant": ["v1", "v1", "v2"], "alpha": [1.0, 0.5, 1.0], "resolution": [224, 224, 160]}
    a = pd.DataFrame({**keys, "latency_min_ms": [1.0, 1.0, 1.0]})
    b = pd.DataFrame({**keys, "latency_min_ms": [2.0, 2.0, 2.0 * np.exp(0.3)]})
    spread, largest = run_scatter([a, b])
    assert spread == pytest.approx(0.005 ** 0.5) and largest == pytest.approx(0.1)
    assert run_scatter([a, a.assign(latency_min_ms=[3.0, 3.0, 3.0])]) == pytest.approx((0.0, 0.0), abs=1e-12)


@pytest.mark.parametrize("args,line", [
    # 1,901 alphas (0.1 to 2.0 by 0.001) x 417 sides (96 to 512): refused before one model is built.
    (["--alpha", "0.1:2.0:0.001", "--resolution", "96:512:1"],
     "mobilecost: error: --alpha/--resolution: 1 variants x 1,901 alphas x 417 resolutions make 792,717 "
     "configurations; measure times at most 5,000 (as many as a calibration reads)"),
    (["--repeats", "10001"], "mobilecost: error: --repeats: repeats must be at most 10,000, got 10,001"),
    (["--warmup", "1000000000"], "mobilecost: error: --warmup: warmup must be at most 10,000, got 1,000,000,000"),
    (["--threads", "100000"], None),  # the bound is this machine's CPUs: checked below without its figure
    # 4 alphas x 105 sides (96 to 512 by 4) x 2 variants = 840 configurations, x 3,000 repeats.
    (["--alpha", "0.25:1.0:0.25", "--resolution", "96:512:4", "--repeats", "3000", "mobilenet_v2"],
     "mobilecost: error: --repeats: 840 configurations x 3,000 repeats make 2,520,000 timed runs; measure makes "
     "at most 1,000,000"),
])
def test_unbounded_requests_are_refused_before_anything_is_built(tmp_path, monkeypatch, args, line):
    import mobilecost.measure.timing as measure_module

    def never(*a, **k):
        raise AssertionError("a model was built")

    monkeypatch.setattr(measure_module, "build_model", never)
    out = tmp_path / "m.csv"
    result = runner.invoke(app, ["measure", "mobilenet_v1", *args, "-o", str(out)])
    assert result.exit_code == 2, result.output
    if line is None:
        assert result.stderr.startswith("mobilecost: error: --threads: threads must be at most ")
        assert result.stderr.endswith(" (the CPUs this process may use), got 100,000\n")
        assert len(result.stderr.splitlines()) == 1
    else:
        assert result.stderr == line + "\n"
    assert list(tmp_path.iterdir()) == []
