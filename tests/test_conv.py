"""Convolution, pooling, padding, flattening and the book's im2col/col2im, proven like the core ops.

Values are checked against direct loops written here (one output element at a
time, no im2col); gradients against central differences (tests/reference.py's
numeric_vjp) of independent NumPy functions (sums of shifted slices), with
random shapes, strides, paddings and upstream gradients; second derivatives
by gradgradcheck. PyTorch parity lives in test_conv_nn.py and is optional.
"""

import numpy as np
import pytest
from conv_layouts import LAYOUTS, use_conv_layout
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import numeric_vjp

import tinygrad_ko as tk
import tinygrad_ko.functional as F


@pytest.fixture(autouse=True, scope="module", params=LAYOUTS)
def conv_layout(request):
    """Every test here runs with both of conv2d's memory layouts, in every dtype and channel count:
    float32 takes the pixel-by-pixel one in training, and the float64 gradchecks prove both."""
    with pytest.MonkeyPatch.context() as patch:
        use_conv_layout(patch, request.param)
        yield request.param

# --- independent references ---------------------------------------------------


def out_size(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def inside(x, r, c):
    return 0 <= r < x.shape[2] and 0 <= c < x.shape[3]


def loop_conv2d(x, W, b, stride, pad):
    """One output element at a time: the definition, padding handled by bounds checks."""
    (sh, sw), (ph, pw) = stride, pad
    n_, c_, h, w = x.shape
    fn, _, fh, fw = W.shape
    oh, ow = out_size(h, fh, sh, ph), out_size(w, fw, sw, pw)
    y = np.zeros((n_, fn, oh, ow))
    for n in range(n_):
        for f in range(fn):
            for i in range(oh):
                for j in range(ow):
                    total = 0.0 if b is None else b[f]
                    for c in range(c_):
                        for p in range(fh):
                            for q in range(fw):
                                r, s = i * sh + p - ph, j * sw + q - pw
                                if inside(x, r, s):
                                    total += x[n, c, r, s] * W[f, c, p, q]
                    y[n, f, i, j] = total
    return y


def loop_pool(x, kernel, stride, pad, kind):
    """max (over the pixels on x only) or average (padding counted as zeros) of each window."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    n_, c_, h, w = x.shape
    oh, ow = out_size(h, kh, sh, ph), out_size(w, kw, sw, pw)
    y = np.zeros((n_, c_, oh, ow))
    for n in range(n_):
        for c in range(c_):
            for i in range(oh):
                for j in range(ow):
                    pixels = [x[n, c, i * sh + p - ph, j * sw + q - pw] for p in range(kh) for q in range(kw)
                              if inside(x, i * sh + p - ph, j * sw + q - pw)]
                    y[n, c, i, j] = max(pixels) if kind == "max" else sum(pixels) / (kh * kw)
    return y


def loop_im2col(x, fh, fw, stride, pad):
    """Row n*OH*OW + i*OW + j, column c*FH*FW + p*FW + q: the book's layout, element by element."""
    (sh, sw), (ph, pw) = stride, pad
    n_, c_, h, w = x.shape
    oh, ow = out_size(h, fh, sh, ph), out_size(w, fw, sw, pw)
    col = np.zeros((n_ * oh * ow, c_ * fh * fw))
    for n in range(n_):
        for i in range(oh):
            for j in range(ow):
                for c in range(c_):
                    for p in range(fh):
                        for q in range(fw):
                            r, s = i * sh + p - ph, j * sw + q - pw
                            if inside(x, r, s):
                                col[n * oh * ow + i * ow + j, c * fh * fw + p * fw + q] = x[n, c, r, s]
    return col


def loop_col2im(col, shape, fh, fw, stride, pad):
    (sh, sw), (ph, pw) = stride, pad
    n_, c_, h, w = shape
    oh, ow = out_size(h, fh, sh, ph), out_size(w, fw, sw, pw)
    img = np.zeros(shape)
    for n in range(n_):
        for i in range(oh):
            for j in range(ow):
                for c in range(c_):
                    for p in range(fh):
                        for q in range(fw):
                            r, s = i * sh + p - ph, j * sw + q - pw
                            if 0 <= r < h and 0 <= s < w:
                                img[n, c, r, s] += col[n * oh * ow + i * ow + j, c * fh * fw + p * fw + q]
    return img


def shifted(xp, p, q, stride, out):
    """The (N, C, OH, OW) slab of the padded input seen by kernel offset (p, q)."""
    (sh, sw), (oh, ow) = stride, out
    return xp[:, :, p:p + sh * (oh - 1) + 1:sh, q:q + sw * (ow - 1) + 1:sw]


def np_conv2d(x, W, b, stride, pad):
    """The convolution as a sum over kernel offsets of shifted slabs times W[:, :, p, q] (no im2col)."""
    (ph, pw) = pad
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    fn, _, fh, fw = W.shape
    out = (out_size(x.shape[2], fh, stride[0], ph), out_size(x.shape[3], fw, stride[1], pw))
    y = np.zeros((x.shape[0], fn) + out)
    for p in range(fh):
        for q in range(fw):
            y = y + np.einsum("ncij,fc->nfij", shifted(xp, p, q, stride, out), W[:, :, p, q])
    return y if b is None else y + b[None, :, None, None]


def np_pool(x, kernel, stride, pad, kind):
    """max (padding -inf) or mean (padding 0) over a stack of the shifted slabs."""
    (kh, kw), (ph, pw) = kernel, pad
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    out = (out_size(x.shape[2], kh, stride[0], ph), out_size(x.shape[3], kw, stride[1], pw))
    slabs = np.stack([shifted(xp, p, q, stride, out) for p in range(kh) for q in range(kw)])
    return slabs.max(axis=0) if kind == "max" else slabs.sum(axis=0) / (kh * kw)


# --- strategies ------------------------------------------------------------------

finite = st.floats(-2, 2, allow_nan=False, allow_subnormal=False)


@st.composite
def window_cases(draw, pool=False, max_side=7, unit_stride=False):
    """Shapes and (kernel, stride, pad) pairs with the kernel fitting the padded input.

    ``unit_stride``: stride (1, 1) only, the book's convolutions' (a route of its own in conv2d's
    backward, which random strides from 1 to 3 reach in only one case of nine).
    """
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (1, 1) if unit_stride else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pad = tuple(draw(st.integers(0, k // 2 if pool else 2)) for k in kernel)
    h = draw(st.integers(max(1, kernel[0] - 2 * pad[0]), max_side))
    w = draw(st.integers(max(1, kernel[1] - 2 * pad[1]), max_side))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)
    return shape, kernel, stride, pad


def arrays(data, shape):
    return np.asarray(data.draw(st.lists(finite, min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))),
                      dtype=np.float64).reshape(shape)


def distinct(data, shape):
    """Values at least 0.05 apart in random order: no ties, so max is smooth under a 1e-6 step."""
    order = data.draw(st.permutations(range(int(np.prod(shape)))))
    return (np.asarray(order, dtype=np.float64) * 0.05 - 1.0).reshape(shape)


def as_arg(pair):
    """An int where both entries agree (as users write it), else the pair."""
    return pair[0] if pair[0] == pair[1] else pair


# --- conv2d ----------------------------------------------------------------------


@settings(max_examples=30)
@given(data=st.data(), case=window_cases(), fn=st.integers(1, 3), bias=st.booleans())
def test_conv2d_values_match_a_direct_loop(data, case, fn, bias):
    shape, kernel, stride, pad = case
    x, W = arrays(data, shape), arrays(data, (fn, shape[1]) + kernel)
    b = arrays(data, (fn,)) if bias else None
    y = F.conv2d(x, W, b, stride=as_arg(stride), pad=as_arg(pad))
    expected = loop_conv2d(x, W, b, stride, pad)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np_conv2d(x, W, b, stride, pad), expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=25)
@given(data=st.data(), case=window_cases(max_side=6), fn=st.integers(1, 3))
def test_conv2d_gradients_match_central_differences(data, case, fn):
    check_conv2d_gradients(data, case, fn)


@settings(max_examples=25)
@given(data=st.data(), case=window_cases(max_side=6, unit_stride=True), fn=st.integers(1, 4))
def test_conv2d_gradients_at_stride_1_match_central_differences(data, case, fn):
    check_conv2d_gradients(data, case, fn)


def check_conv2d_gradients(data, case, fn):
    shape, kernel, stride, pad = case
    x, W, b = arrays(data, shape), arrays(data, (fn, shape[1]) + kernel), arrays(data, (fn,))
    tx, tW, tb = (tk.Tensor(a, requires_grad=True) for a in (x, W, b))
    y = F.conv2d(tx, tW, tb, stride=stride, pad=pad)
    gy = arrays(data, y.shape)
    y.backward(gy)

    def conv(x_, W_, b_):
        return np_conv2d(x_, W_, b_, stride, pad)

    for i, t in enumerate((tx, tW, tb)):
        np.testing.assert_allclose(t.grad.numpy(), numeric_vjp(conv, [x, W, b], gy, i), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("shape, w_shape, stride, pad, bias", [
    ((2, 2, 5, 4), (3, 2, 3, 2), 1, 0, True),
    ((1, 2, 5, 5), (2, 2, 3, 3), 2, 1, True),
    ((2, 1, 4, 6), (2, 1, 2, 3), (2, 1), (0, 1), False),
])
def test_conv2d_gradgradcheck(shape, w_shape, stride, pad, bias):
    rng = np.random.default_rng(0)
    inputs = [tk.Tensor(rng.standard_normal(shape), requires_grad=True),
              tk.Tensor(rng.standard_normal(w_shape), requires_grad=True)]
    if bias:
        inputs.append(tk.Tensor(rng.standard_normal(w_shape[0]), requires_grad=True))
    assert tk.gradgradcheck(lambda *a: F.conv2d(*a, stride=stride, pad=pad), *inputs)


def test_conv2d_gradients_under_create_graph_equal_the_plain_ones():
    rng = np.random.default_rng(1)
    x, W, b = (tk.Tensor(rng.standard_normal(s), requires_grad=True) for s in ((2, 3, 6, 5), (4, 3, 3, 2), (4,)))
    gy = rng.standard_normal((2, 4, 3, 6))  # (6 + 2 - 3) // 2 + 1 rows, (5 + 2 - 2) // 1 + 1 columns
    plain = tk.grad(F.conv2d(x, W, b, stride=(2, 1), pad=1), [x, W, b], gy)
    recorded = tk.grad(F.conv2d(x, W, b, stride=(2, 1), pad=1), [x, W, b], gy, create_graph=True)
    assert recorded[0].grad_fn is not None and recorded[1].grad_fn is not None  # gb = sum(gy): a constant
    for p, r in zip(plain, recorded):
        np.testing.assert_allclose(p.numpy(), r.numpy(), rtol=1e-13, atol=1e-13)


def test_conv2d_gives_the_same_gradients_with_its_columns_saved_or_rebuilt():
    rng = np.random.default_rng(2)
    x, W = (tk.Tensor(rng.standard_normal(s), requires_grad=True) for s in ((2, 2, 5, 5), (3, 2, 2, 2)))
    gy = rng.standard_normal((2, 3, 4, 4))
    default = tk.ops.Conv2d.save_columns
    results = []
    try:
        for save in (True, False):
            tk.ops.Conv2d.save_columns = save
            results.append(tk.grad(F.conv2d(x, W), [x, W], gy))
    finally:
        tk.ops.Conv2d.save_columns = default
    for a, b in zip(*results):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_conv2d_output_size_is_floored_and_uncovered_pixels_get_zero_gradient():
    x = tk.Tensor(np.ones((1, 1, 6, 6)), requires_grad=True)
    y = F.conv2d(x, np.ones((1, 1, 3, 3)), stride=2)  # (6 - 3) // 2 + 1 = 2
    assert y.shape == (1, 1, 2, 2)
    y.sum().backward()
    assert not x.grad.numpy()[0, 0, 5].any() and not x.grad.numpy()[0, 0, :, 5].any()


def test_conv2d_keeps_float32_and_leaves_its_inputs_alone():
    rng = np.random.default_rng(3)
    x, W, b = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 5, 5), (2, 3, 3, 3), (2,)))
    copies = [a.copy() for a in (x, W, b)]
    tx, tW, tb = (tk.Tensor(a, requires_grad=True) for a in (x, W, b))
    y = F.conv2d(tx, tW, tb, pad=1)
    gy = np.ones(y.shape, np.float32)
    y.backward(gy)
    assert y.dtype == np.float32 and all(t.grad.dtype == np.float32 for t in (tx, tW, tb))
    for a, c in zip((x, W, b), copies):
        np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(gy, 1.0)
    expected = loop_conv2d(x.astype(np.float64), W.astype(np.float64), b.astype(np.float64), (1, 1), (1, 1))
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("channels", [1, 2])
def test_conv2d_of_an_empty_batch_is_empty_with_zero_parameter_gradients(dtype, channels):
    x = tk.Tensor(np.zeros((0, channels, 5, 5), dtype), requires_grad=True)
    W = tk.Tensor(np.ones((3, channels, 3, 3), dtype), requires_grad=True)
    b = tk.Tensor(np.ones(3, dtype), requires_grad=True)
    y = F.conv2d(x, W, b, pad=1)
    assert y.shape == (0, 3, 5, 5) and y.dtype == dtype
    y.sum().backward()
    assert x.grad.shape == x.shape and W.grad.shape == W.shape and b.grad.shape == b.shape
    assert not W.grad.numpy().any() and not b.grad.numpy().any()
    gx, gW = tk.grad(F.conv2d(x, W, b, pad=1).sum(), [x, W], create_graph=True)
    assert gx.shape == x.shape and gW.shape == W.shape and not gW.numpy().any()


