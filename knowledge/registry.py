"""Registry(path): the enterprises a credit office manages, what happened to them, and what each department must do.

A SQLite file of its own beside the (read-only) knowledge base, `kb.sqlite` → `kb.registry.sqlite`
(`default_path`; `--registry PATH` / XINYI_REGISTRY for another). Tables:

- `enterprises`: credit_code (PK) and one column per profile fact declared in nlp/data/profile_schema.json
  (booleans 0/1, lists and attestations as JSON), created_at, updated_at, source (the file last imported from);
- `events`: id, credit_code → enterprises, type, one column per declared event field (date, date_from, date_to,
  fatalities, …), as_of, recorded_at, recorded_by, note — appended, never edited or deleted (triggers refuse it);
- `notifications`: what an event changed, one row per (measure that stops or starts, department), with the
  measure's citation; acknowledged_at / acknowledged_by once the department has acted;
- `push_items`: measures pushed to a department for an enterprise (庄河 发起), one per (enterprise, measure,
  department, document version), due_on; `feedback`: the department's answers (响应-反馈), appended.

Like knowledge/sessions.py: WAL, a busy timeout, foreign keys, migrations registered here and recorded in the
file's own `_migrations`, every write one `BEGIN IMMEDIATE` transaction. A fact or event field declared after the
file was made gets its column when the file is next opened.

    reg = Registry("kb.registry.sqlite")
    reg.upsert_enterprises([{"credit_code": "91320281…", "name": "…", "region": "江苏省无锡市"}], source="firms.csv")
    enterprise_profile(reg, "91320281…")              # facts + events (all recorded: the history is complete)
    reg.record_event("91320281…", {"type": "accident", "date": "2026-05-01", "fatalities": 1}, kb, as_of)
    for code, profile in registry_profiles("kb.registry.sqlite"): …   # streamed, for batch matching
    record_push_items(reg, [{"credit_code": …, "measure_id": …, "department": …, …}])
"""
from __future__ import annotations

import json
import re
import sqlite3
from contextlib import contextmanager
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

import sqlite_utils

from nlp.departments import canonical_department
from nlp.profile_schema import event_fields, event_types, facts

from .db import migration_registry, now
from .profile import ProfileError, check_day, validate_profile

BUSY_TIMEOUT_S = 5.0
MIGRATIONS, migration = migration_registry()  # the registry file's own, apart from the KB's and the sessions'
FEEDBACK_STATUSES = ("executed", "not_applicable", "refused")
FEEDBACK_LABELS = {"executed": "已执行", "not_applicable": "不适用", "refused": "拒绝执行"}
RANK = {"applies": 2, "undetermined": 1, "does_not_apply": 0}
CHUNK = 5000


class RegistryError(Exception):
    """The registry file cannot be opened or written, or a write was refused as a whole."""


class RegistryInputError(ValueError):
    """One input value is wrong (an event field, a feedback status): `field` names it."""

    def __init__(self, field: Optional[str], message: str):
        super().__init__(message)
        self.field = field


# ---- columns from the profile declaration ------------------------------------------------------

@lru_cache(maxsize=1)
def stored_facts() -> dict[str, dict]:
    """The declared profile facts kept as enterprise columns: all but the event history (shared: do not change)."""
    return {k: d for k, d in facts().items() if d["type"] != "events"}


def sql_type(decl: dict) -> str:
    if decl["type"] in ("count", "boolean"):
        return "INTEGER"
    if decl["type"] == "choice" and all(isinstance(c, int) and not isinstance(c, bool) for c in decl["choices"]):
        return "INTEGER"
    return "TEXT"


def to_column(decl: dict, value: Any) -> Any:
    """A profile value as stored: booleans 0/1, lists and mappings as JSON."""
    if value is None:
        return None
    if decl["type"] == "boolean":
        return int(bool(value))
    if decl["type"] in ("string_list", "attestations"):
        return json.dumps(value, ensure_ascii=False)
    if decl["type"] == "date":
        return str(value)[:10]
    return value


def from_column(decl: dict, value: Any) -> Any:
    """A stored value back as the profile holds it."""
    if value is None:
        return None
    if decl["type"] == "boolean":
        return bool(value)
    if decl["type"] in ("string_list", "attestations"):
        return json.loads(value)
    return value


# ---- migrations ---------------------------------------------------------------------------------

