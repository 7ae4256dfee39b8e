"""The latency model and device profiles, checked against figures derived by hand."""

import numpy as np
import pytest

from mobilecost.latency.devices import list_devices, load_device, parse_device
from mobilecost.errors import MobilecostError
from mobilecost.api import costs_for, sweep
from mobilecost import estimate_latency
from mobilecost.latency.model import layer_terms, layer_times, theta_of, total_latency
from mobilecost.numeric.checked import compiled_for
from mobilecost.numeric.values import LayerValues, values_at
from mobilecost.spec.layers import Layer, Width

# A profile written here: peak 2.0 GHz x 8 MAC/cycle x 1 core = 16 GMAC/s; cache 1 MiB at 30 GB/s, DRAM 10 GB/s;
# efficiencies conv 0.45, pointwise 0.6, depthwise 0.2, fc 0.3, memory 0.5, elementwise 0.25; overhead 15 us.
PEAK = 2.0e9 * 8 * 1  # MAC/s
HAND = parse_device(
    "name: hand\ntitle: Hand\nhardware: h\nruntime: r\nthreads: 1\nprecision: fp32\n"
    "peak: {clock_ghz: 2.0, macs_per_cycle: 8, cores: 1, source: s}\n"
    "memory: {cache_bytes: 1048576, cache_gb_s: 30, dram_gb_s: 10, source: s}\n"
    "efficiency: {conv: 0.45, pointwise: 0.6, depthwise: 0.2, fc: 0.3, memory: 0.5, elementwise: 0.25, source: s}\n"
    "overhead: {us: 15, source: s}\nstatus: spec-only\nobtained: o\n", "hand.yaml")


def one_layer(op, act, in_side, in_ch, out_side, out_ch, macs, weights, biases=0):
    fields = {
        "in_side": in_side, "in_ch": in_ch, "out_side": out_side, "out_ch": out_ch, "macs": macs,
        "weights": weights, "biases": biases, "act_in": in_side**2 * in_ch, "act_out": out_side**2 * out_ch,
    }
    layer = Layer(name="layer", op=op, row=0, width=Width("same"), act=act)
    return LayerValues((layer,), "exact", {k: np.array([[float(v)]]) for k, v in fields.items()})


def time_of(op, act, fields, profile):
    terms = layer_terms(profile, fields)
    times = layer_times(terms, theta_of(profile))
    return {k: v[0, 0] for k, v in times.items()}


def test_compute_bound_pointwise_by_hand():
    profile = HAND
    # 1x1 conv, 14x14x64 -> 14x14x128: MACs = 14*14*64*128 = 1,605,632; weights 64*128 = 8,192.
    fields = one_layer("pointwise", "relu6", 14, 64, 14, 128, 1_605_632, 8_192)
    t = time_of("pointwise", "relu6", fields, profile)
    compute_ms = 1_605_632 / (PEAK * 0.6) * 1e3  # 0.16725 ms
    # bytes = (12,544 in + 25,088 out + 8,192 weights) * 4 = 183,296 <= 1 MiB: cache, 30 GB/s x 0.5
    memory_ms = 183_296 / (30e9 * 0.5) * 1e3  # 0.01222 ms
    assert t["compute_ms"] == pytest.approx(compute_ms, rel=1e-12)
    assert t["memory_ms"] == pytest.approx(memory_ms, rel=1e-12)
    assert t["time_ms"] == pytest.approx(compute_ms + 0.015, rel=1e-12)
    assert t["bound"] == "compute"


def test_residual_add_is_costed_by_bytes_and_memory_bound():
    profile = HAND
    # add of two 28x28x32 tensors: reads 2 x 25,088, writes 25,088 elements, fp32: 301,056 bytes.
    fields = one_layer("add", None, 28, 32, 28, 32, 0, 0)
    t = time_of("add", None, fields, profile)
    memory_ms = 301_056 / (30e9 * 0.25) * 1e3  # element-wise efficiency 0.25 of the cache bandwidth
    assert t["compute_ms"] == 0
    assert t["memory_ms"] == pytest.approx(memory_ms, rel=1e-12)
    assert t["time_ms"] == pytest.approx(memory_ms + 0.015, rel=1e-12)
    assert t["bound"] == "memory"


def test_hswish_costs_a_separate_elementwise_pass():
    profile = HAND
    relu = time_of("pointwise", "relu", one_layer("pointwise", "relu", 7, 8, 7, 8, 7 * 7 * 8 * 8, 64), profile)
    hswish = time_of("pointwise", "hswish", one_layer("pointwise", "hswish", 7, 8, 7, 8, 7 * 7 * 8 * 8, 64), profile)
    # the pass reads and writes the 392-element output in fp32: 3,136 bytes at 30 GB/s x 0.25, plus one more step
    extra = 3_136 / (30e9 * 0.25) * 1e3 + 0.015
    assert hswish["time_ms"] - relu["time_ms"] == pytest.approx(extra, rel=1e-9)


