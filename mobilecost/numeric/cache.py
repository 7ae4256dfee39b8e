"""The compiled cache: generated code kept on disk, keyed by everything that decides it.

Entries live in ``$MOBILECOST_CACHE_DIR``, else ``$XDG_CACHE_HOME/mobilecost`` or
``~/.cache/mobilecost``. A key is made by its user from the table's content, the mode, the semantics
and `package_fingerprint` (the package version and every source file of the package), so any change
to one of them makes a new entry; an entry that cannot be read or run, or whose content does not match
the SHA-256 on its first line, is rebuilt, never served.
Nothing here imports numpy, sympy or pydantic.
"""

from __future__ import annotations

import hashlib
import math
import os
from functools import lru_cache
from pathlib import Path


def cache_dir() -> Path:
    if os.environ.get("MOBILECOST_CACHE_DIR"):
        return Path(os.environ["MOBILECOST_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mobilecost"


@lru_cache(maxsize=1)
def package_fingerprint() -> str:
    """The package version and every one of its source files: any change to either rebuilds the cache."""
    from .. import __version__

    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def python_namespace() -> dict:
    from ..count.exact_rules import PYTHON_FUNCTIONS

    return {**vars(math), "math": math, **PYTHON_FUNCTIONS}


_MEMORY: dict = {}


def cached_namespace(name: str, generate, namespace) -> dict:
    """The namespace of generated code `name` (a cache key), its source text under ``__source__``: from
    memory, from disk, or from ``generate()`` (source text), executed in a copy of `namespace`."""
    if name in _MEMORY:
        return _MEMORY[name]
    path = cache_dir() / f"{name}.py"
    loaded = None
    if path.is_file():
        try:
            loaded = _load(_checked(path.read_text(encoding="utf-8")), namespace)
        except Exception:  # noqa: BLE001 - a corrupt or unreadable entry is rebuilt, never served
            loaded = None
    if loaded is None:
        loaded = _load(generate(), namespace)
        _store(path, loaded["__source__"])
    _MEMORY[name] = loaded
    return loaded


def forget_loaded() -> None:
    """Drop what this process has loaded, so the next request reads the disk again."""
    _MEMORY.clear()


def _checked(text: str) -> str:
    """The source of a stored entry whose first line carries the SHA-256 of the rest; anything else
    (emptied, truncated, overwritten, a flipped byte that still compiles) raises ValueError."""
    header, _, source = text.partition("\n")
    if header != _header(source):
        raise ValueError("cache entry does not match its checksum")
    return source


def _header(source: str) -> str:
    return "# sha256 " + hashlib.sha256(source.encode("utf-8")).hexdigest()


def _load(source: str, namespace: dict) -> dict:
    namespace = dict(namespace)
    exec(compile(source, "<mobilecost generated code>", "exec"), namespace)  # noqa: S102 - our own generated code
    namespace["__source__"] = source
    return namespace


def _store(path: Path, source: str) -> None:
    """Best effort: a read-only or missing cache only costs speed."""
    tmp = path.with_suffix(f".{os.getpid()}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(_header(source) + "\n" + source, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        # A failed write or rename (e.g. a directory where the entry should be) leaves no
        # partial file behind: with a new pid each run, they would pile up in the cache.
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
