"""Document parts and metadata: which lines are the content, its title, 文号, issuer, jurisdiction, dates.

Only what the document itself states: a field it does not state is None. The cues (GB/T 9704 parts of
an official document) are data in data/document_cues.json.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Optional

from .datafiles import load_regex_map
from .labels import chinese_number, starts_with_label
from .types import Line

DATA = Path(__file__).parent / "data"
CN_DIGITS = {"〇": "0", "零": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7",
             "八": "8", "九": "9"}


@lru_cache(maxsize=1)
def cues() -> dict[str, re.Pattern]:
    return load_regex_map(DATA / "document_cues.json")


def squash(s: str) -> str:
    return re.sub(r"[\s\u3000]+", "", s)


def parse_date(text: str) -> Optional[str]:
    m = cues()["date"].match(text.strip())
    if not m:
        m = re.search(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日", text)
        if not m:
            return None
    y = "".join(CN_DIGITS.get(ch, ch) for ch in m.group("y"))
    mo, d = chinese_number(m.group("m")), chinese_number(m.group("d"))
    if not (y.isdigit() and mo and d and 1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return f"{int(y):04d}-{mo:02d}-{d:02d}"


@dataclass
class Parts:
    front: list[Line]            # cover notice, 文号, signature: read for metadata, not clauses
    content: list[Line]          # what the clause tree is built from
    title: Optional[str]
    title_lines: int = 0         # how many content lines at the top make up the title
    notes: list[str] = field(default_factory=list)


def is_body_line(text: str) -> bool:
    if starts_with_label(text):
        return True
    if cues()["addressee"].search(text) and len(text) < 80:
        return True
    return len(text) > 40 and bool(re.search(r"[，,。]", text))


def header_of(lines: list[Line]) -> list[Line]:
    header = []
    for ln in lines:
        if is_body_line(ln.text):
            break
        header.append(ln)
    return header


def reads_as_sentence(text: str) -> bool:
    """A title names a document; a run that ends like a sentence, or holds one, is body text of a fragment."""
    t = text.strip()
    return bool(re.search(r"[。；;：:！？]$", t) or re.search(r"。.", t))


def title_from_header(header: list[Line]) -> tuple[Optional[str], int]:
    """Join consecutive title-like header lines; returns the title and the index after its last line."""
    c = cues()
    groups: list[tuple[list[Line], int]] = []
    run: list[Line] = []
    for i, ln in enumerate(header):
        t = ln.text
        skip = (c["doc_number"].match(t) or c["date"].match(t) or c["red_header"].match(t)
                or (c["org"].match(t) and not c["title_words"].search(t)))
        if skip:
            if run:
                groups.append((run, i))
            run = []
        else:
            run.append(ln)
    if run:
        groups.append((run, len(header)))
    groups = [g for g in groups if not reads_as_sentence("".join(x.text for x in g[0]))]
    if not groups:
        return None, 0
    titled = [g for g in groups if c["title_words"].search("".join(x.text for x in g[0]))]
    best, end = (titled or groups)[0]
    return "".join(x.text for x in best).strip(), end


def find_run(lines: list[Line], target: str, start: int) -> Optional[tuple[int, int]]:
    """Lines i..j (at most 4) whose concatenation is `target` (white space ignored)."""
    want = squash(target)
    for i in range(start, len(lines)):
        acc = ""
        for j in range(i, min(i + 4, len(lines))):
            acc += squash(lines[j].text)
            if acc == want:
                return i, j + 1
            if not want.startswith(acc):
                break
    return None


def split_parts(lines: list[Line]) -> Parts:
    c = cues()
    notes: list[str] = []
    markers = [i for i, ln in enumerate(lines) if c["attachment_marker"].match(ln.text)]
    main, attachment = lines, []
    if markers:
        main, attachment = lines[:markers[-1]], lines[markers[-1] + 1:]
    main_labels = sum(starts_with_label(ln.text) for ln in main)
    att_labels = sum(starts_with_label(ln.text) for ln in attachment)
    if attachment and att_labels >= 2 and att_labels > main_labels:
        # a notice whose substance is its 附件 (营口): the attachment is the document
        head = header_of(attachment)
        title, end = title_from_header(head[:3])
        if title is None and attachment:
            title, end = attachment[0].text, 1
        notes.append("content taken from the attachment (附件)")
        return Parts(front=main, content=attachment[end:], title=title, notes=notes)
    head = header_of(main)
    title, end = title_from_header(head)
    front: list[Line] = main[:end]
    content = main[end:]
    inner = c["issuing_notice"].search(squash(title or "")) if title else None
    if inner:
        # a 印发/转发 notice: the document is the one it issues, printed after the notice
        issued = inner.group("inner") or inner.group("inner2")
        run = find_run(main, issued, end)
        if run:
            i, j = run
            front, content = main[:i], main[j:]
            title = "".join(ln.text for ln in main[i:j])
            notes.append("content taken from the document the notice issues")
        elif inner.group("inner"):
            title = inner.group("inner")
    return Parts(front=front, content=content, title=title, notes=notes)


def signature(lines: list[Line]) -> tuple[Optional[str], Optional[str]]:
    """(issuer, issued_on) from the 版记 'ORG / DATE印发' or the 落款 'ORG / DATE'."""
    c = cues()
    texts = [ln.text.strip() for ln in lines]
    for i in range(len(texts) - 1):
        m = c["date"].match(texts[i + 1])
        if m and m.group("printed") and c["org"].match(texts[i]):
            return texts[i], parse_date(texts[i + 1])
    candidates = []
    for i in range(len(texts) - 1):
        if c["org"].match(texts[i]) and c["date"].match(texts[i + 1]):
            first = i
            while first > 0 and c["org"].match(texts[first - 1]) and find_regions_safe(texts[first - 1]):
                first -= 1  # joint signatures: the first body named leads
            candidates.append((texts[first], parse_date(texts[i + 1])))
        elif c["date"].match(texts[i]) and i + 1 < len(texts) and c["org"].match(texts[i + 1]) and i > 0 \
                and not c["org"].match(texts[i - 1]):
            candidates.append((texts[i + 1], parse_date(texts[i])))
    if not candidates:
        return None, None
    from .regions import find_regions
    placed = [cand for cand in candidates if find_regions(cand[0])]
    return (placed or candidates)[-1]


def find_regions_safe(text: str) -> list[str]:
    from .regions import find_regions
    return find_regions(text)


def issuer_fallback(title: Optional[str], lines: list[Line]) -> Optional[str]:
    c = cues()
    from .regions import find_regions
    # an undated 落款 on the last line, naming its place
    if lines and c["org"].match(lines[-1].text.strip()) and find_regions(lines[-1].text):
        return lines[-1].text.strip()
    for ln in lines:
        m = c["interpreter"].search(ln.text)
        if m:
            return m.group("org")
    if title:
        m = re.match(r"^(.{2,30}?(?:人民政府|政府|委员会|办公室|办公厅|局|厅|部|委))关于", title)
        if m:
            return m.group(1)
    for ln in lines[:5]:
        if c["red_header"].match(ln.text):
            return ln.text[:-2]
    return None


def jurisdiction_of(issuer: Optional[str], title: Optional[str]) -> Optional[str]:
    from .regions import find_regions
    for text in (issuer, title):
        if text:
            found = find_regions(text)
            if found:
                return found[0]
    if issuer and cues()["national_issuer"].match(issuer):
        return "全国"
    return None


def doc_number_of(lines: list[Line]) -> Optional[str]:
    c = cues()
    for ln in lines:
        if c["doc_number"].match(ln.text):
            return ln.text.strip()
    return None


def effective_from(lines: list[Line]) -> Optional[str]:
    c = cues()
    for ln in lines:
        m = c["effective"].search(ln.text)
        if m:
            return parse_date(m.group("date"))
    return None


@dataclass
class Metadata:
    title: Optional[str]
    doc_number: Optional[str]
    issuer: Optional[str]
    jurisdiction: Optional[str]
    issued_on: Optional[str]
    effective_from: Optional[str]


def read_metadata(lines: list[Line], parts: Parts) -> Metadata:
    issuer, issued_on = signature(parts.front + parts.content)
    if issuer is None:
        issuer = issuer_fallback(parts.title, lines)
    return Metadata(title=parts.title, doc_number=doc_number_of(lines), issuer=issuer,
                    jurisdiction=jurisdiction_of(issuer, parts.title), issued_on=issued_on,
                    effective_from=effective_from(parts.content))
