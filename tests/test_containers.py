"""Composition: containers, junction checks, receptive fields, closed-form totals."""

import pytest
import sympy

import symcost as sc
from symcost.symbols import H, W, symbol


def alexnet_v2_features():
    """TF-slim alexnet_v2 feature extractor (the receptive-field reference paddings)."""
    return sc.Sequential(
        sc.Conv2d(64, 11, stride=4, name="conv1"), sc.ReLU(name="relu1"), sc.MaxPool2d(3, 2, name="pool1"),
        sc.Conv2d(192, 5, padding=2, name="conv2"), sc.ReLU(name="relu2"), sc.MaxPool2d(3, 2, name="pool2"),
        sc.Conv2d(384, 3, padding=1, name="conv3"), sc.ReLU(name="relu3"),
        sc.Conv2d(384, 3, padding=1, name="conv4"), sc.ReLU(name="relu4"),
        sc.Conv2d(256, 3, padding=1, name="conv5"), sc.ReLU(name="relu5"), sc.MaxPool2d(3, 2, name="pool5"),
    )


def vgg16_features():
    layers, channels = [], 3
    for stage, (width, convs) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], start=1):
        for i in range(1, convs + 1):
            layers += [sc.Conv2d(width, 3, padding=1, name=f"conv{stage}_{i}"), sc.ReLU()]
        layers.append(sc.MaxPool2d(2, name=f"pool{stage}"))
    return sc.Sequential(*layers)


# Araujo et al. (Distill 2019), table of receptive fields: (size, effective stride, effective padding).
ALEXNET_RF = {
    "conv1": (11, 4, 0), "pool1": (19, 8, 0), "conv2": (51, 8, 16), "pool2": (67, 16, 16),
    "conv3": (99, 16, 32), "conv4": (131, 16, 48), "conv5": (163, 16, 64), "pool5": (195, 32, 64),
}
VGG16_RF = {
    "conv1_1": (3, 1, 1), "conv1_2": (5, 1, 2), "pool1": (6, 2, 2), "conv2_1": (10, 2, 4),
    "conv2_2": (14, 2, 6), "pool2": (16, 4, 6), "conv3_1": (24, 4, 10), "conv3_2": (32, 4, 14),
    "conv3_3": (40, 4, 18), "pool3": (44, 8, 18), "conv4_1": (60, 8, 26), "conv4_2": (76, 8, 34),
    "conv4_3": (92, 8, 42), "pool4": (100, 16, 42), "conv5_1": (132, 16, 58), "conv5_2": (164, 16, 74),
    "conv5_3": (196, 16, 90), "pool5": (212, 32, 90),
}


@pytest.mark.parametrize("net, reference", [(alexnet_v2_features, ALEXNET_RF), (vgg16_features, VGG16_RF)])
def test_receptive_fields_match_the_published_table(net, reference):
    report = net().analyze(sc.Shape(3, H, W))
    for name, (size, stride, padding) in reference.items():
        rf = report.row(name).rf
        assert (rf.size, rf.stride, rf.padding) == ((size,) * 2, (stride,) * 2, (padding,) * 2), name


def test_the_often_quoted_recurrence_is_not_what_we_compute():
    # r_i = r_{i-1} + (k - 1)*s_i, with each layer's own stride, undercounts AlexNet's pool5 badly.
    wrong = 1
    for k, s in [(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)]:
        wrong += (k - 1) * s
    assert wrong == 63
    assert alexnet_v2_features().analyze(sc.Shape(3, 227, 227)).rf.size == (195, 195)


def test_names_are_qualified_like_torch():
    net = sc.Sequential(sc.Sequential(sc.Conv2d(8, 3), sc.ReLU(), name="features"), sc.Flatten(), name="")
    names = [row.name for row in net.analyze(sc.Shape(3, 8, 8)).rows]
    assert names == ["features.0", "features.1", "1"]


def test_residual_branch_mismatch_names_both_sides():
    block = sc.Residual(sc.Conv2d(32, 3, stride=2))
    with pytest.raises(sc.ShapeError) as caught:
        sc.Sequential(block, name="b").analyze(sc.Shape(16, 8, 8))
    assert str(caught.value) == 'residual "b.0.add": body output (32, 3, 3) and shortcut output (16, 8, 8) do not match'


def test_residual_with_projection_shortcut():
    block = sc.Residual(
        sc.Sequential(sc.Conv2d(32, 3, stride=2, padding=1, bias=False), sc.BatchNorm2d()),
        shortcut=sc.Sequential(sc.Conv2d(32, 1, stride=2, bias=False), sc.BatchNorm2d()),
    )
    report = sc.Sequential(block, name="down").analyze(sc.Shape(16, H, W))
    assert report.rows[-1].name == "down.0.add"
    h_out = sympy.floor((H - 1) / 2) + 1
    assert report.out_shape.H == h_out
    # largest field wins: the 3x3 body, not the 1x1 shortcut
    assert report.rf.size == (3, 3)
    assert report.total.params == 32 * 16 * 9 + 32 * 16 + 4 * 32


def test_branches_on_different_grids_are_costed_with_the_field_undefined():
    pooled = sc.MaxPool2d(2)          # 8x8 -> 4x4, effective stride 2
    valid = sc.Conv2d(4, 5)           # 8x8 -> 4x4, effective stride 1
    report = sc.Sequential(sc.Concat(pooled, valid)).analyze(sc.Shape(4, 8, 8))
    assert report.total.params == 4 * 4 * 25 + 4 and report.out_shape == sc.Shape(8, 4, 4)
    assert report.rf.size == () and "effective strides 2 and 1" in report.rf.undefined
    assert report.notes == (f"receptive field undefined: {report.rf.undefined}",)
    up_down = sc.Sequential(sc.Upsample(scale_factor=2), sc.MaxPool2d(2))   # 1/2 * 2 = 1: same grid
    report = sc.Sequential(sc.Concat(up_down, sc.Conv2d(4, 1))).analyze(sc.Shape(4, 8, 8))
    assert report.rf.stride == (1, 1)


