"""Tests of the synthetic singing-voice corpus."""

import dataclasses
import math

import numpy as np
import pytest
import soundfile

from vocal_xai.data import corpus
from vocal_xai.data import synthetic
from vocal_xai.errors import ParameterError

SR = synthetic.SAMPLE_RATE
DURATION = 10.0
TINY_SPLITS = {"train": 2, "valid": 1, "test": 1}


@pytest.fixture(scope="module")
def songs():
    return [synthetic.synthesize_song(7, i, DURATION) for i in range(6)]


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus_a")
    return synthetic.make_corpus(root, seed=3, split_sizes=TINY_SPLITS, duration=8.0, workers=1)


def _sing_mask(segments, n):
    """Samples whose time lies inside a sing segment, computed independently."""
    t = np.arange(n) / SR
    mask = np.zeros(n, bool)
    for seg in segments:
        if seg.vocal:
            mask |= (t >= seg.start) & (t <= seg.end)
    return mask


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files_and_other_seed_differs(tiny_corpus, tmp_path):
    again = synthetic.make_corpus(
        tmp_path / "b", seed=3, split_sizes=TINY_SPLITS, duration=8.0, workers=2
    )
    first, second = _files(tiny_corpus), _files(again)
    assert len(first) == 4 * 2 + 3
    assert sorted(first) == sorted(second)
    for rel in first:
        assert first[rel] == second[rel], rel

    other = synthetic.make_corpus(
        tmp_path / "c",
        seed=4,
        split_sizes={"train": 1, "valid": 0, "test": 0},
        duration=8.0,
        workers=1,
    )
    a, _ = soundfile.read(tiny_corpus / "audio" / "song000.flac")
    c, _ = soundfile.read(other / "audio" / "song000.flac")
    assert a.shape == c.shape
    assert np.mean(np.abs(a - c)) > 0.01


def test_synthesize_song_is_deterministic_per_seed_and_index():
    a = synthetic.synthesize_song(11, 2, 7.0)
    b = synthetic.synthesize_song(11, 2, 7.0)
    c = synthetic.synthesize_song(11, 3, 7.0)
    np.testing.assert_array_equal(a.audio, b.audio)
    np.testing.assert_array_equal(a.vocal, b.vocal)
    assert a.segments == b.segments
    assert a.name == "song002" and c.name == "song003"
    assert not np.array_equal(a.audio, c.audio)


def test_vocal_energy_lies_inside_sing_regions(songs):
    for song in songs:
        inside = _sing_mask(song.segments, len(song.vocal))
        energy = np.square(song.vocal.astype(np.float64))
        assert energy.sum() > 0.0
        assert energy[inside].sum() / energy.sum() >= 0.98
        # The vocal is really present in each sing region, not only in one.
        for seg in song.segments:
            if seg.vocal:
                i0, i1 = int(math.ceil(seg.start * SR)), int(seg.end * SR)
                assert np.sqrt(np.mean(energy[i0:i1])) > 1e-3


def test_segments_structure_and_vocal_fraction(songs):
    fractions = []
    for song in songs:
        segs = song.segments
        n_sing = sum(s.vocal for s in segs)
        assert 2 <= n_sing <= 4
        assert segs[0].start == 0.0
        assert segs[-1].end == pytest.approx(DURATION, abs=1e-9)
        for prev, nxt in zip(segs, segs[1:]):
            assert nxt.start == prev.end
            assert nxt.vocal != prev.vocal
        assert all(s.end > s.start for s in segs)
        n_frames = (len(song.audio) - 1024) // 315 + 1
        labels = corpus.frame_labels(segs, n_frames)
        fraction = labels.mean()
        assert 0.33 <= fraction <= 0.67
        fractions.append(fraction)
    assert 0.4 <= np.mean(fractions) <= 0.6


