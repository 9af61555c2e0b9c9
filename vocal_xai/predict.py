"""Whole-song vocal probabilities for audio files: the logic behind
``tools/predict.py``, for SVDNet and any other detector (see
``vocal_xai.models.detector.adapter``)."""

import csv
import dataclasses
import json
import logging
import pathlib

import numpy as np
import tensorflow as tf

from vocal_xai import inference, plotting, spectral
from vocal_xai.data import audio, corpus
from vocal_xai.errors import CorpusError, ParameterError
from vocal_xai.models.detector import adapter, song
from vocal_xai.models.detector.svdnet_backbone import SVDNet


@dataclasses.dataclass
class Prediction:
    path: pathlib.Path
    times: np.ndarray  # frame centres, seconds [frames]
    probability: np.ndarray  # [frames]
    log_mel: np.ndarray  # [frames, 80]


class SongPredictor:
    """Runs a detector over whole songs, one probability per frame
    (70 frames/s).

    How depends on the detector (``method``):

    - ``once_per_song``: an ``SVDNet``, through its once-per-song
      formulation (``song.song_outputs``);
    - ``waveform_frames``: a SavedModel with a per-frame waveform signature,
      called on the waveform;
    - ``windows``: any other detector on log-mel, on sliding windows
      (``sliding_outputs``: one excerpt per frame, read at its centre);
    - ``waveform_windows``: a SavedModel whose only signature maps a
      waveform excerpt to one score (``sliding_waveform_probability``).

    Args:
        model: an ``SVDNet``, any Keras detector on raw log-mel, or a
            detector from ``vocal_xai.zoo.load_detector``.
        batch_size: excerpts per call of the sliding windows.
    """

    def __init__(self, model, batch_size=64):
        if batch_size < 1:
            raise ParameterError(f"Expected batch_size >= 1. Received: batch_size={batch_size}")
        self.model = adapter.adapt(model)
        self.batch_size = int(batch_size)
        waveform = getattr(self.model, "waveform", None)
        if isinstance(self.model, SVDNet):
            self.method = "once_per_song"
            self._run = tf.function(
                lambda x: song.song_outputs(self.model, x)["probability"], reduce_retracing=True
            )
        elif waveform is not None and waveform.per_frame:
            self.method = "waveform_frames"
            self._run = tf.function(waveform.probability, reduce_retracing=True)
        elif isinstance(self.model, adapter.WaveformDetector):
            self.method = "waveform_windows"
        else:
            self.method = "windows"

    def probability(self, waveform, log_mel):
        """Vocal probability per frame of one song.

        Args:
            waveform: mono audio at 22050 Hz. [shape=(samples,)]
            log_mel: its raw log-mel. [shape=(frames, 80)]

        Returns:
            float32 numpy. [shape=(frames,)]
        """
        if self.method == "once_per_song":
            return self._run(tf.constant(log_mel[None], tf.float32))[0].numpy()
        if self.method == "windows":
            return sliding_outputs(self.model, log_mel, self.batch_size, ("probability",))[
                "probability"
            ]
        if self.method == "waveform_windows":
            return sliding_waveform_probability(self.model.waveform, waveform, self.batch_size)
        probability = self._run(tf.constant(waveform[None], tf.float32))[0].numpy()
        if probability.shape != (len(log_mel),):
            raise ParameterError(
                f"Expected one probability per frame ({len(log_mel)}) from signature "
                f"{self.model.waveform.name!r}. Received: shape {probability.shape}"
            )
        return probability

    def __call__(self, path):
        waveform = audio.load_audio(path)
        if waveform.size < spectral.FRAME_LENGTH:
            raise ParameterError(
                f"Expected audio of at least {spectral.FRAME_LENGTH} samples at 22050 Hz. "
                f"Received: {waveform.size} samples in {path}"
            )
        log_mel = spectral.log_mel(waveform).numpy()
        probability = self.probability(waveform, log_mel)
        return Prediction(
            path=pathlib.Path(path),
            times=spectral.frame_times(len(probability)),
            probability=probability,
            log_mel=log_mel,
        )


def sliding_outputs(detector, log_mel, batch_size=64, names=("logit", "probability")):
    """Per-frame outputs of any detector over one song, by sliding windows.

    Frame ``t`` gets the outputs of the excerpt of frames
    ``[t - 57, t + 57]``, the song padded with 57 frames of silence
    (log(1e-7)) at each end, as ``song.song_outputs`` pads: an SVDNet gives
    the same values both ways. Windows are cut ``batch_size`` at a time, so
    memory does not grow with the song.

    Args:
        detector: a detector with SVDNet's interface (see ``adapter``).
        log_mel: raw log-mel of one song. [shape=(frames, 80)]
        batch_size: excerpts per call.
        names: outputs to return.

    Returns:
        dict of numpy arrays: ``logit`` and ``probability``
        [shape=(frames,)], other layers [shape=(frames, ...)].
    """
    half = song.HALF
    log_mel = np.asarray(log_mel, np.float32)
    frames = len(log_mel)
    padded = np.pad(
        log_mel, ((half, half + batch_size), (0, 0)), constant_values=spectral.LOG_MEL_MIN
    )
    run = inference.compiled(detector)
    parts = {name: [] for name in names}
    for start in range(0, frames, batch_size):
        # Always a full batch (padded at the end), so one traced graph.
        slab = tf.constant(padded[start : start + batch_size + 2 * half])
        out = run(tf.signal.frame(slab, spectral.EXCERPT_FRAMES, 1, axis=0))
        for name in names:
            parts[name].append(out[name].numpy()[: min(batch_size, frames - start)])
    result = {name: np.concatenate(values) for name, values in parts.items()}
    return {name: v[:, 0] if name in adapter.KINDS else v for name, v in result.items()}


