"""Finding English words in what people read.

People read Chinese; what may stay in Latin letters is what a person types or a program
reads: identifiers of the glossary (``dibao``, ``medical_assistance``), command and option
names, policy IDs, file and format names, paths, URLs and dotted keys. ``english_words``
returns every other word, so a test can say "none".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import Enum

from typer.main import get_command

from jiuzhu.cli.main import app
from jiuzhu.cli.template_cmd import Template
from jiuzhu.domain.vocabulary import Benefit, Category, VisitType
from jiuzhu.io.claims import FIELD_ZH
from jiuzhu.io.claims_columnar import ANALYSIS
from jiuzhu.io.policy_files import shipped_ids
from jiuzhu.usecases.access import Role
from tests.cli_helpers import subcommands

FORMATS = {
    "JSON", "JSONL", "CSV", "XLSX", "Parquet", "SQLite", "PostgreSQL", "URL", "ID", "UTF",
    "BOM", "HTTP", "OpenAPI", "YAML", "Excel", "Dask", "GB", "ICD", "YYYY", "MM", "DD",
    "SHA", "PDF", "HTML", "PNG", "JPEG", "MB", "A4", "POST", "Argon2id",
    "jsonl", "json", "csv", "xlsx", "parquet", "yaml", "docs", "md",
    "db", "local", "tcp", "CPU", "F", "C", "X", "N", "true", "false", "null",
}  # fmt: skip
"""Names of formats, standards and technologies, and the letters of a formula (F(C))."""

CODE = re.compile(r"[A-Za-z0-9_\-]*[._/:=%\\][A-Za-z0-9_.:/=%\\\-\[\]]*")
"""Paths, file names, URLs, dotted keys, ``key=value``: what a person types, kept as is."""
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
HEX = re.compile(r"[0-9a-f]*[0-9][0-9a-f]*")
"""A digest or code with digits (a file's 校验值): not a word."""


def _command_words() -> set[str]:
    words: set[str] = set()

    def walk(cmd: object) -> None:
        for name, sub in subcommands(cmd):
            words.add(name)
            words.update(name.split("-"))  # request-documents: what a person types
            for p in getattr(sub, "params", []):
                for opt in [*p.opts, *p.secondary_opts]:
                    words.update(re.findall(r"[A-Za-z0-9_]+", opt))
                kind = getattr(getattr(p, "type_descriptor", None), "annotation", None)
                if isinstance(kind, type) and issubclass(kind, Enum):  # choices people type
                    words.update(str(m.value) for m in kind)
                if p.envvar:
                    words.add(p.envvar)
            walk(sub)

    walk(get_command(app))
    return words


def allowed() -> set[str]:
    identifiers = {
        *(c.value for c in Category),
        *(v.value for v in VisitType),
        *(b.value for b in Benefit),
        *(r.value for r in Role),
        *(part for t in Template for part in t.value.split("-")),
        *FIELD_ZH,
        *ANALYSIS,  # the district and weight columns simulate reads
        "critical_care_grant",
        "personal",
        "reference",
        "batch",
        "jiuzhu",
        "JIUZHU_DB",
        "JIUZHU_ENGINE",
        "JIUZHU_POLICY_PATH",
        "JIUZHU_PASSWORD",  # jiuzhu application: the staff account's password
        "help",
        *("line", "field", "message"),  # the keys of an errors file in JSON lines
    }
    policy_words = {part for pid in shipped_ids() for part in pid.split("-")}
    return identifiers | policy_words | FORMATS | _command_words()


_ALLOWED: set[str] | None = None


def english_words(text: str, also: Iterable[str] = ()) -> set[str]:
    """The English words in ``text`` that are not identifiers, names, formats or code."""
    global _ALLOWED
    if _ALLOWED is None:
        _ALLOWED = allowed()
    ok = _ALLOWED | set(also)
    prose = CODE.sub(" ", text)
    return {w for w in WORD.findall(prose) if w not in ok and not HEX.fullmatch(w)}
