"""One document, many versions: which document a new text revises, where it goes in the order of versions,
when each version is in force, and which version answers on a given day. Small pure functions over plain
dicts (a version: effective_from, issued_on, expires, trial, title, revision, replaces …); store.py writes,
queries.py reads.

A revision is recognised under another file name by (strongest first) a text that names what it replaces
(原《…》同时废止), the same 文号, the same 文号 series with a similar title, or the same title once dates and
修订 / 试行 marks are removed (and the same place). Two documents matching equally well are reported, never
chosen between.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Optional

from rapidfuzz import fuzz

from nlp.metadata import title_key

MIN_KEY = 6           # a shorter title key (通知, 办法) says nothing about identity
SERIES_SIMILARITY = 80  # same 文号 series: titles at least this similar (rapidfuzz ratio)
TIERS = ("replaces", "doc_number", "doc_number_series", "title")


@dataclass
class Match:
    document_id: str
    reason: str          # one of TIERS, or "explicit" (--replaces)


def number_series(doc_number: Optional[str]) -> Optional[str]:
    """锡政办发〔2017〕12号 → 锡政办发: the issuing office's series, shared by its revisions."""
    if not doc_number:
        return None
    m = re.match(r"\s*([\u4e00-\u9fff]{2,12})\s*[〔\[［﹝【(（]", doc_number)
    return m.group(1) if m else None


def same_place(a: Optional[str], b: Optional[str]) -> bool:
    return not a or not b or a == b


def match_reason(new: dict, old: dict) -> Optional[str]:
    """Why `old` (one version of a stored document) is an earlier version of `new`, or None."""
    new_key, old_key = title_key(new.get("title")), title_key(old.get("title"))
    if old_key and len(old_key) >= MIN_KEY and any(title_key(t) == old_key for t in new.get("replaces") or []):
        return "replaces"
    if not same_place(new.get("jurisdiction"), old.get("jurisdiction")):
        return None
    if new.get("doc_number") and new.get("doc_number") == old.get("doc_number") and new_key == old_key:
        return "doc_number"
    series = number_series(new.get("doc_number"))
    if series and series == number_series(old.get("doc_number")) and new_key and old_key \
            and fuzz.ratio(new_key, old_key) >= SERIES_SIMILARITY:
        return "doc_number_series"
    if new_key and len(new_key) >= MIN_KEY and new_key == old_key:
        return "title"
    return None


def find_matches(new: dict, stored: dict[str, list[dict]], exclude: Optional[str] = None) -> list[Match]:
    """The stored documents (id → its versions) `new` revises, in the strongest tier that has any."""
    best: dict[str, str] = {}
    for doc_id, versions in stored.items():
        if doc_id == exclude:
            continue
        reasons = [r for r in (match_reason(new, v) for v in versions) if r]
        if reasons:
            best[doc_id] = min(reasons, key=TIERS.index)
    if not best:
        return []
    tier = min(best.values(), key=TIERS.index)
    return [Match(d, r) for d, r in sorted(best.items()) if r == tier]


class VersionIndex:
    """The stored versions by what match_reason compares — title key, 文号, 文号 series — so a new text is
    compared with the few documents that can match it instead of every stored one (a batch of 3,000 laws
    otherwise compares each with all before it). candidates(new) is exactly the part of `stored` on which
    find_matches can find anything."""

    def __init__(self, stored: dict[str, list[dict]]):
        self.versions: dict[str, list[dict]] = {}
        self.keys: dict[str, set[tuple[str, str]]] = {}   # doc id → its (kind, value) entries
        self.index: dict[tuple[str, str], set[str]] = {}
        for doc_id, versions in stored.items():
            self.set(doc_id, versions)

    def set(self, doc_id: str, versions: list[dict]) -> None:
        """(Re)place a document's versions (after it was written)."""
        for entry in self.keys.pop(doc_id, ()):
            self.index.get(entry, set()).discard(doc_id)
        self.versions[doc_id] = versions
        entries = set()
        for v in versions:
            key, number = title_key(v.get("title")), v.get("doc_number")
            series = number_series(number)
            entries |= {e for e in (("key", key), ("number", number), ("series", series)) if e[1]}
        self.keys[doc_id] = entries
        for entry in entries:
            self.index.setdefault(entry, set()).add(doc_id)

    def candidates(self, new: dict) -> dict[str, list[dict]]:
        wanted = {("key", title_key(t)) for t in new.get("replaces") or []}
        wanted |= {("key", title_key(new.get("title"))), ("number", new.get("doc_number")),
                   ("series", number_series(new.get("doc_number")))}
        ids = set().union(*(self.index.get(e, set()) for e in wanted if e[1]))
        return {d: self.versions[d] for d in sorted(ids)}


