"""Checking what a person typed: every problem collected with its field, then one refusal.

The application use cases take plain dictionaries (a JSON body, a form, the CLI's
options), so the pages, the API and the command line give the same errors, each naming
its field (``bill.total``, ``members[1].income``), in Chinese.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from jiuzhu.domain.ids import mask_ids_in
from jiuzhu.domain.money import Fen, parse_yuan
from jiuzhu.usecases.errors import Kind, Refused

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_YUAN = re.compile(r"^[0-9]{1,10}\.[0-9]{2}$")


class Fields:
    """Read a body's fields one by one; ``done()`` raises every problem at once."""

    def __init__(self, data: Any, allowed: Iterable[str], where: str = "") -> None:
        self.where = where
        self.errors: list[tuple[str, str]] = []
        if not isinstance(data, Mapping):
            self.data: Mapping[str, Any] = {}
            self.errors.append((where, "须为一个 JSON 对象（键值对）"))
            return
        self.data = data
        known = set(allowed)
        for key in data:
            if key not in known:
                self.errors.append(
                    (self.path(str(key)), f"未知的字段（可用：{'、'.join(sorted(known))}）")
                )

    def path(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def fail(self, name: str, message: str) -> None:
        self.errors.append((self.path(name), message))

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        max_length: int = 200,
        what: str = "",
        mask: bool = True,
    ) -> str:
        """A text field, stripped; an ID number typed into it is masked (``mask``: every
        free text is kept and shown, and no answer shows a whole ID number)."""
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(name, f"须填写{what or name}")
            return ""
        if not isinstance(value, str):
            self.fail(name, f"{what or name}须为文字，得到 {type(value).__name__}")
            return ""
        value = value.strip()
        if _CONTROL.search(value):
            self.fail(name, f"{what or name}含有控制字符")
            return ""
        if len(value) > max_length:
            self.fail(name, f"{what or name}不得超过 {max_length} 个字符（现有 {len(value)} 个）")
            return ""
        return mask_ids_in(value) if mask else value

    def date(
        self,
        name: str,
        *,
        required: bool = False,
        what: str = "",
        not_after: dt.date | None = None,
    ) -> dt.date | None:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                self.fail(name, f"须填写{what or name}（YYYY-MM-DD）")
            return None
        if not isinstance(value, str):
            self.fail(name, f"{what or name}须为日期字符串 YYYY-MM-DD")
            return None
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            self.fail(name, f"{what or name}不是有效日期：{value[:20]!r}（应为 YYYY-MM-DD）")
            return None
        if not_after is not None and day > not_after:
            self.fail(name, f"{what or name} {day} 晚于今天（北京时间 {not_after}）")
            return None
        return day

    def money(self, name: str, *, required: bool = False, what: str = "") -> Fen | None:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                self.fail(name, f"须填写{what or name}（元，两位小数，如 1234.56）")
            return None
        if not isinstance(value, str) or not _YUAN.match(value.strip()):
            self.fail(name, f'{what or name}须为带两位小数的元字符串（如 "1234.56"）')
            return None
        return parse_yuan(value.strip())

    def integer(
        self, name: str, *, required: bool = False, low: int = 0, high: int = 10**9, what: str = ""
    ) -> int | None:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                self.fail(name, f"须填写{what or name}")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value.strip())
            else:
                self.fail(name, f"{what or name}须为整数")
                return None
        if not low <= value <= high:
            self.fail(name, f"{what or name}须在 {low} 至 {high} 之间")
            return None
        return value

    def boolean(self, name: str, *, required: bool = False, what: str = "") -> bool | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.fail(name, f"须填写{what or name}（true 或 false）")
            return None
        if isinstance(value, bool):
            return value
        if value in ("true", "是", "成立"):
            return True
        if value in ("false", "否", "不成立"):
            return False
        self.fail(name, f"{what or name}须为 true 或 false")
        return None

    def items(
        self, name: str, *, required: bool = False, most: int = 50, what: str = ""
    ) -> list[Any]:
        value = self.data.get(name)
        if value is None:
            if required:
                self.fail(name, f"须填写{what or name}")
            return []
        if not isinstance(value, list):
            self.fail(name, f"{what or name}须为列表")
            return []
        if required and not value:
            self.fail(name, f"{what or name}至少须有一项")
        if len(value) > most:
            self.fail(name, f"{what or name}至多 {most} 项")
            return []
        return value

    def done(self) -> None:
        if self.errors:
            raise Refused.many(Kind.invalid, self.errors)


def version_of(data: Mapping[str, Any] | Any) -> int:
    """The version a step was made on (``version``): required, a whole number ≥ 1."""
    value = data.get("version") if isinstance(data, Mapping) else None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Refused(
            Kind.invalid,
            "version",
            "须给出所依据的申请版本号 version（整数，见申请详情）："
            "并发修改时据此拒绝，不会覆盖他人的办理",
        )
    return value
