"""A device profile's figures from the cache: on a warm start `latency` reads neither YAML nor pydantic.

The entry is keyed by the profile file's text and the package fingerprint (numeric/cache.py), and
written only after the profile has been validated (`devices.parse_device`): a new or edited profile
file is validated on its first use, with the same one-line errors. An entry that cannot be read or
does not match its checksum is rebuilt, never served.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePath

from ..numeric.cache import cached_namespace, package_fingerprint
from ..spec.files import display_path, read_text_file
from .figures import DeviceFigures, figures_of, resolve_device


def device_figures(device) -> DeviceFigures:
    """The figures of a built-in device name, a profile path, a loaded profile or figures."""
    if isinstance(device, DeviceFigures):
        return device
    if not isinstance(device, (str, PurePath)):  # a loaded profile (anything else is refused there, as before)
        from .devices import load_device

        return figures_of(load_device(device))
    path = resolve_device(device)
    shown = display_path(path)
    text = read_text_file(path, shown, "a device profile")
    key = hashlib.sha256("|".join((text, package_fingerprint())).encode())
    namespace = cached_namespace(f"device-{key.hexdigest()[:24]}", lambda: _source(text, shown), {})
    return DeviceFigures(**namespace["FIGURES"], path=shown)


def _source(text: str, shown: str) -> str:
    from .devices import parse_device

    return f"FIGURES = {figures_of(parse_device(text, shown)).stored()!r}\n"
