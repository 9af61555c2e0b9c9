"""Tests of the synthetic singing-voice corpora (both versions)."""

import dataclasses
import functools
import math

import numpy as np
import pytest
import soundfile

from vocal_xai.data import corpus, synthetic
from vocal_xai.data.synthetic import dsp, effects, instruments, leads, v1, v2, v4, voice
from vocal_xai.errors import ParameterError

SR = synthetic.SAMPLE_RATE
DURATION = 10.0
TINY_SPLITS = {"train": 2, "valid": 1, "test": 1}

# SHA-256 of version 1 songs' float32 samples, from the code that made the
# corpus of detectors 1-3: version 1 must stay reproducible byte for byte.
V1_SONG_SHA256 = {
    0: "91135f0878edcef0e29833b6c158cd8b656d2531d463db7330124e15223b9bbc",
    7: "e975e8923648ef758a1a479fcc7e2253d442e9d2222b48815a0e11ceec2335e7",
}


@pytest.fixture(
    scope="module", params=[1, 2, pytest.param(3, marks=pytest.mark.slow)], ids=["v1", "v2", "v3"]
)
def songs(request):
    version = request.param
    return version, [synthetic.synthesize_song(7, i, DURATION, version) for i in range(6)]


@pytest.fixture(scope="module", params=[1, 2], ids=["v1", "v2"])
def tiny_corpus(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"corpus_v{request.param}")
    return synthetic.make_corpus(
        root, seed=3, split_sizes=TINY_SPLITS, duration=8.0, workers=1, version=request.param
    )


def _version(root):
    info = synthetic.corpus_info(root)
    return 1 if info is None else info["version"]


@functools.cache
def _tiny_song(index, version):
    """Song ``index`` of ``tiny_corpus``, synthesised here (once per module)
    rather than read from the corpus folder."""
    return synthetic.synthesize_song(3, index, 8.0, version)


# The same for version 2, the corpus of detector 4.
V2_SONG_SHA256 = {
    0: "4d5bf5a070ee8b7f3f3ed9e477e0e6c2ef199faff788d85c2616d88df088938a",
    7: "73e94fbbe3e91bac09690efd1502a8e89e7d671372e6edc066290f5cd92d15ab",
}


# And for version 3.
V3_SONG_SHA256 = {
    0: "d366545a4074dee8d18b7d8668f56db1e0cb78d1182df903558d6b991a3fcd02",
    7: "27843f30872ba97aa1d8ede43c2fffd11c97444ee52390af43442985d4e9c483",
}
# And for version 4 (version 5's hooks left it as it was).
V4_SONG_SHA256 = {
    0: "90092ebf782f89762a65dfa6c4fb631f14b115b0299c1fe4bd30bba022563bf6",
    7: "222bf949edc081de983f2003d1547d307c42793ae38212f346602a7419fa968d",
}
SONG_SHA256 = {1: V1_SONG_SHA256, 2: V2_SONG_SHA256, 3: V3_SONG_SHA256, 4: V4_SONG_SHA256}
# These pins were made where numpy has AVX-512 code for float64 exp, log and
# sin; elsewhere (``dsp.numpy_vector_kind``) two of the songs round differently.
if dsp.numpy_vector_kind() == "baseline":
    SONG_SHA256[1] = {
        **V1_SONG_SHA256,
        0: "c19eaa81979e13812445a50b5f546fffc139a392c74f487af681ef2091e6394f",
    }
    SONG_SHA256[2] = {
        **V2_SONG_SHA256,
        7: "52afeebec5ea68f191b4ebde6b9b24e07723b8af597c86419363f5af4c634b9c",
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "version, index", [(v, i) for v, pins in SONG_SHA256.items() for i in sorted(pins)]
)
def test_songs_are_unchanged_byte_for_byte(version, index):
    import hashlib

    song = synthetic.synthesize_song(0, index, 8.0, version=version)
    assert hashlib.sha256(song.audio.tobytes()).hexdigest() == SONG_SHA256[version][index]


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


