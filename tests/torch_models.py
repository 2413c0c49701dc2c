"""Reference architectures written directly in ``torch.nn``.

These are independent references for the model-zoo tests: each factory
rebuilds a published architecture from plain ``torch.nn`` layers (torchvision
is not needed) so that symcost's built-in zoo can be checked against it on
parameter counts and FLOPs/MACs (e.g. via
``torch.utils.flop_counter.FlopCounterMode``).  Nothing here is downloaded and
no weights are loaded; every factory returns a freshly initialised module in
eval mode.

Layer order, ``bias`` flags and module names follow the source each one
reproduces (torchvision for AlexNet, VGG, ResNet and MobileNetV2;
GunhoChoi/FusionNet-Pytorch for FusionNet; milesial/Pytorch-UNet for U-Net),
so parameter counts match exactly.  Where torchvision is installed,
``tests/test_torchvision_twins.py`` checks that the torchvision twins have its
module tree and forward call sequence (ResNet's one ``relu`` per block called
3 times, MobileNetV2's functional pooling), which the peer tools count by.

Accepted input sizes (H x W, 3 input channels unless noted):

* ``alexnet``, ``vgg``, ``resnet``, ``mobilenet_v1``, ``mobilenet_v2``: any
  size large enough to survive the downsampling (adaptive pooling before the
  classifier), e.g. 224x224 or 193x161.
* ``alexnet2012``: fixed-size classifier, no adaptive pooling; each side must
  be in 227..258 so pool5 is 6x6 (227x227 is the paper's input).
* ``unet``: any size >= 16 per side; ``Up`` pads the upsampled map to the
  skip's size, so odd sizes such as 193x161 work.
* ``fusionnet``: each side a multiple of 16 (the decoder adds, without
  padding, maps that must have the encoder's exact size); ``input_nc``
  channels in.
"""

from collections import OrderedDict

import torch
from torch import nn
import torch.nn.functional as F

__all__ = [
    "alexnet",
    "alexnet2012",
    "vgg",
    "resnet",
    "mobilenet_v1",
    "mobilenet_v2",
    "fusionnet",
    "unet",
]


# --------------------------------------------------------------------------
# AlexNet
# --------------------------------------------------------------------------


class AlexNet(nn.Module):
    """torchvision.models.AlexNet (the "one weird trick" single-tower variant)."""

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def alexnet(num_classes=1000):
    """torchvision's AlexNet: 61,100,840 params at 1000 classes."""
    return AlexNet(num_classes).eval()


class AlexNet2012(nn.Module):
    """Krizhevsky, Sutskever & Hinton 2012, two-GPU layout as grouped convs.

    Local response normalisation (after conv1 and conv2 in the paper) is
    omitted: it has no parameters and no torch.nn counterpart in the zoo.
    The two-tower split is modelled with ``groups=2`` on conv2, conv4 and
    conv5 (conv3 and the FC layers see both towers).  Max pools are the
    paper's overlapping 3x3 stride 2.  Input is 227x227 (fixed classifier).
    """

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=11, stride=4),              # conv1 -> 55
            nn.ReLU(inplace=True),
            # (LRN omitted)
            nn.MaxPool2d(kernel_size=3, stride=2),                   # -> 27
            nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=2),  # conv2
            nn.ReLU(inplace=True),
            # (LRN omitted)
            nn.MaxPool2d(kernel_size=3, stride=2),                   # -> 13
            nn.Conv2d(256, 384, kernel_size=3, padding=1),           # conv3
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=2), # conv4
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=2), # conv5
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),                   # -> 6
        )
        self.classifier = nn.Sequential(
            nn.Linear(256 * 6 * 6, 4096),  # fc6
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),         # fc7
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),  # fc8
        )

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def alexnet2012(num_classes=1000):
    """The original 2012 AlexNet (227x227 input, LRN omitted): 60,965,224 params."""
    return AlexNet2012(num_classes).eval()


# --------------------------------------------------------------------------
# VGG
# --------------------------------------------------------------------------

_VGG_CFGS = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],  # A
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],  # B
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M",
         512, 512, 512, "M", 512, 512, 512, "M"],  # D
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
         512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],  # E
}


class VGG(nn.Module):
    """torchvision.models.VGG."""

    def __init__(self, features, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def _vgg_layers(cfg, batch_norm):
    layers = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


def vgg(depth, batch_norm=False, num_classes=1000):
    """torchvision VGG-11/13/16/19 (configs A/B/D/E), optionally with BatchNorm."""
    if depth not in _VGG_CFGS:
        raise ValueError(f"vgg depth must be one of {sorted(_VGG_CFGS)}, got {depth}")
    return VGG(_vgg_layers(_VGG_CFGS[depth], batch_norm), num_classes).eval()


# --------------------------------------------------------------------------
# ResNet (torchvision, v1.5: stride on the 3x3 conv of the bottleneck)
# --------------------------------------------------------------------------


def _conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride,
                     padding=dilation, groups=groups, bias=False, dilation=dilation)


