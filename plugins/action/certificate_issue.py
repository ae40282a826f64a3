# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""certificate_issue: the controller side of the certificate role.

Runs in the worker process on the controller (no module is sent anywhere,
no delegated fork, no SSH): it talks to the WoTrus API with the collection's
client (module_utils/_wotrus) and returns the certificate, chain and order
record for wotrus.pki.certificate_deploy to put on the host. Documentation:
plugins/modules/certificate_issue.py.

With ``dcv: http`` an order waiting in pendingDCV has its HTTP validation file
published on the host (module wotrus.pki.certificate_dcv_file, run over the
task's connection) from the Sectigo status of its orderNumber; the wait goes
on in the same task and the file is removed once the order is issued.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import time
import traceback
from urllib.parse import quote, quote_plus

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.wotrus.pki.plugins.module_utils import _certificate as C
from ansible_collections.wotrus.pki.plugins.module_utils import _x509
from ansible_collections.wotrus.pki.plugins.module_utils._common import validate_certs_warning
from ansible_collections.wotrus.pki.plugins.module_utils._errors import PkiError
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo import dcv as sdcv
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo import status as sstatus
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.client import DEFAULT_API_URL as SECTIGO_API_URL
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.client import SectigoClient
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.errors import SectigoError
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
    dcv=dict(type="str", default="none", choices=["none", "http"]),
    dcv_webroot=dict(type="str", default="/var/www/html"),
    sectigo_api_url=dict(type="str"),
    sectigo_login_name=dict(type="str"),
    sectigo_login_password=dict(type="str", no_log=True),
    sectigo_ca_path=dict(type="path"),
)

DCV_MODULE = "wotrus.pki.certificate_dcv_file"
DCV_DONE = ("completed", "validated")


def _sha(value):
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


