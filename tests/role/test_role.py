"""The certificate role on three hosts reached over SSH, against the sandbox.

The tests run in file order and build on each other (one sandbox, one set of
hosts): issue, re-run, renew, broken nginx, crash after Create, reissue (and its
re-run safe relaunch), revoke.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import time

from cryptography import x509

from conftest import openssl_serial as serial


def served_serials(env):
    return dict((h["name"], serial(env.served(h))) for h in env.hosts)


def process_tree(pid):
    """pid and all its descendants (Ansible's workers call setsid, so a process
    group does not hold them)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def kill_tree(pid):
    """SIGKILL a process and every descendant at once, like a crash of the controller."""
    tree = process_tree(pid)
    for p in tree:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return tree


def alive(pid):
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def assert_ok(proc, env):
    assert proc.returncode == 0, proc.stdout[-6000:]
    recap = env.recap(proc.stdout)
    assert set(recap) == set(h["name"] for h in env.hosts), proc.stdout[-3000:]
    assert all(r["failed"] == 0 and r["unreachable"] == 0 for r in recap.values()), recap
    return recap


def host_modules(tasks):
    """The modules each host ran on itself (from play_counting), in order."""
    return {host: [action for action, where in ran if where == "host"] for host, ran in tasks.items()}


def test_first_run_issues_deploys_and_serves(role_env):
    env = role_env
    proc, tasks = env.play_counting()
    assert_ok(proc, env)
    # Two host tasks per fresh certificate: the status (which made the directories, key and CSR) and the deploy.
    assert host_modules(tasks) == {h["name"]: ["wotrus.pki.certificate_status", "wotrus.pki.certificate_deploy"]
                                   for h in env.hosts}, tasks
    assert "order " in proc.stdout and " issued, serial " in proc.stdout  # progress lines
    for h in env.hosts:
        cert = env.served(h)  # the handshake verifies against the sandbox roots, with SNI
        rec = env.record(h)
        assert serial(cert) == rec["deployed_serial"]
        cn = cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value
        assert cn == h["server_name"]
        key = env.host_file(h, "/etc/ssl/test-host/placeholder.key")
        assert oct(key.stat().st_mode & 0o777) == "0o600"
        assert not env.host_file(h, "/etc/ssl/test-host/placeholder.key.pending").exists()
        # The configured paths are links through the certificate's store; the placeholder pair is
        # kept there as version 1 (placeholder.crt is the full chain path), the new files are version 2.
        store = key.parent / ".wotrus" / "site"
        assert os.readlink(key) == ".wotrus/site/current/key.pem"
        assert os.readlink(env.host_file(h, "/etc/ssl/test-host/site.crt")) == ".wotrus/site/current/cert.pem"
        assert os.readlink(store / "current") == "2"
        assert (store / "1" / "fullchain.pem").read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
        assert oct((store / "1" / "key.pem").stat().st_mode & 0o777) == "0o600"
        # The chain file verifies: leaf -> chain -> sandbox root.
        chain = env.host_file(h, "/etc/ssl/test-host/site.chain.pem")
        leaf = env.host_file(h, "/etc/ssl/test-host/site.crt")
        out = subprocess.run(["openssl", "verify", "-CAfile", env.sandbox.roots, "-untrusted", str(chain), str(leaf)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert out.returncode == 0, out.stdout
    orders = env.sandbox.mgmt_get("/orders")
    assert len(orders) == len(env.hosts)


def test_second_run_changes_nothing_and_makes_one_credential_read(role_env):
    env = role_env
    before, mark = env.counts(), env.api_mark()
    proc, tasks = env.play_counting()
    recap = assert_ok(proc, env)
    assert all(r["changed"] == 0 for r in recap.values()), recap
    # Nothing due: the play's one credential read, no order call.
    env.assert_only_the_credential_read(before, mark)
    # One host task (the status); on the controller the argument spec check, the preflight and the
    # summary of each host, and the credential check once for the play (run_once: on the first host).
    assert host_modules(tasks) == {h["name"]: ["wotrus.pki.certificate_status"] for h in env.hosts}, tasks
    controller = {h: [a for a, where in ran if where == "controller"] for h, ran in tasks.items()}
    first = env.hosts[0]["name"]
    assert controller == {
        h["name"]: ["ansible.builtin.validate_argument_spec", "wotrus.pki.certificate_preflight"]
        + (["wotrus.pki.certificate_credentials"] if h["name"] == first else [])
        + ["ansible.builtin.set_stats"] for h in env.hosts}, tasks


def test_check_mode_run_changes_nothing(role_env):
    env = role_env
    before, mark = env.counts(), env.api_mark()
    cmd = env.command("site.yml") + ["--check", "--diff"]
    proc = subprocess.run(cmd, cwd=str(env.work), env=env.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert all(r["changed"] == 0 for r in env.recap(proc.stdout).values())
    # The credential check runs in check mode too (a read).
    env.assert_only_the_credential_read(before, mark)


def test_short_lived_certificates_are_renewed(role_env):
    env = role_env
    old = served_serials(env)
    env.sandbox.mgmt_post("/config", {"validity_minutes": 3})
    # The year-long certificates are due with a 400-day threshold: renewed with month 13
    # (they still have time to carry over) and short-lived from the sandbox.
    proc = env.play(extra={"certificate_renew_before_days": 400})
    assert_ok(proc, env)
    new = served_serials(env)
    for h in env.hosts:
        assert new[h["name"]] != old[h["name"]]
        cert = env.served(h)
        life = (cert.not_valid_after_utc - cert.not_valid_before_utc).total_seconds()
        assert life <= 10 * 60, life
        assert env.record(h)["month"] == 13
    # A 3-minute certificate has fewer than 30 days left: the default run renews it again.
    proc = env.play()
    assert_ok(proc, env)
    again = served_serials(env)
    assert all(again[h] != new[h] for h in again)
    env.sandbox.mgmt_post("/config", {"validity_minutes": None})


def test_broken_nginx_config_keeps_the_old_certificate(role_env):
    env = role_env
    h1 = env.hosts[0]
    old = served_serials(env)
    old_fullchain = env.host_file(h1, "/etc/ssl/test-host/placeholder.crt").read_bytes()
    old_key = env.host_file(h1, "/etc/ssl/test-host/placeholder.key").read_bytes()
    broken = env.host_file(h1, "/etc/nginx/conf.d/zz-broken.conf")
    broken.write_text("this is not an nginx directive;\n")
    try:
        proc = env.play()  # the 3-minute certificates are due
        assert proc.returncode != 0
        recap = env.recap(proc.stdout)
        assert recap[h1["name"]]["failed"] == 1, recap
        assert all(recap[h["name"]]["failed"] == 0 for h in env.hosts[1:]), recap
        assert "the test of service nginx failed" in proc.stdout
        assert "the previous files are back in place" in proc.stdout
        # host1 still serves the old certificate, and its files are the previous ones.
        assert serial(env.served(h1)) == old[h1["name"]]
        assert env.host_file(h1, "/etc/ssl/test-host/placeholder.crt").read_bytes() == old_fullchain
        assert env.host_file(h1, "/etc/ssl/test-host/placeholder.key").read_bytes() == old_key
        # The others were renewed.
        for h in env.hosts[1:]:
            assert serial(env.served(h)) != old[h["name"]]
    finally:
        broken.unlink()
    # Fixed: the next run deploys the order already made (no Create), the others are not due.
    creates = env.counts()["POST /v1/Order/Create"]
    proc = env.play()
    assert_ok(proc, env)
    assert env.counts()["POST /v1/Order/Create"] == creates
    assert serial(env.served(h1)) != old[h1["name"]]


def test_killed_after_create_resumes_the_same_orders(role_env):
    env = role_env
    sb = env.sandbox
    orders_before = len(sb.mgmt_get("/orders"))
    creates = sb.mgmt_get("/counts")["POST /v1/Order/Create"]
    # Every order read and certificate fetch blocks for a while, so the run sits right after its
    # Create calls (one read more: the play's credential check, before any Create).
    sb.mgmt_post("/faults", {"endpoint": "GET /v1/Order/{id}", "kind": "slow", "delay": 20,
                             "count": len(env.hosts) + 1})
    sb.mgmt_post("/faults", {"endpoint": "GET /v1/Certificate/RetrievePem", "kind": "slow", "delay": 20,
                             "count": len(env.hosts)})
    cmd = env.command("site.yml", {"certificate_renew_before_days": 400})
    proc = subprocess.Popen(cmd, cwd=str(env.work), env=env.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while sb.mgmt_get("/counts")["POST /v1/Order/Create"] < creates + len(env.hosts):
            assert proc.poll() is None, proc.stdout.read().decode()[-4000:]
            assert time.monotonic() < deadline, "the Create calls did not come"
            time.sleep(0.1)
    finally:
        killed = kill_tree(proc.pid)
        proc.wait(30)
        proc.stdout.close()
    assert len(killed) > 1, "the run had no worker processes when it was killed"
    # Nothing of the killed run may go on working (a left-over worker would
    # poll and deploy behind the next run's back).
    deadline = time.monotonic() + 10
    while any(alive(p) for p in killed[1:]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in killed[1:] if alive(p)], "processes of the killed run survive"
    sb.mgmt_delete("/faults")
    assert len(sb.mgmt_get("/orders")) == orders_before + len(env.hosts)
    proc = env.play(extra={"certificate_renew_before_days": 400})
    assert_ok(proc, env)
    # One order per host: the re-run sent Create again with the same idempotence ids.
    assert len(sb.mgmt_get("/orders")) == orders_before + len(env.hosts)
    assert all(n == 1 for n in sb.mgmt_get("/idempotence").values()), sb.mgmt_get("/idempotence")
    ids = set(env.record(h)["idempotence_id"] for h in env.hosts)
    assert len(ids) == len(env.hosts)
    for h in env.hosts:
        assert serial(env.served(h)) == env.record(h)["deployed_serial"]


def test_reissue_playbook_gives_a_new_key_and_certificate(role_env):
    env = role_env
    h2 = env.hosts[1]
    old_rec = env.record(h2)
    old_key = env.host_file(h2, "/etc/ssl/test-host/placeholder.key").read_bytes()
    before = env.counts()["POST /v1/Certificate/ReissueRequest"]
    proc = env.play("reissue.yml", limit=h2["name"])
    assert proc.returncode == 0, proc.stdout[-4000:]
    rec = env.record(h2)
    assert rec["reissued_from"] == old_rec["deployed_order_id"]
    assert rec["deployed_order_id"] != old_rec["deployed_order_id"]
    assert serial(env.served(h2)) == rec["deployed_serial"] != old_rec["deployed_serial"]
    assert env.host_file(h2, "/etc/ssl/test-host/placeholder.key").read_bytes() != old_key
    assert env.counts()["POST /v1/Certificate/ReissueRequest"] == before + 1
    # site.yml afterwards: nothing due.
    before, mark = env.counts(), env.api_mark()
    proc = env.play(limit=h2["name"])
    assert proc.returncode == 0
    env.assert_only_the_credential_read(before, mark)


def test_reissue_rerun_with_issued_before_reissues_nothing(role_env):
    """An AWX relaunch of reissue.yml with certificate_reissue_issued_before set to the incident time,
    just before the current orders were placed: nothing is reissued, no order call, only the play's
    credential read (unset: the test
    above). The certificates' notBefore is backdated by the CA (the sandbox: 5 minutes) to before
    that time; the order record's placing time decides, not notBefore."""
    env = role_env
    placed = min(datetime.datetime.strptime(env.record(h)["created"], "%Y-%m-%dT%H:%M:%SZ")
                 .replace(tzinfo=datetime.timezone.utc) for h in env.hosts)
    when = (placed - datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # The CA backdated every certificate to before the incident time.
    assert all(env.served(h).not_valid_before_utc < placed - datetime.timedelta(minutes=1) for h in env.hosts)
    serials = served_serials(env)
    before, mark = env.counts(), env.api_mark()
    proc = env.play("reissue.yml", extra={"certificate_reissue_issued_before": when})
    recap = assert_ok(proc, env)
    assert all(r["changed"] == 0 for r in recap.values()), proc.stdout[-3000:]
    env.assert_only_the_credential_read(before, mark)
    assert served_serials(env) == serials
    # Not a date-time: refused by the preflight, before the credential check or anything else.
    before = env.counts()
    proc = env.play("reissue.yml", extra={"certificate_reissue_issued_before": "yesterday"})
    assert proc.returncode != 0 and "certificate_reissue_issued_before: must be an ISO 8601 date-time" in proc.stdout
    assert env.counts() == before


def test_revoke_playbook_revokes_and_the_crl_lists_the_serial(role_env):
    env = role_env
    h3 = env.hosts[-1]
    proof = env.work / "revocation-letter.pdf"
    proof.write_bytes(b"%PDF-1.4\n% wotrus.pki role test revocation letter\n%%EOF\n")
    rec = env.record(h3)
    proc = env.play("revoke.yml", extra={"certificate_revoke_reason": "key compromise (test)",
                                         "certificate_revoke_proof_path": str(proof)}, limit=h3["name"])
    assert proc.returncode == 0, proc.stdout[-4000:]
    order = env.sandbox.mgmt_get("/orders/%s" % rec["deployed_order_id"])
    assert order["status"] in ("pendingRevoke", "revoked")
    deadline = time.monotonic() + 30
    while order["status"] != "revoked" and time.monotonic() < deadline:
        time.sleep(0.5)
        order = env.sandbox.mgmt_get("/orders/%s" % rec["deployed_order_id"])
    assert order["status"] == "revoked"
    crl = x509.load_pem_x509_crl(env.sandbox.mgmt_get("/crl").encode())
    assert int(rec["deployed_serial"], 16) in [r.serial_number for r in crl]
    assert env.record(h3)["revoked_order_id"] == rec["deployed_order_id"]
    # A second revoke changes nothing.
    before = env.counts()["POST /v1/Certificate/RevokeRequest"]
    proc = env.play("revoke.yml", extra={"certificate_revoke_reason": "key compromise (test)",
                                         "certificate_revoke_proof_path": str(proof)}, limit=h3["name"])
    assert proc.returncode == 0
    assert env.counts()["POST /v1/Certificate/RevokeRequest"] == before
    assert json.dumps(env.record(h3))  # still a record


def versions(env, h):
    store = env.host_file(h, "/etc/ssl/test-host/.wotrus/site")
    return sorted(int(p.name) for p in store.iterdir() if p.name.isdigit()), int(os.readlink(store / "current"))


def test_old_versions_are_pruned(role_env):
    """Earlier runs renewed several times (and one failed on a broken nginx config): at most
    certificate_backup_keep (3) versions besides the live one; with 1, one."""
    env = role_env
    for h in env.hosts:
        kept, live = versions(env, h)
        assert live == kept[-1] and len(kept) <= 4, (h["name"], kept)
    proc = env.play(extra={"certificate_renew_before_days": 4000, "certificate_backup_keep": 1})
    assert_ok(proc, env)
    for h in env.hosts:
        kept, live = versions(env, h)
        assert len(kept) == 2 and live == kept[-1], (h["name"], kept)
        # Served, and the pair read through the user's paths matches.
        assert serial(env.served(h)) == env.record(h)["deployed_serial"]
        key = env.host_file(h, "/etc/ssl/test-host/placeholder.key")
        out = subprocess.run(["openssl", "x509", "-noout", "-pubkey", "-in", str(key.parent / "site.crt")],
                             stdout=subprocess.PIPE, text=True, check=True).stdout
        mine = subprocess.run(["openssl", "pkey", "-pubout", "-in", str(key)], stdout=subprocess.PIPE, text=True,
                              check=True).stdout
        assert out == mine
    # A bad value is refused before anything happens.
    before = env.counts()
    proc = env.play(extra={"certificate_backup_keep": -1})
    assert proc.returncode != 0 and "certificate_backup_keep: must be a whole number" in proc.stdout
    assert env.counts() == before
