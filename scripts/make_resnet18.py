#!/usr/bin/python3
"""Writes torchvision's ResNet-18 (random weights, fixed seed) as ONNX: the analysis must-show model.

Usage: scripts/make_resnet18.py [OUT]   (default /tmp/effdl-zoo/resnet18.onnx)

Uses Debian's python3-torch / python3-torchvision; no weights are downloaded (weights=None), so the
values are seeded random ones. Parameter counts and MACs depend only on the architecture:
11,689,512 PyTorch parameters, 1.81 GMACs at 1x3x224x224.

Exported like models/ (see models/README.md): training=PRESERVE on a model in eval mode and no
constant folding, so the exporter does not fuse Conv+BatchNormalization and the graph stays
un-optimised for effdl to optimise. The ONNX file therefore also holds each BN's running mean and
variance: 9,600 values that PyTorch counts as buffers, not parameters.

A fresh BatchNorm has weight 1, bias 0, mean 0, var 1; the exporter would deduplicate those equal
tensors into one initializer plus Identity nodes. Seeded random BN values keep one initializer
per tensor, as in a trained model.
"""
import os
import sys

import torch
import torchvision


def main() -> int:
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/effdl-zoo/resnet18.onnx"
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
                m.running_mean.normal_(0.0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    model.eval()
    dummy = torch.randn(1, 3, 224, 224)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model,
            dummy,
            out,
            opset_version=17,
            input_names=["input"],
            output_names=["logits"],
            training=torch.onnx.TrainingMode.PRESERVE,
            do_constant_folding=False,
        )
    n_params = sum(p.numel() for p in model.parameters())
    print(f"wrote {out} (resnet18, {n_params} parameters, opset 17, input 1x3x224x224)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
