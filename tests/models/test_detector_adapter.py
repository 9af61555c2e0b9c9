import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import random_band_stats, random_log_mel, tone_song

from vocal_xai import predict, spectral, zoo
from vocal_xai.data import pipeline
from vocal_xai.errors import ParameterError
from vocal_xai.explain import ascent, run
from vocal_xai.models.dcgan import PRESETS, Generator
from vocal_xai.models.detector import SVDNet, adapter, song, task


def small_sequential(head="sigmoid", units=1, seed=0):
    """A tiny Sequential detector on raw log-mel (about 2k parameters). Its
    layers are named as Keras names the first of their kind, whatever other
    tests built before."""
    keras.utils.set_random_seed(seed)
    mean, std = random_band_stats(seed)
    return keras.Sequential(
        [
            keras.Input((115, 80)),
            keras.layers.Normalization(mean=mean, variance=std**2),
            keras.layers.Reshape((115, 80, 1)),
            keras.layers.Conv2D(2, 3, strides=3, activation="relu", name="conv"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(4, activation="relu", name="hidden"),
            keras.layers.Dropout(0.5, name="dropout"),
            keras.layers.Dense(units, activation=head, name="vocal"),
        ]
    )


class ExcerptModule(tf.Module):
    """A SavedModel with only a ``serving_default`` signature: log-mel ->
    SVDNet's logit (named ``vocal``) and last embedding (``hidden``)."""

    def __init__(self, model):
        super().__init__()
        self.model_variables = [v.value for v in model.variables]
        self._model = lambda x: model(x, training=False)

    @tf.function(input_signature=[tf.TensorSpec([None, 115, 80], tf.float32, name="log_mel")])
    def serve(self, log_mel):
        out = self._model(log_mel)
        return {"vocal": out["logit"][:, 0], "hidden": out["embedding_8"]}


class ProbabilityModule(tf.Module):
    """A SavedModel with only a ``serving_default`` signature: log-mel ->
    a model's output under the name Keras exports give it."""

    def __init__(self, model):
        super().__init__()
        self.model_variables = [v.value for v in model.variables]
        self._model = lambda x: model(x, training=False)

    @tf.function(input_signature=[tf.TensorSpec([None, 115, 80], tf.float32, name="inputs")])
    def serve(self, inputs):
        return {"output_0": self._model(inputs)}


class WaveformModule(tf.Module):
    """A SavedModel with only a waveform signature: one 115-frame excerpt of
    audio -> SVDNet's logit."""

    def __init__(self, model):
        super().__init__()
        self.model_variables = [v.value for v in model.variables]
        self._model = lambda x: model(x, training=False)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name="waveform")])
    def serve(self, waveform):
        return {"logit": self._model(spectral.log_mel(waveform))["logit"][:, 0]}


@pytest.fixture(scope="module")
def svdnet():
    keras.utils.set_random_seed(1)
    return SVDNet.from_preset("svdnet_tiny", *random_band_stats(1))


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("keras") / "detector.keras"
    small_sequential().save(path)
    return path


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory, svdnet):
    """{"excerpt": log-mel serving_default only, "probability": the same from
    a Sequential's unnamed probability, "export": vocal_xai's export without
    its Keras architecture, "waveform": waveform signature only}."""
    tmp = tmp_path_factory.mktemp("saved_models")
    module = ExcerptModule(svdnet)
    tf.saved_model.save(module, str(tmp / "excerpt"), signatures={"serving_default": module.serve})
    exported = task.export_detector(svdnet, tmp / "zoo", {})
    shutil.copytree(exported, tmp / "export", ignore=shutil.ignore_patterns("assets.extra"))
    module = ProbabilityModule(small_sequential())
    tf.saved_model.save(
        module, str(tmp / "probability"), signatures={"serving_default": module.serve}
    )
    module = WaveformModule(svdnet)
    tf.saved_model.save(module, str(tmp / "waveform"), signatures={"serving_default": module.serve})
    return {
        "excerpt": tmp / "excerpt",
        "probability": tmp / "probability",
        "export": tmp / "export",
        "waveform": tmp / "waveform",
        "zoo_version": exported,
    }


