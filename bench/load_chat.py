"""Chat under load while the KB is being re-ingested: SESSIONS conversations of TURNS turns each, all at once
(one thread and keep-alive client per conversation), against `xinyi serve` (uvicorn) in its own process on
loopback, for up to LIMIT_S seconds, while a second process ingests edited copies of corpus/ into the same KB
(each round changes every file a little, so each is stored as a new version of its document).

    .venv/bin/python bench/load_chat.py [--sessions 50] [--turns 5] [--seconds 60]

Prints the errors (any answer but 200, or no answer: must be 0), the conversations whose facts were lost (the
facts the session file holds at the end lack one its turns stated, or a turn is missing: must be 0), turn
latency p50 / p99 (client side), and how many ingest rounds and versions were written meanwhile. The server
runs with XINYI_CHAT_RATE=0: every conversation comes from the same loopback address, which the per-address
rate limit (default 60 turns a minute) would otherwise refuse. `figures()` gives the same as
[(name, measured, target, higher_is_better)] for bench/run.py.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SESSIONS, TURNS, LIMIT_S = 50, 5, 60.0
AS_OF = "2026-11-22"
TARGETS = {
    "load_chat_answered_share": 1.0,    # every turn answered 200
    "load_chat_intact_share": 1.0,      # every conversation kept every fact it stated
    "load_chat_p50_ms": None,
    "load_chat_p99_ms": 3000.0,         # 50 conversations at once on one process (2 cores, an ingest beside it)
}


def script(i: int) -> list[tuple[str, dict]]:
    """Conversation i: (message, the facts it states). The first opens the session; the last asks, stating
    nothing. Employees differ per conversation, so a fact written to the wrong session would show."""
    turns = [("我们在无锡，是危险化学品储存企业", {"region": "江苏省无锡市", "industries": ["危险化学品储存"]}),
             ("我们是标准化二级", {"standardization_level": 2}),
             (f"我们有{10 + i}名员工", {"employees": 10 + i}),
             ("我们构成重大危险源", {"major_hazard_source": True}),
             ("能享受哪些激励？", {})]
    while len(turns) < TURNS:
        turns.append(("容缺受理出自哪条？", {}))
    return turns


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


def start_server(db: Path, port: int) -> subprocess.Popen:
    """`xinyi serve`; its log (one line per answer) goes to XINYI_LOAD_SERVER_LOG when that names a file."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XINYI_CHAT_RATE": "0"}
    env.pop("XINYI_READ_TOKEN_REQUIRED", None)
    log = os.environ.get("XINYI_LOAD_SERVER_LOG")
    return subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--db", str(db), "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(log, "w") if log else subprocess.DEVNULL)


def wait_up(base: str, server: subprocess.Popen) -> None:
    import httpx
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{base}/v1/documents", timeout=5).status_code == 200:
                httpx.post(f"{base}/v1/chat", json={"message": "你好", "as_of": AS_OF}, timeout=60)  # warm the NLP
                return
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("xinyi serve did not start")
        time.sleep(0.2)


