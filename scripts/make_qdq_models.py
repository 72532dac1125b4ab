#!/usr/bin/python3
"""Small QDQ models for the effdl vs ONNX Runtime int8 check (tests/interop/qdq_ort.sh).

    scripts/make_qdq_models.py OUTDIR

Writes, per model, OUTDIR/NAME.onnx, an input OUTDIR/NAME.in/x.npy (seeded normal values) and
OUTDIR/NAME.tol: the largest difference allowed between the two runtimes' outputs, "abs S" with
S one quantization step of the output (its DequantizeLinear scale) for quantized outputs, or
"rel 1e-4" (of the largest output magnitude) for float ones. The patterns are those effdl's runtime fuses (runtime/qdq_fusion.h)
and ONNX Runtime's static quantizer emits: u8 activations (asymmetric, or Relu folded into the
range), s8 per-channel symmetric weights, int32 bias with scale x_scale * w_scale, float bias
with Relu between QDQ pairs, MatMul, Gemm with a float output, Add and MaxPool between QDQ
pairs, and depthwise convs (with and without an input zero point).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(0)


class Builder:
    def __init__(self):
        self.nodes, self.inits = [], []

    def const(self, name, value):
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def qdq(self, x, scale, zp):
        s = self.const(x + "_s", np.float32(scale))
        z = self.const(x + "_z", np.uint8(zp))
        self.nodes.append(helper.make_node("QuantizeLinear", [x, s, z], [x + "_q"]))
        self.nodes.append(helper.make_node("DequantizeLinear", [x + "_q", s, z], [x + "_dq"]))
        return x + "_dq"

    def weight(self, name, w, axis):
        red = tuple(d for d in range(w.ndim) if d != axis)
        ws = (np.abs(w).max(axis=red) / 127).astype(np.float32)
        shape = [-1 if d == axis else 1 for d in range(w.ndim)]
        wq = np.clip(np.round(w / ws.reshape(shape)), -127, 127).astype(np.int8)
        self.const(name + "_q", wq)
        self.const(name + "_s", ws)
        self.const(name + "_z", np.zeros(ws.shape, np.int8))
        self.nodes.append(helper.make_node("DequantizeLinear", [name + "_q", name + "_s", name + "_z"], [name], axis=axis))
        return name, ws

    def int32_bias(self, name, b, scale):
        self.const(name + "_q", np.round(b / scale).astype(np.int32))
        self.const(name + "_s", scale.astype(np.float32))
        self.const(name + "_z", np.zeros(scale.shape, np.int32))
        self.nodes.append(helper.make_node("DequantizeLinear", [name + "_q", name + "_s", name + "_z"], [name], axis=0))
        return name

    def op(self, op_type, inputs, output, **attrs):
        self.nodes.append(helper.make_node(op_type, inputs, [output], **attrs))
        return output

    def save(self, out, name, x_shape, y, y_shape, tol):
        g = helper.make_graph(self.nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                              [helper.make_tensor_value_info(y, TensorProto.FLOAT, y_shape)], self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 8
        onnx.checker.check_model(m)
        onnx.save(m, os.path.join(out, name + ".onnx"))
        os.makedirs(os.path.join(out, name + ".in"), exist_ok=True)
        np.save(os.path.join(out, name + ".in", "x.npy"), rng.standard_normal(x_shape).astype(np.float32))
        with open(os.path.join(out, name + ".tol"), "w") as f:
            f.write(tol + "\n")


def conv_int32_bias(out):
    b = Builder()
    x = b.qdq("x", 8 / 255, 128)
    w, ws = b.weight("w", rng.standard_normal((16, 8, 3, 3)).astype(np.float32) * 0.2, 0)
    bias = b.int32_bias("b", rng.standard_normal(16).astype(np.float32) * 0.3, (8 / 255) * ws)
    c = b.op("Conv", [x, w, bias], "c", pads=[1, 1, 1, 1])
    y = b.qdq(c, 6 / 255, 0)  # Relu folded into the range [0, 6]
    b.save(out, "qdq_conv_int32_bias", [1, 8, 12, 12], y, [1, 16, 12, 12], f"abs {6 / 255!r}")


def conv_float_bias_relu(out):
    b = Builder()
    x = b.qdq("x", 8 / 255, 128)
    w, _ = b.weight("w", rng.standard_normal((12, 8, 3, 3)).astype(np.float32) * 0.2, 0)
    bias = b.const("b", rng.standard_normal(12).astype(np.float32))
    c = b.op("Conv", [x, w, bias], "c", strides=[2, 2], pads=[1, 1, 1, 1])
    r = b.op("Relu", [c], "r")
    y = b.qdq(r, 5 / 255, 10)
    b.save(out, "qdq_conv_float_bias_relu", [1, 8, 11, 11], y, [1, 12, 6, 6], f"abs {5 / 255!r}")


def depthwise(out, zp):
    b = Builder()
    x = b.qdq("x", 8 / 255, zp)
    w, ws = b.weight("w", rng.standard_normal((16, 1, 3, 3)).astype(np.float32), 0)
    bias = b.int32_bias("b", rng.standard_normal(16).astype(np.float32) * 0.3, (8 / 255) * ws)
    c = b.op("Conv", [x, w, bias], "c", pads=[1, 1, 1, 1], group=16)
    y = b.qdq(c, 12 / 255, 128)
    b.save(out, f"qdq_depthwise_zp{zp}", [1, 16, 10, 10], y, [1, 16, 10, 10], f"abs {12 / 255!r}")


def matmul(out):
    b = Builder()
    x = b.qdq("x", 8 / 255, 128)
    w, _ = b.weight("w", rng.standard_normal((64, 32)).astype(np.float32) * 0.2, 1)
    m = b.op("MatMul", [x, w], "m")
    y = b.qdq(m, 10 / 255, 128)
    b.save(out, "qdq_matmul", [2, 5, 64], y, [2, 5, 32], f"abs {10 / 255!r}")


def gemm_float_out(out):
    b = Builder()
    x = b.qdq("x", 8 / 255, 128)
    w, ws = b.weight("w", rng.standard_normal((10, 64)).astype(np.float32) * 0.2, 0)
    bias = b.int32_bias("b", rng.standard_normal(10).astype(np.float32), (8 / 255) * ws)
    y = b.op("Gemm", [x, w, bias], "y", transB=1)
    b.save(out, "qdq_gemm_float_out", [3, 64], y, [3, 10], "rel 1e-4")


def add_maxpool(out):
    b = Builder()
    x = b.qdq("x", 8 / 255, 128)
    w, ws = b.weight("w", rng.standard_normal((4, 4, 3, 3)).astype(np.float32) * 0.3, 0)
    bias = b.int32_bias("b", np.zeros(4, np.float32), (8 / 255) * ws)
    c = b.qdq(b.op("Conv", [x, w, bias], "c", pads=[1, 1, 1, 1]), 8 / 255, 128)
    s = b.op("Add", [c, x], "s")
    sq = b.qdq(s, 6 / 255, 0)  # Relu folded
    p = b.op("MaxPool", [sq], "p", kernel_shape=[2, 2], strides=[2, 2])
    y = b.qdq(p, 6 / 255, 0)
    b.save(out, "qdq_add_maxpool", [1, 4, 8, 8], y, [1, 4, 4, 4], f"abs {6 / 255!r}")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[1].strip())
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for make in (conv_int32_bias, conv_float_bias_relu, matmul, gemm_float_out, add_maxpool):
        make(out)
    depthwise(out, 0)
    depthwise(out, 100)


if __name__ == "__main__":
    main()
