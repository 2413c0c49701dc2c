"""FLOPs of a training step (forward + backward [+ recomputed forward]), checked against torch's
FlopCounterMode over ``loss.backward()`` on real models, the Megatron-LM identity and hand counts."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sympy

import symcost as sc
from symcost.core.cost import Cost
from symcost.layers import registry
from symcost.layers.backward import RULES, NoBackwardRuleError, backward
from symcost.symbols import B, symbol

l, d, a, V, T = (symbol(n) for n in ("n_layer", "d_model", "n_head", "n_vocab", "n_ctx"))


# -- the table of backward rules ---------------------------------------------------------------------
def test_every_layer_kind_has_a_backward_rule():
    assert set(registry.kinds()) - set(RULES) == set()


def test_a_kind_without_a_rule_is_an_error_naming_it():
    with pytest.raises(NoBackwardRuleError, match="'Mystery' has no backward rule"):
        backward(Cost("Mystery", (sc.Shape(4),), sc.Shape(4)))


def test_a_report_row_without_a_rule_is_named(monkeypatch):
    import symcost.layers.backward as rules

    monkeypatch.delitem(rules.RULES, "ReLU")
    rep = sc.Sequential(sc.Linear(3), sc.ReLU(name="act")).analyze(sc.Shape(2))
    with pytest.raises(NoBackwardRuleError, match=r'^layer 1 "act" \(ReLU\): layer kind \'ReLU\' has no backward'):
        rep.training()


def test_linear_backward_by_hand():
    """y = x W^T + b on 4 -> 8: dx = dy W (32 MACs), dW = dy^T x (32 MACs), db = dy (8 adds)."""
    back = backward(sc.Linear(8).cost(sc.Shape(4)), (True,))
    assert (back.grad_input.macs, back.grad_input.mul, back.grad_input.add) == (32, 32, 32)
    assert (back.grad_weight.macs, back.grad_weight.add, back.grad_weight.bias) == (32, 40, 8)
    assert backward(sc.Linear(8).cost(sc.Shape(4)), (False,)).grad_input.executed == 0


def test_depthwise_conv_grad_weight_counts_one_input_channel_per_filter():
    """Depthwise 3x3 on (C, 8, 8), padding 1: each of the C filters sees one channel: C*9*64 MACs each way."""
    c = symbol("C")
    back = backward(sc.Conv2d(c, 3, padding=1, groups=c, bias=False).cost(sc.Shape(c, 8, 8)), (True,))
    assert back.grad_weight.macs == c * 9 * 64 and back.grad_input.macs == c * 9 * 64


def test_fused_attention_backward_is_five_products():
    """Scores recomputed (E per score), dP and dV (Ev each), dQ and dK (E each); full square labelled."""
    h, t, e = symbol("h"), symbol("t"), symbol("e")
    cost = sc.ScaledDotProductAttention(is_causal=True).cost(*[sc.Shape(h, t, e)] * 3)
    back = backward(cost)
    assert sympy.expand(back.grad_input.macs - 5 * h * t * t * e) == 0
    assert back.grad_weight.executed == 0


def test_pointwise_rules_by_hand():
    n = 2 * 3 * 5
    shape = sc.Shape(2, 3, 5)
    assert backward(sc.ReLU().cost(shape)).grad_input == sc.OpCounts(cmp=n)         # dy where x > 0
    assert backward(sc.Tanh().cost(shape)).grad_input == sc.OpCounts(mul=2 * n, add=n)  # dy*(1 - y*y)
    softmax = backward(sc.Softmax(dim=-1).cost(shape)).grad_input  # y*(dy - sum(dy*y)), 6 rows of 5
    assert (softmax.mul, softmax.add) == (2 * n, 2 * n - 6)


def test_lstm_skips_the_first_input_projection_when_the_input_needs_no_gradient():
    """W_ih x of the first layer: 4 gates x 8 units x 4 inputs x 5 steps = 640 MACs not run backward."""
    cost = sc.LSTM(4, 8, num_layers=2).cost(sc.Shape(5, 4))
    assert backward(cost, (True,)).grad_input.macs - backward(cost, (False,)).grad_input.macs == 640
    assert backward(cost, (False,)).grad_weight.macs == cost.macs


def test_where_sums_a_broadcast_gradient_and_skips_the_condition():
    cost = sc.Where().cost(sc.Shape(4, 5), sc.Shape(4, 5), sc.Shape(5))
    assert backward(cost, (False, True, True)).grad_input == sc.OpCounts(add=20 - 5)
    assert backward(cost, (True, False, False)).grad_input.executed == 0


# -- which inputs need a gradient ----------------------------------------------------------------------
def test_layers_before_the_first_parameter_compute_no_grad_input():
    rep = sc.Sequential(sc.ReLU(), sc.Conv2d(4, 3), sc.ReLU()).analyze(sc.Shape(3, 8, 8))
    tr = rep.training()
    assert [row.grad_input.executed for row in tr.rows] == [0, 0, 4 * 6 * 6]


def test_requires_grad_flows_through_containers():
    """conv(x) + x: the sum's shortcut input is the network's input, which needs no gradient."""
    rep = sc.Sequential(sc.Residual(sc.Conv2d(3, 3, padding=1)), sc.Concat(sc.ReLU(), sc.Identity())) \
        .analyze(sc.Shape(3, 4, 4))
    assert [g.needs for g in rep.requires_grad] == [(False,), (True, False), (True,), (True,), (True, True)]


def test_token_ids_and_the_network_input_take_no_gradient():
    tr = sc.zoo.gpt2(n_layer=1, d_model=8, n_head=2, n_vocab=11, n_ctx=5).analyze().training()
    rows = {row.name: row for row in tr.rows}
    assert rows["transformer.wte"].grad_input.executed == 0
    assert rows["transformer.wte"].grad_weight.add == 5 * 8  # one row of the table per id
    resnet = sc.zoo.resnet18().analyze().training()
    assert resnet.rows[0].name == "conv1" and resnet.rows[0].grad_input.macs == 0
    assert resnet.rows[4].grad_input.macs == resnet.rows[4].forward.macs  # layer1.0.conv1


def test_rule_conventions_are_refused():
    tr = sc.Sequential(sc.Linear(2)).analyze(sc.Shape(3)).training()
    with pytest.raises(sc.InvalidArgumentError, match="per-kind rules"):
        tr.flops("ptflops")


# -- the Megatron-LM identity ----------------------------------------------------------------------------
MEGATRON = 96 * B * T * l * d**2 * (1 + T / (6 * d) + V / (16 * l * d))


def _explicit_attention(model: sc.Model) -> sc.Model:
    """zoo.gpt2 with attention as softmax(q k^T) v: two MatMul rows instead of the fused kernel."""
    nodes = list(model.body.nodes)
    i = next(i for i, n in enumerate(nodes) if n.name == "transformer.h")
    block = nodes[i].op.block
    explicit = []
    for node in block.nodes:
        if node.name != "attn.sdpa":
            explicit.append(node)
            continue
        explicit += [sc.Node("attn.k_t", sc.Transpose(2, 3), ["attn.k_heads"]),
                     sc.Node("attn.scores", sc.MatMul(), ["attn.q_heads", "attn.k_t"]),
                     sc.Node("attn.probs", sc.Softmax(dim=-1), ["attn.scores"]),
                     sc.Node("attn.sdpa", sc.MatMul(), ["attn.probs", "attn.v_heads"])]
    nodes[i] = replace(nodes[i], op=replace(nodes[i].op, block=sc.Graph(explicit, output=block.output)))
    return replace(model, body=sc.Graph(nodes, output=model.body.output))


def test_megatron_identity_with_full_recomputation():
    """Narayanan et al. 2021: 96 B T l d^2 (1 + T/6d + V/16ld) FLOPs of matrix products per step, attention's
    backward as 4 products (explicit attention)."""
    gpt = _explicit_attention(sc.zoo.gpt2(n_layer=l, d_model=d, n_head=a, n_vocab=V, n_ctx=T))
    step = gpt.analyze(batch=B).training(recompute="full").flops("flops2")
    assert sympy.expand(step - MEGATRON) == 0


def test_selective_recomputation_of_explicit_attention_reruns_its_core():
    """Korthikanti et al.: Q K^T, softmax and A V run again; flops2 counts the two products, exact the softmax."""
    gpt = _explicit_attention(sc.zoo.gpt2(n_layer=l, d_model=d, n_head=a, n_vocab=V, n_ctx=T)).analyze(batch=B)
    extra = gpt.training(recompute="selective").part("recompute")
    assert sympy.expand(sc.count_flops(extra, "flops2") - 4 * B * T**2 * d * l) == 0
    softmax = gpt.row("transformer.h.i.attn.probs")
    assert sympy.expand(extra.special - B * l * softmax.cost.ops.special) == 0  # its exps, once per layer


def test_fused_attention_recomputes_the_scores_once_more():
    """zoo.gpt2's fused kernel: 5 products in backward, one Q K^T (2*B*T^2*d FLOPs) per layer over Megatron."""
    rep = sc.zoo.gpt2(n_layer=l, d_model=d, n_head=a, n_vocab=V, n_ctx=T).analyze(batch=B)
    full = rep.training(recompute="full").flops("flops2")
    assert sympy.expand(full - MEGATRON - 2 * B * T**2 * d * l) == 0
    selective = rep.training(recompute="selective").flops("flops2")
    none = rep.training().flops("flops2")
    assert sympy.expand(selective - none - 4 * B * T**2 * d * l) == 0  # Q K^T and A V again, per layer