def test_vocal_to_accompaniment_ratio_is_in_range_and_reported(songs):
    for song in songs:
        inside = _sing_mask(song.segments, len(song.vocal))
        vocal = song.vocal.astype(np.float64)[inside]
        accompaniment = song.audio.astype(np.float64)[inside] - vocal
        measured = 20.0 * np.log10(np.sqrt(np.mean(vocal**2)) / np.sqrt(np.mean(accompaniment**2)))
        assert -5.05 <= measured <= 10.05
        assert measured == pytest.approx(song.vocal_to_accompaniment_db, abs=0.02)


def test_audio_is_finite_unclipped_and_normalised(songs):
    for song in songs:
        assert song.audio.dtype == np.float32 and song.vocal.dtype == np.float32
        assert len(song.audio) == len(song.vocal) == round(DURATION * SR)
        assert np.all(np.isfinite(song.audio)) and np.all(np.isfinite(song.vocal))
        peak = float(np.max(np.abs(song.audio)))
        assert 0.85 <= peak <= 0.9 + 1e-6
        assert song.singer in ("male", "female")


def test_flac_and_labels_read_back(tiny_corpus):
    names = []
    for split in corpus.SPLITS:
        names += corpus.read_filelist(tiny_corpus / "filelists" / split)
    assert names == [f"song{i:03d}" for i in range(4)]
    assert corpus.read_filelist(tiny_corpus / "filelists" / "valid") == ["song002"]
    for i, name in enumerate(names):
        audio, rate = soundfile.read(tiny_corpus / "audio" / f"{name}.flac", dtype="float32")
        info = soundfile.info(tiny_corpus / "audio" / f"{name}.flac")
        assert (
            rate == SR and info.format == "FLAC" and info.subtype == "PCM_16" and info.channels == 1
        )
        song = synthetic.synthesize_song(3, i, 8.0)
        assert audio.shape == (round(8.0 * SR),)
        np.testing.assert_allclose(audio, song.audio, atol=1.01 / 32768)
        assert corpus.parse_lab(tiny_corpus / "labels" / f"{name}.lab") == song.segments


def test_summarize_corpus_counts(tiny_corpus):
    summary = synthetic.summarize_corpus(tiny_corpus)
    assert summary.songs_per_split == TINY_SPLITS
    assert summary.minutes == pytest.approx(4 * 8.0 / 60.0)
    n_frames = (round(8.0 * SR) - 1024) // 315 + 1
    expected = np.mean(
        [
            corpus.frame_labels(synthetic.synthesize_song(3, i, 8.0).segments, n_frames).mean()
            for i in range(4)
        ]
    )
    assert summary.vocal_fraction == pytest.approx(expected)


