"""Tests of the sampled probes (vocal_xai.models.detector.sampled_probes)."""

import dataclasses

import helpers
import numpy as np
import pytest
import soundfile

from vocal_xai.data.soundfont import Part
from vocal_xai.errors import ParameterError
from vocal_xai.models.detector import real_check, sampled_probes

SHORT = (
    sampled_probes.Probe(
        "two_horns",
        "instrumental",
        "two horns",
        (Part(60, ((0.0, 1.0, 55, 90),)), Part(60, ((0.5, 1.0, 59, 90),))),
    ),
    sampled_probes.Probe(
        "oohs", "song", "a sung ooh", (Part(53, ((0.2, 1.2, 64, 100),), vibrato_cents=30.0),)
    ),
)


def test_the_probes_are_named_once_with_the_kinds_of_the_real_check():
    names = [p.name for p in sampled_probes.PROBES]
    assert len(names) == len(set(names)) == 16
    assert {p.kind for p in sampled_probes.PROBES} == {"instrumental", "song"}
    assert set(real_check.KINDS) >= {p.kind for p in sampled_probes.PROBES}
    for probe in sampled_probes.PROBES:
        for part in probe.parts:
            assert all(
                onset + duration <= sampled_probes.SECONDS for onset, duration, _, _ in part.notes
            )


def test_the_melody_and_chords_fill_the_probe():
    lead, end = sampled_probes.LEAD, sampled_probes.LEAD + sampled_probes.MUSIC
    notes = sampled_probes.melody()
    assert notes[0][0] == lead and notes[-1][0] + notes[-1][1] / 0.95 == pytest.approx(end)
    bass = sampled_probes.chords(0)
    assert [n[2] for n in bass] == [48, 45, 41, 43] and bass[-1][0] + 2.0 == pytest.approx(end)
    # The recording runs on after the music, as a recording ends.
    assert sampled_probes.SECONDS - end >= 0.5


def test_the_hall_keeps_the_length_and_adds_a_tail():
    x = np.zeros(22050)
    x[100] = 1.0
    wet = sampled_probes.hall(x)
    assert wet.shape == x.shape
    assert np.abs(wet[22050 // 2 :]).max() > 1e-4  # still ringing half a second later
    np.testing.assert_array_equal(wet, sampled_probes.hall(x))


def test_write_probes_writes_a_folder_the_real_check_reads(tmp_path, monkeypatch):
    font = helpers.soundfont_renderer()
    monkeypatch.setattr(sampled_probes, "SECONDS", 2.0)
    out = sampled_probes.write_probes(tmp_path / "probes", font, probes=SHORT)
    recordings = real_check.read_manifest(out)
    assert [(r.name, r.kind) for r in recordings] == [
        ("two_horns_dry.wav", "instrumental"),
        ("two_horns_hall.wav", "instrumental"),
        ("oohs_dry.wav", "song"),
        ("oohs_hall.wav", "song"),
    ]
    assert recordings[1].description == "two horns (hall)"
    for r in recordings:
        info = soundfile.info(str(r.path))
        assert (info.samplerate, info.channels, info.subtype, info.frames) == (
            22050,
            1,
            "PCM_16",
            44100,
        )
        x = real_check.load_waveform(r)
        assert np.abs(x).max() == pytest.approx(sampled_probes.PEAK, abs=1e-3)
    dry, hall = (real_check.load_waveform(r) for r in recordings[2:])
    assert not np.allclose(dry, hall)
    assert "FluidR3_GM.sf2" in (out / "README.md").read_text()
    # The same SoundFont makes the same files; an existing folder is kept.
    again = sampled_probes.write_probes(tmp_path / "again", font, probes=SHORT)
    for r in recordings:
        assert (again / r.name).read_bytes() == r.path.read_bytes()
    with pytest.raises(ParameterError, match="--overwrite"):
        sampled_probes.write_probes(out, font, probes=SHORT)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [r.name for r in recordings] + ["README.md", "manifest.csv"]
    )


def test_a_failed_render_leaves_no_folder(tmp_path, monkeypatch):
    font = helpers.soundfont_renderer()
    broken = dataclasses.replace(SHORT[0], parts=SHORT[0].parts + tuple(SHORT[0].parts * 8))
    with pytest.raises(ParameterError, match="at most 15 melodic parts"):
        sampled_probes.write_probes(tmp_path / "probes", font, probes=(SHORT[1], broken))
    assert list(tmp_path.iterdir()) == []


def test_a_section_is_players_out_of_step():
    notes = ((0.0, 1.0, 60, 80), (1.0, 1.0, 62, 80))
    parts = sampled_probes.section(48, notes, players=3, vibrato_cents=20.0)
    assert [p.program for p in parts] == [48, 48, 48]
    assert [p.vibrato_hz for p in parts] == pytest.approx([5.0, 5.6, 6.2])
    assert [p.detune_cents for p in parts] == pytest.approx([-6.0, 0.0, 6.0])
    assert len({p.vibrato_phase for p in parts}) == 3
    onsets = [[n[0] for n in p.notes] for p in parts]
    assert onsets == [[0.0, 0.994], [0.0, 1.0], [0.006, 1.006]]
    assert all(p.vibrato_cents == 20.0 for p in parts)
    (solo,) = sampled_probes.section(48, notes, players=1)
    assert solo.detune_cents == 0.0 and solo.notes == notes and solo.vibrato_hz == 5.6
