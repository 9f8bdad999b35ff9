"""Speed figures side by side with their targets, measured in one run on this machine.

    .venv/bin/python bench/run.py            # prints one line per figure: measured, target, ratio (≤ 1 is on target)

Figures: ingest time per document (corpus/), in-process check latency per profile, the Python loop's rate
(batch matching compiled to SQL is measured beside it by bench/match_speed.py), then bench/ingest_speed.py and bench/large_kb.py;
in-process chat latency, and warm chat turns over HTTP: `xinyi serve` (uvicorn) in its own process on loopback,
one keep-alive client, p50 and p99 over CHAT_TURNS turns after CHAT_WARMUP, cycling through an eligibility
question with facts, a correction in that session, a where-is-it-written question, an attestation asked and
answered 是, an article lookup, a place's penalty list, a department's duties and a procedure. Nothing here is a unit test: targets are recorded, not asserted.
"""
from __future__ import annotations

import importlib
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS = {
    "ingest_s_per_document": 2.0,
    "check_ms_per_profile": 50.0,
    "python_check_profiles_per_s": None,  # the reference loop; batch targets are in match_speed.py
    "ask_ms_per_turn": 500.0,
    "chat_http_warm_p50_ms": None,
    "chat_http_warm_p99_ms": 150.0,
}
CHAT_TURNS, CHAT_WARMUP = 250, 20
sys.path.insert(0, str(Path(__file__).resolve().parent))
SUITES = [m for m in ("match_speed", "ingest_speed", "large_kb") if (Path(__file__).parent / f"{m}.py").exists()]
AS_OF = "2026-11-22"
# one cycle: (message, continue the session of the turn before)
CHAT_CYCLE = [
    ("我们是无锡的一家危险化学品储存企业，构成重大危险源，安全生产标准化二级并持续运行，三年内没有失信行为、没有受过行政处罚、"
     "没有发生亡人事故。可以享受什么激励？", False),
    ("说错了，我们是三级", True),
    ("容缺受理出自哪条？", False),
    ("我们是陈巴尔虎旗的企业，近三年没有失信行为、行政处罚和亡人事故，能享受哪些激励？", False),
    ("是", True),
    ("无锡办法第十条的内容", False),
    ("庄河对严重失信的企业都有哪些惩戒措施？列一下", False),
    ("我是无锡市财政局的，对失信联合惩戒对象我们要做什么？", False),
    ("信用修复要走什么流程", False),
]
REGIONS = ["江苏省无锡市江阴市", "辽宁省营口市", "辽宁省大连市庄河市", "内蒙古自治区呼伦贝尔市陈巴尔虎旗", "安徽省淮南市",
           "浙江省湖州市安吉县"]
EVENTS = ["accident", "administrative_penalty", "dishonest_act", "refused_order", "blacklisted"]


def synthetic_profile(rng: random.Random) -> dict:
    events = []
    for _ in range(rng.randint(0, 2)):
        kind = rng.choice(EVENTS)
        ev = {"type": kind, "date": f"{rng.randint(2021, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"}
        if kind == "accident":
            ev.update(fatalities=rng.randint(0, 3), severity=rng.choice(["一般", "较大"]), responsible=True)
        events.append(ev)
    return {"region": rng.choice(REGIONS), "industries": [rng.choice(["危险化学品储存", "钢铁冶金", "化工", "木质粉尘"])],
            "employees": rng.randint(5, 500), "standardization_level": rng.randint(1, 3),
            "standardization_in_operation": rng.random() < 0.7, "major_hazard_source": rng.random() < 0.5,
            "public_commitment": rng.random() < 0.6, "events": events}


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chat_over_http(db: Path) -> list[float]:
    """Seconds per chat turn, client side, against `xinyi serve` in a process of its own (warm-up not counted)."""
    import httpx
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--db", str(db), "--port", str(port)],
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if client.get("/v1/documents").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("xinyi serve did not start")
                time.sleep(0.1)
            times, session = [], None
            for i in range(CHAT_WARMUP + CHAT_TURNS):
                message, follow_up = CHAT_CYCLE[i % len(CHAT_CYCLE)]
                body = {"message": message, "as_of": AS_OF, **({"session_id": session} if follow_up else {})}
                t = time.perf_counter()
                r = client.post("/v1/chat", json=body)
                elapsed = time.perf_counter() - t
                r.raise_for_status()
                session = r.json()["session_id"]
                if i >= CHAT_WARMUP:
                    times.append(elapsed)
            return times
    finally:
        server.terminate()
        server.wait(timeout=30)


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q of them at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def main() -> None:
    from knowledge.db import open_db
    from knowledge.dialogue import ask
    from knowledge.evaluate import evaluate
    from knowledge.ingest import ingest_paths
    from knowledge.queries import load_kb

    tmp = Path(tempfile.mkdtemp(prefix="xinyi-bench-"))
    db = tmp / "kb.sqlite"
    report, ingest_s = timed(ingest_paths, [ROOT / "corpus"], db)
    docs = len(report["documents"])
    kb = load_kb(open_db(db, readonly=True))
    rng = random.Random(7)
    profiles = [synthetic_profile(rng) for _ in range(2000)]
    as_of = date(2026, 11, 22)
    evaluate(kb, profiles[0], as_of)  # warm caches (region gazetteer, patterns)
    _, batch_s = timed(lambda: [evaluate(kb, p, as_of) for p in profiles])
    ask(db, "你好", None, as_of)  # warm the NLP
    questions = ["我们是无锡的一家危险化学品储存企业，构成重大危险源，安全生产标准化二级并持续运行，三年内没有失信行为、没有受过行政处罚、"
                 "没有发生亡人事故。可以享受什么激励？", "容缺受理出自哪条？", "市财政局负责哪些激励措施？"]
    _, ask_s = timed(lambda: [ask(db, q, None, as_of) for q in questions])
    http_s = chat_over_http(db)

    measured = {
        "ingest_s_per_document": ingest_s / docs,
        "check_ms_per_profile": batch_s / len(profiles) * 1000,
        "python_check_profiles_per_s": len(profiles) / batch_s,
        "ask_ms_per_turn": ask_s / len(questions) * 1000,
        "chat_http_warm_p50_ms": percentile(http_s, 0.50) * 1000,
        "chat_http_warm_p99_ms": percentile(http_s, 0.99) * 1000,
    }
    rows = [(name, value, TARGETS[name], name.endswith("_per_s")) for name, value in measured.items()]
    for module in SUITES:  # the other benches, in the same run: batch matching, ingest speed, the large KB
        sys.stderr.write(f"bench: {module} …\n")
        rows += importlib.import_module(module).figures()
    print(f"{'figure':32} {'measured':>12} {'target':>12} {'ratio':>8}")
    for name, value, target, higher_is_better in rows:
        if target is None:
            print(f"{name:32} {value:12.2f} {'—':>12} {'—':>8}")
            continue
        ratio = target / value if higher_is_better else value / target
        print(f"{name:32} {value:12.2f} {target:12.2f} {ratio:8.2f}")
    print("ratio = measured/target for times and sizes, target/measured for rates and speed-ups; ≤ 1 meets the target")
    print(f"chat_http_*: {len(http_s)} turns after {CHAT_WARMUP} of warm-up, `xinyi serve` on loopback, one client")


if __name__ == "__main__":
    main()
