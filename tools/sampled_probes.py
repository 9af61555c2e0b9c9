r"""Write the sampled probes: recorded instruments and voices played from a
SoundFont (a string orchestra, an orchestra with celesta, a jazz combo, solo
strings and winds, a choir), each dry and in a hall, as a folder that
tools/real_check.py reads.

    python tools/sampled_probes.py --out=runs/sampled_probes
    python tools/real_check.py --recordings=runs/sampled_probes --detector=3,4

Unlike the real recordings, the probes may be used to tune and to choose.
They need FluidSynth and a General MIDI SoundFont: Debian's fluidsynth and
fluid-soundfont-gm (FluidR3 GM, the default --soundfont).
"""

from absl import flags

from vocal_xai import cli

flags.DEFINE_string("out", None, "Folder to write the probes into (a new one, or --overwrite).")
flags.DEFINE_string("soundfont", None, "A .sf2 SoundFont; default: Debian's FluidR3 GM.")
flags.DEFINE_boolean("overwrite", False, "Replace an existing --out folder.")
flags.mark_flag_as_required("out")
FLAGS = flags.FLAGS


def main(argv):
    if len(argv) > 1:
        raise cli.app.UsageError(f"Expected no positional arguments. Received: {argv[1:]}")
    from vocal_xai.models.detector import sampled_probes

    out = sampled_probes.write_probes(
        FLAGS.out, FLAGS.soundfont, FLAGS.overwrite, progress=lambda name: print(f"  {name}")
    )
    print(f"Wrote {out} ({len(sampled_probes.PROBES)} probes, dry and in a hall)")


if __name__ == "__main__":
    cli.run(main)