class Issue(object):
    """One certificate's API work. Never raises for API errors: they end in
    ``result['error']`` so that the role can keep the order record first."""

    def __init__(self, action, args, task_vars, check_mode):
        self.action = action
        self.task_vars = task_vars
        self.a = args
        self.check_mode = check_mode
        self.st = args["status"]
        self.host = task_vars.get("inventory_hostname", "?")
        self.name = self.st.get("name") or "?"
        self.label = "%s %s" % (self.host, self.name)
        self.old = dict(self.st.get("record") or {})
        self.client = None
        self.sectigo_calls = 0

    # -- helpers --------------------------------------------------------------
    def say(self, text):
        display.display("%s: %s" % (self.label, text))

    def make_client(self):
        a = self.a
        token = a["api_token"] or os.environ.get("WOTRUS_API_TOKEN")
        url = a["api_url"] or os.environ.get("WOTRUS_API_URL") or protocol.DEFAULT_API_URL
        ca_path = a["ca_path"] or os.environ.get("WOTRUS_CA_PATH") or None
        if not a["validate_certs"]:
            display.warning(validate_certs_warning(ca_path))
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
                        "replaces": _x509.normal_serial(self.st.get("replaces_serial")),
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
        except PkiError as err:
            result.update(error=str(err), msg=str(err), error_kind=err.kind, request_id=err.request_id,
                          http_status=err.status, state=result.get("state") if result.get("record") else "error")
        except Exception as exc:  # pylint: disable=broad-except
            # Anything else (a lost connection while publishing a DCV file, a bug...) also ends in
            # result['error']: the task runs with no_log, so a raised exception would show only
            # "output hidden", and the record of an order already placed would not be kept.
            text = unexpected(exc)
            display.vvv(scrub("%s: %s" % (self.label, traceback.format_exc()), secrets_of(self.a)))
            result.update(error="%s: %s" % (self.label, text), msg="%s: %s" % (self.label, text),
                          error_kind="unexpected", state=result.get("state") if result.get("record") else "error")
        finally:
            if self.client is not None:
                result["api_calls"] = len(self.client.history)
            if self.sectigo_calls:
                result["sectigo_calls"] = self.sectigo_calls
        return result

    def order(self, result):
        due = self.st.get("due")
        if due in C.DUE_WITH_CSR:
            if not self.a["csr"] and self.check_mode:
                # In check mode openssl_csr makes no CSR when there is none yet (csr: null): predict
                # from the status alone; no API call.
                result.update(changed=True, state="would_order",
                              msg="%s: would %s (%s)" % (self.label, "reissue order %s" % self.st.get("order_id")
                                                         if due == C.DUE_REISSUE else "create an order",
                                                         self.st.get("why")))
                return
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
        published = None  # the DCV files published by this task, once they are
        while True:
            order = orders.get_order(client, order_id)
            s = self.set_status(rec, order)
            result["order"] = s
            status = s["status"]
            waited = time.monotonic() - start
            if status == protocol.STATUS_ISSUED:
                break
            if status in protocol.DEAD_STATUSES:
                self.dcv_remove(rec, result)
                result.update(state="failed", error="%s: order %s will not be issued: %s" % (
                    self.label, order_id, orders.why_not_issued(order)))
                return
            http_dcv = a["dcv"] == "http" and status == protocol.STATUS_PENDING_DCV
            if http_dcv and published is None:
                published = self.dcv_publish(s, rec, result)
                if result.get("state") == "would_publish_dcv":
                    return
            if status in protocol.NEEDS_PERSON_STATUSES and s["pending_link"] and not http_dcv:
                result.update(state="needs_person", pending_link=s["pending_link"],
                              msg="%s: order %s is %s: %s; run again once that is done" % (
                                  self.label, order_id, status, orders.why_not_issued(order)))
                self.say("order %s %s, needs a person: %s" % (order_id, status, s["pending_link"]))
                return
            if waited >= timeout:
                if http_dcv:
                    # Like an order that needs a person: the host ends cleanly, the files stay, a later
                    # run resumes the order (and the CA may validate in between).
                    where = ", ".join(rec.get("dcv_urls") or rec.get("dcv_files") or []) or \
                        "(no file yet: %s)" % (result.get("dcv_wait") or "no DCV values")
                    result.update(state="needs_person", pending_link=s["pending_link"],
                                  msg="%s: order %s is still %s after %ds: the HTTP validation file was published "
                                  "(%s) but the CA has not validated it: check that each name serves it over plain "
                                  "HTTP from certificate_dcv_webroot, or finish the validation%s; the file stays, "
                                  "run again later to resume" % (
                                      self.label, order_id, status, int(timeout), where,
                                      (" at %s" % s["pending_link"]) if s["pending_link"] else ""))
                    self.say("order %s %s after %ds, DCV not done; the host ends here, a later run resumes"
                             % (order_id, status, int(timeout)))
                    return
                result.update(state="timeout", error="%s: order %s is not issued after %ds: %s; the order is on "
                              "record and the next run resumes it (or raise certificate_wait_timeout)"
                              % (self.label, order_id, int(timeout), orders.why_not_issued(order)))
                return
            self.say("order %s %s%s, waited %ds of %ds" % (
                order_id, status, " (HTTP file DCV)" if http_dcv and published else "", int(waited), int(timeout)))
            time.sleep(min(delay, max(0.0, timeout - waited)))
            delay = min(float(a["max_poll_interval"]), delay * 1.5)
        self.dcv_remove(rec, result)
        kinds = certificates.retrieve(client, order_id)
        pem = kinds.get("rsa") or list(kinds.values())[0]
        try:
            facts = _x509.describe(pem["pem"], pem["chains"])
        except _x509.ChainError as exc:
            raise WoTrusError("%s: the certificate of order %s does not parse: %s" % (self.label, order_id, exc))
        if self.a["csr"] and not _x509.key_matches(facts["certificate"], self.a["csr"]):
            raise WoTrusError("%s: the certificate of order %s does not hold the CSR's public key" % (self.label, order_id))
        result.update(state="issued", certificate=facts["certificate"], chain=facts["chain"],
                      fullchain=facts["fullchain"], root=facts["root"], serial=facts["serial_number"],
                      not_after=facts["not_after"], chain_complete=facts["chain_complete"])
        self.say("order %s issued, serial %s, valid until %s (%d API calls)"
                 % (order_id, facts["serial_number"], facts["not_after"], len(client.history)))

    # -- HTTP domain validation (Sectigo CSR hash) --------------------------------
    def sectigo(self):
        a = self.a
        client = SectigoClient(
            api_url=a["sectigo_api_url"] or os.environ.get("SECTIGO_API_URL") or SECTIGO_API_URL,
            login_name=a["sectigo_login_name"] or os.environ.get("SECTIGO_LOGIN_NAME"),
            login_password=a["sectigo_login_password"] or os.environ.get("SECTIGO_LOGIN_PASSWORD"),
            timeout=float(a["timeout"]), validate_certs=a["validate_certs"],
            ca_path=a["sectigo_ca_path"] or a["ca_path"] or os.environ.get("WOTRUS_CA_PATH") or None,
            log=display.vvv)
        return client

    def dcv_files(self, order_number):
        """{host path: (content, [names], [URLs])} of the names Sectigo has not validated yet."""
        client = None
        self.sectigo_calls += 1
        try:
            client = self.sectigo()
            data = client.get_post_payment_status(order_number)
        except SectigoError as exc:
            raise WoTrusError("%s: reading the DCV values of Sectigo order %s failed: %s (certificate_dcv http "
                              "needs a Sectigo-backed product and certificate_sectigo_* settings)"
                              % (self.label, order_number, exc.message))
        finally:
            self.sectigo_calls += getattr(client, "retried", 0)
        summary, warnings = sstatus.summarize(data)
        hashes = summary["csr_hash"]
        if not hashes.get("md5") or warnings:
            raise WoTrusError("%s: Sectigo order %s gives no usable CSR-hash DCV values: %s"
                              % (self.label, order_number, "; ".join(warnings) or "no MD5/SHA256 in dcvStatus"))
        domains = summary["domains"] or [
            dict(domain_name=n, dcv_status=None,
                 **sdcv.domain_values(n, hashes["md5"], hashes["sha256"], hashes["unique_value"]))
            for n in self.hosts()]
        files = {}
        for d in domains:
            if str(d.get("dcv_status") or "").lower() in DCV_DONE:
                continue
            if not d.get("http_file_path"):
                raise WoTrusError("%s: %s cannot be validated with an HTTP file (a wildcard name): use "
                                  "certificate_dcv none and validate it by CNAME" % (self.label, d["domain_name"]))
            path = posixpath.join(posixpath.normpath(self.a["dcv_webroot"]), d["http_file_path"].lstrip("/"))
            entry = files.setdefault(path, (d["http_file_content"], [], []))
            entry[1].append(d["domain_name"])
            entry[2].append(d["http_url"])
        return files

    def on_host(self, args):
        """Run wotrus.pki.certificate_dcv_file on the host, over the task's connection."""
        out = self.action._execute_module(module_name=DCV_MODULE, module_args=args, task_vars=self.task_vars)
        if out.get("failed"):
            raise WoTrusError("%s: %s on the host failed: %s" % (self.label, DCV_MODULE, out.get("msg")))
        return out

    def dcv_publish(self, s, rec, result):
        """Publish the HTTP validation files of an order in pendingDCV. Returns the host paths, or None
        when the values are not there yet (the next look tries again)."""
        number = s.get("order_number")
        if number in (None, ""):
            result["dcv_wait"] = "order %s has no orderNumber yet" % s["order_id"]
            return None
        files = self.dcv_files(number)
        if not files:
            result["dcv_wait"] = "Sectigo lists no name waiting for validation"
            return []
        if self.check_mode:
            result.update(changed=True, state="would_publish_dcv", dcv_files=sorted(files),
                          msg="%s: order %s is pendingDCV: would publish %s" % (
                              self.label, s["order_id"], ", ".join(sorted(files))))
            return None
        out = self.on_host(dict(state="present", files=[dict(path=p, content=f[0]) for p, f in sorted(files.items())]))
        # On record: a later run removes them, also when this one ends before issuance.
        rec["dcv_files"] = sorted(set(rec.get("dcv_files") or []) | set(files))
        rec["dcv_dirs"] = sorted(set(rec.get("dcv_dirs") or []) | set(out.get("created_dirs") or []))
        rec["dcv_urls"] = sorted(u for f in files.values() for u in f[2])
        result["changed"] = result["changed"] or bool(out.get("changed"))
        for path, (content, names, urls) in sorted(files.items()):
            self.say("order %s pendingDCV: %s validation file %s for %s" % (
                s["order_id"], "published" if out.get("changed") else "already there:", path, ", ".join(names)))
        return sorted(files)

    def dcv_remove(self, rec, result):
        """Remove the validation files this order published (in this run or an earlier one)."""
        paths = rec.pop("dcv_files", None)
        dirs = rec.pop("dcv_dirs", None) or []
        rec.pop("dcv_urls", None)
        if not paths or self.check_mode:
            return
        try:
            out = self.on_host(dict(state="absent", files=[dict(path=p) for p in paths], dirs=dirs))
        except WoTrusError as exc:
            display.warning("%s; remove %s by hand" % (exc, ", ".join(paths)))
            return
        if out.get("changed"):
            result["changed"] = True
        self.say("validation file%s removed: %s" % ("s" if len(paths) > 1 else "", ", ".join(paths)))

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
        outcome = certificates.revoke(client, order_id, self.a["reason"] or "unspecified", proof)
        order = outcome.order
        status = orders.status_of(order)
        rec.update(revoked_order_id=order_id, revoke_status=status, revoke_requested=C.iso(C.utc_now()))
        if rec.get("order_id") == order_id:
            self.set_status(rec, order)
        result.update(changed=outcome.changed, state="revoked", revoke_status=outcome.revoke_status,
                      revoked=outcome.revoked)
        self.say("revocation of order %s requested: %s" % (order_id, status))


