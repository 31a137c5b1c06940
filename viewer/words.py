"""Counts in words: "1 inspection", "2 inspections" (one place for the plural rule)."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` with thousands separators and the noun in the number it needs."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
