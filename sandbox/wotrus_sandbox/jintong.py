# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A 今通国际 OrderOpenApi (``OperateCancelOrder``) service for tests.

Mounted by the sandbox at ``/jintong`` on its HTTPS and plain-HTTP ports:

* ``POST /Api/OrderOpenApi.ashx`` (application/x-www-form-urlencoded). Checks,
  in this order: the caller's IP is in ``allowed_ips`` (``UnauthorizedIp``),
  the ``Partner`` is known (``UnfoundUserInfo``), base fields present and
  valid (``ArgumentIllegal``), ``Param`` is XML (``ArgumentDeserializeFail``),
  the MD5 ``Sign`` (``SignFail``), the ``Action`` (``NotImplemented``). Answers
  URL-encoded XML, signed with the partner's key whenever the partner is known.
* ``/_manage/orders`` for tests: register orders, read their state.

Settings (all optional): ``partners`` ({partner_id: key}, default
``{"sandbox-partner": "sandbox-key"}``), ``allowed_ips`` (default
``["127.0.0.1"]``; ``"*"`` allows every address), ``orders`` (list of
``{order_id, consumer, partner?, state?}``; state letters of table 3.5,
default ``C``), ``manage_token``.

The signature is the collection's reading of the API text
(``plugins/module_utils/_jintong/signing.py``: fields but Sign/SignType, nulls
and empty values left out, ordinal order, nested Param flattened,
``md5(joined + key)``); Remark is URL-decoded (HttpUtility.UrlDecode) before
signing.
"""

from __future__ import annotations

from urllib.parse import quote
from xml.etree import ElementTree

from aiohttp import web

from wotrus_sandbox import subapp
from wotrus_sandbox.collection import jintong_signing

ENDPOINT = "/Api/OrderOpenApi.ashx"
STATE_FILE = "jintong_state.json"
STATE_KEY = web.AppKey("jintong_state", dict)

# Table 3.5: states after which the order counts as cancelled.
CANCELLED_STATES = frozenset(["O", "P", "G", "S", "M", "N"])
PAID_STATES = frozenset("DL")
NOT_CANCELLABLE_STATES = frozenset("E")


def _xml_answer(code, description, key=None):
    model = {"MessageCode": code, "Description": description}
    root = ElementTree.Element("Response")
    root.set("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
    root.set("xmlns:xsd", "http://www.w3.org/2001/XMLSchema")
    mm = ElementTree.SubElement(root, "MessageModel")
    ElementTree.SubElement(mm, "MessageCode").text = code
    ElementTree.SubElement(mm, "Description").text = description
    if key is not None:
        ElementTree.SubElement(root, "Sign").text = jintong_signing.sign({"MessageModel": model}, key)
    text = ElementTree.tostring(root, encoding="unicode")
    # "Url 解码后的返回结果": the answer travels URL-encoded.
    return web.Response(text=quote(text, safe=""), content_type="text/plain", charset="utf-8")


class _State(subapp.OrderState):
    def __init__(self, settings, state_dir):
        self.partners = dict(settings.get("partners") or {"sandbox-partner": "sandbox-key"})
        self.allowed_ips = list(settings.get("allowed_ips") or ["127.0.0.1"])
        self.stats = {"calls": 0, "cancelled": 0}
        super().__init__(settings, state_dir, STATE_FILE, make_order, "order_id", ensure_ascii=False)


def make_order(definition):
    order_id = str(definition.get("order_id") or "").strip()
    consumer = str(definition.get("consumer") or "").strip()
    if not order_id or not consumer:
        raise ValueError("an order needs order_id and consumer")
    state = str(definition.get("state", "C"))
    return {"order_id": order_id, "consumer": consumer, "partner": definition.get("partner"),
            "state": state, "remark": definition.get("remark")}


async def open_api(request):
    state = request.app[STATE_KEY]
    state.stats["calls"] += 1
    remote = request.remote or ""
    if "*" not in state.allowed_ips and remote not in state.allowed_ips:
        return _xml_answer("UnauthorizedIp", "IP %s 无权访问" % remote)
    if request.method != "POST":
        return _xml_answer("ArgumentIllegal", "仅支持 POST")
    if not request.content_type.startswith("application/x-www-form-urlencoded"):
        return _xml_answer("ArgumentIllegal", "仅支持 application/x-www-form-urlencoded")
    form = await request.post()
    partner = form.get("Partner") or ""
    key = state.partners.get(partner)
    if key is None:
        return _xml_answer("UnfoundUserInfo", "未找到用户信息")
    for name, expected in (("RequestFmt", "XML"), ("ResponseFmt", "XML"), ("SignType", "MD5")):
        if form.get(name) != expected:
            return _xml_answer("ArgumentIllegal", "%s 只支持 %s" % (name, expected), key)
    for name in ("Action", "Version", "Sign", "Param"):
        if not form.get(name):
            return _xml_answer("ArgumentIllegal", "缺少参数 %s" % name, key)
    try:
        param_root = ElementTree.fromstring(form["Param"])
        param = {}
        for child in param_root:
            text = child.text or ""
            if child.tag == "Remark":
                text = jintong_signing.url_decode(text)  # HttpUtility.UrlDecode
            param[child.tag] = text
    except ElementTree.ParseError:
        return _xml_answer("ArgumentDeserializeFail", "参数反序列化失败", key)
    signed = {name: form[name] for name in form if name not in ("Param",)}
    signed["Param"] = param
    if not jintong_signing.verify(signed, key, form["Sign"]):
        return _xml_answer("SignFail", "签名验证失败", key)
    if form["Action"] != "OperateCancelOrder":
        return _xml_answer("NotImplemented", "该业务方法尚未实现", key)
    if form["Version"] != "1.0.0.0":
        return _xml_answer("NotImplemented", "不支持的版本 %s" % form["Version"], key)
    for name in ("OrderID", "Consumer", "Remark"):
        if not param.get(name):
            return _xml_answer("ArgumentIllegal", "缺少参数 %s" % name, key)
    order = state.orders.get(param["OrderID"])
    if order is None or (order.get("partner") and order["partner"] != partner):
        return _xml_answer("CallFail", "订单不存在", key)
    if order["consumer"] != param["Consumer"]:
        return _xml_answer("CallFail", "用户名与订单不符", key)
    if order["state"] in CANCELLED_STATES:
        return _xml_answer("CallFail", "订单已取消", key)
    if order["state"] in NOT_CANCELLABLE_STATES:
        return _xml_answer("CallFail", "订单已出票, 不能取消", key)
    if order["state"] == "C":
        order["state"] = "G"   # 未支付取消订单
    elif order["state"] in PAID_STATES:
        order["state"] = "S"   # 取消成功-退款中
    else:
        order["state"] = "O"   # 取消订单
    order["remark"] = param["Remark"]
    state.stats["cancelled"] += 1
    state.save()
    return _xml_answer("CallSuccess", "操作成功", key)


async def manage_settings(request):
    """Change ``allowed_ips`` or ``partners`` at run time (tests of UnauthorizedIp)."""
    state = request.app[STATE_KEY]
    changes = await request.json()
    if "allowed_ips" in changes:
        state.allowed_ips = list(changes["allowed_ips"])
    if "partners" in changes:
        state.partners = dict(changes["partners"])
    return web.json_response({"allowed_ips": state.allowed_ips, "partners": sorted(state.partners)})


_shared_state = subapp.SharedStates(_State)


def create_app(settings, state_dir):
    """The 今通国际 sub-application (mount it at ``/jintong``)."""
    app = web.Application(middlewares=[subapp.manage_auth(STATE_KEY)])
    app[STATE_KEY] = _shared_state(settings or {}, state_dir)
    app.router.add_route("*", ENDPOINT, open_api)
    subapp.add_manage_routes(app, STATE_KEY, "order_id")
    app.router.add_post("/_manage/settings", manage_settings)
    return app