def test_tiny_layer_is_overhead_bound():
    profile = HAND
    # an SE reduce of 16 -> 8 channels on a 1x1 map: 128 MACs take 128 / 9.6e9 s = 13 ns << 15 us
    t = time_of("pointwise", "relu", one_layer("pointwise", "relu", 1, 16, 1, 8, 128, 128, 8), profile)
    assert t["bound"] == "overhead"


def test_first_pointwise_of_mobilenet_v1_from_the_paper_shapes():
    # MobileNets Table 1: conv dw / s1 then 1x1x32x64 on 112x112: 112*112*32*64 = 25,690,112 MACs.
    frame = estimate_latency("mobilenet_v1", HAND)
    row = frame[frame["name"] == "b1.pw"].iloc[0]
    assert row["macs"] == 25_690_112
    compute_ms = 25_690_112 / (PEAK * 0.6) * 1e3  # 2.6761 ms
    # bytes (401,408 + 802,816 + 2,048) * 4 = 4,825,088 > 1 MiB: DRAM at 10 GB/s x 0.5 = 0.9650 ms
    assert row["memory_ms"] == pytest.approx(4_825_088 / (10e9 * 0.5) * 1e3, rel=1e-12)
    assert row["time_ms"] == pytest.approx(compute_ms + 0.015, rel=1e-12)
    assert row["bound"] == "compute"
    assert frame.attrs["totals"]["latency_ms"] == pytest.approx(frame["time_ms"].sum())


def test_int8_profile_moves_a_quarter_of_the_bytes():
    fp32 = HAND
    int8 = fp32.model_copy(update={"precision": "int8"})
    fields = one_layer("depthwise", "relu6", 56, 128, 56, 128, 56 * 56 * 9 * 128, 9 * 128)
    a = layer_terms(fp32, fields).bytes_moved[0, 0]
    b = layer_terms(int8, fields).bytes_moved[0, 0]
    assert a == (401_408 * 2 + 1_152) * 4 and b == a / 4


def test_vectorised_sweep_matches_single_points_and_grows_with_alpha():
    frame = sweep("mobilenet_v3_large", [0.5, 0.75, 1.0], resolutions=[160, 224], device="pixel4_a76_tflite_fp32_1t")
    for row in frame.itertuples():
        one = estimate_latency("mobilenet_v3_large", "pixel4_a76_tflite_fp32_1t", row.alpha, resolution=row.resolution)
        assert row.latency_ms == pytest.approx(one.attrs["totals"]["latency_ms"], rel=1e-9)
    compiled = compiled_for(costs_for("mobilenet_v3_large").spec)
    alphas = np.linspace(0.25, 1.5, 200)
    grid = total_latency(load_device("pixel4_a76_tflite_fp32_1t"), values_at(compiled, alphas, np.ones_like(alphas)))
    assert grid.shape == (200,) and np.all(np.diff(grid) >= -1e-9)


def test_shipped_profiles_load_and_say_how_they_were_obtained():
    names = list_devices()
    for wanted in ("pixel1_big_tflite_fp32_1t", "pixel4_a76_tflite_fp32_1t", "rpi4_a72_ncnn_fp32_1t",
                   "jetson_nano_gpu_ncnn_fp16", "desktop_zen3_avx2_ncnn_fp32_1t"):
        assert wanted in names
    for name in names:
        p = load_device(name)
        assert p.obtained and p.peak.source and p.memory.source and p.efficiency.source and p.overhead.source
        assert (p.calibration is not None) == (p.status == "calibrated")
        assert "simulated" in p.label() and p.error_label() in p.label()
    # Zen 3: 4.6 GHz x 16 fp32 MAC/cycle (two 256-bit FMA pipes x 8 lanes) x 1 core = 73.6 GMAC/s
    assert load_device("desktop_zen3_avx2_ncnn_fp32_1t").peak.gmacs == pytest.approx(73.6)


GOOD = (
    "name: t\ntitle: T\nhardware: h\nruntime: r\nthreads: 1\nprecision: fp32\n"
    "peak: {clock_ghz: 1.0, macs_per_cycle: 8, cores: 1, source: s}\n"
    "memory: {cache_bytes: 1024, cache_gb_s: 10, dram_gb_s: 5, source: s}\n"
    "efficiency: {conv: 0.5, pointwise: 0.5, depthwise: 0.2, fc: 0.3, memory: 0.5, elementwise: 0.3, source: s}\n"
    "overhead: {us: 10, source: s}\nstatus: spec-only\nobtained: o\n"
)