def test_conv2d_reads_any_memory_layout():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 2, 5, 6))
    channel_major = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    pixel_major = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    W = rng.standard_normal((2, 2, 2, 3))
    expected = loop_conv2d(x, W, None, (1, 1), (1, 0))
    for view in (channel_major, pixel_major, x[:, :, ::-1, :][:, :, ::-1, :], np.asfortranarray(x)):
        np.testing.assert_allclose(F.conv2d(view, W, pad=(1, 0)).numpy(), expected, rtol=1e-12, atol=1e-12)


# --- pooling -------------------------------------------------------------------------


@settings(max_examples=30)
@given(data=st.data(), case=window_cases(pool=True), kind=st.sampled_from(["max", "avg"]))
def test_pool_values_match_a_direct_loop(data, case, kind):
    shape, kernel, stride, pad = case
    x = arrays(data, shape)
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    y = pool(x, kernel[0], kernel[1], stride=as_arg(stride), pad=as_arg(pad))
    expected = loop_pool(x, kernel, stride, pad, kind)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np_pool(x, kernel, stride, pad, kind), expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=25)
@given(data=st.data(), case=window_cases(pool=True), kind=st.sampled_from(["max", "avg"]))
def test_pool_gradients_match_central_differences(data, case, kind):
    shape, kernel, stride, pad = case
    x = distinct(data, shape)
    tx = tk.Tensor(x, requires_grad=True)
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    y = pool(tx, kernel[0], kernel[1], stride=stride, pad=pad)
    gy = arrays(data, y.shape)
    y.backward(gy)
    expected = numeric_vjp(lambda a: np_pool(a, kernel, stride, pad, kind), [x], gy, 0)
    np.testing.assert_allclose(tx.grad.numpy(), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("kernel, stride, pad", [(2, None, 0), (3, 2, 1), ((2, 3), (1, 2), (1, 1))])
def test_pool_gradgradcheck(kind, kernel, stride, pad):
    x = tk.Tensor(np.random.default_rng(5).permutation(2 * 2 * 5 * 6).reshape(2, 2, 5, 6) * 0.1,
                  requires_grad=True)
    kh, kw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    assert tk.gradgradcheck(lambda a: pool(a, kh, kw, stride=stride, pad=pad), x)


def test_max_pool2d_sends_the_gradient_to_the_first_maximum_of_a_tie():
    x = tk.Tensor(np.array([[[[1.0, 3.0, 2.0, 2.0],
                              [3.0, 0.0, 2.0, 2.0]]]]), requires_grad=True)
    y = F.max_pool2d(x, 2)
    y.backward(np.array([[[[10.0, 20.0]]]]))
    np.testing.assert_array_equal(y.numpy(), [[[[3.0, 2.0]]]])
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0.0, 10.0, 20.0, 0.0],
                                                      [0.0, 0.0, 0.0, 0.0]]]])


