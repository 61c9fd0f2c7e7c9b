"""Attach opinions to offices: normalise office names through the alias table."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .datafiles import read_text
from .errors import DataFileError
from .resources import corpus_path

UNSPECIFIED = "未指明"
_NOISE_RE = re.compile(r"[\s\u3000\"'“”‘’「」『』《》<>]")


def office_key(name: str) -> str:
    """Return the comparison form of an office name (NFKC, no spaces or quotes)."""
    return _NOISE_RE.sub("", unicodedata.normalize("NFKC", str(name)))


@dataclass(frozen=True)
class OfficeDirectory:
    """Canonical offices with their category (分组) and the aliases people write.

    Load with :meth:`from_file` from a CSV with columns ``office,category,aliases``
    (aliases joined by ``;``).
    """

    categories: dict[str, str]
    aliases: dict[str, str] = field(default_factory=dict)  # office_key(alias) -> office

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> "OfficeDirectory":
        path = Path(path) if path is not None else corpus_path("offices.csv")
        rows = list(csv.reader(io.StringIO(read_text(path, "office table"))))
        if not rows or [h.strip() for h in rows[0][:3]] != ["office", "category", "aliases"]:
            raise DataFileError(f"{path}:1: the header must be office,category,aliases")
        categories: dict[str, str] = {}
        aliases: dict[str, str] = {}
        for line, row in enumerate(rows[1:], 2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < 2 or not row[0].strip():
                raise DataFileError(f"{path}:{line}: each row needs an office name and a category")
            office = row[0].strip()
            if office in categories:
                raise DataFileError(f"{path}:{line}: office {office!r} is listed twice")
            categories[office] = row[1].strip()
            names = [office] + [a.strip() for a in (row[2] if len(row) > 2 else "").split(";") if a.strip()]
            for name in names:
                key = office_key(name)
                if aliases.get(key, office) != office:
                    raise DataFileError(f"{path}:{line}: alias {name!r} already names {aliases[key]!r}")
                aliases[key] = office
        return cls(categories=categories, aliases=aliases)

    @property
    def offices(self) -> list[str]:
        return list(self.categories)

    def resolve(self, name: object) -> tuple[str, bool]:
        """Return ``(office, known)``: the canonical name, or the name as written when unknown."""
        text = "" if name is None else str(name)
        key = office_key(text)
        if not key:
            return UNSPECIFIED, True
        office = self.aliases.get(key)
        return (office, True) if office is not None else (unicodedata.normalize("NFKC", text).strip(), False)

    def resolve_many(self, names: Iterable[object]) -> pd.DataFrame:
        """Return columns ``office`` and ``office_known`` for each name (cached per distinct name)."""
        cache: dict[object, tuple[str, bool]] = {}
        resolved = [cache[n] if n in cache else cache.setdefault(n, self.resolve(n)) for n in names]
        return pd.DataFrame(resolved, columns=["office", "office_known"])

    def category(self, office: str) -> str:
        return self.categories.get(office, "")

    def vocabulary(self) -> list[str]:
        """Every office name and alias, for the segmenter's dictionary."""
        return sorted(set(self.categories) | {a for a in self.aliases if len(a) > 1})
