"""Write the research notebooks (01–03) from the cell sources below, without outputs.

Run from anywhere: ``python notebooks/build.py``. Edit the cells here, not in Jupyter, so that
the stored notebooks stay output-free and reviewable; ``tests/test_notebooks.py`` executes them.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

DATA_CELL = '''\
# None → the embedded sample (a synthetic evaluation round made by textmine.synth).
# Point it at any CSV/XLSX of opinions to run this notebook on real data, e.g.
#   DATA = "../shared/data/pool.csv"   # columns id, source, title, text, time, domain (no office column)
DATA = None'''

SETUP_CELL = '''\
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Image, display
from matplotlib.figure import Figure

from textmine import Toolkit, analyse, charts, fonts, read_table, resolve_columns
from textmine.pipeline import sample_path

pd.set_option("display.max_colwidth", 80)
OUT = Path(tempfile.mkdtemp(prefix="textmine-nb{n}-"))  # charts and files this notebook writes
FONT = fonts.cjk_font()  # registers a font with Chinese glyphs (None and a warning when there is none)
print("outputs in", OUT, "| font:", FONT.family if FONT else "none", f"({{FONT.source}})" if FONT else "")


def show(fig, name):
    """Save a chart as PNG + SVG under OUT/charts and display the PNG."""
    paths = charts.save_figure(fig, OUT / "charts", name)
    display(Image(filename=str(paths["png"])))


def new_figure(width, height):
    """A matplotlib Figure (no pyplot); create it inside `fonts.font_context(FONT)`."""
    return Figure(figsize=(width, height), layout="constrained")


def load(path):
    """Read a table and detect its columns; data without an office column uses `domain` as the unit."""
    table = read_table(path)
    columns = resolve_columns(table)
    if not columns.get("office") and "domain" in table.frame.columns:
        columns["office"] = "domain"  # e.g. pool.csv: the 一级标签 stands in for the office
    return table, columns'''


def notebook_01() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("""\
# 01 · Explore a round of opinions

Load one evaluation round with the library API (`read_table`, `resolve_columns`, `Toolkit`,
`analyse`), then look at it: lengths, rejected rows and duplicates, word frequencies, keywords
by conduct theme, and charts with Chinese labels (`textmine.charts`, `textmine.fonts`).

