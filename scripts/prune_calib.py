#!/usr/bin/python3
"""Writes calibration folders for the bundled models from their TRAINING data (never the test
split the accuracy is measured on): OUT/digits (digits_cnn input [64,1,8,8] per .npz),
OUT/digits_flat (mlp) and OUT/text (text_classifier ids [64,64] int64), `--samples` rows each.
Usage: /usr/bin/python3 scripts/prune_calib.py OUT [--samples 512]"""
import argparse
import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--samples", type=int, default=512)
a = ap.parse_args()

sys.path.insert(0, here)
from make_models import load_digits_split  # the split the bundled models were trained on

x_tr, _, _, _ = load_digits_split()
text = np.load(os.path.join(here, "..", "models", "data", "text_dataset.npz"))
sets = {
    "digits": ("input", x_tr[: a.samples].astype(np.float32)),
    "digits_flat": ("input", x_tr[: a.samples].reshape(-1, 64).astype(np.float32)),
    "text": ("ids", text["train_ids"][: a.samples].astype(np.int64)),
}
for name, (inp, data) in sets.items():
    d = os.path.join(a.out, name)
    os.makedirs(d, exist_ok=True)
    for i in range(0, len(data), 64):
        np.savez(os.path.join(d, "batch_%04d.npz" % (i // 64)), **{inp: data[i : i + 64]})
    print("%s: %d samples in %s" % (name, len(data), d))
