"""Any singing-voice detector behind the interface of SVDNet.

The explain code (``explain.ascent``, ``explain.run``, ``explain.selection``)
and the whole-song predictor use a detector as a functional Keras model on
raw log-mel excerpts (natural log of mel power, floored at log(1e-7)):

- ``detector(log_mel)``: ``[batch, 115, 80]`` -> a dict with ``logit``
  ``[batch, 1]`` (the vocal logit), ``probability`` ``[batch, 1]`` and one
  entry per exposed layer;
- ``detector.get_layer(name).output``: that entry as a symbolic tensor, so a
  probe model can output any subset of them;
- ``detector.embedding_names``: the layers with one vector per excerpt that
  the Fréchet distance compares (the last one by default).

``SVDNet`` has this interface itself. ``adapt`` gives it to

- any Keras model on raw log-mel ``[batch, 115, 80]`` or
  ``[batch, 115, 80, 1]`` whose output is a vocal logit or probability, one
  unit per excerpt or two (non-vocal, vocal): ``KerasDetector``, a
  functional view of the model that outputs its chosen layers;
- a SavedModel signature from log-mel: ``SavedModelDetector``, whose layers
  are the signature's outputs. Gradients flow through the signature's
  concrete function; the layers inside the SavedModel are out of reach.

A SavedModel with only a waveform signature (``[batch, samples]`` at
22050 Hz, with the front-end of ``vocal_xai.spectral``) is a
``WaveformDetector``: it predicts whole songs but can't be explained, since
the generator makes log-mel excerpts.

A probability ``p`` becomes the logit ``log(p) - log(1 - p)`` with ``p``
clipped to ``[1e-7, 1 - 1e-7]``, so such logits stay within +-16.1; a Keras
``Dense`` output layer with a sigmoid (or a two-unit softmax) gives its logit
exactly instead, from its pre-activation.
Whether an output is a logit or a probability is read from its name
(``logit``, ``prob...``) or, failing that, from the last operation that
computes it (a sigmoid or a softmax makes a probability); ``output=`` says
it explicitly.
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from vocal_xai import spectral
from vocal_xai.errors import ParameterError
from vocal_xai.models.detector.svdnet_backbone import SVDNet

OUTPUTS = ("auto", "logit", "probability")
KINDS = ("logit", "probability")
EPSILON = 1e-7
EXCERPT_SHAPE = (spectral.EXCERPT_FRAMES, spectral.NUM_MEL_BANDS)
# Samples of the waveform behind one 115-frame excerpt.
EXCERPT_SAMPLES = (spectral.EXCERPT_FRAMES - 1) * spectral.HOP_LENGTH + spectral.FRAME_LENGTH
KERAS_SUFFIXES = (".keras", ".h5")

# Layers that pass values through unchanged at inference: never embeddings.
_PASS_THROUGH = (
    keras.layers.Dropout,
    keras.layers.SpatialDropout1D,
    keras.layers.SpatialDropout2D,
    keras.layers.SpatialDropout3D,
    keras.layers.GaussianNoise,
    keras.layers.GaussianDropout,
    keras.layers.AlphaDropout,
    keras.layers.ActivityRegularization,
    keras.layers.Identity,
)
# Operations that move or cast values without changing them.
_SHAPE_OPS = {
    "Identity",
    "Reshape",
    "Squeeze",
    "ExpandDims",
    "StridedSlice",
    "Cast",
    "Snapshot",
    "EnsureShape",
    "CheckNumerics",
}
_CALL_OPS = {"PartitionedCall", "StatefulPartitionedCall"}
_PROBABILITY_OPS = {"Sigmoid", "Softmax"}


def vocal_score(score, kind, units=1, output="logit", epsilon=EPSILON):
    """The vocal logit or probability of a detector's score.

    Args:
        score: the score, ``units`` values per row. [shape=(rows, units)]
        kind: what the score is, "logit" or "probability".
        units: 1 (vocal) or 2 (non-vocal, vocal).
        output: "logit" or "probability".
        epsilon: a probability is clipped to ``[epsilon, 1 - epsilon]``
            before its log-odds.

    Returns:
        float32. [shape=(rows, 1)]
    """
    x = ops.reshape(ops.cast(score, "float32"), (-1, units))
    if kind == "logit":
        logit = x[:, 1:] - x[:, :1] if units == 2 else x
        return logit if output == "logit" else ops.sigmoid(logit)
    p = x[:, 1:] if units == 2 else x
    if output == "probability":
        return p
    # In float64, so that the clip is symmetric (1 - 1e-7 is not a float32).
    p = ops.clip(ops.cast(p, "float64"), epsilon, 1.0 - epsilon)
    return ops.cast(ops.log(p) - ops.log1p(-p), "float32")


@keras.saving.register_keras_serializable(package="vocal_xai")
class ScoreHead(keras.layers.Layer):
    """The vocal logit or probability ``[batch, 1]`` of a detector's score.

    Computes in float32 under any dtype policy.

    Args:
        kind: what the score is, "logit" or "probability".
        units: 1 (vocal) or 2 (non-vocal, vocal). With two logits the vocal
            logit is their difference; with two probabilities the vocal one
            is read.
        output: what the layer returns, "logit" or "probability".
        epsilon: a probability is clipped to ``[epsilon, 1 - epsilon]``
            before its log-odds.
    """

    def __init__(self, kind, units=1, output="logit", epsilon=EPSILON, **kwargs):
        kwargs["dtype"] = "float32"
        kwargs["trainable"] = False
        super().__init__(**kwargs)
        if kind not in KINDS or output not in KINDS:
            raise ParameterError(
                f"Expected kind and output in {list(KINDS)}. "
                f"Received: kind={kind!r}, output={output!r}"
            )
        if units not in (1, 2):
            raise ParameterError(f"Expected units in [1, 2]. Received: units={units!r}")
        if not 0.0 < epsilon < 0.5:
            raise ParameterError(f"Expected 0 < epsilon < 0.5. Received: epsilon={epsilon}")
        self.kind = kind
        self.units = int(units)
        self.output_kind = output
        self.epsilon = float(epsilon)

    def call(self, score):
        return vocal_score(score, self.kind, self.units, self.output_kind, self.epsilon)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "kind": self.kind,
                "units": self.units,
                "output": self.output_kind,
                "epsilon": self.epsilon,
            }
        )
        return config


def _units(shape):
    """Values per excerpt of a per-excerpt shape (None when unknown)."""
    return None if any(d is None for d in shape) else int(np.prod(shape, dtype=np.int64))


def _fresh_name(base, taken):
    """``base``, or ``base_1``, ``base_2``, ... whichever is not in ``taken``."""
    name, i = base, 0
    while name in taken:
        i += 1
        name = f"{base}_{i}"
    return name


def _check_output(output):
    if output not in OUTPUTS:
        raise ParameterError(f"Expected output in {list(OUTPUTS)}. Received: output={output!r}")


def _kind_from_name(name):
    lowered = name.lower()
    if "logit" in lowered:
        return "logit"
    if any(word in lowered for word in ("prob", "sigmoid", "softmax")):
        return "probability"
    return None


def _last_value_op(graph, tensor):
    """Type of the last operation behind ``tensor`` that changes its values
    (through identities, reshapes, casts and function calls), or None when
    it can't be followed."""
    graph_def = graph.as_graph_def()
    library = {f.signature.name: f for f in graph_def.library.function}

    def follow(ref, nodes, depth):
        if depth > 200:
            return None
        parts = ref.split(":")
        node = nodes.get(parts[0])
        if node is None:  # an argument of the enclosing function
            return None
        index = int(parts[-1]) if len(parts) > 1 else 0
        inputs = [i for i in node.input if not i.startswith("^")]
        if node.op in _CALL_OPS:
            function = library.get(node.attr["f"].func.name)
            if function is None or index >= len(function.signature.output_arg):
                return None
            inner = {n.name: n for n in function.node_def}
            return follow(function.ret[function.signature.output_arg[index].name], inner, depth + 1)
        if node.op == "IdentityN":
            return follow(inputs[index], nodes, depth + 1) if index < len(inputs) else None
        if node.op in _SHAPE_OPS:
            return follow(inputs[0], nodes, depth + 1)
        return node.op

    return follow(tensor.name, {n.name: n for n in graph_def.node}, 0)


