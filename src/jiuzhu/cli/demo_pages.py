"""``jiuzhu demo --web``: a demonstration database for the staff pages, a demo account,
and the service serving them (README "The staff pages").

Everything goes in through the service's own doors, as a bureau's data would: a 附件2
roster (households of 聊城市 with their townships and categories) imported by
``io.rosters``, a hospital's API client and token, the hospital's claims of last year
and this year settled one by one by ``usecases.settle`` (categories from the registry,
caps and explanations by the engine), one reversal (``usecases.reverse``) whose
re-settlement writes adjustments, and a staff account (``usecases.staff``). Dates are
relative to today in Beijing, so the year shown is always current.

The file is the demo's own (``jiuzhu-demo.db`` by default): run again, it is not seeded
twice; the demo account gets a new password. A file that is not a demo database is
never touched.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jiuzhu.domain.ids import check_digit

POLICY = "liaocheng-2023"
HOSPITAL = "聊城市人民医院（演示）"
DEMO_USER = "demo"
DEMO_NAME = "演示管理员"
"""The demo account is the city's 管理员: it sees every application of 聊城市 and may take
every step, so the worklist's 待办 is not empty and every form can be tried."""
DEMO_JURISDICTION = "3715"
MARK = "demo-"  # every demo claim id starts with it


@dataclass(frozen=True, slots=True)
class Household:
    township: str
    village: str
    district: str
    category: str
    members: tuple[tuple[str, str], ...]
    """(name, birth date YYYYMMDD) of each member; the first is the head."""


HOUSEHOLDS = (
    Household(
        "古楼街道", "东关社区", "371502", "低保", (("张建国", "19580312"), ("李秀英", "19600821"))
    ),
    Household("湖西街道", "王口村", "371502", "特困", (("王德福", "19470105"),)),
    Household(
        "郑家镇", "前刘村", "371502", "低保", (("刘长河", "19720916"), ("刘小雨", "20080430"))
    ),
    Household("阿城镇", "北街村", "371521", "特困", (("赵玉兰", "19520227"),)),
    Household("侨润街道", "西关村", "371521", "低保", (("孙明", "19850610"), ("周丽", "19870302"))),
)
SERIAL_START = 101
ORDINARY = ("古楼街道", "371502", "陈秀梅", "")
"""An insured person on no roster (an ordinary person at the desk) whose application for
因病致贫重病患者 the demo takes to 支付: the look-back re-settles her claim (补付)."""


def id_number(district: str, birth: str, serial: int) -> str:
    first17 = f"{district}{birth}{serial:03d}"
    return first17 + check_digit(first17)


def ordinary() -> tuple[str, str, str, str]:
    """(township, district, name, 身份证号) of :data:`ORDINARY`."""
    township, district, name, _ = ORDINARY
    return township, district, name, id_number(district, "19630708", 951)


def people() -> list[tuple[Household, str, str]]:
    """(household, name, 身份证号) of every member, in roster order."""
    out = []
    serial = SERIAL_START
    for h in HOUSEHOLDS:
        for name, birth in h.members:
            out.append((h, name, id_number(h.district, birth, serial)))
            serial += 2
    return out


