"""Document parts and metadata: which lines are the content, its title, 文号, issuer, jurisdiction, dates.

Only what the document itself states: a field it does not state is None. The cues (GB/T 9704 parts of
an official document) are data in data/document_cues.json; the labels of web info boxes (标题：, 发文字号：,
成文日期： …) in data/info_fields.json. Web copies put the title after a cover notice, inside 《》 on a first
line that goes on with the 文号 and 'ORG于DATE发布', or twice with a page stamp between; fragments (a page that
starts at 第二十条 or （一）) have no title, and their jurisdiction is the place their text keeps naming.
"""
from __future__ import annotations

import difflib
import json
import re
from collections import Counter
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


def parse_date(text: str, iso: bool = False) -> Optional[str]:
    """YYYY-MM-DD of a date written 2018年11月14日 (or 二〇一八年十一月十四日); with `iso`, also 2021-07-05
    (how web pages print the dates of their info box)."""
    m = cues()["date"].match(text.strip())
    if not m:
        m = re.search(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日", text)
        if not m and iso:
            m = cues()["iso_date"].search(text)
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
    title_number: Optional[str] = None   # a 文号 printed in brackets after the title
    cover: bool = False          # the document follows a cover notice (主送, 印发 sentence, 落款) with no title


# ---------------------------------------------------------------- web info boxes: 标题：… 发文字号：… 成文日期：…

@lru_cache(maxsize=1)
def info_labels() -> tuple[dict[str, tuple[str, int]], re.Pattern]:
    """label → (field, rank) from data/info_fields.json, and a pattern finding any label followed by ：."""
    raw = json.loads((DATA / "info_fields.json").read_text(encoding="utf-8"))
    field_of: dict[str, tuple[str, int]] = {}
    for name, labels in raw.items():
        if name.startswith("_"):
            continue
        for rank, lab in enumerate(labels):
            field_of.setdefault(lab, (name, rank))
    alt = "|".join(re.escape(x) for x in sorted(field_of, key=len, reverse=True))
    return field_of, re.compile(rf"(?P<label>{alt})\s*[：:]")


def field_row(text: str) -> Optional[list[tuple[str, str]]]:
    """The (label, value) pairs of a line that starts with an info-box label ('发文字号： 第11号 发文单位：
    应急管理部'); None for any other line."""
    _, rx = info_labels()
    t = text.strip()
    if not rx.match(t):
        return None
    hits = list(rx.finditer(t))
    pairs = []
    for k, h in enumerate(hits):
        end = hits[k + 1].start() if k + 1 < len(hits) else len(t)
        pairs.append((h.group("label"), t[h.end():end].strip(" \t\u3000")))
    return pairs


def first_item(value: str) -> Optional[str]:
    """The first of a list of bodies ('山东省应急管理厅，山东省发展改革委，…'), seal marks dropped."""
    value = cues()["seal"].sub("", value)
    items = [x for x in re.split(r"[，,、；;\s\u3000]+", value) if x]
    return items[0] if items and len(items[0]) >= 2 else None


def info_box(lines: list[Line]) -> dict[str, str]:
    """Fields an info box states, each from its most preferred label. Boxes sit above or below the text."""
    field_of, _ = info_labels()
    c = cues()
    best: dict[str, tuple[int, str]] = {}
    window = lines[:15] + (lines[-6:] if len(lines) > 15 else [])
    for ln in window:
        for label, value in field_row(ln.text) or []:
            name, rank = field_of[label]
            if name == "other" or not value:
                continue
            if name == "title":
                got = tidy_title(value)[0]
            elif name == "doc_number":
                m = c["doc_number_anywhere"].search(value)
                got = m.group(0) if m else None
            elif name == "issuer":
                got = first_item(value)
            else:
                got = parse_date(value, iso=True)
            if got and (name not in best or rank < best[name][0]):
                best[name] = (rank, got)
    return {k: v for k, (_, v) in best.items()}


# ---------------------------------------------------------------- title

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
    return bool(re.search(r"[。；;：:！？]$", t) or re.search(r"。.", t)
                or re.search(r"[\u4e00-\u9fff][：:][\u4e00-\u9fff][^，,]*[，,]", t))  # lead-in：item，…


def org_list(text: str) -> Optional[list[str]]:
    """The bodies a signature line names ('自治区应急管理厅（代章） 自治区发展和改革委员会'), or None when the
    line is not a signature line."""
    c = cues()
    pieces = [x for x in re.split(r"[\s\u3000]+", c["seal"].sub(" ", text.strip())) if x]
    if not pieces or len(pieces) > 8:
        return None
    for k, piece in enumerate(pieces):
        if not (c["org"].match(piece) or (k > 0 and c["signatory_suffix"].search(piece)
                                           and re.fullmatch(r"[\u4e00-\u9fff]{2,30}", piece))):
            return None
    return pieces


def is_skip(text: str) -> bool:
    """Header lines a title never includes: 文号, dates and page stamps, red header, info-box rows, signatures."""
    c = cues()
    t = text.strip()
    return bool(c["doc_number"].match(t) or c["doc_number_year"].match(t) or c["bracketed_number"].match(t)
                or c["date"].match(t) or c["page_stamp"].match(t) or c["adoption_record"].match(t) or c["red_header"].match(t)
                or field_row(t) is not None or (org_list(t) and not c["title_words"].search(t)))


def lead_title(text: str) -> Optional[tuple[str, str]]:
    """A line that starts with the document's own title in 《》 ('《X办法》（苏安办〔2016〕47号）…于…发布',
    '《X的通知》为进一步…'): (title, the rest of the line); None when the 《》 is a citation."""
    c = cues()
    m = c["quoted_lead"].match(text.strip())
    if not m:
        return None
    title, rest = m.group("title").strip(), text.strip()[m.end():].strip()
    if not c["title_words"].search(title) or reads_as_sentence(title) or c["citation_follows"].match(rest):
        return None
    return title, rest


def tidy_title(text: str) -> tuple[str, Optional[str]]:
    """A title without what pages print around it: the 《》 of a lead line, a bracketed 文号 after it,
    a 部令（第N号） before it. Returns (title, the 文号 found after it)."""
    c = cues()
    t = text.strip()
    lead = lead_title(t)
    if lead:
        t = lead[0]
    number = None
    m = c["trailing_number"].search(t)
    if m and c["title_words"].search(t[:m.start()]):
        number, t = m.group("num").strip(), t[:m.start()].rstrip()
    m = c["order_prefix"].match(t)
    if m and c["title_words"].search(t[m.end():]) and len(t) - m.end() >= 4:
        t = t[m.end():]
    return t.strip(), number


OPENING, CLOSING = "（(〔［[《〈【", "）)〕］]》〉】"


def balanced(text: str) -> bool:
    """Every bracket closed: a line cut inside a bracket ('…的意见》（中发〔') runs on into the next one."""
    depth = 0
    for ch in text:
        if ch in OPENING:
            depth += 1
        elif ch in CLOSING:
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def balanced_prefix(run: list[Line]) -> int:
    """How many lines of a run make a title: up to a line that opens a bracket neither it nor the next line
    of the run closes, after lines that close all theirs. A title broken inside its 《》 closes it on the next
    line; body text a hard wrap cut ('为…的意见》（中发〔2' / '016〕32号）和…（发改财金〔2017') does not."""
    for k in range(1, len(run)):
        if balanced("".join(x.text for x in run[:k])) and not balanced(run[k].text) \
                and not (k + 1 < len(run) and balanced(run[k].text + run[k + 1].text)):
            return k
    return len(run)


def similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, squash(a), squash(b), autojunk=False).ratio()


