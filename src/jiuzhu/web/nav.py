"""The navigation: the pages staff work with, in the order of their day.

Pages that need a member of staff are shown only to one who is logged in (and, when
roles come, only to the roles that use them); 政策 is public. The addresses of the pages
still to come are fixed here, so the layout, the tests and those pages agree on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from jiuzhu.web.staff import Staff


@dataclass(frozen=True, slots=True)
class NavItem:
    key: str
    label: str
    path: str
    """Below the pages' prefix (``/web``)."""
    login: bool
    """Shown only to a member of staff who is logged in."""
    applications: bool = False
    """Shown only when the service handles applications (issue 13's use cases)."""


NAV: tuple[NavItem, ...] = (
    NavItem("worklist", "工作台", "/worklist", login=True),  # 待办 / 已办 / 办结
    NavItem("applications", "申请", "/applications", login=True, applications=True),
    NavItem("persons", "人员查询", "/persons", login=True),
    NavItem("settlements", "结算", "/settlements", login=True),
    NavItem("policies", "政策", "/policies", login=False),
)


def items_for(staff: Staff | None, *, applications: bool = True) -> list[NavItem]:
    """The items this visitor sees: everything for staff, the public pages for others;
    申请 only where applications are handled."""
    return [
        item
        for item in NAV
        if (staff is not None or not item.login) and (applications or not item.applications)
    ]
