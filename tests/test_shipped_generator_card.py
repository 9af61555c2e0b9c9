"""The newest shipped generator reproduces its card (a file of its own, so
that it runs beside the other card test)."""

import pathlib

import pytest

from vocal_xai import zoo


@pytest.mark.slow
def test_shipped_generator_reproduces_its_card(evaluation_corpus):
    """Re-evaluate the newest shipped generator with the detector it was
    judged by: on the small corpus of its reproduction check when it has one
    (``models.reproduction``), else on the synthetic corpus it was trained on
    (version 1 unless its metadata records another). Every distance and
    consistency equals its metadata."""
    from vocal_xai.models.dcgan import task

    version_dir = zoo.resolve("generator")
    recorded = zoo.metadata(version_dir)
    # The judge's metadata path is of the machine it was published on: its
    # zoo version.
    detector = zoo.load_detector("detector", int(pathlib.Path(recorded["detector"]).name))
    generator = zoo.load_generator(str(version_dir))
    if "check" in recorded:
        check = recorded["check"]
        figures = task.reproduction_check(generator, detector, check["corpus"], check["options"])
        report, recorded = figures["evaluation"], check["evaluation"]
    else:
        # The recorded figures only: few resamples, no two-sample test and no
        # detector-free measures, which the card's numbers do not depend on.
        version = recorded.get("corpus_version") or 1
        # task.evaluate reads train and valid only.
        report = task.evaluate(
            generator,
            detector,
            evaluation_corpus(version, ("train", "valid")),
            num_samples=recorded["evaluation"]["vocal"]["samples"],
            seed=recorded["config"]["seed"],
            resamples=10,
            c2st_samples=0,
            measures=False,
        )
        recorded = {name: recorded["evaluation"][name] for name in ("non_vocal", "vocal")}
    for name, row in recorded.items():
        for key in ("generator", "floor", "ceiling"):
            assert report[name][key] == pytest.approx(row[key], rel=1e-3), (name, key)
        assert report[name]["consistency"] == pytest.approx(row["consistency"], abs=0.005)