@pytest.mark.slow
def test_same_seed_gives_byte_identical_files_and_other_seed_differs(tiny_corpus, tmp_path):
    version = _version(tiny_corpus)
    again = synthetic.make_corpus(
        tmp_path / "b", seed=3, split_sizes=TINY_SPLITS, duration=8.0, workers=2, version=version
    )
    first, second = _files(tiny_corpus), _files(again)
    # Version 1 writes what it always did; version 2 adds synthetic.json.
    assert len(first) == 4 * 2 + 3 + (version > 1)
    assert sorted(first) == sorted(second)
    for rel in first:
        assert first[rel] == second[rel], rel

    other = synthetic.make_corpus(
        tmp_path / "c",
        seed=4,
        split_sizes={"train": 1, "valid": 0, "test": 0},
        duration=8.0,
        workers=1,
        version=version,
    )
    a, _ = soundfile.read(tiny_corpus / "audio" / "song000.flac")
    c, _ = soundfile.read(other / "audio" / "song000.flac")
    assert a.shape == c.shape
    assert np.mean(np.abs(a - c)) > 0.01


@pytest.mark.slow
@pytest.mark.parametrize("version", [1, 2])
def test_synthesize_song_is_deterministic_per_seed_and_index(version):
    a = synthetic.synthesize_song(11, 2, 7.0, version)
    b = synthetic.synthesize_song(11, 2, 7.0, version)
    c = synthetic.synthesize_song(11, 3, 7.0, version)
    np.testing.assert_array_equal(a.audio, b.audio)
    np.testing.assert_array_equal(a.vocal, b.vocal)
    assert a.segments == b.segments
    assert a.name == "song002" and c.name == "song003"
    assert not np.array_equal(a.audio, c.audio)


@pytest.mark.slow
def test_vocal_energy_lies_inside_sing_regions(songs):
    _, songs = songs
    for song in songs:
        inside = _sing_mask(song.segments, len(song.vocal))
        energy = np.square(song.vocal.astype(np.float64))
        if not inside.any():  # a song without singing has a silent vocal stem
            assert energy.sum() == 0.0
            continue
        assert energy.sum() > 0.0
        assert energy[inside].sum() / energy.sum() >= 0.98
        # The vocal is really present in each sing region, not only in one.
        for seg in song.segments:
            if seg.vocal:
                i0, i1 = int(math.ceil(seg.start * SR)), int(seg.end * SR)
                assert np.sqrt(np.mean(energy[i0:i1])) > 1e-3


@pytest.mark.slow
def test_segments_structure_and_vocal_fraction(songs):
    version, songs = songs
    fractions = []
    for song in songs:
        segs = song.segments
        n_sing = sum(s.vocal for s in segs)
        if version > 1 and n_sing == 0:  # a song without singing
            assert segs == (corpus.Segment(0.0, DURATION, False),)
            continue
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
    version, songs = songs
    # Version 2's mastering moves the drawn ratio by a few dB; it reports
    # the ratio it measures on the mastered stems.
    low, high = (-5.05, 10.05) if version == 1 else (-12.0, 14.0)
    for song in songs:
        inside = _sing_mask(song.segments, len(song.vocal))
        if not inside.any():
            assert math.isnan(song.vocal_to_accompaniment_db)
            continue
        vocal = song.vocal.astype(np.float64)[inside]
        accompaniment = song.audio.astype(np.float64)[inside] - vocal
        measured = 20.0 * np.log10(np.sqrt(np.mean(vocal**2)) / np.sqrt(np.mean(accompaniment**2)))
        assert low <= measured <= high
        assert measured == pytest.approx(song.vocal_to_accompaniment_db, abs=0.02)


