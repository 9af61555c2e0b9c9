"""REST examples for TF Serving, checked with ``saved_model_cli``.

Each example is one signature of one shipped model and its inputs as NumPy
expressions. ``write`` evaluates them into a TF Serving REST request (the
columnar ``{"signature_name": ..., "inputs": {...}}`` format, which every
signature accepts, including the explainer's scalar ``steps``), runs
``saved_model_cli run --input_exprs`` on the request's values and records its
outputs as the REST response (``{"outputs": ...}``: a map of outputs, or the
bare value when the signature has a single output, as TF Serving answers).
``verify`` runs ``saved_model_cli`` again and compares. Every example runs in
one fresh process, through the functions ``saved_model_cli run`` calls.
"""

import dataclasses
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

from vocal_xai import markdown as markdown_blocks
from vocal_xai.errors import ParameterError

INDEX_FILE = "examples.json"
DECIMALS = 5  # floats in the recorded responses
TOLERANCE = 2e-4  # |recorded - recomputed| allowed by ``verify`` (rounding and CPU differences)
# The explainer's outputs end an Adam ascent. Its first steps follow the sign
# of each gradient component, so a component near zero can take the other
# sign under another CPU's rounding of the batched kernels, and the
# trajectory moves on from there: between two x86 CPU types the recorded
# responses differ by up to 0.05 in z and the activation and 0.15 in log-mel.
# Another model version differs by whole units.
ASCENT_TOLERANCE = 0.5


@dataclasses.dataclass(frozen=True)
class Example:
    model: str
    signature: str
    input_exprs: dict  # input name -> NumPy expression of its value (``np`` is numpy)
    tolerance: float = TOLERANCE  # of ``verify``, on the response's floats

    @property
    def stem(self):
        return f"{self.model}.{self.signature}"


EXAMPLES = (
    Example(
        "detector",
        "serving_default",
        {
            # One excerpt whose log-mel falls from -2 (low bands) to -9 (high
            # bands), in steps of 0.1 (short enough for a command line).
            "log_mel": (
                "np.round(np.tile(np.linspace(-2.0, -9.0, 80), (1, 115, 1)), 1).astype(np.float32)"
            ),
        },
    ),
    Example(
        "detector",
        "frames",
        {
            # 0.2 s of a 440 Hz sine.
            "waveform": (
                "(0.1 * np.sin(2 * np.pi * 440 * np.arange(4410) / 22050)).astype(np.float32)[None]"
            ),
        },
    ),
    Example(
        "generator",
        "serving_default",
        {
            "z": "np.zeros((1, 128), np.float32)",
            "class_id": "np.array([1], np.int32)",
        },
    ),
    Example(
        "explainer",
        "serving_default",
        {
            # Two rows per direction, so that each has a Fréchet distance.
            "seed": "np.array([0, 1, 0, 1], np.int64)",
            "class_id": "np.array([1, 1, 0, 0], np.int32)",
            "direction": "np.array([b'max', b'max', b'min', b'min'])",
            "learning_rate": "np.full(4, 0.01, np.float32)",
            "rp": "np.full(4, 0.01, np.float32)",
            "steps": "np.int32(25)",
        },
        ASCENT_TOLERANCE,
    ),
    Example(
        "explainer",
        "from_latent",
        {
            "z0": "np.zeros((1, 128), np.float32)",
            "class_id": "np.array([1], np.int32)",
            "direction": "np.array([b'max'])",
            "learning_rate": "np.array([0.01], np.float32)",
            "rp": "np.array([0.01], np.float32)",
            "steps": "np.int32(10)",
        },
        ASCENT_TOLERANCE,
    ),
)


def evaluate(expr):
    """The array an input expression gives."""
    return np.asarray(eval(expr, {"np": np}))  # noqa: S307 - our own fixed expressions


def _jsonable(array, decimals=None):
    array = np.asarray(array)
    if array.dtype.kind in "SO":
        return np.vectorize(
            lambda b: b.decode() if isinstance(b, bytes) else str(b), otypes=[object]
        )(array).tolist()
    if array.dtype.kind == "f" and decimals is not None:
        array = np.round(array.astype(np.float64), decimals)
    elif array.dtype == np.float32:
        # The shortest decimal that reads back as the same float32 (keeps
        # the JSON, and the --input_exprs built from it, short).
        short = [float(str(v)) for v in array.ravel()]  # str of an np.float32 is its shortest form
        return np.array(short, np.float64).reshape(array.shape).tolist()
    return array.tolist()


