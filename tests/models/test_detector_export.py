import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from vocal_xai import export, zoo
from vocal_xai.errors import ParameterError
from vocal_xai.models.detector import SVDNet, song, task

FRESH_LOAD = r"""
import sys
import numpy as np
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
x = np.load(sys.argv[2])
out = loaded.signatures["serving_default"](log_mel=tf.constant(x))
wav = np.load(sys.argv[3])
frames = loaded.signatures["frames"](waveform=tf.constant(wav))
np.savez(sys.argv[4], logit=out["logit"].numpy(), embedding=out["embedding"].numpy(),
         frames=frames["probability"].numpy())
assert "vocal_xai" not in sys.modules and "tensorflow_io" not in sys.modules
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("zoo")
    rng = np.random.default_rng(0)
    model = SVDNet.from_preset("svdnet_tiny", rng.normal(-4, 1, 80), rng.uniform(0.5, 2, 80))
    path = task.export_detector(model, base, {"note": "test"})
    return model, base, path


@pytest.mark.slow
def test_layout_and_versions(exported):
    model, base, path = exported
    assert path == base / "detector" / "1"
    assert (path / "saved_model.pb").is_file() and (path / "variables").is_dir()
    meta = json.loads((path / export.EXTRA / "metadata.json").read_text())
    assert meta["parameters"] == model.count_params() and meta["note"] == "test"
    assert export.versions(base / "detector") == [1]
    assert not [p for p in (base / "detector").iterdir() if p.name.startswith(".tmp")]
    with pytest.raises(ParameterError, match="never overwritten"):
        task.export_detector(model, base, {}, version=1)
    assert export.next_version(base / "detector") == 2


@pytest.mark.slow
def test_fresh_process_matches_in_process_model(exported, tmp_path):
    model, _, path = exported
    rng = np.random.default_rng(1)
    x = rng.normal(-4, 2, (5, 115, 80)).astype(np.float32)
    wav = (0.1 * rng.standard_normal((2, 22050))).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "wav.npy", wav)
    script = tmp_path / "load.py"
    script.write_text(FRESH_LOAD)
    subprocess.run(
        [
            sys.executable,
            str(script),
            str(path),
            str(tmp_path / "x.npy"),
            str(tmp_path / "wav.npy"),
            str(tmp_path / "out.npz"),
        ],
        check=True,
        capture_output=True,
    )
    out = np.load(tmp_path / "out.npz")
    want = model(x, training=False)
    np.testing.assert_allclose(out["logit"], want["logit"][:, 0], atol=1e-5, rtol=0)
    np.testing.assert_allclose(out["embedding"], want["embedding_8"], atol=1e-5, rtol=0)
    from vocal_xai import spectral

    frames_want = song.song_outputs(model, spectral.log_mel(wav))["probability"].numpy()
    assert out["frames"].shape == (2, spectral.num_frames(22050))
    np.testing.assert_allclose(out["frames"], frames_want, atol=1e-5)


@pytest.mark.slow
def test_saved_model_cli_runs_both_signatures(exported, tmp_path):
    _, _, path = exported
    np.save(tmp_path / "x.npy", np.full((2, 115, 80), -4.0, np.float32))
    np.save(tmp_path / "w.npy", np.zeros((1, 4000), np.float32))
    cli = [
        sys.executable,
        "-m",
        "tensorflow.python.tools.saved_model_cli",
        "run",
        "--dir",
        str(path),
        "--tag_set",
        "serve",
    ]
    for signature, inputs in [("serving_default", "log_mel"), ("frames", "waveform")]:
        npy = tmp_path / ("x.npy" if inputs == "log_mel" else "w.npy")
        result = subprocess.run(
            cli
            + [
                "--signature_def",
                signature,
                "--inputs",
                f"{inputs}={npy}",
                "--outdir",
                str(tmp_path / signature),
            ],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        saved = np.load(tmp_path / signature / "probability.npy")
        assert saved.shape == ((2,) if signature == "serving_default" else (1, 10))
        assert np.all((saved > 0) & (saved < 1))


@pytest.mark.slow
def test_signatures_refuse_bad_shapes(exported):
    _, _, path = exported
    loaded = tf.saved_model.load(str(path))
    # The check runs before the model on every call, not only on most.
    for _ in range(100):
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"shape \[batch, 115, 80\]"):
            loaded.signatures["serving_default"](log_mel=tf.zeros([1, 100, 80]))
    with pytest.raises((TypeError, tf.errors.InvalidArgumentError), match="float"):
        loaded.signatures["serving_default"](log_mel=tf.zeros([1, 115, 80], tf.float64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="samples >= 1024"):
        loaded.signatures["frames"](waveform=tf.zeros([1, 500]))


@pytest.mark.parametrize(
    "signature, shape, message",
    [
        (
            "serving_default",
            [115, 80],
            r"log_mel must have shape \[batch, 115, 80\]; received a different rank",
        ),
        ("serving_default", [1, 1, 115, 80], "received a different rank"),
        (
            "serving_default",
            [0, 115, 80],
            r"log_mel must have shape \[batch, 115, 80\]; received an empty batch",
        ),
        (
            "frames",
            [4096],
            r"waveform must have shape \[batch, samples\] .*; received a different rank",
        ),
        ("frames", [0, 4096], "waveform must have shape .*; received an empty batch"),
    ],
)
def test_signatures_refuse_wrong_ranks_and_empty_batches(exported, signature, shape, message):
    _, _, path = exported
    loaded = tf.saved_model.load(str(path))
    name = "log_mel" if signature == "serving_default" else "waveform"
    for _ in range(20):
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            loaded.signatures[signature](**{name: tf.zeros(shape)})


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_signatures_refuse_non_finite_input(exported, bad):
    _, _, path = exported
    loaded = tf.saved_model.load(str(path))
    log_mel = np.full((2, 115, 80), -5.0, np.float32)
    log_mel[1, 3, 7] = bad
    waveform = np.zeros((1, 4096), np.float32)
    waveform[0, 100] = bad
    for _ in range(20):
        with pytest.raises(
            tf.errors.InvalidArgumentError, match=r"log_mel must be finite \(no NaN or Inf\)"
        ):
            loaded.signatures["serving_default"](log_mel=tf.constant(log_mel))
        with pytest.raises(
            tf.errors.InvalidArgumentError, match=r"waveform must be finite \(no NaN or Inf\)"
        ):
            loaded.signatures["frames"](waveform=tf.constant(waveform))


def test_keras_model_agrees_with_saved_model(exported, monkeypatch):
    model, base, path = exported
    monkeypatch.setenv("VOCAL_XAI_ZOO", str(base))
    keras_model = zoo.load_detector("detector")
    loaded = tf.saved_model.load(str(path))
    x = np.random.default_rng(3).normal(-4, 2, (4, 115, 80)).astype(np.float32)
    served = loaded.signatures["serving_default"](log_mel=tf.constant(x))
    np.testing.assert_allclose(keras_model(x)["logit"][:, 0], served["logit"], atol=1e-5)
    # It is the exported model: the same weights, bit for bit.
    assert type(keras_model) is type(model) and keras_model.get_config() == model.get_config()
    for got, want in zip(keras_model.variables, model.variables, strict=True):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    # The Keras copy gives gradients with respect to its input.
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        logit = keras_model(xt)["logit"]
    grad = tape.gradient(logit, xt)
    assert grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0


def test_zoo_resolution(exported, monkeypatch, tmp_path):
    _, base, path = exported
    monkeypatch.setenv("VOCAL_XAI_ZOO", str(base))
    assert zoo.resolve("detector") == path
    assert zoo.resolve(str(path)) == path
    assert zoo.resolve(str(base / "detector"), version=1) == path
    with pytest.raises(ParameterError, match="version=7"):
        zoo.resolve("detector", version=7)
    with pytest.raises(ParameterError, match="'nonexistent'"):
        zoo.resolve("nonexistent")
    # NAME/VERSION names a version of the zoo ...
    assert zoo.resolve("detector/1") == path
    with pytest.raises(ParameterError, match="version=7"):
        zoo.resolve("detector/7")
    with pytest.raises(ParameterError, match="'detector/1'. Received: version=2"):
        zoo.resolve("detector/1", version=2)
    # ... unless a folder of that name exists where it is run.
    monkeypatch.chdir(base)
    assert zoo.resolve("detector/1") == pathlib.Path("detector/1")
    assert zoo.metadata(path)["note"] == "test"


def test_weights_are_stored_once(exported):
    model, _, path = exported
    extra = sorted(p.name for p in (path / export.EXTRA).iterdir())
    assert extra == [f"{task.KERAS_NAME}.json", export.METADATA_FILE]
    weight_bytes = sum(int(np.prod(v.shape)) * 4 for v in model.variables)
    extra_bytes = sum(p.stat().st_size for p in (path / export.EXTRA).iterdir())
    assert extra_bytes < 0.5 * weight_bytes


def _copy(path, tmp_path):
    import shutil

    target = tmp_path / "copy" / "1"
    shutil.copytree(path, target)
    return target


def test_older_versions_with_a_keras_copy_still_load(exported, tmp_path):
    model, _, path = exported
    version = _copy(path, tmp_path)
    (version / export.EXTRA / f"{task.KERAS_NAME}.json").unlink()
    with pytest.raises(ParameterError, match=r"detector\.json.*no such file"):
        task.load_detector(version)
    # The layout written before the architecture file: a full .keras copy.
    model.save(str(version / export.EXTRA / f"{task.KERAS_NAME}.keras"))
    loaded = task.load_detector(version)
    x = np.full((2, 115, 80), -4.0, np.float32)
    np.testing.assert_array_equal(loaded(x)["logit"], model(x)["logit"])


def test_an_architecture_that_does_not_fit_the_weights_is_refused(exported, tmp_path):
    _, _, path = exported
    version = _copy(path, tmp_path)
    architecture_file = version / export.EXTRA / f"{task.KERAS_NAME}.json"
    architecture = json.loads(architecture_file.read_text())
    # The same layers with other widths: the variables no longer fit.
    config = architecture["model"]["config"]
    config["dense_units"] = [int(u) * 2 for u in config["dense_units"]]
    architecture_file.write_text(json.dumps(architecture))
    with pytest.raises(ParameterError, match=r"variable \d+ .* of shape .* Received: shape"):
        task.load_detector(version)


def test_export_refuses_a_module_that_hides_the_weights(exported, tmp_path):
    model, _, _ = exported

    class Untracked(tf.Module):
        def signatures(self):
            return {}

    with pytest.raises(ParameterError, match="model_variables.*Received: none"):
        export.export_keras(model, Untracked(), tmp_path / "detector", "detector", {})
    assert not (tmp_path / "detector").exists()
