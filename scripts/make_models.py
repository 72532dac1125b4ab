#!/usr/bin/python3
"""Train and export the bundled effdl sample models (deterministically).

Produces, under models/:
  digits_cnn.onnx        small Conv-BN-Relu CNN on sklearn digits (8x8), BatchNormalization kept
  mlp.onnx               64-256-256-10 MLP on flattened sklearn digits
  text_classifier.onnx   embedding(20002x16) + masked mean pooling + MLP, Debian package sections
  digits_test_x.npy      float32 [N,1,8,8]  digits test split (pixels / 16)
  digits_test_x_flat.npy float32 [N,64]     same split, flattened (input of mlp.onnx)
  digits_test_y.npy      int64   [N]
  text_test_ids.npy      int64   [N,64]     text test split (token ids, 0-padded)
  text_test_y.npy        int64   [N]
  data/text_dataset.npz  committed train/test token ids + labels (uint16/uint8, compressed)
  data/text_vocab.txt    vocabulary, line i (0-based) is token id i+2 (0=<pad>, 1=<unk>)
  data/text_classes.txt  class names, line i is class index i

The text data set is derived from `apt-cache dumpavail`, whose content changes with
the apt lists, so the derived arrays are committed and reused. They are only rebuilt
when missing or when --refresh-text-data is given.

Run with Debian's python:  /usr/bin/python3 scripts/make_models.py
"""
import argparse
import collections
import hashlib
import os
import random
import re
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
sys.dont_write_bytecode = True

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.set_num_interop_threads(1)  # may only be called once per process, before any parallel work

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
DATA = MODELS / "data"

OPSET = 17
SEED = 0

# text data set parameters
VOCAB_SIZE = 20000          # words; the embedding table has VOCAB_SIZE + 2 rows
PAD_ID, UNK_ID = 0, 1
SEQ_LEN = 64
NUM_CLASSES_TEXT = 10       # most common sections; all remaining sections -> "other"
OTHER_CLASS = "other"
TEXT_TEST_SIZE = 2000
TEXT_TRAIN_CAP = 60000      # keeps models/data/text_dataset.npz well under 1.5 MiB
TOKEN_RE = re.compile(r"[a-z0-9]+")


def set_determinism(seed=SEED):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def n_params(model):
    return sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------- models
