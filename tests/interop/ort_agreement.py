#!/usr/bin/python3
"""effdl's runtime against ONNX Runtime on the same seeded inputs, per model and output.

usage: ort_agreement.py EFFDL SRC [--zoo DIR] [--require-zoo] [--seed N] MODEL...

For each model: `effdl run --random SEED --save-inputs IN` draws the inputs (integer inputs that
index a Gather stay within its table) and writes them as input_N.pb; ONNX Runtime
(scripts/ort/ort_run.js run --input-dir IN) runs the very same tensors. Each output must agree:
max |effdl - ORT| <= 1e-4 * max(1, max |ORT|). Prints one row per model (worst output) and exits
0 when all agree, 1 otherwise, 77 (ctest: skipped) when ONNX Runtime is unavailable. The zoo
models (the four scripts/make_zoo.py writes) are added when present; each absent one is reported
skipped, and with --require-zoo that is a failure.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from onnx import TensorProto, numpy_helper

from ort_harness import SKIP, harness_or_skip_message, io_dirs, run_ort

REL_TOL = 1e-4
ZOO = ["resnet18", "mobilenet_v2", "bert_like", "mlp_4x4096"]  # what scripts/make_zoo.py writes


def read_pb_dir(folder):
    out = {}
    for f in sorted(os.listdir(folder)):
        if f.endswith(".pb"):
            t = TensorProto()
            with open(os.path.join(folder, f), "rb") as fh:
                t.ParseFromString(fh.read())
            out[t.name] = numpy_helper.to_array(t)
    return out


def check_model(effdl, harness, model, seed, tmp):
    """Returns (ok, worst_err, scale, detail)."""
    ins, eo, oo = io_dirs(tmp)
    r = subprocess.run([effdl, "-q", "run", model, "--random", str(seed), "--threads", "1", "--save-inputs", ins,
                        "--output-dir", eo, "--output-format", "pb"], capture_output=True, text=True)
    if r.returncode != 0:
        return False, None, None, "effdl failed: " + (r.stderr.strip() or r.stdout.strip())
    err = run_ort(harness, model, ins, oo)
    if err:
        return False, None, None, err
    got = read_pb_dir(eo)
    want = {k: v for k, v in read_pb_dir(oo).items()}
    if set(got) != set(want):
        return False, None, None, f"outputs differ: effdl {sorted(got)}, ORT {sorted(want)}"
    worst, worst_scale, ok, notes = 0.0, 1.0, True, []
    for name, w in want.items():
        g = got[name]
        if g.shape != w.shape or g.dtype != w.dtype:
            return False, None, None, f"output '{name}': effdl {g.dtype}{list(g.shape)}, ORT {w.dtype}{list(w.shape)}"
        if w.size == 0:
            continue
        wf, gf = w.astype(np.float64), g.astype(np.float64)
        err = float(np.max(np.abs(gf - wf)))
        scale = max(1.0, float(np.max(np.abs(wf))))
        if not err <= REL_TOL * scale:  # also catches NaN
            ok = False
            notes.append(f"output '{name}' max abs error {err:.3g} > {REL_TOL:g} x {scale:.4g}")
        if err / scale >= worst / worst_scale:
            worst, worst_scale = err, scale
    return ok, worst, worst_scale, "; ".join(notes)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("effdl")
    ap.add_argument("src")
    ap.add_argument("models", nargs="*")
    ap.add_argument("--zoo", default=None)
    ap.add_argument("--require-zoo", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_intermixed_args()
    harness, skipped = harness_or_skip_message(a.src)
    if skipped:
        print(skipped)
        return SKIP
    models = list(a.models)
    zoo_missing = []
    if a.zoo is not None:
        for name in ZOO:  # the folder may hold other files (e.g. other tools' outputs): only these
            path = os.path.join(a.zoo, name + ".onnx")
            if os.path.exists(path):
                models.append(path)
            else:
                zoo_missing.append(name)
    print(f"{'model':<28} {'max abs error':>14} {'output scale':>13} {'limit':>10}  result")
    failures = 0
    for m in models:
        with tempfile.TemporaryDirectory() as tmp:
            ok, err, scale, detail = check_model(a.effdl, harness, m, a.seed, tmp)
        name = os.path.basename(m)
        if err is None:
            print(f"{name:<28} {'-':>14} {'-':>13} {'-':>10}  FAILED: {detail}")
        else:
            print(f"{name:<28} {err:>14.3e} {scale:>13.4g} {REL_TOL * scale:>10.3e}  "
                  f"{'ok' if ok else 'FAILED: ' + detail}")
        failures += not ok
    for name in zoo_missing:
        print(f"{name + '.onnx':<28} SKIPPED: not in {a.zoo} (make it with /usr/bin/python3 scripts/make_zoo.py)")
    skipped = f", {len(zoo_missing)} zoo models skipped (absent)" if zoo_missing else ""
    print(f"ort agreement: {len(models) - failures} of {len(models)} models agree within {REL_TOL:g} x max(1, max|output|)"
          f"{skipped}")
    if zoo_missing and a.require_zoo:
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
