"""Settlements as a table for people: CSV (UTF-8 with BOM) and XLSX, Chinese headers.

The columns are those of the Parquet table (``settlements_columnar``) in the same order,
named as a bureau names them, with the category's Chinese name and the person's ID
number masked. An XLSX adds a 合计 row and a second sheet with every explanation line
(amount, base, formula, clause), so a reviewer can check a figure without the JSON.

The CSV is written by Polars from the table (a year of claims in seconds), the XLSX
through ``io.xlsx`` (Excel holds about a million rows; past that the command says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.vocabulary import BENEFIT_ZH, CATEGORY_ZH, GRANT_ZH, PERSONAL_ZH, Category

if TYPE_CHECKING:
    import polars as pl

    from jiuzhu.domain.engine.settlement import Settlement
    from jiuzhu.io.xlsx import Column

SUMMARY_SHEET = "结算结果"
LINES_SHEET = "结算说明"
ID_PATTERN = r"^[1-9][0-9]{16}[0-9Xx]$"


def headers() -> dict[str, str]:
    """Parquet column → the Chinese header of the CSV and XLSX (in the table's order)."""
    return {
        "claim_id": "单据号",
        "person_id": "参保人",
        "policy": "政策",
        "category": "适用救助对象类别",
        "total": "医疗总费用（元）",
        **{b.value: f"{zh}（元）" for b, zh in BENEFIT_ZH.items()},
        "critical_care_grant": f"{GRANT_ZH}（另行发放，元）",
        "personal": f"{PERSONAL_ZH}（元）",
    }


def _columns() -> list[Column]:
    from jiuzhu.io.xlsx import Column

    out = []
    for header in headers().values():
        money = header.endswith("元）")
        out.append(Column(header, "money", total=True) if money else Column(header))
    return out


def write_csv(frame: pl.DataFrame, path: str | Path) -> None:
    """The table as CSV: UTF-8 with BOM, Chinese headers and names, IDs masked, every text
    field that looks like a formula escaped (the rule of ``io.xlsx.csv_text``)."""
    import polars as pl

    from jiuzhu.io.xlsx import FORMULA_START_PATTERN

    def text(name: str) -> pl.Expr:
        col = pl.col(name)
        return (
            pl.when(col.str.contains(FORMULA_START_PATTERN))
            .then(pl.lit("'") + col)
            .otherwise(col)
            .alias(name)
        )

    person = pl.col("person_id")
    masked = (
        pl.when(person.str.contains(ID_PATTERN))
        .then(person.str.slice(0, 4) + pl.lit("*" * 10) + person.str.slice(14, 4))
        .otherwise(person)
        .alias("person_id")
    )
    names = {c.value: zh for c, zh in CATEGORY_ZH.items()}
    table = frame.with_columns(
        masked, pl.col("category").replace_strict(names, default=pl.col("category"))
    ).with_columns(text("claim_id"), text("person_id"), text("policy"), text("category"))
    table.rename(headers()).write_csv(path, include_bom=True)


def write_xlsx(
    frame: pl.DataFrame, settlements: Sequence[Settlement], path: str | Path, title: str
) -> None:
    """The table with a 合计 row, and the explanation lines of ``settlements``."""
    from jiuzhu.io.xlsx import Column, Sheet, Value, write_xlsx, yuan

    rows: list[list[Value]] = []
    for r in frame.iter_rows():
        claim_id, person, policy, category, *money = r
        rows.append(
            [claim_id, mask_id(person), policy, Category(category).zh, *money],
        )
    lines: list[list[Value]] = []
    for s in settlements:
        for line in s.lines:
            item = "救助身份" if line.benefit == "category" else _benefit_zh(line.benefit)
            lines.append(
                [
                    s.claim_id,
                    item,
                    None if line.benefit == "category" else yuan(line.amount),
                    None if line.base is None else yuan(line.base),
                    line.formula,
                    line.clause,
                    line.text,
                ]
            )
    note = f"共 {len(rows)} 笔；金额单位：元。"
    sheets = [
        Sheet(SUMMARY_SHEET, _columns(), rows, title=title, notes=[note]),
        Sheet(
            LINES_SHEET,
            [
                Column("单据号"),
                Column("项目"),
                Column("金额（元）", "money"),
                Column("计算基数（元）", "money"),
                Column("计算公式", "wrap"),
                Column("政策条款"),
                Column("说明", "wrap"),
            ],
            lines,
            title=title,
            landscape=True,
        ),
    ]
    write_xlsx(path, sheets)


def _benefit_zh(benefit: str) -> str:
    for b, zh in BENEFIT_ZH.items():
        if b.value == benefit:
            return zh
    return GRANT_ZH if benefit == "critical_care_grant" else benefit
