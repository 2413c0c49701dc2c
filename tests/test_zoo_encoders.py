"""sc.zoo.bert, sc.zoo.vit and sc.zoo.t5: derived once with symbols, checked against published parameter
counts, closed forms by hand, and Hugging Face ``transformers`` models built from tiny configs (no weights);
and the CLI's ``--set`` of a zoo factory's arguments (``symcost report gpt2 --set n_ctx=1024``)."""

from __future__ import annotations

import json

import pytest
import sympy

import symcost as sc
from symcost.cli import main
from symcost.core.errors import SymcostError
from symcost.symbols import symbol

BERT_ARGS = ("n_layer", "d_model", "n_head", "d_ff", "n_vocab", "n_ctx", "n_type", "n_positions")
VIT_ARGS = ("image_size", "patch_size", "n_layer", "d_model", "n_head", "d_ff", "n_classes", "n_channels")
T5_ARGS = ("n_layer", "d_model", "n_head", "d_kv", "d_ff", "n_vocab", "n_ctx", "n_dec_ctx", "n_dec_layer", "n_buckets")
l, d, a, f, V, T, y, P = (symbol(n) for n in BERT_ARGS)
S, p, K, C = (symbol(n) for n in ("image_size", "patch_size", "n_classes", "n_channels"))
e, Td, ld, B = (symbol(n) for n in ("d_kv", "n_dec_ctx", "n_dec_layer", "n_buckets"))


def _symbolic(factory, names, **flags):
    return factory(**{n: symbol(n) for n in names}, **flags).analyze()


@pytest.fixture(scope="module")
def bert_symbolic():
    return _symbolic(sc.zoo.bert, BERT_ARGS)


@pytest.fixture(scope="module")
def bert_mlm_symbolic():
    return _symbolic(sc.zoo.bert, BERT_ARGS, pooler=False, mlm_head=True)


@pytest.fixture(scope="module")
def vit_symbolic():
    return _symbolic(sc.zoo.vit, VIT_ARGS)


@pytest.fixture(scope="module")
def t5_symbolic():
    return _symbolic(sc.zoo.t5, T5_ARGS)


@pytest.fixture(scope="module")
def t5_v11_symbolic():
    return _symbolic(sc.zoo.t5, T5_ARGS, ffn="gated-gelu", tied=False)


# --------------------------------------------------------------------------
# closed forms, derived by hand from the architectures
# --------------------------------------------------------------------------
def test_bert_closed_form(bert_symbolic, bert_mlm_symbolic):
    """Embeddings (V + P + types) d + LayerNorm 2d; per block q, k, v, o (4 d^2 + 4 d), two LayerNorms 4 d,
    MLP 2 d f + f + d; pooler d^2 + d. MACs: per block 4 T d^2 + 2 T d f + 2 T^2 d (scores, weighted sum)."""
    block = 4 * d**2 + 4 * d + 4 * d + 2 * d * f + f + d
    params = (V + P + y) * d + 2 * d + l * block + d**2 + d
    assert sympy.expand(bert_symbolic.total.params - params) == 0
    assert sympy.expand(bert_symbolic.total.macs - (l * (4 * T * d**2 + 2 * T * d * f + 2 * T**2 * d) + d**2)) == 0
    assert bert_symbolic.out_shape == sc.Shape(d)
    # MLM head: dense d^2 + d, LayerNorm 2 d, decoder bias V (its weight is word_embeddings'); no pooler
    mlm = params - (d**2 + d) + d**2 + d + 2 * d + V
    assert sympy.expand(bert_mlm_symbolic.total.params - mlm) == 0
    assert bert_mlm_symbolic.out_shape == sc.Shape(T, V)


def test_vit_closed_form(vit_symbolic):
    """g = floor((S - p)/p) + 1 patches a side: conv C p^2 d + d, class token d, positions (g^2 + 1) d,
    blocks as BERT's, final LayerNorm 2 d, head d K + K."""
    g = sympy.floor((S - p) / p) + 1
    params = C * p**2 * d + d + d + (g**2 + 1) * d + l * (4 * d**2 + 8 * d + 2 * d * f + f + d) + 2 * d + d * K + K
    assert sympy.expand(vit_symbolic.total.params - params) == 0
    t = g**2 + 1
    macs = g**2 * C * p**2 * d + l * (4 * t * d**2 + 2 * t * d * f + 2 * t**2 * d) + d * K
    assert sympy.expand(vit_symbolic.total.macs - macs) == 0
    assert vit_symbolic.out_shape == sc.Shape(K)


