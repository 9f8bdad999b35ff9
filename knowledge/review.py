"""review(db) → what most needs a person's eye, worst first: documents with few findings (no measures; conditions
but no rules), stale corrections, measures without departments, conditions no pattern read (attestation-only).
Each item names its document, clause path and a one-line reason; `xinyi correct` is how a person answers it."""
from __future__ import annotations

from typing import Optional

import sqlite_utils

from nlp.predicates import attestation_only

from .corrections import list_corrections, where
from .queries import clause_paths, loads

# how much an item needs a person's eye (higher first)
SEVERITY = {"no_findings": 100, "no_measures": 90, "no_rules": 80, "stale_correction": 70, "few_measures": 50,
            "measure_without_rule": 40, "measure_without_departments": 30, "attestation_only": 20}
FEW_MEASURES = 2


def item(kind: str, doc: dict, path: Optional[list], reason: str, item_id: Optional[str] = None) -> dict:
    return {"severity": SEVERITY[kind], "kind": kind, "document_id": doc["id"], "source_file": doc["source_file"],
            "title": doc.get("title"), "path": path or [], "where": where(path) if path else "（全文）",
            "item_id": item_id, "reason": reason}


def review(db: sqlite_utils.Database) -> list[dict]:
    docs = {r["id"]: r for r in db["documents"].rows_where("retired_at IS NULL", order_by="source_file")}
    paths = clause_paths(db)
    out: list[dict] = []
    count = {t: {d: 0 for d in docs} for t in ("measures", "conditions", "rules")}
    for t in count:
        for doc_id, n in db.execute(f"SELECT document_id, count(*) FROM [{t}] GROUP BY document_id").fetchall():
            if doc_id in docs:
                count[t][doc_id] = n
    for doc_id, d in docs.items():
        m, c, r = (count[t][doc_id] for t in ("measures", "conditions", "rules"))
        if not m and not c:
            out.append(item("no_findings", d, None, "没有找到任何措施或条件：文本可能未被读懂或不是信用政策"))
        elif not m:
            out.append(item("no_measures", d, None, f"找到 {c} 项条件但没有措施，无法形成规则（文本可能不完整）"))
        elif c and not r:
            out.append(item("no_rules", d, None, f"有 {m} 项措施、{c} 项条件但没有规则，条件与措施未能关联"))
        elif m <= FEW_MEASURES:
            out.append(item("few_measures", d, None, f"只找到 {m} 项措施，可能有遗漏"))
    for corr in list_corrections(db):
        if corr["status"] == "stale" and not corr.get("retracted_at") and corr["document_id"] in docs:
            out.append(item("stale_correction", docs[corr["document_id"]], corr["clause_path"],
                            f"校正 #{corr['id']}（{corr['by']}）已失效：{corr.get('status_note') or '条款已改动'}",
                            f"correction:{corr['id']}"))
    in_rule = set()
    for row in db["rules"].rows_where(select="measure_ids"):
        in_rule.update(loads(row["measure_ids"], []))
    for row in db["measures"].rows_where(order_by="document_id, ord"):
        d = docs.get(row["document_id"])
        if d is None:
            continue
        p = paths.get(row["clause_id"], [])
        if row["kind"] in ("incentive", "penalty") and row["id"] not in in_rule and count["rules"][d["id"]]:
            out.append(item("measure_without_rule", d, p, f"措施不属于任何规则，不会出现在答复中：{row['text'][:30]}",
                            row["id"]))
        if not loads(row["departments"], []):
            out.append(item("measure_without_departments", d, p, f"措施没有实施部门：{row['text'][:30]}", row["id"]))
    for row in db["conditions"].rows_where(order_by="document_id, ord"):
        d = docs.get(row["document_id"])
        if d is None:
            continue
        if attestation_only(loads(row["predicate"])):
            out.append(item("attestation_only", d, paths.get(row["clause_id"], []),
                            f"条件未能解析为可判断的事实，只能由企业确认：{row['text'][:30]}", row["id"]))
    order = {doc_id: i for i, doc_id in enumerate(docs)}
    out.sort(key=lambda x: (-x["severity"], order.get(x["document_id"], 0)))
    return out


def lines(items: list[dict]) -> str:
    return "".join(f"[{x['kind']}] {x['document_id']} {x['where']}: {x['reason']}\n" for x in items)
