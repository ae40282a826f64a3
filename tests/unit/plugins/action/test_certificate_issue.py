# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""certificate_issue: check mode without a CSR predicts from the status alone, and an unexpected
failure ends in the result's ``error`` (never raised: the role runs the task with no_log), with the
token and the Sectigo password scrubbed from every field."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from ansible.module_utils import _internal

# Importing controller code (ansible.errors, an action plugin) marks the process as the controller:
# put the flag back so that the module tests that run after this file still see their warnings.
_WAS_CONTROLLER = _internal.is_controller
from ansible.errors import AnsibleConnectionFailure  # noqa: E402
from ansible_collections.wotrus.pki.plugins.action import certificate_issue as issue_plugin  # noqa: E402
_internal.is_controller = _WAS_CONTROLLER

TOKEN = "tok-3f9a\"secret/+value"
PASSWORD = "sectigo pass&word"
PRODUCT = "30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D"


def status(due, **kw):
    st = dict(name="www", due=due, why="no certificate at /etc/ssl/www.crt", month=12, order_id=None,
              record=None, key="staged")
    st.update(kw)
    return st


def task_args(st, **kw):
    args = dict(status=st, product_id=PRODUCT, common_name="www.example.com",
                subject_alt_names=["www.example.com"], api_url="https://api.example.test", api_token=TOKEN,
                sectigo_login_password=PASSWORD, wait_timeout=5, poll_interval=1)
    args.update(kw)
    return args


def run(args, check_mode=False):
    task = mock.MagicMock()
    task.args = args
    task.check_mode = check_mode
    task.async_val = 0
    task.diff = False
    action = issue_plugin.ActionModule(task, mock.MagicMock(), mock.MagicMock(check_mode=check_mode), loader=None,
                                       templar=None, shared_loader_obj=None)
    return action.run(task_vars=dict(inventory_hostname="web1"))


@pytest.fixture
def no_api(monkeypatch):
    """Any use of the WoTrus client fails the test."""
    def boom(*a, **kw):
        raise AssertionError("no API client may be made")
    monkeypatch.setattr(issue_plugin.engine, "connect", boom)


@pytest.mark.parametrize("due", ["new", "renew", "reissue"])
def test_check_mode_without_a_csr_predicts_from_the_status(no_api, due):
    st = status(due, order_id="ORDER-1" if due == "reissue" else None)
    out = run(task_args(st), check_mode=True)
    assert out.get("error") is None and not out.get("failed"), out
    assert out["changed"] is True and out["state"] == "would_order" and out["api_calls"] == 0
    assert out.get("record") is None
    assert ("reissue order ORDER-1" if due == "reissue" else "create an order") in out["msg"]


def test_without_a_csr_outside_check_mode_is_an_error(no_api):
    out = run(task_args(status("new")))
    assert "a CSR is required to order" in out["error"] and out["changed"] is False


def resumed():
    rec = dict(order_id="ORDER-7", idempotence_id="idem-7", status="pendingDCV", product_id=PRODUCT,
               common_name="www.example.com", hosts=["www.example.com"], key="staged")
    return status("resume", order_id="ORDER-7", record=rec)


@pytest.mark.parametrize("exc", [
    AnsibleConnectionFailure("Failed to connect to the host via ssh: token %s refused" % TOKEN),
    ValueError("bad value %s / %s" % (json.dumps(TOKEN), PASSWORD)),
    KeyError("orderNumber"),
])
def test_an_unexpected_failure_ends_in_error_with_the_record_kept(monkeypatch, exc):
    def get_order(client, order_id):
        raise exc
    monkeypatch.setattr(issue_plugin.orders, "get_order", get_order)
    out = run(task_args(resumed()))
    assert not out.get("failed"), out
    assert out["error"].startswith("web1 www: unexpected %s: " % type(exc).__name__), out["error"]
    assert out["error_kind"] == "unexpected" and out["msg"] == out["error"]
    # The order is on record: the role's deploy task writes it, the report fails the host with the error.
    assert out["record"]["order_id"] == "ORDER-7" and out["state"] == "pending"
    text = json.dumps(out)
    for secret in (TOKEN, PASSWORD, json.dumps(TOKEN)[1:-1]):
        assert secret not in text
    if not isinstance(exc, KeyError):
        assert "********" in out["error"]


