#!/usr/bin/env bash
# Embedding hashing (issue 5), the must-show table: the bundled text classifier at 25 % of its
# table's bytes with plain hashing, frequency-weighted hashing + keep-top 1000, qr and cluster
# (accuracy on the test split, top-1 agreement with the original on it, table bytes, reconstruction
# error), the BERT-like encoder hashed to 25 % run in ONNX Runtime and in effdl's runtime (same
# outputs?), hash + int8 (needs --quantize on main), and a determinism check (sha256 of two runs).
#
#   scripts/bench_hash.sh [--effdl PATH] [--zoo DIR] [--work DIR] [--seeds N]
#
#   --effdl PATH  the effdl binary (default build-cc/effdl, else build/effdl, or $EFFDL)
#   --zoo DIR     where scripts/make_zoo.py wrote bert_like.onnx (default /tmp/effdl-zoo; exported if missing)
#   --work DIR    scratch folder (default: a fresh temp folder, removed at exit)
#   --seeds N     text-classifier runs per mode with --seed 0..N-1 (default 3): the hash (a, b) and
#                 the k-means init depend on the seed; accuracy is their mean, with min..max beside it
#
# Calibration ids come from the TRAINING split (models/data/text_dataset.npz train_ids), written
# by this script as .npz chunks; accuracy is on the test split (models/text_test_*.npy).
# Progress goes to stderr, the table to stdout. Exit codes: 0 ok, 2 usage or setup error.
set -euo pipefail
cd "$(dirname "$0")/.."

effdl="${EFFDL:-}"
zoo=/tmp/effdl-zoo
work=""
seeds=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --effdl) effdl="$2"; shift 2 ;;
    --zoo) zoo="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    *) echo "bench_hash.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
if [[ -z "$effdl" ]]; then
  for c in build-cc/effdl build/effdl; do [[ -x "$c" ]] && effdl="$c" && break; done
fi
[[ -x "$effdl" ]] || { echo "bench_hash.sh: no effdl binary (build it, or pass --effdl PATH)" >&2; exit 2; }
if [[ -z "$work" ]]; then
  work="$(mktemp -d /tmp/effdl-bench-hash.XXXXXX)"
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
if [[ ! -f "$zoo/bert_like.onnx" ]]; then
  echo "exporting the zoo into $zoo (scripts/make_zoo.py)..." >&2
  /usr/bin/python3 scripts/make_zoo.py "$zoo" --only bert_like >&2 || { echo "bench_hash.sh: zoo export failed" >&2; exit 2; }
fi

exec /usr/bin/python3 - "$effdl" "$zoo" "$work" "$seeds" <<'PY'
import hashlib, json, os, subprocess, sys
import numpy as np

effdl, zoo, work = sys.argv[1:4]
seeds = int(sys.argv[4])
text = "models/text_classifier.onnx"
test_x, test_y = "models/text_test_ids.npy", "models/text_test_y.npy"
ort = ["node", "scripts/ort/ort_run.js"]

def log(*a):
    print(*a, file=sys.stderr, flush=True)

def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(" ".join(cmd) + f" -> exit {r.returncode}: " + (r.stderr or r.stdout).strip().splitlines()[-1])
    return r.stdout

# Calibration: the training split, in chunks of 8192 sentences.
calib = os.path.join(work, "calib_train")
os.makedirs(calib, exist_ok=True)
train = np.load("models/data/text_dataset.npz")["train_ids"].astype(np.int64)
for k, i in enumerate(range(0, len(train), 8192)):
    np.savez(os.path.join(calib, f"part_{k:02d}.npz"), ids=train[i:i + 8192])
log(f"calibration: {len(train)} training sentences in {calib}")

def effdl_logits(model, out):
    os.makedirs(out, exist_ok=True)
    run([effdl, "run", model, "-i", f"ids={test_x}", "--output-dir", out, "--force", "--threads", "1"])
    return np.load(os.path.join(out, "logits.npy"))

base_logits = effdl_logits(text, os.path.join(work, "base_out"))

def optimize(name, model, flags, measure=True):
    out = os.path.join(work, name + ".onnx")
    cmd = [effdl, "optimize", model, "-o", out, "--force", "--json", "--bench-iters", "0"] + flags
    if measure and model == text:
        cmd += ["--eval-data", test_x, "--eval-labels", test_y]
    if not measure:
        cmd += ["--no-measure"]
    log("  " + " ".join(cmd[1:]))
    return out, json.loads(run(cmd))

