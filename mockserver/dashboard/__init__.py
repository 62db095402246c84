"""The dashboard: a web page at ``/_mock/`` (and ``/_mock/ui``) that shows the journal live.

Plain HTML, CSS and one script shipped in the package (``static/``): no build step, nothing
fetched from another host. The page polls :mod:`mockserver.dashboard.views` for the entries
newer than the last it has (their summaries, a few hundred bytes each), fetches one entry
whole when a row is opened, and manages stubs and resets through the admin API.
"""

from __future__ import annotations

from mockserver.dashboard.views import dashboard

__all__ = ["dashboard"]
