"""Ingest throughput beside raw jieba.lcut on the same texts, the law library's full ingest (time, peak RSS) and
re-ingesting unchanged documents.

    .venv/bin/python bench/ingest_speed.py                 # the whole law library (../shared/lawref/docs)
    .venv/bin/python bench/ingest_speed.py --quick         # a fixed sample of 200 laws
    .venv/bin/python bench/ingest_speed.py --quick --against /path/to/other/checkout   # the same figures of
                                                           # another checkout, measured in the same run

Each measurement runs in a child process of its own (imports, jieba's dictionary and the first document are
warm-up, not timed): `lcut` times jieba.lcut over the texts as read (nlp.readers.read_document), `ingest` times
knowledge.ingest.ingest_paths of the same files into a new KB as `xinyi ingest` runs it (parse workers:
knowledge.ingest.default_workers) and then again into the same KB (every document unchanged); `ingest1` the
same in one process. Peak RSS is the ingest child's own (os.wait4 → ru_maxrss). The ratio is ingest throughput over
lcut throughput (chars/s), i.e. lcut seconds / ingest seconds. Nothing here is a unit test: targets are recorded,
not asserted.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAWREF = ROOT.parent / "shared" / "lawref" / "docs"
QUICK_DOCS = 200
TARGET_RATIO = 0.5

CHILD = r"""
import json, sys, time
from pathlib import Path
mode, listing, db = sys.argv[1], sys.argv[2], sys.argv[3]
files = [Path(line) for line in Path(listing).read_text(encoding="utf-8").splitlines() if line]
from nlp.readers import read_document
if mode == "lcut":
    import jieba
    jieba.setLogLevel(60)
    texts = [read_document(f).text for f in files]
    jieba.lcut(texts[0])  # the dictionary
    best = None
    for _ in range(int(sys.argv[4])):
        t = time.perf_counter()
        for text in texts:
            jieba.lcut(text)
        took = time.perf_counter() - t
        best = took if best is None else min(best, took)
    print(json.dumps({"s": best, "chars": sum(map(len, texts))}))
else:  # ingest (as the CLI does) or ingest1 (one process)
    import shutil, tempfile
    import knowledge.ingest as ingest
    workers = {}
    if mode == "ingest" and hasattr(ingest, "default_workers"):  # as `xinyi ingest` runs (an older checkout: one process)
        workers = {"workers": ingest.default_workers()}
    warm = Path(tempfile.mkdtemp()) / "warm.sqlite"
    ingest.ingest_paths([files[0]], warm)  # imports, jieba's dictionary, data files
    shutil.rmtree(warm.parent)
    folder = Path(listing).with_suffix(".d")
    t = time.perf_counter()
    report = ingest.ingest_paths([folder], Path(db), **workers)
    first = time.perf_counter() - t
    t = time.perf_counter()
    again = ingest.ingest_paths([folder], Path(db), **workers)
    second = time.perf_counter() - t
    print(json.dumps({"s": first, "again_s": second, "documents": len(report["documents"]),
                      "errors": len(report["errors"]),
                      "unchanged": sum(d["status"] == "unchanged" for d in again["documents"])}))
