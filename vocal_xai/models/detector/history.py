"""A detector training's learning curves, read back from its TensorBoard logs.

``training.Trainer`` writes, at the global step that ends each epoch, the
epoch's mean training loss and accuracy, the validation loss and accuracy
(on excerpts), the frame error on the whole valid songs at 0.5
(``val_frame_error``) and the learning rate into
``<model_dir>/logs`` (``vocal_xai.events`` reads them
over every stretch of a resumed training). ``recipes/train_detector.py``
redraws ``<model_dir>/learning_curves.png`` after the first and last
epochs and at most every ``task.CURVE_SECONDS`` in between, and
``tools/plot_training.py`` draws several runs in one figure.
"""

import pathlib

from vocal_xai import events, outputs, plotting
from vocal_xai.errors import ParameterError

LOGS = "logs"
FIGURE = "learning_curves.png"
# Panel title, y label, scalar names (training, validation) and y scale.
PANELS = (
    ("loss", "binary cross-entropy", ("loss", "val_loss"), "linear"),
    ("accuracy", "excerpt accuracy", ("accuracy", "val_accuracy"), "linear"),
    (
        "frame error, whole valid songs",
        "share of frames wrong at 0.5",
        ("val_frame_error",),
        "linear",
    ),
    ("learning rate", "learning rate", ("learning_rate",), "log"),
)


def read(model_dir):
    """The scalars of a training run.

    Args:
        model_dir: the ``--model_dir`` of ``recipes/train_detector.py``.

    Returns:
        dict name -> (steps [int array], values [float array]), sorted by
        step, over every stretch of the run.

    Raises:
        ParameterError: when the run has no event file.
    """
    merged = events.merge(events.read_files(pathlib.Path(model_dir) / LOGS))
    return {tag: events.series(by_step) for tag, by_step in merged.items()}


def plot_learning_curves(runs, path, title="Detector training"):
    """Loss, accuracy, frame error and learning rate against the training
    step, one colour per run: training values (the mean over each epoch)
    solid, validation values dashed.

    Args:
        runs: dict label -> scalars (``read``).
        path: the PNG to write (whole or not at all).
        title: the figure's title.

    Returns:
        ``path``.

    Raises:
        ParameterError: when a run has neither a loss nor an accuracy.
    """
    if not runs:
        raise ParameterError("Expected at least one run to draw. Received: none")
    for label, scalars in runs.items():
        if not {"loss", "accuracy"} & set(scalars):
            raise ParameterError(
                f"Expected a loss or an accuracy among the scalars of run {label!r}. "
                f"Received: {sorted(scalars)}"
            )
    plt = plotting.pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (name, ylabel, names, scale) in zip(axes.ravel(), PANELS, strict=True):
        for i, (label, scalars) in enumerate(runs.items()):
            for tag in names:
                if tag not in scalars:
                    continue
                steps, values = scalars[tag]
                validation = tag.startswith("val_")
                kind = "validation" if validation else "training"
                ax.plot(
                    steps,
                    values,
                    "--" if validation else "-",
                    marker="o",
                    markersize=3,
                    color=colours[i % len(colours)],
                    label=f"{label}, {kind}" if len(names) > 1 else label,
                )
        ax.set_yscale(scale)
        ax.set_xlabel("training step (batches)")
        ax.set_ylabel(ylabel)
        ax.set_title(name)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "not logged", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle(title)
    return plotting.save_figure(fig, path)


def plot_run_folders(folders, out, title="Detector training", overwrite=False):
    """Draw the runs in ``folders`` (``--model_dir`` folders, possibly still
    training) into ``out``, each labelled with its folder name (its path when
    two names are alike). The logic of ``tools/plot_training.py``.

    Returns:
        ``out`` (a ``pathlib.Path``).

    Raises:
        ParameterError: when ``out`` may not be written, or a folder holds no
            training logs (naming the folder).
    """
    out = outputs.check_output_file(out, overwrite, name="out")
    folders = [pathlib.Path(f) for f in folders]
    if not folders:
        raise ParameterError("Expected at least one run folder in --runs. Received: none")
    names = [f.name for f in folders]
    labels = [str(f) if names.count(f.name) > 1 else f.name for f in folders]
    runs = {}
    for label, folder in zip(labels, folders):
        if not (folder / LOGS).is_dir():
            raise ParameterError(
                "Expected each of --runs to be a --model_dir of recipes/train_detector.py, "
                f"with a {LOGS}/ folder. Received: {str(folder)!r} "
                f"(runs={','.join(str(f) for f in folders)}) has none"
            )
        runs[label] = read(folder)
    return plot_learning_curves(runs, out, title)
