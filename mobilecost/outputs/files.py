"""Writing results: atomically to a file, or to stdout. Never a half-written file."""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..errors import MobilecostError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def replacing(path: str | os.PathLike, field: str = "-o", suffix: str = ".part"):
    """Yield a temporary path beside `path`; on success it replaces `path` (with the permissions
    a newly created file would get), on any error it is removed and `path` is left as it was."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise MobilecostError("the output folder does not exist", where=str(directory), field=field)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=directory)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: str | os.PathLike, data: str | bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename."""
    with replacing(path) as tmp:
        if isinstance(data, bytes):
            Path(tmp).write_bytes(data)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                handle.write(data)


def emit(text: str, output: str | None) -> None:
    """Data to the file named by -o, or to stdout."""
    if output:
        write_atomic(output, text)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