def _score_kind(name, output, last_op):
    """ "logit" or "probability" for score output ``name``.

    Args:
        name: the output's name.
        output: "auto", "logit" or "probability".
        last_op: a callable giving the type of the last value-changing
            operation behind the output (or None), asked only when needed.
    """
    _check_output(output)
    if output != "auto":
        return output
    kind = _kind_from_name(name)
    if kind is not None:
        return kind
    op = last_op()
    if op is None:
        raise ParameterError(
            f"Expected to tell whether output {name!r} is a logit or a probability; "
            "neither its name nor "
            "its last operation says. Pass output='logit' or output='probability' "
            "(--detector_output= in the tools). Received: output='auto'"
        )
    return "probability" if op in _PROBABILITY_OPS else "logit"


def _pick_score(units, score=None):
    """The name of the output that holds the vocal score.

    Args:
        units: dict output name -> values per excerpt.
        score: a name to use, or None for the output named "logit" (then
            "probability"), else the only output of one or two units.
    """
    if score is None:
        for name in ("logit", "probability"):
            if name in units:
                score = name
                break
        else:
            candidates = [n for n, u in units.items() if u in (1, 2)]
            if len(candidates) == 1:
                score = candidates[0]
    if score not in units or units[score] not in (1, 2):
        raise ParameterError(
            "Expected one output of one unit (a vocal logit or probability) "
            "or two (non-vocal, vocal), "
            "or an output named 'logit' or 'probability'. Received: outputs "
            + ", ".join(f"{n!r} ({u} units)" for n, u in units.items())
        )
    return score


