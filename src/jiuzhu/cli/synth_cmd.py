"""``jiuzhu synth``: a seeded synthetic population and its year of claims, as Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jiuzhu.cli.common import PolicyOpt, get_policy


def synth(
    policy: PolicyOpt,
    people: Annotated[int, typer.Option("--people", "-n", min=1, help="人数")] = 10_000,
    year: Annotated[int, typer.Option("--year", "-y", help="结算年度")] = 2023,
    out: Annotated[Path, typer.Option("--out", "-o", help="输出目录")] = Path("synth"),
    seed: Annotated[int, typer.Option("--seed", help="随机种子：相同种子生成相同文件")] = 1,
) -> None:
    """生成合成人口（户、地区、救助类别及有效期）和一年的单据，写为 Parquet。"""
    from jiuzhu.synth.population import generate, write

    compiled = get_policy(policy, None, None)
    data = generate(compiled.policy, people, year, seed)
    paths = write(data, str(out))
    typer.echo(
        f"人员 {data.persons.height} 人，救助类别 {data.categories.height} 条，"
        f"单据 {data.claims.height} 笔 → {out}"
    )
    for name, path in paths.items():
        typer.echo(f"  {name}: {path}")
