"""Department names: split lists as printed, and resolve each to a canonical body with rapidfuzz.

`市发展改革委`, `市发展和改革委员会` and `发展和改革部门` are one body; the verbatim name is always kept.
The gazetteer is data/departments.tsv.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

from rapidfuzz import fuzz, process

DATA = Path(__file__).parent / "data"
# Administrative-level prefixes that do not change which body is meant.
LEVEL_PREFIX = re.compile(r"^(?:各级|各|县（市、区）级以上|县\(市、区\)级以上|[省市县区旗州盟]级?|地方各级|本级|"
                          r"[\u4e00-\u9fff]{2,8}?(?:省|市|县|区|旗))")
LIST_SPLIT = re.compile(r"[、，,；;]|以及|及其?|和(?=有关|各|[\u4e00-\u9fff]{0,6}(?:部门|机构|组织|单位|协会))")
GENERIC_TAIL = re.compile(r"等(?:有关|相关)?(?:部门|单位|部门单位|机构|组织)?.*$")


@dataclass(frozen=True)
class Body:
    id: str          # canonical name, e.g. 发展和改革部门
    aliases: tuple[str, ...]


@lru_cache(maxsize=1)
def gazetteer() -> tuple[Body, ...]:
    path = DATA / "departments.tsv"
    bodies = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = raw.split("\t")
        if len(parts) != 2:
            raise ValueError(f"{path}:{lineno}: expected 'canonical<TAB>alias|alias'")
        bodies.append(Body(parts[0].strip(), tuple(a for a in parts[1].strip().split("|") if a)))
    return tuple(bodies)


@lru_cache(maxsize=1)
def alias_table() -> dict[str, str]:
    table = {}
    for b in gazetteer():
        table[b.id] = b.id
        for a in b.aliases:
            table.setdefault(a, b.id)
    return table


def strip_level(name: str) -> str:
    core = re.sub(r"\s+", "", name)
    prev = None
    while prev != core:
        prev = core
        m = LEVEL_PREFIX.match(core)
        if m and len(core) - m.end() >= 2:
            core = core[m.end():]
    return core


@lru_cache(maxsize=4096)
def canonical_department(name: str, cutoff: float = 82) -> Optional[str]:
    """The canonical body a printed department name refers to, or None when nothing is close enough."""
    table = alias_table()
    core = strip_level(name)
    for cand in (name, core):
        if cand in table:
            return table[cand]
    # longest alias contained in the name (发展和改革委员会办公室 → 发展和改革部门)
    hits = [a for a in table if len(a) >= 2 and a in core]
    if hits:
        return table[max(hits, key=len)]
    best = process.extractOne(core, list(table), scorer=fuzz.WRatio, score_cutoff=cutoff)
    return table[best[0]] if best else None


def split_department_list(text: str) -> list[str]:
    """`市发展改革局、市经信局等部门单位,各有关行业协会` → ['市发展改革局', '市经信局', '各有关行业协会']."""
    names = []
    for part in LIST_SPLIT.split(text):
        part = part.strip(" \u3000：:。")
        part = GENERIC_TAIL.sub("", part) if not part.startswith("等") else ""
        part = re.sub(r"^(?:由|经|并|和|与)", "", part)
        part = re.sub(r"^(?:牵头|配合|责任|实施|协办|主办|参与)(?:单位|部门)[：:]\s*", "", part)
        if len(part) >= 2 and part not in {"部门", "单位", "机构", "组织"}:
            names.append(part)
    return names


def looks_like_department(name: str) -> bool:
    return canonical_department(name) is not None or bool(
        re.search(r"(?:部门|机构|组织|局|委|办|中心|政府|协会|海关|银行|支行|法院|检察院|工会|妇联|贸促会)$", name))