def write_roster(path: Path, valid_from: dt.date) -> Path:
    """A 附件2 list with a 对象类别 and a 行政区划代码 column (山西 三(十)'s layout)."""
    rows: list[list[object]] = [
        ["聊城市医疗救助重点救助对象名单（演示）"],
        ["单位名称（盖章）：聊城市民政局"],
        [f"{valid_from.year}年{valid_from.month}月{valid_from.day}日"],
        ["乡（镇）", "行政村", "户主姓名", "身份证号码", "家庭人口数", "家庭成员姓名",
         "身份证号码", "对象类别", "行政区划代码", "备注"],
    ]  # fmt: skip
    serial = SERIAL_START
    for h in HOUSEHOLDS:
        head_id = id_number(h.district, h.members[0][1], serial)
        for i, (name, birth) in enumerate(h.members):
            member_id = id_number(h.district, birth, serial)
            serial += 2
            if i == 0:
                rows.append([h.township, h.village, name, head_id, len(h.members), name,
                             member_id, h.category, h.district, ""])  # fmt: skip
            else:
                rows.append(["", "", "", "", "", name, member_id, h.category, "", ""])
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def claims(today: dt.date) -> list[dict[str, Any]]:
    """Last year's and this year's claims of the demo people, each a hospital's JSON."""
    last = today.year - 1

    def ago(days: int) -> dt.date:
        return today - dt.timedelta(days=days)

    inpatient, chronic = "inpatient", "outpatient_chronic"
    plan = [
        # person, date, visit, level, total, 全自费, 先行自付, basic, critical (yuan)
        (0, dt.date(last, 3, 14), inpatient, 2, 48600, 3200, 1400, 26000, 4100),
        (0, dt.date(last, 9, 2), chronic, 2, 6800, 300, 200, 3900, 0),
        (2, dt.date(last, 6, 20), inpatient, 3, 126500, 8900, 4100, 61000, 21800),
        (0, ago(120), inpatient, 3, 126300, 5600, 2300, 44000, 22500),
        (0, ago(60), inpatient, 2, 39800, 2100, 900, 21500, 3100),
        (0, ago(20), chronic, 2, 5200, 260, 120, 2900, 0),
        (2, ago(90), inpatient, 2, 52300, 3600, 1700, 28000, 4600),
        (3, ago(45), inpatient, 2, 31200, 1800, 800, 17400, 1500),
        (5, ago(30), inpatient, 1, 18900, 900, 500, 10800, 0),
    ]
    everyone = people()
    from jiuzhu.domain.money import format_yuan

    plan.append((-1, ago(100), inpatient, 2, 35000, 0, 0, 15000, 2000))  # the ordinary one

    out = []
    for n, (who, day, visit, level, total, full, partial, basic, critical) in enumerate(plan, 1):
        yuan = {k: format_yuan(v * 100) for k, v in
                {"total": total, "full": full, "partial": partial, "basic": basic,
                 "critical": critical, "scope": total - full - partial}.items()}  # fmt: skip
        admitted = day - dt.timedelta(days=9 if visit == "inpatient" else 0)
        out.append({
            "claim_id": f"{MARK}{day.year}-{n:03d}",
            "person_id": everyone[who][2] if who >= 0 else ordinary()[3],
            "visit_type": visit,
            "settlement_date": day.isoformat(),
            "admission_date": admitted.isoformat(),
            "hospital_level": level,
            "referred": True,
            "total": yuan["total"],
            "full_self_pay": yuan["full"],
            "partial_self_pay": yuan["partial"],
            "policy_scope": yuan["scope"],
            "insurance": {"basic_insurance": yuan["basic"],
                          "critical_illness_insurance": yuan["critical"]},
        })  # fmt: skip
    return sorted(out, key=lambda c: c["settlement_date"])


REVERSED = 1
"""Which of this year's claims of the first person the hospital reverses (录入错误): the
re-settlement of the person's later claims that year writes adjustments."""


@dataclass(frozen=True, slots=True)
class Seeded:
    people: int
    settlements: int
    adjustments: int
    fresh: bool
    applications: int = 0


def _staff(role: str, district: str, name: str) -> Any:
    """A member of the county's staff as the use cases know callers."""
    from jiuzhu.usecases.access import Caller, Role
    from jiuzhu.usecases.staff import NO_CLIENT

    roles = {"clerk": Role.township_clerk, "reviewer": Role.county_reviewer,
             "approver": Role.county_approver}  # fmt: skip
    return Caller(NO_CLIENT, name, roles[role], district)


