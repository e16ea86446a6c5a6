#!/usr/bin/env bash
# The reference systems (tests and bench only): Apache Kafka and Kafka Streams jars from Maven
# Central, copied into .cache/reference/lib by tests/reference/pom.xml.
#   scripts/reference.sh fetch     fetch the jars once (later runs are offline and instant)
#   scripts/reference.sh kafka     run a reference Apache Kafka in the foreground (Ctrl-C stops it)
set -euo pipefail
cd "$(dirname "$0")/.."
lib=.cache/reference/lib
stamp=$lib/.fetched
case "${1:-fetch}" in
  fetch)
    if [ ! -f "$stamp" ] || [ tests/reference/pom.xml -nt "$stamp" ]; then
      command -v mvn >/dev/null || { echo "reference: Maven (mvn) is needed to fetch the Kafka jars: apt-get install maven" >&2; exit 1; }
      echo "reference: fetching Apache Kafka jars from Maven Central into $lib"
      rm -rf "$lib"
      mvn -q -B -f tests/reference/pom.xml dependency:copy-dependencies \
        -DoutputDirectory="$PWD/$lib" -DincludeScope=runtime
      touch "$stamp"
    fi
    ;;
  kafka)
    shift
    exec .venv/bin/python -m tests.reference.kafka "$@"
    ;;
  *) echo "usage: $0 fetch|kafka" >&2; exit 2 ;;
esac
