"""Probe how onnxruntime's depthwise convolution depends on its channel count, on this machine.

Times one 3x3 depthwise convolution (+ ReLU) alone in an onnxruntime session, one thread, fastest of
`--repeats` runs, over channel counts that are whole blocks of 4 and counts that are not (the widths
MobileNetV1 takes at alpha 0.35: 11, 22, 89, 179, 358), the sides MobileNets' depthwise layers run at
(7-112) and strides 1 and 2. Each group
is fitted, in relative error, with

    time = fixed + per_channel x channels + per_mac x MACs

and the script prints both fits and what they make of a depthwise layer outside the blocks, in the
terms of a device profile's `layout` (latency/devices.py `Layout`): the extra compute as a multiple of
the blocked kernel's time per MAC, and the cost per channel as a number of the blocked kernel's MACs.
Those two ratios, not the absolute times, are what tables/devices/generic_cpu_onnxruntime.yaml
carries, so that a calibration scales them with the device's own speed.

    python3 benchmarks/depthwise_channels.py [--repeats 40] [--block 4]

Needs `pip install 'mobilecost[measure]'` (onnx, onnxruntime). About half a minute.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

BLOCKED = (12, 24, 44, 88, 180, 360)
UNBLOCKED = (11, 22, 45, 89, 179, 358)
SIDES = (7, 14, 28, 56, 112)  # the sides MobileNets' depthwise layers run at (224-pixel input)
STRIDES = (1, 2)


def conv_relu_session(weights: np.ndarray, side: int, **conv):
    """An onnxruntime session (one thread) of one convolution with `weights` (out, in per group, kh, kw), random
    biases and a ReLU, on a 1 x channels x side x side input named x; `conv`: the Conv node's attributes."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    out_ch, in_ch = weights.shape[0], weights.shape[1] * conv.get("group", 1)
    bias = np.random.default_rng(out_ch).random(out_ch, dtype=np.float32)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=list(weights.shape[2:]), **conv),
             helper.make_node("Relu", ["y"], ["z"])]
    graph = helper.make_graph(nodes, "conv",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, in_ch, side, side])],
                              [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(weights, "w"), numpy_helper.from_array(bias, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def depthwise_session(channels: int, side: int, stride: int):
    weights = np.random.default_rng(channels * 1000 + side).random((channels, 1, 3, 3), dtype=np.float32)
    return conv_relu_session(weights, side, group=channels, pads=[1, 1, 1, 1], strides=[stride, stride])


def fastest_ms(session, feed: dict, repeats: int) -> float:
    for _ in range(5):
        session.run(None, feed)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, feed)
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def probe(channel_counts, repeats: int):
    """Rows (channels, side, stride, MACs, ms) for every channel count, side and stride."""
    rows = []
    for channels in channel_counts:
        for side in SIDES:
            for stride in STRIDES:
                out = -(-side // stride)
                session = depthwise_session(channels, side, stride)
                feed = {"x": np.ones((1, channels, side, side), dtype=np.float32)}
                rows.append((channels, side, stride, channels * 9 * out * out, fastest_ms(session, feed, repeats)))
    return np.array(rows, dtype=float)


def fit(rows: np.ndarray):
    """(fixed ms, ms per channel, ms per MAC) minimising the relative error, and the mean relative error in %."""
    a = np.column_stack([np.ones(len(rows)), rows[:, 0], rows[:, 3]])
    y = rows[:, 4]
    coef, *_ = np.linalg.lstsq(a / y[:, None], np.ones(len(y)), rcond=None)
    return coef, float(np.mean(np.abs(a @ coef - y) / y) * 100)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--block", type=int, default=4, help="the block the channel counts are sorted by")
    args = parser.parse_args(argv)
    import onnxruntime as ort

    blocked = [c for c in BLOCKED if c % args.block == 0]
    unblocked = [c for c in UNBLOCKED if c % args.block != 0]
    print(f"onnxruntime {ort.__version__}, one thread, fastest of {args.repeats} runs; 3x3 depthwise + ReLU, "
          f"sides {', '.join(map(str, SIDES))}, strides 1 and 2")
    fits = {}
    for label, counts in (("whole blocks", blocked), ("not whole blocks", unblocked)):
        (fixed, per_channel, per_mac), error = fit(probe(counts, args.repeats))
        fits[label] = (fixed, per_channel, per_mac)
        print(f"  channels {', '.join(map(str, counts))} ({label} of {args.block}): {fixed * 1e3:.2f} us + "
              f"{per_channel * 1e6:.1f} ns per channel + {per_mac * 1e9:.1f} ps per MAC "
              f"(mean error of the fit {error:.0f} %)")
    base_mac = fits["whole blocks"][2]
    extra_mac = fits["not whole blocks"][2] - base_mac
    extra_channel = fits["not whole blocks"][1] - fits["whole blocks"][1]
    print(f"Outside whole blocks a depthwise layer takes {extra_mac / base_mac:.2f} x the blocked kernel's time per "
          f"MAC more, and {extra_channel / base_mac:.0f} blocked-kernel MACs' time more per channel.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
