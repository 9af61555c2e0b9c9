"""Check that SavedModels can be served as they are.

TF Serving (and any process without our Python code) can only run a
SavedModel whose graph uses ops registered in TensorFlow core, and whose
signatures run from the SavedModel alone. This module checks both:

* ``op_types`` reads ``saved_model.pb`` and lists every op type of the graph,
  including the ops inside every function of the function library (the
  signatures' bodies live there, not in the top-level graph);
* ``non_core_ops`` names the op types that TensorFlow core does not register
  (decided in a fresh process that imports only TensorFlow, so ops registered
  by ``tensorflow_io`` in this process don't count), plus the Python-callback
  ops (``PyFunc``, ``EagerPyFunc``, ``PyFuncStateless``) and any ``IO*`` op;
* ``run_in_fresh_process`` loads the model once in a fresh process that
  imports only TensorFlow and NumPy, as a server does, and calls every
  signature on small inputs built from the signature's input specs (see
  ``NAMED_INPUTS``) or given by the caller.

``check`` does all of it and returns a report per model with an overall ok;
it calls the signatures of all the models it checks in one fresh process, as
a server loads every model of its configuration.
"""

import dataclasses
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

from vocal_xai.errors import ParameterError

SAVED_MODEL_FILE = "saved_model.pb"
SERVE_TAG = "serve"

# Core-registered ops that run Python callbacks: no server can run them.
PYTHON_CALLBACK_OPS = frozenset({"PyFunc", "EagerPyFunc", "PyFuncStateless"})
# Prefix of the ops of tensorflow_io (``IO>AudioResample`` ...).
IO_OP_PREFIX = "IO"

# Automatic inputs: per input name, the value of every element and/or the size
# of the axes the spec leaves unknown (None in ``shape`` keeps the automatic
# size: 1 on the batch axis). Extend this table for a new model's inputs.
SAMPLE_RATE = 22050  # vocal_xai.spectral.SAMPLE_RATE, not imported here on purpose


@dataclasses.dataclass(frozen=True)
class InputDefault:
    value: object = None  # every element; None: the dtype's default
    shape: tuple = None  # sizes of unknown axes; None entries: automatic


NAMED_INPUTS = {
    "waveform": InputDefault(shape=(None, SAMPLE_RATE)),  # one second of audio
    "audio": InputDefault(shape=(None, SAMPLE_RATE)),
    "log_mel": InputDefault(shape=(None, 115, 80)),  # one detector excerpt
    "z": InputDefault(shape=(None, 128)),  # the generator's latent
    "z0": InputDefault(shape=(None, 128)),  # the explainer's start latent (from_latent)
    # One value per row (the explainer's; its newer signatures leave even the
    # rank open, so the graph can refuse a wrong one with a message).
    "direction": InputDefault(value=b"max", shape=(None,)),  # "max" or "min"
    "class_id": InputDefault(value=0, shape=(None,)),  # 0 or 1
    "seed": InputDefault(value=0, shape=(None,)),
    "learning_rate": InputDefault(value=0.01, shape=(None,)),
    "rp": InputDefault(value=0.01, shape=(None,)),
    # Scalars.
    "steps": InputDefault(value=2),
    "iterations": InputDefault(value=2),
}
BATCH_SIZE = 1  # an unknown first axis
UNKNOWN_DIM = 16  # any other unknown axis of an input not in NAMED_INPUTS
FLOAT_SCALE = 0.1  # floats: seeded normal noise of this scale


@dataclasses.dataclass(frozen=True)
class TensorInfo:
    """One input or output of a signature. ``shape`` is a tuple with None for
    unknown sizes, or None when even the rank is unknown."""

    name: str
    dtype: str
    shape: tuple

    def __str__(self):
        shape = "<unknown rank>" if self.shape is None else list(self.shape)
        return f"{self.name}: {self.dtype} {shape}"


@dataclasses.dataclass(frozen=True)
class Signature:
    key: str
    inputs: dict  # name -> TensorInfo
    outputs: dict  # name -> TensorInfo


@dataclasses.dataclass
class RunResult:
    """One signature called in a fresh process (``seconds``: the call's)."""

    signature: str
    ok: bool
    inputs: dict = dataclasses.field(default_factory=dict)  # name -> shape fed
    outputs: dict = dataclasses.field(default_factory=dict)  # name -> (dtype, shape)
    error: str = ""
    seconds: float = 0.0


