"""Staff corrections that survive re-extraction and re-ingest.

A correction is kept in its own table (`corrections`), apart from what the extractor found, and names the clause it
is about by the clause's content (its wording without its label, hashed: `clause_key`) as well as by the path it
had, so a renumbered clause still takes it. After every version is written (knowledge/store.py) the document's
corrections are applied to that version's rows — and to the plain tables when it is the current one — in the same
transaction; a correction whose clause (or measure / condition) is no longer there is not applied and is marked
**stale**, with the reason.

Actions:
  drop_measure    a false measure on the clause (`target`: its wording, when the clause has more than one)
  add_measure     a measure the extractor missed (value: text, kind, departments); it joins the rule(s) holding
                  the other measures of its kind in the same article
  set_measure     a measure's departments and/or kind
  set_condition   a condition's role, predicate, or attestation wording (predicate {"attested": key, "text": …})

A measure or condition changed or added by a correction carries `corrected` = {"id", "by", "at", "why"} in its
row (so export, answers and Datasette show it).
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Iterable, Optional

import sqlite_utils

from .db import now

ACTIONS = ("drop_measure", "add_measure", "set_measure", "set_condition")
KINDS = ("incentive", "penalty", "other")
ROLES = ("incentive_eligibility", "penalty_trigger", "scope", "other")
PREDICATE_KEYS = ("all", "any", "not", "fact", "industry_any", "event", "attested")
ADDED_ORD = 100000      # added measures sort after the extracted ones


class CorrectionError(ValueError):
    """A correction that cannot be recorded, said in one line."""


def dumps(v) -> str:
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


def loads(v, default=None):
    return json.loads(v) if v else default


def clause_body(clause: dict) -> str:
    from .diff import body
    return body(clause)


def clause_key(clause: dict) -> str:
    """The clause's content key: its wording without label and spacing, hashed (the same after renumbering)."""
    return hashlib.sha1(clause_body(clause).encode("utf-8")).hexdigest()[:16]


def where(path: list) -> str:
    from .diff import where as w
    return w({"path": path})


def compact(text: Optional[str]) -> str:
    return re.sub(r"[\s。；;，,]", "", text or "")


# ---- reading a document version --------------------------------------------------------------

class Side:
    """The rows of one document version: the version_* tables, or the plain tables (the current version)."""

    def __init__(self, db: sqlite_utils.Database, doc_id: str, version: Optional[int]):
        self.db, self.doc_id, self.version = db, doc_id, version
        self.live = version is None

    def table(self, name: str) -> str:
        return name if self.live else f"version_{name}"

    def where(self) -> tuple[str, list]:
        return ("document_id = ?", [self.doc_id]) if self.live else \
            ("document_id = ? AND version = ?", [self.doc_id, self.version])

    def rows(self, name: str) -> list[dict]:
        w, args = self.where()
        return list(self.db[self.table(name)].rows_where(w, args, order_by="ord"))

    def update(self, name: str, row_id: str, values: dict) -> None:
        w, args = self.where()
        sets = ", ".join(f"[{k}] = ?" for k in values)
        self.db.execute(f"UPDATE [{self.table(name)}] SET {sets} WHERE {w} AND id = ?", [*values.values(), *args, row_id])

    def delete(self, name: str, row_id: str) -> None:
        w, args = self.where()
        self.db.execute(f"DELETE FROM [{self.table(name)}] WHERE {w} AND id = ?", [*args, row_id])


def articles_of(path: list) -> Optional[str]:
    from .diff import DIVISION
    rest = [p for p in path if not DIVISION.match(str(p))]
    return rest[0] if rest else None


# ---- applying ---------------------------------------------------------------------------------

def stamp(corr: dict) -> str:
    return dumps({"id": corr["id"], "by": corr["by"], "at": corr["at"], "why": corr["why"]})


def pick(items: list[dict], target: Optional[str]) -> tuple[Optional[dict], Optional[str]]:
    """The measure or condition a correction means among a clause's: its exact wording, else the one containing
    the wording, else the only one."""
    if target:
        t = compact(target)
        exact = [i for i in items if compact(i["text"]) == t]
        if exact:
            return exact[0], None
        part = [i for i in items if t in compact(i["text"])]
        if len(part) == 1:
            return part[0], None
        if part:
            return None, f"“{target[:20]}”在条款中不止一处"
        return None, f"条款中已没有“{target[:20]}”"
    if len(items) == 1:
        return items[0], None
    return None, "条款中没有可校正的项" if not items else f"条款中有 {len(items)} 项，需写明是哪一项"