@migration("registry_0001_initial")
def initial(db: sqlite_utils.Database) -> None:
    facts_sql = ", ".join(f"[{k}] {sql_type(d)}" for k, d in stored_facts().items() if k != "credit_code")
    fields_sql = ", ".join(f"[{k}] {sql_type(d)}" for k, d in event_fields().items())
    db.execute(f"CREATE TABLE enterprises (credit_code TEXT PRIMARY KEY, {facts_sql}, created_at TEXT NOT NULL, "
               "updated_at TEXT NOT NULL, source TEXT)")
    db.execute(f"CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, credit_code TEXT NOT NULL "
               f"REFERENCES enterprises(credit_code), type TEXT NOT NULL, {fields_sql}, as_of TEXT, "
               "recorded_at TEXT NOT NULL, recorded_by TEXT, note TEXT)")
    db.execute("CREATE INDEX events_by_enterprise ON events (credit_code, id)")
    db.execute("CREATE TRIGGER events_never_edited BEFORE UPDATE ON events "
               "BEGIN SELECT RAISE(ABORT, 'events are appended, never edited'); END")
    db.execute("CREATE TRIGGER events_never_deleted BEFORE DELETE ON events "
               "BEGIN SELECT RAISE(ABORT, 'events are appended, never deleted'); END")
    db.execute("CREATE TABLE notifications (id INTEGER PRIMARY KEY AUTOINCREMENT, credit_code TEXT NOT NULL "
               "REFERENCES enterprises(credit_code), event_id INTEGER NOT NULL REFERENCES events(id), "
               "measure_id TEXT NOT NULL, measure_text TEXT, kind TEXT, document_id TEXT, document_title TEXT, "
               "version INTEGER, rule_id TEXT, department TEXT, department_canonical TEXT, "
               "action TEXT NOT NULL CHECK (action IN ('stop', 'start')), status_before TEXT, status_after TEXT, "
               "because TEXT, source_file TEXT, path TEXT, quote TEXT, as_of TEXT, created_at TEXT NOT NULL, "
               "acknowledged_at TEXT, acknowledged_by TEXT)")
    db.execute("CREATE INDEX notifications_by_enterprise ON notifications (credit_code, measure_id, id)")
    db.execute("CREATE INDEX notifications_open ON notifications (acknowledged_at, department_canonical)")
    db.execute("CREATE TABLE push_items (id INTEGER PRIMARY KEY AUTOINCREMENT, credit_code TEXT NOT NULL "
               "REFERENCES enterprises(credit_code), measure_id TEXT NOT NULL, measure_text TEXT, kind TEXT, "
               "department TEXT, department_canonical TEXT, document_id TEXT NOT NULL, document_title TEXT, "
               "version INTEGER, rule_id TEXT, source_file TEXT, path TEXT, quote TEXT, as_of TEXT, "
               "pushed_at TEXT NOT NULL, due_on TEXT, pushed_by TEXT)")
    db.execute("CREATE UNIQUE INDEX push_items_once ON push_items (credit_code, measure_id, "
               "COALESCE(department, ''), document_id, COALESCE(version, 0))")
    db.execute("CREATE INDEX push_items_due ON push_items (due_on)")
    db.execute("CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, push_item_id INTEGER NOT NULL "
               "REFERENCES push_items(id), status TEXT NOT NULL CHECK (status IN ('executed', 'not_applicable', "
               "'refused')), date TEXT NOT NULL, note TEXT, by TEXT, recorded_at TEXT NOT NULL)")
    db.execute("CREATE INDEX feedback_by_item ON feedback (push_item_id, id)")
    db.execute("CREATE TRIGGER feedback_never_edited BEFORE UPDATE ON feedback "
               "BEGIN SELECT RAISE(ABORT, 'feedback is appended, never edited'); END")


def missing_columns(db: sqlite_utils.Database) -> list[tuple[str, str, str]]:
    """(table, column, SQL type) of facts or event fields declared since the file was made."""
    have = {t: {c.name for c in db[t].columns} for t in ("enterprises", "events")}
    out = [("enterprises", k, sql_type(d)) for k, d in stored_facts().items() if k not in have["enterprises"]]
    out += [("events", k, sql_type(d)) for k, d in event_fields().items() if k not in have["events"]]
    return out


# ---- the file ------------------------------------------------------------------------------------

def default_path(kb_path: str | Path) -> Path:
    """Where a KB's registry lives unless told otherwise: kb.sqlite → kb.registry.sqlite, in the same folder."""
    kb_path = Path(kb_path)
    return kb_path.with_name(f"{kb_path.stem}.registry.sqlite")


