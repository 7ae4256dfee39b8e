"""Writing results: atomically to a file, or to stdout. Never a half-written or wrongly replaced file.

What an output path (``-o PATH``, ``--xlsx PATH``, ...) does depends on what PATH is:

* nothing yet, or a regular file: the data goes to a temporary file beside it, renamed over PATH
  once complete, so PATH is either the old file or the whole new one;
* a symbolic link: it is followed and the file it points to is replaced as above; the link stays a
  link (a user who points ``out.csv`` at ``results/latest.csv`` expects the latter updated);
* a stream -- a named pipe (FIFO), a terminal, ``/dev/stdout``, ``/dev/null`` -- : the complete data
  is written into it; a stream cannot be replaced, and writing into it is what the user asked for;
* a folder, a path under something that is not a folder, or a folder that does not exist or cannot
  be written: refused in one line naming PATH, before anything is written.

Several outputs of one command (``export --xlsx --csv --json``) are written together by `Batch`:
each is prepared in full beside its target, and only when all are ready are they renamed into place.

Text that comes from a user's table is data, never a spreadsheet formula: every CSV the project
writes goes through `csv_text` (or `csv_cell`), which prefixes such cells with a quote.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import MobilecostError

# A spreadsheet reads a CSV cell starting with one of these as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """`value`, or for text a spreadsheet would read as a formula, the text behind a single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(frame, buffer=None, **to_csv) -> str | None:
    """``frame.to_csv(buffer, index=False, **to_csv)`` with every text cell passed through `csv_cell`.

    Column names are text too. Numbers are left alone (a negative number is a number, not a formula)."""
    to_csv.setdefault("index", False)
    out = frame
    for position in range(frame.shape[1]):
        values = frame.iloc[:, position]
        if getattr(values.dtype, "kind", "O") != "O":
            continue
        if any(isinstance(v, str) and v.startswith(FORMULA_STARTS) for v in values.unique()):
            if out is frame:
                out = frame.copy()
            out.isetitem(position, values.map(csv_cell))
    if any(isinstance(c, str) and c.startswith(FORMULA_STARTS) for c in out.columns):
        out = out.set_axis([csv_cell(c) for c in out.columns], axis=1)
    return out.to_csv(buffer, **to_csv)


def csv_comment(text: str) -> str:
    """A ``# ...`` line above a CSV table: one line, and no comma-separated piece read as a formula.

    A piece that opens with a double quote, after spaces or not, is a quoted field to a CSV reader, which
    strips the quotes (LibreOffice reads ``"=2+3"`` and `` "=2+3"`` as ``=2+3``, a formula): it too is
    put behind a single quote, which keeps it unquoted text."""
    text = " ".join(str(text).splitlines())
    return ",".join("'" + piece if piece.lstrip().startswith('"') else csv_cell(piece) for piece in text.split(","))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@dataclass(frozen=True)
class Destination:
    """Where an output named `shown` (as the user gave it, for messages) lands, and how."""

    shown: str
    field: str
    real: Path  # the file replaced (a symlink's target), or the stream written to
    stream: bool = False  # write into it instead of replacing it
    fd: int | None = None  # 1 or 2 when the stream is this process's stdout or stderr

    def error(self, message: str) -> MobilecostError:
        return MobilecostError(message, where=self.shown, field=self.field)


def _same_file(st: os.stat_result, fd: int) -> bool:
    try:
        other = os.fstat(fd)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (other.st_dev, other.st_ino)