def seed_applications(store: Any, today: dt.date) -> int:
    """Applications of 因病致贫重病患者 (聊城实施方案 四(一)) in several states, each step
    taken through the use cases by the county's staff of the right role on days relative
    to today (the store's today set to each step's day, as the tests' clock does): one
    just registered (受理), one waiting for its home visit past its deadline (入户调查,
    已超期), one at 县级审核 with its amount to assess, one refused at the township with
    its written notice, one paid."""
    from jiuzhu.usecases import application_documents, applications, approval, assessment, publicity
    from jiuzhu.usecases import home_visits as visits

    everyone = people()
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # a scanned paper's stand-in

    def ago(days: int) -> str:
        return (today - dt.timedelta(days=days)).isoformat()

    def on(days: int) -> None:
        """Take the next steps as on that day (each step is dated by the store's today)."""
        day = today - dt.timedelta(days=days)
        store.today = lambda: day

    names = {"371502": ("王秀云", "李建军", "赵明", "孙丽"),
             "371521": ("周红", "吴强", "郑伟", "冯静")}  # fmt: skip

    def staff(district: str) -> dict[str, Any]:
        clerk, visitor, reviewer, approver = names[district]
        return {
            "clerk": _staff("clerk", district, clerk),
            "visitor": _staff("clerk", district, visitor),
            "reviewer": _staff("reviewer", district, reviewer),
            "approver": _staff("approver", district, approver),
        }

    def version(who: Any, aid: str) -> int:
        from jiuzhu.usecases import application_reads

        return application_reads.get(store, who, aid).summary.version

    def submit(n: int, days: int) -> tuple[str, dict[str, Any]]:
        if n >= 0:
            h, name, number = everyone[n]
            township, district = h.township, h.district
        else:
            township, district, name, number = ordinary()
        s = staff(district)
        on(days)
        aid = applications.submit(store, s["clerk"], {
            "id_number": number, "kind": "illness_impoverished", "applicant_name": name,
            "township": township, "received_on": ago(days),
            "reason": "患重病，医疗费用负担重，家庭经济困难",
            "account": {"holder": name, "bank": "聊城农商银行（演示）",
                        "number": f"62284800{n % 100:08d}"},
        })  # fmt: skip
        return aid, s

    def accept(aid: str, s: dict[str, Any], days: int) -> None:
        w = s["clerk"]
        on(days)
        for key in ("identity", "diagnosis", "receipts", "insurance_proof", "household_economy"):
            application_documents.attach(store, w, aid, {"key": key, "version": version(w, aid)},
                                         png, file_name=f"{key}.png")  # fmt: skip
        applications.accept(
            store, w, aid, {"version": version(w, aid), "opinion": "材料齐全，受理"}
        )

    def visit(aid: str, s: dict[str, Any], n: int, days: int) -> None:
        name = everyone[n][1] if n >= 0 else ordinary()[2]
        w = s["visitor"]
        on(days)
        visits.record_visit(store, w, aid, {
            "version": version(w, aid), "visited_on": ago(days),
            "investigators": ["王调查", "李调查"],
            "members": [{"name": name, "relation": "本人", "age": 50, "health": "患病",
                         "income": "3600.00"}],
            "income": "3600.00", "assets": "自有住房一处，无车辆，无存款",
            "illness": "重病，长期治疗", "opinion": "经入户调查，家庭经济困难，患病属实",
            "witness_name": "刘保国", "witness_title": "村委会主任",
        })  # fmt: skip

    def publicized(aid: str, s: dict[str, Any], days: tuple[int, int, int, int]) -> None:
        """乡镇审核 on the first day, 公示 from the second to the third, closed on the fourth."""
        w = s["clerk"]
        on(days[0])
        visits.township_approve(store, w, aid, {
            "version": version(w, aid), "opinion": "情况属实，同意上报",
            "publicity_start": ago(days[1]), "publicity_end": ago(days[2]),
        })  # fmt: skip
        on(days[3])
        publicity.close_publicity(store, w, aid, {"version": version(w, aid)})

    submit(1, 2)  # 受理
    late, s = submit(3, 25)
    accept(late, s, 24)  # 入户调查, past its 10 days
    review, s = submit(4, 30)
    accept(review, s, 30)
    visit(review, s, 4, 28)
    publicized(review, s, (17, 16, 10, 9))  # 县级审核
    refused, s = submit(5, 30)
    accept(refused, s, 29)
    visit(refused, s, 5, 27)
    on(25)
    visits.township_refuse(store, s["clerk"], refused, {
        "version": version(s["clerk"], refused),
        "opinion": "家庭年收入高于当地认定标准（演示）", "clause": "聊城实施方案 四(一)",
    })  # fmt: skip
    paid, s = submit(-1, 60)  # the ordinary person: her claim of 100 days ago is looked back on
    accept(paid, s, 59)
    visit(paid, s, -1, 58)
    publicized(paid, s, (57, 56, 50, 49))
    r, a = s["reviewer"], s["approver"]
    on(48)
    assessment.assess(store, r, paid, {"version": version(r, paid), "identified_on": ago(48)})
    on(47)
    approval.review(store, r, paid, {"version": version(r, paid), "opinion": "同意"})
    on(46)
    approval.approve(store, a, paid, {
        "version": version(a, paid), "opinion": "同意救助",
        "publicity_start": ago(45), "publicity_end": ago(39),
    })  # fmt: skip
    on(38)
    publicity.close_publicity(store, a, paid, {"version": version(a, paid)})
    on(37)
    approval.pay(store, a, paid, {"version": version(a, paid), "voucher": "ZF-演示-0001"})
    store.today = lambda: today
    return 5


