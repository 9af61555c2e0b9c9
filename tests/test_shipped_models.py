"""Every shipped SavedModel loads in a fresh process that imports only
TensorFlow, matches its Keras copy, and runs under saved_model_cli."""

import json
import subprocess
import sys

import numpy as np
import pytest

from vocal_xai import export, zoo

# One process that imports only TensorFlow runs every shipped detector and
# generator: argv[1] is a JSON list of [kind, SavedModel folder, output file,
# saved_model_cli runs]. Each run [signature, --inputs, --outdir] calls what
# ``saved_model_cli run --dir D --tag_set serve --signature_def S --inputs I
# --outdir O`` calls, without a TensorFlow import per run.
FRESH = r"""
import json
import sys
import numpy as np
import tensorflow as tf
from tensorflow.python.tools import saved_model_cli
x, z, c = (tf.constant(np.load(sys.argv[i])) for i in (2, 3, 4))
for kind, path, out, cli_runs in json.loads(sys.argv[1]):
    serve = tf.saved_model.load(path).signatures["serving_default"]
    if kind == "detector":
        np.save(out, serve(log_mel=x)["logit"].numpy())
    else:
        np.save(out, serve(z=z, class_id=c)["log_mel"].numpy())
    for signature, inputs, outdir in cli_runs:
        feeds = saved_model_cli.load_inputs_from_input_arg_string(inputs, "", "")
        saved_model_cli.run_saved_model_with_feed_dict(
            path, "serve", signature, feeds, outdir, overwrite_flag=False
        )
assert "vocal_xai" not in sys.modules and "tensorflow_io" not in sys.modules
"""

SHIPPED = [(name, v) for name in zoo.REGISTRY for v in export.versions(zoo.root() / name)]


def test_every_registered_model_is_shipped():
    for name in zoo.REGISTRY:
        assert export.versions(zoo.root() / name), f"no version of {name!r} under {zoo.root()}"
        assert (zoo.root() / name / "README.md").is_file(), f"no model card for {name!r}"


X = np.random.default_rng(0).normal(-5, 2, (4, 115, 80)).astype(np.float32)
Z = np.random.default_rng(0).standard_normal((4, 128)).astype(np.float32)
C = np.array([0, 1, 0, 1], np.int32)


