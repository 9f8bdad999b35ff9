"""Chinese administrative regions (省/市/县) from jionlp's gazetteer.

The gazetteer is jionlp's ``dictionary/china_location.txt`` (loaded with jionlp's
own ``china_location_loader``; the place-name changes since 2002 come from its
``china_location_change_loader``).  It is read once, lazily, on the first call of
any public function and cached; importing this module is cheap.  jionlp prints a
banner on stdout when imported, so it is imported inside ``redirect_stdout``.

Public API (pure functions):

- ``resolve_region(name)``: full 省市县 name of a place named alone ("庄河" ->
  "辽宁省大连市庄河市"), or "全国", or None.
- ``find_regions(text)``: full names of the places mentioned in free text (never
  "全国": "全国信用信息共享平台" names a system, not a jurisdiction).
- ``contains(jurisdiction, region)``: True / False / None (unresolvable).
- ``region_levels(full_name)``: (province, city, county).

Names and keys
    Every region is known by its full name, by the name with its suffix
    (省/市/县/区/旗/自治区/自治州/自治县/地区/盟) dropped when at least two
    characters remain, and by jionlp's alias when that alias is a prefix or an
    in-order abbreviation of the full name (内蒙古, 广西, 陈旗, 察右中旗, 克州).
    Names of autonomous regions with an ethnic part (``族``/``自治``) get only
    jionlp's alias, never the stripped form.  When jionlp's alias *is* the full
    name (吉林市, 中山区, 阿里地区, 资源县 ...), jionlp deliberately does not
    abbreviate it, and neither do we.  Development zones keep their full names
    only (jionlp's "经开区"/"高新区" aliases are generic and dropped).  Old names
    that were abolished (江干区, 襄樊市 ...) resolve to their successor.  Names documents use that
    the gazetteer lacks (北京城市副中心 → 北京市通州区) are data in ``nlp/data/region_aliases.tsv``.

Municipalities and SARs (北京/上海/天津/重庆/香港/澳门) are one region at both the
province and the city level: ``region_levels("北京市朝阳区")`` is
("北京市", "北京市", "朝阳区") and the full name is never doubled.  Counties
directly under a province (济源市, 仙桃市, 石河子市 ...) have city None.

Ambiguity
    A key can name several regions.  Candidates are ordered: a full-name match
    before an alias match before an old name, then the higher level first
    (province, city, county: "吉林" is 吉林省, "朝阳" is 辽宁省朝阳市), then the
    lower administrative code (so "朝阳区" alone is 北京市朝阳区 (110105), not
    吉林省长春市朝阳区 (220104); "鼓楼区" is 江苏省南京市鼓楼区).  A parent given
    with it ("长春市朝阳区", "呼伦贝尔陈巴尔虎旗") restricts the candidates to that
    parent.  In ``find_regions`` a still-ambiguous mention also prefers a
    candidate related to an unambiguous place found elsewhere in the same text.

False hits in free text
    ``find_regions`` guards short keys: keys listed in
    ``nlp/data/region_stopwords.txt`` (common words and generic district names,
    e.g. 公安, 和平, 比如, 城区, 新城区) are only taken right after a parent
    place ("沈阳市和平区" still works; "和平" alone does not).  A two-character
    key is also rejected when its last character and the next character form a
    common word (jieba's dictionary, frequency >= 500, plus a few words such as
    发展/市场/新区/县级 that must never be read as places) while the two characters
    after the key do not ("市和县级" holds no 和县, but "江阴道路" is 江阴), or
    when it is followed by 路/街/巷 (a street named after the place: 北京路 in
    大连).  A key of up to three characters is rejected, symmetrically, when the
    character before it and its first character form a common word while the
    two characters before it do not ("城市中心" holds no 市中区, "新兴城市" no
    兴城市).  A key inside an idiom written in the text (jionlp's idiom list:
    "安如泰山", "万全之策") is not a place.  ``resolve_region`` applies only the
    stoplist, and only to a stoplisted name given without a parent ("公安" -> None,
    "公安县" and "天津和平" resolve).
"""
from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .canonical import simplified

__all__ = ["resolve_region", "find_regions", "contains", "region_levels", "NATIONWIDE"]

NATIONWIDE = "全国"
_NATIONWIDE_NAMES = frozenset({"全国", "国家", "中国", "全国范围", "中华人民共和国", "全国各地"})

