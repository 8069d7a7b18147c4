"""``python -m cmdb.graph.engine_host``: the embedded engine in a background process of its own.

Started by a ``cmdb`` command that found no engine running, it stops by itself once no process
has used it for ``CMDB_ENGINE_IDLE_SECONDS`` (see ``cmdb.graph.engine``). Started by ``cmdb
serve`` (``--supervisor PID --bolt-port PORT``), it runs until that process stops it or is gone,
always on the same Bolt port so the API workers reconnect to a restarted engine by themselves.
"""

from __future__ import annotations

import argparse
import logging
import os

from cmdb.graph.engine import run_background_host
from cmdb.settings import get_settings

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m cmdb.graph.engine_host")
    parser.add_argument("--supervisor", type=int, default=None)
    parser.add_argument("--bolt-port", type=int, default=0)
    args = parser.parse_args()
    run_background_host(get_settings(), supervisor=args.supervisor, bolt_port=args.bolt_port)
    # The engine has stopped and closed its databases. A connection another process still holds
    # (a command, or the workers of a `cmdb serve` killed outright) keeps an engine thread
    # alive, and the JVM would wait for it at exit: this process would never end.
    logging.shutdown()
    os._exit(0)