def title_from_header(header: list[Line]) -> tuple[Optional[str], int]:
    """Join consecutive title-like header lines; returns the title and the index after its last line
    (past a repetition of the title that follows it, as web copies print it twice)."""
    c = cues()
    groups: list[tuple[list[Line], int]] = []
    run: list[Line] = []
    for i, ln in enumerate(header):
        if is_skip(ln.text):
            if run:
                groups.append((run, i))
            run = []
        else:
            run.append(ln)
    if run:
        groups.append((run, len(header)))
    trimmed = []
    for run, end in groups:
        k = balanced_prefix(run)
        trimmed.append((run[:k], end - (len(run) - k)))
    groups = [g for g in trimmed if not reads_as_sentence("".join(x.text for x in g[0]))]
    if not groups:
        return None, 0
    titled = [g for g in groups if c["title_words"].search("".join(x.text for x in g[0]))]
    best, end = (titled or groups)[0]
    title = "".join(x.text for x in best).strip()
    for later, later_end in groups[groups.index((best, end)) + 1:]:
        if similar("".join(x.text for x in later), tidy_title(title)[0]) >= 0.8:
            end = later_end  # the title printed again
    return title, end


def first_label_index(lines: list[Line], limit: int = 40) -> int:
    for i, ln in enumerate(lines[:limit]):
        if starts_with_label(ln.text):
            return i
    return min(len(lines), limit)


