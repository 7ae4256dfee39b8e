"""Plain-Python twins of the sympy functions in rounding.py, for one configuration at a time.

They are the reference code's own arithmetic (TF-slim/Keras/torchvision ``_make_divisible``, TF-slim
``depth``, SAME and bottom/right padding), so counts come out as Python integers: exact at any size,
where numpy's float64 twins (float_rules.py) stop at 2**53. This module imports neither numpy nor
sympy, so a report on a warm cache loads neither.
"""

from __future__ import annotations

import math


def make_divisible(v, d):
    new = max(d, int(v + d / 2) // d * d)
    if new < 0.9 * v:
        new += d
    return new


def truncate(v, m):
    return max(int(v), m)


def scale_by(c, q):
    return c * q


def ceil_div(h, s):
    return -(-h // s)


def pad_bottom_right(h, k, s):
    return (h + 1 - k) // s + 1


def valid_window(h, k, s):
    if h < k:
        from ..errors import MobilecostError

        raise MobilecostError(f"a {k}-pixel pooling window is larger than its {h}-pixel input at this resolution",
                              field="--resolution")
    return (h - k) // s + 1


def round_half_even(x):
    return round(x)


def round_half_up(x):
    return math.floor(x + 0.5)


PYTHON_FUNCTIONS = {
    "make_divisible": make_divisible,
    "truncate": truncate,
    "scale_by": scale_by,
    "ceil_div": ceil_div,
    "pad_bottom_right": pad_bottom_right,
    "round_half_up": round_half_up,
    "valid_window": valid_window,
    "round_half_even": round_half_even,
}
