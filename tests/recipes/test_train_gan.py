"""The train_gan recipe end to end, with tiny settings: kill -9 and resume
under MirroredStrategy on two logical CPUs, publishing and explaining a
finished run."""

import json
import pathlib
import sys

import keras
import numpy as np
import pytest
from helpers import kill_after_first_checkpoint, run_ok, script_env

from vocal_xai.data import corpus as corpus_lib
from vocal_xai.data import pipeline
from vocal_xai.errors import ParameterError
from vocal_xai.models.dcgan import evaluation
from vocal_xai.models.dcgan import task as gan_task
from vocal_xai.models.detector import SVDNet
from vocal_xai.models.detector import task as detector_task

ROOT = pathlib.Path(__file__).resolve().parents[2]
RECIPE = ROOT / "recipes" / "train_gan.py"
# The stabilisers (DiffAugment, R1, the weight average) and the class guide
# through kill -9 and MirroredStrategy.
TINY = [
    "--preset=dcgan_tiny_guided",
    "--batch_size=8",
    "--eval_samples=20",
    "--eval_resamples=50",
]


@pytest.fixture(scope="module")
def corpus(small_corpus):
    return small_corpus


@pytest.fixture(scope="module")
def detector(corpus, tmp_path_factory):
    train = pipeline.load_split(corpus_lib.read_corpus(corpus), "train")
    keras.utils.set_random_seed(0)
    model = SVDNet.from_preset("svdnet_tiny", *pipeline.band_stats(train.features))
    return detector_task.export_detector(model, tmp_path_factory.mktemp("zoo"), {})


# The uninterrupted run: long enough that kill -9 lands between checkpoints,
# on two replicas.
EPOCHS = ["--epochs=3", "--steps_per_epoch=8", "--strategy=mirrored", "--logical_cpus=2"]


def _cmd(corpus, detector, run_dir, *flags):
    return [
        sys.executable,
        str(RECIPE),
        f"--data_dir={corpus}",
        f"--model_dir={run_dir}",
        f"--detector={detector}",
        *TINY,
        *flags,
    ]  # exports to <model_dir>/export by default


def _generator_weights(run_dir):
    return gan_task.load_generator(run_dir / "export" / "generator" / "1").get_weights()


def _evaluation(run_dir):
    return json.loads((run_dir / "evaluation.json").read_text())


@pytest.fixture(scope="module")
def finished_run(corpus, detector, tmp_path_factory):
    """One uninterrupted run of ``EPOCHS`` to the end, and its evaluation.json
    as that run wrote it (a later rerun rewrites the file): the reference of
    kill -9 and resume, the run published and the run explained. Its export
    is never rewritten."""
    run = tmp_path_factory.mktemp("finished") / "straight"
    out = run_ok(_cmd(corpus, detector, run, *EPOCHS))
    assert f"Exported {run / 'export' / 'generator' / '1'}" in out.stdout
    return run, _evaluation(run)


@pytest.mark.slow
def test_a_mirrored_run_reports_and_exports_its_replicas(finished_run):
    run, report = finished_run
    assert report["replicas"] == 2
    assert set(report["final_logs"]) >= {"d_loss", "g_loss"}
    assert all(np.isfinite(v) for v in report["final_logs"].values())
    for name in ("non_vocal", "vocal"):
        row = report["evaluation"][name]
        assert row["samples"] == 20 and 0.0 <= row["consistency"] <= 1.0
        assert all(np.isfinite(row[k]) and row[k] >= 0 for k in ("generator", "floor", "ceiling"))
    version = run / "export" / "generator" / "1"
    generator = gan_task.load_generator(version)
    assert generator.count_params() == report["generator_parameters"]
    metadata = json.loads((version / "assets.extra" / "metadata.json").read_text())
    assert metadata["replicas"] == 2 and metadata["parameters"] == report["generator_parameters"]


