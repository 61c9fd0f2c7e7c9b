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
    return ThemeTally().add(comments).summary(taxonomy)


class ThemeTally:
    """Counts of accepted opinions per office and per (office, theme), with the evidence
    phrases used and the distinct writers behind each theme: everything the summary, the
    overview and the rectification items need except the quoted texts.

    :meth:`add` takes the opinions a chunk (or a partition) at a time and :meth:`merge`
    joins the tallies of separate chunks, so a large input is never needed in one table:
    the results are the same as from all the opinions at once.
    """

    def __init__(self):
        self.opinions: Counter = Counter()  # office → accepted opinions
        self.with_theme: Counter = Counter()  # office → those with at least one theme
        self.counts: Counter = Counter()  # (office, theme) → opinions
        self.phrases: dict[tuple, Counter] = {}  # (office, theme) → evidence phrase → opinions
        self.writers: dict[tuple, set] = {}  # (office, theme) → distinct writer ids
        self.anonymous: Counter = Counter()  # (office, theme) → opinions without a writer id

    def add(self, comments: pd.DataFrame, writers: Sequence[object] | None = None) -> "ThemeTally":
        """Count ``comments`` (columns ``office``, ``themes`` and, for the phrases,
        ``evidence``); ``writers`` is who wrote each (None or an empty value: unknown, a
        different person each time)."""
        ids = _writer_ids(writers, len(comments))
        self.opinions.update(comments["office"].value_counts().to_dict())
        self.with_theme.update(comments.loc[comments["themes"] != "", "office"].value_counts().to_dict())
        columns = ["office", "themes"] + (["evidence"] if "evidence" in comments else [])
        long = explode_themes(comments[columns].assign(_who=ids))
        if long.empty:
            return self
        self.counts.update(long.groupby(["office", "theme"], sort=False).size().to_dict())
        named = long["_who"] != ""
        self.anonymous.update(long[~named].groupby(["office", "theme"], sort=False).size().to_dict())
        for key, who in long[named].groupby(["office", "theme"], sort=False)["_who"]:
            self.writers.setdefault(key, set()).update(who)
        if "evidence" in long:
            # one parse per distinct (office, theme, evidence): evidence strings repeat across opinions
            for (office, theme, evidence), times in long.groupby(["office", "theme", "evidence"], sort=False).size().items():
                counter = self.phrases.setdefault((office, theme), Counter())
                prefix = f"{theme}:"
                for phrase in {p[len(prefix):] for p in split_codes(evidence) if p.startswith(prefix)}:
                    counter[phrase] += times
        return self

    def merge(self, other: "ThemeTally") -> "ThemeTally":
        """Add ``other``'s counts to this tally (opinions counted in both count twice)."""
        for name in ("opinions", "with_theme", "counts", "anonymous"):
            getattr(self, name).update(getattr(other, name))
        for key, counter in other.phrases.items():
            self.phrases.setdefault(key, Counter()).update(counter)
        for key, who in other.writers.items():
            self.writers.setdefault(key, set()).update(who)
        return self

    def evaluators(self, key: tuple) -> int:
        """Distinct writers behind ``(office, theme)``."""
        return len(self.writers.get(key, ())) + self.anonymous.get(key, 0)

    def top_phrases(self, key: tuple, n: int) -> list[str]:
        counter = self.phrases.get(key, Counter())
        return [p for p, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]

    def summary(self, taxonomy: Taxonomy) -> pd.DataFrame:
        """The table of :func:`office_theme_summary`."""
        if not self.counts:
            return pd.DataFrame(columns=SUMMARY_COLUMNS)
        order = {code: i for i, code in enumerate(taxonomy.codes)}
        keys = sorted(self.counts)
        counts = pd.DataFrame({
            "office": [o for o, _ in keys], "theme": [t for _, t in keys],
            "count": np.array([self.counts[k] for k in keys], dtype=np.int64),
            "opinions": np.array([self.opinions[o] for o, _ in keys], dtype=np.int64),
        })
        counts["share"] = (counts["count"] / counts["opinions"]).round(4)
        counts["rank"] = counts.groupby("office")["count"].rank(method="min", ascending=False).astype(int)
        counts["theme_name"] = counts["theme"].map(taxonomy.names()).fillna(counts["theme"])
        counts["_order"] = counts["theme"].map(order).fillna(len(order))
        counts = counts.sort_values(["office", "rank", "_order"]).reset_index(drop=True)
        return counts[SUMMARY_COLUMNS]

    def items(self, summary: pd.DataFrame, taxonomy: Taxonomy, offices: OfficeDirectory,
              examples: dict[tuple, list[str]], *, top_phrases: int = 3, min_evaluators: int = 3) -> pd.DataFrame:
        """The table of :func:`rectification_items`, given each group's chosen ``examples``."""
        _check_min_evaluators(min_evaluators)
        if summary.empty:
            return pd.DataFrame(columns=ITEM_COLUMNS)
        records = []
        for row in summary.itertuples(index=False):
            key = (row.office, row.theme)
            theme = taxonomy[row.theme] if row.theme in taxonomy.codes else None
            problem = theme.problem if theme else row.theme_name
            said = self.top_phrases(key, top_phrases)
            people = self.evaluators(key)
            shown = [_excerpt(text) for text in examples.get(key, [])]
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

    def overview(self, items: pd.DataFrame, offices: OfficeDirectory) -> pd.DataFrame:
        """The table of :func:`office_overview`."""
        names = sorted(self.opinions)
        base = pd.DataFrame({
            "office": names,
            "opinions": np.array([self.opinions[o] for o in names], dtype=np.int64),
            "with_theme": np.array([self.with_theme.get(o, 0) for o in names], dtype=np.int64),
        })
        top = (items.groupby("office")["theme_name"].agg(lambda s: "、".join(list(s)[:3]))
               if not items.empty else pd.Series(dtype=object))
        n_items = items.groupby("office").size() if not items.empty else pd.Series(dtype=int)
        base["category"] = base["office"].map(offices.category)
        base["items"] = [int(n_items.get(o, 0)) for o in base["office"]]
        base["top_themes"] = [top.get(o, "") for o in base["office"]]
        return base[["office", "category", "opinions", "with_theme", "items", "top_themes"]]


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
    out = {}
    for key, rows in groups.items():
        rows = sorted(rows)
        out[key] = [rows[r] for r in np.flatnonzero(spread_ranks(np.arange(len(rows)), len(rows)))]
    return out


