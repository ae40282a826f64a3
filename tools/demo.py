#!/usr/bin/env python3
"""`make demo`: start the sandbox, issue certificates, show where they are.

With the certificate role and the SSH test hosts present, it runs
playbooks/site.yml against three local hosts (sshd + nginx, one per loopback
address) and checks each served certificate over TLS. Without them it orders,
waits for and fetches one certificate straight from the API. Every process it
starts is stopped before it exits.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from wotrus_sandbox.testing import SandboxProcess

ROOT = pathlib.Path(__file__).resolve().parent.parent
DV_PRODUCT = "30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D"


def say(msg):
    print("demo: " + msg, flush=True)


def openssl_verify(roots, chain_pems, leaf_pem, workdir):
    workdir.mkdir(parents=True, exist_ok=True)
    untrusted = workdir / "untrusted.pem"
    leaf = workdir / "leaf.pem"
    untrusted.write_text("".join(chain_pems))
    leaf.write_text(leaf_pem)
    out = subprocess.run(["openssl", "verify", "-CAfile", roots, "-untrusted", str(untrusted), str(leaf)],
                         capture_output=True, text=True)
    return out.returncode == 0, (out.stdout + out.stderr).strip()


def direct_flow(sb, workdir):
    """Order, wait for and fetch one certificate with plain HTTP calls."""
    workdir.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    key_path = workdir / "demo.example.test.key"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "demo.example.test")]))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName("demo.example.test"),
                                                       x509.DNSName("www.demo.example.test")]), critical=False)
           .sign(key, hashes.SHA256()))
    body = {
        "orderInfoPost": {
            "productID": DV_PRODUCT, "commonName": "demo.example.test",
            "hosts": "demo.example.test,www.demo.example.test",
            "csr_RSA": csr.public_bytes(serialization.Encoding.PEM).decode(), "month": 12,
            "idempotenceID": "demo-1",
        },
        "organizationPost": {"orgName": "Demo Ltd", "countryCode": "CN"},
        "documentsPost": [],
    }
    s = requests.Session()
    s.headers.update(sb.headers())
    s.verify = sb.roots
    # REQUESTS_CA_BUNDLE in the environment would override Session.verify.
    s.trust_env = False
    created = s.post(sb.api_url + "/v1/Order/Create", json=body, timeout=30).json()
    if not created.get("isSuccess"):
        raise SystemExit("demo: Create failed: %s" % created.get("errorMsg"))
    data = {k.lower(): v for k, v in created["data"].items()}
    order_id = data.get("orderid_rsa") or data.get("orderid")
    say("order %s created" % order_id)
    deadline = time.monotonic() + 60
    while True:
        order = s.get(sb.api_url + "/v1/Order/" + order_id, timeout=30).json()["data"]
        status = {k.lower(): v for k, v in order.items()}.get("status")
        say("order %s: %s" % (order_id, status))
        if status == "issued":
            break
        if time.monotonic() > deadline:
            raise SystemExit("demo: not issued within 60 s")
        time.sleep(1)
    pem = s.get(sb.api_url + "/v1/Certificate/RetrievePem", params={"orderID": order_id}, timeout=30).json()["data"]
    pem = {k.lower(): v for k, v in pem.items()}
    cert_path = workdir / "demo.example.test.crt"
    cert_path.write_text(pem["pem_rsa"])
    ok, out = openssl_verify(sb.roots, pem["chains_rsa"][1:], pem["pem_rsa"], workdir / "verify")
    say("certificate: %s" % cert_path)
    say("private key: %s" % key_path)
    say("openssl verify against the sandbox root (%s): %s" % (sb.roots, out))
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--state-dir", default=str(ROOT / ".tmp" / "demo"))
    args = ap.parse_args(argv)
    state = pathlib.Path(args.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    sandbox_dir = state / "sandbox"
    with SandboxProcess(state_dir=sandbox_dir, args=["--delay", "default=1"]) as sb:
        say("sandbox API %s, management %s, roots %s" % (sb.api_url, sb.mgmt_url, sb.roots))
        ok = direct_flow(sb, state / "direct")
        counts = sb.mgmt_get("/counts")
        say("API calls the sandbox saw: %s" % json.dumps(counts, sort_keys=True))
    say("sandbox stopped")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