@pytest.mark.slow
def test_kill_and_resume_equals_uninterrupted(corpus, detector, finished_run, tmp_path):
    straight, uninterrupted = finished_run

    # Kill -9 once a checkpoint is complete (its index file names it), while
    # training goes on. It saves after every step, so the kill lands within an
    # epoch (the first save is step 1's, of 8 an epoch).
    killed = tmp_path / "killed"
    every_step = [*EPOCHS, "--checkpoint_minutes=0"]
    kill_after_first_checkpoint(_cmd(corpus, detector, killed, *every_step), killed / "checkpoints")
    assert not (killed / "evaluation.json").exists()

    # The same command again resumes at the step saved last and ends with the
    # same weights (and, as it ran the last epoch whole, the same logs).
    run_ok(_cmd(corpus, detector, killed, *every_step))
    resumed = _evaluation(killed)
    assert 1 <= resumed["resumed_from_step"] < 16
    assert resumed["resumed_from_epoch"] == resumed["resumed_from_step"] // 8
    assert uninterrupted["resumed_from_step"] == uninterrupted["resumed_from_epoch"] == 0
    for a, b in zip(_generator_weights(straight), _generator_weights(killed), strict=True):
        np.testing.assert_array_equal(a, b)
    assert resumed["final_logs"] == uninterrupted["final_logs"]
    assert resumed["evaluation"] == uninterrupted["evaluation"]


@pytest.mark.slow
def test_publish_a_finished_run_with_its_evaluation(finished_run, tmp_path):
    run, _ = finished_run
    zoo_base = tmp_path / "zoo"
    with pytest.raises(ParameterError, match="Expected a finished run"):
        gan_task.publish(tmp_path / "not_run_yet", zoo_base)
    (zoo_base / "generator" / "1").mkdir(parents=True)  # an older version stays as it is
    run_ok(
        [
            sys.executable,
            str(ROOT / "tools" / "publish_generator.py"),
            f"--model_dir={run}",
            f"--export_base={zoo_base}",
        ],
        env=script_env(),
    )
    published = zoo_base / "generator" / "2"
    assert not any((zoo_base / "generator" / "1").iterdir())
    metadata = json.loads((published / "assets.extra" / "metadata.json").read_text())
    assert metadata == {**_evaluation(run), "parameters": metadata["parameters"]}
    assert set(metadata["evaluation"]) >= {"non_vocal", "vocal"}
    for a, b in zip(
        _generator_weights(run), gan_task.load_generator(published).get_weights(), strict=True
    ):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_a_generator_trained_on_your_corpus_explains_your_detector(
    corpus, detector, finished_run, tmp_path
):
    """README 'Explain your own model': train_gan.py --data_dir=CORPUS, then
    tools/explain.py with that generator and that corpus's valid split."""
    run, first = finished_run
    generator = run / "export" / "generator" / "1"
    assert first["export"] == str(generator) and first["corpus_version"] is None
    # A rerun after the finished training only evaluates: no second version.
    again = run_ok(_cmd(corpus, detector, run, *EPOCHS))
    assert f"Already exported {generator}" in again.stdout
    assert sorted(p.name for p in (run / "export" / "generator").iterdir()) == ["1"]
    assert _evaluation(run)["evaluation"] == first["evaluation"]
    assert {"evaluation.md", "samples.png", "c2st_scores.csv", "learning_curves.png"} <= {
        p.name for p in run.iterdir()
    }
    assert first["epochs_done"] == 3
    assert first["evaluation"]["settings"]["resamples"] == 50
    out = tmp_path / "explained"
    result = run_ok(
        [
            sys.executable,
            str(ROOT / "tools" / "explain.py"),
            f"--detector={detector}",
            f"--generator={generator}",
            f"--data_dir={corpus}",
            "--direction=max",
            "--learning_rates=0.01",
            "--rps=0.01",
            "--iterations=3",
            "--seeds=2",
            "--reference_k=10",
            "--bootstrap=0",
            "--griffin_lim_iterations=2",
            f"--out={out}",
        ],
        env=script_env(VOCAL_XAI_CACHE=str(tmp_path / "cache")),
    )
    report = json.loads((out / "report.json").read_text())
    assert report["models"]["generator"] == str(generator.resolve())
    assert report["models"]["corpus"] == str(corpus)
    assert f"Generator: {generator.resolve()}" in result.stdout
    assert np.isfinite(report["selected"]["distance"])


def _judge_run(run, detector, corpus, out, *flags):
    """recipes/evaluate_gan.py on a checkpoint of the tiny run: its result
    and the evaluation.json it wrote into ``out``."""
    result = run_ok(
        [
            sys.executable,
            str(ROOT / "recipes" / "evaluate_gan.py"),
            f"--model_dir={run}",
            "--preset=dcgan_tiny_guided",
            f"--detector={detector}",
            f"--data_dir={corpus}",
            "--samples=20",
            "--resamples=50",
            f"--out={out}",
            f"--cache_dir={out.parent / 'cache'}",
            *flags,
        ]
    )
    return result, json.loads((out / "evaluation.json").read_text())


