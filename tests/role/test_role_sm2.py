"""key_type sm2 through the whole role on one SSH test host, with the SM2 example of
roles/certificate/README.md run as written (parsed from the README, so the two cannot drift):
a fresh SM2 pair ordered and deployed, both certificates verified with `openssl verify` on the host
against the sandbox's SM2 root, each key matching its certificate; a re-run that does nothing; a
reissue with a new encryption key whose staged CSR was edited on the host (made anew, not sent)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import stat
import subprocess

import yaml

from conftest import REPO, Env

README = REPO / "roles" / "certificate" / "README.md"
HEADER = """\
certificate_api_url: {api_url}
certificate_ca_path: {roots}
certificate_poll_interval: 1
"""
ROOT_ON_HOST = "/etc/ssl/sm2-test-root.pem"
# Run on the host over SSH: both chains verified against the SM2 root, the public key of each key and
# certificate (openssl pkey -pubout / x509 -pubkey) as SHA-256 lines.
CHECK = (
    "cd /etc/ssl/sm2 && "
    "openssl verify -no-CApath -no-CAstore -CAfile {root} -untrusted gm.chain.pem gm.crt && "
    "openssl verify -no-CApath -no-CAstore -CAfile {root} -untrusted gm.enc.chain.pem gm.enc.crt && "
    "for f in gm gm.enc; do "
    "echo \"$f key $(openssl pkey -in $f.key -pubout | sha256sum | cut -c1-64)\"; "
    "echo \"$f crt $(openssl x509 -in $f.crt -pubkey -noout | sha256sum | cut -c1-64)\"; "
    "openssl x509 -in $f.crt -noout -text | grep -q 'SM2-with-SM3\\|sm2sign-with-sm3' && echo \"$f sm3\"; "
    "done"
).format(root=ROOT_ON_HOST)


def readme_example():
    text = README.read_text()
    match = re.search(r"<!-- sm2-example:[^>]*-->\s*```yaml\n(.*?)```", text, re.S)
    assert match, "the SM2 example block is gone from roles/certificate/README.md"
    return match.group(1)


def sm2_env(env):
    example = readme_example()
    parsed = yaml.safe_load(example)
    assert parsed["certificate_list"][0]["key_type"] == "sm2"
    inv = env.work / "inventory-sm2"
    shutil.rmtree(inv, ignore_errors=True)
    (inv / "group_vars").mkdir(parents=True)
    shutil.copy(env.inventory, inv / "hosts.ini")
    (inv / "group_vars" / "wotrus_certificate_hosts.yml").write_text(
        HEADER.format(api_url=env.sandbox.api_url, roots=env.sandbox.roots) + example)
    return Env(env.work, env.sandbox, env.hosts_dir, inv / "hosts.ini", env.hosts)


def on_host(env, host):
    """CHECK run on the host over SSH; {"gm key": sha, "gm crt": sha, ...} and the sm3 marks."""
    cmd = [str(REPO / ".venv" / "bin" / "ansible"), "-i", str(env.inventory), host["name"],
           "-m", "ansible.builtin.shell", "-a", CHECK]
    proc = subprocess.run(cmd, cwd=str(REPO), env=env.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert proc.stdout.count(": OK") == 2, proc.stdout
    out = dict(re.findall(r"^(gm(?:\.enc)? (?:key|crt)) ([0-9a-f]{64})$", proc.stdout, re.M))
    assert len(out) == 4, proc.stdout
    assert re.search(r"^gm sm3$", proc.stdout, re.M) and re.search(r"^gm\.enc sm3$", proc.stdout, re.M), proc.stdout
    return out


def host_modules(tasks):
    return {host: [action for action, where in ran if where == "host"] for host, ran in tasks.items()}


def tampered_csr(common_name, names):
    """An SM2 key and a CSR for it with the right names whose signature was edited (last byte of s)."""
    key = subprocess.run(["openssl", "genpkey", "-algorithm", "SM2"], stdout=subprocess.PIPE, check=True).stdout
    san = ",".join("DNS:" + n for n in [common_name] + names)
    csr = subprocess.run(["openssl", "req", "-new", "-sm3", "-key", "/dev/stdin", "-subj", "/CN=" + common_name,
                          "-addext", "subjectAltName=" + san, "-outform", "DER"], input=key,
                         stdout=subprocess.PIPE, check=True).stdout
    der = csr[:-1] + bytes([csr[-1] ^ 0x01])
    pem = b"-----BEGIN CERTIFICATE REQUEST-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE REQUEST-----\n"
    check = subprocess.run(["openssl", "req", "-verify", "-noout"], input=pem, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
    assert b"verify OK" not in check.stdout  # really tampered (and still parses)
    return key, pem


def test_sm2_readme_example_fresh_rerun_reissue(role_env, tmp_path):
    env = sm2_env(role_env)
    host = env.hosts[0]
    item = yaml.safe_load(readme_example())["certificate_list"][0]
    env.host_file(host, ROOT_ON_HOST).write_bytes(open(env.sandbox.sm2_roots, "rb").read())
    d = env.host_file(host, "/etc/ssl/sm2")

    # Fresh: one Create, the pair on the host, keys 0600.
    before = env.counts()
    proc, tasks = env.play_counting(limit=host["name"])
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "PRIVATE KEY" not in proc.stdout
    assert env.counts()["POST /v1/Order/Create"] == before["POST /v1/Order/Create"] + 1
    assert host_modules(tasks)[host["name"]] == ["wotrus.pki.certificate_status", "wotrus.pki.certificate_deploy"]
    for name in ("gm.crt", "gm.key", "gm.chain.pem", "gm.fullchain.pem", "gm.enc.crt", "gm.enc.key",
                 "gm.enc.chain.pem", "gm.enc.fullchain.pem", "gm.crt.wotrus.json"):
        assert (d / name).exists(), name
    for name in ("gm.key", "gm.enc.key"):
        assert stat.S_IMODE((d / name).stat().st_mode) == 0o600, name
    assert not list(d.glob("*.pending*")), list(d.iterdir())
    first = on_host(env, host)
    assert first["gm key"] == first["gm crt"] and first["gm.enc key"] == first["gm.enc crt"]
    # Create takes csr_Sign only: the encryption certificate certifies the signing key.
    assert first["gm.enc key"] == first["gm key"]
    record = json.loads((d / "gm.crt.wotrus.json").read_text())
    assert record["product_id"].upper() == item["product_id"].upper()

    # Re-run: nothing due, one host task, no API call but the credential check's read.
    before = env.counts()
    proc, tasks = env.play_counting(limit=host["name"])
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "PRIVATE KEY" not in proc.stdout
    assert env.recap(proc.stdout)[host["name"]]["changed"] == 0, proc.stdout[-3000:]
    assert host_modules(tasks)[host["name"]] == ["wotrus.pki.certificate_status"]
    after = env.counts()
    assert after["POST /v1/Order/Create"] == before["POST /v1/Order/Create"]
    assert after.get("POST /v1/Certificate/ReissueRequest", 0) == before.get("POST /v1/Certificate/ReissueRequest", 0)

    # Reissue with a staged signing key and a staged CSR edited on the host: the CSR is made anew from that
    # key (the tampered one would be refused before any call), a new encryption key of its own is made.
    planted_key, bad_csr = tampered_csr(item["common_name"], item["subject_alt_names"])
    (d / "gm.key.pending").write_bytes(planted_key)
    (d / "gm.key.pending").chmod(0o600)
    (d / "gm.key.pending.csr").write_bytes(bad_csr)
    planted_pub = subprocess.run(["openssl", "pkey", "-pubout"], input=planted_key, stdout=subprocess.PIPE,
                                 check=True).stdout
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(b"%PDF-1.4\n% revocation letter\n%%EOF\n")
    before = env.counts()
    proc, tasks = env.play_counting(limit=host["name"], extra={"certificate_reissue": True,
                                                                "certificate_reissue_proof_path": str(letter)})
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "PRIVATE KEY" not in proc.stdout
    assert env.counts()["POST /v1/Certificate/ReissueRequest"] == before.get("POST /v1/Certificate/ReissueRequest",
                                                                             0) + 1
    assert env.counts()["POST /v1/Order/Create"] == before["POST /v1/Order/Create"]
    second = on_host(env, host)
    assert second["gm key"] == second["gm crt"] and second["gm.enc key"] == second["gm.enc crt"]
    assert second["gm key"] != first["gm key"] and second["gm.enc key"] != first["gm.enc key"]
    assert second["gm.enc key"] != second["gm key"]  # the encryption key is its own now
    assert second["gm key"] == hashlib.sha256(planted_pub).hexdigest()  # the planted key, a CSR made anew
    assert not list(d.glob("*.pending*")), list(d.iterdir())
    for name in ("gm.key", "gm.enc.key"):
        assert stat.S_IMODE((d / name).stat().st_mode) == 0o600, name
