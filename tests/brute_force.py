"""A naive reference implementation of every layer kind, counting what it executes.

Nothing here comes from symcost: each layer is written the plain way, in
Python loops over small nested lists, on :class:`Num` values that count every
arithmetic operation applied to them. The counts and the output shape are
then *observed*, never computed from a formula:

* ``Num`` wraps a float; ``+``/``-`` count an add, ``*`` a multiply, ``/`` a
  division, ``<``/``>`` a comparison, and :func:`exp`, :func:`erf`,
  :func:`tanh` a special function. Negation is free. Operations between plain
  Python numbers (index arithmetic, folded constants) are not counted.
* Parameters are allocated as nested lists and their scalars counted.
* The output shape is measured from the nested lists a layer returns.

Entry point: :func:`evaluate`, e.g. ``evaluate(conv2d, (3, 8, 8), out_channels=4,
kernel_size=3)`` returns a :class:`Result` with the shape, the per-category
counts, the ``macs`` and ``bias`` labels, and the parameter counts.

    >>> r = evaluate(conv2d, (2, 5, 5), out_channels=3, kernel_size=3, padding=1)
    >>> r.shape, r.ops["mul"], r.macs, r.weight, r.bias
    ((3, 5, 5), 1350, 1350, 54, 3)
"""

from __future__ import annotations

import itertools
import math
from contextlib import contextmanager
from dataclasses import dataclass, field

CATEGORIES = ("mul", "add", "cmp", "div", "special")
NEG_INF = float("-inf")


# --------------------------------------------------------------------------
# Counting numbers
# --------------------------------------------------------------------------
class Counter:
    """Tallies of executed operations, labelled regions, and allocated parameters."""

    def __init__(self) -> None:
        self.mul = self.add = self.cmp = self.div = self.special = 0
        self.labels = {"macs": 0, "bias": 0}
        self.params = {"weight": 0, "bias": 0}
        self.buffers: dict[str, int] = {}
        self._seed = 12345

    def ops(self) -> dict[str, int]:
        return {c: getattr(self, c) for c in CATEGORIES}

    @contextmanager
    def label(self, name: str, category: str):
        """Add to label ``name`` the operations of ``category`` executed inside the block."""
        before = getattr(self, category)
        yield
        self.labels[name] += getattr(self, category) - before

    def value(self) -> float:
        """A deterministic pseudo-random value in [-1, 1] (values never change counts)."""
        self._seed = (self._seed * 1103515245 + 12345) % (2**31)
        return self._seed / 2**30 - 1.0

    def num(self, v: float | None = None) -> "Num":
        return Num(self.value() if v is None else v, self)

    def allocate(self, kind: str, shape: tuple[int, ...]) -> list:
        """A parameter tensor (``weight`` or ``bias``) of ``shape``; its scalars are counted."""
        t = self.tensor(shape)
        self.params[kind] += numel(t)
        return t

    def buffer(self, name: str, shape: tuple[int, ...], fill: float | None = None) -> list:
        t = self.tensor(shape, fill)
        self.buffers[name] = self.buffers.get(name, 0) + numel(t)
        return t

    def tensor(self, shape: tuple[int, ...], fill: float | None = None) -> list:
        if not shape:
            raise ValueError("tensors have at least one dimension here")
        if len(shape) == 1:
            return [self.num(fill) for _ in range(shape[0])]
        return [self.tensor(shape[1:], fill) for _ in range(shape[0])]


def _v(x: object) -> float:
    return x.v if isinstance(x, Num) else x  # type: ignore[return-value]


