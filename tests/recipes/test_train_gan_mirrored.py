"""The train_gan recipe under MirroredStrategy on two logical CPUs (a file of
its own, so that it runs beside the other recipe tests)."""

import json

import numpy as np
import pytest
from helpers import run_ok
from test_train_gan import _cmd, _evaluation, corpus, detector  # noqa: F401 (fixtures)

from vocal_xai.models.dcgan import task as gan_task


@pytest.mark.slow
def test_mirrored_on_two_logical_cpus(corpus, detector, tmp_path):  # noqa: F811 (fixtures)
    run = tmp_path / "mirrored"
    out = run_ok(
        _cmd(
            corpus,
            detector,
            run,
            "--epochs=1",
            "--steps_per_epoch=4",
            "--strategy=mirrored",
            "--logical_cpus=2",
        )
    )
    report = _evaluation(run)
    assert report["replicas"] == 2
    assert report["resumed_from_epoch"] == 0
    assert set(report["final_logs"]) >= {"d_loss", "g_loss"}
    assert all(np.isfinite(v) for v in report["final_logs"].values())
    for name in ("non_vocal", "vocal"):
        row = report["evaluation"][name]
        assert row["samples"] == 20 and 0.0 <= row["consistency"] <= 1.0
        assert all(np.isfinite(row[k]) and row[k] >= 0 for k in ("generator", "floor", "ceiling"))
    version = run / "export" / "generator" / "1"
    assert (version / "saved_model.pb").is_file()
    assert f"Exported {version}" in out.stdout
    generator = gan_task.load_generator(version)
    assert generator.count_params() == report["generator_parameters"]
    metadata = json.loads((version / "assets.extra" / "metadata.json").read_text())
    assert metadata["replicas"] == 2 and metadata["parameters"] == report["generator_parameters"]
