"""Sampled instruments and voices: parts played from a SoundFont.

A ``Part`` is one General MIDI program playing notes, with a vibrato of set
depth and rate (pitch-wheel motion) and an expression swell. ``render``
writes the parts into a Standard MIDI File and renders it with FluidSynth
(Debian's ``fluidsynth``) from a SoundFont, by default FluidR3 GM (Debian's
``fluid-soundfont-gm``, MIT licence): recorded instruments and voices rather
than the additive synthesis of the synthetic corpus. FluidSynth's own reverb
and chorus are off, so a room is whatever the caller adds; the rendering is
the same sample for sample on every run.
"""

import dataclasses
import pathlib
import shutil
import struct
import subprocess
import tempfile

import numpy as np
import soundfile

from vocal_xai.errors import ParameterError

SAMPLE_RATE = 22050
DEFAULT_SOUNDFONT = pathlib.Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
# TimGM6mb (Debian's ``timgm6mb-soundfont``, GPL-2), made apart from FluidR3:
# the sampled voices and instruments of corpus version 5, so that the probes
# rendered from FluidR3 stay a check on sounds the detector never heard.
TIMGM6MB = pathlib.Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
# The Debian package of each known SoundFont.
PACKAGES = {DEFAULT_SOUNDFONT: "fluid-soundfont-gm", TIMGM6MB: "timgm6mb-soundfont"}

# Standard MIDI File timing: 480 ticks per quarter note at 120 bpm, so a
# tick is 1/960 s.
TICKS_PER_QUARTER = 480
MICROSECONDS_PER_QUARTER = 500_000
TICKS_PER_SECOND = TICKS_PER_QUARTER * 1_000_000 // MICROSECONDS_PER_QUARTER
PERCUSSION_CHANNEL = 9
# The pitch wheel spans +-2 semitones (FluidSynth's default, set again
# through RPN 0 so that any synthesiser reads the same depth).
BEND_RANGE_CENTS = 200.0
# Seconds between two pitch-wheel or expression messages.
CONTROL_STEP = 0.01


@dataclasses.dataclass(frozen=True)
class Part:
    """One General MIDI program playing notes.

    Attributes:
        program: General MIDI program, 0-127 (ignored for percussion).
        notes: ``(onset s, duration s, key 0-127, velocity 1-127)`` tuples.
        vibrato_cents: peak deviation of the pitch wheel, cents (0: none).
        vibrato_hz: rate of the vibrato.
        vibrato_phase: its phase at time 0, radians.
        detune_cents: a steady offset of the pitch wheel, cents.
        swell: depth of a slow expression swell, 0-1 (0: steady).
        swell_hz: rate of the swell.
        percussion: play on the General MIDI percussion channel.
    """

    program: int
    notes: tuple
    vibrato_cents: float = 0.0
    vibrato_hz: float = 5.5
    vibrato_phase: float = 0.0
    detune_cents: float = 0.0
    swell: float = 0.0
    swell_hz: float = 0.25
    percussion: bool = False

    def __post_init__(self):
        if not 0 <= self.program <= 127:
            raise ParameterError(f"Expected 0 <= program <= 127. Received: program={self.program}")
        if not 0.0 <= self.vibrato_cents <= BEND_RANGE_CENTS:
            raise ParameterError(
                f"Expected 0 <= vibrato_cents <= {BEND_RANGE_CENTS:g}. "
                f"Received: vibrato_cents={self.vibrato_cents}"
            )
        if abs(self.detune_cents) + self.vibrato_cents > BEND_RANGE_CENTS:
            raise ParameterError(
                f"Expected |detune_cents| + vibrato_cents <= {BEND_RANGE_CENTS:g}. "
                f"Received: detune_cents={self.detune_cents}, vibrato_cents={self.vibrato_cents}"
            )
        if not 0.0 <= self.swell <= 1.0:
            raise ParameterError(f"Expected 0 <= swell <= 1. Received: swell={self.swell}")
        for note in self.notes:
            onset, duration, key, velocity = note
            if onset < 0 or duration <= 0 or not 0 <= key <= 127 or not 1 <= velocity <= 127:
                raise ParameterError(
                    "Expected notes (onset >= 0 s, duration > 0 s, key 0-127, velocity 1-127). "
                    f"Received: {note}"
                )


def _varlen(n):
    """A MIDI variable-length quantity."""
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def midi_file(events):
    """A format-0 Standard MIDI File of ``(tick, message bytes)`` events,
    played in tick order (stable for equal ticks), at ``TICKS_PER_SECOND``."""
    track = _varlen(0) + b"\xff\x51\x03" + MICROSECONDS_PER_QUARTER.to_bytes(3, "big")
    last = 0
    for tick, message in sorted(events, key=lambda e: e[0]):
        track += _varlen(tick - last) + message
        last = tick
    track += _varlen(0) + b"\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_QUARTER)
    return header + b"MTrk" + struct.pack(">I", len(track)) + track


