"""Tests of version 5 of the synthetic corpus: many kinds of voice, sampled
voices and instruments from TimGM6mb, and a presence shelf on the voice."""

import dataclasses

import numpy as np
import pytest

from tests import helpers
from vocal_xai.data import corpus, soundfont, synthetic
from vocal_xai.data.synthetic import effects, music, sampled, song, v4, v5, voice
from vocal_xai.errors import ParameterError

SR = 22050
# sha256 of the float32 samples of 8-second songs of seed 0, and their kinds
# of voice (rendered by Debian's fluidsynth).
V5_SONG_SHA256 = {
    0: "689ef9a5c922edf7c369abb37357b07035ff30dd1104919f5bf7c34c3c093564",
    3: "91e9907b6e8cfa2e107a978a83a87bc95ed9097ca471b0c9b1a907726192a2d4",
    7: "1dc7330eacbd8b0660d8bb0178f924009fb4a02931501bdd5b8ea87027ef1a51",
}

V5_SONG_KINDS = {0: "ensemble", 3: "sampled_solo", 7: "sampled"}


@pytest.fixture
def timgm6mb():
    return helpers.soundfont_renderer(soundfont.TIMGM6MB)


def _plan(duration, style="orchestral", seed=0):
    plan = music.plan_song(np.random.default_rng(seed), duration)
    plan["style"] = style
    return plan


def test_version_5_is_version_4_with_new_voices_and_sampled_lines():
    assert synthetic.VERSIONS[5] is v5
    assert synthetic.DEFAULT_VERSION == 2
    assert v5.DEFAULT_SPLIT_SIZES == v4.DEFAULT_SPLIT_SIZES
    changed = {"stream", "more_leads", "vocals"}
    for field in dataclasses.fields(v5.RECIPE):
        if field.name not in changed:
            assert getattr(v5.RECIPE, field.name) == getattr(v4.RECIPE, field.name), field.name
    assert v4.RECIPE.vocals is None and v5.RECIPE.vocals is v5.render_vocals
    assert v5.RECIPE.stream not in (2, 3, 4)
    assert set(v5.SAMPLED_LINES) == set(v4.STYLES)
    for names in v5.SAMPLED_LINES.values():
        assert set(names) <= set(sampled.INSTRUMENTS)
    # No voice-like program among the sampled instruments: not the choir,
    # voice and synth-voice programs (52-54), the voice lead (85) or the
    # choir pad (91).
    programs = {inst.program for inst in sampled.INSTRUMENTS.values()}
    assert not programs & {52, 53, 54, 85, 91}
    assert set(sampled.VOICE_PROGRAMS.values()) == {52, 53}


@pytest.mark.parametrize("gain_db, corner_hz", [(12.0, 3000.0), (6.0, 2000.0), (0.0, 4000.0)])
def test_high_shelf_leaves_the_lows_and_lifts_the_highs_by_its_gain(gain_db, corner_hz):
    t = np.arange(SR) / SR
    lows, highs = np.sin(2 * np.pi * 300.0 * t), np.sin(2 * np.pi * 8000.0 * t)
    for tone, expected_db in ((lows, 0.0), (highs, gain_db)):
        out = effects.high_shelf(tone, gain_db, corner_hz)
        got_db = 20.0 * np.log10(np.std(out) / np.std(tone))
        assert got_db == pytest.approx(expected_db, abs=0.05)
    # Halfway up the shelf at its corner (a smoothstep on octaves).
    corner = np.sin(2 * np.pi * corner_hz * t)
    shelved = effects.high_shelf(corner, gain_db, corner_hz)
    got_db = 20.0 * np.log10(np.std(shelved) / np.std(corner))
    assert got_db == pytest.approx(gain_db / 2.0, abs=0.1)