# -- against torch's FlopCounterMode over a real backward -------------------------------------------------
torch = pytest.importorskip("torch")


def _step_flops(model, x) -> int:
    from flop_counting import cpu_flash_counted
    from torch.utils.flop_counter import FlopCounterMode

    with cpu_flash_counted(), FlopCounterMode(display=False) as mode:
        out = model(x)
        (out.logits if hasattr(out, "logits") else out).sum().backward()
    return mode.get_total_flops()


@pytest.fixture(scope="module")
def torchvision():
    return pytest.importorskip("torchvision")


def test_resnet18_step_equals_flopcountermode_and_is_not_three_forwards(torchvision):
    torch.manual_seed(0)
    model = torchvision.models.resnet18().train()
    counted = _step_flops(model, torch.randn(2, 3, 32, 32))
    rep = sc.zoo.resnet18().analyze(sc.Shape(3, 32, 32), batch=2)
    step = rep.training().flops("flops2")
    assert step == counted
    conv1 = 2 * 7 * 7 * 3 * 64 * 16 * 16  # conv1's forward FLOPs per sample: its grad-input is never computed
    assert 3 * rep.total.flops("flops2") - step == 2 * conv1


def test_flopcountermode_overcounts_depthwise_grad_weight_by_groups():
    """torch's conv_backward_flop counts grad-weight as conv(x^T, dy^T) with the groups dropped: G times the
    depthwise filter gradient (MobileNetV2's step counts ~20x its forward: benchmarks/training_divergence.py).
    With that factor put back, the counts agree; symcost counts what executes."""
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU6(),
                          nn.Conv2d(16, 16, 3, stride=2, padding=1, groups=16, bias=False), nn.ReLU6(),
                          nn.Conv2d(16, 24, 1, bias=False)).train()
    counted = _step_flops(model, torch.randn(2, 3, 16, 16))
    net = sc.Sequential(sc.Conv2d(16, 3, padding=1), sc.BatchNorm2d(16), sc.ReLU6(),
                        sc.Conv2d(16, 3, stride=2, padding=1, groups=16, bias=False), sc.ReLU6(),
                        sc.Conv2d(24, 1, bias=False))
    tr = net.analyze(sc.Shape(3, 16, 16), batch=2).training()
    depthwise_grad_weight = 2 * (16 * 9 * 8 * 8) * 2  # flops2: C filters x 3x3 taps x 8x8 outputs, batch 2
    assert tr.rows[3].grad_weight.macs * 2 == depthwise_grad_weight
    assert counted == tr.flops("flops2") + (16 - 1) * depthwise_grad_weight


