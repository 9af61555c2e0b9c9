import json

import keras
import numpy as np
import pytest
import validity_study as validity

from vocal_xai import markdown
from vocal_xai.data import pipeline
from vocal_xai.errors import ParameterError
from vocal_xai.metrics import measures
from vocal_xai.models.dcgan import PRESETS, Generator
from vocal_xai.models.detector import SVDNet


def _rows(direction="max", method="latent", n=30, seed=0, noise=0.0):
    """Settings whose quality falls as the distance grows (plus noise)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        d = float(i + 1)
        q = float(1.0 - i / n + noise * rng.normal())
        rows.append(
            {
                "method": method,
                "direction": direction,
                "learning_rate": 0.1 / (i + 1),
                "rp": 0.01,
                "iterations": 10,
                "distance": d,
                "distance_1d": float(n - i),
                "mean_activation": float(i if direction == "max" else -i),
                "realism": q,
                "class_evidence": q,
                "voice_evidence": q,
                "quality": q,
            }
        )
    return rows


def test_select_and_percentiles():
    rows = _rows()
    assert validity.select(rows, "distance") is rows[0]
    assert validity.select(rows, "distance_1d") is rows[-1]
    assert validity.select(rows, "activation") is rows[-1]  # the largest activation for max
    assert validity.select(_rows("min"), "activation")["mean_activation"] == -29
    assert validity.quality_percentile(rows, rows[0]) == 1.0
    assert validity.quality_percentile(rows, rows[-1]) == pytest.approx(1 / 30)
    with pytest.raises(ParameterError, match="selector"):
        validity.select(rows, "loudest")


def test_analysis_of_a_known_relation():
    rows = _rows() + _rows(method="input", seed=1)
    rows += _rows("min") + _rows("min", method="input")
    result = validity.analyse(rows, resamples=100)
    assert set(result["correlations"]) == {
        "latent/max",
        "input/max",
        "both/max",
        "latent/min",
        "input/min",
        "both/min",
    }
    corr = result["correlations"]["latent/max"]
    assert corr["distance~quality"]["rho"] == pytest.approx(-1.0)
    assert corr["distance_1d~quality"]["rho"] == pytest.approx(1.0)  # built the other way round
    sel = result["selectors"]["latent/max"]
    assert sel["distance"]["top_decile"] and sel["distance"]["percentile"] == 1.0
    assert not sel["distance_1d"]["top_decile"] and not sel["activation"]["top_decile"]
    assert sel["best"]["quality"] == pytest.approx(1.0)
    assert result["methods"]["max"]["latent"]["selected"]["quality"] == pytest.approx(1.0)
    assert result["methods"]["max"]["input"]["median"]["quality"] == pytest.approx(
        np.median([r["quality"] for r in _rows()])
    )


def test_tables_name_every_group_and_render_nan():
    rows = _rows() + _rows(method="input", seed=1)
    for r in rows[30:]:
        r["realism"] = 0.0  # constant: no correlation defined
    result = validity.analyse(rows, resamples=50)
    text = validity.markdown_tables(
        result,
        {
            "max": {
                m: {"difference": 0.1, "low": 0.0, "high": 0.2}
                for m in ("realism", "class_evidence", "voice_evidence")
            }
        },
    )
    assert "| latent/max | 30 | distance | -1.00 [-1.00, -1.00]" in text
    assert "n/a (constant)" in text
    assert "| max | +0.100 [+0.000, +0.200] |" in text


@pytest.fixture(scope="module")
def study(small_corpus, tmp_path_factory):
    from vocal_xai.data import corpus as corpus_lib

    keras.utils.set_random_seed(5)
    cache = tmp_path_factory.mktemp("cache")
    splits = {
        s: pipeline.load_split(corpus_lib.read_corpus(small_corpus), s, cache)
        for s in ("train", "valid", "test")
    }
    mean, std = pipeline.band_stats(splits["train"].features)
    generator = Generator(mean, std, **PRESETS["dcgan_tiny"]["generator"])
    detector = SVDNet.from_preset("svdnet_tiny", mean, std)
    judge = measures.build_judge(splits["train"], splits["test"], bank_stride=5, heldout_stride=5)
    config = validity.StudyConfig.from_grid(
        "tiny",
        learning_rates=(0.1, 0.01),
        rps=(0.01,),
        input_learning_rates=(0.1,),
        input_rps=(1.0, 0.01),
        embedding="embedding_8",
        reference_k=10,
        bootstrap=50,
    )
    rows, examples = validity.run_study(
        generator, detector, splits["valid"], judge, config, log=lambda *a: None
    )
    return rows, examples, judge, config


@pytest.mark.slow
def test_study_scores_every_setting_of_both_methods(study):
    rows, examples, judge, config = study
    assert len(rows) == 2 * (2 + 2) * 2  # directions x (latent pairs + input pairs) x iterations
    assert set(examples) == {(m, d) for m in validity.METHODS for d in ("max", "min")}
    for r in rows:
        log_mel = examples[(r["method"], r["direction"])][
            (r["learning_rate"], r["rp"], r["iterations"])
        ]
        assert log_mel.shape == (3, 115, 80)
        m = judge.measure(log_mel, r["direction"])
        assert r["realism"] == pytest.approx(m["realism"].mean())
        assert r["quality"] == pytest.approx(
            np.mean([r["realism"], r["class_evidence"], r["voice_evidence"]])
        )
        assert np.isfinite(r["distance"]) and r["distance"] >= 0 and np.isfinite(r["distance_1d"])


@pytest.mark.slow
def test_study_outputs_and_docs_block(study, tmp_path):
    rows, examples, judge, config = study
    analysis = validity.analyse(rows, 50)
    comparison = validity.compare_selected(rows, examples, judge, 50)
    assert set(comparison) == {"max", "min"}
    out = validity.write_outputs(
        rows, examples, analysis, comparison, tmp_path / "out", {"command": "x"}
    )
    for name in (
        "settings.csv",
        "results.json",
        "tables.md",
        "distance_vs_quality.png",
        "correlations.png",
        "selected_examples.png",
    ):
        assert (out / name).stat().st_size > 0, name
    results = json.loads((out / "results.json").read_text())
    assert len(results["settings"]) == len(rows)
    assert len((out / "settings.csv").read_text().splitlines()) == len(rows) + 1
    doc = tmp_path / "doc.md"
    doc.write_text(f"# Title\n\n{validity.BEGIN}\nold\n{validity.END}\n\nConclusion.\n")
    markdown.replace_block(
        doc, validity.BEGIN, validity.END, validity.render_docs_block(out / "results.json", "out")
    )
    block = markdown.block(doc, validity.BEGIN, validity.END)
    assert "old" not in block and (out / "tables.md").read_text().strip() in block
    assert "![correlations](out/correlations.png)" in block
    assert doc.read_text().endswith("Conclusion.\n")
    with pytest.raises(ParameterError, match="markers"):
        markdown.replace_block(tmp_path / "out" / "tables.md", validity.BEGIN, validity.END, "x")


def test_bad_config():
    with pytest.raises(ParameterError, match="grid"):
        validity.StudyConfig.from_grid("huge")
    with pytest.raises(ParameterError, match="seeds"):
        validity.StudyConfig(seeds=1)


def test_docs_show_the_recorded_study():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    doc, results = root / "docs" / "validity.md", root / "docs" / "validity" / "results.json"
    expected = validity.render_docs_block(results, "validity").strip()
    assert markdown.block(doc, validity.BEGIN, validity.END) == expected
    recorded = json.loads(results.read_text())
    assert recorded["meta"]["command"] in doc.read_text()  # the exact command is on the page
    # The tables follow from the recorded settings.
    again = validity.analyse(recorded["settings"], recorded["meta"]["config"]["bootstrap"])
    assert validity.markdown_tables(again, recorded["comparison"]) == validity.markdown_tables(
        recorded["analysis"], recorded["comparison"]
    )
