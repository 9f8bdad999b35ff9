"""Raw text → logical lines: page furniture and OCR noise dropped, lines broken mid-sentence re-joined.

Every kept line stays verbatim (only surrounding white space and inline artefacts such as
`[bookmark: _GoBack]` are removed) and remembers the source line it starts on.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Optional

from .canonical import canonical
from .datafiles import load_regex_lines
from .labels import starts_with_label
from .types import Line

DATA = Path(__file__).parent / "data"
INLINE_ARTEFACTS = re.compile(r"\[bookmark:[^\]]*\]|\[image:[^\]]*\]|\ufeff|\u200b")
SENTENCE_END = tuple("。；;！!？?：:」』”\"）)】")
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")
TITLE_END = re.compile(r"(?:通知|意见|办法|方案|决定|规定|细则|备忘录|清单|公告|函|文件)$")
NOTE_LINE = re.compile(r"^[（(][^）)，,。]{0,6}(?:单位|部门)[：:]")  # (责任单位：…) stands on its own line
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
    """A scanner's description of an illegible area, or its wrapped tail: Latin prose in a Chinese document."""
    latin, cjk = len(LATIN.findall(line)), len(CJK.findall(line))
    return (latin >= 20 and cjk <= latin * 0.1) or (cjk == 0 and latin >= 6)


def wrap_width(lines: list[str]) -> Optional[int]:
    """The width a PDF or scan wrapped its lines at: the most common long line length, when a good share of the
    lines have it (hard-wrapped text), else None."""
    lengths = [len(x) for x in lines if len(x) >= 15]
    if len(lengths) < 10:
        return None
    width, count = Counter(lengths).most_common(1)[0]
    near = sum(1 for n in lengths if abs(n - width) <= 1)
    return width if width >= 20 and near >= 0.3 * len(lengths) and width >= max(lengths) - 2 else None


def should_join(current: str, following: str, width: Optional[int] = None, physical: str = "") -> bool:
    """Was `following` cut off `current` by a page or line break in the middle of a sentence?
    `physical` is the last printed line of `current` (what a hard wrap is measured on)."""
    if not current or not following or current.endswith(SENTENCE_END):
        return False
    if starts_with_label(following) or DATE_LINE.match(following) or DATE_LINE.match(current) \
            or NOTE_LINE.match(following):
        return False
    if width and len(physical or current) >= width - 1 and CJK.search(following[:2]) \
            and not TITLE_END.search(physical or current):
        return True  # a full-width line of hard-wrapped text runs on
    if following[0] == "、" and len(following) <= 40 and not re.search(r"[，,。；;]", following):
        return False  # "、将…挂钩": a heading whose numeral was lost in the copy, not the tail of an enumeration
    if following[0] in "，,、。；;：:）)》”":
        return True
    # Titles, headings and signatures carry no comma; prose broken by a page or line end does.
    if CJK.search(following[:2]) is None:
        return False
    if re.search(r"[，,；;]", current):
        return True
    return "、" in current[1:] and len(current) >= 20 and not starts_with_label(current) and current[0] != "、"


def normalize_lines(text: str) -> tuple[list[Line], list[str]]:
    lines: list[Line] = []
    warnings: list[str] = []
    raw_lines = text.split("\n")
    width = wrap_width([INLINE_ARTEFACTS.sub("", r).strip(" \t\u3000\xa0") for r in raw_lines])
    physical = ""
    for lineno, raw in enumerate(raw_lines, 1):
        line = INLINE_ARTEFACTS.sub("", raw).strip(" \t\u3000\xa0")
        if not line:
            continue
        canon = canonical(line)
        if is_furniture(canon):
            continue
        if is_ocr_noise(line):
            warnings.append(f"line {lineno}: dropped OCR noise: {line[:40]}…")
            continue
        if lines and should_join(lines[-1].text, canon, width, physical):
            lines[-1] = Line(lines[-1].text + canon, lines[-1].lineno, lines[-1].printed + line)
        else:
            lines.append(Line(canon, lineno, line))
        physical = canon
    return lines, warnings