@pytest.mark.slow
def test_judging_a_run_checkpoint_judges_the_generator_it_exports(
    corpus, detector, finished_run, tmp_path
):
    """evaluate_gan.py --model_dir restores the latest checkpoint's weight
    average (the generator the run exports) and judges it as the run did."""
    run, first = finished_run
    train = pipeline.load_split(corpus_lib.read_corpus(corpus), "train")
    generator, path, steps = gan_task.load_checkpoint(
        run, gan_task.GanConfig(preset="dcgan_tiny_guided"), train
    )
    assert steps == 24 and path.endswith("ckpt-24")
    for a, b in zip(_generator_weights(run), generator.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(
        ParameterError, match="Expected a checkpoint of preset 'dcgan_tiny_conditional'"
    ):
        gan_task.load_checkpoint(run, gan_task.GanConfig(preset="dcgan_tiny_conditional"), train)
    with pytest.raises(ParameterError, match="no checkpoint in"):
        gan_task.load_checkpoint(tmp_path, gan_task.GanConfig(preset="dcgan_tiny_guided"), train)

    c2st = first["evaluation"]["settings"]["c2st_samples"]
    result, judged = _judge_run(
        run, detector, corpus, tmp_path / "judged", f"--c2st_samples={c2st}"
    )
    assert "(24 steps done)" in result.stdout
    assert judged["steps_done"] == 24 and judged["preset"] == "dcgan_tiny_guided"
    assert judged["evaluation"] == first["evaluation"]


@pytest.mark.slow
def test_judging_an_earlier_checkpoint_against_the_test_split(
    corpus, detector, finished_run, tmp_path
):
    """--checkpoint judges the checkpoint it names, not the latest, and
    --reference=test judges against the test split, which the report
    records; the slow rows can be left out."""
    run, _ = finished_run
    songs = corpus_lib.read_corpus(corpus)
    train = pipeline.load_split(songs, "train")
    config = gan_task.GanConfig(preset="dcgan_tiny_guided")
    earlier = run / "checkpoints" / "ckpt-16"
    generator, path, steps = gan_task.load_checkpoint(run, config, train, checkpoint=earlier)
    latest, _, _ = gan_task.load_checkpoint(run, config, train)
    assert steps == 16 and path == str(earlier)
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(generator.get_weights(), latest.get_weights(), strict=True)
    )
    with pytest.raises(ParameterError, match=r"Expected checkpoint to name a TF checkpoint"):
        gan_task.load_checkpoint(run, config, train, checkpoint=run / "checkpoints" / "ckpt-7")
    with pytest.raises(ParameterError, match=r"Expected reference in \['valid', 'test'\]"):
        gan_task.evaluate_generator_cli(
            None, detector, corpus, tmp_path / "no", model_dir=run, reference="train"
        )
    with pytest.raises(ParameterError, match="Expected --model_dir with --checkpoint"):
        gan_task.evaluate_generator_cli(
            str(run / "export" / "generator" / "1"),
            detector,
            corpus,
            tmp_path / "no",
            checkpoint=str(earlier),
        )
    assert not (tmp_path / "no").exists()

    out = tmp_path / "judged"
    flags = [f"--checkpoint={earlier}", "--reference=test", "--c2st_samples=0", "--nomeasures"]
    result, judged = _judge_run(run, detector, corpus, out, *flags)
    assert "(16 steps done)" in result.stdout and "reference: its test split" in result.stdout
    assert judged["steps_done"] == 16 and judged["reference_split"] == "test"
    assert judged["evaluation"]["settings"]["reference_split"] == "test"
    markdown = (out / "evaluation.md").read_text()
    assert "FD floor (train vs test)" in markdown and "test holds" in markdown
    assert "valid" not in markdown
    assert judged["checkpoint"] == str(earlier.resolve())
    test = pipeline.load_split(songs, "test")
    for label, name in evaluation.CLASS_NAMES.items():
        row = judged["evaluation"][name]
        assert row["available"]["valid"] == pipeline.available_excerpts(test, label)
        assert "skipped" in row["c2st"]
        assert 0.0 <= row["consistency"] <= 1.0