def pitch_bend(cents):
    """The 14-bit pitch-wheel value of a deviation in cents (8192: none)."""
    value = int(round(8192 + np.clip(cents / BEND_RANGE_CENTS, -1.0, 1.0) * 8191))
    return bytes([value & 0x7F, value >> 7])


def part_events(part, channel, seconds):
    """The MIDI events of one part on ``channel``, over ``seconds``."""

    def tick(t):
        return int(round(t * TICKS_PER_SECOND))

    channel = PERCUSSION_CHANNEL if part.percussion else channel
    events = [(0, bytes([0xC0 | channel, part.program]))]
    # RPN 0 (pitch-bend sensitivity) = 2 semitones, 0 cents.
    for controller, value in ((101, 0), (100, 0), (6, int(BEND_RANGE_CENTS // 100)), (38, 0)):
        events.append((0, bytes([0xB0 | channel, controller, value])))
    for onset, duration, key, velocity in part.notes:
        events.append((tick(onset), bytes([0x90 | channel, int(key), int(velocity)])))
        events.append((tick(onset + duration), bytes([0x80 | channel, int(key), 0])))
    times = np.arange(0.0, seconds, CONTROL_STEP)
    if (part.vibrato_cents > 0 or part.detune_cents != 0) and not part.percussion:
        phase = 2 * np.pi * part.vibrato_hz * times + part.vibrato_phase
        cents = part.detune_cents + part.vibrato_cents * np.sin(phase)
        events += [(tick(t), bytes([0xE0 | channel]) + pitch_bend(c)) for t, c in zip(times, cents)]
    if part.swell > 0:
        level = 127 * (1.0 - part.swell * 0.5 * (1.0 - np.cos(2 * np.pi * part.swell_hz * times)))
        events += [
            (tick(t), bytes([0xB0 | channel, 11, int(round(v))])) for t, v in zip(times, level)
        ]
    return events


def check_renderer(soundfont=None, package=None):
    """The SoundFont to render with, after checking that FluidSynth and the
    SoundFont are there; ``package`` is the Debian package that installs it
    (default: the one ``PACKAGES`` names, or FluidR3's).

    Raises:
        ParameterError: naming what is missing and how to install it.
    """
    soundfont = pathlib.Path(soundfont or DEFAULT_SOUNDFONT)
    package = package or PACKAGES.get(soundfont, PACKAGES[DEFAULT_SOUNDFONT])
    hint = f"apt-get install fluidsynth {package}"
    if shutil.which("fluidsynth") is None:
        raise ParameterError(
            f"Expected the fluidsynth program on PATH ({hint}). Received: not found"
        )
    if not soundfont.is_file():
        raise ParameterError(
            f"Expected a SoundFont file ({hint}). Received: {soundfont} is not a file"
        )
    return soundfont


def render(parts, seconds, soundfont=None):
    """Play ``parts`` together from a SoundFont.

    Args:
        parts: ``Part`` list; each melodic part gets its own channel.
        seconds: length of the result; notes still sounding are cut.
        soundfont: a ``.sf2`` file; default ``DEFAULT_SOUNDFONT``.

    Returns:
        float32 mono samples at ``SAMPLE_RATE``, as FluidSynth's level (not
        normalised). [shape=(round(seconds * SAMPLE_RATE),)]

    Raises:
        ParameterError: for a missing renderer or SoundFont, more than 15
            melodic parts, or ``seconds <= 0``.
    """
    soundfont = check_renderer(soundfont)
    if not seconds > 0:
        raise ParameterError(f"Expected seconds > 0. Received: seconds={seconds}")
    melodic = [p for p in parts if not p.percussion]
    if len(melodic) > 15:
        raise ParameterError(f"Expected at most 15 melodic parts. Received: {len(melodic)}")
    channels = iter(c for c in range(16) if c != PERCUSSION_CHANNEL)
    events = []
    for part in parts:
        events += part_events(part, 0 if part.percussion else next(channels), seconds)
    with tempfile.TemporaryDirectory(prefix="vocal_xai-soundfont-") as tmp:
        mid, wav = pathlib.Path(tmp) / "parts.mid", pathlib.Path(tmp) / "parts.wav"
        mid.write_bytes(midi_file(events))
        command = [
            "fluidsynth", "-ni", "-q", "-r", str(SAMPLE_RATE), "-g", "0.5",
            "-o", "synth.reverb.active=0", "-o", "synth.chorus.active=0",
            "-o", "synth.cpu-cores=1", "-T", "wav", "-F", str(wav), str(soundfont), str(mid),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0 or not wav.is_file():
            raise RuntimeError(f"fluidsynth failed ({done.returncode}): {done.stderr.strip()}")
        samples, rate = soundfile.read(str(wav), dtype="float32", always_2d=True)
    if rate != SAMPLE_RATE:
        raise RuntimeError(f"Expected fluidsynth to write {SAMPLE_RATE} Hz. Received: {rate} Hz")
    mono = samples.mean(axis=1)
    n = int(round(seconds * SAMPLE_RATE))
    return np.pad(mono[:n], (0, max(0, n - len(mono)))).astype(np.float32)