@pytest.fixture(scope="module")
def hf():
    import torchvision_shim

    torchvision_shim.install()
    return pytest.importorskip("transformers")


def _gpt2(hf, dropout: float):
    torch.manual_seed(0)
    config = hf.GPT2Config(n_layer=2, n_embd=32, n_head=4, vocab_size=101, n_positions=16, bos_token_id=0,
                           eos_token_id=0, attn_implementation="sdpa", resid_pdrop=dropout, embd_pdrop=dropout,
                           attn_pdrop=dropout)
    return hf.GPT2LMHeadModel(config).train()


IDS = (3, 11)  # batch, tokens


def test_gpt2_step_equals_flopcountermode(hf):
    """Dropout off: torch runs the fused CPU flash kernel forward and backward."""
    ids = torch.randint(0, 101, IDS, generator=torch.Generator().manual_seed(1))
    rep = sc.zoo.gpt2(n_layer=2, d_model=32, n_head=4, n_vocab=101, n_ctx=IDS[1]).analyze(batch=IDS[0])
    assert rep.training().flops("flops2") == _step_flops(_gpt2(hf, 0.0), ids)


def test_gpt2_with_attention_dropout_runs_explicit_attention(hf):
    """With dropout_p > 0 torch's CPU SDPA takes the math path (matmul, softmax, dropout, matmul): its backward
    is 4 products, one Q K^T per layer fewer than the fused kernel's."""
    ids = torch.randint(0, 101, IDS, generator=torch.Generator().manual_seed(1))
    rep = sc.zoo.gpt2(n_layer=2, d_model=32, n_head=4, n_vocab=101, n_ctx=IDS[1]).analyze(batch=IDS[0])
    qk = 2 * IDS[0] * 4 * IDS[1] ** 2 * 8  # flops2 of Q K^T: batch, heads, T^2, head size
    assert rep.training().flops("flops2") - 2 * qk == _step_flops(_gpt2(hf, 0.1), ids)