def test_max_pool2d_overlapping_windows_add_their_gradients():
    x = tk.Tensor(np.array([[[[0.0, 5.0, 0.0]]]]), requires_grad=True)
    y = F.max_pool2d(x, 1, 2, stride=1)
    y.backward(np.array([[[[1.0, 2.0]]]]))
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0.0, 3.0, 0.0]]]])


def test_max_pool2d_padding_never_wins():
    x = -1.0 - np.arange(9.0).reshape(1, 1, 3, 3)  # all negative: zero padding would win
    y = F.max_pool2d(x, 3, stride=1, pad=1)
    np.testing.assert_array_equal(y.numpy(), loop_pool(x, (3, 3), (1, 1), (1, 1), "max"))
    assert (y.numpy() < 0).all()


def test_max_pool2d_of_minus_inf_sends_the_gradient_to_a_pixel_not_the_padding():
    x = tk.Tensor(np.full((1, 1, 2, 2), -np.inf), requires_grad=True)
    y = F.max_pool2d(x, 2, stride=1, pad=1)  # 3x3 windows of one to four pixels, each window's first pixel wins
    y.backward(np.arange(1.0, 10.0).reshape(1, 1, 3, 3))
    assert np.isneginf(y.numpy()).all()
    # window (i, j) covers pixels (i-1..i, j-1..j); its first pixel on x is (max(i-1, 0), max(j-1, 0))
    np.testing.assert_array_equal(x.grad.numpy(), [[[[1.0 + 2.0 + 4.0 + 5.0, 3.0 + 6.0],
                                                      [7.0 + 8.0, 9.0]]]])


