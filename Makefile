# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export FEEDBACK_BIND ?= 127.0.0.1:8000

.PHONY: run test install install-test translations bytecode db demo lint clean chromium messages bench bench-tools load

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(MAKE) --no-print-directory translations bytecode

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(MAKE) --no-print-directory translations bytecode chromium

# The app's modules compiled once, as `pip install .` does for a production
# install: an editable install leaves it to each process, and where
# PYTHONDONTWRITEBYTECODE is set every `flask` call compiled them all again
# (~0.1 s a call). A module edited since is compiled in memory as before.
bytecode: $(BIN)/python
	$(BIN)/python -m compileall -q feedback

# Quietly: the English catalogue's source texts are English already, so its
# statistics ("2 of 190 translated") would only alarm; tests check Danish is complete.
translations: $(BIN)/python
	$(BIN)/pybabel --quiet compile -d feedback/translations

# Update the catalogue after changing user-visible strings.
messages: $(BIN)/python
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 -o feedback/translations/messages.pot \
	  --no-location --sort-output --project=feedback --copyright-holder="feedback contributors" feedback
	$(BIN)/pybabel update -N -i feedback/translations/messages.pot -d feedback/translations --no-fuzzy-matching --ignore-obsolete

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
chromium:
	@command -v /usr/bin/chromium >/dev/null || { \
	  echo "Installing Debian's chromium (needs root)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

db: install
	$(BIN)/flask --app feedback db upgrade

demo: db
	$(BIN)/flask --app feedback demo load

# The banner waits until gunicorn answers, so the address printed works when it
# appears; it gives up silently if gunicorn stops first (its own errors say why).
ANSWERS = $(BIN)/python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)' 'http://$(FEEDBACK_BIND)/login' 2>/dev/null
run: demo
	@if $(ANSWERS); then \
	  echo "Something already answers at http://$(FEEDBACK_BIND)/. Stop it, or choose another address: make run FEEDBACK_BIND=127.0.0.1:8001"; \
	  exit 1; \
	fi; \
	announce() { \
	  while kill -0 $$$$ 2>/dev/null; do \
	    if $(ANSWERS); then \
	      printf '%s\n' '' \
	        '  Feedback is running at $(or $(FEEDBACK_PUBLIC_URL),http://$(FEEDBACK_BIND))/' \
	        '  Demo logins (password: demo-feedback):' \
	        '    anna, bo, carla, dorte   caseworkers' \
	        '    lene                     team lead (Team Nord)' \
	        '    analytiker               analyst' \
	        '    admin                    administrator' \
	        '  Stop with Ctrl+C. Data is kept in instance/feedback.sqlite.' ''; \
	      return; \
	    fi; \
	    sleep 0.5; \
	  done; \
	}; \
	announce & \
	exec $(BIN)/gunicorn -c deploy/gunicorn.conf.py "feedback:create_app()"

test: install-test
	$(BIN)/pytest $(PYTEST_ARGS)

# Benchmarks (decision 42): one line per figure with the word "ratio", JSON in
# bench/out/. PostgreSQL from FEEDBACK_BENCH_POSTGRES_URL (default: the local
# server as postgres; empty: SQLite only). BENCH_ARGS="--only export" runs one.
bench: install bench-tools
	$(BIN)/python -m bench $(BENCH_ARGS)

# The load and fault test (bench/load.py): respondents under load while gunicorn's
# workers (every 20 s) and master (once) are killed; exits 1 on any loss.
# LOAD_ARGS="--respondents 50 --duration 120 --engines sqlite,postgresql".
load: install
	$(BIN)/python -m bench.load $(LOAD_ARGS)

# The load client and the command-line tools the benchmarks compare with.
bench-tools:
	@missing=""; \
	for pair in wrk:wrk sqlite3:sqlite3 psql:postgresql-client nginx:nginx-light openssl:openssl; do \
	  command -v $${pair%%:*} >/dev/null || [ -x /usr/sbin/$${pair%%:*} ] || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing$$missing (needs root)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

lint: install-test
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
