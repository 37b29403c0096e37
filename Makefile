# The two commands: `make run` and `make test`. Everything installs into .venv on first use.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Prefect's server runs in an environment of its own, with the SQLAlchemy its release was made
# against: Prefect 3.8.8's scheduler bulk-inserts flow runs with a key (`state`, a hybrid
# property) that SQLAlchemy 2.1 refuses, so no schedule ever produced a run; fangfan itself is
# typed against 2.1. The same Prefect as pyproject.toml's.
PREFECT_VENV := .venv-prefect
PREFECT_STAMP := $(PREFECT_VENV)/.installed

$(PREFECT_STAMP): Makefile
	test -x $(PREFECT_VENV)/bin/python || $(PY) -m venv $(PREFECT_VENV)
	$(PREFECT_VENV)/bin/pip install --quiet --upgrade pip
	$(PREFECT_VENV)/bin/pip install --quiet 'prefect==3.8.8' 'sqlalchemy>=2.0,<2.1' \
	  'fastapi>=0.139,<0.151'
	touch $(PREFECT_STAMP)

install: $(STAMP) $(PREFECT_STAMP)

# Ports and the var dir are settings (README, Settings): FANGFAN_PORT, FANGFAN_PREFECT_PORT or
# PREFECT_API_URL, FANGFAN_VAR_DIR; a second `make run` with other values runs beside the first.
run: $(STAMP) $(PREFECT_STAMP) fonts
	$(BIN)/python -m fangfan run

# The notice PDF's Chinese font and pango (WeasyPrint), installed when this is a Debian root
# shell; otherwise `fangfan run` says in one line what to install (approvals/web/fonts.py).
fonts:
	@fc-list :lang=zh-cn family 2>/dev/null | grep -q . && ldconfig -p | grep -q libpangoft2 || { \
	  command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  echo "正在安装公示PDF所需的中文字体和排版组件（fonts-noto-cjk、pango）……" && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fontconfig \
	  fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 >/dev/null; } || true

test: check pytest

# Lint, the layers' contracts and the types: seconds once mypy's cache is warm.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The suite on SQLite, or on PostgreSQL with FANGFAN_TEST_DATABASE_URL.
pytest: $(STAMP) $(PREFECT_STAMP) browser
	$(BIN)/pytest -q

# Debian packages the tests use: Chromium for the phone pages (Playwright's own browser builds
# are not used), a CJK font and pango for the notice PDF (WeasyPrint), pdftotext to read it.
browser:
	@command -v chromium >/dev/null && command -v pdftotext >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk \
	  poppler-utils libpango-1.0-0 libpangoft2-1.0-0 >/dev/null; }

# Refresh the vendored WeUI stylesheet and ECharts from the npm packages pinned in package.json.
assets:
	npm install --no-audit --no-fund
	cp node_modules/weui/dist/style/weui.min.css \
	  approvals/web/static/vendor/weui-$$(node -p "require('weui/package.json').version").min.css
	cp node_modules/echarts/dist/echarts.min.js \
	  approvals/web/static/vendor/echarts-$$(node -p "require('echarts/package.json').version").min.js

bench-engine: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/engine.py

# 1,000,000 households: the feeds and the roster are generated once (var/bench/screening/)
bench-screening: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/screening.py

bench-webhook: $(STAMP)
	command -v wrk >/dev/null || apt-get install -y wrk
	$(BIN)/python bench/webhook.py

bench-notify: $(STAMP)
	$(BIN)/python bench/notify.py

bench-pages: $(STAMP)
	$(BIN)/python bench/pages.py

bench-desk: $(STAMP)
	$(BIN)/python bench/desk.py

.PHONY: install run fonts test check pytest browser assets bench-engine bench-webhook bench-notify bench-pages \
	bench-desk bench-screening