def resolve_path(kb_path: Optional[str | Path], registry_path: Optional[str | Path] = None) -> Path:
    if registry_path:
        path = Path(registry_path)
    elif kb_path:
        path = default_path(kb_path)
    else:
        raise RegistryError("say which registry: --registry PATH (or XINYI_REGISTRY), or --db KB for the one "
                            "beside it")
    if kb_path and path.resolve() == Path(kb_path).resolve():
        raise RegistryError(f"{path}: is the knowledge base itself; the registry needs a file of its own")
    return path


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def as_dicts(cursor: sqlite3.Cursor) -> Iterator[dict]:
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row))


class Registry:
    """A connection to one registry file. With create=False a missing file is an empty registry (nothing is
    created): lookups find nothing, writes raise RegistryError."""

    def __init__(self, path: str | Path, create: bool = True):
        self.path = Path(path)
        self.db: Optional[sqlite_utils.Database] = None
        if not create and not self.path.exists():
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                   check_same_thread=False)
            self.db = sqlite_utils.Database(conn, execute_plugins=False)
            self.db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self.db.execute("PRAGMA foreign_keys = ON")
            self.refuse_foreign_file()  # before WAL: another program's file is left exactly as it was
            if self.db.journal_mode != "wal":
                self.db.execute("PRAGMA journal_mode = wal")
            self.migrate()
        except RegistryError:
            self.close()
            raise
        except (sqlite3.DatabaseError, OSError) as exc:
            self.close()
            raise RegistryError(f"{self.path}: cannot use this file as the enterprise registry ({exc})") from None

    @property
    def exists(self) -> bool:
        return self.db is not None

    # ---- life cycle ----------------------------------------------------------------------------

    def close(self) -> None:
        if self.db is not None:
            self.db.conn.close()
            self.db = None

    def __enter__(self) -> "Registry":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def require(self) -> sqlite_utils.Database:
        if self.db is None:
            raise RegistryError(f"{self.path}: no registry here; import enterprises first (xinyi registry import)")
        return self.db

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One transaction holding the file's write lock from its first statement (BEGIN IMMEDIATE)."""
        db = self.require()
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # another writer held the lock past the busy timeout
            raise RegistryError(f"{self.path}: {exc} (waited {BUSY_TIMEOUT_S:g} s)") from None
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.rollback()
            raise

    @contextmanager
    def read(self) -> Iterator[sqlite_utils.Database]:
        """One read transaction: the statements in it see a single state of the file."""
        db = self.require()
        db.execute("BEGIN")
        try:
            yield db
        finally:
            db.execute("COMMIT")

    def refuse_foreign_file(self) -> None:
        """RegistryError when the file holds tables that are not a registry's (a knowledge base, a sessions file)."""
        tables = set(self.db.table_names())
        if not tables:
            return
        ours = {name for name, _ in MIGRATIONS}
        done = {r[0] for r in self.db.execute("SELECT name FROM _migrations")} if "_migrations" in tables else None
        if done is None or done - ours:
            raise RegistryError(f"{self.path}: a SQLite file that is not an enterprise registry (a knowledge base "
                                "or a sessions file?); choose another --registry")

    def migrate(self) -> list[str]:
        """Apply the registered migrations not yet recorded and add the columns of facts declared since; a file
        that is up to date costs one read, otherwise the check is repeated under the write lock."""
        names = [name for name, _ in MIGRATIONS]
        with self.read() as db:
            if "_migrations" in db.table_names() and \
                    [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY name")] == sorted(names) \
                    and not missing_columns(db):
                return []
        applied = []
        with self.write() as db:
            tables = set(db.table_names())
            if "_migrations" not in tables:
                if tables:  # never add our tables to someone else's database
                    raise RegistryError(f"{self.path}: a SQLite file that is not an enterprise registry; choose "
                                        "another --registry")
                db["_migrations"].create({"name": str, "applied_at": str}, pk="name")
            done = {r["name"] for r in db["_migrations"].rows}
            if done - set(names):
                raise RegistryError(f"{self.path}: holds migrations that are not a registry's (a knowledge base "
                                    "or a sessions file?); choose another --registry")
            for name, fn in MIGRATIONS:
                if name not in done:
                    fn(db)
                    db["_migrations"].insert({"name": name, "applied_at": now()})
                    applied.append(name)
            for table, column, kind in missing_columns(db):
                db.execute(f"ALTER TABLE [{table}] ADD COLUMN [{column}] {kind}")
        return applied

    # ---- enterprises ---------------------------------------------------------------------------

    def upsert_enterprises(self, rows: list[dict], source: Optional[str] = None) -> dict:
        """Insert or update enterprises, all in one transaction: each row's credit_code and the facts it holds
        (a fact a row does not hold keeps its stored value). Returns {"inserted", "updated"}."""
        decls = stored_facts()
        at = now()
        inserted = updated = 0
        with self.write() as db:
            for row in rows:
                code = row["credit_code"]
                values = {k: to_column(decls[k], v) for k, v in row.items()
                          if k in decls and k != "credit_code" and v is not None}
                exists = db.execute("SELECT 1 FROM enterprises WHERE credit_code = ?", [code]).fetchone()
                if exists:
                    sets = ", ".join(f"[{k}] = ?" for k in values)
                    db.execute(f"UPDATE enterprises SET {sets + ', ' if sets else ''}updated_at = ?, source = ? "
                               "WHERE credit_code = ?", [*values.values(), at, source, code])
                    updated += 1
                else:
                    insert(db, "enterprises", {"credit_code": code, **values, "created_at": at, "updated_at": at,
                                               "source": source})
                    inserted += 1
        return {"inserted": inserted, "updated": updated}

    def enterprise_row(self, code: str) -> Optional[dict]:
        if self.db is None:
            return None
        found = list(as_dicts(self.db.execute("SELECT * FROM enterprises WHERE credit_code = ?", [code])))
        return found[0] if found else None

    def events_of(self, code: str) -> list[dict]:
        """Every event of an enterprise as stored, oldest first (id, type, fields, recorded_at, …)."""
        if self.db is None:
            return []
        return [event_record(r) for r in as_dicts(self.db.execute(
            "SELECT * FROM events WHERE credit_code = ? ORDER BY id", [code]))]

    def count_enterprises(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM enterprises").fetchone()[0] if self.db else 0

    def profiles(self) -> Iterator[tuple[str, dict]]:
        """(credit_code, profile) of every enterprise, in credit-code order, read in one snapshot: the enterprises
        and their events are two ordered cursors merged, so a registry of millions streams in constant memory."""
        db = self.require()
        db.execute("BEGIN")
        try:
            ents = as_dicts(db.conn.execute("SELECT * FROM enterprises ORDER BY credit_code"))
            evs = as_dicts(db.conn.execute("SELECT * FROM events ORDER BY credit_code, id"))
            pending = next(evs, None)
            for row in ents:
                code = row["credit_code"]
                while pending is not None and pending["credit_code"] < code:  # an event of no enterprise
                    pending = next(evs, None)
                mine = []
                while pending is not None and pending["credit_code"] == code:
                    mine.append(profile_event(pending))
                    pending = next(evs, None)
                yield code, {**enterprise_facts(row), "events": mine}
        finally:
            db.execute("COMMIT")

    # ---- events and notifications --------------------------------------------------------------

    def record_event(self, code: str, event: dict, kb: dict, as_of: date, by: Optional[str] = None,
                     note: Optional[str] = None) -> dict:
        """Append an event and the notifications it causes, in one transaction: the measures that applied to the
        enterprise before it and no longer do (stop), and those that apply only since (start), each once per
        department, judged on the KB as of `as_of`. Returns {"event", "notifications", "as_of"}; raises
        RegistryInputError for a bad event, LookupError when there is no such enterprise."""
        event = checked_event(event, as_of)
        from .evaluate import evaluate
        at = now()
        with self.write() as db:
            row = self.enterprise_row(code)
            if row is None:
                raise LookupError(code)
            history = [profile_event(r) for r in as_dicts(db.execute(
                "SELECT * FROM events WHERE credit_code = ? ORDER BY id", [code]))]
            base = enterprise_facts(row)
            before = evaluate(kb, {**base, "events": history}, as_of)
            after = evaluate(kb, {**base, "events": [*history, event]}, as_of)
            decls = event_fields()
            event_id = insert(db, "events", {
                "credit_code": code, "type": event["type"],
                **{k: to_column(decls[k], v) for k, v in event.items() if k in decls},
                "as_of": as_of.isoformat(), "recorded_at": at, "recorded_by": by, "note": note})
            rows = [{**n, "credit_code": code, "event_id": event_id, "as_of": as_of.isoformat(), "created_at": at}
                    for n in notifications_for(measure_changes(before, after))]
            ids = [insert(db, "notifications", r) for r in rows]
            stored = self.event_by_id(event_id)
        found = self.notifications(ids=ids)
        return {"event": stored, "notifications": found, "as_of": as_of.isoformat()}

    def event_by_id(self, event_id: int) -> Optional[dict]:
        found = list(as_dicts(self.require().execute("SELECT * FROM events WHERE id = ?", [event_id])))
        return event_record(found[0]) if found else None

    def notifications(self, department: Optional[str] = None, open_only: bool = False,
                      credit_code: Optional[str] = None, ids: Optional[list[int]] = None) -> list[dict]:
        """Notifications, oldest first, with the enterprise's name: those of a department (fuzzy, as `measures
        --department`), not yet acknowledged, of one enterprise, or with these ids."""
        if self.db is None:
            return []
        where, args = ["1 = 1"], []
        if open_only:
            where.append("n.acknowledged_at IS NULL")
        if credit_code:
            where.append("n.credit_code = ?")
            args.append(credit_code)
        if ids is not None:
            if not ids:
                return []
            where.append(f"n.id IN ({', '.join('?' for _ in ids)})")
            args.extend(ids)
        rows = as_dicts(self.db.execute(
            "SELECT n.*, e.name AS enterprise_name, v.type AS event_type, v.date AS event_date "
            "FROM notifications n JOIN enterprises e ON e.credit_code = n.credit_code "
            f"JOIN events v ON v.id = n.event_id WHERE {' AND '.join(where)} ORDER BY n.id", args))
        return [notification_record(r) for r in rows if department_wanted(department, r["department"])]

    def acknowledge(self, notification_id: int, by: Optional[str] = None) -> Optional[dict]:
        """Mark a notification as acted on (once; a second call keeps the first time). None: no such one."""
        with self.write() as db:
            db.execute("UPDATE notifications SET acknowledged_at = ?, acknowledged_by = ? "
                       "WHERE id = ? AND acknowledged_at IS NULL", [now(), by, notification_id])
        found = self.notifications(ids=[notification_id])
        return found[0] if found else None

    # ---- push items and feedback ---------------------------------------------------------------

    def push_items(self, department: Optional[str] = None, open_only: bool = False, overdue: bool = False,
                   as_of: Optional[date] = None, ids: Optional[list[int]] = None,
                   credit_code: Optional[str] = None) -> list[dict]:
        """Push items, oldest first, each with its latest feedback and whether it is overdue on `as_of` (default
        today: open and due before it): those of a department (fuzzy), open ones, or overdue ones. An item without
        feedback whose measure an event has since stopped for its enterprise and department (the latest
        notification after the push is a stop) is `withdrawn`, neither open nor overdue."""
        if self.db is None:
            return []
        day = as_of or date.today()
        where, args = ["1 = 1"], []
        if open_only or overdue:
            where.append("f.id IS NULL")
        if overdue:
            where.append("p.due_on < ?")
            args.append(day.isoformat())
        if credit_code:
            where.append("p.credit_code = ?")
            args.append(credit_code)
        if ids is not None:
            if not ids:
                return []
            where.append(f"p.id IN ({', '.join('?' for _ in ids)})")
            args.extend(ids)
        rows = as_dicts(self.db.execute(
            "SELECT p.*, e.name AS enterprise_name, f.id AS feedback_id, f.status AS feedback_status, "
            "f.date AS feedback_date, f.note AS feedback_note, f.by AS feedback_by, "
            "f.recorded_at AS feedback_recorded_at, (SELECT n.action FROM notifications n "
            "WHERE n.credit_code = p.credit_code AND n.measure_id = p.measure_id AND COALESCE(n.department, '') = "
            "COALESCE(p.department, '') AND n.created_at >= p.pushed_at ORDER BY n.id DESC LIMIT 1) AS later_action "
            "FROM push_items p "
            "JOIN enterprises e ON e.credit_code = p.credit_code "
            "LEFT JOIN feedback f ON f.id = (SELECT MAX(id) FROM feedback WHERE push_item_id = p.id) "
            f"WHERE {' AND '.join(where)} ORDER BY p.id", args))
        out = [push_record(r, day) for r in rows if department_wanted(department, r["department"])]
        return [p for p in out if p["status"] == "open"] if open_only or overdue else out

    def record_feedback(self, item_id: int, status: str, day: date, note: Optional[str] = None,
                        by: Optional[str] = None) -> Optional[dict]:
        """Append a department's feedback on a push item; the latest feedback is the item's status. Returns the
        item with it, None when there is no such item; RegistryInputError for a bad status or day."""
        if status not in FEEDBACK_STATUSES:
            raise RegistryInputError("status", f"must be one of {', '.join(FEEDBACK_STATUSES)}, got {status!r}")
        try:
            check_day("date", day)
        except ProfileError as exc:
            raise RegistryInputError("date", re.sub(r"^field '[^']+' ", "", str(exc))) from None
        with self.write() as db:
            found = db.execute("SELECT pushed_at FROM push_items WHERE id = ?", [item_id]).fetchone()
            if found is None:
                return None
            pushed_on = found[0][:10]
            if day.isoformat() < pushed_on:
                raise RegistryInputError("date", f"{day} is before the item was pushed ({pushed_on})")
            db.execute("INSERT INTO feedback (push_item_id, status, date, note, by, recorded_at) VALUES "
                       "(?, ?, ?, ?, ?, ?)", [item_id, status, day.isoformat(), note, by, now()])
        return self.push_items(ids=[item_id])[0]


def insert(db: sqlite_utils.Database, table: str, row: dict) -> int:
    cols = list(row)
    return db.execute(f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in cols)}) VALUES "
                      f"({', '.join('?' for _ in cols)})", [row[c] for c in cols]).lastrowid


