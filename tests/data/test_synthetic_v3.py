"""Tests of version 3 of the synthetic corpus: tutti, halls, loud mastering."""

import numpy as np
import pytest

from vocal_xai.data import corpus, synthetic
from vocal_xai.data.synthetic import dsp, effects, music, song, v2, v3


def _plan(style, duration=8.0):
    plan = music.plan_song(np.random.default_rng(0), duration)
    plan["style"] = style
    return plan


def test_version_3_is_registered_with_its_larger_splits():
    assert synthetic.VERSIONS[3] is v3
    assert v3.DEFAULT_SPLIT_SIZES == {"train": 144, "valid": 32, "test": 32}
    assert synthetic.DEFAULT_VERSION == 2


def test_styles_keep_version_2_and_add_tutti_rooms_and_mastering():
    assert set(v3.STYLES) == set(v2.STYLES)
    for name, style in v3.STYLES.items():
        assert {k: style[k] for k in v2.STYLES[name]} == v2.STYLES[name]
        prob, sections = style["tutti"]
        assert 0.0 < prob <= 1.0 and sections
        for section in sections:
            assert section in synthetic.instruments.INSTRUMENTS
    # Orchestral songs get the most tutti and the largest rooms.
    probs = {name: style["tutti"][0] for name, style in v3.STYLES.items()}
    assert max(probs, key=probs.get) == "orchestral"
    assert (
        v3.STYLES["orchestral"]["room"][0][1]
        > v2.RECIPE.styles["orchestral"].get("room", (effects.Mastering().rt60,))[0][1]
    )


@pytest.mark.parametrize(
    "name", ["cellos", "flutes", "clarinets", "horns", "trombones", "saxophones"]
)
def test_tutti_sections_are_sections(name):
    inst = synthetic.instruments.draw_instrument(np.random.default_rng(1), name)
    assert inst.players >= 2 and inst.detune > 0.0 and inst.spread > 0.0


def test_tutti_plays_under_singing_as_without():
    """The hook never looks at the label: a vocal and a non-vocal section get
    the same sections from the same stream."""
    plan = _plan("orchestral", 4.0)
    n_buf = song.buffer_sizes(4.0)[2]
    out = {}
    for vocal in (False, True):
        rng = np.random.default_rng(11)
        stems = []
        while not stems:
            stems = v3.tutti(rng, plan, corpus.Segment(1.0, 3.0, vocal), (1.0, 3.0), 2.0, n_buf)
        out[vocal] = stems
    assert len(out[False]) == len(out[True]) >= 1
    for (seg_a, stem_a, gain_a), (seg_b, stem_b, gain_b) in zip(out[False], out[True]):
        np.testing.assert_array_equal(stem_a, stem_b)
        assert gain_a == gain_b and 2.0 - 6.0 <= gain_a <= 2.0
        assert seg_a.vocal is False and seg_b.vocal is True
        # Silent outside the span, sounding inside it.
        assert not stem_a[: int(0.9 * dsp.SAMPLE_RATE)].any()
        assert dsp.rms(stem_a[int(1.0 * dsp.SAMPLE_RATE) : int(3.0 * dsp.SAMPLE_RATE)]) > 0.0


def test_every_part_of_a_song_may_get_a_tutti_whether_a_lead_plays_or_not(monkeypatch):
    monkeypatch.setattr(v2.song, "lead_stem", lambda *args: np.ones(1))
    heard = []

    def more(rng, plan, section, span, gain_db, n_buf):
        heard.append(section)
        return []

    segments = (
        corpus.Segment(0.0, 8.0, False),
        corpus.Segment(8.0, 16.0, True),
        corpus.Segment(16.0, 30.0, False),
    )
    rng = np.random.default_rng(0)
    playing = []
    for _ in range(20):
        stems = v2._render_leads(rng, _plan("orchestral", 30.0), segments, 1, 0.0, v3.STYLES, more)
        playing.append(len(stems))
    # Every part is heard (the last segment, 14 s long, is cut in two or
    # three), vocal ones included, and more often than a lead plays.
    assert {s.vocal for s in heard} == {False, True}
    assert all(s in segments or (s.start >= 16.0 and not s.vocal) for s in heard)
    assert len(heard) >= 20 * 4 and sum(playing) < len(heard)


