"""Deterministic synthetic singing-voice corpora in the Jamendo layout.

Six versions, chosen by ``version``; each is reproducible byte for byte from
its seed on one kind of machine (``dsp.numpy_vector_kind``):

* version 1 (``v1``): a source-filter singer, non-vocal melodic leads with
  static spectral envelopes, and a backing band. Detectors 1-3 trained on it.
* version 2 (``v2``, the default): version 1's singer with more voice types,
  vibrato styles, consonant-rich and breathy singing and harmonised backing
  vocals, against the non-vocal sounds of real music (string sections, winds
  and brass, plucked and struck instruments, detuned unisons, heavy
  percussion), with room reverberation and mastering on the whole mix.
  Detector 4 trained on it.
* version 3 (``v3``): version 2 with orchestral tutti (several sections
  playing their own lines) in halls, loud bright mastering, brighter singers
  and more songs. Detector 5 (not shipped) trained on it.
* version 4 (``v4``): version 3 with its lead and tutti instruments played
  with motion (``instruments.Motion``): drifting bodies, brightness swings,
  re-articulated notes, so that how much the spectrum moves no longer tells
  the singer from the instruments. Detector 6 trained on it.
* version 5 (``v5``): version 4 with many kinds of voice (solo singers,
  unison ensembles, vocalises on one vowel, sampled choirs from the TimGM6mb
  SoundFont) made as bright as the band, and sampled instruments from the
  same SoundFont in sung and unsung sections alike. Needs ``fluidsynth`` and
  Debian's ``timgm6mb-soundfont``.
* version 6 (``v6``): version 5 with singers made from recorded speech
  (``diphone_singer``: Festival's diphone voices given melodies, voice types
  and expression) in 45 % of the vocal songs. Also needs Debian's
  ``festival`` and three ``festvox`` voices.

``make_corpus`` writes a corpus folder; ``synthesize_song`` makes one song.

The package is split by concept: ``dsp`` (oscillators, responses, noise),
``music`` (keys, chords, melodies, note expression), ``voice`` (the singer),
``leads`` and ``instruments`` (non-vocal sources, drawn from the tables of
data ``lead_presets`` and ``instrument_presets``; ``tables`` says how a table
is drawn), ``sampled`` (voices and instruments played from a SoundFont),
``diphone_singer`` (singers from Festival's diphone voices),
``backing`` (chords, bass, drums), ``effects`` (reverberation, mastering),
``song`` (segments, mixing), ``writing`` (corpus folders), and
the version recipes ``v1`` to ``v6`` that compose them (``versions``).
"""

from vocal_xai.data.synthetic import v1, v2, v3, v4, v5, v6  # noqa: F401  (the version recipes, as attributes)

# The package's API, which recipes, tools and tests import from here.
from vocal_xai.data.synthetic.song import (  # noqa: F401
    DEFAULT_DURATION,
    MAX_DURATION,
    MIN_DURATION,
    SAMPLE_RATE,
    SyntheticSong,
)
from vocal_xai.data.synthetic.versions import DEFAULT_VERSION, VERSIONS, synthesize_song  # noqa: F401
from vocal_xai.data.synthetic.writing import (  # noqa: F401
    INFO_FILE,
    CorpusSummary,
    corpus_info,
    make_corpus,
    parse_split_sizes,
    splits_made,
    summarize_corpus,
)

DEFAULT_SPLIT_SIZES = v2.DEFAULT_SPLIT_SIZES
