"""Batch matching: every rule of every document in force, for every enterprise, compiled to one DuckDB query.

The typed predicates (nlp/predicates.py) compile to SQL expressions in which SQL NULL is *unknown*: SQL's
AND / OR / NOT on NULL are Kleene's, the same three-valued logic as knowledge/evaluate.py, which stays the
reference (tests/test_match.py compares the two on every profile of a sample). Windows are constants computed
from as_of in Python (evaluate.years_before), so the query only compares dates.

Judgements that need the vocabulary — is a region inside a jurisdiction, is an industry one of a rule's, does a
denial cover an event type, is an authority the rule's department — are made by the reference functions once
per *distinct value* found in the profiles, and joined in as lookup tables: a million enterprises in a few
hundred regions cost a few hundred gazetteer lookups.

Profiles arrive as a table with one column per declared fact (nlp/data/profile_schema.json), `industries` a
list, `events` / `stated_events` lists of event structs (NULL: history unknown), `attested` a map, and
`absent_events` a JSON text — see profile_arrow_schema().
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from nlp.predicates import grammar
from nlp.profile_schema import event_fields, facts

from . import evaluate as ev

class MatchError(ValueError):
    """Input the matcher cannot read: the message names the file or column."""


STATUS_NAMES = {2: "applies", 1: "undetermined", 0: "does_not_apply"}
NO_DEPARTMENT = "未写明实施部门"


# ---- the profile table ------------------------------------------------------------------------

def arrow_type(decl: dict):
    import pyarrow as pa
    kind = decl["type"]
    if kind == "choice":
        return pa.int64() if all(isinstance(c, int) for c in decl["choices"]) else pa.string()
    return {"string": pa.string(), "count": pa.int64(), "boolean": pa.bool_(), "date": pa.date32(),
            "string_list": pa.list_(pa.string()), "attestations": pa.map_(pa.string(), pa.bool_())}[kind]


def event_struct():
    import pyarrow as pa
    return pa.struct([("type", pa.string()), *((k, arrow_type(d)) for k, d in event_fields().items())])


def profile_arrow_schema():
    """Key, then every declared fact; events as lists of structs; denials as JSON text."""
    import pyarrow as pa
    cols = [("key", pa.string())]
    for name, decl in facts().items():
        if decl["type"] == "events":
            cols.append((name, pa.list_(event_struct())))
        else:
            cols.append((name, arrow_type(decl)))
    cols += [("stated_events", pa.list_(event_struct())), ("absent_events", pa.string())]
    return pa.schema(cols)


def as_day(value: Any) -> Optional[date]:
    return ev.parse_day(value)


def event_row(e: dict) -> dict:
    out = {"type": e.get("type")}
    for k, decl in event_fields().items():
        v = e.get(k)
        out[k] = as_day(v) if decl["type"] == "date" else v
    return out


def profile_row(key: str, profile: dict) -> dict:
    """A validated contract profile as one row of profile_arrow_schema()."""
    row: dict[str, Any] = {"key": key}
    for name, decl in facts().items():
        v = profile.get(name)
        if decl["type"] == "events":
            row[name] = None if v is None else [event_row(e) for e in v]
        elif decl["type"] == "attestations":
            row[name] = None if v is None else list(v.items())
        elif decl["type"] == "date":
            row[name] = as_day(v)
        else:
            row[name] = v
    stated = profile.get("stated_events")
    row["stated_events"] = None if stated is None else [event_row(e) for e in stated]
    absent = profile.get("absent_events")
    row["absent_events"] = json.dumps(absent, ensure_ascii=False, sort_keys=True) if absent else None
    return row


def profiles_table(rows: Iterable[tuple[str, dict]], batch: int = 50_000):
    """(key, profile) pairs → an Arrow table, built in batches so memory stays flat."""
    import pyarrow as pa
    schema = profile_arrow_schema()
    batches, pending = [], []
    for key, profile in rows:
        pending.append(profile_row(key, profile))
        if len(pending) >= batch:
            batches.append(pa.RecordBatch.from_pylist(pending, schema=schema))
            pending = []
    if pending or not batches:
        batches.append(pa.RecordBatch.from_pylist(pending, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


def profile_key(profile: dict, line: int) -> str:
    return str(profile.get("credit_code") or profile.get("name") or f"line-{line}")


def jsonl_profiles(path: Path, refused: Callable[[int, str], None]) -> Iterator[tuple[str, dict]]:
    """Each valid line of a JSONL file of profiles; a bad line goes to `refused(line_number, reason)`."""
    from .profile import ProfileError, validate_profile
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                profile = validate_profile(json.loads(line))
            except (json.JSONDecodeError, ProfileError) as exc:
                refused(n, str(exc))
                continue
            yield profile_key(profile, n), profile


# ---- compiling predicates ---------------------------------------------------------------------

def sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


UNKNOWN_SQL = "CAST(NULL AS BOOLEAN)"
SQL_OPS = {"==": "=", "!=": "<>", "<=": "<=", ">=": ">=", "<": "<", ">": ">"}


@dataclass
class Lookup:
    """A judgement made by the reference evaluator once per distinct value of `source` (a SQL expression)."""
    name: str
    source: str                       # SQL over the profiles (p) or events (x) giving the distinct values
    decide: Callable[[Any], Optional[bool]]


@dataclass
class Plan:
    as_of: date
    condition_sql: dict[str, str] = field(default_factory=dict)    # column → SQL over p and the aggregates
    event_nodes: list[dict] = field(default_factory=list)          # each: name, match_sql, need, repairable
    profile_lookups: list[Lookup] = field(default_factory=list)    # joined on a profile column value
    event_lookups: list[Lookup] = field(default_factory=list)      # joined on an event field value
    rules: list[dict] = field(default_factory=list)                # each: column, rule, doc, columns of its conditions


def status_of(verdict: str) -> Optional[bool]:
    return {ev.MET: True, ev.NOT_MET: False}.get(verdict)


class Compiler:
    def __init__(self, as_of: date):
        self.plan = Plan(as_of)
        self.nodes: dict[str, str] = {}

    def lookup_column(self, lookups: list[Lookup], source: str, decide: Callable, key: str) -> str:
        name = f"l{len(self.plan.profile_lookups) + len(self.plan.event_lookups)}"
        if key in self.nodes:
            return self.nodes[key]
        lookups.append(Lookup(name, source, decide))
        self.nodes[key] = name
        return name

    # -- profile-level predicates
    def predicate(self, node: Optional[dict]) -> str:
        if node is None:
            return UNKNOWN_SQL
        if "all" in node or "any" in node:
            parts = [self.predicate(n) for n in node.get("all") or node.get("any")]
            if "all" in node:
                return "(" + " AND ".join(parts) + ")" if parts else "TRUE"
            return "(" + " OR ".join(parts) + ")" if parts else UNKNOWN_SQL
        if "not" in node:
            return f"(NOT {self.predicate(node['not'])})"
        if "fact" in node:
            return self.fact(node)
        if "industry_any" in node:
            terms = list(node["industry_any"])

            def decide(industries, terms=terms):
                return status_of(ev.eval_industry({"industry_any": terms}, {"industries": list(industries)})[0])
            name = self.lookup_column(self.plan.profile_lookups, "industries", decide,
                                      "industry:" + json.dumps(terms, ensure_ascii=False))
            return f"{name}.v"
        if "event" in node:
            return self.event(node)
        if "attested" in node:
            return f"p.attested[{sql_literal(node['attested'])}]"
        return UNKNOWN_SQL

    def fact(self, node: dict) -> str:
        name, op, want = node["fact"], node.get("op", "=="), node.get("value")
        decl = facts().get(name)
        if decl is None or decl["type"] in ("events", "attestations", "string_list") or op not in SQL_OPS:
            return UNKNOWN_SQL
        if want is None or (isinstance(want, bool) != (decl["type"] == "boolean")):
            # the reference compares Python values: a value of another type never matches a typed column
            return f"CASE WHEN p.{name} IS NULL THEN {UNKNOWN_SQL} ELSE {sql_literal(op == '!=')} END"
        return f"(p.{name} {SQL_OPS[op]} {sql_literal(want)})"

    # -- events
    def field_match(self, field_name: str, want: Any) -> str:
        have = f"x.{field_name}"
        if isinstance(want, dict):
            if "at_least" in want:
                order = grammar()["severity_order"]
                if want["at_least"] not in order:
                    return f"CASE WHEN {have} IS NULL THEN {UNKNOWN_SQL} ELSE FALSE END"
                ranks = "[" + ", ".join(sql_literal(s) for s in order) + "]"
                return (f"CASE WHEN {have} IS NULL THEN {UNKNOWN_SQL} "
                        f"ELSE coalesce(list_position({ranks}, {have}) >= {order.index(want['at_least']) + 1}, FALSE) END")
            parts = [f"{have} {SQL_OPS[op]} {sql_literal(v)}" for op, v in want.items()]
            return "(" + " AND ".join(parts) + ")"
        if field_name == "authority":
            def decide(value, want=want):
                return ev.field_matches("authority", want, value)
            name = self.lookup_column(self.plan.event_lookups, "authority", decide, f"authority:{want}")
            return f"CASE WHEN {have} IS NULL THEN {UNKNOWN_SQL} ELSE {name}.v END"
        if field_name not in event_fields() and field_name != "type":
            return UNKNOWN_SQL  # a field no event carries: the reference finds it missing, hence unknown
        return f"({have} = {sql_literal(want)})"

    def window(self, start: Optional[date], end: date) -> str:
        s, e = sql_literal(start), sql_literal(end)
        if start is None:
            undated = (f"CASE WHEN x.date_from IS NOT NULL AND x.date_from > {e} THEN FALSE "
                       f"WHEN x.date_to IS NULL OR x.date_to <= {e} THEN TRUE ELSE {UNKNOWN_SQL} END")
            return f"(CASE WHEN x.date IS NOT NULL THEN x.date <= {e} ELSE {undated} END)"
        undated = (f"CASE WHEN x.date_from IS NOT NULL AND x.date_from > {e} THEN FALSE "
                   f"WHEN x.date_to IS NOT NULL AND x.date_to < {s} THEN FALSE "
                   f"WHEN x.date_from IS NOT NULL AND x.date_from >= {s} AND coalesce(x.date_to, {e}) <= {e} THEN TRUE "
                   f"ELSE {UNKNOWN_SQL} END")
        return f"(CASE WHEN x.date IS NOT NULL THEN x.date <= {e} AND {s} <= x.date ELSE {undated} END)"

    def event_match(self, want: dict, start: Optional[date], end: date) -> str:
        members, filters = ev.family(want["type"])
        own = {k: v for k, v in want.items() if k != "type"}
        window = self.window(start, end)

        def conjunction(type_filters: dict) -> str:
            merged = {**type_filters, **own}
            return "(" + " AND ".join([*(self.field_match(k, v) for k, v in merged.items()), window]) + ")"
        branches = [f"WHEN x.type = {sql_literal(t)} THEN {conjunction(filters[t])}" for t in members if t in filters]
        inside = f"CASE {' '.join(branches)} ELSE {conjunction({})} END" if branches else conjunction({})
        types = ", ".join(sql_literal(t) for t in members)
        return f"(CASE WHEN x.type IN ({types}) THEN {inside} ELSE FALSE END)"

    def event(self, node: dict) -> str:
        key = "event:" + json.dumps(node, ensure_ascii=False, sort_keys=True)
        if key in self.nodes:
            name = self.nodes[key]
        else:
            want = node["event"]
            defaults = grammar()["default_within_years"]
            within = node.get("within") or ({"years": defaults[want["type"]]} if want["type"] in defaults else None)
            as_of = self.plan.as_of
            start = ev.years_before(as_of, within.get("years", 0), within.get("months", 0)) if within else None
            span = (within.get("years") or within.get("months", 0) / 12) if within else None
            name = f"e{len(self.plan.event_nodes)}"
            self.nodes[key] = name

            def decide(absent_json, want=want, span=span):
                return ev.absent_covers({"absent_events": json.loads(absent_json)}, want, span)
            denied = self.lookup_column(self.plan.profile_lookups, "absent_events", decide, "absent:" + key)
            self.plan.event_nodes.append({"name": name, "match_sql": self.event_match(want, start, as_of),
                                          "need": node.get("at_least", 1), "repairable": want["type"] in ev.REPAIRABLE,
                                          "types": ev.family(want["type"])[0],
                                          "denied": denied})
        n = next(e for e in self.plan.event_nodes if e["name"] == name)
        need, denied = n["need"], n["denied"]
        return (f"(CASE WHEN p.events IS NOT NULL THEN (CASE WHEN coalesce(a.{name}_def, 0) >= {need} THEN TRUE "
                f"WHEN coalesce(a.{name}_def, 0) + coalesce(a.{name}_pos, 0) >= {need} THEN {UNKNOWN_SQL} ELSE FALSE END) "
                f"ELSE (CASE WHEN coalesce(a.{name}_said, 0) >= {need} THEN TRUE WHEN {denied}.v THEN FALSE "
                f"ELSE {UNKNOWN_SQL} END) END)")


def compile_kb(kb: dict, as_of: date, rule_ids: Optional[set[str]] = None) -> Plan:
    """The SQL of every gate and condition of every rule (or of `rule_ids`), columns named c0, c1, …"""
    comp = Compiler(as_of)
    plan = comp.plan
    rules_by_doc: dict[str, list[dict]] = {}
    for r in kb["rules"]:
        if rule_ids is None or r["id"] in rule_ids:
            rules_by_doc.setdefault(r["document_id"], []).append(r)

    def column(sql: str) -> str:
        name = f"c{len(plan.condition_sql)}"
        plan.condition_sql[name] = sql
        return name
    for doc_id, rules in rules_by_doc.items():
        doc = kb["documents"].get(doc_id)
        if doc is None:
            continue
        gates: list[tuple[str, str]] = []
        if doc.get("jurisdiction"):
            def decide(region, doc=doc):
                gate = ev.jurisdiction_result(doc, {"region": region})
                return status_of(gate["status"]) if gate else True
            name = comp.lookup_column(plan.profile_lookups, "region", decide, f"region:{doc_id}")
            gates.append(("jurisdiction", column(f"CASE WHEN p.region IS NULL OR p.region = '' THEN {UNKNOWN_SQL} "
                                                 f"ELSE {name}.v END")))
        scope = [c for c in kb["conditions"].values() if c["document_id"] == doc_id and c["role"] == "scope"]
        if scope:
            gates.append(("scope", column("(" + " OR ".join(comp.predicate(c.get("predicate")) for c in scope) + ")")))
        for rule in rules:
            conds = [(cid, column(comp.predicate(kb["conditions"][cid].get("predicate"))))
                     for cid in rule["condition_ids"] if cid in kb["conditions"]]
            plan.rules.append({"column": f"r{len(plan.rules)}", "rule": rule, "document": doc,
                               "gates": gates, "conditions": conds})
    return plan


# ---- running the plan -------------------------------------------------------------------------

def rule_sql(rule: dict) -> str:
    own = [c for _, c in rule["conditions"]]
    if rule["rule"]["combinator"] == "any":
        body = "(" + " OR ".join(own) + ")" if own else UNKNOWN_SQL
    else:
        body = "(" + " AND ".join(own) + ")" if own else "TRUE"
    gates = [c for _, c in rule["gates"]]
    return " AND ".join([*gates, body])


def code_of(expr: str) -> str:
    """TRUE / NULL / FALSE → 2 / 1 / 0 (applies / undetermined / does_not_apply)."""
    return f"CAST(CASE WHEN {expr} THEN 2 WHEN NOT ({expr}) THEN 0 ELSE 1 END AS TINYINT)"


def used_columns(plan: Plan) -> set[str]:
    """The profile columns the compiled conditions read (p.<column>, lookups, event lists)."""
    used = {"key", "name"}
    for sql in plan.condition_sql.values():
        used |= set(re.findall(r"\bp\.(\w+)", sql))
    used |= {lk.source for lk in plan.profile_lookups}
    if plan.event_nodes:
        used |= {"events", "stated_events", "absent_events"}
    return used


def event_types_read(plan: Plan) -> list[str]:
    """The event types some compiled condition counts (with credit repairs, which lift earlier dishonesty)."""
    types = {"credit_repaired"}
    for n in plan.event_nodes:
        types |= set(n["types"])
    return sorted(types)


def normalised_profiles_sql(con, source: str, plan: Optional[Plan] = None) -> str:
    """A SELECT over `source` with the profile columns the plan reads (all when no plan), missing ones NULL of
    their type, and events cut to the types the plan counts."""
    have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    wanted = used_columns(plan) if plan else None
    types = ", ".join(sql_literal(t) for t in event_types_read(plan)) if plan else ""
    cols = []
    for f in profile_arrow_schema():
        if wanted is not None and f.name not in wanted:
            continue
        if f.name not in have:
            cols.append(f"CAST(NULL AS {duck_type(f.type)}) AS {f.name}")
        elif plan and f.name in ("events", "stated_events"):
            cols.append(f"list_filter({f.name}, lambda x: x.type IN ({types})) AS {f.name}")
        else:
            cols.append(f.name)
    return f"SELECT {', '.join(cols)} FROM {source}"


def duck_type(t) -> str:
    import pyarrow as pa
    if pa.types.is_list(t):
        return duck_type(t.value_type) + "[]"
    if pa.types.is_map(t):
        return f"MAP({duck_type(t.key_type)}, {duck_type(t.item_type)})"
    if pa.types.is_struct(t):
        return "STRUCT(" + ", ".join(f'"{f.name}" {duck_type(f.type)}' for f in t) + ")"
    return {pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.bool_(): "BOOLEAN", pa.date32(): "DATE"}[t]


def build_lookups(con, plan: Plan) -> list[str]:
    """Create one table per lookup: the distinct values and the reference evaluator's verdict for each."""
    import pyarrow as pa
    joins = []
    sources = {"region": "SELECT DISTINCT region AS value FROM profiles WHERE region IS NOT NULL",
               "industries": "SELECT DISTINCT industries AS value FROM profiles WHERE industries IS NOT NULL",
               "absent_events": "SELECT DISTINCT absent_events AS value FROM profiles WHERE absent_events IS NOT NULL",
               "authority": "SELECT DISTINCT x.authority AS value FROM profile_events WHERE x.authority IS NOT NULL"}
    distinct: dict[str, list] = {}
    for lk in [*plan.profile_lookups, *plan.event_lookups]:
        if lk.source not in distinct:
            distinct[lk.source] = [r[0] for r in con.execute(sources[lk.source]).fetchall()]
        values = distinct[lk.source]
        value_type = pa.list_(pa.string()) if lk.source == "industries" else pa.string()
        table = pa.table({"value": pa.array(values, type=value_type),
                          "v": pa.array([lk.decide(v) for v in values], type=pa.bool_())})
        con.register(f"{lk.name}_data", table)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {lk.name} AS SELECT * FROM {lk.name}_data")
        con.unregister(f"{lk.name}_data")
    for lk in plan.profile_lookups:
        joins.append(f"LEFT JOIN {lk.name} ON {lk.name}.value = p.{lk.source}")
    return joins


