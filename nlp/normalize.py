"""Raw text → logical lines: page furniture and OCR noise dropped, lines broken mid-sentence re-joined.

Every kept line stays verbatim (only surrounding white space and inline artefacts such as
`[bookmark: _GoBack]` are removed) and remembers the source line it starts on.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from .datafiles import load_regex_lines
from .labels import starts_with_label
from .types import Line

DATA = Path(__file__).parent / "data"
INLINE_ARTEFACTS = re.compile(r"\[bookmark:[^\]]*\]|\[image:[^\]]*\]|\ufeff|\u200b")
SENTENCE_END = tuple("。；;！!？?：:」』”\"）)】")
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")
DATE_LINE = re.compile(r"^\s*(\d{4}|[〇零一二三四五六七八九]{4})\s*年.{1,6}日\s*(印发)?\s*$")


@lru_cache(maxsize=1)
def furniture_patterns() -> tuple[re.Pattern, ...]:
    return load_regex_lines(DATA / "furniture.txt")


def fold_width(text: str) -> str:
    """Full-width letters, digits and ASCII punctuation to half width, for matching only (never stored)."""
    return "".join(unicodedata.normalize("NFKC", ch) if "\uff01" <= ch <= "\uff5e" or ch == "\u3000" else ch
                   for ch in text)


def is_furniture(line: str) -> bool:
    return any(p.search(line) for p in furniture_patterns())


def is_ocr_noise(line: str) -> bool:
    """A scanner's description of an illegible area: a long Latin sentence in a Chinese document."""
    latin, cjk = len(LATIN.findall(line)), len(CJK.findall(line))
    return latin >= 20 and cjk <= latin * 0.1


def should_join(current: str, following: str) -> bool:
    """Was `following` cut off `current` by a page or line break in the middle of a sentence?"""
    if not current or not following or current.endswith(SENTENCE_END):
        return False
    if starts_with_label(following) or DATE_LINE.match(following) or DATE_LINE.match(current):
        return False
    if following[0] in "，,、。；;：:）)》”":
        return True
    # Titles, headings and signatures carry no comma; prose broken by a page or line end does.
    if CJK.search(following[:2]) is None:
        return False
    if re.search(r"[，,；;]", current):
        return True
    return "、" in current and len(current) >= 20 and not starts_with_label(current)


def normalize_lines(text: str) -> tuple[list[Line], list[str]]:
    lines: list[Line] = []
    warnings: list[str] = []
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = INLINE_ARTEFACTS.sub("", raw).strip(" \t\u3000\xa0")
        if not line:
            continue
        if is_furniture(line):
            continue
        if is_ocr_noise(line):
            warnings.append(f"line {lineno}: dropped OCR noise: {line[:40]}…")
            continue
        if lines and should_join(lines[-1].text, line):
            lines[-1] = Line(lines[-1].text + line, lines[-1].lineno)
        else:
            lines.append(Line(line, lineno))
    return lines, warnings
