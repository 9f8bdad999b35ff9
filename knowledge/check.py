"""check_profile(): validate a profile, read the KB read-only, evaluate — with an answer bounded by the number
of documents, not of their rules and conditions.

A document whose jurisdiction or scope excludes the enterprise is summarised: one does_not_apply result per kind,
the excluding condition cited (knowledge/evaluate.py excluded_results). So is a document nothing the profile
states can decide — every condition of its rules is answered only by the enterprise attesting the clause's own
words, and the profile attests none of them: one undetermined result per kind (undecided_results). Every other
document is evaluated rule by rule, as before; `full=True` (xinyi check --full) lists every rule of every
document.

What is read: the documents (no text), the versions in force on as_of, and per document an index of its rules
(knowledge/checkindex.py, built once per KB file state and kept on disk); the rows of a document are read only
when it is evaluated rule by rule. All of it is kept in-process per (file, as_of) while the file is unchanged.
"""
from __future__ import annotations

import gc
import json
import threading
from datetime import date
from pathlib import Path
from typing import Optional

from .checkindex import DocIndex, attested_keys, cached_index, profile_fields
from .db import connect_readonly
from .evaluate import (NOT_MET, condition_result, evaluate, evaluate_document, excluded_results,
                       jurisdiction_result, jurisdiction_verdict, measure_result, undecided_results)
from .profile import ProfileError, validate_profile  # noqa: F401 (ProfileError is part of this module's API)
from .queries import (cached_kb, condition_row, has_versions, kb_stamp, load_documents, measure_row, rule_row,
                      select, version_rows, versions_in_force)


def check_profile(db_path: str | Path, profile: dict, as_of: date, full: bool = False, serving: bool = False) -> dict:
    """`serving` (a long-lived process, POST /v1/check): read every document that may be evaluated when the KB
    is first loaded, and keep what is loaded out of the garbage collector's full passes (gc.freeze)."""
    profile = validate_profile(profile)
    if full:
        kb = cached_kb(db_path, as_of, clauses=False)  # each document as the version in force on as_of
        return {"as_of": as_of.isoformat(), "profile": profile, "results": evaluate(kb, profile, as_of)}
    return {"as_of": as_of.isoformat(), "profile": profile,
            "results": check_kb(db_path, as_of, serving).evaluate(profile, as_of)}


