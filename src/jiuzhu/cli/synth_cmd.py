"""``jiuzhu synth``: a seeded synthetic population and its year of claims, as Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jiuzhu.cli.common import EXIT_USAGE, PolicyOpt, fail, get_policy

TABLES_ZH = {"persons": "人员", "categories": "救助类别", "claims": "单据"}


def synth(
    policy: PolicyOpt,
    people: Annotated[int, typer.Option("--people", "-n", min=1, help="人数")] = 10_000,
    year: Annotated[int, typer.Option("--year", "-y", help="结算年度")] = 2023,
    out: Annotated[Path, typer.Option("--out", "-o", help="输出目录")] = Path("synth"),
    seed: Annotated[
        int,
        typer.Option("--seed", min=0, help="随机数的起点（非负整数）：取值相同则生成的文件相同"),
    ] = 1,
) -> None:
    """生成合成人口（户、地区、救助类别及有效期）和一年的单据，写为 Parquet。"""
    from jiuzhu.io.oserrors import reason
    from jiuzhu.synth.population import generate, write

    if out.exists() and not out.is_dir():
        fail(f"无法写入输出目录 {out}：这是一个文件，不是目录", EXIT_USAGE)
    compiled = get_policy(policy, None, None)
    data = generate(compiled.policy, people, year, seed)
    try:
        paths = write(data, str(out))
    except OSError as err:
        fail(f"无法写入输出目录 {out}：{reason(err)}", EXIT_USAGE)
    typer.echo(
        f"人员 {data.persons.height} 人，救助类别 {data.categories.height} 条，"
        f"单据 {data.claims.height} 笔，已写入 {out}："
    )
    for name, path in paths.items():
        typer.echo(f"  {TABLES_ZH.get(name, name)}：{path}")
