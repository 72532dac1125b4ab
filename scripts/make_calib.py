#!/usr/bin/python3
"""Writes calibration folders for the bundled models from their TRAINING splits (never the test
splits the accuracy checks use): one .npz per sample, named after the model input.

  /usr/bin/python3 scripts/make_calib.py [OUT=/tmp/effdl-calib] [N=100]
    OUT/digits/sample_<i>.npz   input: float32 [1,1,8,8]   (digits_cnn.onnx)
    OUT/digits_flat/...         input: float32 [1,64]      (mlp.onnx)
    OUT/text/sample_<i>.npz     ids:   int64   [1,64]      (text_classifier.onnx)
Samples are drawn with a fixed seed, so the folders are the same on every run."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_models import load_digits_split  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def write(folder, name, rows):
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("sample_*.npz"):
        old.unlink()
    for i, row in enumerate(rows):
        np.savez(folder / f"sample_{i}.npz", **{name: row[None]})


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/effdl-calib")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    rng = np.random.default_rng(0)
    xtr, _, _, _ = load_digits_split()
    pick = rng.choice(len(xtr), size=min(n, len(xtr)), replace=False)
    write(out / "digits", "input", xtr[pick])
    write(out / "digits_flat", "input", xtr[pick].reshape(len(pick), 64))
    with np.load(ROOT / "models" / "data" / "text_dataset.npz") as z:
        ids = z["train_ids"]
    pick = rng.choice(len(ids), size=min(n, len(ids)), replace=False)
    write(out / "text", "ids", ids[pick].astype(np.int64))
    print(f"wrote {out}/digits, digits_flat, text ({n} samples each, from the training splits)")


if __name__ == "__main__":
    main()