class Num:
    """A float that counts the operations applied to it in its :class:`Counter`."""

    __slots__ = ("v", "c")

    def __init__(self, v: float, c: Counter):
        self.v = v
        self.c = c

    def __add__(self, o):
        self.c.add += 1
        return Num(self.v + _v(o), self.c)

    def __radd__(self, o):
        self.c.add += 1
        return Num(_v(o) + self.v, self.c)

    def __sub__(self, o):
        self.c.add += 1
        return Num(self.v - _v(o), self.c)

    def __rsub__(self, o):
        self.c.add += 1
        return Num(_v(o) - self.v, self.c)

    def __mul__(self, o):
        self.c.mul += 1
        return Num(self.v * _v(o), self.c)

    def __rmul__(self, o):
        self.c.mul += 1
        return Num(_v(o) * self.v, self.c)

    def __truediv__(self, o):
        self.c.div += 1
        return Num(self.v / _v(o), self.c)

    def __rtruediv__(self, o):
        self.c.div += 1
        return Num(_v(o) / self.v, self.c)

    def __neg__(self):  # a sign flip, free
        return Num(-self.v, self.c)

    def __gt__(self, o):
        self.c.cmp += 1
        return self.v > _v(o)

    def __lt__(self, o):
        self.c.cmp += 1
        return self.v < _v(o)

    def __ge__(self, o):
        self.c.cmp += 1
        return self.v >= _v(o)

    def __le__(self, o):
        self.c.cmp += 1
        return self.v <= _v(o)

    def __repr__(self) -> str:
        return f"Num({self.v!r})"


def maximum(a, b):
    """max(a, b): one comparison."""
    assert isinstance(a, Num) or isinstance(b, Num), "an uncounted comparison"
    return a if a > b else b


def minimum(a, b):
    """min(a, b): one comparison."""
    assert isinstance(a, Num) or isinstance(b, Num), "an uncounted comparison"
    return a if a < b else b


def exp(x: Num) -> Num:
    x.c.special += 1
    return Num(math.exp(x.v), x.c)


def erf(x: Num) -> Num:
    x.c.special += 1
    return Num(math.erf(x.v), x.c)


def tanh(x: Num) -> Num:
    x.c.special += 1
    return Num(math.tanh(x.v), x.c)


# --------------------------------------------------------------------------
# Nested lists
# --------------------------------------------------------------------------
def shape_of(t: object) -> tuple[int, ...]:
    """The measured shape of a nested list (stops at the first empty list)."""
    dims = []
    while isinstance(t, list):
        dims.append(len(t))
        if not t:
            break
        t = t[0]
    return tuple(dims)


def numel(t: object) -> int:
    if isinstance(t, list):
        return sum(numel(e) for e in t)
    return 1


def _pair(v: object) -> tuple:
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _map(fn, t):
    """Apply ``fn`` to every scalar of a nested list."""
    if isinstance(t, list):
        return [_map(fn, e) for e in t]
    return fn(t)


def _pad2d(plane: list, before: tuple[int, int], after: tuple[int, int], fill: Num) -> list:
    """A 2-D plane padded densely: ``before``/``after`` rows and columns of ``fill``."""
    width = len(plane[0]) + before[1] + after[1]
    rows = [[fill] * width for _ in range(before[0])]
    for row in plane:
        rows.append([fill] * before[1] + list(row) + [fill] * after[1])
    rows += [[fill] * width for _ in range(after[0])]
    return rows


