"""conv2d's two memory layouts (tinygrad_ko/ops/conv.py), for the tests that run in both."""

import numpy as np

from tinygrad_ko.ops import conv as conv_ops

LAYOUTS = ("channel by channel", "pixel by pixel")


def use_conv_layout(patch, layout):
    """Make conv2d use ``layout`` in every dtype and for every channel count; ``patch``: a pytest MonkeyPatch.

    Pixel by pixel is what float32 trains with; forcing it on float64 lets the gradchecks prove it.
    """
    if layout == "pixel by pixel":
        patch.setattr(conv_ops, "PIXEL_MAJOR_DTYPES", (np.dtype(np.float64), np.dtype(np.float32)))
        patch.setattr(conv_ops, "PIXEL_MAJOR_MIN_CHANNELS", 1)
    else:
        patch.setattr(conv_ops, "PIXEL_MAJOR_DTYPES", ())
