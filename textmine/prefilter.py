"""Literal prefilters for regular expressions: skip a text that no match could be in.

A taxonomy pattern such as ``(时间|周期)?长达[一二三0-9]+个?月`` begins with an optional group,
so Python's ``re`` tries it at every position of every text. Yet every match contains
``长达``; a text without it can be skipped with one substring test, which runs in C.
:func:`required_literals` finds such strings by reading the pattern's parse tree.

The analysis is conservative: it returns ``None`` whenever it is not sure (flags, repeats
with no literal inside, back-references, ...), and a returned set is always *necessary*:
every match of the pattern contains at least one of its strings.
"""
from __future__ import annotations

import re

try:  # the parser moved in Python 3.11; its tree format did not change
    from re import _constants as _c, _parser as _sre
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _sre  # type: ignore[no-redef]

MAX_STRINGS = 3     # more alternatives cost more substring scans than they save
_MAX_EXPANSION = 48  # cap on the strings a finite sub-pattern is expanded into


def required_literals(pattern: str) -> frozenset[str] | None:
    """Return strings one of which every match of ``pattern`` contains, or ``None``.

    ``None`` also when the pattern starts with a literal: ``re`` already searches for a
    literal prefix quickly, and a prefilter would only add a scan.
    """
    try:
        parsed = _sre.parse(pattern)
    except re.error:
        return None
    if parsed.state.flags & ~re.UNICODE:
        return None
    items = list(parsed)
    if not items or items[0][0] is _c.LITERAL:
        return None
    found = _required(items)
    return found if found is not None and len(found) <= MAX_STRINGS else None


def _score(strings: frozenset[str]) -> tuple:
    # strings of two or more characters first (one CJK character is rarely selective),
    # then fewer alternatives (each is one scan), then longer ones
    shortest = min(map(len, strings))
    return (shortest >= 2, -len(strings), shortest)


def _best(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None or b is None:
        return a if b is None else b
    return a if _score(a) >= _score(b) else b


def _product(left: set[str] | None, right: set[str] | None) -> set[str] | None:
    if left is None or right is None:
        return None
    out = {x + y for x in left for y in right}
    return out if len(out) <= _MAX_EXPANSION else None


def _finite(op, av) -> set[str] | None:
    """Every string the item can match, when there are few of them; else ``None``."""
    if op is _c.LITERAL:
        return {chr(av)}
    if op is _c.SUBPATTERN:
        _, add_flags, del_flags, seq = av
        return None if add_flags or del_flags else _finite_seq(seq)
    if op is _c.BRANCH:
        return _union(av[1], _finite_seq, _MAX_EXPANSION)
    if op is _c.IN and all(kind is _c.LITERAL for kind, _ in av):
        return {chr(code) for _, code in av}
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
        low, high, seq = av
        inner = _finite_seq(seq)
        if inner is None or high > 2:
            return None
        out, power = set(), {""}
        for count in range(high + 1):
            if count >= low:
                out |= power
            if count < high:
                power = _product(power, inner)
                if power is None:
                    return None
        return out
    return None


def _finite_seq(seq) -> set[str] | None:
    out: set[str] | None = {""}
    for op, av in seq:
        out = _product(out, _finite(op, av))
        if out is None:
            return None
    return out


def _required(seq) -> frozenset[str] | None:
    """The most selective set of strings one of which every match of ``seq`` contains.

    Candidates: each run of plain literals; each run of finite items expanded into its
    strings (``说(去)?找`` → 说找, 说去找); and what each mandatory non-finite item
    requires inside itself.
    """
    best: frozenset[str] | None = None
    literal = ""
    run: set[str] = {""}

    def closed(strings: set[str]) -> frozenset[str] | None:
        return frozenset(strings) if "" not in strings and len(strings) <= MAX_STRINGS else None

    for op, av in seq:
        if op is _c.LITERAL:
            literal += chr(av)
        else:
            if literal:
                best = _best(best, frozenset([literal]))
            literal = ""
        finite = _finite(op, av)
        longer = _product(run, finite)
        if longer is not None:
            run = longer
            continue
        best = _best(best, closed(run))
        run = finite if finite is not None else {""}
        if finite is None:
            best = _best(best, _required_inside(op, av))
    if literal:
        best = _best(best, frozenset([literal]))
    return _best(best, closed(run))


def _required_inside(op, av) -> frozenset[str] | None:
    if op is _c.SUBPATTERN:
        _, add_flags, del_flags, seq = av
        return None if add_flags or del_flags else _required(seq)
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and av[0] >= 1:
        return _required(av[2])
    if op is _c.BRANCH:
        found = _union(av[1], _required, MAX_STRINGS)
        return None if found is None else frozenset(found)
    return None


def _union(branches, strings_of, cap: int) -> set[str] | None:
    """The strings of every branch together (``None`` when one branch has none, or too many)."""
    out: set[str] = set()
    for seq in branches:
        strings = strings_of(seq)
        if strings is None:
            return None
        out |= strings
    return out if len(out) <= cap else None
