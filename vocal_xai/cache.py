"""Where derived data is cached, and the content keys it is cached under.

Caches live in a user cache folder, never beside the shipped models or in
the working folder: ``$VOCAL_XAI_CACHE`` if set, else
``$XDG_CACHE_HOME/vocal_xai``, else ``~/.cache/vocal_xai``; a tool's
``--cache_dir`` flag overrides all three. Entries are keyed on content (the
bytes and sizes of the files they were computed from, the fingerprint of
the model), so a file changed at the same path is never served stale.
"""

import hashlib
import json
import os
import pathlib

_CHUNK = 1 << 20


def user_cache_dir(override=None):
    """The cache folder: ``override``, else the environment's (see above)."""
    if override:
        return pathlib.Path(override)
    if os.environ.get("VOCAL_XAI_CACHE"):
        return pathlib.Path(os.environ["VOCAL_XAI_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "vocal_xai"


def synthetic_corpus_dir(version, cache_dir=None):
    """Where the synthetic corpus of ``version`` lives when no corpus is
    given: in the user cache folder, never the working folder."""
    return user_cache_dir(cache_dir) / "corpora" / f"synthetic-v{version}"


def file_sha256(path):
    """SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def files_key(paths, extra=None):
    """A key of the files' contents and sizes (not their names or times),
    in the given order, and of ``extra`` (any JSON value)."""
    digest = hashlib.sha256(json.dumps(extra, sort_keys=True, default=str).encode())
    for path in paths:
        path = pathlib.Path(path)
        digest.update(f"{path.stat().st_size}:{file_sha256(path)}|".encode())
    return digest.hexdigest()


def model_fingerprint(version_dir):
    """A key of a SavedModel folder's contents: its graph, its variables and
    its ``assets.extra`` files."""
    root = pathlib.Path(version_dir)
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    return files_key(files, [str(p.relative_to(root)) for p in files])