def request(example):
    """The REST predict request body of ``example``."""
    return {
        "signature_name": example.signature,
        "inputs": {name: _jsonable(evaluate(expr)) for name, expr in example.input_exprs.items()},
    }


# What ``saved_model_cli run --dir D --tag_set serve --signature_def S
# --input_exprs E --outdir O --overwrite`` calls, for several runs in one
# process: TensorFlow is imported once, not once per example.
_CLI_SCRIPT = r"""
import json, sys
from tensorflow.python.tools import saved_model_cli

for j, (version_dir, signature, exprs, outdir) in enumerate(json.load(sys.stdin)):
    print(f"run {j}", file=sys.stderr, flush=True)
    feeds = saved_model_cli.load_inputs_from_input_arg_string("", exprs, "")
    saved_model_cli.run_saved_model_with_feed_dict(
        version_dir, "serve", signature, feeds, outdir, overwrite_flag=True
    )
"""


def run_saved_model_cli(runs, timeout=600):
    """Output name -> array of each (version folder, ``Example``) in
    ``runs``, from ``saved_model_cli run --input_exprs``'s code, every run in
    one fresh process that imports only TensorFlow.

    Raises:
        ParameterError: naming the first run that failed, with its error.
    """
    # saved_model_cli reads --input_exprs with ast.literal_eval, so it gets
    # the request's own JSON values (JSON lists, numbers and strings are Python
    # literals), converted to each input's dtype when fed.
    runs = list(runs)
    with tempfile.TemporaryDirectory() as out:
        plan = [
            [
                str(version_dir),
                example.signature,
                ";".join(
                    f"{name}={json.dumps(value)}"
                    for name, value in request(example)["inputs"].items()
                ),
                str(pathlib.Path(out) / str(j)),
            ]
            for j, (version_dir, example) in enumerate(runs)
        ]
        done = subprocess.run(
            [sys.executable, "-c", _CLI_SCRIPT],
            input=json.dumps(plan),
            capture_output=True,
            text=True,
            timeout=timeout * max(len(runs), 1),
        )
        if done.returncode:
            started = [line for line in done.stderr.splitlines() if line.startswith("run ")]
            version_dir, example = runs[int(started[-1].split()[1]) if started else 0]
            raise ParameterError(
                f"Expected saved_model_cli to run {example.stem} on {version_dir}. Received: exit "
                f"{done.returncode}: {done.stderr[-2000:]}"
            )
        # String outputs are saved as object arrays (files we just wrote).
        return [
            {
                p.stem: np.load(p, allow_pickle=True)
                for p in sorted(pathlib.Path(outdir).glob("*.npy"))
            }
            for *_, outdir in plan
        ]


def response(outputs):
    """TF Serving's columnar response body for ``outputs``."""
    values = {name: _jsonable(array, DECIMALS) for name, array in outputs.items()}
    return {"outputs": next(iter(values.values())) if len(values) == 1 else values}


def _version_dir(model, zoo_root=None, version=None):
    """A model's version folder in ``zoo_root`` (default: the zoo); the
    newest version unless one is given."""
    from vocal_xai import zoo

    return zoo.resolve(str(pathlib.Path(zoo_root) / model) if zoo_root else model, version)


def write(docs_dir, zoo_root=None, examples=EXAMPLES):
    """Write ``<model>.<signature>.request.json`` and ``.response.json`` for
    the newest version of each model, and an index. Returns the index."""
    docs_dir = pathlib.Path(docs_dir)
    docs_dir.mkdir(parents=True, exist_ok=True)
    index = []
    version_dirs = [_version_dir(example.model, zoo_root) for example in examples]
    outputs = run_saved_model_cli(zip(version_dirs, examples))
    for example, version_dir, outputs_of in zip(examples, version_dirs, outputs, strict=True):
        body = response(outputs_of)
        _dump(docs_dir / f"{example.stem}.request.json", request(example))
        _dump(docs_dir / f"{example.stem}.response.json", body)
        index.append(
            {
                "model": example.model,
                "version": int(version_dir.name),
                "signature": example.signature,
                "input_exprs": example.input_exprs,
                "tolerance": example.tolerance,
                "request": f"{example.stem}.request.json",
                "response": f"{example.stem}.response.json",
            }
        )
    _dump(docs_dir / INDEX_FILE, index, indent=2)
    return index


