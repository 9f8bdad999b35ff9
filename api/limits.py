"""Request limits applied before anything is parsed: a body larger than the limit is refused (413), a JSON body
nested deeper than the limit is refused (422) — both in the error shape {"error", "field"}."""
from __future__ import annotations

import json


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
