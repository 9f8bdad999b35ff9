"""What `check` knows about each document without reading its rows: its kinds of rules (how many, how many
measures, the first rule's id), and whether nothing a profile states can decide it — every rule has conditions
and every condition (its rules' and its scope's) is answered only by the enterprise's attestation of the
clause's own words ({"attested": KEY}), or not at all (no predicate). Such a document, for a profile that
attests none of its keys, is undetermined rule by rule whatever else the profile says, so check summarises it
without evaluating it; so is a document whose place excludes the enterprise (the kinds are all it needs).

The index is built from the plain tables (the current versions) once per KB file state: kept in-process and
pickled in the cache folder (nlp.pipeline.cache_dir), keyed by the file's path and stamp (mtime, size, SQLite
change counter), so a cold `xinyi check` reads it instead of every rule and condition.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional


@dataclass
class DocIndex:
    kinds: dict[str, dict] = field(default_factory=dict)   # kind → {"rules", "measures", "first"} in rule order
    undecided: bool = True      # no profile fact can decide any of its rules (see the module doc)
    keys: frozenset = frozenset()   # the attestation keys its conditions are answered by
    conditions: int = 0         # how many conditions its rules and scope hold


def attested_keys(node) -> Optional[set]:
    """The attestation keys of a predicate made only of attestations (or of nothing the profile can answer:
    None, unparsed) through all / any / not; None when a fact, an industry or an event is read."""
    if node is None:
        return set()
    if not isinstance(node, dict):
        return None
    if "attested" in node:
        return {node["attested"]}
    if "unparsed" in node:
        return set()
    if "all" in node or "any" in node:
        out: set = set()
        for child in node.get("all") or node.get("any") or []:
            keys = attested_keys(child)
            if keys is None:
                return None
            out |= keys
        return out
    if "not" in node:
        return attested_keys(node["not"])
    return None


def profile_fields(node) -> Optional[set]:
    """The profile keys a predicate reads (attestations as ("attested", KEY)); None when it cannot be told."""
    if node is None or not isinstance(node, dict):
        return set()
    if "all" in node or "any" in node:
        out: set = set()
        for child in node.get("all") or node.get("any") or []:
            sub = profile_fields(child)
            if sub is None:
                return None
            out |= sub
        return out
    if "not" in node:
        return profile_fields(node["not"])
    if "fact" in node:
        return {node["fact"]}
    if "industry_any" in node:
        return {"industries"}
    if "event" in node:
        return {"events", "stated_events", "absent_events"}
    if "attested" in node:
        return {("attested", node["attested"])}
    if "unparsed" in node:
        return set()
    return None


def build_index(conn: sqlite3.Connection) -> dict[str, DocIndex]:
    measures = {r[0] for r in conn.execute("SELECT id FROM measures")}
    conds: dict[str, tuple[str, str, Optional[set]]] = {}
    scope: dict[str, list[str]] = {}
    for cid, doc_id, role, predicate in conn.execute("SELECT id, document_id, role, predicate FROM conditions"):
        conds[cid] = (doc_id, role, attested_keys(json.loads(predicate) if predicate else None))
        if role == "scope":
            scope.setdefault(doc_id, []).append(cid)
    out: dict[str, DocIndex] = {}
    for rid, doc_id, kind, cids, mids in conn.execute(
            "SELECT id, document_id, kind, condition_ids, measure_ids FROM rules ORDER BY document_id, ord"):
        idx = out.setdefault(doc_id, DocIndex())
        k = idx.kinds.setdefault(kind, {"rules": 0, "measure_ids": set(), "first": rid})
        k["rules"] += 1
        k["measure_ids"] |= {m for m in json.loads(mids or "[]") if m in measures}
        present = [c for c in json.loads(cids or "[]") if c in conds]
        if not present:
            idx.undecided = False  # a rule without conditions is decided by its gates alone
        for c in present:
            idx.conditions += 1
            keys = conds[c][2]
            if keys is None:
                idx.undecided = False
            else:
                idx.keys = idx.keys | keys
    for doc_id, idx in out.items():
        for c in scope.get(doc_id, []):
            idx.conditions += 1
            keys = conds[c][2]
            if keys is None:
                idx.undecided = False
            else:
                idx.keys = idx.keys | keys
        for k in idx.kinds.values():
            k["measures"] = len(k.pop("measure_ids"))
    return out


_cache: dict[Path, tuple[tuple, dict]] = {}
_lock = threading.Lock()


def cached_index(path: Path, conn: sqlite3.Connection, stamp: Optional[tuple]) -> dict[str, DocIndex]:
    """build_index for the KB file at `path` in the state `stamp` (queries.kb_stamp): from memory, else from the
    pickle in the cache folder, else built (and pickled)."""
    with _lock:
        hit = _cache.get(path)
    if stamp is not None and hit and hit[0] == stamp:
        return hit[1]
    file = None
    if stamp is not None:
        from nlp.pipeline import cache_dir
        key = hashlib.sha1(repr((str(path), stamp)).encode()).hexdigest()[:20]
        file = cache_dir() / f"check-index-{key}.pickle"
        try:
            with open(file, "rb") as fh:
                index = pickle.load(fh)
        except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, ValueError):
            index = None
        if index is not None:
            with _lock:
                _cache[path] = (stamp, index)
            return index
    index = build_index(conn)
    if file is not None:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            for old in file.parent.glob(f"check-index-*.pickle"):  # one state per folder is plenty: drop others
                if old != file and old.stat().st_mtime < _now() - 3600:
                    old.unlink(missing_ok=True)
            tmp = file.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                pickle.dump(index, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, file)
        except OSError:
            pass
        with _lock:
            _cache[path] = (stamp, index)
    return index


def _now() -> float:
    import time
    return time.time()
