import numpy as np
import pytest

from vocal_xai import spectral
from vocal_xai.errors import ParameterError
from vocal_xai.explain import cues
from vocal_xai.metrics import measures

SR = spectral.SAMPLE_RATE
T, F = spectral.EXCERPT_FRAMES, spectral.NUM_MEL_BANDS
EXCERPT_SAMPLES = (T - 1) * spectral.HOP_LENGTH + spectral.FRAME_LENGTH


def _tone(f0=500.0, rate=6.0, depth=50.0, glide=0.0, partials=12, seconds=None, seed=0):
    """Harmonic tone (1/k partials) with sinusoidal vibrato of ``depth``
    cents peak to peak at ``rate`` Hz and a glide of ``glide`` cents/s."""
    n = EXCERPT_SAMPLES if seconds is None else int(seconds * SR)
    t = np.arange(n) / SR
    cents = 0.5 * depth * np.sin(2 * np.pi * rate * t) + glide * t
    phase = 2 * np.pi * np.cumsum(f0 * 2.0 ** (cents / 1200.0)) / SR
    y = sum(np.sin(k * phase) / k for k in range(1, partials + 1))
    y = y + 1e-3 * np.random.default_rng(seed).standard_normal(n)
    return (0.2 * y).astype(np.float32)


def _log_mel(waveform):
    return spectral.log_mel(waveform).numpy()[None, :T]


# ---------------------------------------------------------- vibrato of a track


@pytest.mark.parametrize("rate, depth", [(4.5, 20.0), (6.0, 50.0), (7.5, 100.0)])
def test_vibrato_of_an_ideal_track(rate, depth):
    t = np.arange(T) / spectral.FRAME_RATE
    v = cues.vibrato(0.5 * depth * np.sin(2 * np.pi * rate * t + 0.3))
    assert v["rate"][0] == pytest.approx(rate, abs=0.1)
    assert v["depth"][0] == pytest.approx(depth, rel=0.1)
    assert v["strength"][0] > 0.95


def test_vibrato_ignores_note_steps_and_a_static_pitch():
    t = np.arange(T) / spectral.FRAME_RATE
    stepped = 25.0 * np.sin(2 * np.pi * 6.0 * t) + np.where(t > 0.8, 200.0, 0.0)
    v = cues.vibrato(stepped)
    assert v["rate"][0] == pytest.approx(6.0, abs=0.1)
    assert v["depth"][0] == pytest.approx(50.0, rel=0.15)
    flat = cues.vibrato(np.where(t > 0.8, 200.0, 0.0))
    assert flat["depth"][0] < 3.0


def test_vibrato_needs_enough_usable_frames():
    t = np.arange(T) / spectral.FRAME_RATE
    track = 25.0 * np.sin(2 * np.pi * 6.0 * t)
    usable = np.arange(T) < 0.5 * T
    assert np.isnan(cues.vibrato(track, usable=usable)["depth"][0])
    # Gaps in a mostly usable track are bridged.
    gappy = np.where(np.arange(T) % 10 == 0, np.nan, track)
    assert cues.vibrato(gappy)["depth"][0] == pytest.approx(50.0, rel=0.15)


def test_glide_rate_of_a_ramp_and_a_held_note():
    t = np.arange(T) / spectral.FRAME_RATE
    ramp = cues.glide_rate(600.0 * t)
    assert ramp["glide_speed"][0] == pytest.approx(600.0, rel=0.01)
    assert ramp["glide_fraction"][0] == pytest.approx(1.0)
    held = cues.glide_rate(25.0 * np.sin(2 * np.pi * 6.0 * t))
    assert held["glide_fraction"][0] < 0.1


# ------------------------------------------------------ pitch from log-mel


def test_log_mel_tracker_measures_a_6_hz_50_cent_vibrato():
    track, confidence = cues.pitch_shift_track(_log_mel(_tone(500.0, 6.0, 50.0)))
    assert track.shape == confidence.shape == (1, T)
    assert confidence.mean() > 0.9
    v = cues.vibrato(track, usable=confidence >= 0.5)
    assert v["rate"][0] == pytest.approx(6.0, abs=0.2)
    assert v["depth"][0] == pytest.approx(50.0, rel=0.2)
    assert v["strength"][0] > 0.8


@pytest.mark.parametrize("f0", [200.0, 300.0, 800.0])
def test_log_mel_tracker_depth_across_registers(f0):
    # The mel bands give a coarser estimate than a waveform: within 50 %.
    wide = cues.excerpt_cues(_log_mel(_tone(f0, 5.5, 100.0)))
    narrow = cues.excerpt_cues(_log_mel(_tone(f0, 5.5, 20.0)))
    assert wide["vibrato_rate"][0] == pytest.approx(5.5, abs=0.2)
    assert wide["vibrato_depth"][0] == pytest.approx(100.0, rel=0.5)
    assert narrow["vibrato_depth"][0] < 0.5 * wide["vibrato_depth"][0]


