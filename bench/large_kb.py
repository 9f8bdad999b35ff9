"""check and chat on a large KB: the seeds plus the 3,000 laws of ../shared/lawref, figures beside their targets.

    .venv/bin/python bench/large_kb.py                        # builds the KB once (cached in the temp folder,
                                                              # keyed by the corpus and the extractor), then measures
    .venv/bin/python bench/large_kb.py --against /path/to/other/checkout   # the same figures for another checkout,
                                                              # on the same KB file, in the same run
    .venv/bin/python bench/large_kb.py --quick                # fewer repetitions

Figures: in-process check latency (knowledge.check.check_profile, p50 / p99 over synthetic profiles after the
first call, which loads the KB: that one is reported apart), POST /v1/check and POST /v1/chat against
`xinyi serve` (uvicorn) in a process of its own on loopback (one keep-alive client, p50 / p99 after warm-up;
chat cycles bench/run.py's CHAT_CYCLE), the size of the check answer for a 无锡 profile as `xinyi check`
prints it, and the cold start of `xinyi check` (a new process each time, min of 5). Nothing here is a unit test.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEEDS, LAWREF = SHARED / "seeds", SHARED / "lawref" / "docs"
WUXI = ROOT / "examples" / "wuxi_hazchem.json"

TARGETS = {  # (target, higher_is_better)
    "check_inproc_p50_ms": (None, False),
    "check_inproc_p99_ms": (20.0, False),
    "check_inproc_first_ms": (None, False),
    "check_http_p50_ms": (None, False),
    "check_http_p99_ms": (50.0, False),
    "chat_http_p50_ms": (None, False),
    "chat_http_p99_ms": (150.0, False),
    "check_answer_bytes_wuxi": (None, False),
    "check_answer_results_wuxi": (None, False),
    "check_cli_cold_s": (0.5, False),
}

sys.path.insert(0, str(ROOT / "bench"))
from run import AS_OF, CHAT_CYCLE, free_port, percentile, synthetic_profile  # noqa: E402


def corpus_files() -> list[Path]:
    return sorted(SEEDS.glob("*.txt")) + sorted(LAWREF.glob("*.txt"))


def kb_file(root: Path = ROOT) -> Path:
    """The large KB's file: keyed by every corpus file (name, size, mtime) and the extractor that reads them."""
    digest = hashlib.sha256()
    for f in corpus_files():
        st = f.stat()
        digest.update(f"{f.name}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    extractor = subprocess.run([sys.executable, "-c", "from nlp.document import extractor_version as v; print(v())"],
                               cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True,
                               text=True, check=True).stdout.strip()
    digest.update(extractor.encode())
    return Path(tempfile.gettempdir()) / f"xinyi-large-kb-{digest.hexdigest()[:16]}.sqlite"


def build_kb(root: Path = ROOT) -> tuple[Path, float | None]:
    """The large KB, built by `xinyi ingest` when not cached; (file, seconds it took or None when cached)."""
    db = kb_file(root)
    if db.exists():
        return db, None
    part = db.with_suffix(f".{os.getpid()}.part")
    part.unlink(missing_ok=True)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "api.cli", "ingest", str(SEEDS), str(LAWREF), "--db", str(part), "-q"],
                   cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, stdout=subprocess.DEVNULL, check=True)
    took = time.perf_counter() - t
    os.replace(part, db)
    return db, took


CHILD = r"""
import json, random, sys, time
from datetime import date
sys.path.insert(0, "bench")
from run import synthetic_profile
from knowledge.check import check_profile
db, n = sys.argv[1], int(sys.argv[2])
as_of = date.fromisoformat(sys.argv[3])
wuxi = json.load(open("examples/wuxi_hazchem.json", encoding="utf-8"))
t = time.perf_counter()
check_profile(db, wuxi, as_of)
first = time.perf_counter() - t
rng = random.Random(11)
profiles = [wuxi] + [synthetic_profile(rng) for _ in range(n - 1)]
times = []
for p in profiles:
    t = time.perf_counter()
    check_profile(db, p, as_of)
    times.append(time.perf_counter() - t)
print(json.dumps({"first": first, "times": times}))
"""