def ingest_loop(db: Path, folder: Path, seconds: float, report: Path) -> None:
    """The second process: re-ingest edited copies of corpus/ into `db` until `seconds` have passed or the file
    `<report>.stop` appears (the conversations are over)."""
    from knowledge.ingest import ingest_paths
    folder.mkdir(parents=True, exist_ok=True)
    originals = {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.txt"))}
    deadline, rounds, stored, errors = time.monotonic() + seconds, 0, 0, []
    stop = report.with_name(report.name + ".stop")
    ingest_paths([ROOT / "corpus"], db)  # warm (unchanged texts: answered by their hash)
    report.with_name(report.name + ".ready").write_text("")
    while time.monotonic() < deadline and not stop.exists():
        rounds += 1
        for name, text in originals.items():  # a small edit: one more line at the end, numbered by round
            (folder / name).write_text(text.rstrip("\n") + f"\n\n（本文件第{rounds}次校对）\n", encoding="utf-8")
        out = ingest_paths([folder], db)
        stored += sum(1 for d in out["documents"] if d["status"] != "unchanged")
        errors += out["errors"]
    report.write_text(json.dumps({"rounds": rounds, "documents": stored, "errors": errors}, ensure_ascii=False))


def converse(base: str, i: int, deadline: float, start: threading.Barrier, out: dict) -> None:
    import httpx
    facts, sid, times, errors = {}, None, [], []
    with httpx.Client(base_url=base, timeout=120) as client:
        start.wait()
        for message, states in script(i):
            if time.monotonic() > deadline:
                break
            body = {"message": message, "as_of": AS_OF, **({"session_id": sid} if sid else {})}
            t = time.perf_counter()
            try:
                r = client.post("/v1/chat", json=body)
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            times.append(time.perf_counter() - t)
            if r.status_code != 200:
                errors.append(f"{r.status_code} {r.text[:200]}")
                continue
            sid = r.json()["session_id"]
            facts.update(states)
    out[i] = {"session_id": sid, "facts": facts, "times": times, "errors": errors,
              "answered": len(times) - len(errors)}


def run(sessions: int = SESSIONS, turns: int = TURNS, limit_s: float = LIMIT_S, ingest: bool = True) -> dict:
    import httpx
    global TURNS
    TURNS = turns
    tmp = Path(tempfile.mkdtemp(prefix="xinyi-load-"))
    try:
        db = tmp / "kb.sqlite"
        from knowledge.ingest import ingest_paths
        ingest_paths([ROOT / "corpus"], db)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(db, port)
        try:
            wait_up(base, server)
            report = tmp / "ingest.json"
            ingester = subprocess.Popen([sys.executable, __file__, "--ingest-loop", str(db), str(tmp / "edited"),
                                         str(limit_s if ingest else 0), str(report)], cwd=ROOT,
                                        env={**os.environ, "PYTHONPATH": str(ROOT)})
            ready, wait_until = report.with_name(report.name + ".ready"), time.monotonic() + 120
            while not ready.exists():  # the conversations start once the ingest is under way
                if ingester.poll() is not None or time.monotonic() > wait_until:
                    raise RuntimeError("the ingest process did not start")
                time.sleep(0.1)
            results: dict = {}
            start = threading.Barrier(sessions + 1)
            deadline = time.monotonic() + limit_s
            threads = [threading.Thread(target=converse, args=(base, i, deadline, start, results))
                       for i in range(sessions)]
            for t in threads:
                t.start()
            start.wait()
            began = time.perf_counter()
            for t in threads:
                t.join()
            wall = time.perf_counter() - began
            report.with_name(report.name + ".stop").write_text("")
            ingester.wait(timeout=limit_s + 120)
            ingest = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {"rounds": 0}
            lost = []
            with httpx.Client(base_url=base, timeout=60) as client:
                for i, res in sorted(results.items()):
                    if not res["session_id"]:
                        continue
                    stored = client.get(f"/v1/sessions/{res['session_id']}").json()
                    missing = {k: v for k, v in res["facts"].items() if stored.get("facts", {}).get(k) != v}
                    if missing or len(stored.get("turns", [])) != res["answered"]:
                        lost.append((i, missing, len(stored.get("turns", [])), res["answered"]))
        finally:
            server.terminate()
            server.wait(timeout=30)
        times = [t for r in results.values() for t in r["times"]]
        errors = [e for r in results.values() for e in r["errors"]]
        planned = sessions * turns
        return {"sessions": sessions, "turns_planned": planned, "turns_sent": len(times) + sum(
                    1 for r in results.values() for e in r["errors"] if not e[:3].isdigit()),
                "answered": len(times) - sum(1 for e in errors if e[:3].isdigit()),
                "errors": len(errors), "error_samples": errors[:5], "lost": len(lost), "lost_samples": lost[:5],
                "p50_ms": percentile(times, 0.50) * 1000, "p99_ms": percentile(times, 0.99) * 1000,
                "max_ms": max(times, default=0) * 1000, "wall_s": wall, "ingest": ingest}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def figures(sessions: int = SESSIONS, turns: int = TURNS, limit_s: float = LIMIT_S):
    r = run(sessions, turns, limit_s)
    sys.stderr.write(summary(r) + "\n")
    sent = max(r["turns_sent"], 1)
    return [
        ("load_chat_errors", float(r["errors"]), None, False),
        ("load_chat_lost_sessions", float(r["lost"]), None, False),
        ("load_chat_answered_share", max(r["answered"] / sent, 1e-6), TARGETS["load_chat_answered_share"], True),
        ("load_chat_intact_share", max(1 - r["lost"] / max(r["sessions"], 1), 1e-6),
         TARGETS["load_chat_intact_share"], True),
        ("load_chat_p50_ms", r["p50_ms"], TARGETS["load_chat_p50_ms"], False),
        ("load_chat_p99_ms", r["p99_ms"], TARGETS["load_chat_p99_ms"], False),
    ]


def summary(r: dict) -> str:
    ing = r["ingest"]
    return (f"load_chat: {r['sessions']} conversations × {r['turns_planned'] // max(r['sessions'], 1)} turns at once, "
            f"{r['turns_sent']} turns sent in {r['wall_s']:.1f} s, errors {r['errors']}, sessions with facts lost "
            f"{r['lost']}, p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, max {r['max_ms']:.0f} ms; meanwhile "
            f"{ing.get('rounds', 0)} ingest rounds wrote {ing.get('documents', 0)} document versions"
            + (f" (ingest errors: {ing['errors'][:3]})" if ing.get("errors") else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=SESSIONS)
    parser.add_argument("--turns", type=int, default=TURNS)
    parser.add_argument("--seconds", type=float, default=LIMIT_S)
    parser.add_argument("--no-ingest", action="store_true", help="the same load without the ingest beside it")
    parser.add_argument("--ingest-loop", nargs=4, metavar=("DB", "FOLDER", "SECONDS", "REPORT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ingest_loop:
        db, folder, seconds, report = args.ingest_loop
        ingest_loop(Path(db), Path(folder), float(seconds), Path(report))
        return
    r = run(args.sessions, args.turns, args.seconds, ingest=not args.no_ingest)
    print(summary(r))
    for sample in r["error_samples"]:
        print("  error:", sample)
    for sample in r["lost_samples"]:
        print("  lost:", sample)
    print(f"errors {r['errors']}")
    print(f"lost_sessions {r['lost']}")
    print(f"p50_ms {r['p50_ms']:.0f}")
    print(f"p99_ms {r['p99_ms']:.0f}")
    sys.exit(1 if r["errors"] or r["lost"] else 0)


if __name__ == "__main__":
    main()
