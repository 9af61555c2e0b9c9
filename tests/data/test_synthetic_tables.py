"""The settings tables of the synthetic corpus: how their values are drawn,
and that every entry draws and plays as it did before the settings became
tables."""

import dataclasses
import hashlib
import math

import numpy as np
import pytest

from vocal_xai.data.synthetic import (
    backing,
    dsp,
    instruments,
    lead_presets,
    leads,
    music,
    tables,
    v1,
    v2,
    voice,
)
from vocal_xai.data.synthetic.tables import Chance, OneOf, Uniform
from vocal_xai.errors import ParameterError

# The first 16 hex digits of the SHA-256 of each entry's drawn settings and of
# what it then plays (``_digest``), made by the code before the settings
# became tables: the corpora stay byte for byte what they were.
LEAD_PINS = {
    ("bowed", 0): ("c419a2049ba3b5a4", "f72ab9f46060e19e"),
    ("bowed", 1): ("a3eece6b4289c8d4", "91045a8f622d9ebf"),
    ("bowed", 2): ("e519e5de566ee774", "cb92b3d9b1774020"),
    ("bowed", 3): ("fea4dbd27f9b3600", "ff1794a27db7b1d8"),
    ("reed", 0): ("ea436cb3a0f9ff3b", "3177952fbd89064f"),
    ("reed", 1): ("dcc8fac7a71310ce", "a9f6b15ca38f9d7c"),
    ("reed", 2): ("30736a84f18f8915", "2abbfbfa709f75c3"),
    ("reed", 3): ("dfa1d27c99a6083f", "d70994ba53fd34fb"),
    ("synth", 0): ("0805e750465f2fb9", "b8ec800915b42a3c"),
    ("synth", 1): ("f23bb937ccb3492d", "015eb78e8984a7d1"),
    ("synth", 2): ("20f8ba17a616fbd7", "32ef9dd78be5aaf5"),
    ("synth", 3): ("477a6a15ff86aaab", "bf3ddd47f3f7587e"),
}
INSTRUMENT_PINS = {
    "accordion": ("b6155c605e2acf3b", "fea728bfab7976a3"),
    "celesta": ("b1a19f49b862e0f5", "c02037861f18eb3d"),
    "cello": ("3787fd42790d4adb", "69f3944613a2d3f2"),
    "cellos": ("b426c0ac95611c4c", "f0abc0ef0e5ed469"),
    "clarinet": ("3338846f8e97632b", "82b38cebf46c3b16"),
    "clarinets": ("351ea5d7a42d1074", "21e428c3574e79a6"),
    "electric_guitar": ("bbb15559d83c30e6", "eac15020171b8038"),
    "flute": ("e8bd45605b0d86b2", "6b5a646fffdf72de"),
    "flutes": ("329adcdc0ff8c489", "55ea6c20d056cd04"),
    "harmonica": ("dba562764ff6a785", "dfecb3ef5649a7c1"),
    "horn": ("d33087dc403d4591", "d1f7fea1e94d1bbc"),
    "horns": ("09884881701d500a", "044264d066512ec3"),
    "nylon_guitar": ("832c52fd427778f0", "570407b1f317d307"),
    "oboe": ("79950700ce4b59bd", "e780459fd37fdb90"),
    "piano": ("3701c47673966058", "fd0826ec46ea784f"),
    "pizzicato": ("c3bd6091cd01d4f7", "0ed739af67e86a11"),
    "saxophone": ("77d046d7f6a63d10", "a6514060380c0d73"),
    "saxophones": ("ab8a45d5971805b3", "49a38cb938e7b673"),
    "strings": ("5150db9971db98f1", "e0aba283bb577300"),
    "supersaw": ("2c50119b6f5fdd43", "1ed34feaec563d9c"),
    "synth": ("b72f89c4108b204e", "eaf1d59a53067e44"),
    "trombone": ("e3bb27f53ac83f21", "f88dd1b67eb655cb"),
    "trombones": ("794af117429d99d1", "dd7225e7a0a2296a"),
    "trumpet": ("b38747ae33dd2ba3", "f7d4c0d73c61e5ed"),
    "vibraphone": ("bdfe8fcebf952830", "67c498e39d92de7e"),
    "viola": ("d3a3e3e596b9b253", "4cdb1605f21ccd77"),
    "violin": ("5a347a06ea42d9e9", "107db91878c6c6db"),
}
# The pins above were made where numpy has AVX-512 code for float64 exp, log
# and sin. Elsewhere (``dsp.numpy_vector_kind``) it uses the C library, which
# rounds some drawn settings, and a few of the played samples, differently.
_BASELINE_LEAD_PINS = {
    ("bowed", 0): ("426cee3e903cf2f9", "f72ab9f46060e19e"),
    ("bowed", 1): ("7bfa04c2e48da73a", "91045a8f622d9ebf"),
    ("bowed", 2): ("a21a5c4a7494a5cc", "cb92b3d9b1774020"),
    ("bowed", 3): ("9d934f386d6ccdb5", "ff1794a27db7b1d8"),
    ("reed", 0): ("9ba9436d2fe77b74", "3177952fbd89064f"),
    ("reed", 1): ("e9488731af69c277", "a9f6b15ca38f9d7c"),
    ("reed", 2): ("e7c66b49b11e161f", "2abbfbfa709f75c3"),
    ("reed", 3): ("83a9835ef3ecfd8d", "d70994ba53fd34fb"),
    ("synth", 2): ("20f8ba17a616fbd7", "4710b1cb7d9e7cdd"),
}
_BASELINE_INSTRUMENT_PINS = {
    "accordion": ("a3dae5dee289ae2c", "fea728bfab7976a3"),
    "cello": ("44afbf3a33bceaae", "69f3944613a2d3f2"),
    "cellos": ("c8b4ef648aa471cf", "f0abc0ef0e5ed469"),
    "clarinet": ("0ef4e9efd05d55ae", "82b38cebf46c3b16"),
    "clarinets": ("848847f17a606a9a", "21e428c3574e79a6"),
    "electric_guitar": ("58abde36bb31d141", "eac15020171b8038"),
    "flute": ("3a1549f26bedaf8b", "6b5a646fffdf72de"),
    "flutes": ("cf87bb99f0d63939", "55ea6c20d056cd04"),
    "harmonica": ("af8d143451bedb65", "dfecb3ef5649a7c1"),
    "horn": ("fd46b951f36b236f", "d1f7fea1e94d1bbc"),
    "horns": ("4dac066f194daa19", "044264d066512ec3"),
    "nylon_guitar": ("8b5c925540d46fc5", "570407b1f317d307"),
    "oboe": ("a45965fd28849555", "e780459fd37fdb90"),
    "piano": ("fe8f51c0b686249a", "fd0826ec46ea784f"),
    "pizzicato": ("a35aecf52dc388b8", "4bf77177ca2e3131"),
    "saxophone": ("5f9c19cce03ff1fd", "70c026a7e91f3e42"),
    "saxophones": ("c2c4dc553a138b0d", "1698737eaa44380d"),
    "strings": ("1016d0820105c13e", "e0aba283bb577300"),
    "supersaw": ("f4bf28fd7f72c2fb", "1125a33cd78a6bb5"),
    "synth": ("89db85bd1ad73195", "eaf1d59a53067e44"),
    "trombone": ("41868e6c2a5354b8", "f88dd1b67eb655cb"),
    "trombones": ("1691a5bf1530a58d", "dd7225e7a0a2296a"),
    "trumpet": ("f97487ffc513de59", "f7d4c0d73c61e5ed"),
    "viola": ("871861549ade8a47", "4cdb1605f21ccd77"),
    "violin": ("012b30f1b92a106d", "107db91878c6c6db"),
}
if dsp.numpy_vector_kind() == "baseline":
    LEAD_PINS = {**LEAD_PINS, **_BASELINE_LEAD_PINS}
    INSTRUMENT_PINS = {**INSTRUMENT_PINS, **_BASELINE_INSTRUMENT_PINS}
