"""Where tables are and how their text is read: built-in names, paths, UTF-8 text of bounded size.

Neither YAML nor pydantic is needed here, so a report on a warm cache can find and hash its table
without them.
"""

from __future__ import annotations

import errno
from pathlib import Path

from ..errors import MobilecostError

MAX_FILE_BYTES = 16 * 2**20  # a table, a device profile or a measurements CSV is a few kilobytes


def brief(value, limit: int = 60) -> str:
    """`value` as quoted in an error message: at most about `limit` characters, on one line."""
    text = value if isinstance(value, str) else repr(value)
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    if len(text) <= limit:
        return text
    return f"{text[:limit - 10]}... ({len(text):,} characters)"


def read_text_file(path: Path, shown: str, what: str = "a table") -> str:
    """The UTF-8 text of a file of at most MAX_FILE_BYTES, or one line saying why not (naming the
    file, and the line and column of the first byte that is not UTF-8)."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise MobilecostError(f"the file has {size:,} bytes; {what} has at most {MAX_FILE_BYTES:,}", where=shown)
        data = path.read_bytes()[:MAX_FILE_BYTES + 1]
    except OSError as exc:
        raise MobilecostError(f"cannot read the file: {exc.strerror or exc}", where=shown) from None
    return decode_utf8(data, shown)


def decode_utf8(data: bytes, shown: str) -> str:
    """`data` as UTF-8 text with universal newlines (as ``Path.read_text``)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise MobilecostError(f"not UTF-8 text: byte 0x{data[exc.start]:02x} at column {column} "
                              f"(byte {exc.start + 1:,} of the file); save it as UTF-8", where=f"{shown}:{line}") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def is_file(path: Path, shown: str) -> bool:
    """Path.is_file (False for a name too long to be a file), with other refusals said in one line."""
    try:
        return path.is_file()
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            return False
        raise MobilecostError(f"cannot read the file: {exc.strerror or exc}", where=brief(shown)) from None


def tables_dir() -> Path:
    """Where the built-in tables live: inside the installed package, or the repository's tables/."""
    packaged = Path(__file__).resolve().parent.parent / "tables"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "tables"


def list_variants() -> list[str]:
    return [p.stem for p in sorted(tables_dir().glob("*.yaml"))]


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
