"""Tests of version 4 of the synthetic corpus: instruments played with motion."""

import dataclasses

import numpy as np
import pytest

from vocal_xai.data import corpus, synthetic
from vocal_xai.data.synthetic import instruments, music, song, v3, v4


def test_version_4_is_version_3_with_motion():
    assert synthetic.VERSIONS[4] is v4
    assert synthetic.DEFAULT_VERSION == 2
    assert v4.DEFAULT_SPLIT_SIZES == v3.DEFAULT_SPLIT_SIZES
    assert v3.RECIPE.motion is None and v4.RECIPE.motion is v4.draw_motion
    same = {"stream", "more_leads", "motion"}
    for field in dataclasses.fields(v4.RECIPE):
        if field.name not in same:
            assert getattr(v4.RECIPE, field.name) == getattr(v3.RECIPE, field.name), field.name
    assert v4.RECIPE.stream not in (v3.RECIPE.stream, 2)


@pytest.mark.parametrize("name", ["violin", "strings", "flute", "horn", "celesta", "pizzicato"])
def test_draw_motion_stays_in_its_ranges(name):
    rng = np.random.default_rng(3)
    for _ in range(20):
        inst = instruments.draw_instrument(rng, name)
        m = v4.draw_motion(rng, inst)
        assert v4.BODY_OCTAVES[0] <= m.body_octaves <= v4.BODY_OCTAVES[1]
        assert v4.NOTE_OCTAVES[0] <= m.note_octaves <= v4.NOTE_OCTAVES[1]
        assert v4.TILT_DB[0] <= m.tilt_db <= v4.TILT_DB[1]
        assert v4.DIP[0] <= m.dip <= v4.DIP[1]
        if inst.decay > 0.0:  # struck and plucked notes are not re-articulated
            assert m.rearticulate is None
        elif m.rearticulate is not None:
            lo, hi = m.rearticulate
            assert v4.REARTICULATE_SECONDS[0] <= lo <= v4.REARTICULATE_SECONDS[1] and hi == 2 * lo


def test_a_tilt_swing_keeps_each_partials_mean_power():
    """Brightness swings move the tilt both ways without making the
    instrument brighter on average: the upper partials' mean power stays
    within 1.5 dB of the still instrument's."""
    inst = dataclasses.replace(
        instruments.draw_instrument(np.random.default_rng(8), "clarinet"),
        vibrato_prob=0.0,
        glide_prob=0.0,
        tremolo=(0.0, 0.0),
        noise_db=-120.0,
        attack_noise_db=-120.0,
    )
    line = instruments.plan_line(
        np.random.default_rng(9), np.zeros(1), np.array([20.0]), np.array([57.0]), inst
    )
    swing = instruments.Motion(body_octaves=0.0, note_octaves=0.0, tilt_db=2.0, seconds=0.04)
    spectra = {}
    for name, motion in (("still", None), ("swing", swing)):
        y = instruments.render_line(np.random.default_rng(10), line, inst, motion)
        y = y[int(0.5 * 22050) : int(19.5 * 22050)].astype(np.float64)
        spectra[name] = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    freqs = np.fft.rfftfreq(int(19.5 * 22050) - int(0.5 * 22050), 1.0 / 22050)
    f0 = 220.0
    for k in (2, 4, 8):
        band = (freqs > (k - 0.4) * f0) & (freqs < (k + 0.4) * f0)
        ratio_db = 10.0 * np.log10(spectra["swing"][band].sum() / spectra["still"][band].sum())
        assert abs(ratio_db) < 1.5, (k, ratio_db)


def test_tutti_sections_play_with_motion_under_singing_as_without():
    """Version 4's tutti hook is version 3's with motion: it never looks at
    the label, and its stems differ from version 3's from the same stream."""
    plan = music.plan_song(np.random.default_rng(0), 4.0)
    plan["style"] = "orchestral"
    n_buf = song.buffer_sizes(4.0)[2]
    out = {}
    for key, hook, vocal in (
        ("v4", v4._tutti, False),
        ("v4 sung", v4._tutti, True),
        ("v3", v3.tutti, False),
    ):
        seed = 11
        stems = []
        while not stems:
            rng = np.random.default_rng(seed)
            stems = hook(rng, plan, corpus.Segment(1.0, 3.0, vocal), (1.0, 3.0), 2.0, n_buf)
            seed += 100
        out[key] = (seed, stems)
    assert out["v4"][0] == out["v4 sung"][0] == out["v3"][0]
    for (_, a, _), (_, b, _) in zip(out["v4"][1], out["v4 sung"][1], strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(out["v4"][1][0][1], out["v3"][1][0][1])


@pytest.mark.slow
def test_version_4_songs_are_deterministic_and_differ_from_version_3():
    a = synthetic.synthesize_song(0, 1, 8.0, version=4)
    b = synthetic.synthesize_song(0, 1, 8.0, version=4)
    c = synthetic.synthesize_song(0, 1, 8.0, version=3)
    np.testing.assert_array_equal(a.audio, b.audio)
    assert a.segments == b.segments
    assert np.all(np.isfinite(a.audio)) and np.max(np.abs(a.audio)) <= 1.0
    assert not (a.audio.shape == c.audio.shape and np.array_equal(a.audio, c.audio))
