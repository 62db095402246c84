"""The OpenAI-compatible routes, behind the bearer-key check (see ``dispatch`` and ``guard``)."""

from __future__ import annotations

from mockserver.api.dispatch import ADMIN_PREFIX, ROUTES, ApiApp

__all__ = ["ADMIN_PREFIX", "ROUTES", "ApiApp"]