def title_after_cover(lines: list[Line], like: Optional[str] = None) -> Optional[tuple[int, int]]:
    """Lines i..j of the title printed after a cover notice (主送机关, '《X》已经…通过，现予印发', 落款, date),
    before the first article or item: the title-like run the notice names in 《》, else the last one.
    With `like`, only a run similar to it."""
    c = cues()
    quoted: set[str] = set()
    runs: list[tuple[int, int]] = []
    start = None
    stop = first_label_index(lines)
    for i, ln in enumerate(lines[:stop] + [Line("", 0)]):
        t = ln.text.strip()
        title_like = t and i < stop and not is_body_line(t) and not reads_as_sentence(t) and not is_skip(t)
        if title_like:
            start = i if start is None else start
            continue
        if start is not None:
            runs.append((start, start + balanced_prefix(lines[start:i])))
            start = None
        for m in re.finditer(r"[《〈]([^《》〈〉]{4,80})[》〉]", t):
            quoted.add(squash(m.group(1)))
    cands = []
    for i, j in runs:
        text = "".join(ln.text for ln in lines[i:j])
        if i > 0 and j - i <= 4 and c["title_words"].search(text) and not reads_as_sentence(text):
            if like is None or similar(text, like) >= 0.6:
                cands.append((i, j))
    if not cands:
        return None
    named = [r for r in cands if squash("".join(ln.text for ln in lines[r[0]:r[1]])) in quoted]
    return (named or cands)[-1]


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
    cover = False
    box_title = info_box(main).get("title")
    if title is None or box_title:
        # no title above the text, or one the page's info box states: a cover notice may precede the title
        run = title_after_cover(main)
        if run:
            i, j = run
            title = "".join(ln.text for ln in main[i:j])
            front, content, cover = main[:j], main[j:], True
            notes.append("content taken from the document after its cover notice")
    if box_title:
        title = box_title
    if title is None and main:
        lead = lead_title(main[0].text)
        if lead:
            title = lead[0]
    number = None
    if title:
        title, number = tidy_title(title)
    inner = c["issuing_notice"].search(squash(title or "")) if title else None
    if inner:
        # a 印发/转发 notice: the document is the one it issues, printed after the notice
        issued = inner.group("inner") or inner.group("inner2")
        run = find_run(main, issued, end) or title_after_cover(main[end:], like=issued)
        if run and not find_run(main, issued, end):
            run = (run[0] + end, run[1] + end)
        if run:
            i, j = run
            front, content = main[:i], main[j:]
            title = "".join(ln.text for ln in main[i:j])
            notes.append("content taken from the document the notice issues")
        elif inner.group("inner"):
            title = inner.group("inner")
    return Parts(front=front, content=content, title=title, notes=notes, title_number=number, cover=cover)


# ---------------------------------------------------------------- issuer, dates, 文号, jurisdiction

def date_lines(texts: list[str]) -> list[Optional[re.Match]]:
    """The date cue's match for each line; a date a hard wrap broke in two ('2017年8月' / '7日') is read
    whole on its first line."""
    c = cues()
    out: list[Optional[re.Match]] = []
    for k, t in enumerate(texts):
        m = c["date"].match(t)
        if not m and k + 1 < len(texts) and re.match(r"^(\d{4}|[〇零一二三四五六七八九]{4})\s*年", t) \
                and len(texts[k + 1]) <= 6:
            m = c["date"].match(t + texts[k + 1])
        out.append(m)
    return out


