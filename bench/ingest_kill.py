"""The long crash-safety run: 30 SIGKILLs at random points of an ingest (tests/test_ingest_kill.py runs 10).

    .venv/bin/python bench/ingest_kill.py [KILLS]
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    kills = sys.argv[1] if len(sys.argv) > 1 else "30"
    env = {**os.environ, "XINYI_KILLS": kills, "PYTHONPATH": str(ROOT)}
    sys.exit(subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              str(ROOT / "tests" / "test_ingest_kill.py")], cwd=ROOT, env=env))
