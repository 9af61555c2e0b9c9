"""The newest shipped generator reproduces its card's check (a file of its
own, so that it runs beside the other card test)."""

import pytest
from helpers import shipped_check
from record_checks import judge_of

from vocal_xai import zoo


@pytest.mark.slow
def test_shipped_generator_reproduces_its_check():
    """Re-evaluate the newest shipped generator, with the detector it was
    judged by, on the small corpus of its reproduction check
    (``models.reproduction``): its metadata's, or for a version published
    before checks, the one in ``tests/checks/``. Every distance and
    consistency equals the recorded one."""
    from vocal_xai.models.dcgan import task

    version_dir = zoo.resolve("generator")
    check = shipped_check(version_dir)
    detector = judge_of(zoo.metadata(version_dir))
    generator = zoo.load_generator(str(version_dir))
    figures = task.reproduction_check(generator, detector, check["corpus"], check["options"])
    for name, row in check["evaluation"].items():
        got = figures["evaluation"][name]
        assert got["samples"] == row["samples"], name
        for key in ("generator", "floor", "ceiling"):
            assert got[key] == pytest.approx(row[key], rel=1e-3), (name, key)
        assert got["consistency"] == pytest.approx(row["consistency"], abs=0.005)
