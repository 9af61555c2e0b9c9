"""The model zoo: names -> shipped SavedModels and their metadata.

Shipped models live in ``saved_models/<name>/<integer version>/`` at the top of
the repository (``VOCAL_XAI_ZOO`` overrides the folder). A name resolves to
its newest version unless a version is given (``detector/4`` names version 4);
a path to a version folder or to a ``<name>`` folder works too. A detector can
also be a ``.keras`` file or any SavedModel folder (see ``load_detector``).
"""

import json
import os
import pathlib

from vocal_xai import cache, export
from vocal_xai.errors import ParameterError

REGISTRY = {
    "detector": "SVDNet singing-voice detector trained on the synthetic default corpus",
    "generator": "conditional DCGAN generator trained on the synthetic default corpus",
    "explainer": "latent gradient ascent (generator + detector + loop) for TF Serving",
}


def root():
    """The folder holding the shipped models."""
    env = os.environ.get("VOCAL_XAI_ZOO")
    return (
        pathlib.Path(env) if env else pathlib.Path(__file__).resolve().parents[1] / "saved_models"
    )


def resolve(name_or_path, version=None):
    """The version folder of a zoo name or a path.

    Raises:
        ParameterError: for an unknown name, a missing path or version.
    """
    return _resolve(name_or_path, version, "or an existing folder")


def _split_version(name_or_path, version):
    """``("detector", 4)`` for ``"detector/4"`` (a zoo name and an integer
    version that is not an existing path); otherwise unchanged."""
    name, _, tail = str(name_or_path).partition("/")
    if not tail.isdigit() or "/" in tail or pathlib.Path(name_or_path).exists():
        return name_or_path, version
    if name not in REGISTRY and not (root() / name).is_dir():
        return name_or_path, version
    if version is not None and version != int(tail):
        raise ParameterError(
            f"Expected one version for {name_or_path!r}. Received: version={version}"
        )
    return name, int(tail)


def _resolve(name_or_path, version, paths):
    name_or_path, version = _split_version(name_or_path, version)
    candidate = pathlib.Path(name_or_path)
    plain_name = candidate.name == str(name_or_path) and str(name_or_path) not in (".", "..")
    if name_or_path in REGISTRY or (plain_name and (root() / candidate).is_dir()):
        base = root() / name_or_path
    elif candidate.is_dir():
        if (candidate / "saved_model.pb").is_file():
            return candidate
        base = candidate
    else:
        raise ParameterError(
            f"Expected a zoo name in {sorted(REGISTRY)}, a folder under {root()}, {paths}. "
            f"Received: {name_or_path!r}"
        )
    available = export.versions(base)
    if not available:
        raise ParameterError(f"Expected at least one version under {base}. Received: none")
    if version is None:
        version = available[-1]
    if version not in available:
        raise ParameterError(
            f"Expected version in {available} for {name_or_path!r}. Received: version={version}"
        )
    return base / str(version)


def metadata(version_dir):
    """The metadata written beside a shipped model, or {}."""
    path = pathlib.Path(version_dir) / export.EXTRA / "metadata.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def describe_model(path):
    """``{"path", "version", "content"}`` of a model: its version when it is
    a zoo version folder, and a key of its content (``vocal_xai.cache``)."""
    path = pathlib.Path(path)
    content = cache.files_key([path]) if path.is_file() else cache.model_fingerprint(path)
    return {
        "path": str(path.resolve()),
        "version": int(path.name) if path.is_dir() and path.name.isdigit() else None,
        "content": content[:16],
    }


def resolve_detector(name_or_path, version=None):
    """The file or folder of a detector: a zoo name (its newest version
    unless ``version``), a version or ``<name>`` folder, a SavedModel folder,
    or a ``.keras`` file.

    Raises:
        ParameterError: for an unknown name, a missing path or version.
    """
    from vocal_xai.models.detector import adapter

    path = pathlib.Path(name_or_path)
    if path.suffix.lower() in adapter.KERAS_SUFFIXES:
        if not path.is_file():
            raise ParameterError(
                f"Expected an existing Keras model file. Received: {str(name_or_path)!r}"
            )
        return path
    return _resolve(
        name_or_path, version, "an existing version or SavedModel folder, or a .keras file"
    )


