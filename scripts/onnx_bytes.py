#!/usr/bin/python3
"""Accounts for every byte of an ONNX file by what it holds: weight data (dense, sparse-storage's
kept values and bit masks), quantization parameters, the model's own nodes, sparse-storage's decode
(shared tables "st*", per-tensor "s<k>*"), names and headers, metadata, doc strings.
Usage: /usr/bin/python3 scripts/onnx_bytes.py MODEL.onnx"""
import sys

import onnx


def framed(n):  # a field of n bytes in its parent: one tag byte, a varint length, the bytes
    return n + 1 + max(1, (n.bit_length() + 6) // 7)


def is_table(name):
    return name.startswith("st") and name[2:].isdigit()


def is_decode(name):  # sparse-storage's per-tensor values: s<k><letter>
    return len(name) > 2 and name[0] == "s" and name[1:-1].isdigit() and name[-1].isalpha()


m = onnx.load(sys.argv[1])
g = m.graph
total = len(m.SerializeToString())
cat = {}


def add(k, v):
    cat[k] = cat.get(k, 0) + v


for t in g.initializer:
    size, raw, n = framed(t.ByteSize()), len(t.raw_data), t.name
    if is_table(n):
        add("decode tables: constants", size)
        continue
    if is_decode(n):
        add("decode per-tensor: constants", size)
        continue
    if n.endswith("_nz"):
        add("weights: kept values (bitmask storage)", raw)
    elif n.endswith("_mask"):
        add("weights: bit masks", raw)
    elif "zp" in n or "zero_point" in n:
        add("quant: zero points", raw)
    elif "scale" in n and "bias" in n:
        add("quant: bias scales", raw)
    elif "scale" in n:
        add("quant: weight/activation scales", raw)
    elif "bias" in n:
        add("biases", raw)
    else:
        add("weights: dense", raw)
    add("initializer names + headers", size - raw)
for t in g.sparse_initializer:
    add("weights: coo sparse initializers", framed(t.ByteSize()))
for nd in g.node:
    o = nd.output[0] if nd.output else ""
    kind = "decode tables: nodes" if is_table(o) else "decode per-tensor: nodes" if is_decode(o) else "model nodes"
    add(kind, framed(nd.ByteSize()))
add("graph inputs/outputs/value_info", sum(framed(v.ByteSize()) for v in list(g.input) + list(g.output) + list(g.value_info)))
for p in m.metadata_props:
    add("metadata " + p.key, framed(p.ByteSize()))
add("model doc string", framed(len(m.doc_string)) if m.doc_string else 0)
add("other (producer, opset, graph name, framing)", total - sum(cat.values()))
for k, v in sorted(cat.items(), key=lambda kv: -kv[1]):
    print("%-46s %7d  %5.1f%%" % (k, v, 100.0 * v / total))
print("%-46s %7d" % ("total", total))
