# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A client of the 今通国际 OrderOpenApi (seed 004): ``OperateCancelOrder``.

A form POST (application/x-www-form-urlencoded) to
``{server_url}/Api/OrderOpenApi.ashx`` with the base fields, ``Param`` as XML
and an MD5 ``Sign``; the answer is URL-encoded XML with a ``MessageModel`` and
its own ``Sign``. A cancel is a write without a key, and the API has no
documented way to read the order back first, so the collection's HTTP stack
(``module_utils/_http.py``) sends it again only when it cannot have reached
the service (connection refused, DNS, connect timeout).
"""

from __future__ import annotations

from urllib.parse import urlencode

from ansible_collections.wotrus.pki.plugins.module_utils._http import WRITE, HttpClient
from ansible_collections.wotrus.pki.plugins.module_utils._jintong import signing
from ansible_collections.wotrus.pki.plugins.module_utils._jintong.errors import (
    ALREADY_CANCELLED_MARKERS,
    SUCCESS_CODE,
    JintongApiError,
    JintongInputError,
    JintongResponseError,
    JintongSignatureError,
    JintongTransportError,
    explain,
)

API_PATH = "/Api/OrderOpenApi.ashx"
ACTION_CANCEL = "OperateCancelOrder"
VERSION = "1.0.0.0"
FORMAT = "XML"
SIGN_TYPE = "MD5"


def check_order_id(value, option="order_id"):
    """One order ID, as text; a list or dict (which Ansible's ``type: str`` turns into
    ``"['a', 'b']"``) or a text with spaces is refused, naming the option."""
    text = "" if value is None else str(value).strip()
    if isinstance(value, (list, tuple, dict)) or text[:1] in ("[", "{") or not text \
            or any(c.isspace() or not c.isprintable() for c in text):
        raise JintongInputError(option, "must be one order ID such as 151103654827, got %s" % (text or "nothing"))
    return text


class CancelResult:
    """What one OperateCancelOrder call came to."""

    def __init__(self, message_code, description, signature_verified, already_cancelled, http_status):
        self.message_code = message_code
        self.description = description
        self.signature_verified = signature_verified
        self.already_cancelled = already_cancelled
        self.http_status = http_status

    @property
    def changed(self):
        return not self.already_cancelled


class JintongClient:
    """Raises JintongInputError for a bad ``timeout`` or ``ca_path`` before any call."""

    def __init__(self, server_url, partner, key, timeout=30, validate_certs=True, ca_path=None,
                 log=None, session=None):
        self.server_url = server_url.rstrip("/")
        self.partner = partner
        self._key = key
        self.http = HttpClient("今通国际", JintongTransportError, JintongInputError, validate_certs=validate_certs,
                               ca_path=ca_path, timeout=timeout, log=log, secrets=[key], url_option="server_url",
                               session=session)

    @property
    def url(self):
        return self.server_url + API_PATH

    def build_form(self, action, param):
        """The form fields of one call, signed. ``param`` holds the decoded values."""
        fields = {
            "Partner": self.partner,
            "Action": action,
            "RequestFmt": FORMAT,
            "ResponseFmt": FORMAT,
            "Version": VERSION,
            "Param": dict(param),
        }
        signature = signing.sign(fields, self._key)
        form = dict(fields)
        form["Param"] = signing.param_xml(param)
        form["SignType"] = SIGN_TYPE
        form["Sign"] = signature
        return form

    def call(self, action, param):
        """Send one action; return ``(http_status, answer_fields, signature_verified)``.

        ``signature_verified`` is True, False (a Sign that does not match) or
        None (no Sign). The caller decides: an answer that would be acted on
        as a success must not carry a wrong Sign; a refusal stays a refusal.
        """
        form = self.build_form(action, param)
        body = urlencode(form, encoding="utf-8").encode("ascii")
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        reply = self.http.request("POST", self.url, policy=WRITE, what="call %s" % action, data=body,
                                  headers=headers)
        status = reply.status
        try:
            _root, answer = signing.parse_xml_answer(reply.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise self.http.error(
                JintongResponseError,
                "The 今通国际 API at %s answered HTTP %s with something that is not the XML the text describes (%s)."
                % (self.url, status, exc), url=self.url, method="POST", status=status)
        model = answer.get("MessageModel")
        if not isinstance(model, dict) or not model.get("MessageCode"):
            raise self.http.error(
                JintongResponseError,
                "The 今通国际 API at %s answered HTTP %s without a MessageModel/MessageCode." % (self.url, status),
                url=self.url, method="POST", status=status)
        signature = answer.get("Sign")
        # None: the answer is unsigned; False: its Sign does not match under our key.
        verified = None
        if signature:
            verified = signing.verify(answer, self._key, signature)
        return status, answer, verified

    def cancel_order(self, order_id, consumer, remark):
        """Cancel ``order_id``. An order already cancelled is not an error."""
        status, answer, verified = self.call(
            ACTION_CANCEL, {"OrderID": order_id, "Consumer": consumer, "Remark": remark})
        model = answer["MessageModel"]
        code = model.get("MessageCode")
        description = model.get("Description") or ""
        already = code == "CallFail" and any(m in description for m in ALREADY_CANCELLED_MARKERS)
        common = dict(url=self.url, method="POST", status=status, error_code=code, error_msg=description or None)
        if code == SUCCESS_CODE or already:
            if verified is False:
                raise self.http.error(
                    JintongSignatureError,
                    "The 今通国际 API answered %s for order %s, but the answer's Sign does not match its content "
                    "under the partner key, so it was not trusted. Check 'key', or whether something between you "
                    "and the service changes the answers." % (code, order_id), **common)
            return CancelResult(code, description, bool(verified), already, status)
        note = ""
        if verified is False:
            # Expected with SignFail: the service signs with the right key, we verify with the wrong one.
            note = " The answer's own Sign did not match under this key either."
        raise self.http.error(
            JintongApiError,
            "今通国际 refused to cancel order %s: %s (MessageCode %s: %s).%s"
            % (order_id, explain(code), code, description or "no description", note), **common)
