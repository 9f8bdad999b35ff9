"""diff_versions(old, new) → what changed between two versions of a document: clauses, measures, conditions
and rules added / removed / changed, and a short Chinese summary.

Items are matched by content, not by label: a revision renumbers its articles (第十二条 becomes 第九条), so a
clause is first paired with one of the same wording, then with the most similar one (rapidfuzz), its label
breaking ties. Pure functions over the contract shapes (queries.version_rows).
"""
from __future__ import annotations

import re
from typing import Optional

from rapidfuzz import fuzz

MIN_SIMILARITY = 60      # below this two texts are not one item revised
SAME_LABEL_BONUS = 8
LIST_IN_SUMMARY = 6      # labels named in the summary before it says 等N条
KIND_WORD = {"incentive": "激励", "penalty": "惩戒", "other": "其他"}
DIVISION = re.compile(r"^第[一二三四五六七八九十百零〇\d]+[编章节]$")


def body(item: dict) -> str:
    """The wording without its own label (第十二条 / （三）) and spacing: what survives a renumbering."""
    text = re.sub(r"\s+", "", item.get("text") or "")
    label = re.sub(r"\s+", "", item.get("label") or "")
    if label and text.startswith(label):
        text = text[len(label):]
    return re.sub(r"^[（(]?[一二三四五六七八九十\d]+[)）、.．]", "", text)


def where(item: dict) -> str:
    """第四条（四） — the clause path without its 编/章/节."""
    path = [p for p in item.get("path") or [] if not DIVISION.match(str(p))]
    return "".join(str(p) for p in path) or "（序言）"


def pair_items(old: list[dict], new: list[dict], key=body) -> tuple[list[tuple[dict, dict, float]], list[dict],
                                                                       list[dict]]:
    """(matched pairs with their similarity, removed, added): identical wording first, then best similarity."""
    pairs, used_old, used_new = [], set(), set()
    by_text: dict[str, list[int]] = {}
    for j, n in enumerate(new):
        by_text.setdefault(key(n), []).append(j)
    for i, o in enumerate(old):
        for j in by_text.get(key(o), []):
            if j not in used_new:
                pairs.append((o, new[j], 100.0))
                used_old.add(i)
                used_new.add(j)
                break
    scored = []
    for i, o in enumerate(old):
        if i in used_old:
            continue
        ko = key(o)
        for j, n in enumerate(new):
            if j in used_new:
                continue
            kn = key(n)
            if not ko or not kn:
                continue
            s = fuzz.ratio(ko, kn)
            if s < MIN_SIMILARITY:
                continue
            scored.append((s + (SAME_LABEL_BONUS if where(o) == where(n) else 0), s, i, j))
    for _, s, i, j in sorted(scored, key=lambda t: (-t[0], t[2], t[3])):
        if i in used_old or j in used_new:
            continue
        pairs.append((old[i], new[j], float(s)))
        used_old.add(i)
        used_new.add(j)
    removed = [o for i, o in enumerate(old) if i not in used_old]
    added = [n for j, n in enumerate(new) if j not in used_new]
    pairs.sort(key=lambda p: new.index(p[1]))
    return pairs, removed, added


def shown(item: dict, extra: tuple = ()) -> dict:
    out = {"id": item.get("id"), "path": item.get("path") or [], "where": where(item), "text": item.get("text")}
    for k in extra:
        if k in item:
            out[k] = item[k]
    return out


def compare(old: list[dict], new: list[dict], extra: tuple = (), same=None) -> dict:
    """added / removed / changed (wording or, through `same`, other fields) / renumbered (same wording, new label)."""
    pairs, removed, added = pair_items(old, new)
    changed, renumbered = [], []
    for o, n, score in pairs:
        moved = where(o) != where(n)
        differs = body(o) != body(n) or (same is not None and not same(o, n))
        if differs:
            changed.append({"old": shown(o, extra), "new": shown(n, extra), "similarity": round(score, 1),
                            "renumbered": moved})
        elif moved:
            renumbered.append({"old": shown(o, extra), "new": shown(n, extra)})
    return {"added": [shown(n, extra) for n in added], "removed": [shown(o, extra) for o in removed],
            "changed": changed, "renumbered": renumbered}


# ---- thresholds: what a changed predicate means ----------------------------------------------

