"""torchsummary 1.5.1's table (``torchsummary.summary(model, (3, 224, 224))``), from a report.

One line per layer call, ``Conv2d-1`` style (kind and call number), the
output shape with ``-1`` for the batch and the parameters; then its footer.
Where symcost differs because torchsummary is wrong:

* torchsummary hooks every module but ``Sequential`` and ``ModuleList``, so a
  block (ResNet's ``BasicBlock``) is a line of its own, and its output,
  the same tensor as its last layer's, is counted again. symcost lists layers.
* "Forward/backward pass size (MB)" is twice (gradients) the bytes of the
  outputs: torchsummary adds every hooked output, symcost each new tensor
  once. An in-place op (torchvision's ReLU) and a view (Flatten) allocate
  nothing; Dropout does in a forward/backward pass (training mode).
* "Total params" counts each tensor once (torchsummary counts a module's
  tensors at every call, and misses tensors no hooked module owns). symcost
  has no frozen parameters: all are trainable.
"""

from __future__ import annotations

from . import MB, Call, PeerView, fixed

RULE = "-" * 64
DOUBLE = "=" * 64
#: Kinds that return their input in eval but write a new tensor in training (this view's pass).
TRAINING_COPIES = frozenset({"Dropout"})


def _line(first: str, second: str, third: str) -> str:
    return "{:>20}  {:>25} {:>15}".format(first, second, third)


def view(report: object, calls: list[Call], size: int) -> PeerView:
    rows = tuple({"layer": f"{call.kind}-{i}", "output shape": (-1, *(int(n) for n in call.cost.out_shape)),
                  "params": call.params,
                  "stored": int(call.cost.activations) if call.allocates or call.kind in TRAINING_COPIES else 0}
                 for i, call in enumerate(calls, start=1))
    params = int(report.total.params)
    stored = sum(row["stored"] for row in rows)
    input_mb = report.input_shape.numel * size / MB
    pass_mb = 2 * stored * size / MB
    params_mb = params * size / MB
    totals = {"Total params": params, "Trainable params": params, "Non-trainable params": 0,
              "Input size (MB)": input_mb, "Forward/backward pass size (MB)": pass_mb,
              "Params size (MB)": params_mb, "Estimated Total Size (MB)": input_mb + pass_mb + params_mb,
              "stored elements": stored}
    text = "\n".join([
        RULE, _line("Layer (type)", "Output Shape", "Param #"), DOUBLE,
        *(_line(row["layer"], str(list(row["output shape"])), f"{row['params']:,}") for row in rows),
        DOUBLE,
        f"Total params: {params:,}",
        f"Trainable params: {params:,}",
        "Non-trainable params: 0",
        RULE,
        *(f"{key}: {fixed(totals[key])}" for key in ("Input size (MB)", "Forward/backward pass size (MB)",
                                                     "Params size (MB)", "Estimated Total Size (MB)")),
        RULE,
    ])
    return PeerView("torchsummary", text, rows, totals)
