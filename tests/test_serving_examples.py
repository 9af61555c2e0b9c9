"""The REST examples: requests from the expressions, responses from
saved_model_cli, and a check that notices when they no longer hold."""

import json
import pathlib
import shutil

import numpy as np
import pytest
import tensorflow as tf

from vocal_xai import serving_examples
from vocal_xai.errors import ParameterError
from vocal_xai.serving_examples import Example

ROOT = pathlib.Path(__file__).resolve().parents[1]


class _Two(tf.Module):
    @tf.function(
        input_signature=[
            tf.TensorSpec([None, 3], tf.float32, name="x"),
            tf.TensorSpec([None], tf.string, name="word"),
        ]
    )
    def serve(self, x, word):
        return {"total": tf.reduce_sum(x, axis=1), "loud": tf.strings.upper(word)}

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
    def double(self, x):
        return {"y": 2.0 * x}


EXAMPLES = (
    Example(
        "toy",
        "serving_default",
        {
            "x": "np.arange(6, dtype=np.float32).reshape(2, 3) / 3",
            "word": "np.array([b'max', b'min'])",
        },
    ),
    Example("toy", "double", {"x": "np.ones((1, 3), np.float32)"}, tolerance=1e-3),
)


@pytest.fixture(scope="module")
def zoo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("zoo")
    module = _Two()
    tf.saved_model.save(
        module,
        str(root / "toy" / "3"),
        signatures={"serving_default": module.serve, "double": module.double},
    )
    return root


@pytest.fixture(scope="module")
def written(zoo_root, tmp_path_factory):
    """``EXAMPLES`` written once (each a saved_model_cli run): the folder and
    the index ``write`` returned. Tests that change files work on a copy."""
    folder = tmp_path_factory.mktemp("written")
    return folder, serving_examples.write(folder, zoo_root, EXAMPLES)


def _copy(written, tmp_path):
    shutil.copytree(written[0], tmp_path, dirs_exist_ok=True)
    return tmp_path


def test_request_is_the_columnar_rest_body():
    body = serving_examples.request(EXAMPLES[0])
    assert body["signature_name"] == "serving_default" and body["inputs"]["word"] == ["max", "min"]
    np.testing.assert_allclose(
        body["inputs"]["x"], [[0.0, 1 / 3, 2 / 3], [1.0, 4 / 3, 5 / 3]], rtol=1e-7
    )
    json.dumps(body)  # plain JSON


@pytest.mark.slow
def test_write_records_saved_model_cli_outputs(zoo_root, written):
    tmp_path, index = written
    assert [(e["model"], e["version"], e["signature"]) for e in index] == [
        ("toy", 3, "serving_default"),
        ("toy", 3, "double"),
    ]
    many = json.loads((tmp_path / "toy.serving_default.response.json").read_text())
    assert many["outputs"]["total"] == pytest.approx([1.0, 4.0], abs=1e-5)
    assert many["outputs"]["loud"] == ["MAX", "MIN"]
    # A single output is answered bare, as TF Serving does.
    single = json.loads((tmp_path / "toy.double.response.json").read_text())
    assert single == {"outputs": [[2.0, 2.0, 2.0]]}
    assert serving_examples.verify(tmp_path, zoo_root) == []


@pytest.mark.slow
def test_verify_reports_a_changed_response_and_request(zoo_root, written, tmp_path):
    tmp_path = _copy(written, tmp_path)
    path = tmp_path / "toy.serving_default.response.json"
    body = json.loads(path.read_text())
    body["outputs"]["total"][1] += 0.01
    path.write_text(json.dumps(body))
    request = tmp_path / "toy.double.request.json"
    request.write_text(json.dumps({"signature_name": "double", "inputs": {"x": [[1.0, 1.0]]}}))
    problems = serving_examples.verify(tmp_path, zoo_root)
    assert any(
        "toy.serving_default.response.json.outputs.total: max abs difference 0.01" in p
        for p in problems
    )
    assert any("toy.double.request.json.inputs.x: shape (1, 2) != (1, 3)" in p for p in problems)
    assert len(problems) == 2