# The chord layer's samples, and the generator's next draw after it.
TIMBRE_PINS = {
    ("pad", 0): ("30c9a081d48dad18", "2d98c9bc70934b36"),
    ("pad", 1): ("75efc79243b90e14", "b9daccf0ff7df01e"),
    ("pad", 2): ("5b74711adf3a24f4", "a327e037ba3377d4"),
    ("piano", 0): ("41b9de3ac1fec32b", "9e57ccfe6ea9897a"),
    ("piano", 1): ("9ae558aed843e337", "98f1cc06d9c35103"),
    ("piano", 2): ("cc0277b544c1a42c", "525a561588f2969f"),
    ("organ", 0): ("8a87e8040a2ac691", "607aa181fba8e2b3"),
    ("organ", 1): ("2546b07c638d07a1", "b9daccf0ff7df01e"),
    ("organ", 2): ("df4cf1b917fd1cdf", "5b6b967d8ae73027"),
}
SINGER_PINS = {
    (1, "male"): "15f3ca7317f26eee",
    (1, "female"): "d86ebff1f91ef5a1",
    (2, "bass"): "08ba99f4b407bb25",
    (2, "baritone"): "9286093e549766e5",
    (2, "tenor"): "147dd5296371db56",
    (2, "alto"): "64ffafba052a622b",
    (2, "mezzo"): "f72a69e667bd749b",
    (2, "soprano"): "211b660e141a0e8b",
}


