"""Numeric twins of the sympy functions in rounding.py, vectorised over numpy arrays.

Each repeats the reference code's floating-point operations in the same order (see rounding.py),
so compiled evaluation agrees with TF-slim, Keras and torchvision to the unit. This module does not
import sympy, so cached compiled evaluators load without it.
"""

from __future__ import annotations

import numpy as np

def _np_make_divisible(v, d):
    v = np.asarray(v, dtype=float)
    new = np.maximum(d, np.floor(v + d / 2) // d * d)
    return np.where(new < 0.9 * v, new + d, new)


def _np_truncate(v, m):
    return np.maximum(np.floor(v), m)


def _np_scale_by(c, q):
    return c * q


def _np_ceil_div(h, s):
    return -(-np.asarray(h, dtype=float) // s)


def _np_pad_bottom_right(h, k, s):
    return (np.asarray(h, dtype=float) + 1 - k) // s + 1


def _np_valid_window(h, k, s):
    h = np.asarray(h, dtype=float)
    if np.any(h < k):
        from ..errors import MobilecostError

        raise MobilecostError(f"a {k:g}-pixel pooling window is larger than its input at "
                              f"{'this resolution' if h.size == 1 else 'some of these resolutions'}",
                              field="--resolution")
    return (h - k) // s + 1


def _np_round_half_even(x):
    return np.round(np.asarray(x, dtype=float))  # numpy, like Python's round(), rounds halves to even


def _np_round_half_up(x):
    return np.floor(np.asarray(x, dtype=float) + 0.5)


NUMPY_FUNCTIONS = {
    "make_divisible": _np_make_divisible,
    "truncate": _np_truncate,
    "scale_by": _np_scale_by,
    "ceil_div": _np_ceil_div,
    "pad_bottom_right": _np_pad_bottom_right,
    "round_half_up": _np_round_half_up,
    "valid_window": _np_valid_window,
    "round_half_even": _np_round_half_even,
}
