#!/usr/bin/python3
"""Static int8 QDQ quantizer for the int8 benchmark only (issue 4's pass replaces it).

    scripts/qdq_quantize.py MODEL OUT [--samples N] [--seed S] [--effdl PATH] [--save-float PATH]

Writes OUT in the layout ONNX Runtime runs fastest on x86 (../shared/NOTES.md): u8 asymmetric
activations with Relu (and ReLU6) folded into the range of the Conv/Add before it, s8 per-channel symmetric
weights, int32 bias with scale = input scale x weight scale. BatchNormalization after a Conv is
folded first. Activations of Conv, Gemm, Add and MaxPool inputs and of Conv/Add outputs get a
QuantizeLinear/DequantizeLinear pair; MaxPool's output reuses its input's parameters.
Ranges are min/max over N seeded normal(0, 1) inputs through the float model (BatchNorm folded,
Relu kept: Relu outputs have ranges starting at 0), run in effdl's own runtime
(`effdl run`), so this needs no Python runtime besides onnx and numpy.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


def fold_batchnorm(g, inits):
    users = {}
    for n in g.node:
        for i in n.input:
            users.setdefault(i, []).append(n)
    keep = []
    removed = set()
    by_output = {o: n for n in g.node for o in n.output}
    for bn in list(g.node):
        if bn.op_type != "BatchNormalization":
            continue
        conv = by_output.get(bn.input[0])
        if conv is None or conv.op_type != "Conv" or len(users.get(bn.input[0], [])) != 1:
            continue
        eps = next((a.f for a in bn.attribute if a.name == "epsilon"), 1e-5)
        s, beta, mean, var = (inits[x] for x in bn.input[1:5])
        w = inits[conv.input[1]]
        b = inits[conv.input[2]] if len(conv.input) > 2 and conv.input[2] else np.zeros(w.shape[0], np.float32)
        k = s / np.sqrt(var + eps)
        inits[conv.input[1]] = (w * k.reshape(-1, *([1] * (w.ndim - 1)))).astype(np.float32)
        bname = conv.input[1] + "_folded_bias"
        inits[bname] = ((b - mean) * k + beta).astype(np.float32)
        if len(conv.input) > 2:
            conv.input[2] = bname
        else:
            conv.input.append(bname)
        conv.output[0] = bn.output[0]
        removed.add(id(bn))
    for n in g.node:
        if id(n) not in removed:
            keep.append(n)
    del g.node[:]
    g.node.extend(keep)


def constants_to_initializers(g, inits):
    keep = []
    for n in g.node:
        if n.op_type == "Constant" and len(n.attribute) == 1 and n.attribute[0].name == "value":
            inits[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
        else:
            keep.append(n)
    del g.node[:]
    g.node.extend(keep)


def fold_relu(g, inits):
    """Relu, or Clip with min 0 (ReLU6), after Conv/Add (its only reader) is dropped: the producer
    writes its output, whose calibrated quantization range is [0, at most max]: the saturation
    of QuantizeLinear does what the Relu/Clip did (as ONNX Runtime's quantizer does)."""
    users = {}
    for n in g.node:
        for i in n.input:
            users[i] = users.get(i, 0) + 1
    by_output = {o: n for n in g.node for o in n.output}
    graph_outputs = {o.name for o in g.output}
    keep = []
    for n in g.node:
        clip0 = (n.op_type == "Clip" and len(n.input) > 1 and n.input[1] in inits and float(inits[n.input[1]]) == 0.0)
        if n.op_type == "Relu" or clip0:
            p = by_output.get(n.input[0])
            if p is not None and p.op_type in ("Conv", "Add") and users[n.input[0]] == 1 and n.input[0] not in graph_outputs:
                p.output[0] = n.output[0]
                continue
        keep.append(n)
    del g.node[:]
    g.node.extend(keep)


def calibrate(model, names, samples, seed, effdl):
    """min/max of each tensor in `names` over `samples` seeded inputs, through `effdl run`."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    for i, name in enumerate(names):
        g.node.append(helper.make_node("Identity", [name], [f"calib_{i}"]))
        g.output.append(helper.make_tensor_value_info(f"calib_{i}", TensorProto.FLOAT, None))
    inp = g.input[0]
    shape = [d.dim_value or 1 for d in inp.type.tensor_type.shape.dim]
    lo = np.full(len(names), np.inf)
    hi = np.full(len(names), -np.inf)
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "calib.onnx")
        onnx.save(m, path)
        for s in range(samples):
            x = rng.standard_normal(shape).astype(np.float32)
            np.save(os.path.join(tmp, "x.npy"), x)
            out = os.path.join(tmp, f"out{s}")
            os.mkdir(out)
            subprocess.run([effdl, "run", path, "--input", f"{inp.name}={tmp}/x.npy", "--output-dir", out,
                            "--threads", "1"], check=True, stdout=subprocess.DEVNULL)
            for i in range(len(names)):
                v = np.load(os.path.join(out, f"calib_{i}.npy"))
                lo[i] = min(lo[i], float(v.min()))
                hi[i] = max(hi[i], float(v.max()))
    return {n: (lo[i], hi[i]) for i, n in enumerate(names)}


def u8_params(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    zp = int(np.clip(np.round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zp)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--effdl", default=os.environ.get("EFFDL", "build/effdl"))
    ap.add_argument("--save-float", help="also write the float model after BatchNorm folding (the fp32 baseline)")
    a = ap.parse_args()

    model = onnx.load(a.model)
    g = model.graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    constants_to_initializers(g, inits)
    fold_batchnorm(g, inits)
    del g.initializer[:]
    del g.value_info[:]
    # The float model (BatchNorm folded, Relu kept): the fp32 baseline, and what calibration runs,
    # so that the range of a Relu's output (which the folded producer then writes) starts at 0.
    model_f = onnx.ModelProto()
    model_f.CopyFrom(model)
    used_f = {i for n in g.node for i in n.input}
    model_f.graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in inits.items() if k in used_f)
    fold_relu(g, inits)
    used = {i for n in g.node for i in n.input}

    # Activations to quantize: inputs of Conv/Gemm/Add/MaxPool, outputs of Conv/Add.
    acts = []
    def want(name):
        if name and name not in inits and name not in acts:
            acts.append(name)
    for n in g.node:
        if n.op_type in ("Conv", "Gemm", "MaxPool"):
            want(n.input[0])
        elif n.op_type == "Add":
            want(n.input[0]); want(n.input[1])
        if n.op_type in ("Conv", "Add"):
            want(n.output[0])
    pooled = {n.output[0]: n.input[0] for n in g.node if n.op_type == "MaxPool"}
    if a.save_float:
        onnx.save(model_f, a.save_float)
    calib_names = [x for x in acts if x not in pooled]
    ranges = calibrate(model_f, calib_names, a.samples, a.seed, a.effdl)
    params = {}
    for x in acts:
        params[x] = params.get(pooled[x]) if x in pooled else u8_params(*ranges[x])
        if params[x] is None:
            params[x] = u8_params(*ranges[pooled[x]])

    new_inits = []
    nodes = []
    rename = {}  # activation -> its dequantized copy
    def qdq(x):
        s, z = params[x]
        sn, zn = x + "_scale", x + "_zp"
        new_inits.extend([numpy_helper.from_array(np.array(s, np.float32), sn), numpy_helper.from_array(np.array(z, np.uint8), zn)])
        nodes.append(helper.make_node("QuantizeLinear", [x, sn, zn], [x + "_q"], name=x + "_Q"))
        nodes.append(helper.make_node("DequantizeLinear", [x + "_q", sn, zn], [x + "_dq"], name=x + "_DQ"))
        rename[x] = x + "_dq"
    for x in g.input:
        if x.name in params:
            qdq(x.name)
    for n in g.node:
        for i, name in enumerate(n.input):
            if name in rename:
                n.input[i] = rename[name]
        if n.op_type in ("Conv", "Gemm"):
            w = inits[n.input[1]]
            trans_b = n.op_type == "Gemm" and any(at.name == "transB" and at.i for at in n.attribute)
            axis = 0 if n.op_type == "Conv" or trans_b else 1
            red = tuple(d for d in range(w.ndim) if d != axis)
            ws = (np.abs(w).max(axis=red) / 127.0).astype(np.float32)
            ws[ws == 0] = 1.0
            shape = [-1 if d == axis else 1 for d in range(w.ndim)]
            wq = np.clip(np.round(w / ws.reshape(shape)), -127, 127).astype(np.int8)
            wn = n.input[1]
            new_inits += [numpy_helper.from_array(wq, wn + "_q"), numpy_helper.from_array(ws, wn + "_scale"),
                          numpy_helper.from_array(np.zeros(ws.shape, np.int8), wn + "_zp")]
            nodes.append(helper.make_node("DequantizeLinear", [wn + "_q", wn + "_scale", wn + "_zp"], [wn + "_dq"],
                                          name=wn + "_DQ", axis=axis))
            n.input[1] = wn + "_dq"
            if len(n.input) > 2 and n.input[2]:
                xs = params[n.input[0][: -len("_dq")]][0]
                bs = (xs * ws).astype(np.float32)
                bq = np.round(inits[n.input[2]] / bs).astype(np.int32)
                bn = n.input[2]
                new_inits += [numpy_helper.from_array(bq, bn + "_q"), numpy_helper.from_array(bs, bn + "_scale"),
                              numpy_helper.from_array(np.zeros(bs.shape, np.int32), bn + "_zp")]
                nodes.append(helper.make_node("DequantizeLinear", [bn + "_q", bn + "_scale", bn + "_zp"], [bn + "_dq"],
                                              name=bn + "_DQ", axis=0))
                n.input[2] = bn + "_dq"
        nodes.append(n)
        for o in n.output:
            if o in params:
                qdq(o)
    for o in g.output:
        if o.name in rename:
            sys.exit(f"graph output {o.name} would be quantized")
    del g.node[:]
    g.node.extend(nodes)
    weights = {n.input[1][: -len("_dq")] for n in nodes if n.op_type in ("Conv", "Gemm")}
    biases = {n.input[2][: -len("_dq")] for n in nodes if n.op_type in ("Conv", "Gemm") and len(n.input) > 2}
    g.initializer.extend(numpy_helper.from_array(v, k) for k, v in inits.items()
                         if k in used and k not in weights and k not in biases)
    g.initializer.extend(new_inits)
    model = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(model)
    onnx.save(model, a.out)
    print(f"{a.out}: {sum(n.op_type == 'QuantizeLinear' for n in nodes)} activation Q/DQ pairs, "
          f"{len(weights)} int8 weights, ranges from {a.samples} samples", file=sys.stderr)


if __name__ == "__main__":
    main()
