"""Mask personal data (phone, ID and card numbers, e-mail, names …) in opinion text."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .datafiles import line_of_key, load_toml, read_word_list, table_lines
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
        """Load rules from a TOML file (the shipped ``corpora/redaction.toml`` when None).

        A ``[lists]`` table names word lists (a file next to the rule file, or an inline
        list of strings); ``{{name}}`` in a pattern expands to the list as an alternation,
        longest words first.
        """
        path = Path(path) if path is not None else corpus_path("redaction.toml")
        data, text = load_toml(path, "redaction rules")
        lists = _load_lists(path, text, data.get("lists", {}))
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
            pattern_line = line_of_key(text, "pattern", line)
            source = _expand_lists(entry["pattern"], lists, f"{path}:{pattern_line}: rule {entry['name']!r}")
            try:
                pattern = re.compile(source)
            except re.error as exc:
                raise DataFileError(f"{path}:{pattern_line}: rule "
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

    def mask_known(self, text: str, known: Mapping[str, str]) -> str:
        """Replace known identifiers (value → placeholder), e.g. the evaluator's own name
        and phone from identity columns, wherever they occur in ``text``; then :meth:`mask`."""
        return self.mask(replace_known(text, known))

    def findings(self, text: str) -> list[tuple[str, str]]:
        """Return ``(rule name, matched text)`` for every match, applying rules in order."""
        found = []
        for rule in self.rules:
            found.extend((rule.name, m.group(rule.group)) for m in rule.pattern.finditer(text))
            text = rule.pattern.sub(_replacer(rule), text)
        return found


# what replaces the evaluator's own id, name and phone (identity columns) in their text
IDENTITY_PLACEHOLDERS = {"evaluator": "【评议人编号】", "name": "【姓名】", "phone": "【电话】"}


def replace_known(text: str, known: Mapping[str, str]) -> str:
    """Replace known identifiers (value → placeholder) wherever they occur in ``text``.

    Values shorter than two characters, and numbers shorter than seven digits, are
    ignored: they would hit ordinary words, amounts and dates.
    """
    for value, placeholder in sorted(known.items(), key=lambda kv: -len(kv[0])):
        value = value.strip()
        if len(value) < 2 or (value.isdigit() and len(value) < 7):
            continue
        if value in text:
            text = text.replace(value, placeholder)
    return text


_LIST_REF = re.compile(r"\{\{(\w+)\}\}")


def _load_lists(path: Path, text: str, raw: object) -> dict[str, list[str]]:
    """Read the ``[lists]`` table: name = "file.txt" (next to ``path``) or name = [words]."""
    if not isinstance(raw, dict):
        raise DataFileError(f"{path}:1: [lists] must be a table of name = \"file\" or name = [words]")
    lists = {}
    for name, value in raw.items():
        line = line_of_key(text, name)
        if isinstance(value, str):
            words = read_word_list(path.parent / value, f"word list {name!r}")
        elif isinstance(value, list) and all(isinstance(w, str) and w.strip() for w in value):
            words = [w.strip() for w in value]
        else:
            raise DataFileError(f"{path}:{line}: list {name!r} must be a file name or a list of "
                                f"non-empty strings, got {value!r}")
        if not words:
            raise DataFileError(f"{path}:{line}: list {name!r} is empty")
        lists[name] = words
    return lists


def _expand_lists(pattern: str, lists: dict[str, list[str]], where: str) -> str:
    def expand(match: re.Match) -> str:
        name = match.group(1)
        if name not in lists:
            known = ", ".join(sorted(lists)) or "none"
            raise DataFileError(f"{where}: unknown list {{{{{name}}}}}; [lists] defines {known}")
        words = sorted(set(lists[name]), key=lambda w: (-len(w), w))
        longer = [re.escape(w) for w in words if len(w) > 1]
        single = "".join(re.escape(w) for w in words if len(w) == 1)
        parts = longer + ([f"[{single}]"] if single else [])
        return "(?:" + "|".join(parts) + ")"

    return _LIST_REF.sub(expand, pattern)


def _replacer(rule: MaskRule):
    if rule.group == 0:
        return rule.placeholder

    def replace(match: re.Match) -> str:
        whole, start = match.group(0), match.start(0)
        s, e = match.span(rule.group)
        return whole[: s - start] + rule.placeholder + whole[e - start:]

    return replace


NUMBER_KINDS = ("mobile", "landline", "id_number", "bank_card")
_PLACEHOLDER_RE = re.compile("【[^】]*】")
_KIND_PREFIX = re.compile(r"^([a-z_]+):(.+)$", re.S)


def masking_audit(masker: Masker, cases) -> "pd.DataFrame":
    """Check masking against hand-labelled cases.

    ``cases`` has columns ``id, category, text, pii``: ``pii`` lists the personal data in
    ``text`` joined by `` | ``, each optionally prefixed by its kind (``mobile:139…``;
    the kind defaults to ``category``); empty for ordinary text. Texts are cleaned with
    :func:`textmine.clean.clean_text` first, as the pipeline does.

    Returns one row per personal-data item, and one row of kind ``none`` per case
    without any, with columns ``id, kind, value, masked, over_masked, masked_text``:
    ``masked`` says the value no longer occurs in the masked text (NA for ``none``);
    ``over_masked`` says the case lost something besides its personal data (the masked
    text without placeholders differs from the text without its personal data).
    """
    import pandas as pd

    from .clean import clean_text

    records = []
    for case in cases.itertuples(index=False):
        text = clean_text(case.text)
        masked = masker.mask(text)
        items = []
        for part in (p for p in str(case.pii or "").split(" | ") if p.strip()):
            found = _KIND_PREFIX.match(part)
            kind, value = (found.group(1), found.group(2)) if found else (case.category, part)
            items.append((kind, clean_text(value)))
        rest = text
        for _, value in sorted(items, key=lambda kv: -len(kv[1])):
            rest = rest.replace(value, "")
        over = _PLACEHOLDER_RE.sub("", masked) != rest
        if not items:
            records.append((case.id, "none", "", pd.NA, over, masked))
        for kind, value in items:
            records.append((case.id, kind, value, value not in masked, over, masked))
    frame = pd.DataFrame.from_records(records, columns=["id", "kind", "value", "masked", "over_masked", "masked_text"])
    frame["masked"] = frame["masked"].astype("boolean")
    return frame


def masking_scores(audit) -> "pd.DataFrame":
    """Summarise :func:`masking_audit` per kind.

    Returns columns ``kind, items, masked, recall, over_masked_cases, cases``: recall is
    masked / items (NaN for ``none``); ``over_masked_cases`` counts the cases of that kind
    that lost text besides their personal data (for ``none``: false positives).
    """
    import pandas as pd

    rows = []
    for kind, frame in audit.groupby("kind", sort=True):
        cases = frame.drop_duplicates("id")
        items = 0 if kind == "none" else len(frame)
        masked = 0 if kind == "none" else int(frame["masked"].sum())
        rows.append({"kind": kind, "items": items, "masked": masked,
                     "recall": masked / items if items else float("nan"),
                     "over_masked_cases": int(cases["over_masked"].sum()), "cases": len(cases)})
    return pd.DataFrame(rows, columns=["kind", "items", "masked", "recall", "over_masked_cases", "cases"])