def apply_one(db: sqlite_utils.Database, side: Side, corr: dict, clause: dict, state: dict) -> tuple[str, Optional[str]]:
    """Apply `corr` to one side (version); returns (status, note). Idempotent."""
    from .store import canonicals
    value = loads(corr["value"], {})
    action = corr["action"]
    if action in ("drop_measure", "set_measure"):
        items = [m for m in state["measures"] if m["clause_id"] == clause["id"]]
        m, why_not = pick(items, corr.get("target"))
        if m is None and action == "drop_measure" and (not items or corr.get("target") and not any(
                compact(corr["target"]) in compact(i["text"]) for i in items)):
            return "applied", None  # the clause is unchanged and the measure is not there: dropped already
        if m is None:
            return "stale", why_not
        if action == "drop_measure":
            side.delete("measures", m["id"])
            state["measures"] = [x for x in state["measures"] if x["id"] != m["id"]]
            for r in state["rules"]:
                ids = loads(r["measure_ids"], [])
                if m["id"] in ids:
                    ids = [x for x in ids if x != m["id"]]
                    if ids:
                        r["measure_ids"] = json.dumps(ids, ensure_ascii=False)
                        side.update("rules", r["id"], {"measure_ids": r["measure_ids"]})
                    else:
                        side.delete("rules", r["id"])
                        r["_gone"] = True
            state["rules"] = [r for r in state["rules"] if not r.get("_gone")]
            if side.live:
                db.execute("DELETE FROM measure_departments WHERE measure_id = ?", [m["id"]])
            return "applied", None
        values = {"corrected": stamp(corr)}
        if "kind" in value:
            values["kind"] = value["kind"]
        if "departments" in value:
            values["departments"] = json.dumps(value["departments"], ensure_ascii=False)
            values["department_ids"] = json.dumps(canonicals(value["departments"]), ensure_ascii=False)
        side.update("measures", m["id"], values)
        m.update(values)
        if side.live and "departments" in value:
            set_departments(db, m["id"], side.doc_id, value["departments"])
        return "applied", None
    if action == "add_measure":
        text = value["text"]
        same = [m for m in state["measures"] if m["clause_id"] == clause["id"] and compact(m["text"]) == compact(text)
                and not m.get("corrected")]
        if same:
            return "obsolete", "抽取已能识别这项措施，校正不再需要"
        mid = f"{side.doc_id}-mx{corr['id']:03d}"
        deps = value.get("departments") or []
        row = {"id": mid, "document_id": side.doc_id, "clause_id": clause["id"], "ord": ADDED_ORD + corr["id"],
               "kind": value.get("kind") or "other", "text": text, "departments": json.dumps(deps, ensure_ascii=False),
               "department_ids": json.dumps(canonicals(deps), ensure_ascii=False), "corrected": stamp(corr)}
        if not side.live:
            row["version"] = side.version
        db[side.table("measures")].insert(row, replace=True)
        state["measures"] = [m for m in state["measures"] if m["id"] != mid] + [row]
        if side.live:
            set_departments(db, mid, side.doc_id, deps)
        for r in rules_for(state, clause, row["kind"]):
            ids = loads(r["measure_ids"], [])
            if mid not in ids:
                r["measure_ids"] = json.dumps([*ids, mid], ensure_ascii=False)
                side.update("rules", r["id"], {"measure_ids": r["measure_ids"]})
        return "applied", None
    if action == "set_condition":
        items = [c for c in state["conditions"] if c["clause_id"] == clause["id"]]
        c, why_not = pick(items, corr.get("target"))
        if c is None:
            return "stale", why_not
        values = {"corrected": stamp(corr)}
        if "role" in value:
            values["role"] = value["role"]
        if "predicate" in value:
            values["predicate"] = json.dumps(value["predicate"], ensure_ascii=False)
        if "attestation" in value:
            from nlp.predicates import attestation
            values["predicate"] = json.dumps(attestation(value["attestation"]), ensure_ascii=False)
        side.update("conditions", c["id"], values)
        c.update(values)
        return "applied", None
    return "stale", f"未知的校正类型 {action}"


def rules_for(state: dict, clause: dict, kind: str) -> list[dict]:
    """The rules an added measure joins: those holding measures of its kind in the same article, else the only
    rule of that kind in the document."""
    paths = {c["id"]: loads(c["path"], []) for c in state["clauses"]}
    art = articles_of(loads(clause["path"], []))
    kin = {m["id"] for m in state["measures"] if m["kind"] == kind and art is not None
           and articles_of(paths.get(m["clause_id"], [])) == art}
    near = [r for r in state["rules"] if kin & set(loads(r["measure_ids"], []))]
    if near:
        return near
    same_kind = [r for r in state["rules"] if r["kind"] == kind]
    return same_kind if len(same_kind) == 1 else []


