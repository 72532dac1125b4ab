#!/usr/bin/python3
"""Exports the benchmark zoo: larger fp32 models with seeded random weights, for scripts/bench_runtime.sh.

Usage: scripts/make_zoo.py [OUT_DIR] [--force] [--only NAME[,NAME...]]   (default OUT_DIR /tmp/effdl-zoo)

| file               | model                                                     | input                   |
|--------------------|-----------------------------------------------------------|-------------------------|
| resnet18.onnx      | torchvision resnet18 (via scripts/make_resnet18.py)       | input f32 [1,3,224,224] |
| mobilenet_v2.onnx  | torchvision mobilenet_v2                                  | input f32 [1,3,224,224] |
| bert_like.onnx     | 4-layer encoder, hidden 256, 4 heads, FFN 1024, seq 128,  | input_ids i64 [1,128]   |
|                    | vocab 30522, token + position embeddings, post-LN, GELU   |  -> hidden f32 [1,128,256] |
| mlp_4x4096.onnx    | 4 x Linear(4096, 4096), Relu between (256 MiB of weights)  | input f32 [1,4096]      |

Needs Debian's python3-torch 1.13 / python3-torchvision 0.14 / python3-onnx 1.12; nothing is downloaded
(weights=None), every model is built under a fixed seed, so two runs write byte-identical files.
Export settings are the team's (see models/README.md): opset 17, a model in eval mode exported with
training=PRESERVE and no constant folding, so BatchNormalization stays in the graph for effdl to fold.
BatchNorm statistics are seeded random values (as in make_resnet18.py) rather than the fresh 1/0 ones
that the exporter would deduplicate.

Files that already exist are skipped unless --force. Each file is written to a temporary name and renamed,
so an interrupted run never leaves a half-written model behind. The files are large (the MLP alone is
256 MiB): they stay out of git and out of CI.
"""
import argparse
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import onnx
import torch
import torchvision

OPSET = 17
SCRIPTS = Path(__file__).resolve().parent


def seed_batchnorm(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
                m.running_mean.normal_(0.0, 0.1)
                m.running_var.uniform_(0.5, 1.5)


def export(model, example, out, input_name, output_name):
    model.eval()
    with torch.no_grad():
        torch.onnx.export(
            model,
            (example,),
            str(out),
            export_params=True,
            opset_version=OPSET,
            input_names=[input_name],
            output_names=[output_name],
            training=torch.onnx.TrainingMode.PRESERVE,
            do_constant_folding=False,
        )


# --------------------------------------------------------------------------- models


def make_resnet18(out):
    # The team's exporter for resnet18; it writes exactly what it writes when run by hand.
    subprocess.run([sys.executable, str(SCRIPTS / "make_resnet18.py"), str(out)], check=True,
                   stdout=subprocess.DEVNULL)


def make_mobilenet_v2(out):
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v2(weights=None)
    seed_batchnorm(model)
    export(model, torch.randn(1, 3, 224, 224), out, "input", "logits")


class EncoderLayer(torch.nn.Module):
    """BERT-style post-LN layer written with plain ops (MatMul/Add/Softmax/LayerNormalization/Erf)."""

    def __init__(self, hidden, heads, ffn, seq):
        super().__init__()
        self.h, self.d, self.s = heads, hidden // heads, seq
        self.q = torch.nn.Linear(hidden, hidden)
        self.k = torch.nn.Linear(hidden, hidden)
        self.v = torch.nn.Linear(hidden, hidden)
        self.o = torch.nn.Linear(hidden, hidden)
        self.ln1 = torch.nn.LayerNorm(hidden, eps=1e-12)
        self.ff1 = torch.nn.Linear(hidden, ffn)
        self.ff2 = torch.nn.Linear(ffn, hidden)
        self.ln2 = torch.nn.LayerNorm(hidden, eps=1e-12)
        self.gelu = torch.nn.GELU()

    def forward(self, x):  # x [1, S, H]
        # Python-int shapes: the exporter writes constant Reshape shapes, no Shape/Gather chains.
        split = (1, self.s, self.h, self.d)
        q = self.q(x).reshape(split).transpose(1, 2)  # [1, h, S, d]
        k = self.k(x).reshape(split).permute(0, 2, 3, 1)  # [1, h, d, S]
        v = self.v(x).reshape(split).transpose(1, 2)
        att = torch.softmax(torch.matmul(q, k) * (1.0 / math.sqrt(self.d)), dim=-1)
        ctx = torch.matmul(att, v).transpose(1, 2).reshape(1, self.s, self.h * self.d)
        x = self.ln1(x + self.o(ctx))
        return self.ln2(x + self.ff2(self.gelu(self.ff1(x))))


class BertLike(torch.nn.Module):
    def __init__(self, vocab=30522, hidden=256, layers=4, heads=4, ffn=1024, seq=128):
        super().__init__()
        self.tok = torch.nn.Embedding(vocab, hidden)
        self.pos = torch.nn.Embedding(seq, hidden)
        # Position ids as a buffer: exported as a constant initializer feeding a Gather.
        self.register_buffer("position_ids", torch.arange(seq, dtype=torch.int64).unsqueeze(0))
        self.ln = torch.nn.LayerNorm(hidden, eps=1e-12)
        self.layers = torch.nn.ModuleList([EncoderLayer(hidden, heads, ffn, seq) for _ in range(layers)])

    def forward(self, input_ids):
        x = self.ln(self.tok(input_ids) + self.pos(self.position_ids))
        for layer in self.layers:
            x = layer(x)
        return x


def make_bert_like(out):
    torch.manual_seed(0)
    model = BertLike()
    with torch.no_grad():
        # BERT's initialisation; LayerNorm gains/biases seeded so they are not all equal tensors.
        for m in model.modules():
            if isinstance(m, (torch.nn.Linear, torch.nn.Embedding)):
                m.weight.normal_(0.0, 0.02)
            if isinstance(m, torch.nn.Linear):
                m.bias.normal_(0.0, 0.02)
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.uniform_(0.8, 1.2)
                m.bias.normal_(0.0, 0.02)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 30522, (1, 128), dtype=torch.int64, generator=g)
    export(model, ids, out, "input_ids", "hidden")