@dataclasses.dataclass
class ModelReport:
    path: pathlib.Path
    signatures: dict = dataclasses.field(default_factory=dict)  # key -> Signature
    op_types: set = dataclasses.field(default_factory=set)
    non_core_ops: set = dataclasses.field(default_factory=set)
    runs: dict = dataclasses.field(default_factory=dict)  # key -> RunResult
    problems: list = dataclasses.field(default_factory=list)  # human-readable

    @property
    def ok(self):
        return not self.problems


@dataclasses.dataclass
class Report:
    models: list  # of ModelReport

    @property
    def ok(self):
        return bool(self.models) and all(m.ok for m in self.models)


# ----------------------------------------------------------------- discovery


def find_saved_models(root):
    """Every SavedModel version folder ``<root>/<name>/<int>/`` under a zoo
    root, sorted by name then version; hidden folders (``.tmp-*`` ...) are
    ignored."""
    root = pathlib.Path(root)
    found = []
    if not root.is_dir():
        return found
    for name in root.iterdir():
        if name.name.startswith(".") or not name.is_dir():
            continue
        for version in name.iterdir():
            if version.name.isdigit() and (version / SAVED_MODEL_FILE).is_file():
                found.append(version)
    return sorted(found, key=lambda p: (p.parent.name, int(p.name)))


def expand(path):
    """The SavedModel version folders a command-line path names: the folder
    itself, the versions of a ``<name>`` folder, or every model of a root.

    Raises:
        ParameterError: if the path holds no SavedModel.
    """
    path = pathlib.Path(path)
    if (path / SAVED_MODEL_FILE).is_file():
        return [path]
    if path.is_dir():
        versions = sorted(
            (p for p in path.iterdir() if p.name.isdigit() and (p / SAVED_MODEL_FILE).is_file()),
            key=lambda p: int(p.name),
        )
        found = versions or find_saved_models(path)
        if found:
            return found
    raise ParameterError(
        f"Expected a SavedModel folder (with {SAVED_MODEL_FILE}), a <name> folder of versions or "
        f"a zoo root. Received: {str(path)!r}" + ("" if path.exists() else " (no such path)")
    )


# ------------------------------------------------------------------ the proto


def _read_proto(path):
    from tensorflow.core.protobuf import saved_model_pb2

    file = pathlib.Path(path) / SAVED_MODEL_FILE
    if not file.is_file():
        raise ParameterError(f"Expected a SavedModel at {path}. Received: no {SAVED_MODEL_FILE}")
    proto = saved_model_pb2.SavedModel()
    try:
        proto.ParseFromString(file.read_bytes())
    except Exception as e:  # google.protobuf.message.DecodeError
        raise ParameterError(f"Expected a readable SavedModel proto. Received: {file}: {e}") from e
    return proto


def _serving_meta_graph(proto, path):
    """The meta graph TF Serving loads: the one tagged ``serve``."""
    for meta_graph in proto.meta_graphs:
        if SERVE_TAG in meta_graph.meta_info_def.tags:
            return meta_graph
    tags = [list(m.meta_info_def.tags) for m in proto.meta_graphs]
    raise ParameterError(
        f"Expected a meta graph tagged {SERVE_TAG!r} in {path}. Received: tags {tags}"
    )


def op_types(path):
    """The set of op types of a SavedModel: the nodes of every meta graph and
    of every function in their function libraries. Calls of a library
    function by name are not op types and are left out (their bodies count)."""
    ops = set()
    functions = set()
    for meta_graph in _read_proto(path).meta_graphs:
        graph = meta_graph.graph_def
        ops.update(node.op for node in graph.node)
        for function in graph.library.function:
            functions.add(function.signature.name)
            ops.update(node.op for node in function.node_def)
    return ops - functions


def signatures(path):
    """Signature key -> Signature (inputs and outputs with dtype and shape)
    of the serving meta graph; the internal ``__saved_model_init_op`` is left
    out."""
    from tensorflow.python.framework import dtypes

    def info(name, tensor_info):
        shape_proto = tensor_info.tensor_shape
        shape = (
            None
            if shape_proto.unknown_rank
            else tuple(None if d.size < 0 else int(d.size) for d in shape_proto.dim)
        )
        try:
            dtype = dtypes.as_dtype(tensor_info.dtype).name
        except TypeError:
            dtype = f"<dtype enum {tensor_info.dtype}>"
        return TensorInfo(name, dtype, shape)

    meta_graph = _serving_meta_graph(_read_proto(path), path)
    found = {}
    for key in sorted(meta_graph.signature_def):
        if key.startswith("__"):
            continue
        sig = meta_graph.signature_def[key]
        found[key] = Signature(
            key,
            {name: info(name, t) for name, t in sorted(sig.inputs.items())},
            {name: info(name, t) for name, t in sorted(sig.outputs.items())},
        )
    return found