def fact_nodes(node, out: Optional[dict] = None) -> dict:
    """fact → (op, value) of every fact test in a predicate."""
    out = {} if out is None else out
    if isinstance(node, dict):
        if "fact" in node:
            out.setdefault(node["fact"], (node.get("op", "=="), node.get("value")))
        for child in [*node.get("all", []), *node.get("any", []), node.get("not")]:
            fact_nodes(child, out)
    return out


def threshold_changes(old_pred, new_pred) -> list[dict]:
    """The facts whose required value changed: 标准化等级 二级 → 一级 (提高 when harder to meet)."""
    from nlp.profile_schema import facts
    from .evaluate import fact_label, show
    a, b = fact_nodes(old_pred), fact_nodes(new_pred)
    out = []
    for field in sorted(set(a) & set(b)):
        (op_a, va), (op_b, vb) = a[field], b[field]
        if va == vb and op_a == op_b:
            continue
        direction = "调整"
        try:
            lower_better = facts().get(field, {}).get("better") == "lower"
            harder = (vb < va) if lower_better or op_b in ("<", "<=") else (vb > va)
            direction = "提高" if harder else "降低" if va != vb else "调整"
        except TypeError:
            pass
        out.append({"fact": field, "label": fact_label(field), "from": show(field, va), "to": show(field, vb),
                    "direction": direction})
    return out


def same_predicate(o: dict, n: dict) -> bool:
    return (o.get("predicate") or None) == (n.get("predicate") or None) and o.get("role") == n.get("role")


# ---- rules -----------------------------------------------------------------------------------

def compare_rules(old: dict, new: dict, measure_pairs: dict[str, str], condition_pairs: dict[str, str]) -> dict:
    """A rule is its measures and conditions: an old rule is the new rule holding most of its matched measures."""
    new_rules = list(new["rules"])
    added, removed, changed = [], [], []
    taken = set()
    for r in old["rules"]:
        mapped = {measure_pairs.get(m) for m in r["measure_ids"]} - {None}
        best, overlap = None, 0
        for k, n in enumerate(new_rules):
            if k in taken or n["kind"] != r["kind"]:
                continue
            o = len(mapped & set(n["measure_ids"]))
            if o > overlap:
                best, overlap = k, o
        if best is None:
            removed.append(rule_shown(r, old))
            continue
        taken.add(best)
        n = new_rules[best]
        conds_old = {condition_pairs.get(c, "-" + c) for c in r["condition_ids"]}
        if conds_old != set(n["condition_ids"]) or mapped != set(n["measure_ids"]) \
                or r["combinator"] != n["combinator"]:
            changed.append({"old": rule_shown(r, old), "new": rule_shown(n, new)})
    added = [rule_shown(n, new) for k, n in enumerate(new_rules) if k not in taken]
    return {"added": added, "removed": removed, "changed": changed}


def rule_shown(rule: dict, side: dict) -> dict:
    measures = {m["id"]: m for m in side["measures"]}
    conds = {c["id"]: c for c in side["conditions"]}
    return {"id": rule["id"], "kind": rule["kind"], "combinator": rule["combinator"],
            "conditions": [conds[c]["text"] for c in rule["condition_ids"] if c in conds],
            "measures": [measures[m]["text"] for m in rule["measure_ids"] if m in measures]}


# ---- the whole diff and its summary ----------------------------------------------------------

def diff_versions(old: dict, new: dict) -> dict:
    """old / new: {"clauses", "measures", "conditions", "rules"} of two versions (contract shapes)."""
    clauses = compare(old["clauses"], new["clauses"])
    measures = compare(old["measures"], new["measures"], ("kind", "departments"),
                       same=lambda o, n: o.get("kind") == n.get("kind"))
    conditions = compare(old["conditions"], new["conditions"], ("role", "predicate"), same=same_predicate)
    for c in conditions["changed"]:
        c["thresholds"] = threshold_changes(c["old"].get("predicate"), c["new"].get("predicate"))
    mp = {o["id"]: n["id"] for o, n, _ in pair_items(old["measures"], new["measures"])[0]}
    cp = {o["id"]: n["id"] for o, n, _ in pair_items(old["conditions"], new["conditions"])[0]}
    rules = compare_rules(old, new, mp, cp)
    out = {"clauses": clauses, "measures": measures, "conditions": conditions, "rules": rules}
    out["summary"] = summary(out)
    return out