def test_llama_step_equals_flopcountermode(hf):
    torch.manual_seed(0)
    config = hf.LlamaConfig(num_hidden_layers=2, hidden_size=32, num_attention_heads=4, num_key_value_heads=2,
                            intermediate_size=40, vocab_size=101, max_position_embeddings=64, bos_token_id=0,
                            eos_token_id=0, attn_implementation="sdpa")
    ids = torch.randint(0, 101, IDS, generator=torch.Generator().manual_seed(2))
    rep = sc.zoo.llama(n_layer=2, d_model=32, n_head=4, n_kv_head=2, d_ff=40, n_vocab=101,
                       n_ctx=IDS[1]).analyze(batch=IDS[0])
    assert rep.training().flops("flops2") == _step_flops(hf.LlamaForCausalLM(config).train(), ids)


def test_multihead_attention_step_equals_flopcountermode():
    """nn.MultiheadAttention in training (fast path off): projections as linears, heads as the fused kernel.
    On the network's input its in-projection computes no grad-input; after a Linear it does."""
    nn = torch.nn
    torch.manual_seed(0)

    def attend(t):
        return mha(t, t, t, need_weights=False)[0]

    torch.backends.mha.set_fastpath_enabled(False)
    try:
        lin, mha = nn.Linear(16, 16), nn.MultiheadAttention(16, 4, batch_first=True)
        x = torch.randn(2, 7, 16)
        alone = _step_flops(attend, x)
        after = _step_flops(lambda t: attend(lin(t)), x)
    finally:
        torch.backends.mha.set_fastpath_enabled(True)
    layer = sc.MultiheadAttention(16, 4, batch_first=True)
    assert sc.Sequential(layer).analyze(sc.Shape(7, 16), batch=2).training().flops("flops2") == alone
    rep = sc.Sequential(sc.Linear(16), layer).analyze(sc.Shape(7, 16), batch=2)
    assert rep.training().flops("flops2") == after


def test_transposed_conv_step_equals_flopcountermode():
    """A transposed conv's grad-input is a conv over the output's gradient, its grad-weight as large as the
    forward (counted on the input side, as the forward is)."""
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.ConvTranspose2d(8, 4, 3, stride=2),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5)).train()
    counted = _step_flops(model, torch.randn(2, 3, 9, 9))
    net = sc.Sequential(sc.Conv2d(8, 3, padding=1), sc.ReLU(), sc.ConvTranspose2d(4, 3, stride=2),
                        sc.AdaptiveAvgPool2d(1), sc.Flatten(), sc.Linear(5))
    assert net.analyze(sc.Shape(3, 9, 9), batch=2).training().flops("flops2") == counted
