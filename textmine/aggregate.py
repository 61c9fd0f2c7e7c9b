"""Aggregate classified opinions per office: theme counts and rectification items."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .classify import split_codes
from .clean import comparison_key
from .offices import OfficeDirectory
from .taxonomy import Taxonomy

SUMMARY_COLUMNS = ["office", "theme", "theme_name", "count", "opinions", "share", "rank"]
ITEM_COLUMNS = ["office", "category", "item", "theme", "theme_name", "problem", "count", "share",
                "examples", "measures", "evaluators"]
# columns an office fills in when it answers its rectification list
FILL_IN_COLUMNS = ["整改措施", "责任人", "完成时限", "整改状态"]


def explode_themes(comments: pd.DataFrame) -> pd.DataFrame:
    """Return one row per (comment, theme): the comment's columns plus ``theme``."""
    codes = {value: split_codes(value) for value in comments["themes"].unique()}  # few distinct theme sets
    long = comments.assign(theme=[codes[v] for v in comments["themes"]]).explode("theme")
    return long[long["theme"].notna()]


def office_theme_summary(comments: pd.DataFrame, taxonomy: Taxonomy) -> pd.DataFrame:
    """Count each theme per office.

    Returns columns ``office, theme, theme_name, count, opinions, share, rank``: one row
    per office and theme with at least one opinion; ``opinions`` is the office's number
    of accepted (substantive) opinions, ``share = count / opinions``, and ``rank`` the
    theme's place within the office (1 = most frequent; ties share a rank). Rows are
    ordered by office, then rank, then taxonomy order.
    """
    opinions = comments.groupby("office", sort=True).size().rename("opinions")
    long = explode_themes(comments[["office", "themes"]])
    if long.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    order = {code: i for i, code in enumerate(taxonomy.codes)}
    counts = long.groupby(["office", "theme"]).size().rename("count").reset_index()
    counts = counts.join(opinions, on="office")
    counts["share"] = (counts["count"] / counts["opinions"]).round(4)
    counts["rank"] = counts.groupby("office")["count"].rank(method="min", ascending=False).astype(int)
    counts["theme_name"] = counts["theme"].map(taxonomy.names()).fillna(counts["theme"])
    counts["_order"] = counts["theme"].map(order).fillna(len(order))
    counts = counts.sort_values(["office", "rank", "_order"]).reset_index(drop=True)
    return counts[SUMMARY_COLUMNS]


