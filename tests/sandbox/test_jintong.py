# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The 今通国际 sandbox app on its own (aiohttp TestServer), and the collection's client against it."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from urllib.parse import unquote

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, ".collections"))

from wotrus_sandbox import jintong  # noqa: E402
from wotrus_sandbox.collection import jintong_signing  # noqa: E402

from ansible_collections.wotrus.pki.plugins.module_utils._jintong.client import JintongClient  # noqa: E402
from ansible_collections.wotrus.pki.plugins.module_utils._jintong.errors import JintongApiError  # noqa: E402

PARTNERS = {"jane88": "k-jane", "other": "k-other"}


@pytest_asyncio.fixture
async def server(tmp_path):
    root = aiohttp.web.Application()
    root.add_subapp("/jintong", jintong.create_app(
        {"partners": PARTNERS, "orders": [
            {"order_id": "151103654827", "consumer": "jane88"},
            {"order_id": "500", "consumer": "jane88", "state": "D"},
            {"order_id": "600", "consumer": "jane88", "state": "E"},
        ]}, tmp_path))
    srv = TestServer(root, host="127.0.0.1")
    await srv.start_server()
    session = aiohttp.ClientSession()
    try:
        yield dict(server=srv, session=session, url=str(srv.make_url("/jintong")))
    finally:
        await session.close()
        await srv.close()


async def cancel(s, order_id="151103654827", consumer="jane88", remark="取消", partner="jane88", key="k-jane"):
    client = JintongClient(s["url"], partner, key)
    return await asyncio.get_running_loop().run_in_executor(None, client.cancel_order, order_id, consumer, remark)


async def order(s, order_id):
    async with s["session"].get(s["server"].make_url("/jintong/_manage/orders/%s" % order_id)) as r:
        return await r.json()


@pytest.mark.asyncio
async def test_cancel_then_already_cancelled(server):
    first = await cancel(server)
    assert first.changed and first.signature_verified and first.description == "操作成功"
    assert (await order(server, "151103654827"))["state"] == "G"
    assert (await order(server, "151103654827"))["remark"] == "取消"
    again = await cancel(server)
    assert not again.changed and again.already_cancelled and again.signature_verified


@pytest.mark.asyncio
async def test_paid_order_goes_to_refund(server):
    await cancel(server, order_id="500", remark="客户要求 refund+now")
    saved = await order(server, "500")
    assert saved["state"] == "S" and saved["remark"] == "客户要求 refund+now"


@pytest.mark.asyncio
@pytest.mark.parametrize("kwargs, code", [
    (dict(key="wrong"), "SignFail"),
    (dict(partner="nobody", key="x"), "UnfoundUserInfo"),
    (dict(order_id="404"), "CallFail"),
    (dict(consumer="someone"), "CallFail"),
    (dict(order_id="600"), "CallFail"),
])
async def test_refusals(server, kwargs, code):
    with pytest.raises(JintongApiError) as info:
        await cancel(server, **kwargs)
    assert info.value.error_code == code


@pytest.mark.asyncio
async def test_unauthorized_ip(server):
    async with server["session"].post(server["server"].make_url("/jintong/_manage/settings"),
                                      json={"allowed_ips": ["10.9.8.7"]}) as r:
        assert r.status == 200
    with pytest.raises(JintongApiError) as info:
        await cancel(server)
    assert info.value.error_code == "UnauthorizedIp" and "allow" in info.value.message


@pytest.mark.asyncio
async def test_answers_are_url_encoded_and_signed(server):
    client = JintongClient(server["url"], "jane88", "k-jane")
    form = client.build_form("OperateCancelOrder", {"OrderID": "404", "Consumer": "jane88", "Remark": "x"})
    async with server["session"].post(server["server"].make_url("/jintong/Api/OrderOpenApi.ashx"), data=form) as r:
        body = await r.text()
    assert body.startswith("%3CResponse")
    xml = unquote(body)
    assert "<MessageCode>CallFail</MessageCode>" in xml
    joined = "MessageModel=Description=订单不存在&MessageCode=CallFail"
    assert "<Sign>%s</Sign>" % hashlib.md5((joined + "k-jane").encode()).hexdigest() in xml


@pytest.mark.asyncio
async def test_wrong_action_and_get(server):
    client = JintongClient(server["url"], "jane88", "k-jane")
    status, answer, verified = await asyncio.get_running_loop().run_in_executor(
        None, client.call, "GetOrderDetail", {"OrderID": "1", "UserName": "u"})
    assert answer["MessageModel"]["MessageCode"] == "NotImplemented" and verified is True
    async with server["session"].get(server["server"].make_url("/jintong/Api/OrderOpenApi.ashx")) as r:
        assert "ArgumentIllegal" in unquote(await r.text())


def test_sandbox_signature_agrees_with_the_text_example():
    fields = {"Partner": "jane88", "Action": "OperateCancelOrder", "RequestFmt": "XML", "ResponseFmt": "XML",
              "Version": "1.0.0.0", "SignType": "MD5", "Sign": "x",
              "Param": {"Consumer": "jane88", "OrderID": "151103654827", "Remark": "取消"}}
    joined = ("Action=OperateCancelOrder&Param=Consumer=jane88&OrderID=151103654827&Remark=取消"
              "&Partner=jane88&RequestFmt=XML&ResponseFmt=XML&Version=1.0.0.0")
    # the sandbox signs and checks with the collection's jintong_signing
    assert jintong_signing.sign(fields, "K") == hashlib.md5((joined + "K").encode()).hexdigest()