@pytest.mark.slow
def test_a_failing_run_is_named(zoo_root):
    version_dir = zoo_root / "toy" / "3"
    good, bad = EXAMPLES[1], serving_examples.Example("toy", "double", {"nope": "np.ones(3)"})
    with pytest.raises(ParameterError, match=f"(?s)to run toy.double on {version_dir}.*nope"):
        serving_examples.run_saved_model_cli([(version_dir, good), (version_dir, bad)])


@pytest.mark.slow
def test_shipped_examples_hold():
    """Every REST example in docs/serving matches saved_model_cli on the
    recorded model version."""
    docs = ROOT / "docs" / "serving"
    index = json.loads((docs / serving_examples.INDEX_FILE).read_text())
    assert {(e["model"], e["signature"]) for e in index} == {
        (e.model, e.signature) for e in serving_examples.EXAMPLES
    }
    assert serving_examples.verify(docs) == []


@pytest.mark.slow
def test_markdown_shortens_long_arrays(written):
    text = serving_examples.markdown(written[0])
    assert "curl -s -d @docs/serving/toy.serving_default.request.json" in text
    assert '"word": ["max", "min"]' in text and "(version 3)" in text
    assert serving_examples._shorten(list(range(10))) == [0, 1, 2, "..."]
    assert serving_examples._shorten([[1, 2, 3, 4]]) == [[1, 2, 3, 4]]


def test_readme_shows_the_recorded_examples():
    assert serving_examples.markdown(ROOT / "docs" / "serving") in (ROOT / "README.md").read_text()


@pytest.mark.slow
def test_verify_holds_each_example_to_its_own_tolerance(zoo_root, written, tmp_path):
    # The index records each example's tolerance; loosen the first one's.
    tmp_path = _copy(written, tmp_path)
    index_path = tmp_path / serving_examples.INDEX_FILE
    index = json.loads(index_path.read_text())
    assert [e["tolerance"] for e in index] == [serving_examples.TOLERANCE, 1e-3]
    index[0]["tolerance"] = 0.05
    index_path.write_text(json.dumps(index))
    path = tmp_path / "toy.serving_default.response.json"
    body = json.loads(path.read_text())
    body["outputs"]["total"][1] += 0.01
    path.write_text(json.dumps(body))
    assert serving_examples.verify(tmp_path, zoo_root) == []
    body["outputs"]["total"][1] += 0.1
    path.write_text(json.dumps(body))
    assert serving_examples.verify(tmp_path, zoo_root) == [
        "toy.serving_default.response.json.outputs.total: max abs difference 0.11 > 0.05"
    ]


def test_only_the_ascent_examples_are_held_loosely():
    tolerances = {(e.model, e.signature): e.tolerance for e in serving_examples.EXAMPLES}
    assert tolerances.pop(("explainer", "serving_default")) == serving_examples.ASCENT_TOLERANCE
    assert tolerances.pop(("explainer", "from_latent")) == serving_examples.ASCENT_TOLERANCE
    assert set(tolerances.values()) == {serving_examples.TOLERANCE} == {2e-4}


def test_compare_agrees_on_shared_nan_only():
    """A NaN output (a distance of fewer than two rows) matches a NaN; a NaN
    against a number is a difference, and the numbers beside a NaN are still
    compared."""
    compare = serving_examples._compare
    assert compare({"d": [float("nan"), 1.0]}, {"d": [float("nan"), 1.0]}, "r") == []
    assert compare([float("nan")], [2.0], "r") == ["r: NaN at different places"]
    assert compare([float("nan"), 1.0], [float("nan"), 2.0], "r", tolerance=0.5) == [
        "r: max abs difference 1 > 0.5"
    ]