# ------------------------------------------------------------------ core ops

_CORE_SCRIPT = r"""
import json, sys
import tensorflow as tf
from tensorflow.python.framework import op_def_registry
assert "tensorflow_io" not in sys.modules, "tensorflow_io was imported"
ops = json.loads(sys.stdin.read())
print("\n" + json.dumps(sorted(op for op in ops if op_def_registry.get(op) is not None)))
"""
_core_cache = {}  # op type -> registered in a process that imported only TF


def _child_env():
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def _registered_in_core(ops, timeout=300):
    """The subset of ``ops`` that a fresh process importing only TensorFlow
    has registered; cached per process."""
    unknown = sorted(set(ops) - set(_core_cache))
    if unknown:
        result = subprocess.run(
            [sys.executable, "-c", _CORE_SCRIPT],
            input=json.dumps(unknown),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=_child_env(),
            cwd=tempfile.gettempdir(),
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"Expected the op registry check to exit 0. Received: exit {result.returncode}: "
                f"{result.stderr[-2000:]}"
            )
        registered = set(json.loads(result.stdout.strip().splitlines()[-1]))
        _core_cache.update({op: op in registered for op in unknown})
    return {op for op in ops if _core_cache[op]}


def non_core_ops(op_types):
    """The op types that are not core TensorFlow ops: not registered in a
    process that imported only TensorFlow, Python callbacks (``PyFunc``,
    ``EagerPyFunc``, ``PyFuncStateless``), or ``IO*`` (tensorflow_io) ops."""
    op_types = set(op_types)
    flagged = {op for op in op_types if op in PYTHON_CALLBACK_OPS or op.startswith(IO_OP_PREFIX)}
    rest = op_types - flagged
    return flagged | (rest - _registered_in_core(rest))


# ------------------------------------------------------------------- running


def _automatic_shape(info):
    named = NAMED_INPUTS.get(info.name, InputDefault())
    if info.shape is None:  # unknown rank: the named shape, else a scalar
        return tuple(BATCH_SIZE if s is None else s for s in named.shape) if named.shape else ()
    shape = []
    for axis, size in enumerate(info.shape):
        if size is None and named.shape and axis < len(named.shape):
            size = named.shape[axis]
        if size is None:
            size = BATCH_SIZE if axis == 0 else UNKNOWN_DIM
        shape.append(size)
    return tuple(shape)


def automatic_input(info, seed=0):
    """A small valid value for one input spec (a NumPy array; floats are
    sent as float32, integers as int64, and cast to the spec's dtype in the
    fresh process)."""
    shape = _automatic_shape(info)
    value = NAMED_INPUTS.get(info.name, InputDefault()).value
    if info.dtype == "string":
        return np.full(shape, b"" if value is None else value, dtype=object).astype(bytes)
    if info.dtype == "bool":
        return np.full(shape, bool(value))
    if info.dtype.startswith(("int", "uint")):
        return np.full(shape, 0 if value is None else value, dtype=np.int64)
    if info.dtype.startswith(("float", "bfloat", "half", "complex", "double")):
        if value is not None:
            return np.full(shape, value, dtype=np.float32)
        rng = np.random.default_rng(seed)
        return (FLOAT_SCALE * rng.standard_normal(shape)).astype(np.float32)
    raise ParameterError(
        f"Expected an input dtype with an automatic value (string, bool, int, float). Received: "
        f"{info}; pass it in example_inputs"
    )


def example_inputs_for(signature, overrides=None):
    """Input name -> NumPy array for one signature: the automatic values,
    with the inputs in ``overrides`` (name -> array-like) replacing them.

    Raises:
        ParameterError: if an override names no input of the signature.
    """
    overrides = dict(overrides or {})
    extra = sorted(set(overrides) - set(signature.inputs))
    if extra:
        raise ParameterError(
            f"Expected example inputs among {sorted(signature.inputs)} of signature "
            f"{signature.key!r}. Received: {extra}"
        )
    feeds = {}
    for name, info in signature.inputs.items():
        if name in overrides:
            value = np.asarray(overrides[name])
            if value.dtype.kind == "U":
                value = np.char.encode(value, "utf-8")
            elif value.dtype.kind == "O":
                value = value.astype(bytes)
        else:
            value = automatic_input(info)
        feeds[name] = value
    return feeds


