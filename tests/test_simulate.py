"""``jiuzhu simulate``: deltas computed by hand on a tiny year, and the command end to end.

The tiny year (聊城 2023, tiers 1–2 computed from the policy's assumed values):

* P-N, 低保边缘家庭成员, two level-2 inpatient claims:
  c1 policy scope 20000.00 (+4000.00 outside it): basic 75% × (20000 − 500) = 14625.00,
  burden 5375.00; c2 policy scope 10000.00: basic 75% × (10000 − 500) = 7125.00,
  burden 2875.00. Yearly burden 8250.00 < 大病保险 15000 deductible, so no tier 2.
  医疗救助 F(C) = rate × (C − 3000): at 50% F(5375) = 1187.50, F(8250) = 2625.00;
  at 60% 1425.00 and 3150.00. The reform costs 3150.00 − 2625.00 = 525.00.
  再救助 (above 10000 after assistance) pays nothing either way.
* P-D, 低保对象, one claim of 10000.00: basic 7125.00, burden 2875.00 (tilted 大病保险
  deductible 7500: nothing), 医疗救助 70% × 2875 = 2012.50, 再救助 nothing (< 5000).
* P-O, ordinary, a 普通门诊 visit of 300.00: basic 50% = 150.00.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from jiuzhu.analysis.report_html import ReportMeta, render
from jiuzhu.analysis.simulation import Simulation, distribution, nearest_rank, simulate, to_json
from jiuzhu.domain.engine.rules import CompiledPolicy
from jiuzhu.domain.vocabulary import Benefit, Category
from jiuzhu.io.claims_columnar import read_parquet
from jiuzhu.io.columnar import yuan
from jiuzhu.io.policy_files import compile_policy, load_policy
from jiuzhu.synth.population import generate, write
from tests.cli_helpers import invoke

POLICY = "liaocheng-2023"
NEAR_RATE = "benefits.medical_assistance.schedules.near_poor.rate"
KEY_RATE = "benefits.medical_assistance.schedules.key_groups.rate"
NEAR_NAME = "医疗救助·低保边缘家庭成员及防止返贫监测帮扶对象·比例"
ID_NUMBER = "371502199001011234"  # shaped like a 身份证号: must never be shown whole

CATEGORY_TYPE = pl.List(
    pl.Struct({"category": pl.Utf8, "valid_from": pl.Date, "valid_to": pl.Date})
)


def _claim(
    claim_id: str,
    person_id: str,
    day: str,
    scope: int,
    outside: int = 0,
    visit: str = "inpatient",
    level: int = 2,
    category: str | None = None,
) -> dict[str, Any]:
    """One row with the columns ``jiuzhu synth`` writes (money in fen here, yuan in the file)."""
    d = dt.date.fromisoformat(day)
    return {
        "claim_id": claim_id,
        "person_id": person_id,
        "visit_type": visit,
        "settlement_date": d,
        "admission_date": d,
        "hospital_level": level,
        "referred": True,
        "total": scope + outside,
        "full_self_pay": outside * 3 // 4,
        "partial_self_pay": outside - outside * 3 // 4,
        "policy_scope": scope,
        "other_payments": 0,
        "disease": None,
        "quota_hospital": False,
        "late_stage": False,
        "categories": None
        if category is None
        else [{"category": category, "valid_from": None, "valid_to": None}],
    }


def write_claims(path: Path, rows: list[dict[str, Any]]) -> Path:
    frame = pl.DataFrame(
        {
            "claim_id": [r["claim_id"] for r in rows],
            "person_id": [r["person_id"] for r in rows],
            "visit_type": [r["visit_type"] for r in rows],
            "settlement_date": pl.Series([r["settlement_date"] for r in rows], dtype=pl.Date),
            "admission_date": pl.Series([r["admission_date"] for r in rows], dtype=pl.Date),
            "hospital_level": pl.Series([r["hospital_level"] for r in rows], dtype=pl.Int8),
            "referred": [r["referred"] for r in rows],
            **{
                name: yuan(pl.Series([r[name] for r in rows], dtype=pl.Int64))
                for name in (
                    "total",
                    "full_self_pay",
                    "partial_self_pay",
                    "policy_scope",
                    "other_payments",
                )
            },
            "disease": pl.Series([r["disease"] for r in rows], dtype=pl.Utf8),
            "quota_hospital": [r["quota_hospital"] for r in rows],
            "late_stage": [r["late_stage"] for r in rows],
            "categories": pl.Series([r["categories"] for r in rows], dtype=CATEGORY_TYPE),
        }
    )
    path.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path / "claims.parquet")
    return path


def tiny_rows(near_person: str = "P-N") -> list[dict[str, Any]]:
    return [
        _claim("c1", near_person, "2023-03-10", 2_000_000, 400_000, category="near_dibao"),
        _claim("c2", near_person, "2023-08-20", 1_000_000, category="near_dibao"),
        _claim("c3", "P-D", "2023-05-05", 1_000_000, category="dibao"),
        _claim("c4", "P-O", "2023-06-01", 30_000, visit="outpatient_general", level=1),
    ]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_claims(tmp_path_factory.mktemp("tiny"), tiny_rows())


def policy(*sets: str) -> CompiledPolicy:
    return compile_policy(load_policy(POLICY, sets=list(sets)))


def run(claims: Path, *sets: str, top: int = 10) -> Simulation:
    return simulate(policy(), policy(*sets), read_parquet(claims / "claims.parquet"), top=top)


def by_category(sim: Simulation) -> dict[Category, Any]:
    return {r.category: r for r in sim.by_category}


# ---------------------------------------------------------------------- by hand
def test_baseline_is_the_hand_computation(tiny: Path) -> None:
    sim = run(tiny)
    assert sim.claims == 4 and sim.persons == 3
    assert sim.total == 4_430_000
    assert sim.spending[Benefit.basic_insurance].baseline == 1_462_500 + 712_500 + 712_500 + 15_000
    assert sim.spending[Benefit.medical_assistance].baseline == 262_500 + 201_250
    assert sim.spending[Benefit.re_assistance].baseline == 0
    assert sim.personal.baseline == 962_500 + 86_250 + 15_000


def test_one_rate_changes_spending_by_exactly_what_the_claims_imply(tiny: Path) -> None:
    sim = run(tiny, f"{NEAR_RATE}=60%")
    ma = sim.spending[Benefit.medical_assistance]
    assert (ma.baseline, ma.reform, ma.delta) == (463_750, 516_250, 52_500)
    assert sim.assistance.delta == 52_500
    assert sim.personal.delta == -52_500
    for b in Benefit:
        if b is not Benefit.medical_assistance:
            assert sim.spending[b].delta == 0, b
    rows = by_category(sim)
    assert rows[Category.near_dibao].assistance.delta == 52_500
    assert rows[Category.near_dibao].personal.delta == -52_500
    assert rows[Category.dibao].assistance.delta == 0
    assert rows[Category.ordinary].assistance.baseline == 0
    assert rows[Category.near_dibao].persons.baseline == 1
    assert rows[Category.near_dibao].claims.baseline == 2
    assert [(c.path, c.baseline, c.reform) for c in sim.changes] == [(NEAR_RATE, "50%", "60%")]


def test_the_key_groups_rate_moves_only_dibao(tiny: Path) -> None:
    # 80% × 2875.00 = 2300.00 instead of 2012.50.
    rows = by_category(run(tiny, f"{KEY_RATE}=80%"))
    assert rows[Category.dibao].assistance.delta == 28_750
    assert rows[Category.near_dibao].assistance.delta == 0


def test_indicators_beneficiaries_and_people(tiny: Path) -> None:
    sim = run(tiny, f"{NEAR_RATE}=60%")
    assert (sim.beneficiaries.baseline, sim.beneficiaries.reform) == (2, 2)
    assert sim.new_beneficiaries == sim.lost_beneficiaries == 0
    assisted = sim.indicators["assisted"]
    # Protected over the assisted claims' 44000.00: 33512.50 → 34037.50.
    assert assisted.total == 4_400_000
    assert assisted.protection.baseline.numerator == 3_351_250
    assert assisted.protection.reform.numerator == 3_403_750
    assert (assisted.protection.baseline.percent(), assisted.protection.reform.percent()) == (
        "76.2%",
        "77.4%",
    )
    assert assisted.protection.delta_points() == "+1.19"  # 525 / 44000 = 1.193 points
    everyone = sim.indicators["everyone"]
    assert everyone.burden.baseline.percent() == "24.0%"  # 10637.50 / 44300
    assert everyone.burden.reform.percent() == "22.8%"
    assert everyone.burden.delta_points() == "-1.19"
    assert [(p.person_id, p.personal.delta, p.assistance.delta) for p in sim.gainers] == [
        ("P-N", -52_500, 52_500)
    ]
    assert sim.gainers[0].category is Category.near_dibao
    assert sim.losers == []
    d = sim.distribution["everyone"]
    assert d.persons == 3
    assert d.quantiles["P50"].baseline == 86_250
    assert (d.quantiles["max"].baseline, d.quantiles["max"].reform) == (962_500, 910_000)
    assert d.quantiles["mean"].baseline == 354_583  # 10637.50 / 3, half-up to the fen
    counts = {b.lower: (b.persons.baseline, b.persons.reform) for b in d.buckets}
    assert counts[0] == (1, 1) and counts[50_000] == (1, 1) and counts[500_000] == (1, 1)
    assert sim.distribution["assisted"].persons == 2


def test_a_reform_that_changes_nothing_gives_zero_deltas(tiny: Path) -> None:
    sim = run(tiny, f"{NEAR_RATE}=50%")
    assert sim.changes == []
    assert all(p.delta == 0 for p in sim.spending.values())
    assert sim.assistance.delta == sim.personal.delta == sim.grant.delta == 0
    assert all(r.assistance.delta == 0 and r.personal.delta == 0 for r in sim.by_category)
    assert sim.beneficiaries.delta == 0
    assert sim.gainers == [] and sim.losers == []
    for ind in sim.indicators.values():
        assert ind.protection.delta_points() == ind.burden.delta_points() == "0.00"
    data = to_json(sim)
    assert all(v["delta"] == "0.00" for v in data["spending"].values())
    page = render(sim, ReportMeta(POLICY, "聊城", str(tiny)))
    # no chart of changes nobody has, and no empty table: the note says it
    assert page.count("<svg") == 2 and "没有人的个人负担减轻" in page
    assert "个人负担减轻最多的 0 人" not in page


def test_nearest_rank_and_buckets() -> None:
    import numpy as np

    values = np.array([100, 200, 300, 400], dtype=np.int64)
    assert [nearest_rank(values, q) for q in (25, 50, 75, 99)] == [100, 200, 300, 400]
    d = distribution(values, values + 50_000, bounds=(0, 1_000, 50_000))
    assert [(b.lower, b.upper, b.persons.baseline, b.persons.reform) for b in d.buckets] == [
        (0, 1_000, 4, 0),
        (1_000, 50_000, 0, 0),
        (50_000, None, 0, 4),
    ]


def test_id_numbers_are_masked(tmp_path: Path) -> None:
    claims = write_claims(tmp_path, tiny_rows(near_person=ID_NUMBER))
    sim = run(claims, f"{NEAR_RATE}=60%")
    assert sim.gainers[0].person_id == "3715**********1234"
    page = render(sim, ReportMeta(POLICY, "聊城", str(claims)))
    assert ID_NUMBER not in page and ID_NUMBER not in json.dumps(to_json(sim))


# ---------------------------------------------------------------------- the command
@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    write(generate(load_policy(POLICY), 3000, 2023, 7), str(out))
    return out


@pytest.mark.cli
def test_command_end_to_end(synth_dir: Path, tmp_path: Path) -> None:
    reform = tmp_path / "reform.yaml"
    reform.write_text(
        'benefits:\n  medical_assistance:\n    schedules:\n      near_poor:\n        rate: "60%"\n',
        encoding="utf-8",
    )
    out, js = tmp_path / "report", tmp_path / "sim.json"
    args = ["simulate", "--policy", POLICY, "--claims", str(synth_dir), "--reform", str(reform)]
    result = invoke([*args, "--out", str(out), "--json", str(js), "--top", "5"])
    assert result.code == 0, result.stderr
    assert "各项待遇支出" in result.stdout and NEAR_NAME in result.stdout
    assert NEAR_RATE not in result.stdout  # the parameter in words, not its path

    data = json.loads(js.read_text(encoding="utf-8"))
    assert data["policy"] == POLICY and data["claims"] > 0 and data["input_errors"] == 0
    assert data["changes"] == [
        {
            "path": NEAR_RATE,
            "name": NEAR_NAME,
            "baseline": "50%",
            "reform": "60%",
            "clause": "聊城实施方案 三(四)2",
        }
    ]
    spending = data["spending"]
    assert spending["basic_insurance"]["delta"] == "0.00"
    fen = {k: int(v["delta"].replace(".", "")) for k, v in spending.items()}
    assert fen["medical_assistance"] > 0
    assert fen["assistance_total"] == -fen["personal"]
    cats = data["by_category"]
    assert (
        sum(int(c["assistance"]["delta"].replace(".", "")) for c in cats.values())
        == (fen["assistance_total"])
    )
    assert cats["dibao"]["assistance"]["delta"] == "0.00"
    assert len(data["top_gainers"]) <= 5
    assert all(p["personal"]["delta"].startswith("-") for p in data["top_gainers"])
    assert set(data["indicators"]) == {"everyone", "assisted"}

    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 4
    assert "<?xml" not in page and "http://" not in page.split("<svg", 1)[0]
    assert ">医疗救助</text>" in page  # text, not glyph outlines: searchable
    assert NEAR_NAME in page


@pytest.mark.cli
def test_no_charts_without_out(synth_dir: Path, tmp_path: Path) -> None:
    result = invoke(["simulate", "-p", POLICY, "-c", str(synth_dir), "--top", "0"])
    assert result.code == 0, result.stderr
    assert "与现行政策相同" in result.stdout
    assert not (synth_dir / "report.html").exists()


@pytest.mark.cli
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "benefits.medical_assistance.schedules.nobody.rate=60%"], "政策中没有这个位置"),
        (["--set", f"{NEAR_RATE}=sixty"], "--set"),
        (["--reform", "/nonexistent/reform.yaml"], "无法读取文件"),
    ],
)
def test_bad_reform_is_a_usage_error(tiny: Path, extra: list[str], message: str) -> None:
    result = invoke(["simulate", "-p", POLICY, "-c", str(tiny), *extra])
    assert result.code == 2
    assert message in result.stderr


@pytest.mark.cli
def test_bad_policy_and_missing_claims(tiny: Path, tmp_path: Path) -> None:
    result = invoke(["simulate", "-p", "nowhere-2020", "-c", str(tiny)])
    assert result.code == 2 and "未知的政策" in result.stderr
    result = invoke(["simulate", "-p", POLICY, "-c", str(tmp_path / "missing")])
    assert result.code == 2 and "找不到单据目录" in result.stderr
    result = invoke(["simulate", "-p", POLICY, "-c", str(tmp_path)])
    assert result.code == 2 and "claims.parquet" in result.stderr


@pytest.mark.cli
def test_bad_rows_are_reported_and_the_rest_compared(tmp_path: Path) -> None:
    rows = tiny_rows()
    rows.append({**_claim("c5", "P-X", "2023-07-01", 10_000), "total": 1})
    claims = write_claims(tmp_path / "claims", rows)
    js = tmp_path / "sim.json"
    args = ["simulate", "-p", POLICY, "-c", str(claims), "--set", f"{NEAR_RATE}=60%"]
    result = invoke([*args, "--json", str(js)])
    assert result.code == 1
    assert "c5" in result.stderr and "total" in result.stderr
    data = json.loads(js.read_text(encoding="utf-8"))
    assert data["input_errors"] == 1 and data["claims"] == 4
    assert data["spending"]["medical_assistance"]["delta"] == "525.00"


# ---------------------------------------------------------------------- districts and weights
PLACES = {"P-N": "371502", "P-D": "371503", "P-O": "371502"}


def with_columns(claims: Path, **columns: dict[str, Any]) -> Path:
    """The tiny year's file with per-person columns added (``district``, ``weight``)."""
    frame = pl.read_parquet(claims / "claims.parquet")
    for name, by_person in columns.items():
        frame = frame.with_columns(
            pl.col("person_id").replace_strict(by_person, return_dtype=pl.Utf8 if name ==
                                               "district" else pl.Int64).alias(name)
        )  # fmt: skip
    frame.write_parquet(claims / "claims.parquet")
    return claims


