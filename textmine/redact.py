"""Mask personal data (phone, ID and card numbers, e-mail, names …) in opinion text."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .datafiles import line_of_key, load_toml, table_lines
from .errors import DataFileError
from .resources import corpus_path


@dataclass(frozen=True)
class MaskRule:
    """One kind of personal data: a pattern and the placeholder that replaces it."""

    name: str
    placeholder: str
    pattern: re.Pattern
    group: int = 0


class Masker:
    """Replace personal data in text by placeholders such as 【电话】.

    Rules come from ``corpora/redaction.toml`` (or a file of the same shape) and apply
    in order. Masking is idempotent: masking a masked text changes nothing.
    """

    def __init__(self, rules: tuple[MaskRule, ...]):
        self.rules = rules

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> "Masker":
        path = Path(path) if path is not None else corpus_path("redaction.toml")
        data, text = load_toml(path, "redaction rules")
        lines = table_lines(text, "rules")
        raw_rules = data.get("rules")
        if not isinstance(raw_rules, list) or not raw_rules:
            raise DataFileError(f"{path}:1: no [[rules]] tables found")
        rules = []
        for i, entry in enumerate(raw_rules):
            line = lines[i] if i < len(lines) else 1
            for key in ("name", "placeholder", "pattern"):
                if not isinstance(entry.get(key), str) or not entry[key]:
                    raise DataFileError(f"{path}:{line}: rule #{i + 1} needs a non-empty string '{key}'")
            try:
                pattern = re.compile(entry["pattern"])
            except re.error as exc:
                raise DataFileError(f"{path}:{line_of_key(text, 'pattern', line)}: rule "
                                    f"{entry['name']!r}: invalid pattern: {exc}") from None
            group = entry.get("group", 0)
            if not isinstance(group, int) or not 0 <= group <= pattern.groups:
                raise DataFileError(f"{path}:{line_of_key(text, 'group', line)}: rule {entry['name']!r}: "
                                    f"group must be 0..{pattern.groups}, got {group!r}")
            if pattern.search(entry["placeholder"]):
                raise DataFileError(f"{path}:{line}: rule {entry['name']!r}: its pattern matches its own "
                                    "placeholder, so masking would not be idempotent")
            rules.append(MaskRule(entry["name"], entry["placeholder"], pattern, group))
        return cls(tuple(rules))

    def mask(self, text: str) -> str:
        """Return ``text`` with every personal-data match replaced by its placeholder."""
        for rule in self.rules:
            text = rule.pattern.sub(_replacer(rule), text)
        return text

    def findings(self, text: str) -> list[tuple[str, str]]:
        """Return ``(rule name, matched text)`` for every match, applying rules in order."""
        found = []
        for rule in self.rules:
            found.extend((rule.name, m.group(rule.group)) for m in rule.pattern.finditer(text))
            text = rule.pattern.sub(_replacer(rule), text)
        return found


def _replacer(rule: MaskRule):
    if rule.group == 0:
        return rule.placeholder

    def replace(match: re.Match) -> str:
        whole, start = match.group(0), match.start(0)
        s, e = match.span(rule.group)
        return whole[: s - start] + rule.placeholder + whole[e - start:]

    return replace
