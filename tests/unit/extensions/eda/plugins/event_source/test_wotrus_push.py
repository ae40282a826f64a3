# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wotrus_push event source, loaded the way ansible-rulebook loads it (runpy.run_path),
driven through aiohttp's test client."""

from __future__ import annotations

import asyncio
import json
import logging
import pathlib
import runpy
import socket

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestClient, TestServer

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import protocol

ROOT = pathlib.Path(__file__).resolve().parents[6]
SOURCE = ROOT / "extensions" / "eda" / "plugins" / "event_source" / "wotrus_push.py"
SECRET = "unit-test-push-secret"
ORDER = "644A3E60-F1AA-4E25-821A-ACFBC462BC37"


@pytest.fixture(scope="module")
def source():
    return runpy.run_path(str(SOURCE))


class Clock(object):
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def body(order_id=ORDER, issued=True, revoked=False, key="orderId"):
    # As the sender (the sandbox, wotrus_sandbox/push.py) encodes it.
    return json.dumps({"dataAction": "order", key: order_id, "isIssued": issued, "isRevoked": revoked},
                      ensure_ascii=False).encode("utf-8")


def signed(raw, secret=SECRET, header=protocol.PUSH_SIGNATURE_HEADER):
    return {header: protocol.push_signature(secret, raw), "Content-Type": "application/json"}


class Receiver(object):
    def __init__(self, source, clock=None, **args):
        args.setdefault("port", 5307)
        self.settings = source["parse_args"](args, environ={})
        self.queue = asyncio.Queue()
        self.clock = clock or Clock()
        self.app = source["make_app"](self.queue, self.settings, clock=self.clock)
        self.client = None

    async def __aenter__(self):
        self.client = TestClient(TestServer(self.app))
        await self.client.start_server()
        return self

    async def __aexit__(self, *exc):
        await self.client.close()

    async def post(self, raw, headers=None, path="/wotrus/push"):
        resp = await self.client.post(path, data=raw, headers=headers or {})
        return resp.status, await resp.text()

    def events(self):
        out = []
        while not self.queue.empty():
            out.append(self.queue.get_nowait())
        return out


@pytest.mark.asyncio
async def test_a_signed_push_is_one_event_without_headers(source, caplog):
    caplog.set_level(logging.DEBUG)
    raw = body()
    async with Receiver(source, secret=SECRET) as rx:
        status, _text = await rx.post(raw, signed(raw))
        events = rx.events()
    assert status == 200
    assert len(events) == 1
    event = events[0]
    assert sorted(event) == ["data_action", "issued", "order_id", "received_at", "revoked"]
    assert (event["data_action"], event["order_id"], event["issued"], event["revoked"]) == ("order", ORDER, True, False)
    assert event["received_at"].endswith("Z")
    assert SECRET not in caplog.text and signed(raw)[protocol.PUSH_SIGNATURE_HEADER] not in caplog.text


@pytest.mark.asyncio
async def test_v109_casing_and_a_revocation(source):
    raw = body(key="orderID", revoked=True)
    async with Receiver(source, secret=SECRET) as rx:
        status, _text = await rx.post(raw, signed(raw))
        events = rx.events()
    assert status == 200
    assert [(e["order_id"], e["revoked"]) for e in events] == [(ORDER, True)]


@pytest.mark.asyncio
async def test_a_forged_signature_is_refused(source, caplog):
    raw = body()
    async with Receiver(source, secret=SECRET) as rx:
        wrong_secret = await rx.post(raw, signed(raw, secret="guessed"))
        other_body = await rx.post(body(order_id="FORGED"), signed(raw))
        garbage = await rx.post(raw, {protocol.PUSH_SIGNATURE_HEADER: "not hex at all"})
        events = rx.events()
    assert [s for s, _t in (wrong_secret, other_body, garbage)] == [401, 401, 401]
    assert events == []
    assert SECRET not in caplog.text


@pytest.mark.asyncio
async def test_a_missing_signature_is_refused(source):
    raw = body()
    async with Receiver(source, secret=SECRET) as rx:
        status, text = await rx.post(raw, {"Content-Type": "application/json"})
        # The signature in another header than the one configured is a missing one too.
        other = await rx.post(raw, signed(raw, header="X-Hub-Signature-256"))
        events = rx.events()
    assert (status, other[0]) == (401, 401)
    assert "missing signature" in text
    assert events == []


