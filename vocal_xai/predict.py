"""Whole-song vocal probabilities for audio files: the logic behind
``tools/predict.py``."""

import csv
import dataclasses
import json
import pathlib

import numpy as np
import tensorflow as tf

from vocal_xai import plotting, spectral
from vocal_xai.data import audio
from vocal_xai.errors import ParameterError
from vocal_xai.models.detector import song


@dataclasses.dataclass
class Prediction:
    path: pathlib.Path
    times: np.ndarray  # frame centres, seconds [frames]
    probability: np.ndarray  # [frames]
    log_mel: np.ndarray  # [frames, 80]


class SongPredictor:
    """Runs a detector over whole songs with the once-per-song formulation."""

    def __init__(self, model):
        self.model = model
        self._run = tf.function(
            lambda x: song.song_outputs(model, x)["probability"], reduce_retracing=True
        )

    def __call__(self, path):
        waveform = audio.load_audio(path)
        if waveform.size < spectral.FRAME_LENGTH:
            raise ParameterError(
                f"Expected audio of at least {spectral.FRAME_LENGTH} samples at 22050 Hz. "
                f"Received: {waveform.size} samples in {path}"
            )
        log_mel = spectral.log_mel(waveform).numpy()
        probability = self._run(tf.constant(log_mel[None]))[0].numpy()
        return Prediction(
            path=pathlib.Path(path),
            times=spectral.frame_times(len(probability)),
            probability=probability,
            log_mel=log_mel,
        )


def write_predictions(predictions, out):
    """Write per-frame probabilities as CSV (``file,time,probability``) or,
    for a ``.json`` name, as ``{file: {"frame_rate", "times", "probability"}}``."""
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
        out.write_text(json.dumps(payload) + "\n")
        return out
    with out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "time", "probability"])
        for p in predictions:
            for t, v in zip(p.times, p.probability):
                writer.writerow([str(p.path), f"{t:.5f}", f"{v:.6f}"])
    return out


def plot_prediction(prediction, png, threshold=None):
    """A figure of the log-mel spectrogram above the vocal probability."""
    import librosa.display

    fig, (ax_spec, ax_prob) = plotting.pyplot().subplots(
        2, 1, figsize=(12, 5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    librosa.display.specshow(
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
    ax_prob.plot(prediction.times, prediction.probability, lw=1)
    if threshold is not None:
        ax_prob.axhline(threshold, color="r", lw=0.8, ls="--", label=f"threshold {threshold:.2f}")
        ax_prob.legend(loc="upper right")
    ax_prob.set_ylim(0, 1)
    ax_prob.set_ylabel("P(vocal)")
    ax_prob.set_xlabel("time (s)")
    png = pathlib.Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    return plotting.save_figure(fig, png, dpi=100)