@pytest.mark.parametrize("style", ["orchestral", "band"])
def test_tutti_happens_at_the_style_probability(style, monkeypatch):
    # Only whether sections join is counted here, so their lines are not played.
    monkeypatch.setattr(v3.song, "lead_stem", lambda *args: np.zeros(1))
    plan = _plan(style, 2.0)
    rng = np.random.default_rng(3)
    counts = [
        len(v3.tutti(rng, plan, corpus.Segment(0.0, 2.0, False), (0.0, 2.0), 0.0, 1))
        for _ in range(400)
    ]
    prob, sections = v3.STYLES[style]["tutti"]
    assert np.mean(np.array(counts) > 0) == pytest.approx(prob, abs=0.06)
    assert set(counts) <= {0, *range(v3.TUTTI_SECTIONS[0], v3.TUTTI_SECTIONS[1] + 1)}


def test_mastering_ranges_follow_the_style():
    rng = np.random.default_rng(0)
    draws = [v3._mastering(rng, "orchestral") for _ in range(400)]
    assert all(d.rt60 == (1.2, 3.5) and d.wet == (0.25, 0.6) for d in draws)
    loud = np.mean([d.ratio == v3.LOUD_RATIO for d in draws])
    assert loud == pytest.approx(v3.STYLES["orchestral"]["loud"], abs=0.05)
    electronic = [v3._mastering(rng, "electronic") for _ in range(400)]
    loud = [d for d in electronic if d.ratio == v3.LOUD_RATIO]
    assert len(loud) / 400 == pytest.approx(v3.STYLES["electronic"]["loud"], abs=0.07)
    assert all(d.slope == v3.LOUD_SLOPE and d.threshold == v3.LOUD_THRESHOLD for d in loud)
    quiet = [d for d in electronic if d.ratio != v3.LOUD_RATIO]
    assert all(d.slope == effects.Mastering().slope for d in quiet)


def test_master_draws_the_same_numbers_whatever_the_ranges():
    """Version 2 calls ``master`` with the default ranges; any ranges take the
    same draws, so the stream after mastering stays aligned."""
    x = np.random.default_rng(0).standard_normal(dsp.SAMPLE_RATE)
    gate = np.ones_like(x)
    after = []
    for ranges in (effects.Mastering(), effects.Mastering(rt60=(2.0, 3.0), ratio=(8.0, 9.0))):
        rng = np.random.default_rng(4)
        effects.master(rng, x, 0.1 * x, gate, ranges)
        after.append(rng.random())
    assert after[0] == after[1]


def test_loud_mastering_compresses_harder():
    """The same draws, mapped to a lower threshold and a higher ratio: no
    song keeps more of the 20 dB between its quiet and its loud half (to
    0.05 dB, what the tilt alone moves it), and on average 1.5 dB less."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal(2 * dsp.SAMPLE_RATE) * np.repeat([0.05, 0.5], dsp.SAMPLE_RATE)
    gate = np.zeros_like(x)
    room = dict(rt60=(0.3, 0.3), wet=(0.0, 0.0))
    loud = effects.Mastering(
        **room, slope=v3.LOUD_SLOPE, threshold=v3.LOUD_THRESHOLD, ratio=v3.LOUD_RATIO
    )
    spans = []
    for seed in range(8):
        span = []
        for ranges in (effects.Mastering(**room), loud):
            acc, _ = effects.master(np.random.default_rng(seed), x, 0.0 * x, gate, ranges)
            quiet, high = dsp.rms(acc[: dsp.SAMPLE_RATE]), dsp.rms(acc[dsp.SAMPLE_RATE :])
            span.append(20.0 * np.log10(high / quiet))
        spans.append(span)
    spans = np.array(spans)
    assert np.all(spans[:, 1] <= spans[:, 0] + 0.05) and np.all(spans <= 20.5)
    assert np.mean(spans[:, 0] - spans[:, 1]) > 1.5
    assert v3.LOUD_SLOPE[1] > effects.Mastering().slope[1]


def test_singers_are_brighter_than_in_version_2():
    assert v3.SINGER["tilt_db"][1] > v2.SINGER["tilt_db"][1]
    assert {k: v for k, v in v3.SINGER.items() if k != "tilt_db"} == {
        k: v for k, v in v2.SINGER.items() if k != "tilt_db"
    }


def test_version_3_plans_cover_every_style_and_voice():
    plans = [v2._plan(np.random.default_rng([0, i, 3]), 30.0, v3.RECIPE) for i in range(208)]
    assert {plan["style"] for plan, _, _ in plans} == set(v3.STYLES)
    assert {choice.voice for _, _, choice in plans} == set(v2.VOICE_TYPES)
    instrumental = np.mean([len(segments) == 1 for _, segments, _ in plans])
    assert 0.05 <= instrumental <= 0.2
