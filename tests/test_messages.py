"""Messages people read when a library or the system refuses something: the JSON decoder,
pydantic, openpyxl and zip, the operating system; each put in Chinese words."""

from __future__ import annotations

import errno
import json
import zipfile
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from jiuzhu.io.claims_table import _money
from jiuzhu.io.errors import describe, json_reason
from jiuzhu.io.oserrors import reason
from jiuzhu.io.xlsx import TableFileError, read_rows
from tests.english import english_words


@pytest.mark.parametrize(
    "text",
    ['{"a" 1}', '{"a":1,}', '{"a":"x', '{"a":"\\q"}', '{"a":"\\uzz"}', "{} {}", "{a:1}",
     "[1 2]", "", '{"a":"\x01"}', "nul"],
)  # fmt: skip
def test_json_decoder_errors_in_chinese(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as err:
        json.loads(text)
    said = json_reason(err.value)
    assert said.startswith("不是合法的 JSON：") and "列）" in said
    assert not english_words(said), said


class Everything(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = Field(ge=1, le=5)
    x: float
    s: str = Field(min_length=2, max_length=3)
    items: list[int] = Field(max_length=2)
    when: str
    flag: bool


@pytest.mark.parametrize(
    "data",
    [
        {"n": 0}, {"n": 9}, {"n": "x"}, {"n": 1.5}, {"x": "y"}, {"s": "a"}, {"s": "abcd"},
        {"s": 5}, {"items": [1, 2, 3]}, {"items": "x"}, {"flag": "perhaps"}, {"colour": 1},
    ],
)  # fmt: skip
def test_pydantic_errors_in_chinese(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as err:
        Everything.model_validate(data)
    for e in err.value.errors():
        said = describe(dict(e))
        assert not english_words(said, also={"x", "y", "a", "abcd", "perhaps"}), (e, said)


def test_broken_workbooks_are_said_in_chinese(tmp_path: Path) -> None:
    not_zip = tmp_path / "a.xlsx"
    not_zip.write_bytes(b"this is not a workbook")
    zip_not_xlsx = tmp_path / "b.xlsx"
    with zipfile.ZipFile(zip_not_xlsx, "w") as z:
        z.writestr("hello.txt", "x")
    for path in (not_zip, zip_not_xlsx):
        with pytest.raises(TableFileError) as err:
            read_rows(path)
        assert "不是有效的 XLSX 工作簿" in str(err.value) and not english_words(str(err.value))
    with pytest.raises(TableFileError) as err:
        read_rows(tmp_path / "missing.csv")
    assert "找不到文件或目录" in str(err.value)
    with pytest.raises(TableFileError):
        read_rows(tmp_path / "c.docx")


def test_system_errors_in_chinese() -> None:
    for number in (errno.ENOENT, errno.EACCES, errno.EISDIR, errno.ENOSPC, errno.EROFS, 9999):
        said = reason(OSError(number, "English words"))
        assert said and not english_words(said), said


@pytest.mark.parametrize(
    ("cell", "contract"),
    [(60000, "60000.00"), (526.11, "526.11"), (0.1, "0.10"), ("1,234.5", "1234.50"),
     ("60000.005", "60000.005"), (60000.005, "60000.005"), ("6万", "6万"), (-5, "-5.00")],
)  # fmt: skip
def test_money_cells_become_yuan_strings_or_stay_for_the_check(cell: object, contract: str) -> None:
    """A number is read to the fen from its shortest decimal form, never rounded: what does
    not fit two decimals is passed on as it is, and the claim's own check refuses it."""
    assert _money(cell) == contract