def test_max_pool2d_nan_is_the_maximum_and_takes_the_gradient():
    x = tk.Tensor(np.array([[[[1.0, np.nan, 5.0, 0.0]]]]), requires_grad=True)
    y = F.max_pool2d(x, 1, 2)
    y.backward(np.array([[[[7.0, 8.0]]]]))
    assert np.isnan(y.numpy()[0, 0, 0, 0]) and y.numpy()[0, 0, 0, 1] == 5.0
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0.0, 7.0, 8.0, 0.0]]]])


@pytest.mark.parametrize("g", [np.inf, -3.0])
def test_max_pool2d_gradient_off_the_argmax_is_plus_zero(g):
    x = tk.Tensor(np.array([[[[1.0, 2.0]]]]), requires_grad=True)
    F.max_pool2d(x, 1, 2).backward(np.array([[[[g]]]]))  # inf * 0 would be NaN, -3 * 0 would be -0.0
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0.0, g]]]])
    assert not np.signbit(x.grad.numpy()[0, 0, 0, 0])


def test_avg_pool2d_counts_the_padding_in_the_average():
    y = F.avg_pool2d(np.ones((1, 1, 2, 2)), 2, stride=1, pad=1)
    np.testing.assert_array_equal(y.numpy(), [[[[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]]])


def test_pool_stride_defaults_to_the_pool_size():
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    assert F.max_pool2d(x, 2, 3).shape == (1, 1, 3, 2)
    np.testing.assert_array_equal(F.avg_pool2d(x, 3).numpy(), loop_pool(x, (3, 3), (3, 3), (0, 0), "avg"))


# --- im2col / col2im -------------------------------------------------------------------


@settings(max_examples=30)
@given(data=st.data(), case=window_cases())
def test_im2col_and_col2im_match_direct_loops_and_are_adjoint(data, case):
    shape, (fh, fw), stride, pad = case
    x = arrays(data, shape)
    col = F.im2col(x, fh, fw, as_arg(stride), as_arg(pad))
    np.testing.assert_array_equal(col, loop_im2col(x, fh, fw, stride, pad))
    c = arrays(data, col.shape)
    img = F.col2im(c, shape, fh, fw, as_arg(stride), as_arg(pad))
    assert isinstance(col, np.ndarray) and isinstance(img, np.ndarray) and img.shape == shape
    np.testing.assert_allclose(img, loop_col2im(c, shape, fh, fw, stride, pad), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.sum(col * c), np.sum(x * img), rtol=1e-10, atol=1e-10)


def test_im2col_has_the_books_layout():
    x = np.arange(2 * 2 * 3 * 3, dtype=np.float64).reshape(2, 2, 3, 3)
    col = F.im2col(tk.Tensor(x), 2, 2)
    assert col.shape == (2 * 2 * 2, 2 * 2 * 2)
    # row 0: image 0, window (0, 0): channel 0's 2x2 patch, then channel 1's
    np.testing.assert_array_equal(col[0], [0, 1, 3, 4, 9, 10, 12, 13])
    # row 5: image 1, window (0, 1)
    np.testing.assert_array_equal(col[5], [19, 20, 22, 23, 28, 29, 31, 32])


def test_im2col_keeps_float32():
    assert F.im2col(np.ones((1, 1, 3, 3), np.float32), 2, 2).dtype == np.float32


# --- pad and flatten ---------------------------------------------------------------------


@settings(max_examples=30)
@given(data=st.data(), shape=st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple),
       value=st.sampled_from([0.0, -1.5]))
