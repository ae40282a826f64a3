"""The role with the Pythons and cryptography releases that managed hosts have.

The hosts run the system Python (/usr/bin/python3 with Debian 12's
python3-cryptography 38.0.4) by default. Here the role's main path -- issue,
deploy, serve over TLS with SNI, re-run with nothing changed and no order call (the play's one credential read) --
also runs with host interpreters carrying cryptography 36.0.2 (RHEL 9's line) and
3.4.8 (Ubuntu 22.04's, the minimum), and with Python 3.8 (the minimum) where the
machine has one (conftest.HOST_PYTHONS). A host without cryptography, or with one
older than the minimum, is refused by the status step, in check mode as in a real
run, before any key, CSR or order.

Each interpreter gets its own certificate and nginx server name on one host, so
the runs neither depend on nor disturb the other role tests.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import HTTPS_PORT, REPO, SYSTEM_PYTHON, make_host_python, openssl_serial

# name -> the cryptography version its modules must report
MAIN_PATH = {
    "system": None,  # whatever Debian ships (38.0.4 on bookworm)
    "crypto36": "36.0.2",
    "crypto348": "3.4.8",
    "py38-crypto348": "3.4.8",
}
REFUSED = {"crypto332": "cryptography 3.3.2", "nocrypto": "is not installed"}


def interpreter(name):
    return SYSTEM_PYTHON if name == "system" else make_host_python(name)


def certificate(tag, host):
    """A certificate of its own for ``tag`` on ``host``, under the name TAG.hostN.example.test."""
    base = "/etc/ssl/test-host/py-%s" % tag
    return dict(name="py-%s" % tag, common_name="%s.%s" % (tag, host["server_name"]), key_type="ecdsa",
                key_size=256, cert_path=base + ".crt", chain_path=base + ".chain.pem",
                fullchain_path=base + ".fullchain.pem", key_path=base + ".key",
                services=[dict(name="nginx", test=["nginx", "-t"], reload=["nginx", "-s", "reload"])])


def serve(env, host, item):
    """An nginx server block for the certificate's name, with a self-signed stand-in in its files until
    the role deploys the real one (nginx -t needs files that exist)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, item["common_name"])])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    env.host_file(host, item["fullchain_path"]).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file = env.host_file(host, item["key_path"])
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    site = ("server {\n    listen %s:%d ssl;\n    server_name %s;\n    ssl_certificate %s;\n"
            "    ssl_certificate_key %s;\n}\n")
    env.host_file(host, "/etc/nginx/conf.d/%s.conf" % item["name"]).write_text(
        site % (host["address"], HTTPS_PORT, item["common_name"], item["fullchain_path"], item["key_path"]))


def play(env, host, python, item, check=False):
    cmd = env.command("site.yml", {"certificate_list": [item], "ansible_python_interpreter": python},
                      limit=host["name"]) + ["-v"] + (["--check"] if check else [])
    run_env = dict(env.env(), ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    proc = subprocess.run(cmd, cwd=str(REPO), env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300)
    with open(env.work / "plays.log", "a") as f:
        f.write("\n\n===== %s %s (rc %d)\n%s" % (" ".join(cmd[-6:]), python, proc.returncode, proc.stdout))
    return proc


def reported_cryptography(output):
    """The cryptography versions certificate_status reported (its ``python`` result)."""
    return set(re.findall(r'"cryptography": "([^"]*)"', output))


@pytest.mark.parametrize("name", list(MAIN_PATH))
def test_main_path_with_the_host_python(role_env, name):
    env = role_env
    python = interpreter(name)
    host = env.hosts[list(MAIN_PATH).index(name) % len(env.hosts)]
    item = certificate(name, host)
    serve(env, host, item)
    before = env.counts()

    proc = play(env, host, python, item)
    assert proc.returncode == 0, proc.stdout[-6000:]
    recap = env.recap(proc.stdout)[host["name"]]
    assert recap["failed"] == 0 and recap["changed"] > 0, recap
    want = MAIN_PATH[name] or subprocess.run(
        [python, "-c", "import cryptography; print(cryptography.__version__)"],
        stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
    assert reported_cryptography(proc.stdout) == {want}, "the modules ran with another cryptography"
    assert env.counts()["total"] > before["total"]

    # Served for its name (SNI), verified against the sandbox roots.
    served = env.served(host, item["common_name"])
    assert served.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == item["common_name"]
    record = json.loads(env.host_file(host, item["cert_path"] + ".wotrus.json").read_text())
    assert record["deployed_serial"] == openssl_serial(served)
    out = subprocess.run(["openssl", "verify", "-CAfile", env.sandbox.roots, "-untrusted",
                          str(env.host_file(host, item["chain_path"])), str(env.host_file(host, item["cert_path"]))],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert out.returncode == 0, out.stdout
    assert not env.host_file(host, item["key_path"] + ".pending").exists()

    # Again: nothing changes, no order call (the play's one credential read).
    before, mark = env.counts(), env.api_mark()
    proc = play(env, host, python, item)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert env.recap(proc.stdout)[host["name"]]["changed"] == 0, proc.stdout[-4000:]
    env.assert_only_the_credential_read(before, mark)


@pytest.mark.parametrize("name", list(REFUSED))
def test_host_without_a_usable_cryptography_is_refused_before_anything(role_env, name):
    env = role_env
    python = interpreter(name)
    host = env.hosts[0]
    item = certificate(name, host)
    before, mark = env.counts(), env.api_mark()
    messages = []
    for check in (True, False):
        proc = play(env, host, python, item, check=check)
        assert proc.returncode != 0, proc.stdout[-4000:]
        assert env.recap(proc.stdout)[host["name"]]["failed"] == 1
        failed = [line for line in proc.stdout.splitlines() if line.startswith("failed: [%s]" % host["name"])]
        assert failed, proc.stdout[-4000:]
        assert "Read the deployed certificates" in proc.stdout.split(failed[0])[0].rsplit("TASK [", 1)[1]
        assert REFUSED[name] in failed[0]
        for hint in ("apt install python3-cryptography", "dnf install python3-cryptography",
                     "%s -m pip install 'cryptography>=3.4.8'" % python):
            assert hint in failed[0], failed[0]
        messages.append(json.loads(failed[0].split(" => ", 1)[1])["msg"])
    # Check mode finds what the real run finds; neither made a key, a CSR or an order (each play made
    # its credential read, on the controller, before the status task).
    assert messages[0] == messages[1]
    env.assert_only_the_credential_read(before, mark, plays=2)
    assert not os.path.exists(str(env.host_file(host, item["key_path"] + ".pending")))
    assert not os.path.exists(str(env.host_file(host, item["key_path"])))


@pytest.mark.parametrize("name", [n for n in MAIN_PATH if n != "system"])
def test_x509_unit_tests_pass_with_the_host_python(name):
    """The X.509 and status unit tests (cross certificates, every key type, serials as openssl shows
    them, ISO times) with that Python and cryptography, not only the installed ones."""
    python = make_host_python(name)
    proc = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/unit/plugins/module_utils/test_x509.py",
                           "tests/unit/plugins/module_utils/test_role_status.py"],
                          cwd=str(REPO), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-6000:]
