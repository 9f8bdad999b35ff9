"""The API fuzzed against its own OpenAPI schema (schemathesis, bounded: a few examples per operation, well under a
minute in all): no answer is a 5xx, and every answer — errors too — has a status code, content type and body
its operation declares. Then the inputs a fuzzer is unlikely to hit: NUL bytes and lone surrogates in chat
messages and query parameters, a 10 MB body, deep JSON."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from api.app import Settings, create_app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = 6  # per operation: ~20 operations, the whole file in well under 60 s


# The app is made when the module is collected (schemathesis reads its schema then; the schema needs no KB);
# the KB it serves is copied into place before the first test. The chat rate limit is tested elsewhere
# (tests/test_http_security.py): here it would answer 429 for most turns.
KB = Path(tempfile.mkdtemp(prefix="xinyi-fuzz-")) / "kb.sqlite"
TOKEN = "fuzz-token"
APP = create_app(Settings(db_path=KB, chat_rate_per_minute=0, write_token=TOKEN))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def served_kb(kb_path):
    shutil.copy(kb_path, KB)
    yield KB
    shutil.rmtree(KB.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def app(served_kb):
    return APP


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_declared(case):
    # positive_data_acceptance is left out: the API refuses some values JSON Schema cannot say are wrong (a day
    # outside 1949–2100, 2026-02-30, a profile whose facts contradict each other), always with a declared 4xx
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"},
                           excluded_checks=[schemathesis.checks.positive_data_acceptance])


# ---- explicit cases ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as c:
        yield c


def raw_json(text: str) -> bytes:
    """A JSON body written by hand, so that escapes like \\u0000 and \\ud800 reach the server as sent."""
    return text.encode("utf-8")


def post_raw(client, path: str, body: bytes):
    return client.post(path, content=body, headers={"content-type": "application/json"})


@pytest.mark.parametrize("message", ["你好\\u0000", "\\u0000", "容缺受理\\ud800出自哪条", "\\udfff", "\\ud83d",
                                     "我们在无锡\\u0000标准化二级", "\\ufeff\\u200b", "a\\u0000b\\ud800c"])
def test_nul_and_lone_surrogates_in_chat_are_4xx_or_an_answer(client, message):
    r = post_raw(client, "/v1/chat", raw_json(f'{{"message": "{message}", "as_of": "2026-11-22"}}'))
    assert r.status_code < 500, r.text
    assert r.status_code in (200, 422), r.text
    body = r.json()
    assert ("reply" in body) if r.status_code == 200 else set(body) == {"error", "field"}


def test_a_lone_surrogate_is_refused_and_a_pair_is_text(client):
    r = post_raw(client, "/v1/chat", raw_json('{"message": "容缺受理\\ud800出自哪条"}'))
    assert r.status_code == 422 and "lone surrogate (\\ud800)" in r.json()["error"]
    pair = post_raw(client, "/v1/chat", raw_json('{"message": "容缺受理出自哪条\\ud83d\\ude00", "as_of": "2026-11-22"}'))
    assert pair.status_code == 200 and pair.json()["citations"]
    for body in (b'{"message": "\xed\xa0\x80"}', b'{"message": "\xff\xfe"}', b'{"message": "a\x00b"}'):
        r = post_raw(client, "/v1/chat", body)  # bytes that are not UTF-8, a raw NUL: no JSON text
        assert 400 <= r.status_code < 500 and set(r.json()) == {"error", "field"}, (body, r.text)


def test_nul_and_lone_surrogates_in_a_session_id_and_a_profile(client):
    r = post_raw(client, "/v1/chat", raw_json('{"message": "你好", "session_id": "abc\\u0000"}'))
    assert r.status_code == 422 and r.json()["field"] == "session_id"
    r = post_raw(client, "/v1/chat", raw_json('{"message": "你好", "session_id": "\\ud800"}'))
    assert r.status_code == 422
    for value in ("\\u0000", "\\ud800", "无锡\\udfff"):
        r = post_raw(client, "/v1/check", raw_json(f'{{"profile": {{"region": "{value}"}}, "as_of": "2026-11-22"}}'))
        assert r.status_code in (200, 422), r.text


@pytest.mark.parametrize("path", ["/v1/clauses/search?q={}", "/v1/measures?department={}", "/v1/conditions?role={}",
                                  "/v1/notifications?department={}", "/v1/push-items?department={}",
                                  "/v1/documents/{}", "/v1/documents/{}/versions", "/v1/sessions/{}",
                                  "/v1/enterprises/{}"])
@pytest.mark.parametrize("value", ["%00", "a%00b", "%ED%A0%80", "%ED%BF%BF", "%C0%80", "%FF%FE", "%F0%9F"])
def test_nul_and_bad_utf8_in_query_and_path_are_4xx_or_an_answer(client, path, value):
    r = client.get(path.format(value))
    assert r.status_code < 500, (path, value, r.text)
    if r.status_code >= 400:
        assert set(r.json()) == {"error", "field"}


def test_a_10_mb_body_is_413(client):
    big = b'{"message": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    for path, method in (("/v1/chat", "POST"), ("/v1/check", "POST"), ("/v1/sessions/abc/facts", "PUT")):
        r = client.request(method, path, content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and set(r.json()) == {"error", "field"}, path


def test_deep_json_is_422(client):
    deep = '{"profile": ' + "[" * 10_000 + "]" * 10_000 + "}"
    r = post_raw(client, "/v1/check", deep.encode())
    assert r.status_code == 422 and "nested deeper" in r.json()["error"]
    deep_chat = '{"message": "你好", "as_of": ' + '{"a": ' * 5_000 + "1" + "}" * 5_000 + "}"
    r = post_raw(client, "/v1/chat", deep_chat.encode())
    assert r.status_code == 422


def test_the_schema_declares_the_error_shape_for_every_operation(app):
    spec = app.openapi()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for code, resp in op["responses"].items():
                if code.startswith(("4", "5")):
                    ref = resp["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorBody"), (method, path, code)
            assert "503" in op["responses"] and "422" in op["responses"], (method, path)