@pytest.mark.asyncio
async def test_the_signature_header_is_an_option(source):
    raw = body()
    async with Receiver(source, secret=SECRET, signature_header="X-Partner-Sig") as rx:
        default_header = await rx.post(raw, signed(raw))
        own_header = await rx.post(raw, signed(raw, header="X-Partner-Sig"))
        events = rx.events()
    assert (default_header[0], own_header[0]) == (401, 200)
    assert len(events) == 1


@pytest.mark.asyncio
async def test_a_redelivery_is_acknowledged_and_passed_on_once(source):
    raw = body()
    clock = Clock()
    async with Receiver(source, clock=clock, secret=SECRET, replay_window=60) as rx:
        answers = []
        for _attempt in range(3):
            answers.append(await rx.post(raw, signed(raw)))
            clock.now += 20
        events = rx.events()
    assert [s for s, _t in answers] == [200, 200, 200]
    assert "duplicate delivery" in answers[1][1]
    assert len(events) == 1


@pytest.mark.asyncio
async def test_stale_pushes_are_not_passed_on(source):
    issued, revoked = body(), body(revoked=True)
    clock = Clock()
    async with Receiver(source, clock=clock, secret=SECRET, replay_window=60, replay_memory=3600) as rx:
        first = await rx.post(issued, signed(issued))
        clock.now += 600  # later than the window: not the sender's retry but a replay
        replayed_later = await rx.post(issued, signed(issued))
        then_revoked = await rx.post(revoked, signed(revoked))
        events_before = rx.events()
        # An "issued, not revoked" push of the same order after its revocation is older than what we know.
        older_state = await rx.post(body(order_id=ORDER, issued=True, revoked=False) + b" ", signed(issued + b" "))
        clock.now += 7200  # past replay_memory: forgotten, a new delivery again
        forgotten = await rx.post(issued, signed(issued))
        events_after = rx.events()
    assert [s for s, _t in (first, replayed_later, then_revoked, older_state, forgotten)] == [200] * 5
    assert "stale" in replayed_later[1] and "stale" in older_state[1]
    assert [(e["order_id"], e["revoked"]) for e in events_before] == [(ORDER, False), (ORDER, True)]
    assert [(e["order_id"], e["revoked"]) for e in events_after] == [(ORDER, False)]


@pytest.mark.asyncio
async def test_malformed_bodies_are_refused(source):
    bad = [
        b"{not json",
        b"\xff\xfe",
        b"[1, 2]",
        json.dumps({"orderId": ORDER, "isIssued": True, "isRevoked": False}).encode(),
        json.dumps({"dataAction": "order", "isIssued": True, "isRevoked": False}).encode(),
        json.dumps({"dataAction": "order", "orderId": ORDER, "isIssued": "yes", "isRevoked": False}).encode(),
        json.dumps({"dataAction": "order", "orderId": ORDER, "isIssued": True}).encode(),
        json.dumps({"dataAction": 7}).encode(),
    ]
    async with Receiver(source, secret=SECRET) as rx:
        answers = [await rx.post(raw, signed(raw)) for raw in bad]
        events = rx.events()
    assert [s for s, _t in answers] == [400] * len(bad)
    assert "not JSON" in answers[0][1] and "isIssued" in answers[5][1]
    assert events == []


@pytest.mark.asyncio
async def test_another_data_action_is_passed_on_with_its_type(source):
    raw = json.dumps({"dataAction": "organization", "orgId": "ORG-1", "isValidated": True}).encode()
    async with Receiver(source, secret=SECRET) as rx:
        status, _text = await rx.post(raw, signed(raw))
        events = rx.events()
    assert status == 200
    assert len(events) == 1
    assert events[0]["data_action"] == "organization"
    assert events[0]["payload"] == {"dataAction": "organization", "orgId": "ORG-1", "isValidated": True}
    assert "order_id" not in events[0]


@pytest.mark.asyncio
async def test_an_oversize_body_is_refused(source):
    raw = json.dumps({"dataAction": "order", "orderId": ORDER, "isIssued": True, "isRevoked": False,
                      "padding": "x" * 2000}).encode()

    async def chunks():
        yield raw[:1000]
        yield raw[1000:]

    async with Receiver(source, secret=SECRET, max_body_size=1024) as rx:
        with_length = await rx.post(raw, signed(raw))
        chunked = await rx.post(chunks(), signed(raw))
        events = rx.events()
    assert (with_length[0], chunked[0]) == (413, 413)
    assert events == []