def set_departments(db: sqlite_utils.Database, measure_id: str, doc_id: str, names: list[str]) -> None:
    from .store import canonicals
    db.execute("DELETE FROM measure_departments WHERE measure_id = ?", [measure_id])
    if names:
        db["measure_departments"].insert_all([{"measure_id": measure_id, "document_id": doc_id, "name": n,
                                               "canonical": c} for n, c in zip(names, canonicals(names))])


def stale_reason(corr: dict, clauses: list[dict]) -> str:
    """Why a correction's clause is not found: changed (a clause at its path, or one much like it) or gone."""
    from rapidfuzz import fuzz
    path = loads(corr["clause_path"], [])
    old = corr.get("clause_text") or ""
    old_body = clause_body({"text": old, "label": path[-1] if path else ""})
    for c in clauses:
        if loads(c["path"], []) == path:
            return f"{where(path)} 条款内容已改动：{c['text'][:40]}"
    best = max(clauses, key=lambda c: fuzz.ratio(clause_body(c), old_body), default=None)
    if best is not None and fuzz.ratio(clause_body(best), old_body) >= 70:
        return f"{where(path)} 条款内容已改动（现为{where(loads(best['path'], []))}）"
    return f"{where(path)} 条款已删去"


def apply_corrections(db: sqlite_utils.Database, doc_id: str, version: int, live: bool, current: bool) -> list[dict]:
    """Apply the document's corrections to `version` (version_* rows, and the plain tables when `live`); when it is
    the `current` version, record each correction's status. Called by store.py inside its transaction."""
    if "corrections" not in db.table_names():
        return []
    corrs = list(db["corrections"].rows_where("document_id = ? AND retracted_at IS NULL", [doc_id], order_by="id"))
    if not corrs:
        return []
    sides = [Side(db, doc_id, version)] + ([Side(db, doc_id, None)] if live else [])
    states = [{t: s.rows(t) for t in ("clauses", "measures", "conditions", "rules")} for s in sides]
    by_key = {clause_key(c): c for c in states[0]["clauses"]}
    report = []
    for corr in corrs:
        clause = by_key.get(corr["clause_key"])
        if clause is None:
            status, note, path = "stale", stale_reason(corr, states[0]["clauses"]), None
        else:
            path = loads(clause["path"], [])
            status, note = "applied", None
            for side, state in zip(sides, states):
                live_clause = next((c for c in state["clauses"] if clause_key(c) == corr["clause_key"]), clause)
                status, note = apply_one(db, side, corr, live_clause, state)
            if status == "applied" and path != loads(corr["clause_path"], []):
                note = f"条款已改号：{where(loads(corr['clause_path'], []))} → {where(path)}"
        report.append({"id": corr["id"], "status": status, "note": note})
        if current:
            db.execute("UPDATE corrections SET status = ?, status_note = ?, status_version = ?, status_path = ? "
                       "WHERE id = ?", [status, note, version, dumps(path) if path is not None else None, corr["id"]])
    return report


def reapply(db: sqlite_utils.Database, doc_id: str) -> None:
    """Apply a document's corrections to every stored version (after a correction is recorded)."""
    doc = db["documents"].get(doc_id)
    for (v,) in db.execute("SELECT version FROM document_versions WHERE document_id = ? AND extractor IS NOT NULL "
                           "ORDER BY version", [doc_id]).fetchall():
        current = v == doc["version"]
        apply_corrections(db, doc_id, v, live=current and not doc.get("retired_at"), current=current)


# ---- recording --------------------------------------------------------------------------------

