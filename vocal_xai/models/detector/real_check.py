"""Real recordings as a check of a detector.

A folder of openly licensed real recordings (``real_recordings/`` at the top
of the repository) lists each file with its whole-file class in
``manifest.csv`` (``file,kind,description``; ``kind`` in ``instrumental``,
``song``, ``speech``). The check runs a detector over every recording and
reports, per recording, the share of frames called vocal (probability above
a fixed threshold, 0.5 by default) and the mean probability, with a verdict
against the targets:

- instrumental: at most 10 % of frames vocal;
- song (with a singer): at least 60 % of frames vocal;
- speech: reported, no target.

The recordings are a held-out check, never training or tuning data: the
threshold is fixed and never picked on them, and no corpus, augmentation or
model selection reads them.

A detector is either a Keras ``SVDNet`` (run with the once-per-song
formulation of ``song.py``) or a SavedModel version, run through its
``frames`` signature; the two give the same probabilities.
"""

import csv
import dataclasses
import pathlib

import keras
import numpy as np
import tensorflow as tf

from vocal_xai import markdown, spectral
from vocal_xai.data import audio
from vocal_xai.errors import CorpusError, ParameterError
from vocal_xai.models.detector import song

MANIFEST = "manifest.csv"
COLUMNS = ("file", "kind", "description")
KINDS = ("instrumental", "song", "speech")
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
DEFAULT_THRESHOLD = 0.5
# kind -> (bound, share): the share of vocal frames must be at most ("max")
# or at least ("min") the share. Kinds without an entry have no target.
TARGETS = {"instrumental": ("max", 0.10), "song": ("min", 0.60)}

# Markers of the generated table in a model card.
BEGIN = "<!-- real recordings: tools/real_check.py -->"
END = "<!-- end of real recordings -->"

_REPOSITORY = pathlib.Path(__file__).resolve().parents[3]


@dataclasses.dataclass(frozen=True)
class Recording:
    """One entry of the manifest."""

    path: pathlib.Path
    kind: str
    description: str

    @property
    def name(self):
        return self.path.name


@dataclasses.dataclass(frozen=True)
class RecordingResult:
    """A detector's answer on one recording.

    ``share_vocal`` is the share of frames with probability above the
    threshold; ``passed`` is None for a kind without a target.
    ``share_vocal_ends`` is the same share over the first and the last 57
    frames alone, which are predicted from excerpts padded with silence
    (all frames when the recording has no others).
    """

    file: str
    kind: str
    description: str
    frames: int
    share_vocal: float
    mean_probability: float
    target: str
    passed: bool | None
    share_vocal_ends: float | None = None


def default_folder():
    """The repository's ``real_recordings/``, or None when it is not there
    (for instance when the package is installed elsewhere)."""
    folder = _REPOSITORY / "real_recordings"
    return folder if (folder / MANIFEST).is_file() else None


def resolve_folder(folder=None):
    """The folder of the check from a flag's value, read and validated.

    Args:
        folder: None for ``default_folder()`` (which may be None), an empty
            string for no check, or a folder with a ``manifest.csv``.

    Returns:
        the folder (a ``pathlib.Path``), or None for no check.

    Raises:
        ParameterError, CorpusError: as ``read_manifest``.
    """
    if folder == "":
        return None
    folder = default_folder() if folder is None else pathlib.Path(folder)
    if folder is not None:
        read_manifest(folder)
    return folder


def read_manifest(folder):
    """The recordings listed in ``<folder>/manifest.csv``, in its order.

    Raises:
        ParameterError: when ``folder`` is None, missing, or has no manifest.
        CorpusError: naming the file and line, for a malformed manifest, a
            listed file that is missing, or an audio file that is not listed.
    """
    if folder is None or not pathlib.Path(folder).is_dir():
        raise ParameterError(
            "Expected a folder of real recordings with a manifest.csv (the repository's "
            f"real_recordings/; pass the folder explicitly when the package is installed "
            f"elsewhere). Received: folder={None if folder is None else str(folder)!r}"
        )
    folder = pathlib.Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise ParameterError(f"Expected {MANIFEST} in {folder}. Received: no such file")
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    if not rows or tuple(c.strip() for c in rows[0]) != COLUMNS:
        header = ",".join(rows[0]) if rows else ""
        raise CorpusError(
            path, f"expected the header {','.join(COLUMNS)!r}, received {header!r}", line=1
        )
    recordings = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(COLUMNS):
            raise CorpusError(
                path, f"expected {len(COLUMNS)} fields, received {len(row)}", line=line
            )
        name, kind, description = (c.strip() for c in row)
        if kind not in KINDS:
            raise CorpusError(path, f"expected kind in {KINDS}, received {kind!r}", line=line)
        if pathlib.Path(name).name != name or not (folder / name).is_file():
            raise CorpusError(path, f"expected a file in {folder}, received {name!r}", line=line)
        if any(r.name == name for r in recordings):
            raise CorpusError(path, f"expected each file once, received {name!r} again", line=line)
        recordings.append(Recording(folder / name, kind, description))
    if not recordings:
        raise CorpusError(path, "expected at least one recording, received none")
    listed = {r.name for r in recordings}
    unlisted = sorted(
        p.name
        for p in folder.iterdir()
        if p.suffix.lower() in AUDIO_SUFFIXES and p.name not in listed
    )
    if unlisted:
        raise CorpusError(
            path, f"expected every audio file of the folder listed, received unlisted {unlisted}"
        )
    return recordings