def test_a_failure_before_any_order_is_an_error_without_record(monkeypatch):
    def load_csr(*a, **kw):
        raise RuntimeError("broken with %s" % TOKEN)
    monkeypatch.setattr(issue_plugin.inputs, "load_csr", load_csr)
    out = run(task_args(status("new"), csr="-----BEGIN CERTIFICATE REQUEST-----\n"))
    assert out["state"] == "error" and out.get("record") is None
    assert out["error"] == "web1 www: unexpected RuntimeError: broken with ********"


def test_bad_arguments_end_in_error_too():
    args = task_args(status("new"))
    del args["product_id"]
    out = run(args)
    assert not out.get("failed") and out["state"] == "error"
    assert out["error"].startswith("web1 www: unexpected ") and "product_id" in out["error"]
    assert TOKEN not in json.dumps(out)


def test_scrub_reaches_every_field_and_form():
    value = dict(a=[TOKEN, {"b": "x%sx" % issue_plugin.quote(TOKEN, safe="")}], c=b"pw " + PASSWORD.encode(), d=3)
    out = issue_plugin.scrub(value, [TOKEN, PASSWORD])
    assert out == dict(a=["********", {"b": "x********x"}], c="pw ********", d=3)
    assert issue_plugin.scrub("nothing", []) == "nothing"


@pytest.mark.parametrize("created,line", [
    (True, "web1 www: order ORDER-9 placed (new, 12 months, idempotence id "),
    (False, "web1 www: existing order ORDER-9 (idempotence id "),
])
def test_the_progress_line_says_whether_the_create_made_the_order(monkeypatch, capsys, created, line):
    from cryptography.hazmat.primitives.asymmetric import ec
    from ..module_utils._wotrus.helpers import make_csr

    class Client:
        history = []

    def create(client, request, **kw):
        return dict(changed=created, created=created, existing=not created, order_id="ORDER-9",
                    idempotence_id=request.idempotence_id, warnings=[], order={"status": "pendingDCV"},
                    record=request.new_record("ORDER-9"))

    def wait(*a, **kw):
        raise RuntimeError("stop here")
    monkeypatch.setattr(issue_plugin.engine, "connect", lambda *a, **kw: Client())
    monkeypatch.setattr(issue_plugin.engine, "create", create)
    monkeypatch.setattr(issue_plugin.engine, "wait", wait)
    csr = make_csr(ec.generate_private_key(ec.SECP256R1()), "www.example.com", ("www.example.com",))
    out = run(task_args(status("new"), csr=csr))
    assert out["record"]["order_id"] == "ORDER-9" and "stop here" in out["error"]
    text = capsys.readouterr().out
    assert line in text, text
    assert ("placed" in text) is created


def _sm2_csr(name="www.example.com"):
    import subprocess
    key = subprocess.run(["openssl", "genpkey", "-algorithm", "SM2"], stdout=subprocess.PIPE, check=True).stdout
    return subprocess.run(["openssl", "req", "-new", "-sm3", "-key", "/dev/stdin", "-subj", "/CN=" + name,
                           "-addext", "subjectAltName=DNS:" + name], input=key, stdout=subprocess.PIPE,
                          check=True).stdout.decode("ascii")


@pytest.mark.parametrize("due", ["new", "reissue"])
def test_an_sm2_csr_goes_as_csr_sign_on_create_and_with_the_encryption_csr_on_reissue(monkeypatch, due):
    seen = {}

    class Client:
        history = []

    def create(client, request, **kw):
        seen["body"] = request.body
        raise RuntimeError("stop here")

    def reissue(client, request, **kw):
        seen["body"] = request.body
        raise RuntimeError("stop here")
    monkeypatch.setattr(issue_plugin.engine, "connect", lambda *a, **kw: Client())
    monkeypatch.setattr(issue_plugin.engine, "create", create)
    monkeypatch.setattr(issue_plugin.engine, "reissue", reissue)
    sign, enc = _sm2_csr(), _sm2_csr()
    st = status(due, order_id="ORDER-1" if due == "reissue" else None)
    out = run(task_args(st, csr=sign, csr_encrypt=enc if due == "reissue" else None))
    assert "stop here" in out["error"], out
    body = {}

    def flat(value):
        for k, v in value.items():
            if isinstance(v, dict):
                flat(v)
            else:
                body[k.lower()] = v
    flat(seen["body"])
    if due == "new":
        assert body["csr_sign"].strip() == sign.strip() and not body.get("csr_rsa") and not body.get("csr_encrypt")
    else:
        assert body["csr"].strip() == sign.strip() and body["csr_encrypt"].strip() == enc.strip()
