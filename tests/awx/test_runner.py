# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/site.yml as an AWX job: ansible-runner, the collection from its
tarball, the WoTrus credential type's injectors rendered as AWX renders them
(the API address, the token and the CA bundle as a file: nothing about the API
in the inventory). Every host gets its certificate, no prompt, no secret in
the job's events, stdout or artifacts, and a second job makes no order call (only the play's
one credential read)."""

from __future__ import annotations

import json
import os
import pathlib
import re
import secrets
import socket
import ssl
import subprocess

import pytest

from conftest import HTTPS_PORT, PRODUCT, credential_type

import awx_injectors

PLACEHOLDER_CERT = "/etc/ssl/test-host/placeholder.crt"
PLACEHOLDER_KEY = "/etc/ssl/test-host/placeholder.key"
# No certificate_api_url, _token or _ca_path: the credential gives them.
GROUP_VARS = {
    "certificate_product_id": PRODUCT,
    "certificate_poll_interval": 1,
    "certificate_organization": {"org_name": "wotrus.pki AWX tests", "country_code": "CN"},
    "certificate_list": [{
        "name": "site", "common_name": "{{ test_host_server_name }}", "key_type": "ecdsa", "key_size": 256,
        "cert_path": "/etc/ssl/test-host/site.crt", "chain_path": "/etc/ssl/test-host/site.chain.pem",
        "fullchain_path": PLACEHOLDER_CERT, "key_path": PLACEHOLDER_KEY,
        "services": [{"name": "nginx", "test": ["nginx", "-t"], "reload": ["nginx", "-s", "reload"]}],
    }],
}
ORDER_INFO_PLAYBOOK = """\
---
- name: Read an order with the credential's connection settings only
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Read the order (api_url, api_token and ca_path from the credential's environment)
      wotrus.pki.wotrus_order_info:
        order_id: "%s"
"""


def served(address, server_name, roots):
    ctx = ssl.create_default_context(cafile=roots)
    with socket.create_connection((address, int(HTTPS_PORT)), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname=server_name) as t:
            return t.getpeercert(binary_form=True)


def host_path(host, path):
    assert path.startswith("/etc/ssl/")
    return pathlib.Path(host["dir"]) / "etc-ssl" / path[len("/etc/ssl/"):]


def openssl_verify(roots, chain, cert):
    return subprocess.run(["openssl", "verify", "-CAfile", str(roots), "-untrusted", str(chain), str(cert)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def secret_places(job):
    """Every text of a job that AWX keeps or shows: stdout, events, the artifacts (but ``command``, see
    below) and the files the injectors wrote; as ``{name: text}``."""
    places = {"stdout": job.stdout, "events": json.dumps(job.events)}
    for path in sorted(job.artifact_dir.rglob("*")):
        if path.is_file() and path.name != "command":
            places[str(path.relative_to(job.pdd))] = path.read_text(errors="replace")
    for path in sorted((job.pdd / "env").glob("*")):
        places[str(path.relative_to(job.pdd))] = path.read_text(errors="replace")
    return places


def test_site_as_awx_job(awx_world, sandbox_factory):
    token = "awx-sentinel-" + secrets.token_hex(12)
    sb = sandbox_factory(token=token, config={"revoke_delay": 0})
    roots = pathlib.Path(sb.roots).read_text()
    credential = ("wotrus", {"api_url": sb.api_url, "api_token": token, "ca_bundle": roots})
    hosts = awx_world.hosts[:3]

    job = awx_world.run(hosts, GROUP_VARS, [credential], verbosity=4)
    assert job.status == "successful", job.stdout[-5000:]
    assert job.runner.rc == 0 and job.failed_hosts() == []
    assert job.changed_hosts() == sorted(h["name"] for h in hosts)

    # The credential reached the job as AWX gives it: env names, the CA bundle as a file.
    assert job.injected.env["WOTRUS_API_TOKEN"] == token
    ca_file = pathlib.Path(job.injected.env["WOTRUS_CA_PATH"])
    assert ca_file.parent == job.pdd / "env" and ca_file.read_text() == roots
    assert oct(ca_file.stat().st_mode & 0o777) == "0o600"
    assert job.injected.safe_env["WOTRUS_API_TOKEN"] == awx_injectors.HIDDEN
    # The role ran from the installed tarball, not from the checkout.
    paths = [e["event_data"].get("task_path", "") for e in job.events if e["event"] == "playbook_on_task_start"]
    assert paths and all(str(awx_world.collections_dir) in p for p in paths if "wotrus/pki" in p)

    # Every host has its certificate: it verifies against the sandbox's roots and nginx serves it.
    for host in hosts:
        cert = host_path(host, "/etc/ssl/test-host/site.crt")
        check = openssl_verify(sb.roots, host_path(host, "/etc/ssl/test-host/site.chain.pem"), cert)
        assert check.returncode == 0, check.stdout
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding
        on_disk = x509.load_pem_x509_certificate(cert.read_bytes())
        assert served(host["address"], host["server_name"], sb.roots) == on_disk.public_bytes(Encoding.DER)
    assert len(sb.mgmt_get("/orders")) == 3
    assert all(n == 1 for n in sb.mgmt_get("/idempotence").values())

    # No prompt: nothing waited for input (the job would have hit its timeout), no event asked.
    assert not any("prompt" in e["event"] for e in job.events)
    # (no SSH, become or vault password prompt in the output)
    assert not re.search(r"(?i)(ssh|become|sudo|vault) password|passphrase for|password for ", job.stdout)

    # No secret anywhere AWX keeps or shows (at -vvvv).
    leaks = [name for name, text in secret_places(job).items() if token in text]
    assert leaks == [], "the token is in %s" % leaks
    assert "env/envvars" not in [str(p.relative_to(job.pdd)) for p in (job.pdd / "env").glob("*")]
    # ansible-runner writes the job's environment (the token with it) to artifacts/<ident>/command,
    # 0600, whatever the options; AWX's worker deletes the private data dir when the job ends, and so
    # do these tests. docs/awx.md says so.
    command = job.artifact_dir / "command"
    assert oct(command.stat().st_mode & 0o777) == "0o600"
    assert token in command.read_text(), "the sentinel is findable: the scan above could fail"

    # A second job: nothing is due, nothing changed; the play's one credential check (a read of the
    # probe order, before the status task) and no order call.
    before = sb.mgmt_get("/counts")
    log = sb.state_dir / "sandbox.log"
    mark = log.stat().st_size
    again = awx_world.run(hosts, GROUP_VARS, [credential])
    assert again.status == "successful", again.stdout[-5000:]
    assert again.changed_hosts() == []
    after = sb.mgmt_get("/counts")
    calls = dict((k, v - before.get(k, 0)) for k, v in after.items() if v != before.get(k, 0))
    assert calls == {"GET /v1/Order/{id}": 1, "total": 1}, calls
    with open(log, "rb") as f:
        f.seek(mark)
        requests = re.findall(r" (GET|POST) (\S+) RequestID=", f.read().decode("utf-8", "replace"))
    assert requests == [("GET", "/v1/Order/00000000-0000-0000-0000-000000000000")], requests

    # The modules read the same names: wotrus_order_info with nothing but the credential
    # (API address, token, and the CA bundle only through WOTRUS_CA_PATH) verifies TLS and reads the order.
    record = json.loads(host_path(hosts[0], "/etc/ssl/test-host/site.crt.wotrus.json").read_text())
    info = awx_world.run([], {}, [credential], playbook="playbooks/awx_order_info.yml",
                         extra_playbooks={"awx_order_info.yml": ORDER_INFO_PLAYBOOK % record["order_id"]},
                         limit="localhost")
    assert info.status == "successful", info.stdout[-3000:]
    assert info.stats.get("ok", {}).get("localhost")


def test_missing_ca_bundle_is_the_system_cas(tmp_path):
    """A WoTrus credential without a CA bundle injects an empty WOTRUS_CA_PATH (the system's CAs),
    not the name of an empty file that every call would refuse."""
    out = awx_injectors.inject(credential_type("wotrus"), {"api_url": "https://api.example", "api_token": "t"},
                               str(tmp_path))
    assert out.env == {"WOTRUS_API_URL": "https://api.example", "WOTRUS_API_TOKEN": "t", "WOTRUS_CA_PATH": ""}
    assert out.safe_env["WOTRUS_API_TOKEN"] == awx_injectors.HIDDEN


@pytest.mark.parametrize("kind,inputs,env", [
    ("sectigo", {"api_url": "https://sectigo.example/x", "login_name": "jane", "login_password": "pw"},
     {"SECTIGO_API_URL": "https://sectigo.example/x", "SECTIGO_LOGIN_NAME": "jane", "SECTIGO_LOGIN_PASSWORD": "pw"}),
    ("jintong", {"server_url": "https://jt.example", "partner": "p1", "key": "k1"},
     {"JINTONG_SERVER_URL": "https://jt.example", "JINTONG_PARTNER": "p1", "JINTONG_KEY": "k1"}),
])
def test_other_credential_types_render(tmp_path, kind, inputs, env):
    out = awx_injectors.inject(credential_type(kind), inputs, str(tmp_path))
    assert out.env == env and out.cmdline == [] and out.files == []


def test_renderer_extra_vars_and_files_as_awx(tmp_path):
    """The renderer's other paths, as AWX: extra vars written !unsafe to a file passed with -e @,
    prohibited env names dropped, a secret hidden in the safe env, tower.filename for one file."""
    ctype = {"inputs": {"fields": [{"id": "tok", "type": "string", "secret": True},
                                   {"id": "flag", "type": "boolean"}]},
             "injectors": {"file": {"template": "[x]\ntoken={{ tok }}\n"},
                           "env": {"X_CONF": "{{ tower.filename }}", "X_TOK": "{{ tok }}", "ANSIBLE_X": "1",
                                   "PATH": "/evil"},
                           "extra_vars": {"x_token": "{{ tok }}", "x_flag": "{{ flag }}"}}}
    out = awx_injectors.inject(ctype, {"tok": "{{ lookup('pipe', 'id') }}"}, str(tmp_path))
    assert set(out.env) == {"X_CONF", "X_TOK"}
    # Jinja drops the template's last newline, in AWX too.
    assert pathlib.Path(out.env["X_CONF"]).read_text() == "[x]\ntoken={{ lookup('pipe', 'id') }}"
    assert out.safe_env["X_TOK"] == awx_injectors.HIDDEN
    assert out.cmdline[0] == "-e" and out.cmdline[1].startswith("@" + str(tmp_path / "env"))
    text = pathlib.Path(out.cmdline[1][1:]).read_text()
    # AWX's safe_dump tags every string, keys too, so that Ansible never templates them.
    assert "!unsafe 'x_token': !unsafe '{{ lookup(''pipe'', ''id'') }}'" in text
    assert "!unsafe 'x_flag': !unsafe 'False'" in text
    assert oct(os.stat(out.cmdline[1][1:]).st_mode & 0o777) == "0o400"