def _check_threshold(threshold):
    if not 0.0 < threshold < 1.0:
        raise ParameterError(f"Expected 0 < threshold < 1. Received: threshold={threshold}")


def target(kind):
    """The target of ``kind`` as text: ``<= 10 %``, ``>= 60 %`` or ``none``."""
    if kind not in KINDS:
        raise ParameterError(f"Expected kind in {KINDS}. Received: kind={kind!r}")
    if kind not in TARGETS:
        return "none"
    bound, share = TARGETS[kind]
    return f"{'<=' if bound == 'max' else '>='} {share:.0%}".replace("%", " %")


def verdict(kind, share_vocal):
    """True or False against the target of ``kind``; None without a target."""
    if kind not in KINDS:
        raise ParameterError(f"Expected kind in {KINDS}. Received: kind={kind!r}")
    if not 0.0 <= share_vocal <= 1.0:
        raise ParameterError(f"Expected 0 <= share_vocal <= 1. Received: share_vocal={share_vocal}")
    if kind not in TARGETS:
        return None
    bound, share = TARGETS[kind]
    return bool(share_vocal <= share) if bound == "max" else bool(share_vocal >= share)


def summarise(recording, probability, threshold=DEFAULT_THRESHOLD):
    """The result of one recording from its per-frame probabilities.

    Args:
        recording: a ``Recording``.
        probability: vocal probability per frame. [shape=(frames,)]
        threshold: a frame is vocal when its probability is above it.
    """
    _check_threshold(threshold)
    p = np.asarray(probability, np.float64)
    if p.ndim != 1 or p.size == 0:
        raise ParameterError(
            f"Expected a non-empty probability per frame [frames]. Received: shape={p.shape}"
        )
    share = float(np.mean(p > threshold))
    ends = np.concatenate([p[: song.HALF], p[-song.HALF :]]) if p.size > 2 * song.HALF else p
    return RecordingResult(
        file=recording.name,
        kind=recording.kind,
        description=recording.description,
        frames=int(p.size),
        share_vocal=share,
        mean_probability=float(np.mean(p)),
        target=target(recording.kind),
        passed=verdict(recording.kind, share),
        share_vocal_ends=float(np.mean(ends > threshold)),
    )


def keras_probabilities(model):
    """Per-frame probabilities of a Keras ``SVDNet`` over a whole waveform,
    computed once per song.

    Returns:
        a function: float32 waveform at 22050 Hz [shape=(samples,)] ->
        probability [shape=(frames,)].
    """
    run = tf.function(
        lambda x: song.song_outputs(model, x)["probability"],
        input_signature=[tf.TensorSpec([1, None, spectral.NUM_MEL_BANDS], tf.float32)],
    )

    def probabilities(waveform):
        return run(spectral.log_mel(tf.constant(waveform[None], tf.float32)))[0].numpy()

    return probabilities


def saved_model_probabilities(version_dir):
    """Per-frame probabilities from a detector SavedModel's ``frames``
    signature (``tf.saved_model.load`` in this process).

    Returns:
        a function: float32 waveform at 22050 Hz [shape=(samples,)] ->
        probability [shape=(frames,)].
    """
    loaded = tf.saved_model.load(str(version_dir))
    if "frames" not in loaded.signatures:
        raise ParameterError(
            f"Expected a detector SavedModel with a 'frames' signature. "
            f"Received: {sorted(loaded.signatures)} in {version_dir}"
        )
    frames = loaded.signatures["frames"]

    def probabilities(waveform):
        return frames(waveform=tf.constant(waveform[None], tf.float32))["probability"][0].numpy()

    return probabilities


