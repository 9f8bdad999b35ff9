"""impact(db, document, profiles, from, to, as_of): which enterprises' results change between two versions of a
document, and how — the measures each gains or loses and the conditions that decided it.

Each version is evaluated on a KB holding only that document at that version (knowledge/evaluate.py evaluate());
measures and conditions of the two versions are paired by content (knowledge/diff.py), so a renumbered clause is
the same clause. Profiles come from a JSONL file (one profile object a line) or a CSV file whose columns are
profile keys (nlp/data/profile_schema.json); a row that is not a valid profile is reported with its line number
and skipped.
"""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Any, Optional

import sqlite_utils

from nlp.profile_schema import facts

from .diff import DiffError, pair_items, where
from .evaluate import evaluate
from .profile import ProfileError, validate_profile

LIST_SPLIT = re.compile(r"[;；、|,，]")
TRUE = {"true", "1", "yes", "y", "是", "有", "对"}
FALSE = {"false", "0", "no", "n", "否", "无", "没有", "不"}
NAME_KEYS = ("name", "credit_code", "id")


class ImpactError(ValueError):
    """A profiles file or a version that cannot be used, said in one line."""


# ---- profiles ---------------------------------------------------------------------------------

def cell(key: str, raw: str) -> Any:
    """A CSV cell as the profile key's type; an empty cell is a missing (unknown) fact."""
    raw = raw.strip()
    if raw == "":
        return None
    decl = facts().get(key)
    kind = decl["type"] if decl else "string"
    if kind in ("events", "attestations") or raw[:1] in "[{":
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ProfileError(f"column '{key}' must be JSON ({exc.msg})") from None
    if kind == "count":
        if not raw.isdigit():
            raise ProfileError(f"column '{key}' must be a non-negative integer, got {raw!r}")
        return int(raw)
    if kind == "boolean":
        low = raw.lower()
        if low in TRUE:
            return True
        if low in FALSE:
            return False
        raise ProfileError(f"column '{key}' must be true or false, got {raw!r}")
    if kind == "string_list":
        return [x.strip() for x in LIST_SPLIT.split(raw) if x.strip()]
    if kind == "choice":
        for c in decl["choices"]:
            labels = {str(c), str(decl.get("choice_labels", {}).get(str(c), c))}
            if raw in labels or raw.rstrip("级") in labels:
                return c
        raise ProfileError(f"column '{key}' must be one of {', '.join(map(str, decl['choices']))}, got {raw!r}")
    return raw


def read_profiles(path: Path) -> tuple[list[tuple[int, dict]], list[dict], list[str]]:
    """((line, profile) …, errors [{line, error}], warnings) from a JSONL or CSV file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImpactError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ImpactError(f"{path}: not UTF-8 text") from None
    rows, errors, warnings = [], [], []
    if path.suffix.lower() == ".csv":
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if not header:
            raise ImpactError(f"{path}: empty CSV (expected a header row of profile keys)")
        header = [h.strip() for h in header]
        known = set(facts()) | set(NAME_KEYS)
        unknown = [h for h in header if h and h not in known]
        if unknown:
            warnings.append(f"{path.name}: columns not profile keys, ignored: {', '.join(unknown)}")
        for row in reader:
            line = reader.line_num
            if not any(c.strip() for c in row):
                continue
            try:
                if len(row) != len(header):
                    raise ProfileError(f"{len(row)} cells for {len(header)} columns")
                p = {h: cell(h, v) for h, v in zip(header, row) if h in known}
                rows.append((line, validate_profile({k: v for k, v in p.items() if v is not None})))
            except ProfileError as exc:
                errors.append({"line": line, "error": str(exc)})
        return rows, errors, warnings
    for line, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            rows.append((line, validate_profile(json.loads(raw))))
        except json.JSONDecodeError as exc:
            errors.append({"line": line, "error": f"not valid JSON ({exc.msg})"})
        except ProfileError as exc:
            errors.append({"line": line, "error": str(exc)})
    return rows, errors, warnings


# ---- one document at one version -------------------------------------------------------------

def version_kb(db: sqlite_utils.Database, doc_id: str, version: int) -> dict:
    """A KB holding only `doc_id` at `version`, in load_kb's shape."""
    from .queries import document_row, version_rows
    rows = list(db["document_versions"].rows_where("document_id = ? AND version = ?", [doc_id, version]))
    doc = document_row({**rows[0], "id": doc_id})
    parts = version_rows(db, doc_id, version)
    return {"documents": {doc_id: doc}, "clauses": {c["id"]: c for c in parts["clauses"]},
            "measures": {m["id"]: m for m in parts["measures"]},
            "conditions": {c["id"]: c for c in parts["conditions"]}, "rules": parts["rules"]}


RANK = {"applies": 2, "undetermined": 1, "does_not_apply": 0}


def measure_outcomes(results: list[dict]) -> dict[str, tuple[str, dict]]:
    """measure id → (best status of the rules holding it, that rule's result)."""
    out: dict[str, tuple[str, dict]] = {}
    for r in results:
        for m in r["measures"]:
            if m["id"] not in out or RANK[r["status"]] > RANK[out[m["id"]][0]]:
                out[m["id"]] = (r["status"], r)
    return out


def condition_statuses(results: list[dict]) -> dict[str, dict]:
    return {c["id"]: c for r in results for c in r["conditions"] if c.get("id")}


def shown(m: dict) -> dict:
    return {"text": m["text"], "kind": m["kind"], "where": where(m)}


def at(c: dict) -> str:
    """第四条（四） for a condition result; （适用范围） for a gate (jurisdiction, scope)."""
    return where({"path": c["citation"]["path"]}) if c.get("id") else "（适用范围）"


