"""Audio decoding with tensorflow-io: any format, rate and channel count in,
float32 mono at 22050 Hz out.

The header is read eagerly (``audio_info``) when a corpus is validated; the
samples are decoded in graph mode (``decode_audio``) so decoding runs inside
tf.data. Each (container, sample type) pair has its own decode branch, picked by
an integer code that ``audio_info`` returns.
"""

import dataclasses
import pathlib

import numpy as np
import tensorflow as tf
import tensorflow_io as tfio

from vocal_xai import spectral
from vocal_xai.errors import AudioDecodeError

# Decode branches: (extension, sample dtype) -> code.
_BRANCHES = (
    ("wav", tf.int16),
    ("wav", tf.int32),
    ("wav", tf.float32),
    ("flac", tf.int16),
    ("flac", tf.int32),
    ("ogg", tf.float32),
    ("mp3", tf.float32),
)
_SCALE = {tf.int16: 1.0 / 32768.0, tf.int32: 1.0 / 2147483648.0, tf.float32: 1.0}


@dataclasses.dataclass(frozen=True)
class AudioInfo:
    num_samples: int
    sample_rate: int
    channels: int
    code: int  # decode branch


def audio_info(path):
    """Read an audio file's header.

    Raises:
        AudioDecodeError: naming the file, when it can't be opened as audio.
    """
    path = pathlib.Path(path)
    ext = path.suffix.lower().lstrip(".")
    try:
        io_tensor = tfio.audio.AudioIOTensor(str(path))
        num_samples, channels = (int(v) for v in io_tensor.shape.numpy())
        rate = int(io_tensor.rate.numpy())
        dtype = io_tensor.dtype
    except (tf.errors.OpError, ValueError, TypeError) as err:
        raise AudioDecodeError(path, f"can't decode audio: {_first_line(err)}") from None
    if (ext, dtype) not in _BRANCHES:
        raise AudioDecodeError(
            path,
            f"unsupported audio type; expected one of {_describe_branches()}, "
            f"received {ext}/{dtype.name}",
        )
    if num_samples <= 0 or rate <= 0:
        raise AudioDecodeError(path, f"empty audio: received {num_samples} samples at {rate} Hz")
    return AudioInfo(num_samples, rate, channels, _BRANCHES.index((ext, dtype)))


def decode_audio(path, code, sample_rate):
    """Decode to float32 mono at 22050 Hz; graph-compatible.

    Args:
        path: string tensor, the file.
        code: int tensor, the decode branch from ``audio_info``.
        sample_rate: int tensor, the file's rate in Hz.

    Returns:
        float32 waveform in [-1, 1]. [shape=(samples,)]
    """
    contents = tf.io.read_file(path)

    def branch(ext, dtype):
        def decode():
            if ext == "wav":
                samples = tfio.audio.decode_wav(contents, dtype=dtype)
            elif ext == "flac":
                samples = tfio.audio.decode_flac(contents, dtype=dtype)
            elif ext == "ogg":
                samples = tfio.audio.decode_vorbis(contents)
            else:
                samples = tfio.audio.decode_mp3(contents)
            return tf.cast(samples, tf.float32) * _SCALE[dtype]

        return decode

    samples = tf.switch_case(
        tf.cast(code, tf.int32), [branch(ext, dtype) for ext, dtype in _BRANCHES]
    )
    mono = tf.reduce_mean(samples, axis=-1)
    sample_rate = tf.cast(sample_rate, tf.int64)
    return tf.cond(
        tf.equal(sample_rate, spectral.SAMPLE_RATE),
        lambda: mono,
        lambda: tfio.audio.resample(mono, sample_rate, spectral.SAMPLE_RATE),
    )


def load_audio(path):
    """Eagerly decode one file to float32 mono at 22050 Hz (a numpy array).

    Raises:
        AudioDecodeError: naming the file, when it can't be decoded or holds
            NaN or infinite samples (which would make every frame near them
            NaN).
    """
    info = audio_info(path)
    try:
        waveform = decode_audio(str(path), info.code, info.sample_rate).numpy()
    except tf.errors.OpError as err:
        raise AudioDecodeError(path, f"can't decode audio: {_first_line(err)}") from None
    bad = ~np.isfinite(waveform)
    if bad.any():
        first = int(np.argmax(bad)) / spectral.SAMPLE_RATE
        raise AudioDecodeError(
            path,
            f"expected finite samples; received {int(bad.sum())} NaN or infinite samples at "
            f"22050 Hz, the first at {first:.3f} s: repair the file (e.g. replace them by 0) "
            "or leave it out",
        )
    return waveform


def _describe_branches():
    return ", ".join(f"{ext}/{dtype.name}" for ext, dtype in _BRANCHES)


def _first_line(err):
    text = getattr(err, "message", None) or str(err)
    return text.strip().splitlines()[0] if text.strip() else type(err).__name__