# The saved_model_cli runs of each kind: signature and --inputs (files of the
# fixture's folder).
CLI_RUNS = {
    "detector": [
        ("serving_default", "log_mel={folder}/x.npy"),
        ("frames", "waveform={folder}/w.npy"),
    ],
    "generator": [("serving_default", "z={folder}/z.npy;class_id={folder}/c.npy")],
}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """What every shipped detector (logits of ``X``) and generator (log-mel
    of ``Z``, ``C``) serves in one fresh process that imports only
    TensorFlow, and the outputs of its ``CLI_RUNS`` under saved_model_cli:
    (name, version) -> array, and (name, version, signature) -> {output
    name -> array}."""
    folder = tmp_path_factory.mktemp("fresh")
    for name, array in (("x", X), ("z", Z), ("c", C), ("w", np.zeros((1, 22050), np.float32))):
        np.save(folder / f"{name}.npy", array)
    models = [(name, version) for name, version in SHIPPED if name in ("detector", "generator")]
    outputs = {model: folder / "{}-{}.npy".format(*model) for model in models}
    cli, jobs = {}, []  # (name, version, signature) -> --outdir; the script's jobs
    for name, version in models:
        runs = []
        for signature, inputs in CLI_RUNS[name]:
            cli[name, version, signature] = folder / f"{name}-{version}-cli" / signature
            runs.append(
                [signature, inputs.format(folder=folder), str(cli[name, version, signature])]
            )
        jobs.append([name, str(zoo.resolve(name, version)), str(outputs[name, version]), runs])
    (folder / "fresh.py").write_text(FRESH)
    inputs = [str(folder / f"{name}.npy") for name in ("x", "z", "c")]
    done = subprocess.run(
        [sys.executable, str(folder / "fresh.py"), json.dumps(jobs), *inputs],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {
        **{model: np.load(path) for model, path in outputs.items()},
        **{key: {p.stem: np.load(p) for p in out.glob("*.npy")} for key, out in cli.items()},
    }


@pytest.mark.slow
@pytest.mark.parametrize("name, version", [v for v in SHIPPED if v[0] == "detector"])
def test_shipped_detector_in_fresh_process(name, version, fresh):
    keras_model = zoo.load_detector(name, version)
    served = fresh[(name, version)]
    np.testing.assert_allclose(served, keras_model(X)["logit"].numpy()[:, 0], atol=1e-5, rtol=0)
    for signature, shape in (("serving_default", (4,)), ("frames", (1, 67))):
        probability = fresh[(name, version, signature)]["probability"]
        assert probability.shape == shape
        assert np.all((probability >= 0) & (probability <= 1))
    np.testing.assert_allclose(
        fresh[(name, version, "serving_default")]["logit"], served, atol=1e-6, rtol=0
    )


@pytest.mark.slow
@pytest.mark.parametrize("name, version", [v for v in SHIPPED if v[0] == "generator"])
def test_shipped_generator_in_fresh_process(name, version, fresh):
    served = fresh[(name, version)]
    keras_model = zoo.load_generator(name, version)
    np.testing.assert_allclose(served, keras_model({"z": Z, "class": C}).numpy(), atol=1e-5, rtol=0)
    cli = fresh[(name, version, "serving_default")]
    np.testing.assert_allclose(cli["log_mel"], served, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("name, version", [v for v in SHIPPED if v[0] == "explainer"])
def test_shipped_explainer_matches_the_python_loop(name, version):
    """The exported ascent gives what ``tools/explain.py``'s loop gives on the
    generator and detector versions it holds, to 1e-5, for a whole
    trajectory of rows with mixed classes, learning rates and directions."""
    import tensorflow as tf

    from vocal_xai.explain import ascent

    path = zoo.resolve(name, version)
    recorded = zoo.metadata(path)
    generator = zoo.load_generator("generator", recorded["generator"]["version"])
    detector = zoo.load_detector("detector", recorded["detector"]["version"])
    seeds = np.arange(6, dtype=np.int64)
    classes = np.array([1, 1, 0, 0, 1, 0], np.int32)
    lrs = np.array([0.01, 0.1, 0.01, 0.1, 0.001, 0.05], np.float32)
    rps = np.array([0.01, 0.001, 0.01, 0.001, 0.1, 0.0], np.float32)
    directions = np.array(["max", "max", "min", "min", "min", "max"])
    steps = 25
    explain = tf.saved_model.load(str(path)).signatures["serving_default"]
    param = ascent.LatentParameterisation(generator, detector)
    z0 = ascent.initial_latents(seeds)
    for direction in ("max", "min"):
        # One request per direction, the same rows as the Python loop's batch:
        # batched kernels may round differently at other batch sizes, and
        # Adam's first steps follow the sign of each gradient component.
        rows = directions == direction
        served = explain(
            seed=tf.constant(seeds[rows]),
            class_id=tf.constant(classes[rows]),
            direction=tf.constant([d.encode() for d in directions[rows]]),
            learning_rate=tf.constant(lrs[rows]),
            rp=tf.constant(rps[rows]),
            steps=tf.constant(steps),
        )
        res = ascent.latent_ascent(
            param, z0[rows], classes[rows], lrs[rows], rps[rows], direction, [steps]
        )
        np.testing.assert_allclose(served["activation"].numpy(), res.best_activation[0], atol=1e-5)
        np.testing.assert_allclose(served["activation_trace"].numpy(), res.activation.T, atol=1e-5)
        np.testing.assert_allclose(served["z"].numpy(), res.best_z[0], atol=1e-5)
        log_mel, _ = param(tf.constant(res.best_z[0]), tf.constant(classes[rows]))
        np.testing.assert_allclose(served["log_mel"].numpy(), log_mel.numpy(), atol=1e-4)
        # The explanations moved the logit the asked way.
        start, best = served["activation_trace"].numpy()[:, 0], served["activation"].numpy()
        assert np.all(best > start) if direction == "max" else np.all(best < start)


def test_zoo_readme_lists_every_model_version_signature_and_size():
    text = (zoo.root() / "README.md").read_text()
    table = zoo.inventory()
    assert table in text, f"saved_models/README.md is out of date; its table should read:\n{table}"
    for name, version in SHIPPED:
        assert f"| {name} | {version} |" in table


def test_shipped_models_fit_the_size_budget():
    """Everything under saved_models/ (models, cards, figures; not the
    git-ignored caches) stays within 60 MB."""
    files = [
        p
        for p in zoo.root().rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(zoo.root()).parts)
    ]
    total = sum(p.stat().st_size for p in files)
    assert any(p.name == "saved_model.pb" for p in files)
    assert total <= 60e6, f"saved_models/ holds {total / 1e6:.2f} MB, over the 60 MB budget"