def test_t5_closed_form(t5_symbolic):
    """Shared V d; encoder blocks 4 a e d + 2 d f + 2 d, decoder blocks 8 a e d + 2 d f + 3 d, one bias table
    B a per stack, two final norms; the tied head adds nothing. MACs: encoder per block 4 S a e d + 2 S d f
    + 2 S^2 a e, decoder 6 Td a e d + 2 S a e d (cross k, v) + 2 Td d f + 2 Td^2 a e + 2 Td S a e, head Td d V."""
    src = T
    params = V * d + l * (4 * a * e * d + 2 * d * f + 2 * d) + ld * (8 * a * e * d + 2 * d * f + 3 * d) \
        + 2 * B * a + 2 * d
    assert sympy.expand(t5_symbolic.total.params - params) == 0
    macs = l * (4 * src * a * e * d + 2 * src * d * f + 2 * src**2 * a * e) \
        + ld * (6 * Td * a * e * d + 2 * src * a * e * d + 2 * Td * d * f + 2 * Td**2 * a * e + 2 * Td * src * a * e) \
        + Td * d * V
    assert sympy.expand(t5_symbolic.total.macs - macs) == 0
    assert t5_symbolic.out_shape == sc.Shape(Td, V)
    assert t5_symbolic.input_shape == sc.Shape(src + Td)


def test_n_layer_symbolic_is_one_repeat():
    """n_layer symbolic: one row per kind in the block (named .i.), counted n_layer times."""
    rep = sc.zoo.bert(n_layer=l).analyze()
    names = [r.name for r in rep.rows]
    assert "encoder.layer.i.attention.self.query" in names and "encoder.layer.0.attention.self.query" not in names
    assert sympy.expand(rep.total.params - (109_482_240 + (l - 12) * 7_087_872)) == 0


# --------------------------------------------------------------------------
# published parameter counts (typed in from the sources quoted)
# --------------------------------------------------------------------------
BERT_BASE = {"n_layer": 12, "d_model": 768, "n_head": 12, "d_ff": 3072, "n_vocab": 30522, "n_ctx": 512, "n_type": 2,
             "n_positions": 512}
BERT_LARGE = {**BERT_BASE, "n_layer": 24, "d_model": 1024, "n_head": 16, "d_ff": 4096}
VIT_B16 = {"image_size": 224, "patch_size": 16, "n_layer": 12, "d_model": 768, "n_head": 12, "d_ff": 3072,
           "n_classes": 1000, "n_channels": 3}
T5_SMALL = {"n_layer": 6, "d_model": 512, "n_head": 8, "d_kv": 64, "d_ff": 2048, "n_vocab": 32128, "n_ctx": 512,
            "n_dec_ctx": 512, "n_dec_layer": 6, "n_buckets": 32}


@pytest.mark.parametrize("fixture, sizes, published", [
    # bert-base-uncased, BertModel: 109,482,240 (sum of numel; "110M" in Devlin et al. 2019, Table/Section 3)
    ("bert_symbolic", BERT_BASE, 109_482_240),
    # bert-large-uncased, BertModel: 335,141,888 ("340M" in Devlin et al.)
    ("bert_symbolic", BERT_LARGE, 335_141_888),
    # bert-base-uncased, BertForMaskedLM: 109,514,298
    ("bert_mlm_symbolic", BERT_BASE, 109_514_298),
    # ViT-B/16 at 224, 1000 classes: 86,567,656 (torchvision vit_b_16 docs "num_params 86567656"; timm 86.57M)
    ("vit_symbolic", VIT_B16, 86_567_656),
    # ViT-L/16 at 224: 304,326,632 (torchvision vit_l_16 docs "num_params 304326632")
    ("vit_symbolic", {**VIT_B16, "n_layer": 24, "d_model": 1024, "n_head": 16, "d_ff": 4096}, 304_326_632),
    # t5-small, T5ForConditionalGeneration: 60,506,624 (HF model card "60M"; numel of the checkpoint)
    ("t5_symbolic", T5_SMALL, 60_506_624),
    # t5-base: 222,903,552 ("220M" in Raffel et al. 2020)
    ("t5_symbolic", {**T5_SMALL, "n_layer": 12, "n_dec_layer": 12, "d_model": 768, "n_head": 12, "d_ff": 3072},
     222_903_552),
    # google/t5-v1_1-small (gated GELU, untied head, d_ff 1024, 6 heads, 8 layers): 76,961,152
    ("t5_v11_symbolic", {**T5_SMALL, "n_layer": 8, "n_dec_layer": 8, "n_head": 6, "d_ff": 1024}, 76_961_152),
])
def test_published_counts(request, fixture, sizes, published):
    assert request.getfixturevalue(fixture).subs(sizes).total.params == published


