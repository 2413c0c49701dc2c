"""A naive reference implementation of every layer kind, counting what it executes.

Nothing here comes from symcost: each layer is written the plain way, in
Python loops over small nested lists, on :class:`Num` values that count every
arithmetic operation applied to them. The counts and the output shape are
then *observed*, never computed from a formula:

* ``Num`` wraps a float; ``+``/``-`` count an add, ``*`` a multiply, ``/`` a
  division, ``<``/``>`` a comparison, and :func:`exp`, :func:`erf`,
  :func:`tanh`, :func:`sqrt`, :func:`rsqrt`, :func:`log`, :func:`power` a
  special function. Negation is free. Operations between plain Python numbers
  (index arithmetic, folded constants) are not counted. Selections (where,
  masked_fill, layout ops, nearest resampling, embedding look-ups) cost nothing.
* Parameters are allocated as nested lists and their scalars counted, under
  torch's parameter names (``Result.tensors``), so tests can load them into
  the torch module; buffers likewise.
* Labelled regions: ``macs`` (the multiplies of the main products), ``bias``
  (bias adds), and per layer more (``qk_macs``, ``av_macs``, ``scale``,
  ``mask``, ``dropout`` in attention; ``running_stats`` in training batch
  norm), all in ``Result.labels``.
* The output shape is measured from the nested lists a layer returns (a Num
  is a 0-d output, ``Result.scalar``; a tuple is several outputs,
  ``Result.shapes``).
* Per-sample inputs; ``dim`` arguments index the batched tensor (see the
  conventions note above the layers).

Entry point: :func:`evaluate`, e.g. ``evaluate(conv2d, (3, 8, 8), out_channels=4,
kernel_size=3)`` returns a :class:`Result` with the shape, the per-category
counts, the ``macs`` and ``bias`` labels, and the parameter counts.
:func:`run` does the same on given values (floats become counting numbers;
ints and bools stay: token ids, masks) and keeps the output values.

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
        self.named: dict[str, list] = {}  # parameter and buffer tensors by (torch) name, for value checks
        self._seed = 12345

    def ops(self) -> dict[str, int]:
        return {c: getattr(self, c) for c in CATEGORIES}

    @contextmanager
    def label(self, name: str, category: str):
        """Add to label ``name`` the operations of ``category`` (or ``"all"``) executed inside the block."""

        def count() -> int:
            return sum(self.ops().values()) if category == "all" else getattr(self, category)

        before = count()
        yield
        self.labels[name] = self.labels.get(name, 0) + count() - before

    def value(self) -> float:
        """A deterministic pseudo-random value in [-1, 1] (values never change counts)."""
        self._seed = (self._seed * 1103515245 + 12345) % (2**31)
        return self._seed / 2**30 - 1.0

    def num(self, v: float | None = None) -> "Num":
        return Num(self.value() if v is None else v, self)

    def allocate(self, kind: str, shape: tuple[int, ...], name: str | None = None) -> list:
        """A parameter tensor (``weight`` or ``bias``) of ``shape``; its scalars are counted.

        ``name`` is torch's parameter name (default: ``kind``), under which the tensor is kept
        in :attr:`named` so that tests can copy the values into the torch module.
        """
        t = self.tensor(shape)
        self.params[kind] += numel(t)
        self._keep(name or kind, t)
        return t

    def buffer(self, name: str, shape: tuple[int, ...], fill: float | None = None) -> list:
        t = self.tensor(shape, fill)
        self.buffers[name] = self.buffers.get(name, 0) + numel(t)
        self._keep(name, t)
        return t

    def _keep(self, name: str, t: list) -> None:
        key, k = name, 1
        while key in self.named:  # a layer built of two (separable conv): later ones get a suffix
            key, k = f"{name}#{k}", k + 1
        self.named[key] = t

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


def sqrt(x: Num) -> Num:
    x.c.special += 1
    return Num(math.sqrt(x.v) if x.v >= 0 else math.nan, x.c)


def rsqrt(x: Num) -> Num:
    """1/sqrt(x) as one special function (torch.rsqrt), no division."""
    x.c.special += 1
    return Num(1.0 / math.sqrt(x.v) if x.v > 0 else (math.inf if x.v == 0 else math.nan), x.c)


def log(x: Num) -> Num:
    x.c.special += 1
    return Num(math.log(x.v) if x.v > 0 else (NEG_INF if x.v == 0 else math.nan), x.c)


def power(x, e) -> Num:
    """x ** e (either may be a plain number) as one special function, whatever the exponent."""
    c = x.c if isinstance(x, Num) else e.c
    c.special += 1
    base, ex = _v(x), _v(e)
    try:
        v = math.pow(base, ex)
    except ValueError:  # 0 ** negative, or a negative base to a fractional power
        v = math.inf if base == 0 else math.nan
    except OverflowError:
        v = math.inf
    return Num(v, c)


def _sigmoid(v: Num) -> Num:
    """1 / (1 + exp(-v)): one special, one add, one division (as :func:`sigmoid`)."""
    return 1.0 / (1.0 + exp(-v))


# --------------------------------------------------------------------------
# Nested lists
# --------------------------------------------------------------------------
def shape_of(t: object) -> tuple[int, ...]:
    """The measured shape of a nested list (stops at the first empty list); ``()`` for a scalar."""
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


def _tuple(v: object, n: int) -> tuple:
    """``v`` for each of ``n`` axes (an int repeated, or a sequence taken as is)."""
    t = tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
    if len(t) != n:
        raise ValueError(f"expected {n} values, got {v!r}")
    return t


def _pair(v: object) -> tuple:
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _map(fn, t):
    """Apply ``fn`` to every scalar of a nested list."""
    if isinstance(t, list):
        return [_map(fn, e) for e in t]
    return fn(t)


def _get(t, idx):
    """The entry of nested list ``t`` at index tuple ``idx``."""
    for i in idx:
        t = t[i]
    return t


def _build(shape, fn):
    """A nested list of ``shape`` whose entry at index tuple ``idx`` is ``fn(idx)`` (``fn(())`` for ``()``)."""
    def rec(prefix, depth):
        if depth == len(shape):
            return fn(prefix)
        return [rec(prefix + (i,), depth + 1) for i in range(shape[depth])]

    return rec((), 0)


def _flat(t) -> list:
    """The scalars of a nested list, in row-major order."""
    if isinstance(t, list):
        return [v for e in t for v in _flat(e)]
    return [t]


def _fold(values: list, shape):
    """Row-major ``values`` as a nested list of ``shape`` (a scalar for ``()``)."""
    if not shape:
        return values[0]
    if len(shape) == 1:
        return list(values)
    step = len(values) // shape[0] if shape[0] else 0
    return [_fold(values[k * step:(k + 1) * step], shape[1:]) for k in range(shape[0])]


def _indices(shape):
    return itertools.product(*(range(n) for n in shape))


def _axis(dim: int, rank: int) -> int:
    """A ``dim`` of the batched tensor (batch = dimension 0) as an axis of the per-sample tensor of ``rank``."""
    a = dim % (rank + 1) if -(rank + 1) <= dim <= rank else None
    if a is None or a == 0:
        raise ValueError(f"dim {dim} is the batch or out of range for a per-sample rank {rank}")
    return a - 1


def _axes(dim, rank: int) -> list[int]:
    """Per-sample axes of ``dim`` (an int, a sequence, or ``None`` for every per-sample axis)."""
    if dim is None:
        return list(range(rank))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    axes = sorted({_axis(d, rank) for d in dims})
    if len(axes) != len(dims):
        raise ValueError(f"repeated dims {dim}")
    return axes


def _accumulate(values: list, op=lambda a, b: a + b):
    """values[0] op values[1] op ...: ``len(values) - 1`` operations."""
    acc = values[0]
    for v in values[1:]:
        acc = op(acc, v)
    return acc


def _dot(xs, ws):
    """x0*w0 + x1*w1 + ...: n multiplies and n - 1 adds."""
    acc = xs[0] * ws[0]
    for a, b in zip(xs[1:], ws[1:]):
        acc = acc + a * b
    return acc


def _pad2d(plane: list, before: tuple[int, int], after: tuple[int, int], fill: Num) -> list:
    """A 2-D plane padded densely: ``before``/``after`` rows and columns of ``fill``."""
    width = len(plane[0]) + before[1] + after[1]
    rows = [[fill] * width for _ in range(before[0])]
    for row in plane:
        rows.append([fill] * before[1] + list(row) + [fill] * after[1])
    rows += [[fill] * width for _ in range(after[0])]
    return rows


# --------------------------------------------------------------------------
# Layers: each takes (counter, input tensor(s), **arguments) and returns a tensor
# (a nested list; a Num for a 0-d result; a tuple of tensors for several outputs).
#
# Conventions shared by the layers below:
# * inputs are per sample (batch excluded): conv1d (C, L), conv2d (C, H, W), conv3d (C, T, H, W),
#   a sequence (L, D), attention q/k/v (heads, L, E);
# * a ``dim`` argument indexes the *batched* tensor, as in torch code written for batches
#   (``nn.Softmax(dim=-1)``, ``nn.Flatten(1)``): dimension 0 is the batch and may not be touched;
#   negative dims count from the end. Shape arguments (reshape, expand) are per sample;
# * functional ops without a dim (matmul, bmm, einsum, sdpa) take the per-sample tensors as torch would.
# --------------------------------------------------------------------------

# -- convolutions -----------------------------------------------------------
def _conv(c: Counter, x: list, nd: int, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
          bias=True):
    """N-d convolution, dense zero padding: per output ``acc = x*w`` then ``acc = acc + x*w``; then ``+ b``.

    Per output: K^N * C_in/groups multiplies (label ``macs``), one fewer adds, then one labelled
    ``bias`` add. Taps in the zero padding are multiplied too (they are executed).
    """
    k, s, d = _tuple(kernel_size, nd), _tuple(stride, nd), _tuple(dilation, nd)
    spatial = shape_of(x)[1:]
    if len(spatial) != nd:
        raise ValueError(f"a {nd}-d convolution takes (C, {nd} spatial dims), got {shape_of(x)}")
    if padding == "valid":
        before = after = (0,) * nd
    elif padding == "same":
        assert s == (1,) * nd, "'same' needs stride 1"
        total = tuple(di * (ki - 1) for di, ki in zip(d, k))
        before = tuple(t // 2 for t in total)
        after = tuple(t - b for t, b in zip(total, before))
    else:
        before = after = _tuple(padding, nd)
    c_in = len(x)
    assert c_in % groups == 0 and out_channels % groups == 0
    cin_g, cout_g = c_in // groups, out_channels // groups
    zero = c.num(0.0)
    weight = c.allocate("weight", (out_channels, cin_g, *k))
    b = c.allocate("bias", (out_channels,)) if bias else None

    sizes = []  # outputs per axis: count the windows that still fit in the padded input
    for a in range(nd):
        padded, n = spatial[a] + before[a] + after[a], 0
        while n * s[a] + d[a] * (k[a] - 1) < padded:
            n += 1
        sizes.append(n)
    if 0 in sizes:
        return [[] for _ in range(out_channels)]
    taps = list(_indices(k))

    def tap(ci, pos):  # pos in padded coordinates
        src = tuple(p - bf for p, bf in zip(pos, before))
        if all(0 <= q < n for q, n in zip(src, spatial)):
            return _get(x[ci], src)
        return zero

    def output(co, o):
        g, acc = co // cout_g, None
        for ci in range(cin_g):
            wk = weight[co][ci]
            for t in taps:
                pos = tuple(oi * si + ti * di for oi, si, ti, di in zip(o, s, t, d))
                term = tap(g * cin_g + ci, pos) * _get(wk, t)
                acc = term if acc is None else acc + term
        return acc

    with c.label("macs", "mul"):
        out = [_build(tuple(sizes), lambda o, co=co: output(co, o)) for co in range(out_channels)]
    if b is not None:
        with c.label("bias", "add"):
            out = [_map(lambda v, co=co: v + b[co], plane) for co, plane in enumerate(out)]
    return out


def conv1d(c: Counter, x: list, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True):
    """On (C, L); see :func:`_conv`."""
    return _conv(c, x, 1, out_channels, kernel_size, stride, padding, dilation, groups, bias)


def conv2d(c: Counter, x: list, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True):
    """On (C, H, W); see :func:`_conv`."""
    return _conv(c, x, 2, out_channels, kernel_size, stride, padding, dilation, groups, bias)


def conv3d(c: Counter, x: list, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True):
    """On (C, T, H, W); see :func:`_conv`.

    >>> r = evaluate(conv3d, (2, 3, 4, 4), out_channels=2, kernel_size=(1, 3, 3), padding=(0, 1, 1))
    >>> r.shape, r.ops["mul"], r.ops["add"], r.bias_adds
    ((2, 3, 4, 4), 1728, 1728, 96)
    """
    return _conv(c, x, 3, out_channels, kernel_size, stride, padding, dilation, groups, bias)


def _conv_transpose(c: Counter, x: list, nd: int, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                    groups=1, bias=True, dilation=1):
    """N-d scatter form into a zero buffer, then crop ``padding`` both sides, extend by ``output_padding``.

    Every (input, weight) pair is one multiply (``macs``) and one add into the buffer (the first
    add into a zero cell counts too): C_in * prod(in) * C_out/groups * K^N of each; then a ``bias``
    add per output.
    """
    k, s, d = _tuple(kernel_size, nd), _tuple(stride, nd), _tuple(dilation, nd)
    p, op = _tuple(padding, nd), _tuple(output_padding, nd)
    spatial = shape_of(x)[1:]
    if len(spatial) != nd:
        raise ValueError(f"a {nd}-d transposed convolution takes (C, {nd} spatial dims), got {shape_of(x)}")
    c_in = len(x)
    assert c_in % groups == 0 and out_channels % groups == 0
    cin_g, cout_g = c_in // groups, out_channels // groups
    weight = c.allocate("weight", (c_in, cout_g, *k))
    b = c.allocate("bias", (out_channels,)) if bias else None

    zero = c.num(0.0)
    buf: dict[tuple, Num] = {}  # the zero buffer, sparse; its used extent is measured
    reach = [-1] * nd
    taps = list(_indices(k))
    with c.label("macs", "mul"):
        for ci in range(c_in):
            g = ci // cin_g
            for i in _indices(spatial):
                xv = _get(x[ci], i)
                for kk in range(cout_g):
                    co = g * cout_g + kk
                    wk = weight[ci][kk]
                    for t in taps:
                        pos = tuple(ii * si + ti * di for ii, si, ti, di in zip(i, s, t, d))
                        reach = [max(r, q) for r, q in zip(reach, pos)]
                        buf[(co, pos)] = buf.get((co, pos), zero) + xv * _get(wk, t)
    full = [r + 1 for r in reach]  # the full (uncropped) output
    sizes = tuple(max(0, f - 2 * pi + oi) for f, pi, oi in zip(full, p, op))
    out = _build((out_channels, *sizes),
                 lambda o: buf.get((o[0], tuple(q + pi for q, pi in zip(o[1:], p))), zero))
    if b is not None:
        with c.label("bias", "add"):
            out = [_map(lambda v, co=co: v + b[co], plane) for co, plane in enumerate(out)]
    return out


def conv_transpose1d(c: Counter, x: list, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                     groups=1, bias=True, dilation=1):
    """On (C, L); see :func:`_conv_transpose`."""
    return _conv_transpose(c, x, 1, out_channels, kernel_size, stride, padding, output_padding, groups, bias, dilation)


def conv_transpose2d(c: Counter, x: list, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                     groups=1, bias=True, dilation=1):
    """On (C, H, W); see :func:`_conv_transpose`."""
    return _conv_transpose(c, x, 2, out_channels, kernel_size, stride, padding, output_padding, groups, bias, dilation)


def conv_transpose3d(c: Counter, x: list, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                     groups=1, bias=True, dilation=1):
    """On (C, T, H, W); see :func:`_conv_transpose`."""
    return _conv_transpose(c, x, 3, out_channels, kernel_size, stride, padding, output_padding, groups, bias, dilation)


def separable_conv2d(c: Counter, x: list, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=True,
                     depth_multiplier=1):
    c_in = len(x)
    y = conv2d(c, x, c_in * depth_multiplier, kernel_size, stride, padding, dilation, groups=c_in, bias=bias)
    if not y[0]:
        return y
    return conv2d(c, y, out_channels, 1, bias=bias)


# -- dense products ---------------------------------------------------------
def _project(c: Counter, tokens: list, weight: list, bias: list | None) -> list:
    """Each token (a list of D_in) through ``weight`` (D_out, D_in): dot products (``macs``), then ``+ b`` (``bias``)."""
    with c.label("macs", "mul"):
        out = [[_dot(t, w) for w in weight] for t in tokens]
    if bias is not None:
        with c.label("bias", "add"):
            out = [[v + bias[o] for o, v in enumerate(row)] for row in out]
    return out


def linear(c: Counter, x: list, out_features, bias=True):
    """On (..., D): per output ``acc = x0*w0``, ``acc = acc + xi*wi``, then ``+ b``."""
    shape = shape_of(x)
    d_in = shape[-1]
    weight = c.allocate("weight", (out_features, d_in))
    b = c.allocate("bias", (out_features,)) if bias else None
    tokens = _leaves(x, len(shape) - 1)
    out = _project(c, tokens, weight, b)
    return _fold([v for row in out for v in row], shape[:-1] + (out_features,))


def _batched_matrix(t, shape, batch, idx):
    """The matrix of ``t`` (of ``shape``) at broadcast batch index ``idx`` (right-aligned, size 1 broadcast)."""
    own = shape[:-2]
    pick = idx[len(batch) - len(own):]
    return _get(t, tuple(i if n > 1 else 0 for i, n in zip(pick, own)))


def _broadcast_shapes(*shapes) -> tuple[int, ...]:
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for a in range(rank):
        sizes = {s[a - rank + len(s)] for s in shapes if a - rank + len(s) >= 0} - {1}
        if len(sizes) > 1:
            raise ValueError(f"shapes {shapes} do not broadcast")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def matmul(c: Counter, a, b):
    """torch.matmul with all its rules: 1-D operands promoted then squeezed, batch dims broadcast.

    Per output element: n multiplies (``macs``) and n - 1 adds. A 1-D by 1-D product is a 0-d result.

    >>> r = evaluate(matmul, (2, 1, 3, 4), (4, 5))
    >>> r.shape, r.ops["mul"], r.ops["add"], r.macs
    ((2, 1, 3, 5), 120, 90, 120)
    >>> evaluate(matmul, (4,), (4,)).shape, evaluate(matmul, (3,), (2, 3, 5)).shape
    ((), (2, 5))
    """
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        raise ValueError("matmul needs at least 1-D operands")
    a2 = [a] if len(sa) == 1 else a  # (n,) -> (1, n)
    b2 = [[v] for v in b] if len(sb) == 1 else b  # (n,) -> (n, 1)
    sa2, sb2 = shape_of(a2), shape_of(b2)
    n, k = sa2[-2:]
    k2, p = sb2[-2:]
    if k != k2:
        raise ValueError(f"matmul: inner sizes differ, {sa} @ {sb}")
    batch = _broadcast_shapes(sa2[:-2], sb2[:-2])
    keep_n, keep_p = len(sa) > 1, len(sb) > 1
    out_shape = batch + ((n,) if keep_n else ()) + ((p,) if keep_p else ())

    def entry(idx):
        bi = idx[:len(batch)]
        rest = idx[len(batch):]
        i = rest[0] if keep_n else 0
        j = rest[-1] if keep_p else 0
        ma, mb = _batched_matrix(a2, sa2, batch, bi), _batched_matrix(b2, sb2, batch, bi)
        return _dot(ma[i], [mb[r][j] for r in range(k)])

    with c.label("macs", "mul"):
        return _build(out_shape, entry)


def bmm(c: Counter, a, b):
    """torch.bmm: (B, n, k) @ (B, k, p), no broadcasting; counts as :func:`matmul`."""
    sa, sb = shape_of(a), shape_of(b)
    if len(sa) != 3 or len(sb) != 3 or sa[0] != sb[0]:
        raise ValueError(f"bmm takes two 3-D tensors of one batch size, got {sa} and {sb}")
    return matmul(c, a, b)


def _scaled_sum(c: Counter, inp, prod, beta, alpha):
    """``beta * inp + alpha * prod`` (inp broadcast to prod's shape), the way a naive kernel does it.

    Per output: a multiply by ``alpha`` unless alpha == 1; with beta == 0 the input is not read at
    all (torch ignores it, NaNs included); else a multiply by ``beta`` unless beta == 1, and one add.
    """
    shape, si = shape_of(prod), shape_of(inp)
    if _broadcast_shapes(si, shape) != shape:
        raise ValueError(f"input {si} does not broadcast to {shape}")

    def entry(idx):
        r = _get(prod, idx)
        if alpha != 1:
            r = r * alpha
        if beta == 0:
            return r
        t = _get(inp, tuple(i if n > 1 else 0 for i, n in zip(idx[len(shape) - len(si):], si)))
        if beta != 1:
            t = t * beta
        return t + r

    return _build(shape, entry)


def baddbmm(c: Counter, inp, batch1, batch2, beta=1, alpha=1):
    """torch.baddbmm: ``beta * input + alpha * (batch1 @ batch2)``; see :func:`_scaled_sum`."""
    return _scaled_sum(c, inp, bmm(c, batch1, batch2), beta, alpha)


def addmm(c: Counter, inp, mat1, mat2, beta=1, alpha=1):
    """torch.addmm: ``beta * input + alpha * (mat1 @ mat2)`` on 2-D mats; see :func:`_scaled_sum`."""
    if len(shape_of(mat1)) != 2 or len(shape_of(mat2)) != 2:
        raise ValueError("addmm takes 2-D matrices")
    return _scaled_sum(c, inp, matmul(c, mat1, mat2), beta, alpha)


def einsum(c: Counter, *operands, equation: str):
    """torch.einsum of ANY equation, naively: for every output index, sum over every combination
    of the contracted indices of the product of the operands' entries.

    Per output element with T contracted combinations and k operands: T*(k-1) multiplies
    (``macs``) and T - 1 adds. Ellipses broadcast (right-aligned), as does any size-1 dimension;
    a repeated index in one operand takes its diagonal; without ``->`` the output is the ellipsis
    dims then the indices seen once, in alphabetical (ASCII) order.

    >>> r = evaluate(einsum, (2, 3), (3, 4), (4, 5), equation="ij,jk,kl->il")
    >>> r.shape, r.ops["mul"], r.ops["add"]
    ((2, 5), 240, 110)
    >>> evaluate(einsum, (3, 3), equation="ii").ops["add"], evaluate(einsum, (2, 3), equation="ij->ji").total
    (2, 0)
    """
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"{equation!r} names {len(terms)} operands, got {len(operands)}")
    shapes = [shape_of(o) for o in operands]
    n_ell = 0
    for term, s in zip(terms, shapes):
        if "..." in term:
            n_ell = max(n_ell, len(s) - (len(term) - 3))
    ell = [("...", i) for i in range(n_ell)]

    def labels(term, rank):
        if "..." in term:
            head, _, tail = term.partition("...")
            e = rank - len(head) - len(tail)
            return list(head) + ell[n_ell - e:] + list(tail)
        if len(term) != rank:
            raise ValueError(f"subscripts {term!r} for an operand of rank {rank}")
        return list(term)

    op_labels = [labels(t, len(s)) for t, s in zip(terms, shapes)]
    sizes: dict = {}
    for lab, s in zip(op_labels, shapes):
        for l, n in zip(lab, s):
            if sizes.get(l, 1) not in (1, n) and n != 1:
                raise ValueError(f"index {l!r} has sizes {sizes[l]} and {n}")
            sizes[l] = max(sizes.get(l, 1), n)
    if arrow:
        if "..." in rhs:
            head, _, tail = rhs.partition("...")
            out_labels = list(head) + ell + list(tail)
        else:
            out_labels = list(rhs)
    else:
        seen = [l for lab in op_labels for l in lab if not isinstance(l, tuple)]
        out_labels = ell + sorted(l for l in set(seen) if seen.count(l) == 1)
    if len(set(out_labels)) != len(out_labels) or any(l not in sizes for l in out_labels):
        raise ValueError(f"bad output subscripts in {equation!r}")
    contracted = [l for l in sizes if l not in out_labels]

    def entry(idx):
        at = dict(zip(out_labels, idx))
        acc = None
        for combo in _indices([sizes[l] for l in contracted]):
            at.update(zip(contracted, combo))
            term = None
            for o, lab, s in zip(operands, op_labels, shapes):
                v = _get(o, tuple(at[l] if n > 1 else 0 for l, n in zip(lab, s)))
                term = v if term is None else term * v
            acc = term if acc is None else acc + term
        return acc

    with c.label("macs", "mul"):
        return _build(tuple(sizes[l] for l in out_labels), entry)


# -- normalisation ----------------------------------------------------------
def _batch_norm_inference(c: Counter, x: list, affine: bool, track_running_stats: bool, eps: float) -> list:
    """Inference, folded offline into y = x*scale + shift (folding is not counted): 2 ops per element."""
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
    return [_map(lambda v, k=k: v * scale[k] + shift[k], plane) for k, plane in enumerate(x)]


def batch_norm1d(c: Counter, x: list, affine=True, track_running_stats=True, eps=1e-5):
    """On (C,) or (C, L), inference; see :func:`_batch_norm_inference`."""
    if len(shape_of(x)) not in (1, 2):
        raise ValueError("batch_norm1d takes (C,) or (C, L)")
    return _batch_norm_inference(c, x, affine, track_running_stats, eps)


def batch_norm2d(c: Counter, x: list, affine=True, track_running_stats=True, eps=1e-5):
    """On (C, H, W), inference; see :func:`_batch_norm_inference`."""
    return _batch_norm_inference(c, x, affine, track_running_stats, eps)


def batch_norm3d(c: Counter, x: list, affine=True, track_running_stats=True, eps=1e-5):
    """On (C, T, H, W), inference; see :func:`_batch_norm_inference`."""
    if len(shape_of(x)) != 4:
        raise ValueError("batch_norm3d takes (C, T, H, W)")
    return _batch_norm_inference(c, x, affine, track_running_stats, eps)


def _moments(values: list):
    """mean = sum / n (n-1 adds, 1 div); deviations d = x - mean (n adds); sum(d*d) (n multiplies,
    n-1 adds). Returns (mean, deviations, sum d*d); the caller divides the last."""
    n = len(values)
    mu = _accumulate(values) / n
    dev = [v - mu for v in values]
    return mu, dev, _accumulate([d * d for d in dev])


def _standardise(values: list, eps: float) -> list:
    """(x - mean) * rstd with rstd = 1 / sqrt(var + eps), the statistics computed now (biased variance).

    Per group of n: mean n-1 adds + 1 div; deviations n adds (computed once, reused for the output);
    variance n muls + n-1 adds + 1 div; rstd 1 add + 1 special (sqrt) + 1 div, as torch's CPU kernels
    (layer_norm, group_norm, batch_norm's InvStd all compute ``1 / std::sqrt(var + eps)``); then n muls.
    """
    return _standardise_stats(values, eps)[0]


def _standardise_stats(values: list, eps: float):
    mu, dev, ss = _moments(values)
    rstd = 1.0 / sqrt(ss / len(values) + eps)  # biased variance: 1 div
    return [d * rstd for d in dev], mu, ss


def _affine(y, weight, bias):
    """y * weight + bias elementwise (same shapes), 1 multiply and 1 add per element when present."""
    if weight is not None:
        y = [v * w for v, w in zip(y, weight)]
    if bias is not None:
        y = [v + b for v, b in zip(y, bias)]
    return y


def layer_norm(c: Counter, x: list, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True):
    """nn.LayerNorm over the last dims ``normalized_shape``: statistics per group (:func:`_standardise`),
    then ``* weight`` (1 mul) and ``+ bias`` (1 add) per element when affine.

    >>> evaluate(layer_norm, (2, 4), normalized_shape=4).ops
    {'mul': 24, 'add': 30, 'cmp': 0, 'div': 6, 'special': 2}
    """
    ns = _tuple(normalized_shape, 1) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    shape = shape_of(x)
    lead = len(shape) - len(ns)
    if lead < 0 or shape[lead:] != ns:
        raise ValueError(f"normalized_shape {ns} is not the end of {shape}")
    w = _flat(c.allocate("weight", ns)) if elementwise_affine else None
    b = _flat(c.allocate("bias", ns)) if elementwise_affine and bias else None
    out = [_affine(_standardise(_flat(g), eps), w, b) for g in _leaves(x, lead)]
    return _fold([v for g in out for v in g], shape)


def rms_norm(c: Counter, x: list, normalized_shape, eps=None, elementwise_affine=True):
    """nn.RMSNorm as torch computes it: ``x * rsqrt(mean(x*x) + eps) [* weight]``.

    Per group of n: n muls (squares), n-1 adds, 1 div (mean), 1 add (eps), 1 special (rsqrt: torch
    calls torch.rsqrt here, no division), n muls (normalise), n muls (weight). ``eps=None`` is
    float32's machine epsilon, as torch's default for float32.
    """
    ns = _tuple(normalized_shape, 1) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    shape = shape_of(x)
    lead = len(shape) - len(ns)
    if lead < 0 or shape[lead:] != ns:
        raise ValueError(f"normalized_shape {ns} is not the end of {shape}")
    eps = 2.0 ** -23 if eps is None else eps
    w = _flat(c.allocate("weight", ns)) if elementwise_affine else None
    out = []
    for g in _leaves(x, lead):
        vals = _flat(g)
        r = rsqrt(_accumulate([v * v for v in vals]) / len(vals) + eps)
        out.append(_affine([v * r for v in vals], w, None))
    return _fold([v for g in out for v in g], shape)


def group_norm(c: Counter, x: list, num_groups, eps=1e-5, affine=True):
    """nn.GroupNorm on (C, *spatial): statistics per group of C/G channels (:func:`_standardise`),
    then per-channel ``* weight + bias`` (1 mul + 1 add per element) when affine."""
    shape = shape_of(x)
    ch = shape[0]
    if ch % num_groups:
        raise ValueError("num_groups must divide the channels")
    cg = ch // num_groups
    w = c.allocate("weight", (ch,)) if affine else None
    b = c.allocate("bias", (ch,)) if affine else None
    flat = []
    per_channel = numel(x[0])
    for g in range(num_groups):
        y = _standardise(_flat(x[g * cg:(g + 1) * cg]), eps)
        if affine:
            chans = [g * cg + i // per_channel for i in range(len(y))]
            y = _affine(y, [w[k] for k in chans], [b[k] for k in chans])
        flat += y
    return _fold(flat, shape)


def instance_norm(c: Counter, x: list, affine=False, track_running_stats=False, eps=1e-5):
    """nn.InstanceNorm{1,2,3}d on (C, *spatial). Default (no running stats): statistics per channel
    (:func:`_standardise`), then ``* weight + bias`` per element when affine. With
    ``track_running_stats`` inference uses the running stats, folded as :func:`batch_norm2d` (2 ops/element)."""
    if len(shape_of(x)) < 2:
        raise ValueError("instance_norm takes (C, *spatial)")
    if track_running_stats:
        return _batch_norm_inference(c, x, affine, True, eps)
    ch = len(x)
    w = c.allocate("weight", (ch,)) if affine else None
    b = c.allocate("bias", (ch,)) if affine else None
    out = []
    for k, plane in enumerate(x):
        y = _standardise(_flat(plane), eps)
        if affine:
            y = _affine(y, [w[k]] * len(y), [b[k]] * len(y))
        out.append(_fold(y, shape_of(plane)))
    return out


def batch_norm_training(c: Counter, x: list, affine=True, track_running_stats=True, momentum=0.1, eps=1e-5):
    """nn.BatchNorm{1,2,3}d in training mode on one sample (C, *spatial) (a batch of one: the statistics
    are over the spatial dims of each channel; torch refuses a single value per channel).

    Per channel: :func:`_standardise`, then ``* weight + bias`` per element when affine. With
    ``track_running_stats`` the running stats are updated, counted under the label ``running_stats``
    (all categories): unbiased variance = sum d*d / (n-1) (1 div), then for mean and variance
    ``(1-momentum)*old + momentum*new`` (2 muls + 1 add each): 1 div, 4 muls, 2 adds per channel.
    """
    shape = shape_of(x)
    if len(shape) < 2 or numel(x[0]) < 2:
        raise ValueError("training batch norm needs more than one value per channel")
    ch = len(x)
    w = c.allocate("weight", (ch,)) if affine else None
    b = c.allocate("bias", (ch,)) if affine else None
    if track_running_stats:
        run_mean = c.buffer("running_mean", (ch,), 0.0)
        run_var = c.buffer("running_var", (ch,), 1.0)
        tracked = c.buffer("num_batches_tracked", (1,), 0.0)
    out = []
    for k, plane in enumerate(x):
        vals = _flat(plane)
        y, mu, ss = _standardise_stats(vals, eps)
        if affine:
            y = _affine(y, [w[k]] * len(y), [b[k]] * len(y))
        out.append(_fold(y, shape_of(plane)))
        if track_running_stats:
            with c.label("running_stats", "all"):
                unbiased = ss / (len(vals) - 1)
                run_mean[k] = run_mean[k] * (1 - momentum) + mu * momentum
                run_var[k] = run_var[k] * (1 - momentum) + unbiased * momentum
    if track_running_stats:
        tracked[0] = c.num(tracked[0].v + 1)
    return out


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



def exp_(c, x):
    return _map(exp, x)


def log_(c, x):
    return _map(log, x)


def sqrt_(c, x):
    return _map(sqrt, x)


def rsqrt_(c, x):
    """torch.rsqrt: one special per element (no division)."""
    return _map(rsqrt, x)


def erf_(c, x):
    return _map(erf, x)


def pow_(c, x, exponent=2.0):
    """torch.pow(x, exponent): one special per element whatever the exponent (a number or a
    broadcastable tensor); torch's own fast paths for 2, 0.5, -1, ... are not modelled."""
    if isinstance(exponent, list):
        return _elementwise([x, exponent], power)
    return _map(lambda v: power(v, exponent), x)


def abs_(c, x):
    """|x| the naive way, ``x if x >= 0 else -x``: one comparison per element (the flip is free)."""
    return _map(lambda v: v if v >= 0 else -v, x)


def neg(c, x):
    """-x: free, as every sign flip here."""
    return _map(lambda v: -v, x)


def clamp(c, x, min=None, max=None):
    """torch.clamp: one comparison per given bound per element (``max(x, min)`` then ``min(., max)``)."""
    lo = None if min is None else c.num(float(min))
    hi = None if max is None else c.num(float(max))

    def one(v):
        if lo is not None:
            v = maximum(v, lo)
        if hi is not None:
            v = minimum(v, hi)
        return v

    return _map(one, x)


def _truth(v) -> bool:
    """A condition entry: a bool, or (an input drawn by :func:`evaluate`) a value read as ``v > 0``, uncounted."""
    return v if isinstance(v, bool) else _v(v) > 0


def where(c, condition, x, y):
    """torch.where(condition, x, y), broadcast (x, y may be numbers): a selection, no arithmetic (0 ops)."""
    x, y = (v if isinstance(v, (list, Num)) else c.num(float(v)) for v in (x, y))
    return _broadcast_map([condition, x, y], lambda cond, a, b: a if _truth(cond) else b)


def masked_fill(c, x, mask, value=0.0):
    """x.masked_fill(mask, value), mask broadcast to x: a selection, no arithmetic (0 ops)."""
    fill = c.num(float(value))
    out = _broadcast_map([x, mask], lambda a, m: fill if _truth(m) else a)
    if shape_of(out) != shape_of(x):
        raise ValueError("the mask must broadcast to the input's shape")
    return out


def glu(c, x, dim=-1):
    """F.glu: split ``dim`` in halves a | b, ``a * sigmoid(b)``: per output 1 special, 1 add, 1 div, 1 mul."""
    first, second = _halves(x, dim)
    return _zip_map(lambda a, b: a * _sigmoid(b), first, second)


def swiglu(c, x, dim=-1):
    """Split ``dim`` in halves a | b, ``silu(a) * b`` (LLaMA's gate): per output 1 special, 1 add, 1 div, 1 mul."""
    first, second = _halves(x, dim)
    return _zip_map(lambda a, b: a / (1.0 + exp(-a)) * b, first, second)


def _halves(x, dim):
    parts = chunk(None, x, 2, dim=dim)
    if len(parts) != 2 or shape_of(parts[0]) != shape_of(parts[1]):
        raise ValueError("the split dimension must be even")
    return parts


def _zip_map(fn, a, b):
    if isinstance(a, list):
        return [_zip_map(fn, p, q) for p, q in zip(a, b)]
    return fn(a, b)


# -- softmax and reductions -------------------------------------------------
def _along(x, axis: int, fn):
    """Apply ``fn`` (a list of values -> a list of as many) to every line of ``x`` along per-sample ``axis``."""
    shape = shape_of(x)
    rest = shape[:axis] + shape[axis + 1:]
    out = {}
    for r in _indices(rest):
        idxs = [r[:axis] + (i,) + r[axis:] for i in range(shape[axis])]
        for idx, v in zip(idxs, fn([_get(x, i) for i in idxs])):
            out[idx] = v
    return _build(shape, out.__getitem__)


def _softmax_line(vals, log_=False):
    m = _accumulate(vals, maximum)  # n - 1 comparisons
    shifted = [v - m for v in vals]  # n adds
    e = [exp(s) for s in shifted]  # n specials
    total = _accumulate(e)  # n - 1 adds
    if log_:
        ls = log(total)  # 1 special
        return [s - ls for s in shifted]  # n adds
    return [v / total for v in e]  # n divisions


def softmax(c, x, dim=-1):
    """Stable softmax along ``dim``: per line of n, max (n-1 cmp), x - max (n adds), exp (n specials),
    sum (n-1 adds), divide (n divs).

    >>> evaluate(softmax, (3, 5)).ops
    {'mul': 0, 'add': 27, 'cmp': 12, 'div': 15, 'special': 15}
    """
    return _along(x, _axis(dim, len(shape_of(x))), _softmax_line)


def log_softmax(c, x, dim=-1):
    """``x - max - log(sum exp(x - max))`` along ``dim``: per line of n, n-1 cmp, n adds (x - max, reused),
    n exp, n-1 adds, 1 log, n adds: 3n-1 adds, n+1 specials."""
    return _along(x, _axis(dim, len(shape_of(x))), lambda v: _softmax_line(v, log_=True))


def _reduce(x, dim, keepdim, fn):
    """Reduce per-sample axes of ``dim`` (``None``: all) with ``fn`` (a list of values -> a value).

    A full reduction without keepdim returns a 0-d value (a Num)."""
    shape = shape_of(x)
    axes = _axes(dim, len(shape))
    out_shape = tuple(1 if a in axes else n for a, n in enumerate(shape))
    groups: dict[tuple, list] = {}
    for idx in _indices(shape):
        key = tuple(0 if a in axes else i for a, i in enumerate(idx))
        groups.setdefault(key, []).append(_get(x, idx))
    out = _build(out_shape, lambda key: fn(groups[key]))
    if keepdim:
        return out
    return _fold(_flat(out), tuple(n for a, n in enumerate(shape) if a not in axes))


def sum_(c, x, dim=None, keepdim=False):
    """x.sum(dim, keepdim): per output n - 1 adds."""
    return _reduce(x, dim, keepdim, _accumulate)


def mean(c: Counter, x, dim, keepdim=False):
    """x.mean(dim, keepdim) on the batched tensor ``[x]``: per output, sum left to right, then divide.

    Reducing every per-sample dim without keepdim returns ``None`` (kept as before: no per-sample tensor).
    """
    out = _reduce(x, dim, keepdim, lambda vals: _accumulate(vals) / len(vals))
    return None if isinstance(out, Num) else out


def mean_(c: Counter, x, dim=None, keepdim=False):
    """As :func:`mean`, but a full reduction is a 0-d value; per output n - 1 adds, 1 div."""
    return _reduce(x, dim, keepdim, lambda vals: _accumulate(vals) / len(vals))


def var(c, x, dim=None, correction=1, keepdim=False):
    """x.var(dim, correction, keepdim), two-pass: mean (n-1 adds, 1 div), deviations (n adds),
    squares (n muls), sum (n-1 adds), divide by n - correction (1 div). (torch's CPU kernel uses
    Welford's update instead; this is the plain count.)"""
    return _reduce(x, dim, keepdim, lambda vals: _moments(vals)[2] / (len(vals) - correction))


def amax(c, x, dim=None, keepdim=False):
    """x.amax(dim, keepdim): per output n - 1 comparisons."""
    return _reduce(x, dim, keepdim, lambda vals: _accumulate(vals, maximum))


def amin(c, x, dim=None, keepdim=False):
    """x.amin(dim, keepdim): per output n - 1 comparisons."""
    return _reduce(x, dim, keepdim, lambda vals: _accumulate(vals, minimum))


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




def _pool_windows(x, nd, kernel_size, stride, padding, dilation, ceil_mode, fill):
    """For each channel, the dense windows (lists of K^N taps, row-major) at every output position.

    Taps outside the input, in the padding or hanging past it, are ``fill``.
    """
    k = _tuple(kernel_size, nd)
    s = _tuple(kernel_size if stride is None else stride, nd)
    p, d = _tuple(padding, nd), _tuple(dilation, nd)
    spatial = shape_of(x)[1:]
    if len(spatial) != nd:
        raise ValueError(f"a {nd}-d pool takes (C, {nd} spatial dims), got {shape_of(x)}")
    starts = [_window_starts(spatial[a], k[a], s[a], p[a], d[a], ceil_mode) for a in range(nd)]
    taps = list(_indices(k))

    def at(plane, pos):  # pos in padded coordinates
        src = tuple(q - pa for q, pa in zip(pos, p))
        return _get(plane, src) if all(0 <= q < n for q, n in zip(src, spatial)) else fill

    def window(plane, o):
        first = [starts[a][o[a]] for a in range(nd)]
        return [at(plane, tuple(f + t * da for f, t, da in zip(first, tap, d))) for tap in taps]

    sizes = tuple(len(st) for st in starts)
    return [_build(sizes, lambda o, plane=plane: window(plane, o)) for plane in x], starts


def _max_pool(c: Counter, x, nd, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Per output K^N - 1 comparisons (padding taps are -inf and compared too)."""
    windows, _ = _pool_windows(x, nd, kernel_size, stride, padding, dilation, ceil_mode, c.num(NEG_INF))
    return [_map_windows(lambda win, o: _accumulate(win, maximum), w, nd) for w in windows]


def _map_windows(fn, t, depth: int, o=()):
    """``fn(window, output index)`` on every window, ``depth`` list levels down ``t``."""
    if depth == 0:
        return fn(t, o)
    return [_map_windows(fn, e, depth - 1, o + (i,)) for i, e in enumerate(t)]


def _avg_pool(c: Counter, x, nd, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
              divisor_override=None):
    """Per output K^N - 1 adds (padding taps are zeros and added too), one division by torch's divisor."""
    windows, starts = _pool_windows(x, nd, kernel_size, stride, padding, 1, ceil_mode, c.num(0.0))
    k, p = _tuple(kernel_size, nd), _tuple(padding, nd)
    spatial = shape_of(x)[1:]

    def divisor(o):  # index arithmetic, as torch computes it; not counted
        if divisor_override:
            return divisor_override
        n = 1
        for a in range(nd):
            r0 = starts[a][o[a]] - p[a]
            r1 = min(r0 + k[a], spatial[a] + p[a])
            n *= (r1 - r0) if count_include_pad else (min(r1, spatial[a]) - max(r0, 0))
        return n

    return [_map_windows(lambda win, o: _accumulate(win) / divisor(o), w, nd) for w in windows]


def max_pool1d(c: Counter, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    return _max_pool(c, x, 1, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d(c: Counter, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    return _max_pool(c, x, 2, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool3d(c: Counter, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    return _max_pool(c, x, 3, kernel_size, stride, padding, dilation, ceil_mode)


def avg_pool1d(c: Counter, x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _avg_pool(c, x, 1, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_pool2d(c: Counter, x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool(c, x, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool3d(c: Counter, x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool(c, x, 3, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def _adaptive_bins(size: int, bins: int | None) -> list[range]:
    bins = size if bins is None else bins
    return [range((i * size) // bins, -((-(i + 1) * size) // bins)) for i in range(bins)]


def _adaptive(x, nd, output_size, reduce):
    """torch's adaptive bins per axis (start floor(i*n/out), end ceil((i+1)*n/out)); ``reduce`` each bin."""
    spatial = shape_of(x)[1:]
    if len(spatial) != nd:
        raise ValueError(f"a {nd}-d adaptive pool takes (C, {nd} spatial dims), got {shape_of(x)}")
    bins = [_adaptive_bins(n, o) for n, o in zip(spatial, _tuple(output_size, nd))]

    def cell(plane, o):
        return reduce([_get(plane, i) for i in itertools.product(*(bins[a][o[a]] for a in range(nd)))])

    return [_build(tuple(len(b) for b in bins), lambda o, plane=plane: cell(plane, o)) for plane in x]


def _adaptive_avg(vals):
    """n - 1 adds and one division per output."""
    return _accumulate(vals) / len(vals)


def _adaptive_max(vals):
    """n - 1 comparisons per output."""
    return _accumulate(vals, maximum)


def adaptive_avg_pool1d(c: Counter, x, output_size):
    return _adaptive(x, 1, output_size, _adaptive_avg)


def adaptive_avg_pool2d(c: Counter, x, output_size):
    return _adaptive(x, 2, output_size, _adaptive_avg)


def adaptive_avg_pool3d(c: Counter, x, output_size):
    return _adaptive(x, 3, output_size, _adaptive_avg)


def adaptive_max_pool1d(c: Counter, x, output_size):
    return _adaptive(x, 1, output_size, _adaptive_max)


def adaptive_max_pool2d(c: Counter, x, output_size):
    return _adaptive(x, 2, output_size, _adaptive_max)


def adaptive_max_pool3d(c: Counter, x, output_size):
    return _adaptive(x, 3, output_size, _adaptive_max)


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


# Every dropout flavour is the identity at inference.
dropout1d = dropout2d = dropout3d = alpha_dropout = feature_alpha_dropout = dropout


def stochastic_depth(c: Counter, x, p=0.5, mode="row"):
    """torchvision.ops.stochastic_depth at inference: the identity."""
    return _map(lambda v: v, x)


def identity(c: Counter, x):
    return _map(lambda v: v, x)


def contiguous(c: Counter, x):
    return _map(lambda v: v, x)


def reshape(c: Counter, x, shape):
    """x.reshape(N, *shape) / x.view: ``shape`` is per sample, one entry may be -1. Copies only."""
    values = _flat(x)
    shape = tuple(shape)
    if shape.count(-1) > 1:
        raise ValueError("at most one -1")
    known = math.prod(n for n in shape if n != -1)
    if -1 in shape:
        if known == 0 or len(values) % known:
            raise ValueError(f"cannot view {len(values)} values as {shape}")
        shape = tuple(len(values) // known if n == -1 else n for n in shape)
    if math.prod(shape) != len(values):
        raise ValueError(f"cannot view {len(values)} values as {shape}")
    return _fold(values, shape)


view = reshape


def permute(c: Counter, x, dims):
    """x.permute(*dims) on the batched tensor: ``dims`` names every batched dim and keeps 0 (the batch) first."""
    shape = shape_of(x)
    rank = len(shape)
    full = [d % (rank + 1) for d in dims]
    if sorted(full) != list(range(rank + 1)) or full[0] != 0:
        raise ValueError(f"{dims} is not a permutation keeping the batch first")
    perm = [d - 1 for d in full[1:]]
    inverse = [perm.index(a) for a in range(rank)]
    return _build(tuple(shape[a] for a in perm), lambda o: _get(x, tuple(o[inverse[a]] for a in range(rank))))


def transpose(c: Counter, x, dim0, dim1):
    rank = len(shape_of(x))
    a, b = _axis(dim0, rank), _axis(dim1, rank)
    perm = list(range(rank))
    perm[a], perm[b] = perm[b], perm[a]
    return permute(c, x, [0] + [p + 1 for p in perm])


def unflatten(c: Counter, x, dim, sizes):
    shape = shape_of(x)
    a = _axis(dim, len(shape))
    sizes = list(sizes)
    if -1 in sizes:
        sizes[sizes.index(-1)] = shape[a] // math.prod(n for n in sizes if n != -1)
    if math.prod(sizes) != shape[a]:
        raise ValueError(f"{sizes} do not multiply to {shape[a]}")
    return _fold(_flat(x), shape[:a] + tuple(sizes) + shape[a + 1:])


def squeeze(c: Counter, x, dim=None):
    """x.squeeze(dim): ``None`` drops every size-1 per-sample dim (never the batch); a dim not of size 1 stays."""
    shape = shape_of(x)
    axes = [a for a in _axes(dim, len(shape)) if shape[a] == 1]
    return _fold(_flat(x), tuple(n for a, n in enumerate(shape) if a not in axes))


def unsqueeze(c: Counter, x, dim):
    shape = shape_of(x)
    a = _axis(dim, len(shape) + 1)
    return _fold(_flat(x), shape[:a] + (1,) + shape[a:])


def expand(c: Counter, x, sizes):
    """x.expand(N, *sizes): per-sample ``sizes`` of the same rank, -1 keeps a dim; size-1 dims repeat."""
    shape = shape_of(x)
    sizes = tuple(n if t == -1 else t for n, t in zip(shape, sizes)) if len(sizes) == len(shape) else None
    if sizes is None or any(n not in (1, t) for n, t in zip(shape, sizes)):
        raise ValueError(f"cannot expand {shape} to the given sizes")
    return _build(sizes, lambda o: _get(x, tuple(i if n > 1 else 0 for i, n in zip(o, shape))))


def _slice_axis(x, axis: int, picks: list[int]):
    shape = shape_of(x)
    return _build(shape[:axis] + (len(picks),) + shape[axis + 1:],
                  lambda o: _get(x, o[:axis] + (picks[o[axis]],) + o[axis + 1:]))


def split(c: Counter, x, split_size_or_sections, dim):
    """torch.split along ``dim`` (no default: torch's 0 is the batch): a tuple of tensors."""
    shape = shape_of(x)
    a = _axis(dim, len(shape))
    n = shape[a]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        sections = [min(step, n - s) for s in range(0, n, step)]
    else:
        sections = list(split_size_or_sections)
        if sum(sections) != n:
            raise ValueError(f"sections {sections} do not add up to {n}")
    out, start = [], 0
    for s in sections:
        out.append(_slice_axis(x, a, list(range(start, start + s))))
        start += s
    return tuple(out)


def chunk(c: Counter, x, chunks, dim):
    """torch.chunk: pieces of ceil(n / chunks) along ``dim`` (maybe fewer pieces), a tuple."""
    n = shape_of(x)[_axis(dim, len(shape_of(x)))]
    return split(c, x, -(-n // chunks), dim)


def select(c: Counter, x, dim, index):
    shape = shape_of(x)
    a = _axis(dim, len(shape))
    i = index % shape[a]
    return _fold(_flat(_slice_axis(x, a, [i])), shape[:a] + shape[a + 1:])


def slice_(c: Counter, x, dim, start=None, end=None, step=1):
    """x[..., start:end:step, ...] along ``dim`` (Python's clamping, as torch)."""
    a = _axis(dim, len(shape_of(x)))
    return _slice_axis(x, a, list(range(shape_of(x)[a]))[start:end:step])


def index_select(c: Counter, x, dim, index):
    """torch.index_select along ``dim`` with a list of ints (negative ones wrap)."""
    shape = shape_of(x)
    a = _axis(dim, len(shape))
    return _slice_axis(x, a, [i % shape[a] for i in index])


def roll(c: Counter, x, shifts, dims):
    """torch.roll along ``dims`` (required: without dims torch would roll across the batch)."""
    shape = shape_of(x)
    shifts, dims = _tuple(shifts, 1) if isinstance(shifts, int) else tuple(shifts), (
        (dims,) if isinstance(dims, int) else tuple(dims))
    for s, d in zip(shifts, dims, strict=True):
        a = _axis(d, len(shape))
        x = _slice_axis(x, a, [(i - s) % shape[a] for i in range(shape[a])])
    return x


def stack(c: Counter, *xs, dim=1):
    """torch.stack of the batched tensors along a new ``dim`` (not 0, the batch)."""
    shapes = {shape_of(x) for x in xs}
    if len(shapes) != 1:
        raise ValueError("stack takes tensors of one shape")
    shape = shapes.pop()
    a = _axis(dim, len(shape) + 1)
    return _build(shape[:a] + (len(xs),) + shape[a:], lambda o: _get(xs[o[a]], o[:a] + o[a + 1:]))


def pad(c: Counter, x, pad, mode="constant", value=0.0):
    """F.pad of the batched tensor: ``pad`` = (last_before, last_after, prev_before, ...), N-d; modes
    constant (fill ``value``; negative pads crop), reflect, replicate, circular. Copies or constants only."""
    shape = shape_of(x)
    pairs = [tuple(pad[i:i + 2]) for i in range(0, len(pad), 2)]
    if len(pad) % 2 or len(pairs) > len(shape):
        raise ValueError(f"pad {pad} does not fit a per-sample rank {len(shape)}")
    before = [0] * len(shape)
    after = [0] * len(shape)
    for k, (b, a) in enumerate(pairs):
        before[len(shape) - 1 - k], after[len(shape) - 1 - k] = b, a
    fill = c.num(float(value))

    def source(q, n):
        if 0 <= q < n or mode == "constant":
            return q
        if mode == "reflect":
            period = 2 * (n - 1)
            q = q % period if period else 0
            return q if q < n else period - q
        if mode == "replicate":
            return min(max(q, 0), n - 1)
        if mode == "circular":
            return q % n
        raise ValueError(f"unknown pad mode {mode!r}")

    if mode == "reflect" and any(b >= n or a >= n for b, a, n in zip(before, after, shape)):
        raise ValueError("reflect padding must be smaller than the padded dimension")

    def entry(o):
        src = tuple(source(q - b, n) for q, b, n in zip(o, before, shape))
        return _get(x, src) if all(0 <= q < n for q, n in zip(src, shape)) else fill

    sizes = tuple(max(0, n + b + a) for n, b, a in zip(shape, before, after))
    return _build(sizes, entry)


def pad2d(c: Counter, x, padding, mode="constant"):
    """F.pad of a (C, H, W) map by (left, right, top, bottom): constants or copied pixels, no arithmetic."""
    left, right, top, bottom = (padding,) * 4 if isinstance(padding, int) else padding
    return pad(c, x, (left, right, top, bottom), mode=mode)


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




def _broadcast_map(tensors: list, fn):
    """``fn(*entries)`` at every index of the broadcast shape (numbers broadcast as 0-d tensors)."""
    raised, out_shape = _broadcast(tensors)
    shapes = [shape_of(t) for t in raised]
    return _build(out_shape, lambda idx: fn(*(_get(t, tuple(i if n > 1 else 0 for i, n in zip(idx, s)))
                                              for t, s in zip(raised, shapes))))


# -- resampling -------------------------------------------------------------
_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _cubic_weights(t: float, a: float = -0.75) -> list[float]:
    """torch's cubic convolution coefficients (A = -0.75) for fractional offset ``t``."""
    def near(z):
        return ((a + 2) * z - (a + 3)) * z * z + 1

    def far(z):
        return ((a * z - 5 * a) * z + 8 * a) * z - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def interpolate(c: Counter, x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """F.interpolate on (C, *spatial) as torch's CPU kernels; source indices and weights are index
    arithmetic (torch precomputes them per output index), not counted.

    * nearest / nearest-exact: copies, 0 ops;
    * linear, bilinear, trilinear, bicubic: torch's separable generic kernel, nested per axis: along
      each axis ``acc = w0*t0 + w1*t1 (+ w2*t2 + w3*t3)`` where each t is the interpolation along the
      next axes. Per output, with T taps per axis (2 linear, 4 cubic) and N axes:
      muls = T + T^2 + ... + T^N and adds = (T-1)(1 + T + ... + T^(N-1)):
      linear 2 mul 1 add, bilinear 6 mul 3 add, trilinear 14 mul 7 add, bicubic 20 mul 15 add.
      Edge taps (clamped indices, a repeated pixel) are executed all the same.

    >>> r = evaluate(interpolate, (1, 2, 2, 2), scale_factor=2, mode="trilinear")
    >>> r.shape, r.ops["mul"], r.ops["add"]
    ((1, 4, 4, 4), 896, 448)
    """
    spatial = shape_of(x)[1:]
    nd = len(spatial)
    if mode in _MODE_DIMS and _MODE_DIMS[mode] != nd:
        raise ValueError(f"mode {mode!r} takes {_MODE_DIMS[mode]} spatial dims, got {nd}")
    if size is not None:
        out = _tuple(size, nd)
        scales = [n / o for n, o in zip(spatial, out)]
    else:
        factors = _tuple(scale_factor, nd)
        out = tuple(math.floor(n * f) for n, f in zip(spatial, factors))
        scales = [1 / f for f in factors]

    if mode in ("nearest", "nearest-exact"):
        def src(i, n, s):
            if mode == "nearest":
                return min(int(math.floor(i * s)), n - 1)
            return min(int(math.floor((i + 0.5) * s)), n - 1)

        maps = [[src(i, n, s) for i in range(o)] for n, o, s in zip(spatial, out, scales)]
        return [_build(out, lambda o, plane=plane: _get(plane, tuple(m[i] for m, i in zip(maps, o)))) for plane in x]
    if mode not in _MODE_DIMS:
        raise ValueError(f"unknown mode {mode!r}")
    cubic = mode == "bicubic"

    def taps(dst, n_in, n_out, scale):  # [(source index, weight)] along one axis
        if align_corners:
            s = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
            real = s * dst
        else:
            real = scale * (dst + 0.5) - 0.5
            if not cubic:
                real = max(real, 0.0)
        if cubic:
            i0 = math.floor(real)
            return [(min(max(i0 - 1 + k, 0), n_in - 1), w) for k, w in enumerate(_cubic_weights(real - i0))]
        i0 = min(int(real), n_in - 1)
        i1 = i0 + (1 if i0 < n_in - 1 else 0)
        l1 = min(max(real - i0, 0.0), 1.0)
        return [(i0, 1.0 - l1), (i1, l1)]

    axes = [[taps(i, n, o, s) for i in range(o)] for n, o, s in zip(spatial, out, scales)]

    def value(plane, o, depth=0, at=()):
        if depth == nd:
            return _get(plane, at)
        acc = None
        for i, w in axes[depth][o[depth]]:
            term = w * value(plane, o, depth + 1, at + (i,))
            acc = term if acc is None else acc + term
        return acc

    return [_build(out, lambda o, plane=plane: value(plane, o)) for plane in x]


def upsample(c: Counter, x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """nn.Upsample on (C, H, W): :func:`interpolate` (bilinear: 6 multiplies and 3 adds per output)."""
    return interpolate(c, x, size, scale_factor, mode, align_corners)


# -- embeddings -------------------------------------------------------------
def _token(v, n: int) -> int:
    """A token id: an int as given; an input drawn by :func:`evaluate` (a Num) mapped into [0, n), uncounted."""
    if isinstance(v, Num):
        return int((v.v + 1.0) / 2.0 * n) % n
    if not 0 <= v < n:
        raise IndexError(f"token {v} out of range {n}")
    return v


def embedding(c: Counter, ids, num_embeddings, embedding_dim):
    """nn.Embedding on integer ids of any shape (e.g. (L,)): row copies, 0 arithmetic ops;
    weight num_embeddings * embedding_dim."""
    weight = c.allocate("weight", (num_embeddings, embedding_dim))
    return _map(lambda v: list(weight[_token(v, num_embeddings)]), ids)


def embedding_bag(c: Counter, ids, num_embeddings, embedding_dim, mode="mean"):
    """nn.EmbeddingBag: (L,) is one bag -> (D,); (B, L) is B bags -> (B, D). Per bag of n and feature:
    sum n-1 adds; mean n-1 adds + 1 div; max n-1 comparisons."""
    weight = c.allocate("weight", (num_embeddings, embedding_dim))
    reduce = {"sum": _accumulate, "mean": _adaptive_avg, "max": _adaptive_max}[mode]
    bags = [ids] if len(shape_of(ids)) == 1 else ids

    def bag(tokens):
        rows = [weight[_token(v, num_embeddings)] for v in tokens]
        return [reduce([r[j] for r in rows]) for j in range(embedding_dim)]

    out = [bag(b) for b in bags]
    return out[0] if len(shape_of(ids)) == 1 else out


# -- attention --------------------------------------------------------------
def scaled_dot_product_attention(c: Counter, q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False, dropout_mask=None):
    """F.scaled_dot_product_attention on q (H, L, E), k (Hk, S, E), v (Hk, S, Ev) -> (H, L, Ev).

    Per query row, over the keys it executes (all S; with ``is_causal`` only the unmasked ones,
    j <= i, top-left aligned as torch's ``tril``: min(i+1, S) keys), per score:

    * q.k: E multiplies (labels ``qk_macs`` and ``macs``) and E - 1 adds;
    * ``* scale``: 1 multiply (label ``scale``; default scale 1/sqrt(E));
    * ``attn_mask``: 1 add (label ``mask``): a float mask is added; a boolean one (True = attend) is
      turned into 0 / -inf first (not counted) and added, as torch's reference code does;
    * softmax over the row: n-1 cmp, n adds, n exp, n-1 adds, n divs (:func:`softmax`);
    * ``dropout_p > 0``: 1 multiply per score by the pre-scaled keep mask ``keep / (1 - p)`` (label
      ``dropout``; drawing the mask is not counted). ``dropout_mask`` (bools, (H, L, S)) gives the
      kept scores, default all kept;
    * p @ v: per output Ev * n multiplies (labels ``av_macs`` and ``macs``) and Ev * (n - 1) adds.

    Grouped-query (``enable_gqa``): query head h uses key/value head h // (H / Hk).

    >>> r = evaluate(scaled_dot_product_attention, (1, 4, 2), (1, 4, 2), (1, 4, 2), is_causal=True)
    >>> r.labels["qk_macs"] // 2, r.labels["av_macs"] // 2, r.ops["special"]  # 10 scores of E = 2
    (10, 10, 10)
    >>> r = evaluate(scaled_dot_product_attention, (1, 4, 2), (1, 4, 2), (1, 4, 2))
    >>> r.labels["qk_macs"] // 2, r.labels["scale"]
    (16, 16)
    """
    (h_q, n_q, e), (h_k, n_k, e_k), (h_v, n_v, e_v) = shape_of(q), shape_of(k), shape_of(v)
    if e != e_k or n_k != n_v or h_k != h_v:
        raise ValueError("q, k, v shapes do not agree")
    if h_q != h_k and not (enable_gqa and h_q % h_k == 0):
        raise ValueError("query and key heads differ (grouped-query needs enable_gqa and a divisor)")
    if is_causal and attn_mask is not None:
        raise ValueError("is_causal and attn_mask are exclusive")
    scale = 1.0 / math.sqrt(e) if scale is None else scale
    mask = None
    if attn_mask is not None:
        ms = shape_of(attn_mask)
        if _broadcast_shapes(ms, (h_q, n_q, n_k)) != (h_q, n_q, n_k):
            raise ValueError(f"attn_mask {ms} does not broadcast to {(h_q, n_q, n_k)}")

        def mask(h, i, j):
            m = _get(attn_mask, tuple(a if n > 1 else 0 for a, n in zip((h, i, j)[3 - len(ms):], ms)))
            return (0.0 if m else NEG_INF) if isinstance(m, bool) else m
    group = h_q // h_k
    out = []
    for h in range(h_q):
        kh = h // group
        plane = []
        for i in range(n_q):
            keys = range(min(i + 1, n_k)) if is_causal else range(n_k)
            with c.label("macs", "mul"), c.label("qk_macs", "mul"):
                scores = [_dot(q[h][i], k[kh][j]) for j in keys]
            with c.label("scale", "mul"):
                scores = [s * scale for s in scores]
            if mask is not None:
                with c.label("mask", "add"):
                    scores = [s + mask(h, i, j) for s, j in zip(scores, keys)]
            probs = _softmax_line(scores)
            if dropout_p > 0:
                with c.label("dropout", "mul"):
                    probs = [p * ((1.0 / (1.0 - dropout_p)) if dropout_mask is None or dropout_mask[h][i][j] else 0.0)
                             for p, j in zip(probs, keys)]
            with c.label("macs", "mul"), c.label("av_macs", "mul"):
                plane.append([_dot(probs, [v[kh][j][f] for j in keys]) for f in range(e_v)])
        out.append(plane)
    return out


def multi_head_attention(c: Counter, query, key=None, value=None, embed_dim=None, num_heads=1, bias=True,
                         add_bias_kv=False, add_zero_attn=False, kdim=None, vdim=None):
    """nn.MultiheadAttention on (L, E) (key (S, kdim), value (S, vdim); default: self-attention).

    In-projections q, k, v (:func:`linear` counts: ``macs`` and ``bias`` labels), optional bias_k/bias_v
    rows and zero rows appended to k and v (S + 1 each), per head :func:`scaled_dot_product_attention`
    on head dim E/H (scale 1/sqrt(E/H) per score, as torch's need_weights=False path), heads
    concatenated, out-projection. Parameters as torch names them: in_proj_weight (3E, E) or
    q/k/v_proj_weight when kdim/vdim differ, in_proj_bias (3E), bias_k, bias_v (1, 1, E; counted as
    ``bias``), out_proj.weight (E, E), out_proj.bias (E).
    """
    key = query if key is None else key
    value = key if value is None else value
    e = shape_of(query)[-1] if embed_dim is None else embed_dim
    kdim = e if kdim is None else kdim
    vdim = e if vdim is None else vdim
    if shape_of(query)[-1] != e or shape_of(key)[-1] != kdim or shape_of(value)[-1] != vdim or e % num_heads:
        raise ValueError("embedding sizes do not agree")
    if kdim == e and vdim == e:
        w = c.allocate("weight", (3 * e, e), "in_proj_weight")
        wq, wk, wv = w[:e], w[e:2 * e], w[2 * e:]
    else:
        wq = c.allocate("weight", (e, e), "q_proj_weight")
        wk = c.allocate("weight", (e, kdim), "k_proj_weight")
        wv = c.allocate("weight", (e, vdim), "v_proj_weight")
    b = c.allocate("bias", (3 * e,), "in_proj_bias") if bias else None
    bq, bk, bv = (b[:e], b[e:2 * e], b[2 * e:]) if bias else (None, None, None)
    if add_bias_kv:
        bias_k = c.allocate("bias", (1, 1, e), "bias_k")[0][0]
        bias_v = c.allocate("bias", (1, 1, e), "bias_v")[0][0]
    w_out = c.allocate("weight", (e, e), "out_proj.weight")
    b_out = c.allocate("bias", (e,), "out_proj.bias") if bias else None

    qp, kp, vp = _project(c, query, wq, bq), _project(c, key, wk, bk), _project(c, value, wv, bv)
    if add_bias_kv:
        kp, vp = kp + [list(bias_k)], vp + [list(bias_v)]
    if add_zero_attn:
        zero = c.num(0.0)
        kp, vp = kp + [[zero] * e], vp + [[zero] * e]
    hd = e // num_heads

    def heads(t):
        return [[row[h * hd:(h + 1) * hd] for row in t] for h in range(num_heads)]

    att = scaled_dot_product_attention(c, heads(qp), heads(kp), heads(vp))
    joined = [[v for h in range(num_heads) for v in att[h][i]] for i in range(len(qp))]
    return _project(c, joined, w_out, b_out)


# -- recurrent layers -------------------------------------------------------
def _rnn(c: Counter, x, hidden_size, gates, bias, bidirectional, num_layers, step):
    """Shared driver: per layer and direction allocate torch's weights, run ``step`` over the sequence.

    Each step's gate pre-activations are ``W_ih x + b_ih`` and ``W_hh h + b_hh`` (dot products:
    ``macs``; bias adds: ``bias``); h0 (and c0) are zeros and are multiplied all the same.
    """
    hs = hidden_size
    seq = x
    for layer in range(num_layers):
        outs = []
        for suffix in (["", "_reverse"] if bidirectional else [""]):
            d_in = shape_of(seq)[-1]
            w_ih = c.allocate("weight", (gates * hs, d_in), f"weight_ih_l{layer}{suffix}")
            w_hh = c.allocate("weight", (gates * hs, hs), f"weight_hh_l{layer}{suffix}")
            b_ih = c.allocate("bias", (gates * hs,), f"bias_ih_l{layer}{suffix}") if bias else None
            b_hh = c.allocate("bias", (gates * hs,), f"bias_hh_l{layer}{suffix}") if bias else None
            order = range(len(seq) - 1, -1, -1) if suffix else range(len(seq))
            state = None
            out = [None] * len(seq)
            for t in order:
                h = state[0] if state else [c.num(0.0)] * hs
                gi = _project(c, [seq[t]], w_ih, b_ih)[0]
                gh = _project(c, [h], w_hh, b_hh)[0]
                state = step(gi, gh, state or (h, [c.num(0.0)] * hs))
                out[t] = state[0]
            outs.append(out)
        seq = [[v for o in outs for v in o[t]] for t in range(len(seq))]
    return seq


def lstm(c: Counter, x, hidden_size, bias=True, bidirectional=False, num_layers=1):
    """nn.LSTM on (L, input_size) -> (L, H * directions), torch's documented formulas, per step and unit:

    i, f, g, o = gates of ``(W_ih x + b_ih) + (W_hh h + b_hh)`` (the sum: 1 add per gate);
    i, f, o = sigmoid (1 special, 1 add, 1 div each); g = tanh (1 special);
    c' = f*c + i*g (2 muls, 1 add); h' = o * tanh(c') (1 special, 1 mul).
    """
    hs = hidden_size

    def step(gi, gh, state):
        h, cell = state
        pre = [a + b for a, b in zip(gi, gh)]
        i = [_sigmoid(v) for v in pre[:hs]]
        f = [_sigmoid(v) for v in pre[hs:2 * hs]]
        g = [tanh(v) for v in pre[2 * hs:3 * hs]]
        o = [_sigmoid(v) for v in pre[3 * hs:]]
        cell = [fv * cv + iv * gv for fv, cv, iv, gv in zip(f, cell, i, g)]
        return [ov * tanh(cv) for ov, cv in zip(o, cell)], cell

    return _rnn(c, x, hidden_size, 4, bias, bidirectional, num_layers, step)


def gru(c: Counter, x, hidden_size, bias=True, bidirectional=False, num_layers=1):
    """nn.GRU on (L, input_size) -> (L, H * directions), torch's documented formulas, per step and unit:

    r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z) (1 add + sigmoid's 1 special, 1 add, 1 div each);
    n = tanh(gi_n + r * gh_n) (1 mul, 1 add, 1 special); h' = (1 - z) * n + z * h (2 muls, 2 adds).
    (gi = W_ih x + b_ih, gh = W_hh h + b_hh.)
    """
    hs = hidden_size

    def step(gi, gh, state):
        h = state[0]
        r = [_sigmoid(a + b) for a, b in zip(gi[:hs], gh[:hs])]
        z = [_sigmoid(a + b) for a, b in zip(gi[hs:2 * hs], gh[hs:2 * hs])]
        n = [tanh(a + rv * b) for a, rv, b in zip(gi[2 * hs:], r, gh[2 * hs:])]
        return [(1.0 - zv) * nv + zv * hv for zv, nv, hv in zip(z, n, h)], None

    return _rnn(c, x, hidden_size, 3, bias, bidirectional, num_layers, step)


# --------------------------------------------------------------------------
# Running a layer
# --------------------------------------------------------------------------
@dataclass
class Result:
    """What one brute-force forward pass executed and produced.

    ``shape`` is the (first) output's shape, ``shapes`` every output's (layers returning a tuple);
    ``labels`` holds every label (``macs``, ``bias``, ``qk_macs``, ...); ``output`` the values as
    floats, ``tensors`` the parameters and buffers by torch name (as floats).
    """

    shape: tuple[int, ...]
    ops: dict[str, int]
    macs: int
    bias_adds: int
    weight: int
    bias: int
    buffers: dict[str, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    shapes: tuple = ()
    scalar: bool = False
    output: object = field(default=None, repr=False)
    tensors: dict = field(default_factory=dict, repr=False)

    @property
    def total(self) -> int:
        return sum(self.ops.values())

    @property
    def empty(self) -> bool:
        """No output at all (a window that never fits, a crop that eats everything)."""
        return (not self.shape and not self.scalar) or 0 in self.shape


def _floats(t):
    """Values of a layer's output as plain Python numbers (tuples stay tuples)."""
    if isinstance(t, tuple):
        return tuple(_floats(e) for e in t)
    if isinstance(t, list):
        return [_floats(e) for e in t]
    return _v(t)


def _execute(c: Counter, layer, inputs: list, arguments: dict) -> Result:
    out = layer(c, *inputs, **arguments)
    outs = out if isinstance(out, tuple) else (out,)
    shapes = tuple(shape_of(o) for o in outs)
    return Result(
        shape=shapes[0],
        ops=c.ops(),
        macs=c.labels["macs"],
        bias_adds=c.labels["bias"],
        weight=c.params["weight"],
        bias=c.params["bias"],
        buffers=dict(c.buffers),
        labels=dict(c.labels),
        shapes=shapes,
        scalar=isinstance(outs[0], Num),
        output=_floats(out),
        tensors={name: _floats(t) for name, t in c.named.items()},
    )


def evaluate(layer, *shapes: tuple[int, ...], **arguments) -> Result:
    """Run ``layer`` on fresh inputs of ``shapes`` and report what it executed."""
    c = Counter()
    return _execute(c, layer, [c.tensor(tuple(s)) for s in shapes], arguments)


def run(layer, *inputs, **arguments) -> Result:
    """Run ``layer`` on given inputs (nested lists of floats, which become counting numbers; ints and
    bools stay as they are: token ids, masks) and report what it executed; ``Result.output`` holds the values.

    >>> r = run(matmul, [[1.0, 2.0]], [[3.0], [4.0]])
    >>> r.output, r.ops["mul"], r.ops["add"]
    ([[11.0]], 2, 1)
    """
    c = Counter()

    def wrap(t):
        if isinstance(t, list):
            return [wrap(e) for e in t]
        return Num(float(t), c) if isinstance(t, float) else t

    return _execute(c, layer, [wrap(t) for t in inputs], arguments)
