# `make demo` and `make test` set themselves up on a fresh machine (see scripts/bootstrap.sh).
.PHONY: setup demo test test-fast reference-kafka clean

PY := .venv/bin/python

setup:
	@./scripts/bootstrap.sh

demo: setup
	$(PY) -m examples.demo

test: setup
	$(PY) -m pytest tests -n 2 --dist loadfile --durations=25

test-fast: setup
	$(PY) -m pytest tests/unit

reference-kafka: setup
	./scripts/reference.sh kafka

clean:
	rm -rf .venv .cache build *.egg-info
