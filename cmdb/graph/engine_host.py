"""``python -m cmdb.graph.engine_host``: the embedded engine in a background process of its own.

Started by a ``cmdb`` command that found no engine running; stops by itself once no process has
used it for ``CMDB_ENGINE_IDLE_SECONDS`` (see ``cmdb.graph.engine``).
"""

from __future__ import annotations

from cmdb.graph.engine import run_background_host
from cmdb.settings import get_settings

if __name__ == "__main__":
    run_background_host(get_settings())
