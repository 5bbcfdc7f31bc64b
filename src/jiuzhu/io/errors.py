"""Turn pydantic's validation errors into messages our users read (Chinese),
naming the place (file path or claim field) in the glossary's English."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from jiuzhu.domain.vocabulary import BENEFIT_ZH, CATEGORY_ZH, VISIT_ZH

ZH_NAMES: dict[str, str] = {
    str(k.value): v for table in (CATEGORY_ZH, VISIT_ZH, BENEFIT_ZH) for k, v in table.items()
}

_MESSAGES = {
    "extra_forbidden": "未知或位置不对的字段",
    "missing": "缺少必填字段",
    "bool_type": "须为 true 或 false",
    "bool_parsing": "须为 true 或 false",
    "string_type": "须为字符串",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "date_type": "须为日期 YYYY-MM-DD",
    "date_parsing": "须为日期 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期不存在或格式不对（应为 YYYY-MM-DD）",
    "date_from_datetime_inexact": "须为日期 YYYY-MM-DD，不含时间",
    "list_type": "须为列表",
    "dict_type": "须为对象（映射）",
    "model_type": "须为对象（映射）",
    "too_short": "不能为空",
    "string_pattern_mismatch": "格式不对",
    "literal_error": "取值不在允许范围",
}


def dotted(loc: tuple[Any, ...]) -> str:
    """``('benefits', 'x', 0, 'rate')`` → ``benefits.x[0].rate``; drops our scalar wrapper."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("value", "function-after[_parse(), str]"):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _with_names(expected: str) -> str:
    """``'dibao' or 'ordinary'`` → ``dibao（低保对象）、ordinary（普通参保人员）``."""
    names = re.findall(r"'([^']*)'", expected)
    if not names:
        return expected
    return "、".join(f"{n}（{ZH_NAMES[n]}）" if n in ZH_NAMES else n for n in names)


def describe(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind == "string_too_short":
        return "不能为空" if ctx.get("min_length") == 1 else f"至少 {ctx.get('min_length')} 个字符"
    if kind == "string_too_long":
        return f"过长：至多 {ctx.get('max_length')} 个字符"
    if kind == "enum":
        expected = _with_names(str(ctx.get("expected", "")))
        return f"取值 {err.get('input')!r} 不在允许范围（可用：{expected}）"
    if kind == "literal_error":
        return f"取值 {err.get('input')!r} 不在允许范围（{ctx.get('expected', '')}）"
    if kind in _MESSAGES:
        msg = _MESSAGES[kind]
        if kind in ("extra_forbidden",):
            return msg
        return f"{msg}，得到 {err.get('input')!r}" if kind != "missing" else msg
    return str(err.get("msg", kind))


def flatten(exc: ValidationError) -> list[tuple[str, str]]:
    """(path, message) for each error, the path in dotted form."""
    return [(dotted(tuple(e["loc"])), describe(dict(e))) for e in exc.errors()]
