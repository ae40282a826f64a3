"""The certificate role with Debian's real Apache (apache2) and HAProxy, besides nginx.

Both run inside host1's mount namespace (as its nginx does), with their own
/etc/apache2, /etc/haproxy and /var/log/apache2 bind-mounted there, listening on
host1's address at ROLE_TEST_APACHE_PORT (8445) and ROLE_TEST_HAPROXY_PORT (8446).
One certificate of its own ("srv") feeds both: Apache reads key and full chain,
HAProxy the combined PEM; it also gets a PKCS#12 keystore (opened here with
openssl and with Java's keytool) and a DER copy. The services are the role's
presets, unchanged: `apache2ctl configtest` / `graceful` and
`haproxy -c -f /etc/haproxy/haproxy.cfg` / `/etc/init.d/haproxy reload`.

The tests build on each other: deploy (with a -vvvv run that must show neither
the keystore password nor key material), renewal of short-lived certificates,
then a broken HAProxy config that must put every output back.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import ssl
import subprocess

import pytest
from cryptography import x509

from conftest import HOSTS_SH, openssl_serial as serial

APACHE_PORT = int(os.environ.get("ROLE_TEST_APACHE_PORT", "8445"))
HAPROXY_PORT = int(os.environ.get("ROLE_TEST_HAPROXY_PORT", "8446"))
PASSWORD = "p12-SENTINEL-4c9a1f0e7b"
ALIAS = "srv-alias"
DIR = "/etc/ssl/test-host"
FILES = dict(key="srv.key", cert="srv.crt", chain="srv.chain.pem", fullchain="srv.fullchain.pem",
             combined="srv.combined.pem", pkcs12="srv.p12", der="srv.der")

APACHE_CONF = """\
# Written by tests/role/test_role_servers.py: one TLS site on {addr}:{port}.
DefaultRuntimeDir ${{APACHE_RUN_DIR}}
PidFile ${{APACHE_PID_FILE}}
ServerName {name}
User ${{APACHE_RUN_USER}}
Group ${{APACHE_RUN_GROUP}}
ErrorLog ${{APACHE_LOG_DIR}}/error.log
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so
LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so
StartServers 1
ServerLimit 1
ThreadsPerChild 4
MaxRequestWorkers 4
Listen {addr}:{port}
SSLSessionCache shmcb:${{APACHE_RUN_DIR}}/ssl_scache(51200)
<VirtualHost {addr}:{port}>
    ServerName {name}
    DocumentRoot /var/www/html
    SSLEngine on
    SSLCertificateFile {dir}/{fullchain}
    SSLCertificateKeyFile {dir}/{key}
</VirtualHost>
"""

HAPROXY_CONF = """\
# Written by tests/role/test_role_servers.py: TLS on {addr}:{port} with the combined PEM.
global
    maxconn 64
defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s
frontend tls
    bind {addr}:{port} ssl crt {dir}/{combined}
    http-request return status 200 content-type text/plain string ok