def representative_opinions(texts: Sequence[str], groups: dict[tuple, list[int]],
                            tokenizer: Callable[[str], list[str]], n: int = 3) -> dict[tuple, list[int]]:
    """Pick the ``n`` most typical texts of each group.

    Typical = closest (cosine, TF-IDF over ``tokenizer`` tokens of the grouped texts) to
    the group's centroid; texts that repeat an already chosen one after normalisation
    are skipped. A group of more than ``TYPICAL_CANDIDATES`` texts is judged on that
    many, spread evenly over it (a centroid of a thousand opinions is as good as one of
    a hundred thousand, at a fraction of the cost). Returns positions into ``texts`` per
    group, most typical first; ties go to the earlier text, so the choice is deterministic.
    A ``tokenizer`` with a ``many(texts)`` method gets all the texts in one call (e.g. to
    segment them on worker processes).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not groups:
        return {}
    candidates = typical_candidates(groups)
    used = sorted(set().union(*candidates.values()))
    line = {pos: i for i, pos in enumerate(used)}
    # the opening of a very long text says what it is about; segmenting 1 MB would take seconds
    docs = [texts[pos][:TYPICAL_PREFIX_CHARS] for pos in used]
    many = getattr(tokenizer, "many", None)
    tokens = many(docs) if many is not None else [tokenizer(d) for d in docs]
    vectorizer = TfidfVectorizer(analyzer=_given_tokens, sublinear_tf=True, norm="l2")
    try:
        matrix = vectorizer.fit_transform(tokens)
    except ValueError:  # no token at all in any text
        matrix = None
    chosen: dict[tuple, list[int]] = {}
    for key, rows in candidates.items():
        if matrix is not None and len(rows) > 1:
            sub = matrix[[line[pos] for pos in rows]]
            centroid = np.asarray(sub.mean(axis=0)).ravel()
            scores = sub @ centroid
            ranking = sorted(range(len(rows)), key=lambda i: (-round(float(scores[i]), 9), rows[i]))
            ordered = [rows[i] for i in ranking]
        else:
            ordered = rows
        picked, seen = [], set()
        for pos in ordered:
            k = comparison_key(texts[pos])
            if k in seen:
                continue
            seen.add(k)
            picked.append(pos)
            if len(picked) == n:
                break
        chosen[key] = picked
    return chosen


def typical_candidates(groups: dict[tuple, list[int]]) -> dict[tuple, list[int]]:
    """The positions of each group that :func:`representative_opinions` compares: all of a
    group's, in order, or ``TYPICAL_CANDIDATES`` of them spread evenly. Only these texts
    are ever read, so a job streaming its opinions keeps just these in memory."""
    return {key: _spread(sorted(rows), TYPICAL_CANDIDATES) for key, rows in groups.items()}


def theme_groups(comments: pd.DataFrame) -> dict[tuple, list[int]]:
    """The positions (0-based, in ``comments`` order) of the opinions of each (office, theme)."""
    return _positions(explode_themes(comments[["office", "themes"]].assign(_pos=np.arange(len(comments)))))


def _positions(long: pd.DataFrame) -> dict[tuple, list[int]]:
    return {key: list(frame["_pos"]) for key, frame in long.groupby(["office", "theme"], sort=False)}


def rectification_items(comments: pd.DataFrame, summary: pd.DataFrame, taxonomy: Taxonomy,
                        offices: OfficeDirectory, tokenizer: Callable[[str], list[str]],
                        *, n_examples: int = 3, top_phrases: int = 3,
                        evaluators: Sequence[object] | None = None, min_evaluators: int = 3) -> pd.DataFrame:
    """Build each office's rectification list: one item per theme with complaints.

    Returns columns ``office, category, item, theme, theme_name, problem, count,
    share, examples, measures, evaluators`` (``examples`` a list of masked opinion
    texts, ``measures`` a list of suggested measures, ``evaluators`` the number of
    distinct evaluators behind the item), items numbered by frequency within the
    office. ``problem`` states the theme's problem in one line with the phrases the
    office's opinions used most.

    evaluators: who wrote each comment (aligned with ``comments``; evaluator id, or
        phone or name when there is no id). None or an empty value counts each opinion
        as written by a different person — a file without identity columns gives no way
        to tell people apart, and opinions from one person are already weighted once by
        duplicate and flood detection.
    min_evaluators: an item backed by fewer distinct evaluators shows no verbatim
        opinion and none of their phrases (``examples`` is empty and ``problem`` says
        why): with one or two evaluators the office could guess who wrote it.
    """
    if not isinstance(min_evaluators, int) or isinstance(min_evaluators, bool) or min_evaluators < 1:
        raise ValueError(f"min_evaluators must be a positive integer, got {min_evaluators!r}")
    if summary.empty:
        return pd.DataFrame(columns=ITEM_COLUMNS)
    comments = comments.reset_index(drop=True)
    texts = comments["text"].tolist()
    who = _evaluator_ids(evaluators, len(comments))
    long = explode_themes(comments[["office", "themes", "evidence"]].assign(_pos=np.arange(len(comments)), _who=who))
    groups = _positions(long)
    distinct = {key: frame["_who"].nunique() for key, frame in long.groupby(["office", "theme"], sort=False)}
    examples = representative_opinions(texts, groups, tokenizer, n=n_examples)
    phrases = _top_phrases(long, top_phrases)

    records = []
    for row in summary.itertuples(index=False):
        theme = taxonomy[row.theme] if row.theme in taxonomy.codes else None
        problem = theme.problem if theme else row.theme_name
        said = phrases.get((row.office, row.theme))
        people = int(distinct.get((row.office, row.theme), 0))
        shown = [_excerpt(texts[i]) for i in examples.get((row.office, row.theme), [])]
        if people < min_evaluators:  # neither quotes nor the phrases they used
            shown = []
            problem = f"{problem}（评议人少于{min_evaluators}人，为保护评议人不列原文）"
        elif said:
            problem = f"{problem}（群众反映：{'、'.join(said)}）"
        records.append({
            "office": row.office, "category": offices.category(row.office), "theme": row.theme,
            "theme_name": row.theme_name, "problem": problem, "count": int(row.count),
            "share": float(row.share), "examples": shown,
            "measures": list(theme.measures) if theme else [], "evaluators": people,
        })
    items = pd.DataFrame.from_records(records)
    items = items.sort_values(["office", "count"], ascending=[True, False], kind="stable")
    items["item"] = items.groupby("office").cumcount() + 1
    return items[ITEM_COLUMNS].reset_index(drop=True)


TYPICAL_PREFIX_CHARS = 5000  # characters of each text compared when picking typical opinions
TYPICAL_CANDIDATES = 300  # texts of a group compared when picking its typical opinions


def _given_tokens(tokens: list[str]) -> list[str]:
    return tokens


def _spread(rows: list[int], limit: int) -> list[int]:
    """``rows`` if there are at most ``limit``, else ``limit`` of them evenly spread, in order."""
    if len(rows) <= limit:
        return rows
    return [rows[(i * len(rows)) // limit] for i in range(limit)]
EXAMPLE_MAX_CHARS = 1000  # an Excel cell holds 32,767 characters; a quote needs far fewer


def _excerpt(text: str, limit: int = EXAMPLE_MAX_CHARS) -> str:
    """Shorten a very long opinion for a rectification list (the full text is in comments.csv)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _evaluator_ids(evaluators: Sequence[object] | None, n: int) -> list[str]:
    """One id per comment; a missing or empty one is unique to its comment."""
    if evaluators is None:
        return [f"#{i}" for i in range(n)]
    values = list(evaluators)
    if len(values) != n:
        raise ValueError(f"evaluators has {len(values)} values for {n} comments")
    out = []
    for i, value in enumerate(values):
        text = "" if value is None or (isinstance(value, float) and value != value) else str(value).strip()
        out.append("=" + text if text else f"#{i}")
    return out


