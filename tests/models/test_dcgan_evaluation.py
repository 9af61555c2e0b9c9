"""The generator evaluation on small corpora, with stand-in models whose
answers are known: counts used when a split holds fewer excerpts than asked,
intervals, the class-matters share, the figure and the written files."""

import csv
import json

import numpy as np
import pytest
import tensorflow as tf

from vocal_xai import cache
from vocal_xai.data import corpus as corpus_lib
from vocal_xai.data import pipeline, synthetic
from vocal_xai.errors import ParameterError
from vocal_xai.metrics import c2st, measures
from vocal_xai.models.dcgan import evaluation, task

FAST = dict(resamples=50, c2st_floor=False)
NO_C2ST = dict(FAST, c2st_samples=2)  # below the test's minimum: skipped


class MeanDetector:
    """A stand-in detector: the logit is the excerpt's mean log-mel plus 4;
    the embeddings are its mean over time in 8 and in 4 band groups."""

    embedding_names = ("embedding_8", "embedding_4")

    def __call__(self, x, training=False):
        bands = tf.reduce_mean(x, axis=1)  # [batch, 80]
        logit = tf.reduce_mean(bands, axis=1, keepdims=True) + 4.0
        return {
            "logit": logit,
            "probability": tf.sigmoid(logit),
            "embedding_8": tf.reduce_mean(tf.reshape(bands, [-1, 8, 10]), axis=2),
            "embedding_4": tf.reduce_mean(tf.reshape(bands, [-1, 4, 20]), axis=2),
        }


class ShiftGenerator:
    """A stand-in generator: a fixed excerpt plus z's first value, plus
    ``vocal_shift`` for the vocal class."""

    latent_dim = 128

    def __init__(self, vocal_shift):
        self.base = tf.constant(np.random.default_rng(0).normal(-4.0, 1.0, (115, 80)), tf.float32)
        self.vocal_shift = vocal_shift

    def __call__(self, inputs, training=False):
        shift = (
            inputs["z"][:, :1, None]
            + self.vocal_shift * tf.cast(inputs["class"], tf.float32)[:, None, None]
        )
        return self.base[None] + shift


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    """One 8-second song per split (version 1: every song sings)."""
    root = synthetic.make_corpus(
        tmp_path_factory.mktemp("eval") / "corpus",
        seed=3,
        split_sizes={"train": 1, "valid": 1, "test": 1},
        duration=8.0,
        workers=1,
        version=1,
        splits=("train", "valid"),
    )
    songs = corpus_lib.read_corpus(root, splits=("train", "valid"))
    return pipeline.load_split(songs, "train"), pipeline.load_split(songs, "valid")


def _available(train, valid):
    """Excerpts each split holds, per class name."""
    return {
        name: {
            "valid": pipeline.available_excerpts(valid, label),
            "train": pipeline.available_excerpts(train, label),
        }
        for label, name in evaluation.CLASS_NAMES.items()
    }


@pytest.fixture(scope="module")
def all_there_is(splits):
    """The evaluation of ``ShiftGenerator(1.0)`` asked for 5000 excerpts per
    row, more than either split holds, with a C2ST of 16 excerpts per side."""
    train, valid = splits
    return evaluation.evaluate(
        ShiftGenerator(1.0), MeanDetector(), train, valid, num_samples=5000, c2st_samples=16, **FAST
    )


@pytest.mark.slow
def test_a_split_with_fewer_excerpts_than_asked_is_used_whole(splits, all_there_is):
    train, valid = splits
    available = _available(train, valid)
    assert all(0 < a["valid"] < 5000 for a in available.values())
    result = all_there_is
    report = result.report
    for name, counts in available.items():
        row = report[name]
        assert row["available"] == counts
        assert row["samples"] == min(counts.values()) and row["requested"] == 5000
        assert len(result.real[name]) == len(result.generated[name]) == row["samples"]
        assert row["c2st"]["samples"] == 16 and row["c2st"]["examples"] == 32
    assert report["class_matters"]["samples"] == min(report[n]["samples"] for n in available)
    text = evaluation.format_report(report)
    for name, counts in available.items():
        assert (
            f"- {name}: {report[name]['samples']} excerpts per row of 5000 asked (valid holds "
            f"{counts['valid']}, train {counts['train']}) (fewer than asked: all there is)"
        ) in text