class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(32 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = self.pool(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 256)
        self.fc2 = nn.Linear(256, 256)
        self.fc3 = nn.Linear(256, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class TextClassifier(nn.Module):
    def __init__(self, vocab_rows, num_classes, dim=16, hidden=64):
        super().__init__()
        self.embedding = nn.Embedding(vocab_rows, dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)
        # lower bound of the token count (guards all-padding rows); exported as a Max with a constant
        self.register_buffer("one", torch.ones(1), persistent=False)

    def forward(self, ids):
        emb = self.embedding(ids)                              # [B, L, D]
        mask = (ids != PAD_ID).to(emb.dtype).unsqueeze(-1)     # [B, L, 1]
        summed = (emb * mask).sum(dim=1)                       # [B, D]
        count = torch.maximum(mask.sum(dim=1), self.one)       # [B, 1]
        pooled = summed / count
        return self.fc2(F.relu(self.fc1(pooled)))


# --------------------------------------------------------------------------- training
def train(model, x, y, epochs, lr, batch_size, weight_decay=0.0):
    set_determinism()
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    n = x.shape[0]
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            opt.zero_grad()
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
    model.eval()
    return model


@torch.no_grad()
def accuracy(model, x, y):
    model.eval()
    return float((model(x).argmax(1) == y).float().mean())


# --------------------------------------------------------------------------- export
def export(model, example, path, input_name, input_shape_desc, required_ops=()):
    """Export to ONNX keeping the graph un-optimised (BatchNormalization stays)."""
    model.eval()
    tmp = path.with_suffix(".tmp.onnx")
    with torch.no_grad():
        torch.onnx.export(
            model, (example,), str(tmp),
            export_params=True,
            opset_version=OPSET,
            do_constant_folding=False,
            # PRESERVE with the model in eval mode exports inference semantics but skips
            # the eval "peephole" pass that would fuse Conv+BatchNormalization.
            training=torch.onnx.TrainingMode.PRESERVE,
            input_names=[input_name],
            output_names=["logits"],
            dynamic_axes={input_name: {0: "batch"}, "logits": {0: "batch"}},
        )
    m = onnx.load(str(tmp))
    tmp.unlink()
    m.doc_string = f"effdl sample model; regenerate with scripts/make_models.py. input {input_shape_desc}"
    m.graph.name = path.stem
    onnx.checker.check_model(m, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    onnx.checker.check_model(inferred)
    ops = [n.op_type for n in m.graph.node]
    for op in required_ops:
        if op not in ops:
            raise SystemExit(f"{path.name}: expected op {op} missing from exported graph: {sorted(set(ops))}")
    path.write_bytes(m.SerializeToString())
    return m


def run_onnx_numpy(model, feeds):
    """Tiny numpy interpreter for exactly the ops these sample graphs use.

    onnxruntime is not available here (and onnx 1.12 has no reference evaluator), so the
    exported files are cross-checked against PyTorch with this independent implementation.
    """
    from onnx import numpy_helper
    env = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    env.update(feeds)
    for node in model.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        x = [env[n] if n else None for n in node.input]
        op = node.op_type
        if op == "Constant":
            y = numpy_helper.to_array(a["value"])
        elif op == "Conv":
            assert a.get("group", 1) == 1 and list(a.get("strides", [1, 1])) == [1, 1]
            assert list(a.get("dilations", [1, 1])) == [1, 1]
            w = x[1]
            kh, kw = w.shape[2:]
            p = a.get("pads", [0, 0, 0, 0])
            inp = np.pad(x[0], ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])))
            oh, ow = inp.shape[2] - kh + 1, inp.shape[3] - kw + 1
            cols = np.stack([inp[:, :, i:i + oh, j:j + ow] for i in range(kh) for j in range(kw)], axis=2)
            y = np.einsum("nckhw,ock->nohw", cols, w.reshape(w.shape[0], w.shape[1], kh * kw))
            if len(x) > 2 and x[2] is not None:
                y = y + x[2].reshape(1, -1, 1, 1)
        elif op == "BatchNormalization":
            sh = (1, -1, 1, 1)
            y = (x[0] - x[3].reshape(sh)) / np.sqrt(x[4].reshape(sh) + a.get("epsilon", 1e-5)) \
                * x[1].reshape(sh) + x[2].reshape(sh)
        elif op == "Relu":
            y = np.maximum(x[0], 0)
        elif op == "MaxPool":
            k, st = a["kernel_shape"], a["strides"]
            assert list(k) == list(st) and not any(a.get("pads", [0])) and not a.get("ceil_mode", 0)
            n, c, h, w = x[0].shape
            y = x[0][:, :, :h // k[0] * k[0], :w // k[1] * k[1]] \
                .reshape(n, c, h // k[0], k[0], w // k[1], k[1]).max(axis=(3, 5))
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = x[0].reshape(int(np.prod(x[0].shape[:ax])), -1)
        elif op == "Gemm":
            A = x[0].T if a.get("transA", 0) else x[0]
            B = x[1].T if a.get("transB", 0) else x[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(x) > 2 and x[2] is not None:
                y = y + a.get("beta", 1.0) * x[2]
        elif op == "Gather":
            y = np.take(x[0], x[1], axis=a.get("axis", 0))
        elif op == "Equal":
            y = x[0] == x[1]
        elif op == "Not":
            y = np.logical_not(x[0])
        elif op == "Cast":
            y = x[0].astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]])
        elif op == "Unsqueeze":
            y = np.expand_dims(x[0], tuple(int(v) for v in x[1]))
        elif op == "ReduceSum":
            y = x[0].sum(axis=tuple(int(v) for v in x[1]), keepdims=bool(a.get("keepdims", 1)))
        elif op in ("Mul", "Div", "Add", "Sub", "Max"):
            f = {"Mul": np.multiply, "Div": np.divide, "Add": np.add, "Sub": np.subtract, "Max": np.maximum}[op]
            y = f(x[0], x[1])
        else:
            raise NotImplementedError(op)
        env[node.output[0]] = y
    return [env[o.name] for o in model.graph.output]


def check_onnx_against_torch(path, model, x, y):
    """Run the exported graph with numpy on the test set; return (accuracy, max abs diff vs torch)."""
    m = onnx.load(str(path))
    logits = run_onnx_numpy(m, {m.graph.input[0].name: x})[0]
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    diff = float(np.abs(logits - ref).max())
    if diff > 1e-3 or not np.array_equal(logits.argmax(1), ref.argmax(1)):
        raise SystemExit(f"{path.name}: ONNX graph disagrees with PyTorch (max abs diff {diff})")
    return float((logits.argmax(1) == y).mean()), diff