def test_keras_file_gets_the_interface(keras_file):
    source = keras.models.load_model(keras_file)
    detector = zoo.load_detector(str(keras_file))
    assert isinstance(detector, adapter.KerasDetector)
    assert (detector.kind, detector.score) == ("probability", "output")
    assert detector.embedding_names == ("flatten", "hidden")  # the dropout passes values through
    assert adapter.default_embedding(detector) == "hidden"
    x = random_log_mel(5, seed=3)
    out = detector(x)
    p = source(x).numpy()
    np.testing.assert_allclose(out["probability"].numpy(), p, atol=1e-7)
    np.testing.assert_allclose(out["logit"].numpy(), np.log(p / (1 - p)), atol=2e-4)
    hidden = keras.Model(source.inputs, source.get_layer("hidden").output)(x).numpy()
    np.testing.assert_allclose(out["hidden"].numpy(), hidden, atol=1e-6)
    # Another layer on request, with the same weights.
    wider = adapter.adapt(detector, layers=("conv",))
    assert (
        wider.exposed == ("flatten", "hidden", "conv") and adapter.adapt(wider, ("conv",)) is wider
    )
    assert wider(x)["conv"].shape == (5, 38, 26, 2)
    np.testing.assert_allclose(wider(x)["probability"].numpy(), p, atol=1e-7)
    # The Dense head's pre-activation: exact where the sigmoid saturates.
    assert detector.exact_logit
    detector.source.get_layer("vocal").bias.assign([40.0])
    saturated = detector(x)
    np.testing.assert_allclose(saturated["probability"].numpy(), 1.0)
    assert saturated["logit"].numpy().min() > 35.0


def test_vocal_score_and_its_clipped_log_odds():
    p = np.array([[0.0], [0.25], [0.5], [1.0]], np.float32)
    logit = adapter.vocal_score(p, "probability", 1, "logit").numpy()[:, 0]
    bound = np.log((1 - 1e-7) / 1e-7)
    np.testing.assert_allclose(logit, [-bound, np.log(1 / 3), 0.0, bound], rtol=1e-3)
    # Two units: softmax probabilities read the vocal one, logits their difference.
    two = np.array([[0.8, 0.2], [0.1, 0.9]], np.float32)
    np.testing.assert_allclose(
        adapter.vocal_score(two, "probability", 2, "probability").numpy()[:, 0], [0.2, 0.9]
    )
    np.testing.assert_allclose(
        adapter.vocal_score(two, "logit", 2, "logit").numpy()[:, 0], [-0.6, 0.8], atol=1e-6
    )
    np.testing.assert_allclose(
        adapter.vocal_score(two, "logit", 2, "probability").numpy()[:, 0],
        1 / (1 + np.exp([0.6, -0.8])),
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "head, units, output, kind",
    [
        ("sigmoid", 1, "auto", "probability"),  # read from the last op
        (None, 1, "auto", "logit"),
        ("softmax", 2, "auto", "probability"),
        ("sigmoid", 1, "logit", "logit"),  # told explicitly
    ],
)
def test_output_kind(head, units, output, kind):
    model = small_sequential(head, units)
    detector = adapter.KerasDetector(model, output=output)
    assert detector.kind == kind
    x = random_log_mel(3, seed=4)
    raw = model(x).numpy()
    want = {"probability": raw[:, -1:], "logit": raw[:, -1:] - raw[:, :1] if units == 2 else raw}[
        kind
    ]
    name = "probability" if kind == "probability" else "logit"
    out = detector(x)
    np.testing.assert_allclose(out[name].numpy(), want, atol=1e-6)
    if kind == "probability":
        p = raw[:, -1:]
        np.testing.assert_allclose(out["logit"].numpy(), np.log(p / (1 - p)), atol=2e-4)


