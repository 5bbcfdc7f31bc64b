"""Printable documents: an HTML template rendered to HTML, or through WeasyPrint to PDF.

One module for every paper the bureau hands out: the settlement statement (结算单) now,
the refusal and approval notices (不符合医疗救助条件书面告知书 …) next. A document is a
Jinja2 template under ``io/templates/`` that extends ``document.html``, which sets the
page (A4, margins, page numbers), the fonts and the look of an official paper; callers
give the template's name and plain values, and get HTML text or a PDF file.

Fonts: Noto Serif CJK SC (body, as 宋体 on a printed notice) and Noto Sans CJK SC
(headings and figures, as 黑体), from Debian's ``fonts-noto-cjk``, which the project's
setup installs (``tools/system-packages``). WeasyPrint finds them through fontconfig and
embeds the glyphs it uses, so the PDF prints the same anywhere. A machine without them
would print empty boxes, so ``check_fonts`` refuses first, in words.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment

SERIF = "Noto Serif CJK SC"
SANS = "Noto Sans CJK SC"
FONTS = (SERIF, SANS)
FONT_PACKAGE = "fonts-noto-cjk"


class DocumentError(Exception):
    """A document that cannot be made on this machine (fonts, libraries), in words."""


@cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("jiuzhu.io", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,  # a missing value is a bug, never an empty field
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(serif=SERIF, sans=SANS)
    return env


def render_html(template: str, **context: Any) -> str:
    """The document as one self-contained HTML page (styles inline, nothing to fetch)."""
    return _environment().get_template(template).render(**context)


def missing_fonts() -> list[str]:
    """The document fonts fontconfig cannot find (empty when ``fc-list`` is absent:
    nothing to ask, and WeasyPrint will say what it lacks)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    found = subprocess.run(
        [fc_list, ":lang=zh", "family"], capture_output=True, text=True, check=False
    ).stdout
    families = {name.strip() for line in found.splitlines() for name in line.split(",")}
    return [f for f in FONTS if f not in families]


def check_fonts() -> None:
    missing = missing_fonts()
    if missing:
        raise DocumentError(
            "未找到中文字体 " + "、".join(missing) + f"（Debian 软件包 {FONT_PACKAGE}）："
            "请以 root 运行 tools/system-packages install，或 apt-get install " + FONT_PACKAGE
        )


def write_pdf(html: str, out: Path) -> None:
    """Render HTML (from ``render_html``) to an A4 PDF at ``out``, fonts embedded."""
    check_fonts()
    try:
        from weasyprint import HTML
    except OSError as err:  # Pango or its libraries are missing
        raise DocumentError(
            f"无法加载 PDF 排版所需的系统库（{err}）：请运行 tools/system-packages install"
        ) from None
    HTML(string=html, base_url=str(out.parent)).write_pdf(out)


def write_html(html: str, out: Path) -> None:
    out.write_text(html, encoding="utf-8")
