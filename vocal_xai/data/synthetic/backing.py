"""The backing band: chord layers, bass and drums, and when each plays.

Chords follow the song plan's progression (``music.plan_song``), on a bar
grid; an arrangement switches each layer on and off per block of bars,
independently of the voice. A chord layer is one of ``CHORD_TIMBRES`` (pad,
piano, organ) or an instrument of ``instrument_presets.INSTRUMENTS``; the
bass is electric, walking (plucked) or bowed.
"""

import dataclasses

import numpy as np
import scipy.signal

from vocal_xai.data.synthetic import dsp, instruments, music, tables
from vocal_xai.data.synthetic.tables import Chance, OneOf, Uniform

# The chord timbres of version 1, as data (values as ``tables`` describes
# them), drawn per layer in this order after the voicing's lowest note:
# ``pattern`` ("sustain": one note per chord tone held over the chord;
# "block" or "arpeggio": struck ``strikes`` times a chord, an arpeggio twice
# as often, one tone at a time), ``strikes`` (drawn for every timbre), then
# the timbre's own settings. ``tail``: s a note sounds past its end.
CHORD_TIMBRES = {
    # Two detuned sawtooths of 24 partials through a low-pass.
    "pad": dict(
        pattern="sustain",
        strikes=OneOf((1, 2, 4)),
        tail=0.3,
        cutoff_hz=(800.0, 2500.0),
        detune=(3.0, 8.0),
    ),
    # Struck strings: 40 partials of weight k ** -slope, decaying faster the
    # higher they are, through a first-order low-pass at ``brightness_hz``.
    "piano": dict(
        pattern=OneOf(("block", "arpeggio")),
        strikes=OneOf((1, 2, 4)),
        tail=0.08,
        slope=(0.8, 1.4),
        decay=(0.6, 1.5),
        brightness_hz=(2000.0, 5000.0),
    ),
    # Drawbars on partials 1-4, 6 and 8 (the first at full level), with a
    # tremolo and a vibrato at the same rate.
    "organ": dict(
        pattern="sustain",
        strikes=OneOf((1, 2, 4)),
        tail=0.08,
        drawbars=Uniform(0.1, 1.0, 6),
        tremolo=Chance(0.5, (0.0, 0.2), 0.0),
        tremolo_rate=(5.0, 7.0),
        vibrato=Chance(0.3, (10.0, 30.0), 0.0),
    ),
}
_DRAWBARS = [0, 1, 2, 3, 5, 7]


def arrangement(rng, plan, n_layers):
    """On/off flags of each backing layer per block of bars.

    Returns:
        ``(flags, starts)``: bool flags [shape=(n_blocks, n_layers)] and the
        block start times in s [shape=(n_blocks,)].
    """
    block_len = plan["bar"] * int(rng.choice([2, 4]))
    starts = plan["bar_offset"] + np.arange(int(plan["duration"] / block_len) + 2) * block_len
    flags = np.zeros((len(starts), n_layers), bool)
    current = rng.random(n_layers) < 0.7
    for b in range(len(starts)):
        flip = rng.random(n_layers) < 0.25
        current = current ^ flip if b > 0 else current
        if not current[: n_layers - 2].any():
            current[int(rng.integers(0, n_layers - 2))] = True
        flags[b] = current
    return flags, starts


def layer_gate(flags, starts, n_ctrl):
    """Smoothed 0/1 gate at the control rate from per-block flags."""
    t = dsp.control_times(n_ctrl)
    i = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(flags) - 1)
    return np.clip(dsp.smooth(flags[i].astype(np.float64), 0.03), 0.0, 1.0)


def sample_gate(gate, n):
    """A control-rate gate held over each control interval. [shape=(n,)]"""
    return np.repeat(gate, dsp.CONTROL_HOP)[:n]


