"""tf.data pipeline: corpus -> decoded audio -> log-mel -> labelled excerpts.

Two stages:

1. ``feature_dataset`` decodes each song (tensorflow-io), computes its log-mel
   (tf.signal) and its frame labels, and can cache the result to a file, so a
   corpus is decoded once. ``load_split`` materialises one split in memory.
2. ``excerpt_dataset`` samples random 115-frame excerpts with the label of the
   centre frame, optionally class-balanced and augmented (time stretch, pitch
   shift, random frequency filter; Schlueter & Grill 2015), all with stateless
   seeded random ops, so the stream is the same for a seed however it is run.
"""

import dataclasses
import math
import pathlib

import numpy as np
import tensorflow as tf

from vocal_xai import progressbar, spectral
from vocal_xai.errors import SKIP_HINT, AudioDecodeError, ParameterError

HALF = spectral.EXCERPT_FRAMES // 2  # 57 frames either side of the centre


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """Ranges of the spectrogram augmentation.

    Attributes:
        max_stretch: time stretch factor drawn from [1 - s, 1 + s].
        max_shift: pitch shift factor drawn from [1 - s, 1 + s].
        max_filter_db: gain of the random frequency filter, from [-g, +g] dB.
        filter_width_bands: range of the filter's Gaussian width, in mel bands.
    """

    max_stretch: float = 0.3
    max_shift: float = 0.3
    max_filter_db: float = 10.0
    filter_width_bands: tuple = (3.0, 20.0)

    def __post_init__(self):
        for name in ("max_stretch", "max_shift"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ParameterError(f"Expected 0 <= {name} < 1. Received: {name}={value}")
        if self.max_filter_db < 0:
            raise ParameterError(
                f"Expected max_filter_db >= 0. Received: max_filter_db={self.max_filter_db}"
            )
        lo, hi = self.filter_width_bands
        if not 0 < lo <= hi:
            raise ParameterError(
                "Expected 0 < filter_width_bands[0] <= filter_width_bands[1]. "
                f"Received: filter_width_bands={self.filter_width_bands}"
            )

    @property
    def margin(self):
        """Frames of context needed either side of a centre frame."""
        return int(math.ceil(HALF * (1.0 + self.max_stretch))) + 1


PAPER_AUGMENTATION = Augmentation()


@dataclasses.dataclass
class SplitFeatures:
    """Log-mel and frame labels of every song of a split, in memory."""

    names: list
    features: list  # float32 [frames, 80] per song
    labels: list  # int32 [frames] per song

    @property
    def num_frames(self):
        return sum(len(l) for l in self.labels)


def _sing_spans(song):
    return [[s.start, s.end] for s in song.segments if s.vocal] or np.zeros((0, 2))


def song_table(songs):
    """Tensors describing songs, for ``tf.data.Dataset.from_tensor_slices``."""
    spans = tf.ragged.constant(
        [_sing_spans(s) for s in songs], dtype=tf.float64, ragged_rank=1, inner_shape=(2,)
    )
    return {
        "path": tf.constant([str(s.audio_path) for s in songs]),
        "code": tf.constant([s.codec for s in songs], tf.int32),
        "rate": tf.constant([s.sample_rate for s in songs], tf.int64),
        "spans": spans,
    }


@tf.function(
    input_signature=[
        tf.TensorSpec([], tf.string),
        tf.TensorSpec([], tf.int32),
        tf.TensorSpec([], tf.int64),
        tf.TensorSpec([None, 2], tf.float64),
    ]
)
def _song_features(path, code, rate, spans):
    # One trace per process: every split's dataset calls this same graph
    # (decoding traces a branch per codec, which is slow to repeat).
    from vocal_xai.data import audio

    waveform = audio.decode_audio(path, code, rate)
    feats = spectral.log_mel(waveform)
    n = tf.shape(feats)[0]
    times = (
        tf.cast(tf.range(n), tf.float64) * spectral.HOP_LENGTH + spectral.FRAME_LENGTH / 2
    ) / spectral.SAMPLE_RATE
    inside = (times[:, None] >= spans[None, :, 0]) & (times[:, None] < spans[None, :, 1])
    labels = tf.cast(tf.reduce_any(inside, axis=1), tf.int32)
    return feats, labels


def _features_of(row):
    return _song_features(row["path"], row["code"], row["rate"], row["spans"])


def cache_key(songs):
    """A key that changes when the content of any song's audio or labels, or
    the front-end, changes (``vocal_xai.cache.files_key``)."""
    from vocal_xai import cache

    front_end = [
        spectral.SAMPLE_RATE,
        spectral.FRAME_LENGTH,
        spectral.HOP_LENGTH,
        spectral.NUM_MEL_BANDS,
        spectral.FMIN,
        spectral.FMAX,
        spectral.LOG_FLOOR,
    ]
    paths = [path for song in songs for path in (song.audio_path, song.label_path)]
    return cache.files_key(paths, front_end)[:16]


def feature_dataset(songs, cache_dir=None):
    """Per-song ``(log_mel [frames, 80], labels [frames])``, in song order.

    Args:
        songs: sequence of ``corpus.Song``.
        cache_dir: folder for a tf.data feature cache, keyed by the song files
            and the front-end constants; None keeps nothing.
    """
    songs = list(songs)
    if not songs:
        raise ParameterError("Expected at least one song. Received: songs=[]")
    ds = tf.data.Dataset.from_tensor_slices(song_table(songs))
    ds = ds.map(_features_of, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if cache_dir is not None:
        cache_dir = pathlib.Path(cache_dir)
        cache_dir.mkdir(parents=True, exist_ok=True)
        ds = ds.cache(str(cache_dir / f"features-{cache_key(songs)}"))
    return ds


def load_split(corpus, split, cache_dir=None, progress=False):
    """Materialise the log-mel and labels of one split.

    Args:
        progress: show a progress bar over the split's songs (decoding and
            the front-end take minutes on a large corpus the first time).

    Raises:
        AudioDecodeError: naming the first song whose audio fails to decode.
    """
    songs = corpus.songs(split)
    if progress:
        print(f"log-mel of the {split} split ({len(songs)} songs)", flush=True)
    bar = progressbar.bar(len(songs), "song", progress)
    pairs = []
    try:
        for f, l in feature_dataset(songs, cache_dir):
            pairs.append((f.numpy(), l.numpy()))
            bar.add(1)
    except tf.errors.OpError:
        _raise_for_undecodable(songs)
        raise
    return SplitFeatures(
        names=[s.name for s in songs],
        features=[p[0] for p in pairs],
        labels=[p[1] for p in pairs],
    )


def _raise_for_undecodable(songs):
    from vocal_xai.data import audio

    for song in songs:
        try:
            audio.load_audio(song.audio_path)
        except AudioDecodeError as err:
            raise AudioDecodeError(song.audio_path, f"{err.reason}; {SKIP_HINT}") from None


def band_stats(features):
    """Per-band mean and std over all frames, in float64.

    Args:
        features: iterable of log-mel arrays. [shape=(frames, 80)] each

    Returns:
        (mean, std), each float64. [shape=(80,)]
    """
    count, total, total_sq = 0, 0.0, 0.0
    for f in features:
        f = np.asarray(f, np.float64)
        count += f.shape[0]
        total = total + f.sum(axis=0)
        total_sq = total_sq + np.square(f).sum(axis=0)
    if count == 0:
        raise ParameterError("Expected at least one frame. Received: 0 frames")
    mean = total / count
    var = np.maximum(total_sq / count - np.square(mean), 0.0)
    return mean, np.sqrt(var)


def concat_split(split, margin, pad_edges=False):
    """Concatenate songs; return frames, labels and valid centre indices.

    A centre needs ``margin`` frames either side. Without ``pad_edges`` the
    centres are the frames that have them inside their song. With it, every
    song is framed by ``margin`` frames of silence (``spectral.LOG_MEL_MIN``,
    as whole-song prediction pads a song) and every frame is a centre.
    """
    if pad_edges:
        silence = np.full((margin, spectral.NUM_MEL_BANDS), spectral.LOG_MEL_MIN, np.float32)
        quiet = np.zeros(margin, np.int32)
        features, song_labels = [silence], [quiet]
        for f, l in zip(split.features, split.labels):
            features += [f, silence]
            song_labels += [l, quiet]
        frames = np.concatenate(features, axis=0).astype(np.float32)
        labels = np.concatenate(song_labels, axis=0).astype(np.int32)
        centres, offset = [], margin
        for l in split.labels:
            centres.append(np.arange(offset, offset + len(l)))
            offset += len(l) + margin
        return frames, labels, np.concatenate(centres).astype(np.int64)
    frames = np.concatenate(split.features, axis=0).astype(np.float32)
    labels = np.concatenate(split.labels, axis=0).astype(np.int32)
    centres, offset = [], 0
    for l in split.labels:
        n = len(l)
        if n > 2 * margin:
            centres.append(np.arange(offset + margin, offset + n - margin))
        offset += n
    if not centres:
        raise ParameterError(
            f"Expected a song longer than {2 * margin} frames. "
            f"Received: longest song has {max(len(l) for l in split.labels)} frames"
        )
    return frames, labels, np.concatenate(centres).astype(np.int64)


def excerpts_at(split, stride, offset=0):
    """Excerpts centred on every ``stride``-th valid centre frame of a split
    (from the ``offset``-th), and their centre-frame labels.

    Returns:
        (excerpts float32 [N, 115, 80], labels int32 [N]).
    """
    if stride < 1 or offset < 0:
        raise ParameterError(
            f"Expected stride >= 1 and offset >= 0. Received: stride={stride}, offset={offset}"
        )
    frames, labels, centres = concat_split(split, HALF)
    centres = centres[offset::stride]
    idx = centres[:, None] + np.arange(-HALF, HALF + 1)[None, :]
    return frames[idx], labels[centres]


def mel_band_positions(shift):
    """Fractional source band of each band after a pitch shift by ``shift``.

    A pitch shift by factor ``p`` moves energy at frequency ``f`` to ``p * f``,
    so output band ``b`` reads the input at ``f_b / p``, expressed as a
    fractional band index on the HTK mel scale and clipped to the band range.

    Args:
        shift: float32 factors. [shape=(batch,)]

    Returns:
        float32 positions. [shape=(batch, 80)]
    """

    def hz_to_mel(f):
        return 1127.0 * tf.math.log1p(f / 700.0)

    mel_lo = hz_to_mel(tf.constant(spectral.FMIN, tf.float32))
    mel_hi = hz_to_mel(tf.constant(spectral.FMAX, tf.float32))
    step = (mel_hi - mel_lo) / (spectral.NUM_MEL_BANDS + 1)
    band = tf.range(spectral.NUM_MEL_BANDS, dtype=tf.float32)
    centre_mel = mel_lo + (band + 1.0) * step
    centre_hz = 700.0 * (tf.exp(centre_mel / 1127.0) - 1.0)
    source_hz = centre_hz[None, :] / shift[:, None]
    pos = (hz_to_mel(source_hz) - mel_lo) / step - 1.0
    return tf.clip_by_value(pos, 0.0, spectral.NUM_MEL_BANDS - 1.0)


def _lerp_gather(x, pos, axis, batch_dims):
    lo = tf.floor(pos)
    frac = pos - lo
    lo = tf.cast(lo, tf.int32)
    hi = tf.minimum(lo + 1, tf.shape(x)[axis] - 1)
    a = tf.gather(x, lo, axis=axis, batch_dims=batch_dims)
    b = tf.gather(x, hi, axis=axis, batch_dims=batch_dims)
    if axis == 2:
        frac = frac[:, None, :]
    else:
        frac = frac[..., None]
    return a + frac * (b - a)


def augmentation_params(seed, batch_size, aug):
    """Draw the augmentation parameters of one batch.

    Args:
        seed: int32/int64 tensor. [shape=(2,)]

    Returns:
        dict of float32 [batch]: stretch, shift, gain_db, filter_centre,
        filter_width.
    """
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 5)

    def u(i, lo, hi):
        return tf.random.stateless_uniform([batch_size], seeds[i], minval=lo, maxval=hi)

    return {
        "stretch": u(0, 1.0 - aug.max_stretch, 1.0 + aug.max_stretch),
        "shift": u(1, 1.0 - aug.max_shift, 1.0 + aug.max_shift),
        "gain_db": u(2, -aug.max_filter_db, aug.max_filter_db),
        "filter_centre": u(3, 0.0, spectral.NUM_MEL_BANDS - 1.0),
        "filter_width": u(4, *aug.filter_width_bands),
    }


def augmented_excerpts(frames, centres, params):
    """Cut excerpts around ``centres`` with time stretch, pitch shift and a filter.

    Args:
        frames: float32 log-mel of concatenated songs. [shape=(F, 80)]
        centres: int64 centre frame of each excerpt. [shape=(batch,)]
        params: output of ``augmentation_params``.

    Returns:
        float32 excerpts floored at log(1e-7). [shape=(batch, 115, 80)]
    """
    offsets = tf.range(-HALF, HALF + 1, dtype=tf.float32)
    time_pos = tf.cast(centres, tf.float32)[:, None] + offsets[None, :] * params["stretch"][:, None]
    x = _lerp_gather(frames, time_pos, axis=0, batch_dims=0)  # [B, 115, 80]
    x = _lerp_gather(x, mel_band_positions(params["shift"]), axis=2, batch_dims=1)
    band = tf.range(spectral.NUM_MEL_BANDS, dtype=tf.float32)[None, :]
    bump = tf.exp(
        -0.5
        * tf.square((band - params["filter_centre"][:, None]) / params["filter_width"][:, None])
    )
    gain = params["gain_db"][:, None] * (math.log(10.0) / 20.0) * bump  # dB -> nats of magnitude
    return tf.maximum(x + gain[:, None, :], spectral.LOG_MEL_MIN)


def plain_excerpts(frames, centres):
    """Excerpts ``frames[c - 57 : c + 58]`` for each centre. [shape=(batch, 115, 80)]"""
    idx = centres[:, None] + tf.range(-HALF, HALF + 1, dtype=tf.int64)[None, :]
    return tf.gather(frames, idx)


def _pick(pool, u):
    """Element ``floor(u * len(pool))`` of ``pool`` for uniforms ``u`` in [0, 1)."""
    n = tf.size(pool, out_type=tf.int64)
    idx = tf.minimum(tf.cast(u * tf.cast(n, tf.float32), tf.int64), n - 1)
    return tf.gather(pool, idx)


def excerpt_dataset(
    split,
    batch_size=32,
    seed=0,
    balance=False,
    augmentation=None,
    start_step=0,
    pad_edges=False,
):
    """An endless, seeded stream of batches of labelled excerpts.

    Args:
        split: ``SplitFeatures``.
        batch_size: excerpts per batch.
        seed: int; the same seed gives the same stream.
        balance: if True, each excerpt is vocal with probability 0.5.
        augmentation: an ``Augmentation`` or None.
        start_step: index of the first batch. Batch ``i`` depends only on
            ``seed`` and ``i``, so a resumed run continues the same stream.
        pad_edges: also centre excerpts on the frames near a song's ends,
            padded with silence as whole-song prediction pads them
            (``concat_split``).

    Returns:
        ``tf.data.Dataset`` of (log_mel float32 [batch, 115, 80],
        label int32 [batch]).
    """
    if batch_size < 1:
        raise ParameterError(f"Expected batch_size >= 1. Received: batch_size={batch_size}")
    margin = augmentation.margin if augmentation is not None else HALF
    frames_np, labels_np, centres_np = concat_split(split, margin, pad_edges)
    centre_labels = labels_np[centres_np]
    pools = [centres_np[centre_labels == c] for c in (0, 1)]
    if balance and min(len(p) for p in pools) == 0:
        raise ParameterError(
            "Expected both classes among the centre frames for balance=True. "
            f"Received: {len(pools[0])} non-vocal and {len(pools[1])} vocal centres"
        )
    frames = tf.constant(frames_np)
    labels = tf.constant(labels_np)
    all_centres = tf.constant(centres_np)
    pool0, pool1 = tf.constant(pools[0]), tf.constant(pools[1])

    def make_batch(step):
        key = tf.stack([tf.constant(seed, tf.int64), step])
        k_pool, k_pick, k_aug = tf.unstack(tf.random.experimental.stateless_split(key, 3))
        u = tf.random.stateless_uniform([batch_size], k_pick)
        if balance:
            vocal = tf.random.stateless_uniform([batch_size], k_pool) < 0.5
            centres = tf.where(vocal, _pick(pool1, u), _pick(pool0, u))
        else:
            centres = _pick(all_centres, u)
        if augmentation is None:
            x = plain_excerpts(frames, centres)
        else:
            x = augmented_excerpts(
                frames, centres, augmentation_params(k_aug, batch_size, augmentation)
            )
        return x, tf.gather(labels, centres)

    ds = tf.data.Dataset.counter(start=start_step).map(
        make_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    return ds.prefetch(tf.data.AUTOTUNE)


def available_excerpts(split, label):
    """How many distinct excerpts of class ``label`` ``split`` holds (the
    most ``sample_excerpts`` can draw)."""
    _, labels, centres = concat_split(split, HALF)
    return int(np.sum(labels[centres] == label))


def sample_excerpts(split, count, label=None, seed=0):
    """Draw ``count`` distinct excerpts (without augmentation), seeded.

    Args:
        split: ``SplitFeatures``.
        count: number of excerpts; at most the number of candidate centres.
        label: keep only centres of this class (0 or 1); None keeps all.
        seed: numpy seed.

    Returns:
        (excerpts float32 [count, 115, 80], labels int32 [count]).
    """
    frames, labels, centres = concat_split(split, HALF)
    if label is not None:
        centres = centres[labels[centres] == label]
    if not 1 <= count <= len(centres):
        raise ParameterError(
            f"Expected 1 <= count <= {len(centres)} (available centres"
            f"{'' if label is None else f' of class {label}'}). Received: count={count}"
        )
    chosen = np.sort(np.random.default_rng(seed).choice(centres, size=count, replace=False))
    idx = chosen[:, None] + np.arange(-HALF, HALF + 1)[None, :]
    return frames[idx], labels[chosen]
