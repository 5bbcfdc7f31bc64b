"""docs/glossary.md lists every identifier people meet, with the Chinese name the software
shows for it (issue 11, point 7)."""

from __future__ import annotations

import re
from pathlib import Path

from jiuzhu.domain.vocabulary import BENEFIT_ZH, CATEGORY_ZH, GRANT_ZH, PERSONAL_ZH, VISIT_ZH
from jiuzhu.io.claims import FIELD_ZH
from jiuzhu.usecases.access import Role

GLOSSARY = Path(__file__).resolve().parent.parent / "docs" / "glossary.md"


def rows() -> dict[str, list[str]]:
    """Each table row by its identifier (the first column, in backquotes)."""
    out = {}
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| `([a-z_]+)` \| (.*) \|$", line)
        if m:
            out[m[1]] = [c.strip() for c in m[2].split("|")]
    return out


def test_every_category_visit_type_benefit_and_role_with_its_chinese_name() -> None:
    table = rows()
    shown = {
        **{c.value: zh for c, zh in CATEGORY_ZH.items()},
        **{v.value: zh for v, zh in VISIT_ZH.items()},
        **{b.value: zh for b, zh in BENEFIT_ZH.items()},
        "critical_care_grant": GRANT_ZH,
        "personal": PERSONAL_ZH,
    }
    for identifier, zh in shown.items():
        assert identifier in table, identifier
        assert table[identifier][0] == zh, (identifier, table[identifier][0], zh)
    for role in Role:
        assert role.value in table and re.search(r"[\u4e00-\u9fff]", table[role.value][0])


def test_every_claim_field_is_named() -> None:
    text = GLOSSARY.read_text(encoding="utf-8")
    for field in FIELD_ZH:
        assert f"`{field}`" in text, field


def test_the_docs_point_at_nothing_outside_the_repository() -> None:
    root = GLOSSARY.parent.parent
    texts = [*root.glob("*.md"), *root.glob("docs/**/*.md"), *root.glob("src/**/*.py"),
             *root.glob("tools/*.py"), *root.glob("src/jiuzhu/synth/*.yaml")]  # fmt: skip
    for path in texts:
        text = path.read_text(encoding="utf-8")
        for outside in ("DESIGN.md", "GLOSSARY.md", "statistics.md", "shared/reference",
                        "shared/documents", "../shared"):  # fmt: skip
            assert outside not in text, (path, outside)