def event_aggregates_sql(plan: Plan) -> str:
    """One pass over all events: per enterprise and event node, how many match for sure / maybe / as told."""
    if not plan.event_nodes:
        return "SELECT NULL::BIGINT AS rid WHERE FALSE"
    as_of = sql_literal(plan.as_of)
    cols = []
    for n in plan.event_nodes:
        m, name = n["match_sql"], n["name"]
        kept = "NOT before_repair" if n["repairable"] else "TRUE"
        cols.append(f"count(*) FILTER (WHERE NOT stated AND {kept} AND ({m}) IS TRUE) AS {name}_def")
        cols.append(f"count(*) FILTER (WHERE NOT stated AND {kept} AND ({m}) IS NULL) AS {name}_pos")
        cols.append(f"count(*) FILTER (WHERE stated AND ({m}) IS TRUE) AS {name}_said")
    joins = " ".join(f"LEFT JOIN {lk.name} ON {lk.name}.value = x.{lk.source}" for lk in plan.event_lookups)
    return (f"SELECT rid, {', '.join(cols)} FROM ("
            f"  SELECT *, (repaired IS NOT NULL AND x.type <> 'credit_repaired' AND coalesce(x.date, {as_of}) <= repaired)"
            f"         AS before_repair FROM profile_events) AS x_rows {joins} GROUP BY rid")