def destination(path, field: str = "-o") -> Destination:
    """Check that `path` can receive an output and say how; refuse in one line (naming `path`) if not."""
    text = os.fspath(path)
    shown = text if len(text) <= 200 else _brief(text)

    def refuse(message: str) -> MobilecostError:
        return MobilecostError(message, where=shown, field=field)

    if not text:
        raise MobilecostError("an empty path", field=field)
    try:
        st = os.stat(text)  # follows symbolic links
    except (FileNotFoundError, NotADirectoryError):
        st = None  # nothing there yet, or a part of the path is a file (said by the folder check below)
    except OSError as exc:
        raise refuse(f"cannot write here: {exc.strerror or exc}") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise refuse("this is a folder, not a file")
        for fd in (1, 2):
            if _same_file(st, fd):
                return Destination(shown, field, Path(text), True, fd)
        if not stat.S_ISREG(st.st_mode):
            return Destination(shown, field, Path(text), True)
    real = Path(os.path.realpath(text))
    if st is not None and str(real).startswith("/proc/"):
        return Destination(shown, field, Path(text), True)
    folder = real.parent
    if not folder.is_dir():
        given = folder if os.path.islink(text) else Path(text).parent
        blocker = next((p for p in (given, *given.parents) if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise refuse(f"'{blocker}' is a file, not a folder")
        raise refuse("the output folder does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise refuse(f"the folder '{folder}' is not writable")
    return Destination(shown, field, real)


def _brief(text: str) -> str:
    from ..spec.files import brief

    return brief(text, 100)


class Batch:
    """Outputs written all or nothing, as far as a file system allows.

    Each output is first written in full to a temporary file (beside its target, so the final rename
    stays on one file system); `commit` renames them all into place (or copies into streams), and
    `discard` -- called on any error -- removes the temporary files and the folders the batch made.
    Errors name the target the user gave, never a temporary file.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Destination, str]] = []
        self._folders: list[Path] = []

    def folder(self, path, field: str) -> Path:
        """Make the folder `path` (its parent must exist) unless it is there; removed on `discard`."""
        folder = Path(path)
        if folder.is_dir():
            return folder
        try:
            folder.mkdir()
        except OSError as exc:
            raise MobilecostError(f"cannot create the folder: {exc.strerror or exc}", where=str(path),
                                  field=field) from None
        self._folders.append(folder)
        return folder

    def path(self, target, field: str = "-o", suffix: str = ".part") -> str:
        """A temporary file to write the output for `target` into."""
        dest = target if isinstance(target, Destination) else destination(target, field)
        directory = None if dest.stream else str(dest.real.parent)
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{dest.real.name[:100]}.", suffix=suffix, dir=directory)
        except OSError as exc:
            raise dest.error(f"cannot write: {exc.strerror or exc}") from None
        os.close(fd)
        self._staged.append((dest, tmp))
        return tmp

    def render(self, target, field: str, writer, suffix: str = ".part") -> None:
        """Let `writer(temporary path)` write the output for `target`; its OSError names `target`."""
        tmp = self.path(target, field, suffix)
        dest = self._staged[-1][0]
        try:
            writer(tmp)
        except OSError as exc:
            raise dest.error(f"cannot write: {exc.strerror or exc}") from None

    def write(self, target, data: str | bytes, field: str = "-o") -> None:
        def write(tmp):
            if isinstance(data, bytes):
                Path(tmp).write_bytes(data)
            else:
                with open(tmp, "w", encoding="utf-8", newline="") as handle:
                    handle.write(data)

        self.render(target, field, write)

    def commit(self) -> None:
        mode = 0o666 & ~_umask()
        for dest, tmp in self._staged:
            try:
                if dest.stream:
                    _copy_into_stream(tmp, dest)
                    Path(tmp).unlink(missing_ok=True)
                else:
                    os.chmod(tmp, mode)
                    os.replace(tmp, dest.real)
            except OSError as exc:
                raise dest.error(f"cannot write: {exc.strerror or exc}") from None
        self._staged, self._folders = [], []

    def discard(self) -> None:
        for _, tmp in self._staged:
            Path(tmp).unlink(missing_ok=True)
        for folder in reversed(self._folders):
            try:
                folder.rmdir()
            except OSError:
                pass
        self._staged, self._folders = [], []

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            try:
                self.commit()
            finally:
                self.discard()
        else:
            self.discard()


def _copy_into_stream(tmp: str, dest: Destination) -> None:
    if dest.fd is not None:
        stream = sys.stdout if dest.fd == 1 else sys.stderr
        stream.flush()
        with open(tmp, "rb") as source:
            buffer = getattr(stream, "buffer", None)
            if buffer is not None:
                shutil.copyfileobj(source, buffer)
                buffer.flush()
            else:
                stream.write(source.read().decode("utf-8"))
                stream.flush()
        return
    with open(tmp, "rb") as source, open(dest.real, "wb") as sink:
        shutil.copyfileobj(source, sink)


@contextmanager
def replacing(path: str | os.PathLike, field: str = "-o", suffix: str = ".part"):
    """Yield a temporary path for `path`; on success it takes `path`'s place (with the permissions a
    newly created file would get), on any error it is removed and `path` is left as it was.
    See the module's docstring for symbolic links and streams."""
    dest = destination(path, field)
    with Batch() as batch:
        tmp = batch.path(dest, field, suffix)
        try:
            yield tmp
        except OSError as exc:
            raise dest.error(f"cannot write: {exc.strerror or exc}") from None


def write_atomic(path: str | os.PathLike, data: str | bytes, field: str = "-o") -> None:
    """Write `data` to `path` through a temporary file and a rename."""
    with Batch() as batch:
        batch.write(path, data, field)


def emit(text: str, output: str | None) -> None:
    """Data to the file named by -o, or to stdout; on stdout, a terminal control character from a user's
    table (an escape sequence, say) is written as its ``\\xNN`` escape, never acted on."""
    if output:
        write_atomic(output, text)
    else:
        from .terminal_table import terminal_safe

        text = terminal_safe(text)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
