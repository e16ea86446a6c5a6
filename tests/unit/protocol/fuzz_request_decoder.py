"""Coverage-guided fuzzing (atheris/libFuzzer) of the request decoder: any input must decode or
raise CorruptMessageError/UnsupportedVersionError, nothing else (no IndexError, no MemoryError,
no hang). Seeds are one encoded request per (api, version) plus the real client captures.

    .venv/bin/python tests/unit/protocol/fuzz_request_decoder.py CORPUS_DIR -max_total_time=600

test_fuzz.py runs it for a few seconds in `make test`."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from pystreams.broker.protocol import (SUPPORTED_VERSIONS, CorruptMessageError, RequestHeader,
                                           UnsupportedVersionError, decode_request, decode_request_header,
                                           encode_request)
    from pystreams.broker.protocol.registry import request_decoder


def test_one_input(data: bytes) -> None:
    frame = memoryview(data)
    try:
        header, offset = decode_request_header(frame)
        decode_request(header, frame, offset)
    except (CorruptMessageError, UnsupportedVersionError):
        pass


def write_seeds(corpus: Path) -> None:
    """One default-valued request per implemented (api, version), and the client captures."""
    corpus.mkdir(parents=True, exist_ok=True)
    for key, (lo, hi) in SUPPORTED_VERSIONS.items():
        for version in range(lo, hi + 1):
            raw = encode_request(RequestHeader(key, version, 1, "fuzz"), {})
            (corpus / f"seed-{key}-{version}").write_bytes(raw[4:])
    captures = json.loads((Path(__file__).parent / "client_captures.json").read_text())
    for i, capture in enumerate(captures):
        (corpus / f"capture-{i}").write_bytes(bytes.fromhex(capture["hex"]))


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else None
    if corpus is not None:
        write_seeds(corpus)
    # compile every decoder first, then instrument the generated functions too
    for key, (lo, hi) in SUPPORTED_VERSIONS.items():
        for version in range(lo, hi + 1):
            request_decoder(key, version)
    atheris.instrument_all()
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