# --------------------------------------------------------------------------
# Layers: each takes (counter, input tensor, **arguments) and returns a tensor
# --------------------------------------------------------------------------
def conv2d(c: Counter, x: list, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True):
    """Dense zero padding; per output ``acc = x*w`` then ``acc = acc + x*w``; then ``+ b``."""
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(stride)
    dh, dw = _pair(dilation)
    if padding == "valid":
        before, after = (0, 0), (0, 0)
    elif padding == "same":
        assert (sh, sw) == (1, 1), "'same' needs stride 1"
        total = (dh * (kh - 1), dw * (kw - 1))
        before = (total[0] // 2, total[1] // 2)
        after = (total[0] - before[0], total[1] - before[1])
    else:
        ph, pw = _pair(padding)
        before, after = (ph, pw), (ph, pw)
    c_in = len(x)
    assert c_in % groups == 0 and out_channels % groups == 0
    cin_g, cout_g = c_in // groups, out_channels // groups
    zero = c.num(0.0)
    xp = [_pad2d(plane, before, after, zero) for plane in x]
    hp, wp = len(xp[0]), len(xp[0][0])
    weight = c.allocate("weight", (out_channels, cin_g, kh, kw))
    b = c.allocate("bias", (out_channels,)) if bias else None

    out = []
    with c.label("macs", "mul"):
        for co in range(out_channels):
            g = co // cout_g
            plane = []
            i = 0
            while i * sh + dh * (kh - 1) < hp:  # the window still fits in the padded input
                row = []
                j = 0
                while j * sw + dw * (kw - 1) < wp:
                    acc = None
                    for ci in range(cin_g):
                        src = xp[g * cin_g + ci]
                        wk = weight[co][ci]
                        for a in range(kh):
                            line = src[i * sh + a * dh]
                            for bb in range(kw):
                                term = line[j * sw + bb * dw] * wk[a][bb]
                                acc = term if acc is None else acc + term
                    row.append(acc)
                    j += 1
                if row:
                    plane.append(row)
                i += 1
            out.append(plane)
    if b is not None:
        with c.label("bias", "add"):
            out = [[[v + b[co] for v in row] for row in plane] for co, plane in enumerate(out)]
    return out


def conv_transpose2d(c: Counter, x: list, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                     groups=1, bias=True, dilation=1):
    """Scatter form into a zero buffer, then crop ``padding`` both sides, extend by ``output_padding``."""
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(stride)
    dh, dw = _pair(dilation)
    ph, pw = _pair(padding)
    oph, opw = _pair(output_padding)
    c_in, h, w = len(x), len(x[0]), len(x[0][0])
    assert c_in % groups == 0 and out_channels % groups == 0
    cin_g, cout_g = c_in // groups, out_channels // groups
    weight = c.allocate("weight", (c_in, cout_g, kh, kw))
    b = c.allocate("bias", (out_channels,)) if bias else None

    # A zero buffer surely large enough; its used extent is measured below.
    bh, bw = h * sh + dh * kh + 1, w * sw + dw * kw + 1
    zero = c.num(0.0)
    buf = [[[zero] * bw for _ in range(bh)] for _ in range(out_channels)]
    reach_h = reach_w = -1
    with c.label("macs", "mul"):
        for ci in range(c_in):
            g = ci // cin_g
            for i in range(h):
                for j in range(w):
                    xv = x[ci][i][j]
                    for k in range(cout_g):
                        co = g * cout_g + k
                        wk = weight[ci][k]
                        for a in range(kh):
                            oi = i * sh + a * dh
                            reach_h = max(reach_h, oi)
                            line = buf[co][oi]
                            for bb in range(kw):
                                oj = j * sw + bb * dw
                                reach_w = max(reach_w, oj)
                                line[oj] = line[oj] + xv * wk[a][bb]
    full_h, full_w = reach_h + 1, reach_w + 1  # the full (uncropped) output

    def cell(co, r, q):
        return buf[co][r][q] if r < full_h and q < full_w else zero

    out = [
        [[cell(co, r, q) for q in range(pw, full_w - pw + opw)] for r in range(ph, full_h - ph + oph)]
        for co in range(out_channels)
    ]
    if b is not None:
        with c.label("bias", "add"):
            out = [[[v + b[co] for v in row] for row in plane] for co, plane in enumerate(out)]
    return out


def separable_conv2d(c: Counter, x: list, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=True,
                     depth_multiplier=1):
    c_in = len(x)
    y = conv2d(c, x, c_in * depth_multiplier, kernel_size, stride, padding, dilation, groups=c_in, bias=bias)
    if not y[0]:
        return y
    return conv2d(c, y, out_channels, 1, bias=bias)


def linear(c: Counter, x: list, out_features, bias=True):
    """On (D,) or (L, D): per output ``acc = x0*w0``, ``acc = acc + xi*wi``, then ``+ b``."""
    tokens = x if isinstance(x[0], list) else [x]
    d_in = len(tokens[0])
    weight = c.allocate("weight", (out_features, d_in))
    b = c.allocate("bias", (out_features,)) if bias else None
    out = []
    with c.label("macs", "mul"):
        for t in tokens:
            row = []
            for o in range(out_features):
                acc = t[0] * weight[o][0]
                for i in range(1, d_in):
                    acc = acc + t[i] * weight[o][i]
                row.append(acc)
            out.append(row)
    if b is not None:
        with c.label("bias", "add"):
            out = [[v + b[o] for o, v in enumerate(row)] for row in out]
    return out if isinstance(x[0], list) else out[0]


def batch_norm2d(c: Counter, x: list, affine=True, track_running_stats=True, eps=1e-5):
    """Inference, folded offline into y = x*scale + shift (folding is not counted)."""
    ch = len(x)
    gamma = c.allocate("weight", (ch,)) if affine else None
    beta = c.allocate("bias", (ch,)) if affine else None
    if track_running_stats:
        mean = c.buffer("running_mean", (ch,), 0.0)
        var = c.buffer("running_var", (ch,), 1.0)
        c.buffer("num_batches_tracked", (1,), 0.0)
        mean_v, var_v = [m.v for m in mean], [v.v for v in var]
    else:
        mean_v, var_v = [0.0] * ch, [1.0] * ch
    scale = [(gamma[k].v if affine else 1.0) / math.sqrt(var_v[k] + eps) for k in range(ch)]
    shift = [(beta[k].v if affine else 0.0) - mean_v[k] * scale[k] for k in range(ch)]
    return [[[v * scale[k] + shift[k] for v in row] for row in plane] for k, plane in enumerate(x)]


# -- activations (elementwise, any shape) ---------------------------------
def relu(c, x):
    zero = c.num(0.0)
    return _map(lambda v: maximum(v, zero), x)


def relu6(c, x):
    zero, six = c.num(0.0), c.num(6.0)
    return _map(lambda v: minimum(maximum(v, zero), six), x)


def leaky_relu(c, x, negative_slope=0.01):
    return _map(lambda v: maximum(v, negative_slope * v), x)


def sigmoid(c, x):
    return _map(lambda v: 1.0 / (1.0 + exp(-v)), x)


def tanh_(c, x):
    return _map(tanh, x)


def gelu(c, x, approximate="none"):
    if approximate == "tanh":
        k = math.sqrt(2.0 / math.pi)
        return _map(lambda v: 0.5 * v * (1.0 + tanh(k * (v + 0.044715 * (v * v * v)))), x)
    inv_sqrt2 = 1.0 / math.sqrt(2.0)
    return _map(lambda v: v * 0.5 * (1.0 + erf(v * inv_sqrt2)), x)


def silu(c, x):
    return _map(lambda v: v / (1.0 + exp(-v)), x)


def hardswish(c, x):
    zero, six = c.num(0.0), c.num(6.0)
    return _map(lambda v: v * minimum(maximum(v + 3.0, zero), six) / 6.0, x)


def hardsigmoid(c, x):
    zero, six = c.num(0.0), c.num(6.0)
    return _map(lambda v: minimum(maximum(v + 3.0, zero), six) / 6.0, x)


# -- pools ----------------------------------------------------------------
def _window_starts(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> list[int]:
    """Window starts (in padded coordinates) along one axis, by torch's rule, one by one.

    A window fits if it ends inside the padded input. With ``ceil_mode`` one more
    window is taken whenever the previous one (a virtual one one stride before the
    first, for the first) stopped short of the padded input's end. Either way a
    window that would start in the right padding, or past it, is dropped.
    """
    padded = size + 2 * pad
    span = dilation * (kernel - 1) + 1
    starts = []
    i = 0
    while True:
        start = i * stride
        fits = start + span <= padded
        previous_short = (start - stride) + span < padded
        if not (fits or (ceil_mode and previous_short)):
            break
        if start - pad >= size:  # starts in the right padding
            break
        starts.append(start)
        i += 1
    return starts


def _pool_windows(x, kernel_size, stride, padding, dilation, ceil_mode, fill):
    """For each channel, the dense windows (lists of K_h*K_w taps) row by row.

    Taps outside the input, in the padding or hanging past it, are ``fill``.
    """
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(kernel_size if stride is None else stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    h, w = len(x[0]), len(x[0][0])
    rows = _window_starts(h, kh, sh, ph, dh, ceil_mode)
    cols = _window_starts(w, kw, sw, pw, dw, ceil_mode)

    def at(plane, r, q):  # r, q in padded coordinates
        r, q = r - ph, q - pw
        return plane[r][q] if 0 <= r < h and 0 <= q < w else fill

    return [
        [[[at(plane, r + a * dh, q + b * dw) for a in range(kh) for b in range(kw)] for q in cols] for r in rows]
        for plane in x
    ], (rows, cols)


def max_pool2d(c: Counter, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    windows, _ = _pool_windows(x, kernel_size, stride, padding, dilation, ceil_mode, c.num(NEG_INF))

    def reduce(taps):
        acc = taps[0]
        for t in taps[1:]:
            acc = maximum(acc, t)
        return acc

    return [[[reduce(win) for win in row] for row in plane] for plane in windows]


def avg_pool2d(c: Counter, x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    windows, (rows, cols) = _pool_windows(x, kernel_size, stride, padding, 1, ceil_mode, c.num(0.0))
    kh, kw = _pair(kernel_size)
    ph, pw = _pair(padding)
    h, w = len(x[0]), len(x[0][0])

    def divisor(r, q):  # index arithmetic, as torch computes it; not counted
        r0, q0 = r - ph, q - pw
        r1, q1 = min(r0 + kh, h + ph), min(q0 + kw, w + pw)
        if count_include_pad:
            return (r1 - r0) * (q1 - q0)
        return (min(r1, h) - max(r0, 0)) * (min(q1, w) - max(q0, 0))

    def reduce(taps, r, q):
        acc = taps[0]
        for t in taps[1:]:
            acc = acc + t
        return acc / divisor(r, q)

    return [
        [[reduce(win, r, q) for win, q in zip(row, cols)] for row, r in zip(plane, rows)] for plane in windows
    ]


def _adaptive_bins(size: int, bins: int | None) -> list[range]:
    bins = size if bins is None else bins
    return [range((i * size) // bins, -((-(i + 1) * size) // bins)) for i in range(bins)]


def _adaptive(x, output_size, reduce):
    oh, ow = _pair(output_size)
    h, w = len(x[0]), len(x[0][0])
    rbins, qbins = _adaptive_bins(h, oh), _adaptive_bins(w, ow)
    return [
        [[reduce([plane[r][q] for r in rb for q in qb]) for qb in qbins] for rb in rbins] for plane in x
    ]


def adaptive_avg_pool2d(c: Counter, x, output_size):
    def reduce(vals):
        acc = vals[0]
        for v in vals[1:]:
            acc = acc + v
        return acc / len(vals)

    return _adaptive(x, output_size, reduce)


def adaptive_max_pool2d(c: Counter, x, output_size):
    def reduce(vals):
        acc = vals[0]
        for v in vals[1:]:
            acc = maximum(acc, v)
        return acc

    return _adaptive(x, output_size, reduce)


# -- shape-only layers -----------------------------------------------------
def flatten(c: Counter, x, start_dim=1, end_dim=-1):
    """torch.flatten on the batched tensor ``[x]`` (batch is dimension 0)."""
    batched = [x]
    rank = len(shape_of(batched))
    start, end = start_dim % rank, end_dim % rank
    if not start <= end:
        raise ValueError("start_dim must not come after end_dim")

    def rec(t, depth):
        if depth == start:
            return _leaves(t, end - start + 1)
        return [rec(e, depth + 1) for e in t]

    return rec(batched, 0)[0]


def _leaves(t, depth):
    """The elements ``depth`` list levels below ``t``, in order."""
    if depth == 0:
        return [t]
    return [leaf for e in t for leaf in _leaves(e, depth - 1)]


def dropout(c: Counter, x, p=0.5):
    return _map(lambda v: v, x)  # inference: the identity


def identity(c: Counter, x):
    return _map(lambda v: v, x)


def upsample(c: Counter, x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """torch's CPU kernels; source indices and weights are index arithmetic, not counted."""
    h, w = len(x[0]), len(x[0][0])
    if size is not None:
        oh, ow = _pair(size)
        scales = (h / oh, w / ow)
    else:
        fh, fw = _pair(scale_factor)
        oh, ow = math.floor(h * fh), math.floor(w * fw)
        scales = (1 / fh, 1 / fw)
    if mode == "nearest":
        return [
            [[plane[min(int(math.floor(i * scales[0])), h - 1)][min(int(math.floor(j * scales[1])), w - 1)]
              for j in range(ow)] for i in range(oh)]
            for plane in x
        ]

    def source(dst, n_in, n_out, scale):
        if align_corners:
            s = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
            src = s * dst
        else:
            src = max(scale * (dst + 0.5) - 0.5, 0.0)
        i0 = min(int(src), n_in - 1)
        i1 = i0 + (1 if i0 < n_in - 1 else 0)
        l1 = src - i0
        return i0, i1, 1.0 - l1, l1

    rows = [source(i, h, oh, scales[0]) for i in range(oh)]
    cols = [source(j, w, ow, scales[1]) for j in range(ow)]
    return [
        [[h0 * (w0 * plane[r0][q0] + w1 * plane[r0][q1]) + h1 * (w0 * plane[r1][q0] + w1 * plane[r1][q1])
          for (q0, q1, w0, w1) in cols] for (r0, r1, h0, h1) in rows]
        for plane in x
    ]


def _broadcast(tensors: list) -> tuple[list, tuple[int, ...]]:
    """Inputs raised to a common rank (leading size-1 dimensions), and the broadcast shape."""
    rank = max(len(shape_of(t)) for t in tensors)
    raised = []
    for t in tensors:
        for _ in range(rank - len(shape_of(t))):
            t = [t]
        raised.append(t)
    out = []
    for axis in range(rank):
        sizes = {shape_of(t)[axis] for t in raised} - {1}
        if len(sizes) > 1:
            raise ValueError(f"shapes do not broadcast on axis {axis}: {sizes}")
        out.append(sizes.pop() if sizes else 1)
    return raised, tuple(out)


def _elementwise(tensors, op):
    raised, out_shape = _broadcast(tensors)
    shapes = [shape_of(t) for t in raised]

    def get(t, s, idx):
        for n, i in zip(s, idx):
            t = t[i if n > 1 else 0]
        return t

    flat = []
    for idx in itertools.product(*(range(n) for n in out_shape)):
        acc = get(raised[0], shapes[0], idx)
        for t, s in zip(raised[1:], shapes[1:]):
            acc = op(acc, get(t, s, idx))
        flat.append(acc)

    def fold(values, dims):
        if len(dims) == 1:
            return values
        step = len(values) // dims[0]
        return [fold(values[k * step:(k + 1) * step], dims[1:]) for k in range(dims[0])]

    return fold(flat, out_shape)


def add(c: Counter, *xs):
    return _elementwise(list(xs), lambda a, b: a + b)


def mul(c: Counter, *xs):
    return _elementwise(list(xs), lambda a, b: a * b)


def scale(c: Counter, x, factor=2, divide=False):
    return _map(lambda v: v / factor if divide else v * factor, x)


def cat(c: Counter, *xs, dim=1):
    """torch.cat of the batched tensors ``[x]`` along ``dim`` (batch is dimension 0): copies, no arithmetic."""
    batched = [[x] for x in xs]
    rank = len(shape_of(batched[0]))
    axis = dim % rank
    if axis == 0 or any(len(shape_of(b)) != rank for b in batched):
        raise ValueError("cat joins tensors of one rank along a dimension other than the batch")

    def join(parts, depth):
        if depth == axis:
            return [e for part in parts for e in part]
        if len({len(p) for p in parts}) != 1:
            raise ValueError("cat inputs differ outside the joined dimension")
        return [join([p[i] for p in parts], depth + 1) for i in range(len(parts[0]))]

    return join(batched, 0)[0]


def mean(c: Counter, x, dim, keepdim=False):
    """x.mean(dim, keepdim) on the batched tensor ``[x]``: per output, sum left to right, then divide."""
    batched = [x]
    shape = shape_of(batched)
    axes = {d % len(shape) for d in ((dim,) if isinstance(dim, int) else dim)}
    groups: dict[tuple, list] = {}
    for idx in itertools.product(*(range(n) for n in shape)):
        t = batched
        for i in idx:
            t = t[i]
        key = tuple(0 if a in axes else i for a, i in enumerate(idx))
        groups.setdefault(key, []).append(t)

    def reduce(vals):
        acc = vals[0]
        for v in vals[1:]:
            acc = acc + v
        return acc / len(vals)

    out_shape = tuple(1 if a in axes else n for a, n in enumerate(shape))
    flat = [reduce(groups[key]) for key in itertools.product(*(range(n) for n in out_shape))]

    def fold(values, dims):
        if len(dims) == 1:
            return values
        step = len(values) // dims[0]
        return [fold(values[k * step:(k + 1) * step], dims[1:]) for k in range(dims[0])]

    out = fold(flat, out_shape)[0]
    if keepdim:
        return out
    kept = [a for a in range(1, len(shape)) if a not in axes]

    def squeeze(t, depth):  # drop the size-1 levels of the averaged dimensions
        if depth == len(shape):
            return t
        if depth in axes:
            return squeeze(t[0], depth + 1)
        return [squeeze(e, depth + 1) for e in t]

    return squeeze(out, 1) if kept else None


def pad2d(c: Counter, x, padding, mode="constant"):
    """F.pad of a (C, H, W) map by (left, right, top, bottom): constants or copied pixels, no arithmetic."""
    left, right, top, bottom = (padding,) * 4 if isinstance(padding, int) else padding
    fill = c.num(0.0)
    return [_pad2d(plane, (top, left), (bottom, right), fill) for plane in x]


# --------------------------------------------------------------------------
# Running a layer
# --------------------------------------------------------------------------
@dataclass
class Result:
    """What one brute-force forward pass executed and produced."""

    shape: tuple[int, ...]
    ops: dict[str, int]
    macs: int
    bias_adds: int
    weight: int
    bias: int
    buffers: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.ops.values())

    @property
    def empty(self) -> bool:
        """No output at all (a window that never fits, a crop that eats everything)."""
        return not self.shape or 0 in self.shape


def evaluate(layer, *shapes: tuple[int, ...], **arguments) -> Result:
    """Run ``layer`` on fresh inputs of ``shapes`` and report what it executed."""
    c = Counter()
    inputs = [c.tensor(tuple(s)) for s in shapes]
    out = layer(c, *inputs, **arguments)
    return Result(
        shape=shape_of(out),
        ops=c.ops(),
        macs=c.labels["macs"],
        bias_adds=c.labels["bias"],
        weight=c.params["weight"],
        bias=c.params["bias"],
        buffers=dict(c.buffers),
    )
