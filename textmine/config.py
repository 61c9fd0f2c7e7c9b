"""The workspace configuration (TOML): office categories, evaluator-group weights, rating scales.

The shipped default is ``corpora/workspace.toml``; ``textmine init`` copies it into a new
workspace, where an analyst edits it. Every problem is reported as ``FILE:LINE: message``.

Sections (see the default file for comments):

- ``[scoring]`` — ``scale`` (``auto``, ``three_level``, ``five_point``, ``hundred_point``),
  ``min_forms`` (offices rated on fewer forms are listed but not ranked),
  ``one_rating_per_evaluator``, ``confidence`` (Wilson interval level),
  ``unlisted_group_weight``.
- ``[flags]`` — when an office becomes a key-help unit (重点帮助单位): ``fall_places``,
  ``prominent_share``, ``prominent_min_count``, ``prominent_ratio``.
- ``[tracking]`` — ``alpha`` of the two-proportion test.
- ``[weights]`` — 评议权重: evaluator group → weight (≥ 0).
- ``[categories]`` — 分组: category → list of offices; offices not listed keep the category
  of the office alias table.
- ``[scales.three_level]`` (written labels per level), ``[scales.points]`` (points of each
  level in the composite), ``[scales.five_point]`` and ``[scales.hundred_point]`` (``min``,
  ``max``, ``satisfied_from``, ``dissatisfied_below``).
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

from .datafiles import line_of_key, load_toml
from .errors import DataFileError
from .resources import corpus_path

LEVELS = ("满意", "基本满意", "不满意")
SCALES = ("three_level", "five_point", "hundred_point")


@dataclass(frozen=True)
class NumericScale:
    """A numeric rating scale: ``value ≥ satisfied_from`` is 满意, ``< dissatisfied_below`` 不满意."""

    low: float
    high: float
    satisfied_from: float
    dissatisfied_below: float

    def level(self, value: float) -> str | None:
        if math.isnan(value) or not self.low <= value <= self.high:
            return None
        if value >= self.satisfied_from:
            return LEVELS[0]
        if value < self.dissatisfied_below:
            return LEVELS[2]
        return LEVELS[1]

    def points(self, value: float) -> float:
        """Map ``value`` linearly onto 0–100 (``low`` → 0, ``high`` → 100)."""
        return (value - self.low) / (self.high - self.low) * 100.0


@dataclass(frozen=True)
class WorkspaceConfig:
    """A validated workspace configuration (see the module docstring for the file's sections)."""

    weights: dict[str, float]
    categories: dict[str, str] = field(default_factory=dict)   # office -> category (分组)
    unlisted_group_weight: float = 1.0
    scale: str = "auto"
    labels: dict[str, str] = field(default_factory=lambda: {level: level for level in LEVELS})
    points: dict[str, float] = field(default_factory=lambda: {"满意": 100.0, "基本满意": 60.0, "不满意": 0.0})
    five_point: NumericScale = NumericScale(1, 5, 4, 3)
    hundred_point: NumericScale = NumericScale(0, 100, 90, 60)
    min_forms: int = 30
    one_rating_per_evaluator: bool = True
    confidence: float = 0.95
    fall_places: int = 10
    prominent_share: float = 0.35
    prominent_min_count: int = 10
    prominent_ratio: float = 2.0
    alpha: float = 0.05
    source: str = "<memory>"
    sha256: str = ""

    def weight(self, group: str) -> float:
        """Return the weight (评议权重) of an evaluator group."""
        return self.weights.get(group, self.unlisted_group_weight)

    def category(self, office: str, fallback: str = "") -> str:
        """Return the office's category (分组): the config's, else ``fallback``."""
        return self.categories.get(office, fallback)


def default_config_path() -> Path:
    return corpus_path("workspace.toml")


def load_config(path: str | Path | None = None) -> WorkspaceConfig:
    """Read and validate a workspace config; the shipped default when ``path`` is None."""
    path = Path(path) if path is not None else default_config_path()
    data, text = load_toml(path, "workspace config")
    return _Builder(path, text).build(data, hashlib.sha256(text.encode("utf-8")).hexdigest())


class _Builder:
    def __init__(self, path: Path, text: str):
        self.path = path
        self.text = text
        self.lines = text.splitlines()

    def _section_line(self, dotted: str) -> int:
        header = f"[{dotted}]"
        for number, line in enumerate(self.lines, 1):
            if line.strip().startswith(header):
                return number
        return 1

    def error(self, message: str, section: str = "", key: str = "") -> DataFileError:
        line = self._section_line(section) if section else 1
        if key:
            line = line_of_key(self.text, key, line)
        return DataFileError(f"{self.path}:{line}: {message}")

    def table(self, data: dict, name: str) -> dict:
        node = data
        for part in name.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                raise self.error(f"[{name}] must be a table", name.split(".")[0])
        return node

    def number(self, table: dict, section: str, key: str, default: float, *, low: float | None = None,
               high: float | None = None, integer: bool = False, strict_low: bool = False) -> float:
        value = table.get(key, default)
        ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
        if ok and integer:
            ok = float(value).is_integer()
        if ok and low is not None:
            ok = value > low if strict_low else value >= low
        if ok and high is not None:
            ok = value <= high
        if not ok:
            bounds = []
            if low is not None:
                bounds.append(f"{'>' if strict_low else '≥'} {low:g}")
            if high is not None:
                bounds.append(f"≤ {high:g}")
            kind = "a whole number" if integer else "a number"
            raise self.error(f"{section}.{key} must be {kind}{' ' + ' and '.join(bounds) if bounds else ''}, "
                             f"got {value!r}", section, key)
        return int(value) if integer else float(value)

    def build(self, data: dict, digest: str) -> WorkspaceConfig:
        known = {"version", "scoring", "flags", "tracking", "weights", "categories", "scales"}
        for key in data:
            if key not in known:
                raise self.error(f"unknown section or key {key!r}; known: {', '.join(sorted(known))}",
                                 key if isinstance(data[key], dict) else "", key)
        scoring = self.table(data, "scoring")
        flags = self.table(data, "flags")
        tracking = self.table(data, "tracking")
        scale = scoring.get("scale", "auto")
        if scale not in ("auto", *SCALES):
            raise self.error(f"scoring.scale must be one of auto, {', '.join(SCALES)}; got {scale!r}",
                             "scoring", "scale")
        per_evaluator = scoring.get("one_rating_per_evaluator", True)
        if not isinstance(per_evaluator, bool):
            raise self.error(f"scoring.one_rating_per_evaluator must be true or false, got {per_evaluator!r}",
                             "scoring", "one_rating_per_evaluator")

        weights = {}
        for group, value in self.table(data, "weights").items():
            weights[str(group)] = self.number({group: value}, "weights", group, 0.0, low=0.0)
        if weights and not any(weights.values()):
            raise self.error("weights: at least one evaluator group needs a weight above 0", "weights")

        categories: dict[str, str] = {}
        for category, offices in self.table(data, "categories").items():
            if not isinstance(offices, list) or not all(isinstance(o, str) and o.strip() for o in offices):
                raise self.error(f"categories.{category} must be a list of office names", "categories", category)
            for office in offices:
                office = office.strip()
                if office in categories:
                    raise self.error(f"office {office!r} is listed in categories {categories[office]!r} "
                                     f"and {category!r}; give each office one category", "categories", category)
                categories[office] = str(category)

        labels, points = self._three_level(data)
        return WorkspaceConfig(
            weights=weights,
            categories=categories,
            unlisted_group_weight=self.number(scoring, "scoring", "unlisted_group_weight", 1.0, low=0.0),
            scale=scale,
            labels=labels,
            points=points,
            five_point=self._numeric(data, "five_point", NumericScale(1, 5, 4, 3)),
            hundred_point=self._numeric(data, "hundred_point", NumericScale(0, 100, 90, 60)),
            min_forms=self.number(scoring, "scoring", "min_forms", 30, low=1, integer=True),
            one_rating_per_evaluator=per_evaluator,
            confidence=self.number(scoring, "scoring", "confidence", 0.95, low=0.0, high=0.999, strict_low=True),
            fall_places=self.number(flags, "flags", "fall_places", 10, low=1, integer=True),
            prominent_share=self.number(flags, "flags", "prominent_share", 0.35, low=0.0, high=1.0),
            prominent_min_count=self.number(flags, "flags", "prominent_min_count", 10, low=1, integer=True),
            prominent_ratio=self.number(flags, "flags", "prominent_ratio", 2.0, low=0.0),
            alpha=self.number(tracking, "tracking", "alpha", 0.05, low=0.0, high=0.5, strict_low=True),
            source=str(self.path),
            sha256=digest,
        )

    def _three_level(self, data: dict) -> tuple[dict[str, str], dict[str, float]]:
        section = "scales.three_level"
        table = self.table(data, section)
        labels = {level: level for level in LEVELS}
        for level, written in table.items():
            if level not in LEVELS:
                raise self.error(f"{section}: unknown level {level!r}; levels are {', '.join(LEVELS)}",
                                 section, level)
            if not isinstance(written, list) or not all(isinstance(w, str) and w.strip() for w in written):
                raise self.error(f"{section}.{level} must be a list of labels as written in the files",
                                 section, level)
            for label in written:
                label = label.strip()
                if labels.get(label, level) != level:
                    raise self.error(f"{section}: label {label!r} is given for both {labels[label]!r} and "
                                     f"{level!r}", section, level)
                labels[label] = level
        section = "scales.points"
        table = self.table(data, section)
        unknown = sorted(set(table) - set(LEVELS))
        if unknown:
            raise self.error(f"{section}: unknown level(s) {', '.join(unknown)}; levels are {', '.join(LEVELS)}",
                             section, unknown[0])
        defaults = {"满意": 100.0, "基本满意": 60.0, "不满意": 0.0}
        points = {level: self.number(table, section, level, defaults[level], low=0.0, high=100.0)
                  for level in LEVELS}
        if not points["满意"] >= points["基本满意"] >= points["不满意"]:
            raise self.error(f"{section}: points must not rise from 满意 to 基本满意 to 不满意, got "
                             f"{points['满意']:g}, {points['基本满意']:g}, {points['不满意']:g}", section)
        return labels, points

    def _numeric(self, data: dict, name: str, default: NumericScale) -> NumericScale:
        section = f"scales.{name}"
        table = self.table(data, section)
        low = self.number(table, section, "min", default.low)
        high = self.number(table, section, "max", default.high, low=low, strict_low=True)
        satisfied = self.number(table, section, "satisfied_from", default.satisfied_from, low=low, high=high)
        below = self.number(table, section, "dissatisfied_below", default.dissatisfied_below, low=low,
                            high=satisfied)
        return NumericScale(low, high, satisfied, below)