def _conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        width = planes  # groups=1, base_width=64
        self.conv1 = _conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = _conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = _conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    """torchvision.models.ResNet."""

    def __init__(self, block, layers, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                _conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


_RESNET_CFGS = {
    18: (BasicBlock, [2, 2, 2, 2]),
    34: (BasicBlock, [3, 4, 6, 3]),
    50: (Bottleneck, [3, 4, 6, 3]),
    101: (Bottleneck, [3, 4, 23, 3]),
    152: (Bottleneck, [3, 8, 36, 3]),
}


def resnet(depth, num_classes=1000):
    """torchvision ResNet-18/34 (BasicBlock) and 50/101/152 (Bottleneck, v1.5)."""
    if depth not in _RESNET_CFGS:
        raise ValueError(f"resnet depth must be one of {sorted(_RESNET_CFGS)}, got {depth}")
    block, layers = _RESNET_CFGS[depth]
    return ResNet(block, layers, num_classes).eval()


# --------------------------------------------------------------------------
# MobileNet v1 (Howard et al. 2017)
# --------------------------------------------------------------------------

# (output channels, stride) of the 13 depthwise-separable blocks, Table 1.
_MOBILENET_V1_BLOCKS = [
    (64, 1),
    (128, 2), (128, 1),
    (256, 2), (256, 1),
    (512, 2), (512, 1), (512, 1), (512, 1), (512, 1), (512, 1),
    (1024, 2), (1024, 1),
]


def _dw_separable(inp, oup, stride):
    return nn.Sequential(OrderedDict([
        ("dw", nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False)),
        ("dw_bn", nn.BatchNorm2d(inp)),
        ("dw_relu", nn.ReLU(inplace=True)),
        ("pw", nn.Conv2d(inp, oup, 1, 1, 0, bias=False)),
        ("pw_bn", nn.BatchNorm2d(oup)),
        ("pw_relu", nn.ReLU(inplace=True)),
    ]))


class MobileNetV1(nn.Module):
    """MobileNet v1: conv 3x3/2 (32) then 13 depthwise-separable blocks, avg pool, fc."""

    def __init__(self, alpha=1.0, num_classes=1000):
        super().__init__()
        c0 = int(32 * alpha)
        layers = [nn.Sequential(OrderedDict([
            ("conv", nn.Conv2d(3, c0, 3, 2, 1, bias=False)),
            ("bn", nn.BatchNorm2d(c0)),
            ("relu", nn.ReLU(inplace=True)),
        ]))]
        inp = c0
        for c, s in _MOBILENET_V1_BLOCKS:
            oup = int(c * alpha)
            layers.append(_dw_separable(inp, oup, s))
            inp = oup
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(inp, num_classes)

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def mobilenet_v1(alpha=1.0, num_classes=1000):
    """MobileNet v1 with width multiplier ``alpha`` (channels ``int(c*alpha)``)."""
    return MobileNetV1(alpha, num_classes).eval()


# --------------------------------------------------------------------------
# MobileNet v2 (torchvision)
# --------------------------------------------------------------------------