@pytest.mark.slow
def test_intervals_bracket_their_estimates(splits):
    train, valid = splits
    report = evaluation.evaluate_generator(
        ShiftGenerator(0.5), MeanDetector(), train, valid, num_samples=200, **NO_C2ST
    )
    for name in evaluation.CLASS_NAMES.values():
        row = report[name]
        for emb, rows in row["frechet"].items():
            for key, e in rows.items():
                assert e["low"] <= e["value"] <= e["high"], (name, emb, key, e)
        c = row["class_consistency"]
        assert c["low"] <= c["value"] <= c["high"] and c["value"] == row["consistency"]
    m = report["class_matters"]
    assert m["low"] <= m["value"] <= m["high"]


@pytest.mark.slow
def test_consistency_and_the_class_matters_on_known_answers(splits):
    train, valid = splits
    # The vocal shift raises every excerpt's logit by 1: the class always matters.
    report = evaluation.evaluate_generator(
        ShiftGenerator(1.0), MeanDetector(), train, valid, num_samples=100, **NO_C2ST
    )
    assert report["class_matters"] == {"value": 1.0, "low": 1.0, "high": 1.0, "samples": 100}
    # Without it, G(z, vocal) = G(z, non-vocal): never higher.
    same = evaluation.evaluate(
        ShiftGenerator(0.0), MeanDetector(), train, valid, num_samples=100, **NO_C2ST
    )
    assert same.report["class_matters"]["value"] == 0.0
    np.testing.assert_array_equal(same.generated["vocal"], same.generated["non_vocal"])
    # Consistency: the share of G(z, class) called the class at probability 0.5.
    z = evaluation.latents(100, 2)  # the latents of seed 0
    logits = MeanDetector()(
        tf.constant(ShiftGenerator(1.0)({"z": z, "class": tf.ones(100, tf.int32)}))
    )["logit"]
    assert report["vocal"]["consistency"] == pytest.approx(float(np.mean(logits.numpy() > 0)))
    assert report["non_vocal"]["consistency"] == pytest.approx(
        float(
            np.mean(
                MeanDetector()(ShiftGenerator(1.0)({"z": z, "class": tf.zeros(100, tf.int32)}))[
                    "logit"
                ].numpy()
                <= 0
            )
        )
    )


def test_too_few_excerpts_and_bad_arguments(splits):
    train, valid = splits
    empty = pipeline.SplitFeatures(
        ["a"], [np.zeros((300, 80), np.float32)], [np.zeros(300, np.int32)]
    )
    with pytest.raises(
        ParameterError,
        match="Expected at least 2 excerpts of class vocal in the valid split. Received: 0",
    ):
        evaluation.evaluate(ShiftGenerator(1.0), MeanDetector(), train, empty, num_samples=10)
    with pytest.raises(ParameterError, match="Expected num_samples >= 2. Received: num_samples=1"):
        evaluation.evaluate(ShiftGenerator(1.0), MeanDetector(), train, valid, num_samples=1)
    with pytest.raises(
        ParameterError,
        match="Expected embedding in .'embedding_8', 'embedding_4'.. Received: embedding='dense'",
    ):
        evaluation.evaluate(
            ShiftGenerator(1.0), MeanDetector(), train, valid, num_samples=10, embedding="dense"
        )


@pytest.mark.slow
def test_c2st_skipped_below_its_minimum(splits):
    train, valid = splits
    report = evaluation.evaluate_generator(
        ShiftGenerator(1.0), MeanDetector(), train, valid, num_samples=10, resamples=50
    )
    minimum = 2 * c2st.C2STConfig().folds * c2st.C2STConfig().blocks
    assert report["vocal"]["c2st"] == {"skipped": f"10 excerpts per side, fewer than {minimum}"}
    assert "skipped (10 excerpts per side" in evaluation.format_report(report)


