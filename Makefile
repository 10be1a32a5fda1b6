# The 311 feedback intake assistant. `make help` lists what each target does.
SHELL := /bin/bash
.DEFAULT_GOAL := help
BOT_PY := .venvs/bot/bin/python
BACKEND_PY := .venvs/backend/bin/python
PYTEST_FLAGS ?= -q -p no:cacheprovider

.PHONY: help envs model run cluster lint test test-backend test-bot test-cluster classify corrections validate bench-nlu bench-corrections bench-kind bench-service-guess bench-conversation bench-registry bench-staff bench-scale clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

envs: ## Create or refresh both Python environments from their lock files (only when a lock changed)
	@scripts/setup_env.sh bot
	@scripts/setup_env.sh backend
	@scripts/fetch_encoder.sh

model: envs ## Train the Rasa model unless one for this exact config, domain and data exists
	@scripts/train.sh >/dev/null

run: envs ## Run the whole assistant on this machine: web chat page, backend, action server, Rasa (Ctrl-C stops)
	@model=$$(scripts/train.sh) && $(BOT_PY) scripts/stack.py --model "$$model"

cluster: envs ## Run the production profile here: PostgreSQL, Redis, 2 Rasa and 2 action servers behind nginx (Ctrl-C stops)
	@model=$$(scripts/train.sh) && $(BOT_PY) scripts/cluster.py --model "$$model"

lint: envs ## Check style and types: ruff (lint and format) over the repo, strict mypy over the backend
	.venvs/backend/bin/ruff check .
	.venvs/backend/bin/ruff format --check .
	.venvs/backend/bin/mypy

test: envs model ## Run every test (lint and types, backend, actions, NLU, end to end, faults on the production profile)
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory test-backend
	@$(MAKE) --no-print-directory test-bot
	@$(MAKE) --no-print-directory test-cluster

test-backend: envs ## Run the backend's tests, on SQLite and on a throwaway PostgreSQL 15
	scripts/with_postgres.sh $(BACKEND_PY) -m pytest $(PYTEST_FLAGS) -W error tests/backend

test-bot: model ## Run the bot's tests: actions, channels, classify, and the live stack end to end
	INTAKE_CHROMIUM=$$(scripts/ensure_chromium.sh) INTAKE_MODEL=$$(scripts/train.sh) $(BOT_PY) -m pytest $(PYTEST_FLAGS) --timeout 900 tests/bot tests/e2e

test-cluster: model ## Fault tests on the production profile: Rasa server killed, backend down, PostgreSQL and actions restarted
	INTAKE_MODEL=$$(scripts/train.sh) $(BOT_PY) -m pytest $(PYTEST_FLAGS) --timeout 900 tests/cluster

classify: model ## Classify messages from stdin, one per line, printing one JSON object per line
	@$(BOT_PY) scripts/classify.py --model "$$(scripts/train.sh)"

corrections: envs ## Export cases whose kind staff changed as redacted NLU examples to review (var/corrections/)
	@$(BACKEND_PY) -m backend.manage export-corrections

validate: envs ## Check the domain, rules, stories and NLU data (rasa data validate, with nothing left unexplained)
	$(BOT_PY) scripts/validate_data.py

bench-nlu: model ## Train our config, a lighter one and Rasa's default from scratch; score them on the held-out and outside sets
	$(BOT_PY) benchmarks/nlu.py --config config.yml --config benchmarks/light_config.yml --config benchmarks/default_config.yml

bench-kind: model ## Simulated residents: how often a report ends with the right kind, asked or not; threshold sweep
	$(BOT_PY) benchmarks/kind_choice.py --model "$$(scripts/train.sh)" --sweep

bench-service-guess: envs ## How often the type and team guessed from a first message are right (tests/data/service_guess.yml)
	$(BOT_PY) benchmarks/service_guess.py

bench-corrections: model ## Staff reclassify the misread of a 300-message stream; outside-style F1 before and after training on them
	$(BOT_PY) benchmarks/corrections.py --model "$$(scripts/train.sh)"

bench-conversation: model ## 20 residents at once, answering at once on stock Rasa, all patches, each speed patch left out and a rasa init assistant, taking turns (5 runs each); then pausing 3 s
	$(BOT_PY) benchmarks/conversation_load.py --model "$$(scripts/train.sh)" --concurrency 20 --rounds 4 --repeat 5 --ablation
	$(BOT_PY) benchmarks/conversation_load.py --model "$$(scripts/train.sh)" --concurrency 20 --rounds 2 --think 3

bench-registry: envs ## Benchmark the case registry under concurrent writers, on SQLite and PostgreSQL
	scripts/with_postgres.sh $(BACKEND_PY) benchmarks/registry.py

bench-staff: envs ## Time the staff case list, filters and analytics at 100,000 cases, on SQLite and PostgreSQL
	scripts/with_postgres.sh $(BACKEND_PY) benchmarks/staff_list.py

bench-scale: model ## 200 concurrent conversations through nginx to 2 Rasa servers, then to 1: speed, checks, memory
	$(BOT_PY) benchmarks/scale.py --model "$$(scripts/train.sh)"

clean: ## Remove environments, models, caches and the local database
	rm -rf .venvs models .rasa var build
