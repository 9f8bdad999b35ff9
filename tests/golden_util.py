"""Golden files: compare with tests/golden/*.json; regenerate with XINYI_REGEN_GOLDEN=1 and review the diff."""
import json
import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def check_golden(name: str, actual) -> None:
    path = GOLDEN / name
    if os.environ.get("XINYI_REGEN_GOLDEN") or not path.exists():
        path.write_text(json.dumps(actual, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert actual == expected, f"{name} differs from the golden file; regenerate with XINYI_REGEN_GOLDEN=1 and review"