@pytest.mark.slow
def test_saved_model_with_serving_default_only(saved_models, svdnet):
    detector = zoo.load_detector(str(saved_models["excerpt"]))
    assert isinstance(detector, adapter.SavedModelDetector) and detector.waveform is None
    assert (detector.kind, detector.score, detector.embedding_names) == (
        "logit",
        "vocal",
        ("hidden",),
    )
    assert adapter.layer_shapes(detector) == {
        "hidden": (8,),
        "vocal": (1,),
        "logit": (1,),
        "probability": (1,),
    }
    x = random_log_mel(4, seed=5)
    want = svdnet(x)
    out = detector(x)
    np.testing.assert_allclose(out["logit"].numpy(), want["logit"].numpy(), atol=1e-6)
    np.testing.assert_allclose(out["probability"].numpy(), want["probability"].numpy(), atol=1e-6)
    np.testing.assert_allclose(out["hidden"].numpy(), want["embedding_8"].numpy(), atol=1e-6)
    # Gradients flow through the SavedModel's concrete function.
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        mine = tf.reduce_sum(detector(x)["logit"])
        theirs = tf.reduce_sum(svdnet(x)["logit"])
    np.testing.assert_allclose(
        tape.gradient(mine, x).numpy(), tape.gradient(theirs, x).numpy(), atol=1e-6
    )


def test_saved_model_probability_becomes_clipped_log_odds(saved_models):
    detector = zoo.load_detector(str(saved_models["probability"]))
    # Neither the name nor anything but the graph's last op (a sigmoid) says so.
    assert (detector.kind, detector.score, detector.embedding_names) == (
        "probability",
        "output_0",
        (),
    )
    assert adapter.default_embedding(detector) == "logit"
    x = random_log_mel(4, seed=8)
    p = small_sequential()(x).numpy()
    out = detector(x)
    np.testing.assert_allclose(out["probability"].numpy(), p, atol=1e-7)
    np.testing.assert_allclose(out["logit"].numpy(), np.log(p / (1 - p)), atol=2e-4)
    assert zoo.load_detector(str(saved_models["probability"]), output="logit").kind == "logit"


def test_zoo_svdnet_is_unchanged(saved_models, svdnet):
    detector = zoo.load_detector(str(saved_models["zoo_version"]))
    assert type(detector) is SVDNet and adapter.adapt(detector, ("conv1",)) is detector
    x = random_log_mel(2, seed=6)
    np.testing.assert_allclose(detector(x)["logit"].numpy(), svdnet(x)["logit"].numpy(), atol=1e-6)
    adapter.check_neuron(detector, "embedding_8", 7)
    assert adapter.check_embedding(detector) == "embedding_8"
    assert type(zoo.load_detector("detector")) is SVDNet  # the shipped one
    with pytest.raises(ParameterError, match="output='probability'"):
        zoo.load_detector(str(saved_models["zoo_version"]), output="probability")


