# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""wotrus_order against the sandbox: only the run whose Create made the order says created/changed.

Each run is the real module (plugins/modules/wotrus_order.py run as a program with its arguments, as
Ansible runs it on a host), in its own process: 20 at once with one key, then the same again twice in
a row without record_path. Exactly one run says changed; the server holds one order for the key.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODULE = os.path.join(ROOT, "plugins", "modules", "wotrus_order.py")
PRODUCT = "30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D"


def csr_pem(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    return (x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
            .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode("ascii"))


def start(sb, work, i, csr, claims):
    args = os.path.join(work, "args-%d.json" % i)
    with open(args, "w") as f:
        json.dump({"ANSIBLE_MODULE_ARGS": {
            "api_url": sb.api_url, "api_token": sb.token, "ca_path": sb.roots, "product_id": PRODUCT,
            "csr": csr, "organization": {"org_name": "Example Ltd"}}}, f)
    # The collection is importable as ansible_collections.wotrus.pki from the checkout (make venv);
    # TMPDIR gives this test its own claim directory.
    env = dict(os.environ, TMPDIR=claims, PYTHONPATH=os.path.join(ROOT, ".collections"))
    return subprocess.Popen([sys.executable, MODULE, args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, text=True)


def results(procs):
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=300)
        result = json.loads(stdout)
        assert not result.get("failed"), (result, stderr)
        out.append(result)
    return out


def test_twenty_concurrent_runs_one_key_one_order_one_changed(sb):
    work = tempfile.mkdtemp(prefix="wotrus-conc-")
    claims = tempfile.mkdtemp(prefix="wotrus-claims-")
    csr = csr_pem("conc.example.com")
    runs = results([start(sb, work, i, csr, claims) for i in range(20)])
    assert len({r["order_id"] for r in runs}) == 1
    assert len({r["idempotence_id"] for r in runs}) == 1
    assert sum(1 for r in runs if r["changed"]) == 1
    assert sum(1 for r in runs if r["created"]) == 1
    assert sum(1 for r in runs if r["existing"]) == 19
    assert sb.mgmt_get("/idempotence") == {runs[0]["idempotence_id"]: 1}

    # The same again, twice in a row and within five minutes, without record_path: nothing is created.
    again = results([start(sb, work, 100, csr, claims)]) + results([start(sb, work, 101, csr, claims)])
    assert [r["changed"] for r in again] == [False, False] and [r["created"] for r in again] == [False, False]
    assert {r["order_id"] for r in again} == {runs[0]["order_id"]}


def test_a_second_run_within_five_minutes_says_not_created(sb):
    work = tempfile.mkdtemp(prefix="wotrus-twice-")
    claims = tempfile.mkdtemp(prefix="wotrus-claims-")
    csr = csr_pem("twice.example.com")
    first = results([start(sb, work, 0, csr, claims)])[0]
    second = results([start(sb, work, 1, csr, claims)])[0]
    assert first["changed"] is True and first["created"] is True
    assert second["changed"] is False and second["created"] is False and second["existing"] is True
    assert second["order_id"] == first["order_id"]