_RUN_SCRIPT = r"""
import json, os, sys, time
import numpy as np
import tensorflow as tf

inputs_file, result_file = sys.argv[1:3]
results = {}


def write():
    with open(result_file + ".part", "w") as f:
        json.dump(results, f)
    os.replace(result_file + ".part", result_file)


with np.load(inputs_file, allow_pickle=False) as arrays:
    plan = json.loads(str(arrays["__plan__"]))  # [[path, key, [input names]], ...]
    ops = json.loads(str(arrays["__ops__"]))  # op types to look up in the registry
    feeds_of = [
        {name: arrays[f"c{j}_input{i}"] for i, name in enumerate(names)}
        for j, (_, _, names) in enumerate(plan)
    ]
# The op registry of a process that imported only TensorFlow, before any load.
from tensorflow.python.framework import op_def_registry

assert "tensorflow_io" not in sys.modules, "tensorflow_io was imported"
results["__registered__"] = sorted(op for op in ops if op_def_registry.get(op) is not None)
write()
loaded = {}  # path -> (model, load error)
for j, (path, key, _) in enumerate(plan):
    if path not in loaded:
        try:
            loaded[path] = (tf.saved_model.load(path), None)
        except Exception as e:
            loaded[path] = (None, f"{type(e).__name__}: {str(e).strip()}")
    model, load_error = loaded[path]
    result = {"ok": False}
    start = time.perf_counter()
    try:
        if load_error:
            raise RuntimeError(load_error)
        function = model.signatures[key]
        specs = function.structured_input_signature[1]
        feeds = {}
        for name, array in feeds_of[j].items():
            value = tf.constant(array)
            if name in specs and value.dtype != specs[name].dtype and value.dtype != tf.string:
                value = tf.cast(value, specs[name].dtype)
            feeds[name] = value
        outputs = function(**feeds)
        result["outputs"] = {k: [v.dtype.name, list(v.shape)] for k, v in sorted(outputs.items())}
        result["ok"] = True
    except Exception as e:
        result["error"] = f"{type(e).__name__}: {str(e).strip()}"
    result["seconds"] = time.perf_counter() - start
    # The project's code and extra op libraries must not be needed (TensorFlow
    # itself imports keras, so that one can't be checked).
    imported = sorted({m.split(".")[0] for m in sys.modules} & {"vocal_xai", "tensorflow_io"})
    if imported:
        result["ok"] = False
        suffix = f" (the fresh process imported {imported})"
        result["error"] = (result.get("error", "") + suffix).strip()
    results[str(j)] = result
    write()
"""


def _run_calls(calls, timeout, ops=()):
    """Make every call (path, signature key, {input name -> array}) in one
    fresh process that loads each SavedModel once, as a server loads the
    models of its configuration; results are written after every call, so a
    crash or timeout names the calls it stopped. Before any load the process
    also looks ``ops`` up in its registry, for ``_registered_in_core``.
    Returns a RunResult per call, in order."""
    if not calls:
        return []
    ops = sorted(set(ops) - set(_core_cache))
    plan = [[str(pathlib.Path(path).resolve()), key, list(feeds)] for path, key, feeds in calls]
    arrays = {
        f"c{j}_input{i}": value
        for j, (_, _, feeds) in enumerate(calls)
        for i, value in enumerate(feeds.values())
    }
    with tempfile.TemporaryDirectory(prefix="serving-check-") as tmp:
        tmp = pathlib.Path(tmp)
        np.savez(
            tmp / "inputs.npz",
            __plan__=np.array(json.dumps(plan)),
            __ops__=np.array(json.dumps(ops)),
            **arrays,
        )
        result_file = tmp / "result.json"
        cmd = [sys.executable, "-c", _RUN_SCRIPT, str(tmp / "inputs.npz"), str(result_file)]
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=timeout * len(calls),
                env=_child_env(),
                cwd=tmp,
            )
            stopped = (
                f"the fresh process exited with {proc.returncode} and no result: "
                f"{proc.stderr.strip()[-2000:]}"
            )
        except subprocess.TimeoutExpired:
            stopped = f"timed out after {timeout * len(calls)} s ({timeout} s per signature)"
        results = json.loads(result_file.read_text()) if result_file.is_file() else {}
    if "__registered__" in results:
        registered = set(results["__registered__"])
        _core_cache.update({op: op in registered for op in ops})
    runs = []
    for j, (_, key, feeds) in enumerate(calls):
        fed = {name: list(value.shape) for name, value in feeds.items()}
        result = results.get(str(j))
        if result is None:
            runs.append(RunResult(key, False, fed, error=stopped))
            continue
        outputs = {
            k: (dtype, tuple(shape)) for k, (dtype, shape) in result.get("outputs", {}).items()
        }
        runs.append(
            RunResult(key, result["ok"], fed, outputs, result.get("error", ""), result["seconds"])
        )
    return runs


