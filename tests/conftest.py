import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def kb_path(tmp_path_factory) -> Path:
    """The seeds in corpus/ ingested once into a temporary KB."""
    from knowledge.ingest import ingest_paths
    db = tmp_path_factory.mktemp("kb") / "kb.sqlite"
    report = ingest_paths([CORPUS], db)
    assert not report["errors"], report["errors"]
    return db


@pytest.fixture(scope="session")
def kb(kb_path):
    from knowledge.db import open_db
    from knowledge.queries import load_kb
    return load_kb(open_db(kb_path, readonly=True))