def render_chord_timbre(rng, plan, timbre, gate, buffer):
    """Add one chord layer of ``timbre`` in ``CHORD_TIMBRES`` into ``buffer``."""
    low = int(rng.integers(50, 59))
    settings = tables.draw_all(rng, CHORD_TIMBRES[timbre])
    pattern, tail, render_note = settings["pattern"], settings["tail"], _NOTE_RENDERERS[timbre]
    n_buf_ctrl = len(gate)
    for c, (start, stop) in enumerate(zip(plan["chord_starts"], plan["chord_stops"])):
        notes = music.chord_midi(plan["chords"][c], low)
        if pattern == "sustain":
            events = [(start, stop - start, m) for m in notes]
        else:
            n_strikes = int(settings["strikes"]) * (2 if pattern == "arpeggio" else 1)
            step = (stop - start) / n_strikes
            events = []
            for s in range(n_strikes):
                chosen = notes if pattern == "block" else notes[[s % len(notes)]]
                for m in chosen:
                    events.append(
                        (start + s * step, step + (0.0 if pattern == "block" else 2 * step), m)
                    )
        for onset, length, m in events:
            # Clip notes that start before the song.
            if onset < 0.0:
                onset, length = 0.0, length + onset
            if length < 0.05:
                continue
            c0 = int(round(max(onset, 0.0) * dsp.CONTROL_RATE))
            if c0 >= n_buf_ctrl - 1:
                continue
            n_ctrl = min(dsp.num_controls(length + tail), n_buf_ctrl - c0)
            if n_ctrl < 2:
                continue
            g = gate[c0 : c0 + n_ctrl]
            if g.max() < 1e-3:
                continue
            t = dsp.control_times(n_ctrl)
            f0 = np.full(n_ctrl, dsp.midi_to_hz(m))
            render_note(rng, settings, buffer, c0 * dsp.CONTROL_HOP, t, f0, length + tail, g)


def _pad_note(rng, settings, buffer, start, t, f0, end, g):
    tail = settings["tail"]
    weights = 1.0 / np.arange(1, 25)
    env = dsp.smoothstep(t / 0.3) * dsp.smoothstep((end - t) / tail)
    k = np.arange(1, len(weights) + 1)
    detune = settings["detune"]
    for cents in (-0.5 * detune, 0.5 * detune):
        f = f0 * 2.0 ** (cents / 1200.0)
        freqs = f[:, None] * k
        amps = weights * dsp.lowpass(freqs, settings["cutoff_hz"], 2.0) * dsp.partial_taper(freqs)
        dsp.add_at(buffer, start, dsp.tone(rng, f, amps * (0.7 * env * g)[:, None]))


def _organ_note(rng, settings, buffer, start, t, f0, end, g):
    weights = np.zeros(24)
    weights[_DRAWBARS] = settings["drawbars"]
    weights[0] = 1.0
    rate = settings["tremolo_rate"]
    env = dsp.smoothstep(t / 0.015) * dsp.smoothstep((end - t) / 0.05)
    env *= 1.0 + settings["tremolo"] * np.sin(2.0 * np.pi * rate * t)
    f = f0 * 2.0 ** (settings["vibrato"] * np.sin(2.0 * np.pi * rate * t) / 2400.0)
    freqs = f[:, None] * np.arange(1, len(weights) + 1)
    amps = weights * dsp.partial_taper(freqs)
    dsp.add_at(buffer, start, dsp.tone(rng, f, amps * (env * g)[:, None]))


def _piano_note(rng, settings, buffer, start, t, f0, end, g):
    tail = settings["tail"]
    weights = np.arange(1, 41, dtype=np.float64) ** -settings["slope"]
    k = np.arange(1, len(weights) + 1)
    freqs = f0[:, None] * k
    damp = dsp.smoothstep((end - t) / tail)
    damp *= dsp.smoothstep(t / 0.003)
    amps = (
        weights
        * dsp.lowpass(freqs, settings["brightness_hz"], 1.0)
        * dsp.partial_taper(freqs)
        * np.exp(-t[:, None] * (1.0 + 0.25 * (k - 1)) / settings["decay"])
    )
    dsp.add_at(buffer, start, dsp.tone(rng, f0, amps * (damp * g)[:, None]))


_NOTE_RENDERERS = {"pad": _pad_note, "piano": _piano_note, "organ": _organ_note}


def render_bass(rng, plan, gate, buffer):
    """Add a bass line on the chord roots into ``buffer``."""
    per_chord = int(rng.choice([1, 2, 4, 8]))
    decay = rng.uniform(0.3, 1.0)
    cutoff = rng.uniform(500.0, 1500.0)
    n_buf_ctrl = len(gate)
    tilt = rng.uniform(0.8, 1.3)
    for c, (start, stop) in enumerate(zip(plan["chord_starts"], plan["chord_stops"])):
        root = plan["chords"][c][0]
        base = 28 + (root - 28) % 12
        step = (stop - start) / per_chord
        for s in range(per_chord):
            m = base + (12 if (per_chord >= 4 and s % 2 == 1 and rng.random() < 0.3) else 0)
            onset = start + s * step
            if onset < 0.0:
                continue
            c0 = int(round(max(onset, 0.0) * dsp.CONTROL_RATE))
            n_ctrl = min(dsp.num_controls(step + 0.05), n_buf_ctrl - c0)
            if c0 >= n_buf_ctrl - 1 or n_ctrl < 2 or gate[c0 : c0 + n_ctrl].max() < 1e-3:
                continue
            t = dsp.control_times(n_ctrl)
            f0 = np.full(n_ctrl, dsp.midi_to_hz(m))
            k = np.arange(1, dsp.num_partials(f0[0]) + 1)
            weights = k**-tilt
            freqs = f0[:, None] * k
            env = dsp.smoothstep(t / 0.005) * dsp.smoothstep((step + 0.05 - t) / 0.05)
            env *= np.exp(-t / decay) * 0.7 + 0.3
            amps = weights * dsp.lowpass(freqs, cutoff, 2.0) * dsp.partial_taper(freqs)
            dsp.add_at(
                buffer,
                c0 * dsp.CONTROL_HOP,
                dsp.tone(rng, f0, amps * (env * gate[c0 : c0 + n_ctrl])[:, None]),
            )


