# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""certificate_issue: the controller side of the certificate role.

Runs in the worker process on the controller (no module is sent anywhere,
no delegated fork, no SSH): it talks to the WoTrus API with the collection's
client (module_utils/_wotrus) and returns the certificate, chain and order
record for wotrus.pki.certificate_deploy to put on the host. Documentation:
plugins/modules/certificate_issue.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import time

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.wotrus.pki.plugins.module_utils import _certificate as C
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import chain as wchain
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import certificates, inputs, orders, protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.client import WoTrusClient
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import WoTrusError

display = Display()

ARGUMENT_SPEC = dict(
    status=dict(type="dict", required=True),
    csr=dict(type="str"),
    product_id=dict(type="str", required=True),
    common_name=dict(type="str", required=True),
    subject_alt_names=dict(type="list", elements="str", default=[]),
    organization=dict(type="dict"),
    idempotence_id=dict(type="str"),
    wait_timeout=dict(type="float", default=600),
    poll_interval=dict(type="float", default=5),
    max_poll_interval=dict(type="float", default=30),
    reason=dict(type="str"),
    proof_path=dict(type="path"),
    api_url=dict(type="str"),
    api_token=dict(type="str", no_log=True),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    timeout=dict(type="float", default=30),
)


def _sha(value):
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


