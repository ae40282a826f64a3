"""API calls per certificate, counted by the sandbox (instant issuance): once the controller has
seen the product issued at once, a new certificate costs Create + RetrievePem and the play one
read more (the credential check); a re-run with nothing due makes that one read and nothing else."""

from __future__ import annotations

import subprocess

from conftest import CREDENTIAL_READ, own_inventory

CALLS_CERT = """\
# Every file under /etc/ssl/test-host: the default certificate_dir must stay absent (test_role_dirs).
certificate_dir: /etc/ssl/test-host
certificate_list:
  - name: calls
    common_name: "{{ test_host_server_name }}"
    key_type: ecdsa
    key_size: 256
    cert_path: /etc/ssl/test-host/calls.crt
    key_path: /etc/ssl/test-host/calls.key
"""


def test_two_calls_per_certificate_issued_at_once(role_env):
    env = role_env
    inv = own_inventory(env, "inventory-calls", CALLS_CERT)

    def play(*extra):
        cmd = env.command("site.yml") + list(extra)
        cmd[cmd.index("-i") + 1] = str(inv / "hosts.ini")
        before, mark = env.counts(), env.api_mark()
        proc = subprocess.run(cmd, cwd=str(env.work), env=env.env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout[-4000:]
        after = env.counts()
        # The play's first call is its credential check (before the status task, once).
        assert env.api_requests(mark)[:1] == [CREDENTIAL_READ], env.api_requests(mark)
        return dict((k, after[k] - before.get(k, 0)) for k in after if after[k] != before.get(k, 0))

    def serials():
        from cryptography import x509
        return [x509.load_pem_x509_certificate(env.host_file(h, "/etc/ssl/test-host/calls.crt").read_bytes())
                .serial_number for h in env.hosts]

    n = len(env.hosts)
    first = play()  # may be the product's first order on this controller: up to 3 calls each
    assert first["POST /v1/Order/Create"] == n and first["GET /v1/Certificate/RetrievePem"] == n
    assert first["total"] <= 3 * n + 1
    # A renewal of every host: the product is now known to issue at once.
    old = serials()
    renew = play("-e", '{"certificate_force_renew": true}')
    assert renew == {"POST /v1/Order/Create": n, "GET /v1/Certificate/RetrievePem": n,
                     "GET /v1/Order/{id}": 1, "total": 2 * n + 1}, renew
    # Each host got its new certificate from those two calls.
    assert all(a != b for a, b in zip(old, serials()))
    # Nothing due: the credential read (first, above) and nothing else.
    assert play() == {"GET /v1/Order/{id}": 1, "total": 1}
