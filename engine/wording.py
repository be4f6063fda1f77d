"""Counted nouns for the messages people read ("1 photo", "3 photos"): one spelling for the app and the CLI,
instead of "photo(s)"."""
from __future__ import annotations


def count(n: int, noun: str, nouns: str | None = None) -> str:
    """`n` and the noun in the number it takes: count(1, "photo") → "1 photo", count(0, "photo") → "0 photos";
    `nouns`: an irregular plural (count(2, "library", "libraries"))."""
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"
