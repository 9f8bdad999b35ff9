"""SessionStore(path): chat sessions in their own SQLite file, apart from the (read-only) knowledge base.

By default the file sits beside the KB, `kb.sqlite` → `kb.sessions.sqlite` (`default_path`). Tables:
`sessions` (id, facts JSON, created_at, updated_at) and `turns` (session_id → sessions.id ON DELETE CASCADE, n,
message, reply JSON, at), created by the migrations registered here and recorded in the file's own `_migrations`
(the style of knowledge/db.py). Messages and the words facts came from (`_said`) are stored with personal data
masked (nlp/privacy.py): 王**经理, 138****5678, 3202**********1234.

Several workers may share the file: it is in WAL mode, every connection waits up to BUSY_TIMEOUT_S for a lock,
and every write is one `BEGIN IMMEDIATE` transaction. A turn's save is a compare-and-swap on the facts:
`save_turn` writes only if the stored facts are still those this store's `load` read; otherwise another turn of
the same session (or a delete) came in between and it raises SessionConflict, so the caller re-runs the turn on
the new facts instead of overwriting them.

Session ids are issued here (`new_session_id`: 128 random bits, URL-safe), never chosen by a client: a turn
that names a session continues it only if the file holds it (`load(id, known=True)` raises UnknownSession
otherwise), so nobody reads or overwrites a conversation by guessing its id. A lock held past the busy timeout
is SessionBusy (a SessionError: the server answers 503 with Retry-After).

    store = SessionStore("kb.sessions.sqlite")
    sid = new_session_id()                              # e.g. "Xh3k…" (22 characters)
    facts = store.load(sid)                             # {} for a new session
    store.save_turn(sid, {**facts, "region": "江苏省无锡市"}, "我们在无锡", {"reply": "…"})
    store.load("guessed-id", known=True)                # UnknownSession: the file never held it
    store.get("abc123")                                 # {"id", "facts", "created_at", "updated_at", "turns": […]}
    store.delete("abc123")                              # True; False when there was no such session
"""
from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import sqlite_utils

from nlp import privacy

from .db import is_busy, migration_registry, now

BUSY_TIMEOUT_S = 5.0    # waiting for another process's write lock on the file
PROCESS_WAIT_S = 30.0   # waiting for another thread of this process to finish its write
_writer_locks: dict[str, threading.Lock] = {}
_writer_locks_guard = threading.Lock()
MIGRATIONS, migration = migration_registry()  # the session file's own, apart from the KB's


@migration("sessions_0001_initial")
def initial(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY, facts TEXT NOT NULL, created_at TEXT NOT NULL, "
               "updated_at TEXT NOT NULL)")
    db.execute("CREATE TABLE turns (session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE, "
               "n INTEGER NOT NULL, message TEXT NOT NULL, reply TEXT NOT NULL, at TEXT NOT NULL, "
               "PRIMARY KEY (session_id, n))")


class SessionError(Exception):
    """The session file cannot be opened or written (a folder that is read-only, a file that is not ours)."""


class SessionBusy(SessionError):
    """Another writer held the session file's lock past the busy timeout: try again shortly."""


class SessionConflict(Exception):
    """Another turn of the same session (or a delete) was saved since this store loaded it."""


class UnknownSession(LookupError):
    """A session id this file does not hold: never issued here, or forgotten since."""

    def __init__(self, session_id: str):
        super().__init__(session_id)
        self.session_id = session_id


def new_session_id() -> str:
    """A new conversation's id: 16 random bytes, URL-safe base64 (22 characters of [A-Za-z0-9_-]), never
    starting with "-" or "_" (a command line would read `xinyi sessions show -x…` as an option)."""
    while True:
        sid = secrets.token_urlsafe(16)
        if sid[0].isalnum():
            return sid


def writer_lock(path: Path) -> threading.Lock:
    """The lock this process's writers of one session file take before SQLite's (one per file)."""
    key = str(Path(path).absolute())
    with _writer_locks_guard:
        return _writer_locks.setdefault(key, threading.Lock())


def default_path(kb_path: str | Path) -> Path:
    """Where a KB's sessions live unless told otherwise: kb.sqlite → kb.sessions.sqlite, in the same folder."""
    kb_path = Path(kb_path)
    return kb_path.with_name(f"{kb_path.stem}.sessions.sqlite")


def resolve_path(kb_path: str | Path, sessions_path: Optional[str | Path] = None) -> Path:
    path = Path(sessions_path) if sessions_path else default_path(kb_path)
    if path.resolve() == Path(kb_path).resolve():
        raise SessionError(f"{path}: is the knowledge base itself; sessions need a file of their own")
    return path


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def masked_said(facts: dict) -> dict:
    """The facts with personal data in the words they came from masked (the facts themselves are untouched)."""
    if not facts.get("_said"):
        return facts
    return {**facts, "_said": privacy.mask_deep(facts["_said"])}


