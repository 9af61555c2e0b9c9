"""The serving check: op types (with the function library), non-core ops,
signatures, runs in a fresh process, and the command-line script."""

import pathlib
import subprocess
import sys

import pytest
import tensorflow as tf
from helpers import script_env
from tensorflow.core.protobuf import saved_model_pb2

from vocal_xai import serving_check
from vocal_xai.errors import ParameterError

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "serving_check.py"


@tf.function
def _nested(x):
    return tf.math.softplus(x)


class _Good(tf.Module):
    """Core ops only: a matmul around a nested tf.function, and a signature
    shaped like the explainer's that rejects bad values."""

    def __init__(self):
        super().__init__()
        self.w = tf.Variable([[2.0]])

    @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.float32)])
    def serve(self, x):
        return {"y": tf.matmul(_nested(x), self.w)}

    @tf.function(
        input_signature=[
            tf.TensorSpec([None], tf.int64),
            tf.TensorSpec([None], tf.int32),
            tf.TensorSpec([None], tf.string),
            tf.TensorSpec([None], tf.float32),
            tf.TensorSpec([None], tf.float32),
            tf.TensorSpec([], tf.int32),
        ]
    )
    def explain(self, seed, class_id, direction, learning_rate, rp, steps):
        tf.debugging.assert_greater(steps, 0)
        tf.debugging.assert_less_equal(tf.reduce_max(steps), 10)
        tf.debugging.Assert(tf.reduce_all((direction == "max") | (direction == "min")), [direction])
        tf.debugging.Assert(tf.reduce_all((class_id == 0) | (class_id == 1)), [class_id])
        tf.debugging.assert_positive(learning_rate)
        z = tf.zeros([tf.size(seed), 4]) + tf.cast(seed, tf.float32)[:, None]
        for _ in tf.range(steps):
            z = z + learning_rate[:, None] - rp[:, None] * z
        sign = tf.where(direction == "max", 1.0, -1.0)
        return {"z": z * sign[:, None], "class_id": class_id}