# --------------------------------------------------------------------------- data
def load_digits_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    d = load_digits()
    x = (d.data.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    y = d.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.2, random_state=0)


def tokenize(text):
    return TOKEN_RE.findall(text.lower())


def parse_dumpavail():
    raw = subprocess.run(["apt-cache", "dumpavail"], check=True, stdout=subprocess.PIPE,
                         env={**os.environ, "LC_ALL": "C"}).stdout.decode("utf-8", "replace")
    records = []
    for stanza in raw.split("\n\n"):
        fields = {}
        for line in stanza.split("\n"):
            if not line or line[0] in " \t" or ":" not in line:
                continue
            k, v = line.split(":", 1)
            fields[k] = v.strip()
        if "Package" in fields and "Description" in fields and "Section" in fields:
            section = fields["Section"].split("/")[-1]   # drop contrib/, non-free/, ...
            records.append((fields["Package"], fields.get("Version", ""), section, fields["Description"]))
    records.sort()
    return records


def save_npz_deterministic(path, **arrays):
    """Like np.savez_compressed, but with fixed zip timestamps so the file is byte-reproducible."""
    import io
    import zipfile
    with zipfile.ZipFile(path, "w") as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue(), compresslevel=9)


def build_text_dataset():
    """Derive the text data set from `apt-cache dumpavail` and write models/data/text_*."""
    from sklearn.model_selection import train_test_split
    records = parse_dumpavail()
    print(f"[text] apt-cache dumpavail: {len(records)} packages", flush=True)
    # de-duplicate by (short) description text; drop descriptions seen with several sections
    sections_of = collections.defaultdict(set)
    for _, _, section, desc in records:
        sections_of[desc].add(section)
    samples = [(d, next(iter(s))) for d, s in sorted(sections_of.items()) if len(s) == 1]
    samples = [(tokenize(d), s) for d, s in samples]
    samples = [(t, s) for t, s in samples if t]
    # classes: the most common sections; every other section becomes the class "other".
    # (Keeping the other sections in the data set is what gives enough distinct words for a
    # >= 20k-word vocabulary in which every word occurs in the training split.)
    sec_counts = collections.Counter(s for _, s in samples)
    classes = [s for s, _ in sorted(sec_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:NUM_CLASSES_TEXT]]
    classes.append(OTHER_CLASS)
    cls_id = {c: i for i, c in enumerate(classes)}
    labels = np.array([cls_id.get(s, cls_id[OTHER_CLASS]) for _, s in samples], dtype=np.uint8)
    idx_tr, idx_te = train_test_split(np.arange(len(samples)), test_size=TEXT_TEST_SIZE,
                                      random_state=0, stratify=labels)
    idx_tr = idx_tr[:TEXT_TRAIN_CAP]
    # vocabulary: the most frequent words of the training split (ties alphabetical)
    counts = collections.Counter(w for i in idx_tr for w in samples[i][0])
    vocab = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:VOCAB_SIZE]]
    if len(vocab) < VOCAB_SIZE:
        raise SystemExit(f"[text] only {len(vocab)} distinct training words, need {VOCAB_SIZE}")
    word_id = {w: i + 2 for i, w in enumerate(vocab)}

    def encode(indices):
        ids = np.zeros((len(indices), SEQ_LEN), dtype=np.uint16)
        for row, i in enumerate(indices):
            toks = [word_id.get(w, UNK_ID) for w in samples[i][0]][:SEQ_LEN]
            ids[row, :len(toks)] = toks
        return ids, labels[indices]

    tr_x, tr_y = encode(idx_tr)
    te_x, te_y = encode(idx_te)
    DATA.mkdir(parents=True, exist_ok=True)
    save_npz_deterministic(DATA / "text_dataset.npz",
                           train_ids=tr_x, train_y=tr_y, test_ids=te_x, test_y=te_y)
    (DATA / "text_vocab.txt").write_text("\n".join(vocab) + "\n")
    (DATA / "text_classes.txt").write_text("\n".join(classes) + "\n")
    print(f"[text] {len(samples)} unique single-section descriptions, {len(counts)} distinct training "
          f"words, vocab {len(vocab)}, classes {len(classes)}, train {len(tr_y)}, test {len(te_y)}", flush=True)


