"""HTTP routes of ingest."""

from sonda_ingest.routes.analysis import delete_analysis, start_analysis
from sonda_ingest.routes.maintenance import cleanup_old_analyses
from sonda_ingest.routes.uploads import presigned_upload, receive_upload

ROUTES = [presigned_upload, receive_upload, start_analysis, delete_analysis, cleanup_old_analyses]

__all__ = [
    "ROUTES",
    "cleanup_old_analyses",
    "delete_analysis",
    "presigned_upload",
    "receive_upload",
    "start_analysis",
]