def _drum_sounds(rng):
    """One-shot kick, snare and hi-hat samples. Returns a dict of arrays."""
    t_kick = np.arange(int(0.4 * dsp.SAMPLE_RATE)) / dsp.SAMPLE_RATE
    f_start, f_end = rng.uniform(90.0, 160.0), rng.uniform(40.0, 60.0)
    freq = f_end + (f_start - f_end) * np.exp(-t_kick / rng.uniform(0.02, 0.05))
    kick = np.sin(2.0 * np.pi * np.cumsum(freq) / dsp.SAMPLE_RATE) * np.exp(
        -t_kick / rng.uniform(0.12, 0.3)
    )
    kick += (
        0.3
        * dsp.filtered_noise(rng, len(t_kick), lambda f: dsp.lowpass(f, 4000.0, 1))
        * np.exp(-t_kick / 0.003)
    )
    t_snare = np.arange(int(0.35 * dsp.SAMPLE_RATE)) / dsp.SAMPLE_RATE
    tone = np.sin(2.0 * np.pi * rng.uniform(180.0, 240.0) * t_snare) * np.exp(-t_snare / 0.06)
    centre = rng.uniform(2000.0, 5000.0)
    rattle = dsp.filtered_noise(
        rng, len(t_snare), lambda f: (f / (f + 1000.0)) * dsp.lowpass(f, centre * 2.0, 2)
    ) * np.exp(-t_snare / rng.uniform(0.08, 0.18))
    snare = 0.5 * tone + 0.6 * rattle
    t_hat = np.arange(int(0.2 * dsp.SAMPLE_RATE)) / dsp.SAMPLE_RATE
    hat = dsp.filtered_noise(
        rng, len(t_hat), lambda f: (f / (f + 7000.0)) ** 2 * dsp.lowpass(f, 10000.0, 4)
    )
    hat *= 0.4 * np.exp(-t_hat / rng.uniform(0.02, 0.06))
    return {"kick": kick, "snare": snare, "hat": hat}


def render_drums(rng, plan, flags, starts, n_buf):
    """Drum stem following a per-bar 16-step pattern. [shape=(n_buf,)]"""
    sounds = _drum_sounds(rng)
    kick_steps = [0, 8] + list(
        rng.choice([3, 6, 10, 11, 14], int(rng.integers(0, 3)), replace=False)
    )
    step_len = plan["beat"] / 4.0
    steps_per_bar = int(round(plan["bar"] / step_len))
    snare_steps = [4, 12] if steps_per_bar == 16 else [4, 8]
    hat_every = int(rng.choice([1, 2, 2, 4]))
    hat_offset = int(rng.integers(0, 2)) * (hat_every // 2)
    n_steps = int((plan["duration"] - plan["bar_offset"]) / step_len) + 1
    steps = np.arange(n_steps)
    times = plan["bar_offset"] + steps * step_len
    pos = steps % steps_per_bar
    block = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(flags) - 1)
    active = flags[block] & (times >= 0) & (times < plan["duration"])
    patterns = {
        "kick": np.isin(pos, kick_steps),
        "snare": np.isin(pos, snare_steps),
        "hat": (pos % hat_every) == hat_offset,
    }
    out = np.zeros(n_buf)
    for name, hits in patterns.items():
        on = hits & active
        where = times[on] + 0.004 * rng.standard_normal(int(on.sum()))
        idx = np.clip(np.round(where * dsp.SAMPLE_RATE).astype(np.int64), 0, n_buf - 1)
        train = np.zeros(n_buf)
        np.add.at(train, idx, rng.uniform(0.7, 1.0, len(idx)))
        out += scipy.signal.oaconvolve(train, sounds[name])[:n_buf]
    return out


