"""Real architectures through from_torch's export route: torchvision families, Hugging Face, timm.

Each model is converted once with symbolic sizes; its parameters must equal
``sum(p.numel())`` and its MACs FlopCounterMode / 2 (CPU attention counted,
the MHA fast path off) at two sizes. Small configs and inputs keep the file
fast; the full torchvision sweep is ``benchmarks/bench_from_torch.py``.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

import symcost as sc  # noqa: E402
from symcost.symbols import H, W, symbol  # noqa: E402
from flop_counting import flop_macs  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("mha_fast_path_off")]
T, L = symbol("T"), symbol("L")
M = torchvision.models


def check(model, shape, sizes, dtype=None):
    model.eval()
    net = sc.from_torch(model, shape, dtype=dtype)
    rep = net.analyze()
    assert rep.total.params == sum(p.numel() for p in model.parameters())
    names = [str(d) for d in shape if not getattr(d, "is_number", True)]
    assert {str(s) for s in rep.total.macs.free_symbols} <= set(names)
    for size in sizes:
        values = dict(zip(names, size))
        dims = [values.get(str(d), d) for d in shape]
        x = torch.zeros(1, *(int(d) for d in dims), dtype=dtype or torch.float32)
        ours = sc.evaluate(rep.total.macs, **values) if rep.total.macs.free_symbols else rep.total.macs
        assert ours == flop_macs(model, x), size
    return net


def small_densenet():
    return M.DenseNet(growth_rate=8, block_config=(2, 2), num_init_features=16, bn_size=2, num_classes=10)


def small_convnext():
    from torchvision.models.convnext import CNBlockConfig, ConvNeXt
    return ConvNeXt([CNBlockConfig(16, 32, 1), CNBlockConfig(32, None, 1)], num_classes=10)


def small_vit():
    return M.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64,
                               num_classes=10)


IMAGE = [
    ("resnet", lambda: M.resnet18(num_classes=10)),
    ("alexnet", lambda: M.alexnet(num_classes=10)),
    ("vgg", lambda: M.vgg11(num_classes=10)),
    ("densenet", small_densenet),
    ("mobilenet_v2", lambda: M.mobilenet_v2(width_mult=0.25, num_classes=10)),
    ("mobilenet_v3", lambda: M.mobilenet_v3_small(num_classes=10)),
    ("mnasnet", lambda: M.mnasnet0_5(num_classes=10)),
    ("shufflenet", lambda: M.shufflenet_v2_x0_5(num_classes=10)),
    ("squeezenet", lambda: M.squeezenet1_1(num_classes=10)),
    ("efficientnet", lambda: M.efficientnet_b0(num_classes=10)),
    ("regnet", lambda: M.regnet_x_400mf(num_classes=10)),
    ("convnext", small_convnext),
]


@pytest.mark.parametrize("family,build", IMAGE, ids=[f for f, _ in IMAGE])
def test_torchvision_family_in_h_and_w(family, build):
    check(build(), (3, H, W), [(64, 64), (72, 96)])


def test_torchvision_vit_keeps_its_fixed_size():
    net = check(small_vit(), (3, H, W), [])
    assert tuple(net.input_shape.dims) == (3, 32, 32) and net.notes
    model = small_vit().eval()
    rep = sc.from_torch(model, (3, H, W)).analyze()
    assert rep.total.macs == flop_macs(model, torch.zeros(1, 3, 32, 32))


def test_torchvision_segmentation_dict_output():
    model = M.segmentation.fcn_resnet50(weights=None, weights_backbone=None, num_classes=3)
    check(model, (3, H, W), [(64, 64), (96, 80)])


def test_torchvision_video_in_t_h_and_w():
    check(M.video.r3d_18(num_classes=5), (3, T, H, W), [(4, 32, 32), (6, 40, 48)])


def test_hugging_face_gpt2_in_the_sequence_length():
    tf = pytest.importorskip("transformers")
    model = tf.GPT2LMHeadModel(tf.GPT2Config(n_embd=64, n_layer=2, n_head=4, vocab_size=1000, n_positions=128))
    check(model, (L,), [(8,), (13,)], dtype=torch.long)


def test_hugging_face_llama_grouped_query_attention():
    tf = pytest.importorskip("transformers")
    model = tf.LlamaForCausalLM(tf.LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                               num_attention_heads=4, num_key_value_heads=2, vocab_size=1000,
                                               max_position_embeddings=128))
    check(model, (L,), [(8,), (13,)], dtype=torch.long)


def test_hugging_face_bert():
    tf = pytest.importorskip("transformers")
    model = tf.BertModel(tf.BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                       intermediate_size=128, vocab_size=1000, max_position_embeddings=128))
    check(model, (L,), [(8,), (13,)], dtype=torch.long)


def test_timm_vit_and_mixer():
    timm = pytest.importorskip("timm")
    vit = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=8, embed_dim=32,
                            depth=2, num_heads=2, num_classes=10)
    net = check(vit, (3, H, W), [])
    assert tuple(net.input_shape.dims) == (3, 32, 32)
    rep = net.analyze()
    assert rep.total.macs == flop_macs(vit.eval(), torch.zeros(1, 3, 32, 32))
    from timm.models.mlp_mixer import MlpMixer
    mixer = MlpMixer(num_classes=10, img_size=32, patch_size=8, num_blocks=2, embed_dim=32)  # no weights
    net = check(mixer, (3, H, W), [])
    rep = net.analyze()
    assert rep.total.macs == flop_macs(mixer.eval(), torch.zeros(1, 3, 32, 32))
