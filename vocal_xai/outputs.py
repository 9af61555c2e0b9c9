"""Outputs that appear whole or not at all.

A run writes its folder under a temporary sibling name and renames it into
place when everything is written: a killed run leaves the previous outputs
as they were, and never a mix of old and new files. An existing output is
replaced only when the user says so (``overwrite``). Both are checked before
any computation starts (``check_output_dir``, ``check_output_file``).

A long run keeps its finished stages beside its output (``Stages``), so that
rerunning the same command after a kill resumes where it stopped.
"""

import contextlib
import json
import os
import pathlib
import shutil

from vocal_xai.errors import ParameterError


def _check_parent(path, name):
    existing = path.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ParameterError(
            f"Expected {name} in a folder that can be written. Received: {name}={str(path)!r} "
            f"({existing} is not writable)"
        )


def check_output_dir(out, overwrite=False, name="out"):
    """Refuse an output folder that can't be written, or that holds files
    and may not be replaced.

    Raises:
        ParameterError: naming the flag, the constraint and the value.
    """
    out = pathlib.Path(out)
    if out.exists() and not out.is_dir():
        raise ParameterError(
            f"Expected {name} to be a folder. Received: {name}={str(out)!r} is a file"
        )
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ParameterError(
            f"Expected {name} to be a new or empty folder (or pass --overwrite to replace it). "
            f"Received: {name}={str(out)!r} holds {sum(1 for _ in out.iterdir())} entries"
        )
    _check_parent(out, name)
    return out


def check_output_file(path, overwrite=False, name="out"):
    """Refuse an output file that can't be written, or that exists and may
    not be replaced."""
    path = pathlib.Path(path)
    if path.is_dir():
        raise ParameterError(
            f"Expected {name} to be a file. Received: {name}={str(path)!r} is a folder"
        )
    if path.exists() and not overwrite:
        raise ParameterError(
            f"Expected {name} to be a new file (or pass --overwrite to replace it). "
            f"Received: {name}={str(path)!r} exists"
        )
    _check_parent(path, name)
    return path


@contextlib.contextmanager
def atomic_dir(out, overwrite=False):
    """Yield a temporary folder beside ``out``; on success it becomes ``out``
    (replacing an old one only if ``overwrite``), on failure it is removed.
    """
    out = pathlib.Path(out)
    check_output_dir(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.rename(out, old)
    os.rename(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(path, overwrite=False):
    """Yield a temporary path beside ``path``; on success it replaces
    ``path``, on failure it is removed."""
    path = pathlib.Path(path)
    check_output_file(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json(path, obj, overwrite=False, sort_keys=False):
    """Write ``obj`` as indented JSON to ``path``, whole or not at all; an
    existing file is replaced only if ``overwrite``. Returns the path."""
    text = json.dumps(obj, indent=2, sort_keys=sort_keys) + "\n"
    with atomic_file(path, overwrite) as tmp:
        tmp.write_text(text)
    return pathlib.Path(path)


def plain_json(value):
    """``value`` as it reads back from JSON: NumPy scalars as plain floats,
    tuples as lists."""
    return json.loads(json.dumps(value, default=float))


class Stages:
    """Finished stages of a long run, kept as JSON in a hidden folder beside
    its output (``.OUT.partial``) until the output is written.

    Rerunning the same command reuses every stage saved under the same
    ``key`` (a fingerprint of the models, data and settings); a stage saved
    under another key, or cut short by a kill, is computed again.
    """

    def __init__(self, out, key):
        out = pathlib.Path(out)
        self.root = out.with_name(f".{out.name}.partial")
        self.key = key

    def _path(self, name):
        return self.root / f"{name}.json"

    def load(self, name):
        """The value saved as ``name`` under this key, or None."""
        try:
            saved = json.loads(self._path(name).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return saved["value"] if saved.get("key") == self.key else None

    def save(self, name, value):
        """Save ``value`` (plain JSON, NumPy scalars as floats) whole as
        ``name``; returns it as it will be loaded."""
        value = plain_json(value)
        write_json(self._path(name), {"key": self.key, "value": value}, overwrite=True)
        return value

    def clear(self):
        """Remove the stages (once the output is written)."""
        shutil.rmtree(self.root, ignore_errors=True)
