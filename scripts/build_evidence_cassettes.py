"""Regenerate ``cassettes/evidence/``: the real payloads the overlays cite, as vcrpy cassettes.

Each evidence file in ``specs/evidence/`` that holds a whole answer (``kind: response``)
becomes one cassette: its payload is the recorded response, and the request is the one that
asks for that answer, as its ``describes`` says (written out below, one per drift id).
Evidence that holds a single stream event or only a request is not a whole interaction, and
the documented streams (``cassettes/documented/``) already carry those events in order::

    python scripts/build_evidence_cassettes.py            # writes cassettes/evidence/*.yaml
    python scripts/build_evidence_cassettes.py --out DIR  # somewhere else

``tests/cassettes/test_compare_corpus.py`` regenerates them and fails when the committed
files differ, so an edited evidence payload cannot leave its cassette behind.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.cassettes.cassette import (  # noqa: E402 - after the path is set
    RecordedRequest,
    RecordedResponse,
    write_cassette,
)

EVIDENCE = ROOT / "specs" / "evidence"
OUT = ROOT / "cassettes" / "evidence"
HOST = "https://api.aimlapi.com"
WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "temperature_c": {"type": "number"}},
    "required": ["city", "temperature_c"],
    "additionalProperties": False,
}
# The request that asks for each evidence answer, by evidence file stem.
REQUESTS: dict[str, dict[str, Any]] = {
    # "requested with logprobs: true"; one token ("Hello"), cut by the length limit.
    "C5-logprobs-refusal-null": {
        "model": "gpt-4",
        "messages": [{"role": "user", "content": "Hello"}],
        "logprobs": True,
        "max_tokens": 1,
    },
    # "the model answers with a tool call": get_weather, called for Paris.
    "C6-message-content-null": {
        "model": "gpt-4",
        "messages": [{"role": "user", "content": "What's the weather in Paris?"}],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Current weather for a city.",
                    "parameters": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}},
                        "required": ["city"],
                    },
                },
            }
        ],
    },
    # "a completed gpt-4-0613 Response body" (stored: it echoes store true).
    "C7-reasoning-null": {"model": "gpt-4", "input": "Hello", "store": True},
    # "a structured-output request": the json_schema format it echoes, sent without a
    # description (the echo's description null is the drift).
    "R6-format-description-null": {
        "model": "gpt-4",
        "input": "The weather in Paris as JSON.",
        "store": True,
        "text": {
            "format": {
                "type": "json_schema",
                "name": "weather",
                "strict": True,
                "schema": WEATHER_SCHEMA,
            }
        },
    },
    # "a request whose messages field is invalid": messages[1].content is an integer.
    "S3-error-body": {
        "model": "gpt-4",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": 42},
        ],
    },
}
REASONS = {200: "OK", 400: "Bad Request"}


def build(out: Path) -> list[Path]:
    """Write one cassette per answer-holding evidence file; returns the files written."""
    written: list[Path] = []
    stems = sorted(path.stem for path in EVIDENCE.glob("*.json"))
    for stem in stems:
        evidence = json.loads((EVIDENCE / f"{stem}.json").read_text(encoding="utf-8"))
        if evidence["kind"] != "response":
            continue
        if stem not in REQUESTS:
            raise SystemExit(f"{stem}: an answer without a request here; add it to REQUESTS")
        status = int(evidence["status"])
        request = RecordedRequest(
            evidence["method"].upper(),
            f"{HOST}{evidence['path']}",
            _compact(REQUESTS[stem]),
            {"Content-Type": ["application/json"]},
        )
        response = RecordedResponse(
            status,
            REASONS[status],
            {"Content-Type": [evidence["media_type"]]},
            _compact(evidence["payload"]),
        )
        path = out / f"{stem}.yaml"
        write_cassette(
            path,
            [(request, response)],
            {
                "source": "documented",
                "description": evidence["describes"],
                "evidence": f"specs/evidence/{stem}.json (drift {evidence['drift_id']}): "
                f"{evidence['source']}",
                "note": "Built by scripts/build_evidence_cassettes.py from an evidence payload "
                "(not a recording); the request is the one its description names.",
            },
        )
        written.append(path)
    unused = sorted(set(REQUESTS) - set(stems))
    if unused:
        raise SystemExit(f"requests for evidence that does not exist: {', '.join(unused)}")
    return written


def _compact(payload: Any) -> bytes:
    # The real API writes compact JSON with non-ASCII text as UTF-8.
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder (default: {OUT})")
    args = parser.parse_args()
    for path in build(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
