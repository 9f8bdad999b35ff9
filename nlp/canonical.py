"""Printed text → canonical text, the form every pattern and vocabulary is written for.

Canonical text is simplified Chinese (OpenCC `t2s`) with ASCII punctuation written next to Chinese widened to
its full-width form (`,` → `，`, `(` → `（`, a full stop written `.` → `。`). Both steps keep the length of a
line, so an offset in canonical text is the same offset in the printed line: `PrintedMap` turns any span the
extractor found back into the words as printed, which is what is stored, quoted and cited.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

CJK = r"\u3400-\u9fff\uf900-\ufaff"
WIDE = {",": "，", ":": "：", ";": "；", "(": "（", ")": "）", "!": "！", "?": "？"}
# ASCII punctuation between two ASCII letters or digits is part of a number, a time or a code: 1,000  8:25  a(b)
_ASCII_SIDES = re.compile(r"[A-Za-z0-9]")
_CJK_CHAR = re.compile(f"[{CJK}]")
_LEADING_LABEL_DOT = re.compile(r"^[（(]?[一二三四五六七八九十\d]{1,3}[)）]?\.")
_NARROW = re.compile(r"[,:;()!?.]")  # the characters widen_punctuation may change


@lru_cache(maxsize=1)
def _t2s():
    import opencc
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _s2t():
    import opencc
    return opencc.OpenCC("s2t")


def in_script_of(name: str, printed: Optional[str]) -> str:
    """A gazetteer name written in the script `printed` uses: traditional when the printed text is."""
    if not name or not printed or simplified(printed) == printed:
        return name
    return _s2t().convert(name)


def simplified(text: str) -> str:
    """OpenCC t2s, keeping the length: a phrase conversion that changes it falls back to character by character."""
    if not text or text.isascii():
        return text
    out = _t2s().convert(text)
    if len(out) == len(text):
        return out
    chars = []
    for ch in text:
        c = _t2s().convert(ch)
        chars.append(c if len(c) == 1 else ch)
    return "".join(chars)


def widen_punctuation(line: str) -> str:
    """Half-width , : ; ( ) ! ? and the full stop '.' of web copies written as in print, next to Chinese."""
    if not _NARROW.search(line) or not _CJK_CHAR.search(line):
        return line  # nothing to widen
    chars = list(line)
    protected = _LEADING_LABEL_DOT.match(line)
    for i, ch in enumerate(chars):
        if ch not in WIDE and ch != ".":
            continue
        before = line[i - 1] if i else ""
        after = line[i + 1] if i + 1 < len(line) else ""
        if _ASCII_SIDES.match(before or " ") and _ASCII_SIDES.match(after or " "):
            continue
        if ch == ".":
            # a full stop: after Chinese or a closing mark, at the end or before Chinese (never 1.5, 一. labels)
            if protected and i == protected.end() - 1:
                continue
            if (_CJK_CHAR.match(before or " ") or before in "）)”」》") and (not after or _CJK_CHAR.match(after)
                                                                            or after in " “「《（("):
                chars[i] = "。"
            continue
        chars[i] = WIDE[ch]
    return "".join(chars)


def canonical(text: str) -> str:
    """The canonical form of a printed line (same length)."""
    return widen_punctuation(simplified(text))


class PrintedMap:
    """Maps text found in the canonical document back to the same span as printed."""

    def __init__(self, canonical_text: str, printed_text: str):
        if len(canonical_text) != len(printed_text):
            raise ValueError("canonical and printed text differ in length")
        self.canon, self.printed = canonical_text, printed_text
        self.identity = canonical_text == printed_text

    def __call__(self, text: Optional[str], near: int = 0) -> Optional[str]:
        """`text` as printed; `near` is where in the document to look first (the same words may be printed
        differently in two places)."""
        if not text or self.identity:
            return text
        i = self.canon.find(text, near)
        if i < 0:
            i = self.canon.find(text)
        if i >= 0:
            return self.printed[i:i + len(text)]
        return "".join(self._pieces(text))

    def _pieces(self, text: str):
        """Greedy longest runs of `text` found in the document, each printed; what is nowhere stays as it is
        (text the extractor joined, such as a 。 between two sentences)."""
        pos = 0
        while pos < len(text):
            lo, hi = pos + 1, len(text)
            if self.canon.find(text[pos:lo]) < 0:
                yield text[pos]
                pos += 1
                continue
            while lo < hi:  # the longest prefix of text[pos:] that occurs in the document
                mid = (lo + hi + 1) // 2
                if self.canon.find(text[pos:mid]) >= 0:
                    lo = mid
                else:
                    hi = mid - 1
            i = self.canon.find(text[pos:lo])
            yield self.printed[i:i + lo - pos]
            pos = lo