# ---- order and validity ----------------------------------------------------------------------

def start(v: dict) -> Optional[str]:
    """The day a version takes effect as far as it says: 施行 date, else the issue date."""
    return v.get("effective_from") or v.get("issued_on")


def is_newer(new: dict, old: dict) -> bool:
    """Is `new` a later version than `old`? Dates first; then a text that replaces the other or calls itself
    a revision; otherwise the one that arrived later is newer."""
    a, b = start(new), start(old)
    if a and b and a != b:
        return a > b
    old_key = title_key(old.get("title"))
    if old_key and any(title_key(t) == old_key for t in new.get("replaces") or []):
        return True
    new_key = title_key(new.get("title"))
    if new_key and any(title_key(t) == new_key for t in old.get("replaces") or []):
        return False
    if bool(new.get("revision")) != bool(old.get("revision")):
        return bool(new.get("revision"))
    if a and not b:  # only the new one is dated: an undated stored copy is taken as the later one
        return False
    return True


def insert_position(versions: list[dict], new: dict) -> int:
    """0-based index the new version takes among `versions` (oldest first)."""
    for i, v in enumerate(versions):
        if not is_newer(new, v):
            return i
    return len(versions)


def superseded_dates(versions: list[dict]) -> list[Optional[str]]:
    """superseded_on of each version: the day the next one takes effect (None for the last, or when unknown)."""
    return [start(versions[i + 1]) if i + 1 < len(versions) else None for i in range(len(versions))]


def lower_bounds(versions: list[dict]) -> list[Optional[str]]:
    """The day each version is in force from; an undated revision is in force no earlier than the one before."""
    out, last = [], None
    for v in versions:
        last = start(v) or last
        out.append(last)
    return out


def pick_version(versions: list[dict], as_of: date) -> int:
    """Index of the version in force on `as_of` (effective_from ≤ as_of < superseded_on). Unknown dates:
    an undated revision counts from its predecessor's date; before every version, the first answers."""
    day = as_of.isoformat()
    chosen = 0
    for i, lo in enumerate(lower_bounds(versions)):
        if lo is None or lo <= day:
            chosen = i
    return chosen


GENRES = ("实施细则", "细则", "办法", "条例", "规定", "实施方案", "方案", "实施意见", "意见", "备忘录", "通知",
          "决定", "制度", "措施", "清单")


def genre(title: Optional[str]) -> str:
    """办法 for a title ending in …办法（试行）: what a note calls the document (该办法为试行)."""
    t = re.sub(r"[（(][^（）()]*[)）]\s*$", "", title or "").strip()
    return next((g for g in GENRES if t.endswith(g)), "文件")


def validity_notes(versions: list[dict], index: int, as_of: date) -> list[str]:
    """What a reader must know about the version answering on `as_of`: 试行, not yet in force, expired,
    superseded, dates unknown."""
    v, day = versions[index], as_of.isoformat()
    n, notes = index + 1, []
    label = f"第{n}版" if len(versions) > 1 else f"该{genre(v.get('title'))}"
    eff = v.get("effective_from")
    if v.get("trial"):
        notes.append(f"{label}为试行" + ("，施行日期未写明" if not eff else ""))
    elif not eff and (v.get("validity_warnings") or not start(v)):
        notes.append(f"{label}施行日期未写明")
    first = start(v)
    if first and first > day:
        notes.append(f"{label}尚未施行（自{first}起施行）")
    if v.get("expires") and v["expires"] <= day:
        notes.append(f"{label}已于{v['expires']}到期")
    sup = v.get("superseded_on")
    if index + 1 < len(versions):
        notes.append(f"{label}" + (f"自{sup}起" if sup else "已") + f"由第{index + 2}版取代")
    return notes


def rekey(doc, new_id: str) -> None:
    """Give a parsed document's clause / measure / condition / rule ids the prefix of the document it becomes a
    version of (ids are `<document id>-c0001` …)."""
    from nlp.document import document_id
    old = document_id(doc.source_file) + "-"
    new = new_id + "-"
    if old == new:
        return

    def k(value):
        return new + value[len(old):] if isinstance(value, str) and value.startswith(old) else value
    for c in doc.clauses:
        c.id, c.parent_id = k(c.id), k(c.parent_id)
    for m in doc.measures:
        m.id, m.clause_id = k(m.id), k(m.clause_id)
    for c in doc.conditions:
        c.id, c.clause_id = k(c.id), k(c.clause_id)
    for r in doc.rules:
        r.id, r.clause_id = k(r.id), k(r.clause_id)
        r.condition_ids = [k(x) for x in r.condition_ids]
        r.measure_ids = [k(x) for x in r.measure_ids]