# ---- rows as profiles -----------------------------------------------------------------------------

def enterprise_facts(row: dict) -> dict:
    """The profile facts of a stored enterprise row: the known ones only (a NULL column is an unknown fact)."""
    out = {"credit_code": row["credit_code"]}
    for k, decl in stored_facts().items():
        if k != "credit_code" and row.get(k) is not None:
            out[k] = from_column(decl, row[k])
    return out


def profile_event(row: dict) -> dict:
    """A stored event as a profile event: its type and the declared fields it holds."""
    out = {"type": row["type"]}
    for k, decl in event_fields().items():
        if row.get(k) is not None:
            out[k] = from_column(decl, row[k])
    return out


def event_record(row: dict) -> dict:
    """A stored event with its bookkeeping: id, the profile event, as_of, recorded_at, recorded_by, note."""
    return {"id": row["id"], "credit_code": row["credit_code"], **profile_event(row),
            **{k: row.get(k) for k in ("as_of", "recorded_at", "recorded_by", "note")}}


def enterprise_profile(reg: Registry, code: str) -> Optional[dict]:
    """An enterprise's profile: its facts and `events` = every event recorded (a complete history, [] when
    none was), or None when the registry does not hold it."""
    row = reg.enterprise_row(code)
    if row is None:
        return None
    return {**enterprise_facts(row), "events": [profile_event(e) for e in reg.events_of(code)]}


