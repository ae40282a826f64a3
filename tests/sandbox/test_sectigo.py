# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Sectigo sandbox app on its own (aiohttp TestServer, HTTPS and plain HTTP),
and the collection's client against it."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, ".collections"))
sys.path.insert(0, HERE)

from wotrus_sandbox import sectigo  # noqa: E402
from _tls_helpers import make_csr, server_tls  # noqa: E402

from ansible_collections.wotrus.pki.plugins.module_utils._sectigo import dcv  # noqa: E402
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.client import SectigoClient  # noqa: E402
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.errors import (  # noqa: E402
    SectigoApiError,
    SectigoAuthError,
    SectigoCallLimitError,
    SectigoUploadError,
)
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.status import summarize  # noqa: E402


LOGIN = {"login_name": "partner", "login_password": "pass-word"}
ENDPOINT = "/sectigo/products/!getPostPaymentStatus"


def mounted(settings, state_dir):
    root = aiohttp.web.Application()
    root.add_subapp("/sectigo", sectigo.create_app(settings, state_dir))
    return root


@pytest_asyncio.fixture
async def servers(tmp_path):
    csr_pem, csr_der = make_csr("www.example.com", "example.com", "*.example.net")
    settings = dict(LOGIN, call_limit=0, sasp_sessions=["SESSION000000001"],
                    orders=[{"order_number": "1001", "csr": csr_pem, "unique_value": "u1x2"}])
    ctx, ca_file = server_tls(tmp_path)
    https = TestServer(mounted(settings, tmp_path), host="127.0.0.1")
    await https.start_server(ssl=ctx)
    http = TestServer(mounted(settings, tmp_path), host="127.0.0.1")
    await http.start_server()
    session = aiohttp.ClientSession()
    try:
        yield dict(https=https, http=http, ca_file=ca_file, csr_der=csr_der, session=session, ssl=False)
    finally:
        await session.close()
        await https.close()
        await http.close()


async def post(s, form, server="https", method="POST"):
    url = s[server].make_url(ENDPOINT)
    async with s["session"].request(method, url, data=form, ssl=False) as response:
        return await response.json()


@pytest.mark.asyncio
async def test_get_answers_minus_17(servers):
    assert (await post(servers, None, method="GET"))["errorCode"] == "-17"


@pytest.mark.asyncio
async def test_plain_http_answers_minus_1(servers):
    document = await post(servers, dict(loginName="partner", loginPassword="pass-word", orderNumber="1001"),
                          server="http")
    assert document == {"errorCode": "-1", "errorMessage": "Request was not made over https!", "data": {}}


@pytest.mark.asyncio
@pytest.mark.parametrize("form, code", [
    (dict(loginName="partner", loginPassword="wrong", orderNumber="1001"), "-16"),
    (dict(loginName="partner", orderNumber="1001"), "-3"),
    (dict(loginName="partner", loginPassword="pass-word"), "-3"),
    (dict(loginName="partner", loginPassword="pass-word", orderNumber="9999"), "-4"),
    (dict(loginName="partner", loginPassword="pass-word", orderNumber="1001", colour="red"), "-2"),
    (dict(saspSessionID="nope", orderNumber="1001"), "-16"),
])
async def test_failures_carry_string_codes(servers, form, code):
    document = await post(servers, form)
    assert document["errorCode"] == code and document["data"] == {}


@pytest.mark.asyncio
async def test_names_are_case_insensitive(servers):
    document = await post(servers, dict(LOGINNAME="partner", loginpassword="pass-word", OrderNumber="1001"))
    assert document["errorCode"] == 0


@pytest.mark.asyncio
async def test_client_reads_status_and_dcv_values_match_the_csr(servers):
    client = SectigoClient(api_url=str(servers["https"].make_url(ENDPOINT)), ca_path=servers["ca_file"], **LOGIN)
    data = await asyncio.get_running_loop().run_in_executor(None, client.get_post_payment_status, "1001")
    result, warnings = summarize(data)
    assert warnings == []
    md5, sha256 = dcv.csr_hashes(servers["csr_der"])
    assert result["csr_hash"]["md5"] == md5 == hashlib.md5(servers["csr_der"]).hexdigest().upper()
    by_name = {d["domain_name"]: d for d in result["domains"]}
    assert set(by_name) == {"www.example.com", "example.com", "*.example.net"}
    www = by_name["www.example.com"]
    assert www["http_file_path"] == "/.well-known/pki-validation/%s.txt" % md5
    assert www["http_file_content"] == "%s\nsectigo.com\nu1x2" % sha256
    assert www["cname_target"] == "%s.%s.u1x2.sectigo.com" % (sha256[:32], sha256[32:])
    assert by_name["*.example.net"]["http_file_path"] is None
    assert by_name["*.example.net"]["csr_hash_options"] == ["CNAME CSR Hash"]


