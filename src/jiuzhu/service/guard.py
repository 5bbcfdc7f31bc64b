"""What every request and answer passes through: the body-size limit, the JSON reader,
and the cleaning of error bodies.

- **Body size**: ``BodyLimit`` (ASGI middleware) refuses a body over the route's limit
  with 413 before it is read whole: by its ``Content-Length`` at once, else while it
  streams in. JSON routes allow ``MAX_JSON_BYTES``; ``/rosters`` its files; an
  application's papers (``/applications/{id}/documents``) 10 MB.
- **JSON**: ``read_json`` takes ``application/json`` only (415 otherwise), decodes strict
  UTF-8, parses, and refuses a lone surrogate anywhere in a string (JSON allows
  ``"\\ud800"``; UTF-8 cannot carry it, and it would fail later as a 500) with a 422
  that names where.
- **Error bodies**: ``clean`` masks every ID number (ASCII or full-width digits, 15 or 18
  characters), cuts each message and field to a short length and keeps at most
  ``MAX_ERRORS`` errors, so an answer never echoes a whole ID number or megabytes.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jiuzhu.io.errors import TOO_DEEP, TOO_LONG
from jiuzhu.usecases.errors import Kind, Refused

MAX_JSON_BYTES = 256 * 1024
ROSTER_BYTES = 20 * 1024 * 1024
ROSTER_LIMIT = ROSTER_BYTES + 64 * 1024  # the file and its multipart framing
MAX_MESSAGE = 300
MAX_FIELD = 100
MAX_ERRORS = 20

# an ID number in any script's digits (Python's \d is Unicode): 15 (old) or 18 characters,
# or any longer run, with a final X; masked whole, first four and last four kept
_ID_RUN = re.compile(r"(?<!\d)(?:\d{15,}|\d{14,}[XxＸｘ])(?![\dXxＸｘ])")


def mask_all(text: str) -> str:
    return _ID_RUN.sub(lambda m: m[0][:4] + "*" * (len(m[0]) - 8) + m[0][-4:], text)


def _cut(text: str, limit: int) -> str:
    text = mask_all(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    out = [
        {
            "field": _cut(str(e.get("field", "")), MAX_FIELD),
            "message": _cut(str(e.get("message", "")), MAX_MESSAGE),
        }
        for e in errors[:MAX_ERRORS]
    ]
    if len(errors) > MAX_ERRORS:
        out.append({"field": "", "message": f"另有 {len(errors) - MAX_ERRORS} 项错误未列出"})
    return out


class TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"body over {limit} bytes")
        self.limit = limit


DOCUMENT_LIMIT = 10 * 1024 * 1024 + 64 * 1024  # a paper of an application and its framing
_DOCUMENTS = re.compile(r"^(?:/web)?/applications/[^/]+/documents/?$")  # API and page


def limit_for(path: str) -> int:
    if path.rstrip("/") == "/rosters":
        return ROSTER_LIMIT
    if _DOCUMENTS.match(path):
        return DOCUMENT_LIMIT
    return MAX_JSON_BYTES


def too_large_message(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"请求体过大：上限 {limit // 1024 // 1024} MB"
    return f"请求体过大：上限 {limit // 1024} KB"


class BodyLimit:
    """Refuse bodies over the route's limit, counted as they stream in."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _answer_413(send, limit)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise TooLarge(limit)
            return message

        await self.app(scope, counted, send)


async def _answer_413(send: Send, limit: int) -> None:
    body = json.dumps(
        {"errors": [{"field": "", "message": too_large_message(limit)}]}, ensure_ascii=False
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


SURROGATE = "含有无法编码的 Unicode 代理字符（孤立的 \\ud800–\\udfff）"
NUL = "含有 NUL 字符（\\u0000）：文本中不得含有，数据库也无法保存"


def _unstorable(value: Any, path: str = "") -> tuple[str, str] | None:
    """The path of the first string (or key) that cannot be stored as text, and why: a
    lone surrogate (not UTF-8) or a NUL (PostgreSQL refuses it in text); else None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or "(body)", SURROGATE
        return (path or "(body)", NUL) if "\x00" in value else None
    if isinstance(value, dict):
        for k, v in value.items():
            where = f"{path}.{k}" if path else str(k)
            found = _unstorable(k, where) or _unstorable(v, where)
            if found:
                return found
        return None
    if isinstance(value, list):
        for i, v in enumerate(value):
            found = _unstorable(v, f"{path}[{i}]")
            if found:
                return found
    return None


class NotJsonNumber(ValueError):
    """NaN or Infinity in a body: Python's decoder takes them, JSON has no such numbers."""


def _no_constants(name: str) -> Any:
    raise NotJsonNumber(f"不是合法的 JSON 数值：{name}")


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def read_json(request: Request, *, exact_decimals: bool = False) -> Any:
    """The request's JSON body, or a ``Refused`` (415/422) naming what is wrong.

    ``exact_decimals``: numbers with a fraction become ``Decimal`` (the national
    platform's messages carry money as JSON numbers; a float must never hold money)."""
    if not is_json(request.headers.get("content-type", "")):
        raise UnsupportedMedia()
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise Refused(
            Kind.invalid, "", f"请求体不是 UTF-8 编码（第 {err.start + 1} 个字节起无法解码）"
        ) from None
    try:
        data = json.loads(
            text,
            parse_constant=_no_constants,
            parse_float=Decimal if exact_decimals else float,
        )
    except json.JSONDecodeError as err:
        raise Refused(
            Kind.invalid,
            "",
            f"请求体不是合法的 JSON：{err.msg}（第 {err.lineno} 行第 {err.colno} 列）",
        ) from None
    except RecursionError:
        raise Refused(Kind.invalid, "", f"请求体{TOO_DEEP}") from None
    except NotJsonNumber as err:
        raise Refused(Kind.invalid, "", f"请求体不是合法的 JSON：{err}") from None
    except ValueError:  # an integer too long for Python's decoder
        raise Refused(Kind.invalid, "", f"请求体{TOO_LONG}") from None
    found = _unstorable(data)
    if found is not None:
        raise Refused(Kind.invalid, *found)
    return data


class UnsupportedMedia(Exception):
    """Answered 415: the body is not ``application/json``."""