def find_clause(db: sqlite_utils.Database, doc_id: str, clause: Optional[str], item: Optional[str]) -> tuple[dict, Optional[str]]:
    """The current clause named by path (第五条（二）, 第五条/（二）), clause id, or a measure / condition id; with an
    item id, also that item's wording."""
    clauses = list(db["version_clauses"].rows_where(
        "document_id = ? AND version = (SELECT version FROM documents WHERE id = ?)", [doc_id, doc_id], order_by="ord"))
    if item:
        for table in ("version_measures", "version_conditions"):
            rows = list(db[table].rows_where(
                "document_id = ? AND id = ? AND version = (SELECT version FROM documents WHERE id = ?)",
                [doc_id, item, doc_id]))
            if rows:
                c = next(c for c in clauses if c["id"] == rows[0]["clause_id"])
                return c, rows[0]["text"]
        raise CorrectionError(f"{doc_id}: no measure or condition with id {item!r}")
    if not clause:
        raise CorrectionError("say which clause: --clause 第五条（二） (or --item MEASURE_OR_CONDITION_ID)")
    want = re.sub(r"[\s/>]", "", clause)
    for c in clauses:
        p = loads(c["path"], [])
        if c["id"] == clause or "".join(map(str, p)) == want or where(p) == want:
            return c, None
    raise CorrectionError(f"{doc_id}: no clause {clause!r} in the current version")