def hash_row(report):
    for p in report["passes"]:
        if p["name"] == "hash-embeddings" and p["layers"]["rows"]:
            cols = p["layers"]["columns"]
            return dict(zip(cols, p["layers"]["rows"][0]["values"]))
    return None

def table_bytes(model, prefix):
    import onnx
    m = onnx.load(model)
    from onnx import numpy_helper
    return sum(numpy_helper.to_array(t).nbytes for t in m.graph.initializer if t.name.startswith(prefix))

configs = [
    ("plain", "plain hashing", ["--hash-embeddings", "0.25"]),
    ("plain_freq", "plain, freq-weighted", ["--hash-embeddings", "0.25", "--calib", calib]),
    ("freq_keep1000", "freq-weighted + keep-top 1000", ["--hash-embeddings", "0.25", "--hash-keep-top", "1000", "--calib", calib]),
    ("qr", "qr (sum)", ["--hash-embeddings", "0.25", "--hash-mode", "qr"]),
    ("qr_freq", "qr (sum), freq-weighted", ["--hash-embeddings", "0.25", "--hash-mode", "qr", "--calib", calib]),
    ("cluster", "cluster (k-means)", ["--hash-embeddings", "0.25", "--hash-mode", "cluster"]),
    ("cluster_freq", "cluster, freq-weighted", ["--hash-embeddings", "0.25", "--hash-mode", "cluster", "--calib", calib]),
]
rows = []
log("text classifier:")
for name, label, flags in configs:
    accs, agrees, h = [], [], None
    for seed in range(seeds):
        out, rep = optimize(f"{name}_s{seed}", text, flags + ["--seed", str(seed)])
        h = h or hash_row(rep)  # table columns: seed 0
        acc = rep["measured"]["accuracy"]
        accs.append(acc["after"])
        logits = effdl_logits(out, os.path.join(work, f"{name}_s{seed}_out"))
        agrees.append(float((logits.argmax(1) == base_logits.argmax(1)).mean()))
    rows.append((label, acc["before"], float(np.mean(accs)), float(np.mean(agrees)), h, min(accs), max(accs)))

print("Embedding hashing, text classifier (embedding.weight 20002 x 16 = 1,280,128 bytes), 25 % byte budget;")
print("accuracy on the 2,000-sentence test split (mean over --seed 0.." + str(seeds - 1) + ", min..max beside it; other columns: seed 0);")
print("calibration (--calib) from the 57,637-sentence training split")
print()
hdr = f"{'mode':<32} {'stored rows':>11} {'table bytes':>11} {'x orig':>7} {'rel err':>8} {'freq err':>8} {'load max/mean/empty':>20} {'accuracy':>9} {'delta':>7} {'min..max':>13} {'top-1 agree':>11}"
print(hdr)
print("-" * len(hdr))
print(f"{'original':<32} {20002:>11} {1280128:>11} {1.0:>7.3f} {0.0:>8.4f} {'':>8} {'':>20} {rows[0][1]*100:>8.2f}% {'':>7} {'':>13} {'':>11}")
for label, before, after, agree, h, lo, hi in rows:
    ferr = f"{h['freq_weighted_error']:.4f}" if "freq_weighted_error" in h else "-"
    loads = f"{int(h['load_max'])}/{h['load_mean']:.2f}/{int(h['load_empty'])}"
    rng = f"{lo*100:.2f}..{hi*100:.2f}"
    print(f"{label:<32} {int(h['stored_rows']):>11} {int(h['bytes_after']):>11} {h['bytes_after']/h['bytes_before']:>7.3f} "
          f"{h['rel_frobenius_error']:>8.4f} {ferr:>8} {loads:>20} {after*100:>8.2f}% {(after-before)*100:>+7.2f} {rng:>13} {agree*100:>10.2f}%")
best = max(rows, key=lambda r: r[2])
acc = {r[0]: r[2] for r in rows}
print()
print(f"best: {best[0]} loses {(best[1]-best[2])*100:.2f} pt (target <= 2): {'PASS' if best[1]-best[2] <= 0.02 else 'FAIL'}")
for suffix, plain in (("", "plain hashing"), (", freq-weighted", "plain, freq-weighted")):
    beat = [m for m in ("qr (sum)" + suffix, "cluster (k-means)" if not suffix else "cluster" + suffix) if acc[m] > acc[plain]]
    print(f"qr or cluster beats {plain} ({acc[plain]*100:.2f}%): {'PASS: ' + ', '.join(beat) if beat else 'FAIL (no)'}")