def signature(lines: list[Line]) -> tuple[Optional[str], Optional[str]]:
    """(issuer, issued_on) from the 版记 'ORG / DATE印发' or the 落款 'ORG / DATE' (joint signatures: the
    first body named; '（代章）' and several bodies on a line are read)."""
    c = cues()
    texts = [ln.text.strip() for ln in lines]
    dates = date_lines(texts)
    for i in range(len(texts) - 1):
        m = dates[i + 1]
        if m and m.group("printed") and c["org"].match(texts[i]):
            return texts[i], parse_date(m.group(0))
    candidates = []
    for i in range(len(texts) - 1):
        orgs = org_list(texts[i])
        if orgs and dates[i + 1]:
            first = i
            while first > 0:
                prev = org_list(texts[first - 1])
                joint = prev and (len(prev) > 1 or len(org_list(texts[first]) or []) > 1
                                  or c["seal"].search(texts[first - 1]))
                if not prev or not (joint or find_regions_safe(texts[first - 1])):
                    break
                first -= 1  # joint signatures: the first body named leads
            candidates.append((org_list(texts[first])[0], parse_date(dates[i + 1].group(0))))
        elif dates[i] and i + 1 < len(texts) and org_list(texts[i + 1]) and i > 0 \
                and not org_list(texts[i - 1]):
            candidates.append((org_list(texts[i + 1])[0], parse_date(dates[i].group(0))))
    for t in texts[-4:]:  # 'ORG  DATE' on one line at the end
        m = re.match(r"^(?P<org>.+?)[\s\u3000]+(?P<date>\S{8,14}日)$", t)
        if m and org_list(m.group("org")) and c["date"].match(m.group("date")):
            candidates.append((org_list(m.group("org"))[0], parse_date(m.group("date"))))
    if not candidates:
        return None, None
    from .regions import find_regions
    placed = [cand for cand in candidates if find_regions(cand[0])]
    return (placed or candidates)[-1]


def find_regions_safe(text: str) -> list[str]:
    from .regions import find_regions
    return find_regions(text)


def cover_issuer(front: list[Line]) -> Optional[str]:
    """The undated 落款 of a cover notice: the last signature line before the title it precedes."""
    for ln in reversed(front):
        orgs = org_list(ln.text)
        if orgs and not cues()["title_words"].search(ln.text):
            return orgs[0]
    return None


def lead_facts(lines: list[Line]) -> dict[str, str]:
    """What a first line '《title》（文号）ORG于DATE发布' states besides the title (the 'ORG于DATE印发' part
    may stand on the next line)."""
    c = cues()
    out: dict[str, str] = {}
    first, used = "", 0
    for ln in lines[:3]:  # the first line, with what a hard wrap cut off it
        first += ln.text
        used += 1
        if balanced(first):
            break
    lead = lead_title(first) if lines else None
    if not lead:
        return out
    rest = lead[1]
    m = re.match(r"[（(](?P<num>[^（）()]{2,30})[)）]", rest)
    if m and c["doc_number_anywhere"].search(m.group("num")):
        out["doc_number"] = c["doc_number_anywhere"].search(m.group("num")).group(0)
        rest = rest[m.end():]
    for text in [rest] + [ln.text for ln in lines[used:used + 1]]:
        m = c["published_by"].match(text.strip())
        if m and org_list(m.group("org")):
            out["issuer"] = org_list(m.group("org"))[0]
            date = parse_date(m.group("date"))
            if date:
                out["issued_on"] = date
            break
    return out


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


def body_region(lines: list[Line]) -> Optional[str]:
    """The place the text itself keeps naming (a fragment with no title or issuer): the most often named,
    the most specific of equally often named ones."""
    from .regions import region_levels
    counts: Counter = Counter()
    first: dict[str, int] = {}
    for k, ln in enumerate(lines):
        for r in find_regions_safe(ln.text):
            counts[r] += 1
            first.setdefault(r, k)
    if not counts:
        return None
    depth = lambda r: sum(x is not None for x in region_levels(r))  # noqa: E731
    return max(counts, key=lambda r: (counts[r], depth(r), -first[r]))


def jurisdiction_of(issuer: Optional[str], title: Optional[str], lines: Optional[list[Line]] = None) -> Optional[str]:
    from .regions import find_regions
    for text in (issuer, title):
        if text:
            found = find_regions(text)
            if found:
                return found[0]
    national = cues()["national_issuer"]
    if issuer and national.match(issuer):
        return "全国"
    if title and not issuer:
        m = re.match(r"^(.{2,30}?)关于", title)
        if m and national.match(m.group(1)):
            return "全国"
    if lines:
        return body_region(lines)
    return None