def registry_profiles(registry_path: str | Path) -> Iterator[tuple[str, dict]]:
    """(credit_code, profile) of every enterprise in the registry file, streamed in credit-code order; each
    profile is enterprise_profile's. Raises RegistryError when there is no registry at the path."""
    with Registry(registry_path, create=False) as reg:
        reg.require()
        yield from reg.profiles()


# ---- events ---------------------------------------------------------------------------------------

def checked_event(event: dict, as_of: date) -> dict:
    """The event with only declared keys, validated as a profile event (knowledge/profile.py); it must be dated
    (date, or date_from / date_to) and not after the day it is judged on."""
    ev = {k: v for k, v in event.items() if v is not None and (k == "type" or k in event_fields())}
    for k in ("date", "date_from", "date_to"):
        if isinstance(ev.get(k), date):
            ev[k] = ev[k].isoformat()
    if ev.get("type") not in event_types():
        raise RegistryInputError("type", f"must be one of {', '.join(event_types())}, got {ev.get('type')!r}")
    try:
        validate_profile({"events": [ev]})
    except ProfileError as exc:
        found = re.match(r"field '(?:events\[0\]\.)?([^']+)' (.*)", str(exc))
        field, message = (found.group(1), found.group(2)) if found else (None, str(exc))
        raise RegistryInputError(field, message) from None
    if not (ev.get("date") or ev.get("date_from") or ev.get("date_to")):
        raise RegistryInputError("date", "an event needs its date (date, or date_from / date_to)")
    first = ev.get("date") or ev.get("date_from")
    if first and first > as_of.isoformat():
        raise RegistryInputError("date", f"the event's date {first} is after the day it is judged on ({as_of}); "
                                         "judge it on that day or later (as_of)")
    return ev


