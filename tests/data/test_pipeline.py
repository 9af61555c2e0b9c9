import numpy as np
import pytest
import soundfile
import tensorflow as tf

from vocal_xai import spectral
from vocal_xai.data import corpus as corpus_lib
from vocal_xai.data import pipeline
from vocal_xai.errors import AudioDecodeError, ParameterError


def _ramp_split(lengths, vocal_from=0.5):
    """Songs whose frame f holds value f in every band (global index), so excerpts
    reveal exactly where they were cut; the second part of each song is vocal."""
    feats, labels, offset = [], [], 0
    for n in lengths:
        f = np.repeat(np.arange(offset, offset + n, dtype=np.float32)[:, None], 80, axis=1)
        l = (np.arange(n) >= int(n * vocal_from)).astype(np.int32)
        feats.append(f)
        labels.append(l)
        offset += n
    return pipeline.SplitFeatures(
        names=[str(i) for i in range(len(lengths))], features=feats, labels=labels
    )


@pytest.mark.slow
def test_load_split_features_and_labels(tiny_corpus):
    corpus = corpus_lib.read_corpus(tiny_corpus)
    split = pipeline.load_split(corpus, "train")
    audio = corpus.songs("train")[0]
    n = spectral.num_frames(audio.num_samples)
    assert split.features[0].shape == (n, 80) and split.features[0].dtype == np.float32
    np.testing.assert_array_equal(split.labels[0], audio.frame_labels(n))
    assert split.labels[0].sum() == pytest.approx(2.0 * spectral.FRAME_RATE, abs=2)
    # Every split's dataset calls the one traced decoding graph of the process.
    traces = pipeline._song_features.experimental_get_tracing_count()
    again = pipeline.load_split(corpus, "valid")
    assert pipeline._song_features.experimental_get_tracing_count() == traces == 1
    assert again.names == [s.name for s in corpus.songs("valid")]