"""


def cert_list(host, der=True):
    return [{
        "name": "srv",
        "common_name": host["server_name"],
        "key_type": "ecdsa",
        "key_size": 256,
        "cert_path": "%s/%s" % (DIR, FILES["cert"]),
        "key_path": "%s/%s" % (DIR, FILES["key"]),
        "chain_path": "%s/%s" % (DIR, FILES["chain"]),
        "fullchain_path": "%s/%s" % (DIR, FILES["fullchain"]),
        "outputs": [{"type": "combined", "path": "%s/%s" % (DIR, FILES["combined"])},
                    {"type": "pkcs12", "path": "%s/%s" % (DIR, FILES["pkcs12"]), "friendly_name": ALIAS},
                    {"type": "der", "path": "%s/%s" % (DIR, FILES["der"])}][:3 if der else 2],
        "services": ["apache2", "haproxy"],
    }]


class Servers(object):
    def __init__(self, env):
        self.env = env
        self.host = env.hosts[0]
        self.dir = env.work / "servers"

    def ns(self, *argv, check=True):
        """A command in host1's mount namespace."""
        proc = subprocess.run([str(HOSTS_SH), "exec", "--dir", str(self.env.hosts_dir), "1"] + list(argv),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        if check and proc.returncode != 0:
            pytest.fail("%s in host1: %s" % (" ".join(argv), proc.stdout[-3000:]))
        return proc

    def file(self, name):
        return self.env.host_file(self.host, "%s/%s" % (DIR, name))

    def start(self):
        host = self.host
        fmt = dict(addr=host["address"], name=host["server_name"], dir=DIR, **FILES)
        shutil.rmtree(self.dir, ignore_errors=True)
        apache, haproxy, logs = self.dir / "etc-apache2", self.dir / "etc-haproxy", self.dir / "var-log-apache2"
        apache.mkdir(parents=True)
        haproxy.mkdir()
        logs.mkdir()
        shutil.copy("/etc/apache2/envvars", apache / "envvars")
        (apache / "apache2.conf").write_text(APACHE_CONF.format(port=APACHE_PORT, **fmt))
        (haproxy / "haproxy.cfg").write_text(HAPROXY_CONF.format(port=HAPROXY_PORT, **fmt))
        # Before the role: the host's placeholder pair, as plain files (the role's first run takes them over).
        key = self.file("placeholder.key").read_bytes()
        cert = self.file("placeholder.crt").read_bytes()
        for name, data, mode in (("key", key, 0o600), ("fullchain", cert, 0o644), ("combined", key + cert, 0o600)):
            self.file(FILES[name]).write_bytes(data)
            self.file(FILES[name]).chmod(mode)
        for outer, inner in ((apache, "/etc/apache2"), (haproxy, "/etc/haproxy"), (logs, "/var/log/apache2")):
            self.ns("mount", "--bind", str(outer), inner)
        # Started as their init scripts would (apache2ctl start defers to systemd where it is PID 1).
        self.ns("sh", "-c", ". /etc/apache2/envvars && mkdir -p \"$APACHE_RUN_DIR\" \"$APACHE_LOCK_DIR\" "
                            "&& exec apache2 -k start")
        self.ns("haproxy", "-f", "/etc/haproxy/haproxy.cfg", "-p", "/run/haproxy.pid", "-D")

    def stop(self):
        self.ns("sh", "-c", ". /etc/apache2/envvars && apache2 -k stop", check=False)
        self.ns("sh", "-c", "kill $(cat /run/haproxy.pid)", check=False)

    def served(self, port):
        """The certificate served on ``port`` for host1's name (SNI), verified against the sandbox root."""
        ctx = ssl.create_default_context(cafile=self.env.sandbox.roots)
        with socket.create_connection((self.host["address"], port), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname=self.host["server_name"]) as t:
                return x509.load_der_x509_certificate(t.getpeercert(binary_form=True))

    def serials(self):
        return dict(apache=serial(self.served(APACHE_PORT)), haproxy=serial(self.served(HAPROXY_PORT)))

    def outputs(self):
        return dict((name, self.file(f).read_bytes()) for name, f in FILES.items())

    def play(self, extra=None, verbose=False, check=False):
        """The role on host1 for the certificate srv; the password from a vars file (as AWX passes
        it: inline -e values are printed by ansible-playbook -vvvv itself)."""
        vars_file = self.env.work / "servers-secret.json"
        vars_file.write_text(json.dumps({"certificate_pkcs12_password": PASSWORD}))
        vars_file.chmod(0o600)
        extra = dict({"certificate_list": cert_list(self.host)}, **(extra or {}))
        cmd = self.env.command("site.yml", extra, limit=self.host["name"]) + ["-e", "@" + str(vars_file)]
        if verbose:
            cmd += ["-vvvv", "--diff"]
        if check:
            cmd += ["--check"]
        proc = subprocess.run(cmd, cwd=str(self.env.work), env=self.env.env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=300)
        with open(self.env.work / "plays.log", "a") as f:
            f.write("\n\n===== servers %s (rc %d)\n%s" % (extra, proc.returncode, proc.stdout))
        return proc


@pytest.fixture(scope="module")
def servers(role_env):
    srv = Servers(role_env)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def record(srv):
    return json.loads(srv.file("srv.crt.wotrus.json").read_text())


def test_apache_and_haproxy_serve_the_new_certificate(servers):
    srv = servers
    placeholder = serial(x509.load_pem_x509_certificate(srv.file("placeholder.crt").read_bytes()))
    proc = srv.play(extra={"certificate_list": cert_list(srv.host, der=False)}, verbose=True)  # DER: next test
    assert proc.returncode == 0, proc.stdout[-6000:]
    deployed = record(srv)["deployed_serial"]
    assert deployed != placeholder
    # Each server: a handshake with SNI that verifies against the sandbox root, the new certificate.
    assert srv.serials() == dict(apache=deployed, haproxy=deployed)
    # The combined PEM is 0600: key, certificate, chain.
    combined = srv.file(FILES["combined"])
    assert oct(combined.stat().st_mode & 0o777) == "0o600"
    assert combined.read_bytes().count(b"BEGIN CERTIFICATE") == 2 and b"PRIVATE KEY-----" in combined.read_bytes()
    # Neither the keystore password nor key material shows in the -vvvv --diff output.
    assert "--- before" in proc.stdout  # diffs were shown
    assert PASSWORD not in proc.stdout, "the PKCS#12 password shows in the -vvvv output"
    assert "PRIVATE KEY" not in proc.stdout, "key material shows in the -vvvv output"
    key_lines = [ln for ln in combined.read_text().splitlines() if ln and not ln.startswith("-----")]
    assert key_lines and not any(ln in proc.stdout for ln in key_lines[:2])
    assert PASSWORD not in record(srv) and PASSWORD not in json.dumps(record(srv))


def test_an_output_added_later_is_made_without_an_order(servers):
    srv = servers
    deployed = record(srv)["deployed_serial"]
    assert not srv.file(FILES["der"]).exists()
    pid = srv.ns("cat", "/run/haproxy.pid").stdout.split()
    calls, mark = srv.env.counts(), srv.env.api_mark()
    # Check mode with the DER output in a directory the host does not have yet: planned, nothing made.
    in_new_dir = cert_list(srv.host)
    in_new_dir[0]["outputs"][2]["path"] = "/etc/ssl/test-host-new/srv.der"
    proc = srv.play(extra={"certificate_list": in_new_dir}, check=True)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert re.search(r"host1\s+:.*changed=[1-9].*failed=0", proc.stdout), proc.stdout[-3000:]
    assert not srv.env.host_file(srv.host, "/etc/ssl/test-host-new").exists()
    # A file of its own at the DER path (made by hand, taken over by the role) is replaced.
    srv.file(FILES["der"]).write_bytes(b"hand-made, not the certificate")
    proc = srv.play()  # the same certificate, now with a DER output
    assert proc.returncode == 0, proc.stdout[-6000:]
    # Two plays, no order call: each play's credential read only.
    srv.env.assert_only_the_credential_read(calls, mark, plays=2)
    assert serial(x509.load_der_x509_certificate(srv.file(FILES["der"]).read_bytes())) == deployed
    # HAProxy reads none of the files that changed: not reloaded.
    assert srv.ns("cat", "/run/haproxy.pid").stdout.split() == pid
    assert srv.serials() == dict(apache=deployed, haproxy=deployed)
    # And the run after changes nothing.
    proc = srv.play()
    assert proc.returncode == 0 and re.search(r"host1\s+:.*changed=0", proc.stdout), proc.stdout[-3000:]


def test_the_keystore_opens_with_openssl_and_keytool(servers):
    srv = servers
    p12 = str(srv.file(FILES["pkcs12"]))
    deployed = record(srv)["deployed_serial"]
    out = subprocess.run(["openssl", "pkcs12", "-in", p12, "-passin", "pass:" + PASSWORD, "-nodes"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert out.returncode == 0, out.stdout
    assert out.stdout.count("BEGIN CERTIFICATE") == 2 and "BEGIN PRIVATE KEY" in out.stdout
    assert "friendlyName: %s" % ALIAS in out.stdout
    wrong = subprocess.run(["openssl", "pkcs12", "-in", p12, "-passin", "pass:wrong", "-nokeys"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert wrong.returncode != 0
    keytool = shutil.which("keytool")
    if keytool is None:
        pytest.fail("keytool (Java 17) is missing; make push-test / role-test install openjdk-17-jre-headless")
    kt = subprocess.run([keytool, "-list", "-v", "-storetype", "PKCS12", "-keystore", p12, "-storepass", PASSWORD],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert kt.returncode == 0, kt.stdout
    assert "Your keystore contains 1 entry" in kt.stdout
    assert re.search(r"Alias name: %s" % ALIAS, kt.stdout) and "Entry type: PrivateKeyEntry" in kt.stdout
    assert "Certificate chain length: 2" in kt.stdout
    assert re.search(r"Serial number: 0*%s" % deployed.lstrip("0").lower(), kt.stdout), kt.stdout


def test_renewal_with_short_lived_certificates_is_picked_up_by_each(servers):
    srv, env = servers, servers.env
    old = srv.serials()
    env.sandbox.mgmt_post("/config", {"validity_minutes": 3})
    try:
        proc = srv.play(extra={"certificate_renew_before_days": 400})
        assert proc.returncode == 0, proc.stdout[-6000:]
        new = srv.serials()
        deployed = record(srv)["deployed_serial"]
        assert new == dict(apache=deployed, haproxy=deployed) and deployed != old["apache"]
        cert = srv.served(HAPROXY_PORT)
        assert (cert.not_valid_after_utc - cert.not_valid_before_utc).total_seconds() <= 10 * 60
        out = subprocess.run(["openssl", "pkcs12", "-in", str(srv.file(FILES["pkcs12"])), "-passin",
                              "pass:" + PASSWORD, "-nokeys", "-clcerts"], stdout=subprocess.PIPE, check=True)
        assert serial(x509.load_pem_x509_certificate(out.stdout)) == deployed
    finally:
        env.sandbox.mgmt_post("/config", {"validity_minutes": None})


def test_a_broken_haproxy_config_puts_every_output_back(servers):
    srv = servers
    before, served = srv.outputs(), srv.serials()
    cfg = srv.dir / "etc-haproxy" / "haproxy.cfg"
    good = cfg.read_text()
    cfg.write_text(good + "    this-is-not-a-haproxy-keyword\n")
    try:
        proc = srv.play(extra={"certificate_force_renew": True})  # a new certificate is due
        assert proc.returncode != 0
        assert "the test of service haproxy failed" in proc.stdout, proc.stdout[-4000:]
        assert "every output of the certificate" in proc.stdout
        # Every output (key, certificate, chain, full chain, combined, PKCS#12, DER) as before, byte for byte.
        assert srv.outputs() == before
        # Neither server was reloaded: both still serve the old certificate.
        assert srv.serials() == served
        assert record(srv)["order_id"] != record(srv)["deployed_order_id"]  # the new order waits
    finally:
        cfg.write_text(good)
    # Config fixed: the next run deploys the order that waited, without buying another.
    creates = srv.env.counts()["POST /v1/Order/Create"]
    proc = srv.play()
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert srv.env.counts()["POST /v1/Order/Create"] == creates
    rec = record(srv)
    assert rec["order_id"] == rec["deployed_order_id"]
    assert srv.serials() == dict(apache=rec["deployed_serial"], haproxy=rec["deployed_serial"])
