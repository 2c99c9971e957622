"""The least any Python web app can do: the same answers as Kumpul's ``/api/programme``, from constants.

``bench/programme.py`` serves this module with the same ASGI server and worker count as Kumpul, so the gap
between it and nginx is the cost of the server and the ASGI interface alone, with no application code.
``KUMPUL_BARE_ASGI`` names a JSON file holding the status lines' headers and the body to send: a request
with ``If-None-Match`` gets the 304, any other the 200.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

_SPEC = json.loads(Path(os.environ["KUMPUL_BARE_ASGI"]).read_text())
_HEADERS_200 = [(name.encode(), value.encode()) for name, value in _SPEC["headers_200"]]
_HEADERS_304 = [(name.encode(), value.encode()) for name, value in _SPEC["headers_304"]]
_BODY = Path(_SPEC["body_file"]).read_bytes()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer every request from the constants; take part in the lifespan protocol."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    revalidation = any(name == b"if-none-match" for name, _ in scope["headers"])
    status, headers, body = (304, _HEADERS_304, b"") if revalidation else (200, _HEADERS_200, _BODY)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
