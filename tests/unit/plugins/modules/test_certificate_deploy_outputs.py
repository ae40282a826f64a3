# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""certificate_deploy's other outputs (combined PEM, PKCS#12, DER) and its services:
written in the same version as key and certificate, put back all together when a service's
test fails, only the services that read a changed file reloaded, no secret in the result."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.wotrus.pki.plugins.module_utils import _x509

from .test_certificate_deploy import CA, Host, key_pem, mode, new_key, pem, run

PASSWORD = "p12-SENTINEL-7d1e0b"


@pytest.fixture(scope="module")
def ca():
    return CA()


@pytest.fixture
def host(tmp_path, ca):
    h = Host(tmp_path, ca)
    h.combined_path, h.pkcs12_path, h.der_path = (str(tmp_path / n) for n in ("www.pem", "www.p12", "www.der"))
    return h


def outputs(host, **kw):
    a = dict(combined_path=host.combined_path, pkcs12_path=host.pkcs12_path, der_path=host.der_path,
             pkcs12_password=PASSWORD)
    a.update(kw)
    return host.args(**a)


def marker_service(host, name, files, fail_test=False):
    """A custom service that notes each reload in a file (and whose test can fail)."""
    log = host.d / ("reloads-" + name)
    return dict(name=name, files=files, test=["false"] if fail_test else ["true"],
                reload=["sh", "-c", "echo x >> %s" % log]), log


def test_outputs_are_written_with_the_key_and_certificate(host, capsys):
    result = run(outputs(host), capsys)
    assert result["changed"] is True and result["deployed"] is True
    chain = [host.ca.intermediate]
    # Combined: key, certificate, chain; 0600 like the key.
    combined = host.read(host.combined_path)
    assert combined == key_pem(host.new_key) + pem(host.new) + pem(host.ca.intermediate)
    assert mode(host.combined_path) == 0o600 and mode(host.pkcs12_path) == 0o600 and mode(host.der_path) == 0o644
    assert x509.load_der_x509_certificate(host.read(host.der_path)) == host.new
    p12 = pkcs12.load_pkcs12(host.read(host.pkcs12_path), PASSWORD.encode())
    assert p12.cert.certificate == host.new and p12.cert.friendly_name == b"www"
    assert [c.certificate for c in p12.additional_certs] == chain
    assert p12.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()) == key_pem(host.new_key)
    assert _x509.pkcs12_encryption_of(host.read(host.pkcs12_path)) == "modern"
    # Links through the store, like the other paths.
    for path, fname in ((host.combined_path, "combined.pem"), (host.pkcs12_path, "cert.p12"), (host.der_path, "cert.der")):
        assert os.readlink(path) == ".wotrus/www/current/" + fname
    # The same run again: nothing changes (the PKCS#12 file, with its random salt, is kept).
    before = host.read(host.pkcs12_path)
    result = run(outputs(host, record=json.loads(host.read(host.record_path))), capsys)
    assert result["changed"] is False and result["deployed"] is False
    assert host.read(host.pkcs12_path) == before


def test_no_secret_in_the_result(host, capsys):
    out = json.dumps(run(outputs(host, services=[dict(name="svc", reload=["true"])]), capsys))
    assert PASSWORD not in out and "PRIVATE KEY" not in out
    key = key_pem(host.new_key)
    assert host.read(host.combined_path).startswith(key)
    assert not any(line in out for line in key.decode().splitlines()[1:-1])