def doc_number_of(lines: list[Line]) -> Optional[str]:
    c = cues()
    for k, ln in enumerate(lines):
        t = ln.text.strip()
        if c["doc_number"].match(t):
            return t
        if k < 12 and (c["doc_number_year"].match(t) or c["bracketed_number"].match(t)):
            m = c["doc_number_anywhere"].search(t)
            if m:
                return m.group(0)
            if c["doc_number_year"].match(t):
                return t.strip("（()） ")
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
    """The fields a page's info box states come first, then what the first line states after a quoted title,
    then the signature, then the fallbacks (a cover notice's 落款, 负责解释 clause, title, red header)."""
    box, lead = info_box(lines), lead_facts(lines)
    sig_issuer, sig_date = signature(parts.front + parts.content)
    issuer = box.get("issuer") or lead.get("issuer") or sig_issuer
    if issuer is None and parts.cover:
        issuer = cover_issuer(parts.front)
    if issuer is None:
        issuer = issuer_fallback(parts.title, lines)
    doc_number = box.get("doc_number") or doc_number_of(lines) or parts.title_number or lead.get("doc_number")
    return Metadata(title=parts.title, doc_number=doc_number, issuer=issuer,
                    jurisdiction=jurisdiction_of(issuer, parts.title, lines),
                    issued_on=box.get("issued_on") or lead.get("issued_on") or sig_date,
                    effective_from=box.get("effective_from") or effective_from(parts.content))


# ---------------------------------------------------------------- validity: in force from, until, trial, replaces

@dataclass
class Validity:
    effective_from: Optional[str]
    expires: Optional[str] = None
    trial: bool = False
    replaces: list[str] = field(default_factory=list)   # titles the text says it replaces (原《…》同时废止)
    revision: bool = False                               # the title or a record says it is a revision
    warnings: list[str] = field(default_factory=list)


def add_years(iso: str, years: int) -> Optional[str]:
    """The same calendar day `years` later (29 Feb → 28 Feb)."""
    y, m, d = (int(p) for p in iso.split("-"))
    for day in (d, d - 1, d - 2, d - 3):
        try:
            from datetime import date
            return date(y + years, m, day).isoformat()
        except ValueError:
            continue
    return None


def in_force_sentences(text: str) -> list[str]:
    """Sentences that put the document itself in force (自…起施行 / 自印发之日起实施 / 本办法有效期…)."""
    c = cues()
    out = []
    for sentence in re.split(r"(?<=[。；;\n])", text):
        if c["effective"].search(sentence) or c["effective_on_issue"].search(sentence) \
                or c["effective_placeholder"].search(sentence) or c["valid_years"].search(sentence) \
                or c["valid_until"].search(sentence) or c["trial_in_force"].search(sentence):
            out.append(sentence.strip())
    return out


@lru_cache(maxsize=4096)
def title_key(title: Optional[str]) -> str:
    """A title without what a revision changes (dates, 修订/试行 marks, quotes, 关于…的通知): two versions of one
    document share it."""
    if not title:
        return ""
    from .canonical import simplified
    t = simplified(title)
    for _ in range(2):
        t = cues()["title_noise"].sub("", t)
    return t


def read_validity(text: str, title: Optional[str], issued_on: Optional[str],
                  effective_from: Optional[str]) -> Validity:
    """When the document is in force, from its own words. 自印发之日起施行 → the issue date; an unfilled date
    (自202X年XX月XX日起执行) → unknown and a warning; 有效期X年 counts from the day it takes effect."""
    from .canonical import simplified
    c = cues()
    body = simplified(text or "")
    sentences = in_force_sentences(body)
    v = Validity(effective_from=effective_from)
    joined = "".join(sentences)
    if v.effective_from is None:
        m = c["effective"].search(joined)
        v.effective_from = parse_date(m.group("date")) if m else None
    if v.effective_from is None:
        if any(c["effective_placeholder"].search(s) for s in sentences):
            v.warnings.append("施行日期未写明（" + next(s for s in sentences if c["effective_placeholder"].search(s))[:40]
                              + "）")
        elif any(c["effective_on_issue"].search(s) for s in sentences):
            if issued_on:
                v.effective_from = issued_on
            else:
                v.warnings.append("自印发之日起施行，但印发日期未写明")
    m = c["valid_until"].search(joined)
    if m:
        v.expires = parse_date(m.group("date"))
    else:
        m = c["valid_years"].search(joined)
        if m:
            years = chinese_number(m.group("n")) if not m.group("n").isdigit() else int(m.group("n"))
            start = v.effective_from or issued_on
            if years and start:
                v.expires = add_years(start, years)
            elif years:
                v.warnings.append(f"有效期{years}年，但起算日期未写明")
    v.trial = bool(c["trial"].search(simplified(title or ""))) or bool(c["trial_in_force"].search(joined))
    own = title_key(title)
    v.replaces = sorted({m.group("title") for m in c["repeals"].finditer(body)
                         if title_key(m.group("title")) != own or not own})
    v.revision = bool(c["revision_mark"].search(simplified(title or "")))
    return v
