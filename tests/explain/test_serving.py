"""The explainer SavedModel: the same results as the Python loop, and every
bad input refused with a clear message."""

import json
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from vocal_xai import export
from vocal_xai.errors import ParameterError
from vocal_xai.explain import ascent, selection, serving
from vocal_xai.metrics import selectors
from vocal_xai.models.dcgan import PRESETS, Generator
from vocal_xai.models.detector import SVDNet

SEEDS = np.array([0, 1, 2, 3, 4], np.int64)
CLASSES = np.array([1, 0, 1, 1, 0], np.int32)
DIRECTIONS = np.array([b"max", b"min", b"max", b"min", b"max"])
LRS = np.array([0.1, 0.05, 0.01, 0.1, 0.02], np.float32)
RPS = np.array([0.01, 0.0, 0.1, 0.001, 0.01], np.float32)
STEPS = 6


@pytest.fixture(scope="module")
def models():
    keras.utils.set_random_seed(0)
    mean, std = np.full(80, -5.0), np.ones(80)
    generator = Generator(mean, std, **PRESETS["dcgan_tiny_conditional"]["generator"])
    detector = SVDNet.from_preset("svdnet_tiny", mean, std)
    return generator, detector


@pytest.fixture(scope="module")
def references():
    """Real references of both directions in the tiny detector's embedding
    (8 dimensions), far apart."""
    rng = np.random.default_rng(7)
    return {
        direction: selection.Reference.from_samples(
            rng.normal(shift, 1.0 + shift, (40, 8)), rng.normal(size=40)
        )
        for direction, shift in (("max", 0.5), ("min", -0.2))
    }


@pytest.fixture(scope="module")
def exported(models, references, tmp_path_factory):
    generator, detector = models
    path = serving.export_explainer(
        generator, detector, references, tmp_path_factory.mktemp("zoo"), {"detector": "tiny"}
    )
    return path, tf.saved_model.load(str(path))


def _inputs(**changes):
    inputs = {
        "seed": tf.constant(SEEDS),
        "class_id": tf.constant(CLASSES),
        "direction": tf.constant(DIRECTIONS),
        "learning_rate": tf.constant(LRS),
        "rp": tf.constant(RPS),
        "steps": tf.constant(STEPS),
    }
    inputs.update(changes)
    return inputs


def _python_loop(models, z0, steps=STEPS):
    """The loop ``tools/explain.py`` runs, one direction at a time."""
    param = ascent.LatentParameterisation(*models)
    out = {
        "activation": np.zeros(len(z0)),
        "z": np.zeros_like(z0),
        "trace": np.zeros((len(z0), steps + 1)),
    }
    for direction in ("max", "min"):
        idx = np.flatnonzero(DIRECTIONS == direction.encode())
        res = ascent.latent_ascent(
            param, z0[idx], CLASSES[idx], LRS[idx], RPS[idx], direction, [steps]
        )
        out["activation"][idx] = res.best_activation[0]
        out["z"][idx] = res.best_z[0]
        out["trace"][idx] = res.activation.T
    log_mel, _ = param(tf.constant(out["z"], tf.float32), tf.constant(CLASSES))
    out["log_mel"] = log_mel.numpy()
    return out


@pytest.mark.slow
def test_export_layout_and_metadata(exported):
    path, loaded = exported
    assert path.name == "1" and (path / "saved_model.pb").is_file()
    meta = json.loads((path / export.EXTRA / export.METADATA_FILE).read_text())
    assert meta == {
        "detector": "tiny",
        "max_steps": serving.MAX_STEPS,
        "embedding": "embedding_8",
        "selector": selection.DEFAULT_SELECTOR,
    }
    assert set(loaded.signatures) == {"serving_default", "from_latent"}
    spec = loaded.signatures["serving_default"].structured_input_signature[1]
    assert spec["seed"].dtype == tf.int64 and spec["direction"].dtype == tf.string
    # Ranks are checked in the graph, with the signature's own messages.
    assert spec["seed"].shape.rank is None and spec["class_id"].shape.rank is None


@pytest.mark.slow
def test_seed_signature_matches_the_python_loop(models, exported):
    out = exported[1].signatures["serving_default"](**_inputs())
    ref = _python_loop(models, ascent.initial_latents(SEEDS))
    np.testing.assert_allclose(out["activation"].numpy(), ref["activation"], atol=1e-5)
    np.testing.assert_allclose(out["z"].numpy(), ref["z"], atol=1e-5)
    np.testing.assert_allclose(out["activation_trace"].numpy(), ref["trace"], atol=1e-5)
    np.testing.assert_allclose(out["log_mel"].numpy(), ref["log_mel"], atol=1e-5)
    # The ascent moved every row in its direction.
    trace = out["activation_trace"].numpy()
    sign = np.where(DIRECTIONS == b"max", 1, -1)
    assert np.all(sign * (out["activation"].numpy() - trace[:, 0]) > 0)