def prepare(con, plan: Plan, source: str) -> None:
    """profiles (numbered), profile_events (one row per event, told or recorded), lookups, aggregates."""
    as_of = sql_literal(plan.as_of)
    con.execute(f"CREATE OR REPLACE TEMP TABLE profiles AS SELECT row_number() OVER () AS rid, * "
                f"FROM ({normalised_profiles_sql(con, source, plan)})")
    if not plan.event_nodes:
        con.execute(f"CREATE OR REPLACE TEMP TABLE profile_events (rid BIGINT, x {duck_type(event_struct())}, "
                    "stated BOOLEAN, repaired DATE)")
        return
    con.execute(
        "CREATE OR REPLACE TEMP TABLE profile_events AS "
        "WITH recorded AS (SELECT rid, unnest(events) AS x FROM profiles WHERE events IS NOT NULL), "
        f"repairs AS (SELECT rid, max(x.date) AS repaired FROM recorded WHERE x.type = 'credit_repaired' "
        f"            AND x.date <= {as_of} GROUP BY rid) "
        "SELECT recorded.rid, x, FALSE AS stated, repairs.repaired FROM recorded LEFT JOIN repairs USING (rid) "
        "UNION ALL SELECT rid, unnest(stated_events) AS x, TRUE AS stated, NULL::DATE AS repaired "
        "FROM profiles WHERE events IS NULL AND stated_events IS NOT NULL")


