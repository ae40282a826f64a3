"""The certificate role's less travelled paths, over SSH against the sandbox:
an order waiting for a person (the host ends cleanly, a later run resumes it),
the overall wait timeout, an unpaid order, and key rotation on renewal.

Each test works on one host; (a), (b) and (e) on certificates of their own
(not served by nginx) so they do not depend on test_role.py, and they put the
sandbox knobs they change back.
"""

from __future__ import annotations

import json
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from conftest import PRODUCT, openssl_serial

SECTIGO = "8F6A3C1D-2B4E-4C5F-9A7B-1D2E3F4A5B6C"
PENDING_STATES = ("pendingSubmitOrderToCA", "pendingDCV", "pendingCAIssued", "pendingAutoIssue", "pending")

PLAYBOOK = """\
- name: The role, then a task that must not run on hosts the role ended
  hosts: wotrus_certificate_hosts
  gather_facts: false
  roles:
    - role: wotrus.pki.certificate
  post_tasks:
    - name: After the role
      ansible.builtin.debug:
        msg: "AFTER-ROLE on {{ inventory_hostname }}"
"""


def cert_list(name, product):
    return [{
        "name": name,
        "common_name": "{{ test_host_server_name }}",
        "product_id": product,
        "key_type": "ecdsa",
        "key_size": 256,
        "cert_path": "/etc/ssl/test-host/%s.crt" % name,
        "key_path": "/etc/ssl/test-host/%s.key" % name,
        "chain_path": "/etc/ssl/test-host/%s.chain.pem" % name,
        "fullchain_path": "/etc/ssl/test-host/%s.fullchain.pem" % name,
        "services": [],
    }]


class Cert(object):
    """One certificate of the tests on one host: its files, its runs."""

    def __init__(self, env, host, name, product=SECTIGO):
        self.env, self.host, self.name, self.product = env, host, name, product
        self.playbook = env.work / "paths-site.yml"
        self.playbook.write_text(PLAYBOOK)

    def file(self, suffix):
        return self.env.host_file(self.host, "/etc/ssl/test-host/%s%s" % (self.name, suffix))

    def record(self):
        return json.loads(self.file(".crt.wotrus.json").read_text())

    def play(self, **extra):
        extra = dict({"certificate_list": cert_list(self.name, self.product), "certificate_poll_interval": 1,
                      "certificate_wait_timeout": 30}, **extra)
        return self.env.play(str(self.playbook), extra=extra, limit=self.host["name"], timeout=120)

    def creates(self):
        return self.env.counts()["POST /v1/Order/Create"]

    def order(self, order_id):
        return self.env.sandbox.mgmt_get("/orders/%s" % order_id)

    def force(self, order_id, **state):
        self.env.sandbox.mgmt_post("/orders/%s/state" % order_id, state)


def flat(text):
    """The output with YAML's line wrapping undone (wraps are at spaces)."""
    return re.sub(r"\s+", " ", text)


def recap_of(proc, cert):
    recap = cert.env.recap(proc.stdout)
    assert cert.host["name"] in recap, proc.stdout[-4000:]
    return recap[cert.host["name"]]


def public_key(cert_or_key):
    return cert_or_key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)


def key_file_public_key(path):
    return public_key(serialization.load_pem_private_key(path.read_bytes(), None))


def assert_deployed(cert, order_id):
    """The order's certificate is on the host, with the staged key moved into place."""
    rec = cert.record()
    assert rec["order_id"] == rec["deployed_order_id"] == order_id, rec
    leaf = x509.load_pem_x509_certificate(cert.file(".crt").read_bytes())
    assert openssl_serial(leaf) == rec["deployed_serial"]
    assert int(rec["deployed_serial"], 16) == int((cert.order(order_id)["serial"] or "").replace(":", ""), 16)
    assert public_key(leaf) == key_file_public_key(cert.file(".key"))
    assert not cert.file(".key.pending").exists() and not cert.file(".key.pending.csr").exists()
    assert cert.file(".fullchain.pem").read_bytes().startswith(cert.file(".crt").read_bytes())