def _chord_events(rng, plan, inst, pattern):
    """``(onset, length, midi)`` of the notes of a chord layer."""
    lo = inst.register[0]
    low = int(rng.integers(lo, lo + 10))
    strikes = int(rng.choice([2, 4]))
    events = []
    for c, (start, stop) in enumerate(zip(plan["chord_starts"], plan["chord_stops"])):
        notes = music.chord_midi(plan["chords"][c], low)
        span = stop - start
        if pattern == "sustain":
            events += [(start, span, m) for m in notes]
        elif pattern == "strum":
            # Strings of a strummed chord: the chord tones and the root an
            # octave down, each struck a little after the previous one.
            voicing = np.concatenate([[notes[0] - 12.0], notes, notes[:1] + 12.0])
            step = span / strikes
            for s in range(strikes):
                order = voicing if s % 2 == 0 else voicing[::-1]
                lag = rng.uniform(0.008, 0.025)
                events += [(start + s * step + j * lag, step, m) for j, m in enumerate(order)]
        elif pattern == "arpeggio":
            n_steps = 2 * len(notes)
            step = span / n_steps
            events += [
                (start + s * step, 2.0 * step, notes[s % len(notes)]) for s in range(n_steps)
            ]
        else:  # one short chord per beat
            n_beats = max(1, int(round(span / plan["beat"])))
            step = span / n_beats
            events += [(start + s * step, 0.5 * step, m) for s in range(n_beats) for m in notes]
    return events


def render_instrument_chords(rng, plan, choices, max_players, pattern, gate, n_buf):
    """A chord layer played by one of the instruments ``choices`` of
    ``instrument_presets.INSTRUMENTS``, at most ``max_players`` to a note, in
    ``pattern`` ("sustain", "strum", "arpeggio" or "beats"). [shape=(n_buf,)]"""
    inst = instruments.draw_instrument(rng, str(rng.choice(choices)))
    inst = dataclasses.replace(inst, players=min(inst.players, max_players))
    buffer = np.zeros(n_buf)
    n_ctrl = len(gate)
    for onset, length, m in _chord_events(rng, plan, inst, pattern):
        if onset < 0.0:
            onset, length = 0.0, length + onset
        c0 = int(round(onset * dsp.CONTROL_RATE))
        if length < 0.05 or c0 >= n_ctrl - 1:
            continue
        c1 = min(n_ctrl, c0 + int(length * dsp.CONTROL_RATE) + 1)
        if gate[c0:c1].max() < 1e-3:
            continue
        notes = instruments.plan_line(rng, np.zeros(1), np.array([length]), np.array([m]), inst)
        dsp.add_at(buffer, c0 * dsp.CONTROL_HOP, instruments.render_line(rng, notes, inst))
    return buffer * sample_gate(gate, n_buf)


def render_bass_line(rng, plan, kind, gate, n_buf):
    """Walking (plucked, a note a beat) or bowed (a note a chord) bass."""
    name = "pizzicato" if kind == "walking" else "cello"
    inst = instruments.draw_instrument(rng, name)
    inst = dataclasses.replace(inst, players=1 if kind == "walking" else 2, register=(28, 50))
    buffer = np.zeros(n_buf)
    scale = music.scale_pitches(plan, 28, 52)
    n_ctrl = len(gate)
    for c, (start, stop) in enumerate(zip(plan["chord_starts"], plan["chord_stops"])):
        if stop <= 0.0:
            continue
        root = 28 + (plan["chords"][c][0] - 28) % 12
        if kind == "walking":
            n_beats = max(1, int(round((stop - start) / plan["beat"])))
            step = (stop - start) / n_beats
            pos = int(np.searchsorted(scale, root))
            midi = [root]
            for _ in range(n_beats - 1):
                pos = int(np.clip(pos + rng.choice([-2, -1, 1, 2]), 0, len(scale) - 1))
                midi.append(scale[pos])
            onsets = start + step * np.arange(n_beats)
            durations = np.full(n_beats, step)
        else:
            midi, onsets, durations = [root], np.array([start]), np.array([stop - start])
        keep = onsets >= 0.0
        if not keep.any():
            continue
        onsets, durations, midi = onsets[keep], durations[keep], np.asarray(midi, np.float64)[keep]
        c0 = int(round(onsets[0] * dsp.CONTROL_RATE))
        if (
            c0 >= n_ctrl - 1
            or gate[c0 : min(n_ctrl, c0 + int((stop - onsets[0]) * dsp.CONTROL_RATE) + 1)].max()
            < 1e-3
        ):
            continue
        notes = instruments.plan_line(rng, onsets - onsets[0], durations, midi, inst)
        dsp.add_at(buffer, c0 * dsp.CONTROL_HOP, instruments.render_line(rng, notes, inst))
    return buffer * sample_gate(gate, n_buf)