def wide_sql(plan: Plan, joins: list[str], with_conditions: bool = False) -> str:
    """One row per profile: each rule's status code (and, if asked, each condition's value)."""
    cols = ["p.rid", "p.key", "p.name"]
    if with_conditions:
        cols += [f"{sql} AS {name}" for name, sql in plan.condition_sql.items()]
    conds = ", ".join(f"{sql} AS {name}" for name, sql in plan.condition_sql.items())
    inner = (f"SELECT p.rid, p.key, p.name, {conds} FROM profiles p "
             f"LEFT JOIN event_counts a ON a.rid = p.rid {' '.join(joins)}")
    rules = [f"{code_of(rule_sql(r))} AS {r['column']}" for r in plan.rules]
    keep = ", ".join(plan.condition_sql) if with_conditions else ""
    return f"SELECT rid, key, name{', ' + keep if keep else ''}, {', '.join(rules)} FROM ({inner})"


def deciding_sql(rule: dict, status_col: str) -> str:
    """The conditions that decide a rule's status: the unknown ones when undetermined, else the met ones."""
    parts = [*rule["gates"], *rule["conditions"]]
    if not parts:
        return "[]::VARCHAR[]"
    items = ", ".join(f"CASE WHEN {status_col} = 1 AND {c} IS NULL OR {status_col} = 2 AND {c} IS TRUE "
                      f"THEN {sql_literal(cid)} END" for cid, c in parts)
    return f"list_filter([{items}], lambda v: v IS NOT NULL)"