class SessionStore:
    """A connection to one session file. With create=False a missing file is an empty store (nothing is
    created): load → {}, get → None, delete → False."""

    def __init__(self, path: str | Path, create: bool = True):
        self.path = Path(path)
        self._base: dict[str, Optional[str]] = {}  # id → facts JSON as load() read it (None: no such session)
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
            if self.db.journal_mode != "wal":
                self.db.execute("PRAGMA journal_mode = wal")
            self.migrate()
        except SessionError:
            self.close()
            raise
        except (sqlite3.DatabaseError, OSError) as exc:
            self.close()
            if is_busy(exc):
                raise SessionBusy(f"{self.path}: {exc} (waited {BUSY_TIMEOUT_S:g} s)") from None
            raise SessionError(f"{self.path}: cannot use this file for chat sessions ({exc})") from None

    # ---- life cycle ----------------------------------------------------------------------------

    def close(self) -> None:
        if self.db is not None:
            self.db.conn.close()
            self.db = None

    def __enter__(self) -> "SessionStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One transaction holding the file's write lock from its first statement (BEGIN IMMEDIATE). Writers in
        this process queue on a lock of their own first (writer_lock), so SQLite's busy timeout is spent only
        waiting for other processes: fifty turns saving at once in one server would otherwise poll for the file
        lock while its holder waits for the interpreter, and some would give up."""
        db = self.db
        if db is None:
            raise SessionError(f"{self.path}: no session file here")
        lock = writer_lock(self.path)
        if not lock.acquire(timeout=PROCESS_WAIT_S):
            raise SessionBusy(f"{self.path}: another turn of this process held the write lock past "
                              f"{PROCESS_WAIT_S:g} s")
        try:
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # another writer held the lock past the busy timeout
                raise SessionBusy(f"{self.path}: {exc} (waited {BUSY_TIMEOUT_S:g} s)") from None
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.rollback()
                raise
        finally:
            lock.release()

    @contextmanager
    def read(self) -> Iterator[sqlite_utils.Database]:
        """One read transaction: the statements in it see a single state of the file."""
        self.db.execute("BEGIN")
        try:
            yield self.db
        finally:
            self.db.execute("COMMIT")

    def migrate(self) -> list[str]:
        """Apply the registered migrations not yet recorded. A file that is up to date costs one read; otherwise
        the check is repeated under the write lock, so workers opening a new file at once apply each once."""
        names = [name for name, _ in MIGRATIONS]
        with self.read() as db:
            if "_migrations" in db.table_names() and \
                    [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY name")] == sorted(names):
                return []
        applied = []
        with self.write() as db:
            tables = set(db.table_names())
            if "_migrations" not in tables:
                if tables:  # never add our tables to someone else's database
                    raise SessionError(f"{self.path}: a SQLite file that is not a session store; choose another "
                                       "sessions path")
                db["_migrations"].create({"name": str, "applied_at": str}, pk="name")
            done = {r["name"] for r in db["_migrations"].rows}
            if done - set(names):
                raise SessionError(f"{self.path}: holds migrations that are not a session store's "
                                   "(a knowledge base?); choose another sessions path")
            for name, fn in MIGRATIONS:
                if name not in done:
                    fn(db)
                    db["_migrations"].insert({"name": name, "applied_at": now()})
                    applied.append(name)
        return applied

    # ---- sessions ------------------------------------------------------------------------------

    def _facts_json(self, session_id: str) -> Optional[str]:
        row = self.db.execute("SELECT facts FROM sessions WHERE id = ?", [session_id]).fetchone()
        return row[0] if row else None

    def load(self, session_id: str, known: bool = False) -> dict:
        """The session's facts ({} when there is none), remembered as the base a later save_turn checks.
        With known=True a session the file does not hold is UnknownSession, not a new one."""
        raw = self._facts_json(session_id) if self.db is not None else None
        if known and raw is None:
            raise UnknownSession(session_id)
        self._base[session_id] = raw
        return json.loads(raw) if raw else {}

    def save_turn(self, session_id: str, facts: dict, message: str, reply: dict) -> int:
        """Store the facts after a turn and the turn itself, in one transaction; returns the turn's number.
        The message and the words the facts came from (`_said`) are stored with personal data masked
        (nlp/privacy.py: phone numbers, 身份证 numbers, e-mail addresses, names with titles); the reply is
        stored as the caller gives it (the dialogue masks it before it is shown).
        Raises SessionConflict when the stored facts are no longer those load() read (a session never loaded
        by this store is written as is)."""
        at = now()
        message, facts = privacy.mask(message), masked_said(facts)
        with self.write() as db:
            current = self._facts_json(session_id)
            if session_id in self._base and current != self._base[session_id]:
                raise SessionConflict(session_id)
            raw = dumps(facts)
            if current is None:
                db.execute("INSERT INTO sessions (id, facts, created_at, updated_at) VALUES (?, ?, ?, ?)",
                           [session_id, raw, at, at])
            else:
                db.execute("UPDATE sessions SET facts = ?, updated_at = ? WHERE id = ?", [raw, at, session_id])
            n = db.execute("SELECT COALESCE(MAX(n), 0) + 1 FROM turns WHERE session_id = ?",
                           [session_id]).fetchone()[0]
            db.execute("INSERT INTO turns (session_id, n, message, reply, at) VALUES (?, ?, ?, ?, ?)",
                       [session_id, n, message, dumps(reply), at])
        self._base[session_id] = raw
        return n

    def delete(self, session_id: str) -> bool:
        """Forget a session and all its turns; False when there was no such session."""
        if self.db is None:
            return False
        with self.write() as db:
            db.execute("DELETE FROM turns WHERE session_id = ?", [session_id])
            gone = db.execute("DELETE FROM sessions WHERE id = ?", [session_id]).rowcount
        self._base.pop(session_id, None)
        return gone > 0

    def get(self, session_id: str) -> Optional[dict]:
        """The session with its stored facts and its turns in order, or None."""
        if self.db is None:
            return None
        with self.read() as db:
            rows = list(db["sessions"].rows_where("id = ?", [session_id]))
            if not rows:
                return None
            row = rows[0]
            turns = [{"n": t["n"], "message": t["message"], "reply": json.loads(t["reply"]), "at": t["at"]}
                     for t in db["turns"].rows_where("session_id = ?", [session_id], order_by="n")]
        return {"id": row["id"], "facts": json.loads(row["facts"]), "created_at": row["created_at"],
                "updated_at": row["updated_at"], "turns": turns}