@pytest.mark.slow
def test_latent_signature_matches_the_python_loop(models, exported):
    z0 = np.random.default_rng(5).standard_normal((len(SEEDS), 128)).astype(np.float32)
    inputs = _inputs(z0=tf.constant(z0))
    del inputs["seed"]
    out = exported[1].signatures["from_latent"](**inputs)
    ref = _python_loop(models, z0)
    np.testing.assert_allclose(out["activation"].numpy(), ref["activation"], atol=1e-5)
    np.testing.assert_allclose(out["z"].numpy(), ref["z"], atol=1e-5)


def test_zero_steps_returns_the_start(models, exported):
    out = exported[1].signatures["serving_default"](**_inputs(steps=tf.constant(0)))
    np.testing.assert_array_equal(out["z"].numpy(), ascent.initial_latents(SEEDS))
    assert out["activation_trace"].shape == (len(SEEDS), 1)
    np.testing.assert_array_equal(out["activation_trace"].numpy()[:, 0], out["activation"].numpy())


BAD = [
    ({"steps": tf.constant(serving.MAX_STEPS + 1)}, f"steps must be <= {serving.MAX_STEPS}"),
    ({"steps": tf.constant(-1)}, "steps must be >= 0"),
    (
        {"learning_rate": tf.constant([np.nan, 0.1, 0.1, 0.1, 0.1], tf.float32)},
        "learning_rate must be finite",
    ),
    ({"rp": tf.constant([0.1, np.inf, 0.1, 0.1, 0.1], tf.float32)}, "rp must be finite"),
    (
        {"learning_rate": tf.constant([0.1, 0.0, 0.1, 0.1, 0.1], tf.float32)},
        "learning_rate must be > 0",
    ),
    ({"rp": tf.constant([0.1, -1.0, 0.1, 0.1, 0.1], tf.float32)}, "rp must be >= 0"),
    (
        {"direction": tf.constant([b"max", b"up", b"max", b"max", b"max"])},
        "direction must be max or min",
    ),
    (
        {"class_id": tf.constant([0, 2, 1, 1, 0], tf.int32)},
        "class_id must be 0 (non-vocal) or 1 (vocal)",
    ),
    ({"class_id": tf.constant([0, 1], tf.int32)}, "class_id must have one entry per row"),
    ({"rp": tf.constant([0.1], tf.float32)}, "rp must have one entry per row"),
    ({"steps": tf.constant([STEPS, STEPS])}, "steps must be a scalar"),
    (
        {"seed": tf.constant(SEEDS[:, None])},
        "seed must have shape [batch]; received a different rank",
    ),
    ({"class_id": tf.constant(CLASSES[:, None])}, "class_id must have one entry per row"),
    (
        {
            k: tf.constant(v[:0])
            for k, v in [
                ("seed", SEEDS),
                ("class_id", CLASSES),
                ("direction", DIRECTIONS),
                ("learning_rate", LRS),
                ("rp", RPS),
            ]
        },
        "seed must have shape [batch]; received an empty batch",
    ),
]


@pytest.mark.parametrize("change,message", BAD, ids=[m for _, m in BAD])
def test_bad_values_are_refused(exported, change, message):
    # The checks run before the ascent on every call, not only on most: were
    # they not ordered before it, the models' own errors could come first.
    for _ in range(20):
        with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(message)):
            exported[1].signatures["serving_default"](**_inputs(**change))


@pytest.mark.parametrize("name", ["z0 must be finite", "z0 must have shape"])
def test_bad_latents_are_refused(exported, name):
    z0 = np.zeros((len(SEEDS), 128), np.float32)
    if "finite" in name:
        z0[2, 7] = np.nan
    else:
        z0 = z0[:, :100]
    inputs = _inputs(z0=tf.constant(z0))
    del inputs["seed"]
    with pytest.raises(tf.errors.InvalidArgumentError, match=name):
        exported[1].signatures["from_latent"](**inputs)


@pytest.mark.parametrize(
    "change",
    [
        {"seed": tf.constant(SEEDS.astype(np.float32))},
        {"learning_rate": tf.constant(LRS.astype(np.float64))},
        {"direction": tf.constant([1, 0, 1, 0, 1])},
    ],
)
def test_wrong_dtype_is_refused_by_the_signature(exported, change):
    # Refused when the inputs are bound to the signature, before any op runs.
    with pytest.raises(
        (TypeError, ValueError, tf.errors.InvalidArgumentError),
        match=r"Can not cast|expected|shape",
    ):
        exported[1].signatures["serving_default"](**_inputs(**change))


