"""Tests of version 6 of the synthetic corpus: version 5 with singers made
from Festival's diphone voices."""

import dataclasses

import numpy as np
import pytest

from tests import helpers
from vocal_xai.data import corpus, diphone, soundfont, synthetic
from vocal_xai.data.synthetic import diphone_singer, music, song, v2, v5, v6
from vocal_xai.errors import ParameterError

# sha256 of the float32 samples of 8-second songs of seed 0, and their kinds
# of voice (rendered by Debian's fluidsynth and festival).
V6_SONG_SHA256 = {
    0: "a41c07bfc27bb4f6f5d3707a1385834969a5e03e49b645c71daa1b38b3277be5",
    2: "2616c9cd1d42a460484d286891007e46d03489eab9ace1d629bc166014bf358d",
    7: "1cfe65933871a352371beb68be1d8ad7b0ff064ccb884851294808a292d15596",
}
V6_SONG_KINDS = {0: "diphone_sampled", 2: "diphone", 7: "diphone"}


@pytest.fixture
def renderers():
    helpers.soundfont_renderer(soundfont.TIMGM6MB)
    for name in diphone_singer.SPEAKERS:
        helpers.festival_voice(name)


def test_version_6_is_version_5_with_diphone_singers():
    assert synthetic.VERSIONS[6] is v6
    assert synthetic.DEFAULT_VERSION == 2
    assert v6.DEFAULT_SPLIT_SIZES == v5.DEFAULT_SPLIT_SIZES
    for field in dataclasses.fields(v6.RECIPE):
        if field.name not in {"stream", "vocals"}:
            assert getattr(v6.RECIPE, field.name) == getattr(v5.RECIPE, field.name), field.name
    assert v6.RECIPE.vocals is v6.render_vocals
    assert v6.RECIPE.stream not in (2, 3, 4, 5)
    # Version 5's kinds keep their proportions among themselves; the
    # diphone singers take 45 % of the vocal songs.
    assert sum(v6.VOCAL_KINDS.values()) == pytest.approx(1.0)
    old = sum(v5.VOCAL_KINDS.values())
    for kind, weight in v5.VOCAL_KINDS.items():
        assert v6.VOCAL_KINDS[kind] / 0.55 == pytest.approx(weight / old)
    assert v6.VOCAL_KINDS["diphone"] + v6.VOCAL_KINDS["diphone_sampled"] == pytest.approx(0.45)
    # Every speaker is a voice the diphone module knows.
    assert set(diphone_singer.SPEAKERS) <= set(diphone.VOICES)


def test_kinds_are_drawn_in_their_proportions():
    """2000 draws: each kind's count within four binomial standard deviations."""
    rng = np.random.default_rng(0)
    draws = [v5.draw_kind(rng, v6.VOCAL_KINDS) for _ in range(2000)]
    for kind, p in v6.VOCAL_KINDS.items():
        count = draws.count(kind)
        assert abs(count - 2000 * p) < 4 * np.sqrt(2000 * p * (1 - p)), kind


@pytest.mark.parametrize("kind", ["diphone", "diphone_sampled"])
def test_diphone_kinds_sing_inside_the_sing_segments_only(kind, renderers, monkeypatch):
    monkeypatch.setattr(v6, "VOCAL_KINDS", {kind: 1.0})
    rng = np.random.default_rng(6)
    duration = 8.0
    plan, _, choices = v2._plan(rng, duration, v6.RECIPE)
    segments = (
        corpus.Segment(0.0, 3.0, False),
        corpus.Segment(3.0, 6.5, True),
        corpus.Segment(6.5, 8.0, False),
    )
    n_buf = song.buffer_sizes(duration)[2]
    register = music.sub_register(rng, v6.RECIPE.voice_types[choices.voice][0])
    stem, named = v6.render_vocals(rng, plan, segments, choices, register, n_buf, v6.RECIPE)
    assert named == kind
    t = np.arange(n_buf) / song.SAMPLE_RATE
    inside = song.region_mask(segments, n_buf)
    level = np.sqrt(np.mean(stem[inside] ** 2))
    assert level > 0.0
    # The diphone singer stops at the segment's end; sampled voices under it
    # release within 1.2 s (the song's gate cuts them). What the shelf leaks
    # stays 50 dB under.
    outside = (t < 3.0) | (t > (6.5 if kind == "diphone" else 7.7))
    assert np.abs(stem[outside]).max() < level * 10 ** (-50 / 20)


def test_a_missing_festival_stops_version_6_with_the_install(renderers, monkeypatch, tmp_path):
    monkeypatch.setattr(diphone, "VOICE_ROOT", tmp_path)
    with pytest.raises(ParameterError, match="apt-get install festival festvox-") as err:
        synthetic.synthesize_song(0, 0, 8.0, version=6)
    assert str(tmp_path) in str(err.value)
    out = tmp_path / "corpus"
    with pytest.raises(ParameterError, match="festvox-"):
        synthetic.make_corpus(out, split_sizes={"train": 1, "valid": 0, "test": 0}, version=6)
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.parametrize("index", sorted(V6_SONG_SHA256))
def test_version_6_songs_are_unchanged_byte_for_byte(index, renderers):
    helpers.assert_song_pinned(6, index, V6_SONG_KINDS[index], V6_SONG_SHA256[index])
