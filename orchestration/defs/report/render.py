"""Render the panels as one self-contained HTML file: Plotly's library is inlined once, so the
file works offline and from a mail attachment."""

from __future__ import annotations

import html
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from orchestration.defs.report.panels import PANELS, Panel

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
h1 { margin-bottom: 0; } .meta { color: #666; margin-top: .3rem; }
section { margin: 2rem 0; } h2 { font-size: 1.15rem; } .note { color: #666; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .5rem; text-align: left; }
.empty { color: #a00; }
"""


def _figure(panel: Panel, columns: list[str], rows: list[tuple]) -> go.Figure:
    if panel.kind == "heatmap":
        xs = sorted({r[0] for r in rows})
        ys = sorted({r[1] for r in rows})
        cells = {(r[0], r[1]): r[2] for r in rows}
        z = [[cells.get((x, y), 0) for x in xs] for y in ys]
        figure = go.Figure(go.Heatmap(x=xs, y=ys, z=z, colorscale="Blues"))
        figure.update_xaxes(title=columns[0])
        figure.update_yaxes(title=columns[1])
    elif panel.kind in ("stacked_bars", "grouped_bars", "lines"):
        series: dict = {}
        for x, name, y in rows:
            series.setdefault(name, ([], []))
            series[name][0].append(x)
            series[name][1].append(y)
        if panel.kind == "lines":
            figure = go.Figure(
                [
                    go.Scatter(name=str(name), x=xs, y=ys, mode="lines+markers")
                    for name, (xs, ys) in series.items()
                ]
            )
            # A single series keeps its name in the legend: it says which agent it is.
            figure.update_layout(showlegend=True)
        else:
            figure = go.Figure(
                [go.Bar(name=str(name), x=xs, y=ys) for name, (xs, ys) in series.items()]
            )
            figure.update_layout(barmode="stack" if panel.kind == "stacked_bars" else "group")
        figure.update_yaxes(title=columns[2])
    else:
        figure = go.Figure(
            go.Bar(x=[r[1] for r in rows], y=[str(r[0]) for r in rows], orientation="h")
        )
        figure.update_yaxes(autorange="reversed")
        figure.update_xaxes(title=columns[1])
    figure.update_layout(
        height=420, margin={"l": 60, "r": 20, "t": 20, "b": 60}, template="plotly_white"
    )
    return figure


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return html.escape(str(value))


def _table(columns: list[str], rows: list[tuple]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(results: dict[str, tuple[list[str], list[tuple]]], title: str) -> str:
    """`results`: panel key → (columns, rows). An empty panel says so instead of a chart."""
    sections = []
    plotly_included = False
    for panel in PANELS:
        columns, rows = results[panel.key]
        if not rows and panel.empty:
            content = f'<p class="empty" data-empty="true">{html.escape(panel.empty)}</p>'
        elif not rows and panel.kind == "table":
            # Nothing to act on is a state worth showing, not a broken panel.
            content = '<p class="none">None at the moment.</p>'
        elif not rows:
            content = f'<p class="empty" data-empty="true">No rows in {panel.key}.</p>'
        elif panel.kind == "table":
            content = _table(columns, rows)
        else:
            content = pio.to_html(
                _figure(panel, columns, rows),
                full_html=False,
                include_plotlyjs=not plotly_included,
                div_id=f"chart-{panel.key}",
                config={"displaylogo": False, "responsive": True},
            )
            plotly_included = True
        note = f'<p class="note">{html.escape(panel.note)}</p>' if panel.note else ""
        sections.append(
            f'<section id="{panel.key}" data-kind="{panel.kind}" '
            f'data-rows="{len(rows)}"><h2>{html.escape(panel.title)}</h2>'
            f"{note}{content}</section>"
        )
    built = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f'<p class="meta">Built {built} from the warehouse marts.</p>'
        + "".join(sections)
        + "</body></html>"
    )


def query_panels(conn) -> dict[str, tuple[list[str], list[tuple]]]:
    results = {}
    for panel in PANELS:
        cursor = conn.execute(panel.sql)
        results[panel.key] = ([c.name for c in cursor.description], cursor.fetchall())
    return results


def write_report(conn, path: Path, title: str = "Agent telemetry report") -> dict[str, int]:
    """Query every panel, write the HTML file atomically; returns rows per panel."""
    results = query_panels(conn)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own per writer: two runs rendering at once each publish a whole file.
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, suffix=".partial", delete=False
    ) as partial:
        partial.write(render(results, title))
    Path(partial.name).replace(path)
    return {key: len(rows) for key, (_, rows) in results.items()}