Everything runs on the embedded sample; set `DATA` in the next cell to use your own file."""),
        new_code_cell(DATA_CELL),
        new_code_cell(SETUP_CELL.format(n="01")),
        new_markdown_cell("## Load and analyse\n\n`analyse` cleans, masks, deduplicates and tags "
                          "every row; nothing is written. Every input row ends in `comments` "
                          "(accepted) or `rejects` (with a reason)."),
        new_code_cell('''\
path = Path(DATA) if DATA else sample_path()
table, columns = load(path)
toolkit = Toolkit.load()
analysis = analyse(table.frame, columns, toolkit)
comments, rejects = analysis.comments, analysis.rejects
assert len(comments) + len(rejects) == len(table.frame)
print(f"{path.name}: {len(table.frame)} rows = {len(comments)} accepted + {len(rejects)} rejected")
pd.Series({role: col for role, col in columns.items() if col}, name="column").to_frame()'''),
        new_markdown_cell("## Lengths\n\nCharacters per accepted opinion (after cleaning and "
                          "masking), overall and per office."),
        new_code_cell('''\
comments = comments.assign(length=comments["text"].str.len())
display(comments["length"].describe().round(1).to_frame("characters").T)
per_office = (comments.groupby("office")["length"].agg(opinions="size", median="median", mean="mean")
              .round(1).sort_values("opinions", ascending=False))
per_office.head(10)'''),
        new_code_cell('''\
with fonts.font_context(FONT):
    fig = new_figure(7, 3)
    ax = fig.add_subplot()
    upper = max(int(comments["length"].quantile(0.99)), 10)
    ax.hist(comments["length"].clip(upper=upper), bins=40, color=charts.THEME_PALETTE[0])
    ax.set_xlabel(f"意见长度（字，截至 {upper}）")
    ax.set_ylabel("意见数")
    ax.set_title("意见长度分布")
show(fig, "lengths")'''),
        new_markdown_cell("## Rejected rows and duplicates\n\nEmpty and non-substantive answers, "
                          "exact and near duplicates (within one office and evaluator), floods."),
        new_code_cell('''\
reasons = rejects["reason_code"].value_counts().rename_axis("reason_code").reset_index(name="rows")
reasons["share_of_input"] = (reasons["rows"] / len(table.frame)).round(4)
display(reasons)
duplicates = rejects[rejects["reason_code"].isin(["duplicate", "near_duplicate"])]
print(f"duplicate rate: {len(duplicates) / len(table.frame):.1%} of input rows")
# the most repeated texts (masked), with how many rows repeat them
duplicates["text"].value_counts().head(8).rename_axis("text").reset_index(name="repeats")'''),
        new_markdown_cell("## Word frequencies\n\nWords cut by the project's `Segmenter` (user "
                          "dictionary, office names and theme terms as words), without stopwords, "
                          "single characters and the topic stopword list."),
        new_code_cell('''\
from collections import Counter

from textmine.topics import topic_stopwords

generic = topic_stopwords()
tokens = [[w for w in doc if len(w) >= 2 and w not in generic]
          for doc in toolkit.segmenter.tokens_many(comments["text"])]
term_count = Counter(w for doc in tokens for w in doc)
doc_count = Counter(w for doc in tokens for w in set(doc))
frequencies = pd.DataFrame([{"word": w, "count": c, "documents": doc_count[w]}
                            for w, c in term_count.most_common(30)])
frequencies.head(15)'''),
        new_markdown_cell("## Keywords by theme\n\nFor each conduct theme, the words most typical "
                          "of its opinions: keyness = count in the theme × log(share of the theme's "
                          "opinions with the word / share of all opinions with the word)."),
        new_code_cell('''\
names = toolkit.taxonomy.names()
doc_words = pd.DataFrame({"doc": range(len(tokens)), "word": [sorted(set(d)) for d in tokens],
                          "theme": comments["themes"].str.split(";").to_list()})
pairs = doc_words.explode("word").explode("theme").dropna()
pairs = pairs[pairs["theme"] != ""]
n_docs = len(tokens)
theme_docs = pairs.drop_duplicates(["doc", "theme"]).groupby("theme").size()
keywords = pairs.groupby(["theme", "word"]).size().rename("count").reset_index()
keywords = keywords[keywords["count"] >= 3]
share_in_theme = keywords["count"] / keywords["theme"].map(theme_docs)
share_overall = keywords["word"].map(doc_count) / n_docs
keywords["lift"] = (share_in_theme / share_overall).round(2)
keywords["keyness"] = (keywords["count"] * np.log(keywords["lift"])).round(2)
keywords["theme_name"] = keywords["theme"].map(names)
keywords = (keywords[keywords["lift"] > 1].sort_values(["theme", "keyness"], ascending=[True, False])
            .groupby("theme").head(8).reset_index(drop=True))
keywords.groupby("theme_name")["word"].agg(" ".join).to_frame("keywords")'''),
        new_markdown_cell("## Charts (Chinese rendered with the registered CJK font)"),
        new_code_cell('''\
totals = (analysis.summary.groupby(["theme", "theme_name"], as_index=False)["count"].sum()
          .sort_values("count", ascending=False))
colours = charts.theme_colours(toolkit.taxonomy.codes)
show(charts.theme_distribution(totals, colours=colours, font=FONT), "themes")'''),
        new_code_cell('''\
top_offices = analysis.overview.sort_values("opinions", ascending=False)["office"].head(15).tolist()
summary = analysis.summary[analysis.summary["office"].isin(top_offices)]
if not summary.empty:
    show(charts.office_theme_heatmap(summary, value="share", themes=totals["theme"].tolist(),
                                     offices=top_offices, title="意见最多的单位 × 问题类型（占比）",
                                     font=FONT), "heatmap")'''),
        new_code_cell('''\
shown = keywords[keywords["theme"].isin(totals["theme"].head(4))]
with fonts.font_context(FONT):
    fig = new_figure(9, 5)
    axes = fig.subplots(2, 2).ravel()
    for ax, (code, group) in zip(axes, shown.groupby("theme", sort=False)):
        ax.barh(group["word"][::-1], group["keyness"][::-1], color=colours.get(code))
        ax.set_title(names.get(code, code))
    for ax in axes[shown["theme"].nunique():]:
        ax.set_visible(False)
    fig.suptitle("各类问题的关键词（keyness）")
show(fig, "keywords")'''),
        new_markdown_cell("A word cloud of the most frequent words when the `wordcloud` package is "
                          "installed (`pip install \".[notebooks]\"`), drawn with the same CJK font; "
                          "otherwise a bar chart of the same frequencies."),
        new_code_cell('''\
top = dict(term_count.most_common(150))
try:
    from wordcloud import WordCloud
except ImportError:
    WordCloud = None
with fonts.font_context(FONT):
    if WordCloud is not None and FONT is not None:
        cloud = WordCloud(font_path=str(FONT.path), width=900, height=450, background_color="white",
                          random_state=0, colormap="tab10").generate_from_frequencies(top)
        fig = new_figure(9, 4.5)
        ax = fig.add_subplot()
        ax.imshow(cloud.to_array(), interpolation="bilinear")
        ax.set_axis_off()
        ax.set_title("高频词")
    else:
        fig = new_figure(7, 6)
        ax = fig.add_subplot()
        head = frequencies.head(25)[::-1]
        ax.barh(head["word"], head["count"], color=charts.THEME_PALETTE[0])
        ax.set_xlabel("出现次数")
        ax.set_title("高频词")
show(fig, "words")'''),
    ]
    return _notebook(cells)


def notebook_02() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("""\
# 02 · Topics: NMF vs LDA, k, offices, time, and a new theme

