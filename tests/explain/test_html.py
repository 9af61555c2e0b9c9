"""report.html from a report dict: tables, media and escaping."""

import math

from vocal_xai.explain import html

REPORT = {
    "config": {"direction": "max", "neuron": "dense<1>:0", "condition": "vocal", "seeds": 2},
    "selected": {"learning_rate": 0.01, "rp": 0.1, "iterations": 50},
    "selector": "frechet",
    "selector_reason": "default: frechet & co",
    "picks": {
        "frechet": {"learning_rate": 0.01, "rp": 0.1, "iterations": 50, "score": 2.0, "rank": 1},
        "kid": {"learning_rate": 0.1, "rp": 0.0, "iterations": 10, "score": 0.5, "rank": 2},
    },
    "ranking": [
        {
            "rank": 1,
            "learning_rate": 0.01,
            "rp": 0.1,
            "iterations": 50,
            "distance": 2.0,
            "distance_1d": 0.1,
            "mean_activation": 5.5,
            "fraction_vocal": 1.0,
        },
        {
            "rank": 2,
            "learning_rate": 0.1,
            "rp": 0.0,
            "iterations": 10,
            "distance": 3.0,
            "distance_1d": math.nan,
            "mean_activation": 4.0,
            "fraction_vocal": 0.5,
        },
    ],
    "models": {"detector": "zoo/detector/4", "detector_version": 4},
}
EXAMPLES = [
    {
        "seed": 0,
        "png": "example_seed0.png",
        "start_wav": "start_seed0.wav",
        "selected_wav": "selected_seed0.wav",
        "start_activation": 1.25,
        "selected_activation": 6.5,
    }
]


def test_page_holds_the_tables_media_and_escaped_text():
    page = html.render(REPORT, [("curves.png", "Curves <per lr>")], EXAMPLES)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    # Text from the run is escaped.
    assert "<title>Explanation: max dense&lt;1&gt;:0</title>" in page
    assert "default: frechet &amp; co" in page and "Curves &lt;per lr&gt;" in page
    # The selected pick and the selected setting are highlighted; NaN is a dash.
    assert '<tr class="selected"><td class="name">frechet</td>' in page
    assert '<tr class="selected"><td>1</td><td>0.01</td><td>0.1</td><td>50</td>' in page
    assert "<td>–</td>" in page and "<td>50%</td>" in page
    # Each example: its figure and two players, start then selected.
    assert '<img src="example_seed0.png"' in page and '<img src="curves.png"' in page
    start = page.index('<audio controls preload="metadata" src="start_seed0.wav">')
    assert start < page.index('src="selected_seed0.wav"')
    assert "seed 0, selected (activation 6.5)" in page
    assert "detector zoo/detector/4 (version 4)" in page
