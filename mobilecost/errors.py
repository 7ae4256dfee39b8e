"""The one error type mobilecost raises for bad input, and how it names the place."""

from __future__ import annotations


class MobilecostError(ValueError):
    """Bad input or an impossible request, with the place it comes from.

    A ValueError, so code that already catches ValueError around a call catches this too.

    `where` is a human-readable location such as ``tables/x.yaml:12`` and
    `field` the key or option at fault; both are optional.
    """

    def __init__(self, message: str, *, where: str | None = None, field: str | None = None):
        self.message = message
        self.where = where
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = []
        if self.where:
            parts.append(self.where)
        if self.field:
            parts.append(self.field)
        prefix = ": ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


def quoted(value, limit: int = 60) -> str:
    """repr(`value`) as an error message quotes it: whole up to `limit` characters, else its start and length
    (an option or a field may be megabytes long; the message stays one readable line)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit - 10]}... ({len(text):,} characters)"
