"""The protocol that chooses the default selector."""

import dataclasses
import json

import numpy as np
import pytest
import selector_study as study

from vocal_xai.errors import ParameterError
from vocal_xai.explain import selection


def test_halves_are_disjoint_and_equal():
    h = study.halves(50)
    assert h["choose"].tolist() == list(range(25)) and h["report"].tolist() == list(range(25, 50))
    assert len(study.halves(7)["report"]) == 3
    with pytest.raises(ParameterError, match="seeds=3"):
        study.halves(3)


def _rows(quality, distance, one_d):
    rows = []
    for i, (q, d, o) in enumerate(zip(quality, distance, one_d)):
        row = {key: float("nan") for key in selection.COLUMNS.values()}
        row.update(
            learning_rate=0.1 / 10**i,
            rp=0.0,
            iterations=10,
            distance=d,
            distance_1d=o,
            score_density=-q,
            mean_activation=1.0,
            quality=q,
        )
        rows.append(row)
    return selection.rank(rows, "max")


def test_judge_selectors_gives_the_picks_percentile_and_rho():
    # Distance falls as quality rises (a good selector); the 1-D distance
    # rises with it (a bad one).
    rows = _rows([0.1, 0.2, 0.3, 0.4, 0.5], [5, 4, 3, 2, 1], [1, 2, 3, 4, 5])
    judged = study.judge_selectors(rows, resamples=50)
    assert judged["frechet"]["percentile"] == 1.0 and judged["frechet"]["quality"] == 0.5
    assert judged["frechet"]["spearman"]["rho"] == pytest.approx(-1.0)
    assert judged["paper_1d"]["percentile"] == pytest.approx(0.2)
    assert judged["paper_1d"]["spearman"]["rho"] == pytest.approx(1.0)
    assert judged["paper_1d"]["pick"] == [0.1, 0.0, 10]
    assert "kid" not in judged  # NaN everywhere: no pick


def _judged(percentiles):
    return {
        d: {"choose": {n: {"percentile": p[i]} for n, p in percentiles.items()}}
        for i, d in enumerate(("max", "min"))
    }


def test_choose_needs_a_margin_over_frechet():
    choice = study.choose(_judged({"frechet": (0.5, 0.5), "kid": (0.7, 0.6)}))
    assert choice["default"] == "kid" and choice["mean_percentile"]["kid"] == pytest.approx(0.65)
    assert "15% above frechet" in choice["reason"]
    choice = study.choose(_judged({"frechet": (0.5, 0.5), "kid": (0.6, 0.55)}))
    assert choice["default"] == "frechet" and "best: kid" in choice["reason"]
    # A tie keeps frechet.
    assert study.choose(_judged({"frechet": (0.9, 0.9), "kid": (0.9, 0.9)}))["default"] == "frechet"