def connect(memory_limit: Optional[str] = None):
    """An in-memory DuckDB that spills to a temporary folder beyond `memory_limit` (default: XINYI_MATCH_MEMORY
    or 4GB) and keeps its own progress bar off stderr, where xinyi reports its steps."""
    import os
    import tempfile
    import duckdb
    con = duckdb.connect(config={"preserve_insertion_order": False})
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = {sql_literal(memory_limit or os.environ.get('XINYI_MATCH_MEMORY', '4GB'))}")
    con.execute(f"SET temp_directory = {sql_literal(tempfile.gettempdir() + '/xinyi-duckdb')}")
    return con


@dataclass
class MatchRun:
    con: Any
    plan: Plan
    profiles: int


def run(kb: dict, profiles_source: str, as_of: date, con=None, rule_ids: Optional[set[str]] = None,
        with_conditions: bool = True, progress: Callable[[str], None] = lambda s: None) -> MatchRun:
    """Compile the KB, load the profiles (a DuckDB relation name or SELECT), decide every rule for every
    profile into the temp table `statuses` (rid, key, name, r0…, and c0… when asked)."""
    import duckdb
    con = con or connect()
    plan = compile_kb(kb, as_of, rule_ids)
    progress(f"{len(plan.rules)} rules, {len(plan.condition_sql)} conditions compiled")
    try:
        prepare(con, plan, profiles_source)
    except duckdb.ConversionException as exc:
        raise MatchError(f"a column does not have its declared type ({str(exc).splitlines()[0]})") from None
    count = con.execute("SELECT count(*) FROM profiles").fetchone()[0]
    progress(f"{count} profiles loaded")
    joins = build_lookups(con, plan)
    con.execute(f"CREATE OR REPLACE TEMP TABLE event_counts AS {event_aggregates_sql(plan)}")
    progress("event windows counted")
    con.execute(f"CREATE OR REPLACE TEMP TABLE statuses AS {wide_sql(plan, joins, with_conditions)}")
    progress("rules decided")
    return MatchRun(con, plan, count)