def articles(items: list[dict]) -> list[str]:
    """The distinct 第X条 an item list touches (an item of an article counts for its article)."""
    seen = []
    for it in items:
        path = [p for p in it.get("path") or [] if not DIVISION.match(str(p))]
        label = path[0] if path and re.match(r"^第.+条", str(path[0])) else where(it)
        if label not in seen:
            seen.append(label)
    return seen


def named(labels: list[str]) -> str:
    head = "、".join(labels[:LIST_IN_SUMMARY])
    return head + (f"等{len(labels)}条" if len(labels) > LIST_IN_SUMMARY else "")


def summary(d: dict) -> str:
    """新增 3 项惩戒措施；第九条 门槛由二级提高到一级；第十二条改为第九条 … — empty changes say 无实质变化."""
    parts = []
    for verb, key in (("新增", "added"), ("删去", "removed")):
        by_kind: dict[str, int] = {}
        for m in d["measures"][key]:
            by_kind[m.get("kind") or "other"] = by_kind.get(m.get("kind") or "other", 0) + 1
        for kind in ("incentive", "penalty", "other"):
            if by_kind.get(kind):
                parts.append(f"{verb} {by_kind[kind]} 项{KIND_WORD[kind]}措施")
    if d["measures"]["changed"]:
        parts.append(f"{len(d['measures']['changed'])} 项措施有改动")
    for c in d["conditions"]["changed"]:
        for t in c.get("thresholds", []):
            parts.append(f"{c['new']['where']} {t['label']}门槛由{t['from']}{t['direction']}到{t['to']}"
                         if t["direction"] != "调整" else
                         f"{c['new']['where']} {t['label']}由{t['from']}调整为{t['to']}")
    for verb, key in (("新增条件", "added"), ("删去条件", "removed")):
        if d["conditions"][key]:
            parts.append(f"{verb} {len(d['conditions'][key])} 项")
    added, removed = articles(d["clauses"]["added"]), articles(d["clauses"]["removed"])
    if added:
        parts.append(f"新增 {named(added)}")
    if removed:
        parts.append(f"删去 {named(removed)}")
    moved = [f"{r['old']['where']}→{r['new']['where']}" for r in
             [*d["clauses"]["renumbered"], *[c for c in d["clauses"]["changed"] if c["renumbered"]]]
             if r["old"].get("path") and len([p for p in r["old"]["path"] if not DIVISION.match(str(p))]) == 1]
    if moved:
        parts.append(f"{len(moved)} 条改号（{'、'.join(moved[:LIST_IN_SUMMARY])}{'等' if len(moved) > LIST_IN_SUMMARY else ''}）")
    reworded = articles([c["new"] for c in d["clauses"]["changed"]])
    if reworded:
        parts.append(f"{named(reworded)} 文字有改动")
    return "；".join(parts) if parts else "无实质变化"


class DiffError(ValueError):
    """An unknown document or version, said in one line."""


def document_diff(db, document_id: str, from_version: Optional[int] = None,
                  to_version: Optional[int] = None) -> dict:
    """The diff between two stored versions of a document (default: the one before the current, and the current)."""
    from .queries import version_rows
    from .store import stored_versions
    versions = {v["version"]: v for v in stored_versions(db, document_id).get(document_id, [])}
    if not versions:
        raise DiffError(f"no document with id {document_id!r}")
    to_v = to_version if to_version is not None else max(versions)
    from_v = from_version if from_version is not None else to_v - 1
    for name, v in (("from", from_v), ("to", to_v)):
        if v not in versions:
            raise DiffError(f"document {document_id!r} has no version {v} (versions: "
                            f"{', '.join(str(k) for k in sorted(versions))})")
        if not versions[v].get("extractor"):
            raise DiffError(f"document {document_id!r} version {v} was stored before versions kept their "
                            f"extraction; ingest its file again to read it")
    out = {"document_id": document_id,
           "from": {k: versions[from_v].get(k) for k in ("version", "source_file", "title", "effective_from")},
           "to": {k: versions[to_v].get(k) for k in ("version", "source_file", "title", "effective_from")}}
    out.update(diff_versions(version_rows(db, document_id, from_v), version_rows(db, document_id, to_v)))
    return out
