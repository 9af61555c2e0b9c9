"""The judge check of ``recipes/judge_check.py``: real validation excerpts,
known fakes and generator samples, scored by every judge that enters the
selector study's quality: the realism judges, and the class and voice
evidence of ``measures``, each excerpt judged for its own class."""

import json
import pathlib
import time

import numpy as np

from vocal_xai import outputs
from vocal_xai.data import pipeline
from vocal_xai.errors import ParameterError
from vocal_xai.metrics import measures, realism
from vocal_xai.models.dcgan import evaluation

JUDGES = ("c2st", "nearest_neighbours", "class_evidence", "voice_evidence")
EVIDENCE = ("class_evidence", "voice_evidence")


def kinds_of_excerpts(train, valid, generators, count, seed=0):
    """Every kind the judges score, ``count`` excerpts each.

    - ``real``: valid excerpts;
    - the known fakes (``realism.known_fakes``) of other valid excerpts,
      with the train split's band statistics;
    - per generator, G(z, class) with half the excerpts of each class.

    Args:
        train, valid: ``SplitFeatures``.
        generators: dict name -> conditional generator.
        count: excerpts per kind (even).
        seed: seed of the excerpts, the noise and the latents.

    Returns:
        (dict kind -> excerpts [shape=(count, frames, bands)] each,
        dict kind -> class of each excerpt [shape=(count,)] each: its own,
        that of the real excerpt a fake was made from, or the generator's
        condition).
    """
    x, y = pipeline.sample_excerpts(valid, 2 * count, seed=seed)
    mean, std = pipeline.band_stats(train.features)
    fakes = realism.known_fakes(x[1::2], mean, std, seed=seed)
    kinds = {"real": x[0::2], **fakes}
    labels = {"real": y[0::2], **{kind: y[1::2] for kind in fakes}}
    half = count // 2
    for name, generator in generators.items():
        z = evaluation.latents(half, seed + 1, generator.latent_dim)
        kinds[name] = np.concatenate(
            [evaluation.generate_from(generator, z, label) for label in (0, 1)]
        )
        labels[name] = np.repeat([0, 1], half)
    return kinds, {k: np.asarray(v, np.int64) for k, v in labels.items()}


def judges_on(train, heldout, reference_count, labels, seed=0):
    """The judges: name -> function of excerpts -> per-example score
    (higher: more like real excerpts of the class).

    ``c2st`` tells the excerpts, pooled, from ``reference_count`` train
    excerpts; ``nearest_neighbours`` is the realism of ``measures`` with the
    train split as its bank and ``heldout`` as its real baseline. The
    evidence judges score each excerpt for its class in ``labels`` (as the
    selector study does for the direction's class: vocal max, non-vocal
    min), so ``labels`` must be in the order the judges get the excerpts.
    """
    reference, _ = pipeline.sample_excerpts(train, reference_count, seed=seed + 2)
    judge = measures.build_judge(train, heldout)
    labels = np.asarray(labels)

    def evidence(part):
        def score(x):
            if len(x) != len(labels):
                raise ParameterError(
                    f"Expected {len(labels)} excerpts, one per label. Received: {len(x)}"
                )
            by_class = [judge.measure(x, d)[part] for d in ("min", "max")]
            return np.where(labels == 1, by_class[1], by_class[0])

        return score

    return {
        "c2st": lambda x: realism.c2st_realism(reference, x)[0],
        "nearest_neighbours": lambda x: judge.measure(x, "max")["realism"],
        **{part: evidence(part) for part in EVIDENCE},
    }


def markdown(table):
    """The table: a row per kind, a column per judge, real first marked."""
    judges = list(table)
    kinds = list(next(iter(table.values()))["means"])
    lines = [
        "| kind | " + " | ".join(judges) + " |",
        "|---|" + "---|" * len(judges),
    ]
    for kind in kinds:
        cells = []
        for judge in judges:
            means = table[judge]["means"]
            best = max(means, key=means.get) == kind
            value = f"{means[kind]:.3f}"
            cells.append(f"**{value}**" if best else value)
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines.append(
        "| real ranked first | "
        + " | ".join("yes" if table[j]["real_first"] else "**no**" for j in judges)
        + " |"
    )
    return "\n".join(lines) + "\n"


def run_cli(data_dir, generator_names, out, count=200, seed=0, overwrite=False, command=""):
    """Score every kind with every judge; write judges.json and judges.md into
    ``out``; print the table. Returns the table."""
    from vocal_xai import zoo
    from vocal_xai.explain import session

    start = time.perf_counter()
    outputs.check_output_dir(out, overwrite)
    count = count + count % 2
    corpus, splits = session.open_splits(data_dir, ("train", "valid", "test"))
    train, valid, test = splits["train"], splits["valid"], splits["test"]
    generators = {}
    for name in generator_names:
        path = zoo.resolve(name)
        label = f"{path.parent.name} {path.name}" if path.name.isdigit() else f"generator {path}"
        generators[label] = zoo.load_generator(str(path))
    kinds, labels = kinds_of_excerpts(train, valid, generators, count, seed)
    judges = judges_on(train, test, count * len(kinds), realism.interleave(labels)[0], seed)
    table = realism.judge_table(judges, kinds)
    meta = {
        "command": command,
        "corpus": str(corpus.root),
        "count": count,
        "seed": seed,
        "seconds": time.perf_counter() - start,
    }
    with outputs.atomic_dir(out, overwrite) as tmp:
        (tmp / "judges.json").write_text(
            json.dumps({"meta": meta, "table": table}, indent=1) + "\n"
        )
        (tmp / "judges.md").write_text(markdown(table))
    print(markdown(table))
    print(f"Wrote {pathlib.Path(out)} ({meta['seconds']:.0f} s)")
    return table
