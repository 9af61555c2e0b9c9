"""Singers made from Festival's diphone voices: the speaker and its formant
ratio, the score, the register Festival can sing, the resampling that adds
expression, and whole vocal stems."""

import re

import numpy as np
import pytest
from helpers import festival_voice

from vocal_xai.data import corpus, diphone
from vocal_xai.data.synthetic import diphone_singer, dsp, music, song
from vocal_xai.errors import ParameterError

SR = dsp.SAMPLE_RATE
RATIOS = (0.9, 1.0, 1.05, 1.1, 1.17, 1.2)


def _no_expression(monkeypatch):
    for name in ("VIBRATO_CENTS", "DRIFT_CENTS", "JITTER_CENTS", "TREMOLO_DB"):
        monkeypatch.setattr(diphone_singer, name, (0.0, 0.0))


def _frequency(x, rate):
    """Frequency (Hz) of a sine from its rising zero crossings, away from the edges."""
    x = x[len(x) // 10 : -len(x) // 10]
    i = np.nonzero((x[:-1] < 0) & (x[1:] >= 0))[0]
    crossings = i + x[i] / (x[i] - x[i + 1])
    return (len(crossings) - 1) / (crossings[-1] - crossings[0]) * rate


def _sine(hz=200.0, seconds=1.0, rate=diphone.SAMPLE_RATE):
    return 0.5 * np.sin(2 * np.pi * hz * np.arange(int(seconds * rate)) / rate)


def _flat(seconds, cents=0.0, gain_db=0.0):
    n = dsp.num_controls(seconds)
    return np.full(n, cents), np.full(n, gain_db)


def _rms(x):
    return float(np.sqrt(np.mean(np.square(x))))


# pick_speaker


def test_the_formant_ratio_moves_the_drawn_speaker_to_the_voice_type():
    for scale in np.linspace(0.9, 1.25, 36):
        for seed in range(5):
            name, ratio = diphone_singer.pick_speaker(np.random.default_rng(seed), scale)
            assert name in diphone_singer.SPEAKERS
            assert diphone_singer.FORMANT_RATIO[0] <= ratio <= diphone_singer.FORMANT_RATIO[1]
            # Every scale of this range is within reach of some speaker.
            assert scale / diphone_singer.SPEAKERS[name][1] == pytest.approx(ratio)


def test_a_low_voice_type_is_never_sung_by_the_woman():
    names = {diphone_singer.pick_speaker(np.random.default_rng(s), 0.92)[0] for s in range(60)}
    assert names == {"kal", "ked"}


def test_a_high_voice_type_is_sometimes_sung_by_the_woman():
    names = {diphone_singer.pick_speaker(np.random.default_rng(s), 1.2)[0] for s in range(60)}
    assert names == {"kal", "lp"}


def test_a_voice_type_out_of_reach_gets_the_nearest_speaker_moved_as_far_as_allowed():
    rng = np.random.default_rng(0)
    assert diphone_singer.pick_speaker(rng, 1.6) == ("lp", diphone_singer.FORMANT_RATIO[1])
    assert diphone_singer.pick_speaker(rng, 0.7) == ("ked", diphone_singer.FORMANT_RATIO[0])


# score


@pytest.mark.parametrize("lexicon, ratio", [("english", 1.1), ("italian", 0.93)])
def test_the_score_sings_lexicon_words_lower_and_longer_by_the_ratio(lexicon, ratio):
    durations, midi = [0.5, 0.25, 1.0, 0.4, 0.3, 0.6], [57, 60, 64, 62, 55, 59]
    notes = diphone_singer.score(np.random.default_rng(1), durations, midi, lexicon, ratio)
    assert len(notes) == len(durations)
    words = [note.word for note in notes]
    assert set(words) <= set(diphone_singer.LEXICONS[lexicon])
    assert len(set(words)) > 1  # drawn, not one word throughout
    for note, d, m in zip(notes, durations, midi):
        assert note.seconds == pytest.approx(d * ratio * diphone_singer.FESTIVAL_STRETCH)
        assert note.hz == pytest.approx(440.0 * 2 ** ((m - 69) / 12) / ratio)


def test_a_one_note_melody_is_scored_as_two_halves():
    notes = diphone_singer.score(np.random.default_rng(0), [1.0], [60], "english", 1.0)
    assert len(notes) == 2
    for note in notes:
        assert note.seconds == pytest.approx(0.5 * diphone_singer.FESTIVAL_STRETCH)
        assert note.hz == pytest.approx(261.6256, rel=1e-6)


# top_midi, octaves_down, fit_register


@pytest.mark.parametrize("ratio", RATIOS)
def test_the_top_note_is_the_highest_festival_can_sing(ratio):
    top = diphone_singer.top_midi(ratio)
    assert dsp.midi_to_hz(top) / ratio <= diphone.MAX_HZ
    assert dsp.midi_to_hz(top + 1) / ratio > diphone.MAX_HZ
    # The score accepts the top note and refuses the one above.
    rng = np.random.default_rng(0)
    diphone_singer.score(rng, [0.5, 0.5], [top - 3, top], "english", ratio)
    with pytest.raises(ParameterError, match="hz <= 500"):
        diphone_singer.score(rng, [0.5, 0.5], [top - 3, top + 1], "english", ratio)


def test_the_top_note_of_an_unmoved_speaker_is_b4():
    assert diphone_singer.top_midi(1.0) == 71  # 493.9 Hz; C5 is 523.3 Hz


@pytest.mark.parametrize("ratio", RATIOS)
def test_a_register_moves_down_by_the_fewest_whole_octaves(ratio):
    top = diphone_singer.top_midi(ratio)
    for high in range(top - 6, top + 31):
        low, new_high = diphone_singer.fit_register((high - 20, high), ratio)
        shift = high - new_high
        assert shift % 12 == 0 and shift >= 0
        assert low == high - 20 - shift
        assert shift == 12 * diphone_singer.octaves_down(high, ratio)
        assert new_high <= top
        if high <= top:
            assert shift == 0
        else:
            assert new_high + 12 > top


def test_a_note_above_festivals_bound_names_the_bound_and_the_pitch():
    assert diphone.Note("la", 1.0, diphone.MAX_HZ).hz == diphone.MAX_HZ
    message = re.escape(f"0 < hz <= {diphone.MAX_HZ:g} for a sung note") + ".*hz=500.5"
    with pytest.raises(ParameterError, match=message):
        diphone.Note("la", 1.0, 500.5)


# warp


def test_an_unwarped_take_keeps_its_pitch_and_length_at_the_corpus_rate():
    take = _sine(200.0, 1.0)
    out = diphone_singer.warp(take, 1.0, *_flat(1.0))
    assert out.dtype == np.float64
    assert _frequency(out, SR) == pytest.approx(200.0, rel=0.005)
    assert len(out) / SR == pytest.approx(1.0, abs=0.003)
    assert _rms(out[SR // 10 : -SR // 10]) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_the_ratio_raises_the_pitch_and_shortens_the_take():
    out = diphone_singer.warp(_sine(200.0, 1.0), 1.1, *_flat(1.0 / 1.1))
    assert _frequency(out, SR) == pytest.approx(220.0, rel=0.005)
    assert len(out) / SR == pytest.approx(1.0 / 1.1, abs=0.003)


def test_a_constant_deviation_of_a_semitone_raises_the_pitch_by_a_semitone():
    semitone = 2 ** (1 / 12)
    out = diphone_singer.warp(_sine(200.0, 1.0), 1.0, *_flat(1.0 / semitone, cents=100.0))
    assert _frequency(out, SR) == pytest.approx(200.0 * semitone, rel=0.005)
    assert len(out) / SR == pytest.approx(1.0 / semitone, abs=0.003)


def test_a_deviation_that_steps_halfway_holds_its_last_value():
    """A cents curve that jumps by an octave halfway, shorter than the take."""
    n = dsp.num_controls(0.5)
    cents = np.concatenate([np.zeros(n), np.full(n // 2, 1200.0)])
    out = diphone_singer.warp(_sine(200.0, 2.0), 1.0, cents, np.zeros(len(cents)))
    half = int(0.5 * SR)
    assert _frequency(out[: half - 200], SR) == pytest.approx(200.0, rel=0.005)
    assert _frequency(out[half + 200 :], SR) == pytest.approx(400.0, rel=0.005)
    # Half a second at 200 Hz, then 1.5 s of the take read twice as fast.
    assert len(out) / SR == pytest.approx(0.5 + 0.75, abs=0.003)


def test_a_gain_of_six_decibels_doubles_the_amplitude():
    take = _sine(200.0, 1.0)
    plain = diphone_singer.warp(take, 1.0, *_flat(1.0))
    louder = diphone_singer.warp(take, 1.0, *_flat(1.0, gain_db=6.02))
    assert len(louder) == len(plain)
    assert _rms(louder) / _rms(plain) == pytest.approx(2.0, rel=1e-3)
    assert _frequency(louder, SR) == pytest.approx(200.0, rel=0.005)


# expression


@pytest.fixture
def vibrato_only(monkeypatch):
    monkeypatch.setattr(diphone_singer, "DRIFT_CENTS", (0.0, 0.0))
    monkeypatch.setattr(diphone_singer, "JITTER_CENTS", (0.0, 0.0))
    monkeypatch.setattr(diphone_singer, "VIBRATO_CENTS", (50.0, 50.0))


@pytest.mark.parametrize("seed", range(4))
def test_the_vibrato_is_a_peak_of_the_pitch_curve_at_a_singers_rate(seed, vibrato_only):
    seconds = 4.0
    cents, gain_db = diphone_singer.expression(np.random.default_rng(seed), seconds)
    assert cents.shape == gain_db.shape == (dsp.num_controls(seconds),)
    t = dsp.control_times(len(cents))
    held = cents[t > 0.6]  # past the longest onset
    n_fft = 2**16
    power = np.abs(np.fft.rfft(held * np.hanning(len(held)), n_fft)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1.0 / dsp.CONTROL_RATE)
    peak = freqs[np.argmax(power)]
    assert diphone_singer.VIBRATO_HZ[0] <= peak <= diphone_singer.VIBRATO_HZ[1]
    assert power[np.abs(freqs - peak) < 1.0].sum() > 0.95 * power.sum()
    assert 25.0 < np.abs(held).max() <= 100.0


@pytest.mark.parametrize("seed", range(4))
def test_the_vibrato_fades_in_from_zero(seed, vibrato_only):
    cents, _ = diphone_singer.expression(np.random.default_rng(seed), 4.0)
    t = dsp.control_times(len(cents))
    assert cents[0] == 0.0
    assert np.abs(cents[t < 0.01]).max() < 5.0
    assert np.abs(cents[t > 0.6]).max() > 25.0


def test_the_tremolo_follows_the_vibrato_and_is_gone_without_it(vibrato_only, monkeypatch):
    monkeypatch.setattr(diphone_singer, "TREMOLO_DB", (2.0, 2.0))
    cents, gain_db = diphone_singer.expression(np.random.default_rng(3), 2.0)
    np.testing.assert_allclose(gain_db, cents * 2.0 / 50.0, atol=1e-9)
    assert np.abs(gain_db).max() > 0.5
    monkeypatch.setattr(diphone_singer, "VIBRATO_CENTS", (0.0, 0.0))
    monkeypatch.setattr(diphone_singer, "TREMOLO_DB", (0.0, 0.0))
    for seed in range(3):
        _, gain_db = diphone_singer.expression(np.random.default_rng(seed), 2.0)
        assert not np.any(gain_db)


# fade_out


def test_the_fade_out_silences_the_end_and_leaves_the_rest():
    n = int(round(diphone_singer.FADE_OUT * SR))
    phrase = np.ones(SR)
    out = diphone_singer.fade_out(phrase)
    assert out is phrase  # in place
    assert np.all(out[: SR - n] == 1.0)
    tail = out[SR - n :]
    assert tail[0] == 1.0 and tail[-1] == 0.0
    assert np.all(np.diff(tail) <= 0.0) and tail[n // 2] < 0.5


def test_a_phrase_shorter_than_the_fade_is_faded_whole():
    out = diphone_singer.fade_out(np.ones(100))
    assert out[0] == 1.0 and out[-1] == 0.0 and np.all(np.diff(out) < 0.0)
    assert len(diphone_singer.fade_out(np.ones(0))) == 0


# With Festival


def _median_f0(wave, start, end):
    import librosa

    part = wave[int(start * SR) : int(end * SR)]
    f0, _, _ = librosa.pyin(part, fmin=150.0, fmax=400.0, sr=SR, frame_length=2048, hop_length=256)
    return float(np.nanmedian(f0))


def test_a_diphone_singer_sings_the_written_pitches_and_lengths(monkeypatch):
    festival_voice("kal")
    _no_expression(monkeypatch)
    out = diphone_singer.sing_melody(np.random.default_rng(0), [1.2, 1.2], [57, 60], "kal", 1.1)
    # Festival's shortening is made up for: the phrase lasts as written.
    assert len(out) / SR == pytest.approx(2.4, rel=0.05)
    assert _median_f0(out, 0.35, 0.85) == pytest.approx(220.0, rel=0.015)
    assert _median_f0(out, 1.55, 2.05) == pytest.approx(261.63, rel=0.015)


@pytest.mark.parametrize("harmony_prob", [0.0, 1.0])
def test_a_diphone_stem_sings_inside_the_sing_segments_only(harmony_prob):
    for name in diphone_singer.SPEAKERS:
        festival_voice(name)
    duration = 6.0
    plan = music.plan_song(np.random.default_rng(0), duration)
    segments = (
        corpus.Segment(0.0, 1.0, False),
        corpus.Segment(1.0, 3.0, True),
        corpus.Segment(3.0, 3.6, False),
        corpus.Segment(3.6, 5.4, True),
        corpus.Segment(5.4, 6.0, False),
    )
    n_buf = song.buffer_sizes(duration)[2]

    def render():
        return diphone_singer.render_vocals(
            np.random.default_rng(4), plan, segments, 1.1, (46, 69), n_buf, harmony_prob
        )

    stem = render()
    assert stem.shape == (n_buf,) and stem.dtype == np.float64
    assert not np.any(stem[~song.region_mask(segments, n_buf)])
    for seg in segments:
        if seg.vocal:
            assert _rms(stem[int(seg.start * SR) : int(seg.end * SR)]) > 0.02
    np.testing.assert_array_equal(stem, render())


@pytest.mark.parametrize("seconds", [0.004, 0.4, 0.8])
def test_wandering_noise_has_unit_spread_at_its_ends_as_in_its_middle(seconds):
    """Over 400 draws of 600 control points, the spread at the first, middle
    and last points is 1 within sampling error (a chi distribution with 399
    degrees of freedom: about 3.5 % at one standard deviation)."""
    draws = np.array(
        [diphone_singer.wander(np.random.default_rng(i), 600, seconds) for i in range(400)]
    )
    spread = draws.std(axis=0)
    for point in (0, 300, 599):
        assert spread[point] == pytest.approx(1.0, abs=0.15), point
