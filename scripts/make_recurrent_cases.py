#!/usr/bin/python3
"""Writes tests/data/recurrent: RNN/GRU/LSTM (and Scan) test cases in the ONNX backend-test layout
(CASE/model.onnx, CASE/test_data_set_0/input_<i>.pb and output_<i>.pb) whose expected outputs come
from ONNX Runtime (scripts/ort/ort_run.js), covering what ONNX 1.12's own node cases do not:
reverse and bidirectional directions, sequence_lens, initial_c, peepholes with input_forget,
clip, every activation function with alpha/beta, GRU's linear_before_reset, opset 14's layout,
weights as initializers and unused or omitted outputs; Scan with reverse directions and
non-zero (and negative) input and output axes.

Run by hand (needs node and scripts/ort installed): /usr/bin/python3 scripts/make_recurrent_cases.py
The conformance ctest runs the committed cases through effdl's runtime (conformance.recurrent_ort).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "recurrent")
HARNESS = os.path.join(ROOT, "scripts", "ort", "ort_run.js")

GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


def case(name, op, *, seq=5, batch=3, inp=4, hidden=3, direction="forward", opset=17, layout=0, bias=True,
         lens=None, h0=False, c0=False, peep=False, attrs=None, weights_init=False, outputs=("Y", "Y_h", "Y_c"),
         graph_outputs=None):
    """One model with a single recurrent node; returns (model, feeds, twin): feeds in graph-input order,
    twin = (layout-0 model, its feeds) for layout 1, which ONNX Runtime 1.30 does not run, else None."""
    if layout:
        twin, twin_feeds, _ = case(name, op, seq=seq, batch=batch, inp=inp, hidden=hidden, direction=direction,
                                   opset=opset, layout=0, bias=bias, lens=lens, h0=h0, c0=c0, peep=peep, attrs=attrs,
                                   weights_init=weights_init, outputs=outputs, graph_outputs=graph_outputs)
        batch_first = {"X": (1, 0, 2), "initial_h": (1, 0, 2), "initial_c": (1, 0, 2)}
        feeds = [(n, t.transpose(batch_first[n]) if n in batch_first else t) for n, t in twin_feeds]
        model = onnx.ModelProto()
        model.CopyFrom(twin)
        for a in model.graph.node[0].attribute:
            if a.name == "layout":
                a.i = 1
        if not any(a.name == "layout" for a in model.graph.node[0].attribute):
            model.graph.node[0].attribute.append(helper.make_attribute("layout", 1))
        shapes = dict(feeds)
        for vi in model.graph.input:
            if vi.name in shapes:
                vi.type.tensor_type.ClearField("shape")
                vi.type.tensor_type.shape.dim.extend([])
                for d in shapes[vi.name].shape:
                    vi.type.tensor_type.shape.dim.add().dim_value = d
        for vi in model.graph.output:
            dims = [d.dim_value for d in vi.type.tensor_type.shape.dim]
            new = [dims[2], dims[0], dims[1], dims[3]] if vi.name == "Y" else [dims[1], dims[0], dims[2]]
            for d, v in zip(vi.type.tensor_type.shape.dim, new):
                d.dim_value = v
        onnx.checker.check_model(model)
        return model, feeds, (twin, twin_feeds)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    nd = 2 if direction == "bidirectional" else 1
    g = GATES[op]
    x_shape = [seq, batch, inp]
    state = [nd, batch, hidden]
    tensors = {
        "X": rng.uniform(-1, 1, x_shape).astype(np.float32),
        "W": rng.uniform(-0.8, 0.8, [nd, g * hidden, inp]).astype(np.float32),
        "R": rng.uniform(-0.8, 0.8, [nd, g * hidden, hidden]).astype(np.float32),
    }
    names = ["X", "W", "R"]
    if bias:
        tensors["B"] = rng.uniform(-0.5, 0.5, [nd, 2 * g * hidden]).astype(np.float32)
    if lens is not None:
        tensors["sequence_lens"] = np.array(lens, dtype=np.int32)
    if h0:
        tensors["initial_h"] = rng.uniform(-1, 1, state).astype(np.float32)
    if c0:
        tensors["initial_c"] = rng.uniform(-1, 1, state).astype(np.float32)
    if peep:
        tensors["P"] = rng.uniform(-0.5, 0.5, [nd, 3 * hidden]).astype(np.float32)
    order = ["X", "W", "R", "B", "sequence_lens", "initial_h"] + (["initial_c", "P"] if op == "LSTM" else [])
    node_inputs = [n if n in tensors else "" for n in order]
    while node_inputs and node_inputs[-1] == "":
        node_inputs.pop()
    n_out = 3 if op == "LSTM" else 2
    node_outputs = list(outputs[:n_out])
    a = {"hidden_size": hidden, "direction": direction}
    a.update(attrs or {})
    node = helper.make_node(op, node_inputs, node_outputs, name=name, **a)
    y_shape = [seq, nd, batch, hidden]
    shapes = {"Y": y_shape, "Y_h": state, "Y_c": state}
    gouts = graph_outputs or [o for o in node_outputs if o]
    initializers = []
    inputs = []
    feeds = []
    for n in [n for n in node_inputs if n]:
        t = tensors[n]
        if weights_init and n in ("W", "R", "B", "P"):
            initializers.append(numpy_helper.from_array(t, n))
            continue
        dt = TensorProto.INT32 if n == "sequence_lens" else TensorProto.FLOAT
        inputs.append(helper.make_tensor_value_info(n, dt, list(t.shape)))
        feeds.append((n, t))
    graph = helper.make_graph([node], name, inputs,
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, shapes[o]) for o in gouts],
                              initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="effdl-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, feeds, None


def cases():
    lens = [5, 2, 4]
    yield case("rnn_forward_bias_h0", "RNN", h0=True)
    yield case("rnn_reverse", "RNN", direction="reverse", h0=True)
    yield case("rnn_bidirectional_seqlens", "RNN", direction="bidirectional", lens=lens, h0=True)
    yield case("rnn_relu_clip", "RNN", attrs={"activations": ["Relu"], "clip": 0.7})
    yield case("rnn_layout1_bidirectional", "RNN", direction="bidirectional", opset=14, layout=1, h0=True, lens=lens)
    yield case("rnn_activations_alpha_beta", "RNN", direction="bidirectional",
               attrs={"activations": ["LeakyRelu", "HardSigmoid"], "activation_alpha": [0.2, 0.3],
                      "activation_beta": [0.6]})
    yield case("rnn_affine_scaledtanh", "RNN", direction="bidirectional",
               attrs={"activations": ["Affine", "ScaledTanh"], "activation_alpha": [0.5, 1.5],
                      "activation_beta": [0.1, 0.7]})
    yield case("rnn_thresholdedrelu_elu", "RNN", direction="bidirectional",
               attrs={"activations": ["ThresholdedRelu", "Elu"], "activation_alpha": [0.1, 0.8]})
    yield case("gru_forward_bias_h0", "GRU", h0=True)
    yield case("gru_linear_before_reset", "GRU", h0=True, attrs={"linear_before_reset": 1})
    yield case("gru_bidirectional_seqlens", "GRU", direction="bidirectional", lens=lens, h0=True)
    yield case("gru_bidirectional_seqlens_lbr", "GRU", direction="bidirectional", lens=lens, h0=True,
               attrs={"linear_before_reset": 1})
    yield case("gru_reverse_clip", "GRU", direction="reverse", attrs={"clip": 0.5})
    yield case("gru_layout1", "GRU", opset=14, layout=1, h0=True, lens=lens, direction="bidirectional")
    yield case("gru_softsign_softplus", "GRU", attrs={"activations": ["Softsign", "Softplus"]})
    yield case("gru_hardsigmoid_tanh", "GRU", attrs={"activations": ["HardSigmoid", "Tanh"],
                                                     "activation_alpha": [0.25], "activation_beta": [0.4]})
    yield case("gru_no_bias_initializers", "GRU", bias=False, weights_init=True, outputs=("Y", "Y_h"),
               graph_outputs=["Y_h"])
    yield case("lstm_forward_full", "LSTM", h0=True, c0=True, peep=True)
    yield case("lstm_reverse_peepholes", "LSTM", direction="reverse", h0=True, c0=True, peep=True)
    yield case("lstm_bidirectional_seqlens", "LSTM", direction="bidirectional", lens=lens, h0=True, c0=True, peep=True)
    yield case("lstm_input_forget", "LSTM", peep=True, c0=True, attrs={"input_forget": 1})
    yield case("lstm_clip", "LSTM", direction="bidirectional", attrs={"clip": 0.4})
    yield case("lstm_layout1_bidirectional", "LSTM", direction="bidirectional", opset=14, layout=1, h0=True, c0=True,
               lens=lens, peep=True)
    yield case("lstm_activations", "LSTM", attrs={"activations": ["HardSigmoid", "Elu", "Softplus"],
                                                  "activation_alpha": [0.3, 0.9], "activation_beta": [0.45]})
    yield case("lstm_initializers_only_c", "LSTM", weights_init=True, peep=True, graph_outputs=["Y_c"])
    yield case("lstm_omitted_y", "LSTM", outputs=("", "Y_h", "Y_c"), h0=True)


def scan_case(name, opset, in_axes, in_dirs, out_axes, out_dirs):
    """Scan with one state s[3] and len(in_axes) scan inputs of a [5, 3] (axis 0) or [3, 5] (axis 1)
    layout; body: s' = s + sum of the slices, scan outputs s' * slice_0 and s' - 1."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    m = len(in_axes)
    body_in = [helper.make_tensor_value_info("s", TensorProto.FLOAT, [3])]
    body_in += [helper.make_tensor_value_info(f"x{j}", TensorProto.FLOAT, [3]) for j in range(m)]
    nodes, acc = [], "s"
    for j in range(m):
        nodes.append(helper.make_node("Add", [acc, f"x{j}"], [f"acc{j}"]))
        acc = f"acc{j}"
    nodes += [helper.make_node("Identity", [acc], ["s_out"]), helper.make_node("Mul", [acc, "x0"], ["y0"]),
              helper.make_node("Sub", [acc, "one"], ["y1"])]
    body = helper.make_graph(nodes, "body", body_in,
                             [helper.make_tensor_value_info(n, TensorProto.FLOAT, [3]) for n in ("s_out", "y0", "y1")],
                             initializer=[numpy_helper.from_array(np.ones(3, np.float32), "one")])
    feeds = [("s0", rng.uniform(-1, 1, [3]).astype(np.float32))]
    for j, a in enumerate(in_axes):
        feeds.append((f"x{j}", rng.uniform(-1, 1, [5, 3] if a == 0 else [3, 5]).astype(np.float32)))
    out_shape = lambda a: [5, 3] if a == 0 else [3, 5]
    node = helper.make_node("Scan", [n for n, _ in feeds], ["s_final", "ys0", "ys1"], name=name, body=body,
                            num_scan_inputs=m, scan_input_axes=in_axes, scan_input_directions=in_dirs,
                            scan_output_axes=out_axes, scan_output_directions=out_dirs)
    graph = helper.make_graph([node], name, [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(t.shape))
                                             for n, t in feeds],
                              [helper.make_tensor_value_info("s_final", TensorProto.FLOAT, [3]),
                               helper.make_tensor_value_info("ys0", TensorProto.FLOAT, out_shape(out_axes[0])),
                               helper.make_tensor_value_info("ys1", TensorProto.FLOAT, out_shape(out_axes[1]))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="effdl-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, feeds, None


def scan8_case(name):
    """Scan-8: batch 3, sequence 4, state [batch, 2], one scan input [batch, 4, 2] in reverse,
    sequence_lens [4, 1, 3]; body: s' = s + x, y = s' * x."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    body = helper.make_graph(
        [helper.make_node("Add", ["s", "x"], ["s_out"]), helper.make_node("Mul", ["s_out", "x"], ["y"])], "body",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2]) for n in ("s", "x")],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2]) for n in ("s_out", "y")])
    feeds = [("lens", np.array([4, 1, 3], np.int64)), ("s0", rng.uniform(-1, 1, [3, 2]).astype(np.float32)),
             ("xs", rng.uniform(-1, 1, [3, 4, 2]).astype(np.float32))]
    node = helper.make_node("Scan", ["lens", "s0", "xs"], ["s_final", "ys"], name=name, body=body, num_scan_inputs=1,
                            directions=[1])
    graph = helper.make_graph([node], name, [helper.make_tensor_value_info("lens", TensorProto.INT64, [3]),
                                             helper.make_tensor_value_info("s0", TensorProto.FLOAT, [3, 2]),
                                             helper.make_tensor_value_info("xs", TensorProto.FLOAT, [3, 4, 2])],
                              [helper.make_tensor_value_info("s_final", TensorProto.FLOAT, [3, 2]),
                               helper.make_tensor_value_info("ys", TensorProto.FLOAT, [3, 4, 2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 8)], producer_name="effdl-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, feeds, None


def scan_cases():
    yield scan8_case("scan8_reverse_seqlens")
    yield scan_case("scan_reverse_axis1", 9, [1], [1], [1, 0], [1, 0])
    yield scan_case("scan_two_inputs_mixed", 16, [0, -1], [0, 1], [-1, 0], [0, 1])


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    count = 0
    for model, feeds, twin in list(cases()) + list(scan_cases()):
        name = model.graph.name
        d = os.path.join(OUT, name)
        data = os.path.join(d, "test_data_set_0")
        os.makedirs(data)
        onnx.save(model, os.path.join(d, "model.onnx"))
        for i, (n, t) in enumerate(feeds):
            with open(os.path.join(data, f"input_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(t, n).SerializeToString())
        ref_model, ref_feeds = twin if twin else (model, feeds)
        with tempfile.TemporaryDirectory() as tmp:
            ref_in = os.path.join(tmp, "in")
            ref_out = os.path.join(tmp, "out")
            os.makedirs(ref_in)
            os.makedirs(ref_out)
            onnx.save(ref_model, os.path.join(tmp, "ref.onnx"))
            for i, (n, t) in enumerate(ref_feeds):
                with open(os.path.join(ref_in, f"input_{i}.pb"), "wb") as f:
                    f.write(numpy_helper.from_array(t, n).SerializeToString())
            r = subprocess.run(["node", HARNESS, "run", os.path.join(tmp, "ref.onnx"), "--input-dir", ref_in,
                                "--output-dir", ref_out], capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"{name}: ONNX Runtime failed: {r.stdout}{r.stderr}")
            for f in sorted(os.listdir(ref_out)):
                if not (f.startswith("output_") and f.endswith(".pb")):
                    continue
                t = onnx.TensorProto()
                with open(os.path.join(ref_out, f), "rb") as fh:
                    t.ParseFromString(fh.read())
                a = numpy_helper.to_array(t)
                if twin:  # back to batch-first
                    a = a.transpose(2, 0, 1, 3) if a.ndim == 4 else a.transpose(1, 0, 2)
                with open(os.path.join(data, f), "wb") as fh:
                    fh.write(numpy_helper.from_array(np.ascontiguousarray(a), t.name).SerializeToString())
        count += 1
    print(f"wrote {count} cases to {os.path.relpath(OUT, ROOT)} (expected outputs from ONNX Runtime)")


if __name__ == "__main__":
    main()
