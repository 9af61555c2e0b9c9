"""Sung phrases from Festival's diphone voices: the score, the sung spans,
the pitch and the errors."""

import shutil

import numpy as np
import pytest
from helpers import festival_voice

from vocal_xai.data import diphone
from vocal_xai.errors import ParameterError


def test_score_xml_holds_every_note_in_seconds_and_escapes_words():
    notes = [diphone.Note("rock&roll", 0.5, 440.0), diphone.Note(None, 0.25)]
    xml = diphone.score_xml([*notes, diphone.Note("go", 1.0, 220.0)])
    assert '<SINGING BPM="60">' in xml
    assert '<DURATION BEATS="0.5000"><PITCH FREQ="440.000">rock&amp;roll</PITCH></DURATION>' in xml
    assert '<REST BEATS="0.2500"></REST>' in xml
    assert '<PITCH FREQ="220.000">go</PITCH>' in xml


def test_sung_spans_join_runs_of_sung_segments_and_skip_pauses():
    segments = [("pau", 0.1), ("w", 0.2), ("eh", 0.5), ("n", 0.6)]
    segments += [("pau", 1.0), ("g", 1.1), ("ow", 1.9)]
    assert diphone.sung_spans(segments) == [(0.1, 0.6), (1.0, 1.9)]
    # Zero-length segments add nothing.
    assert diphone.sung_spans([("#", 0.0), ("a", 0.0), ("l", 0.3), ("#", 0.3)]) == [(0.0, 0.3)]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"word": "la", "seconds": 0.0, "hz": 220.0}, "Expected seconds > 0. Received: 0.0"),
        ({"word": "la", "seconds": 1.0, "hz": 0.0}, "Received: word='la', hz=0.0"),
        ({"word": " ", "seconds": 1.0, "hz": 220.0}, "Received: word=' ', hz=220.0"),
    ],
)
def test_a_bad_note_says_what_it_expected(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        diphone.Note(**kwargs)


def test_an_unknown_voice_names_the_known_ones():
    known = r"Expected a voice in \['kal', 'ked', 'lp'\]. Received: 'x'"
    with pytest.raises(ParameterError, match=known):
        diphone.check_voice("x")


def test_a_missing_festival_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ParameterError, match="apt-get install festival festvox-kallpc16k"):
        diphone.check_voice("kal")


def test_a_missing_voice_names_its_folder_and_package(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/festival")
    monkeypatch.setattr(diphone, "VOICE_ROOT", tmp_path)
    with pytest.raises(ParameterError, match="apt-get install festival festvox-italp16k") as err:
        diphone.check_voice("lp")
    assert str(tmp_path / "italian/lp_diphone") in str(err.value)


def test_one_sung_note_is_refused_before_festival_runs():
    with pytest.raises(ParameterError, match="at least two sung notes. Received: 1"):
        diphone.sing([diphone.Note("la", 1.0, 220.0), diphone.Note(None, 0.5)])


def _median_f0(wave, start, end):
    import librosa

    part = wave[int(start * diphone.SAMPLE_RATE) : int(end * diphone.SAMPLE_RATE)]
    f0, _, _ = librosa.pyin(
        part, fmin=100.0, fmax=500.0, sr=diphone.SAMPLE_RATE, frame_length=1024, hop_length=160
    )
    return float(np.nanmedian(f0))


@pytest.mark.parametrize("voice", sorted(diphone.VOICES))
def test_every_voice_sings_the_scored_pitches_the_same_way_twice(voice):
    festival_voice(voice)
    notes = [diphone.Note("ah", 1.5, 220.0), diphone.Note(None, 0.5)]
    notes.append(diphone.Note("oh", 1.5, 330.0))
    wave, spans = diphone.sing(notes, voice)
    again, _ = diphone.sing(notes, voice)
    np.testing.assert_array_equal(wave, again)
    assert wave.dtype == np.float32 and np.abs(wave).max() > 0.05
    # Two sung spans, within the wave, separated by the rest.
    assert len(spans) == 2
    (a0, a1), (b0, b1) = spans
    assert 0.0 <= a0 < a1 < b0 < b1 <= len(wave) / diphone.SAMPLE_RATE + 1e-3
    assert 0.3 <= b0 - a1 <= 0.6
    # The held vowels are at the scored pitch, within 1 %.
    assert _median_f0(wave, a0 + 0.3, a1 - 0.2) == pytest.approx(220.0, rel=0.01)
    assert _median_f0(wave, b0 + 0.3, b1 - 0.2) == pytest.approx(330.0, rel=0.01)

    # Between them the rest is quiet (a voice's pause may hold its recorded
    # room noise): at least 26 dB below the sung vowel.
    def rms(start, end):
        part = wave[int(start * diphone.SAMPLE_RATE) : int(end * diphone.SAMPLE_RATE)]
        return float(np.sqrt(np.mean(np.square(part))))

    assert rms(a1 + 0.1, b0 - 0.1) < 0.05 * rms(a0 + 0.3, a1 - 0.2)