# Hash + int8: needs the quantization pass (issue 4) on main.
print()
helptext = run([effdl, "optimize", "--help"])
import re
if not re.search(r"^\s+--quantize\s", helptext, re.M):
    print("hash + int8 table: needs --quantize (the quantization pass is not in this build)")
else:
    out, rep = optimize("hash_int8", text, ["--hash-embeddings", "0.2", "--hash-keep-top", "1000", "--calib", calib,
                                            "--quantize", "dynamic"])
    tb = table_bytes(out, "embedding.weight")
    acc = rep["measured"]["accuracy"]
    print(f"hash 0.2 + keep-top 1000 + --quantize dynamic: table bytes {tb} = {tb/1280128:.4f}x the original "
          f"(target <= 0.07: {'PASS' if tb/1280128 <= 0.07 else 'FAIL'}), accuracy {acc['after']*100:.2f}% "
          f"({(acc['after']-acc['before'])*100:+.2f} pt), file {rep['after']['file_bytes']} bytes")

# BERT-like encoder: token table hashed to 25 %, run in ORT and in effdl.
print()
bert = os.path.join(zoo, "bert_like.onnx")
log("BERT-like encoder:")
out, rep = optimize("bert_hash", bert, ["--hash-embeddings", "0.25", "--fidelity-samples", "4"])
h = hash_row(rep)
ids_dir = os.path.join(work, "bert_in")
os.makedirs(ids_dir, exist_ok=True)
ids = np.random.default_rng(0).integers(0, int(h["rows"]), size=(1, 128)).astype(np.int64)
np.save(os.path.join(ids_dir, "input_ids.npy"), ids)
ort_dir, eff_dir = os.path.join(work, "bert_ort"), os.path.join(work, "bert_eff")
os.makedirs(eff_dir, exist_ok=True)
ort_ok = subprocess.run(ort + ["check"], capture_output=True, text=True)
print(f"BERT-like encoder: tok.weight {int(h['rows'])} x {int(h['dim'])} -> {int(h['stored_rows'])} rows, "
      f"{int(h['bytes_before'])} -> {int(h['bytes_after'])} bytes ({h['bytes_after']/h['bytes_before']:.3f}x), "
      f"file {rep['before']['file_bytes']} -> {rep['after']['file_bytes']} bytes, rel err {h['rel_frobenius_error']:.4f}")
ag = rep["measured"].get("agreement") or {}
if ag:
    print(f"  vs the original model (effdl, {ag.get('inputs')}): cosine {ag['cosine']:.4f}, max abs error {ag['max_abs_error']:.3f}")
if ort_ok.returncode != 0:
    print("  ONNX Runtime: skipped (" + (ort_ok.stdout + ort_ok.stderr).strip() + ")")
else:
    run(ort + ["run", out, "--input-dir", ids_dir, "--output-dir", ort_dir])
    run([effdl, "run", out, "-i", f"input_ids={os.path.join(ids_dir, 'input_ids.npy')}", "--output-dir", eff_dir, "--force"])
    a = np.load(os.path.join(ort_dir, "hidden.npy")); b = np.load(os.path.join(eff_dir, "hidden.npy"))
    d = float(np.abs(a - b).max())
    print(f"  ONNX Runtime loads and runs it; ORT vs effdl on seeded ids [1,128]: max abs diff {d:.3g} "
          f"(scale {float(np.abs(a).max()):.3g}): {'SAME (<= 1e-4)' if d <= 1e-4 else 'DIFFERENT'}")

# Determinism: same input and flags, twice.
print()
digests = []
for k in range(2):
    out, _ = optimize(f"det{k}", text, ["--hash-embeddings", "0.25", "--hash-keep-top", "1000", "--calib", calib], measure=False)
    digests.append(hashlib.sha256(open(out, "rb").read()).hexdigest())
print(f"determinism (freq + keep-top 1000, two runs): sha256 {digests[0][:16]}... {digests[1][:16]}... "
      f"{'IDENTICAL' if digests[0] == digests[1] else 'DIFFERENT'}")
PY