"""


def law_files(quick: bool) -> list[Path]:
    files = sorted(LAWREF.glob("*.txt"))
    if quick:
        step = max(1, len(files) // QUICK_DOCS)
        files = files[::step][:QUICK_DOCS]
    return files


def child(root: Path, mode: str, listing: Path, db: Path, repeat: int = 1) -> dict:
    """Run one measurement in its own process; its result and its own peak RSS (MB)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    p = subprocess.Popen([sys.executable, "-c", CHILD, mode, str(listing), str(db), str(repeat)], cwd=root, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{mode} child exited {p.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    return result


def measure(root: Path, quick: bool, tmp: Path, sequential: bool = True) -> dict:
    files = law_files(quick)
    listing = tmp / "files.txt"
    listing.write_text("\n".join(map(str, files)), encoding="utf-8")
    folder = listing.with_suffix(".d")
    if not folder.exists():
        folder.mkdir()
        for f in files:  # the same files, as one folder for ingest (links: nothing is copied)
            (folder / f.name).symlink_to(f)
    lcut = child(root, "lcut", listing, tmp / "unused.sqlite", repeat=2 if quick else 1)
    db = tmp / f"kb-{abs(hash(str(root)))}.sqlite"
    db.unlink(missing_ok=True)
    ingest = child(root, "ingest", listing, db)
    db.unlink(missing_ok=True)
    one = child(root, "ingest1", listing, db) if sequential else None
    db.unlink(missing_ok=True)
    return {"one_process_s": one and one["s"], "one_process_ratio": one and lcut["s"] / one["s"],"documents": ingest["documents"], "errors": ingest["errors"], "chars": lcut["chars"],
            "lcut_s": lcut["s"], "ingest_s": ingest["s"], "ratio": lcut["s"] / ingest["s"],
            "chars_per_s": lcut["chars"] / ingest["s"], "peak_rss_mb": ingest["peak_rss_mb"],
            "reingest_s": ingest["again_s"], "reingest_ms_per_doc": ingest["again_s"] / ingest["documents"] * 1000,
            "unchanged": ingest["unchanged"]}


def rows(m: dict, quick: bool) -> list[tuple[str, float, float | None, bool]]:
    scope = "sample" if quick else "lawref"
    return [
        ("ingest_vs_lcut_throughput", m["ratio"], TARGET_RATIO, True),
        *([("ingest_vs_lcut_throughput_one_process", m["one_process_ratio"], TARGET_RATIO, True)]
          if m.get("one_process_ratio") else []),
        (f"{scope}_ingest_s", m["ingest_s"], None, False),
        (f"{scope}_ingest_chars_per_s", m["chars_per_s"], None, True),
        (f"{scope}_ingest_peak_rss_mb", m["peak_rss_mb"], None, False),
        (f"{scope}_reingest_unchanged_ms_per_doc", m["reingest_ms_per_doc"], None, False),
    ]


def figures(quick: bool = False, root: Path = ROOT) -> list[tuple[str, float, float | None, bool]]:
    """(name, measured, target, higher_is_better) for bench/run.py."""
    with tempfile.TemporaryDirectory(prefix="xinyi-ingest-") as tmp:
        return rows(measure(root, quick, Path(tmp)), quick)


def show(rows: list[tuple[str, float, float | None, bool]], label: str = "") -> None:
    for name, value, target, higher in rows:
        t = "—" if target is None else f"{target:.2f}"
        ok = "" if target is None else ("ok" if (value >= target if higher else value <= target) else "MISSES")
        print(f"{label}{name:40} {value:12.2f} {t:>10} {ok}")


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    others = [Path(argv[i + 1]).resolve() for i, a in enumerate(argv) if a == "--against"]
    with tempfile.TemporaryDirectory(prefix="xinyi-ingest-") as tmp:
        runs = {}
        for root in [ROOT, *others]:  # one after the other, on the same files, in one run
            runs[root] = measure(root, quick, Path(tmp), sequential=root == ROOT)
    for root, m in runs.items():
        print(f"# {root}: {m['documents']} documents ({m['errors']} errors), {m['chars']:,} characters; "
              f"lcut {m['lcut_s']:.1f} s, ingest {m['ingest_s']:.1f} s, re-ingest {m['reingest_s']:.1f} s "
              f"({m['unchanged']} unchanged), peak RSS {m['peak_rss_mb']:.0f} MB"
              + (f"; in one process {m['one_process_s']:.1f} s" if m.get("one_process_s") else ""))
    print(f"{'figure':40} {'measured':>12} {'target':>10}")
    for root, m in runs.items():
        show(rows(m, quick), "" if root == ROOT else "  against: ")

if __name__ == "__main__":
    main(sys.argv[1:])
