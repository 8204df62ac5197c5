"""Text folding for matching: NFKC, full-width to half-width, 台→臺, no whitespace, lower case.

Folded text is used only to *find* things; the original text is what every output shows.
"""

from __future__ import annotations

import re
import unicodedata

_SPACE_RE = re.compile(r"\s+")
# Variant characters offices use interchangeably; folded to the standard form before matching.
_VARIANTS = str.maketrans({"台": "臺", "着": "著", "裏": "裡", "綫": "線", "羣": "群", "峯": "峰"})


def fold(text: str) -> str:
    """Fold ``text`` for matching (NFKC, variants, whitespace removed, ASCII lower-cased)."""
    if not text:
        return ""
    if text.isascii():
        return _SPACE_RE.sub("", text).lower()
    text = unicodedata.normalize("NFKC", text)
    return _SPACE_RE.sub("", text.translate(_VARIANTS)).lower()


_ACCOUNT_RE = re.compile(r"^\s*([0-9０-９]{2,6})\s*[-－.、 \u3000]*\s*(.*?)\s*$", re.DOTALL)


def split_account(text: str) -> tuple[str, str]:
    """Split ``"2036 按日按件計資酬金"`` into ``("2036", "按日按件計資酬金")``.

    A text without a leading code gives ``("", text)``. Full-width digits in the code are folded
    (``２０３６`` → ``2036``); leading zeros are kept.
    """
    if not text:
        return "", ""
    m = _ACCOUNT_RE.match(text)
    if not m or not m.group(2):
        stripped = text.strip()
        if stripped and unicodedata.normalize("NFKC", stripped).isdigit():
            return unicodedata.normalize("NFKC", stripped), ""
        return "", stripped
    return unicodedata.normalize("NFKC", m.group(1)), m.group(2)