def test_linear_feature_mismatch_is_an_error_naming_the_layer():
    # Linear acts on the last entry of any shape (as torch); a wrong in_features is refused
    with pytest.raises(sc.ShapeError) as caught:
        sc.Sequential(sc.Conv2d(8, 3), sc.Linear(10, in_features=8)).analyze(sc.Shape(3, 8, 8))
    assert str(caught.value) == (
        'layer 1 "1" (Linear) on input (8, 6, 6): Linear: in_features is 8 but the input has 6 features'
    )


def test_layer_index_in_errors_is_the_row_index_across_branches():
    # rows: 0 stem, 1 body.0, 2 add, 3 concat.0, 4 concat.1.0 (the bad one)
    net = sc.Sequential(
        sc.Conv2d(4, 1, name="stem"),
        sc.Residual(sc.Conv2d(4, 3, padding=1)),
        sc.Concat(sc.Identity(), sc.Sequential(sc.Conv2d(4, 9)), name="mix"),
    )
    with pytest.raises(sc.ShapeError, match=r'^layer 4 "mix\.1\.0" \(Conv2d\) on input \(4, 8, 8\): '):
        net.analyze(sc.Shape(3, 8, 8))
    fixed = sc.Sequential(*net.children[:2], sc.Concat(sc.Identity(), sc.Sequential(sc.Conv2d(4, 9, padding=4)),
                                                      name="mix"))
    rows = fixed.analyze(sc.Shape(3, 8, 8)).rows
    assert [r.name for r in rows] == ["stem", "1.body", "1.add", "mix.0", "mix.1.0", "mix.concat"]


def test_symbolic_junction_mismatch_is_refused_with_a_hint():
    # A transposed conv undoing a stride-2 pool gives 2*floor(H/2): equal to H only for even H.
    block = sc.Residual(sc.Sequential(sc.MaxPool2d(2), sc.ConvTranspose2d(4, 2, stride=2)))
    with pytest.raises(sc.ShapeError, match="as formulas; if they agree on your input sizes"):
        sc.Sequential(block).analyze(sc.Shape(4, H, W))
    h, w = symbol("h"), symbol("w")
    assert sc.Sequential(block).analyze(sc.Shape(4, 2 * h, 2 * w)).out_shape == sc.Shape(4, 2 * h, 2 * w)


def test_concat_adds_channels_and_checks_spatial_sizes():
    inception = sc.Concat(sc.Conv2d(8, 1), sc.Sequential(sc.Conv2d(4, 3, padding=1), sc.ReLU()))
    assert sc.Sequential(inception).analyze(sc.Shape(3, H, W)).out_shape == sc.Shape(12, H, W)
    with pytest.raises(sc.ShapeError, match="differ outside the channels"):
        sc.Sequential(sc.Concat(sc.Conv2d(8, 1), sc.Conv2d(8, 3))).analyze(sc.Shape(3, 8, 8))


def test_symbolic_repeat_is_times_block_cost_and_agrees_with_unrolling():
    n = symbol("n")
    block = sc.Sequential(sc.Conv2d(64, 3, padding=1), sc.BatchNorm2d(), sc.ReLU())
    stem = sc.Conv2d(64, 3, padding=1)
    symbolic = sc.Sequential(stem, sc.Repeat(block, n)).analyze(sc.Shape(3, H, W))
    for times in (1, 2, 5):
        unrolled = sc.Sequential(stem, sc.Repeat(block, times)).analyze(sc.Shape(3, H, W))
        bound = symbolic.subs(n=times, H=20, W=12)
        assert bound.total.flops() == unrolled.subs(H=20, W=12).total.flops()
        assert bound.total.params == unrolled.total.params
        assert bound.rf == unrolled.subs(H=20, W=12).rf
    assert sympy.expand(symbolic.total.params - (1792 + n * (64 * 64 * 9 + 64 + 128))) == 0


def test_symbolic_repeat_of_a_shape_changing_block_is_refused():
    block = sc.Sequential(sc.Conv2d(4, 3, stride=2, padding=1))
    with pytest.raises(sc.ShapeError, match="must keep its shape"):
        sc.Sequential(sc.Repeat(block, symbol("n"))).analyze(sc.Shape(4, 64, 64))


def test_param_bytes_and_dtypes():
    report = sc.Sequential(sc.Conv2d(8, 3), sc.BatchNorm2d()).analyze(sc.Shape(3, 8, 8))
    assert report.total.params == 224 + 16
    assert report.total.param_bytes() == 240 * 4
    assert report.total.param_bytes("float16") == 480
    assert report.total.param_bytes(buffers=True) == (240 + 17) * 4
    with pytest.raises(sc.InvalidArgumentError, match="dtype must be one of"):
        report.total.param_bytes("float8")


def test_argument_errors_found_on_the_input_keep_their_class_and_gain_the_layer():
    with pytest.raises(sc.InvalidArgumentError) as caught:
        sc.Sequential(sc.Conv2d(8, 3, groups=2, name="conv")).analyze(sc.Shape(3, 8, 8))
    assert str(caught.value) == (
        'layer 0 "conv" (Conv2d) on input (3, 8, 8): Conv2d "conv": groups must divide in_channels (3), got 2'
    )
    assert (caught.value.argument, caught.value.rule) == ("groups", "must divide in_channels (3)")