@pytest.mark.asyncio
async def test_other_paths_and_methods(source):
    raw = body()
    async with Receiver(source, secret=SECRET, path="/hooks/wotrus") as rx:
        default_path = await rx.post(raw, signed(raw))
        other_path = await rx.post(raw, signed(raw), path="/hooks/other")
        get = await rx.client.get("/hooks/wotrus")
        put = await rx.client.put("/hooks/wotrus", data=raw, headers=signed(raw))
        events = rx.events()
    assert (default_path[0], other_path[0], get.status, put.status) == (404, 404, 405, 405)
    assert events == []


def test_no_secret_no_start(source):
    with pytest.raises(ValueError, match="no secret.*WOTRUS_PUSH_SECRET.*insecure: true"):
        source["parse_args"]({"port": 5307}, environ={})
    with pytest.raises(ValueError, match="no secret.*PUSH_KEY"):
        source["parse_args"]({"port": 5307, "secret_env": "PUSH_KEY"}, environ={"WOTRUS_PUSH_SECRET": "x"})
    with pytest.raises(ValueError, match="no secret"):
        asyncio.run(source["main"](asyncio.Queue(), {"port": 5307}))
    from_env = source["parse_args"]({"port": 5307}, environ={"WOTRUS_PUSH_SECRET": SECRET})
    assert from_env["secret"] == SECRET


@pytest.mark.parametrize("args, message", [
    ({}, "port is required"),
    ({"port": "http"}, "port must be a number"),
    ({"port": 70000}, "port must be 1..65535"),
    ({"port": 5307, "path": "wotrus"}, "path must start with /"),
    ({"port": 5307, "max_body_size": 0}, "max_body_size must be at least 1"),
    ({"port": 5307, "replay_window": 600, "replay_memory": 60}, "replay_memory"),
    ({"port": 5307, "insecure": "yes"}, "insecure must be true or false"),
    ({"port": 5307, "keyfile": "/k.pem"}, "keyfile needs certfile"),
    ({"port": 5307, "hmac_secret": "x"}, "unknown option.*hmac_secret"),
])
def test_bad_options_name_the_option(source, args, message):
    args.setdefault("secret", SECRET)
    with pytest.raises(ValueError, match=message):
        source["parse_args"](args, environ={})


@pytest.mark.asyncio
async def test_insecure_accepts_unsigned_pushes(source):
    raw = body()
    async with Receiver(source, insecure=True) as rx:
        status, _text = await rx.post(raw, {"Content-Type": "application/json"})
        events = rx.events()
    assert status == 200 and len(events) == 1


def test_the_signature_rule_is_the_collections_own(source):
    """No copy: the source runs the collection's protocol.py, found beside it as installed."""
    loaded = source["protocol"]
    assert pathlib.Path(loaded.__file__).resolve() == pathlib.Path(protocol.__file__).resolve()
    raw = body()
    assert loaded.push_signature(SECRET, raw) == protocol.push_signature(SECRET, raw)
    assert loaded.PUSH_SIGNATURE_HEADER == protocol.PUSH_SIGNATURE_HEADER


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.asyncio
async def test_main_listens_until_cancelled(source, tmp_path):
    """main() as ansible-rulebook calls it, over HTTPS with certfile/keyfile."""
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "push.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "push.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    port = free_port()
    queue = asyncio.Queue()
    task = asyncio.create_task(source["main"](queue, {
        "port": port, "secret": SECRET, "certfile": str(tmp_path / "push.crt"), "keyfile": str(tmp_path / "push.key")}))
    raw = body()
    ctx = ssl.create_default_context(cafile=str(tmp_path / "push.crt"))
    try:
        async with ClientSession() as session:
            for _try in range(50):
                try:
                    async with session.post("https://localhost:%d/wotrus/push" % port, data=raw, headers=signed(raw),
                                            ssl=ctx) as resp:
                        status = resp.status
                    break
                except OSError:
                    await asyncio.sleep(0.1)
        event = await asyncio.wait_for(queue.get(), 5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert status == 200
    assert event["order_id"] == ORDER
