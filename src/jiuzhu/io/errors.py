"""Turn pydantic's validation errors into messages our users read (Chinese),
naming the place (file path or claim field) in the glossary's English."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from jiuzhu.domain.vocabulary import BENEFIT_ZH, CATEGORY_ZH, VISIT_ZH

if TYPE_CHECKING:  # only to name the type: reading a plain claim needs no pydantic
    from pydantic import ValidationError

ZH_NAMES: dict[str, str] = {
    str(k.value): v for table in (CATEGORY_ZH, VISIT_ZH, BENEFIT_ZH) for k, v in table.items()
}

_MESSAGES = {
    "extra_forbidden": "未知或位置不对的字段",
    "unexpected_keyword_argument": "未知或位置不对的字段",
    "missing": "缺少必填字段",
    "bool_type": "须为 true 或 false",
    "bool_parsing": "须为 true 或 false",
    "string_type": "须为字符串",
    "string_unicode": "须为有效的 Unicode 字符串",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "int_parsing_size": "整数超出范围",
    "int_from_float": "须为整数，不能有小数",
    "float_type": "须为数值",
    "float_parsing": "须为数值",
    "finite_number": "须为有限的数值",
    "decimal_type": "须为数值",
    "decimal_parsing": "须为数值",
    "date_type": "须为日期 YYYY-MM-DD",
    "date_parsing": "须为日期 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期不存在或格式不对（应为 YYYY-MM-DD）",
    "date_from_datetime_inexact": "须为日期 YYYY-MM-DD，不含时间",
    "datetime_type": "须为日期时间",
    "datetime_parsing": "须为日期时间（如 2023-04-02T08:00:00+08:00）",
    "datetime_from_date_parsing": "须为日期时间（如 2023-04-02T08:00:00+08:00）",
    "time_type": "须为时间",
    "time_parsing": "须为时间（如 08:00:00）",
    "list_type": "须为列表",
    "tuple_type": "须为列表",
    "set_type": "须为列表",
    "iterable_type": "须为列表",
    "dict_type": "须为对象（映射）",
    "mapping_type": "须为对象（映射）",
    "model_type": "须为对象（映射）",
    "model_attributes_type": "须为对象（映射）",
    "dataclass_type": "须为对象（映射）",
    "too_short": "不能为空",
    "string_pattern_mismatch": "格式不对",
    "literal_error": "取值不在允许范围",
    "json_invalid": "不是合法的 JSON",
    "json_type": "须为 JSON 文本",
    "none_required": "须为空值（null）",
    "url_type": "须为网址",
    "url_parsing": "不是有效的网址",
    "url_syntax_violation": "不是有效的网址",
    "url_scheme": "网址的协议不在允许范围",
    "uuid_type": "须为 UUID",
    "uuid_parsing": "不是有效的 UUID",
    "union_tag_invalid": "类型标记不在允许范围",
    "union_tag_not_found": "缺少类型标记",
    "frozen_field": "此字段不能修改",
    "frozen_instance": "不能修改",
    "is_instance_of": "类型不对",
    "date_past": "须为过去的日期",
    "date_future": "须为将来的日期",
    "datetime_past": "须为过去的时间",
    "datetime_future": "须为将来的时间",
    "timezone_naive": "不能带时区",
    "timezone_aware": "须带时区",
}

_BOUNDS = {
    "greater_than": ("gt", "须大于 {}"),
    "greater_than_equal": ("ge", "须不小于 {}"),
    "less_than": ("lt", "须小于 {}"),
    "less_than_equal": ("le", "须不大于 {}"),
    "multiple_of": ("multiple_of", "须为 {} 的整数倍"),
    "decimal_max_digits": ("max_digits", "至多 {} 位数字"),
    "decimal_max_places": ("decimal_places", "至多 {} 位小数"),
    "decimal_whole_digits": ("whole_digits", "整数部分至多 {} 位"),
}

GENERIC = "取值不符合要求"
"""What a person reads for a kind of error without a wording of its own (never English)."""


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
    if kind == "too_long":
        return f"过长：至多 {ctx.get('max_length')} 项"
    if kind in _BOUNDS:
        key, wording = _BOUNDS[kind]
        return f"{wording.format(ctx.get(key))}，得到 {err.get('input')!r}"
    if kind == "enum":
        expected = _with_names(str(ctx.get("expected", "")))
        return f"取值 {err.get('input')!r} 不在允许范围（可用：{expected}）"
    if kind == "literal_error":
        return f"取值 {err.get('input')!r} 不在允许范围（{ctx.get('expected', '')}）"
    if kind in _MESSAGES:
        msg = _MESSAGES[kind]
        if kind in ("extra_forbidden", "unexpected_keyword_argument"):
            return msg
        return f"{msg}，得到 {err.get('input')!r}" if kind != "missing" else msg
    return f"{GENERIC}，得到 {err.get('input')!r}"


def flatten(exc: ValidationError) -> list[tuple[str, str]]:
    """(path, message) for each error, the path in dotted form."""
    return [(dotted(tuple(e["loc"])), describe(dict(e))) for e in exc.errors()]


_JSON_REASONS = (
    ("Expecting value", "此处应为一个值"),
    ("Expecting property name enclosed in double quotes", "此处应为双引号括起的字段名"),
    ("Expecting ':' delimiter", "字段名后缺少冒号"),
    ("Expecting ',' delimiter", "缺少逗号"),
    ("Unterminated string starting at", "字符串缺少结束的双引号"),
    ("Invalid control character at", "字符串中有控制字符（如未转义的换行）"),
    ("Invalid \\uXXXX escape", "无效的 \\u 转义"),
    ("Invalid \\escape", "无效的转义符"),
    ("Extra data", "一个 JSON 值之后还有多余内容（每行只能有一个对象）"),
    ("Illegal trailing comma", "末尾多了逗号"),
)


def json_reason(err: json.JSONDecodeError) -> str:
    """Why a line is not JSON, in Chinese, with the column (the decoder speaks English)."""
    reason = next((zh for en, zh in _JSON_REASONS if err.msg.startswith(en)), "格式不对")
    return f"不是合法的 JSON：{reason}（第 {err.colno} 列）"


TOO_DEEP = "不是可读取的 JSON：嵌套过深"
TOO_LONG = "不是可读取的 JSON：数字过长（整数至多 4300 位）"


class JsonLineError(ValueError):
    """A line that is not a JSON value we can read; ``reason`` says why, in Chinese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_json_line(text: str) -> Any:
    """One line of JSON, or ``JsonLineError``: besides malformed text, Python's decoder
    refuses an integer of more than 4300 digits (ValueError) and runs out of stack on
    deep nesting (RecursionError); each is one bad line, never the end of a batch."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise JsonLineError(json_reason(err)) from None
    except RecursionError:
        raise JsonLineError(TOO_DEEP) from None
    except ValueError:
        raise JsonLineError(TOO_LONG) from None
