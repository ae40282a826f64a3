# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Push (API text 8.1): POST the order state to the partner's URL.

Body as the seeds show: ``{"dataAction": "order", "orderId": ..., "isIssued":
..., "isRevoked": ...}`` (``orderID`` with answer_casing v109). Signed as
NOTES.md assumes: HMAC-SHA256 of the raw body with the shared secret, hex, in
a header (name and secret are knobs). Up to ``push_attempts`` (3) attempts,
stopping at the first HTTP 200; every attempt goes to the push log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time

import aiohttp

from wotrus_sandbox.collection import protocol

log = logging.getLogger("wotrus_sandbox.push")


def body_for(settings, order_id, event):
    key = "orderID" if settings["answer_casing"] == "v109" else "orderId"
    return {
        "dataAction": "order",
        key: order_id,
        # Assumption: a revoked certificate was issued first, so a revocation push says both.
        "isIssued": True,
        "isRevoked": event == "revoked",
    }


class Pusher:
    def __init__(self, sb):
        self.sb = sb
        self.tasks = set()
        self._session = None

    def schedule(self, order_id, event):
        url = self.sb.settings.get("push_url")
        if not url:
            return
        task = asyncio.get_running_loop().create_task(self.deliver(url, order_id, event))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _client(self):
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def deliver(self, url, order_id, event):
        settings = self.sb.settings
        raw = json.dumps(body_for(settings, order_id, event), ensure_ascii=False).encode("utf-8")
        signature = protocol.push_signature(settings["push_secret"], raw)
        headers = {"Content-Type": "application/json", settings["push_header"]: signature}
        attempts = int(settings["push_attempts"])
        session = await self._client()
        for attempt in range(1, attempts + 1):
            status, error = None, None
            try:
                async with session.post(url, data=raw, headers=headers,
                                        timeout=aiohttp.ClientTimeout(total=float(settings["push_timeout"])),
                                        ssl=ssl.create_default_context()) as resp:
                    status = resp.status
                    await resp.read()
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                error = "%s: %s" % (type(exc).__name__, exc)
            delivered = status == 200
            self.sb.store.log_push(time=time.time(), order_id=order_id, event=event, attempt=attempt, url=url,
                                   body=raw.decode("utf-8"), signature=signature, http_status=status, error=error,
                                   delivered=int(delivered))
            log.info("push %s %s attempt %d -> %s", event, order_id, attempt, status or error)
            if delivered:
                return True
            if attempt < attempts:
                await asyncio.sleep(float(settings["push_retry_delay"]))
        return False

    async def close(self):
        for t in list(self.tasks):
            t.cancel()
        if self._session is not None:
            await self._session.close()