def theme_groups(comments: pd.DataFrame) -> dict[tuple, list[int]]:
    """The positions (0-based, in ``comments`` order) of the opinions of each (office, theme)."""
    long = explode_themes(comments[["office", "themes"]].assign(_pos=np.arange(len(comments))))
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
    _check_min_evaluators(min_evaluators)
    if summary.empty:
        return pd.DataFrame(columns=ITEM_COLUMNS)
    comments = comments.reset_index(drop=True)
    texts = comments["text"].tolist()
    tally = ThemeTally().add(comments, evaluators)
    chosen = representative_opinions(texts, theme_groups(comments), tokenizer, n=n_examples)
    examples = {key: [texts[i] for i in rows] for key, rows in chosen.items()}
    return tally.items(summary, taxonomy, offices, examples, top_phrases=top_phrases, min_evaluators=min_evaluators)


def _check_min_evaluators(value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"min_evaluators must be a positive integer, got {value!r}")


TYPICAL_PREFIX_CHARS = 5000  # characters of each text compared when picking typical opinions
TYPICAL_CANDIDATES = 300  # texts of a group compared when picking its typical opinions


def _given_tokens(tokens: list[str]) -> list[str]:
    return tokens


def spread_ranks(ranks: np.ndarray, size: int, limit: int = TYPICAL_CANDIDATES) -> np.ndarray:
    """Which ``ranks`` (0-based places in a group of ``size``) are kept when ``limit`` of the
    group are taken evenly spread: all of a group of at most ``limit``, else the ranks
    ⌊i·size/limit⌋ for i < limit — rank r is one when ⌈r·limit/size⌉·size < (r+1)·limit.
    Judged rank by rank, so a group arriving in chunks is spread as a whole would be."""
    ranks = np.asarray(ranks, dtype=np.int64)
    if size <= limit:
        return np.ones(len(ranks), dtype=bool)
    return (-(-ranks * limit // size)) * size < (ranks + 1) * limit


EXAMPLE_MAX_CHARS = 1000  # an Excel cell holds 32,767 characters; a quote needs far fewer


def _excerpt(text: str, limit: int = EXAMPLE_MAX_CHARS) -> str:
    """Shorten a very long opinion for a rectification list (the full text is in comments.csv)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _writer_ids(writers: Sequence[object] | None, n: int) -> list[str]:
    """One id per opinion, "" where unknown (None, NaN or empty)."""
    if writers is None:
        return [""] * n
    values = list(writers)
    if len(values) != n:
        raise ValueError(f"evaluators has {len(values)} values for {n} comments")
    return ["" if v is None or (isinstance(v, float) and v != v) else str(v).strip() for v in values]


def office_overview(comments: pd.DataFrame, items: pd.DataFrame, offices: OfficeDirectory) -> pd.DataFrame:
    """One row per office: category, accepted opinions, opinions with a theme, top themes."""
    return ThemeTally().add(comments).overview(items, offices)