def _plan(path, sigs, example_inputs):
    """(key -> inputs of every signature that has them, key -> RunResult of
    those whose example inputs are wrong).

    Raises:
        ParameterError: if example_inputs names an unknown signature.
    """
    example_inputs = dict(example_inputs or {})
    unknown = sorted(set(example_inputs) - set(sigs))
    if unknown:
        raise ParameterError(
            f"Expected example inputs for signatures among {sorted(sigs)} of {path}. "
            f"Received: {unknown}"
        )
    planned, failed = {}, {}
    for key, signature in sigs.items():
        try:
            planned[key] = example_inputs_for(signature, example_inputs.get(key))
        except ParameterError as e:
            failed[key] = RunResult(key, False, error=str(e))
    return planned, failed


def run_in_fresh_process(path, timeout=300, example_inputs=None):
    """Call every signature of a SavedModel in one fresh process that imports
    only TensorFlow and NumPy and loads the model once (``check`` runs every
    model it checks in one such process).

    Args:
        path: a SavedModel folder.
        timeout: seconds allowed per signature (the process gets this times
            the number of signatures, for its start, the load and the calls).
        example_inputs: signature key -> {input name -> array-like}, replacing
            the automatic inputs (see ``NAMED_INPUTS``) of those inputs.

    Returns:
        Signature key -> RunResult (ok, fed input shapes, output dtypes and
        shapes and the call's seconds, or the error text).

    Raises:
        ParameterError: if example_inputs names an unknown signature or input.
    """
    sigs = signatures(path)
    planned, results = _plan(path, sigs, example_inputs)
    calls = [(path, key, feeds) for key, feeds in planned.items()]
    results.update(zip(planned, _run_calls(calls, timeout), strict=True))
    return {key: results[key] for key in sigs}


# --------------------------------------------------------------------- check


def check(paths, timeout=300, example_inputs=None, run=True):
    """Check SavedModels for serving.

    Args:
        paths: SavedModel folders.
        timeout: seconds allowed per signature run.
        example_inputs: path -> (signature key -> {input name -> array-like}).
        run: False skips running the signatures (ops and signatures only).

    Returns:
        A Report: per model its signatures, op types, non-core ops, run results
        and problems; ``ok`` only if no model has a non-core op, a signature
        that failed to run, or no signature at all.
    """
    example_inputs = {pathlib.Path(p).resolve(): v for p, v in (example_inputs or {}).items()}
    reports = []
    for path in paths:
        path = pathlib.Path(path)
        report = ModelReport(path)
        reports.append(report)
        try:
            report.signatures = signatures(path)
            report.op_types = op_types(path)
        except ParameterError as e:
            report.problems.append(str(e))
            continue
        if not report.signatures:
            report.problems.append("no signature to serve")
    calls, owners = [], []  # every model's calls, made in one fresh process
    for report in reports:
        if run and report.op_types and report.signatures:
            try:
                planned, report.runs = _plan(
                    report.path, report.signatures, example_inputs.get(report.path.resolve())
                )
            except ParameterError as e:
                report.problems.append(str(e))
                continue
            calls += [(report.path, key, feeds) for key, feeds in planned.items()]
            owners += [report] * len(planned)
    # One registry lookup for every model's ops (in the process that runs the
    # calls, if any), then per model from the cache.
    ops = set().union(*(r.op_types for r in reports)) - PYTHON_CALLBACK_OPS
    for report, result in zip(owners, _run_calls(calls, timeout, ops), strict=True):
        report.runs[result.signature] = result
    _registered_in_core(ops)
    for report in reports:
        if not report.op_types:
            continue
        report.non_core_ops = non_core_ops(report.op_types)
        if report.non_core_ops:
            report.problems.append(
                f"non-core ops {sorted(report.non_core_ops)}: a server without this Python code "
                f"can't run them"
            )
        report.runs = {key: report.runs[key] for key in report.signatures if key in report.runs}
        for key, result in report.runs.items():
            if not result.ok:
                report.problems.append(f"signature {key!r} failed: {first_lines(result.error)}")
    return Report(reports)


def first_lines(text, limit=3, width=300):
    """The first non-empty lines of an error, for one-line summaries."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    short = " | ".join(lines[:limit])
    return short if len(short) <= width else short[: width - 3] + "..."