def _digest(*values):
    """SHA-256 of dataclass fields (by name), strings and numbers, 16 digits."""
    h = hashlib.sha256()
    for value in values:
        if dataclasses.is_dataclass(value):
            for field in dataclasses.fields(value):
                h.update(field.name.encode())
                h.update(_digest(getattr(value, field.name)).encode())
        elif isinstance(value, str):
            h.update(value.encode())
        else:
            h.update(np.asarray(value, np.float64).tobytes())
    return h.hexdigest()[:16]


def test_draw_takes_each_kind_of_value_from_the_generator_in_turn():
    rng, ref = np.random.default_rng(0), np.random.default_rng(0)
    assert tables.draw(rng, 7.5) == 7.5 and tables.draw(rng, None) is None
    assert tables.draw(rng, (1.0, 2.0)) == ref.uniform(1.0, 2.0)
    assert tables.draw(rng, (3, 5), integer=True) == ref.integers(3, 6)
    drawn = []
    for _ in range(8):
        expected = ref.uniform(-2.0, -1.0) if ref.random() < 0.5 else 9.0
        drawn.append(tables.draw(rng, Chance(0.5, (-2.0, -1.0), 9.0)))
        assert drawn[-1] == expected
    assert 9.0 in drawn and min(drawn) < 0.0
    assert tables.draw(rng, OneOf(("a", "b", "c"))) == ref.choice(("a", "b", "c"))
    np.testing.assert_array_equal(tables.draw(rng, Uniform(0.1, 1.0, 6)), ref.uniform(0.1, 1.0, 6))
    # A pair of pairs is not a range: it stays as it is, drawing nothing.
    assert tables.draw(rng, ((1.0, 2.0), (3.0, 4.0))) == ((1.0, 2.0), (3.0, 4.0))
    assert rng.random() == ref.random()


def test_draw_all_draws_the_fields_in_the_order_of_the_table():
    table = {"b": (0.0, 1.0), "a": Chance(1.0, (5.0, 6.0), 0.0), "c": "fixed"}
    ref = np.random.default_rng(3)
    first = ref.uniform(0.0, 1.0)
    ref.random()
    second = ref.uniform(5.0, 6.0)
    assert tables.draw_all(np.random.default_rng(3), table) == {
        "b": first,
        "a": second,
        "c": "fixed",
    }