@pytest.mark.slow
def test_progress_counts_every_stage_of_both_classes(splits, capsys):
    train, valid = splits
    common = dict(num_samples=10, resamples=20, c2st_samples=0)
    evaluation.evaluate(ShiftGenerator(1.0), MeanDetector(), train, valid, **common)
    assert capsys.readouterr().out == ""  # quiet unless asked
    for with_measures, stages in ((True, 8), (False, 6)):
        evaluation.evaluate(
            ShiftGenerator(1.0),
            MeanDetector(),
            train,
            valid,
            measures=with_measures,
            progress=True,
            **common,
        )
        # Output to a pipe: one plain line when the bar is done.
        assert f"{stages}/{stages}" in capsys.readouterr().out


@pytest.mark.slow
def test_written_files(splits, all_there_is, tmp_path):
    train, valid = splits
    result = all_there_is
    paths = task.write_evaluation(result, tmp_path / "out", {"generator": "g"})
    saved = json.loads(paths["json"].read_text())
    assert saved["generator"] == "g"
    # All there is of the vocal class: the smaller of its two splits' counts.
    vocal = _available(train, valid)["vocal"]
    assert saved["evaluation"]["vocal"]["samples"] == min(vocal.values())
    assert paths["markdown"].read_text().strip() == evaluation.format_report(result.report)
    with open(paths["scores"]) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 2 * 16
    test = result.c2st["vocal"]
    assert test.interval[0] <= test.accuracy <= test.interval[1]
    vocal_generated = [
        float(r["p_generated"]) for r in rows if r["class"] == "vocal" and r["side"] == "generated"
    ]
    np.testing.assert_allclose(vocal_generated, result.c2st["vocal"].generated_scores, atol=1e-6)
    import matplotlib.image

    image = matplotlib.image.imread(paths["figure"])
    assert image.shape[0] > 400 and image.shape[1] > 600
    assert image[..., :3].std() > 0.05


def test_evaluation_corpus_follows_the_metadata(tmp_path):
    # A small version 1 corpus where the default of version 1 would be made.
    cache_dir = tmp_path / "cache"
    default = cache.synthetic_corpus_dir(1, cache_dir)
    synthetic.make_corpus(
        default,
        seed=0,
        split_sizes={"train": 1, "valid": 1, "test": 1},
        duration=6.0,
        workers=1,
        version=1,
    )
    generator_dir = tmp_path / "generator" / "7"
    (generator_dir / "assets.extra").mkdir(parents=True)
    meta = generator_dir / "assets.extra" / "metadata.json"

    meta.write_text(json.dumps({"corpus": str(default)}))
    songs, why = task.evaluation_corpus(generator_dir, cache_dir=cache_dir)
    assert songs.root == default and "the corpus the generator's metadata names" in why

    meta.write_text(json.dumps({"corpus": str(tmp_path / "gone"), "corpus_version": 1}))
    songs, why = task.evaluation_corpus(generator_dir, cache_dir=cache_dir)
    assert songs.root == default
    assert (
        "which is not a folder here" in why and "version 1, the version its metadata records" in why
    )

    songs, why = task.evaluation_corpus(generator_dir, data_dir=str(default), cache_dir=cache_dir)
    assert why.endswith("(--data_dir)")


@pytest.mark.slow
def test_export_once_exports_a_finished_training_once(tmp_path):
    from vocal_xai.models.dcgan import PRESETS, Generator

    generator = Generator(np.full(80, -5.0), np.ones(80), **PRESETS["dcgan_tiny"]["generator"])
    first, written = task.export_once(generator, tmp_path / "export", {}, tmp_path, epoch=3)
    assert written and first == tmp_path / "export" / "generator" / "1"
    again, written = task.export_once(generator, tmp_path / "export", {}, tmp_path, epoch=3)
    assert not written and again == first
    # Trained further: a new version.
    later, written = task.export_once(generator, tmp_path / "export", {}, tmp_path, epoch=4)
    assert written and later == tmp_path / "export" / "generator" / "2"


