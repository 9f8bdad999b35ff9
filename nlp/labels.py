"""Heading labels (第X条, 一、, （一）, 1., （1）, ①, 一是): recognising them and reading their numbers.

The styles live in data/heading_styles.jsonl; this module only compiles and applies them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

from .datafiles import load_jsonl

DATA = Path(__file__).parent / "data"
SUPPLEMENT = re.compile(r"之[一二三四五六七八九十]+$")
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


@dataclass(frozen=True)
class HeadingStyle:
    style: str
    pattern: re.Pattern
    numeral: str
    inline: bool
    inline_only: bool = False
    continuation_only: bool = False
    rank: Optional[int] = None   # structural level of a law (编 1 … 条 5); None: an item style nested by appearance


@dataclass(frozen=True)
class Label:
    style: str
    text: str          # as printed, e.g. "（一）", "第七条", "1"
    number: Optional[int]
    end: int           # offset in the line where the clause text after the label starts
    continuation_only: bool = False
    rank: Optional[int] = None


@lru_cache(maxsize=1)
def heading_styles() -> tuple[HeadingStyle, ...]:
    return tuple(load_jsonl(DATA / "heading_styles.jsonl", lambda row: HeadingStyle(
        row["style"], re.compile(row["pattern"]), row["numeral"], row["inline"],
        row.get("inline_only", False), row.get("continuation_only", False), row.get("rank"))))


@lru_cache(maxsize=None)
def style_rank(style: str) -> Optional[int]:
    """The structural rank a heading style declares in heading_styles.jsonl (None for item styles)."""
    return next((st.rank for st in heading_styles() if st.style == style and st.rank is not None), None)


@lru_cache(maxsize=8192)
def chinese_number(text: str) -> Optional[int]:
    digits = re.sub(r"[^一二三四五六七八九十百千零〇两\d]", "", text)
    if not digits:
        return None
    if digits.isdigit():
        return int(digits)
    import cn2an  # 0.3 s to import: only when a label is not in digits
    try:
        return int(cn2an.cn2an(digits.replace("〇", "零"), "smart"))
    except (ValueError, KeyError):
        return None


def label_number(text: str, numeral: str) -> Optional[int]:
    if SUPPLEMENT.search(text):
        return None  # 第十七条之一 is inserted after 第十七条 by an amendment: outside the 1, 2, 3 run
    if numeral == "circled":
        return CIRCLED.index(text[0]) + 1 if text and text[0] in CIRCLED else None
    return chinese_number(text.replace("是", ""))


def match_label(line: str, inline: bool = False) -> Optional[Label]:
    """The heading label a stripped line (or, with inline=True, a mid-paragraph position) starts with."""
    for st in heading_styles():
        if st.inline_only and not inline:
            continue
        if inline and not st.inline:
            continue
        m = st.pattern.match(line)
        if m:
            printed = m.group(1).strip()
            end = m.end()
            # 'label + 、/.' leaves the punctuation out of the printed label but out of the text too
            while end < len(line) and line[end] in " \u3000":
                end += 1
            return Label(st.style, printed, label_number(printed, st.numeral), end, st.continuation_only,
                         st.rank)
    return None


def starts_with_label(line: str) -> bool:
    lab = match_label(line.strip())
    return lab is not None and not lab.continuation_only
