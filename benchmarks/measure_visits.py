"""How `mobilecost measure`'s interleaving changes what it measures, on this machine.

Opens one onnxruntime session (one thread) for each of 16 configurations (MobileNetV1, V2, V3-Large and
V3-Small at alpha 0.35 and 1.0, 128 and 224 pixels) and times each three ways, `--runs` timed runs each:

- one run per visit: the configurations take turns, one timed run each (what `measure` did before
  visits), so every timed run follows the other 15 networks' runs;
- visits: each turn runs 2 untimed, then 3 timed runs back to back (`measure.timing.VISIT_WARMUP`,
  `VISIT_TIMED`);
- back to back: all of a configuration's runs in a row (its steady state, as TFLite's benchmark_model
  times), one configuration after another.

and prints the fastest and the median run of each, and the ratio of each way's fastest to back to back's.

    python3 benchmarks/measure_visits.py [--runs 48]

Needs `pip install 'mobilecost[measure]'`. About a minute.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mobilecost.measure.onnx_graph import build_model  # noqa: E402
from mobilecost.measure.timing import VISIT_TIMED, VISIT_WARMUP, Settings, open_session, time_once  # noqa: E402

CONFIGS = [(v, a, r) for v in ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small")
           for a in (0.35, 1.0) for r in (128, 224)]


def in_turns(sessions, runs: int, warmup: int, timed: int) -> list:
    """Each session's run times (ms) when the sessions take turns: `warmup` untimed, then `timed` timed runs."""
    times = [[] for _ in sessions]
    while len(times[0]) < runs:
        for j, (session, feed) in enumerate(sessions):
            for _ in range(warmup):
                session.run(None, feed)
            times[j] += [time_once(session, feed) for _ in range(timed)]
    return [np.array(t[:runs]) for t in times]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=48)
    args = parser.parse_args(argv)
    sessions = [open_session(build_model(v, a, r, fold_bn=True), Settings()) for v, a, r in CONFIGS]
    ways = {
        "one run per visit": in_turns(sessions, args.runs, 0, 1),
        f"visits ({VISIT_WARMUP} untimed + {VISIT_TIMED} timed)": in_turns(sessions, args.runs, VISIT_WARMUP, VISIT_TIMED),
        "back to back": [np.array([time_once(s, f) for _ in range(args.runs)]) for s, f in sessions],
    }
    print(f"fastest / median of {args.runs} timed runs, ms; in brackets the fastest as a multiple of back to back's")
    print(f"{'configuration':28s}" + "".join(f"{name:>34s}" for name in ways))
    steady = [t.min() for t in ways["back to back"]]
    for j, (variant, alpha, resolution) in enumerate(CONFIGS):
        cells = "".join(f"{f'{t[j].min():.3f} / {np.median(t[j]):.3f} ({t[j].min() / steady[j]:.2f} x)':>34s}"
                        for t in ways.values())
        print(f"{f'{variant} {alpha:g}/{resolution}':28s}{cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
