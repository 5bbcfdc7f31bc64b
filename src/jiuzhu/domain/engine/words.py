"""The words of a rule, built from the values in force.

A schedule in a policy file names whom it is for (``text``); what it pays
("超过起付线 3000.00 元的部分按 50% 救助，年度救助限额 15000.00 元") is written here
from the compiled functions and caps. An override of a rate or a cap therefore
changes the words too: nobody reads "按50%" beside a 60% formula.
"""

from __future__ import annotations

from collections.abc import Iterable

from jiuzhu.domain.engine.rules import Cap, CapKind, ResolvedSchedule
from jiuzhu.domain.money import format_rate, format_yuan
from jiuzhu.domain.piecewise import Piecewise
from jiuzhu.domain.vocabulary import VisitType


def yuan(fen: int) -> str:
    """An amount as people read it in a sentence: ``3000.00 元``."""
    return f"{format_yuan(fen)} 元"


def visit_words(visits: Iterable[VisitType]) -> str:
    return "、".join(v.zh for v in visits)


def rate_words(fn: Piecewise, per_claim_deductible: bool = False, verb: str = "") -> str:
    """How F pays above its deductible: ``超过起付线 3000.00 元的部分按 50%``.

    ``per_claim_deductible``: the deductible is taken off each claim before it
    enters the base (basic insurance), so F itself has none to mention.
    """
    if not fn.segments:
        return "比例由审核认定"
    tail = f" {verb}" if verb else ""
    if len(fn.segments) == 1 and fn.segments[0].lower == 0 and fn.segments[0].upper is None:
        body = f"按 {format_rate(fn.segments[0].rate)}{tail}"
    else:
        parts = []
        for seg in fn.segments:
            rate = format_rate(seg.rate)
            if seg.upper is None:
                parts.append(f"{format_yuan(seg.lower)} 元以上按 {rate}")
            elif seg.lower == 0:
                parts.append(f"{format_yuan(seg.upper)} 元以下按 {rate}")
            else:
                parts.append(f"{format_yuan(seg.lower)}–{format_yuan(seg.upper)} 元按 {rate}")
        body = "分段" + "、".join(parts) + tail
    if per_claim_deductible:
        return body
    if fn.deductible:
        return f"超过起付线 {yuan(fn.deductible)}的部分{body}"
    return f"不设起付线，{body}"


def _scope(cap: Cap, pools: dict[str, str]) -> str:
    """Which claims a cap covers, in words ("" for all of the benefit's)."""
    if cap.kind is CapKind.limit:
        assert cap.visit_types is not None
        return visit_words(sorted(cap.visit_types, key=list(VisitType).index))
    if cap.kind is CapKind.pool and len(pools) > 1:
        return pools[cap.pool or ""]
    if cap.kind is CapKind.shared and set(cap.keys) != set(pools):
        return "、".join(words for pool, words in pools.items() if pool in cap.keys)
    return ""


def cap_name(cap: Cap, pools: dict[str, str], noun: str = "年度限额") -> str:
    """``年度救助限额`` / ``住院年度救助限额`` / ``普通门诊年度救助限额``."""
    return f"{_scope(cap, pools)}{noun}"


def caps_words(sched: ResolvedSchedule, pools: dict[str, str], noun: str = "年度限额") -> str:
    """``年度救助限额 150000.00 元（其中普通门诊 20000.00 元）`` or ``不设年度救助限额``."""
    if not sched.caps:
        return f"不设{noun}"
    outer = [c for c in sched.caps if c.kind is not CapKind.limit]
    inner = [c for c in sched.caps if c.kind is CapKind.limit]
    text = "、".join(f"{cap_name(c, pools, noun)} {yuan(c.amount)}" for c in outer)
    if inner:
        within = "、".join(f"{_scope(c, pools)} {yuan(c.amount)}" for c in inner)
        text = f"{text}（其中{within}）" if text else f"{within}{noun}"
    return text


def schedule_words(
    sched: ResolvedSchedule, pool: str, pools: dict[str, str], verb: str, noun: str
) -> str:
    """The rule of one pool in a sentence: rate part, then caps
    (``不设起付线，按 70% 救助，年度救助限额 30000.00 元``)."""
    fn = sched.functions[pool]
    rate = rate_words(fn, bool(sched.per_claim_deductibles), verb)
    return f"{rate}，{caps_words(sched, pools, noun)}"


def benefit_nouns(insurance: bool) -> tuple[str, str]:
    """(verb, cap noun) as the documents say them for insurance and for assistance."""
    return ("支付", "年度最高支付限额") if insurance else ("救助", "年度救助限额")
