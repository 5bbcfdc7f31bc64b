"""入户调查 and 乡镇审核 (晋医保发〔2019〕46号 三(十一)): "乡镇人民政府(街道办事处)要在
村(居)民委员会协助下，对申请医疗救助对象的患病情况和家庭经济状况逐一入户调查，审核公示后报县级医疗
保障部门审批".

The visit is a structured record (the household's members with their income, the
household's income of the last 12 months, its assets, the illness, the investigators'
opinion, the village committee's witness), written with the step that hands it to
township review. The township then passes the application on to 公示 (with the period
and where it is posted) or refuses it with the written notice of 附件5.
"""

from __future__ import annotations

from typing import Any

from jiuzhu.storage.models import HomeVisit, Publicity
from jiuzhu.usecases.access import Caller
from jiuzhu.usecases.applications import Step, opinion_of, step
from jiuzhu.usecases.inputs import Fields
from jiuzhu.usecases.notices import refuse_with_notice
from jiuzhu.usecases.unit import Store

VISIT_FIELDS = (
    "version",
    "visited_on",
    "investigators",
    "members",
    "income",
    "assets",
    "illness",
    "opinion",
    "witness_name",
    "witness_title",
)
MEMBER_FIELDS = ("name", "relation", "age", "health", "occupation", "income")


def _members(f: Fields) -> list[dict[str, Any]]:
    out = []
    for i, raw in enumerate(f.items("members", required=True, what="家庭成员")):
        m = Fields(raw, MEMBER_FIELDS, f.path(f"members[{i}]"))
        out.append(
            {
                "name": m.text("name", required=True, max_length=64, what="姓名"),
                "relation": m.text("relation", required=True, max_length=32, what="与申请人关系"),
                "age": m.integer("age", high=130, what="年龄"),
                "health": m.text("health", max_length=100, what="健康状况"),
                "occupation": m.text("occupation", max_length=64, what="职业"),
                "income_fen": m.money("income", what="近12个月收入") or 0,
            }
        )
        f.errors.extend(m.errors)
    return out


def record_visit(store: Store, caller: Caller, public_id: str, data: Any) -> str:
    """提交入户调查记录: the record, and the step to 乡镇审核."""
    f = Fields(data, VISIT_FIELDS)
    visited = f.date("visited_on", required=True, what="调查日期", not_after=store.today())
    names = [
        n.strip()
        for n in f.items("investigators", required=True, most=10, what="调查人")
        if isinstance(n, str) and n.strip()
    ]
    if "investigators" in f.data and not names:
        f.fail("investigators", "须填写调查人姓名")
    members = _members(f)
    income = f.money("income", required=True, what="家庭近12个月总收入")
    assets = f.text("assets", required=True, max_length=1000, what="家庭财产状况")
    illness = f.text("illness", required=True, max_length=1000, what="患病情况")
    opinion = opinion_of(f, required=True)
    witness = f.text("witness_name", required=True, max_length=64, what="村（居）委会见证人")
    title = f.text("witness_title", required=True, max_length=64, what="见证人职务")
    f.done()
    assert visited is not None and income is not None

    def work(s: Step) -> None:
        if visited < s.app.received_on:
            from jiuzhu.usecases.errors import Kind, Refused

            raise Refused(
                Kind.invalid, "visited_on", f"调查日期 {visited} 早于申请日期 {s.app.received_on}"
            )
        s.session.add(
            HomeVisit(
                application_id=s.app.id,
                visited_on=visited,
                investigators=names,
                members=members,
                income_fen=income,
                assets=assets,
                illness=illness,
                opinion=opinion,
                witness_name=witness,
                witness_title=title,
                recorded_by=s.caller.name,
            )
        )
        s.session.flush()
        s.details = {"visited_on": visited.isoformat(), "investigators": names}
        s.take("record_visit", opinion)

    return step(store, caller, public_id, data, work)


def township_approve(store: Store, caller: Caller, public_id: str, data: Any) -> str:
    """乡镇审核通过并公示: the opinion, and the 公示 (start, end, where posted)."""
    f = Fields(data, ("version", "opinion", "publicity_start", "publicity_end", "publicity_place"))
    opinion = opinion_of(f)
    start = f.date("publicity_start", what="公示开始日期")
    end = f.date("publicity_end", what="公示截止日期")
    place = f.text("publicity_place", max_length=200, what="公示地点") or "村（居）务公开栏"
    f.done()

    def work(s: Step) -> None:
        s.details = {"publicity": [str(start), str(end)], "place": place}
        s.take("township_approve", opinion, publicity=(start, end))
        assert start is not None and end is not None  # the table's publicity_dates_given
        s.session.add(
            Publicity(
                application_id=s.app.id,
                stage="township",
                starts_on=start,
                ends_on=end,
                place=place,
                recorded_by=s.caller.name,
            )
        )

    return step(store, caller, public_id, data, work)


def township_refuse(store: Store, caller: Caller, public_id: str, data: Any) -> str:
    """乡镇审核不予救助, with the written notice (附件5)."""
    return refuse_with_notice(store, caller, public_id, data, "township_refuse")
