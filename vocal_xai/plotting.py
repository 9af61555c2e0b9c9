"""Figures shared by reports and model cards: a headless pyplot, log-mel
images and compact PNG files."""

import numpy as np

from vocal_xai import outputs


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, dpi=90, colors=None):
    """Lay out, write and close ``fig``; return ``path``.

    The file appears whole or not at all: it is written beside ``path`` and
    renamed into place, so a figure redrawn while a training runs is never
    seen half-written. With ``colors`` the PNG is re-encoded with a palette of
    that many colours (at most 256), which keeps spectrogram figures small
    enough to ship beside a model: a colour-mapped image uses few distinct
    colours.
    """
    try:
        fig.tight_layout()
        with outputs.atomic_file(path, overwrite=True) as tmp:
            fig.savefig(tmp, dpi=dpi)
            if colors is not None:
                from PIL import Image

                with Image.open(tmp) as image:
                    compact = image.convert("RGB").quantize(int(colors))
                compact.save(tmp, format="PNG", optimize=True)
    finally:
        pyplot().close(fig)
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


def mel_band_frequencies(num_bands=None, fmin=None, fmax=None):
    """Centre frequency (Hz) of each band of ``spectral.mel_filterbank``
    (HTK mel); None takes the value of ``vocal_xai.spectral``.
    [shape=(num_bands,)]"""
    from vocal_xai import spectral

    num_bands = spectral.NUM_MEL_BANDS if num_bands is None else num_bands
    fmin = spectral.FMIN if fmin is None else fmin
    fmax = spectral.FMAX if fmax is None else fmax

    def to_mel(f):
        return 1127.0 * np.log1p(np.asarray(f, np.float64) / 700.0)

    edges = np.linspace(to_mel(fmin), to_mel(fmax), num_bands + 2)
    return 700.0 * np.expm1(edges[1:-1] / 1127.0)


def label_log_mel_axes(ax, frames, bands, left=True, bottom=True):
    """Time (s) below and frequency (Hz) on the left of a log-mel image
    (``show_log_mel``); ``left``/``bottom`` False keep the ticks but drop
    their labels (inner panels of a grid)."""
    from vocal_xai import spectral

    seconds = np.arange(0.0, frames / spectral.FRAME_RATE, 0.5)
    ax.set_xticks(seconds * spectral.FRAME_RATE)
    ax.set_xticklabels([f"{s:g}" for s in seconds] if bottom else [], fontsize=7)
    centres = mel_band_frequencies(bands)
    hz = [f for f in (100, 500, 1000, 2000, 4000, 8000) if centres[0] <= f <= centres[-1]]
    ax.set_yticks(np.interp(hz, centres, np.arange(bands)))
    ax.set_yticklabels(
        [f"{f:g}" if f < 1000 else f"{f / 1000:g}k" for f in hz] if left else [], fontsize=7
    )
    if bottom:
        ax.set_xlabel("time (s)", fontsize=8)


def plot_excerpts(rows, png, dynamic_range=12.0, title=None):
    """A grid of log-mel excerpts with time and frequency axes and one
    colour bar.

    Args:
        rows: list of (row label, excerpts [shape=(columns, frames, bands)],
            captions per column or None).
        png: output path.
        dynamic_range: nats shown below the brightest value of the figure.
        title: the figure's title.

    Returns:
        ``png``.
    """
    plt = pyplot()
    columns = len(rows[0][1])
    top = max(float(x.max()) for _, x, _ in rows)
    fig = plt.figure(figsize=(2.3 * columns + 1.4, 1.9 * len(rows) + 0.6))
    # One narrow column on the right holds the colour bar.
    grid = fig.add_gridspec(len(rows), columns + 1, width_ratios=[1.0] * columns + [0.06])
    for r, (label, excerpts, captions) in enumerate(rows):
        for c in range(columns):
            ax = fig.add_subplot(grid[r, c])
            show_log_mel(ax, excerpts[c], top=top, dynamic_range=dynamic_range)
            label_log_mel_axes(
                ax, excerpts.shape[1], excerpts.shape[2], left=c == 0, bottom=r == len(rows) - 1
            )
            if captions is not None:
                ax.set_title(captions[c], fontsize=7)
            if c == 0:
                ax.set_ylabel(f"{label}\nfrequency (Hz)", fontsize=8)
    bar = fig.colorbar(ax.images[0], cax=fig.add_subplot(grid[:, -1]))
    bar.set_label("log mel power (natural log)", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    # A 256-colour palette: the figure ships beside the model.
    return save_figure(fig, png, dpi=80, colors=256)
