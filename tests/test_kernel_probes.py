"""The kernel probes' fitted forms (benchmarks/pointwise_shapes.py), checked on numbers worked by hand."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import pointwise_shapes  # noqa: E402


def test_shaped_work_rounds_channels_up_and_charges_each_output():
    # 11 -> 22 channels on one pixel, blocks of 16: 32 outputs x (16 + 9) MACs, x 1.25 for the narrow input.
    assert pointwise_shapes.shaped_work(np.array([11.0]), np.array([22.0]), 1, 16, 9, 1.25)[0] == 32 * 25 * 1.25 == 1000
    # 32 -> 48 on a 2 x 2 map: whole blocks, no narrow input: 4 x 48 x (32 + 9).
    assert pointwise_shapes.shaped_work(np.array([32.0]), np.array([48.0]), 4, 16, 9, 1.25)[0] == 4 * 48 * 41 == 7872


def test_scale_and_error_recovers_an_exact_proportion():
    work = np.array([100.0, 300.0, 1000.0])
    a, error = pointwise_shapes.scale_and_error(work, work * 2e-6)
    assert a == pytest.approx(2e-6, rel=1e-12) and error == pytest.approx(0.0, abs=1e-9)
    # Times 1 and 3 for work 1 and 1: a = sum(w/t) / sum((w/t)^2) = (1 + 1/3) / (1 + 1/9) = 1.2, errors 20 % and 60 %.
    a, error = pointwise_shapes.scale_and_error(np.array([1.0, 1.0]), np.array([1.0, 3.0]))
    assert a == pytest.approx(1.2) and error == pytest.approx(40.0)
