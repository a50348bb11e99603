"""Primitive operations: one Function per op, with its derivative.

Each ``forward`` takes ndarrays and returns a new ndarray; each ``backward``
takes the output gradient ``gy`` (a Tensor) and returns one Tensor per input,
written with Tensor operations so that it can itself be differentiated. A
backward may return a gradient of the output's (broadcast) shape: the engine
sums it back to the input's shape (``SumTo``), so no op repeats that code.
Nothing here writes into an input or into ``gy``.
"""

from .activations import ELU, GELU, Erf, LeakyReLU, Softplus
from .conv import Conv2d, Conv2dGradInput, Conv2dGradWeight, Pad
from .elementwise import (Abs, Add, Cos, Div, Exp, Expm1, Log, Log1p, Mul, Neg, Positive, Pow, PowTensor,
                          Reciprocal, ReLU, Sigmoid, SigmoidGrad, Sign, Sin, Sqrt, Square, Sub, Tanh, as_float)
from .matmul import Linear, MatMul, check_matmul_shapes, dot2, sum_rows
from .movement import (BroadcastTo, Concatenate, Copy, GetItem, Reshape, ScatterAdd, SumTo, Tile, Transpose,
                       concatenate, expand_dims, flatten, repeat, split, squeeze, stack, sum_to, sum_to_shape,
                       swapaxes, tile)
from .normalization import BatchNorm, Dropout, check_dropout_probability
from .pooling import AvgPool2d, AvgPool2dGrad, MaxPool2d, MaxPool2dGather, MaxPool2dScatter
from .reductions import (Cumsum, LogSumExp, Max, Prod, ProdOthers, Std, Sum, Var, mean, normalize_axes,
                         reduce_min)
from .selection import Clip, Maximum, Minimum, Where, clip, maximum, minimum, where
