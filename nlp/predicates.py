"""Condition text → typed predicate (JSON), via atoms and modifiers kept as data; None when not understood.

Predicate nodes (declarative, so they can be compiled to SQL later):
  {"all": [...]}, {"any": [...]}, {"not": node}
  {"fact": field, "op": "==|<=|>=", "value": v}
  {"industry_any": ["钢铁冶金", ...]}
  {"event": {"type": t, field: value | {">=": n} | {"at_least": "较大"}}, "within": {"years": n} | {"months": n},
   "at_least": k}
  {"attested": key, "text": wording}   wording no pattern reads: decided by the profile's "attested"[key], else unknown
An event node is true when at least `at_least` (default 1) profile events match inside the window.
"""
from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from .canonical import canonical
from .datafiles import compile_pattern, load_jsonl
from .labels import chinese_number

DATA = Path(__file__).parent / "data"
CJK = re.compile(r"[\u4e00-\u9fff]")
SUBJECT_NOUN = compile_pattern("的(?:诚信|守信|失信|严重失信|有关|相关)?{{ENTERPRISE}}$", "predicates: subject noun")


@lru_cache(maxsize=1)
def atoms() -> tuple[tuple[str, re.Pattern, dict], ...]:
    return tuple(load_jsonl(DATA / "predicate_patterns.jsonl",
                            lambda row: (row["id"], compile_pattern(row["regex"], f"predicate_patterns.jsonl {row['id']}"), row["node"])))


@lru_cache(maxsize=1)
def grammar() -> dict[str, Any]:
    raw = json.loads((DATA / "predicate_grammar.json").read_text(encoding="utf-8"))
    out = {k: compile_pattern(v, f"predicate_grammar.json: {k}") if isinstance(v, str) and not k.startswith("_") else v for k, v in raw.items()}
    return out


def fill(node: Any, groups: dict[str, str]) -> Any:
    """Fill {name} / {name:int} placeholders of a node template from regex groups."""
    if isinstance(node, dict):
        return {k: fill(v, groups) for k, v in node.items()}
    if isinstance(node, list):
        return [fill(v, groups) for v in node]
    if isinstance(node, str) and node.startswith("{") and node.endswith("}"):
        name, _, typ = node[1:-1].partition(":")
        value = groups.get(name)
        if value is None:
            return None
        return chinese_number(value) if typ == "int" else value
    return node


def find_atoms(text: str) -> list[tuple[int, int, str, dict]]:
    found = []
    for order, (atom_id, pat, node) in enumerate(atoms()):
        for m in pat.finditer(text):
            if m.end() > m.start():
                found.append((m.start(), m.end(), order, atom_id, fill(node, m.groupdict())))
    # longest first, then pattern order; keep non-overlapping
    found.sort(key=lambda x: (-(x[1] - x[0]), x[2], x[0]))
    chosen: list[tuple[int, int, str, dict]] = []
    for s, e, _, atom_id, node in found:
        if all(e <= cs or s >= ce for cs, ce, _, _ in chosen):
            chosen.append((s, e, atom_id, node))
    return sorted(chosen)


def industry_terms(text: str) -> list[str]:
    """'金属、木质粉尘企业' → ['金属粉尘', '木质粉尘']; '危险化学品生产、储存、经营企业' → three terms."""
    g = grammar()
    m = g["industry_head"].search(text.rstrip("。；; "))
    if not m:
        return []
    np_ = m.group("np")
    if g["industry_exclude"].search(np_) or len(np_) < 2:
        return []
    parts = [p for p in re.split(r"[、（）()]|等", np_) if p]
    if not parts:
        return []
    out = list(parts)
    if len(parts) >= 2:
        if len(parts[-1]) > 2 and all(len(p) <= 2 for p in parts[:-1]):
            suffix = parts[-1][-2:]
            out = [p + suffix for p in parts[:-1]] + [parts[-1]]
        elif len(parts[0]) > 2 and all(len(p) <= 2 for p in parts[1:]):
            prefix = parts[0][:-2]
            out = [parts[0]] + [prefix + p for p in parts[1:]]
    return out


def window_before(text: str, pos: int) -> Optional[dict]:
    best = None
    for m in grammar()["window"].finditer(text[:pos]):
        n = chinese_number(m.group("n"))
        if n:
            best = {"years": n} if m.group("unit") == "年" else {"months": n}
    return best