def deciding(old_res: Optional[dict], new_res: Optional[dict], cond_pairs: dict[str, str]) -> list[dict]:
    """The conditions (and gates) whose status differs between the two versions' rules, or failing in the new."""
    out = []
    new_by_id = {c.get("id"): c for c in new_res["conditions"]} if new_res else {}
    old_by_id = {c.get("id"): c for c in old_res["conditions"]} if old_res else {}
    paired_new = set()
    for oid, o in old_by_id.items():
        nid = cond_pairs.get(oid) if oid else None
        n = new_by_id.get(nid) if nid else None
        if oid is None:  # a gate (jurisdiction, scope): same position by text
            n = next((c for c in (new_res or {}).get("conditions", []) if c.get("id") is None
                      and c["text"] == o["text"]), None)
        if n is not None:
            paired_new.add(id(n))
        if n is None or n["status"] != o["status"] or n["text"] != o["text"]:
            out.append({"where": at(n or o),
                        "old": {"text": o["text"], "status": o["status"]},
                        "new": {"text": n["text"], "status": n["status"], "because": n["because"]} if n else None})
    for n in (new_res or {}).get("conditions", []):
        if id(n) not in paired_new and n["status"] != "met":
            out.append({"where": at(n), "old": None,
                        "new": {"text": n["text"], "status": n["status"], "because": n["because"]}})
    return out


def impact(db: sqlite_utils.Database, doc_id: str, profiles: list[tuple[int, dict]], from_version: Optional[int],
           to_version: Optional[int], as_of: date) -> dict:
    from .store import stored_versions
    versions = {v["version"]: v for v in stored_versions(db, doc_id).get(doc_id, [])}
    if not versions:
        raise ImpactError(f"no document with id {doc_id!r}")
    to_v = to_version if to_version is not None else max(versions)
    from_v = from_version if from_version is not None else to_v - 1
    for v in (from_v, to_v):
        if v not in versions or not versions[v].get("extractor"):
            raise ImpactError(f"document {doc_id!r} has no version {v} with its extraction (versions: "
                              f"{', '.join(str(k) for k in sorted(versions))})")
    old_kb, new_kb = version_kb(db, doc_id, from_v), version_kb(db, doc_id, to_v)
    conds_old = [c for c in old_kb["conditions"].values()]
    conds_new = [c for c in new_kb["conditions"].values()]
    cond_pairs = {o["id"]: n["id"] for o, n, _ in pair_items(conds_old, conds_new)[0]}
    m_old, m_new = list(old_kb["measures"].values()), list(new_kb["measures"].values())
    pairs, removed, added = pair_items(m_old, m_new)
    changed, unchanged = [], 0
    for line, profile in profiles:
        before, after = evaluate(old_kb, profile, as_of), evaluate(new_kb, profile, as_of)
        ob, nb = measure_outcomes(before), measure_outcomes(after)
        gains, loses, uncertain = [], [], []
        rules = []
        def note(o_rule, n_rule):
            key = (o_rule and o_rule["rule_id"], n_rule and n_rule["rule_id"])
            if key not in [k for k, _ in rules]:
                rules.append((key, (o_rule, n_rule)))
        for o, n, _ in pairs:
            (os_, orule), (ns, nrule) = ob.get(o["id"], ("does_not_apply", None)), nb.get(n["id"], ("does_not_apply", None))
            if os_ == ns:
                continue
            (gains if ns == "applies" else loses if os_ == "applies" else uncertain).append(
                {**shown(n), "old": os_, "new": ns})
            note(orule, nrule)
        for o in removed:
            os_, orule = ob.get(o["id"], ("does_not_apply", None))
            if os_ != "does_not_apply":
                (loses if os_ == "applies" else uncertain).append({**shown(o), "old": os_, "new": None,
                                                                   "removed": True})
                note(orule, None)
        for n in added:
            ns, nrule = nb.get(n["id"], ("does_not_apply", None))
            if ns != "does_not_apply":
                (gains if ns == "applies" else uncertain).append({**shown(n), "old": None, "new": ns, "added": True})
                note(None, nrule)
        if not (gains or loses or uncertain):
            unchanged += 1
            continue
        decided = []
        for _, (o_rule, n_rule) in rules:
            for d in deciding(o_rule, n_rule, cond_pairs):
                if d not in decided:
                    decided.append(d)
        who = next((profile[k] for k in NAME_KEYS if profile.get(k)), None)
        changed.append({"line": line, "name": who, "gains": gains, "loses": loses, "undetermined": uncertain,
                        "decided_by": decided, "summary": summary(gains, loses, uncertain, decided)})
    return {"document_id": doc_id, "as_of": as_of.isoformat(),
            "from": {k: versions[from_v].get(k) for k in ("version", "source_file", "effective_from")},
            "to": {k: versions[to_v].get(k) for k in ("version", "source_file", "effective_from")},
            "profiles": len(profiles), "changed": changed, "unchanged": unchanged}


KIND = {"incentive": "激励", "penalty": "惩戒", "other": "其他"}


def summary(gains: list, loses: list, uncertain: list, decided: list) -> str:
    parts = []
    for verb, items in (("新享有", gains), ("不再享有", loses), ("变为待定", uncertain)):
        by_kind: dict[str, int] = {}
        for m in items:
            by_kind[m["kind"]] = by_kind.get(m["kind"], 0) + 1
        for k, n in by_kind.items():
            w = verb
            if k == "penalty":
                w = {"新享有": "新适用", "不再享有": "不再适用"}.get(verb, verb)
            parts.append(f"{w} {n} 项{KIND.get(k, '')}措施")
    why = [f"{d['where']}：{d['new']['because']}" for d in decided if d.get("new") and d["new"]["status"] != "met"]
    return "；".join(parts) + (f"（{'；'.join(why[:3])}）" if why else "")
