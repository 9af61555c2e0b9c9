"""Every shipped SavedModel loads in a fresh process that imports only
TensorFlow, matches its Keras copy, and runs under saved_model_cli."""

import subprocess
import sys

import numpy as np
import pytest

from vocal_xai import export, zoo

FRESH = r"""
import sys
import numpy as np
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
out = loaded.signatures["serving_default"](log_mel=tf.constant(np.load(sys.argv[2])))
np.save(sys.argv[3], out["logit"].numpy())
assert "vocal_xai" not in sys.modules and "tensorflow_io" not in sys.modules
"""

SHIPPED = [(name, v) for name in zoo.REGISTRY for v in export.versions(zoo.root() / name)]


def test_every_registered_model_is_shipped():
    for name in zoo.REGISTRY:
        assert export.versions(zoo.root() / name), f"no version of {name!r} under {zoo.root()}"
        assert (zoo.root() / name / "README.md").is_file(), f"no model card for {name!r}"


@pytest.mark.parametrize("name, version", [v for v in SHIPPED if v[0] == "detector"])
def test_shipped_detector_in_fresh_process(name, version, tmp_path):
    path = zoo.resolve(name, version)
    x = np.random.default_rng(0).normal(-5, 2, (4, 115, 80)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    (tmp_path / "fresh.py").write_text(FRESH)
    subprocess.run([sys.executable, str(tmp_path / "fresh.py"), str(path), str(tmp_path / "x.npy"),
                    str(tmp_path / "logit.npy")], check=True, capture_output=True)
    served = np.load(tmp_path / "logit.npy")
    keras_model = zoo.load_detector(name, version)
    np.testing.assert_allclose(served, keras_model(x)["logit"].numpy()[:, 0], atol=1e-5, rtol=0)

    np.save(tmp_path / "w.npy", np.zeros((1, 22050), np.float32))
    for signature, arg in [("serving_default", f"log_mel={tmp_path / 'x.npy'}"),
                           ("frames", f"waveform={tmp_path / 'w.npy'}")]:
        result = subprocess.run(
            [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli", "run", "--dir", str(path),
             "--tag_set", "serve", "--signature_def", signature, "--inputs", arg,
             "--outdir", str(tmp_path / signature)],
            capture_output=True, text=True,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        probability = np.load(tmp_path / signature / "probability.npy")
        assert probability.shape == ((4,) if signature == "serving_default" else (1, 67))
        assert np.all((probability >= 0) & (probability <= 1))


def test_shipped_detector_meets_its_card(default_corpus):
    """Re-evaluate the shipped detector on the default corpus: the test error
    after the median filter is <= 5 % and equals what its metadata records."""
    from vocal_xai.models.detector import task

    version_dir = zoo.resolve("detector")
    metrics = task.evaluate(zoo.load_detector(str(version_dir)), default_corpus)
    recorded = zoo.metadata(version_dir)["metrics"]
    assert metrics["test"]["error"] <= 0.05
    assert metrics["threshold"] == pytest.approx(recorded["threshold"], abs=1e-9)
    assert metrics["test"]["error"] == pytest.approx(recorded["test"]["error"], abs=1e-4)


FRESH_GENERATOR = r"""
import sys
import numpy as np
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
out = loaded.signatures["serving_default"](z=tf.constant(np.load(sys.argv[2])),
                                           class_id=tf.constant(np.load(sys.argv[3])))
np.save(sys.argv[4], out["log_mel"].numpy())
assert "vocal_xai" not in sys.modules and "tensorflow_io" not in sys.modules
"""


@pytest.mark.parametrize("name, version", [v for v in SHIPPED if v[0] == "generator"])
def test_shipped_generator_in_fresh_process(name, version, tmp_path):
    path = zoo.resolve(name, version)
    z = np.random.default_rng(0).standard_normal((4, 128)).astype(np.float32)
    c = np.array([0, 1, 0, 1], np.int32)
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "c.npy", c)
    (tmp_path / "fresh.py").write_text(FRESH_GENERATOR)
    subprocess.run([sys.executable, str(tmp_path / "fresh.py"), str(path), str(tmp_path / "z.npy"),
                    str(tmp_path / "c.npy"), str(tmp_path / "out.npy")], check=True, capture_output=True)
    served = np.load(tmp_path / "out.npy")
    keras_model = zoo.load_generator(name, version)
    np.testing.assert_allclose(served, keras_model({"z": z, "class": c}).numpy(), atol=1e-5, rtol=0)
    result = subprocess.run(
        [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli", "run", "--dir", str(path),
         "--tag_set", "serve", "--signature_def", "serving_default",
         "--inputs", f"z={tmp_path / 'z.npy'};class_id={tmp_path / 'c.npy'}", "--outdir", str(tmp_path / "cli")],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "cli" / "log_mel.npy"), served, atol=1e-6)