def test_defaults_are_published_and_listed():
    assert sc.zoo.get("BERT").analyze().total.params == 109_482_240
    assert sc.zoo.get("ViT").analyze().total.params == 86_567_656
    assert sc.zoo.get("t5").analyze().total.params == 60_506_624
    assert {"bert", "vit", "t5"} <= set(sc.zoo.names())


@pytest.mark.parametrize("factory, kwargs, argument", [
    (sc.zoo.bert, {"d_model": 30, "n_head": 4}, "d_model"),
    (sc.zoo.bert, {"n_type": 0}, "n_type"),
    (sc.zoo.bert, {"mlm_head": True}, "mlm_head"),
    (sc.zoo.bert, {"pooler": "yes"}, "pooler"),
    (sc.zoo.vit, {"image_size": 8, "patch_size": 16}, "patch_size"),
    (sc.zoo.vit, {"pooler": True}, "pooler"),
    (sc.zoo.vit, {"n_layer": 0}, "n_layer"),
    (sc.zoo.t5, {"ffn": "swiglu"}, "ffn"),
    (sc.zoo.t5, {"d_kv": 1.5}, "d_kv"),
    (sc.zoo.t5, {"n_dec_layer": -1}, "n_dec_layer"),
])
def test_bad_arguments_raise_one_line(factory, kwargs, argument):
    with pytest.raises(SymcostError, match=argument) as err:
        factory(**kwargs)
    assert "\n" not in str(err.value)


def test_a_join_of_constants_only_is_counted():
    """Two parameters summed before they meet the input (a bias table plus a mask, as T5's are): the sum sees
    no input, so it has no receptive field, and is counted (4 adds), not a crash; then 4 more adds."""
    g = sc.Graph([sc.Node("a", sc.Parameter((4,)), []), sc.Node("b", sc.Parameter((4,)), []),
                  sc.Node("s", sc.Add(), ["a", "b"]), sc.Node("o", sc.Add(), ["input", "s"])], output="o")
    rep = g.analyze(sc.Shape(4))
    assert (rep.total.params, rep.total.flops(), rep.out_shape) == (8, 8, sc.Shape(4))
    assert rep.row("s").rf.axes == 0


