"""A GAN training's history, read back from its TensorBoard logs.

Keras' TensorBoard callback writes one event file per process into
``<model_dir>/logs/train``, with every epoch's mean losses (``epoch_d_loss``,
``epoch_g_loss``, ``epoch_r1``, ...) and the wall time of each. A training
resumed after a kill starts a new file, so the files are the stretches the
training ran in, and nothing else needs to be recorded while it runs.
"""

import dataclasses
import datetime
import pathlib

from vocal_xai import events, plotting
from vocal_xai.errors import ParameterError

PREFIX = "epoch_"
# Keras logs the learning rate of the model's own optimizer, which the GAN
# does not use (each player has its own).
IGNORED = ("epoch_learning_rate",)


@dataclasses.dataclass
class Stretch:
    """One process's part of a training.

    Attributes:
        first_epoch: first epoch it finished (1-based).
        last_epoch: last epoch it finished.
        started: wall time (s since the epoch) at which its log was opened.
        ended: wall time of its last logged epoch.
    """

    first_epoch: int
    last_epoch: int
    started: float
    ended: float

    @property
    def epochs(self):
        return self.last_epoch - self.first_epoch + 1

    @property
    def seconds(self):
        return self.ended - self.started


def read(log_dir):
    """The scalars and stretches of ``<log_dir>/train``.

    Returns:
        (scalars, stretches): dict name (without ``epoch_``) -> (epochs
        [1-based int array], values [float array]), sorted by epoch, the last
        value kept when a killed stretch logged an epoch twice; and the
        ``Stretch`` list in time order.

    Raises:
        ParameterError: when there is no event file.
    """
    files = events.read_files(pathlib.Path(log_dir, "train"))
    stretches = []
    for f in files:
        logged = [
            (step + 1, wall)
            for tag, by_step in f.values.items()
            if tag.startswith(PREFIX) and tag not in IGNORED
            for step, (wall, _) in by_step.items()
        ]
        if logged:
            epochs = [e for e, _ in logged]
            stretches.append(Stretch(min(epochs), max(epochs), f.opened, max(t for _, t in logged)))
    scalars = {}
    for tag, by_step in events.merge(files).items():
        if not tag.startswith(PREFIX) or tag in IGNORED:
            continue
        steps, values = events.series(by_step)
        scalars[tag[len(PREFIX) :]] = (steps + 1, values)
    return scalars, stretches


def stretch_table(stretches, steps_per_epoch):
    """A markdown table of the stretches: epochs, steps, wall time, steps/s."""
    lines = [
        "| stretch | started (UTC) | epochs | steps | wall time | s per step |",
        "|---|---|---|---|---|---|",
    ]
    for i, s in enumerate(stretches, 1):
        started = datetime.datetime.fromtimestamp(s.started, datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M"
        )
        steps = s.epochs * steps_per_epoch
        lines.append(
            f"| {i} | {started} | {s.first_epoch}-{s.last_epoch} | {steps:,} | "
            f"{s.seconds / 60:.0f} min | {s.seconds / steps:.2f} |"
        )
    return "\n".join(lines)


def plot_learning_curves(scalars, path, steps_per_epoch, title="GAN training"):
    """Losses per epoch against training steps: the adversarial losses and
    mean logits in one panel, the class and penalty terms in another.

    Returns:
        ``path``.
    """
    plt = plotting.pyplot()
    panels = [
        ("adversarial", ["d_loss", "g_loss", "d_real", "d_fake"]),
        ("class and penalty", ["d_aux", "g_aux", "g_guide", "r1"]),
    ]
    panels = [(label, [n for n in names if n in scalars]) for label, names in panels]
    panels = [(label, names) for label, names in panels if names]
    if not panels:
        raise ParameterError(f"Expected GAN losses among the scalars. Received: {sorted(scalars)}")
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 3.6), squeeze=False)
    for ax, (label, names) in zip(axes[0], panels):
        for name in names:
            epochs, values = scalars[name]
            ax.plot(epochs * steps_per_epoch, values, label=name)
        ax.set_xlabel("training step")
        ax.set_ylabel("mean over the epoch")
        ax.set_title(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return plotting.save_figure(fig, path, colors=64)
