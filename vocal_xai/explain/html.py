"""``report.html`` of an explanation run: one self-contained page that opens
from disk with no server and no script.

It shows the ranking with every selector's pick, the figures, and the
selected examples beside their starting points, each with an audio player.
Every file it names lies in the same folder, by a relative link.
"""

import html
import math

# Ranking columns shown on the page: (row key, header, format).
COLUMNS = (
    ("rank", "rank", "d"),
    ("learning_rate", "lr", "g"),
    ("rp", "rp", "g"),
    ("iterations", "iterations", "d"),
    ("distance", "Fréchet distance", ".4g"),
    ("distance_1d", "1-D distance", ".4g"),
    ("mean_activation", "mean activation", ".3g"),
    ("fraction_vocal", "called vocal", ".0%"),
)

STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
th { background: #f0f0f0; }
td.name { text-align: left; }
tr.selected { background: #fff3c4; font-weight: bold; }
figure { margin: 0 0 1.5em; }
figure img { max-width: 100%; border: 1px solid #ddd; }
.example { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start;
           border-top: 1px solid #ddd; padding-top: 0.8em; margin-bottom: 1em; }
.example .players { display: flex; flex-direction: column; gap: 0.5em; }
.note { color: #555; font-size: 0.9em; }
"""


def _cell(value, fmt):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return format(value, fmt)


def _table(headers, rows, classes=None, named=False):
    """A table; with ``named`` the first cell of each row is a name, aligned
    left."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        css = f' class="{classes[i]}"' if classes and classes[i] else ""
        cells = "".join(
            f'<td class="name">{html.escape(c)}</td>'
            if named and j == 0
            else f"<td>{html.escape(c)}</td>"
            for j, c in enumerate(row)
        )
        body.append(f"<tr{css}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def ranking_table(ranking):
    """Every setting, best first, the selected one highlighted."""
    rows = [[_cell(r.get(key), fmt) for key, _, fmt in COLUMNS] for r in ranking]
    classes = ["selected" if r.get("rank") == 1 else "" for r in ranking]
    return _table([header for _, header, _ in COLUMNS], rows, classes)


def picks_table(picks, selector):
    """Each selector's pick and where it sits in the ranking."""
    rows = [
        [
            name,
            _cell(p["learning_rate"], "g"),
            _cell(p["rp"], "g"),
            _cell(p["iterations"], "d"),
            _cell(p["score"], ".4g"),
            _cell(p.get("rank"), "d"),
        ]
        for name, p in picks.items()
    ]
    classes = ["selected" if name == selector else "" for name in picks]
    headers = ["selector", "lr", "rp", "iterations", "score (lower is better)", "rank"]
    return _table(headers, rows, classes, named=True)


def render(report, figures, examples):
    """The page.

    Args:
        report: the dict written to ``report.json``.
        figures: ``[(file name, caption)]`` of the run's figures.
        examples: ``[{"seed", "png", "start_wav", "selected_wav",
            "start_activation", "selected_activation"}]``, one per example
            shown with audio.

    Returns:
        str, the HTML document.
    """
    config = report["config"]
    selected = report["selected"]
    models = report.get("models") or {}
    title = f"Explanation: {config['direction']} {config['neuron']}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{html.escape(config['condition'])} prior; "
        f"{len(report['ranking'])} settings x {config['seeds']} seeds. Selected: "
        f"<b>lr {selected['learning_rate']:g}, rp {selected['rp']:g}, "
        f"{selected['iterations']} iterations</b>.</p>",
    ]
    if models:
        described = ", ".join(
            f"{name} {models[name]}"
            + (f" (version {models[f'{name}_version']})" if models.get(f"{name}_version") else "")
            for name in ("detector", "generator")
            if name in models
        )
        parts.append(f'<p class="note">Models: {html.escape(described)}.</p>')
    parts += [
        "<h2>Each selector's pick</h2>",
        f'<p class="note">{html.escape(report["selector_reason"])}</p>',
        picks_table(report["picks"], report["selector"]),
        f"<h2>Settings ranked by {html.escape(report['selector'])}</h2>",
        ranking_table(report["ranking"]),
        "<h2>Examples: starting point and explanation</h2>",
    ]
    for ex in examples:
        parts.append(
            f'<div class="example"><img src="{html.escape(ex["png"])}" '
            f'alt="seed {ex["seed"]}: starting point and selected explanation">'
            '<div class="players">'
            f"<span>seed {ex['seed']}, start (activation {ex['start_activation']:.3g})</span>"
            f'<audio controls preload="metadata" src="{html.escape(ex["start_wav"])}"></audio>'
            f"<span>seed {ex['seed']}, selected (activation "
            f"{ex['selected_activation']:.3g})</span>"
            f'<audio controls preload="metadata" src="{html.escape(ex["selected_wav"])}"></audio>'
            "</div></div>"
        )
    parts.append("<h2>Figures</h2>")
    for name, caption in figures:
        parts.append(
            f'<figure><img src="{html.escape(name)}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
