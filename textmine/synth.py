"""Generate a realistic synthetic evaluation round (群众评议) with its answer key.

The generator composes short, informal citizen opinions on the offices of ``offices.csv`` from the
phrase banks in ``corpora/sample/phrases.toml`` and records, for every row, the conduct themes it
injected and the kind of row it made. It backs the embedded sample corpus
(``corpora/sample/opinions_2025.csv``), tests and benchmarks.

Everything random flows from ``random.Random`` instances seeded from the arguments, so the same
arguments give byte-identical CSV files. Office "signature" problems depend on ``seed`` only, so
rounds of different years with the same seed show the same offices with the same weak spots.

Regenerate the sample::

    python -m textmine.synth --out corpora/sample --n 3200 --year 2025 --seed 2025
"""
from __future__ import annotations

import argparse
import calendar
import datetime as dt
import functools
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Callable, Sequence

import pandas as pd

from textmine.datafiles import load_toml
from textmine.errors import ColumnError, DataFileError, TextmineError
from textmine.resources import corpus_path

OPINION_COLUMNS = (
    "序号",
    "评议人编号",
    "评议人姓名",
    "联系电话",
    "评议人类别",
    "被评议单位",
    "满意度",
    "意见建议",
    "填报日期",
)
TRUTH_COLUMNS = ("序号", "themes", "kind")
KINDS = (
    "complaint",
    "multi",
    "praise",
    "suggestion",
    "empty",
    "nonsubstantive",
    "duplicate",
    "near_duplicate",
)
SATISFACTION_LEVELS = ("满意", "基本满意", "不满意")
OFFICE_COLUMNS = ("office", "category", "aliases")

# Kinds drawn for an original row; duplicates are copies made afterwards.
_ORIGINAL_KINDS = KINDS[:6]
# Kinds whose rows someone would plausibly resubmit.
_RESUBMITTABLE = frozenset({"complaint", "multi", "praise", "suggestion"})
_END_PUNCT = frozenset("。！？!?…；;")
_CLAUSE_PUNCT = frozenset("，。！？；：,.!?;:")
_SLOT_RE = re.compile(r"\{([^{}]*)\}")
_INT_SLOT_RE = re.compile(r"int:(\d+)-(\d+)$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# Slots filled by code rather than a bank.
_GENERATED_SLOTS = ("mobile", "landline", "idno", "email", "bank", "name")


@dataclass(frozen=True)
class SyntheticRound:
    """A generated round: the opinions table and its answer key, row for row.

    ``opinions`` has the columns of :data:`OPINION_COLUMNS`; ``truth`` has ``序号`` (matching the
    opinions), ``themes`` (injected theme codes joined by ``;`` in taxonomy order, empty for none)
    and ``kind`` (one of :data:`KINDS`).
    """

    opinions: pd.DataFrame
    truth: pd.DataFrame


# --------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------
# A compiled template is either a plain ``str`` (no slots) or a tuple
# ``(literals, slots)``: ``len(literals) == len(slots) + 1``; a slot is a bank name or a
# callable ``f(rng) -> str``.
# A bank is a tuple of compiled templates or a callable ``f(rng) -> str``.


def _random_int(lo: int, hi: int, rng: Random) -> str:
    return str(rng.randint(lo, hi))


def _compile(text: str):
    """Compile one template string; return ``str`` when it has no slots."""
    if "{" not in text:
        return text
    literals: list[str] = []
    slots: list[object] = []
    pos = 0
    for match in _SLOT_RE.finditer(text):
        literals.append(text[pos : match.start()])
        spec = match.group(1)
        int_match = _INT_SLOT_RE.match(spec)
        if int_match:
            lo, hi = int(int_match.group(1)), int(int_match.group(2))
            slots.append(functools.partial(_random_int, min(lo, hi), max(lo, hi)))
        else:
            slots.append(spec)
        pos = match.end()
    literals.append(text[pos:])
    return (tuple(literals), tuple(slots))


def _render(item, scope: dict, rng: Random, memo: dict | None = None) -> str:
    """Render a compiled template, filling slots from ``scope``.

    Within one rendering a slot name keeps its first value, also in nested templates
    (``{subsidy}`` in a template and in the detail it includes name the same subsidy).
    """
    if item.__class__ is str:
        return item
    literals, slots = item
    if memo is None:
        memo = {}
    parts = [literals[0]]
    for slot, literal in zip(slots, literals[1:]):
        if slot.__class__ is str:
            value = memo.get(slot)
            if value is None:
                bank = scope[slot]
                if bank.__class__ is tuple:
                    value = _render(rng.choice(bank), scope, rng, memo)
                else:
                    value = bank(rng)
                memo[slot] = value
        else:
            value = slot(rng)
        parts.append(value)
        parts.append(literal)
    return "".join(parts)


def _slot_names(item) -> list[str]:
    if item.__class__ is str:
        return []
    return [slot for slot in item[1] if slot.__class__ is str]


def _cumulative(weights: Sequence[float]) -> list[float]:
    total = 0.0
    out = []
    for weight in weights:
        total += weight
        out.append(total)
    return out


# --------------------------------------------------------------------------------------------
# The phrase file
# --------------------------------------------------------------------------------------------


class _PhraseFile:
    """The parsed phrase file plus helpers to report errors with file:line."""

    def __init__(self, path: Path):
        self.path = path
        self.data, self.text = load_toml(path, "phrase file")

    def line_of(self, needle: str) -> int:
        for number, line in enumerate(self.text.splitlines(), start=1):
            if needle in line:
                return number
        return 0

    def error(self, message: str, needle: str = "") -> DataFileError:
        line = self.line_of(needle) if needle else 0
        where = f"{self.path}:{line}" if line else str(self.path)
        return DataFileError(f"{where}: {message}")

    def section(self, *keys: str) -> dict:
        node = self.data
        for depth, key in enumerate(keys):
            if not isinstance(node, dict) or key not in node:
                dotted = ".".join(keys[: depth + 1])
                raise self.error(f"missing section or key [{dotted}]", f"[{keys[0]}")
            node = node[key]
        return node

    def strings(self, node: dict, key: str, where: str, *, minimum: int = 1) -> list[str]:
        values = node.get(key)
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise self.error(f"{where}.{key} must be a list of strings", f"{key} =")
        if len(values) < minimum:
            raise self.error(
                f"{where}.{key} needs at least {minimum} entries, found {len(values)}", f"{key} ="
            )
        return values

    def number(self, node: dict, key: str, where: str) -> float:
        value = node.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"{where}.{key} must be a number, found {value!r}", f"{key} =")
        return value


