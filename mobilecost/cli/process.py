"""Process settings for the command line, made before numpy loads.

mobilecost's arrays are many small matrix products and 200 x 200 grids (320 KB each). Two defaults
of the platform cost more than the work there, most on a busy machine:

* BLAS threads: a product of a few hundred terms by a few hundred points took 30 ms with OpenBLAS's
  threads on a loaded 2-core machine, 0.15 ms with one;
* glibc returns every block above 128 KiB to the system when it is freed, so each new grid array is
  page-faulted in afresh: 0.47 ms instead of 0.03 ms per array while a few dozen were alive.

A user's own BLAS setting wins; the allocator is left alone where it is not glibc's.
"""

import ctypes
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters


def tune_process() -> None:
    for variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)
        libc.mallopt(M_TRIM_THRESHOLD, 128 << 20)
    except (OSError, AttributeError):
        pass