def assert_idempotence(env):
    ids = env.sandbox.mgmt_get("/idempotence")
    assert all(n == 1 for n in ids.values()), ids


@pytest.fixture
def delays(role_env):
    """Set sandbox delays for one test; put them back to 0 afterwards."""
    touched = set()

    def set_delays(**d):
        touched.update(d)
        role_env.sandbox.mgmt_post("/config", {"delays": d})
    yield set_delays
    if touched:
        role_env.sandbox.mgmt_post("/config", {"delays": dict((k, 0) for k in touched)})


# -- (a) an order waiting for a person ------------------------------------------

def test_order_waiting_for_a_person_ends_the_host_and_is_resumed(role_env, delays):
    env = role_env
    cert = Cert(env, env.hosts[1], "paths-dcv")
    delays(pendingSubmitOrderToCA=0, pendingDCV=3600)
    creates = cert.creates()
    proc = cert.play()
    # The host ends cleanly: no failure, and nothing after the role runs on it.
    assert proc.returncode == 0, proc.stdout[-6000:]
    r = recap_of(proc, cert)
    assert r["failed"] == 0 and r["unreachable"] == 0, r
    assert "AFTER-ROLE on %s" % cert.host["name"] not in proc.stdout
    assert cert.creates() == creates + 1
    rec = cert.record()
    order_id, link = rec["order_id"], rec["pending_link"]
    assert rec["status"] == "pendingDCV" and link and link.startswith(env.sandbox.api_url), rec
    assert rec.get("deployed_order_id") is None
    assert oct(cert.file(".crt.wotrus.json").stat().st_mode & 0o777) == "0o600"
    # Reported with its link, saying what it waits for.
    assert re.search(r"order %s is pendingDCV: the order waits for domain validation.* at %s; run again"
                     % (order_id, re.escape(link)), flat(proc.stdout)), proc.stdout[-4000:]
    # Nothing deployed; the staged key and CSR wait for the order.
    assert not cert.file(".crt").exists() and not cert.file(".key").exists()
    assert cert.file(".key.pending").exists() and cert.file(".key.pending.csr").exists()
    staged = cert.file(".key.pending").read_bytes()

    # A later run resumes it (GET, no Create); still waiting: reported again.
    proc = cert.play()
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert "resuming order %s" % order_id in proc.stdout
    assert "AFTER-ROLE on %s" % cert.host["name"] not in proc.stdout
    assert cert.creates() == creates + 1
    assert cert.record()["order_id"] == order_id
    assert cert.file(".key.pending").read_bytes() == staged

    # Validated: the next run fetches and deploys that order, still without a Create.
    cert.force(order_id, status="issued")
    proc = cert.play()
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert recap_of(proc, cert)["failed"] == 0
    assert "AFTER-ROLE on %s" % cert.host["name"] in proc.stdout
    assert cert.creates() == creates + 1
    assert_deployed(cert, order_id)
    assert_idempotence(env)


# -- (b) the overall wait timeout -------------------------------------------------

def test_wait_timeout_fails_clearly_and_the_next_run_resumes(role_env, delays):
    env = role_env
    cert = Cert(env, env.hosts[2], "paths-timeout")
    delays(pendingSubmitOrderToCA=3600)
    creates = cert.creates()
    proc = cert.play(certificate_wait_timeout=3)
    assert proc.returncode != 0
    r = recap_of(proc, cert)
    assert r["failed"] == 1, r
    rec = cert.record()
    order_id = rec["order_id"]
    assert rec["status"] == "pendingSubmitOrderToCA" and rec.get("deployed_order_id") is None, rec
    assert ("order %s is not issued after 3s: WoTrus is reviewing the order before it goes to the CA; the order "
            "is on record and the next run resumes it" % order_id) in flat(proc.stdout), proc.stdout[-4000:]
    assert "waited 1s of 3s" in proc.stdout or "waited 2s of 3s" in proc.stdout  # progress lines
    assert cert.creates() == creates + 1
    assert not cert.file(".crt").exists() and cert.file(".key.pending").exists()

    cert.force(order_id, status="issued")
    proc = cert.play(certificate_wait_timeout=3)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert "resuming order %s" % order_id in proc.stdout
    assert cert.creates() == creates + 1
    assert_deployed(cert, order_id)
    assert_idempotence(env)