def _top_phrases(long: pd.DataFrame, n: int) -> dict[tuple, list[str]]:
    """Most frequent evidence phrases per (office, theme)."""
    counters: dict[tuple, Counter[str]] = {}
    # one parse per distinct (office, theme, evidence): evidence strings repeat across opinions
    repeats = long.groupby(["office", "theme", "evidence"], sort=False).size()
    for (office, theme, evidence), times in repeats.items():
        counter = counters.setdefault((office, theme), Counter())
        prefix = f"{theme}:"
        for phrase in {p[len(prefix):] for p in split_codes(evidence) if p.startswith(prefix)}:
            counter[phrase] += times
    return {key: [p for p, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]
            for key, counter in counters.items()}


def office_overview(comments: pd.DataFrame, items: pd.DataFrame, offices: OfficeDirectory) -> pd.DataFrame:
    """One row per office: category, accepted opinions, opinions with a theme, top themes."""
    base = comments.groupby("office", sort=True).agg(
        opinions=("row_id", "size"),
        with_theme=("themes", lambda s: int((s != "").sum())),
    ).reset_index()
    top = (items.groupby("office")["theme_name"].agg(lambda s: "、".join(list(s)[:3]))
           if not items.empty else pd.Series(dtype=object))
    n_items = items.groupby("office").size() if not items.empty else pd.Series(dtype=int)
    base["category"] = base["office"].map(offices.category)
    base["items"] = [int(n_items.get(o, 0)) for o in base["office"]]
    base["top_themes"] = [top.get(o, "") for o in base["office"]]
    return base[["office", "category", "opinions", "with_theme", "items", "top_themes"]]