def test_openssl_opens_the_pkcs12_file(host, capsys):
    run(outputs(host), capsys)
    proc = subprocess.run(["openssl", "pkcs12", "-in", host.pkcs12_path, "-passin", "pass:" + PASSWORD, "-nodes"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.count(b"BEGIN CERTIFICATE") == 2 and key_pem(host.new_key) in proc.stdout
    assert b"friendlyName: www" in proc.stdout


def test_legacy_encryption_and_a_change_of_encryption_rewrites_the_file(host, capsys):
    run(outputs(host, pkcs12_encryption="legacy", pkcs12_friendly_name="tomcat"), capsys)
    data = host.read(host.pkcs12_path)
    assert _x509.pkcs12_encryption_of(data) == "legacy"
    assert pkcs12.load_pkcs12(data, PASSWORD.encode()).cert.friendly_name == b"tomcat"
    result = run(outputs(host, pkcs12_friendly_name="tomcat"), capsys)
    assert result["changed"] is True and result["paths"] == [host.pkcs12_path]
    assert _x509.pkcs12_encryption_of(host.read(host.pkcs12_path)) == "modern"
    # A new password: the file no longer opens with it, so it is made again.
    result = run(outputs(host, pkcs12_friendly_name="tomcat", pkcs12_password="other-password"), capsys)
    assert result["paths"] == [host.pkcs12_path]
    pkcs12.load_pkcs12(host.read(host.pkcs12_path), b"other-password")


def test_a_failed_test_puts_every_output_back(host, capsys):
    run(outputs(host), capsys)  # version 2: the new certificate with all its outputs
    first = host.snapshot()
    k3 = new_key()
    host.write(host.staged_key_path, key_pem(k3), 0o600)
    c3 = host.ca.leaf(k3, 0x0C)
    good, good_log = marker_service(host, "nginx", ["key", "cert", "fullchain"])
    bad, dummy = marker_service(host, "haproxy", ["combined"], fail_test=True)
    result = run(outputs(host, certificate=pem(c3).decode(), services=[good, bad]), capsys)
    assert result["failed"] is True
    assert "the test of service haproxy failed" in result["msg"]
    assert "every output of the certificate" in result["msg"]
    assert PASSWORD not in json.dumps(result)
    after = host.snapshot()
    for name in ("www.key", "www.crt", "www.chain.pem", "www.fullchain.pem", "www.pem", "www.p12", "www.der"):
        assert after[name] == first[name], name
    assert not good_log.exists()  # no reload after a failed test


def test_only_services_whose_files_changed_are_reloaded(host, capsys):
    web, web_log = marker_service(host, "web", ["key", "cert", "chain", "fullchain", "combined"])
    java, java_log = marker_service(host, "java", ["pkcs12"])
    result = run(host.args(services=[web, java]), capsys)  # no PKCS#12 yet: only web reads what changed
    assert result["reloaded"] == ["web"] and not java_log.exists()
    web_before = web_log.read_text()
    # Adding the keystore later: a new version, only the Java service reloaded.
    result = run(host.args(services=[web, java], pkcs12_path=host.pkcs12_path, pkcs12_password=PASSWORD), capsys)
    assert result["changed"] is True and result["paths"] == [host.pkcs12_path]
    assert result["reloaded"] == ["java"]
    assert web_log.read_text() == web_before and java_log.read_text() == "x\n"


def test_pkcs12_needs_a_password(host, capsys):
    result = run(outputs(host, pkcs12_password=None), capsys)
    assert result["failed"] is True and "pkcs12_password: is required" in result["msg"]
    assert host.snapshot() == host.before


def test_pkcs12_on_a_cryptography_without_the_encryption_builder(host, capsys, monkeypatch):
    monkeypatch.setattr(_x509, "HAS_PKCS12_ENCRYPTION_BUILDER", False)
    result = run(outputs(host), capsys)
    assert result["failed"] is True and "pkcs12_encryption: " in result["msg"] and "cryptography 38" in result["msg"]
    assert host.snapshot() == host.before
    # Without a PKCS#12 output the older cryptography is enough.
    result = run(outputs(host, pkcs12_path=None), capsys)
    assert result["deployed"] is True


@pytest.mark.parametrize("service, expect", [
    (dict(name="x"), "services[0]: needs reload"),
    (dict(preset="systemd"), "services[0].unit: is required by preset systemd"),
])
def test_bad_services_fail_before_anything_is_written(host, capsys, service, expect):
    result = run(outputs(host, services=[service]), capsys)
    assert result["failed"] is True and expect in result["msg"], result["msg"]
    assert host.snapshot() == host.before


def test_refresh_adds_outputs_to_the_deployed_certificate(host, capsys):
    web, web_log = marker_service(host, "web", ["key", "cert", "chain", "fullchain", "combined"])
    java, java_log = marker_service(host, "java", ["pkcs12", "der"])
    run(host.args(services=[web, java]), capsys)
    web_before = web_log.read_text()
    pair = host.pair()
    # What the role runs when only an output is missing: no certificate, no record, refresh.
    args = dict(name="www", cert_path=host.cert_path, key_path=host.key_path, chain_path=host.chain_path,
                fullchain_path=host.fullchain_path, pkcs12_path=host.pkcs12_path, pkcs12_password=PASSWORD,
                der_path=host.der_path, refresh=True, services=[web, java])
    result = run(args, capsys)
    assert result["changed"] is True and sorted(result["paths"]) == sorted([host.pkcs12_path, host.der_path])
    assert result["reloaded"] == ["java"] and web_log.read_text() == web_before
    assert host.pair() == pair
    p12 = pkcs12.load_pkcs12(host.read(host.pkcs12_path), PASSWORD.encode())
    assert p12.cert.certificate == host.new and [c.certificate for c in p12.additional_certs] == [host.ca.intermediate]
    assert run(args, capsys)["changed"] is False


def test_refresh_without_a_deployed_version_changes_nothing(host, capsys):
    result = run(dict(name="www", cert_path=host.cert_path, key_path=host.key_path, der_path=host.der_path,
                      refresh=True), capsys)
    assert result["failed"] is True and "refresh: no deployed version" in result["msg"]
    assert host.snapshot() == host.before