# -- (e) an unpaid order -----------------------------------------------------------

def test_unpaid_order_is_reported_as_waiting_for_payment(role_env, delays):
    env = role_env
    cert = Cert(env, env.hosts[0], "paths-unpaid", product=PRODUCT)
    creates = cert.creates()
    env.sandbox.mgmt_post("/config", {"unpaid": True})
    try:
        proc = cert.play(certificate_wait_timeout=2)
    finally:
        env.sandbox.mgmt_post("/config", {"unpaid": False})
    assert proc.returncode != 0
    assert recap_of(proc, cert)["failed"] == 1
    rec = cert.record()
    order_id = rec["order_id"]
    assert rec["is_pay"] == 0 and rec["status"] == "pendingAutoIssue", rec
    msg = re.search(r"order %s is not issued after 2s: (.*)" % order_id, flat(proc.stdout))
    assert msg, proc.stdout[-4000:]
    assert "waits for payment (isPay 0), not for validation" in msg.group(1)
    assert cert.creates() == creates + 1

    # Unpaid and in pendingDCV with a link: still payment, not validation.
    cert.force(order_id, status="pendingDCV")
    proc = cert.play(certificate_wait_timeout=2)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert re.search(r"order %s is pendingDCV: the order waits for payment \(isPay 0\), not for validation"
                     % order_id, flat(proc.stdout)), proc.stdout[-4000:]
    assert "waits for domain validation" not in proc.stdout

    # Paid: the next run resumes the same order and deploys it.
    cert.force(order_id, status="pendingAutoIssue", is_pay=1)
    proc = cert.play()
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert cert.creates() == creates + 1
    assert_deployed(cert, order_id)
    assert_idempotence(env)


# -- (c) key rotation on renewal ---------------------------------------------------

def test_key_rotation_never_keeps_the_key_and_always_rotates_it(role_env):
    env = role_env
    h = env.hosts[0]
    key_file = env.host_file(h, "/etc/ssl/test-host/placeholder.key")
    proc = env.play(limit=h["name"])  # whatever the earlier tests left: deployed and not due
    assert proc.returncode == 0, proc.stdout[-6000:]
    first = env.served(h)
    first_key = key_file.read_bytes()
    assert public_key(first) == key_file_public_key(key_file)

    proc = env.play(extra={"certificate_renew_before_days": 4000, "certificate_key_rotation": "never"},
                    limit=h["name"])
    assert proc.returncode == 0, proc.stdout[-6000:]
    kept = env.served(h)
    assert kept.serial_number != first.serial_number
    assert public_key(kept) == public_key(first)
    assert key_file.read_bytes() == first_key
    rec = env.record(h)
    assert rec["key"] == "current" and rec["purpose"] == "renew" and openssl_serial(kept) == rec["deployed_serial"]
    assert not env.host_file(h, "/etc/ssl/test-host/placeholder.key.pending").exists()

    proc = env.play(extra={"certificate_renew_before_days": 4000, "certificate_key_rotation": "always"},
                    limit=h["name"])
    assert proc.returncode == 0, proc.stdout[-6000:]
    rotated = env.served(h)
    assert rotated.serial_number != kept.serial_number
    assert public_key(rotated) != public_key(kept)
    assert key_file.read_bytes() != first_key
    assert public_key(rotated) == key_file_public_key(key_file)
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    rec = env.record(h)
    assert rec["key"] == "staged" and openssl_serial(rotated) == rec["deployed_serial"]
    assert_idempotence(env)
