"""Check that SavedModels can be served as they are.

    python tools/serving_check.py [PATH...]

PATH is a SavedModel version folder, a <name> folder of versions or a zoo
root; default: every model of the zoo. For each model prints the signatures,
the op types of the graph and its function library, the ops that are not
core TensorFlow, and the result of calling every signature in a fresh process
that imports only TensorFlow. Exits non-zero, naming the model and the
problem, if a model has a non-core op or a signature that fails to run.
"""

import sys

from absl import app, flags

from vocal_xai import cli

flags.DEFINE_integer("timeout", 300, "Seconds allowed per signature run.")
FLAGS = flags.FLAGS


def main(argv):
    from vocal_xai import serving_check
    from vocal_xai.errors import ParameterError

    try:
        paths = [p for arg in argv[1:] for p in serving_check.expand(arg)]
    except ParameterError as e:
        raise app.UsageError(str(e)) from e
    if not paths:
        from vocal_xai import zoo

        paths = serving_check.find_saved_models(zoo.root())
        if not paths:
            sys.exit(f"serving check failed: no SavedModel under the zoo root {zoo.root()}")
    report = serving_check.check(paths, timeout=FLAGS.timeout)
    for model in report.models:
        print(model.path)
        for sig in model.signatures.values():
            print(f"  signature {sig.key!r}")
            for info in sig.inputs.values():
                print(f"    input  {info}")
            for info in sig.outputs.values():
                print(f"    output {info}")
            run = model.runs.get(sig.key)
            if run is None:
                continue
            fed = ", ".join(f"{k} {v}" for k, v in run.inputs.items())
            if run.ok:
                got = ", ".join(f"{k} {d} {list(s)}" for k, (d, s) in run.outputs.items())
                print(f"    ran in {run.seconds:.1f} s on {fed}: {got}")
            else:
                error = "\n".join(line for line in run.error.splitlines() if line.strip())
                print(f"    FAILED on {fed}: " + error.replace("\n", "\n      "))
        ops = sorted(model.op_types)
        print(f"  {len(ops)} op types: {', '.join(ops)}")
        print(f"  non-core ops: {', '.join(sorted(model.non_core_ops)) or 'none'}")
        print(f"  {'ok' if model.ok else 'FAILED'}")
    failed = [m for m in report.models if not m.ok]
    if failed:
        lines = [f"  {m.path}: {problem}" for m in failed for problem in m.problems]
        sys.exit(
            f"serving check failed for {len(failed)} of {len(report.models)} models:\n"
            + "\n".join(lines)
        )
    print(f"serving check ok: {len(report.models)} models")


if __name__ == "__main__":
    cli.run(main)