def test_a_one_vowel_singer_holds_its_vowel_on_every_note():
    rng = np.random.default_rng(5)
    singer = voice.draw_singer(rng, "tenor", v4.RECIPE.singer)
    held = v5.one_vowel(rng, singer)
    assert held.vowels.shape == (1,) and held.vowels[0] in singer.vowels
    onset = np.arange(12) * 0.4
    notes, syllables = voice.plan_vocal_phrase(
        rng,
        onset,
        np.full(12, 0.4),
        np.full(12, 57.0),
        held,
        vib_limits=v4.RECIPE.vibrato_limits,
        consonant_prob=0.0,
    )
    assert np.all(syllables.vowel == held.vowels[0])
    assert np.all(syllables.vowel2 == held.vowels[0])  # no diphthongs
    assert np.all(syllables.consonant == -1)


def test_a_unison_ensemble_sings_the_leads_pitch():
    """Backing singers at ``harmony_steps=(0,)`` add energy at the lead's
    fundamental, not a third or a sixth away."""
    plan = _plan(6.0, seed=3)
    segments = (corpus.Segment(0.0, 6.0, True),)
    rng = np.random.default_rng(4)
    lead = voice.draw_singer(rng, "baritone", v4.RECIPE.singer)
    section = tuple(voice.draw_singer(rng, "baritone", v4.RECIPE.singer) for _ in range(3))
    n_buf = song.buffer_sizes(6.0)[2]
    key = 48 + plan["root"]  # the tonic, in the song's scale
    stems = {}
    for name, steps in (("unison", (0,)), ("harmony", (2,))):
        stems[name] = voice.render_vocals(
            np.random.default_rng(9),
            plan,
            segments,
            lead,
            (key, key),  # one note: the lead holds the tonic throughout
            n_buf,
            harmony=section,
            harmony_prob=1.0,
            harmony_steps=steps,
            harmony_db=(0.0, 0.0),
        )
    freqs = np.fft.rfftfreq(n_buf, 1.0 / SR)

    def share(x, midi):
        """Share of the power within 60 cents of ``midi``'s fundamental."""
        hz = 440.0 * 2 ** ((midi - 69) / 12)
        power = np.abs(np.fft.rfft(x)) ** 2
        return power[np.abs(np.log2(freqs / hz + 1e-12)) < 0.05].sum() / power.sum()

    third = float(music.diatonic_shift(np.array([key]), 2, plan)[0])
    assert share(stems["unison"], key) > share(stems["harmony"], key)
    assert share(stems["unison"], third) < 0.2 * share(stems["harmony"], third)


def _outside(stem, segments, release=0.6):
    """Samples farther than ``release`` s from every sing segment."""
    t = np.arange(len(stem)) / SR
    near = np.zeros(len(stem), bool)
    for seg in segments:
        if seg.vocal:
            near |= (t >= seg.start) & (t <= seg.end + release)
    return ~near


def test_sampled_voices_sing_inside_the_sing_segments_only(timgm6mb):
    plan = _plan(8.0)
    segments = (
        corpus.Segment(0.0, 2.0, False),
        corpus.Segment(2.0, 5.0, True),
        corpus.Segment(5.0, 8.0, False),
    )
    n_buf = song.buffer_sizes(8.0)[2]
    stem = sampled.voices(np.random.default_rng(2), plan, segments, (55, 72), n_buf, timgm6mb)
    assert stem.shape == (n_buf,)
    inside = song.region_mask(segments, n_buf)
    assert np.sqrt(np.mean(stem[inside] ** 2)) > 1e-3
    assert np.abs(stem[_outside(stem, segments)]).max() < 1e-4
    again = sampled.voices(np.random.default_rng(2), plan, segments, (55, 72), n_buf, timgm6mb)
    np.testing.assert_array_equal(stem, again)


def test_a_sampled_line_plays_over_its_span(timgm6mb):
    plan = _plan(8.0)
    n_buf = song.buffer_sizes(8.0)[2]
    stem = sampled.line(np.random.default_rng(1), plan, (2.0, 6.0), ("violin",), n_buf, timgm6mb)
    t = np.arange(n_buf) / SR
    assert np.sqrt(np.mean(stem[(t > 2.0) & (t < 6.0)] ** 2)) > 1e-3
    assert np.abs(stem[(t < 1.99) | (t > 7.0)]).max() < 1e-4