def run_cmd(claims: Path, tmp_path: Path, *extra: str) -> dict[str, Any]:
    js = tmp_path / "sim.json"
    args = ["simulate", "-p", POLICY, "-c", str(claims), "--set", f"{NEAR_RATE}=60%"]
    result = invoke([*args, "--json", str(js), *extra])
    assert result.code == 0, result.stderr
    data: dict[str, Any] = json.loads(js.read_text(encoding="utf-8"))
    return data


@pytest.mark.cli
def test_results_by_district(tmp_path: Path) -> None:
    claims = with_columns(write_claims(tmp_path / "c", tiny_rows()), district=PLACES)
    data = run_cmd(claims, tmp_path)
    d = data["by_district"]
    assert set(d) == {"371502", "371503"}
    # 东昌府区: P-N (two claims, 医疗救助 2625.00 → 3150.00) and P-O (no assistance)
    assert d["371502"]["persons"]["baseline"] == 2 and d["371502"]["claims"]["baseline"] == 3
    assert d["371502"]["beneficiaries"]["baseline"] == 1
    assert d["371502"]["assistance"] == {
        "baseline": "2625.00",
        "reform": "3150.00",
        "delta": "525.00",
    }
    assert d["371503"]["assistance"]["delta"] == "0.00"  # P-D, 低保: 2012.50 either way
    assert d["371503"]["assistance"]["baseline"] == "2012.50"