@pytest.mark.asyncio
async def test_client_errors(servers):
    loop = asyncio.get_running_loop()
    url = str(servers["https"].make_url(ENDPOINT))
    bad = SectigoClient(api_url=url, ca_path=servers["ca_file"], login_name="partner", login_password="x")
    with pytest.raises(SectigoAuthError):
        await loop.run_in_executor(None, bad.get_post_payment_status, "1001")
    good = SectigoClient(api_url=url, ca_path=servers["ca_file"], **LOGIN)
    with pytest.raises(SectigoApiError) as info:
        await loop.run_in_executor(None, good.get_post_payment_status, "424242")
    assert info.value.error_code == -4
    session = SectigoClient(api_url=url, ca_path=servers["ca_file"], sasp_session_id="SESSION000000001")
    data = await loop.run_in_executor(None, session.get_post_payment_status, "1001")
    assert data["orderNumber"] == 1001
    plain = SectigoClient(api_url=str(servers["http"].make_url(ENDPOINT)), **LOGIN)
    with pytest.raises(SectigoApiError) as info:
        await loop.run_in_executor(None, plain.get_post_payment_status, "1001")
    assert info.value.error_code == -1 and "https" in info.value.message


@pytest.mark.asyncio
async def test_call_limit_and_client_backoff(servers):
    https = servers["https"]
    async with servers["session"].post(https.make_url("/sectigo/_manage/calls/reset"),
                                       json={"call_limit": 2, "call_limit_window": 0.5}, ssl=False) as r:
        assert r.status == 200
    form = dict(loginName="partner", loginPassword="pass-word", orderNumber="1001")
    codes = [(await post(servers, form))["errorCode"] for _ in range(3)]
    assert codes == [0, 0, "-42"]
    loop = asyncio.get_running_loop()
    client = SectigoClient(api_url=str(https.make_url(ENDPOINT)), ca_path=servers["ca_file"], backoff=0.3,
                           max_delay=0.6, **LOGIN)
    data = await loop.run_in_executor(None, client.get_post_payment_status, "1001")
    assert data["orderNumber"] == 1001 and client.retried >= 1
    stubborn = SectigoClient(api_url=str(https.make_url(ENDPOINT)), ca_path=servers["ca_file"], retries=0, **LOGIN)
    await post(servers, form)
    await post(servers, form)
    with pytest.raises(SectigoCallLimitError):
        await loop.run_in_executor(None, stubborn.get_post_payment_status, "1001")


@pytest.mark.asyncio
async def test_document_upload(servers, tmp_path):
    loop = asyncio.get_running_loop()
    url = str(servers["https"].make_url(ENDPOINT))
    client = SectigoClient(api_url=url, ca_path=servers["ca_file"], **LOGIN)
    data = await loop.run_in_executor(None, client.get_post_payment_status, "1001")
    assert data["uploadDocumentUrl"].endswith("/sectigo/upload")
    doc = tmp_path / "licence.pdf"
    doc.write_bytes(b"%PDF-1.4 licence")
    answer = await loop.run_in_executor(None, client.upload_documents, data["uploadDocumentUrl"],
                                        data["uploadDocumentToken"], [str(doc)], "营业执照")
    assert answer.status == 303
    async with servers["session"].get(servers["https"].make_url("/sectigo/_manage/orders/1001"), ssl=False) as r:
        order = await r.json()
    assert [(d["name"], d["comment"], d["sha256"]) for d in order["documents"]] == \
        [("licence.pdf", "营业执照", hashlib.sha256(b"%PDF-1.4 licence").hexdigest())]
    forged = data["uploadDocumentToken"][:-4] + "AAAA"
    with pytest.raises(SectigoUploadError, match="bad token signature"):
        await loop.run_in_executor(None, client.upload_documents, data["uploadDocumentUrl"], forged, [str(doc)])


def test_jwt_round_trip_and_expiry():
    token = sectigo.jwt_encode({"sub": "1", "exp": 100}, "secret")
    assert sectigo.jwt_decode(token, "secret", now=99)["sub"] == "1"
    with pytest.raises(ValueError, match="expired"):
        sectigo.jwt_decode(token, "secret", now=100)
    with pytest.raises(ValueError, match="signature"):
        sectigo.jwt_decode(token, "other", now=1)


@pytest.mark.asyncio
async def test_manage_register_order_from_csr(servers):
    csr_pem, csr_der = make_csr("new.example.org")
    https = servers["https"]
    async with servers["session"].post(https.make_url("/sectigo/_manage/orders"),
                                       json={"order_number": "2002", "csr": csr_pem}, ssl=False) as r:
        assert r.status == 201
        order = await r.json()
    assert order["md5"] == hashlib.md5(csr_der).hexdigest().upper()
    assert order["domains"] == ["new.example.org"]
    async with servers["session"].post(https.make_url("/sectigo/_manage/orders/2002"),
                                       json={"domain_status": {"new.example.org": "Completed"},
                                             "order_status": "Current"}, ssl=False) as r:
        assert r.status == 200
    document = await post(servers, dict(loginName="partner", loginPassword="pass-word", orderNumber="2002"))
    assert document["data"]["orderStatus"] == "Current"
    assert document["data"]["dcvStatus"]["status"] == "Completed"