def test_names_are_checked_with_the_valid_ones_listed(keras_file, saved_models, svdnet):
    keras_detector = zoo.load_detector(str(keras_file))
    with pytest.raises(
        ParameterError, match=r"Expected unit in \[0, 0\] for layer 'logit' .* Received: unit=5"
    ):
        adapter.check_neuron(keras_detector, "logit", 5)
    with pytest.raises(ParameterError, match=r"hidden \[0, 3\].* Received: layer='dense_9'"):
        adapter.check_neuron(keras_detector, "dense_9", 0)
    with pytest.raises(ParameterError, match=r"Expected unit in \[0, 1975\] for layer 'conv'"):
        adapter.check_neuron(keras_detector, "conv", 1976)
    with pytest.raises(
        ParameterError,
        match=r"one of .*: flatten \[0, 1975\], hidden \[0, 3\], dropout \[0, 3\], "
        r"vocal \[0, 0\], logit \[0, 0\], probability \[0, 0\]\. "
        r"Received: embedding='conv'",
    ):
        adapter.check_embedding(keras_detector, "conv")
    with pytest.raises(
        ParameterError,
        match=r"Expected unit in \[0, 7\] for layer 'embedding_8'.* Received: unit=8",
    ):
        adapter.check_neuron(svdnet, "embedding_8", 8)
    with pytest.raises(
        ParameterError,
        match=r"conv1 \[0, 35255\],.* embedding_8 \[0, 7\],.* logit \[0, 0\], "
        r"probability \[0, 0\]\. Received: layer='embedding_64'",
    ):
        adapter.check_neuron(svdnet, "embedding_64", 0)
    saved = zoo.load_detector(str(saved_models["excerpt"]))
    with pytest.raises(
        ParameterError,
        match=r"hidden \[0, 7\], vocal \[0, 0\], logit \[0, 0\], "
        r"probability \[0, 0\]\. A SavedModel exposes only .*"
        r"inner layers are out of reach.* Received: layer='conv1'",
    ):
        adapter.check_neuron(saved, "conv1", 0)
    # Before anything runs: the explain entry point checks them too.
    with pytest.raises(ParameterError, match="Received: unit=5"):
        run.checked_detector(keras_detector, run.ExplainConfig(neuron="logit:5"))
    with pytest.raises(ParameterError, match="precision='float32'"):
        run.checked_detector(saved, run.ExplainConfig(precision="mixed_bfloat16"))


@pytest.mark.slow
def test_explain_through_a_saved_model_matches_the_keras_model(saved_models, svdnet):
    keras.utils.set_random_seed(2)
    rng = np.random.default_rng(0)
    generator = Generator(np.full(80, -5.0), np.ones(80), **PRESETS["dcgan_tiny"]["generator"])
    valid = pipeline.SplitFeatures(
        ["a"], [rng.normal(-5, 2, (300, 80)).astype(np.float32)], [np.zeros(300, np.int32)]
    )
    settings = dict(
        direction="max",
        learning_rates=(0.1,),
        rps=(0.0,),
        iterations=(0, 3),
        seeds=2,
        reference_k=10,
        bootstrap=0,
    )
    direct = run.explain(
        generator, svdnet, valid, run.ExplainConfig(embedding="embedding_8", **settings)
    )
    saved = run.explain(
        generator,
        zoo.load_detector(str(saved_models["excerpt"])),
        valid,
        run.ExplainConfig(**settings),
    )
    assert saved.config.embedding == "hidden"
    np.testing.assert_allclose(saved.ascent.activation, direct.ascent.activation, atol=1e-5)
    assert saved.ascent.activation[-1].mean() > saved.ascent.activation[0].mean()
    for mine, theirs in zip(saved.ranking, direct.ranking):
        assert mine["distance"] == pytest.approx(theirs["distance"], rel=1e-4)


@pytest.mark.slow
def test_a_plain_sequential_is_explained_and_runs_mixed(keras_file):
    keras.utils.set_random_seed(2)
    generator = Generator(np.full(80, -5.0), np.ones(80), **PRESETS["dcgan_tiny"]["generator"])
    model = keras.models.load_model(keras_file)
    detector, config = run.checked_detector(model, run.ExplainConfig(neuron="conv:7"))
    assert config.embedding == "hidden" and set(detector.exposed) == {"flatten", "hidden", "conv"}
    z, classes = tf.random.normal([3, 128], seed=1), tf.constant([1, 0, 1])
    full = ascent.LatentParameterisation(generator, detector, layers=["conv"])
    mixed = ascent.LatentParameterisation(
        generator, detector, layers=["conv"], precision="mixed_bfloat16"
    )
    assert mixed.detector.get_layer("logit").dtype_policy.name == "float32"
    view = next(layer for layer in mixed.detector.layers if isinstance(layer, keras.Model))
    assert view.get_layer("hidden").dtype_policy.name == "mixed_bfloat16"
    _, want = full(z, classes)
    _, got = mixed(z, classes)
    np.testing.assert_allclose(got["logit"].numpy(), want["logit"].numpy(), atol=0.3)
    np.testing.assert_allclose(got["hidden"].numpy(), want["hidden"].numpy(), atol=0.1)