class ReplayGenerator:
    """A stand-in generator that returns real excerpts of the class asked
    for: the train excerpts (``swap``: those of the other class)."""

    latent_dim = 128

    def __init__(self, train, swap=False):
        self.excerpts = {
            label: pipeline.sample_excerpts(train, 60, label=label, seed=5)[0] for label in (0, 1)
        }
        self.swap = swap

    def __call__(self, inputs, training=False):
        # Row i: excerpt i of the class (every batch here holds one class).
        label = tf.cast(inputs["class"][:1], tf.int32) ^ int(self.swap)
        stacked = tf.constant(np.stack([self.excerpts[0], self.excerpts[1]]))
        rows = tf.range(tf.shape(inputs["class"])[0]) % 60
        return tf.gather(tf.gather(stacked, label[0]), rows)


@pytest.mark.slow
def test_detector_free_measures_on_known_answers(splits):
    train, valid = splits
    honest = evaluation.evaluate_generator(
        ReplayGenerator(train), MeanDetector(), train, valid, num_samples=60, **NO_C2ST
    )
    swapped = evaluation.evaluate_generator(
        ReplayGenerator(train, swap=True), MeanDetector(), train, valid, num_samples=60, **NO_C2ST
    )
    judge = measures.build_judge(train, valid)
    for name, label in (("non_vocal", 0), ("vocal", 1)):
        row = honest[name]
        # The figures are the measures' means over the generated excerpts.
        excerpts = ReplayGenerator(train).excerpts[label]
        found = judge.measure(excerpts, "max" if label else "min")
        assert row["class_evidence"]["generator"]["value"] == pytest.approx(
            found["class_evidence"].mean()
        )
        p = found["voice_evidence"] if label else 1 - found["voice_evidence"]
        assert row["p_vocal_cues"]["generator"]["value"] == pytest.approx(p.mean())
        # The cues behind it: their medians over the same excerpts.
        for cue in evaluation.VOICE_CUES:
            c = row["voice_cues"][cue]
            assert c["generator"]["value"] == pytest.approx(np.median(found[cue]))
            assert c["generator"]["low"] <= c["generator"]["value"] <= c["generator"]["high"]
            assert c["valid"]["value"] > 0
        for key in ("generator", "valid"):
            e = row["class_evidence"][key]
            assert e["low"] <= e["value"] <= e["high"]
        # Train excerpts of the class sit among train excerpts of the class
        # more than those of the other class do.
        honest_evidence = row["class_evidence"]["generator"]["value"]
        assert honest_evidence > swapped[name]["class_evidence"]["generator"]["value"] + 0.2, name
    d, s = honest["cue_difference"], swapped["cue_difference"]
    assert d["generator"]["value"] > 0 and d["real"]["value"] > 0
    assert d["generator_over_real"]["value"] == pytest.approx(
        d["generator"]["value"] / d["real"]["value"]
    )
    assert s["generator"]["value"] == pytest.approx(-d["generator"]["value"])
    # Real vocal excerpts carry more formant motion than real non-vocal ones;
    # swapping the classes swaps the generated medians.
    motion = {name: honest[name]["voice_cues"]["formant_motion"] for name in ("vocal", "non_vocal")}
    assert motion["vocal"]["valid"]["value"] > motion["non_vocal"]["valid"]["value"]
    assert motion["vocal"]["generator"]["value"] > motion["non_vocal"]["generator"]["value"]
    assert swapped["vocal"]["voice_cues"]["formant_motion"]["generator"]["value"] == pytest.approx(
        motion["non_vocal"]["generator"]["value"]
    )
    text = evaluation.format_report(honest)
    assert "kNN class evidence" in text
    assert f"| vocal | {evaluation._ci(motion['vocal']['generator'])} |" in text
    # A report written before the cue medians existed still formats, without them.
    older = dict(honest)
    for name in ("vocal", "non_vocal"):
        older[name] = {k: v for k, v in honest[name].items() if k != "voice_cues"}
    text = evaluation.format_report(older)
    assert "kNN class evidence" in text and "formant motion" not in text