# ---- what the run says: results, push lists, summary ----------------------------------------

def citation_text(doc: dict, path: list) -> str:
    title = doc.get("title") or doc["source_file"]
    return f"《{title}》{''.join(path)}" if path else f"《{title}》"


def dimension_tables(kb: dict, plan: Plan):
    """rules (column → rule, document, version, kind, measures) and rule_measures (one row per department)."""
    import pyarrow as pa
    from nlp.departments import canonical_department
    rules, measures = [], []
    for r in plan.rules:
        rule, doc = r["rule"], r["document"]
        rules.append({"rule_column": r["column"], "rule_id": rule["id"], "document_id": doc["id"],
                      "document_title": doc.get("title"), "document_version": doc.get("version"), "kind": rule["kind"],
                      "measure_ids": [m for m in rule["measure_ids"] if m in kb["measures"]]})
        for mid in rule["measure_ids"]:
            m = kb["measures"].get(mid)
            if m is None:
                continue
            for dep in m["departments"] or [NO_DEPARTMENT]:
                measures.append({"rule_column": r["column"], "measure_id": mid, "measure_kind": m["kind"],
                                 "measure_text": m["text"], "department": dep,
                                 "department_canonical": canonical_department(dep) if dep != NO_DEPARTMENT else dep,
                                 "citation": citation_text(doc, m["path"]), "source_file": doc["source_file"],
                                 "path": "".join(m["path"]), "path_json": json.dumps(m["path"], ensure_ascii=False)})
    rules_schema = pa.schema([("rule_column", pa.string()), ("rule_id", pa.string()), ("document_id", pa.string()),
                              ("document_title", pa.string()), ("document_version", pa.int64()), ("kind", pa.string()),
                              ("measure_ids", pa.list_(pa.string()))])
    measure_schema = pa.schema([(k, pa.string()) for k in ("rule_column", "measure_id", "measure_kind", "measure_text",
                                                           "department", "department_canonical", "citation",
                                                           "source_file", "path", "path_json")])
    return pa.Table.from_pylist(rules, schema=rules_schema), pa.Table.from_pylist(measures, schema=measure_schema)


def long_statuses(con, plan: Plan) -> None:
    """statuses (wide) → rule_statuses: one row per profile and rule that applies or is undetermined."""
    parts = [f"SELECT rid, key, name, {sql_literal(r['column'])} AS rule_column, {r['column']} AS status, "
             f"{deciding_sql(r, r['column'])} AS deciding FROM statuses WHERE {r['column']} > 0" for r in plan.rules]
    if not parts:
        parts = ["SELECT NULL::BIGINT AS rid, NULL AS key, NULL AS name, NULL AS rule_column, NULL::TINYINT AS status, "
                 "NULL::VARCHAR[] AS deciding WHERE FALSE"]
    con.execute(f"CREATE OR REPLACE TEMP TABLE rule_statuses AS {' UNION ALL '.join(parts)}")


def safe_file_name(name: str) -> str:
    return re.sub(r"[\\/:*?\"<>|\s]+", "_", name).strip("._") or "部门"