@pytest.mark.parametrize("kind", list(v5.VOCAL_KINDS))
def test_every_vocal_kind_sings_inside_the_sing_segments(kind, timgm6mb, monkeypatch):
    monkeypatch.setattr(v5, "VOCAL_KINDS", {kind: 1.0})
    rng = np.random.default_rng(6)
    duration = 8.0
    plan, _, choices = synthetic.v2._plan(rng, duration, v5.RECIPE)
    segments = (
        corpus.Segment(0.0, 3.0, False),
        corpus.Segment(3.0, 6.0, True),
        corpus.Segment(6.0, 8.0, False),
    )
    n_buf = song.buffer_sizes(duration)[2]
    register = music.sub_register(rng, v5.RECIPE.voice_types[choices.voice][0])
    stem, named = v5.render_vocals(rng, plan, segments, choices, register, n_buf, v5.RECIPE)
    assert named == kind
    inside = song.region_mask(segments, n_buf)
    level = np.sqrt(np.mean(stem[inside] ** 2))
    assert level > 0.0
    # The shelf filters the whole stem: what leaks outside the segment (and
    # past a sampled voice's release) stays 50 dB under the singing.
    assert np.abs(stem[_outside(stem, segments)]).max() < level * 10 ** (-50 / 20)


def test_sampled_lines_come_whatever_the_sections_label(timgm6mb):
    """The hook draws the same stems for a sung and an unsung section."""
    plan = _plan(4.0, style="jazz")
    n_buf = song.buffer_sizes(4.0)[2]
    out = {}
    for vocal in (False, True):
        rng = np.random.default_rng(21)
        section = corpus.Segment(0.5, 3.5, vocal)
        out[vocal] = v5.more_leads(rng, plan, section, (0.5, 3.5), 1.0, n_buf)
    assert len(out[False]) == len(out[True])
    for (_, a, ga), (_, b, gb) in zip(out[False], out[True], strict=True):
        np.testing.assert_array_equal(a, b)
        assert ga == gb


def test_sampled_lines_play_in_about_their_share_of_sections(timgm6mb, monkeypatch):
    """Without tutti, the hook adds a line to ``SAMPLED_LINE_PROB`` of the
    sections (binomial, 200 sections: within four standard deviations)."""
    monkeypatch.setattr(sampled, "line", lambda *args: np.zeros(4))
    monkeypatch.setattr(v4, "RECIPE", dataclasses.replace(v4.RECIPE, more_leads=lambda *a: []))
    plan = _plan(4.0, style="band")
    rng = np.random.default_rng(0)
    section = corpus.Segment(0.5, 3.5, False)
    count = sum(len(v5.more_leads(rng, plan, section, (0.5, 3.5), 0.0, 10)) for _ in range(200))
    p = v5.SAMPLED_LINE_PROB
    assert abs(count - 200 * p) < 4 * np.sqrt(200 * p * (1 - p))


def test_a_missing_soundfont_stops_version_5_with_the_install(tmp_path, monkeypatch):
    if soundfont.shutil.which("fluidsynth") is None:
        pytest.skip("fluidsynth is not installed")
    missing = tmp_path / "TimGM6mb.sf2"
    monkeypatch.setattr(v5, "SOUNDFONT", missing)
    with pytest.raises(ParameterError) as err:
        synthetic.synthesize_song(0, 0, 8.0, version=5)
    assert "apt-get install fluidsynth timgm6mb-soundfont" in str(err.value)
    assert str(err.value).endswith(f"Received: {missing} is not a file")


@pytest.mark.slow
@pytest.mark.parametrize("index", sorted(V5_SONG_SHA256))
def test_version_5_songs_are_unchanged_byte_for_byte(index, timgm6mb):
    helpers.assert_song_pinned(5, index, V5_SONG_KINDS[index], V5_SONG_SHA256[index])


def test_make_corpus_stops_before_writing_when_the_soundfont_is_missing(tmp_path, monkeypatch):
    missing = tmp_path / "TimGM6mb.sf2"
    monkeypatch.setattr(v5, "SOUNDFONT", missing)
    out = tmp_path / "corpus"
    with pytest.raises(ParameterError, match="timgm6mb-soundfont"):
        synthetic.make_corpus(out, split_sizes={"train": 1, "valid": 0, "test": 0}, version=5)
    assert not out.exists()
