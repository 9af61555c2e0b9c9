"""Packaging for vocal_xai.

Every pinned version lives here and only here. The set was checked to install
and work together on Python 3.11: tensorflow-io 0.37.1 is the last release and
its kernels are built against TensorFlow 2.16, hence TF 2.16.2 and numpy < 2.
For a GPU, install ``tensorflow[and-cuda]==2.16.2`` on top.
"""

import pathlib
import re

import setuptools

# The version lives in vocal_xai/__init__.py only.
VERSION = re.search(
    r'^__version__ = "([^"]+)"$',
    (pathlib.Path(__file__).parent / "vocal_xai" / "__init__.py").read_text(),
    re.M,
).group(1)

INSTALL_REQUIRES = [
    "tensorflow==2.16.2",
    "keras==3.5.0",
    "tf-keras==2.16.0",
    "tensorflow-probability==0.24.0",
    "tensorflow-io==0.37.1",
    "librosa==0.10.2.post1",
    "numpy==1.26.4",
    "scipy==1.13.1",
    "absl-py==2.1.0",
    "soundfile==0.12.1",
    "matplotlib==3.9.2",
    "pillow==13.0.0",  # matplotlib's own image library; writes palette PNGs
]

EXTRAS_REQUIRE = {
    "test": [
        "coverage==7.6.1",
        "filelock==3.16.1",  # session fixtures built once across test workers
        "playwright==1.64.1",  # drives Debian's chromium to render report.html
        "pytest==8.3.3",
        "pytest-xdist==3.6.1",
        "ruff==0.17.6",
    ],
}

setuptools.setup(
    name="vocal-xai",
    version=VERSION,
    description=(
        "Explaining singing-voice detectors with GAN-latent activation "
        "maximisation and Frechet-distance selection."
    ),
    packages=setuptools.find_packages(include=["vocal_xai", "vocal_xai.*"]),
    python_requires=">=3.10,<3.12",
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
)