def write_outputs(match: MatchRun, kb: dict, out: Path, formats: tuple[str, ...] = ("parquet", "csv"),
                  progress: Callable[[str], None] = lambda s: None) -> dict:
    """matched (applies), undetermined (for follow-up), push/<department> (one list per implementing department),
    rules and measures (what the ids in those files stand for), summary.json. Returns the summary."""
    con, plan = match.con, match.plan
    out.mkdir(parents=True, exist_ok=True)
    rules, rule_measures = dimension_tables(kb, plan)
    con.register("rules_data", rules)
    con.register("rule_measures_data", rule_measures)
    long_statuses(con, plan)
    progress("statuses listed")
    base = ("SELECT s.key AS enterprise, s.name, r.document_id, r.document_version, r.rule_id, r.kind, "
            "CASE s.status WHEN 2 THEN 'applies' ELSE 'undetermined' END AS status, r.measure_ids AS measures, "
            "s.deciding AS deciding_conditions FROM rule_statuses s JOIN rules_data r USING (rule_column)")
    files = {"matched": copy_out(con, f"{base} WHERE s.status = 2", out / "matched", formats),
             "undetermined": copy_out(con, f"{base} WHERE s.status = 1", out / "undetermined", formats),
             "rules": copy_out(con, "SELECT * EXCLUDE (rule_column) FROM rules_data", out / "rules", formats),
             "measures": copy_out(con, "SELECT DISTINCT measure_id, measure_kind AS kind, measure_text AS text, "
                                  "department, citation, source_file, path FROM rule_measures_data", out / "measures",
                                  formats)}
    progress("results written")
    # the push lists: one row per enterprise, measure and department, written in one pass split by department
    con.execute("CREATE OR REPLACE TEMP TABLE push AS SELECT m.department_canonical AS list, s.key AS enterprise, "
                "s.name, m.department, m.measure_id, m.measure_kind AS kind, r.document_id, r.document_version, "
                "r.rule_id, m.path AS clause FROM rule_statuses s JOIN rules_data r USING (rule_column) "
                "JOIN rule_measures_data m USING (rule_column) WHERE s.status = 2")
    items = dict(con.execute("SELECT list, count(*) FROM push GROUP BY 1").fetchall())
    progress(f"{sum(items.values())} push items")
    # the lists go to people: CSV (Excel opens it); machines read matched.parquet joined to measures
    push_files = write_partitioned(con, "push", "list", out / "push", ("csv",), progress)
    progress(f"{len(items)} push lists written")
    summary = summary_of(con, plan, match.profiles)
    summary["files"] = {k: [str(p.relative_to(out)) for p in v] for k, v in files.items()}
    summary["push_lists"] = {dep: {"items": n, "files": [str(p.relative_to(out)) for p in push_files.get(dep, [])]}
                             for dep, n in sorted(items.items(), key=lambda kv: (-kv[1], kv[0]))}
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return summary


def write_partitioned(con, table: str, by: str, folder: Path, formats: tuple[str, ...],
                      progress: Callable[[str], None] = lambda s: None) -> dict[str, list[Path]]:
    """One file per value of `by` (push/财政部门.csv …), written by one partitioned COPY per format."""
    import shutil
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[Path]] = {}
    for fmt in formats:
        parts = folder / f".parts-{fmt}"
        option = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER"
        con.execute(f"COPY {table} TO {sql_literal(str(parts))} ({option}, PARTITION_BY ({by}), "
                    f"WRITE_PARTITION_COLUMNS false)")
        for sub in sorted(parts.iterdir()):
            value = partition_value(sub.name, by)
            files = sorted(sub.iterdir())
            target = folder / f"{safe_file_name(value)}.{fmt}"
            if len(files) == 1:
                files[0].rename(target)
            else:  # several writer threads: keep each part beside the others
                target = folder / safe_file_name(value)
                target.mkdir(exist_ok=True)
                for f in files:
                    f.rename(target / f.name)
            written.setdefault(value, []).append(target)
        shutil.rmtree(parts)
        progress(f"push lists as {fmt}")
    return written


def partition_value(directory: str, by: str) -> str:
    """A hive partition folder's value: `list=%E8%B4%A2…` → 财政部门."""
    from urllib.parse import unquote
    return unquote(directory.split("=", 1)[1]) if directory.startswith(f"{by}=") else directory


def summary_of(con, plan: Plan, profiles: int) -> dict:
    """Per rule: how many profiles it applies to, leaves undetermined, does not apply to."""
    per_rule = []
    if plan.rules:
        cols = ", ".join(f"count(*) FILTER (WHERE {r['column']} = {code})" for r in plan.rules for code in (2, 1, 0))
        row = con.execute(f"SELECT {cols} FROM statuses").fetchone()
        for i, r in enumerate(plan.rules):
            applies, undetermined, no = row[3 * i: 3 * i + 3]
            per_rule.append({"rule_id": r["rule"]["id"], "document_id": r["document"]["id"], "kind": r["rule"]["kind"],
                             "applies": applies, "undetermined": undetermined, "does_not_apply": no})
    return {"as_of": plan.as_of.isoformat(), "profiles": profiles, "rules": len(plan.rules),
            "applies": sum(r["applies"] for r in per_rule), "undetermined": sum(r["undetermined"] for r in per_rule),
            "per_rule": per_rule}


