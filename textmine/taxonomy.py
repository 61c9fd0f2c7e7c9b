"""Load and validate a theme taxonomy file (TOML).

The shipped default is ``corpora/taxonomy.toml``; a user passes their own with
``--taxonomy``. Every problem is reported as ``FILE:LINE: message``.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .datafiles import line_of_key as _line_of_key
from .datafiles import load_toml, table_lines
from .errors import DataFileError
from .resources import corpus_path

_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
DEFAULT_WINDOW = 30
_LIST_KEYS = ("terms", "patterns", "measures", "weak_terms", "weak_patterns", "context", "exclude")
_PATTERN_KEYS = ("patterns", "weak_patterns", "context", "exclude")
_THEME_KEYS = frozenset({"code", "name", "description", "problem", "window", *_LIST_KEYS})


@dataclass(frozen=True)
class Theme:
    """One problem theme: its code, names, evidence lexicon and suggested measures.

    ``terms``/``patterns`` are cues that suffice on their own. ``weak_terms``/``weak_patterns``
    count only when one of the ``context`` patterns matches within ``window`` characters of
    them in the same sentence (e.g. 没人处理 only after the matter was reported). Any cue is
    dropped when an ``exclude`` pattern matches in the ``window`` characters before it in the
    same sentence (e.g. the actor is a property company, not an office).
    """

    code: str
    name: str
    description: str
    problem: str
    terms: tuple[str, ...]
    patterns: tuple[str, ...]
    measures: tuple[str, ...]
    weak_terms: tuple[str, ...] = ()
    weak_patterns: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    window: int = DEFAULT_WINDOW


@dataclass(frozen=True)
class Negation:
    """Cues that cancel a lexicon match in the same clause."""

    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    window: int = 3
    clause_breaks: str = "，。！？；：,.!?;:\n、…"


@dataclass(frozen=True)
class Taxonomy:
    """An ordered set of themes plus the negation rules used when matching them."""

    themes: tuple[Theme, ...]
    negation: Negation = field(default_factory=Negation)
    source: str = "<memory>"
    sha256: str = ""

    @property
    def codes(self) -> list[str]:
        return [t.code for t in self.themes]

    def __getitem__(self, code: str) -> Theme:
        for theme in self.themes:
            if theme.code == code:
                return theme
        raise KeyError(code)

    def names(self) -> dict[str, str]:
        """Map theme code to Chinese name."""
        return {t.code: t.name for t in self.themes}


def default_taxonomy_path() -> Path:
    return corpus_path("taxonomy.toml")


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file; the shipped default when ``path`` is None."""
    path = Path(path) if path is not None else default_taxonomy_path()
    data, text = load_toml(path, "taxonomy file")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return _build(data, path, text, table_lines(text, "themes"), digest)


def _build(data: dict, path: Path, text: str, theme_lines: list[int], digest: str) -> Taxonomy:
    def fail(line: int, message: str) -> DataFileError:
        return DataFileError(f"{path}:{line}: {message}")

    themes_raw = data.get("themes")
    if not isinstance(themes_raw, list) or not themes_raw:
        raise fail(1, "no [[themes]] tables found; a taxonomy needs at least one theme")
    themes: list[Theme] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(themes_raw):
        line = theme_lines[index] if index < len(theme_lines) else 1
        if not isinstance(entry, dict):
            raise fail(line, "each [[themes]] entry must be a table")
        for key in ("code", "name", "problem"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise fail(line, f"theme #{index + 1} needs a non-empty string '{key}'")
        code = entry["code"].strip()
        if not _CODE_RE.match(code):
            raise fail(_line_of_key(text, "code", line),
                       f"theme code {code!r} must be lowercase ASCII letters, digits or _")
        if code in seen:
            raise fail(line, f"duplicate theme code {code!r} (first defined at line {seen[code]})")
        seen[code] = line
        unknown = sorted(set(entry) - _THEME_KEYS)
        if unknown:
            raise fail(_line_of_key(text, unknown[0], line),
                       f"theme {code!r}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_THEME_KEYS))})")
        lists = {}
        for key in _LIST_KEYS:
            value = entry.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                raise fail(_line_of_key(text, key, line),
                           f"theme {code!r}: '{key}' must be a list of non-empty strings")
            lists[key] = tuple(v.strip() for v in value)
        for key in _PATTERN_KEYS:
            for pattern in lists[key]:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise fail(_line_of_key(text, key, line),
                               f"theme {code!r}: invalid pattern {pattern!r} in '{key}': {exc}") from None
        if not lists["terms"] and not lists["patterns"] and not lists["weak_terms"] and not lists["weak_patterns"]:
            raise fail(line, f"theme {code!r} has neither 'terms' nor 'patterns'")
        if (lists["weak_terms"] or lists["weak_patterns"]) and not lists["context"]:
            raise fail(_line_of_key(text, "weak_terms" if lists["weak_terms"] else "weak_patterns", line),
                       f"theme {code!r}: weak cues count only near a 'context' match, but 'context' is empty")
        window = entry.get("window", DEFAULT_WINDOW)
        if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= 200:
            raise fail(_line_of_key(text, "window", line),
                       f"theme {code!r}: window must be an integer from 1 to 200, got {window!r}")
        themes.append(Theme(code=code, name=entry["name"].strip(),
                            description=str(entry.get("description", "")).strip(),
                            problem=entry["problem"].strip(), window=window, **lists))
    return Taxonomy(themes=tuple(themes), negation=_negation(data.get("negation", {}), fail, text),
                    source=str(path), sha256=digest)


def _negation(raw: object, fail, text: str) -> Negation:
    if not isinstance(raw, dict):
        raise fail(_line_of_key(text, "negation"), "[negation] must be a table")
    line = _line_of_key(text, "window")
    values = {}
    for key in ("before", "after", "ignore"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise fail(_line_of_key(text, key), f"[negation] '{key}' must be a list of non-empty strings")
        values[key] = tuple(value)
    window = raw.get("window", 3)
    if not isinstance(window, int) or isinstance(window, bool) or not 0 <= window <= 20:
        raise fail(line, f"[negation] window must be an integer from 0 to 20, got {window!r}")
    breaks = raw.get("clause_breaks", Negation.clause_breaks)
    if not isinstance(breaks, str):
        raise fail(_line_of_key(text, "clause_breaks"), "[negation] clause_breaks must be a string")
    return Negation(window=window, clause_breaks=breaks, **values)
