"""Find a font that has Chinese glyphs, register it with matplotlib, and use it per figure.

Where a CJK font comes from, in order:

1. ``TEXTMINE_CJK_FONT``: a path to a .ttf/.otf/.ttc file the user chose;
2. the Noto Sans SC font that ``pip install textmine`` brings along (the OFL-licensed
   ``pylopdf-fonts-zh-cn`` wheel, taken unmodified from notofonts/noto-cjk);
3. a CJK font installed on the system (Debian ``fonts-noto-cjk`` or ``fonts-wqy-microhei``,
   Windows' Microsoft YaHei/SimSun, macOS' PingFang …), found through matplotlib's font list.

When none exists, :func:`cjk_font` warns with :class:`CJKFontWarning` (charts are still drawn,
but Chinese labels will show as boxes) or, with ``required=True``, raises
:class:`FontNotFoundError`; both messages say how to install one.
"""
from __future__ import annotations

import contextlib
import functools
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import TextmineError

ENV_VAR = "TEXTMINE_CJK_FONT"
# family names of fonts with full Simplified Chinese coverage, best first
SYSTEM_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB", "Heiti SC", "SimSun",
    "Noto Serif CJK SC", "AR PL UMing CN", "Droid Sans Fallback",
)
PROBE = "群众评议整改清单满意度"
HOW_TO_INSTALL = (f"install one: `pip install pylopdf-fonts-zh-cn` (Noto Sans SC, OFL), or "
                  f"`apt-get install fonts-noto-cjk` / `fonts-wqy-microhei`, or set {ENV_VAR}=/path/to/font.ttf")


class FontNotFoundError(TextmineError):
    """No font with Chinese glyphs could be found."""


class CJKFontWarning(UserWarning):
    """Charts will be drawn without a Chinese font: labels show as boxes."""


@dataclass(frozen=True)
class FontSpec:
    """A registered font: its file, its family name for matplotlib, and where it came from."""

    path: Path
    family: str
    source: str  # "env", "package" or "system"


def _covers(path: Path, text: str = PROBE) -> bool:
    """Return whether the font file has a glyph for every character of ``text``."""
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(str(path))
    except (OSError, RuntimeError):
        return False
    charmap = font.get_charmap()
    return all(ord(ch) in charmap for ch in text)


def _packaged_font() -> Path | None:
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        return None
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    return path if path.is_file() else None


def _system_font() -> Path | None:
    from matplotlib import font_manager

    by_family: dict[str, Path] = {}
    for entry in font_manager.fontManager.ttflist:
        by_family.setdefault(entry.name, Path(entry.fname))
    for family in SYSTEM_FAMILIES:
        if family in by_family and _covers(by_family[family]):
            return by_family[family]
    return None


def find_cjk_font() -> tuple[Path, str] | None:
    """Return ``(path, source)`` of the first CJK font found, or None (nothing is registered)."""
    chosen = os.environ.get(ENV_VAR)
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file():
            raise FontNotFoundError(f"{ENV_VAR}={chosen}: no such font file")
        if not _covers(path):
            raise FontNotFoundError(f"{ENV_VAR}={chosen}: the font has no Chinese glyphs (tried {PROBE!r})")
        return path, "env"
    packaged = _packaged_font()
    if packaged is not None:
        return packaged, "package"
    system = _system_font()
    return (system, "system") if system is not None else None


@functools.lru_cache(maxsize=None)
def _register(path: str) -> str:
    """Add the font file to matplotlib's font list (idempotent) and return its family name."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


def cjk_font(*, required: bool = False) -> FontSpec | None:
    """Find and register a CJK font.

    Returns None when there is none: with ``required=True`` raises :class:`FontNotFoundError`
    instead, otherwise warns with :class:`CJKFontWarning`.
    """
    found = find_cjk_font()
    if found is None:
        message = f"no font with Chinese glyphs found; chart labels will show as boxes — {HOW_TO_INSTALL}"
        if required:
            raise FontNotFoundError(message)
        warnings.warn(message, CJKFontWarning, stacklevel=2)
        return None
    path, source = found
    return FontSpec(path=path, family=_register(str(path)), source=source)


@contextlib.contextmanager
def font_context(font: FontSpec | None = None) -> Iterator[FontSpec | None]:
    """Draw with the CJK font inside this block (matplotlib rcParams are restored after it).

    Create figures *inside* the block: matplotlib reads the font settings when a text
    artist is made, so the figure keeps its font when saved later.
    """
    import matplotlib

    spec = font if font is not None else cjk_font()
    families = [spec.family] if spec else []
    settings = {
        # concrete family names, not the generic "sans-serif": text artists resolve a generic
        # family from rcParams when drawn, after this block has restored them
        "font.family": families + ["DejaVu Sans"],
        "axes.unicode_minus": False,  # U+2212 is missing from some CJK fonts
        "svg.fonttype": "path",  # SVG looks the same without the font installed
    }
    with matplotlib.rc_context(settings):
        yield spec
