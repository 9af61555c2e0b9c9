"""Helpers shared by the tests: corpora on disk, scripts run in a child
process, random model inputs."""

import os
import pathlib

import numpy as np
import soundfile as sf

from vocal_xai.data import corpus as corpus_lib


def write_song(root, name, audio, rate, segments, fmt="flac", subtype="PCM_16"):
    """Write one song of a Jamendo-layout corpus under ``root``."""
    root = pathlib.Path(root)
    (root / "audio").mkdir(parents=True, exist_ok=True)
    (root / "labels").mkdir(parents=True, exist_ok=True)
    sf.write(root / "audio" / f"{name}.{fmt}", audio, rate, subtype=subtype)
    (root / "labels" / f"{name}.lab").write_text(corpus_lib.format_lab(segments))


def write_filelists(root, splits):
    root = pathlib.Path(root)
    (root / "filelists").mkdir(parents=True, exist_ok=True)
    for split, names in splits.items():
        (root / "filelists" / split).write_text("".join(n + "\n" for n in names))


def tone_song(seconds, rate=22050, seed=0, freq=440.0):
    """A tone plus a little noise, float32 [samples]."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(t.size)).astype(
        np.float32
    )


def script_env(**extra):
    """Environment of a script run by a test: quiet TF, fixed hash seed."""
    import os

    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONHASHSEED="0", **extra)


def run_ok(cmd, **kwargs):
    """Run ``cmd``; fail the test with the end of stderr unless it exits 0."""
    import subprocess

    kwargs.setdefault("env", script_env())
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def run_tool(name, *args, cwd):
    """Run ``tools/<name>`` with ``args`` in ``cwd``, as a user runs it; the
    ``CompletedProcess``, whatever its exit status."""
    import subprocess
    import sys

    tool = pathlib.Path(__file__).resolve().parents[1] / "tools" / name
    return subprocess.run(
        [sys.executable, str(tool), *args],
        capture_output=True,
        text=True,
        env=script_env(),
        cwd=cwd,
    )


def kill_after_first_checkpoint(cmd, checkpoint_dir, timeout=300):
    """Start ``cmd`` and kill -9 it as soon as a complete checkpoint exists
    (the index file that names it is written last), while it still runs."""
    import signal
    import subprocess
    import time

    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=script_env()
    )
    deadline = time.time() + timeout
    while not (pathlib.Path(checkpoint_dir) / "checkpoint").exists():
        assert proc.poll() is None, "the run ended before its first checkpoint"
        assert time.time() < deadline, "no checkpoint before the timeout"
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


def random_band_stats(seed=0):
    """Plausible per-band log-mel mean and std for building small models."""
    rng = np.random.default_rng(seed)
    return rng.normal(-4.0, 1.0, 80), rng.uniform(0.5, 2.0, 80)


def random_gan_inputs(batch, seed=0, labels=None):
    """(z [batch, 128], class [batch]) tensors; classes alternate unless given."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    z = tf.constant(rng.standard_normal((batch, 128)), tf.float32)
    labels = np.arange(batch) % 2 if labels is None else labels
    return z, tf.constant(labels, tf.int32)


def compiled_gan(
    preset="dcgan_tiny_conditional",
    seed=0,
    ema_decay=0.0,
    r1_gamma=0.0,
    augment_policy="",
    learning_rate=2e-4,
):
    """A compiled ``ConditionalDCGAN`` of a preset's generator and
    discriminator on random band statistics, its optimisers built."""
    import keras

    from vocal_xai.models.dcgan import PRESETS, ConditionalDCGAN, Discriminator, Generator

    keras.utils.set_random_seed(seed)
    stats = random_band_stats()
    gan = ConditionalDCGAN(
        Generator(*stats, **PRESETS[preset]["generator"]),
        Discriminator(*stats, **PRESETS[preset]["discriminator"]),
        seed=seed,
        ema_decay=ema_decay,
    )
    gan.compile(
        keras.optimizers.Adam(learning_rate, 0.5, 0.999),
        keras.optimizers.Adam(learning_rate, 0.5, 0.999),
        r1_gamma=r1_gamma,
        augment_policy=augment_policy,
    )
    gan.build_optimizers()
    return gan


def random_log_mel(batch, seed=0):
    """Random raw log-mel excerpts [batch, 115, 80]."""
    import tensorflow as tf

    x = np.random.default_rng(seed).normal(-4.0, 2.0, (batch, 115, 80))
    return tf.constant(x, tf.float32)


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