_STOPWORDS_PATH = Path(__file__).with_name("data") / "region_stopwords.txt"
_ALIASES_PATH = Path(__file__).with_name("data") / "region_aliases.tsv"

# suffixes dropped to make short aliases, longest first
_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "省", "市", "县", "区", "旗", "盟")
_PSEUDO_CITY = "直辖"            # 省直辖行政区划 / 自治区直辖县级行政区划 / 市直辖行政区划
_COMMON_WORD_MIN_FREQ = 500       # jieba dict.txt frequency for the context guards
_STREET_CHARS = frozenset("路街巷")
# words that must never be read as (part of) a place, on top of jieba's list
_EXTRA_COMMON_WORDS = frozenset({"发展", "安全", "通报", "市场", "经济", "公安", "保险", "中心", "和平",
                                 "新区", "城市", "城区", "县级", "市级", "省级", "区级"})
_SPACE_RE = re.compile(r"\s+")
_MAX_NAME_LEN = 60                # longer input is text, not a place name

_FULL, _ALIAS, _OLD = 0, 1, 2     # kinds of key, in order of preference


@dataclass(frozen=True)
class _Place:
    province: str
    city: Optional[str]
    county: Optional[str]
    code: str

    @property
    def level(self) -> int:
        if self.county is not None:
            return 2
        if self.city is not None and self.city != self.province:
            return 1
        return 0

    @property
    def full(self) -> str:
        parts = [self.province]
        if self.city is not None and self.city != self.province:
            parts.append(self.city)
        if self.county is not None:
            parts.append(self.county)
        return "".join(parts)

    def within(self, outer: "_Place") -> bool:
        """True when self lies inside outer (or is outer)."""
        if self.province != outer.province:
            return False
        if outer.city is not None and outer.city != outer.province and self.city != outer.city:
            return False
        if outer.county is not None and self.county != outer.county:
            return False
        return True


@dataclass(frozen=True)
class _Table:
    keys: dict[str, tuple[tuple[int, _Place], ...]]   # key -> candidates (kind, place), best first
    lengths: dict[str, tuple[int, ...]]                # first char -> key lengths, longest first
    by_full: dict[str, _Place]
    stop: frozenset[str]
    common: frozenset[str]                             # common two-character words (context guards)
    idioms: frozenset[str]                             # 成语 of 4-8 characters (context guard)
    idiom_lengths: tuple[int, ...]


# ---------------------------------------------------------------- loading

def _quiet_jionlp_loaders():
    """jionlp's gazetteer, its place-name changes and its idiom list (jionlp prints on import)."""
    with contextlib.redirect_stdout(io.StringIO()):
        from jionlp.dictionary.dictionary_loader import (  # lazy on purpose: import is slow and noisy
            china_location_change_loader,
            china_location_loader,
            chinese_idiom_loader,
        )
        return china_location_loader(detail=False), china_location_change_loader(), chinese_idiom_loader()


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _strip_suffix(name: str) -> Optional[str]:
    for suf in _SUFFIXES:
        if name.endswith(suf) and len(name) - len(suf) >= 2:
            return name[: -len(suf)]
    return None


def _aliases(name: str, gazetteer_aliases: list[str]) -> set[str]:
    out: set[str] = set()
    gaz = [a for a in gazetteer_aliases if a]
    ethnic = "族" in name or "自治" in name
    if not ethnic and name not in gaz:
        stripped = _strip_suffix(name)
        if stripped:
            out.add(stripped)
    for a in gaz:
        if a == name or len(a) < 2:
            continue
        if name.startswith(a) or (a[0] == name[0] and _is_subsequence(a, name)):
            out.add(a)
    out.discard(name)
    return out


def _as_list(alias) -> list[str]:
    if alias is None:
        return []
    return list(alias) if isinstance(alias, (list, tuple)) else [alias]


def _load_stopwords(path: Path = _STOPWORDS_PATH) -> frozenset[str]:
    words = set()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.split("#", 1)[0].strip()
            if line:
                words.add(line)
    return frozenset(words)


def _load_aliases(path: Path = _ALIASES_PATH) -> list[tuple[str, str]]:
    """(name, full name) pairs of nlp/data/region_aliases.tsv: names documents use that the gazetteer lacks
    (北京城市副中心 → 北京市通州区)."""
    pairs = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return pairs
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "\t" in line:
            name, full = (x.strip() for x in line.split("\t", 1))
            if name and full:
                pairs.append((name, full))
    return pairs