Discover topics with `textmine.topics.analyse_topics`, compare NMF and LDA, draw the coherence
curve for the number of topics k, break topics down per office and per month, and promote a
discovered topic into a custom taxonomy file that the lexicon classifier then uses.

The sample default pools the two sample rounds (2024 and 2025) so that topics over time span
four months. The k range is kept small so that the notebook runs in seconds."""),
        new_code_cell(DATA_CELL),
        new_code_cell(SETUP_CELL.format(n="02") + '''

from textmine.segment import Segmenter
from textmine.topics import analyse_topics

K_VALUES = (4, 6, 8, 10)   # candidate numbers of topics for the coherence curve
K = 8                      # topics of the NMF/LDA comparison
SEED = 0
LDA_ITERATIONS = 10        # scikit-learn LDA iterations (default 20): on the sample, same coherence in about half the time'''),
        new_markdown_cell("## Load"),
        new_code_cell('''\
if DATA:
    table, columns = load(DATA)
    frame = table.frame
else:
    tables = [load(sample_path().with_name(f"opinions_{year}.csv")) for year in (2024, 2025)]
    columns = tables[-1][1]
    frame = pd.concat([t.frame for t, _ in tables], ignore_index=True)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
toolkit = Toolkit.load()
theme_segmenter = Segmenter()  # cuts the taxonomy's terms to map topics to themes; built once
print(len(frame), "rows; columns:", {role: col for role, col in columns.items() if col})'''),
        new_markdown_cell("## NMF and LDA side by side\n\nSame documents, same k and seed. Mean "
                          "coherence is gensim's c_npmi over each topic's top 10 terms (higher is "
                          "better), diversity the share of unique words among all topics' top terms."),
        new_code_cell('''\
fits = {method: analyse_topics(frame, columns, k=K, method=method, seed=SEED, toolkit=toolkit,
                               theme_segmenter=theme_segmenter,
                               **({"max_iter": LDA_ITERATIONS} if method == "lda" else {}))
        for method in ("nmf", "lda")}
comparison = pd.DataFrame({method: {key: fit.info[key] for key in
                                    ("n_topics", "mean_coherence", "diversity", "with_topic", "new_topics",
                                     "vocabulary_size")}
                           for method, fit in fits.items()}).T
display(comparison)
for method, fit in fits.items():
    print(method)
    display(fit.topics[["topic", "terms", "size", "coherence", "theme", "theme_name"]])'''),
        new_markdown_cell("## Coherence curve for k\n\n`k=\"auto\"` fits one model per candidate "
                          "and keeps the one with the best mean coherence."),
        new_code_cell('''\
auto = analyse_topics(frame, columns, k="auto", k_values=K_VALUES, method="nmf", seed=SEED, toolkit=toolkit,
                      theme_segmenter=theme_segmenter)
curve = auto.k_curve
display(curve)
with fonts.font_context(FONT):
    fig = new_figure(6.5, 3.2)
    ax = fig.add_subplot()
    ax.plot(curve["k"], curve["coherence"], marker="o", label="一致性 (c_npmi)")
    ax.plot(curve["k"], curve["diversity"], marker="s", label="多样性")
    best = curve[curve["chosen"]]
    ax.scatter(best["k"], best["coherence"], s=120, facecolors="none", edgecolors="red", label="选定 k")
    ax.set_xlabel("主题数 k")
    ax.set_title("主题数与一致性")
    ax.legend(frameon=False)
show(fig, "k_curve")'''),
        new_markdown_cell("## Topics per office\n\nShare of each office's opinions whose main "
                          "topic is the topic (the offices with the most opinions)."),
        new_code_cell('''\
model = fits["nmf"]
labels = dict(zip(model.topics["topic"], model.topics["label"]))
per_office = model.per_office
if per_office.empty:
    print("no office column: no breakdown per office")
else:
    busiest = per_office.groupby("office")["count"].sum().nlargest(12).index.tolist()
    grid = per_office[per_office["office"].isin(busiest)].assign(
        theme=lambda d: d["topic"].astype(str), theme_name=lambda d: d["topic"].map(labels))
    show(charts.office_theme_heatmap(grid, value="share", themes=[str(t) for t in labels],
                                     offices=busiest, title="各单位的主题构成（占比）", font=FONT),
         "topics_per_office")'''),
        new_markdown_cell("## Topics over time"),
        new_code_cell('''\
over_time = model.over_time
if over_time.empty:
    print("no date column: no breakdown over time")
else:
    shares = over_time.pivot_table(index="period", columns="topic", values="share", fill_value=0)
    display(shares.round(3))
    with fonts.font_context(FONT):
        fig = new_figure(8, 3.6)
        ax = fig.add_subplot()
        for topic in shares.columns:
            ax.plot(shares.index, shares[topic], marker="o", label=labels[topic])
        ax.yaxis.set_major_formatter("{x:.0%}")
        ax.set_title("各主题占比的月度变化")
        ax.legend(fontsize=7, ncols=2, frameon=False, loc="center left", bbox_to_anchor=(1, 0.5))
        ax.tick_params(axis="x", rotation=45)
    show(fig, "topics_over_time")'''),
        new_markdown_cell("## Promote a discovered topic into a custom taxonomy\n\n"
                          "Take the biggest topic the taxonomy does not cover (`theme == \"new\"`; "
                          "else the one that matched worst), add it as a theme to a copy of the "
                          "shipped taxonomy, load the copy with `load_taxonomy` and classify with it."),
        new_code_cell('''\
import json

from textmine import LexiconThemeClassifier, load_taxonomy, theme_table
from textmine.taxonomy import default_taxonomy_path

topics = model.topics
new = topics[topics["theme"] == "new"]
chosen = (new.sort_values("size", ascending=False) if not new.empty
          else topics.sort_values("theme_score")).iloc[0]
code = f"topic_{int(chosen['topic'])}"
terms = chosen["terms"].split()[:6]
entry = f"""

