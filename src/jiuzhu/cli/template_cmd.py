"""``jiuzhu template claims|roster|roster-changes FILE``: blank files to fill in.

Each template has the headers the importers read and one filled example row that reads
back in as it stands (``settle --input``, ``roster import``), so a clerk sees what goes
where; its 备注 (or the 填写说明 sheet) says to replace it. Templates are XLSX, formatted
by ``io.xlsx``, with drop-down lists where a column has fixed choices.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from jiuzhu.cli.common import fail, writable, written

if TYPE_CHECKING:
    from jiuzhu.io.xlsx import Sheet, Value


class Template(StrEnum):
    claims = "claims"
    roster = "roster"
    roster_changes = "roster-changes"


EXAMPLE_NOTE = "示例行：请改为实际数据后再导入"
HOUSEHOLD_HEAD = "140105198001010011"
"""The example's IDs: shaped and check-digited as GB 11643 requires, made up (小店区)."""
HOUSEHOLD_MEMBER = "140105198203040024"


def _claims() -> list[Sheet]:
    from jiuzhu.domain.vocabulary import CATEGORY_ZH, VISIT_ZH
    from jiuzhu.io.claims_table import FIELDS
    from jiuzhu.io.xlsx import Column, Sheet

    example: dict[str, Value] = {
        "claim_id": "示例-0001",
        "person_id": HOUSEHOLD_HEAD,
        "category": "低保",
        "visit_type": "住院",
        "settlement_date": dt.date(2023, 4, 2),
        "admission_date": dt.date(2023, 3, 25),
        "hospital_level": "二级",
        "referred": "是",
        "total": Decimal("60000.00"),
        "full_self_pay": Decimal("4000.00"),
        "partial_self_pay": Decimal("1000.00"),
        "policy_scope": Decimal("55000.00"),
        "basic_insurance": Decimal("20000.00"),
        "critical_illness_insurance": Decimal("5000.00"),
        "out_of_area": "否",
    }
    choices = {
        "category": tuple(CATEGORY_ZH.values()),
        "visit_type": tuple(VISIT_ZH.values()),
        "hospital_level": ("一级", "二级", "三级"),
    }
    columns = []
    for f in FIELDS:
        header = f"{f.header}（元）" if f.kind == "money" else f.header
        kind = {"money": "money", "date": "date"}.get(f.kind, "text")
        offered = choices.get(f.field) or (("是", "否") if f.kind == "flag" else ())
        columns.append(Column(header, kind, choices=offered))  # type: ignore[arg-type]
    guide = [[f.header, "必填" if f.required else "选填", f.how, f.field] for f in FIELDS]
    return [
        Sheet("单据", columns, [[example.get(f.field) for f in FIELDS]]),
        Sheet(
            "填写说明",
            [Column("列名"), Column("是否必填"), Column("填写要求", "wrap"), Column("标识符")],
            guide,
            title="单据表填写说明：每行一笔结算；第一张工作表的示例行请改为实际数据",
            notes=[
                "金额单位为元，至多两位小数；医疗总费用须等于 全自费 + 先行自付 + 政策范围内费用。",
                "导入：jiuzhu settle --policy 政策 --input 本文件 --output 结果.xlsx",
            ],
        ),
    ]


_ROSTER_COLUMNS = ("乡(镇)", "行政村", "户主姓名", "身份证号码", "家庭人口数", "家庭成员姓名",
                   "身份证号码")  # fmt: skip


def _roster(changes: bool) -> list[Sheet]:
    from jiuzhu.io.xlsx import Column, Sheet

    extra = ["动态调整工作类型", "动态调整时间", "月", "年"] if changes else []
    headers = [*_ROSTER_COLUMNS, *extra, "对象类别", "行政区划代码", "备注"]
    kinds = {"动态调整时间": "date", "家庭人口数": "integer"}
    offered = {
        "动态调整工作类型": ("新识别", "自然增加", "自然减少"),
        "对象类别": ("低保", "特困", "重点优抚"),
    }
    columns = [
        Column(h, kinds.get(h, "text"), choices=offered.get(h, ()))  # type: ignore[arg-type]
        for h in headers
    ]
    head: list[Value] = ["示例镇", "示例村", "张三", HOUSEHOLD_HEAD, 2]
    blank: list[Value] = [None] * len(head)  # the household's columns: on its first row only
    if changes:
        rows: list[list[Value]] = [
            [*head, "张三", HOUSEHOLD_HEAD, "新识别", dt.date(2023, 3, 1), 3, 2023],
            [*blank, "李四", HOUSEHOLD_MEMBER, "自然增加", dt.date(2023, 3, 15), 3, 2023],
        ]
        title = [
            "附件3",
            "示例县 2023年 第1季度（月） 医疗救助重点救助对象动态调整名单",
            "单位名称（盖章）：　　　　对象类别（低保□特困□重点优抚□）",
        ]
        how = "动态调整工作类型填 新识别、自然增加 或 自然减少；动态调整时间为证明之日或退出之日"
    else:
        rows = [[*head, "张三", HOUSEHOLD_HEAD], [*blank, "李四", HOUSEHOLD_MEMBER]]
        title = [
            "附件2",
            "示例县 医疗救助重点救助对象名单",
            "单位名称（盖章）：　　　　对象类别（低保□特困□重点优抚□）",
            "2023年1月1日",
        ]
        how = "标题中的日期为名单生效日期（也可导入时用 --valid-from 给出）"
    for r in rows:
        r.extend(["低保", "140105" if r[0] else None, EXAMPLE_NOTE])
    notes = [
        "注：户主的乡(镇)、行政村、户主姓名、身份证号码、家庭人口数只在每户第一行填写；"
        "对象类别可填 低保、特困、重点优抚 或类别名称；行政区划代码为 GB/T 2260 六位代码（选填）。",
        f"说明：{how}。导入：jiuzhu roster import 本文件",
    ]
    return [Sheet("动态调整名单" if changes else "名单", columns, rows, title=title, notes=notes)]


def template(
    kind: Annotated[
        Template,
        typer.Argument(
            metavar="种类",
            help="claims：单据表；roster：名单（附件2）；roster-changes：动态调整名单（附件3）",
        ),
    ],
    file: Annotated[Path, typer.Argument(metavar="文件", help="要写出的模板文件（.xlsx）")],
) -> None:
    """写出空白模板：表头与一行填好的示例（可照样读回），填写后即可导入。"""
    from jiuzhu.io.xlsx import write_xlsx

    suffix = file.suffix.lower()
    if suffix != ".xlsx":
        shown = f"「{suffix}」" if suffix else "（没有扩展名）"
        fail(f"模板文件的类型{shown}不受支持：须以 .xlsx 结尾")
    target = writable(file, "模板文件")
    sheets = _claims() if kind is Template.claims else _roster(kind is Template.roster_changes)
    with written(target, "模板文件") as tmp:
        write_xlsx(tmp, sheets)
    names = {Template.claims: "单据表", Template.roster: "名单（附件2）",
             Template.roster_changes: "动态调整名单（附件3）"}  # fmt: skip
    typer.echo(f"已写出{names[kind]}模板 {target}（含一行示例，请改为实际数据）")