def load_phrases(path: str | Path | None = None) -> dict:
    """Load and return the phrase file (default: the shipped ``sample/phrases.toml``)."""
    return _PhraseFile(Path(path) if path else corpus_path("sample", "phrases.toml")).data


def _load_offices(offices: pd.DataFrame | None) -> pd.DataFrame:
    if offices is None:
        path = corpus_path("offices.csv")
        try:
            offices = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except OSError as exc:
            raise DataFileError(f"{path}: cannot read the office table ({exc})") from exc
    missing = [col for col in OFFICE_COLUMNS if col not in offices.columns]
    if missing:
        raise ColumnError(
            f"office table: column(s) {', '.join(missing)} not found; "
            f"columns are {', '.join(map(str, offices.columns))} — "
            f"it needs {', '.join(OFFICE_COLUMNS)}"
        )
    if len(offices) == 0:
        raise TextmineError("office table is empty; give at least one office")
    return offices.fillna("")


# --------------------------------------------------------------------------------------------
# Personal data (all synthetic)
# --------------------------------------------------------------------------------------------


class _PersonalData:
    """Make synthetic names, phone numbers, ID and bank-card numbers, e-mails."""

    def __init__(self, names: dict, pii: dict, phrases: _PhraseFile):
        self.surnames = tuple(phrases.strings(names, "surnames", "names"))
        self.given = tuple(phrases.strings(names, "given", "names"))
        self.mobile_prefixes = tuple(phrases.strings(pii, "mobile_prefixes", "pii"))
        self.area_codes = tuple(phrases.strings(pii, "area_codes", "pii"))
        self.landline_formats = tuple(phrases.strings(pii, "landline_formats", "pii"))
        self.id_regions = tuple(phrases.strings(pii, "id_regions", "pii"))
        years = pii.get("id_birth_years")
        if not (isinstance(years, list) and len(years) == 2 and years[0] <= years[1]):
            raise phrases.error("pii.id_birth_years must be [first, last]", "id_birth_years")
        self.birth_years = (int(years[0]), int(years[1]))
        self.bank_bins = tuple(phrases.strings(pii, "bank_bins", "pii"))
        self.bank_lengths = tuple(int(x) for x in pii.get("bank_lengths", [16, 19]))
        self.email_domains = tuple(phrases.strings(pii, "email_domains", "pii"))
        self.email_users = tuple(phrases.strings(pii, "email_users", "pii"))

    def name(self, rng: Random) -> str:
        return rng.choice(self.surnames) + rng.choice(self.given)

    def mobile(self, rng: Random) -> str:
        return f"{rng.choice(self.mobile_prefixes)}{rng.randrange(10**8):08d}"

    def landline(self, rng: Random) -> str:
        local = f"{rng.choice('88885678')}{rng.randrange(10**7):07d}"
        return rng.choice(self.landline_formats).format(area=rng.choice(self.area_codes), local=local)

    def idno(self, rng: Random) -> str:
        year = rng.randint(*self.birth_years)
        month = rng.randint(1, 12)
        day = rng.randint(1, calendar.monthrange(year, month)[1])
        body = f"{rng.choice(self.id_regions)}{year:04d}{month:02d}{day:02d}{rng.randrange(1000):03d}"
        total = sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS))
        return body + _ID_CHECK[total % 11]

    def bank(self, rng: Random) -> str:
        prefix = rng.choice(self.bank_bins)
        length = rng.choice(self.bank_lengths)
        body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
        return body + _luhn_digit(body)

    def email(self, rng: Random) -> str:
        if rng.random() < 0.3:
            return f"{rng.randint(10000, 3999999999)}@qq.com"
        suffix = rng.choice(("", str(rng.randint(1960, 2005)), str(rng.randint(1, 999))))
        return f"{rng.choice(self.email_users)}{suffix}@{rng.choice(self.email_domains)}"