# ---- what an event changes --------------------------------------------------------------------------

def measure_outcomes(results: list[dict]) -> dict[str, tuple[str, dict, dict]]:
    """measure id → (best status of the rules holding it, that rule's result, the measure's result)."""
    out: dict[str, tuple[str, dict, dict]] = {}
    for r in results:
        for m in r["measures"]:
            if m["id"] not in out or RANK[r["status"]] > RANK[out[m["id"]][0]]:
                out[m["id"]] = (r["status"], r, m)
    return out


def reasons(rule: Optional[dict], status: str) -> str:
    """The because-texts of a rule's conditions that are met (status "met") or not: its own conditions, or its
    gates (jurisdiction, scope) when none of its own is."""
    if rule is None:
        return ""
    conds = [c for c in rule["conditions"] if (c["status"] == "met") == (status == "met")]
    own = [c for c in conds if c.get("id")]  # the rule's own conditions say more than its gates
    return "；".join(dict.fromkeys(c["because"] for c in (own or conds)[:3]))


def measure_changes(before: list[dict], after: list[dict]) -> list[dict]:
    """The measures that applied before and no longer do (stop) or apply only now (start): {action, measure,
    rule (the result that applied), status_before, status_after, because}."""
    old, new = measure_outcomes(before), measure_outcomes(after)
    out = []
    for mid in dict.fromkeys([*old, *new]):
        was, o_rule, o_m = old.get(mid, ("does_not_apply", None, None))
        now_, n_rule, n_m = new.get(mid, ("does_not_apply", None, None))
        if (was == "applies") == (now_ == "applies"):
            continue
        stop = was == "applies"
        out.append({"action": "stop" if stop else "start", "measure": o_m if stop else n_m,
                    "rule": o_rule if stop else n_rule, "status_before": was, "status_after": now_,
                    "because": reasons(n_rule, "not_met" if stop else "met")})
    return out