def test_a_diverging_row_is_flagged_and_every_output_stays_finite(exported):
    lrs = LRS.copy()
    lrs[1] = 3e38  # the latent overflows to infinity on the first step
    out = exported[1].signatures["serving_default"](
        **_inputs(learning_rate=tf.constant(lrs), steps=tf.constant(8))
    )
    for name in ("log_mel", "activation", "z", "activation_trace"):
        assert np.all(np.isfinite(out[name].numpy())), name
    diverged = out["diverged"].numpy()
    assert diverged[1] and not diverged[[0, 2, 3, 4]].any()
    # The flagged row's trace holds its last finite logit once it diverged.
    trace = out["activation_trace"].numpy()[1]
    assert np.all(trace[-3:] == trace[-1])


@pytest.mark.slow
def test_served_distance_equals_the_offline_one(models, references, exported):
    out = exported[1].signatures["serving_default"](**_inputs())
    served = out["frechet_distance"].numpy()
    assert served.dtype == np.float64 and served.shape == (len(SEEDS),)
    # Offline: the embeddings of the served explanations, scored as
    # tools/explain.py scores a setting's examples.
    param = ascent.LatentParameterisation(*models)
    _, outputs = param(out["z"], tf.constant(CLASSES))
    embeddings = outputs["embedding_8"].numpy()
    for direction, ref in references.items():
        rows = DIRECTIONS == direction.encode()
        offline = selection.score(embeddings[rows], np.zeros(rows.sum()), ref, resamples=0)
        np.testing.assert_allclose(served[rows], offline["distance"], rtol=1e-6, atol=1e-6)
    # The two directions' references differ, and so do their distances.
    assert served[DIRECTIONS == b"max"][0] != served[DIRECTIONS == b"min"][0]


@pytest.mark.slow
def test_served_score_equals_the_offline_one(models, references, exported):
    # The default selector's score, exported.
    out = exported[1].signatures["serving_default"](**_inputs())
    served, distance = out["score"].numpy(), out["frechet_distance"].numpy()
    param = ascent.LatentParameterisation(*models)
    _, outputs = param(out["z"], tf.constant(CLASSES))
    embeddings, activations = outputs["embedding_8"].numpy(), out["activation"].numpy()
    for direction, ref in references.items():
        rows = DIRECTIONS == direction.encode()
        offline = selectors.SELECTORS[selection.DEFAULT_SELECTOR](
            embeddings[rows], activations[rows], ref
        )
        np.testing.assert_allclose(served[rows], offline, rtol=1e-6, atol=1e-6)
    if selection.DEFAULT_SELECTOR == "frechet":
        np.testing.assert_array_equal(served, distance)

    # Any servable selector, on the activations as well as the embeddings.
    seeds = np.arange(14, dtype=np.int64)
    directions = np.array([b"max", b"min"] * 7)
    for name in ("paper_1d", "kid", "recall"):
        module = serving.ExplainerServing(*models, references, selector=name)
        out = module.from_seed(
            seed=tf.constant(seeds),
            class_id=tf.constant(np.int32(directions == b"max")),
            direction=tf.constant(directions),
            learning_rate=tf.fill([14], 0.05),
            rp=tf.fill([14], 0.01),
            steps=tf.constant(3),
        )
        _, outputs = param(out["z"], tf.constant(np.int32(directions == b"max")))
        embeddings, activations = outputs["embedding_8"].numpy(), out["activation"].numpy()
        for direction, ref in references.items():
            rows = directions == direction.encode()
            offline = selectors.SELECTORS[name](embeddings[rows], activations[rows], ref)
            np.testing.assert_allclose(out["score"].numpy()[rows], offline, rtol=1e-6, atol=1e-6)


def test_a_selector_that_cannot_be_served_is_refused(models, references):
    with pytest.raises(ParameterError, match="selector='density\\+activation'"):
        serving.ExplainerServing(*models, references, selector="density+activation")


def test_a_direction_of_one_row_has_no_distance(exported):
    directions = np.array([b"max", b"max", b"min", b"max", b"max"])
    out = exported[1].signatures["serving_default"](
        **_inputs(direction=tf.constant(directions), steps=tf.constant(1))
    )
    served = out["frechet_distance"].numpy()
    assert np.isnan(served[2]) and np.all(np.isfinite(served[directions == b"max"]))
    assert np.all(served[directions == b"max"] == served[0])


def test_references_of_both_directions_are_required(models):
    with pytest.raises(ParameterError, match=r"Received: references for \['max'\]"):
        serving.ExplainerServing(*models, {"max": None})
