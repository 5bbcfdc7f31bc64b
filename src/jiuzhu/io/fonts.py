"""The project's Chinese fonts: Noto Sans CJK SC and Noto Serif CJK SC (Debian's
``fonts-noto-cjk``, installed by ``tools/system-packages``), for every document and chart.

- ``missing()``: which of them fontconfig cannot find (so a command refuses rather than
  draw empty boxes).
- ``use_in_matplotlib()``: make matplotlib measure and draw with them, even when its font
  cache predates their installation.
- ``embedded_css(text)``: ``@font-face`` rules carrying just the glyphs ``text`` uses
  (WOFF2, base64), so an HTML page shows the same font on a machine that has none.
"""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
from functools import cache

SERIF = "Noto Serif CJK SC"
SANS = "Noto Sans CJK SC"
FAMILIES = (SERIF, SANS)
PACKAGE = "fonts-noto-cjk"


def _fc(*args: str) -> str | None:
    exe = shutil.which(args[0])
    if exe is None:
        return None
    return subprocess.run([exe, *args[1:]], capture_output=True, text=True, check=False).stdout


def missing() -> list[str]:
    """The families fontconfig cannot find (empty when ``fc-list`` is absent: nothing to
    ask, and the renderer will say what it lacks)."""
    found = _fc("fc-list", ":lang=zh", "family")
    if found is None:
        return []
    families = {name.strip() for line in found.splitlines() for name in line.split(",")}
    return [f for f in FAMILIES if f not in families]


@cache
def font_file(family: str, bold: bool = False) -> tuple[str, int] | None:
    """(file, face index) of ``family`` as fontconfig resolves it, if it is installed."""
    out = _fc("fc-match", "-f", "%{family}|%{file}|%{index}", f"{family}:{'bold' if bold else ''}")
    if not out:
        return None
    names, file, index = out.rsplit("|", 2)
    if family not in names.split(","):
        return None  # fontconfig substituted another font
    return file, int(index or 0)


@cache
def use_in_matplotlib() -> bool:
    """Register the sans family with matplotlib's font manager if its cache lacks it
    (a cache built before the fonts were installed); True if matplotlib has it now."""
    from matplotlib import font_manager

    def known() -> bool:
        try:
            font_manager.findfont(
                font_manager.FontProperties(family=SANS), fallback_to_default=False
            )
        except ValueError:
            return False
        return True

    if known():
        return True
    for bold in (False, True):
        found = font_file(SANS, bold)
        if found is not None:
            font_manager.fontManager.addfont(found[0])
    return known()


def _subset(file: str, index: int, text: str) -> bytes:
    """The WOFF2 subset of one face with the glyphs of ``text`` (lazily loaded: only the
    glyphs asked for are parsed, about a second for a CJK face of 65,000 glyphs)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(file, fontNumber=index, lazy=True)
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = []  # plain horizontal text: no GSUB closure over the CJK font
    options.name_IDs = [1, 2]
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    out = io.BytesIO()
    font.flavor = "woff2"
    font.save(out)
    return out.getvalue()


def embedded_css(text: str, family: str = SANS) -> str:
    """``@font-face`` rules (regular and bold) for ``family`` with the glyphs of ``text``;
    empty when the font is not installed (the page then falls back to the reader's)."""
    rules = []
    for bold in (False, True):
        found = font_file(family, bold)
        if found is None:
            continue
        data = base64.b64encode(_subset(*found, "".join(sorted(set(text))))).decode("ascii")
        rules.append(
            f'@font-face{{font-family:"{family}";font-weight:{700 if bold else 400};'
            f'src:url(data:font/woff2;base64,{data}) format("woff2")}}'
        )
    return "\n".join(rules)
