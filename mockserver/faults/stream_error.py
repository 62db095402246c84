"""The fault that ends a stream part-way with the error the live API sends then.

After ``X-Mock-Fault-After-Frames`` frames (3 unless asked) the stream ends with the
endpoint's own error frames (chat: ``data: {"error": ...}`` and no ``[DONE]``; Responses:
``error`` and ``response.failed``); ``X-Mock-Fault-Error-Type`` and
``X-Mock-Fault-Error-Code`` choose the error's ``type`` and ``code``. A request that asked
for no stream gets the same error as a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from mockserver.errors import ErrorReply
from mockserver.faults.base import (
    AFTER_FRAMES_HEADER,
    ERROR_CODE_HEADER,
    ERROR_TYPE_HEADER,
    Fault,
    FaultPlan,
    StreamError,
)


class StreamErrorFault(Fault):
    name: ClassVar[str] = "stream_error"
    summary: ClassVar[str] = (
        "HTTP 200, then after 3 frames the error the live API ends a failed stream with "
        '(chat `data: {"error": ...}` and no `[DONE]`; Responses `error` and '
        "`response.failed`); a request without `stream` gets that error as a 500"
    )
    headers: ClassVar[tuple[str, ...]] = (AFTER_FRAMES_HEADER, ERROR_TYPE_HEADER, ERROR_CODE_HEADER)

    def stream_failure(self, plan: FaultPlan) -> StreamError:
        return plan.stream_error

    def error_without_stream(self, plan: FaultPlan) -> ErrorReply:
        # No stream to fail part-way: the error comes as the status a failed request gets.
        return plan.stream_error.reply()


STREAM_ERROR = StreamErrorFault()


def stub_stream_error(plan: FaultPlan, spec: Mapping[str, Any]) -> FaultPlan:
    """The plan of a stub's ``{"stream_error": {...}}`` reply (fields as the stub schema has)."""
    error = plan.stream_error
    error_type = spec.get("type")
    code = spec.get("code")
    after = spec.get("after_frames")
    return replace(
        plan,
        fault=STREAM_ERROR,
        after_frames=plan.after_frames if after is None else int(after),
        stream_error=StreamError(
            type=str(error_type or error.type),
            code=str(code or error_type or error.code),
            message=str(spec.get("message") or error.message),
            param=spec.get("param"),
        ),
    )