@pytest.mark.slow
def test_load_split_progress_counts_the_songs(tiny_corpus, capsys):
    corpus = corpus_lib.read_corpus(tiny_corpus)
    quiet = pipeline.load_split(corpus, "train")
    assert capsys.readouterr().out == ""
    shown = pipeline.load_split(corpus, "train", progress=True)
    out = capsys.readouterr().out
    n = len(corpus.songs("train"))
    assert out.startswith(f"log-mel of the train split ({n} songs)\n")
    assert f"{n}/{n}" in out
    for a, b in zip(quiet.features, shown.features, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_feature_cache_is_written_and_reused(tiny_corpus, tmp_path, monkeypatch):
    corpus = corpus_lib.read_corpus(tiny_corpus)
    cache = tmp_path / "cache"
    first = pipeline.load_split(corpus, "valid", cache_dir=cache)
    files = sorted(p.name for p in cache.iterdir())
    assert any(name.startswith("features-") and name.endswith(".index") for name in files)

    # Second read comes from the cache: identical, and nothing is decoded.
    def fail(row):
        tf.debugging.Assert(False, ["decoded although cached"])
        n = tf.strings.length(row["path"])  # a length unknown to shape inference
        return tf.zeros([n, 80]), tf.zeros([n], tf.int32)

    monkeypatch.setattr(pipeline, "_features_of", fail)
    second = pipeline.load_split(corpus, "valid", cache_dir=cache)
    np.testing.assert_array_equal(first.features[0], second.features[0])
    # The key follows the content: the same bytes written again keep it, a
    # changed file at the same path changes it, so stale features are not read.
    key = pipeline.cache_key(corpus.songs("valid"))
    path = tiny_corpus / "audio" / "s1.flac"
    original = path.read_bytes()
    path.write_bytes(original)
    assert pipeline.cache_key(corpus.songs("valid")) == key
    audio, rate = soundfile.read(path)
    soundfile.write(path, 0.5 * audio, rate, format="FLAC")
    assert pipeline.cache_key(corpus.songs("valid")) != key
    label = tiny_corpus / "labels" / "s1.lab"
    path.write_bytes(original)
    label.write_text(label.read_text().replace("2.000", "2.010", 1))
    assert pipeline.cache_key(corpus.songs("valid")) != key


@pytest.mark.slow
def test_load_split_names_undecodable_file(tiny_corpus):
    corpus = corpus_lib.read_corpus(tiny_corpus)
    path = tiny_corpus / "audio" / "s0.flac"
    path.write_bytes(path.read_bytes()[:200])  # header survives, samples don't
    with pytest.raises(AudioDecodeError, match="s0.flac"):
        pipeline.load_split(corpus, "train")


def test_band_stats_matches_numpy():
    rng = np.random.default_rng(0)
    feats = [rng.normal(3.0, 2.0, (n, 80)).astype(np.float32) for n in (100, 37, 250)]
    mean, std = pipeline.band_stats(feats)
    allf = np.concatenate(feats).astype(np.float64)
    np.testing.assert_allclose(mean, allf.mean(0), rtol=1e-10)
    np.testing.assert_allclose(std, allf.std(0), rtol=1e-8)
    assert mean.dtype == np.float64 and mean.shape == (80,)
    with pytest.raises(ParameterError, match="0 frames"):
        pipeline.band_stats([])


@pytest.mark.slow
def test_excerpts_shapes_and_label_alignment():
    split = _ramp_split([400, 300])
    frames = np.concatenate(split.features)
    labels = np.concatenate(split.labels)
    ds = pipeline.excerpt_dataset(split, batch_size=16, seed=1)
    for x, y in ds.take(5):
        x, y = x.numpy(), y.numpy()
        assert x.shape == (16, 115, 80) and x.dtype == np.float32
        assert y.shape == (16,) and y.dtype == np.int32
        centres = x[:, 57, 0].astype(int)
        # The excerpt is frames[c - 57 : c + 58] of a single song.
        for row, c in zip(x, centres):
            np.testing.assert_array_equal(row, frames[c - 57 : c + 58])
            assert (c - 57 >= 400) == (c + 57 >= 400)
        np.testing.assert_array_equal(y, labels[centres])


@pytest.mark.slow
def test_stream_is_deterministic_per_seed():
    split = _ramp_split([500])

    def take(seed):
        return np.stack(
            [x.numpy() for x, _ in pipeline.excerpt_dataset(split, 8, seed=seed).take(3)]
        )

    np.testing.assert_array_equal(take(7), take(7))
    assert not np.array_equal(take(7), take(8))
    # Starting at batch 2 continues the same stream.
    later = next(iter(pipeline.excerpt_dataset(split, 8, seed=7, start_step=2)))[0].numpy()
    np.testing.assert_array_equal(later, take(7)[2])


@pytest.mark.slow
def test_class_balance():
    split = _ramp_split([2000], vocal_from=0.85)  # about 15 % vocal centres

    def ys(balance):
        return np.concatenate(
            [
                y.numpy()
                for _, y in pipeline.excerpt_dataset(split, 256, seed=0, balance=balance).take(8)
            ]
        )

    assert ys(False).mean() == pytest.approx(0.13, abs=0.04)
    assert ys(True).mean() == pytest.approx(0.5, abs=0.04)


def test_balance_needs_both_classes():
    split = _ramp_split([400], vocal_from=1.0)
    with pytest.raises(ParameterError, match="0 vocal centres"):
        pipeline.excerpt_dataset(split, balance=True)


def test_augmentation_parameter_ranges():
    aug = pipeline.PAPER_AUGMENTATION
    p = {
        k: v.numpy()
        for k, v in pipeline.augmentation_params(tf.constant([3, 4]), 4096, aug).items()
    }
    for key, lo, hi in [("stretch", 0.7, 1.3), ("shift", 0.7, 1.3), ("gain_db", -10, 10)]:
        assert p[key].min() >= lo and p[key].max() <= hi
        # The draws cover the range, not only its middle.
        assert p[key].min() < lo + 0.02 * (hi - lo) and p[key].max() > hi - 0.02 * (hi - lo)
    assert aug.margin == 76


def _params(n=1, stretch=1.0, shift=1.0, gain_db=0.0, centre=40.0, width=5.0):
    def f(v):
        return tf.fill([n], tf.constant(v, tf.float32))

    return {
        "stretch": f(stretch),
        "shift": f(shift),
        "gain_db": f(gain_db),
        "filter_centre": f(centre),
        "filter_width": f(width),
    }


def test_identity_augmentation_equals_plain_excerpt():
    frames = tf.constant(np.random.default_rng(0).normal(size=(300, 80)).astype(np.float32))
    centres = tf.constant([100, 150], tf.int64)
    plain = pipeline.plain_excerpts(frames, centres).numpy()
    aug = pipeline.augmented_excerpts(frames, centres, _params(2)).numpy()
    np.testing.assert_allclose(aug, plain, atol=1e-4)


@pytest.mark.parametrize("stretch", [0.7, 1.3])
def test_time_stretch_scales_time_axis(stretch):
    split = _ramp_split([400])
    frames = tf.constant(np.concatenate(split.features))
    x = pipeline.augmented_excerpts(
        frames, tf.constant([200], tf.int64), _params(stretch=stretch)
    ).numpy()
    slope = np.polyfit(np.arange(115), x[0, :, 0], 1)[0]
    assert slope == pytest.approx(stretch, rel=1e-4)
    assert x[0, 57, 0] == pytest.approx(200.0)  # the centre (and its label) stays put


@pytest.mark.parametrize("shift", [0.75, 1.25])
def test_pitch_shift_moves_a_partial(shift):
    # A log-mel with one bright band at 1 kHz moves to shift * 1 kHz.
    fb = spectral.mel_filterbank().numpy()
    freqs = np.arange(513) * 22050 / 1024

    def centre_bin(hz):
        return np.argmax(fb[np.argmin(np.abs(freqs - hz))])

    frames = np.full((200, 80), -5.0, np.float32)
    frames[:, centre_bin(1000.0)] = 5.0
    x = pipeline.augmented_excerpts(
        tf.constant(frames), tf.constant([100], tf.int64), _params(shift=shift)
    ).numpy()
    assert abs(int(np.argmax(x[0, 57])) - centre_bin(1000.0 * shift)) <= 1


def test_frequency_filter_gain_in_nats():
    frames = tf.zeros([200, 80])
    x = pipeline.augmented_excerpts(
        frames, tf.constant([100], tf.int64), _params(gain_db=10.0, centre=40.0, width=4.0)
    ).numpy()
    assert x[0, 0, 40] == pytest.approx(10.0 * np.log(10) / 20, rel=1e-5)
    assert abs(x[0, 0, 0]) < 1e-6  # far from the bump, untouched
    low = pipeline.augmented_excerpts(
        tf.fill([200, 80], float(np.log(1e-7))),
        tf.constant([100], tf.int64),
        _params(gain_db=-10.0),
    ).numpy()
    assert low.min() >= np.log(1e-7) - 1e-6  # still floored


def test_bad_arguments():
    with pytest.raises(ParameterError, match="max_stretch=1.5"):
        pipeline.Augmentation(max_stretch=1.5)
    with pytest.raises(ParameterError, match="batch_size=0"):
        pipeline.excerpt_dataset(_ramp_split([400]), batch_size=0)
    with pytest.raises(ParameterError, match="longer than 152 frames"):
        pipeline.excerpt_dataset(_ramp_split([100]), augmentation=pipeline.PAPER_AUGMENTATION)


def test_excerpts_at_every_stride_th_centre():
    split = _ramp_split([300, 200])
    labels = np.concatenate(split.labels)
    # Valid centres: 57..242 in the first song, 357..442 in the second.
    x, y = pipeline.excerpts_at(split, 40, offset=5)
    centres = x[:, 57, 0].astype(int)
    np.testing.assert_array_equal(centres, [62, 102, 142, 182, 222, 376, 416])
    np.testing.assert_array_equal(x[:, :, 0], centres[:, None] + np.arange(-57, 58)[None, :])
    np.testing.assert_array_equal(y, labels[centres])
    assert x.dtype == np.float32 and x.shape == (7, 115, 80)
    with pytest.raises(ParameterError, match="Received: stride=0"):
        pipeline.excerpts_at(split, 0)


def test_sample_excerpts_by_class():
    split = _ramp_split([600, 500])
    frames = np.concatenate(split.features)
    labels = np.concatenate(split.labels)
    x, y = pipeline.sample_excerpts(split, 50, label=1, seed=4)
    assert x.shape == (50, 115, 80) and np.all(y == 1)
    centres = x[:, 57, 0].astype(int)
    assert len(set(centres)) == 50 and np.all(labels[centres] == 1)
    np.testing.assert_array_equal(x[3], frames[centres[3] - 57 : centres[3] + 58])
    again, _ = pipeline.sample_excerpts(split, 50, label=1, seed=4)
    np.testing.assert_array_equal(x, again)
    with pytest.raises(ParameterError, match="count=100000"):
        pipeline.sample_excerpts(split, 100000)


def test_pad_edges_makes_every_frame_a_centre_framed_by_silence():
    split = _ramp_split([10, 7])
    frames, labels, centres = pipeline.concat_split(split, 3, pad_edges=True)
    floor = np.float32(spectral.LOG_MEL_MIN)
    assert frames.shape == (3 + 10 + 3 + 7 + 3, 80)
    # Each song's frames, in order, at its centres; silence around them.
    np.testing.assert_array_equal(frames[centres, 0], np.arange(17, dtype=np.float32))
    np.testing.assert_array_equal(labels[centres], np.concatenate(split.labels))
    assert set(np.where(frames[:, 0] == floor)[0]) == {0, 1, 2, 13, 14, 15, 23, 24, 25}
    # The excerpt of a song's last frame sees silence after it, as prediction pads.
    last = centres[9]
    np.testing.assert_array_equal(frames[last - 3 : last + 4, 0], [6, 7, 8, 9, floor, floor, floor])
    # Without padding, only frames with the margin inside their song are centres.
    _, _, inner = pipeline.concat_split(split, 3)
    assert len(inner) == 4 + 1


def test_excerpt_dataset_with_pad_edges_reaches_the_ends():
    split = _ramp_split([130, 140])
    floor = np.float32(spectral.LOG_MEL_MIN)
    ds = pipeline.excerpt_dataset(split, batch_size=64, seed=3, pad_edges=True)
    centre_values, saw_silence = [], False
    for x, y in ds.take(20):
        x = x.numpy()
        centre = x[:, pipeline.HALF, 0]
        assert not np.any(centre == floor)  # a centre is always a song's frame
        centre_values += centre.tolist()
        saw_silence |= bool(np.any(x[:, :, 0] == floor))
        want = np.concatenate(split.labels)[centre.astype(int)]
        np.testing.assert_array_equal(y.numpy(), want)
    assert saw_silence
    # Frames within 57 of an end, never centres without padding, now are.
    near_ends = [v for v in centre_values if v < 57 or 73 <= v < 187 or v >= 213]
    assert len(near_ends) > 0.5 * len(centre_values)
