"""Push endpoints: only https on public hosts, so no client can aim the server inside its network."""

from __future__ import annotations

import pytest

from server.errors import Invalid
from server.push.endpoints import check_endpoint

REFUSED = [
    "http://push.example.com/send/1",
    "ftp://8.8.8.8/x",
    "https://127.0.0.1/push",
    "https://127.1.2.3:8443/push",
    "https://localhost/push",
    "https://push.localhost/x",
    "https://10.0.0.8/push",
    "https://172.16.4.4/push",
    "https://192.168.1.20/push",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/push",
    "https://0.0.0.0/push",
    "https://[::1]/push",
    "https://[fe80::1]/push",
    "https://[fc00::1]/push",
    "https://[::ffff:127.0.0.1]/push",
    "https://[::ffff:10.0.0.1]/push",
    "https://2130706433/push",
    "https://0x7f000001/push",
    "https://user:pass@8.8.8.8/push",
    "https://printer.local/push",
    "https://metadata.internal/push",
    "not a url",
]


@pytest.mark.parametrize("endpoint", REFUSED)
async def test_internal_and_insecure_endpoints_are_refused(endpoint: str) -> None:
    with pytest.raises(Invalid) as refused:
        await check_endpoint(endpoint)
    assert refused.value.field == "endpoint"


async def test_a_public_https_endpoint_is_accepted() -> None:
    await check_endpoint("https://8.8.8.8/wpush/v2/abc")
    await check_endpoint("https://[2001:4860:4860::8888]/wpush/v2/abc")


async def test_insecure_loopback_only_when_allowed_and_only_loopback() -> None:
    await check_endpoint("http://127.0.0.1:9999/push/1", allow_insecure_loopback=True)
    await check_endpoint("http://localhost:9999/push/1", allow_insecure_loopback=True)
    await check_endpoint("http://[::1]:9999/push/1", allow_insecure_loopback=True)
    for endpoint in ("http://10.0.0.1/push", "http://192.168.1.1/push", "http://169.254.169.254/"):
        with pytest.raises(Invalid):
            await check_endpoint(endpoint, allow_insecure_loopback=True)
