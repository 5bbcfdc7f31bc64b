"""Printable documents: an HTML template rendered to HTML, or through WeasyPrint to PDF.

One module for every paper the bureau hands out: the settlement statement (结算单) now,
the refusal and approval notices (不符合医疗救助条件书面告知书 …) next. A document is a
Jinja2 template under ``io/templates/`` that extends ``document.html``, which sets the
page (A4, margins, page numbers), the fonts and the look of an official paper; callers
give the template's name and plain values, and get HTML text or a PDF file.

Fonts: Noto Serif CJK SC (body, as 宋体 on a printed notice) and Noto Sans CJK SC
(headings and figures, as 黑体), from Debian's ``fonts-noto-cjk``, which the project's
setup installs (``tools/system-packages``; ``io/fonts.py``). WeasyPrint finds them
through fontconfig and embeds the glyphs it uses, so the PDF prints the same anywhere.
A machine without them would print empty boxes, so ``check_fonts`` refuses first.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jiuzhu.io.fonts import PACKAGE, SANS, SERIF, missing

if TYPE_CHECKING:
    from jinja2 import Environment


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


def check_fonts() -> None:
    lacking = missing()
    if lacking:
        raise DocumentError(
            "未找到中文字体 " + "、".join(lacking) + f"（Debian 软件包 {PACKAGE}）："
            "请以 root 运行 tools/system-packages install，或 apt-get install " + PACKAGE
        )


def write_pdf(html: str, out: Path) -> None:
    """Render HTML (from ``render_html``) to an A4 PDF at ``out``, fonts embedded."""
    out.write_bytes(pdf_bytes(html, base_url=str(out.parent)))


def pdf_bytes(html: str, *, base_url: str | None = None) -> bytes:
    """Render HTML to an A4 PDF in memory (an answer of the service, say), fonts embedded."""
    check_fonts()
    try:
        from weasyprint import HTML
    except OSError as err:  # Pango or its libraries are missing
        raise DocumentError(
            f"无法加载 PDF 排版所需的系统库（{err}）：请运行 tools/system-packages install"
        ) from None
    data = HTML(string=html, base_url=base_url).write_pdf()
    assert isinstance(data, bytes)
    return data


def write_html(html: str, out: Path) -> None:
    out.write_text(html, encoding="utf-8")
