"""Who may do what: roles (with their Chinese names), callers, jurisdictions.

A client has one role and one jurisdiction, a GB/T 2260 code prefix: ``37`` is 山东省,
``3715`` 聊城市, ``371502`` 东昌府区. A person belongs to the district of their household
in the registry, else to the address code in the first six digits of their 身份证号.
A hospital sees the settlements it made (whatever happens to the household later) and
nothing of other hospitals'; the other roles see what is inside their jurisdiction.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiuzhu.storage.models import Household, Person
from jiuzhu.usecases.errors import Kind, Refused


class Role(StrEnum):
    hospital = "hospital"
    civil_affairs = "civil_affairs"
    reviewer = "reviewer"
    admin = "admin"
    # the steps of an application (依申请救助, docs/applications.md)
    township_clerk = "township_clerk"
    county_reviewer = "county_reviewer"
    county_approver = "county_approver"

    @property
    def zh(self) -> str:
        return ROLE_ZH[self]


ROLE_ZH: dict[Role, str] = {
    Role.hospital: "医院",
    Role.civil_affairs: "民政部门",
    Role.reviewer: "审核人员",
    Role.admin: "管理员",
    Role.township_clerk: "乡镇经办",
    Role.county_reviewer: "县级审核",
    Role.county_approver: "县级审批",
}


def role_from_text(text: str) -> Role | None:
    """A role by its identifier or its Chinese name (``hospital`` or ``医院``)."""
    value = text.strip()
    for role in Role:
        if value in (role.value, role.zh):
            return role
    return None


@dataclass(frozen=True, slots=True)
class Caller:
    client_id: int
    name: str
    role: Role
    jurisdiction: str

    def covers(self, district: str) -> bool:
        return district.startswith(self.jurisdiction)


def require(caller: Caller, *roles: Role) -> None:
    if caller.role not in roles:
        allowed = "、".join(f"{r.zh}（{r.value}）" for r in roles)
        raise Refused(
            Kind.forbidden,
            "Authorization",
            f"角色 {caller.role.zh}（{caller.role.value}）无权执行此操作（须为 {allowed}）",
        )


def district_of(session: Session, person: Person | None, id_number: str) -> str:
    """The person's district: the household's, else the ID number's address code."""
    if person is not None and person.household_id is not None:
        code = session.scalar(
            select(Household.district_code).where(Household.id == person.household_id)
        )
        if code:
            return code
    return id_number[:6]


def require_jurisdiction(caller: Caller, district: str, field: str = "person_id") -> None:
    if not caller.covers(district):
        raise Refused(
            Kind.forbidden,
            field,
            f"此人属 {district} 辖区，不在客户端 {caller.name} 的辖区 {caller.jurisdiction} 内",
        )
