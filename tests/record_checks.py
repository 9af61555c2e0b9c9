"""Record the reproduction check of a shipped version published before
publishing recorded one (``vocal_xai.models.reproduction``), for the card
tests to recompute:

    python tests/record_checks.py detector/4 generator/2

Each check goes to ``tests/checks/<model>-<version>.json``, in the form a
newer version carries under ``"check"`` in its metadata. The record is made
the way publishing makes it: the corpus version and seed the version was
trained on (version 1, seed 0, when its metadata names none), and for a
generator the options ``CHECK_OPTIONS`` with its training seed, judged by
the detector it was judged by. Record a version only once its whole card
reproduces (the commands on its card); the check then guards the card's
model and code with a minute of work.
"""

import json
import pathlib
import sys

from vocal_xai import zoo
from vocal_xai.models import reproduction

CHECKS = pathlib.Path(__file__).resolve().parent / "checks"


def check_path(name, version):
    return CHECKS / f"{name}-{version}.json"


def record(name, version):
    """The reproduction check of shipped ``name`` (detector or generator)
    version ``version``, computed now."""
    version_dir = zoo.resolve(name, version)
    metadata = zoo.metadata(version_dir)
    if "check" in metadata:
        raise SystemExit(f"{version_dir} records its own check; nothing to do.")
    if name == "detector":
        from vocal_xai.models.detector import task

        info = metadata.get("synthetic_corpus") or {"version": 1, "seed": 0}
        corpus = reproduction.corpus_record(info["version"], ("valid", "test"), info["seed"])
        return task.reproduction_check(zoo.load_detector(str(version_dir)), corpus)
    from vocal_xai.models.dcgan import task

    corpus = reproduction.corpus_record(metadata.get("corpus_version") or 1, ("train", "valid"))
    options = {**task.CHECK_OPTIONS, "seed": metadata["config"]["seed"]}
    judge = judge_of(metadata)
    return task.reproduction_check(task.load_generator(version_dir), judge, corpus, options)


def judge_of(metadata):
    """The shipped detector a generator's metadata names as its judge."""
    # The judge's metadata path is of the machine it was published on: its
    # zoo version.
    return zoo.load_detector("detector", int(pathlib.Path(metadata["detector"]).name))


def main(specs):
    for spec in specs:
        name, version = spec.split("/")
        path = check_path(name, int(version))
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(record(name, int(version)), indent=2) + "\n")
        print(f"Wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
