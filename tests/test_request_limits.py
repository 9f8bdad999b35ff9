"""Request bodies limited before anything is parsed (issue 11): size (413) and JSON depth (422), in the error
shape, over real HTTP."""
from __future__ import annotations

import httpx

from test_api import serving


def test_request_bodies_are_limited_before_parsing(kb_path):
    with serving(kb_path) as base:
        big = httpx.post(f"{base}/v1/check", content=b'{"profile": {"name": "' + b"x" * 1_100_000 + b'"}}',
                         headers={"content-type": "application/json"}, timeout=30)
        assert big.status_code == 413 and "larger than" in big.json()["error"]
        deep = httpx.post(f"{base}/v1/check", content=('{"profile": ' + "[" * 255 + "]" * 255 + "}").encode(),
                          headers={"content-type": "application/json"}, timeout=30)
        assert deep.status_code == 422 and "nested deeper" in deep.json()["error"]
        fine = httpx.post(f"{base}/v1/chat", json={"message": "容缺受理出自哪条？", "as_of": "2026-11-22"}, timeout=60)
        assert fine.status_code == 200 and fine.json()["citations"]
