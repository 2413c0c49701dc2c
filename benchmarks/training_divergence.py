"""Training-step FLOPs of torchvision's MobileNetV2: torch's FlopCounterMode against symcost (flops2).

FlopCounterMode's conv_backward_flop counts a grouped convolution's weight gradient as
conv(x^T, dy^T) with the groups dropped, G times what executes: for depthwise convolutions
(G = C) its step count is ~20x the forward. Run from the repository root:

    PYTHONPATH=$PWD python benchmarks/training_divergence.py
"""

from __future__ import annotations

import sys

sys.path.insert(0, "tests")

import torchvision_shim  # noqa: E402

torchvision_shim.install()

import torch  # noqa: E402
import torchvision  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import symcost as sc  # noqa: E402


def main() -> None:
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v2().train()
    with FlopCounterMode(display=False) as mode:
        model(torch.randn(1, 3, 224, 224)).sum().backward()
    counted = mode.get_total_flops()
    rep = sc.zoo.mobilenet_v2().analyze()
    forward = int(rep.total.flops("flops2"))
    step = int(rep.training().flops("flops2"))
    grouped = int(sum((row.cost.layer.groups - 1) * 2 * row.cost.macs * row.runs
                  for row in rep.rows if row.kind == "Conv2d" and row.cost.layer.groups != 1))
    print(f"forward (flops2)            {forward:>16,}")
    print(f"FlopCounterMode step        {counted:>16,}  ({counted / forward:.1f}x forward)")
    print(f"symcost step                {step:>16,}  ({step / forward:.2f}x forward)")
    print(f"depthwise overcount (G - 1) {grouped:>16,}  step + overcount == FlopCounterMode: {step + grouped == counted}")


if __name__ == "__main__":
    main()
