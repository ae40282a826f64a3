# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""certificate_issue: the controller side of the certificate role.

Arguments -> the order engine (module_utils/_wotrus/engine.py) -> result. Runs
in the worker process on the controller (no module is sent anywhere, no SSH):
it trusts the role's preflight plan and the host's status, asks the engine to
create, reissue, resume or revoke the order, wait and fetch, and returns the
certificate, chain and order record for wotrus.pki.certificate_deploy to put
on the host. Documentation: plugins/modules/certificate_issue.py.

With ``dcv: http`` the engine's wait loop calls back here for an order in
pendingDCV: the plugin reads the Sectigo status of its orderNumber, lets
``_sectigo/dcv.py`` say which files to publish, and publishes them on the host
(module wotrus.pki.certificate_dcv_file over the task's connection); the file
is removed once the order is issued.
"""

from __future__ import annotations

import json
import os
import traceback
from urllib.parse import quote, quote_plus

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.wotrus.pki.plugins.module_utils import _role_status as role_status
from ansible_collections.wotrus.pki.plugins.module_utils import _x509
from ansible_collections.wotrus.pki.plugins.module_utils._errors import PkiError
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo import dcv as sectigo_dcv
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo import status as sectigo_status
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.client import DEFAULT_API_URL as SECTIGO_API_URL
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.client import SectigoClient
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.errors import SectigoError
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import engine, inputs, orders, protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import WoTrusError

display = Display()

ARGUMENT_SPEC = dict(
    status=dict(type="dict", required=True),
    csr=dict(type="str"),
    csr_encrypt=dict(type="str"),
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
# The role variables behind the task's options, for messages.
PROOF_VARIABLE = {role_status.DUE_REISSUE: "certificate_reissue_proof_path",
                  role_status.DUE_REVOKE: "certificate_revoke_proof_path"}

# What the role calls the connection options: errors name the variable a user sets.
ROLE_VARIABLES = dict(api_url="certificate_api_url", api_token="certificate_api_token",
                      ca_path="certificate_ca_path", validate_certs="certificate_validate_certs",
                      timeout="certificate_api_timeout")


class Issue:
    """One certificate's API work. Never raises for API errors: they end in
    ``result['error']`` so that the role can keep the order record first."""

    def __init__(self, action, args, task_vars, check_mode):
        self.action = action
        self.task_vars = task_vars
        self.args = args
        self.check_mode = check_mode
        self.status = args["status"]
        self.due = self.status.get("due")
        self.host = task_vars.get("inventory_hostname", "?")
        self.name = self.status.get("name") or "?"
        self.label = "%s %s" % (self.host, self.name)
        self.old = dict(self.status.get("record") or {})
        self.client = None
        self.sectigo_calls = 0

    def say(self, text):
        display.display("%s: %s" % (self.label, text))

    def connect(self):
        args = self.args
        if not args["validate_certs"]:
            display.warning(engine.validate_certs_warning(args["ca_path"]))
        self.client = engine.connect(args["api_url"], args["api_token"], validate_certs=args["validate_certs"],
                                     ca_path=args["ca_path"], timeout=args["timeout"], log=display.vvv,
                                     option_prefix=ROLE_VARIABLES)
        return self.client

    def base_record(self, **fields):
        rec = dict(self.old)
        rec.update(fields)
        rec["name"] = self.name
        return rec

    def set_status(self, rec, order):
        summary = orders.summary(order)
        if rec.get("status") != summary["status"]:
            rec["status_changed"] = role_status.iso(role_status.utc_now())
        rec.update(status=summary["status"], pending_link=summary["pending_link"], is_pay=summary["is_pay"])
        return summary

    # -- the work -------------------------------------------------------------
    def run(self):
        result = dict(changed=False, due=self.due, state="none", api_calls=0, name=self.name)
        if self.due in (None, role_status.DUE_NONE):
            result["msg"] = "nothing due"
            return result
        try:
            if self.due == role_status.DUE_REVOKE:
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
            display.vvv(scrub("%s: %s" % (self.label, traceback.format_exc()), secrets_of(self.args)))
            result.update(error="%s: %s" % (self.label, text), msg="%s: %s" % (self.label, text),
                          error_kind="unexpected", state=result.get("state") if result.get("record") else "error")
        finally:
            if self.client is not None:
                result["api_calls"] = len(self.client.history)
            if self.sectigo_calls:
                result["sectigo_calls"] = self.sectigo_calls
        return result

    def what(self):
        if self.due == role_status.DUE_REISSUE:
            return "reissue order %s" % self.status.get("order_id")
        return "create an order"

    def request(self, csr):
        """The engine's request from the plan (checked by preflight) and the host's CSR."""
        args, status = self.args, self.status
        if self.due == role_status.DUE_REISSUE:
            proof = None
            if args["proof_path"]:
                proof = inputs.load_file(args["proof_path"], PROOF_VARIABLE[role_status.DUE_REISSUE])
            csr_encrypt = inputs.load_csr(args["csr_encrypt"], "csr_encrypt") if args["csr_encrypt"] else None
            return engine.ReissueRequest(status["order_id"], csr, args["reason"] or "key rotation", proof=proof,
                                         csr_encrypt=csr_encrypt)
        binding = dict(host=self.host, name=self.name, replaces=_x509.normal_serial(status.get("replaces_serial")),
                       after=status.get("failed_order_id") or "")
        organization = inputs.organization_post(args["organization"]) if args["organization"] else None
        key = inputs.check_idempotence_id(args["idempotence_id"]) if args["idempotence_id"] else None
        if csr.key_type == "sm2":
            # An SM2 product: the signing CSR goes as csr_Sign (Create takes no encryption CSR; the API
            # certifies the signing key in the encryption certificate too); its key goes into the idempotence id.
            return engine.CreateRequest(args["product_id"], args["common_name"], args["subject_alt_names"],
                                        status.get("month") or 12, organization=organization,
                                        idempotence_id=key, binding=binding, csr_sign=csr)
        return engine.CreateRequest(args["product_id"], args["common_name"], args["subject_alt_names"],
                                    status.get("month") or 12, csr=csr, organization=organization,
                                    idempotence_id=key, binding=binding)

    def order(self, result):
        if self.due in role_status.DUE_WITH_CSR:
            if not self.args["csr"]:
                if self.check_mode:
                    # In check mode certificate_status makes no CSR when there is none yet: predict from the
                    # status alone; no API call.
                    result.update(changed=True, state="would_order", msg="%s: would %s (%s)" % (
                        self.label, self.what(), self.status.get("why")))
                    return
                raise WoTrusError("%s: a CSR is required to %s" % (
                    self.label, "reissue" if self.due == role_status.DUE_REISSUE else "order"))
            request = self.request(inputs.load_csr(self.args["csr"], "csr"))
            result["idempotence_id"] = request.idempotence_id
            if self.check_mode:
                result.update(changed=True, state="would_order",
                              msg="would %s (%s)" % (self.what(), self.status.get("why")))
                return
            client = self.connect()
            if self.due == role_status.DUE_REISSUE:
                out = engine.reissue(client, request, csr_option="csr",
                                     proof_option=PROOF_VARIABLE[role_status.DUE_REISSUE])
                order_id = out["new_order_id"]
                self.say("reissue of order %s -> %s order %s" % (
                    self.status["order_id"], "new" if out["created"] else "existing", order_id))
            else:
                api_url = engine.connection_settings(api_url=self.args["api_url"])["api_url"]
                out = engine.create(client, request,
                                    fetch_first=engine.issued_at_once_hint(api_url, request.product_id))
                order_id = out["order_id"]
                if out.get("created"):
                    # Remember for the next Create of this product whether it was issued at once.
                    engine.remember_issued_at_once(api_url, request.product_id, bool(out.get("pems")) or
                                                   out.get("status") == protocol.STATUS_ISSUED)
                if out["created"]:
                    self.say("order %s placed (%s, %d months, idempotence id %s)" % (
                        order_id, self.due, request.month, request.idempotence_id))
                else:
                    self.say("existing order %s (idempotence id %s): a resent Create returned it, nothing new "
                             "was ordered" % (order_id, request.idempotence_id))
            for warning in out.get("warnings") or []:
                display.warning("%s: %s" % (self.label, warning))
            rec = self.base_record(**out["record"])
            rec.update(purpose=self.due, key=self.status.get("key") or "staged",
                       replaces_serial=self.status.get("replaces_serial"))
            if self.due != role_status.DUE_REISSUE:
                rec.pop("reissued_from", None)
            result.update(changed=True, order_id=order_id, record=rec, state="pending")
            first_look = out["order"]
            pems = out.get("pems")
        else:  # resume
            order_id = self.status["order_id"]
            rec = self.base_record()
            result.update(order_id=order_id, record=rec, state="pending", idempotence_id=rec.get("idempotence_id"))
            client = self.connect()
            self.say("resuming order %s (%s)" % (order_id, rec.get("status") or "status unknown"))
            first_look = pems = None
        self.wait_and_fetch(client, order_id, rec, result, first_look, pems)

    def wait_and_fetch(self, client, order_id, rec, result, first_look, pems=None):
        args = self.args
        timeout = float(args["wait_timeout"])
        dcv = dict(published=None)  # the DCV files published by this task, once they are

        def on_pending(summary, order):
            self.set_status(rec, order)
            status = summary["status"]
            http_dcv = args["dcv"] == "http" and status == protocol.STATUS_PENDING_DCV
            if http_dcv and dcv["published"] is None:
                dcv["published"] = self.dcv_publish(summary, rec, result)
                if result.get("state") == "would_publish_dcv":
                    return True
            if status in protocol.NEEDS_PERSON_STATUSES and summary["pending_link"] and not http_dcv:
                result.update(state="needs_person", pending_link=summary["pending_link"],
                              msg="%s: order %s is %s: %s; run again once that is done" % (
                                  self.label, order_id, status, orders.why_not_issued(order)))
                self.say("order %s %s, needs a person: %s" % (order_id, status, summary["pending_link"]))
                return True
            return False

        def progress(look):
            http_dcv = args["dcv"] == "http" and look.summary["status"] == protocol.STATUS_PENDING_DCV
            self.say("order %s %s%s, waited %ds of %ds" % (
                order_id, look.summary["status"], " (HTTP file DCV)" if http_dcv and dcv["published"] else "",
                int(look.waited), int(timeout)))

        waited = engine.wait(client, order_id, timeout, interval=args["poll_interval"],
                             max_interval=args["max_poll_interval"], progress=progress, on_pending=on_pending,
                             order=first_look)
        summary = self.set_status(rec, waited.order)
        result["order"] = summary
        if waited.state == engine.STOPPED:
            return
        if waited.state == engine.DEAD:
            self.dcv_remove(rec, result)
            result.update(state="failed", error="%s: order %s will not be issued: %s" % (
                self.label, order_id, waited.why))
            return
        if waited.state == engine.TIMEOUT:
            self.timed_out(order_id, rec, result, waited, timeout)
            return
        self.dcv_remove(rec, result)
        facts = engine.fetch(client, order_id, csr=args["csr"], pems=pems)
        result.update(state="issued", certificate=facts["certificate"], chain=facts["chain"],
                      fullchain=facts["fullchain"], root=facts["root"], serial=facts["serial_number"],
                      not_after=facts["not_after"], chain_complete=facts["chain_complete"])
        if facts.get("encrypt") and facts.get("sign"):
            # An SM2 pair: certificate is the signing certificate; the encryption one is deployed beside it.
            result.update(encrypt_certificate=facts["encrypt"]["certificate"], encrypt_chain=facts["encrypt"]["chain"])
        self.say("order %s issued, serial %s, valid until %s (%d API calls)"
                 % (order_id, facts["serial_number"], facts["not_after"], len(client.history)))

    def timed_out(self, order_id, rec, result, waited, timeout):
        summary, status = waited.summary, waited.summary["status"]
        if self.args["dcv"] == "http" and status == protocol.STATUS_PENDING_DCV:
            # Like an order that needs a person: the host ends cleanly, the files stay, a later run resumes
            # the order (and the CA may validate in between).
            where = ", ".join(rec.get("dcv_urls") or rec.get("dcv_files") or []) or \
                "(no file yet: %s)" % (result.get("dcv_wait") or "no DCV values")
            result.update(state="needs_person", pending_link=summary["pending_link"],
                          msg="%s: order %s is still %s after %ds: the HTTP validation file was published "
                          "(%s) but the CA has not validated it: check that each name serves it over plain "
                          "HTTP from certificate_dcv_webroot, or finish the validation%s; the file stays, "
                          "run again later to resume" % (
                              self.label, order_id, status, int(timeout), where,
                              (" at %s" % summary["pending_link"]) if summary["pending_link"] else ""))
            self.say("order %s %s after %ds, DCV not done; the host ends here, a later run resumes"
                     % (order_id, status, int(timeout)))
            return
        result.update(state="timeout", error="%s: order %s is not issued after %ds: %s; the order is on "
                      "record and the next run resumes it (or raise certificate_wait_timeout)"
                      % (self.label, order_id, int(timeout), waited.why))

    # -- HTTP domain validation (Sectigo CSR hash): the engine's pendingDCV hook --
    def sectigo(self):
        args = self.args
        return SectigoClient(
            api_url=args["sectigo_api_url"] or os.environ.get("SECTIGO_API_URL") or SECTIGO_API_URL,
            login_name=args["sectigo_login_name"] or os.environ.get("SECTIGO_LOGIN_NAME"),
            login_password=args["sectigo_login_password"] or os.environ.get("SECTIGO_LOGIN_PASSWORD"),
            timeout=float(args["timeout"]), validate_certs=args["validate_certs"],
            ca_path=args["sectigo_ca_path"] or engine.connection_settings(ca_path=args["ca_path"])["ca_path"],
            log=display.vvv)

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
        summary, warnings = sectigo_status.summarize(data)
        try:
            if warnings:
                raise sectigo_dcv.DcvValueError("; ".join(warnings))
            return sectigo_dcv.http_validation_files(summary, self.args["subject_alt_names"],
                                                     self.args["dcv_webroot"])
        except sectigo_dcv.DcvValueError as exc:
            raise WoTrusError("%s: Sectigo order %s gives no usable HTTP DCV file: %s" % (self.label, order_number, exc))

    def on_host(self, module_args):
        """Run wotrus.pki.certificate_dcv_file on the host, over the task's connection."""
        out = self.action._execute_module(module_name=DCV_MODULE, module_args=module_args, task_vars=self.task_vars)
        if out.get("failed"):
            raise WoTrusError("%s: %s on the host failed: %s" % (self.label, DCV_MODULE, out.get("msg")))
        return out

    def dcv_publish(self, summary, rec, result):
        """Publish the HTTP validation files of an order in pendingDCV. Returns the host paths, or None
        when the values are not there yet (the next look tries again)."""
        number = summary.get("order_number")
        if number in (None, ""):
            result["dcv_wait"] = "order %s has no orderNumber yet" % summary["order_id"]
            return None
        files = self.dcv_files(number)
        if not files:
            result["dcv_wait"] = "Sectigo lists no name waiting for validation"
            return []
        if self.check_mode:
            result.update(changed=True, state="would_publish_dcv", dcv_files=sorted(files),
                          msg="%s: order %s is pendingDCV: would publish %s" % (
                              self.label, summary["order_id"], ", ".join(sorted(files))))
            return None
        out = self.on_host(dict(state="present", files=[dict(path=p, content=f[0]) for p, f in sorted(files.items())]))
        # On record: a later run removes them, also when this one ends before issuance.
        rec["dcv_files"] = sorted(set(rec.get("dcv_files") or []) | set(files))
        rec["dcv_dirs"] = sorted(set(rec.get("dcv_dirs") or []) | set(out.get("created_dirs") or []))
        rec["dcv_urls"] = sorted(u for f in files.values() for u in f[2])
        result["changed"] = result["changed"] or bool(out.get("changed"))
        for path, (dummy, names, dummy2) in sorted(files.items()):
            self.say("order %s pendingDCV: %s validation file %s for %s" % (
                summary["order_id"], "published" if out.get("changed") else "already there:", path, ", ".join(names)))
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
        order_id = self.status["order_id"]
        rec = self.base_record()
        result.update(order_id=order_id, record=rec)
        variable = PROOF_VARIABLE[role_status.DUE_REVOKE]
        if not self.args["proof_path"]:
            raise WoTrusError("%s: %s is required to revoke (the signed revocation letter, .pdf .jpg or .gif, on "
                              "the controller)" % (self.label, variable))
        proof = inputs.load_file(self.args["proof_path"], variable)
        out = engine.revoke(self.connect(), order_id, self.args["reason"] or "unspecified", proof,
                            check_mode=self.check_mode)
        if not out["changed"]:
            rec.update(revoked_order_id=order_id, revoke_status=out["status"])
            result.update(state="revoked", msg="%s: order %s is already %s" % (self.label, order_id, out["status"]))
            return
        if self.check_mode:
            result.update(changed=True, state="would_revoke", record=None)
            return
        rec.update(revoked_order_id=order_id, revoke_status=out["status"],
                   revoke_requested=role_status.iso(role_status.utc_now()))
        if rec.get("order_id") == order_id:
            self.set_status(rec, out["order"])
        result.update(changed=out["changed"], state="revoked", revoke_status=out["revoke_status"],
                      revoked=out["revoked"])
        self.say("revocation of order %s requested: %s" % (order_id, out["status"]))


def unexpected(exc):
    """One line for an exception nobody planned for: its type and its text."""
    text = to_text(exc, errors="replace").strip() or "(no message)"
    return "unexpected %s: %s" % (type(exc).__name__, text)


def secrets_of(args):
    """The secrets a result or a message must never hold: the API token and the Sectigo password,
    given or from the controller's environment."""
    out = []
    for value in (args.get("api_token"), args.get("sectigo_login_password"),
                  engine.connection_settings(api_token=None)["api_token"], os.environ.get("SECTIGO_LOGIN_PASSWORD")):
        if isinstance(value, str) and value.strip():
            out.extend([value, value.strip()])
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

    def clean(item):
        if isinstance(item, dict):
            return dict((k, clean(x)) for k, x in item.items())
        if isinstance(item, (list, tuple)):
            return [clean(x) for x in item]
        if isinstance(item, bytes):
            item = to_text(item, errors="replace")
        if isinstance(item, str):
            for form in forms:
                item = item.replace(form, "********")
        return item
    return clean(value) if forms else value


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    # The API work needs no connection. Only with dcv http does the plugin run a module on the host
    # (wotrus.pki.certificate_dcv_file); the task's (lazy) connection is there for that.
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        raw = dict(self._task.args or {})
        try:
            dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
            out = Issue(self, dict(args), task_vars, bool(self._task.check_mode)).run()
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