def load_detector(name_or_path="detector", version=None, output="auto"):
    """A detector as a Keras model with SVDNet's interface (for gradients,
    embeddings and whole-song prediction).

    - A shipped version (its Keras architecture in ``assets.extra/``): the
      Keras ``SVDNet``.
    - A ``.keras`` file: any Keras model on raw log-mel ``[batch, 115, 80]``
      or ``[batch, 115, 80, 1]`` returning a vocal logit or probability, as
      an ``adapter.KerasDetector``.
    - Any other SavedModel: its log-mel signature as an
      ``adapter.SavedModelDetector``, or, with a waveform signature only, an
      ``adapter.WaveformDetector`` (whole-song prediction only).

    Args:
        name_or_path: see ``resolve_detector``.
        version: a version of a zoo name; None for the newest.
        output: what the detector's output is, "logit", "probability", or
            "auto" (see ``vocal_xai.models.detector.adapter``). SVDNet's is
            its logit.

    Raises:
        ParameterError: for a path that holds no usable detector.
    """
    from vocal_xai.models.detector import adapter, task

    if output not in adapter.OUTPUTS:
        raise ParameterError(
            f"Expected output in {list(adapter.OUTPUTS)}. Received: output={output!r}"
        )
    path = resolve_detector(name_or_path, version)
    if path.is_file():
        return adapter.load_keras(path, output)
    extra = path / export.EXTRA
    if (extra / f"{task.KERAS_NAME}.json").is_file() or (
        extra / f"{task.KERAS_NAME}.keras"
    ).is_file():
        if output == "probability":
            raise ParameterError(
                f"Expected output in ['auto', 'logit'] for SVDNet {path}. "
                "Received: output='probability'"
            )
        return task.load_detector(path)
    return adapter.load_saved_model(path, output)


def load_generator(name_or_path="generator", version=None):
    """The Keras conditional generator of a shipped GAN (for gradients)."""
    from vocal_xai.models.dcgan import task

    return task.load_generator(resolve(name_or_path, version))


def _size_mb(folder):
    return sum(p.stat().st_size for p in pathlib.Path(folder).rglob("*") if p.is_file()) / 1e6


def inventory(zoo_root=None):
    """A markdown table of every shipped model: name, version, signatures
    (inputs -> outputs with dtypes and shapes) and size on disk."""
    from vocal_xai import serving_check

    zoo_root = pathlib.Path(zoo_root) if zoo_root else root()

    def spec(info):
        shape = (
            "?"
            if info.shape is None
            else "["
            + ", ".join(
                "batch" if i == 0 and s is None else ("n" if s is None else str(s))
                for i, s in enumerate(info.shape)
            )
            + "]"
        )
        return f"`{info.name}` {info.dtype} {shape}"

    lines = [
        "| model | version | signature | inputs | outputs | size |",
        "|---|---|---|---|---|---|",
    ]
    total = 0.0
    for path in serving_check.find_saved_models(zoo_root):
        size = _size_mb(path)
        total += size
        for i, sig in enumerate(serving_check.signatures(path).values()):
            first = i == 0
            lines.append(
                f"| {path.parent.name if first else ''} | {path.name if first else ''} | "
                f"`{sig.key}` | "
                + ", ".join(spec(t) for t in sig.inputs.values())
                + " | "
                + ", ".join(spec(t) for t in sig.outputs.values())
                + " | "
                + (f"{size:.1f} MB" if first else "")
                + " |"
            )
    lines.append(f"| **total** | | | | | **{total:.1f} MB** |")
    return "\n".join(lines) + "\n"