def test_sliding_windows_match_the_once_per_song_path(svdnet):
    log_mel = random_log_mel(3, seed=7).numpy().reshape(-1, 80)[:237]  # a partial last batch of 64
    fast = song.song_outputs(svdnet, log_mel[None])
    for batch_size in (64, 500):
        slow = predict.sliding_outputs(
            svdnet, log_mel, batch_size, names=("logit", "probability", "embedding_8")
        )
        np.testing.assert_allclose(slow["logit"], fast["logit"][0].numpy(), atol=1e-5)
        np.testing.assert_allclose(slow["probability"], fast["probability"][0].numpy(), atol=1e-5)
        np.testing.assert_allclose(slow["embedding_8"], fast["embedding_8"][0].numpy(), atol=1e-5)
    # The predictor takes the sliding path for any detector but SVDNet.
    generic = predict.SongPredictor(adapter.KerasDetector(svdnet))
    assert (generic.method, predict.SongPredictor(svdnet).method) == ("windows", "once_per_song")
    waveform = tone_song(2.0)
    np.testing.assert_allclose(
        generic.probability(waveform, log_mel), fast["probability"][0].numpy(), atol=1e-5
    )


@pytest.mark.slow
def test_waveform_signatures_predict_whole_songs(saved_models, svdnet):
    waveform = tone_song(3.0, seed=2)
    log_mel = spectral.log_mel(waveform).numpy()
    want = song.song_outputs(svdnet, log_mel[None])["probability"][0].numpy()
    # vocal_xai's export without its architecture: log-mel signature and per-frame one.
    export = zoo.load_detector(str(saved_models["export"]))
    predictor = predict.SongPredictor(export)
    assert predictor.method == "waveform_frames" and export.waveform.name == "frames"
    np.testing.assert_allclose(predictor.probability(waveform, log_mel), want, atol=1e-5)
    # A waveform-excerpt signature only: sliding windows of audio; exact away from the ends.
    only = zoo.load_detector(str(saved_models["waveform"]))
    assert isinstance(only, adapter.WaveformDetector) and not only.waveform.per_frame
    predictor = predict.SongPredictor(only, batch_size=50)
    assert predictor.method == "waveform_windows"
    got = predictor.probability(waveform, log_mel)
    assert got.shape == want.shape
    np.testing.assert_allclose(
        got[song.HALF + 2 : -song.HALF - 2], want[song.HALF + 2 : -song.HALF - 2], atol=1e-5
    )
    with pytest.raises(ParameterError, match="only the waveform signature 'serving_default'"):
        run.checked_detector(only, run.ExplainConfig())


def test_loading_errors(tmp_path):
    with pytest.raises(ParameterError, match=r"\.keras file\. Received: 'missing'"):
        zoo.load_detector("missing")
    with pytest.raises(ParameterError, match="Expected an existing Keras model file"):
        zoo.load_detector(str(tmp_path / "missing.keras"))
    wrong = keras.Sequential(
        [keras.Input((128, 128, 3)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    with pytest.raises(
        ParameterError, match=r"raw log-mel \[batch, 115, 80\].*Received: input shape"
    ):
        adapter.KerasDetector(wrong)
    many = keras.Sequential([keras.Input((115, 80)), keras.layers.Flatten(), keras.layers.Dense(5)])
    with pytest.raises(ParameterError, match=r"Received: outputs 'output' \(5 units\)"):
        adapter.KerasDetector(many)
    with pytest.raises(ParameterError, match="output='sigmoid'"):
        zoo.load_detector("detector", output="sigmoid")
