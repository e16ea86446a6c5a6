# `make demo` and `make test` set themselves up on a fresh Debian 12 machine (see scripts/bootstrap.sh):
# the demo only what it runs (.venv with pystreams), the tests also the dev tools, kcat and the Kafka jars.
.PHONY: setup setup-demo demo test test-fast reference-kafka clean

PY := .venv/bin/python

setup:
	@./scripts/bootstrap.sh test

setup-demo:
	@./scripts/bootstrap.sh demo

demo: setup-demo
	$(PY) -m examples.demo

test: setup
	$(PY) -m pytest tests -n 2 --dist loadfile --durations=25

test-fast: setup
	$(PY) -m pytest tests/unit

reference-kafka: setup
	./scripts/reference.sh kafka

clean:
	rm -rf .venv .cache build *.egg-info