def _luhn_digit(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:  # doubled: the check digit will sit to the right of it
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


# --------------------------------------------------------------------------------------------
# Offices
# --------------------------------------------------------------------------------------------


@dataclass
class _OfficeProfile:
    """What the generator knows about one office (or one unknown spelling)."""

    name: str
    category: str
    aliases: tuple[str, ...]
    visit_weight: float
    theme_codes: tuple[str, ...]
    theme_cum: list[float]
    kind_cum: list[float]
    signatures: tuple[str, ...]
    theme_scopes: dict[str, dict]
    signature_scopes: dict[str, dict]
    base_scope: dict
    praise_scope: dict
    suggestion_scope: dict


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


@dataclass
class _Evaluator:
    number: int
    group: str
    name: str
    phone: str
    habit: str | None = None


@dataclass
class _Row:
    evaluator: _Evaluator
    office: str
    satisfaction: str
    text: str
    date: str
    themes: str
    kind: str


class _Generator:
    """Build one round from a phrase file and an office table (all state is per instance)."""

    def __init__(self, phrases: _PhraseFile, offices: pd.DataFrame, seed: int):
        self.phrases = phrases
        self.round = phrases.section("round")
        self.themes = phrases.section("themes")
        self.theme_codes = tuple(self.themes)
        self.person = _PersonalData(phrases.section("names"), phrases.section("pii"), phrases)
        self._load_slots()
        self._load_kinds()
        self._load_groups()
        self._load_texts()
        self._load_offices(offices, seed)
        self._validate_slots()

    # ---- loading -------------------------------------------------------------------------

    def _bank(self, values: Sequence[str]) -> tuple:
        return tuple(_compile(value) for value in values)

    def _load_slots(self) -> None:
        slots = self.phrases.section("slots")
        scope: dict[str, object] = {}
        aliases: dict[str, str] = {}
        for key, value in slots.items():
            if isinstance(value, str) and value.startswith("@"):
                aliases[key] = value[1:]
            else:
                scope[key] = self._bank(self.phrases.strings(slots, key, "slots"))
        for key, target in aliases.items():
            if target not in scope:
                raise self.phrases.error(f"slots.{key} aliases unknown bank {target!r}", f"{key} =")
            scope[key] = scope[target]
        for key in _GENERATED_SLOTS:
            scope[key] = getattr(self.person, key)
        self.global_scope = scope
        for key in ("opener", "closer", "ending", "but", "joiner", "intro", "background"):
            if key not in scope:
                raise self.phrases.error(f"slots.{key} is missing", "[slots]")

    def _load_kinds(self) -> None:
        kinds = self.phrases.section("kinds")
        for kind in KINDS:
            share = self.phrases.number(kinds, kind, "kinds")
            if share < 0:
                raise self.phrases.error(f"kinds.{kind} must not be negative", f"{kind} =")
        self.kind_shares = {kind: float(kinds[kind]) for kind in KINDS}
        satisfaction = self.phrases.section("satisfaction")
        self.satisfaction_cum: dict[str, list[float]] = {}
        for key, weights in satisfaction.items():
            if not isinstance(weights, dict) or set(weights) != set(SATISFACTION_LEVELS):
                raise self.phrases.error(
                    f"satisfaction.{key} must give weights for {', '.join(SATISFACTION_LEVELS)}",
                    f"{key} =",
                )
            self.satisfaction_cum[key] = _cumulative([weights[level] for level in SATISFACTION_LEVELS])
        for kind in (*_ORIGINAL_KINDS, "nonsubstantive_satisfied"):
            if kind not in self.satisfaction_cum:
                raise self.phrases.error(f"satisfaction.{kind} is missing", "[satisfaction]")

    def _load_groups(self) -> None:
        groups = self.phrases.section("groups")
        if not isinstance(groups, list) or not groups:
            raise self.phrases.error("[[groups]] must list at least one evaluator group", "[[groups]]")
        for group in groups:
            forms = group.get("forms") if isinstance(group, dict) else None
            if not (
                isinstance(group.get("name"), str)
                and isinstance(group.get("weight"), (int, float))
                and isinstance(forms, list)
                and forms
                and all(isinstance(w, (int, float)) and w >= 0 for w in forms)
                and sum(forms) > 0
            ):
                raise self.phrases.error(
                    f"[[groups]] entry {group!r}: needs name (text), weight (number) and forms "
                    "(weights of filling 1, 2, 3 … forms, not all zero)",
                    str(group.get("name", "[[groups]]")) if isinstance(group, dict) else "[[groups]]",
                )
        self.group_names = tuple(group["name"] for group in groups)
        self.group_cum = _cumulative([group["weight"] for group in groups])
        self.group_forms = tuple(
            (tuple(range(1, len(group["forms"]) + 1)), _cumulative(group["forms"])) for group in groups
        )

    def _load_texts(self) -> None:
        ph = self.phrases
        self.theme_banks: dict[str, dict[str, tuple]] = {}
        for code, theme in self.themes.items():
            where = f"themes.{code}"
            self.theme_banks[code] = {
                "core": self._bank(ph.strings(theme, "core", where, minimum=12)),
                "act": self._bank(ph.strings(theme, "act", where)),
                "detail": self._bank(ph.strings(theme, "detail", where)),
                "neg": self._bank(ph.strings(theme, "neg", where)),
                "templates": self._bank(ph.strings(theme, "templates", where)),
                "clauses": self._bank(ph.strings(theme, "clauses", where)),
            }
        seen: dict[str, str] = {}
        for code, theme in self.themes.items():
            for template in theme["templates"]:
                if template in seen:
                    raise ph.error(
                        f"template {template!r} is used by both themes.{seen[template]} and "
                        f"themes.{code}; every theme needs its own templates",
                        template,
                    )
                seen[template] = code

        praise = ph.section("praise")
        self.praise_core = self._bank(ph.strings(praise, "core", "praise"))
        self.praise_staff = self._bank(ph.strings(praise, "staff_praise", "praise"))
        self.praise_closers = self._bank(ph.strings(praise, "closers", "praise"))
        self.praise_templates = self._bank(ph.strings(praise, "templates", "praise"))

        suggestion = ph.section("suggestion")
        self.suggestion_general = ph.strings(suggestion, "general", "suggestion")
        self.suggestion_templates = self._bank(ph.strings(suggestion, "templates", "suggestion"))

        nonsub = ph.section("nonsubstantive")
        self.nonsub_texts = tuple(ph.strings(nonsub, "texts", "nonsubstantive"))
        self.nonsub_satisfied = tuple(ph.strings(nonsub, "satisfied_texts", "nonsubstantive"))
        self.nonsub_satisfied_set = frozenset(self.nonsub_satisfied)
        self.nonsub_satisfied_share = ph.number(nonsub, "satisfied_share", "nonsubstantive")
        self.empty_texts = tuple(ph.strings(ph.section("empty"), "texts", "empty"))

        pii = ph.section("pii")
        self.pii_prefix = self._bank(ph.strings(pii, "prefix", "pii"))
        self.pii_suffix = self._bank(ph.strings(pii, "suffix", "pii"))

        noise = ph.section("noise")
        self.noise_breaks = tuple(ph.strings(noise, "clause_breaks", "noise"))
        self.noise_wraps = tuple(tuple(pair) for pair in noise.get("wraps", []))
        self.noise_amp_words = tuple(ph.strings(noise, "amp_words", "noise"))
        near = ph.section("near_duplicate")
        self.near_punct = tuple(tuple(pair) for pair in near.get("punctuation", []))
        self.near_trailing = tuple(ph.strings(near, "trailing", "near_duplicate"))
        self.near_spaces = tuple(ph.strings(near, "spaces", "near_duplicate"))
        if not self.noise_wraps or not self.near_punct:
            raise ph.error("noise.wraps and near_duplicate.punctuation must not be empty", "[noise]")

        r = self.round
        numbers = (
            "weekend_weight", "alias_share", "unknown_office_share", "name_share", "phone_share",
            "pii_share", "noise_share", "nonsubstantive_noise_share", "opener_share",
            "closer_share", "bare_core_share", "contrast_share", "long_share", "background_share",
            "habit_share", "signature_context_share", "second_signature_share",
            "three_theme_share", "duplicate_window",
        )
        self.r = {key: ph.number(r, key, "round") for key in numbers}
        self.months = tuple(int(m) for m in r.get("months", [11, 12]))
        if not self.months or any(not 1 <= m <= 12 for m in self.months):
            raise ph.error("round.months must list months 1–12", "months =")

    def _load_offices(self, offices: pd.DataFrame, seed: int) -> None:
        ph = self.phrases
        categories = ph.section("categories")
        office_data = self.phrases.data.get("offices", {})
        for name, cat in categories.items():
            weights = cat.get("theme_weights", {})
            unknown = sorted(set(weights) - set(self.theme_codes))
            if unknown:
                raise ph.error(
                    f"categories.{name}.theme_weights: unknown theme code(s) {', '.join(unknown)}; "
                    f"codes are {', '.join(self.theme_codes)}",
                    "theme_weights",
                )
        # Signatures depend on the seed only (not the year): an office keeps its weak spots.
        office_rng = Random(f"textmine.synth/offices/{seed}")
        names = [str(x).strip() for x in offices["office"]]
        short_names = {}
        for row, name in enumerate(names):
            aliases = [a.strip() for a in str(offices["aliases"].iloc[row]).split(";") if a.strip()]
            short_names[name] = aliases[0] if aliases else name

        self.offices: list[_OfficeProfile] = []
        by_name: dict[str, _OfficeProfile] = {}
        for row, name in enumerate(names):
            category = str(offices["category"].iloc[row]).strip()
            if category not in categories:
                raise DataFileError(
                    f"office table row {row + 2} ({name}): category {category!r} has no "
                    f"[categories.\"{category}\"] in {ph.path}; known: {', '.join(categories)}"
                )
            aliases = tuple(a.strip() for a in str(offices["aliases"].iloc[row]).split(";") if a.strip())
            others = tuple(short_names[other] for other in names if other != name) or ("上级部门",)
            own = office_data.get(name, {})
            profile = self._profile(name, category, aliases, categories[category], own, others, office_rng)
            self.offices.append(profile)
            by_name[name] = profile

        self.unknown_offices: list[_OfficeProfile] = []
        for entry in self.phrases.data.get("unknown_offices", []):
            category = entry.get("category", "")
            if category not in categories:
                raise ph.error(
                    f"unknown_offices: {entry.get('name')!r} has unknown category {category!r}",
                    str(entry.get("name")),
                )
            like = by_name.get(entry.get("like", ""))
            own = office_data.get(entry.get("like", ""), {}) if like else {}
            others = tuple(short_names.values()) or ("上级部门",)
            profile = self._profile(
                entry["name"], category, (), categories[category], own, others, office_rng
            )
            if like is not None:  # same office, other spelling: same weak spots
                profile.theme_cum = like.theme_cum
                profile.signatures = like.signatures
                profile.theme_scopes = like.theme_scopes
                profile.signature_scopes = like.signature_scopes
                profile.kind_cum = like.kind_cum
            self.unknown_offices.append(profile)
        self.visit_cum = _cumulative([p.visit_weight for p in self.offices])

    def _profile(self, name, category, aliases, cat, own, others, office_rng) -> _OfficeProfile:
        ph = self.phrases
        where = f"offices.{name}"

        def merged(key: str) -> list[str]:
            values = list(own.get(key, [])) or list(cat.get(key, []))
            if not values:
                raise ph.error(
                    f"{where}: no {key} (neither the office nor its category lists any)",
                    f'[categories."{category}"]',
                )
            return values

        base = dict(self.global_scope)
        base["ctx"] = self._bank(merged("contexts"))
        base["staff"] = self._bank(merged("staff"))
        base["issue"] = self._bank(merged("issues"))
        base["other"] = self._bank(others)

        weights = cat.get("theme_weights", {})
        theme_weights = [float(weights.get(code, 0.0)) for code in self.theme_codes]
        # Signature problems: drawn by the category's weights, boosted for this office.
        boost = self.round.get("signature_boost", [30, 16])
        n_signatures = 2 if office_rng.random() < self.r["second_signature_share"] else 1
        signatures: list[str] = []
        while len(signatures) < n_signatures:
            code = office_rng.choices(self.theme_codes, weights=[w + 1.0 for w in theme_weights])[0]
            if code not in signatures:
                signatures.append(code)
        for rank, code in enumerate(signatures):
            theme_weights[self.theme_codes.index(code)] += float(boost[min(rank, len(boost) - 1)])
        signature_ctx = office_rng.choice(base["ctx"])

        theme_scopes = {}
        signature_scopes = {}
        for code in self.theme_codes:
            banks = self.theme_banks[code]
            scope = dict(base, core=banks["core"], act=banks["act"], detail=banks["detail"])
            theme_scopes[code] = scope
            signature_scopes[code] = dict(scope, ctx=(signature_ctx,))

        lo, hi = self.round.get("office_severity", [1.0, 1.0])
        severity = office_rng.uniform(float(lo), float(hi))
        shares = self.kind_shares
        kind_weights = [
            shares["complaint"] * severity,
            shares["multi"] * severity,
            shares["praise"] / severity,
            shares["suggestion"],
            shares["empty"],
            shares["nonsubstantive"],
        ]

        suggestions = [*own.get("suggestions", []), *cat.get("suggestions", []), *self.suggestion_general]
        suggest_bank = self._bank(suggestions)
        praise_scope = dict(
            base, core=self.praise_core, praise2=self.praise_core, staff_praise=self.praise_staff
        )
        suggestion_scope = dict(base, suggest=suggest_bank, suggest2=suggest_bank)
        return _OfficeProfile(
            name=name,
            category=category,
            aliases=aliases,
            visit_weight=float(cat.get("visit_weight", 1.0)),
            theme_codes=self.theme_codes,
            theme_cum=_cumulative(theme_weights),
            kind_cum=_cumulative(kind_weights),
            signatures=tuple(signatures),
            theme_scopes=theme_scopes,
            signature_scopes=signature_scopes,
            base_scope=base,
            praise_scope=praise_scope,
            suggestion_scope=suggestion_scope,
        )

    def _validate_slots(self) -> None:
        """Fail early, naming file:line, when a template uses a slot nothing fills."""
        theme_keys = set(self.offices[0].theme_scopes[self.theme_codes[0]])
        praise_keys = set(self.offices[0].praise_scope) | {"neg", "neg2"}
        suggestion_keys = set(self.offices[0].suggestion_scope)
        checks: list[tuple[str, tuple, set]] = []
        for code in self.theme_codes:
            for key, bank in self.theme_banks[code].items():
                checks.append((f"themes.{code}.{key}", bank, theme_keys))
        for key, bank in self.global_scope.items():
            if bank.__class__ is tuple:
                checks.append((f"slots.{key}", bank, theme_keys))
        checks.append(("pii.prefix", self.pii_prefix, theme_keys))
        checks.append(("pii.suffix", self.pii_suffix, theme_keys))
        checks.append(("praise.templates", self.praise_templates, praise_keys))
        checks.append(("praise.core", self.praise_core, praise_keys))
        checks.append(("suggestion.templates", self.suggestion_templates, suggestion_keys))
        for profile in self.offices:
            for key in ("ctx", "staff", "issue"):
                checks.append((f"offices.{profile.name}.{key}", profile.base_scope[key], theme_keys))
        for where, bank, keys in checks:
            for item in bank:
                for name in _slot_names(item):
                    if name not in keys:
                        raise self.phrases.error(
                            f"{where}: unknown slot {{{name}}}; known slots: {', '.join(sorted(keys))}",
                            "{" + name + "}",
                        )

    # ---- composing texts -------------------------------------------------------------------

    def _theme_scope(self, profile: _OfficeProfile, code: str, rng: Random) -> dict:
        if code in profile.signatures and rng.random() < self.r["signature_context_share"]:
            return profile.signature_scopes[code]
        return profile.theme_scopes[code]

    def _draw_themes(self, profile: _OfficeProfile, k: int, rng: Random) -> list[str]:
        chosen: list[str] = []
        while len(chosen) < k:
            code = rng.choices(profile.theme_codes, cum_weights=profile.theme_cum)[0]
            if code not in chosen:
                chosen.append(code)
        return chosen

    def _finish(
        self,
        body: str,
        scope: dict,
        rng: Random,
        *,
        opener: bool,
        closers: tuple | None,
        contact: bool = True,
    ) -> str:
        """Add who-is-writing, opener, personal data, final punctuation, closer and export noise.

        ``opener`` allows the complaint openers; ``contact`` allows contact details after the
        text (praise only gets a self-introduction before it).
        """
        r = self.r
        if opener and rng.random() < r["background_share"]:
            body = _render(rng.choice(scope["background"]), scope, rng) + body
        if opener and rng.random() < r["opener_share"]:
            body = _render(rng.choice(scope["opener"]), scope, rng) + body
        if rng.random() < r["pii_share"]:
            if not contact or rng.random() < 0.35:
                body = _render(rng.choice(self.pii_prefix), scope, rng) + "，" + body
            else:
                if body[-1] not in _END_PUNCT:
                    body += "，"
                body += _render(rng.choice(self.pii_suffix), scope, rng)
        if body[-1] not in _END_PUNCT:
            body += rng.choice(scope["ending"])
        if closers is not None and rng.random() < r["closer_share"]:
            if body[-1] not in _END_PUNCT:
                body += "，"
            body += _render(rng.choice(closers), scope, rng)
        if rng.random() < r["noise_share"]:
            body = self._noise(body, rng)
        return body

    def _compose(self, build: Callable[[], str]) -> str:
        """Call ``build`` until its text repeats no clause (at most three tries)."""
        body = build()
        for _ in range(2):
            if not _repeats_clause(body):
                break
            body = build()
        return body

    def complaint(self, profile: _OfficeProfile, rng: Random) -> tuple[str, list[str]]:
        code = rng.choices(profile.theme_codes, cum_weights=profile.theme_cum)[0]
        scope = self._theme_scope(profile, code, rng)
        banks = self.theme_banks[code]
        r = self.r
        draw = rng.random()
        if draw < r["long_share"]:
            return self._long_complaint(code, scope, rng), [code]
        draw -= r["long_share"]
        if draw < r["contrast_share"]:
            other = rng.choice([c for c in profile.theme_codes if c != code])

            def build() -> str:
                negation = _render(rng.choice(self.theme_banks[other]["neg"]), scope, rng)
                clause = _render(rng.choice(banks["clauses"]), scope, rng)
                body = negation + rng.choice(scope["but"]) + clause
                if rng.random() < 0.3:
                    body = _render(rng.choice(scope["intro"]), scope, rng) + body
                return body

        elif draw - r["contrast_share"] < r["bare_core_share"]:

            def build() -> str:
                return _render(rng.choice(banks["core"]), scope, rng)

        else:

            def build() -> str:
                return _render(rng.choice(banks["templates"]), scope, rng)

        body = self._compose(build)
        return self._finish(body, scope, rng, opener=True, closers=scope["closer"]), [code]

    def _long_complaint(self, code: str, scope: dict, rng: Random) -> str:
        """Tell a longer story about one theme: who, where, what happened, what it shows."""
        banks = self.theme_banks[code]
        # One context, one member of staff, one subsidy through the story; other slots vary.
        story = {key: _render(rng.choice(scope[key]), scope, rng) for key in ("ctx", "staff", "subsidy")}

        def render(item) -> str:
            return _render(item, scope, rng, dict(story))

        pieces = [render(rng.choice(scope["intro"])).rstrip("，")]
        details = list(banks["detail"])
        rng.shuffle(details)
        pieces.extend(render(item) for item in details[: rng.randint(2, 4)])
        pieces.append(story["staff"] + render(rng.choice(banks["act"])))
        cores = list(banks["core"])
        rng.shuffle(cores)
        pieces.extend(render(item) for item in cores[: rng.randint(1, 2)])
        body = "，".join(dict.fromkeys(pieces)) + "。"  # dict.fromkeys: drop repeats, keep order
        if rng.random() < 0.5:
            body += _end_sentence(render(rng.choice(banks["templates"])))
        if rng.random() < 0.4:
            body = render(rng.choice(scope["background"])) + body
        if rng.random() < 0.5:
            body = render(rng.choice(scope["opener"])) + body
        closers = list(scope["closer"])
        rng.shuffle(closers)
        body += "".join(render(item) for item in closers[: rng.randint(1, 2)])
        if rng.random() < self.r["pii_share"] * 3:
            body += _end_sentence(render(rng.choice(self.pii_suffix)))
        if rng.random() < self.r["noise_share"]:
            body = self._noise(body, rng)
        return body

    def multi(self, profile: _OfficeProfile, rng: Random) -> tuple[str, list[str]]:
        k = 3 if rng.random() < self.r["three_theme_share"] else 2
        codes = self._draw_themes(profile, k, rng)
        scopes = [self._theme_scope(profile, code, rng) for code in codes]
        first = scopes[0]

        def build() -> str:
            body = _render(rng.choice(first["intro"]), first, rng) if rng.random() < 0.5 else ""
            joiners = rng.sample(first["joiner"], k - 1)
            for index, (code, scope) in enumerate(zip(codes, scopes)):
                if index:
                    body += joiners[index - 1]
                body += _render(rng.choice(self.theme_banks[code]["clauses"]), scope, rng)
            return body

        body = self._compose(build)
        return self._finish(body, first, rng, opener=True, closers=first["closer"]), codes

    def praise(self, profile: _OfficeProfile, rng: Random) -> str:
        first, second = rng.sample(profile.theme_codes, 2)
        negations = {"neg": self.theme_banks[first]["neg"], "neg2": self.theme_banks[second]["neg"]}
        scope = {**profile.praise_scope, **negations}
        body = self._compose(lambda: _render(rng.choice(self.praise_templates), scope, rng))
        return self._finish(body, scope, rng, opener=False, closers=self.praise_closers, contact=False)

    def suggestion(self, profile: _OfficeProfile, rng: Random) -> str:
        scope = profile.suggestion_scope
        body = self._compose(lambda: _render(rng.choice(self.suggestion_templates), scope, rng))
        return self._finish(body, scope, rng, opener=False, closers=None)

    def nonsubstantive(self, evaluator: _Evaluator, rng: Random) -> str:
        if evaluator.habit is not None and rng.random() < self.r["habit_share"]:
            text = evaluator.habit
        elif rng.random() < self.nonsub_satisfied_share:
            text = rng.choice(self.nonsub_satisfied)
        else:
            text = rng.choice(self.nonsub_texts)
        if evaluator.habit is None:
            evaluator.habit = text
        if rng.random() < self.r["nonsubstantive_noise_share"]:
            prefix, suffix = rng.choice(self.noise_wraps)
            text = prefix + text + suffix
        return text

    # ---- noise and near duplicates ---------------------------------------------------------

    def _noise(self, text: str, rng: Random) -> str:
        """Add one kind of export noise: full-width ASCII, an HTML entity, breaks or spaces."""
        op = rng.randrange(4)
        if op == 0 and any(c.isascii() and c.isalnum() for c in text):
            return _to_fullwidth(text)
        if op <= 1 and "，" in text:
            positions = [i for i, c in enumerate(text) if c == "，"]
            i = rng.choice(positions)
            return text[:i] + rng.choice(self.noise_breaks) + text[i + 1 :]
        if op == 2:
            for word in self.noise_amp_words:
                if word in text:
                    return text.replace(word, "&amp;", 1)
        prefix, suffix = rng.choice(self.noise_wraps)
        return prefix + text + suffix

    def near_duplicate(self, text: str, rng: Random) -> str:
        """Return ``text`` with changed punctuation, whitespace or character width."""
        result = text
        for _ in range(rng.randint(1, 2)):
            op = rng.randrange(4)
            if op == 0:
                # Swap either way, but never turn spaces into punctuation.
                pairs = [
                    p for p in self.near_punct if p[0] in result or (p[1] in result and not p[1].isspace())
                ]
                if pairs:
                    a, b = rng.choice(pairs)
                    result = result.replace(a, b) if a in result else result.replace(b, a)
                    continue
            if op == 1 and any(c.isascii() and c.isalnum() for c in result):
                result = _to_fullwidth(result)
                continue
            if op == 2 and len(result) > 2:
                boundaries = [i + 1 for i, c in enumerate(result[:-1]) if c in _CLAUSE_PUNCT]
                # Inside "&nbsp;" or "<br>" a space would change markup, not spacing.
                if boundaries and (rng.random() < 0.6 or "&" in result or "<" in result):
                    i = rng.choice(boundaries)
                else:
                    i = rng.randrange(1, len(result))
                result = result[:i] + rng.choice(self.near_spaces) + result[i:]
                continue
            stripped = result.rstrip("。！？!?…. ")
            result = stripped + rng.choice(self.near_trailing)
        if result == text:
            result = text[:-1] if text and text[-1] in _END_PUNCT else text + "。"
        return result

    # ---- the round ---------------------------------------------------------------------------

    def _dates(self, year: int) -> tuple[list[str], list[float]]:
        days: list[str] = []
        weights: list[float] = []
        for month in self.months:
            for day in range(1, calendar.monthrange(year, month)[1] + 1):
                date = dt.date(year, month, day)
                days.append(date.isoformat())
                weights.append(self.r["weekend_weight"] if date.weekday() >= 5 else 1.0)
        return days, _cumulative(weights)

    def generate(self, n: int, year: int, seed: int) -> SyntheticRound:
        rng = Random(f"textmine.synth/rows/{seed}/{year}")
        shares = self.kind_shares
        total_share = sum(shares.values()) or 1.0
        p_duplicate = shares["duplicate"] / total_share
        p_near = shares["near_duplicate"] / total_share
        n_duplicate = n_near = 0
        for _ in range(n):
            draw = rng.random()
            if draw < p_duplicate:
                n_duplicate += 1
            elif draw < p_duplicate + p_near:
                n_near += 1
        n_original = n - n_duplicate - n_near
        if n_original < 1:
            n_original, n_duplicate, n_near = n, 0, 0

        originals = self._original_rows(self._sessions(n_original, year, rng), rng)
        eligible = [i for i, row in enumerate(originals) if row.kind in _RESUBMITTABLE]
        if not eligible and n_original < n:  # nothing to resubmit: fill up with original rows
            first_number = max(row.evaluator.number for row in originals) + 1
            extra = self._sessions(n - n_original, year, rng, first_number=first_number)
            originals += self._original_rows(extra, rng)
            originals.sort(key=lambda row: row.date)
            n_duplicate = n_near = 0

        # Resubmissions: a copy of an earlier row, placed a little later in the export.
        later: dict[int, list[_Row]] = {}
        r = self.r
        if eligible:
            window = max(1, int(r["duplicate_window"]))
            last = len(originals) - 1
            for kind, count in (("duplicate", n_duplicate), ("near_duplicate", n_near)):
                for _ in range(count):
                    i = rng.choice(eligible)
                    source = originals[i]
                    target = min(i + rng.randint(0, window), last)
                    text = source.text if kind == "duplicate" else self.near_duplicate(source.text, rng)
                    later.setdefault(target, []).append(
                        _Row(source.evaluator, source.office, source.satisfaction, text,
                             originals[target].date, source.themes, kind)
                    )

        rows: list[_Row] = []
        for i, row in enumerate(originals):
            rows.append(row)
            rows.extend(later.get(i, ()))
        return self._frames(rows, year)

    def _original_rows(self, sessions, rng: Random) -> list[_Row]:
        """Compose one row per (evaluator, office) of the sessions."""
        rows: list[_Row] = []
        r = self.r
        order = {code: i for i, code in enumerate(self.theme_codes)}
        for evaluator, date, profiles in sessions:
            for profile in profiles:
                shown = profile.name
                draw = rng.random()
                if draw < r["unknown_office_share"] and self.unknown_offices:
                    profile = rng.choice(self.unknown_offices)
                    shown = profile.name
                elif draw < r["unknown_office_share"] + r["alias_share"] and profile.aliases:
                    shown = rng.choice(profile.aliases)
                kind = rng.choices(_ORIGINAL_KINDS, cum_weights=profile.kind_cum)[0]
                codes: list[str] = []
                if kind == "complaint":
                    text, codes = self.complaint(profile, rng)
                elif kind == "multi":
                    text, codes = self.multi(profile, rng)
                elif kind == "praise":
                    text = self.praise(profile, rng)
                elif kind == "suggestion":
                    text = self.suggestion(profile, rng)
                elif kind == "empty":
                    text = rng.choice(self.empty_texts)
                else:
                    text = self.nonsubstantive(evaluator, rng)
                satisfaction_key = kind
                if kind == "nonsubstantive" and text.strip() in self.nonsub_satisfied_set:
                    satisfaction_key = "nonsubstantive_satisfied"
                satisfaction = rng.choices(
                    SATISFACTION_LEVELS, cum_weights=self.satisfaction_cum[satisfaction_key]
                )[0]
                themes = ";".join(sorted(codes, key=order.__getitem__))
                rows.append(_Row(evaluator, shown, satisfaction, text, date, themes, kind))
        return rows

    def _sessions(self, n_rows: int, year: int, rng: Random, *, first_number: int = 1):
        """Draw evaluators, each filling forms on several distinct offices on one day."""
        days, day_cum = self._dates(year)
        sessions = []
        count = 0
        r = self.r
        n_offices = len(self.offices)
        while count < n_rows:
            g = rng.choices(range(len(self.group_names)), cum_weights=self.group_cum)[0]
            values, cum = self.group_forms[g]
            k = min(rng.choices(values, cum_weights=cum)[0], n_offices, n_rows - count)
            picked: list[int] = []
            while len(picked) < k:
                index = rng.choices(range(n_offices), cum_weights=self.visit_cum)[0]
                if index not in picked:
                    picked.append(index)
            name = self.person.name(rng) if rng.random() < r["name_share"] else ""
            phone = self.person.mobile(rng) if rng.random() < r["phone_share"] else ""
            evaluator = _Evaluator(0, self.group_names[g], name, phone)
            date = rng.choices(days, cum_weights=day_cum)[0]
            sessions.append((evaluator, date, [self.offices[i] for i in picked]))
            count += k
        # Evaluator numbers are assigned at registration, not in the order forms come in.
        numbers = list(range(first_number, first_number + len(sessions)))
        rng.shuffle(numbers)
        for (evaluator, _, _), number in zip(sessions, numbers):
            evaluator.number = number
        sessions.sort(key=lambda session: session[1])  # stable: the export is in date order
        return sessions

    def _frames(self, rows: list[_Row], year: int) -> SyntheticRound:
        width = max(5, len(str(max((row.evaluator.number for row in rows), default=0))))
        serial = list(range(1, len(rows) + 1))
        opinions = pd.DataFrame(
            {
                "序号": serial,
                "评议人编号": [f"P{year}-{row.evaluator.number:0{width}d}" for row in rows],
                "评议人姓名": [row.evaluator.name for row in rows],
                "联系电话": [row.evaluator.phone for row in rows],
                "评议人类别": [row.evaluator.group for row in rows],
                "被评议单位": [row.office for row in rows],
                "满意度": [row.satisfaction for row in rows],
                "意见建议": [row.text for row in rows],
                "填报日期": [row.date for row in rows],
            },
            columns=list(OPINION_COLUMNS),
        )
        truth = pd.DataFrame(
            {
                "序号": serial,
                "themes": [row.themes for row in rows],
                "kind": [row.kind for row in rows],
            },
            columns=list(TRUTH_COLUMNS),
        )
        return SyntheticRound(opinions=opinions, truth=truth)


def _end_sentence(text: str) -> str:
    return text if text and text[-1] in _END_PUNCT else text + "。"


def _repeats_clause(text: str) -> bool:
    """Tell whether a clause occurs twice ("上门服务，很贴心，上门服务，很贴心")."""
    clauses = [c for c in re.split(r"[，。！？；、：…]+", text) if c]
    return len(clauses) != len(set(clauses))


def _to_fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _check_args(n: int, year: int, seed: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise TextmineError(f"n must be a whole number ≥ 0, got {n!r}")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 9999:
        raise TextmineError(f"year must be a four-digit year, got {year!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TextmineError(f"seed must be an integer, got {seed!r}")


def generate_with_truth(
    *,
    n: int = 3200,
    year: int = 2025,
    seed: int = 2025,
    offices: pd.DataFrame | None = None,
    phrases_path: str | Path | None = None,
) -> SyntheticRound:
    """Generate a synthetic evaluation round and its answer key.

    Parameters
    ----------
    n : number of rows (forms with an opinion field).
    year : the round's year; dates fall in the evaluation months of [round].months.
    seed : randomness; same arguments give identical frames.
    offices : table with columns office, category, aliases (``;``-joined); default
        the shipped ``corpora/offices.csv``.
    phrases_path : phrase file; default the shipped ``corpora/sample/phrases.toml``.
    """
    _check_args(n, year, seed)
    phrases = _PhraseFile(Path(phrases_path) if phrases_path else corpus_path("sample", "phrases.toml"))
    generator = _Generator(phrases, _load_offices(offices), seed)
    return generator.generate(n, year, seed)


def generate_round(
    *,
    n: int = 3200,
    year: int = 2025,
    seed: int = 2025,
    offices: pd.DataFrame | None = None,
    phrases_path: str | Path | None = None,
) -> pd.DataFrame:
    """Generate and return the opinions table of a synthetic round (columns OPINION_COLUMNS)."""
    both = generate_with_truth(n=n, year=year, seed=seed, offices=offices, phrases_path=phrases_path)
    return both.opinions


def generate_truth(
    *,
    n: int = 3200,
    year: int = 2025,
    seed: int = 2025,
    offices: pd.DataFrame | None = None,
    phrases_path: str | Path | None = None,
) -> pd.DataFrame:
    """Generate and return the answer key (序号, themes, kind) of the same round."""
    both = generate_with_truth(n=n, year=year, seed=seed, offices=offices, phrases_path=phrases_path)
    return both.truth


def write_round(synthetic: SyntheticRound, out_dir: str | Path, *, year: int) -> list[Path]:
    """Write ``opinions_<year>.csv`` (UTF-8 with BOM) and ``opinions_<year>_truth.csv``."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TextmineError(f"{out}: cannot create the output folder ({exc})") from exc
    opinions_path = out / f"opinions_{year}.csv"
    truth_path = out / f"opinions_{year}_truth.csv"
    # Fixed line ending: the committed sample must be byte-identical on every platform.
    synthetic.opinions.to_csv(opinions_path, index=False, encoding="utf-8-sig", lineterminator="\n")
    synthetic.truth.to_csv(truth_path, index=False, encoding="utf-8", lineterminator="\n")
    return [opinions_path, truth_path]


def write_sample(
    out_dir: str | Path,
    *,
    n: int = 3200,
    year: int = 2025,
    seed: int = 2025,
    offices: pd.DataFrame | None = None,
    phrases_path: str | Path | None = None,
) -> list[Path]:
    """Generate a round and write it to ``out_dir``; return the written paths (opinions, truth)."""
    synthetic = generate_with_truth(
        n=n, year=year, seed=seed, offices=offices, phrases_path=phrases_path
    )
    return write_round(synthetic, out_dir, year=year)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m textmine.synth --out DIR [--n N] [--year Y] [--seed S]``."""
    parser = argparse.ArgumentParser(
        prog="python -m textmine.synth",
        description="Generate a synthetic evaluation round (opinions + answer key) as CSV.",
    )
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--n", type=int, default=3200, help="number of rows (default 3200)")
    parser.add_argument("--year", type=int, default=2025, help="round year (default 2025)")
    parser.add_argument("--seed", type=int, default=2025, help="random seed (default 2025)")
    parser.add_argument("--phrases", default=None, help="phrase file (default: the shipped one)")
    args = parser.parse_args(argv)
    try:
        paths = write_sample(
            args.out, n=args.n, year=args.year, seed=args.seed, phrases_path=args.phrases
        )
    except TextmineError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