def inproc_check(root: Path, db: Path, n: int) -> dict:
    p = subprocess.run([sys.executable, "-c", CHILD, str(db), str(n), AS_OF], cwd=root,
                       env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True, text=True, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def over_http(root: Path, db: Path, checks: int, chats: int, warmup: int = 10) -> dict:
    """Client-side seconds per POST /v1/check and POST /v1/chat against `xinyi serve` in its own process."""
    import httpx
    port = free_port()
    sessions = Path(tempfile.mkdtemp(prefix="xinyi-large-")) / "sessions.sqlite"
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--db", str(db), "--port", str(port),
                               "--sessions", str(sessions)], cwd=root,
                              env={**os.environ, "PYTHONPATH": str(root)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
            deadline = time.monotonic() + 180
            while True:
                try:
                    if client.get("/v1/documents").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("xinyi serve did not start")
                time.sleep(0.2)
            rng = random.Random(5)
            wuxi = json.loads(WUXI.read_text(encoding="utf-8"))
            profiles = [wuxi] + [synthetic_profile(rng) for _ in range(checks + warmup)]
            check_s = []
            for i, prof in enumerate(profiles):
                t = time.perf_counter()
                r = client.post("/v1/check", json={"profile": prof, "as_of": AS_OF})
                took = time.perf_counter() - t
                r.raise_for_status()
                if i >= warmup:
                    check_s.append(took)
            chat_s, session = [], None
            for i in range(warmup + chats):
                message, follow_up = CHAT_CYCLE[i % len(CHAT_CYCLE)]
                body = {"message": message, "as_of": AS_OF, **({"session_id": session} if follow_up else {})}
                t = time.perf_counter()
                r = client.post("/v1/chat", json=body)
                took = time.perf_counter() - t
                r.raise_for_status()
                session = r.json()["session_id"]
                if i >= warmup:
                    chat_s.append(took)
            return {"check": check_s, "chat": chat_s}
    finally:
        server.terminate()
        server.wait(timeout=30)


def cli_cold(root: Path, db: Path, runs: int = 5) -> tuple[float, int, int]:
    """(min seconds of a cold `xinyi check`, bytes it printed, results) for the 无锡 profile."""
    best, out = None, b""
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run([sys.executable, "-m", "api.cli", "check", "--db", str(db), "--profile", str(WUXI),
                            "--as-of", AS_OF], cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
                           capture_output=True, check=True)
        took = time.perf_counter() - t
        best, out = (took if best is None else min(best, took)), p.stdout
    return best, len(out), len(json.loads(out)["results"])


def measure(root: Path, db: Path, quick: bool) -> dict:
    checks, chats = (60, 45) if quick else (300, 250)
    inproc = inproc_check(root, db, checks)
    http = over_http(root, db, checks, chats)
    cold, size, results = cli_cold(root, db, 3 if quick else 5)
    return {
        "check_inproc_p50_ms": percentile(inproc["times"], 0.50) * 1000,
        "check_inproc_p99_ms": percentile(inproc["times"], 0.99) * 1000,
        "check_inproc_first_ms": inproc["first"] * 1000,
        "check_http_p50_ms": percentile(http["check"], 0.50) * 1000,
        "check_http_p99_ms": percentile(http["check"], 0.99) * 1000,
        "chat_http_p50_ms": percentile(http["chat"], 0.50) * 1000,
        "chat_http_p99_ms": percentile(http["chat"], 0.99) * 1000,
        "check_answer_bytes_wuxi": size,
        "check_answer_results_wuxi": results,
        "check_cli_cold_s": cold,
    }


def rows(m: dict) -> list[tuple[str, float, float | None, bool]]:
    return [(name, m[name], *TARGETS[name]) for name in TARGETS]


def figures(quick: bool = False) -> list[tuple[str, float, float | None, bool]]:
    """(name, measured, target, higher_is_better) for bench/run.py (the KB is built first when not cached)."""
    db, _ = build_kb()
    return rows(measure(ROOT, db, quick))


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    others = [Path(argv[i + 1]).resolve() for i, a in enumerate(argv) if a == "--against"]
    db, took = build_kb()
    size = db.stat().st_size / 2**20
    print(f"# KB {db} ({size:.0f} MB): " + (f"built in {took:.0f} s" if took else "cached"))
    runs = {root: measure(root, db, quick) for root in [ROOT, *others]}
    print(f"{'figure':32} {'measured':>12} {'target':>10}")
    for root, m in runs.items():
        if root != ROOT:
            print(f"# against {root} (the same KB file)")
        for name, value, target, higher in rows(m):
            t = "—" if target is None else f"{target:.2f}"
            ok = "" if target is None else ("ok" if (value >= target if higher else value <= target) else "MISSES")
            print(f"{name:32} {value:12.2f} {t:>10} {ok}")


if __name__ == "__main__":
    main(sys.argv[1:])