def load_waveform(recording):
    """Float32 mono at 22050 Hz, at least one frame long."""
    waveform = audio.load_audio(recording.path)
    if waveform.size < spectral.FRAME_LENGTH:
        raise ParameterError(
            f"Expected audio of at least {spectral.FRAME_LENGTH} samples at 22050 Hz. "
            f"Received: {waveform.size} samples in {recording.path}"
        )
    return waveform


def check(detector, folder, threshold=DEFAULT_THRESHOLD, recordings=None):
    """Run a detector over every recording of ``folder``.

    Args:
        detector: a Keras ``SVDNet``, or a function waveform [samples] at
            22050 Hz -> probability [frames] (``saved_model_probabilities``).
        folder: the recordings with their ``manifest.csv``.
        threshold: fixed; a frame is vocal when its probability is above it.
        recordings: the ``Recording`` list, when already read from ``folder``.

    Returns:
        list of ``RecordingResult``, in the manifest's order.
    """
    _check_threshold(threshold)
    if recordings is None:
        recordings = read_manifest(folder)
    if isinstance(detector, keras.Model):
        detector = keras_probabilities(detector)
    elif not callable(detector):
        raise ParameterError(
            "Expected a Keras SVDNet or a function waveform -> probabilities. "
            f"Received: detector={detector!r}"
        )
    return [summarise(r, detector(load_waveform(r)), threshold) for r in recordings]


def report(results, threshold=DEFAULT_THRESHOLD, folder=None):
    """A JSON-ready summary: the threshold, the count of targets met and
    every recording's result."""
    with_target = [r for r in results if r.passed is not None]
    return {
        "threshold": threshold,
        "folder": None if folder is None else str(folder),
        "targets_met": sum(bool(r.passed) for r in with_target),
        "targets": len(with_target),
        "recordings": [dataclasses.asdict(r) for r in results],
    }


def _verdict_text(passed):
    return "-" if passed is None else ("pass" if passed else "fail")


def format_table(results):
    """A plain-text table: recording, kind, share vocal, mean probability,
    target, pass/fail."""
    width = max([len("recording")] + [len(r.file) for r in results])
    lines = [
        f"{'recording':<{width}}  {'kind':<12}{'vocal':>7}{'mean p':>8}  {'target':<10}"
        f"{'verdict':<9}{'vocal at the ends':>17}"
    ]
    for r in results:
        ends = "" if r.share_vocal_ends is None else f"{r.share_vocal_ends:.1%}"
        lines.append(
            f"{r.file:<{width}}  {r.kind:<12}{r.share_vocal:>7.1%}{r.mean_probability:>8.3f}  "
            f"{r.target:<10}{_verdict_text(r.passed):<9}{ends:>17}"
        )
    with_target = [r for r in results if r.passed is not None]
    lines.append(f"targets met: {sum(bool(r.passed) for r in with_target)} of {len(with_target)}")
    return "\n".join(lines)


def markdown_table(results_by_detector):
    """A Markdown table of several detectors on the same recordings: one row
    per recording, one column per detector with the share of vocal frames,
    the mean probability and the verdict.

    Args:
        results_by_detector: {label: list of ``RecordingResult``}, every list
            over the same recordings in the same order.
    """
    labels = list(results_by_detector)
    if not labels:
        raise ParameterError("Expected at least one detector. Received: none")
    first = results_by_detector[labels[0]]
    for label in labels[1:]:
        files = [r.file for r in results_by_detector[label]]
        if files != [r.file for r in first]:
            raise ParameterError(
                f"Expected the same recordings for every detector. Received: {files} for {label!r}"
            )
    lines = [
        "| recording | kind | target | " + " | ".join(labels) + " |",
        "|---|---|---|" + "---|" * len(labels),
    ]
    for i, r in enumerate(first):
        cells = []
        for label in labels:
            x = results_by_detector[label][i]
            cells.append(
                f"{x.share_vocal:.2f} ({x.mean_probability:.2f}) {_verdict_text(x.passed)}"
            )
        lines.append(f"| {r.description} | {r.kind} | {r.target} | " + " | ".join(cells) + " |")
    totals = []
    for label in labels:
        with_target = [x for x in results_by_detector[label] if x.passed is not None]
        totals.append(f"{sum(bool(x.passed) for x in with_target)} of {len(with_target)}")
    lines.append("| **targets met** | | | " + " | ".join(totals) + " |")
    return "\n".join(lines) + "\n"


def write_markdown(path, results_by_detector):
    """Replace the generated block between ``BEGIN`` and ``END`` of ``path``
    with ``markdown_table(results_by_detector)``."""
    markdown.replace_block(path, BEGIN, END, markdown_table(results_by_detector))
    return pathlib.Path(path)
