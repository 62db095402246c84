"""Exceptions raised for misuse and bad configuration.

Validation problems are data (:class:`harness.schema.Violation`), never exceptions.
The tree::

    HarnessError
    ├── SpecLoadError        a spec document or folder cannot be read or indexed
    │   └── OverlayError     an overlay is malformed, or one of its actions matches nothing
    └── UsageError           a caller passed something that cannot work (bad option, unknown name)
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base class of every exception the harness raises on purpose."""


class SpecLoadError(HarnessError):
    """A spec document or a specs folder cannot be loaded."""


class OverlayError(SpecLoadError):
    """An overlay document is malformed or an action's target selects nothing.

    A target that matches nothing means the published spec changed under the
    correction, which must be looked at rather than silently skipped.
    """


class UsageError(HarnessError):
    """The caller asked for something that cannot work; the message says what was expected."""