def test_audio_is_finite_unclipped_and_normalised(songs):
    version, songs = songs
    singers = ("male", "female") if version == 1 else (*v2.VOICE_TYPES, "none")
    for song in songs:
        assert song.audio.dtype == np.float32 and song.vocal.dtype == np.float32
        assert len(song.audio) == len(song.vocal) == round(DURATION * SR)
        assert np.all(np.isfinite(song.audio)) and np.all(np.isfinite(song.vocal))
        peak = float(np.max(np.abs(song.audio)))
        assert 0.85 <= peak <= 0.9 + 1e-6
        assert song.singer in singers


@pytest.mark.slow
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
        song = _tiny_song(i, _version(tiny_corpus))
        assert audio.shape == (round(8.0 * SR),)
        np.testing.assert_allclose(audio, song.audio, atol=1.01 / 32768)
        assert corpus.parse_lab(tiny_corpus / "labels" / f"{name}.lab") == song.segments


@pytest.mark.slow
def test_summarize_corpus_counts(tiny_corpus):
    summary = synthetic.summarize_corpus(tiny_corpus)
    assert summary.songs_per_split == TINY_SPLITS
    assert summary.minutes == pytest.approx(4 * 8.0 / 60.0)
    n_frames = (round(8.0 * SR) - 1024) // 315 + 1
    expected = np.mean(
        [
            corpus.frame_labels(_tiny_song(i, _version(tiny_corpus)).segments, n_frames).mean()
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
    f0_max = float(dsp.midi_to_hz(midi.max() + 1.0))

    singer = voice.draw_singer(rng, "male", v1.SINGER)
    notes, syllables = voice.plan_vocal_phrase(rng, onset, duration, midi, singer)
    vocal = voice.sing_phrase(np.random.default_rng(100), notes, syllables, singer)
    vocal_var = _band_envelope_variance(vocal, f0_max)

    lead_vars = []
    for kind in leads.LEAD_KINDS:
        inst = leads.draw_lead(rng, kind)
        lead_notes = leads.plan_lead_phrase(rng, onset, duration, midi, inst)
        lead = leads.render_lead_phrase(rng, lead_notes, inst)
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
    still = voice.sing_phrase(np.random.default_rng(100), notes, frozen, singer)
    assert _band_envelope_variance(still, f0_max) < 0.4 * vocal_var


def test_partials_stay_below_nyquist():
    rng = np.random.default_rng(0)
    n_ctrl = dsp.num_controls(1.0)
    t = dsp.control_times(n_ctrl)
    f0 = 780.0 * 2.0 ** (0.5 * np.sin(2.0 * np.pi * 6.0 * t) / 12.0)
    k = np.arange(1, dsp.num_partials(f0.min()) + 1)
    amps = np.ones((n_ctrl, len(k))) * dsp.partial_taper(f0[:, None] * k)
    y = dsp.tone(rng, f0, amps)
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    freqs = np.fft.rfftfreq(len(y), 1.0 / SR)
    assert spectrum[freqs > dsp.MAX_PARTIAL_HZ + 300.0].sum() < 1e-6 * spectrum.sum()
    assert spectrum[(freqs > 5000.0) & (freqs < 8000.0)].sum() > 1e-2 * spectrum.sum()


def test_resonator_gain_matches_the_formula():
    freqs = np.array([0.0, 500.0, 1500.0])
    gain = dsp.resonator_gain(freqs, np.array([500.0, 1500.0]), np.array([50.0, 100.0]))
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
        dict(seed=0, index=0, version=7),
        dict(seed=0, index=0, version=True),
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
        dict(version=0),
    ],
)
def test_make_corpus_validates_arguments(tmp_path, kwargs):
    with pytest.raises(ParameterError, match=r"Expected .* Received: "):
        synthetic.make_corpus(tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()


def test_make_corpus_rejects_a_non_path(tmp_path):
    with pytest.raises(ParameterError, match="Received: out_dir=None"):
        synthetic.make_corpus(None)


@pytest.mark.parametrize(
    "values, expected",
    [
        (["96", "24", "24"], {"train": 96, "valid": 24, "test": 24}),
        ([2, 0, 1], {"train": 2, "valid": 0, "test": 1}),
    ],
)
def test_parse_split_sizes(values, expected):
    assert synthetic.parse_split_sizes(values) == expected


@pytest.mark.parametrize("values", [["1", "2"], ["a", "1", "1"], ["1", "-1", "1"], ["0", "0", "0"]])
def test_parse_split_sizes_refuses_bad_counts(values):
    with pytest.raises(ParameterError, match=r"Expected .* Received: "):
        synthetic.parse_split_sizes(values)


# ---------------------------------------------------------------------------
# Version 2: instruments, effects and song plans.


@pytest.mark.parametrize("name", sorted(instruments.INSTRUMENTS))
def test_every_instrument_renders_a_finite_band_limited_line(name):
    rng = np.random.default_rng(5)
    inst = instruments.draw_instrument(rng, name)
    lo, hi = inst.register
    midi = np.array([lo + 2, (lo + hi) // 2, hi - 2, (lo + hi) // 2], np.float64)
    notes = instruments.plan_line(rng, 0.5 * np.arange(4), np.full(4, 0.5), midi, inst)
    y = instruments.render_line(rng, notes, inst)
    assert np.all(np.isfinite(y)) and np.sqrt(np.mean(y.astype(np.float64) ** 2)) > 1e-3
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    freqs = np.fft.rfftfreq(len(y), 1.0 / SR)
    # Partials stay below the limit; what is above is the noise's tail only.
    assert spectrum[freqs > dsp.MAX_PARTIAL_HZ + 500.0].sum() < 1e-3 * spectrum.sum()


def test_draw_instrument_refuses_an_unknown_name():
    with pytest.raises(ParameterError, match="Received: name='kazoo'"):
        instruments.draw_instrument(np.random.default_rng(0), "kazoo")


def _held_pitch(seed):
    """A singer's eight syllables on one held pitch (B3) and the variance of
    their band envelope, then solo instruments set to play that pitch steadily,
    each with its line, drawn lazily from the same stream ``rng``.

    Returns:
        (rng, f0_max, vocal_var, iterator of (instrument, line)).
    """
    rng = np.random.default_rng(seed)
    onset = 0.3 + 0.4 * np.arange(8)
    midi = np.full(8, 59.0)
    f0_max = float(dsp.midi_to_hz(midi.max() + 1.0))
    singer = voice.draw_singer(rng, "baritone", v2.SINGER)
    notes, syllables = voice.plan_vocal_phrase(
        rng, onset, np.full(8, 0.4), midi, singer, vib_limits=v2.VIBRATO_LIMITS
    )
    vocal_var = _band_envelope_variance(voice.sing_phrase(rng, notes, syllables, singer), f0_max)

    def solos():
        # Solo instruments only: the players of a section beat against each other.
        for name in ("violin", "cello", "saxophone", "trumpet", "clarinet"):
            inst = dataclasses.replace(
                instruments.draw_instrument(rng, name),
                vibrato_prob=0.0,
                glide_prob=0.0,
                attack=(0.04, 0.05),
            )
            yield inst, instruments.plan_line(rng, np.zeros(1), np.array([3.2]), midi[:1], inst)

    return rng, f0_max, vocal_var, solos()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_version_2_instruments_have_no_moving_formants(seed):
    """Instruments have fixed bodies: on a held pitch their spectral
    envelope stays put while a singer's formants move with the syllables on
    that pitch. (Across pitches and with vibrato, partials meet other body
    peaks, and attacks and loudness change the brightness: see the next
    test.)"""
    rng, f0_max, vocal_var, solos = _held_pitch(seed)
    for inst, line in solos:
        held = instruments.render_line(rng, line, inst)[int(0.3 * SR) : int(3.0 * SR)]
        lead_var = _band_envelope_variance(held, f0_max)
        assert vocal_var > 3.0 * lead_var, (inst.name, vocal_var, lead_var)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_version_4_instruments_move_their_bodies(seed):
    """The same held pitch as above: played with ``v4.draw_motion``'s motion,
    an instrument's spectral envelope moves many times more than its fixed
    body lets it, and by a sizeable share of what the singer's does. (On a
    melody, the notes' own body shifts add to this.)"""
    rng, f0_max, vocal_var, solos = _held_pitch(seed)
    fixed, moving = [], []
    for inst, line in solos:
        motion = v4.draw_motion(rng, inst)
        for out, m in ((fixed, None), (moving, motion)):
            held = instruments.render_line(np.random.default_rng(seed), line, inst, m)
            out.append(_band_envelope_variance(held[int(0.3 * SR) : int(3.0 * SR)], f0_max))
    fixed, moving = np.array(fixed) / vocal_var, np.array(moving) / vocal_var
    assert np.all(moving > 10.0 * fixed) and np.median(moving) > 0.1, (fixed, moving)


def test_rearticulated_notes_dip_and_come_back():
    """A held 3 s note re-articulated every 0.3-0.6 s: its level dips at
    every change (5-10 of them), and without motion it does not dip."""
    inst = dataclasses.replace(
        instruments.draw_instrument(np.random.default_rng(4), "violin"),
        vibrato_prob=0.0,
        glide_prob=0.0,
        tremolo=(0.0, 0.0),
    )
    line = instruments.plan_line(
        np.random.default_rng(5), np.zeros(1), np.array([3.0]), np.array([64.0]), inst
    )
    still = instruments.Motion(body_octaves=0.0, note_octaves=0.0, tilt_db=0.0, seconds=0.03)
    dips = {}
    for name, motion in (
        ("none", None),
        ("bowed", dataclasses.replace(still, rearticulate=(0.3, 0.6), dip=0.7)),
    ):
        y = instruments.render_line(np.random.default_rng(6), line, inst, motion)
        frames = np.lib.stride_tricks.sliding_window_view(y[int(0.2 * SR) : int(2.8 * SR)], 256)
        level = 10.0 * np.log10(np.mean(frames[::128] ** 2, axis=1) + 1e-12)
        low = level < np.median(level) - 3.0
        dips[name] = int(np.sum(low[1:] & ~low[:-1]))
    assert dips["none"] == 0 and 4 <= dips["bowed"] <= 10, dips


def _partial_level_std(y, f0, k):
    """Std over time (dB) of the level of partial ``k`` of a steady tone."""
    frame, hop = 4096, 512
    frames = np.lib.stride_tricks.sliding_window_view(y, frame)[::hop] * np.hanning(frame)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    freqs = np.fft.rfftfreq(frame, 1.0 / SR)
    band = (freqs > (k - 0.4) * f0) & (freqs < (k + 0.4) * f0)
    level = 10.0 * np.log10(power[:, band].sum(1) + 1e-12)
    return float(np.std(level[4:-4]))


def test_vibrato_through_a_fixed_body_makes_partial_levels_flicker():
    rng = np.random.default_rng(3)
    inst = instruments.draw_instrument(rng, "violin")
    inst = dataclasses.replace(
        inst, body_gain=inst.body_gain * 3.0, noise_db=-90.0, attack_noise_db=-90.0
    )
    midi = np.array([69.0])
    stds = {}
    for depth in (0.0, 80.0):
        notes = dataclasses.replace(
            instruments.plan_line(
                np.random.default_rng(1), np.zeros(1), np.array([3.0]), midi, inst
            ),
            vib_depth=np.array([depth]),
            vib_delay=np.zeros(1),
            vib_ramp=np.array([0.05]),
            vib_rate=np.array([6.0]),
        )
        y = instruments.render_line(np.random.default_rng(2), notes, inst)[: int(3.0 * SR)]
        stds[depth] = np.mean([_partial_level_std(y, 440.0, k) for k in range(2, 9)])
    assert stds[80.0] > 3.0 * stds[0.0] and stds[80.0] > 1.0, stds


def test_reverberation_is_linear_and_decays_at_its_rt60():
    rng = np.random.default_rng(0)
    ir = effects.room_impulse(rng, rt60=0.8, predelay=0.01, damping_hz=4000.0)
    assert np.sum(ir**2) == pytest.approx(1.0)
    # Schroeder backward integration: -5 to -35 dB takes half the RT60.
    edc = 10.0 * np.log10(np.cumsum(ir[::-1] ** 2)[::-1] / np.sum(ir**2))
    t5, t35 = np.argmax(edc < -5.0) / SR, np.argmax(edc < -35.0) / SR
    assert 2.0 * (t35 - t5) == pytest.approx(0.8, rel=0.25)
    a, b = rng.standard_normal(SR), rng.standard_normal(SR)
    np.testing.assert_allclose(
        effects.reverberate(a + 2.0 * b, ir, 0.3),
        effects.reverberate(a, ir, 0.3) + 2.0 * effects.reverberate(b, ir, 0.3),
        atol=1e-9,
    )


def test_tilt_gains_the_slope_per_octave():
    t = np.arange(SR) / SR
    for hz, octaves in ((2000.0, 1.0), (500.0, -1.0), (4000.0, 2.0)):
        x = np.sin(2.0 * np.pi * hz * t)
        y = effects.tilt(x, 3.0)
        gain_db = 20.0 * np.log10(np.std(y) / np.std(x))
        assert gain_db == pytest.approx(3.0 * octaves, abs=0.05)


def test_compressor_turns_down_loud_passages_only():
    rng = np.random.default_rng(0)
    x = np.concatenate([0.01 * rng.standard_normal(SR), 0.5 * rng.standard_normal(SR)])
    gain = effects.compressor_gain(x, threshold_db=-20.0, ratio=4.0)
    assert np.all((gain > 0.0) & (gain <= 1.0))
    assert gain[: SR // 2].min() == pytest.approx(1.0)
    # 0.5 RMS is -6 dB: 14 dB over the threshold, 10.5 dB down at 4:1.
    assert 20.0 * np.log10(np.median(gain[-SR // 2 :])) == pytest.approx(-10.5, abs=0.5)


def test_version_2_plans_cover_every_style_voice_and_songs_without_singing():
    plans = [v2._plan(np.random.default_rng([0, i, 2]), 30.0) for i in range(144)]
    styles = {plan["style"] for plan, _, _ in plans}
    voices = {song.voice for _, _, song in plans}
    instrumental = np.mean([len(segments) == 1 for _, segments, _ in plans])
    harmonised = np.mean([len(song.harmony) > 0 for _, _, song in plans])
    assert styles == set(v2.STYLES) and voices == set(v2.VOICE_TYPES)
    assert 0.05 <= instrumental <= 0.2
    assert 0.3 <= harmonised <= 0.7


@pytest.mark.slow
def test_make_corpus_writes_chosen_splits_numbered_as_in_the_whole_corpus(tmp_path):
    sizes = {"train": 2, "valid": 1, "test": 1}
    root = synthetic.make_corpus(
        tmp_path / "c", seed=3, split_sizes=sizes, duration=6.0, workers=1, splits=("test",)
    )
    assert sorted(p.name for p in (root / "audio").iterdir()) == ["song003.flac"]
    assert sorted(p.name for p in (root / "filelists").iterdir()) == ["test"]
    assert synthetic.corpus_info(root)["splits"] == ["test"]
    audio, _ = soundfile.read(root / "audio" / "song003.flac", dtype="float32")
    np.testing.assert_allclose(audio, synthetic.synthesize_song(3, 3, 6.0).audio, atol=1.01 / 32768)
    with pytest.raises(ParameterError, match="Received: splits='test'"):
        synthetic.make_corpus(tmp_path / "d", splits="test")