@pytest.mark.parametrize("old, new, where, field", [
    ("threads: 1", "threads: 0", ":5", "threads"),
    ("cores: 1, source: s}", "cores: 1}", ":7", "peak.source"),
    ("depthwise: 0.2", "depthwise: fast", ":9", "efficiency.depthwise"),
    ("obtained: o", "obtained: o\ncolour: red", ":13", "colour"),
    ("status: spec-only", "status: guessed", ":11", "status"),
    ("status: spec-only", "status: calibrated", ":11", "calibration"),
    ("obtained: o", "obtained: o\nlayout: {channel_block: 1, unblocked: 0.1, per_channel_us: 1, source: s}", ":13",
     "layout.channel_block"),
    ("obtained: o", "obtained: o\nlayout: {channel_block: 4, unblocked: 0, per_channel_us: 1, source: s}", ":13",
     "layout.unblocked"),
    ("obtained: o", "obtained: o\nlayout: {pointwise_block: 1, source: s}", ":13", "layout.pointwise_block"),
    ("obtained: o", "obtained: o\nlayout: {pointwise_block: 16, narrow_input: 0.5, source: s}", ":13",
     "layout.narrow_input"),
    ("obtained: o", "obtained: o\nlayout: {channel_block: 4, source: s}", ":13", "layout"),
    ("obtained: o", "obtained: o\nlayout: {source: s}", ":13", "layout"),
])
def test_profile_errors_name_file_line_and_field(tmp_path, old, new, where, field):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(old, new), encoding="utf-8")
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    assert load_device(str(tmp_path / "good.yaml")).peak.gmacs == 8.0  # 1 GHz x 8 MAC/cycle x 1 core
    with pytest.raises(MobilecostError) as info:
        load_device(str(path))
    message = str(info.value)
    assert f"bad.yaml{where}: {field}:" in message, message


def test_unknown_device_suggests_names():
    with pytest.raises(MobilecostError, match="did you mean pixel4_a76_tflite_fp32_1t"):
        load_device("pixel4")


def test_a_concatenation_moves_every_input_it_reads():
    # DeepLabv3's ASPP concatenation at 512 (fp32): five branches of 32x32x256 are read, 32x32x1280 is
    # written: (5 * 32*32*256 + 32*32*1280) * 4 bytes = 10,485,760 (its first input alone would be
    # (32*32*256 + 32*32*1280) * 4 = 6,291,456). No weights, no activation pass.
    frame = estimate_latency("deeplabv3_mobilenet_v3_large", "pixel4_a76_tflite_fp32_1t")
    row = frame.set_index("name").loc["aspp_concat"]
    assert row["bytes_moved"] == (5 * 32 * 32 * 256 + 32 * 32 * 1280) * 4 == 10_485_760
    # A residual add still reads its second input in full: b3.add of the backbone at 512 is 128x128x24,
    # three such tensors moved (two read, one written).
    assert frame.set_index("name").loc["b3.add", "bytes_moved"] == 3 * 128 * 128 * 24 * 4


# HAND with a memory fast enough that every convolution is compute-bound, without and with channel blocks of
# 4 for the depthwise kernel: outside them a depthwise layer adds compute at efficiency 0.05 and 3 us per channel.
FAST_MEMORY = HAND.model_copy(update={"memory": HAND.memory.model_copy(update={"cache_gb_s": 1e6, "dram_gb_s": 1e6})})
BLOCKED = parse_device(
    "name: blocked\ntitle: Blocked\nhardware: h\nruntime: r\nthreads: 1\nprecision: fp32\n"
    "peak: {clock_ghz: 2.0, macs_per_cycle: 8, cores: 1, source: s}\n"
    "memory: {cache_bytes: 1048576, cache_gb_s: 1000000, dram_gb_s: 1000000, source: s}\n"
    "efficiency: {conv: 0.45, pointwise: 0.6, depthwise: 0.2, fc: 0.3, memory: 0.5, elementwise: 0.25, source: s}\n"
    "overhead: {us: 15, source: s}\n"
    "layout: {channel_block: 4, unblocked: 0.05, per_channel_us: 3, source: s}\nstatus: spec-only\nobtained: o\n",
    "blocked.yaml")