def copy_out(con, query: str, stem: Path, formats: tuple[str, ...]) -> list[Path]:
    """The query's rows into stem.parquet / stem.csv; computed once when there are two formats."""
    written = []
    if len(formats) > 1:
        con.execute(f"CREATE OR REPLACE TEMP TABLE copy_rows AS {query}")
        query = "SELECT * FROM copy_rows"
    for fmt in formats:
        path = stem.with_suffix(f".{fmt}")
        option = "(FORMAT parquet, COMPRESSION zstd)" if fmt == "parquet" else "(FORMAT csv, HEADER)"
        con.execute(f"COPY ({query}) TO {sql_literal(str(path))} {option}")
        written.append(path)
    return written


# ---- one call for the CLI ---------------------------------------------------------------------

def parquet_source(con, path: Path) -> str:
    """A Parquet file of profiles, each present column cast to its declared type (a wrong one is named)."""
    src = f"read_parquet('{str(path).replace(chr(39), chr(39) * 2)}')"
    try:
        have = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
    except Exception as exc:  # duckdb.Error: not a Parquet file, unreadable
        raise MatchError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    cols = []
    for f in profile_arrow_schema():
        want = duck_type(f.type)
        if f.name in have:
            cols.append(f"CAST({f.name} AS {want}) AS {f.name}")
    if "key" not in have:
        named = [f"CAST({c} AS VARCHAR)" for c in ("credit_code", "name") if c in have]
        fallback = "'row-' || CAST(row_number() OVER () AS VARCHAR)"  # neither code nor name: the row number
        cols.insert(0, f"coalesce({', '.join([*named, fallback])}) AS key")
    # a view: the casts run once, when the profiles are numbered (prepare), where a wrong type is reported
    con.execute(f"CREATE OR REPLACE TEMP VIEW input_profiles AS SELECT {', '.join(cols)} FROM {src}")
    return "input_profiles"


def load_source(con, path: Path, refused: Callable[[int, str], None]) -> str:
    """profiles from .parquet (columns as profile_arrow_schema) or .jsonl (one contract profile per line)."""
    if not path.exists():
        raise MatchError(f"{path}: no such file")
    if path.suffix.lower() == ".parquet":
        return parquet_source(con, path)
    if path.suffix.lower() not in (".jsonl", ".ndjson"):
        raise MatchError(f"{path}: expected profiles as .jsonl (one profile per line) or .parquet")
    try:
        table = profiles_table(jsonl_profiles(path, refused))
    except UnicodeDecodeError:
        raise MatchError(f"{path}: not UTF-8 text") from None
    con.register("input_profiles", table)
    return "input_profiles"


def match_profiles(kb: dict, source: Callable[[Any], str], as_of: date, out: Path,
                   rule_ids: Optional[set[str]] = None, formats: tuple[str, ...] = ("parquet", "csv"),
                   progress: Callable[[str], None] = lambda s: None,
                   after: Optional[Callable[[Any], None]] = None) -> dict:
    """Decide every rule for every profile and write the results into `out`, which appears whole or not at all:
    everything is written into a folder beside it first and moved into place at the end. `after(con)` runs once
    the files are written (recording push items), before they are moved into place."""
    import shutil
    import tempfile
    import duckdb
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        con = connect()
        result = run(kb, source(con), as_of, con=con, rule_ids=rule_ids, progress=progress)
        summary = write_outputs(result, kb, work, formats, progress)
        if after is not None:
            after(con)
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            work.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            work.rename(out)
        return summary
    finally:
        shutil.rmtree(work, ignore_errors=True)


def push_records(con, as_of: date, due_on: Optional[date]) -> Iterator[dict]:
    """The push items of the last write_outputs() as rows for registry.record_push_items."""
    cur = con.execute("SELECT DISTINCT p.enterprise, p.measure_id, p.kind, p.department, p.document_id, "
                      "p.document_version, p.rule_id, m.measure_text, m.source_file, m.path_json FROM push p "
                      "JOIN rule_measures_data m ON m.measure_id = p.measure_id AND m.department = p.department")
    while rows := cur.fetchmany(10_000):
        for code, mid, kind, dep, doc, version, rule, text, source, path in rows:
            yield {"credit_code": code, "measure_id": mid, "kind": kind, "department": dep, "document_id": doc,
                   "version": version, "rule_id": rule, "measure_text": text, "source_file": source, "path": json.loads(path),
                   "quote": text, "as_of": as_of, "due_on": due_on, "pushed_by": "xinyi match"}