class CheckKB:
    """The documents of a KB file in force on `as_of`, the index of their rules, and the rows of the documents
    evaluated so far (read on demand, kept)."""

    def __init__(self, path: Path, as_of: Optional[date], stamp: Optional[tuple], serving: bool = False):
        self.path, self.serving = path, serving
        conn = connect_readonly(path)
        try:
            self.documents = load_documents(conn)
            self.versioned: dict[str, int] = {}  # document id → the version in force, when not the current one
            if as_of is not None and has_versions(conn):
                self.versioned = versions_in_force(conn, self.documents, as_of)
            self.index: dict[str, DocIndex] = cached_index(path, conn, stamp)
        finally:
            conn.close()
        self.rows: dict[str, tuple[list, list, dict]] = {}
        self.measured: dict[str, dict] = {}  # measure id → its measure_result
        self.plans: dict[Optional[str], list] = {}  # region → the plan for a profile attesting nothing
        self.grew = False
        self.lock = threading.Lock()
        self.summaries: dict[tuple, list] = {}  # (document, verdict) → its summary results, reused between calls
        self.fixed: dict[str, dict] = {}  # condition id → its result while none of its attestations is answered
        self.region_verdicts: dict[Optional[str], dict[str, dict]] = {}  # region → jurisdiction → verdict
        # what the loop reads of each document with rules (or at another version on as_of), in order
        self.order = [(doc_id, doc, self.index.get(doc_id), doc.get("jurisdiction"), doc_id in self.versioned)
                      for doc_id, doc in self.documents.items()
                      if doc_id in self.versioned or doc_id in self.index]
        self.serving = False
        if serving:
            self.serve()

    def serve(self) -> None:
        """For a long-lived process: every document that may be evaluated rule by rule read now rather than on
        a first call, and what is kept frozen out of full garbage collections (gc.freeze)."""
        self.doc_rows([d for d, _, idx, _, versioned in self.order if versioned or not idx.undecided])
        self.serving = self.grew = True

    def doc_rows(self, doc_ids: list[str]) -> None:
        """Read (once) the rules, scope conditions, conditions and measures of these documents."""
        with self.lock:
            missing = [d for d in doc_ids if d not in self.rows]
        if not missing:
            return
        conn = connect_readonly(self.path)
        got = {}
        try:
            path_of = "(SELECT path FROM clauses c WHERE c.id = t.clause_id) AS clause_path"
            for doc_id in missing:
                if doc_id in self.versioned:
                    parts = version_rows(conn, doc_id, self.versioned[doc_id])
                    rules, conds, measures = parts["rules"], parts["conditions"], parts["measures"]
                else:
                    rules = [rule_row(r) for r in select(
                        conn, "SELECT * FROM rules WHERE document_id = ? ORDER BY ord", [doc_id])]
                    conds = [condition_row(r, None) for r in select(
                        conn, f"SELECT t.*, {path_of} FROM conditions t WHERE document_id = ? ORDER BY ord",
                        [doc_id])]
                    measures = [measure_row(r, None) for r in select(
                        conn, f"SELECT t.*, {path_of} FROM measures t WHERE document_id = ? ORDER BY ord",
                        [doc_id])]
                kb = {"conditions": {c["id"]: c for c in conds}, "measures": {m["id"]: m for m in measures},
                      "keys": {c["id"]: attested_keys(c.get("predicate")) for c in conds}}
                fields: Optional[set] = set()
                for c in conds:
                    f = profile_fields(c.get("predicate"))
                    fields = None if f is None or fields is None else fields | f
                # the profile keys its results depend on (besides the region), or None: not kept
                kb["fields"] = sorted(fields, key=repr) if fields is not None else None
                kb["kept"] = {}
                got[doc_id] = (rules, [c for c in conds if c["role"] == "scope"], kb)
        finally:
            conn.close()
        with self.lock:
            self.rows.update(got)
            self.grew = True

    def evaluate(self, profile: dict, as_of: date) -> list[dict]:
        answered = {k for k, v in (profile.get("attested") or {}).items() if v is not None}
        region = profile.get("region")
        verdicts = self.verdicts_for(region)  # jurisdiction → verdict (evaluate.jurisdiction_result)
        plan = None if answered else self.plans.get(region)
        if plan is None:
            plan = self.plan(profile, region, answered, verdicts)
            if not answered:
                with self.lock:
                    if len(self.plans) >= 256:
                        self.plans.clear()
                    self.plans[region] = plan
                    self.grew = True
        results = []
        for doc, hit in plan:
            if hit is not None:
                results.extend(hit)
                continue
            rules, scope, kb = self.rows[doc["id"]]
            if rules:
                results.extend(self.document_results(doc, rules, scope, kb, profile, as_of, verdicts, answered))
        if self.grew and self.serving:
            self.grew = False
            gc.freeze()  # what was kept is long-lived: full collections need not walk it again
        return results

    def plan(self, profile: dict, region: Optional[str], answered: set, verdicts: dict) -> list:
        """(document, its summary results | None when it is evaluated rule by rule), in document order; the rows
        of the documents to evaluate are read."""
        plan = []  # (document, summary results | None: evaluate it)
        summaries = self.summaries
        for doc_id, doc, idx, jur, versioned in self.order:
            if versioned:
                plan.append((doc, None))
                continue
            verdict = None
            if jur:
                verdict = verdicts.get(jur)
                if verdict is None:
                    verdict = verdicts[jur] = jurisdiction_verdict(jur, region)
            excluded = verdict is not None and verdict["status"] == NOT_MET
            if excluded or (idx.undecided and not (idx.keys & answered)):
                key = (doc_id, verdict and verdict["status"], verdict and verdict["because"])
                hit = summaries.get(key)
                if hit is None:
                    jr = jurisdiction_result(doc, profile, verdicts)
                    hit = (excluded_results(doc, idx.kinds, jr) if excluded else
                           undecided_results(doc, idx.kinds, [jr] if jr else [], idx.conditions))
                    if len(self.summaries) > 100_000:
                        self.summaries.clear()
                    self.summaries[key] = hit
                plan.append((doc, hit))
                continue
            plan.append((doc, None))
        self.doc_rows([doc["id"] for doc, hit in plan if hit is None])
        return plan

    def document_results(self, doc: dict, rules: list, scope: list, kb: dict, profile: dict, as_of: date,
                         verdicts: dict, answered: set) -> list[dict]:
        """evaluate_document, kept per document for the values of the profile keys its conditions read (and
        the region's verdict): profiles alike in what the document asks get the same results."""
        key = None
        if kb["fields"] is not None:
            values = [(profile.get("attested") or {}).get(f[1]) if isinstance(f, tuple) else profile.get(f)
                      for f in kb["fields"]]
            jur = doc.get("jurisdiction")
            verdict = verdicts.get(jur) if jur else None
            try:
                key = (json.dumps(values, sort_keys=True, ensure_ascii=False, default=str),
                       verdict and verdict["because"], jur is not None and profile.get("region"))
            except (TypeError, ValueError):
                key = None
            hit = kb["kept"].get(key) if key is not None else None
            if hit is not None:
                return hit
        out = evaluate_document(doc, rules, scope, kb, profile, as_of, verdicts, summarise=True,
                                fixed=self.fixed_results(doc, kb, answered, as_of),
                                measured=self.measure_results(doc, kb))
        if key is not None:
            if len(kb["kept"]) > 512:
                kb["kept"].clear()
            kb["kept"][key] = out
            self.grew = True
        return out

    def measure_results(self, doc: dict, kb: dict) -> dict:
        out = self.measured
        for mid, m in kb["measures"].items():
            if mid not in out:
                out[mid] = measure_result(m, doc)
        return out

    def verdicts_for(self, region: Optional[str]) -> dict[str, dict]:
        """The jurisdiction verdicts of one region, kept for later calls (a few hundred regions at most)."""
        with self.lock:
            hit = self.region_verdicts.get(region)
            if hit is None:
                if len(self.region_verdicts) >= 256:
                    self.region_verdicts.clear()
                hit = self.region_verdicts[region] = {}
        return hit

    def fixed_results(self, doc: dict, kb: dict, answered: set, as_of: date) -> dict:
        """Results of this document's conditions that no profile fact changes (attestations not answered)."""
        out = {}
        for cid, keys in kb["keys"].items():
            if keys is None or keys & answered:
                continue
            hit = self.fixed.get(cid)
            if hit is None:
                hit = self.fixed[cid] = condition_result(kb["conditions"][cid], doc, {}, as_of)
            out[cid] = hit
        return out


_cache: dict[tuple, tuple[tuple, CheckKB]] = {}
_cache_lock = threading.Lock()
CACHE_SIZE = 4


def check_kb(path: str | Path, as_of: Optional[date], serving: bool = False) -> CheckKB:
    """The CheckKB of a file for `as_of`, reused while the file is unchanged (a re-ingest is seen next call)."""
    key = (Path(path).resolve(), as_of)
    try:
        stamp = kb_stamp(key[0])
    except OSError:
        stamp = None
    with _cache_lock:
        hit = _cache.get(key)
    if stamp is not None and hit and hit[0] == stamp:
        if serving and not hit[1].serving:
            hit[1].serve()
        return hit[1]
    ckb = CheckKB(key[0], as_of, stamp, serving)  # KBError for a missing or foreign file
    if stamp is not None:
        with _cache_lock:
            _cache.pop(key, None)
            _cache[key] = (stamp, ckb)
            while len(_cache) > CACHE_SIZE:
                _cache.pop(next(iter(_cache)))
    return ckb