def notifications_for(changes: list[dict]) -> list[dict]:
    """One notification row per (changed measure, department printed in its clause); a measure naming no
    department gets one row without."""
    out = []
    for c in changes:
        m, rule = c["measure"], c["rule"]
        cite = m["citation"]
        for dept in m.get("departments") or [None]:
            out.append({"measure_id": m["id"], "measure_text": m["text"], "kind": m["kind"],
                        "document_id": rule["document_id"], "document_title": rule.get("document_title"),
                        "version": rule.get("document_version"), "rule_id": rule["rule_id"],
                        "department": dept, "department_canonical": dept and canonical_department(dept),
                        "action": c["action"], "status_before": c["status_before"],
                        "status_after": c["status_after"], "because": c["because"],
                        "source_file": cite["source_file"], "path": dumps(cite["path"]), "quote": cite["quote"]})
    return out


def citation_of(row: dict) -> dict:
    return {"source_file": row["source_file"], "document_id": row["document_id"], "title": row["document_title"],
            "version": row["version"], "path": json.loads(row["path"]) if row.get("path") else [],
            "quote": row["quote"]}


def notification_record(row: dict) -> dict:
    keys = ("id", "credit_code", "enterprise_name", "event_id", "event_type", "event_date", "measure_id",
            "measure_text", "kind", "document_id", "version", "rule_id", "department", "action", "status_before",
            "status_after", "because", "as_of", "created_at", "acknowledged_at", "acknowledged_by")
    return {**{k: row.get(k) for k in keys}, "citation": citation_of(row)}


def department_wanted(query: Optional[str], name: Optional[str]) -> bool:
    """Does a printed department name answer a department query (fuzzy, as `measures --department`)?"""
    if not (query or "").strip():
        return True
    from .search import department_matches
    return bool(name) and department_matches(query.strip(), name)


# ---- push items -------------------------------------------------------------------------------------

PUSH_KEYS = ("credit_code", "measure_id", "measure_text", "kind", "department", "document_id", "document_title",
             "version", "rule_id", "source_file", "path", "quote", "as_of", "pushed_at", "due_on", "pushed_by")


def push_row(row: dict, at: str) -> dict:
    """A push item as stored, from a dict with a nested `citation` {source_file, path, quote, title, version} or
    the same keys flat."""
    cite = row.get("citation") or {}
    out = {k: row.get(k) for k in PUSH_KEYS}
    for k in ("source_file", "path", "quote"):
        if out[k] is None:
            out[k] = cite.get(k)
    out["document_title"] = out["document_title"] or cite.get("title")
    out["version"] = out["version"] if out["version"] is not None else cite.get("version")
    out["document_id"] = out["document_id"] or cite.get("document_id")
    if not isinstance(out["path"], (str, type(None))):
        out["path"] = dumps(list(out["path"]))
    for k in ("as_of", "due_on"):
        if isinstance(out[k], date):
            out[k] = out[k].isoformat()
    out["pushed_at"] = out["pushed_at"] or at
    out["department_canonical"] = out["department"] and canonical_department(out["department"])
    return out


