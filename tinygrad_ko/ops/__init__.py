"""Primitive operations: one Function per op, with its derivative.

Each ``forward`` takes ndarrays and returns a new ndarray; each ``backward``
takes the output gradient ``gy`` (a Tensor) and returns one Tensor per input,
written with Tensor operations so that it can itself be differentiated. A
backward may return a gradient of the output's (broadcast) shape: the engine
sums it back to the input's shape (``SumTo``), so no op repeats that code.
Nothing here writes into an input or into ``gy``.
"""

from .elementwise import (Add, Div, Exp, Log, Mul, Neg, Pow, ReLU, Sigmoid, SigmoidGrad, Sqrt, Sub, Tanh,
                          as_float)
from .conv import Conv2d, Conv2dGradInput, Conv2dGradWeight, Pad
from .matmul import Linear, MatMul, check_matmul_shapes, dot2, sum_rows
from .movement import BroadcastTo, Copy, GetItem, Reshape, ScatterAdd, SumTo, Transpose, sum_to_shape
from .normalization import BatchNorm, Dropout, check_dropout_probability
from .pooling import AvgPool2d, AvgPool2dGrad, MaxPool2d, MaxPool2dGather, MaxPool2dScatter
from .reductions import Max, Sum, mean, minimum, normalize_axes
