"""Write the outputs of many `mobilecost` commands into a folder, one file per command.

Run it before and after a change to the code and compare the two folders (``diff -r``): a
restructuring should leave every output byte-identical, except bugs fixed on purpose.

    python3 benchmarks/snapshot_outputs.py /tmp/before
    python3 benchmarks/snapshot_outputs.py /tmp/after && diff -r /tmp/before /tmp/after

Workbooks are written as their cells' values and formulas (an xlsx file holds a timestamp);
figures as their plotted data is not reachable from the command line, so PNG bytes are kept
(matplotlib writes them deterministically for the same versions).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

V = ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small")
P4 = "pixel4_a76_tflite_fp32_1t"

COMMANDS: list[list[str]] = [
    ["list"],
    ["devices"],
    *[["report", v, "-f", f] for v in V for f in ("table", "json", "csv", "markdown")],
    ["report", "mnasnet_a1", "-f", "json"],
    ["report", "mobilenet_v3_small", "--alpha", "0.75", "--resolution", "160", "-f", "json"],
    ["report", "mobilenet_v3_large", "--alpha", "0.5", "--resolution", "193", "-f", "csv"],
    ["report", "mobilenet_v1", "--alpha", "0.35", "--rho", "0.7", "--mode", "ideal", "-f", "json"],
    ["report", "mobilenet_v1", "--semantics", "keras", "--resolution", "161", "-f", "csv"],
    ["report", "mobilenet_v3_large", "--semantics", "torchvision", "--convention", "torchvision", "-f", "json"],
    ["report", "mobilenet_v2", "--convention", "keras", "--alpha", "1.4", "-f", "markdown"],
    ["sweep", "mobilenet_v2", "--alpha", "0.35:1.4:0.05", "--resolution", "96,128,160,192,224"],
    ["sweep", "mobilenet_v3_small", "--alpha", "0.5,1.0", "--rho", "0.5,1", "-f", "json"],
    ["sweep", "mobilenet_v1", "--alpha", "0.25,1.0", "-f", "table"],
    ["sweep", "mobilenet_v3_large", "--alpha", "0.35:1.25:0.15", "--resolution", "128:224:32", "--device", P4],
    ["sweep", "mobilenet_v2", "--alpha", "0.5,1", "--mode", "ideal", "--dtype", "fp16"],
    ["formula", "mobilenet_v1"],
    ["formula", "mobilenet_v1", "--metric", "params", "--latex"],
    ["formula", "mobilenet_v2", "--mode", "exact"],
    ["formula", "mobilenet_v3_small", "--metric", "act_out"],
    ["validate", "tables/mobilenet_v3_large.yaml"],
    *[["memory", v] for v in V],
    ["memory", "mobilenet_v2", "--dtype", "fp16", "--schedule", "v2-sliced"],
    ["memory", "mobilenet_v3_large", "-f", "json"],
    *[["explain", v] for v in V],
    ["explain", "mobilenet_v1", "--alpha", "0.75", "--resolution", "128", "-f", "json"],
    ["paper", "mobilenet_v1"], ["paper", "mobilenet_v2"], ["paper", "mobilenet_v3"],
    *[["latency", v, "--device", P4] for v in V],
    ["latency", "mobilenet_v2", "--device", "pixel1_big_tflite_fp32_1t", "-f", "json"],
    ["latency", "mnasnet_a1", "--device", "pixel1_big_tflite_fp32_1t", "--alpha", "0.5", "--resolution", "160"],
    ["check", "mobilenet_v2", "--alpha", "0.75", "--resolution", "160", "--max-macs", "150M", "--max-params", "3M",
     "--max-peak-memory", "2MB", "--max-latency-ms", "20", "--device", P4],
    ["check", "mobilenet_v2", "--max-macs", "100M"],
    ["export", "mobilenet_v1", "mobilenet_v3_small", "--alpha", "0.5,1.0", "--resolution", "160,224",
     "--csv", "{tmp}/csv", "--json", "{tmp}/review.json", "--xlsx", "{tmp}/review.xlsx"],
    ["export", "mobilenet_v2", "--device", P4, "--xlsx", "{tmp}/review_latency.xlsx"],
    ["plot", "tradeoff", "mobilenet_v2", "-o", "{tmp}/tradeoff.png"],
    ["plot", "layers", "mobilenet_v3_small", "--alpha", "0.75", "-o", "{tmp}/layers.png"],
    ["plot", "roofline", "mobilenet_v3_large", "--device", P4, "-o", "{tmp}/roofline.png"],
    ["onnx", "tables/mobilenet_v3_small.yaml", "--alpha", "0.75", "--resolution", "160", "-o", "{tmp}/v3s.onnx"],
    ["calibrate", "{calibration}", "--base", "generic_cpu", "--name", "snap", "-o", "{tmp}/snap.yaml"],
]

CALIBRATION = """variant,alpha,resolution,latency_ms
mobilenet_v1,1.0,224,40.0
mobilenet_v2,1.0,224,30.0
mobilenet_v3_large,1.0,224,25.0
mobilenet_v3_small,0.75,160,6.0
"""


def workbook_text(path: Path) -> str:
    from openpyxl import load_workbook

    lines = []
    for sheet in load_workbook(path).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    lines.append(f"{sheet.title}!{cell.coordinate}\t{cell.value!r}")
    return "\n".join(lines) + "\n"


def main(out: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    out.mkdir(parents=True, exist_ok=True)
    cache = tempfile.mkdtemp(prefix="mobilecost-cache-")
    env = {**os.environ, "MOBILECOST_CACHE_DIR": cache, "COLUMNS": "200"}
    for index, args in enumerate(COMMANDS):
        tmp = Path(tempfile.mkdtemp(prefix="mobilecost-snap-"))
        calibration = tmp / "measured.csv"
        calibration.write_text(CALIBRATION)
        argv = [a.format(tmp=tmp, calibration=calibration) for a in args]
        run = subprocess.run([sys.executable, "-m", "mobilecost", *argv], cwd=root, env=env, capture_output=True,
                             text=True)
        stem = f"{index:02d}_{'_'.join(a.replace('/', '-') for a in args[:2])}"
        text = run.stdout.replace(str(tmp), "{tmp}") + f"\n--- stderr ---\n{run.stderr.replace(str(tmp), '{tmp}')}" \
            + f"\n--- exit {run.returncode} ---\n"
        (out / f"{stem}.txt").write_text(text)
        for produced in sorted(tmp.rglob("*")):
            if produced == calibration or produced.is_dir():
                continue
            name = f"{stem}__{produced.relative_to(tmp).as_posix().replace('/', '-')}"
            if produced.suffix == ".xlsx":
                (out / f"{name}.txt").write_text(workbook_text(produced))
            else:
                shutil.copyfile(produced, out / name)
        shutil.rmtree(tmp)
    shutil.rmtree(cache)
    print(f"{len(COMMANDS)} commands written to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "snapshot"))
