#!/usr/bin/env bash
# Set up what `make demo` or `make test` needs on a fresh Debian 12 machine, as root (nothing installed by hand):
#   scripts/bootstrap.sh demo   Python 3 with venv (Debian packages if missing) and .venv with pystreams in
#                               editable mode: what examples/demo.py runs. No Java, Maven, jars or dev tools.
#   scripts/bootstrap.sh test   (the default) also pystreams[dev] in .venv, the Debian packages the tests drive
#                               (kcat; Java 17 and Maven when missing) and the reference Kafka jars
#                               (scripts/reference.sh fetch).
# Each step is skipped when already done, so re-runs are fast and offline.
set -euo pipefail
cd "$(dirname "$0")/.."

level=${1:-test}
case "$level" in
  demo|test) ;;
  *) echo "usage: $0 [demo|test]" >&2; exit 2 ;;
esac
PYTHON=${PYTHON:-python3}

missing=()
"$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3 python3-venv)
if [ "$level" = test ]; then
  dpkg -s kcat >/dev/null 2>&1 || missing+=(kcat)
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: need Debian packages ${missing[*]}; run as root or install them: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# .venv/.pystreams-installed: pystreams[dev] installed; .venv/.pystreams-base-installed: pystreams alone
fresh() { [ -f "$1" ] && [ ! pyproject.toml -nt "$1" ] && { [ ! -f setup.py ] || [ ! setup.py -nt "$1" ]; }; }
dev_stamp=.venv/.pystreams-installed
base_stamp=.venv/.pystreams-base-installed
if [ "$level" = test ]; then
  fresh "$dev_stamp" && need_install="" || need_install='.[dev]'
else
  { fresh "$dev_stamp" || fresh "$base_stamp"; } && need_install="" || need_install='.'
fi
if [ -n "$need_install" ]; then
  # a .venv whose creation failed half-way (no pip) is made again
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
    echo "bootstrap: creating .venv"
    "$PYTHON" -m venv --clear .venv
  fi
  echo "bootstrap: installing pystreams${need_install#.} into .venv (editable)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e "$need_install"
  if [ "$level" = test ]; then touch "$dev_stamp"; else touch "$base_stamp"; fi
fi

if [ "$level" = test ]; then
  ./scripts/reference.sh fetch
fi