def _named_outputs(struct):
    """Output name -> tensor of a model's output structure."""
    if isinstance(struct, dict):
        return dict(struct)
    if isinstance(struct, (list, tuple)):
        if len(struct) == 1:
            return {"output": struct[0]}
        return {f"output_{i}": t for i, t in enumerate(struct)}
    return {"output": struct}


def _graph_of(model):
    """(inputs, output structure) of a functional or Sequential model, or
    None for a subclassed one."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs:
        return None
    try:
        struct = model.output
    except (AttributeError, ValueError):
        outputs = model.outputs
        struct = outputs[0] if len(outputs) == 1 else list(outputs)
    return inputs, struct


def _input_layout(model, graph):
    """(115, 80) or (115, 80, 1): the excerpt layout ``model`` takes."""
    layouts = (EXCERPT_SHAPE, EXCERPT_SHAPE + (1,))
    if graph is not None:
        inputs = graph[0]
        shape = tuple(inputs[0].shape[1:]) if len(inputs) == 1 else None
        for layout in layouts:
            if (
                shape is not None
                and len(shape) == len(layout)
                and all(s in (None, want) for s, want in zip(shape, layout))
            ):
                return layout
        received = [tuple(i.shape) for i in inputs]
    else:
        for layout in layouts:
            try:
                model.compute_output_spec(keras.KerasTensor((None,) + layout))
                return layout
            except (ValueError, TypeError, tf.errors.OpError):
                continue
        received = "a model that accepts neither"
    raise ParameterError(
        "Expected a Keras model on raw log-mel [batch, 115, 80] or [batch, 115, 80, 1]. "
        f"Received: input shape {received}"
    )


def _describe(shapes, names=None):
    names = list(shapes) if names is None else names
    return ", ".join(
        f"{n} [0, {_units(shapes[n]) - 1}]" if _units(shapes[n]) else f"{n} [?]" for n in names
    )


@keras.saving.register_keras_serializable(package="vocal_xai")
class KerasDetector(keras.Model):
    """A Keras detector on raw log-mel behind SVDNet's interface.

    The model's layers and weights are shared, not copied.

    Args:
        model: a Keras model on raw log-mel ``[batch, 115, 80]`` or
            ``[batch, 115, 80, 1]`` whose output is the vocal logit or
            probability (one unit per excerpt, or two: non-vocal, vocal).
            With several outputs, the one named ``logit`` (or
            ``probability``) is read.
        layers: names of the model's layers to output besides ``logit``,
            ``probability`` and the embeddings (a functional or Sequential
            model only; a subclassed model exposes its outputs only).
        output: "logit", "probability", or "auto" (see the module).
        score: the name of the output to read; None picks it as above.

    Outputs, by name:
        logit         [batch, 1]  the vocal logit
        probability   [batch, 1]  the vocal probability
        <layer>       [batch, ...] each exposed layer's activations
    """

    def __init__(self, model, layers=None, output="auto", score=None, **kwargs):
        _check_output(output)
        graph = _graph_of(model)
        layout = _input_layout(model, graph)

        # Per-excerpt shapes of every layer, and the model's named outputs.
        if graph is not None:
            named = {l.name: l for l in model.layers if not isinstance(l, keras.layers.InputLayer)}
            specs = keras.Model(graph[0], [l.output for l in named.values()]).compute_output_spec(
                keras.KerasTensor((None,) + layout)
            )
            shapes = {n: tuple(s.shape[1:]) for n, s in zip(named, specs)}
            struct = graph[1]
        else:
            named, shapes = {}, {}
            struct = model.compute_output_spec(keras.KerasTensor((None,) + layout))
        outputs = _named_outputs(struct)
        out_specs = _named_outputs(model.compute_output_spec(keras.KerasTensor((None,) + layout)))
        score = _pick_score({n: _units(tuple(t.shape[1:])) for n, t in out_specs.items()}, score)
        units = _units(tuple(out_specs[score].shape[1:]))
        kind = _score_kind(score, output, lambda: _keras_last_op(model, layout, score))

        # Embeddings: layers with one vector per excerpt, not the score.
        score_layer = next((n for n, l in named.items() if l.output is outputs.get(score)), None)
        embeddings = tuple(
            n
            for n, l in named.items()
            if len(shapes[n]) == 1
            and (shapes[n][0] or 0) > 1
            and n != score_layer
            and n not in KINDS
            and not isinstance(l, _PASS_THROUGH)
        )
        requested = [n for n in (layers or ()) if n in named and n not in KINDS]
        exposed = tuple(dict.fromkeys(embeddings + tuple(requested)))
        # A Dense head with a sigmoid (or a two-unit softmax) gives its logit
        # exactly, before the activation saturates.
        head = named.get(score_layer)
        exact = (
            kind == "probability"
            and isinstance(head, keras.layers.Dense)
            and getattr(head.activation, "__name__", "") == {1: "sigmoid", 2: "softmax"}[units]
        )

        # Raw log-mel in; the model's layers and score out, under their names.
        inputs = keras.Input(EXCERPT_SHAPE, name=_fresh_name("log_mel", named))
        x = inputs
        if len(layout) == 3:
            x = keras.layers.Reshape(layout, name=_fresh_name("add_channel", named))(x)
        if graph is not None:
            tensors = (
                [named[n].output for n in exposed]
                + [outputs[score]]
                + ([head.input] if exact else [])
            )
            view = keras.Model(graph[0], tensors, name=_fresh_name(f"{model.name}_view", named))
            values = view(x)
            values = list(values) if isinstance(values, (list, tuple)) else [values]
            head_input = values.pop() if exact else None
            score_value = values.pop()
        else:
            values, score_value = [], _named_outputs(model(x))[score]
        result = {n: keras.layers.Identity(name=n)(v) for n, v in zip(exposed, values)}
        if exact:
            logits = DenseLogits(head, name=_fresh_name(f"{head.name}_logits", named))(head_input)
            result["logit"] = ScoreHead("logit", units, "logit", name="logit")(logits)
        else:
            result["logit"] = ScoreHead(kind, units, "logit", name="logit")(score_value)
        result["probability"] = ScoreHead(kind, units, "probability", name="probability")(
            score_value
        )
        super().__init__(inputs=inputs, outputs=result, **kwargs)

        self.source = model
        self.kind = kind
        self.score = score
        self.exposed = exposed
        self.exact_logit = kind == "logit" or exact
        self.layer_shapes = {
            **{n: s for n, s in shapes.items() if n not in KINDS},
            "logit": (1,),
            "probability": (1,),
        }
        self._embedding_names = embeddings
        self.limits = (
            ""
            if graph is not None
            else (
                " A subclassed Keras model exposes only its outputs; "
                "its inner layers are out of reach: "
                "rebuild it as a functional or Sequential model to explain one."
            )
        )

    @property
    def embedding_names(self):
        return self._embedding_names

    def with_layers(self, layers):
        """This detector with ``layers`` exposed too (the same weights)."""
        missing = [
            n for n in layers if n in self.layer_shapes and n not in self.exposed and n not in KINDS
        ]
        if not missing:
            return self
        return KerasDetector(self.source, self.exposed + tuple(missing), self.kind, self.score)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "model": keras.saving.serialize_keras_object(self.source),
            "layers": list(self.exposed),
            "output": self.kind,
            "score": self.score,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        model = keras.saving.deserialize_keras_object(config.pop("model"))
        return cls(_under_global_policy(model), **config)


class DenseLogits(keras.layers.Layer):
    """The pre-activation ``x @ kernel + bias`` of a ``Dense`` layer, with
    its weights (shared, not copied), in float32.

    Args:
        dense: the ``Dense`` layer.
    """

    def __init__(self, dense, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(trainable=False, **kwargs)
        self.dense = dense

    def call(self, x):
        y = ops.matmul(ops.cast(x, "float32"), ops.cast(self.dense.kernel, "float32"))
        return y + ops.cast(self.dense.bias, "float32") if self.dense.use_bias else y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.dense.units,)


def _keras_last_op(model, layout, score):
    run = tf.function(lambda x: model(x, training=False))
    concrete = run.get_concrete_function(tf.TensorSpec((None,) + layout, tf.float32))
    outputs = _named_outputs(concrete.structured_outputs)
    return _last_value_op(concrete.graph, outputs[score])


def _under_global_policy(model):
    """``model`` rebuilt so that its layers compute under the global dtype
    policy (as SVDNet's ``from_config`` does); weights are not copied."""
    policy = keras.config.dtype_policy()
    if policy.name == "float32":
        return model
    try:
        return keras.models.clone_model(
            model,
            clone_function=lambda layer: layer.__class__.from_config(
                {**layer.get_config(), "dtype": policy}
            ),
        )
    except (ValueError, TypeError):  # a subclassed model keeps its own policy
        return model


class SignatureCall(keras.layers.Layer):
    """One log-mel signature of a loaded SavedModel as a layer: raw log-mel
    ``[batch, 115, 80]`` -> each output as float32 ``[batch, units]``.

    Args:
        function: the signature's concrete function.
        input_name: its input's name.
        channel: add a channel axis (a ``[batch, 115, 80, 1]`` signature).
        units: dict output name -> values per excerpt.
    """

    def __init__(self, function, input_name, channel, units, **kwargs):
        super().__init__(trainable=False, **kwargs)
        self._function = function
        self._input_name = input_name
        self._input_dtype = function.structured_input_signature[1][input_name].dtype
        self._channel = bool(channel)
        self._units = dict(units)

    def call(self, log_mel):
        x = tf.cast(log_mel, self._input_dtype)
        if self._channel:
            x = x[..., None]
        out = self._function(**{self._input_name: x})
        return {n: tf.reshape(tf.cast(out[n], tf.float32), [-1, u]) for n, u in self._units.items()}

    def compute_output_spec(self, log_mel):
        return {
            n: keras.KerasTensor((log_mel.shape[0], u), "float32") for n, u in self._units.items()
        }


@dataclasses.dataclass
class WaveformSignature:
    """A SavedModel signature from a waveform ``[batch, samples]`` at
    22050 Hz to a vocal score, per frame (70 frames/s, frames as
    ``vocal_xai.spectral`` cuts them) or per excerpt (``EXCERPT_SAMPLES``
    samples, one 115-frame excerpt)."""

    name: str
    function: object
    input_name: str
    score: str
    kind: str
    units: int
    per_frame: bool

    def probability(self, waveform):
        """Vocal probability, float32 ``[batch, frames]`` (per frame) or
        ``[batch]`` (per excerpt)."""
        x = tf.cast(waveform, self.function.structured_input_signature[1][self.input_name].dtype)
        out = tf.cast(self.function(**{self.input_name: x})[self.score], tf.float32)
        p = tf.reshape(vocal_score(out, self.kind, self.units, "probability"), [tf.shape(x)[0], -1])
        return p if self.per_frame else p[:, 0]


def _signature_inputs(function):
    """(input name, TensorSpec) of a one-input signature, or None."""
    kwargs = function.structured_input_signature[1]
    if len(kwargs) != 1 or function.structured_input_signature[0]:
        return None
    ((name, spec),) = kwargs.items()
    return (name, spec) if spec.dtype.is_floating else None


def _probe(function, name, spec, rows):
    """Outputs of ``function`` on ``rows`` (batch of 2), as numpy, or None
    when it refuses them."""
    try:
        out = function(**{name: tf.constant(rows, spec.dtype)})
    except (tf.errors.OpError, ValueError, TypeError):
        return None
    out = {k: v.numpy() for k, v in out.items()}
    return (
        out if out and all(v.ndim >= 1 and v.shape[0] == len(rows) for v in out.values()) else None
    )


def _signature_kind(function, name, spec):
    """("log_mel", channel, outputs) or ("waveform", None, outputs) for a
    signature, from its input shape (or, when unknown, by trying both), or
    None."""
    rng = np.random.default_rng(0)
    log_mel = rng.normal(-4.0, 2.0, (2,) + EXCERPT_SHAPE).astype(np.float32)
    waveform = (0.1 * rng.standard_normal((2, EXCERPT_SAMPLES))).astype(np.float32)
    rank = spec.shape.rank
    tries = []
    if rank in (None, 3):
        tries.append(("log_mel", False, log_mel))
    if rank in (None, 4):
        tries.append(("log_mel", True, log_mel[..., None]))
    if rank in (None, 2):
        tries.append(("waveform", None, waveform))
    if rank is None and any(word in name.lower() for word in ("wav", "audio", "signal", "sample")):
        tries.sort(key=lambda t: t[0] != "waveform")
    for kind, channel, rows in tries:
        if rank is not None and not spec.shape.is_compatible_with(rows.shape):
            continue
        out = _probe(function, name, spec, rows)
        if out is not None:
            return kind, channel, out
    return None


@dataclasses.dataclass
class LogMelSignature:
    """A SavedModel signature from log-mel ``[batch, 115, 80]`` (or
    ``[batch, 115, 80, 1]``: ``channel``) to named outputs, ``units``
    values per excerpt each, the vocal score among them."""

    name: str
    function: object
    input_name: str
    channel: bool
    units: dict
    score: str
    kind: str


@dataclasses.dataclass
class SavedModelSignatures:
    """The signatures of a SavedModel that a detector can use.

    Attributes:
        path: the SavedModel folder.
        loaded: the loaded object (it owns the variables).
        log_mel: signature name -> ``LogMelSignature``.
        waveform: the ``WaveformSignature`` to predict songs with (a
            per-frame one first), or None.
    """

    path: str
    loaded: object
    log_mel: dict
    waveform: object

    @classmethod
    def read(cls, path, output="auto"):
        """Load a SavedModel and sort its signatures by what they read.

        Each one-input signature is called on two probe excerpts of log-mel
        (or of audio) to learn what it takes and gives back.

        Raises:
            ParameterError: when no signature reads log-mel or a waveform
                and returns a vocal score.
        """
        _check_output(output)
        try:
            loaded = tf.saved_model.load(str(path))
        except (OSError, tf.errors.OpError, ValueError) as err:
            raise ParameterError(
                f"Expected a SavedModel at {path}. Received: {str(err).splitlines()[0]}"
            ) from None
        log_mel, waveforms, refused = {}, {}, []
        for name, function in loaded.signatures.items():
            inputs = _signature_inputs(function)
            found = inputs and _signature_kind(function, *inputs)
            if not found:
                refused.append(name)
                continue
            reads, channel, probe = found
            units = {n: _units(probe[n].shape[1:]) for n in sorted(probe)}
            names = sorted(function.structured_outputs)

            def kind_of(score, function=function, names=names):
                def last_op():
                    return _last_value_op(function.graph, function.outputs[names.index(score)])

                return _score_kind(score, output, last_op)

            if reads == "log_mel":
                score = _pick_score(units)
                log_mel[name] = LogMelSignature(
                    name, function, inputs[0], channel, units, score, kind_of(score)
                )
                continue
            # A waveform signature: one value (or two) per frame, or per excerpt.
            frames = spectral.EXCERPT_FRAMES
            per_frame = {n: u // frames for n, u in units.items() if u in (frames, 2 * frames)}
            table = per_frame or {n: u for n, u in units.items() if u in (1, 2)}
            if not table:
                refused.append(name)
                continue
            score = _pick_score(table)
            waveforms[name] = WaveformSignature(
                name, function, inputs[0], score, kind_of(score), table[score], bool(per_frame)
            )
        if not log_mel and not waveforms:
            raise ParameterError(
                "Expected a SavedModel signature from log-mel [batch, 115, 80] or from a waveform "
                "[batch, samples] at 22050 Hz to a vocal logit or probability in "
                f"{path}. Received: signatures {sorted(refused)}"
            )
        # Per-frame signatures first, vocal_xai's "frames" first of all.
        order = sorted(waveforms, key=lambda n: (not waveforms[n].per_frame, n != "frames", n))
        return cls(str(path), loaded, log_mel, waveforms[order[0]] if order else None)


class SavedModelDetector(keras.Model):
    """A SavedModel's log-mel signature behind SVDNet's interface.

    Its layers are the signature's outputs (plus ``logit`` and
    ``probability``); gradients flow through the signature's concrete
    function. Inner layers of the SavedModel can't be reached, and the graph
    keeps its own dtypes (no mixed precision).

    Args:
        signatures: ``SavedModelSignatures`` of the SavedModel.
        signature: the signature to use; None takes ``serving_default`` when
            it reads log-mel, else the first one that does.

    Attributes:
        waveform: a ``WaveformSignature`` of the same SavedModel, or None.
    """

    def __init__(self, signatures, signature=None, **kwargs):
        available = signatures.log_mel
        if signature is None and available:
            signature = (
                "serving_default" if "serving_default" in available else sorted(available)[0]
            )
        if signature not in available:
            raise ParameterError(
                f"Expected a signature from log-mel [batch, 115, 80] in {signatures.path}, one of "
                f"{sorted(available)}. Received: signature={signature!r}"
            )
        sig = available[signature]

        inputs = keras.Input(EXCERPT_SHAPE, name=_fresh_name("log_mel", sig.units))
        values = SignatureCall(
            sig.function,
            sig.input_name,
            sig.channel,
            sig.units,
            name=_fresh_name("signature", sig.units),
        )(inputs)
        exposed = tuple(n for n in sig.units if n not in KINDS)
        result = {n: keras.layers.Identity(name=n)(values[n]) for n in exposed}
        for name in KINDS:
            result[name] = ScoreHead(sig.kind, sig.units[sig.score], name, name=name)(
                values[sig.score]
            )
        super().__init__(inputs=inputs, outputs=result, **kwargs)

        self.signatures_read = signatures
        self.signature = signature
        self.saved_model_path = signatures.path
        self.kind = sig.kind
        self.score = sig.score
        self.exposed = exposed
        self.waveform = signatures.waveform
        self.layer_shapes = {
            **{n: (sig.units[n],) for n in exposed},
            "logit": (1,),
            "probability": (1,),
        }
        self._embedding_names = tuple(n for n in exposed if n != sig.score and sig.units[n] > 1)
        self.limits = (
            f" A SavedModel exposes only the outputs of its signature ({signature!r}), "
            "with gradients through its concrete function; its inner layers are out of reach: "
            "pass the Keras model (a .keras file) to explain one."
        )

    @property
    def embedding_names(self):
        return self._embedding_names

    def get_config(self):
        return {
            "name": self.name,
            "path": self.saved_model_path,
            "signature": self.signature,
            "output": self.kind,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        signatures = SavedModelSignatures.read(config.pop("path"), config.pop("output"))
        return cls(signatures, **config)


class WaveformDetector:
    """A SavedModel with a waveform signature only: it predicts whole songs
    (``waveform``) but can't be explained.

    Args:
        signatures: ``SavedModelSignatures`` of the SavedModel.
    """

    def __init__(self, signatures):
        if signatures.waveform is None:
            raise ParameterError(
                f"Expected a waveform signature in {signatures.path}. Received: none"
            )
        self.signatures_read = signatures
        self.saved_model_path = signatures.path
        self.waveform = signatures.waveform


def load_keras(path, output="auto"):
    """A ``KerasDetector`` of a ``.keras`` (or ``.h5``) file."""
    try:
        model = keras.models.load_model(str(path))
    except (OSError, ValueError) as err:
        raise ParameterError(
            f"Expected a Keras model file at {path}. Received: {str(err).splitlines()[0]}"
        ) from None
    return KerasDetector(model, output=output)


def load_saved_model(path, output="auto", signature=None):
    """A ``SavedModelDetector`` of a SavedModel folder with a log-mel
    signature, else a ``WaveformDetector`` of one with a waveform
    signature."""
    signatures = SavedModelSignatures.read(path, output)
    if signatures.log_mel or signature is not None:
        return SavedModelDetector(signatures, signature)
    return WaveformDetector(signatures)


def adapt(detector, layers=(), output="auto"):
    """``detector`` with SVDNet's interface, exposing ``layers`` too.

    An ``SVDNet``, a ``SavedModelDetector`` and a ``WaveformDetector`` come
    back as they are; a ``KerasDetector`` comes back with ``layers`` added;
    any other Keras model is wrapped in a ``KerasDetector`` (``output`` says
    what its output is). Names that the detector lacks are left for
    ``check_neuron`` and ``check_embedding`` to report.

    Raises:
        ParameterError: for anything else.
    """
    if isinstance(detector, (SVDNet, SavedModelDetector, WaveformDetector)):
        return detector
    if isinstance(detector, KerasDetector):
        return detector.with_layers(layers)
    if isinstance(detector, keras.Model):
        return KerasDetector(detector, layers=layers, output=output)
    raise ParameterError(
        "Expected a Keras model, an SVDNet or a detector loaded by vocal_xai.zoo.load_detector. "
        f"Received: {type(detector).__name__}"
    )


def layer_shapes(detector):
    """Per-excerpt output shape of every layer the detector can expose,
    by name (``logit`` and ``probability`` included)."""
    if isinstance(detector, WaveformDetector):
        return {}
    shapes = getattr(detector, "layer_shapes", None)
    if shapes is None:
        shapes = {
            l.name: tuple(l.output.shape[1:])
            for l in detector.layers
            if not isinstance(l, keras.layers.InputLayer)
        }
    return shapes


def default_embedding(detector):
    """The layer the Fréchet distance compares unless told: the last
    embedding, or the logit for a detector that exposes none."""
    names = tuple(getattr(detector, "embedding_names", ()))
    return names[-1] if names else "logit"


def check_explainable(detector, precision="float32"):
    """Raise ``ParameterError`` unless the explain code can run ``detector``
    at ``precision``."""
    if isinstance(detector, WaveformDetector):
        raise ParameterError(
            f"Expected a detector on log-mel excerpts to explain (the generator makes log-mel); "
            f"{detector.saved_model_path} has only the waveform signature "
            f"{detector.waveform.name!r}, which serves "
            "whole-song prediction. Received: a waveform-only SavedModel"
        )
    if precision != "float32" and isinstance(detector, SavedModelDetector):
        raise ParameterError(
            "Expected precision='float32' for a SavedModel detector "
            "(its graph keeps its own dtypes). "
            f"Received: precision={precision!r}"
        )


def check_neuron(detector, layer, unit):
    """Raise ``ParameterError`` unless ``layer`` is a layer of ``detector``
    and ``unit`` one of its units; the message lists the valid names and
    unit ranges."""
    shapes = layer_shapes(detector)
    if layer not in shapes:
        raise ParameterError(
            f"Expected a layer of the detector, one of (with unit ranges): {_describe(shapes)}."
            f"{getattr(detector, 'limits', '')} Received: layer={layer!r}"
        )
    units = _units(shapes[layer])
    if not isinstance(unit, (int, np.integer)) or unit < 0 or (units is not None and unit >= units):
        high = "?" if units is None else units - 1
        raise ParameterError(
            f"Expected unit in [0, {high}] for layer {layer!r} "
            f"({units} unit{'' if units == 1 else 's'} per "
            f"excerpt). Received: unit={unit}"
        )


def check_embedding(detector, embedding=None):
    """The embedding to compare (``default_embedding`` for None); raise
    ``ParameterError`` unless it is a layer with one vector per excerpt."""
    embedding = default_embedding(detector) if embedding is None else embedding
    shapes = layer_shapes(detector)
    vectors = [n for n, s in shapes.items() if len(s) == 1 and s[0]]
    if embedding not in vectors:
        what = f" (shape per excerpt {shapes[embedding]})" if embedding in shapes else ""
        raise ParameterError(
            f"Expected an embedding layer with one vector per excerpt, one of (with unit ranges): "
            f"{_describe(shapes, vectors)}.{getattr(detector, 'limits', '')} "
            f"Received: embedding={embedding!r}{what}"
        )
    return embedding