def record_push_items(reg: Registry | str | Path, rows: Iterable[dict]) -> dict:
    """Add push items, all in one transaction; an item already pushed (same enterprise, measure, department,
    document and version) is left as it is. Each row: credit_code, measure_id, document_id (required),
    department, version, rule_id, citation {source_file, path, quote} (or those keys flat), due_on, and
    optionally measure_text, kind, document_title, as_of, pushed_at (default now), pushed_by.
    Returns {"pushed": new items, "already": items already there}; RegistryError (nothing written) when a row
    lacks a required key or names an enterprise not in the registry. `reg` may be the registry file's path."""
    if not isinstance(reg, Registry):
        with Registry(reg, create=False) as opened:
            return record_push_items(opened, rows)
    at = now()
    pushed = seen = 0
    cols = [*PUSH_KEYS, "department_canonical"]
    sql = (f"INSERT OR IGNORE INTO push_items ({', '.join(f'[{c}]' for c in cols)}) VALUES "
           f"({', '.join('?' for _ in cols)})")
    with reg.write() as db:
        batch: list[list] = []

        def flush() -> int:
            before = db.conn.total_changes
            try:
                db.conn.executemany(sql, batch)
            except sqlite3.IntegrityError as exc:
                raise RegistryError(f"push items refused, none written: an item names an enterprise not in the "
                                    f"registry ({exc})") from None
            batch.clear()
            return db.conn.total_changes - before
        for i, raw in enumerate(rows, 1):
            missing = [k for k in ("credit_code", "measure_id") if not raw.get(k)]
            row = push_row(raw, at)
            if not row["document_id"]:
                missing.append("document_id")
            if missing:
                raise RegistryError(f"push item {i}: lacks {', '.join(missing)}; none written")
            batch.append([row[c] for c in cols])
            seen += 1
            if len(batch) >= CHUNK:
                pushed += flush()
        if batch:
            pushed += flush()
    return {"pushed": pushed, "already": seen - pushed}


def applying_push_rows(code: str, results: list[dict], as_of: date, due_days: int) -> list[dict]:
    """The push items of one enterprise's evaluation: every measure of a rule that applies, once per department."""
    due = (as_of + timedelta(days=due_days)).isoformat()
    out, seen = [], set()
    for r in results:
        if r["status"] != "applies":
            continue
        for m in r["measures"]:
            for dept in m.get("departments") or [None]:
                key = (m["id"], dept)
                if key in seen:
                    continue
                seen.add(key)
                out.append({"credit_code": code, "measure_id": m["id"], "measure_text": m["text"], "kind": m["kind"],
                            "department": dept, "document_id": r["document_id"],
                            "document_title": r.get("document_title"), "version": r.get("document_version"),
                            "rule_id": r["rule_id"], "citation": m["citation"], "as_of": as_of.isoformat(),
                            "due_on": due, "pushed_by": "registry push"})
    return out


def push_all(reg: Registry, kb: dict, as_of: date, due_days: int = 30) -> dict:
    """Evaluate every registry enterprise on the KB (the Python evaluator) and push the measures that apply to
    their departments. Returns {"enterprises", "pushed", "already", "departments"}."""
    from .evaluate import evaluate
    rows: list[dict] = []
    enterprises = 0
    for code, profile in reg.profiles():
        enterprises += 1
        rows.extend(applying_push_rows(code, evaluate(kb, profile, as_of), as_of, due_days))
    out = record_push_items(reg, rows)
    return {"as_of": as_of.isoformat(), "due_on": (as_of + timedelta(days=due_days)).isoformat(),
            "enterprises": enterprises, **out,
            "departments": sorted({r["department"] for r in rows if r["department"]})}


def push_record(row: dict, as_of: date) -> dict:
    keys = ("id", "credit_code", "enterprise_name", "measure_id", "measure_text", "kind", "department",
            "document_id", "version", "rule_id", "as_of", "pushed_at", "due_on", "pushed_by")
    feedback = None
    if row.get("feedback_id") is not None:
        feedback = {"id": row["feedback_id"], "push_item_id": row["id"], "status": row["feedback_status"],
                    "date": row["feedback_date"], "note": row["feedback_note"], "by": row["feedback_by"],
                    "recorded_at": row["feedback_recorded_at"]}
    status = feedback["status"] if feedback else "withdrawn" if row.get("later_action") == "stop" else "open"
    return {**{k: row.get(k) for k in keys}, "citation": citation_of(row), "feedback": feedback, "status": status,
            "overdue": status == "open" and bool(row.get("due_on")) and row["due_on"] < as_of.isoformat()}