def sliding_waveform_probability(signature, waveform, batch_size=64):
    """Per-frame vocal probability of a waveform-excerpt signature over one
    song.

    Frame ``t`` gets the score of the ``adapter.EXCERPT_SAMPLES`` samples
    whose log-mel is frames ``[t - 57, t + 57]``, the song padded with zeros
    at each end (frames that reach into the padding differ slightly from
    ``sliding_outputs``, whose padding is in log-mel).

    Args:
        signature: an ``adapter.WaveformSignature`` with one score per
            excerpt.
        waveform: mono audio at 22050 Hz. [shape=(samples,)]
        batch_size: excerpts per call.

    Returns:
        float32 numpy. [shape=(frames,)]
    """
    hop, half = spectral.HOP_LENGTH, song.HALF
    frames = spectral.num_frames(len(waveform))
    total = (frames - 1 + batch_size) * hop + adapter.EXCERPT_SAMPLES
    padded = np.zeros(total, np.float32)
    kept = min(len(waveform), total - half * hop)
    padded[half * hop : half * hop + kept] = waveform[:kept]
    parts = []
    for start in range(0, frames, batch_size):
        slab = padded[start * hop : (start + batch_size - 1) * hop + adapter.EXCERPT_SAMPLES]
        windows = tf.signal.frame(slab, adapter.EXCERPT_SAMPLES, hop)
        parts.append(signature.probability(windows).numpy()[: min(batch_size, frames - start)])
    return np.concatenate(parts)


def write_predictions(predictions, out, model=None):
    """Write per-frame probabilities as CSV (``file,time,probability``, and
    a ``detector`` column with ``model``'s path when given) or, for a
    ``.json`` name, as ``{file: {"frame_rate", "times", "probability"}}``
    plus ``"detector": model`` when given. The format follows the suffix of
    ``out``'s name (a temporary name keeps it)."""
    out = pathlib.Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".json":
        payload = {
            str(p.path): {
                "frame_rate": spectral.FRAME_RATE,
                "times": np.round(p.times, 5).tolist(),
                "probability": np.round(p.probability.astype(float), 6).tolist(),
            }
            for p in predictions
        }
        if model is not None:
            payload["detector"] = model
        out.write_text(json.dumps(payload) + "\n")
        return out
    detector = [] if model is None else [str(model["path"])]
    with out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "time", "probability"] + (["detector"] if detector else []))
        for p in predictions:
            for t, v in zip(p.times, p.probability):
                writer.writerow([str(p.path), f"{t:.5f}", f"{v:.6f}", *detector])
    return out


def labels_beside(audio_path):
    """The labelled segments of ``audio/<name>.<ext>`` in a Jamendo-layout
    corpus, read from ``labels/<name>.lab`` beside the audio folder; None
    when there is no such file (a loose recording), or when it does not
    parse (with a warning naming the file and line)."""
    audio_path = pathlib.Path(audio_path)
    lab = audio_path.parent.parent / "labels" / f"{audio_path.stem}.lab"
    if audio_path.parent.name != "audio" or not lab.is_file():
        return None
    try:
        return corpus.parse_lab(lab)
    except CorpusError as error:
        logging.warning("Going on without the song's labels: %s", error)
        return None


def label_agreement(prediction, segments, threshold=0.5):
    """Share of frames whose call (probability > ``threshold``) matches the
    labelled ``segments`` (``corpus.Segment``), without the median filter."""
    truth = corpus.frame_labels(segments, len(prediction.probability))
    return float(np.mean((prediction.probability > threshold) == (truth == 1)))


def plot_prediction(prediction, png, threshold=None, segments=None):
    """A figure of the log-mel spectrogram (with a colour bar) above the
    vocal probability, over the song's duration; ``segments`` (the song's
    labels, ``corpus.Segment``) shade the sung spans of the lower panel."""
    import librosa.display
    from mpl_toolkits.axes_grid1 import make_axes_locatable

    fig, (ax_spec, ax_prob) = plotting.pyplot().subplots(
        2, 1, figsize=(12, 5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    mesh = librosa.display.specshow(
        prediction.log_mel.T,
        sr=spectral.SAMPLE_RATE,
        hop_length=spectral.HOP_LENGTH,
        x_axis="time",
        y_axis="mel",
        fmin=spectral.FMIN,
        fmax=spectral.FMAX,
        htk=True,
        ax=ax_spec,
    )
    ax_spec.set_title(f"{prediction.path.name}: log-mel")
    ax_spec.set_xlabel("")
    # The colour bar takes its width from both panels, so that they stay aligned.
    bar = make_axes_locatable(ax_spec).append_axes("right", size="1.5%", pad=0.1)
    fig.colorbar(mesh, cax=bar, label="log-mel (nats)")
    make_axes_locatable(ax_prob).append_axes("right", size="1.5%", pad=0.1).set_axis_off()
    for i, segment in enumerate(s for s in segments or () if s.vocal):
        ax_prob.axvspan(
            segment.start, segment.end, color="0.85", lw=0, label=None if i else "sung (labels)"
        )
    ax_prob.plot(prediction.times, prediction.probability, lw=1)
    if threshold is not None:
        ax_prob.axhline(threshold, color="r", lw=0.8, ls="--", label=f"threshold {threshold:.2f}")
    if threshold is not None or segments:
        ax_prob.legend(loc="upper right", fontsize=8)
    ax_prob.set_xlim(0, len(prediction.log_mel) / spectral.FRAME_RATE)
    ax_prob.set_ylim(0, 1)
    ax_prob.set_ylabel("P(vocal)")
    ax_prob.set_xlabel("time (s)")
    png = pathlib.Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    return plotting.save_figure(fig, png, dpi=100)
