"""Each peer tool run through its public API on a batch of one: (total, {module name: count}).

Per-layer dicts are keyed by the module's qualified name (``layer1.0.conv1``);
a module called several times (torchvision's shared ``relu``) sums its calls.
"""

import contextlib
import io
import logging
import warnings
from collections import defaultdict

import torch


@contextlib.contextmanager
def quiet():
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


def ptflops_total(model, shape, **config):
    """get_model_complexity_info with the pytorch backend and default options (its reported total)."""
    from ptflops import get_model_complexity_info

    with quiet():
        total, _ = get_model_complexity_info(model, tuple(shape), as_strings=False, print_per_layer_stat=False,
                                             backend="pytorch", backend_specific_config=config)
    return int(total)


def ptflops_layers(model, shape):
    """ptflops' module hooks, leaf by leaf: what its per-layer printout shows."""
    from ptflops.pytorch_engine import add_flops_counting_methods

    counted = add_flops_counting_methods(model)
    counted.eval()
    with quiet(), torch.no_grad():
        counted.start_flops_count(ost=io.StringIO(), verbose=False, ignore_list=[])
        counted(torch.zeros(1, *shape))
        per = {name: int(module.__flops__) for name, module in model.named_modules()
               if not list(module.children()) and hasattr(module, "__flops__")}
        counted.stop_flops_count()
    return sum(per.values()), per


def ptflops_aten_total(model, shape):
    from ptflops import get_model_complexity_info

    with quiet():
        total, _ = get_model_complexity_info(model, tuple(shape), as_strings=False, print_per_layer_stat=False,
                                             backend="aten")
    return int(total)


def fvcore(model, shape):
    from fvcore.nn import FlopCountAnalysis

    model.eval()
    with quiet():
        analysis = FlopCountAnalysis(model, torch.zeros(1, *shape))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        total = analysis.total()
        by_module = analysis.by_module()
    leaves = {name for name, module in model.named_modules() if not list(module.children())}
    return int(total), {name: int(v) for name, v in by_module.items() if name in leaves}


def thop(model, shape):
    from thop import profile

    model.eval()
    with quiet():
        total, _, info = profile(model, inputs=(torch.zeros(1, *shape),), verbose=False, ret_layer_info=True)
    per = {}

    def walk(layers, prefix):
        for name, (ops, _, children) in layers.items():
            if children:
                walk(children, f"{prefix}{name}.")
            else:
                per[f"{prefix}{name}"] = int(ops)

    walk(info, "")
    return int(total), per


def torchinfo(model, shape):
    from torchinfo import summary

    model.eval()
    with quiet():
        stats = summary(model, input_size=(1, *shape), verbose=0, device="cpu")
    names = {id(module): name for name, module in model.named_modules()}
    per = defaultdict(int)
    for layer in stats.summary_list:
        if layer.is_leaf_layer:
            per[names.get(layer.layer_id, layer.var_name)] += int(layer.macs)
    return int(stats.total_mult_adds), dict(per)