class _Bad(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def serve(self, x):
        y = tf.py_function(lambda a: a * 2, [x], tf.float32)
        y.set_shape(x.shape)
        return {"y": y}


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    root = tmp_path_factory.mktemp("zoo")
    good = _Good()
    tf.saved_model.save(
        good,
        str(root / "good" / "1"),
        signatures={"serving_default": good.serve, "explain": good.explain},
    )
    bad = _Bad()
    tf.saved_model.save(bad, str(root / "bad" / "1"), signatures={"serving_default": bad.serve})
    return root


def test_find_saved_models_sorts_versions_and_ignores_hidden(tmp_path):
    for folder in ["b/2", "b/10", "a/1", "a/.tmp-2-123", ".hidden/1", "a/notes", "c/3"]:
        (tmp_path / folder).mkdir(parents=True)
    for folder in ["b/2", "b/10", "a/1", "a/.tmp-2-123", ".hidden/1"]:
        (tmp_path / folder / "saved_model.pb").write_bytes(b"")
    found = serving_check.find_saved_models(tmp_path)
    assert found == [tmp_path / "a" / "1", tmp_path / "b" / "2", tmp_path / "b" / "10"]
    assert serving_check.find_saved_models(tmp_path / "missing") == []
    assert serving_check.expand(tmp_path / "b") == [tmp_path / "b" / "2", tmp_path / "b" / "10"]
    assert serving_check.expand(tmp_path / "b" / "10") == [tmp_path / "b" / "10"]
    with pytest.raises(ParameterError, match="c"):
        serving_check.expand(tmp_path / "c")


@pytest.mark.slow
def test_op_types_include_the_function_library(zoo):
    path = zoo / "good" / "1"
    ops = serving_check.op_types(path)
    assert {"MatMul", "Softplus", "ReadVariableOp", "Assert", "Placeholder"} <= ops
    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((path / "saved_model.pb").read_bytes())
    top_level = {node.op for node in proto.meta_graphs[0].graph_def.node}
    # Softplus lives only in the nested tf.function, MatMul only in the signature's body.
    assert "Softplus" not in top_level and "MatMul" not in top_level
    assert not any(op.startswith("__inference") for op in ops)
    assert serving_check.non_core_ops(ops) == set()


@pytest.mark.slow
def test_non_core_ops():
    ops = {
        "MatMul",
        "AddV2",
        "PyFunc",
        "EagerPyFunc",
        "PyFuncStateless",
        "IO>AudioResample",
        "NoSuchOpAnywhere",
    }
    assert serving_check.non_core_ops(ops) == ops - {"MatMul", "AddV2"}
    assert serving_check.non_core_ops(set()) == set()


def test_signatures(zoo):
    sigs = serving_check.signatures(zoo / "good" / "1")
    assert sorted(sigs) == ["explain", "serving_default"]
    x = sigs["serving_default"].inputs["x"]
    assert (x.dtype, x.shape) == ("float32", (None, 1))
    assert sigs["serving_default"].outputs["y"].shape == (None, 1)
    explain = sigs["explain"].inputs
    assert {n: (i.dtype, i.shape) for n, i in explain.items()} == {
        "seed": ("int64", (None,)),
        "class_id": ("int32", (None,)),
        "direction": ("string", (None,)),
        "learning_rate": ("float32", (None,)),
        "rp": ("float32", (None,)),
        "steps": ("int32", ()),
    }


def test_automatic_inputs():
    S, T = serving_check.Signature, serving_check.TensorInfo
    explain = S(
        "explain",
        {
            "seed": T("seed", "int64", (None,)),
            "direction": T("direction", "string", (None,)),
            "learning_rate": T("learning_rate", "float32", (None,)),
            "rp": T("rp", "float32", (None,)),
            "steps": T("steps", "int32", ()),
            "other": T("other", "float32", (None, None, 3)),
        },
        {},
    )
    feeds = serving_check.example_inputs_for(explain)
    assert feeds["seed"].tolist() == [0]
    assert feeds["direction"].tolist() == [b"max"]
    assert feeds["learning_rate"].tolist() == pytest.approx([0.01])
    assert feeds["rp"].tolist() == pytest.approx([0.01])
    assert feeds["steps"].shape == () and feeds["steps"] == 2
    assert feeds["other"].shape == (1, serving_check.UNKNOWN_DIM, 3)
    frames = S("frames", {"waveform": T("waveform", "float32", (None, None))}, {})
    assert serving_check.example_inputs_for(frames)["waveform"].shape == (1, 22050)
    from_latent = S("from_latent", {"z0": T("z0", "float32", (None, None))}, {})
    assert serving_check.example_inputs_for(from_latent)["z0"].shape == (1, 128)
    overridden = serving_check.example_inputs_for(
        explain, {"direction": ["min", "max"], "steps": 5}
    )
    assert overridden["direction"].tolist() == [b"min", b"max"] and overridden["steps"] == 5
    assert overridden["seed"].tolist() == [0]
    with pytest.raises(ParameterError, match="nope"):
        serving_check.example_inputs_for(explain, {"nope": 1})


@pytest.mark.slow
def test_check_passes_a_core_model_with_explicit_and_automatic_inputs(zoo):
    path = zoo / "good" / "1"
    report = serving_check.check(
        [path], example_inputs={path: {"serving_default": {"x": [[0.0], [1.0], [2.0]]}}}
    )
    assert report.ok, report.models[0].problems
    model = report.models[0]
    assert model.non_core_ops == set() and "MatMul" in model.op_types
    serve, explain = model.runs["serving_default"], model.runs["explain"]
    assert (
        serve.ok and serve.inputs == {"x": [3, 1]} and serve.outputs == {"y": ("float32", (3, 1))}
    )
    assert explain.ok, explain.error
    assert explain.outputs == {"class_id": ("int32", (1,)), "z": ("float32", (1, 4))}
    assert explain.inputs["steps"] == [] and explain.inputs["direction"] == [1]


@pytest.mark.slow
def test_check_flags_py_function(zoo):
    path = zoo / "bad" / "1"
    assert {"EagerPyFunc"} <= serving_check.op_types(path)
    report = serving_check.check([path])
    assert not report.ok
    model = report.models[0]
    assert model.non_core_ops == {"EagerPyFunc"}
    # Without the Python callback the fresh process can't run it either.
    assert not model.runs["serving_default"].ok
    assert "EagerPyFunc" in model.runs["serving_default"].error
    assert any("EagerPyFunc" in p for p in model.problems)


@pytest.mark.slow
def test_check_runs_every_model_in_one_process_past_a_failing_one(zoo):
    good, bad = zoo / "good" / "1", zoo / "bad" / "1"
    report = serving_check.check([bad, good])
    assert [model.path for model in report.models] == [bad, good]
    first, second = report.models
    assert not first.runs["serving_default"].ok
    assert "EagerPyFunc" in first.runs["serving_default"].error
    assert second.ok, second.problems
    assert set(second.runs) == {"serving_default", "explain"}
    assert all(run.ok for run in second.runs.values())


@pytest.mark.slow
def test_the_process_that_runs_the_models_reads_the_op_registry(zoo, monkeypatch):
    monkeypatch.setattr(serving_check, "_core_cache", {})
    monkeypatch.setattr(serving_check, "_CORE_SCRIPT", "raise SystemExit(1)")  # not called
    report = serving_check.check([zoo / "good" / "1"])
    assert report.ok, report.models[0].problems
    assert serving_check._core_cache["MatMul"] and "NoSuchOp" not in serving_check._core_cache
    with pytest.raises(RuntimeError, match="op registry check to exit 0"):
        serving_check.non_core_ops({"NoSuchOp"})  # an op the run did not look up


def test_check_flags_a_wrong_example_input(zoo):
    report = serving_check.check(
        [zoo / "good" / "1"], example_inputs={zoo / "good" / "1": {"nope": {}}}
    )
    assert not report.ok and "nope" in report.models[0].problems[0]
    assert report.models[0].runs == {}


def _script(*args):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        env=script_env(),
        cwd=ROOT,
        timeout=600,
    )


@pytest.mark.slow
def test_script_passes_a_core_model(zoo):
    result = _script(zoo / "good" / "1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "signature 'explain'" in result.stdout and "MatMul" in result.stdout
    assert "non-core ops: none" in result.stdout
    assert "serving check ok: 1 models" in result.stdout


@pytest.mark.slow
def test_script_fails_a_py_function_model(zoo):
    path = zoo / "bad" / "1"
    result = _script(path)
    assert result.returncode != 0
    assert f"{path}: non-core ops ['EagerPyFunc']" in result.stderr
    assert f"{path}: signature 'serving_default' failed" in result.stderr


@pytest.mark.slow
def test_script_rejects_a_path_without_saved_model(tmp_path):
    result = _script(tmp_path / "missing")
    assert result.returncode != 0 and "missing" in result.stderr


@pytest.mark.slow
def test_script_passes_the_shipped_models():
    result = _script()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for path in serving_check.find_saved_models(ROOT / "saved_models"):
        assert str(path) in result.stdout
    assert "detector/4" in result.stdout and "generator/3" in result.stdout
    assert "signature 'frames'" in result.stdout
    assert "logit float32 [1, 67], probability float32 [1, 67]" in result.stdout
    assert "log_mel float32 [1, 115, 80]" in result.stdout
    assert "FAILED" not in result.stdout