def normalise(spec: dict) -> tuple[str, Optional[str], dict]:
    """(action, target, value) from a correction's fields (command options or a corrections file entry)."""
    value: dict[str, Any] = {}
    kind, deps = spec.get("kind"), spec.get("departments")
    if isinstance(deps, str):
        deps = [d for d in re.split(r"[,，、;；]", deps) if d.strip()]
    if kind is not None and kind not in KINDS:
        raise CorrectionError(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    role = spec.get("role")
    if role is not None and role not in ROLES:
        raise CorrectionError(f"role: expected one of {', '.join(ROLES)}, got {role!r}")
    pred = spec.get("predicate")
    if isinstance(pred, str):
        try:
            pred = json.loads(pred)
        except json.JSONDecodeError as exc:
            raise CorrectionError(f"predicate: not valid JSON ({exc})") from None
    if pred is not None:
        check_predicate(pred)
    if spec.get("drop_measure"):
        return "drop_measure", spec.get("measure"), value
    if spec.get("add_measure"):
        value = {"text": str(spec["add_measure"]).strip(), "kind": kind or "other", "departments": deps or []}
        return "add_measure", None, value
    if role or pred is not None or spec.get("attestation"):
        if role:
            value["role"] = role
        if pred is not None:
            value["predicate"] = pred
        if spec.get("attestation"):
            value["attestation"] = str(spec["attestation"]).strip()
        return "set_condition", spec.get("condition"), value
    if kind or deps is not None:
        if kind:
            value["kind"] = kind
        if deps is not None:
            value["departments"] = deps
        return "set_measure", spec.get("measure"), value
    raise CorrectionError("nothing to correct: say drop_measure, add_measure, kind / departments, or role / "
                          "predicate / attestation")


def check_predicate(pred: Any) -> None:
    """A predicate must be one evaluation reads: a dict of the known node kinds, all the way down."""
    from datetime import date
    from .evaluate import evaluate_predicate
    if not isinstance(pred, dict) or not any(k in pred for k in PREDICATE_KEYS):
        raise CorrectionError(f"predicate: expected an object with one of {', '.join(PREDICATE_KEYS)}")
    try:
        status, because = evaluate_predicate(pred, {}, date(2000, 1, 1))
    except Exception as exc:  # noqa: BLE001 — any failure means evaluation cannot read it
        raise CorrectionError(f"predicate: evaluation cannot read it ({type(exc).__name__}: {exc})") from None
    if because == "未知的条件类型":
        raise CorrectionError("predicate: a node of an unknown kind")


def record(db: sqlite_utils.Database, doc_id: str, spec: dict, by: Optional[str], why: Optional[str],
           at: Optional[str] = None, source: str = "cli", apply: bool = True) -> dict:
    """Record one correction (an identical one already recorded is not added twice) and apply it."""
    if not by or not str(by).strip():
        raise CorrectionError("by: say who makes the correction (--by)")
    if not why or not str(why).strip():
        raise CorrectionError("why: say why (--why)")
    doc = list(db["documents"].rows_where("id = ?", [doc_id]))
    if not doc:
        raise CorrectionError(f"no document with id {doc_id!r} in the knowledge base")
    action, target, value = normalise(spec)
    clause, item_text = find_clause(db, doc_id, spec.get("clause"), spec.get("item"))
    target = target or item_text
    if action in ("drop_measure", "set_measure", "set_condition"):
        table = "version_conditions" if action == "set_condition" else "version_measures"
        items = list(db[table].rows_where("document_id = ? AND version = ? AND clause_id = ?",
                                          [doc_id, doc[0]["version"], clause["id"]]))
        found, why_not = pick(items, target)
        if found is None:
            raise CorrectionError(f"{where(loads(clause['path'], []))}: {why_not}")
        target = found["text"]
    key = clause_key(clause)
    identity = hashlib.sha1(dumps([doc_id, key, action, compact(target), value]).encode()).hexdigest()[:16]
    existing = list(db["corrections"].rows_where("identity = ? AND retracted_at IS NULL", [identity]))
    if existing:
        return {**public(existing[0]), "recorded": False}
    with db.atomic():
        corr_id = db["corrections"].insert({
            "identity": identity, "document_id": doc_id, "action": action, "clause_key": key,
            "clause_path": dumps(loads(clause["path"], [])), "clause_text": clause["text"], "target": target,
            "value": dumps(value), "by": str(by).strip(), "at": at or now(), "why": str(why).strip(),
            "source": source, "status": "pending"}).last_pk
        if apply:
            reapply(db, doc_id)
    row = db["corrections"].get(corr_id)
    return {**public(row), "recorded": True}


def load_file(path: Path) -> list[dict]:
    """A reviewed corrections file: YAML, a list of entries or {corrections: [...]} with optional top-level by."""
    import yaml
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise CorrectionError(f"{path}: no such file") from None
    except yaml.YAMLError as exc:
        raise CorrectionError(f"{path}: not valid YAML ({exc})") from None
    defaults = {}
    if isinstance(data, dict):
        defaults = {k: v for k, v in data.items() if k in ("by", "why", "document", "at")}
        data = data.get("corrections")
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise CorrectionError(f"{path}: expected a list of corrections (or corrections: [...])")
    return [{**defaults, **e} for e in data]


def apply_file(db: sqlite_utils.Database, path: Path) -> dict:
    """Record every entry of a corrections file; an entry that cannot be recorded is reported with its number."""
    out, errors = [], []
    for n, entry in enumerate(load_file(path), 1):
        doc_id = entry.get("document")
        try:
            if not doc_id:
                raise CorrectionError("document: say which document id")
            at = entry.get("at")
            out.append(record(db, str(doc_id), entry, entry.get("by"), entry.get("why"),
                              str(at) if at is not None else None, source=path.name))
        except CorrectionError as exc:
            errors.append({"entry": n, "error": str(exc)})
    return {"file": str(path), "corrections": out, "errors": errors}


def public(row: dict) -> dict:
    out = {k: row.get(k) for k in ("id", "document_id", "action", "target", "by", "at", "why", "source", "status",
                                   "status_note", "status_version")}
    out["value"] = loads(row.get("value"), {})
    out["clause_path"] = loads(row.get("clause_path"), [])
    out["where"] = where(out["clause_path"])
    out["now_at"] = where(loads(row["status_path"], [])) if row.get("status_path") else None
    if row.get("retracted_at"):
        out["retracted_at"] = row["retracted_at"]
    return out


def list_corrections(db: sqlite_utils.Database, doc_id: Optional[str] = None) -> list[dict]:
    if "corrections" not in db.table_names():
        return []
    w, args = ("document_id = ?", [doc_id]) if doc_id else (None, None)
    return [public(r) for r in db["corrections"].rows_where(w, args, order_by="id")]


def describe(c: dict) -> str:
    v = c["value"]
    what = {"drop_measure": f"删去措施“{(c.get('target') or '')[:24]}”",
            "add_measure": f"补充措施“{v.get('text', '')[:24]}”",
            "set_measure": "措施“{}”{}".format((c.get("target") or "")[:20], "；".join(
                x for x in ((f"类别改为{v['kind']}" if "kind" in v else ""),
                            (f"实施部门改为{'、'.join(v['departments']) or '无'}" if "departments" in v else "")) if x)),
            "set_condition": "条件“{}”{}".format((c.get("target") or "")[:20], "；".join(
                x for x in ((f"角色改为{v['role']}" if "role" in v else ""),
                            ("判断条件改为 " + json.dumps(v["predicate"], ensure_ascii=False)[:60] if "predicate" in v else ""),
                            (f"改为由企业确认：{v['attestation'][:24]}" if "attestation" in v else "")) if x))}
    return what.get(c["action"], c["action"])


def lines(rows: Iterable[dict]) -> str:
    out = []
    for c in rows:
        status = "retracted" if c.get("retracted_at") else c["status"]
        note = f" — {c['status_note']}" if c.get("status_note") else ""
        out.append(f"#{c['id']} [{status}] {c['document_id']} {c['where']}: {describe(c)} "
                   f"（{c['by']}，{c['at']}：{c['why']}）{note}")
    return "\n".join(out) + ("\n" if out else "")