def test_pad_matches_np_pad_and_its_gradient_is_the_interior(data, shape, value):
    widths = tuple((data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in shape)
    x = arrays(data, shape)
    tx = tk.Tensor(x, requires_grad=True)
    y = F.pad(tx, widths, value=value)
    np.testing.assert_array_equal(y.numpy(), np.pad(x, widths, constant_values=value))
    gy = arrays(data, y.shape)
    y.backward(gy)
    expected = numeric_vjp(lambda a: np.pad(a, widths, constant_values=value), [x], gy, 0)
    np.testing.assert_allclose(tx.grad.numpy(), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("pad_width", [1, (1, 2), ((0, 1), (2, 0))])
def test_pad_takes_np_pads_forms_and_passes_gradgradcheck(pad_width):
    x = np.random.default_rng(6).standard_normal((2, 3))
    np.testing.assert_array_equal(F.pad(x, pad_width).numpy(), np.pad(x, pad_width))
    assert tk.gradgradcheck(lambda a: F.pad(a, pad_width) * F.pad(a, pad_width), tk.Tensor(x, requires_grad=True))


@pytest.mark.parametrize("shape, start, end, expected", [
    ((2, 3, 4, 5), 1, -1, (2, 60)),
    ((2, 3, 4, 5), 0, -1, (120,)),
    ((2, 3, 4, 5), 1, 2, (2, 12, 5)),
    ((2, 3, 4, 5), -2, -1, (2, 3, 20)),
    ((2, 3), 1, 1, (2, 3)),
])
def test_flatten_merges_the_axes_from_start_to_end(shape, start, end, expected):
    x = tk.Tensor(np.arange(float(np.prod(shape))).reshape(shape), requires_grad=True)
    y = F.flatten(x, start, end)
    assert y.shape == expected
    np.testing.assert_array_equal(y.numpy().reshape(-1), x.numpy().reshape(-1))
    gy = np.arange(float(y.size)).reshape(y.shape)
    y.backward(gy)
    np.testing.assert_array_equal(x.grad.numpy(), gy.reshape(shape))


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.conv2d(np.ones((1, 5, 5)), np.ones((2, 1, 3, 3))), ValueError, ["conv2d", "4-D", "(1, 5, 5)"]),
    (lambda: F.conv2d(np.ones((1, 1, 5, 5)), np.ones((2, 3, 3))), ValueError, ["conv2d", "W", "(2, 3, 3)"]),
    (lambda: F.conv2d(np.ones((1, 3, 5, 5)), np.ones((2, 1, 3, 3))), ValueError,
     ["conv2d", "3 channels", "expects 1", "(1, 3, 5, 5)", "(2, 1, 3, 3)"]),
    (lambda: F.conv2d(np.ones((1, 1, 3, 3)), np.ones((2, 1, 5, 5))), ValueError,
     ["conv2d", "5x5", "larger than the padded input 3x3", "more padding"]),
    (lambda: F.conv2d(np.ones((1, 1, 5, 5)), np.ones((2, 1, 3, 3)), stride=0), ValueError,
     ["conv2d", "stride must be positive", "(0, 0)"]),
    (lambda: F.conv2d(np.ones((1, 1, 5, 5)), np.ones((2, 1, 3, 3)), pad=(1, -1)), ValueError,
     ["conv2d", "pad must be >= 0", "(1, -1)"]),
    (lambda: F.conv2d(np.ones((1, 1, 5, 5)), np.ones((2, 1, 3, 3)), stride=1.5), TypeError,
     ["conv2d", "stride", "int", "1.5"]),
    (lambda: F.conv2d(np.ones((1, 1, 5, 5)), np.ones((2, 1, 3, 3)), np.ones(3)), ValueError,
     ["conv2d", "b must have the shape (FN,) = (2,)", "(3,)"]),
    (lambda: F.conv2d(np.ones((1, 1, 5, 5)), np.ones((0, 1, 3, 3))), ValueError,
     ["conv2d", "(0, 1, 3, 3)", "no filters", "at least 1"]),
    (lambda: F.conv2d(np.ones((1, 1, 5, 5), np.float32), np.ones((0, 1, 3, 3), np.float32)), ValueError,
     ["conv2d", "no filters"]),
    (lambda: F.max_pool2d(np.ones((5, 5)), 2), ValueError, ["max_pool2d", "4-D", "(5, 5)"]),
    (lambda: F.max_pool2d(np.ones((1, 1, 5, 5)), 2.0), TypeError, ["max_pool2d", "pool size", "2.0"]),
    (lambda: F.max_pool2d(np.ones((1, 1, 5, 5)), 2, stride=-1), ValueError, ["max_pool2d", "stride"]),
    (lambda: F.max_pool2d(np.ones((1, 1, 5, 5)), 2, pad=2), ValueError, ["max_pool2d", "half the pool size"]),
    (lambda: F.avg_pool2d(np.ones((1, 1, 2, 2)), 3), ValueError, ["avg_pool2d", "3x3", "larger", "2x2"]),
    (lambda: F.avg_pool2d(np.ones((1, 1, 5, 5)), 0), ValueError, ["avg_pool2d", "positive"]),
    (lambda: F.im2col(np.ones((1, 1, 3, 3)), 4, 2), ValueError, ["im2col", "4x2", "larger"]),
    (lambda: F.col2im(np.ones((3, 4)), (1, 1, 3, 3), 2, 2), ValueError, ["col2im", "(4, 4)", "(3, 4)"]),
    (lambda: F.pad(np.ones((2, 2)), -1), ValueError, ["pad", ">= 0"]),
    (lambda: F.pad(np.ones((2, 2)), 1.5), TypeError, ["pad", "integers"]),
    (lambda: F.pad(np.ones((2, 2)), ((1, 1), (1, 1), (1, 1))), ValueError, ["pad", "2 dimensions"]),
    (lambda: F.flatten(np.ones(3)), ValueError, ["flatten", "start_dim=1", "out of range", "(3,)"]),
    (lambda: F.flatten(np.ones((2, 3, 4)), 2, 1), ValueError, ["flatten", "comes after"]),
])
def test_errors_name_the_op_the_shapes_and_the_fix(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))
