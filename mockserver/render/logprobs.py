"""A token's log probability as both APIs write it in a reply.

Chat's ``choices[].logprobs.content[]`` and a Responses ``output_text`` part's ``logprobs[]``
are the same object (SDK ``ChatCompletionTokenLogprob``, ``ResponseOutputText.Logprob``): the
token, its log probability and bytes, and alternatives with theirs. (Responses stream events
leave the bytes out: ``render.responses``.)
"""

from __future__ import annotations

from typing import Any

from mockserver.engine.plan import TokenLogprob


def logprob_json(entry: TokenLogprob) -> dict[str, Any]:
    return {
        "token": entry.token,
        "logprob": entry.logprob,
        "bytes": entry.bytes,
        "top_logprobs": [
            {"token": top.token, "logprob": top.logprob, "bytes": top.bytes} for top in entry.top
        ],
    }
