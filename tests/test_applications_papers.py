"""The papers people receive, read back: the refusal notice (附件5) and the approval notice
as PDF through the service (A4; the number, the reason and clause, the two appeal deadlines
as dates; the amount in figures and words and how it was computed), and the 公示 list as
PDF and XLSX (names partly masked, ID numbers masked, amounts, the period).

Each PDF's pages are also written as PNG (pdftoppm, installed by tools/system-packages
--test) under ``out/papers/`` (``JIUZHU_PAPERS``), to be looked at as a person would."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.application_api import VISIT, Desk, hold, make_desk
from tests.db_fixtures import make_id
from tests.service_helpers import inpatient_claim

ROOT = Path(__file__).resolve().parents[1]
PAPERS = Path(os.environ.get("JIUZHU_PAPERS", ROOT / "out" / "papers"))
D = dt.date
LOW = make_id(801, "140105")
LOW_B = make_id(802, "140105")
A4 = (595, 842)  # points, ±1


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    yield from make_desk(
        f"sqlite:///{tmp_path / 'papers.db'}", "shanxi-2019", "140105", D(2020, 3, 1)
    )


def pages(pdf: bytes, name: str) -> list[str]:
    """The text of each page (whitespace folded), and the pages as PNG for the eye."""
    PAPERS.mkdir(parents=True, exist_ok=True)
    path = PAPERS / f"{name}.pdf"
    path.write_bytes(pdf)
    for old in PAPERS.glob(f"{name}-*.png"):
        old.unlink()
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(PAPERS / name)], check=True)
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(min(w, h) - A4[0]) <= 1 and abs(max(w, h) - A4[1]) <= 1, (w, h)
    return [re.sub(r"\s+", "", p.extract_text()) for p in reader.pages]


def _approved_and_refused(desk: Desk) -> tuple[str, str]:
    hold(desk, LOW, "low_income", "2019-09-01")
    hold(desk, LOW_B, "low_income", "2019-09-01")
    c1 = desk.settle(
        inpatient_claim(
            3, LOW, "30000.00", settlement_date="2020-03-01", admission_date="2020-02-20",
            insurance={"basic_insurance": "5000.00", "critical_illness_insurance": "0.00"},
        )
    )  # fmt: skip
    desk.clock.day = D(2020, 3, 5)
    ids = []
    for person, name in ((LOW, "周低收"), (LOW_B, "欧阳小明")):
        r = desk.submit(
            id_number=person, kind="low_income", applicant_name=name, township="坞城街道",
            account={"holder": name, "bank": "山西农信", "number": "6230000012349876"},
        )  # fmt: skip
        aid = r.json()["application"]["id"]
        desk.attach_all("clerk", aid)
        desk.ok("clerk", aid, "accept")
        desk.ok("clerk_b", aid, "record_visit", **{**VISIT, "visited_on": "2020-03-05"})
        ids.append(aid)
    approved, refused = ids
    desk.ok(
        "clerk", approved, "township_approve", opinion="同意", publicity_start="2020-03-06",
        publicity_end="2020-03-12",
    )  # fmt: skip
    desk.clock.day = D(2020, 3, 9)
    desk.ok(
        "clerk",
        refused,
        "township_refuse",
        opinion="经入户调查，家庭人均收入超过当地低收入家庭认定标准",
        clause="晋医保发〔2019〕46号 三(十一)",
    )
    desk.clock.day = D(2020, 3, 13)
    desk.ok("clerk", approved, "close_publicity")
    desk.ok("reviewer", approved, "assess", claims=[{"settlement_id": c1["id"]}])
    desk.ok("reviewer", approved, "review", opinion="同意")
    desk.clock.day = D(2020, 3, 16)
    desk.ok("approver", approved, "approve", opinion="同意", publicity_place="县医保局公示栏")
    return approved, refused


def _pdf(desk: Desk, aid: str, kind: str) -> bytes:
    [notice] = [n for n in desk.get(aid)["notices"] if n["kind"] == kind]
    r = desk.client.get(
        f"/applications/{aid}/notices/{notice['id']}?format=pdf", headers=desk.h("clerk")
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    return r.content


def test_the_refusal_notice_reads_back(desk: Desk) -> None:
    _approved, refused = _approved_and_refused(desk)
    [text] = pages(_pdf(desk, refused, "refusal"), "refusal-notice")
    for said in (
        "不符合医疗救助条件书面告知书",
        "[2020]第1号",
        "申请人欧阳小明：",
        "你于2020年3月5日提交的医疗救助申请",
        "晋医保发〔2019〕46号三(十一)",
        "家庭人均收入超过当地低收入家庭认定标准",
        "坞城街道办事处决定不予救助",
        "60日内依法提起行政复议",
        "6个月内向人民法院提起诉讼",
        "行政复议至2020年5月8日止",  # 2020-03-09 + 60 days
        "提起诉讼至2020年9月9日止",  # six months on
        "2020年3月9日",
    ):
        assert said in text, said
    assert LOW_B not in text


def test_the_approval_notice_says_the_amount_and_how(desk: Desk) -> None:
    approved, _refused = _approved_and_refused(desk)
    [text, *more] = pages(_pdf(desk, approved, "approval"), "approval-notice")
    whole = text + "".join(more)
    for said in (
        "医疗救助审批结果通知书",
        "[2020]第1号",
        "核定救助金额10000.00元",
        "壹万元整",
        "小店区医疗保障局",
        "2020年3月16日至2020年3月22日在县医保局公示栏公示",
        "************9876",
        "25000.00",  # the base of the engine's line
        "晋医保发〔2019〕46号二(七)",
    ):
        assert said in whole, said
    assert LOW not in whole and LOW[:4] + "**********" + LOW[-4:] in whole


def test_the_publicity_list_in_pdf_and_xlsx(desk: Desk) -> None:
    _approved_and_refused(desk)
    q = "/publicity?stage=result&on=2020-03-18"
    j = desk.client.get(q, headers=desk.h("approver")).json()
    [row] = j["rows"]
    assert (row["name"], row["amount"]) == ("周*收", "10000.00")
    assert row["id_number"] == LOW[:4] + "*" * 10 + LOW[-4:]
    pdf = desk.client.get(q + "&format=pdf", headers=desk.h("approver"))
    [text] = pages(pdf.content, "publicity-list")
    for said in ("医疗救助审批结果公示", "周*收", "10000.00", "2020年3月16日至2020年3月22日"):
        assert said in text, said
    assert LOW not in text and "周低收" not in text
    x = desk.client.get(q + "&format=xlsx", headers=desk.h("approver"))
    assert x.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(x.content)).active
    assert ws is not None
    cells = [[c.value for c in r] for r in ws.iter_rows()]
    flat = [v for r in cells for v in r if v is not None]
    assert "周*收" in flat and LOW not in flat
    assert any(str(v) == "10000.00" or v == 10000 for v in flat)
    township = desk.client.get(
        "/publicity?stage=township&on=2020-03-10", headers=desk.h("clerk")
    ).json()
    assert [r["amount"] for r in township["rows"]] == [None]  # not yet computed
