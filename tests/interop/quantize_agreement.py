#!/usr/bin/python3
"""Every quantization mode of every bundled model, in both runtimes: effdl's runtime and ONNX
Runtime run the quantized model on the model's own test split and must agree (issue 4).

usage: quantize_agreement.py EFFDL SRC [--tol T]

Models: digits_cnn, mlp, text_classifier (models/); modes: static (calibrated on a training split
from scripts/make_calib.py), dynamic, weight-only, fp16. Agreement: max |effdl - ORT| over all
outputs <= T x max |ORT output| (T = 2e-3 by default: int8 models agree exactly or to a rounding
step; ORT computes fp16 models in float16 where effdl's runtime widens them to float32, which
measured 3-5e-4 of the output scale), and the same top-1 class on >= 99% of the test samples.
Prints one row per model and mode; exits 0 when all agree, 1 otherwise, 77 (ctest: skipped)
when ONNX Runtime is unavailable.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

from ort_harness import SKIP, harness_or_skip_message, io_dirs, run_ort

MODES = [("static", ["--quantize", "static", "--calib", "{calib}/{calib_dir}"]),
         ("dynamic", ["--quantize", "dynamic"]),
         ("weight-only", ["--quantize", "weight-only"]),
         ("fp16", ["--quantize", "fp16"])]
MODELS = [("digits_cnn", "digits_test_x.npy", "input", "digits"),
          ("mlp", "digits_test_x_flat.npy", "input", "digits_flat"),
          ("text_classifier", "text_test_ids.npy", "ids", "text")]


def agreement(effdl, harness, model, x_path, input_name, tmp):
    """Returns (rel_err, max_err, scale, same_top1, detail): effdl vs ORT on the inputs in x_path."""
    ins, eo, oo = io_dirs(tmp)
    np.save(os.path.join(ins, input_name + ".npy"), np.load(x_path))
    r = subprocess.run([effdl, "-q", "run", model, "-i", f"{input_name}={ins}/{input_name}.npy", "--threads", "1",
                        "--output-dir", eo, "--force"], capture_output=True, text=True)
    if r.returncode != 0:
        return None, None, None, None, "effdl run failed: " + (r.stderr.strip().splitlines() or ["?"])[-1]
    err = run_ort(harness, model, ins, oo)
    if err:
        return None, None, None, None, err
    names = sorted(f for f in os.listdir(oo) if f.endswith(".npy"))
    if names != sorted(f for f in os.listdir(eo) if f.endswith(".npy")):
        return None, None, None, None, f"outputs differ: effdl {sorted(os.listdir(eo))}, ORT {names}"
    worst, scale, same = 0.0, 0.0, 1.0
    for n in names:
        e = np.load(os.path.join(eo, n)).astype(np.float64)
        o = np.load(os.path.join(oo, n)).astype(np.float64)
        if e.shape != o.shape:
            return None, None, None, None, f"{n}: effdl shape {e.shape}, ORT {o.shape}"
        worst = max(worst, float(np.max(np.abs(e - o))) if o.size else 0.0)
        if np.isnan(e).any() != np.isnan(o).any():
            worst = float("inf")
        scale = max(scale, float(np.max(np.abs(o))) if o.size else 0.0)
        if o.ndim == 2 and o.shape[1] > 1:
            same = min(same, float((e.argmax(1) == o.argmax(1)).mean()))
    rel = worst / scale if scale > 0 else (0.0 if worst == 0 else float("inf"))
    return rel, worst, scale, same, ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("effdl")
    ap.add_argument("src")
    ap.add_argument("--tol", type=float, default=2e-3)
    a = ap.parse_args()
    harness, skipped = harness_or_skip_message(a.src)
    if skipped:
        print(skipped)
        return SKIP
    m = os.path.join(a.src, "models")
    failures = total = 0
    with tempfile.TemporaryDirectory() as tmp:
        calib = os.path.join(tmp, "calib")
        subprocess.run([sys.executable, os.path.join(a.src, "scripts", "make_calib.py"), calib, "100"], check=True,
                       capture_output=True)
        print(f"{'model':<16} {'mode':<12} {'max |effdl-ORT|':>15} {'max |ORT|':>10} {'rel':>9} {'same top1':>9}  result")
        for name, x, input_name, calib_dir in MODELS:
            for mode, flags in MODES:
                total += 1
                out = os.path.join(tmp, f"{name}_{mode}.onnx")
                flags = [f.format(calib=calib, calib_dir=calib_dir) for f in flags]
                q = subprocess.run([a.effdl, "-q", "optimize", os.path.join(m, name + ".onnx"), "-o", out, "--force",
                                    "--threads", "1", "--bench-iters", "0", "--fidelity-samples", "0", *flags],
                                   capture_output=True, text=True)
                if q.returncode != 0:
                    failures += 1
                    print(f"{name:<16} {mode:<12} FAILED: effdl optimize: {(q.stderr.strip().splitlines() or ['?'])[-1]}")
                    continue
                with tempfile.TemporaryDirectory(dir=tmp) as t:
                    rel, err, scale, same, detail = agreement(a.effdl, harness, out, os.path.join(m, x), input_name, t)
                if rel is None:
                    failures += 1
                    print(f"{name:<16} {mode:<12} FAILED: {detail}")
                    continue
                ok = rel <= a.tol and same >= 0.99
                failures += not ok
                print(f"{name:<16} {mode:<12} {err:>15.3e} {scale:>10.4g} {rel:>9.2e} {same:>9.4f}  "
                      f"{'ok' if ok else f'FAILED: rel > {a.tol:g} or same top1 < 0.99'}")
    print(f"quantize agreement: {total - failures} of {total} quantized bundled models agree in effdl's runtime and "
          f"ONNX Runtime (max abs difference <= {a.tol:g} x max |output|, same top-1 >= 99%)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
