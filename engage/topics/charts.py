"""Charts of a run drawn from what is stored: Plotly figures as JSON for engage/static/js.

BERTopic's own charts (distance map, word bars, hierarchy) are drawn when the
run is fitted (``TopicRun.figures``); these follow the researcher's names,
merges and noise marks.
"""

from __future__ import annotations

import json

from engage.topics.operations import active_topics, breakdown, over_time
from models import TopicRun

MAX_TOPICS = 25


def _short(label: str, n: int = 40) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def topics_by(run: TopicRun, attribute: str) -> str:
    """Stacked horizontal bars: documents per topic, split by group or source."""
    import plotly.graph_objects as go

    table = breakdown(run, attribute)
    topics = [t for t in active_topics(run, include_noise=False) if not t.is_outliers]
    topics = sorted(topics, key=lambda t: -t.size)[:MAX_TOPICS][::-1]
    labels = [_short(t.label) for t in topics]
    fig = go.Figure()
    for column in table.columns:
        fig.add_bar(name=column, y=labels, x=[table.rows.get(t.id, {}).get(column, 0)
                                             for t in topics], orientation="h")
    title = {"group": "Documents per topic by stakeholder group",
             "source": "Documents per topic by source"}[attribute]
    fig.update_layout(barmode="stack", title=title, height=max(320, 36 * len(topics) + 140),
                      margin={"l": 260, "r": 20, "t": 60, "b": 40},
                      legend={"orientation": "h", "y": -0.15}, template="simple_white")
    return fig.to_json()


def comments_over_time(run: TopicRun) -> str | None:
    """Comments per topic per week; None when the run has no dated comments."""
    import plotly.graph_objects as go

    series = over_time(run, source="comment")
    if not series:
        return None
    topics = {t.id: t for t in active_topics(run, include_noise=False)}
    weeks = sorted({w for counts in series.values() for w in counts})
    fig = go.Figure()
    for topic_id, counts in sorted(series.items(), key=lambda i: -sum(i[1].values())):
        topic = topics.get(topic_id)
        if topic is None or topic.is_outliers:
            continue
        fig.add_scatter(name=_short(topic.label, 30), x=weeks,
                        y=[counts.get(w, 0) for w in weeks], mode="lines+markers")
    fig.update_layout(title="Comments per topic per week", xaxis_title="Week starting",
                      yaxis_title="Comments", template="simple_white", height=420)
    return fig.to_json()


def all_charts(run: TopicRun) -> dict[str, dict]:
    """name -> {"title", "figure" (parsed JSON)} for the run page, in display order."""
    charts = {"by_group": ("Topics by stakeholder group", topics_by(run, "group")),
              "by_source": ("Topics by source", topics_by(run, "source"))}
    timeline = comments_over_time(run)
    if timeline:
        charts["over_time"] = ("Comments over time", timeline)
    titles = {"intertopic": "Intertopic distance map (BERTopic, as fitted)",
              "barchart": "Topic words (BERTopic, as fitted)",
              "hierarchy": "Topic hierarchy (BERTopic, as fitted)"}
    for name, title in titles.items():
        if name in (run.figures or {}):
            charts[name] = (title, run.figures[name])
    return {name: {"title": title, "figure": json.loads(figure)}
            for name, (title, figure) in charts.items()}