class Issue(object):
    """One certificate's API work. Never raises for API errors: they end in
    ``result['error']`` so that the role can keep the order record first."""

    def __init__(self, action, args, task_vars, check_mode):
        self.a = args
        self.check_mode = check_mode
        self.st = args["status"]
        self.host = task_vars.get("inventory_hostname", "?")
        self.name = self.st.get("name") or "?"
        self.label = "%s %s" % (self.host, self.name)
        self.old = dict(self.st.get("record") or {})
        self.client = None

    # -- helpers --------------------------------------------------------------
    def say(self, text):
        display.display("%s: %s" % (self.label, text))

    def make_client(self):
        a = self.a
        token = a["api_token"] or os.environ.get("WOTRUS_API_TOKEN")
        url = a["api_url"] or os.environ.get("WOTRUS_API_URL") or protocol.DEFAULT_API_URL
        ca_path = a["ca_path"] or os.environ.get("WOTRUS_CA_PATH") or None
        if not a["validate_certs"] and not ca_path:
            display.warning("validate_certs is false: the API's TLS certificate is not verified")
        t = float(a["timeout"])
        self.client = WoTrusClient(url, token, validate_certs=a["validate_certs"], ca_path=ca_path,
                                   timeout=(min(t, 10.0), t), log=display.vvv)
        return self.client

    def idempotence_id(self, csr):
        """Stable inputs -> the same id on every run: a resend after a crash creates nothing.
        The client's derive function gets, in its key slot, the CSR's public key bound to this
        host, this certificate, the certificate it replaces and a failed order it follows."""
        if self.a["idempotence_id"]:
            return inputs.check_idempotence_id(self.a["idempotence_id"])
        binding = _sha({"key": csr.public_key_sha256(), "host": self.host, "name": self.name,
                        "replaces": (self.st.get("replaces_serial") or "").upper(),
                        "after": self.st.get("failed_order_id") or ""})
        return orders.derive_idempotence_id(self.a["product_id"], self.a["common_name"], self.hosts(),
                                            csr_key_sha256=binding, month=self.st.get("month"))

    def hosts(self):
        names = inputs.check_hosts(self.a["subject_alt_names"] or [self.a["common_name"]], "subject_alt_names")
        cn = inputs.normalize_host(self.a["common_name"])
        return names if cn in names else [cn] + names

    def base_record(self, **kw):
        rec = dict(self.old)
        rec.update(kw)
        rec["name"] = self.name
        return rec

    def set_status(self, rec, order):
        s = orders.summary(order)
        if rec.get("status") != s["status"]:
            rec["status_changed"] = C.iso(C.utc_now())
        rec.update(status=s["status"], pending_link=s["pending_link"], is_pay=s["is_pay"])
        return s

    # -- the work -------------------------------------------------------------
    def run(self):
        due = self.st.get("due")
        result = dict(changed=False, due=due, state="none", api_calls=0, name=self.name)
        if due in (None, C.DUE_NONE):
            result["msg"] = "nothing due"
            return result
        try:
            if due == C.DUE_REVOKE:
                self.revoke(result)
            else:
                self.order(result)
        except WoTrusError as err:
            result.update(error=str(err), msg=str(err), error_kind=err.kind, request_id=err.request_id,
                          http_status=err.status, state=result.get("state") if result.get("record") else "error")
        finally:
            if self.client is not None:
                result["api_calls"] = len(self.client.history)
        return result

    def order(self, result):
        due = self.st.get("due")
        if due in C.DUE_WITH_CSR:
            if not self.a["csr"]:
                what = "reissue" if due == C.DUE_REISSUE else "order"
                raise WoTrusError("%s: a CSR is required to %s" % (self.label, what))
            csr = inputs.load_csr(self.a["csr"], "csr")
            common_name, hosts = inputs.resolve_names(csr, self.a["common_name"], self.hosts())
            product = inputs.check_product_id(self.a["product_id"])
            month = inputs.check_month(self.st.get("month") or 12)
            if due == C.DUE_REISSUE:
                idem = orders.derive_reissue_id(self.st["order_id"], csr.public_key_sha256())
            else:
                idem = self.idempotence_id(csr)
            result["idempotence_id"] = idem
            if self.check_mode:
                result.update(changed=True, state="would_order",
                              msg="would %s (%s)" % ("reissue order %s" % self.st["order_id"]
                                                     if due == C.DUE_REISSUE else "create an order",
                                                     self.st.get("why")))
                return
            client = self.make_client()
            if due == C.DUE_REISSUE:
                proof = None
                if self.a["proof_path"]:
                    proof = inputs.load_file(self.a["proof_path"], "proof_path")
                body = orders.build_reissue_body(self.st["order_id"], csr.pem, self.a["reason"] or "key rotation",
                                                 idem, proof=proof)
                order_id = orders.reissue(client, body)
                order_id_rsa = None
                self.say("reissue of order %s -> new order %s" % (self.st["order_id"], order_id))
            else:
                org = inputs.organization_post(self.a["organization"]) if self.a["organization"] else None
                body = orders.build_create_body(product, common_name, month, idem, csr=csr.pem, hosts=hosts,
                                                organization=org)
                created = orders.create_order(client, body)
                order_id, order_id_rsa = created.order_id, created.order_id_rsa
                self.say("order %s placed (%s, %d months, idempotence id %s)" % (order_id, due, month, idem))
            rec = orders.make_record(idem, order_id, order_id_rsa=order_id_rsa, product_id=product,
                                     common_name=common_name, hosts=hosts, month=month,
                                     reissued_from=self.st["order_id"] if due == C.DUE_REISSUE else None)
            rec = self.base_record(**rec)
            rec.update(purpose=due, key=self.st.get("key") or "staged",
                       replaces_serial=self.st.get("replaces_serial"))
            if due != C.DUE_REISSUE:
                rec.pop("reissued_from", None)
            result.update(changed=True, order_id=order_id, record=rec, state="pending")
        else:  # resume
            order_id = self.st["order_id"]
            rec = self.base_record()
            result.update(order_id=order_id, record=rec, state="pending", idempotence_id=rec.get("idempotence_id"))
            client = self.make_client()
            self.say("resuming order %s (%s)" % (order_id, rec.get("status") or "status unknown"))
        self.wait_and_fetch(client, order_id, rec, result)

    def wait_and_fetch(self, client, order_id, rec, result):
        a = self.a
        timeout = float(a["wait_timeout"])
        start = time.monotonic()
        delay = max(0.2, float(a["poll_interval"]))
        while True:
            order = orders.get_order(client, order_id)
            s = self.set_status(rec, order)
            result["order"] = s
            status = s["status"]
            waited = time.monotonic() - start
            if status == protocol.STATUS_ISSUED:
                break
            if status in protocol.FINAL_STATUSES or status == protocol.STATUS_PENDING_REVOKE:
                result.update(state="failed", error="%s: order %s will not be issued: %s" % (
                    self.label, order_id, orders.why_not_issued(order)))
                return
            if status in protocol.NEEDS_PERSON_STATUSES and s["pending_link"]:
                result.update(state="needs_person", pending_link=s["pending_link"],
                              msg="%s: order %s is %s: %s; run again once that is done" % (
                                  self.label, order_id, status, orders.why_not_issued(order)))
                self.say("order %s %s, needs a person: %s" % (order_id, status, s["pending_link"]))
                return
            if waited >= timeout:
                result.update(state="timeout", error="%s: order %s is not issued after %ds: %s; the order is on "
                              "record and the next run resumes it (or raise certificate_wait_timeout)"
                              % (self.label, order_id, int(timeout), orders.why_not_issued(order)))
                return
            self.say("order %s %s, waited %ds of %ds" % (order_id, status, int(waited), int(timeout)))
            time.sleep(min(delay, max(0.0, timeout - waited)))
            delay = min(float(a["max_poll_interval"]), delay * 1.5)
        kinds = certificates.retrieve(client, order_id)
        pem = kinds.get("rsa") or list(kinds.values())[0]
        try:
            facts = wchain.describe(pem["pem"], pem["chains"])
        except wchain.ChainError as exc:
            raise WoTrusError("%s: the certificate of order %s does not parse: %s" % (self.label, order_id, exc))
        if self.a["csr"] and not wchain.key_matches(facts["certificate"], self.a["csr"]):
            raise WoTrusError("%s: the certificate of order %s does not hold the CSR's public key" % (self.label, order_id))
        result.update(state="issued", certificate=facts["certificate"], chain=facts["chain"],
                      fullchain=facts["fullchain"], root=facts["root"], serial=facts["serial_number"],
                      not_after=facts["not_after"], chain_complete=facts["chain_complete"])
        self.say("order %s issued, serial %s, valid until %s (%d API calls)"
                 % (order_id, facts["serial_number"], facts["not_after"], len(client.history)))

    def revoke(self, result):
        order_id = self.st["order_id"]
        rec = self.base_record()
        result.update(order_id=order_id, record=rec)
        if not self.a["proof_path"]:
            raise WoTrusError("%s: certificate_revoke_proof_path is required to revoke (the signed revocation "
                              "letter, .pdf .jpg or .gif, on the controller)" % self.label)
        proof = inputs.load_file(self.a["proof_path"], "proof_path")
        client = self.make_client()
        order = orders.get_order(client, order_id)
        if certificates.revoke_plan(order, order_id) == "noop":
            status = orders.status_of(order)
            rec.update(revoked_order_id=order_id, revoke_status=status)
            result.update(state="revoked", msg="%s: order %s is already %s" % (self.label, order_id, status))
            return
        if self.check_mode:
            result.update(changed=True, state="would_revoke", record=None)
            return
        revoke_status, revoked, order = certificates.revoke(client, order_id, self.a["reason"] or "unspecified",
                                                            proof)
        status = orders.status_of(order)
        rec.update(revoked_order_id=order_id, revoke_status=status, revoke_requested=C.iso(C.utc_now()))
        if rec.get("order_id") == order_id:
            self.set_status(rec, order)
        result.update(changed=True, state="revoked", revoke_status=revoke_status, revoked=revoked)
        self.say("revocation of order %s requested: %s" % (order_id, status))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        valid, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        args = dict(args)
        try:
            out = Issue(self, args, task_vars, bool(self._task.check_mode)).run()
        except AnsibleError:
            raise
        result.update(out)
        # Never hand the token back, whatever happened.
        token = args.get("api_token") or os.environ.get("WOTRUS_API_TOKEN")
        if token:
            text = json.dumps(result)
            if token in text:
                result = json.loads(text.replace(token, "********"))
        return result
