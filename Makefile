# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export FEEDBACK_BIND ?= 127.0.0.1:8000

.PHONY: run test install install-test translations db demo lint clean chromium messages bench bench-tools

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(MAKE) --no-print-directory translations

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(MAKE) --no-print-directory translations chromium

translations: $(BIN)/python
	$(BIN)/pybabel compile --statistics -d feedback/translations

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

run: demo
	@echo
	@echo "  Feedback is running at http://$(FEEDBACK_BIND)/"
	@echo "  Demo logins (password: demo-feedback):"
	@echo "    anna, bo, carla, dorte   caseworkers"
	@echo "    lene                     team lead (Team Nord)"
	@echo "    analytiker               analyst"
	@echo "    admin                    administrator"
	@echo "  Stop with Ctrl+C. Data is kept in instance/feedback.sqlite."
	@echo
	$(BIN)/gunicorn -c deploy/gunicorn.conf.py "feedback:create_app()"

test: install-test
	$(BIN)/pytest $(PYTEST_ARGS)

# Benchmarks (decision 42): one line per figure with the word "ratio", JSON in
# bench/out/. PostgreSQL from FEEDBACK_BENCH_POSTGRES_URL (default: the local
# server as postgres; empty: SQLite only). BENCH_ARGS="--only export" runs one.
bench: install bench-tools
	$(BIN)/python -m bench $(BENCH_ARGS)

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
