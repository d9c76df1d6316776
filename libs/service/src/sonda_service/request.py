"""The request class of every service: a JSON body that cannot be decoded is the client's fault.

Litestar turns msgspec's ``DecodeError`` into a 400, but not the two other ways msgspec refuses a
body: ``UnicodeDecodeError`` (bytes that are not UTF-8 inside a string) and ``RecursionError``
(JSON nested thousands deep). Both reached clients as 500s; here they are the same 400
``malformed_json`` problem as any other malformed body.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException


class SondaRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        try:
            return await super().json()
        except UnicodeDecodeError as exc:
            raise ClientException(f"JSON is malformed: not UTF-8 at byte {exc.start}") from None
        except RecursionError:
            raise ClientException("JSON is malformed: nested too deeply") from None