def make_mlp_4x4096(out):
    torch.manual_seed(0)
    layers = []
    for i in range(4):
        layers.append(torch.nn.Linear(4096, 4096))
        if i < 3:
            layers.append(torch.nn.ReLU())
    export(torch.nn.Sequential(*layers), torch.randn(1, 4096), out, "input", "output")


MODELS = {
    "resnet18": make_resnet18,
    "mobilenet_v2": make_mobilenet_v2,
    "bert_like": make_bert_like,
    "mlp_4x4096": make_mlp_4x4096,
}


def describe(path):
    m = onnx.load(str(path), load_external_data=False)
    onnx.checker.check_model(m)
    n_params = sum(math.prod(t.dims) for t in m.graph.initializer)
    ops = sorted({n.op_type for n in m.graph.node})
    return m, n_params, ops


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir", nargs="?", default="/tmp/effdl-zoo")
    ap.add_argument("--force", action="store_true", help="rewrite files that already exist")
    ap.add_argument("--only", default="", help=f"comma-separated subset of: {','.join(MODELS)}")
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n] or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error(f"unknown model(s) {','.join(unknown)}; known: {','.join(MODELS)}")

    torch.set_num_threads(1)  # the machine is shared; export is not the bottleneck
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = out_dir / f"{name}.onnx"
        if path.exists() and not args.force:
            print(f"kept    {path} ({path.stat().st_size:,} bytes; exists, --force rewrites it)")
            continue
        tmp = out_dir / f".{name}.{os.getpid()}.tmp.onnx"
        t0 = time.monotonic()
        try:
            MODELS[name](tmp)
            m, n_params, ops = describe(tmp)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        ins = ", ".join(
            f"{i.name} [{','.join(str(d.dim_value or d.dim_param) for d in i.type.tensor_type.shape.dim)}]"
            for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer})
        print(f"wrote   {path} ({path.stat().st_size:,} bytes, {path.stat().st_size / 2**20:.1f} MiB; "
              f"{n_params:,} initializer values; {len(m.graph.node)} nodes; inputs {ins}; "
              f"{time.monotonic() - t0:.1f} s)")
        print(f"        ops: {' '.join(ops)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
