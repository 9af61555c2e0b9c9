"""Tests of vocal_xai.data.soundfont: the MIDI file, and FluidSynth's rendering."""

import re
import struct

import helpers
import numpy as np
import pytest

from vocal_xai.data import soundfont
from vocal_xai.data.soundfont import Part
from vocal_xai.errors import ParameterError


def _events(track):
    """Decode a format-0 track's body into (absolute tick, message bytes)."""
    events, tick, i = [], 0, 0
    while i < len(track):
        delta = 0
        while True:
            byte = track[i]
            i += 1
            delta = (delta << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        tick += delta
        if track[i] == 0xFF:
            length = track[i + 2]
            events.append((tick, track[i : i + 3 + length]))
            i += 3 + length
        else:
            size = 2 if track[i] >> 4 in (0xC, 0xD) else 3
            events.append((tick, track[i : i + size]))
            i += size
    return events


def test_midi_file_is_a_format_0_file_with_the_events_in_time_order():
    data = soundfont.midi_file(
        [(960, b"\x80\x3c\x00"), (0, b"\x90\x3c\x40"), (200, b"\xe0\x00\x40")]
    )
    assert data[:4] == b"MThd" and struct.unpack(">IHHH", data[4:14]) == (6, 0, 1, 480)
    assert data[14:18] == b"MTrk"
    (length,) = struct.unpack(">I", data[18:22])
    track = data[22:]
    assert len(track) == length
    events = _events(track)
    # The tempo (0.5 s a quarter note: 960 ticks a second) comes first, the end last.
    assert events[0] == (0, b"\xff\x51\x03\x07\xa1\x20")
    assert events[1:4] == [(0, b"\x90\x3c\x40"), (200, b"\xe0\x00\x40"), (960, b"\x80\x3c\x00")]
    assert events[-1] == (960, b"\xff\x2f\x00")
    assert soundfont.TICKS_PER_SECOND == 960


@pytest.mark.parametrize(
    "cents, value", [(0.0, 8192), (200.0, 16383), (-200.0, 1), (100.0, 12288), (500.0, 16383)]
)
def test_pitch_bend_maps_cents_onto_the_wheel(cents, value):
    low, high = soundfont.pitch_bend(cents)
    assert low < 128 and high < 128 and (high << 7) | low == value


def test_part_events_play_the_notes_and_the_vibrato_on_their_channel():
    part = Part(48, ((0.5, 1.0, 60, 90),), vibrato_cents=50.0, vibrato_hz=5.0)
    events = dict()
    for tick, message in soundfont.part_events(part, 3, 2.0):
        events.setdefault(message[0], []).append((tick, bytes(message)))
    assert events[0xC3] == [(0, b"\xc3\x30")]
    assert events[0x93] == [(480, b"\x93\x3c\x5a")] and events[0x83] == [(1440, b"\x83\x3c\x00")]
    bends = [((m[2] << 7) | m[1]) - 8192 for _, m in events[0xE3]]
    assert len(bends) == 200
    # 50 cents of a 200-cent wheel: a quarter of its span, at 5 Hz.
    assert max(bends) == pytest.approx(8191 * 0.25, abs=1) and min(bends) < -2000
    assert abs(bends[10]) <= 1  # half a period of 5 Hz after the start


def test_detune_offsets_the_wheel_under_the_vibrato():
    part = Part(
        48, ((0.0, 1.0, 60, 90),), vibrato_cents=20.0, vibrato_phase=np.pi / 2, detune_cents=-10.0
    )
    bends = [
        ((m[2] << 7) | m[1]) - 8192 for _, m in soundfont.part_events(part, 0, 1.0) if m[0] == 0xE0
    ]
    # At time 0 the phase puts the vibrato at its peak: -10 + 20 = +10 cents.
    assert bends[0] == round(8191 * 10 / 200)
    assert min(bends) == pytest.approx(8191 * -30 / 200, abs=2)
    flat = Part(48, ((0.0, 1.0, 60, 90),), detune_cents=-10.0)
    assert {
        ((m[2] << 7) | m[1]) - 8192 for _, m in soundfont.part_events(flat, 0, 1.0) if m[0] == 0xE0
    } == {round(-8191 * 10 / 200)}


def test_percussion_plays_on_channel_ten_without_vibrato():
    part = Part(0, ((0.0, 0.2, 38, 60),), vibrato_cents=30.0, percussion=True)
    statuses = {message[0] for _, message in soundfont.part_events(part, 2, 1.0)}
    assert 0x99 in statuses and not any(s >> 4 == 0xE for s in statuses)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"program": 128}, "Expected 0 <= program <= 127"),
        ({"vibrato_cents": 300.0}, "Expected 0 <= vibrato_cents <= 200"),
        ({"swell": 1.5}, "Expected 0 <= swell <= 1"),
        (
            {"vibrato_cents": 150.0, "detune_cents": -60.0},
            "Expected |detune_cents| + vibrato_cents <= 200",
        ),
        ({"notes": ((0.0, 0.0, 60, 90),)}, "Received: (0.0, 0.0, 60, 90)"),
    ],
)
def test_a_bad_part_is_refused_with_the_value(kwargs, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        Part(**{"program": 0, "notes": ((0.0, 1.0, 60, 90),), **kwargs})


def test_a_missing_soundfont_names_the_install(tmp_path):
    if soundfont.shutil.which("fluidsynth") is None:
        pytest.skip("fluidsynth is not installed")
    with pytest.raises(ParameterError, match="apt-get install fluidsynth fluid-soundfont-gm"):
        soundfont.render([Part(0, ((0.0, 1.0, 60, 90),))], 1.0, tmp_path / "none.sf2")


def test_render_plays_the_note_at_its_pitch_and_the_same_samples_each_time():
    font = helpers.soundfont_renderer()
    part = Part(73, ((0.1, 1.0, 69, 100),))  # a flute's A4, 440 Hz
    first = soundfont.render([part], 1.5, font)
    again = soundfont.render([part], 1.5, font)
    assert first.dtype == np.float32 and first.shape == (round(1.5 * 22050),)
    np.testing.assert_array_equal(first, again)
    # Silent before the onset, sounding after it.
    assert np.abs(first[:2000]).max() < 1e-4 and np.abs(first[4410:22050]).max() > 0.01
    held = first[8820:22050].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(held * np.hanning(len(held))))
    peak = np.argmax(spectrum) * 22050 / len(held)
    assert peak == pytest.approx(440.0, rel=0.02)