# --------------------------------------------------------------------------
# the CLI: --set NAME=VALUE builds a zoo model when NAME is an argument of its factory
# --------------------------------------------------------------------------
def _report(capsys, *argv) -> dict:
    assert main(["report", *argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def _gpt2_small_macs(t: int) -> int:
    """By hand: 12 blocks of 12 t d^2 (qkv, proj, two MLP products) + 2 t^2 d (scores, weighted sum), head t d V."""
    return 12 * (12 * t * 768**2 + 2 * t**2 * 768) + t * 768 * 50257


@pytest.mark.parametrize("argv, t", [((), 1024), (("--set", "n_ctx=1024"), 1024), (("--set", "n_ctx=128"), 128)])
def test_cli_report_gpt2_sets_the_context(capsys, argv, t):
    """No --set: GPT-2 small at 1024 tokens (the factory's defaults); --set n_ctx=... rebuilds it."""
    out = _report(capsys, "gpt2", *argv)
    assert out["input"] == [str(t)]
    assert out["total"]["params"]["value"] == 124_439_808 - (1024 - t) * 768  # wpe holds n_ctx positions
    assert out["total"]["macs"]["value"] == _gpt2_small_macs(t)


@pytest.mark.parametrize("model, published, layers, block", [
    ("gpt2", 124_439_808, 12, 12 * 768**2 + 13 * 768),
    ("llama", 6_738_415_616, 32, 4 * 4096**2 + 3 * 4096 * 11008 + 2 * 4096),
    ("bert", 109_482_240, 12, 12 * 768**2 + 13 * 768),  # q, k, v, o, MLP of 4 d, two LayerNorms
    ("vit", 86_567_656, 12, 12 * 768**2 + 13 * 768),
    ("t5", 60_506_624, 6, (4 * 512**2 + 2 * 512 * 2048 + 2 * 512) + (8 * 512**2 + 2 * 512 * 2048 + 3 * 512)),
])
def test_cli_report_sets_n_layer_of_every_transformer(capsys, model, published, layers, block):
    """--set n_layer=1 takes (layers - 1) blocks off the published count (T5: an encoder and a decoder block)."""
    out = _report(capsys, model, "--set", "n_layer=1")
    assert out["total"]["params"]["value"] == published - (layers - 1) * block


def test_cli_factory_arguments_and_symbols_mix(capsys):
    """n_ctx=T builds GPT-2 with the symbol T, which the next --set substitutes: the same as n_ctx=5."""
    mixed = _report(capsys, "gpt2", "--set", "n_ctx=T", "--set", "T=5", "--set", "n_layer=2")
    direct = _report(capsys, "gpt2", "--set", "n_ctx=5", "--set", "n_layer=2")
    assert mixed["total"] == direct["total"]
    t5 = _report(capsys, "t5", "--set", "n_ctx=n_dec_ctx=7", "--set", "n_layer=1")
    assert t5["input"] == ["14"] and t5["total"]["out_shape"] == ["7", "32128"]


def test_cli_sweeps_a_factory_argument(capsys):
    assert main(["sweep", "gpt2", "--set", "n_ctx=128:384:128", "--metric", "macs", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.split()
    assert lines == ["n_ctx,macs", *(f"{t},{_gpt2_small_macs(t)}" for t in (128, 256, 384))]


@pytest.mark.parametrize("argv, message", [
    (("gpt2", "--set", "n_ctx=0"), "gpt2: n_ctx must be a positive integer, got 0"),
    (("gpt2", "--set", "n_ctx=3/2"), "n_ctx must be a positive integer"),
    (("gpt2", "--set", "n_ctx=1.5"), "floats are not allowed"),
    (("gpt2", "--set", "n_cxt=5"), "did you mean 'n_ctx'?"),
    (("bert", "--set", "n_head=7"), "d_model"),
    (("vit", "--set", "image_size=8"), "patch_size must be at most image_size=8"),
    (("gpt2", "--set", "n_ctx=10**100000"), "exponents must be at most"),
])
def test_cli_bad_factory_arguments_are_one_line(capsys, argv, message):
    assert main(["report", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symcost: error: ") and message in err and err.count("\n") == 1


# --------------------------------------------------------------------------
# Hugging Face transformers, tiny configs built locally (no weights downloaded)
# --------------------------------------------------------------------------
torch = pytest.importorskip("torch")


def _hf():
    return pytest.importorskip("transformers")


def _macs(model, *args, **kwargs) -> int:
    from flop_counting import cpu_flash_counted
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), cpu_flash_counted(), FlopCounterMode(display=False) as mode:
        model(*args, **kwargs)
    total = mode.get_total_flops()
    assert total % 2 == 0
    return total // 2


def _numel(model) -> int:
    return sum(t.numel() for t in model.parameters())


def _ids(n: int, length: int, seed: int):
    return torch.randint(0, n, (1, length), generator=torch.Generator().manual_seed(seed))


TINY_BERT = {"n_layer": 2, "d_model": 32, "n_head": 4, "d_ff": 48, "n_vocab": 101, "n_type": 2, "n_positions": 40}


@pytest.fixture(scope="module")
def hf_bert():
    hf = _hf()
    config = hf.BertConfig(num_hidden_layers=2, hidden_size=32, num_attention_heads=4, intermediate_size=48,
                           vocab_size=101, max_position_embeddings=40, type_vocab_size=2, attn_implementation="sdpa")
    return hf.BertModel(config).eval(), hf.BertForMaskedLM(config).eval()


@pytest.mark.parametrize("t", [5, 12, 33])
def test_bert_equals_huggingface(bert_symbolic, bert_mlm_symbolic, hf_bert, t):
    """Params = numel and MACs = FlopCounterMode / 2 for BertModel and BertForMaskedLM on (1, t) ids."""
    model, mlm = hf_bert
    ids = _ids(101, t, t)
    for report, module in ((bert_symbolic, model), (bert_mlm_symbolic, mlm)):
        numbers = report.subs(**TINY_BERT, n_ctx=t)
        assert numbers.total.params == _numel(module)
        assert numbers.total.macs == _macs(module, ids)


@pytest.mark.parametrize("size, patch", [(16, 4), (24, 8), (30, 5)])
def test_vit_equals_huggingface(vit_symbolic, size, patch):
    """ViTForImageClassification and ViTModel (pooler), built at each image size (the position table follows it)."""
    hf = _hf()
    config = hf.ViTConfig(image_size=size, patch_size=patch, num_hidden_layers=2, hidden_size=24,
                          num_attention_heads=3, intermediate_size=40, num_labels=7, num_channels=3,
                          attn_implementation="sdpa")
    pixels = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(size))
    sizes = {"image_size": size, "patch_size": patch, "n_layer": 2, "d_model": 24, "n_head": 3, "d_ff": 40,
             "n_classes": 7, "n_channels": 3}
    classifier = hf.ViTForImageClassification(config).eval()
    numbers = vit_symbolic.subs(sizes)
    assert numbers.total.params == _numel(classifier)
    assert numbers.total.macs == _macs(classifier, pixels)
    model = hf.ViTModel(config).eval()
    report = sc.zoo.vit(**sizes, head=False, pooler=True).analyze()
    assert report.total.params == _numel(model)
    assert report.total.macs == _macs(model, pixels)


TINY_T5 = {"n_layer": 2, "n_dec_layer": 3, "d_model": 32, "n_head": 4, "d_kv": 6, "d_ff": 40, "n_vocab": 101,
           "n_buckets": 8}


@pytest.fixture(scope="module")
def hf_t5():
    hf = _hf()
    common = {"num_layers": 2, "num_decoder_layers": 3, "d_model": 32, "num_heads": 4, "d_kv": 6, "d_ff": 40,
              "vocab_size": 101, "relative_attention_num_buckets": 8, "decoder_start_token_id": 0,
              "attn_implementation": "eager"}
    t5 = hf.T5ForConditionalGeneration(hf.T5Config(**common)).eval()
    model = hf.T5Model(hf.T5Config(**common)).eval()
    v11 = hf.T5ForConditionalGeneration(hf.T5Config(**common, feed_forward_proj="gated-gelu",
                                                     tie_word_embeddings=False)).eval()
    # transformers 5 ties every T5's lm_head to shared (T5Config forces tie_word_embeddings=True and keeps
    # False only to skip the output scaling); the T5 v1.1 checkpoints hold their own head: untie it here
    assert v11.lm_head.weight is v11.shared.weight
    v11.lm_head.weight = torch.nn.Parameter(v11.lm_head.weight.detach().clone())
    return t5, model, v11


@pytest.mark.parametrize("src, tgt", [(5, 3), (9, 9), (17, 6)])
def test_t5_equals_huggingface(t5_symbolic, t5_v11_symbolic, hf_t5, src, tgt):
    """T5ForConditionalGeneration (tied, ReLU), T5Model (no head) and T5 v1.1 (gated GELU, untied head) on
    (1, src) encoder ids and (1, tgt) decoder ids: params = numel, MACs = FlopCounterMode / 2."""
    t5, model, v11 = hf_t5
    ids, dec = _ids(101, src, src), _ids(101, tgt, tgt + 100)
    checks = [(t5_symbolic, t5)]
    if src == 17:  # the variants at one size, to keep the test fast
        bare = sc.zoo.t5(**TINY_T5, n_ctx=src, n_dec_ctx=tgt, lm_head=False).analyze()
        checks += [(bare, model), (t5_v11_symbolic, v11)]
    for report, module in checks:
        numbers = report.subs(**TINY_T5, n_ctx=src, n_dec_ctx=tgt)
        assert numbers.total.params == _numel(module)
        assert numbers.total.macs == _macs(module, input_ids=ids, decoder_input_ids=dec, use_cache=False)


@pytest.mark.parametrize("model, config, factory, sizes", [
    ("BertModel", {}, sc.zoo.bert, {}),  # bert-base-uncased's config: the defaults of both
    ("BertModel", {"num_hidden_layers": 24, "hidden_size": 1024, "num_attention_heads": 16, "intermediate_size": 4096},
     sc.zoo.bert, {"n_layer": 24, "d_model": 1024, "n_head": 16, "d_ff": 4096}),
    ("BertForMaskedLM", {}, sc.zoo.bert, {"pooler": False, "mlm_head": True}),
    ("ViTForImageClassification", {"num_labels": 1000}, sc.zoo.vit, {}),  # google/vit-base-patch16-224
    ("T5ForConditionalGeneration", {}, sc.zoo.t5, {}),  # t5-small
    ("T5ForConditionalGeneration", {"d_model": 768, "d_ff": 3072, "num_layers": 12, "num_heads": 12}, sc.zoo.t5,
     {"d_model": 768, "d_ff": 3072, "n_layer": 12, "n_head": 12}),  # t5-base
])
def test_published_sizes_equal_huggingface_numel(model, config, factory, sizes):
    """The full-size models, built on the meta device (no memory, no weights): the zoo's defaults and the
    published sizes above equal the numel of transformers' own classes."""
    hf = _hf()
    config_class = next(getattr(hf, f"{family}Config") for family in ("Bert", "ViT", "T5") if model.startswith(family))
    with torch.device("meta"):
        module = getattr(hf, model)(config_class(**config))
    assert factory(**sizes).analyze().total.params == _numel(module)
