"""``POST /rosters`` through a real HTTP client, on SQLite and, when configured, PostgreSQL:
the same import as ``jiuzhu roster import``, plus roles, jurisdiction and the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jiuzhu.service.app import create_app
from jiuzhu.storage.models import AuditEntry, CategoryMembership, Person, RosterImport
from jiuzhu.usecases.access import Role
from jiuzhu.usecases.tokens import create_token
from tests.db_fixtures import db_url, make_id
from tests.test_rosters import (
    BAD,
    CHILD,
    HEAD,
    LIST_HEADER,
    WIFE,
    bad_rows,
    change_rows,
    list_rows,
    write_csv,
    write_xlsx,
)

__all__ = ["db_url"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]
    app: Any

    def upload(self, path: Path, who: str = "civil", **form: str) -> Any:
        kind = XLSX if path.suffix == ".xlsx" else "text/csv"
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        files = {"file": (path.name, path.read_bytes(), kind)}
        return self.client.post("/rosters", files=files, data=form, headers=headers)

    def count(self, model: Any, *where: Any) -> int:
        with self.app.state.store.sessions() as s:
            q = select(func.count()).select_from(model)
            for w in where:
                q = q.where(w)
            return int(s.scalar(q) or 0)

    def registry(self) -> tuple[int, int, int, int]:
        return (
            self.count(Person),
            self.count(CategoryMembership),
            self.count(CategoryMembership, CategoryMembership.valid_to.is_not(None)),
            self.count(RosterImport),
        )


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    app = create_app(db_url, "liaocheng-2023")
    tokens = {}
    with app.state.store.sessions() as s, s.begin():
        tokens["civil"] = create_token(s, "东昌府区民政", Role.civil_affairs, "371502")
        tokens["taiyuan"] = create_token(s, "太原民政", Role.civil_affairs, "1401")
        tokens["admin"] = create_token(s, "省管理员", Role.admin, "37")
        tokens["hospital"] = create_token(s, "聊城某医院", Role.hospital, "3715")
        tokens["reviewer"] = create_token(s, "聊城医保审核", Role.reviewer, "3715")
    with TestClient(app) as client:
        yield Api(client, tokens, app)
    app.state.store.engine.dispose()


def test_upload_list_then_changes_then_again(api: Api, tmp_path: Path) -> None:
    listing = write_xlsx(tmp_path / "名单.xlsx", list_rows())
    r = api.upload(listing)
    assert r.status_code == 200, r.json()
    out = r.json()
    assert out["layout"] == "list" and out["file_name"] == "名单.xlsx"
    assert out["counts"] == {"rows": 3, "added": 3, "closed": 0, "unchanged": 0, "bad": 0}
    assert out["changed"] is True and out["already_imported"] is False
    assert out["row_errors"] == []

    changes = write_csv(tmp_path / "调整.csv", change_rows())
    r = api.upload(changes, who="admin")
    assert r.status_code == 200, r.json()
    assert r.json()["layout"] == "changes"
    assert r.json()["counts"] == {"rows": 3, "added": 2, "closed": 1, "unchanged": 0, "bad": 0}
    before = api.registry()
    assert before == (5, 5, 1, 2)

    for path in (listing, changes):  # the same file again: nothing changes, and it says so
        again = api.upload(path)
        assert again.status_code == 200, again.json()
        body = again.json()
        assert body["already_imported"] is True and body["changed"] is False
        assert body["counts"]["added"] == 0 and body["counts"]["closed"] == 0
        assert body["counts"]["unchanged"] == 3
        assert "此前已导入" in body["message"]
    assert api.registry() == before

    with api.app.state.store.sessions() as s:
        audit = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "roster.upload")))
    assert [(a.actor, a.role) for a in audit] == [
        ("东昌府区民政", "civil_affairs"),
        ("省管理员", "admin"),
        ("东昌府区民政", "civil_affairs"),
        ("东昌府区民政", "civil_affairs"),
    ]
    assert audit[0].details["added"] == 3 and audit[0].details["file"] == "名单.xlsx"
    assert audit[2].details["already_imported"] is True
    assert audit[0].target.startswith("roster:")


def test_form_fields_as_the_cli_options(api: Api, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "tekun.csv", [LIST_HEADER, *list_rows()[5:]])
    r = api.upload(path)  # no date in the file, none given
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    assert "--valid-from" in r.json()["errors"][0]["message"]
    r = api.upload(path, category="贫困户", valid_from="2020-01-01")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "category"
    r = api.upload(path, category="特困", valid_from="2020-13-01")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "valid_from"
    assert api.registry() == (0, 0, 0, 0)
    r = api.upload(path, category="特困", valid_from="2020-01-01")
    assert r.status_code == 200, r.json()
    assert r.json()["counts"]["added"] == 3
    with api.app.state.store.sessions() as s:
        held = set(s.execute(select(CategoryMembership.category, CategoryMembership.valid_from)))
    assert {(c, d.isoformat()) for c, d in held} == {("extreme_poor", "2020-01-01")}


def test_not_a_roster(api: Api, tmp_path: Path) -> None:
    h = {"Authorization": f"Bearer {api.tokens['civil']}"}
    r = api.client.post("/rosters", json={"file": "x"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = api.client.post("/rosters", files={"other": ("a.csv", b"x")}, headers=h)
    assert r.status_code == 422 and "字段 file" in r.json()["errors"][0]["message"]
    r = api.client.post("/rosters", files={"file": ("a.pdf", b"%PDF")}, headers=h)
    assert r.status_code == 422 and "CSV 或 XLSX" in r.json()["errors"][0]["message"]
    r = api.client.post("/rosters", files={"file": ("a.xlsx", b"not a zip")}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = api.client.post("/rosters", files={"file": ("a.csv", b"a,b\n1,2\n")}, headers=h)
    assert r.status_code == 422 and "找不到表头" in r.json()["errors"][0]["message"]
    assert api.registry() == (0, 0, 0, 0)
    assert api.count(AuditEntry, AuditEntry.action == "roster.upload") == 0


def test_a_file_of_bad_rows(api: Api, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", bad_rows())  # 140105: 太原 小店区
    r = api.upload(path, who="taiyuan")
    assert r.status_code == 200, r.json()
    out = r.json()
    assert out["counts"]["added"] == 1 and out["counts"]["bad"] == len(BAD) + 4
    got = {(e["row"], e["field"]): e["message"] for e in out["row_errors"]}
    for n, (_, column, fragment) in enumerate(BAD, start=2):
        assert fragment in got[(n, column)], (n, got)
    n = len(BAD) + 2
    assert "6位数字（GB/T 2260）" in got[(n, "行政区划代码")]
    assert "校验码不正确" in got[(n + 2, "身份证号码（户主）")]
    for serial in (21, 25, 26, 27, 28, 29, 40, 41, 43, 44):
        assert make_id(serial) not in r.text  # every ID masked
    assert api.count(CategoryMembership) == 1


def test_roles(api: Api, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名单.xlsx", list_rows())
    for who in ("hospital", "reviewer"):
        r = api.upload(path, who=who)
        assert r.status_code == 403 and r.json()["errors"][0]["field"] == "Authorization"
    r = api.client.post("/rosters", files={"file": ("a.csv", path.read_bytes())})
    assert r.status_code == 401
    assert api.registry() == (0, 0, 0, 0)
    assert api.count(AuditEntry, AuditEntry.action == "roster.upload") == 0


def test_rows_outside_the_jurisdiction(api: Api, tmp_path: Path) -> None:
    listing = write_xlsx(tmp_path / "名单.xlsx", list_rows())  # 371502 IDs, no district column
    r = api.upload(listing, who="taiyuan")
    assert r.status_code == 200, r.json()
    out = r.json()
    assert out["counts"]["added"] == 0 and out["counts"]["bad"] == 3
    assert {e["field"] for e in out["row_errors"]} == {"身份证号码（家庭成员）"}
    assert all("不在客户端 太原民政 的辖区 1401 内" in e["message"] for e in out["row_errors"])
    for ident in (HEAD, WIFE, CHILD):
        assert ident not in r.text
    assert HEAD[:4] + "*" * 10 + HEAD[-4:] in r.text
    assert api.count(CategoryMembership) == 0

    # 东昌府区 uploads the 太原 file: rows with district 140105 are out, by that column
    bad = write_csv(tmp_path / "bad.csv", bad_rows())
    out = api.upload(bad).json()
    assert out["counts"]["added"] == 0
    assert any(
        e["field"] == "行政区划代码" and "属 140105 辖区" in e["message"] for e in out["row_errors"]
    )

    # registered in 东昌府区: a 太原 decrease of that person is refused, 东昌府区's goes in
    assert api.upload(listing).json()["counts"]["added"] == 3
    changes = write_csv(tmp_path / "调整.csv", change_rows())
    out = api.upload(changes, who="taiyuan").json()
    assert out["counts"]["closed"] == 0 and out["counts"]["bad"] == 3
    out = api.upload(changes).json()
    assert out["counts"]["closed"] == 1 and out["counts"]["added"] == 2


def test_a_file_named_after_a_person_is_masked_in_answers_and_audit(
    api: Api, tmp_path: Path
) -> None:
    listing = write_xlsx(tmp_path / f"{HEAD}的名单.xlsx", list_rows())
    r = api.upload(listing)
    assert r.status_code == 200, r.json()
    masked = HEAD[:4] + "*" * 10 + HEAD[-4:]
    assert r.json()["file_name"] == f"{masked}的名单.xlsx"
    with api.app.state.store.sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "roster.upload")).one()
    assert HEAD not in str(entry.details) and masked in entry.details["file"]
    person = api.client.get(
        f"/persons/{_public_id(api, WIFE)}",
        headers={"Authorization": f"Bearer {api.tokens['admin']}"},
    )
    assert person.status_code == 200 and HEAD not in person.text


def _public_id(api: Api, id_number: str) -> str:
    with api.app.state.store.sessions() as s:
        found = s.scalar(select(Person.public_id).where(Person.id_number == id_number))
    assert found is not None
    return found
