"""The corpus versions and the song synthesis of each."""

import numpy as np

from vocal_xai.data import corpus_versions
from vocal_xai.data.synthetic import song, v1, v2, v3, v4, v5, v6
from vocal_xai.errors import ParameterError

VERSIONS = {1: v1, 2: v2, 3: v3, 4: v4, 5: v5, 6: v6}
DEFAULT_VERSION = corpus_versions.DEFAULT


def check_version(version):
    if isinstance(version, (bool, np.bool_)) or version not in VERSIONS:
        raise ParameterError(
            f"Expected version in {sorted(VERSIONS)}. Received: version={version!r}"
        )


def check_tools(version):
    """Raise ``ParameterError`` naming the install when a program or file
    that ``version`` renders with is missing (version 5's SoundFont,
    version 6's Festival voices)."""
    check_version(version)
    renderer = getattr(VERSIONS[version], "check_renderer", None)
    if renderer is not None:
        renderer()


def synthesize_song(seed, index, duration=song.DEFAULT_DURATION, version=DEFAULT_VERSION):
    """Synthesise one song of corpus ``version``, deterministically from
    ``(seed, index)``.

    Args:
        seed: corpus seed, integer >= 0.
        index: song number, integer >= 0; the song is named
            ``f"song{index:03d}"``.
        duration: seconds, ``MIN_DURATION <= duration <= MAX_DURATION``.
        version: corpus version, one of ``VERSIONS``.

    Returns:
        A ``SyntheticSong`` with ``round(duration * 22050)`` samples.

    Raises:
        ParameterError: for an invalid argument.
    """
    check_version(version)
    return VERSIONS[version].synthesize_song(seed, index, duration)