@pytest.mark.slow
def test_run_cli_on_tiny_models(small_corpus, tmp_path, monkeypatch):
    from vocal_xai.models.dcgan import PRESETS, Generator
    from vocal_xai.models.dcgan import task as gan_task
    from vocal_xai.models.detector import SVDNet
    from vocal_xai.models.detector import task as detector_task

    monkeypatch.setenv("VOCAL_XAI_CACHE", str(tmp_path / "cache"))
    mean, std = np.full(80, -5.0), np.ones(80)
    zoo = tmp_path / "zoo"
    detector_task.export_detector(SVDNet.from_preset("svdnet_tiny", mean, std), zoo, {})
    gan_task.export_generator(
        Generator(mean, std, **PRESETS["dcgan_tiny_conditional"]["generator"]), zoo, {}
    )
    out = tmp_path / "out"
    pair = (str(zoo / "detector" / "1"), str(zoo / "generator" / "1"))
    settings = dict(
        learning_rates=(0.1, 0.01),
        rps=(0.01,),
        iterations=(2, 4),
        seeds=6,
        embedding="embedding_8",
        reference_k=10,
    )

    # A run killed after its first direction keeps that direction beside out.
    def kill_after_max(message):
        if message.startswith("max:"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        study.run_cli("quick", [pair, pair], str(small_corpus), out, log=kill_after_max, **settings)
    partial = tmp_path / ".out.partial"
    (stage,) = partial.iterdir()
    assert not out.exists() and stage.name.endswith("-max.json")
    saved = json.loads(stage.read_text())["value"]

    # The same command resumes from there, then removes the partial folder.
    messages = []
    results = study.run_cli(
        "quick", [pair, pair], str(small_corpus), out, log=messages.append, **settings
    )
    # The listed-twice pair is computed once: max is reused for both, min
    # computed for the first and reused for the second.
    assert [m.split(" ")[:2] for m in messages if m.startswith(("max:", "min:"))] == [
        ["max:", "reused"],
        ["min:", "4"],
        ["max:", "reused"],
        ["min:", "reused"],
    ]
    assert results["pairs"]["detector 1 + generator 1"]["max"] == saved
    assert not partial.exists()
    assert json.loads((out / "results.json").read_text()) == results
    assert (out / "tables.md").read_text() == study.markdown(results)
    assert results["meta"]["halves"] == {"choose": [0, 2], "report": [3, 5]}
    assert len(results["pairs"]) == 1  # the same pair twice is one entry
    for direction in ("max", "min"):
        res = results["pairs"]["detector 1 + generator 1"][direction]
        for half in study.HALVES:
            rows = res["rows"][half]
            assert len(rows) == 4 and all(0.0 <= r["quality"] <= 1.0 for r in rows)
            assert {"frechet", "paper_1d", "density+activation"} <= set(res["judged"][half])
    assert results["choice"]["default"] in selection.SELECTOR_NAMES

    # The second pair can run on its own and keep the first run's choice.
    second = study.run_cli(
        "quick",
        [pair],
        str(small_corpus),
        tmp_path / "second",
        log=messages.append,
        choice_from=out / "results.json",
        **settings,
    )
    assert second["choice"] == {**results["choice"], "source": str(out / "results.json")}
    assert list(second["pairs"]) == ["detector 1 + generator 1"]
    tables = (tmp_path / "second" / "tables.md").read_text()
    assert f"chosen in {out / 'results.json'}" in tables
    for bad in (tmp_path / "missing.json", out / "tables.md"):
        with pytest.raises(ParameterError, match="results.json of a selector study"):
            study.run_cli("quick", [pair], str(small_corpus), tmp_path / "third", choice_from=bad)
    (tmp_path / "nochoice.json").write_text('{"choice": {"default": "best"}}')
    with pytest.raises(ParameterError, match="Received: choice="):
        study.run_cli(
            "quick",
            [pair],
            str(small_corpus),
            tmp_path / "third",
            choice_from=tmp_path / "nochoice.json",
        )
    assert not (tmp_path / "third").exists()


def test_paper_grid_table_places_the_papers_picks():
    def rows(qualities):
        # Settings (lr, rp, 100 or 1000 iterations) with the given qualities.
        grid = [(0.01, 0.001, 100), (0.001, 0.1, 1000), (0.1, 0.1, 100), (0.1, 0.01, 1000)]
        return [
            {"learning_rate": lr, "rp": rp, "iterations": it, "quality": q}
            for (lr, rp, it), q in zip(grid, qualities)
        ]

    def judged(pick, percentile):
        return {"frechet": {"pick": pick, "percentile": percentile}}

    res = {
        "rows": {"choose": rows([0.9, 0.1, 0.5, 0.3]), "report": rows([0.2, 0.4, 0.8, 0.6])},
        "judged": {"choose": judged([0.1, 0.1, 100], 0.75), "report": judged([0.1, 0.1, 100], 1.0)},
        "seconds": 100.0,
        "ascent_seconds": 80.0,
    }
    results = {"pairs": {"p": {"max": res, "min": res}}, "choice": {"default": "frechet"}}
    lines = study.paper_grid_table(results).splitlines()
    assert len(lines) == 4
    # max: the paper's pick is the best of the choosing half, second worst of
    # the reporting half; min: worst, then second best.
    assert lines[2] == (
        "| p | max | 0.01 / 0.001 / 100 | 100% / 25% | 0.1 / 0.1 / 100; 0.1 / 0.1 / 100 | "
        "75% / 100% | 0.1 / 0.1 / 100 | 80 / 100 |"
    )
    assert lines[3].startswith("| p | min | 0.001 / 0.1 / 1000 | 25% / 50% |")
    assert study.setting_percentile(res["rows"]["report"], (0.5, 0.1, 100)) is None


def test_docs_show_the_recorded_study_and_the_library_follows_its_choice():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "validity.md").read_text()
    folder = root / "docs" / "selector_study"
    shipped = json.loads((folder / "shipped_pair" / "results.json").read_text())
    for results_json in sorted(folder.glob("*/results.json")):
        results = json.loads(results_json.read_text())
        tables = study.markdown(results)
        assert (results_json.parent / "tables.md").read_text() == tables
        assert tables.strip() in doc and results["meta"]["command"] in doc
        # Every pair reports the choice made on the shipped pair.
        assert results["choice"]["default"] == shipped["choice"]["default"]
    # The choice follows from the recorded judgements, and is the library's default.
    pair = next(iter(shipped["pairs"].values()))
    assert study.choose({d: pair[d]["judged"] for d in pair}) == shipped["choice"]
    assert selection.DEFAULT_SELECTOR == shipped["choice"]["default"]


def test_stage_key_follows_the_models_corpus_and_settings_not_the_ranking_selector(
    small_corpus, tmp_path, monkeypatch
):
    from vocal_xai.explain import run

    model = tmp_path / "model"
    model.mkdir()
    (model / "saved_model.pb").write_bytes(b"graph")
    base = run.ExplainConfig.from_grid("quick")

    def key(config=base, corpus=small_corpus):
        return study.stage_key(model, model, corpus, config)

    assert key() == key(dataclasses.replace(base, selector="kid"))
    monkeypatch.chdir(small_corpus.parent)
    assert key() == key(corpus=small_corpus.name)  # a relative path is the same corpus
    assert key() != key(dataclasses.replace(base, seeds=base.seeds + 1))
    assert key() != key(corpus=tmp_path)
    before = key()
    (model / "saved_model.pb").write_bytes(b"other graph")
    assert key() != before
