"""The model zoo: names -> shipped SavedModels and their metadata.

Shipped models live in ``saved_models/<name>/<integer version>/`` at the top of
the repository (``VOCAL_XAI_ZOO`` overrides the folder). A name resolves to
its newest version unless a version is given; a path to a version folder or to
a ``<name>`` folder works too.
"""

import json
import os
import pathlib

from vocal_xai import export
from vocal_xai.errors import ParameterError

REGISTRY = {
    "detector": "SVDNet singing-voice detector trained on the synthetic default corpus",
    "generator": "conditional DCGAN generator trained on the synthetic default corpus",
    "explainer": "latent gradient ascent (generator + detector + loop) for TF Serving",
}


def root():
    """The folder holding the shipped models."""
    env = os.environ.get("VOCAL_XAI_ZOO")
    return pathlib.Path(env) if env else pathlib.Path(__file__).resolve().parents[1] / "saved_models"


def resolve(name_or_path, version=None):
    """The version folder of a zoo name or a path.

    Raises:
        ParameterError: for an unknown name, a missing path or version.
    """
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
            f"Expected a zoo name in {sorted(REGISTRY)}, a folder under {root()}, or an existing "
            f"folder. Received: {name_or_path!r}"
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


def load_detector(name_or_path="detector", version=None):
    """The Keras SVDNet of a shipped detector (for gradients and embeddings)."""
    from vocal_xai.models.detector import task

    return task.load_detector(resolve(name_or_path, version))


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
        shape = "?" if info.shape is None else "[" + ", ".join("batch" if i == 0 and s is None else
                                                              ("n" if s is None else str(s))
                                                              for i, s in enumerate(info.shape)) + "]"
        return f"`{info.name}` {info.dtype} {shape}"

    lines = ["| model | version | signature | inputs | outputs | size |", "|---|---|---|---|---|---|"]
    total = 0.0
    for path in serving_check.find_saved_models(zoo_root):
        size = _size_mb(path)
        total += size
        for i, sig in enumerate(serving_check.signatures(path).values()):
            first = i == 0
            lines.append(
                f"| {path.parent.name if first else ''} | {path.name if first else ''} | `{sig.key}` | "
                + ", ".join(spec(t) for t in sig.inputs.values()) + " | "
                + ", ".join(spec(t) for t in sig.outputs.values()) + " | "
                + (f"{size:.1f} MB" if first else "") + " |"
            )
    lines.append(f"| **total** | | | | | **{total:.1f} MB** |")
    return "\n".join(lines) + "\n"