# Waits for every <img> and <audio> of the page; each resolves to whether it
# loaded (an image with pixels, audio with a finite duration).
_MEDIA_STATUS = """async () => {
    const image = (img) => new Promise((resolve) => {
        const done = () => resolve({src: img.getAttribute("src"), ok: img.naturalWidth > 0});
        if (img.complete) { done(); } else { img.onload = done; img.onerror = done; }
    });
    const audio = (el) => new Promise((resolve) => {
        const done = (ok) => resolve({src: el.getAttribute("src"), ok: ok && isFinite(el.duration)
                                      && el.duration > 0, duration: el.duration});
        if (el.readyState >= 1) { done(true); return; }
        el.addEventListener("loadedmetadata", () => done(true));
        el.addEventListener("error", () => done(false));
        setTimeout(() => done(false), 20000);
        el.load();
    });
    return {
        images: await Promise.all([...document.images].map(image)),
        audio: await Promise.all([...document.querySelectorAll("audio")].map(audio)),
    };
}"""


def chromium_path():
    """Debian's Chromium, or skip the test where it is missing, unless
    ``VOCAL_XAI_REQUIRE_BROWSER`` is set (``make test`` installs it and sets
    it, so there a missing browser fails)."""
    import shutil

    import pytest

    path = shutil.which("chromium")
    if path is None:
        message = "Debian's chromium is not installed (make test installs it)"
        if os.environ.get("VOCAL_XAI_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _installed(check, require_variable):
    """``check()``, or skip the test where what it checks is missing, unless
    the environment variable ``require_variable`` is set (``make test``
    installs it and sets the variable, so there a missing one fails)."""
    import pytest

    from vocal_xai.errors import ParameterError

    try:
        return check()
    except ParameterError as err:
        if os.environ.get(require_variable):
            pytest.fail(str(err))
        pytest.skip(f"{err} (make test installs it)")


def soundfont_renderer(font=None):
    """Debian's FluidR3 GM SoundFont (or ``font``), after checking that it and
    fluidsynth are there (``_installed``, ``VOCAL_XAI_REQUIRE_SOUNDFONT``)."""
    from vocal_xai.data import soundfont

    return _installed(lambda: soundfont.check_renderer(font), "VOCAL_XAI_REQUIRE_SOUNDFONT")


def festival_voice(voice="kal"):
    """Festival's function for a diphone ``voice``, after checking that
    Festival and the voice are there (``_installed``,
    ``VOCAL_XAI_REQUIRE_FESTIVAL``)."""
    from vocal_xai.data import diphone

    return _installed(lambda: diphone.check_voice(voice), "VOCAL_XAI_REQUIRE_FESTIVAL")


def open_in_chromium(page_path, screenshot):
    """Open a local HTML file in headless Chromium, wait for its images and
    audio, and write a full-page screenshot.

    Returns:
        ``{"images": [{"src", "ok"}], "audio": [{"src", "ok", "duration"}]}``.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=list(CHROMIUM_FLAGS)
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(pathlib.Path(page_path).resolve().as_uri(), wait_until="load")
            status = page.evaluate(_MEDIA_STATUS)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return status


def shipped_check(version_dir):
    """The reproduction check of a shipped version: its metadata's
    ``"check"``, else the one ``tests/record_checks.py`` recorded for a
    version published before checks. Fails the test when there is neither."""
    import json

    import pytest
    from record_checks import check_path

    from vocal_xai import zoo

    metadata = zoo.metadata(version_dir)
    if "check" in metadata:
        return metadata["check"]
    name, version = pathlib.Path(version_dir).parent.name, pathlib.Path(version_dir).name
    path = check_path(name, int(version))
    if not path.is_file():
        pytest.fail(
            f"{version_dir} records no reproduction check and {path} does not exist: "
            f"run python tests/record_checks.py {name}/{version}"
        )
    return json.loads(path.read_text())


def assert_song_pinned(version, index, kind, sha256):
    """Song ``index`` of seed 0, 8 s, of corpus ``version``: its kind of
    voice, the sha256 of its float32 samples, its range, and exact labels
    (no voice outside the sing segments)."""
    import hashlib

    from vocal_xai.data import synthetic
    from vocal_xai.data.synthetic import song

    one = synthetic.synthesize_song(0, index, 8.0, version=version)
    assert one.voice_kind == kind
    assert hashlib.sha256(one.audio.tobytes()).hexdigest() == sha256
    assert np.all(np.isfinite(one.audio)) and np.max(np.abs(one.audio)) <= 1.0
    sing = song.region_mask(one.segments, len(one.vocal))
    assert np.all(one.vocal[~sing] == 0.0)
