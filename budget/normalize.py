"""Text folding for matching: NFKC, full-width to half-width, 台→臺, no whitespace, lower case.

Folded text is used only to *find* things; the original text is what every output shows.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Callable

_SPACE_RE = re.compile(r"\s+")
# Full-width punctuation found in almost every description, with its NFKC form. Replacing these
# first lets most texts skip the (slow) full NFKC pass; the result is the same as NFKC.
_COMMON_FULL_WIDTH = (("，", ","), ("：", ":"), ("；", ";"), ("（", "("), ("）", ")"), ("\u3000", " "))
# Variant characters offices use interchangeably; folded to the standard form before matching.
_VARIANTS = (("台", "臺"), ("着", "著"), ("裏", "裡"), ("綫", "線"), ("羣", "群"), ("峯", "峰"))


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, fast for the usual Chinese budget text."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    for full, half in _COMMON_FULL_WIDTH:
        if full in text:
            text = text.replace(full, half)
    if unicodedata.is_normalized("NFKC", text):
        return text
    return unicodedata.normalize("NFKC", text)


def fold(text: str) -> str:
    """Fold ``text`` for matching (NFKC, variants, whitespace removed, ASCII lower-cased)."""
    if not text:
        return ""
    if text.isascii():
        return "".join(text.split()).lower()
    text = nfkc(text)
    for variant, standard in _VARIANTS:
        if variant in text:
            text = text.replace(variant, standard)
    return "".join(text.split()).lower()


class Remembered(dict):
    """``func(text)`` computed once per distinct text: ``folds = Remembered(fold)``, then ``folds[text]``.

    Plans, branches, accounts and headings repeat on thousands of lines; looking up what they fold to
    costs a dict lookup instead of folding them again.
    """

    def __init__(self, func: Callable[[str], str]) -> None:
        super().__init__()
        self.func = func

    def __missing__(self, text: str) -> str:
        value = self[text] = self.func(text)
        return value


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
