"""Versioned SavedModel export in the TF Serving layout.

``saved_models/<name>/<integer version>/`` holds a SavedModel. Each version is
written to a temporary folder beside it and renamed into place, so a version
folder is either complete or absent, and an existing version is never
overwritten. Files that are not part of the graph go in ``assets.extra/``,
which TF Serving ignores.

The explanation work needs gradients through any layer of a model, so a
Keras model is exported with its architecture (``<name>.json``, the Keras
config) beside the SavedModel, and loads back as Keras with the weights read
from the SavedModel's own variables: the weights are stored once. (Versions
written before this carry a full ``<name>.keras`` copy instead; both load.)
"""

import json
import os
import pathlib
import shutil

import tensorflow as tf

from vocal_xai.errors import ParameterError

EXTRA = "assets.extra"


def versions(model_base):
    """Integer versions present under ``model_base``, ascending."""
    base = pathlib.Path(model_base)
    if not base.is_dir():
        return []
    return sorted(int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit())


def next_version(model_base):
    existing = versions(model_base)
    return existing[-1] + 1 if existing else 1


def export_module(module, model_base, signatures, version=None, extra_files=None):
    """Write ``module`` as a new SavedModel version, atomically.

    Args:
        module: a ``tf.Module`` that tracks every variable the signatures use.
        model_base: ``saved_models/<name>``.
        signatures: dict of signature name -> concrete function.
        version: integer version; the next free one when None.
        extra_files: dict of file name -> callable(path) that writes it into
            ``assets.extra/``.

    Returns:
        The version folder.

    Raises:
        ParameterError: if the version exists or is not a positive integer.
    """
    base = pathlib.Path(model_base)
    version = next_version(base) if version is None else version
    if not isinstance(version, int) or version < 1:
        raise ParameterError(f"Expected a positive integer version. Received: version={version!r}")
    final = base / str(version)
    if final.exists():
        raise ParameterError(
            f"Expected a new version; {final} exists and versions are never overwritten. "
            f"Received: version={version}"
        )
    base.mkdir(parents=True, exist_ok=True)
    tmp = base / f".tmp-{version}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        tf.saved_model.save(module, str(tmp), signatures=signatures)
        if extra_files:
            (tmp / EXTRA).mkdir()
            for name, write in extra_files.items():
                write(tmp / EXTRA / name)
        os.rename(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return final


METADATA_FILE = "metadata.json"


def write_metadata(path, metadata):
    """``metadata`` as indented, key-sorted JSON."""
    pathlib.Path(path).write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")


# The attribute under which a serving module tracks its Keras model's
# variables, in ``model.variables`` order.
MODEL_VARIABLES = "model_variables"


def _variable_key(index):
    return f"{MODEL_VARIABLES}/{index}/.ATTRIBUTES/VARIABLE_VALUE"


def export_keras(model, module, model_base, name, metadata, version=None):
    """Export ``module`` (the serving graph of ``model``) as a new version,
    with ``model``'s Keras config as ``assets.extra/<name>.json`` and
    ``metadata`` (plus the parameter count) as ``assets.extra/metadata.json``.

    Raises:
        ParameterError: if ``module`` does not track ``model.variables`` as
            ``module.model_variables``, in order.
    """
    tracked = getattr(module, MODEL_VARIABLES, None)
    if (
        tracked is None
        or len(tracked) != len(model.variables)
        or any(tuple(t.shape) != tuple(v.shape) for t, v in zip(tracked, model.variables))
    ):
        raise ParameterError(
            "Expected the serving module to track the model's "
            f"{len(model.variables)} variables, in order, as `{MODEL_VARIABLES}`. Received: "
            f"{'none' if tracked is None else f'{len(tracked)} variables'}"
        )
    import keras

    architecture = {
        "model": keras.saving.serialize_keras_object(model),
        "build_config": model.get_build_config(),
    }
    metadata = {**metadata, "parameters": int(model.count_params())}
    return export_module(
        module,
        model_base,
        module.signatures(),
        version=version,
        extra_files={
            f"{name}.json": lambda path: path.write_text(json.dumps(architecture, indent=1) + "\n"),
            METADATA_FILE: lambda path: write_metadata(path, metadata),
        },
    )


def load_keras(version_dir, name):
    """The Keras model of a SavedModel version written by ``export_keras``:
    built from ``assets.extra/<name>.json`` with the SavedModel's weights (or,
    for older versions, loaded from ``assets.extra/<name>.keras``).

    Raises:
        ParameterError: if the version has neither file, or its variables do
            not fit the architecture.
    """
    import keras

    version_dir = pathlib.Path(version_dir)
    legacy = version_dir / EXTRA / f"{name}.keras"
    if legacy.is_file():
        return keras.models.load_model(str(legacy))
    path = version_dir / EXTRA / f"{name}.json"
    if not path.is_file():
        raise ParameterError(
            f"Expected a Keras architecture at {path} (or a model at {legacy}). "
            "Received: no such file"
        )
    architecture = json.loads(path.read_text())
    model = keras.saving.deserialize_keras_object(architecture["model"])
    if not model.built and architecture.get("build_config"):
        model.build_from_config(architecture["build_config"])
    reader = tf.train.load_checkpoint(
        str(version_dir / tf.saved_model.VARIABLES_DIRECTORY / tf.saved_model.VARIABLES_FILENAME)
    )
    stored = sum(
        1 for key in reader.get_variable_to_shape_map() if key.startswith(f"{MODEL_VARIABLES}/")
    )
    if stored != len(model.variables):
        raise ParameterError(
            f"Expected {len(model.variables)} variables in {version_dir} "
            f"for the architecture in {path}. "
            f"Received: {stored}"
        )
    for index, variable in enumerate(model.variables):
        value = reader.get_tensor(_variable_key(index))
        if tuple(value.shape) != tuple(variable.shape):
            raise ParameterError(
                f"Expected variable {index} ({variable.path}) of shape {tuple(variable.shape)} in "
                f"{version_dir}. Received: shape {tuple(value.shape)}"
            )
        variable.assign(value)
    return model