def test_depthwise_layers_off_the_channel_blocks_by_hand():
    # MobileNetV1 at alpha 0.35 (Keras and TF-slim: int(channels x 0.35)), 224 x 224. Its 13 depthwise layers
    # run on 11, 22, 44, 44, 89, 89, 179 x 6 and 358 channels; all but the two on 44 are not whole blocks of 4:
    #   11 channels at 112 x 112, 22 at 56 (stride 2), 89 at 28, 89 at 14 (stride 2), 179 at 14 five times,
    #   179 at 7 (stride 2), 358 at 7.
    outside = [(11, 112), (22, 56), (89, 28), (89, 14)] + [(179, 14)] * 5 + [(179, 7), (358, 7)]
    macs = sum(c * 9 * side * side for c, side in outside)  # 3x3 kernels
    channels = sum(c for c, _ in outside)
    # 1,241,856 + 620,928 + 627,984 + 156,996 + 5 x 315,756 + 78,939 + 157,878 MACs; 11 + 22 + 89 + 89 + 6 x 179 + 358
    assert (macs, channels) == (4_463_361, 1_643)
    extra_ms = macs / (PEAK * 0.05) * 1e3 + channels * 3e-3
    compiled = compiled_for(costs_for("mobilenet_v1").spec)
    values = values_at(compiled, 0.35, 1.0)
    without, with_blocks = total_latency(FAST_MEMORY, values), total_latency(BLOCKED, values)
    assert float(with_blocks[0] - without[0]) == pytest.approx(extra_ms, rel=1e-12)
    # At alpha 0.5 every depthwise layer runs on whole blocks (16, 32, 64, 128, 256, 512 channels): no change.
    half = values_at(compiled, 0.5, 1.0)
    assert float(total_latency(BLOCKED, half)[0]) == float(total_latency(FAST_MEMORY, half)[0])
    times = estimate_latency("mobilenet_v1", BLOCKED, 0.35).set_index("name")["limit"]
    assert times.filter(like="dw").str.contains("outside 4-channel blocks").sum() == len(outside)


# FAST_MEMORY with a runtime that pads 1x1 convolutions' channels to blocks of 16, charges 9 MACs per output
# element, and takes 1.25 x as long on an input of fewer than 16 channels.
PADDED = parse_device(
    "name: padded\ntitle: Padded\nhardware: h\nruntime: r\nthreads: 1\nprecision: fp32\n"
    "peak: {clock_ghz: 2.0, macs_per_cycle: 8, cores: 1, source: s}\n"
    "memory: {cache_bytes: 1048576, cache_gb_s: 1000000, dram_gb_s: 1000000, source: s}\n"
    "efficiency: {conv: 0.45, pointwise: 0.6, depthwise: 0.2, fc: 0.3, memory: 0.5, elementwise: 0.25, source: s}\n"
    "overhead: {us: 15, source: s}\n"
    "layout: {pointwise_block: 16, per_output_macs: 9, narrow_input: 1.25, source: s}\nstatus: spec-only\nobtained: o\n",
    "padded.yaml")


def test_pointwise_layers_padded_to_blocks_by_hand():
    # MobileNetV1 at alpha 0.35, 224 x 224: its 13 1x1 convolutions (input -> output channels, output side), with
    # channels rounded up to 16 (11 -> 16, 22 -> 32, 44 -> 48, 89 -> 96, 179 -> 192, 358 -> 368); only the
    # first has an input narrower than 16.
    layers = [(11, 22, 112), (22, 44, 56), (44, 44, 56), (44, 89, 28), (89, 89, 28), (89, 179, 14)] + \
        [(179, 179, 14)] * 5 + [(179, 358, 7), (358, 358, 7)]
    padded = {11: 16, 22: 32, 44: 48, 89: 96, 179: 192, 358: 368}
    work = sum(side * side * padded[out] * (padded[inp] + 9) * (1.25 if inp < 16 else 1) for inp, out, side in layers)
    macs = sum(side * side * inp * out for inp, out, side in layers)
    # 112^2 x 32 x 25 x 1.25 + 56^2 x 48 x 41 + 56^2 x 48 x 57 + 28^2 x 96 x 57 + 28^2 x 96 x 105 + 14^2 x 192 x 105
    # + 5 x 14^2 x 192 x 201 + 7^2 x 368 x 201 + 7^2 x 368 x 377 MACs of work for 65,365,510 MACs
    assert (work, macs) == (91_682_528, 65_365_510)
    extra_ms = (work - macs) / (PEAK * 0.6) * 1e3
    compiled = compiled_for(costs_for("mobilenet_v1").spec)
    values = values_at(compiled, 0.35, 1.0)
    got = float(total_latency(PADDED, values)[0] - total_latency(FAST_MEMORY, values)[0])
    assert got == pytest.approx(extra_ms, rel=1e-12)
    limits = estimate_latency("mobilenet_v1", PADDED, 0.35).set_index("name")["limit"]
    assert limits.filter(like="pw").str.endswith("(pointwise, padded to 16-channel blocks)").sum() == len(layers)
    assert not limits.filter(like="dw").str.contains("padded").any()
