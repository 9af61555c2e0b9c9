"""The newest shipped detector reproduces its card's check (a file of its
own, so that it runs beside the other card test)."""

import pytest
from helpers import shipped_check

from vocal_xai import zoo


@pytest.mark.slow
def test_shipped_detector_reproduces_its_check():
    """Re-evaluate the newest shipped detector on the small corpus of its
    reproduction check (``models.reproduction``): its metadata's, or for a
    version published before checks, the one in ``tests/checks/``. The
    threshold and the errors equal the recorded ones."""
    from vocal_xai.models.detector import task

    version_dir = zoo.resolve("detector")
    recorded = shipped_check(version_dir)
    detector = zoo.load_detector(str(version_dir))
    metrics = task.reproduction_check(detector, recorded["corpus"])["metrics"]
    recorded = recorded["metrics"]
    assert metrics["threshold"] == pytest.approx(recorded["threshold"], abs=1e-9)
    for split in ("valid", "test", "test_unfiltered"):
        assert metrics[split]["error"] == pytest.approx(recorded[split]["error"], abs=1e-4)
        assert metrics[split]["f1"] == pytest.approx(recorded[split]["f1"], abs=1e-4)