def _band_envelope_variance(audio, f0_max):
    """Mean over bands of the time variance of a level-normalised band envelope.

    Bands are wider than twice the highest f0, so their energies follow the
    spectral envelope rather than the positions of single harmonics. Frames
    within 15 dB of the loudest one count.
    """
    frame, hop = 2048, 256
    frames = np.lib.stride_tricks.sliding_window_view(audio, frame)[::hop] * np.hanning(frame)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    freqs = np.fft.rfftfreq(frame, 1.0 / SR)
    width = 2.5 * f0_max
    edges = np.arange(300.0, 4500.0, width)
    bands = np.stack(
        [power[:, (freqs >= lo) & (freqs < lo + width)].sum(1) for lo in edges[:-1]], axis=1
    )
    # Floor bands 40 dB below the strongest one, where window leakage rules.
    level = 10.0 * np.log10(bands + 1e-4 * bands.max())
    total = 10.0 * np.log10(bands.sum(1) + 1e-12)
    voiced = total > total.max() - 15.0
    shape = level[voiced] - level[voiced].mean(1, keepdims=True)
    return float(np.mean(np.var(shape, axis=0)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vocal_has_formant_motion_and_leads_do_not(seed):
    rng = np.random.default_rng(seed)
    onset = 0.3 + 0.4 * np.arange(8)
    duration = np.full(8, 0.4)
    midi = np.array([57, 59, 60, 62, 60, 59, 57, 59], np.float64)
    f0_max = float(synthetic._midi_to_hz(midi.max() + 1.0))

    singer = synthetic._draw_singer(rng, "male")
    notes, syllables = synthetic._plan_vocal_phrase(rng, onset, duration, midi, singer)
    vocal = synthetic._sing_phrase(np.random.default_rng(100), notes, syllables, singer)
    vocal_var = _band_envelope_variance(vocal, f0_max)

    lead_vars = []
    for kind in synthetic.LEAD_KINDS:
        inst = synthetic._draw_instrument(rng, kind)
        lead_notes = synthetic._plan_lead_phrase(rng, onset, duration, midi, inst)
        lead = synthetic._lead_phrase(rng, lead_notes, inst)
        lead_vars.append(_band_envelope_variance(lead, f0_max))
    assert vocal_var > 3.0 * max(lead_vars), (vocal_var, lead_vars)

    # The variance comes from the moving formants: one vowel throughout, no
    # consonants, and it collapses.
    first = np.full(len(onset), syllables.vowel[0])
    frozen = dataclasses.replace(
        syllables,
        vowel=first,
        vowel2=first,
        consonant=np.full(len(onset), -1),
        dip=np.where(np.arange(len(onset)) == 0, 0.0, 0.8),
    )
    still = synthetic._sing_phrase(np.random.default_rng(100), notes, frozen, singer)
    assert _band_envelope_variance(still, f0_max) < 0.4 * vocal_var


def test_partials_stay_below_nyquist():
    rng = np.random.default_rng(0)
    n_ctrl = synthetic._num_controls(1.0)
    t = synthetic._control_times(n_ctrl)
    f0 = 780.0 * 2.0 ** (0.5 * np.sin(2.0 * np.pi * 6.0 * t) / 12.0)
    k = np.arange(1, synthetic._num_partials(f0.min()) + 1)
    amps = np.ones((n_ctrl, len(k))) * synthetic._partial_taper(f0[:, None] * k)
    y = synthetic._tone(rng, f0, amps)
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    freqs = np.fft.rfftfreq(len(y), 1.0 / SR)
    assert spectrum[freqs > synthetic.MAX_PARTIAL_HZ + 300.0].sum() < 1e-6 * spectrum.sum()
    assert spectrum[(freqs > 5000.0) & (freqs < 8000.0)].sum() > 1e-2 * spectrum.sum()


def test_resonator_gain_matches_the_formula():
    freqs = np.array([0.0, 500.0, 1500.0])
    gain = synthetic.resonator_gain(freqs, np.array([500.0, 1500.0]), np.array([50.0, 100.0]))
    expected = [
        np.prod(
            [
                c**2 / np.sqrt((c**2 - f**2) ** 2 + (b * f) ** 2)
                for c, b in ((500.0, 50.0), (1500.0, 100.0))
            ]
        )
        for f in freqs
    ]
    np.testing.assert_allclose(gain, expected, rtol=1e-12)
    assert gain[0] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(seed=-1, index=0),
        dict(seed=1.5, index=0),
        dict(seed=True, index=0),
        dict(seed=0, index=-2),
        dict(seed=0, index=0, duration=2.0),
        dict(seed=0, index=0, duration=float("nan")),
        dict(seed=0, index=0, duration="30"),
    ],
)
def test_synthesize_song_validates_arguments(kwargs):
    with pytest.raises(ParameterError, match=r"Expected .* Received: "):
        synthetic.synthesize_song(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(seed=-1),
        dict(split_sizes={"train": 1, "valid": 1}),
        dict(split_sizes={"train": 1, "valid": 1, "test": -1}),
        dict(split_sizes={"train": 0, "valid": 0, "test": 0}),
        dict(split_sizes={"train": 1.0, "valid": 0, "test": 0}),
        dict(duration=1.0),
        dict(workers=0),
    ],
)
def test_make_corpus_validates_arguments(tmp_path, kwargs):
    with pytest.raises(ParameterError, match=r"Expected .* Received: "):
        synthetic.make_corpus(tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()


def test_make_corpus_rejects_a_non_path(tmp_path):
    with pytest.raises(ParameterError, match="Received: out_dir=None"):
        synthetic.make_corpus(None)