# promoted from topic {int(chosen['topic'])} of {model.info['method']} (k={model.info['n_topics']})
[[themes]]
code = "{code}"
name = {json.dumps("新问题：" + chosen["label"], ensure_ascii=False)}
description = {json.dumps("话题模型发现的问题，关键词：" + "、".join(terms), ensure_ascii=False)}
problem = {json.dumps("群众集中反映：" + "、".join(terms[:3]), ensure_ascii=False)}
terms = {json.dumps(terms, ensure_ascii=False)}
measures = ["专项调研", "明确牵头单位", "限时办结制"]
"""
custom = OUT / "taxonomy_custom.toml"
custom.write_text(default_taxonomy_path().read_text(encoding="utf-8") + entry, encoding="utf-8")
print(entry)'''),
        new_code_cell('''\
taxonomy = load_taxonomy(custom)
assert code in taxonomy.codes and len(taxonomy.codes) == len(toolkit.taxonomy.codes) + 1
classifier = LexiconThemeClassifier(taxonomy=taxonomy).fit()
texts = frame[columns["text"]].fillna("").astype(str).tolist()
tagged = theme_table(classifier, texts, taxonomy.names())
has_new = tagged["themes"].str.split(";").map(lambda codes: code in codes).to_numpy()
in_topic = (model.doc_topics["topic"] == chosen["topic"]).to_numpy()
assert has_new.sum() > 0, "the promoted theme matched nothing"
print(f"{code}: {has_new.sum()} opinions tagged; {(has_new & in_topic).sum() / max(in_topic.sum(), 1):.0%} "
      f"of the topic's {in_topic.sum()} documents")
tagged.loc[has_new, ["themes", "evidence"]].head(8)'''),
        new_markdown_cell("The same file works for the whole job: `textmine run opinions.csv "
                          "--taxonomy taxonomy_custom.toml --out out/` or "
                          "`Toolkit.load(taxonomy=custom)`. Refine its terms (and add `patterns`) "
                          "before using it for real lists: single topic words are broad evidence."),
        new_code_cell('''\
custom_toolkit = Toolkit.load(taxonomy=custom)
table_2025, columns_2025 = (load(DATA) if DATA else load(sample_path()))
custom_analysis = analyse(table_2025.frame, columns_2025, custom_toolkit)
custom_analysis.summary[custom_analysis.summary["theme"] == code].sort_values("count", ascending=False).head(10)'''),
    ]
    return _notebook(cells)


def notebook_03() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("""\
# 03 · One office's profile