def test_log_mel_tracker_sees_no_vibrato_in_a_static_tone_and_follows_a_glide():
    static = cues.excerpt_cues(_log_mel(_tone(500.0, 6.0, 0.0)))
    assert static["vibrato_depth"][0] < 3.0
    assert static["glide_fraction"][0] < 0.05
    track, confidence = cues.pitch_shift_track(_log_mel(_tone(400.0, 6.0, 0.0, glide=600.0)))
    seconds = (T - 1) / spectral.FRAME_RATE
    assert track[0, -1] / seconds == pytest.approx(600.0, rel=0.1)
    assert cues.glide_rate(track, usable=confidence >= 0.5)["glide_fraction"][0] > 0.9


def test_noise_gives_low_confidence_and_no_pitch_cues():
    noise = np.random.default_rng(0).normal(0.0, 0.3, EXCERPT_SAMPLES).astype(np.float32)
    c = cues.excerpt_cues(_log_mel(noise))
    assert c["pitch_confidence"][0] < 0.5
    assert np.isnan(c["vibrato_depth"][0]) and np.isnan(c["glide_fraction"][0])


@pytest.mark.slow
def test_f0_track_by_pyin_lines_up_with_the_log_mel_frames():
    w = _tone(300.0, 6.0, 50.0)
    f0 = cues.f0_track(w)
    assert f0.shape == (spectral.num_frames(len(w)),) == (T,)
    assert np.mean(np.isfinite(f0)) > 0.9
    v = cues.vibrato(cues.hz_to_cents(f0))
    assert v["rate"][0] == pytest.approx(6.0, abs=0.2)
    # pyin's pitch grid (10 cents) and its smoothing flatten the peaks a little.
    assert v["depth"][0] == pytest.approx(50.0, rel=0.25)
    assert cues.hz_to_cents(np.array([440.0, 880.0, np.nan])) == pytest.approx(
        [0.0, 1200.0, np.nan], nan_ok=True
    )


# ----------------------------------------------------------------- timbre


def _spectrum(level_per_band):
    return np.broadcast_to(np.asarray(level_per_band, np.float64), (1, T, F)).copy()


def test_tilt_and_centroid_of_known_spectra():
    centres = measures.mel_centre_frequencies()
    # Magnitude proportional to f^-1: -6.02 dB per octave.
    falling = _spectrum(-np.log(centres))
    assert cues.spectral_tilt(falling)[0] == pytest.approx(-6.0206, abs=1e-6)
    assert cues.spectral_tilt(_spectrum(np.zeros(F)))[0] == pytest.approx(0.0, abs=1e-9)
    # A single strong band puts the centroid at its centre.
    one = np.full(F, np.log(1e-7))
    one[40] = 0.0
    assert cues.spectral_centroid(_spectrum(one))[0] == pytest.approx(centres[40], rel=1e-6)
    assert cues.spectral_centroid(falling)[0] < cues.spectral_centroid(_spectrum(np.zeros(F)))[0]


def test_strong_partials_onsets_and_high_band():
    tone = cues.excerpt_cues(_log_mel(_tone(300.0, 6.0, 0.0, partials=8)))
    assert 5 <= tone["strong_partials"][0] <= 9
    flat = _spectrum(np.zeros(F))
    assert cues.strong_partials(flat)[0] == 0.0
    assert cues.onset_strength(flat)[0] == 0.0
    pulses = flat + np.where(np.arange(T) % 10 == 0, 1.0, 0.0)[None, :, None]
    # A 1-nat pulse every 10 frames from frame 0: 11 rises of 8.686 dB over 114 steps.
    assert cues.onset_strength(pulses)[0] == pytest.approx(cues.NATS_TO_DB * 11 / (T - 1), rel=1e-6)
    share = np.mean(measures.mel_centre_frequencies() > 4000.0)
    assert cues.high_band_ratio(flat)[0] == pytest.approx(10 * np.log10(share), abs=1e-9)


def test_fast_decay_is_slower_in_a_room():
    # Notes of 0.2 s with 0.1 s of silence between them.
    tone = _tone(400.0, 6.0, 0.0, seconds=3.0)
    dry = tone * (np.arange(len(tone)) / SR % 0.3 < 0.2)
    wet = cues.reverberate(dry, rt60=1.5, wet=1.0)
    decay = cues.fast_decay(np.stack([_log_mel(dry)[0], _log_mel(wet)[0]]))
    assert decay[0] > 10.0 and decay[1] < 0.5 * decay[0]