def negated_before(text: str, start: int) -> bool:
    """A negation word between the last comma (or the text start) and the atom."""
    seg_start = max(text.rfind(ch, 0, start) for ch in "，,；;") + 1
    # 未发生… / 无… / 未发现新发…: the negation stands at most a verb away from what it denies
    return bool(grammar()["negation"].search(text[max(seg_start, start - 4):start]))


def count_near(text: str, start: int, end: int) -> Optional[int]:
    seg_start = max(text.rfind(ch, 0, start) for ch in "，,；;") + 1
    m = grammar()["count"].search(text[seg_start:end])
    return chinese_number(m.group("n")) if m else None


def understood(text: str, spans: list[tuple[int, int]]) -> bool:
    """Is every word of the condition accounted for by an atom, a modifier or a filler?"""
    g = grammar()
    chars = list(text)
    for s, e in spans:
        for i in range(s, e):
            chars[i] = " "
    rest = "".join(chars)
    for key in ("window", "count", "filler", "negation"):
        rest = g[key].sub(" ", rest)
    leftover = CJK.findall(rest)
    return len(leftover) <= max(2, len(CJK.findall(text)) // 8)


def node_for(text: str, atom: tuple[int, int, str, dict]) -> dict:
    s, e, _, node = atom
    if "event" in node:
        node = {"event": {k: v for k, v in node["event"].items() if v is not None}}
        window = window_before(text, s)
        if window:
            node["within"] = window
        k = count_near(text, s, e)
        if k and k > 1:
            node["at_least"] = k
        if negated_before(text, s):
            return {"not": node}
        return node
    if "fact" in node and node.get("op") == "==" and isinstance(node.get("value"), bool) and negated_before(text, s):
        return {**node, "value": not node["value"]}
    return node


def combine(kind: str, nodes: list[dict]) -> Optional[dict]:
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else {kind: nodes}


def parse_conjunct(text: str) -> Optional[dict]:
    found = find_atoms(text)
    terms = industry_terms(text)
    spans = [(s, e) for s, e, _, _ in found]
    if terms:
        i = text.find(terms[0][:2])
        spans.append((max(i, 0), len(text)))
    if not (found or terms) or not understood(text, spans):
        return None
    nodes = [node_for(text, a) for a in found]
    if terms:
        nodes.append({"industry_any": terms})
    return combine("all", nodes)


def parse_predicate(text: str, role: str = "") -> Optional[dict]:
    """The predicate of a condition, or None when any part of its wording is not understood."""
    t = re.sub(r"^[（(]?[一二三四五六七八九十\d]+[)）、.．]\s*", "", text.strip()).rstrip("。；;，, ")
    t = SUBJECT_NOUN.sub("", t)  # 诚信典型的行政相对人: the noun says whom, the words before it say what
    t = re.sub(r"的$", "", t)
    if not t:
        return None
    alternatives = [a for a in grammar()["alternative"].split(t) if a.strip("，, ")]
    whole = parse_conjunct(t)
    if len(alternatives) < 2:
        return whole
    parsed = [parse_conjunct(a) for a in alternatives]
    if all(p is not None for p in parsed):
        return combine("any", parsed)
    if whole is not None:
        return whole
    if any(p is not None for p in parsed):
        # an alternative we cannot read stays unknown; the ones we can still decide the condition when met
        return combine("any", [p if p is not None else attestation(a) for p, a in zip(parsed, alternatives)])
    return None


def attestation_key(text: str) -> str:
    """A condition's own key: the same wording gives the same key in every re-ingest and every version."""
    compact = re.sub(r"[^\w]", "", canonical(text))
    return "att-" + hashlib.sha1(compact.encode("utf-8")).hexdigest()[:12]


def attestation(text: str) -> dict:
    """A condition no pattern reads: the enterprise's own answer (profile "attested": {key: true|false})."""
    wording = text.strip().rstrip("。；;，, ")
    return {"attested": attestation_key(wording), "text": wording}


def attestation_only(predicate: Optional[dict]) -> bool:
    """True when no part of a condition was read as a typed fact: only the enterprise's own answer decides it."""
    if predicate is None or "unparsed" in predicate or "attested" in predicate:
        return True
    for kind in ("all", "any"):
        if kind in predicate:
            return all(attestation_only(p) for p in predicate[kind])
    if "not" in predicate:
        return attestation_only(predicate["not"])
    return False