def _make_divisible(v, divisor, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:  # do not round down by more than 10%
        new_v += divisor
    return new_v


class Conv2dNormActivation(nn.Sequential):
    """torchvision.ops.Conv2dNormActivation with BatchNorm2d and ReLU6 (bias=False)."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, groups=1):
        padding = (kernel_size - 1) // 2
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                      groups=groups, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU6(inplace=True),
        )
        self.out_channels = out_channels


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        self.stride = stride
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1))
        layers.extend([
            Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        ])
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    """torchvision.models.MobileNetV2 (width_mult=1.0, round_nearest=8)."""

    def __init__(self, num_classes=1000, width_mult=1.0, round_nearest=8, dropout=0.2):
        super().__init__()
        input_channel = 32
        last_channel = 1280
        setting = [
            # t, c, n, s
            [1, 16, 1, 1],
            [6, 24, 2, 2],
            [6, 32, 3, 2],
            [6, 64, 4, 2],
            [6, 96, 3, 1],
            [6, 160, 3, 2],
            [6, 320, 1, 1],
        ]
        input_channel = _make_divisible(input_channel * width_mult, round_nearest)
        self.last_channel = _make_divisible(last_channel * max(1.0, width_mult), round_nearest)
        features = [Conv2dNormActivation(3, input_channel, stride=2)]
        for t, c, n, s in setting:
            output_channel = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                stride = s if i == 0 else 1
                features.append(InvertedResidual(input_channel, output_channel, stride, t))
                input_channel = output_channel
        features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(self.last_channel, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, (1, 1))
        x = torch.flatten(x, 1)
        return self.classifier(x)


def mobilenet_v2(num_classes=1000):
    """torchvision's MobileNetV2 at width 1.0: 3,504,872 params."""
    return MobileNetV2(num_classes).eval()


# --------------------------------------------------------------------------
# FusionNet (Quan, Hildebrand & Jeong 2016)
# Source followed: GunhoChoi/FusionNet-Pytorch, Basic_blocks.py and
# FusionNet.py (class FusionGenerator(input_nc, output_nc, ngf)).
# --------------------------------------------------------------------------


def _fn_conv_block(in_dim, out_dim, act_fn):
    return nn.Sequential(
        nn.Conv2d(in_dim, out_dim, kernel_size=3, stride=1, padding=1),
        nn.BatchNorm2d(out_dim),
        act_fn,
    )


def _fn_conv_trans_block(in_dim, out_dim, act_fn):
    return nn.Sequential(
        nn.ConvTranspose2d(in_dim, out_dim, kernel_size=3, stride=2, padding=1, output_padding=1),
        nn.BatchNorm2d(out_dim),
        act_fn,
    )


def _fn_maxpool():
    return nn.MaxPool2d(kernel_size=2, stride=2, padding=0)


def _fn_conv_block_3(in_dim, out_dim, act):
    # ``act`` is an activation factory (see FusionNet's docstring).
    return nn.Sequential(
        _fn_conv_block(in_dim, out_dim, act()),
        _fn_conv_block(out_dim, out_dim, act()),
        nn.Conv2d(out_dim, out_dim, kernel_size=3, stride=1, padding=1),
        nn.BatchNorm2d(out_dim),
    )


class Conv_residual_conv(nn.Module):
    def __init__(self, in_dim, out_dim, act):
        super().__init__()
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.conv_1 = _fn_conv_block(in_dim, out_dim, act())
        self.conv_2 = _fn_conv_block_3(out_dim, out_dim, act)
        self.conv_3 = _fn_conv_block(out_dim, out_dim, act())

    def forward(self, input):
        conv_1 = self.conv_1(input)
        conv_2 = self.conv_2(conv_1)
        res = conv_1 + conv_2
        return self.conv_3(res)


class FusionNet(nn.Module):
    """FusionGenerator from GunhoChoi/FusionNet-Pytorch (FusionNet.py).

    Same modules, names, order and forward as the source: encoder
    ``down_1..down_4`` (LeakyReLU(0.2)) each followed by ``pool_k``,
    ``bridge``, decoder ``deconv_k`` + ``up_k`` (ReLU) with additive skips
    ``(deconv_k + down_{5-k}) / 2``, then ``out`` (3x3 conv) and ``out_2``
    (Tanh).  One difference, invisible to parameter and FLOP counts: the
    source passes one shared activation instance to every block; here each
    block gets its own instance of the same class and arguments.

    Input: ``input_nc`` channels, H and W multiples of 16.
    """

    def __init__(self, input_nc=1, output_nc=1, ngf=32):
        super().__init__()
        self.in_dim = input_nc
        self.out_dim = ngf
        self.final_out_dim = output_nc

        def act_fn():
            return nn.LeakyReLU(0.2, inplace=True)

        def act_fn_2():
            return nn.ReLU()

        # encoder
        self.down_1 = Conv_residual_conv(self.in_dim, self.out_dim, act_fn)
        self.pool_1 = _fn_maxpool()
        self.down_2 = Conv_residual_conv(self.out_dim, self.out_dim * 2, act_fn)
        self.pool_2 = _fn_maxpool()
        self.down_3 = Conv_residual_conv(self.out_dim * 2, self.out_dim * 4, act_fn)
        self.pool_3 = _fn_maxpool()
        self.down_4 = Conv_residual_conv(self.out_dim * 4, self.out_dim * 8, act_fn)
        self.pool_4 = _fn_maxpool()

        # bridge
        self.bridge = Conv_residual_conv(self.out_dim * 8, self.out_dim * 16, act_fn)

        # decoder
        self.deconv_1 = _fn_conv_trans_block(self.out_dim * 16, self.out_dim * 8, act_fn_2())
        self.up_1 = Conv_residual_conv(self.out_dim * 8, self.out_dim * 8, act_fn_2)
        self.deconv_2 = _fn_conv_trans_block(self.out_dim * 8, self.out_dim * 4, act_fn_2())
        self.up_2 = Conv_residual_conv(self.out_dim * 4, self.out_dim * 4, act_fn_2)
        self.deconv_3 = _fn_conv_trans_block(self.out_dim * 4, self.out_dim * 2, act_fn_2())
        self.up_3 = Conv_residual_conv(self.out_dim * 2, self.out_dim * 2, act_fn_2)
        self.deconv_4 = _fn_conv_trans_block(self.out_dim * 2, self.out_dim, act_fn_2())
        self.up_4 = Conv_residual_conv(self.out_dim, self.out_dim, act_fn_2)

        # output
        self.out = nn.Conv2d(self.out_dim, self.final_out_dim, kernel_size=3, stride=1, padding=1)
        self.out_2 = nn.Tanh()

        # initialization, as in the source
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.data.normal_(0.0, 0.02)
                m.bias.data.fill_(0)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.normal_(1.0, 0.02)
                m.bias.data.fill_(0)

    def forward(self, input):
        down_1 = self.down_1(input)
        pool_1 = self.pool_1(down_1)
        down_2 = self.down_2(pool_1)
        pool_2 = self.pool_2(down_2)
        down_3 = self.down_3(pool_2)
        pool_3 = self.pool_3(down_3)
        down_4 = self.down_4(pool_3)
        pool_4 = self.pool_4(down_4)

        bridge = self.bridge(pool_4)

        deconv_1 = self.deconv_1(bridge)
        skip_1 = (deconv_1 + down_4) / 2
        up_1 = self.up_1(skip_1)
        deconv_2 = self.deconv_2(up_1)
        skip_2 = (deconv_2 + down_3) / 2
        up_2 = self.up_2(skip_2)
        deconv_3 = self.deconv_3(up_2)
        skip_3 = (deconv_3 + down_2) / 2
        up_3 = self.up_3(skip_3)
        deconv_4 = self.deconv_4(up_3)
        skip_4 = (deconv_4 + down_1) / 2
        up_4 = self.up_4(skip_4)

        out = self.out(up_4)
        return self.out_2(out)


def fusionnet(input_nc=1, output_nc=1, ngf=32):
    """FusionNet generator; H and W must be multiples of 16."""
    return FusionNet(input_nc, output_nc, ngf).eval()


# --------------------------------------------------------------------------
# U-Net (Ronneberger et al. 2015, padded convs + BatchNorm)
# Source followed: milesial/Pytorch-UNet, unet/unet_parts.py and
# unet/unet_model.py (master: DoubleConv convs bias=False, bilinear=False
# default), with the 64-channel base made a parameter.
# --------------------------------------------------------------------------


class DoubleConv(nn.Module):
    """(convolution => [BN] => ReLU) * 2"""

    def __init__(self, in_channels, out_channels, mid_channels=None):
        super().__init__()
        if not mid_channels:
            mid_channels = out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    """Downscaling with maxpool then double conv"""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(
            nn.MaxPool2d(2),
            DoubleConv(in_channels, out_channels),
        )

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    """Upscaling then double conv"""

    def __init__(self, in_channels, out_channels, bilinear=True):
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
            self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        # input is CHW
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2,
                        diffY // 2, diffY - diffY // 2])
        x = torch.cat([x2, x1], dim=1)
        return self.conv(x)


class OutConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, x):
        return self.conv(x)


