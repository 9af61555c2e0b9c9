"""Versioned SavedModel export in the TF Serving layout.

``saved_models/<name>/<integer version>/`` holds a SavedModel. Each version is
written to a temporary folder beside it and renamed into place, so a version
folder is either complete or absent, and an existing version is never
overwritten. Files that are not part of the graph (a ``.keras`` copy of the
model for gradients, metadata) go in ``assets.extra/``, which TF Serving
ignores.
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


def export_keras(model, module, model_base, keras_file, metadata, version=None):
    """Export ``module`` (the serving graph of ``model``) as a new version,
    with ``model`` as ``assets.extra/<keras_file>`` (for gradients) and
    ``metadata`` (plus the parameter count) as ``assets.extra/metadata.json``."""
    metadata = {**metadata, "parameters": int(model.count_params())}
    return export_module(
        module,
        model_base,
        module.signatures(),
        version=version,
        extra_files={
            keras_file: lambda path: model.save(str(path)),
            METADATA_FILE: lambda path: write_metadata(path, metadata),
        },
    )


def load_keras(version_dir, keras_file):
    """The Keras model shipped beside a SavedModel version."""
    import keras

    path = pathlib.Path(version_dir) / EXTRA / keras_file
    if not path.is_file():
        raise ParameterError(f"Expected a Keras model at {path}. Received: no such file")
    return keras.models.load_model(str(path))
