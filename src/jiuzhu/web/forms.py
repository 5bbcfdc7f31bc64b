"""Reading a posted form, and the errors a page shows beside its fields.

Forms are ``application/x-www-form-urlencoded`` (python-multipart through Starlette):
every field one short text, at most ``MAX_FORM_FIELDS`` of them, each cut to
``MAX_VALUE`` characters. A page that refuses a form renders itself again with
``FieldErrors``: each message sits beside its field (``aria-describedby``), and a summary
at the top links to them, in Chinese.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from starlette.exceptions import HTTPException
from starlette.requests import Request

from jiuzhu.web.security import MAX_FORM_FIELDS, same_origin, token_matches

MAX_VALUE = 1000


@dataclass
class FieldErrors:
    """Field name → what is wrong with it, in the order found."""

    messages: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.messages.setdefault(name, message)

    def get(self, name: str) -> str | None:
        return self.messages.get(name)

    def __bool__(self) -> bool:
        return bool(self.messages)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.messages.items())


async def read_form(request: Request) -> dict[str, str]:
    """The form's fields (the first value of each), stripped and cut to ``MAX_VALUE``."""
    data = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    out: dict[str, str] = {}
    for key, value in data.multi_items():
        if isinstance(value, str) and key not in out:
            out[key[:100]] = value.strip()[:MAX_VALUE]
    return out


CSRF_REFUSED = "表单已过期或来自其他网站，未作任何处理：请回到页面后重新提交"


async def staff_form(request: Request, csrf: str) -> dict[str, str]:
    """A form posted by a page of this session: its fields, or 403 (nothing done) when
    it comes from another origin or without this session's CSRF token."""
    form = await read_form(request)
    if not same_origin(request) or not token_matches(csrf, form):
        raise HTTPException(403, CSRF_REFUSED)
    return form
