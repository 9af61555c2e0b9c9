"""The newest shipped detector reproduces its card (a file of its own, so
that it runs beside the other card test)."""

import numpy as np
import pytest

from vocal_xai import zoo
from vocal_xai.data import pipeline


@pytest.mark.slow
def test_shipped_detector_reproduces_its_card(evaluation_corpus):
    """Re-evaluate the newest shipped detector: on the small corpus of its
    reproduction check when it has one (``models.reproduction``), else on the
    synthetic corpus it was trained on (version 1 unless its metadata names
    another). The threshold and the errors equal what its metadata records."""
    from vocal_xai.models.detector import task

    version_dir = zoo.resolve("detector")
    recorded = zoo.metadata(version_dir)
    detector = zoo.load_detector(str(version_dir))
    if "check" in recorded:
        recorded = recorded["check"]
        metrics = task.reproduction_check(detector, recorded["corpus"])["metrics"]
    else:
        info = recorded.get("synthetic_corpus") or {"version": 1, "seed": 0}
        assert info["seed"] == 0
        # task.evaluate reads valid (the threshold) and test only.
        songs = evaluation_corpus(info["version"], ("valid", "test"))
        metrics = task.evaluate(detector, songs)
        # Far better than always answering the majority class.
        vocal = np.mean(np.concatenate(pipeline.load_split(songs, "test").labels))
        assert metrics["test"]["error"] < 0.25 * min(vocal, 1 - vocal)
    recorded = recorded["metrics"]
    assert metrics["threshold"] == pytest.approx(recorded["threshold"], abs=1e-9)
    for split in ("valid", "test", "test_unfiltered"):
        assert metrics[split]["error"] == pytest.approx(recorded[split]["error"], abs=1e-4)
        assert metrics[split]["f1"] == pytest.approx(recorded[split]["f1"], abs=1e-4)
