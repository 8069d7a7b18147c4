"""GET /api/v1/backup: the same file `cmdb backup` writes, streamed to an admin."""

from __future__ import annotations

import itertools
import logging
from typing import Iterator

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from cmdb.auth import GraphDep, SettingsDep, allowed_to
from cmdb.backup.service import iter_backup
from cmdb.documents.store import file_store
from cmdb.graph.schema import utc_now

log = logging.getLogger(__name__)

router = APIRouter(tags=["backup"], dependencies=[Depends(allowed_to("backup"))])


def _logged(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Once streaming has begun an error can no longer change the status; the file then
    lacks its end record, which `cmdb restore` reports as truncated."""
    try:
        yield from chunks
    except Exception:
        log.exception("backup download interrupted")
        raise


@router.get("/backup", response_class=StreamingResponse,
            responses={200: {"content": {"application/gzip": {}},
                             "description": "gzip-compressed JSON Lines backup of the register"}})
def download_backup(graph: GraphDep, settings: SettingsDep) -> StreamingResponse:
    """Download a backup of the whole register (admin only); restore it with `cmdb restore`."""
    chunks = iter_backup(graph, files=file_store(settings))
    # The first chunk needs the register's counts: failures to reach the engine surface here,
    # as a proper error response, before the download starts.
    first = next(chunks)
    stamp = utc_now()[:19].replace("-", "").replace(":", "")
    return StreamingResponse(
        _logged(itertools.chain([first], chunks)), media_type="application/gzip",
        headers={"Content-Disposition": f'attachment; filename="cmdb-backup-{stamp}Z.jsonl.gz"',
                 "Cache-Control": "no-store"})
