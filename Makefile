# make demo  : set up .venv if needed, then run the main job
# make test  : set up .venv (and Debian's chromium, fluidsynth, FluidR3 GM, TimGM6mb, festival and its diphone voices) if needed, then run the test suite
# make check : the fast tier of the tests (pytest -m "not slow")
# make lint  : ruff's lint and format checks
# make coverage : the fast tier under coverage; every module must be covered
# make bench : set up .venv if needed, then run the benchmarks in bench/
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= runs/demo
# The browser that renders report.html in the tests (Debian's package).
CHROMIUM := /usr/bin/chromium
# The SoundFont of the sampled probes (Debian's fluid-soundfont-gm, played by
# Debian's fluidsynth).
SOUNDFONT := /usr/share/sounds/sf2/FluidR3_GM.sf2
FLUIDSYNTH := /usr/bin/fluidsynth
# The SoundFont of corpus version 5's sampled voices and instruments
# (Debian's timgm6mb-soundfont).
CORPUS_SOUNDFONT := /usr/share/sounds/sf2/TimGM6mb.sf2
# Festival and the diphone voices that sing corpus version 6's phrases
# (Debian's festival and festvox packages; vocal_xai.data.diphone).
FESTIVAL := /usr/bin/festival
FESTIVAL_VOICES := /usr/share/festival/voices/english/kal_diphone \
	/usr/share/festival/voices/english/ked_diphone /usr/share/festival/voices/italian/lp_diphone
APT_INSTALL := $$([ "$$(id -u)" = 0 ] || echo sudo) sh -c 'apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends

.PHONY: demo test check coverage lint bench clean

$(STAMP): setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# librosa compiles pYIN's numba kernels into its cache on first use, about
	# 40 s; do it once here rather than in the first cue analysis.
	$(BIN)/python -c "import numpy as np; from vocal_xai.explain import cues; \
		cues.f0_track(np.sin(np.arange(22050) * 0.0627).astype(np.float32))"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python recipes/make_corpus.py --out=$(DEMO_DIR)/corpus --seed=0 --songs=16,4,4
	$(BIN)/python recipes/train_detector.py --data_dir=$(DEMO_DIR)/corpus \
		--model_dir=$(DEMO_DIR)/detector --export_base=$(DEMO_DIR)/saved_models \
		--preset=svdnet_tiny --epochs=2 --steps_per_epoch=20
	$(BIN)/python tools/predict.py $(DEMO_DIR)/corpus/audio/song020.flac \
		--out=$(DEMO_DIR)/song020.csv --plot=$(DEMO_DIR)/song020.png --overwrite
	$(BIN)/python tools/explain.py --direction=max --data_dir=$(DEMO_DIR)/corpus \
		--out=$(DEMO_DIR)/explanations/max --overwrite

$(CHROMIUM):
	$(APT_INSTALL) chromium'

$(SOUNDFONT) $(FLUIDSYNTH):
	$(APT_INSTALL) fluidsynth fluid-soundfont-gm'

$(CORPUS_SOUNDFONT):
	$(APT_INSTALL) timgm6mb-soundfont'

$(FESTIVAL) $(FESTIVAL_VOICES):
	$(APT_INSTALL) festival festvox-kallpc16k festvox-kdlpc16k festvox-italp16k'

test: $(STAMP) $(CHROMIUM) $(SOUNDFONT) $(FLUIDSYNTH) $(CORPUS_SOUNDFONT) $(FESTIVAL) $(FESTIVAL_VOICES)
	VOCAL_XAI_REQUIRE_BROWSER=1 VOCAL_XAI_REQUIRE_SOUNDFONT=1 VOCAL_XAI_REQUIRE_FESTIVAL=1 \
		$(BIN)/python -m pytest -q

check: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

coverage: $(STAMP)
	mkdir -p runs/coverage
	COVERAGE_FILE=runs/coverage/data $(BIN)/python -m coverage run --source=vocal_xai \
		-m pytest -q -m "not slow" -n 0
	COVERAGE_FILE=runs/coverage/data $(BIN)/python -m coverage json -q -o runs/coverage/coverage.json
	$(BIN)/python tests/coverage_floor.py runs/coverage/coverage.json

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	set -e; for script in bench/bench_*.py; do $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) runs *.egg-info