@pytest.mark.cli
def test_weights_raise_the_sample_to_a_population(tmp_path: Path) -> None:
    """P-N stands for 10 people, P-D for 2, P-O for 1: 医疗救助 10 × 2625.00 + 2 × 2012.50 =
    30275.00, the reform's 10 × 525.00 = 5250.00 more; 13 people, 23 claims."""
    weights = {"P-N": 10, "P-D": 2, "P-O": 1}
    claims = with_columns(write_claims(tmp_path / "c", tiny_rows()), weight=weights)
    data = run_cmd(claims, tmp_path, "--changes", str(tmp_path / "people.csv"))
    assert data["weighted"] is True and data["sample"] == {"claims": 4, "persons": 3}
    assert (data["persons"], data["claims"]) == (13, 23)
    assert data["spending"]["medical_assistance"] == {
        "baseline": "30275.00",
        "reform": "35525.00",
        "delta": "5250.00",
    }
    assert data["beneficiaries"]["baseline"] == 12
    assert data["by_category"]["near_dibao"]["persons"]["baseline"] == 10
    q = data["burden_distribution"]["everyone"]
    # burdens 150.00 (weight 1), 862.50 (2), 9625.00 (10): half the 13 people bear 9625.00
    assert q["persons"] == 13 and q["quantiles"]["P50"]["baseline"] == "9625.00"
    assert q["quantiles"]["mean"]["baseline"] == "7548.08"  # 98125.00 / 13, half-up
    people = (tmp_path / "people.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(people) == 2 and people[1].startswith("P-N,") and people[1].endswith(",10")


@pytest.mark.cli
def test_scale_and_a_persons_file(tmp_path: Path) -> None:
    claims = write_claims(tmp_path / "c", tiny_rows())
    persons = tmp_path / "persons.csv"
    persons.write_text(
        "参保人,区县,权重\nP-N,371502,2\nP-D,371503,1\nP-O,371502,1\n", encoding="utf-8"
    )
    data = run_cmd(claims, tmp_path, "--scale", "27.5")
    # everyone alike: 525.00 × 27.5 = 14437.50; 3 × 27.5 = 82.5 people, half-up 83
    assert data["spending"]["medical_assistance"]["delta"] == "14437.50"
    assert data["persons"] == 83
    data = run_cmd(claims, tmp_path, "--persons", str(persons), "--scale", "10")
    assert data["spending"]["medical_assistance"]["delta"] == "10500.00"  # 525.00 × 2 × 10
    assert data["by_district"]["371502"]["persons"]["baseline"] == 30
    bad = invoke(["simulate", "-p", POLICY, "-c", str(claims), "--scale", "-1"])
    assert bad.code == 2 and "--scale" in bad.stderr


def test_weighted_quantiles_are_nearest_rank_with_equal_weights() -> None:
    import numpy as np

    values = np.array([400, 100, 300, 200], dtype=np.int64)
    plain = distribution(values, values)
    same = distribution(values, values, weights=np.full(4, 3_000_000, np.int64))
    assert {k: v.baseline for k, v in plain.quantiles.items()} == {
        k: v.baseline for k, v in same.quantiles.items()
    }
    assert same.persons == 12 and same.buckets[0].persons.baseline == 12


@pytest.mark.cli
def test_tables_as_xlsx_and_csv(tiny: Path, tmp_path: Path) -> None:
    from decimal import Decimal

    from openpyxl import load_workbook

    book, folder = tmp_path / "t.xlsx", tmp_path / "csv"
    run_cmd(tiny, tmp_path, "--xlsx", str(book), "--csv", str(folder))
    wb = load_workbook(book)
    assert "各项待遇支出" in wb.sheetnames and "改革内容" in wb.sheetnames
    assert "负担加重最多" not in wb.sheetnames  # nobody's burden rises: no empty sheet
    rows = list(wb["各项待遇支出"].iter_rows(values_only=True))
    ma = next(r for r in rows if r[0] == "医疗救助")
    assert [Decimal(str(v)) for v in ma[1:]] == [
        Decimal("4637.50"),
        Decimal("5162.50"),
        Decimal("525.00"),
    ]
    changes = list(wb["改革内容"].iter_rows(values_only=True))
    assert any(r[0] == NEAR_NAME for r in changes)
    spending = (folder / "各项待遇支出.csv").read_text(encoding="utf-8-sig")
    assert "医疗救助,4637.50,5162.50,525.00" in spending


def test_the_report_draws_chinese_with_the_installed_font(tiny: Path) -> None:
    sim = run(tiny, f"{NEAR_RATE}=60%")
    page = render(sim, ReportMeta(POLICY, "聊城", str(tiny)))
    assert '@font-face{font-family:"Noto Sans CJK SC"' in page  # the glyphs travel with it
    assert "font-family: 'Noto Sans CJK SC'" in page  # the charts name the same font
    # one unit: yuan with the tables' separators on the charts and in the tables
    assert "+525.00" in page and "4,637.50" in page and "万" not in page