@pytest.mark.parametrize("kind", leads.LEAD_KINDS)
def test_leads_are_drawn_inside_the_ranges_of_their_table(kind):
    spec = lead_presets.LEADS[kind]
    options = (
        spec["lowpass_order"].options
        if isinstance(spec["lowpass_order"], OneOf)
        else (spec["lowpass_order"],)
    )
    for seed in range(6):
        lead = leads.draw_lead(np.random.default_rng(seed), kind)
        assert lead.kind == kind and lead.weights.shape == (dsp.MAX_PARTIALS,)
        assert spec["lowpass_hz"][0] <= lead.lowpass_hz <= spec["lowpass_hz"][1]
        assert spec["release"][0] <= lead.release <= spec["release"][1]
        assert lead.lowpass_order in options
        if spec["body_hz"]:
            assert len(lead.peak_hz) == len(spec["body_hz"])
            for hz, (low, high) in zip(lead.peak_hz, spec["body_hz"]):
                assert low <= hz <= high
            ratio = lead.peak_width / lead.peak_hz
            assert np.all((ratio >= spec["body_width"][0]) & (ratio <= spec["body_width"][1]))
        else:
            np.testing.assert_allclose(lead.peak_hz, [spec["resonance"]["at"] * lead.lowpass_hz])
        even = lead.weights[1::2]
        if isinstance(spec["even_cut_db"], Chance):
            assert np.all(even == 0.0) or np.all(even > 0.0)
        else:
            assert np.all(even > 0.0)
        assert math.sqrt(np.mean(lead.noise_shape**2)) == pytest.approx(1.0)


def test_draw_lead_refuses_an_unknown_kind():
    with pytest.raises(ParameterError, match="Received: kind='kazoo'"):
        leads.draw_lead(np.random.default_rng(0), "kazoo")


@pytest.mark.parametrize("kind, seed", sorted(LEAD_PINS))
def test_leads_draw_and_play_as_pinned(kind, seed):
    rng = np.random.default_rng(seed)
    lead = leads.draw_lead(rng, kind)
    onset, duration, midi = 0.3 * np.arange(4), np.full(4, 0.3), np.array([57.0, 60.0, 64.0, 62.0])
    phrase = leads.render_lead_phrase(
        rng, leads.plan_lead_phrase(rng, onset, duration, midi, lead), lead
    )
    assert (_digest(lead), _digest(phrase)) == LEAD_PINS[(kind, seed)]


@pytest.mark.parametrize("name", sorted(INSTRUMENT_PINS))
def test_instruments_draw_and_play_as_pinned(name):
    assert set(INSTRUMENT_PINS) == set(instruments.INSTRUMENTS)
    rng = np.random.default_rng(5)
    inst = instruments.draw_instrument(rng, name)
    low, high = inst.register
    midi = np.array([low + 2, (low + high) // 2, high - 2, (low + high) // 2], np.float64)
    notes = instruments.plan_line(rng, 0.5 * np.arange(4), np.full(4, 0.5), midi, inst)
    assert (_digest(inst), _digest(instruments.render_line(rng, notes, inst))) == INSTRUMENT_PINS[
        name
    ]


@pytest.mark.parametrize("timbre, seed", sorted(TIMBRE_PINS))
def test_chord_timbres_draw_and_play_as_pinned(timbre, seed):
    rng = np.random.default_rng(seed)
    plan = music.plan_song(rng, 6.0)
    n_ctrl = dsp.num_controls(6.0)
    buffer = np.zeros((n_ctrl - 1) * dsp.CONTROL_HOP, np.float32)
    backing.render_chord_timbre(rng, plan, timbre, np.ones(n_ctrl), buffer)
    assert np.sqrt(np.mean(buffer.astype(np.float64) ** 2)) > 1e-3
    assert (_digest(buffer), _digest(rng.random())) == TIMBRE_PINS[(timbre, seed)]


def test_singers_are_drawn_as_pinned_and_inside_their_ranges():
    for (version, name), pin in SINGER_PINS.items():
        table = (v1 if version == 1 else v2).SINGER
        singer = voice.draw_singer(np.random.default_rng(0), name, table)
        assert _digest(singer) == pin, (version, name)
        assert (
            table["formant_scale"][name][0]
            <= singer.formant_scale
            <= table["formant_scale"][name][1]
        )
        depths = (
            table["vib_depth"].values()
            if isinstance(table["vib_depth"], dict)
            else [table["vib_depth"]]
        )
        assert any(low <= singer.vib_depth <= high for low, high in depths)
    assert {name for version, name in SINGER_PINS if version == 2} == set(v2.VOICE_TYPES)
