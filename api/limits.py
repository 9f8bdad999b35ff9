"""Request limits and the answer log.

- BodyLimits: before anything is parsed, a body larger than the limit is refused (413), a JSON body nested deeper
  than the limit or holding a lone surrogate escape (\\ud800, no character) is refused (422) — in the error
  shape {"error", "field"}.
- ChatRate: a token bucket per client address for chat turns (429 with Retry-After when empty).
- TurnLocks: turns of one session in this process wait for each other (the session file's compare-and-swap
  settles turns sent to different processes).
- TurnSlots: at most a few chat turns computed at once, the rest waiting in order (fair latency under load).
- AnswerLog: one log line per answer (logger "xinyi": method and route, KB stamp, status, milliseconds — never
  the body, the query string or a path parameter), and a fault of ours answered as 500 in the error shape
  without its message reaching any log.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional

log = logging.getLogger("xinyi")


def json_depth(body: bytes) -> int:
    """How deep the brackets of a JSON text nest, strings skipped (a scan, never a parse)."""
    depth = deepest = 0
    in_string = escaped = False
    for b in body:
        if in_string:
            if escaped:
                escaped = False
            elif b == 0x5C:  # backslash
                escaped = True
            elif b == 0x22:
                in_string = False
        elif b == 0x22:
            in_string = True
        elif b in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif b in (0x5D, 0x7D):
            depth -= 1
    return deepest


def lone_surrogate(body: bytes) -> Optional[str]:
    """The first \\uD800–\\uDFFF escape of a JSON text that is not half of a surrogate pair ("\\ud800"), or
    None. Such a string is no text: it could be read, but never written back out as UTF-8."""
    if b"\\u" not in body:
        return None
    i, n, in_string, pending = 0, len(body), False, None
    while i < n:
        b = body[i]
        if not in_string:
            in_string = b == 0x22
            i += 1
            continue
        if b == 0x22:
            if pending:
                return pending
            in_string = False
            i += 1
        elif b == 0x5C:  # backslash: an escape
            if body[i + 1:i + 2] == b"u" and i + 6 <= n:
                hexa = body[i + 2:i + 6].decode("ascii", "replace").lower()
                code = int(hexa, 16) if all(c in "0123456789abcdef" for c in hexa) else -1
                if 0xDC00 <= code <= 0xDFFF:
                    if not pending:
                        return "\\u" + hexa
                    pending = None
                else:
                    if pending:
                        return pending
                    pending = "\\u" + hexa if 0xD800 <= code <= 0xDBFF else None
                i += 6
            else:
                if pending:
                    return pending
                i += 2
        else:
            if pending:
                return pending
            i += 1
    return pending


class BodyLimits:
    """ASGI middleware: reads a request body up to `max_bytes`, checks its JSON depth, then hands it on.
    `uploads`: {path: max bytes} of POST endpoints taking files (a larger limit, no JSON depth check)."""

    def __init__(self, app, max_bytes: int, max_depth: int, uploads: dict[str, int] | None = None):
        self.app, self.max_bytes, self.max_depth, self.uploads = app, max_bytes, max_depth, uploads or {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        upload = self.uploads.get(scope.get("path", "")) if scope["method"] == "POST" else None
        max_bytes = upload or self.max_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            return await refuse(send, 413, f"request body larger than {max_bytes} bytes")
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_bytes:
                return await refuse(send, 413, f"request body larger than {max_bytes} bytes")
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if not upload and json_depth(body) > self.max_depth:
            return await refuse(send, 422, f"request body nested deeper than {self.max_depth} levels")
        lone = lone_surrogate(body)
        if lone:
            return await refuse(send, 422, f"request body holds a lone surrogate ({lone}), which is not a character")
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await self.app(scope, replay, send)


async def refuse(send, status: int, message: str) -> None:
    payload = json.dumps({"error": message, "field": None}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


class ChatRate:
    """Token buckets per client address: `per_minute` turns a minute, refilled continuously, as many at once
    when a client has been quiet a minute; per_minute 0 is no limit. take(client) → 0.0 when the turn may go,
    else the seconds until it may. At most MAX_CLIENTS addresses are remembered (full buckets are forgotten
    first: they hold nothing a new bucket would not)."""

    MAX_CLIENTS = 10_000

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute, self.clock = per_minute, clock
        self.capacity, self.per_second = float(per_minute), per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}  # client → (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        if self.per_minute <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - then) * self.per_second)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                if len(self._buckets) > self.MAX_CLIENTS:
                    self._forget(now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.per_second

    def _forget(self, now: float) -> None:
        full = [c for c, (t, then) in self._buckets.items() if t + (now - then) * self.per_second >= self.capacity]
        for c in full:
            del self._buckets[c]
        while len(self._buckets) > self.MAX_CLIENTS:  # all busy: the longest quiet goes
            del self._buckets[min(self._buckets, key=lambda c: self._buckets[c][1])]


class TurnLocks:
    """One lock per session id while a turn of it runs in this process: a second turn of the same session waits
    for the first (up to `wait_s`, then SessionConflict: 409), so it answers on the facts the first saved."""

    def __init__(self, wait_s: float = 30.0):
        self.wait_s = wait_s
        self._locks: dict[str, list] = {}  # id → [lock, how many hold or wait for it]
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, session_id: Optional[str]) -> Iterator[None]:
        if not session_id:
            yield
            return
        with self._guard:
            entry = self._locks.setdefault(session_id, [threading.Lock(), 0])
            entry[1] += 1
        try:
            if not entry[0].acquire(timeout=self.wait_s):
                from knowledge.sessions import SessionConflict
                raise SessionConflict(session_id)  # 409: send it again
            try:
                yield
            finally:
                entry[0].release()
        finally:
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:
                    self._locks.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._locks)


class NoSlot(Exception):
    """Too many chat turns waiting: answered 503 busy with Retry-After."""


class TurnSlots:
    """At most `n` chat turns computed at once in this process, the others waiting in the order they came
    (a slot is handed to the first waiter, never taken by a newcomer). A turn is CPU work under one GIL: forty
    at once only share the processor, each taking forty times as long, and a heavy one waits behind all the
    rest (p99 of several seconds under load); in order, a turn waits for those before it and no longer. A wait
    past `wait_s` is NoSlot (the server answers 503 busy, with Retry-After). n 0: no limit."""

    def __init__(self, n: int, wait_s: float = 30.0):
        self.n, self.wait_s = n, wait_s
        self._free, self._waiters = n, deque()
        self._lock = threading.Lock()

    @contextmanager
    def hold(self) -> Iterator[None]:
        if self.n <= 0:
            yield
            return
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                turn = None
            else:
                turn = threading.Event()
                self._waiters.append(turn)
        if turn is not None and not turn.wait(self.wait_s):
            with self._lock:
                if not turn.is_set():  # still waiting: give up the place
                    self._waiters.remove(turn)
                    raise NoSlot(f"no chat turn slot came free in {self.wait_s:g} s")
        try:
            yield
        finally:
            with self._lock:
                if self._waiters:
                    self._waiters.popleft().set()  # handed on: the slot stays taken
                else:
                    self._free += 1

    @property
    def waiting(self) -> int:
        return len(self._waiters)


def kb_version(db_path: Path) -> str:
    """A short stamp of the KB file as it is now (knowledge.queries.kb_stamp: mtime, size, change counter, WAL):
    which KB an answer came from, without naming anything in it."""
    from knowledge.queries import kb_stamp
    try:
        return hashlib.sha256(repr(kb_stamp(Path(db_path))).encode()).hexdigest()[:12]
    except OSError:
        return "missing"


class AnswerLog:
    """ASGI middleware, outermost: logs each answer once, and answers a fault nothing inside answered (500)."""

    def __init__(self, app, db_path: Path):
        self.app, self.db_path = app, Path(db_path)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        began, status = time.perf_counter(), None

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
        try:
            await self.app(scope, receive, sending)
        except Exception as exc:  # never re-raised: the server's own log would print its message
            tb = exc.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            where = f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}" if tb else "?"
            log.error("internal error %s at %s", type(exc).__name__, where)
            if status is None:
                status = 500
                body = json.dumps({"error": f"internal error ({type(exc).__name__}); the request was not "
                                            "carried out", "field": None}).encode()
                await send({"type": "http.response.start", "status": 500,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
        finally:
            route = scope.get("route")
            endpoint = f"{scope.get('method', '?')} {getattr(route, 'path', None) or 'unmatched'}"
            ms = (time.perf_counter() - began) * 1000
            kb = kb_version(self.db_path)
            log.info("answer %s kb=%s status=%s ms=%.0f", endpoint, kb, status, ms,
                     extra={"endpoint": endpoint, "kb": kb, "status": status, "ms": round(ms, 1)})
