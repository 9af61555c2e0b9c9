"""Sung phrases joined from recorded speech units: Festival's singing mode
with a diphone voice, given a melody.

A source-filter singer is a model of a voice; a diphone voice is made of a
person's recorded transitions between phonemes, so its consonants, formant
motion and coarticulation are those of speech. Festival (Debian's
``festival``) sings a score of words and pitches with one (``festvox-*``
packages). It shortens notes a little, so the sung spans come from the
segments it synthesised, never from the score.

Festival's notes are held perfectly flat: vibrato, drift and jitter are for
the caller to add.
"""

import dataclasses
import pathlib
import shutil
import subprocess
import tempfile
from xml.sax.saxutils import escape

import soundfile

from vocal_xai.errors import ParameterError

# Voice name -> (Festival's function that selects it, the Debian package,
# the folder the package installs).
VOICES = {
    "kal": ("voice_kal_diphone", "festvox-kallpc16k", "english/kal_diphone"),
    "ked": ("voice_ked_diphone", "festvox-kdlpc16k", "english/ked_diphone"),
    "lp": ("voice_lp_diphone", "festvox-italp16k", "italian/lp_diphone"),
}
VOICE_ROOT = pathlib.Path("/usr/share/festival/voices")
# Festival's diphone voices are recorded at 16 kHz (the mel bank stops at 8 kHz).
SAMPLE_RATE = 16000
# Festival 2.5's diphone synthesis crashes on pitches above 500 Hz.
MAX_HZ = 500.0
# Segment names Festival gives to silence in the voices' phone sets.
PAUSES = frozenset({"pau", "#", "_", "sil"})

# Prints every segment's name and end time, then writes the wave.
_SCRIPT = """({select})
(require 'singing-mode)
(set! tts_hooks
  (list utt.synth
        (lambda (u)
          (mapcar (lambda (s) (format t "segment %s %f\\n" (item.name s) (item.feat s "end")))
                  (utt.relation.items u 'Segment))
          (utt.save.wave u "{wave}" 'riff)
          u)))
(tts "{score}" 'singing)
"""


@dataclasses.dataclass(frozen=True)
class Note:
    """One sung word held for ``seconds`` at ``hz``; a rest when ``word`` is None.

    A word gets one note, so words of one syllable sing as scored.
    """

    word: str | None
    seconds: float
    hz: float = 0.0

    def __post_init__(self):
        if not self.seconds > 0:
            raise ParameterError(f"Expected seconds > 0. Received: {self.seconds}")
        if self.word is not None and not (self.word.strip() and 0 < self.hz <= MAX_HZ):
            raise ParameterError(
                f"Expected a non-empty word and 0 < hz <= {MAX_HZ:g} for a sung note. "
                f"Received: word={self.word!r}, hz={self.hz}"
            )


def check_voice(voice):
    """Festival's function for ``voice``, after checking that Festival and
    the voice are installed.

    Raises:
        ParameterError: naming what is missing and how to install it.
    """
    if voice not in VOICES:
        raise ParameterError(f"Expected a voice in {sorted(VOICES)}. Received: {voice!r}")
    select, package, folder = VOICES[voice]
    hint = f"apt-get install festival {package}"
    if shutil.which("festival") is None:
        raise ParameterError(f"Expected the festival program on PATH ({hint}). Received: not found")
    if not (VOICE_ROOT / folder).is_dir():
        raise ParameterError(
            f"Expected the voice {voice!r} in {VOICE_ROOT / folder} ({hint}). Received: no folder"
        )
    return select


def score_xml(notes):
    """The SINGING markup of ``notes``, one beat a second."""
    lines = [
        '<?xml version="1.0"?>',
        '<!DOCTYPE SINGING PUBLIC "-//SINGING//DTD SINGING mark up//EN" "Singing.v0_1.dtd" []>',
        '<SINGING BPM="60">',
    ]
    for note in notes:
        if note.word is None:
            lines.append(f'<REST BEATS="{note.seconds:.4f}"></REST>')
        else:
            lines.append(
                f'<DURATION BEATS="{note.seconds:.4f}"><PITCH FREQ="{note.hz:.3f}">'
                f"{escape(note.word)}</PITCH></DURATION>"
            )
    lines.append("</SINGING>")
    return "\n".join(lines) + "\n"


def sung_spans(segments):
    """``(start, end)`` seconds of the runs of non-pause segments, from
    Festival's ``(name, end)`` segment list."""
    spans = []
    start = 0.0
    for name, end in segments:
        if name not in PAUSES and end > start:
            if spans and abs(spans[-1][1] - start) < 1e-9:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
        start = end
    return spans


def sing(notes, voice="kal"):
    """Sing ``notes`` with a diphone ``voice``.

    Args:
        notes: ``Note`` list with at least two sung notes.
        voice: a name in ``VOICES``.

    Returns:
        ``(wave, spans)``: float32 mono samples at ``SAMPLE_RATE`` and the
        ``(start, end)`` seconds of the sung segments.

    Raises:
        ParameterError: when Festival or the voice is missing, or it fails.
    """
    notes = list(notes)
    sung = sum(n.word is not None for n in notes)
    if sung < 2:
        # Festival 2.5's singing mode crashes on a score of one note.
        raise ParameterError(f"Expected at least two sung notes. Received: {sung}")
    select = check_voice(voice)
    with tempfile.TemporaryDirectory(prefix="vocal_xai-festival-") as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "score.xml").write_text(score_xml(notes))
        (tmp / "sing.scm").write_text(
            _SCRIPT.format(select=select, wave=tmp / "sung.wav", score=tmp / "score.xml")
        )
        done = subprocess.run(
            ["festival", "-b", str(tmp / "sing.scm")], capture_output=True, text=True
        )
        if done.returncode != 0 or not (tmp / "sung.wav").is_file():
            raise ParameterError(
                f"Expected festival to sing with {voice!r}. Received: exit {done.returncode}, "
                f"{(done.stderr or done.stdout).strip()[-300:]}"
            )
        wave, rate = soundfile.read(tmp / "sung.wav", dtype="float32")
    if rate != SAMPLE_RATE:
        raise ParameterError(f"Expected {SAMPLE_RATE} Hz from {voice!r}. Received: {rate} Hz")
    segments = [
        (parts[1], float(parts[2]))
        for parts in (line.split() for line in done.stdout.splitlines())
        if len(parts) == 3 and parts[0] == "segment"
    ]
    return wave, sung_spans(segments)