@pytest.mark.slow
def test_probe_line_carries_the_cues_it_is_given():
    seconds = 2.0
    line = cues.probe_line(seconds, vibrato_depth=60.0, register=(69, 70), seed=3)
    assert line.shape == (int(seconds * SR),) and line.dtype == np.float32
    assert np.max(np.abs(line)) == pytest.approx(0.5)
    # Pitches A4 or B-flat4, held with a 60-cent vibrato at 5.5 Hz.
    f0 = cues.f0_track(line)
    assert np.nanmedian(f0) == pytest.approx(452.0, rel=0.04)
    # The first 0.27 s of each note ramp the vibrato in, so allow a wider depth.
    v = cues.vibrato(cues.hz_to_cents(f0))
    assert v["rate"][0] == pytest.approx(5.5, abs=0.3)
    assert 30.0 < v["depth"][0] < 70.0
    static = cues.excerpt_cues(_log_mel(cues.probe_line(seconds, register=(69, 70), seed=3)))
    moving = cues.excerpt_cues(
        _log_mel(cues.probe_line(seconds, moving_envelope=True, register=(69, 70), seed=3))
    )
    assert moving["formant_motion"][0] > 1.2 * static["formant_motion"][0]
    with pytest.raises(ParameterError, match="Received: players=0"):
        cues.probe_line(players=0)
    with pytest.raises(ParameterError, match="Received: lines=9"):
        cues.probe_texture(lines=9)


def test_errors_state_the_constraint_and_the_value():
    with pytest.raises(
        ParameterError, match=r"Expected log_mel of shape .*Received: log_mel.shape=\(115, 40\)"
    ):
        cues.excerpt_cues(np.zeros((115, 40)))
    with pytest.raises(ParameterError, match="Expected finite log_mel"):
        cues.spectral_centroid(np.full((1, T, F), np.nan))
    with pytest.raises(ParameterError, match=r"Received: track.shape=\(4,\)"):
        cues.vibrato(np.zeros(4))
    with pytest.raises(ParameterError, match="Received: rates="):
        cues.vibrato(np.zeros(T), rates=(9.0, 3.0))
    with pytest.raises(ParameterError, match="Received: band="):
        cues.pitch_shift_track(np.zeros((1, T, F)), band=(2000.0, 100.0))
    with pytest.raises(ParameterError, match="Received: max_step_cents=0"):
        cues.pitch_shift_track(np.zeros((1, T, F)), max_step_cents=0)
    with pytest.raises(ParameterError, match="Received: sample_rate=16000"):
        cues.f0_track(np.zeros(4096, np.float32), sample_rate=16000)


# --------------------------------------------- what separates two classes


def test_split_excerpts_cuts_every_stride_and_labels_the_centre():
    from vocal_xai.data import pipeline

    labels = np.zeros(300, int)
    labels[150:] = 1
    feats = np.arange(300 * 80, dtype=np.float32).reshape(300, 80)
    split = pipeline.SplitFeatures(
        names=["a", "b"], features=[feats, feats[:100]], labels=[labels, labels[:100]]
    )
    excerpts, centre_labels = cues.split_excerpts(split, stride=35)
    centres = list(range(57, 300 - 58 + 1, 35))  # the 100-frame song is too short
    assert excerpts.shape == (len(centres), 115, 80)
    np.testing.assert_array_equal(excerpts[:, 57, 0], feats[centres, 0])
    np.testing.assert_array_equal(centre_labels, labels[centres])
    with pytest.raises(ParameterError, match="Received: none as long in 1 songs"):
        cues.split_excerpts(pipeline.SplitFeatures(["b"], [feats[:100]], [labels[:100]]))


def test_class_separation_finds_the_cue_that_differs():
    """Class 1 has strong onsets (a loud burst every 10 frames) over the
    same tones: onset strength separates it fully, the pitch cues do not."""
    rng = np.random.default_rng(0)
    base = np.log(np.maximum(np.abs(rng.normal(0.01, 0.002, (40, 115, 80))), 1e-7))
    burst = base.copy()
    burst[:, ::10, :] += 3.0
    table = cues.class_separation(np.concatenate([burst, base]), np.repeat([1, 0], 40))
    assert table["onset_db"]["auc"] == 1.0
    assert table["onset_db"]["median_1"] > table["onset_db"]["median_0"]
    assert table["onset_db"]["n_1"] == table["onset_db"]["n_0"] == 40
    assert set(table) <= set(cues.excerpt_cues(base[:2]))
    with pytest.raises(ParameterError, match="one label of 0 or 1 per excerpt"):
        cues.class_separation(base, np.full(40, 2))