def _load_common_words(keys: set[str], min_freq: int = _COMMON_WORD_MIN_FREQ) -> frozenset[str]:
    """Two-character words of jieba's dictionary with freq >= min_freq, minus the given place keys."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    path = os.path.join(list(spec.submodule_search_locations)[0], "dict.txt")
    words = set()
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line[2:3] != " ":
                    continue
                parts = line.split(" ")
                if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) >= min_freq:
                    words.add(parts[0])
    except OSError:
        return frozenset()
    return frozenset(words - keys)


def _cache_path() -> Path:
    import hashlib
    import tempfile
    from importlib.metadata import version
    aliases = _ALIASES_PATH.read_bytes() if _ALIASES_PATH.exists() else b""
    stamp = hashlib.sha1(f"{version('jionlp')}|{_STOPWORDS_PATH.read_bytes()!r}|{aliases!r}|{Path(__file__).read_bytes()!r}"
                         .encode("utf-8")).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"xinyi-regions-{stamp}.pickle"


@functools.lru_cache(maxsize=1)
def _table() -> _Table:
    """The name table, built once from jionlp and then kept in a cache file (like jieba's), keyed by the
    versions of jionlp, the stoplist and this module, so a stale table is never read."""
    import pickle
    path = _cache_path()
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError):
        pass
    table = _build_table()
    try:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(table, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only temp dir only costs the rebuild next time
    return table


def _build_table() -> _Table:
    china, changes, idioms = _quiet_jionlp_loaders()
    cands: dict[str, set[tuple[int, _Place]]] = {}
    by_full: dict[str, _Place] = {}
    by_names: dict[tuple, _Place] = {}

    def add(place: _Place, names: list[str], gaz_aliases: list[str]) -> None:
        by_full.setdefault(place.full, place)
        for n in names:
            cands.setdefault(n, set()).add((_FULL, place))
            for a in _aliases(n, gaz_aliases):
                cands.setdefault(a, set()).add((_ALIAS, place))

    for prov, pdata in china.items():
        if prov.startswith("_"):
            continue
        p_alias = _as_list(pdata.get("_alias"))
        cities = [c for c in pdata if not c.startswith("_")]
        municipal = len(cities) == 1 and (cities[0] == prov or cities[0] in p_alias
                                          or _as_list(pdata[cities[0]].get("_alias")) == p_alias)
        p_place = _Place(prov, prov if municipal else None, None, pdata["_admin_code"])
        names = [prov] + ([cities[0]] if municipal and cities[0] != prov else [])
        add(p_place, names, p_alias)
        by_names[(prov, None, None)] = p_place
        for city in cities:
            cdata = pdata[city]
            pseudo = _PSEUDO_CITY in city
            if municipal:
                c_place, c_name = p_place, prov
            elif pseudo:
                c_place, c_name = None, None
            else:
                c_place, c_name = _Place(prov, city, None, cdata["_admin_code"]), city
                add(c_place, [city], _as_list(cdata.get("_alias")))
            if c_place is not None:
                by_names[(prov, city, None)] = c_place
            for county, kdata in cdata.items():
                if county.startswith("_") or _PSEUDO_CITY in county:
                    continue
                k_place = _Place(prov, c_name, county, kdata["_admin_code"])
                add(k_place, [county], _as_list(kdata.get("_alias")))
                by_names[(prov, city, county)] = k_place

    # names documents use that the gazetteer lacks (data/region_aliases.tsv)
    for name, full in _load_aliases():
        target = by_full.get(full)
        if target is not None and name not in cands:
            cands[name] = {(_ALIAS, target)}

    # abolished names -> their successors (full names of >= 3 characters only)
    for item in changes:
        new = item.get("new_loc") or []
        target = by_names.get(tuple((list(new) + [None, None, None])[:3]))
        old_levels = [lvl for lvl in item.get("old_loc", []) if lvl and lvl[0]]
        if target is None or not old_levels:
            continue
        old_name = old_levels[-1][0]
        if len(old_name) >= 3 and old_name not in cands:
            cands[old_name] = {(_OLD, target)}

    keys = {
        k: tuple(sorted(v, key=lambda kp: (kp[0], kp[1].level, kp[1].code, kp[1].full)))
        for k, v in cands.items()
    }
    lengths: dict[str, set[int]] = {}
    for k in keys:
        lengths.setdefault(k[0], set()).add(len(k))
    stop = _load_stopwords()
    idiom_set = frozenset(w for w in idioms if 4 <= len(w) <= 8 and w.isalpha())
    return _Table(
        keys=keys,
        lengths={ch: tuple(sorted(ls, reverse=True)) for ch, ls in lengths.items()},
        by_full=by_full,
        stop=stop,
        common=_load_common_words(set(keys) - stop) | _EXTRA_COMMON_WORDS,
        idioms=idiom_set,
        idiom_lengths=tuple(sorted({len(w) for w in idiom_set})),
    )


# ---------------------------------------------------------------- chains

def _places(key: str, table: _Table) -> list[_Place]:
    seen, out = set(), []
    for _, p in table.keys.get(key, ()):
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def _extend(state: list[_Place], nxt: list[_Place]) -> list[_Place]:
    """Candidates of the next mention that lie inside one of the chain's current candidates."""
    return [c for c in nxt if any(c.within(s) for s in state)]


def _chain(keys: list[str], table: _Table) -> Optional[list[_Place]]:
    """Candidates for the deepest place of a run of keys naming one place, or None if inconsistent."""
    state: Optional[list[_Place]] = None
    for k in keys:
        cur = _places(k, table)
        state = cur if state is None else _extend(state, cur)
        if not state:
            return None
    return state


def _segmentations(s: str, table: _Table, limit: int = 64) -> list[list[str]]:
    """Ways to cut s into keys (at most `limit`), fewest pieces first."""
    n = len(s)
    ends: list[list[int]] = [[] for _ in range(n)]      # ends[i]: j such that s[i:j] is a key
    for i in range(n):
        for ln in table.lengths.get(s[i], ()):
            if i + ln <= n and s[i:i + ln] in table.keys:
                ends[i].append(i + ln)
    done = [False] * (n + 1)                            # done[i]: s[i:] can be cut into keys
    done[n] = True
    for i in range(n - 1, -1, -1):
        done[i] = any(done[j] for j in ends[i])
    out: list[list[str]] = []

    def rec(i: int, acc: list[str]) -> None:
        if len(out) >= limit:
            return
        if i == n:
            out.append(list(acc))
            return
        for j in ends[i]:
            if done[j]:
                acc.append(s[i:j])
                rec(j, acc)
                acc.pop()

    if done[0]:
        rec(0, [])
    return sorted(out, key=len)


def _clean(name: str) -> str:
    return _SPACE_RE.sub("", name or "")


def _resolve_place(name: str) -> Optional[_Place]:
    s = _clean(name)
    if not s or len(s) > _MAX_NAME_LEN:
        return None
    table = _table()
    if s in table.by_full:
        return table.by_full[s]
    for seg in _segmentations(s, table):
        if seg[0] in table.stop:      # a stoplisted name needs a parent before it
            continue
        state = _chain(seg, table)
        if state:
            return state[0]
    return None


# ---------------------------------------------------------------- public API

def _resolve_any(name: str):
    """NATIONWIDE, a _Place (frozen), or None — kept per name: check resolves every document's jurisdiction."""
    if not isinstance(name, str):
        return None
    return _resolve_name(name)


@functools.lru_cache(maxsize=8192)
def _resolve_name(name: str):
    name = simplified(name)  # 遼寧省營口市 and 辽宁省营口市 are one place
    if _clean(name) in _NATIONWIDE_NAMES:
        return NATIONWIDE
    return _resolve_place(name)


def resolve_region(name: str) -> Optional[str]:
    """Full 省市县 name of a place named alone (any depth, with or without suffix).

    "庄河" -> "辽宁省大连市庄河市"; "北京市朝阳区" -> "北京市朝阳区"; "全国"/"国家" -> "全国";
    None for anything that is not (only) a place.  See the module doc for ambiguity.
    """
    r = _resolve_any(name)
    if r is None or r == NATIONWIDE:
        return r
    return r.full


def region_levels(full_name: str) -> tuple[Optional[str], Optional[str], Optional[str]]:
    """(province, city, county) of a region (any name resolve_region accepts).

    Municipalities repeat the province as the city (北京市朝阳区 -> 北京市, 北京市, 朝阳区);
    counties directly under a province have city None (济源 -> 河南省, None, 济源市);
    "全国" and unresolvable names give (None, None, None).
    """
    r = _resolve_any(full_name)
    if r is None or r == NATIONWIDE:
        return (None, None, None)
    return (r.province, r.city, r.county)


def contains(jurisdiction: str, region: str) -> Optional[bool]:
    """True when `region` lies inside `jurisdiction` (equal counts; 全国 contains all), False when
    both resolve and it does not, None when either cannot be resolved.  Bare names are resolved
    first; the comparison is by level (province, city, county), not by string prefix."""
    j, r = _resolve_any(jurisdiction), _resolve_any(region)
    if j is None or r is None:
        return None
    if j == NATIONWIDE:
        return True
    if r == NATIONWIDE:
        return False
    return r.within(j)


@dataclass
class _Mention:
    start: int
    end: int
    key: str


def _scan(text: str, table: _Table) -> list[_Mention]:
    mentions: list[_Mention] = []
    i, n = 0, len(text)
    while i < n:
        found = None
        prev = mentions[-1] if mentions and _adjacent(text, mentions[-1].end, i) else None
        for ln in table.lengths.get(text[i], ()):
            key = text[i:i + ln]
            if len(key) < ln or key not in table.keys:
                continue
            if _accept(text, i, key, prev, mentions, table):
                found = _Mention(i, i + ln, key)
                break
        if found:
            mentions.append(found)
            i = found.end
        else:
            i += 1
    return mentions


def _accept(text: str, i: int, key: str, prev: Optional[_Mention],
            mentions: list[_Mention], table: _Table) -> bool:
    after_parent = False
    if prev is not None:
        run = _run_keys(text, mentions)
        state = _chain(run, table) if run else None
        after_parent = bool(state and _extend(state, _places(key, table)))
    j = i + len(key)
    if _in_idiom(text, i, j, table):
        return False
    if key in table.stop and not after_parent:
        return False
    if after_parent:
        return True
    common = table.common
    if len(key) == 2 and j < len(text):
        if text[j] in _STREET_CHARS:
            return False
        # 市和|县级: the key's last character starts a word, and no word starts after the key
        if text[j - 1:j + 1] in common and text[j:j + 2] not in common:
            return False
    if len(key) <= 3 and i > 0:
        # 新|兴城市: the key's first character ends a word, and no word ends before the key
        if text[i - 1:i + 1] in common and (i < 2 or text[i - 2:i] not in common):
            return False
    return True


def _in_idiom(text: str, i: int, j: int, table: _Table) -> bool:
    """True when text[i:j] lies inside an idiom written in the text (安如泰山, 万全之策)."""
    for ln in table.idiom_lengths:
        if ln < j - i:
            continue
        for s in range(max(0, j - ln), i + 1):
            if text[s:s + ln] in table.idioms:
                return True
    return False


def _adjacent(text: str, end: int, start: int) -> bool:
    """Two mentions are adjacent when at most two spaces (no line break) separate them."""
    return end <= start and start - end <= 2 and all(ch in " \t\u3000\xa0" for ch in text[end:start])


def _run_keys(text: str, mentions: list[_Mention]) -> list[str]:
    """Keys of the trailing run of adjacent mentions."""
    run = [mentions[-1]]
    for m in reversed(mentions[:-1]):
        if not _adjacent(text, m.end, run[-1].start):
            break
        run.append(m)
    return [m.key for m in reversed(run)]


def find_regions(text: str) -> list[str]:
    """Full names of the places mentioned in `text`, in order of appearance, de-duplicated;
    adjacent parent + child mentions ("江苏省无锡市江阴市") give one place (the child)."""
    if not isinstance(text, str) or not text:
        return []
    table = _table()
    mentions = _scan(text, table)

    groups: list[tuple[int, list[_Place]]] = []      # (position, candidates best first)
    state: Optional[list[_Place]] = None
    start = 0
    for idx, m in enumerate(mentions):
        cur = _places(m.key, table)
        adjacent = idx > 0 and _adjacent(text, mentions[idx - 1].end, m.start)
        ext = _extend(state, cur) if (adjacent and state) else []
        if ext:
            state = ext
            groups[-1] = (start, state)
        else:
            state, start = cur, m.start
            groups.append((start, state))

    anchors = [c[0] for _, c in groups if len(c) == 1]
    out: list[str] = []
    for _, c in groups:
        pick = c[0]
        if len(c) > 1 and anchors:
            related = [p for p in c if any(p.within(a) or a.within(p) for a in anchors)]
            if related:
                pick = related[0]
        if pick.full not in out:
            out.append(pick.full)
    return out
