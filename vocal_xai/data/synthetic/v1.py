"""Version 1 of the synthetic singing-voice corpus (detectors 1-3 trained on it).

Every song is a mix of three stems, each synthesised from scratch with numpy:

* a vocal stem, made by source-filter synthesis (``voice``): a male or female
  singer whose melody stays in the song's key;
* a lead stem of non-vocal melodic instruments (``leads``: bowed-string-like,
  reed-like and synthesiser leads) in the same pitch range, some with
  vibrato, glides and attack noise, but with static spectral envelopes. Leads
  play in the instrumental breaks and sometimes quietly under the voice;
* a backing stem (``backing``): chords (pad, plucked piano-like and organ
  timbres), bass and drums following a chord progression in the key, at a
  tempo per song, with an arrangement that changes on a bar grid
  independently of the voice.

So the presence of a melody, of vibrato, or of onset noise does not give the
label away; a detector has to learn the cues specific to the voice.

All randomness comes from ``np.random.default_rng([seed, index])``, so a
corpus is reproducible byte for byte.
"""

import numpy as np

from vocal_xai.data.synthetic import backing, dsp, leads, music, song, voice

DEFAULT_SPLIT_SIZES = {"train": 40, "valid": 10, "test": 10}
VOCAL_TO_ACCOMPANIMENT_DB = (-5.0, 10.0)

# Melody notes (MIDI) per voice type, so that with vibrato and glides f0 stays
# within about 95-400 Hz (male) and 180-800 Hz (female).
REGISTERS = {"male": (45, 66), "female": (56, 78)}
# Ranges of a singer's settings (``voice.draw_singer``).
SINGER = dict(
    formant_scale={"male": (0.95, 1.05), "female": (1.12, 1.22)},
    bandwidth_scale=(0.85, 1.25),
    tilt_db=(-13.5, -10.5),
    jitter=(0.005, 0.015),
    shimmer_db=(0.4, 1.2),
    breathiness_db=(-30.0, -18.0),
    vib_rate=(4.5, 6.5),
    vib_depth=(30.0, 80.0),
)
# The chord timbres of ``backing.CHORD_TIMBRES``, in the order a song's
# palette is drawn from.
CHORD_TIMBRES = ("pad", "piano", "organ")


def _render_leads(rng, plan, segments, register, n_buf, vocal_to_acc_db):
    """Lead stems, one per section where a lead plays.

    Returns:
        List of ``(segment, stem, gain_db)``: the section, its lead stem at an
        arbitrary level [shape=(n_buf,)], and the level the lead should have
        relative to the backing over that section, dB.
    """
    kinds = list(rng.choice(leads.LEAD_KINDS, int(rng.integers(1, 3)), replace=False))
    instruments = [leads.draw_lead(rng, kind) for kind in kinds]
    other_sex = "male" if plan["singer"] == "female" else "female"
    stems = []
    for seg in segments:
        if seg.vocal:
            playing = rng.random() < 0.35
            gain_db = vocal_to_acc_db + rng.uniform(-4.0, 4.0) - rng.uniform(8.0, 15.0)
        else:
            playing = rng.random() < 0.85
            gain_db = float(np.clip(vocal_to_acc_db + rng.uniform(-4.0, 4.0), -6.0, 10.0))
        a = max(0.0, seg.start + rng.uniform(-0.4, 0.4))
        b = min(plan["duration"], seg.end + rng.uniform(-0.4, 0.4))
        if not playing or b - a < 0.8:
            continue
        lead = instruments[int(rng.integers(0, len(instruments)))]
        reg = register if rng.random() < 0.7 else music.sub_register(rng, REGISTERS[other_sex])
        stem = song.lead_stem(
            rng, plan, (a, b), reg, n_buf, lead, leads.plan_lead_phrase, leads.render_lead_phrase
        )
        stems.append((seg, stem, gain_db))
    return stems


def _render_backing(rng, plan, n_buf_ctrl):
    """Chords, bass and drums. [shape=((n_buf_ctrl - 1) * CONTROL_HOP,)]"""
    n_buf = (n_buf_ctrl - 1) * dsp.CONTROL_HOP
    palette = list(rng.choice(CHORD_TIMBRES, int(rng.integers(2, 4)), replace=False))
    layers = palette + ["bass", "drums"]
    flags, starts = backing.arrangement(rng, plan, len(layers))
    flags[:, layers.index("drums")] &= rng.random() < 0.9
    out = np.zeros(n_buf)
    for j, layer in enumerate(layers):
        layer_buf = np.zeros(n_buf, np.float32)
        if layer == "drums":
            layer_buf += backing.render_drums(rng, plan, flags[:, j], starts, n_buf).astype(
                np.float32
            )
            gain_db = rng.uniform(-8.0, -2.0)
        else:
            gate = backing.layer_gate(flags[:, j], starts, n_buf_ctrl)
            if layer == "bass":
                backing.render_bass(rng, plan, gate, layer_buf)
                gain_db = rng.uniform(-6.0, 0.0)
            else:
                backing.render_chord_timbre(rng, plan, layer, gate, layer_buf)
                gain_db = rng.uniform(-12.0, -4.0)
        rms = dsp.rms(layer_buf)
        if rms > 0.0:
            out += layer_buf * (10.0 ** (gain_db / 20.0) * 0.1 / rms)
    return out


def synthesize_song(seed, index, duration=song.DEFAULT_DURATION):
    """Synthesise one song, deterministically from ``(seed, index)``.

    Args:
        seed: corpus seed, integer >= 0.
        index: song number, integer >= 0; the song is named
            ``f"song{index:03d}"``.
        duration: seconds, ``MIN_DURATION <= duration <= MAX_DURATION``.

    Returns:
        A ``SyntheticSong`` with ``round(duration * 22050)`` samples.

    Raises:
        ParameterError: for an invalid argument.
    """
    song.check_song_args(seed, index, duration)
    duration = float(duration)
    rng = np.random.default_rng([int(seed), int(index)])
    n, n_buf_ctrl, n_buf = song.buffer_sizes(duration)

    # Plan the song: structure, key, chords, singer and register.
    plan = music.plan_song(rng, duration)
    segments = song.plan_segments(rng, duration)
    singer = voice.draw_singer(rng, plan["singer"], SINGER)
    register = music.sub_register(rng, REGISTERS[plan["singer"]])
    vocal_to_acc_db = float(rng.uniform(*VOCAL_TO_ACCOMPANIMENT_DB))

    # Render the stems.
    vocal = voice.render_vocals(rng, plan, segments, singer, register, n_buf)[:n] * song.vocal_gate(
        segments, n
    )
    band = _render_backing(rng, plan, n_buf_ctrl)[:n]
    lead_stems = _render_leads(rng, plan, segments, register, n_buf, vocal_to_acc_db)
    accompaniment = band + song.mix_leads(lead_stems, band, n)

    # Mix at the drawn vocal-to-accompaniment ratio, then normalise the peak.
    sing = song.region_mask(segments, n)
    vocal_gain = (
        10.0 ** (vocal_to_acc_db / 20.0)
        * dsp.rms(accompaniment[sing])
        / max(dsp.rms(vocal[sing]), 1e-12)
    )
    vocal *= vocal_gain
    mix = accompaniment + vocal
    scale = song.PEAK / max(float(np.max(np.abs(mix))), 1e-12)
    return song.SyntheticSong(
        name=f"song{index:03d}",
        audio=(mix * scale).astype(np.float32),
        vocal=(vocal * scale).astype(np.float32),
        segments=segments,
        vocal_to_accompaniment_db=vocal_to_acc_db,
        singer=plan["singer"],
    )