def load_text_dataset(refresh):
    paths = [DATA / "text_dataset.npz", DATA / "text_vocab.txt", DATA / "text_classes.txt"]
    if refresh or not all(p.exists() for p in paths):
        build_text_dataset()
    with np.load(DATA / "text_dataset.npz") as z:
        arrays = {k: z[k] for k in z.files}
    vocab = (DATA / "text_vocab.txt").read_text().split("\n")[:-1]
    classes = (DATA / "text_classes.txt").read_text().split("\n")[:-1]
    return arrays, vocab, classes


# --------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--refresh-text-data", action="store_true",
                    help="rebuild models/data/text_* from `apt-cache dumpavail` (changes the data set!)")
    args = ap.parse_args()
    set_determinism()
    MODELS.mkdir(exist_ok=True)
    summary = []

    # ---- digits: CNN + MLP
    xtr, xte, ytr, yte = load_digits_split()
    np.save(MODELS / "digits_test_x.npy", xte)
    np.save(MODELS / "digits_test_x_flat.npy", xte.reshape(len(xte), 64))
    np.save(MODELS / "digits_test_y.npy", yte)
    txtr, tytr = torch.from_numpy(xtr), torch.from_numpy(ytr)
    txte, tyte = torch.from_numpy(xte), torch.from_numpy(yte)

    set_determinism()
    cnn = train(DigitsCNN(), txtr, tytr, epochs=30, lr=2e-3, batch_size=32)
    acc = accuracy(cnn, txte, tyte)
    path = MODELS / "digits_cnn.onnx"
    export(cnn, txte[:1], path, "input", "float32[batch,1,8,8] = digits pixels / 16",
           required_ops=("Conv", "BatchNormalization", "Relu", "MaxPool", "Gemm"))
    summary.append((path, acc, n_params(cnn), *check_onnx_against_torch(path, cnn, xte, yte)))

    set_determinism()
    mlp = train(MLP(), txtr.reshape(-1, 64), tytr, epochs=40, lr=1e-3, batch_size=32)
    acc = accuracy(mlp, txte.reshape(-1, 64), tyte)
    path = MODELS / "mlp.onnx"
    export(mlp, txte[:1].reshape(1, 64), path, "input", "float32[batch,64] = flattened digits pixels / 16",
           required_ops=("Gemm", "Relu"))
    summary.append((path, acc, n_params(mlp), *check_onnx_against_torch(path, mlp, xte.reshape(-1, 64), yte)))

    # ---- text classifier
    arrays, vocab, classes = load_text_dataset(args.refresh_text_data)
    te_ids = arrays["test_ids"].astype(np.int64)
    te_y = arrays["test_y"].astype(np.int64)
    np.save(MODELS / "text_test_ids.npy", te_ids)
    np.save(MODELS / "text_test_y.npy", te_y)
    set_determinism()
    txt = TextClassifier(len(vocab) + 2, len(classes))
    txt = train(txt, torch.from_numpy(arrays["train_ids"].astype(np.int64)),
                torch.from_numpy(arrays["train_y"].astype(np.int64)), epochs=6, lr=3e-3, batch_size=64)
    acc = accuracy(txt, torch.from_numpy(te_ids), torch.from_numpy(te_y))
    path = MODELS / "text_classifier.onnx"
    export(txt, torch.from_numpy(te_ids[:1]), path, "ids",
           f"int64[batch,{SEQ_LEN}] token ids (0=pad, 1=unk, see models/data/text_vocab.txt)",
           required_ops=("Gather", "ReduceSum", "Gemm"))
    summary.append((path, acc, n_params(txt), *check_onnx_against_torch(path, txt, te_ids, te_y)))

    print()
    for path, acc, params, onnx_acc, diff in summary:
        m = onnx.load(str(path))
        ops = collections.Counter(n.op_type for n in m.graph.node)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        print(f"{path.name}: test_acc={acc:.4f} (onnx graph via numpy: {onnx_acc:.4f}, max|diff| {diff:.1e}) "
              f"params={params} size={path.stat().st_size} sha256={sha}")
        print("    ops: " + ", ".join(f"{k}x{v}" for k, v in sorted(ops.items())))


if __name__ == "__main__":
    main()