def _dump(path, value, indent=None):
    path.write_text(json.dumps(value, indent=indent) + "\n")


def _compare(recorded, computed, where, tolerance=TOLERANCE):
    """Differences between two JSON values (floats within ``tolerance``)."""
    if isinstance(recorded, dict) and isinstance(computed, dict):
        if set(recorded) != set(computed):
            return [f"{where}: keys {sorted(recorded)} != {sorted(computed)}"]
        return [
            d
            for k in recorded
            for d in _compare(recorded[k], computed[k], f"{where}.{k}", tolerance)
        ]
    a, b = np.asarray(recorded), np.asarray(computed)
    if a.shape != b.shape:
        return [f"{where}: shape {a.shape} != {b.shape}"]
    if a.dtype.kind in "fiu" and b.dtype.kind in "fiu":
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            return [f"{where}: NaN at different places"]
        # NaN where both are NaN (a distance of fewer than two rows) agrees.
        differences = np.abs(a - b)[~np.isnan(a)]
        worst = float(np.max(differences)) if differences.size else 0.0
        return (
            [] if worst <= tolerance else [f"{where}: max abs difference {worst:.3g} > {tolerance}"]
        )
    return [] if a.tolist() == b.tolist() else [f"{where}: values differ"]


def verify(docs_dir, zoo_root=None):
    """Re-run every recorded example with ``saved_model_cli``; the list of
    differences (empty when the docs hold)."""
    docs_dir = pathlib.Path(docs_dir)
    entries = json.loads((docs_dir / INDEX_FILE).read_text())
    examples = [
        Example(entry["model"], entry["signature"], entry["input_exprs"], entry["tolerance"])
        for entry in entries
    ]
    version_dirs = [
        _version_dir(example.model, zoo_root, entry["version"])
        for example, entry in zip(examples, entries, strict=True)
    ]
    outputs = run_saved_model_cli(zip(version_dirs, examples))
    problems = []
    for entry, example, outputs_of in zip(entries, examples, outputs, strict=True):
        recorded_request = json.loads((docs_dir / entry["request"]).read_text())
        problems += _compare(recorded_request, request(example), entry["request"])
        recorded = json.loads((docs_dir / entry["response"]).read_text())
        problems += _compare(recorded, response(outputs_of), entry["response"], example.tolerance)
    return problems


def _shorten(value, keep=3):
    if isinstance(value, dict):
        return {k: _shorten(v, keep) for k, v in value.items()}
    if isinstance(value, list):
        head = [_shorten(v, keep) for v in value[:keep]]
        return (
            head + ["..."]
            if len(value) > keep + 1
            else head + [_shorten(v, keep) for v in value[keep:]]
        )
    return value


def markdown(docs_dir, host="localhost:8501"):
    """The README's examples: for each recorded example, the curl command and
    the request and response with long arrays shortened to ``...``."""
    docs_dir = pathlib.Path(docs_dir)
    blocks = []
    for entry in json.loads((docs_dir / INDEX_FILE).read_text()):
        body = json.loads((docs_dir / entry["request"]).read_text())
        answer = json.loads((docs_dir / entry["response"]).read_text())
        shown = lambda v: json.dumps(_shorten(v)).replace('"..."', "...")  # noqa: E731
        blocks.append(
            f"`{entry['model']}` `{entry['signature']}` (version {entry['version']}):\n\n"
            "```\n"
            f"curl -s -d @docs/serving/{entry['request']} http://{host}/v1/models/{entry['model']}:predict\n"
            f"{shown(body)}\n"
            f"# -> {shown(answer)}\n"
            "```\n"
        )
    return "\n".join(blocks)


BEGIN, END = (
    "<!-- serving examples: tools/serving_examples.py --write -->",
    "<!-- end of serving examples -->",
)


def update_readme(readme, docs_dir):
    """Replace the examples between the markers of ``readme`` with
    ``markdown(docs_dir)``."""
    markdown_blocks.replace_block(readme, BEGIN, END, markdown(docs_dir))
