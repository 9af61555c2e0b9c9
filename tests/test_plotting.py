import pathlib

import numpy as np
import pytest
from PIL import Image

from vocal_xai import plotting


def _spectrogram_figure():
    rng = np.random.default_rng(0)
    fig, axes = plotting.pyplot().subplots(2, 2, figsize=(6, 4))
    for ax in axes.ravel():
        plotting.show_log_mel(ax, rng.normal(-5, 2, (115, 80)))
    return fig


def test_show_log_mel_maps_the_dynamic_range_below_the_top():
    fig, ax = plotting.pyplot().subplots()
    log_mel = np.linspace(-20, 0, 115 * 80).reshape(115, 80)
    plotting.show_log_mel(ax, log_mel, dynamic_range=10.0)
    image = ax.get_images()[0]
    assert image.get_clim() == (-10.0, 0.0)
    np.testing.assert_array_equal(image.get_array(), log_mel.T)
    assert ax.get_xticks().size == 0 and ax.get_yticks().size == 0
    plotting.pyplot().close(fig)


def test_a_figure_is_written_whole_or_not_at_all(tmp_path):
    path = tmp_path / "figure.png"
    path.write_bytes(b"the last figure")
    fig = _spectrogram_figure()

    def fail_midway(target, **kwargs):
        pathlib.Path(target).write_bytes(b"half a PNG")
        raise OSError("disk full")

    fig.savefig = fail_midway
    with pytest.raises(OSError, match="disk full"):
        plotting.save_figure(fig, path)
    assert path.read_bytes() == b"the last figure"
    assert [p.name for p in tmp_path.iterdir()] == ["figure.png"]
    assert not plotting.pyplot().fignum_exists(fig.number)  # closed all the same
    plotting.save_figure(_spectrogram_figure(), path)
    with Image.open(path) as image:
        assert image.format == "PNG"


@pytest.mark.parametrize("colors", [256, 64])
def test_palette_png_keeps_the_picture_in_fewer_bytes(tmp_path, colors):
    full = plotting.save_figure(_spectrogram_figure(), tmp_path / "full.png", dpi=80)
    compact = plotting.save_figure(
        _spectrogram_figure(), tmp_path / "compact.png", dpi=80, colors=colors
    )
    with Image.open(full) as a, Image.open(compact) as b:
        assert b.mode == "P" and a.size == b.size
        assert len(b.getcolors(maxcolors=1024)) <= colors
        rgb_a = np.asarray(a.convert("RGB"), np.float64)
        rgb_b = np.asarray(b.convert("RGB"), np.float64)
    # Colour-mapped images lose little to a palette ...
    assert np.abs(rgb_a - rgb_b).mean() < (0.5 if colors == 256 else 2.0)
    # ... and take much less room.
    assert compact.stat().st_size < 0.5 * full.stat().st_size


def test_axes_are_labelled_in_seconds_and_hertz():
    plt = plotting.pyplot()
    fig, ax = plt.subplots()
    plotting.show_log_mel(ax, np.zeros((115, 80)))
    plotting.label_log_mel_axes(ax, 115, 80, left=True, bottom=True)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "0.5", "1", "1.5"]
    assert ax.get_xticks()[1] == pytest.approx(0.5 * 70.0)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["100", "500", "1k", "2k", "4k"]
    centres = plotting.mel_band_frequencies()
    assert np.interp(ax.get_yticks()[2], np.arange(80), centres) == pytest.approx(1000.0)
    assert ax.get_xlabel() == "time (s)"
    plt.close(fig)