def seed(db: str) -> Seeded:
    """Seed ``db`` (a SQLite file path or URL) unless it holds the demo already."""
    from sqlalchemy import func, select

    from jiuzhu.io.policy_files import load_compiled
    from jiuzhu.io.rosters import import_roster, parse_roster
    from jiuzhu.storage.db import upgrade
    from jiuzhu.storage.models import (
        Adjustment,
        ApiClient,
        Application,
        Person,
        SettlementRecord,
        StaffUser,
    )
    from jiuzhu.usecases import reverse, settle, tokens
    from jiuzhu.usecases.access import Caller, Role
    from jiuzhu.usecases.unit import Store, beijing_today, policy_area, service_engine

    compiled = load_compiled(POLICY)
    engine = service_engine(db)
    upgrade(engine)
    store = Store(engine, compiled, policy_area(compiled))
    try:
        with store.sessions() as session:
            demo = session.scalar(select(StaffUser.id).where(StaffUser.username == DEMO_USER))
            total = session.scalar(select(func.count()).select_from(SettlementRecord)) or 0
        if demo is None and total:
            raise ValueError("此数据库已有结算数据，不是演示数据库：请用 --db 另给一个文件")
        fresh = demo is None
        if fresh:
            today = beijing_today()
            with tempfile.TemporaryDirectory() as tmp:
                roster = write_roster(Path(tmp) / "演示名单.csv", dt.date(today.year - 1, 1, 1))
                with store.sessions() as session, session.begin():
                    import_roster(session, parse_roster(roster))
            with store.sessions() as session, session.begin():
                tokens.create_token(session, HOSPITAL, Role.hospital, DEMO_JURISDICTION)
                client_id = session.scalar(select(ApiClient.id).where(ApiClient.name == HOSPITAL))
            assert client_id is not None
            hospital = Caller(client_id, HOSPITAL, Role.hospital, DEMO_JURISDICTION)
            settled = [settle.settle(store, hospital, c["claim_id"], c) for c in claims(today)]
            first = people()[0][2]
            this_year = [
                o.view for o in settled
                if o.view.id_number == first and o.view.year == today.year
            ]  # fmt: skip
            reverse.reverse(store, hospital, this_year[REVERSED - 1].public_id, "录入错误（演示）")
            seed_applications(store, today)
        with store.sessions() as session:
            count = session.scalar(select(func.count()).select_from(Person)) or 0
            total = session.scalar(select(func.count()).select_from(SettlementRecord)) or 0
            adjusted = session.scalar(select(func.count()).select_from(Adjustment)) or 0
            applied = session.scalar(select(func.count()).select_from(Application)) or 0
        return Seeded(count, total, adjusted, fresh, applied)
    finally:
        engine.dispose()


def demo_account(db: str) -> str:
    """The demo account's password: a new one each run (shown once)."""
    from sqlalchemy import select

    from jiuzhu.storage.db import make_engine, session_factory
    from jiuzhu.storage.models import StaffUser
    from jiuzhu.usecases.access import Role
    from jiuzhu.usecases.staff import create_user, generate_password, reset_password

    password = generate_password()
    engine = make_engine(db)
    try:
        with session_factory(engine).begin() as session:
            exists = session.scalar(select(StaffUser.id).where(StaffUser.username == DEMO_USER))
            if exists is None:
                create_user(session, DEMO_USER, DEMO_NAME, Role.admin, DEMO_JURISDICTION,
                            password)  # fmt: skip
            else:
                reset_password(session, DEMO_USER, password)
    finally:
        engine.dispose()
    return password


def run(db: str, port: int, serve: bool) -> None:
    """Seed, print the account and the address, then serve (unless ``serve`` is false)."""
    import typer

    from jiuzhu.cli.common import EXIT_USAGE, fail

    try:
        done = seed(db)
    except ValueError as err:
        fail(str(err), EXIT_USAGE)
    password = demo_account(db)
    what = "已建立" if done.fresh else "沿用已有的"
    typer.echo(
        f"{what}演示数据库 {db}：{done.people} 人，{done.settlements} 笔结算，"
        f"{done.adjustments} 项调整，{done.applications} 件救助申请（政策 {POLICY}）"
    )
    typer.echo(f"网址：http://127.0.0.1:{port}/web/")
    typer.echo(f"用户名：{DEMO_USER}（{DEMO_NAME}，辖区 {DEMO_JURISDICTION} 聊城市）")
    typer.echo(f"密码：{password}（每次运行重新生成）")
    if not serve:
        return
    typer.echo("按 Ctrl+C 停止服务。")
    import uvicorn

    from jiuzhu.service.app import create_app
    from jiuzhu.service.logs import log_config

    app = create_app(db, POLICY)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=log_config())