For one office: its conduct themes against the peers of its category, its satisfaction with
Wilson intervals, the change since the previous round (scores and theme tracking), and its
rectification list. Rounds are stored in a DuckDB workspace (`textmine.workspace`), scored
with `textmine.scoring` and compared with `textmine.tracking`.

On the sample the rounds are the two sample files (2024, 2025). With `DATA` set, the file is
split into rounds by the year of its date column (the two latest years); a file without ratings
has no satisfaction section."""),
        new_code_cell(DATA_CELL + '''
OFFICE = None  # None → the office with the most opinions in the latest round; or e.g. "市公安局"'''),
        new_code_cell(SETUP_CELL.format(n="03") + '''

from textmine.scoring import score_workspace
from textmine.tracking import track_themes
from textmine.workspace import Workspace'''),
        new_markdown_cell("## Rounds → workspace"),
        new_code_cell('''\
toolkit = Toolkit.load()
if DATA:
    table, columns = load(DATA)
    frame = table.frame
    years = (pd.to_datetime(frame[columns["date"]], errors="coerce", format="mixed").dt.year
             if columns.get("date") else pd.Series(np.nan, index=frame.index))
    counts = years.value_counts()
    kept = sorted(int(y) for y in counts[counts >= 30].index)[-2:]
    rounds = {y: (frame[years == y], columns) for y in kept} or {1: (frame, columns)}
else:
    rounds = {}
    for year in (2024, 2025):
        table, columns = load(sample_path().with_name(f"opinions_{year}.csv"))
        rounds[year] = (table.frame, columns)
workspace = Workspace.init(OUT / "workspace")
analyses = {}
for year, (rows, cols) in rounds.items():
    analyses[year] = analyse(rows, cols, toolkit)
    result = workspace.ingest(analyses[year], year)
    print(year, len(rows), "rows →", len(analyses[year].comments), "opinions")
ROUND = max(analyses)
PREVIOUS = max([y for y in analyses if y < ROUND], default=None)
workspace.rounds()'''),
        new_code_cell('''\
current = analyses[ROUND]
has_ratings = not current.ratings.empty
scores = score_workspace(workspace.path, round_id=ROUND) if has_ratings else pd.DataFrame()
tracking = (track_themes(workspace.table("office_themes"), workspace.table("offices"), ROUND, PREVIOUS)
            if PREVIOUS is not None else pd.DataFrame())
if OFFICE is None:
    ranked = current.overview[current.overview["office"] != "未指明"].sort_values(
        ["opinions", "office"], ascending=[False, True])
    OFFICE = ranked["office"].iloc[0]
category = toolkit.offices.category(OFFICE) or ""
peers = current.overview[(current.overview["category"].fillna("") == category)
                         & (current.overview["office"] != OFFICE)]["office"].tolist() if category else []
if not peers:  # no category: compare with every other office
    peers = current.overview.loc[current.overview["office"] != OFFICE, "office"].tolist()
print(f"office: {OFFICE} | category: {category or '(none)'} | {len(peers)} peers | round {ROUND}"
      + (f" vs {PREVIOUS}" if PREVIOUS else ""))'''),
        new_markdown_cell("## Themes against the category's peers\n\nShare of the office's "
                          "opinions naming each theme, against the pooled share over its peers."),
        new_code_cell('''\
summary = current.summary
opinions = current.overview.set_index("office")["opinions"]
own = summary[summary["office"] == OFFICE].set_index("theme")
peer_counts = summary[summary["office"].isin(peers)].groupby("theme")["count"].sum()
peer_opinions = opinions.reindex(peers).fillna(0).sum()
profile = pd.DataFrame({"theme": toolkit.taxonomy.codes})
profile["theme_name"] = profile["theme"].map(toolkit.taxonomy.names())
profile["count"] = profile["theme"].map(own["count"]).fillna(0).astype(int)
profile["share"] = (profile["count"] / opinions.get(OFFICE, 1)).round(4)
profile["peer_share"] = (profile["theme"].map(peer_counts).fillna(0) / max(peer_opinions, 1)).round(4)
profile["ratio"] = (profile["share"] / profile["peer_share"].replace(0, np.nan)).round(2)
profile = profile.sort_values("share", ascending=False).reset_index(drop=True)
display(profile)
with fonts.font_context(FONT):
    fig = new_figure(7.5, 0.4 * len(profile) + 1.2)
    ax = fig.add_subplot()
    y = np.arange(len(profile))
    ax.barh(y - 0.2, profile["share"], height=0.4, label=OFFICE, color=charts.THEME_PALETTE[2])
    ax.barh(y + 0.2, profile["peer_share"], height=0.4, label="同类单位", color=charts.OTHER_COLOUR)
    ax.set_yticks(y, profile["theme_name"])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter("{x:.0%}")
    ax.set_title(f"{OFFICE}：问题类型占比与同类单位对比")
    ax.legend(frameon=False)
show(fig, "themes_vs_peers")'''),
        new_markdown_cell("## Satisfaction with 95 % Wilson intervals\n\n`satisfaction_rate` = "
                          "满意 / forms (基本满意 does not count as satisfied); the composite weighs "
                          "evaluator groups (see the README, \"The scoring maths\")."),
        new_code_cell('''\
if scores.empty:
    print("no satisfaction ratings in this data: no scores")
else:
    row = scores[scores["office"] == OFFICE]
    display(row[["office", "category", "forms", "satisfaction_rate", "satisfaction_low", "satisfaction_high",
                 "dissatisfaction_rate", "composite", "rank", "category_rank", "category_size",
                 "key_help", "key_help_reasons"]].T)
    group = scores[scores["office"].isin([OFFICE, *peers])].sort_values("satisfaction_rate")
    with fonts.font_context(FONT):
        fig = new_figure(7.5, 0.3 * len(group) + 1.4)
        ax = fig.add_subplot()
        y = np.arange(len(group))
        rate = group["satisfaction_rate"].to_numpy(dtype=float)
        err = np.vstack([rate - group["satisfaction_low"].to_numpy(dtype=float),
                         group["satisfaction_high"].to_numpy(dtype=float) - rate])
        colour = np.where(group["office"] == OFFICE, charts.THEME_PALETTE[2], charts.THEME_PALETTE[0])
        ax.errorbar(rate, y, xerr=err, fmt="none", ecolor="#888888", capsize=3)
        ax.scatter(rate, y, c=colour, zorder=3)
        ax.set_yticks(y, group["office"], fontsize=8)
        ax.xaxis.set_major_formatter("{x:.0%}")
        ax.set_title(f"满意率及 95% 置信区间（{ROUND}）")
    show(fig, "satisfaction")'''),
        new_markdown_cell("## Year-over-year change\n\nScores against the previous round, and each "
                          "theme's share tested with a two-proportion z-test (Fisher's exact test "
                          "for small counts): improved, absent, persisting, new."),
        new_code_cell('''\
if PREVIOUS is None:
    print("one round only: no comparison")
else:
    if not scores.empty:
        change = scores.loc[scores["office"] == OFFICE, ["prev_satisfaction_rate", "satisfaction_rate",
                                                         "satisfaction_change", "prev_composite", "composite",
                                                         "composite_change", "prev_rank", "rank", "rank_change"]]
        display(change.T)
    own_tracking = tracking[tracking["office"] == OFFICE][
        ["theme_name", "since_count", "since_share", "count", "share", "share_change", "test", "p_value",
         "status"]]
    display(own_tracking)
    if not own_tracking.empty:
        with fonts.font_context(FONT):
            fig = new_figure(7.5, 0.4 * len(own_tracking) + 1.2)
            ax = fig.add_subplot()
            y = np.arange(len(own_tracking))
            ax.barh(y - 0.2, own_tracking["since_share"], height=0.4, label=str(PREVIOUS), color=charts.OTHER_COLOUR)
            ax.barh(y + 0.2, own_tracking["share"], height=0.4, label=str(ROUND), color=charts.THEME_PALETTE[0])
            ax.set_yticks(y, [f"{n}（{s}）" for n, s in zip(own_tracking["theme_name"], own_tracking["status"])])
            ax.invert_yaxis()
            ax.xaxis.set_major_formatter("{x:.0%}")
            ax.set_title(f"{OFFICE}：问题占比 {PREVIOUS} → {ROUND}")
            ax.legend(frameon=False)
        show(fig, "tracking")'''),
        new_markdown_cell("## Its rectification list (整改清单)\n\nThe items of the latest round: "
                          "problem, count and share, representative masked opinions (none when "
                          "fewer than 3 evaluators back an item), suggested measures."),
        new_code_cell('''\
items = current.items[current.items["office"] == OFFICE].copy()
items["examples"] = items["examples"].map("\\n".join)
items["measures"] = items["measures"].map("、".join)
items[["item", "theme_name", "problem", "count", "share", "examples", "measures"]]'''),
    ]
    return _notebook(cells)


def _notebook(cells) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    for cell in nb.cells:  # stable ids: rebuilding gives the same file
        cell["id"] = f"{cell['cell_type'][:4]}-{nb.cells.index(cell):02d}"
    nbformat.validate(nb)
    return nb


NOTEBOOKS = {
    "01_explore_corpus.ipynb": notebook_01,
    "02_topics.ipynb": notebook_02,
    "03_office_profiles.ipynb": notebook_03,
}


def main() -> None:
    for name, build in NOTEBOOKS.items():
        nbformat.write(build(), HERE / name)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