def unexpected(exc):
    """One line for an exception nobody planned for: its type and its text."""
    text = to_text(exc, errors="replace").strip() or "(no message)"
    return "unexpected %s: %s" % (type(exc).__name__, text)


def secrets_of(args):
    """The secrets a result or a message must never hold: the API token and the Sectigo password,
    given or from the controller's environment."""
    out = []
    for x in (args.get("api_token"), args.get("sectigo_login_password"),
              os.environ.get("WOTRUS_API_TOKEN"), os.environ.get("SECTIGO_LOGIN_PASSWORD")):
        if isinstance(x, str) and x.strip():
            out.extend([x, x.strip()])
    return out


def scrub(value, secrets):
    """``value`` with every secret replaced, in every string of dicts and lists (also a secret's
    JSON-escaped and URL-quoted forms, which error texts may hold)."""
    forms = set()
    for secret in secrets:
        if secret:
            secret = to_text(secret)
            forms.update([secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)])
    forms = sorted((f for f in forms if f), key=len, reverse=True)

    def clean(v):
        if isinstance(v, dict):
            return dict((k, clean(x)) for k, x in v.items())
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if isinstance(v, bytes):
            v = to_text(v, errors="replace")
        if isinstance(v, str):
            for f in forms:
                v = v.replace(f, "********")
        return v
    return clean(value) if forms else value


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    # The API work needs no connection. Only with dcv http does the plugin run a module on the host
    # (wotrus.pki.certificate_dcv_file); the task's (lazy) connection is there for that.
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        raw = dict(self._task.args or {})
        try:
            dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
            args = dict(args)
            out = Issue(self, args, task_vars, bool(self._task.check_mode)).run()
        except Exception as exc:  # pylint: disable=broad-except
            # Issue.run keeps its own failures; this is for the arguments and the set-up. The role runs
            # this task with no_log: a raised exception would show only "output hidden".
            display.vvv(scrub("certificate_issue: %s" % traceback.format_exc(), secrets_of(raw)))
            status = raw.get("status") if isinstance(raw.get("status"), dict) else {}
            text = "%s %s: %s" % (task_vars.get("inventory_hostname", "?"), status.get("name") or "?", unexpected(exc))
            out = dict(changed=False, state="error", error=text, msg=text, error_kind="unexpected", api_calls=0)
        result.update(out)
        # Never hand the token (or the Sectigo password) back, whatever happened, in any field.
        return scrub(result, secrets_of(raw))
