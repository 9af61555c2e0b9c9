"""Peak resident memory of ``tools/explain.py`` on the paper grid.

    python bench/bench_explain_memory.py [--chunk_sizes=32,128,256]

Runs ``tools/explain.py --grid=paper`` (9 (learning rate, rp) pairs x 50 seeds
= 450 rows, the 27 settings of the paper) once per chunk size, each in its
own process, and reads that process's peak resident set size from
``getrusage``. The iteration counts are shortened to 1, 3, 5: a chunk's
memory does not depend on the number of steps beyond the per-step traces
(steps x rows floats). The baseline, measured in the same run, is the same
command with 2 rows: what loading TensorFlow, the models and the reference
costs before any explanation is made. Target: <= 4 GB at the default chunk.
"""

import json
import subprocess
import sys
import tempfile

from absl import app, flags

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import common  # noqa: E402

flags.DEFINE_list("chunk_sizes", ["32", "128", "256"], "Chunk sizes to measure.")
flags.DEFINE_string("iterations", "1,3,5", "Iteration counts of the measured runs.")
FLAGS = flags.FLAGS

TARGET_GB = 4.0
ROOT = __file__.rsplit("/", 2)[0]

# Run the command as a child and report its own peak RSS (ru_maxrss is in kB
# on Linux), so every measurement starts from a fresh process.
_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
if code.returncode:
    sys.exit(code.stderr[-3000:])
print(json.dumps({"peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "seconds": time.perf_counter() - start}))
"""


def peak_memory(args):
    """(peak RSS in GB, wall seconds) of ``python tools/explain.py ARGS``."""
    command = [sys.executable, "-c", _MEASURE, sys.executable, f"{ROOT}/tools/explain.py", *args]
    out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(f"tools/explain.py {' '.join(args)} failed:\n{out.stderr}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["peak_kb"] / 1e6, result["seconds"]


def main(argv):
    del argv
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        common_args = ["--direction=max", "--bootstrap=20", f"--iterations={FLAGS.iterations}"]
        base_gb, base_s = peak_memory(
            common_args + ["--learning_rates=0.01", "--rps=0.01", "--seeds=2", f"--out={tmp}/base"]
        )
        rows.append(["baseline (2 rows)", "-", f"{base_gb:.2f}", "1.00x", f"{base_s:.1f}"])
        for chunk in FLAGS.chunk_sizes:
            gb, seconds = peak_memory(
                common_args + ["--grid=paper", f"--chunk_size={chunk}", f"--out={tmp}/chunk{chunk}"]
            )
            rows.append(
                [
                    "paper grid (450 rows)",
                    chunk,
                    f"{gb:.2f}",
                    f"{gb / base_gb:.2f}x",
                    f"{seconds:.1f}",
                ]
            )
    common.print_table(
        "Peak resident memory of tools/explain.py",
        ["run", "chunk_size", "peak RSS (GB)", "vs baseline", "wall (s)"],
        rows,
    )
    default = [r for r in rows if r[1] == "128"]
    if default:
        verdict = "meets" if float(default[0][2]) <= TARGET_GB else "misses"
        print(f"Default chunk (128): {default[0][2]} GB, {verdict} the {TARGET_GB:.0f} GB target.")


if __name__ == "__main__":
    app.run(main)