class UNet(nn.Module):
    """milesial/Pytorch-UNet UNet with channel base ``base`` (64 in the source).

    Accepts any H, W >= 16: ``Up`` zero-pads the upsampled map to the skip.
    """

    def __init__(self, n_channels=3, n_classes=2, bilinear=False, base=64):
        super().__init__()
        self.n_channels = n_channels
        self.n_classes = n_classes
        self.bilinear = bilinear
        b = base
        self.inc = DoubleConv(n_channels, b)
        self.down1 = Down(b, 2 * b)
        self.down2 = Down(2 * b, 4 * b)
        self.down3 = Down(4 * b, 8 * b)
        factor = 2 if bilinear else 1
        self.down4 = Down(8 * b, 16 * b // factor)
        self.up1 = Up(16 * b, 8 * b // factor, bilinear)
        self.up2 = Up(8 * b, 4 * b // factor, bilinear)
        self.up3 = Up(4 * b, 2 * b // factor, bilinear)
        self.up4 = Up(2 * b, b, bilinear)
        self.outc = OutConv(b, n_classes)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x5 = self.down4(x4)
        x = self.up1(x5, x4)
        x = self.up2(x, x3)
        x = self.up3(x, x2)
        x = self.up4(x, x1)
        return self.outc(x)


def unet(in_channels=3, num_classes=2, base=64, bilinear=False):
    """Classic U-Net (milesial/Pytorch-UNet); any input >= 16x16."""
    return UNet(in_channels, num_classes, bilinear, base).eval()
