"""Probe how onnxruntime's 1x1 convolution depends on its channel counts, on this machine.

Times one 1x1 convolution (+ ReLU) alone in an onnxruntime session, one thread, fastest of `--repeats` runs,
over input and output channel counts from 8 to 96 on a `--side` x `--side` map, and fits, in relative error,

    time = a x side^2 x up(out) x (up(in) + per_output) x (narrow if in < block else 1)

where up(c) rounds c up to a whole number of `--block` channels (onnxruntime's NCHWc block: 16 with AVX-512,
8 with AVX2), per_output is a cost per output element in MACs (storing it, its bias and activation) and
narrow the extra factor of the kernel onnxruntime uses when the input has fewer channels than one block.
per_output and narrow are found by a grid search (a, for each pair, by least squares); the script prints the
fit beside the plain MACs-proportional one (time = a x MACs), and the values a device profile's `layout`
takes (latency/devices.py `Layout`: pointwise_block, per_output_macs, narrow_input).

    python3 benchmarks/pointwise_shapes.py [--repeats 25] [--side 56] [--block 16]

Needs `pip install 'mobilecost[measure]'` (onnx, onnxruntime). About half a minute.
"""

from __future__ import annotations

import argparse

import numpy as np

from depthwise_channels import conv_relu_session, fastest_ms

CHANNELS = (8, 12, 16, 24, 32, 48, 64, 96)


def pointwise_session(in_ch: int, out_ch: int, side: int):
    weights = np.random.default_rng(in_ch * 1000 + out_ch).random((out_ch, in_ch, 1, 1), dtype=np.float32)
    return conv_relu_session(weights, side)


def probe(side: int, repeats: int) -> np.ndarray:
    """Rows (in channels, out channels, ms) for every pair of CHANNELS."""
    rows = []
    for in_ch in CHANNELS:
        for out_ch in CHANNELS:
            session = pointwise_session(in_ch, out_ch, side)
            feed = {"x": np.ones((1, in_ch, side, side), dtype=np.float32)}
            rows.append((in_ch, out_ch, fastest_ms(session, feed, repeats)))
    return np.array(rows, dtype=float)


def shaped_work(in_ch, out_ch, area, block: int, per_output: float, narrow: float):
    """The MACs the fitted kernel does: channels rounded up to blocks, plus per_output MACs per output element."""
    up_in, up_out = np.ceil(in_ch / block) * block, np.ceil(out_ch / block) * block
    return area * up_out * (up_in + per_output) * np.where(in_ch < block, narrow, 1.0)


def scale_and_error(work: np.ndarray, ms: np.ndarray) -> tuple[float, float]:
    """The factor a minimising the relative error of a x work against ms, and that mean error in %."""
    ratio = work / ms
    a = ratio.sum() / (ratio**2).sum()
    return a, float(np.mean(np.abs(a * work - ms) / ms) * 100)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=25)
    parser.add_argument("--side", type=int, default=56)
    parser.add_argument("--block", type=int, default=16, help="the channel block (16 with AVX-512, 8 with AVX2)")
    args = parser.parse_args(argv)
    import onnxruntime as ort

    rows = probe(args.side, args.repeats)
    in_ch, out_ch, ms = rows[:, 0], rows[:, 1], rows[:, 2]
    area = args.side**2
    print(f"onnxruntime {ort.__version__}, one thread, fastest of {args.repeats} runs; 1x1 convolution + ReLU on "
          f"{args.side}x{args.side}, input and output channels {', '.join(map(str, CHANNELS))}")
    a, error = scale_and_error(in_ch * out_ch * area, ms)
    print(f"  MACs-proportional: {1 / (a * 1e6):.3g} GMAC/s, mean error {error:.1f} %")
    best = min(((scale_and_error(shaped_work(in_ch, out_ch, area, args.block, k, n), ms)[1], k, n)
                for k in np.arange(0, 41, 1.0) for n in np.arange(1.0, 3.01, 0.1)))
    error, per_output, narrow = best
    print(f"  blocks of {args.block}: per_output {per_output:g} MACs, narrow input x{narrow:.1f}; "
          f"mean error {error:.1f} %")
    print(f"layout: pointwise_block {args.block}, per_output_macs {per_output:g}, narrow_input {narrow:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
