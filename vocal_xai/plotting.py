"""Figures shared by reports and model cards: a headless pyplot, log-mel
images and compact PNG files."""

import pathlib


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, dpi=90, colors=None):
    """Lay out, write and close ``fig``; return ``path``.

    With ``colors`` the PNG is re-encoded with a palette of that many colours
    (at most 256), which keeps spectrogram figures small enough to ship
    beside a model: a colour-mapped image uses few distinct colours.
    """
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    if colors is not None:
        from PIL import Image

        with Image.open(path) as image:
            compact = image.convert("RGB").quantize(int(colors))
        compact.save(pathlib.Path(path), format="PNG", optimize=True)
    return path


def show_log_mel(ax, log_mel, top=None, dynamic_range=12.0):
    """A log-mel excerpt [frames, bands] as an image, ``dynamic_range``
    below ``top`` (default: its own maximum), without ticks."""
    top = float(log_mel.max()) if top is None else top
    ax.imshow(
        log_mel.T, origin="lower", aspect="auto", cmap="magma", vmin=top - dynamic_range, vmax=top
    )
    ax.set_xticks([])
    ax.set_yticks([])
