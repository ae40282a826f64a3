"""The certificate role's HTTP domain validation (certificate_dcv: http) on the three SSH hosts.

The sandbox runs with dcv_mode http: an order of the Sectigo-backed product stays in
pendingDCV until the sandbox has fetched http://NAME:PORT/.well-known/pki-validation/<MD5>.txt
from the host's nginx (dcv_resolve maps each host's name to its address). The role reads the
values from the sandbox's Sectigo endpoint for the order's orderNumber and publishes the file.

The tests run in file order: a web root nginx does not serve (the host ends cleanly, the order
waits), then the right one (the waiting order is resumed, every host's order validated and
issued, every validation file gone), then a re-run that makes no order call (only the play's
credential read).
"""

from __future__ import annotations

import json
import pathlib

import pytest
import requests

from conftest import HTTP_PORT, openssl_serial

SECTIGO_PRODUCT = "8F6A3C1D-2B4E-4C5F-9A7B-1D2E3F4A5B6C"
STATUS_PATH = "/sectigo/products/!getPostPaymentStatus"
DCV_DIR = ".well-known/pki-validation"


def served_serial(env, host):
    return openssl_serial(env.served(host))


def dcv_vars(env, **extra):
    v = {"certificate_product_id": SECTIGO_PRODUCT, "certificate_dcv": "http",
         "certificate_sectigo_api_url": env.sandbox.api_url + STATUS_PATH,
         "certificate_sectigo_login_name": "sandbox", "certificate_sectigo_login_password": "sandbox-password"}
    v.update(extra)
    return v


def sectigo_calls(env):
    r = requests.get(env.sandbox.api_url + "/sectigo/_manage/stats", verify=env.sandbox.roots, timeout=10)
    r.raise_for_status()
    return r.json()["calls"]


def webroot_files(host, inner):
    """The validation files under a web root of the host (``inner`` is below /var/www)."""
    d = pathlib.Path(host["dir"]) / "var-www" / inner / DCV_DIR
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


@pytest.fixture(scope="module")
def dcv_env(role_env):
    sb = role_env.sandbox
    sb.mgmt_post("/config", {"dcv_mode": "http", "dcv_http_port": int(HTTP_PORT), "dcv_check_interval": 0.2,
                             "dcv_resolve": dict((h["server_name"], h["address"]) for h in role_env.hosts)})
    try:
        yield role_env
    finally:
        sb.mgmt_post("/config", {"dcv_mode": "delay", "dcv_http_port": 80, "dcv_check_interval": 1.0,
                                 "dcv_resolve": {}})


def test_unserved_webroot_leaves_the_order_waiting_and_ends_the_host_cleanly(dcv_env):
    env = dcv_env
    h2 = env.hosts[1]
    # /var/www exists on the host but nginx serves /var/www/html: the CA cannot fetch the file.
    proc = env.play(extra=dcv_vars(env, certificate_dcv_webroot="/var/www", certificate_wait_timeout=3),
                    limit=h2["name"])
    assert proc.returncode == 0, proc.stdout[-6000:]
    recap = env.recap(proc.stdout)
    assert recap[h2["name"]]["failed"] == 0, recap
    assert "pendingDCV: published validation file /var/www/%s/" % DCV_DIR in proc.stdout, proc.stdout[-6000:]
    assert "the HTTP validation file was published" in proc.stdout and "run again later to resume" in proc.stdout
    rec = env.record(h2)
    assert rec["status"] == "pendingDCV" and rec["product_id"] == SECTIGO_PRODUCT
    order = env.sandbox.mgmt_get("/orders/%s" % rec["order_id"])
    assert order["status"] == "pendingDCV", order
    check = order["dcv"][h2["server_name"]]
    assert check["state"] == "failed" and check["attempts"] >= 1 and "HTTP 404" in check["detail"], check
    # The file stays (a later run, or the CA, may still use it) and is on the order record.
    names = webroot_files(h2, "")
    assert len(names) == 1 and names[0].endswith(".txt"), names
    assert rec["dcv_files"] == ["/var/www/%s/%s" % (DCV_DIR, names[0])]
    assert check["url"] == "http://%s:%s/%s/%s" % (h2["server_name"], HTTP_PORT, DCV_DIR, names[0])
    assert webroot_files(h2, "html") == []


def test_http_dcv_validates_issues_deploys_and_removes_the_files(dcv_env):
    env = dcv_env
    h2 = env.hosts[1]
    waiting = env.record(h2)["order_id"]
    creates = env.counts()["POST /v1/Order/Create"]
    proc = env.play(extra=dcv_vars(env))
    assert proc.returncode == 0, proc.stdout[-6000:]
    recap = env.recap(proc.stdout)
    assert all(r["failed"] == 0 for r in recap.values()), recap
    assert "validation file removed" in proc.stdout
    # host2 resumed its waiting order; the others placed one each.
    assert env.counts()["POST /v1/Order/Create"] == creates + len(env.hosts) - 1
    for h in env.hosts:
        rec = env.record(h)
        if h is h2:
            assert rec["order_id"] == waiting
        order = env.sandbox.mgmt_get("/orders/%s" % rec["order_id"])
        assert order["status"] == "issued", order
        check = order["dcv"][h["server_name"]]
        assert check["state"] == "validated" and check["attempts"] >= 1, check
        assert check["url"].startswith("http://%s:%s/%s/" % (h["server_name"], HTTP_PORT, DCV_DIR)), check
        # The new certificate is served (verified against the sandbox roots, with SNI).
        assert served_serial(env, h) == rec["deployed_serial"]
        assert rec["deployed_order_id"] == rec["order_id"] and rec["product_id"] == SECTIGO_PRODUCT
        # Every validation file is gone, also the one the first run left under /var/www.
        assert webroot_files(h, "html") == [] and webroot_files(h, "") == []
        assert not (pathlib.Path(h["dir"]) / "var-www" / "html" / ".well-known").exists()
        assert not any(k.startswith("dcv_") for k in rec), json.dumps(rec)


def test_rerun_makes_one_credential_read_and_no_order_call(dcv_env):
    env = dcv_env
    before, sectigo_before, mark = env.counts(), sectigo_calls(env), env.api_mark()
    proc = env.play(extra=dcv_vars(env))
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert all(r["changed"] == 0 and r["failed"] == 0 for r in env.recap(proc.stdout).values())
    assert sectigo_calls(env) == sectigo_before
    # Of WoTrus, the play's one credential read (the probe order): no call concerns this file's orders.
    env.assert_only_the_credential_read(before, mark)
