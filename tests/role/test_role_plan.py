"""Check mode as a plan (issue 11): ``ansible-playbook playbooks/site.yml --check`` ends with the plan, one
line per host and certificate and the totals, the way ``terraform plan`` reads. Two hosts, each with a
certificate deployed by the role and a new one: on the second host the deployed one is due for renewal
(certificate_renew_before_days 400 in its host_vars), on the first it is not. The plan says so, with the month
a renewal orders and whether the key rotates; the run sends nothing to the API and changes nothing on the
hosts (every file under their /etc/ssl and /etc/nginx has the same bytes and mtime).

Ports: ROLE_TEST_SSH_PORT / ROLE_TEST_HTTPS_PORT / ROLE_TEST_HTTP_PORT (conftest.py).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import subprocess
import sys

from conftest import REPO, own_inventory
from cryptography import x509

sys.path.insert(0, str(REPO / ".collections"))

from ansible_collections.wotrus.pki.plugins.module_utils import _role_status as role_status  # noqa: E402

CERTS = """\
certificate_list:
{items}
"""
ITEM = """\
  - name: {name}
    common_name: "{{{{ test_host_server_name }}}}"
    key_type: ecdsa
    key_size: 256
    cert_path: /etc/ssl/test-host/{name}.crt
    key_path: /etc/ssl/test-host/{name}.key
    chain_path: /etc/ssl/test-host/{name}.chain.pem
    fullchain_path: /etc/ssl/test-host/{name}.fullchain.pem
"""


def inventory(env, names, due_host=None):
    items = "".join(ITEM.format(name=n) for n in names)
    inv = own_inventory(env, "inventory-plan", CERTS.format(items=items.rstrip("\n")))
    (inv / "host_vars").mkdir()
    for h in env.hosts:
        (inv / "host_vars" / ("%s.yml" % h["name"])).write_text(
            "certificate_renew_before_days: 400\n" if h["name"] == due_host else "{}\n")
    return inv / "hosts.ini"


def run(env, inv, hosts, check=False):
    cmd = env.command("site.yml", limit=",".join(h["name"] for h in hosts))
    cmd[cmd.index("-i") + 1] = str(inv)
    if check:
        cmd.append("--check")
    proc = subprocess.run(cmd, cwd=str(env.work), env=env.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300)
    with open(env.work / "plays.log", "a") as f:
        f.write("\n\n===== plan check=%s (rc %d)\n%s" % (check, proc.returncode, proc.stdout))
    return proc


def printed_plan(out):
    """The lines the plan task printed (msg, a block of lines with the collection's callback_result_format yaml)."""
    m = re.search(r"^TASK \[Print the plan\].*?^ok: \[[^\]]*\] => *\n    msg: \|-\n((?:        [^\n]*\n)+)",
                  out, re.M | re.S)
    assert m, out[-4000:]
    return [line[8:] for line in m.group(1).splitlines()]


def snapshot(env, hosts):
    """{path: (sha256, mtime_ns)} of every file under the hosts' /etc/ssl and /etc/nginx."""
    out = {}
    for h in hosts:
        for sub in ("etc-ssl", "etc-nginx"):
            for root, _dirs, files in os.walk(os.path.join(h["dir"], sub)):
                for name in files:
                    p = os.path.join(root, name)
                    with open(p, "rb") as f:
                        out[p] = (hashlib.sha256(f.read()).hexdigest(), os.stat(p).st_mtime_ns)
    return out


def test_check_mode_ends_with_the_plan_and_changes_nothing(role_env):
    env = role_env
    h1, h2 = env.hosts[:2]
    # Deployed on both hosts by a real run, not due yet.
    inv = inventory(env, ["plan-old"])
    proc = run(env, inv, [h1, h2])
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "TASK [Print the plan]" not in proc.stdout  # a run without --check prints no plan

    inv = inventory(env, ["plan-old", "plan-new"], due_host=h2["name"])
    before_files, before_calls = snapshot(env, [h1, h2]), env.counts()
    assert os.path.join(h2["dir"], "etc-ssl", "test-host", "plan-old.crt") in before_files
    proc = run(env, inv, [h1, h2], check=True)
    assert proc.returncode == 0, proc.stdout[-4000:]
    lines = printed_plan(proc.stdout)

    new = "no certificate at /etc/ssl/test-host/plan-new.crt"
    assert lines[0] == "%s:" % h1["name"], lines
    # Not due on the first host: when it renews (30 days before its end, the default; no spread).
    cert = x509.load_pem_x509_certificate(env.host_file(h1, "/etc/ssl/test-host/plan-old.crt").read_bytes())
    renews = role_status.iso(cert.not_valid_after_utc - datetime.timedelta(days=30))
    assert lines[1] == "      plan-old: nothing, renews on %s" % renews, lines
    assert lines[2] == "  +   plan-new: new, month 12, new key  # %s" % new, lines
    assert lines[3] == "%s:" % h2["name"], lines
    # A year left: the renewal carries it over (13 months) with a new key (certificate_key_rotation always).
    assert re.fullmatch(r"  ~   plan-old: renew now, month 13, new key  # \d+\.\d days left, fewer than "
                        r"renew_before_days 400(\.0)?", lines[4]), lines
    assert lines[5] == "  +   plan-new: new, month 12, new key  # %s" % new, lines
    assert lines[6:] == ["Plan: 2 new, 1 renew, 0 reissue, 0 revoke, 0 resume, 1 unchanged"], lines

    # Nothing sent to the API but the play's one credential check (a read; the order records answer
    # the rest), nothing changed on the hosts.
    after_calls = env.counts()
    assert dict((k, v - before_calls.get(k, 0)) for k, v in after_calls.items() if v != before_calls.get(k, 0)) \
        == {"GET /v1/Order/{id}": 1, "total": 1}, after_calls
    assert snapshot(env, [h1, h2]) == before_files
    # The summary (set_stats) carries the same plan, for the report's JSON.
    assert all(r["failed"] == 0 for r in env.recap(proc.stdout).values())
