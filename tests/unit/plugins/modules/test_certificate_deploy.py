# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""certificate_deploy on a temp dir: swap, roll-back after a failed service test
or reload or a failure half way, check mode, file modes."""

from __future__ import annotations

import datetime
import glob
import json
import os
import stat

import pytest
from ansible.module_utils.testing import patch_module_args
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.wotrus.pki.plugins.module_utils import _role_status as role_status
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import inputs
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import record as records
from ansible_collections.wotrus.pki.plugins.modules import certificate_deploy

NOW = datetime.datetime.now(datetime.timezone.utc)


def new_key():
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def sign(subject_key, subject_cn, issuer_key, issuer_cn, ca, serial, days=90):
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn)]))
               .public_key(subject_key.public_key()).serial_number(serial)
               .not_valid_before(NOW - datetime.timedelta(days=1))
               .not_valid_after(NOW + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject_cn)]), False)
    return builder.sign(issuer_key, hashes.SHA256())


class CA(object):
    def __init__(self):
        self.root_key, self.int_key = new_key(), new_key()
        self.root = sign(self.root_key, "Test Root", self.root_key, "Test Root", True, 1, 3650)
        self.intermediate = sign(self.int_key, "Test Issuing CA", self.root_key, "Test Root", True, 2, 3000)

    def leaf(self, key, serial, cn="www.example.com"):
        return sign(key, cn, self.int_key, "Test Issuing CA", False, serial)


@pytest.fixture(scope="module")
def ca():
    return CA()


class Host(object):
    """A deployed certificate (old, serial 0x0A) and a staged key with its new one (serial 0x0B).
    Certificate, chain, full chain and key all differ between old and new."""

    def __init__(self, d, ca):
        self.d = d
        self.cert_path, self.key_path = str(d / "www.crt"), str(d / "www.key")
        self.chain_path, self.fullchain_path = str(d / "www.chain.pem"), str(d / "www.fullchain.pem")
        self.staged_key_path = self.key_path + ".pending"
        self.csr_path = self.staged_key_path + ".csr"
        self.record_path = self.cert_path + ".wotrus.json"
        self.ca = ca
        old_key, old_ca = new_key(), CA()  # the old certificate came from another issuing CA
        old = old_ca.leaf(old_key, 0x0A)
        self.write(self.cert_path, pem(old))
        self.write(self.chain_path, pem(old_ca.intermediate))
        self.write(self.fullchain_path, pem(old) + pem(old_ca.intermediate))
        self.write(self.key_path, key_pem(old_key), 0o600)
        self.old_record = dict(order_id="OLD", deployed_order_id="OLD", deployed_serial="A", idempotence_id="i-old",
                               status="issued", key="staged")
        self.write(self.record_path, records.dumps(self.old_record).encode(), 0o600)
        self.new_key = new_key()
        self.write(self.staged_key_path, key_pem(self.new_key), 0o600)
        self.write(self.csr_path, b"-----BEGIN CERTIFICATE REQUEST-----\n...\n", 0o644)
        self.new = ca.leaf(self.new_key, 0x0B)
        self.before = self.snapshot()

    @staticmethod
    def write(path, data, mode=0o644):
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def snapshot(self):
        """Every file in the dir (backups excluded) -> bytes."""
        return dict((os.path.basename(p), self.read(p)) for p in glob.glob(str(self.d / "*")) + glob.glob(str(self.d / ".*"))
                    if not p.endswith("~"))

    def backups(self):
        return sorted(os.path.basename(p) for p in glob.glob(str(self.d / "*~")))

    def args(self, **kw):
        a = dict(name="www", cert_path=self.cert_path, key_path=self.key_path, chain_path=self.chain_path,
                 fullchain_path=self.fullchain_path, record=dict(self.old_record, order_id="NEW", idempotence_id="i-new",
                                                                 status="issued", purpose="renew"),
                 certificate=pem(self.new).decode(), chain=pem(self.ca.intermediate).decode(),
                 root=pem(self.ca.root).decode(), services=[])
        a.update(kw)
        return a


@pytest.fixture
def host(tmp_path, ca):
    return Host(tmp_path, ca)


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            certificate_deploy.main()
    return json.loads(capsys.readouterr().out)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_deploy_swaps_everything_and_records_it(host, capsys):
    result = run(host.args(services=[dict(name="web", test=["true"], reload=["true"])]), capsys)
    assert result.get("failed") is not True, result
    assert result["changed"] is True and result["deployed"] is True and result["reloaded"] == ["web"]
    assert result["serial"] == "B"
    assert host.read(host.cert_path) == pem(host.new)
    assert host.read(host.chain_path) == pem(host.ca.intermediate)
    assert host.read(host.fullchain_path) == pem(host.new) + pem(host.ca.intermediate)
    assert host.read(host.key_path) == key_pem(host.new_key)
    assert not os.path.exists(host.staged_key_path) and not os.path.exists(host.csr_path)
    rec = json.loads(host.read(host.record_path))
    assert rec["order_id"] == rec["deployed_order_id"] == "NEW" and rec["deployed_serial"] == "B"
    # Each replaced file (the key too) has a backup holding its previous bytes.
    assert set(result["backup_files"]) == {host.cert_path, host.chain_path, host.fullchain_path, host.key_path}
    for target, backup in result["backup_files"].items():
        assert host.read(backup) == host.before[os.path.basename(target)]
    assert "PRIVATE KEY" not in json.dumps(result)
    # No temp files left behind.
    assert not glob.glob(str(host.d / ".wotrus-*"))


def test_modes_keys_0600_certificates_0644(host, capsys):
    os.chmod(host.staged_key_path, 0o644)  # a staged key made too open is tightened when it moves
    os.chmod(host.key_path, 0o640)
    result = run(host.args(), capsys)
    assert result["deployed"] is True
    assert mode(host.key_path) == 0o600
    assert mode(host.record_path) == 0o600
    for path in (host.cert_path, host.chain_path, host.fullchain_path):
        assert mode(path) == 0o644
    # The backup of the replaced key is not readable by others either.
    assert mode(result["backup_files"][host.key_path]) == 0o600


def test_second_run_changes_nothing(host, capsys):
    first = run(host.args(), capsys)
    rec = json.loads(host.read(host.record_path))
    snap = host.snapshot()
    again = run(host.args(record=rec), capsys)
    assert first["changed"] is True
    assert again["changed"] is False and again["deployed"] is False and again["record_changed"] is False
    assert host.snapshot() == snap


@pytest.mark.parametrize("what", ["test", "reload"])
def test_failing_service_puts_the_previous_files_back(host, capsys, what):
    seen = host.d / "seen-by-service"
    reloads = host.d / "reloads"
    fail = ["sh", "-c", "cat %s >> %s; echo 'config broken' >&2; exit 3" % (host.cert_path, seen)]
    ok_reload = ["sh", "-c", "echo x >> %s" % reloads]
    if what == "test":
        services = [dict(name="good", test=["true"], reload=ok_reload), dict(name="nginx", test=fail, reload=ok_reload)]
    else:
        services = [dict(name="good", reload=ok_reload), dict(name="nginx", reload=fail)]
    result = run(host.args(services=services), capsys)
    assert result["failed"] is True
    assert "the %s of service nginx failed" % what in result["msg"] and "exited 3" in result["msg"]
    assert "config broken" in result["msg"] and "the previous files are back in place" in result["msg"]
    assert result["service"] == "nginx" and result["rc"] == 3
    # The service saw the new certificate, then everything went back byte for byte.
    if what == "test":
        assert seen.read_bytes() == pem(host.new)
    else:
        # Reload failed half way: the services are reloaded again, on the old files.
        assert seen.read_bytes() == pem(host.new) + host.before["www.crt"]
    after = host.snapshot()
    for name in ("www.crt", "www.chain.pem", "www.fullchain.pem", "www.key"):
        assert after[name] == host.before[name], name
    # The new key is staged again (and its CSR kept): the next run deploys the same order.
    assert host.read(host.staged_key_path) == key_pem(host.new_key)
    assert os.path.exists(host.csr_path)
    assert mode(host.key_path) == 0o600 and mode(host.staged_key_path) == 0o600
    # The order is on record, not deployed: certificate_status resumes it.
    rec = json.loads(host.read(host.record_path))
    assert rec["order_id"] == "NEW" and rec["deployed_order_id"] == "OLD" and rec["deployed_serial"] == "A"
    if what == "reload":
        assert reloads.read_text().count("x") == 2  # once on the new files, once on the old
    else:
        assert not reloads.exists()
    assert not glob.glob(str(host.d / ".wotrus-*"))


def test_failing_test_on_first_deploy_removes_the_new_files(tmp_path, ca, capsys):
    h = Host(tmp_path, ca)
    for path in (h.cert_path, h.chain_path, h.fullchain_path, h.key_path, h.record_path):
        os.unlink(path)
    result = run(h.args(record=dict(order_id="NEW", idempotence_id="i"),
                        services=[dict(name="nginx", test=["false"])]), capsys)
    assert result["failed"] is True
    for path in (h.cert_path, h.chain_path, h.fullchain_path, h.key_path):
        assert not os.path.exists(path), path
    assert h.read(h.staged_key_path) == key_pem(h.new_key)
    assert json.loads(h.read(h.record_path))["order_id"] == "NEW"


@pytest.mark.parametrize("failing", ["www.crt", "www.chain.pem", "www.fullchain.pem", "www.key"])
def test_failure_half_way_restores_everything(host, capsys, monkeypatch, failing):
    real_rename = os.rename
    calls = {"failed": False}

    def rename(src, dst):
        if not calls["failed"] and os.path.basename(dst) == failing:
            calls["failed"] = True
            raise OSError(28, "No space left on device")
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    result = run(host.args(services=[dict(name="nginx", test=["true"], reload=["true"])]), capsys)
    monkeypatch.undo()
    assert calls["failed"] and result["failed"] is True
    assert "could not put the new files in place" in result["msg"] and "the previous files are back" in result["msg"]
    after = host.snapshot()
    for name in ("www.crt", "www.chain.pem", "www.fullchain.pem", "www.key"):
        assert after[name] == host.before[name], name
    assert host.read(host.staged_key_path) == key_pem(host.new_key)
    assert not glob.glob(str(host.d / ".wotrus-*"))
    rec = json.loads(host.read(host.record_path))
    assert rec["order_id"] == "NEW" and rec["deployed_order_id"] == "OLD"


def test_check_mode_writes_nothing_and_runs_nothing(host, capsys):
    ran = host.d / "ran"
    result = run(host.args(_ansible_check_mode=True, _ansible_diff=True,
                           services=[dict(name="nginx", test=["touch", str(ran)], reload=["touch", str(ran)])]),
                 capsys)
    assert result["changed"] is True and result["deployed"] is True
    assert host.cert_path in result["paths"] and host.key_path in result["paths"]
    assert result["diff"]["after"] == pem(host.new).decode()
    assert host.snapshot() == host.before
    assert host.backups() == [] and not ran.exists()


def test_check_mode_record_only(host, capsys):
    result = run(host.args(_ansible_check_mode=True, certificate=None,
                           record=dict(order_id="NEW", status="pendingDCV")), capsys)
    assert result["changed"] is True and result["record_changed"] is True
    assert host.snapshot() == host.before


def test_record_only_is_written_when_the_order_is_not_issued(host, capsys):
    rec = dict(host.old_record, order_id="NEW", status="pendingDCV", pending_link="https://x/y.html")
    result = run(host.args(certificate=None, record=rec), capsys)
    assert result["changed"] is True and result["deployed"] is False and result["record_changed"] is True
    assert json.loads(host.read(host.record_path)) == dict(rec, version=1) and mode(host.record_path) == 0o600
    for name in ("www.crt", "www.chain.pem", "www.fullchain.pem", "www.key", "www.key.pending"):
        assert host.snapshot()[name] == host.before[name]


def test_certificate_for_the_key_in_use(host, capsys):
    """key_rotation never: the certificate holds the current key; the key is not touched."""
    with open(host.key_path, "rb") as f:
        current = serialization.load_pem_private_key(f.read(), None)
    os.unlink(host.staged_key_path)
    cert = host.ca.leaf(current, 0x0C)
    result = run(host.args(certificate=pem(cert).decode()), capsys)
    assert result["deployed"] is True and host.key_path not in result["paths"]
    assert host.read(host.key_path) == host.before["www.key"] and host.read(host.cert_path) == pem(cert)
    assert host.key_path not in result["backup_files"]


@pytest.mark.parametrize("layout", ["cross_to_self_signed_root", "cross_to_other_root", "no_cross"])
def test_cross_signed_chains_deploy(host, capsys, layout):
    # The root R (host.ca.root) also exists as a cross certificate: R's name and key signed by
    # another root O. A chain ending in the cross is complete for R (same name and key) and for O
    # (signature); the chain without the cross ends at R.
    other_key = new_key()
    other_root = sign(other_key, "Other Root", other_key, "Other Root", True, 3, 3650)
    cross = sign(host.ca.root_key, "Test Root", other_key, "Other Root", True, 4, 3000)
    chain, root = {
        "cross_to_self_signed_root": (pem(host.ca.intermediate) + pem(cross), host.ca.root),
        "cross_to_other_root": (pem(host.ca.intermediate) + pem(cross), other_root),
        "no_cross": (pem(host.ca.intermediate), host.ca.root),
    }[layout]
    result = run(host.args(chain=chain.decode(), root=pem(root).decode()), capsys)
    assert result.get("failed") is not True, result.get("msg")
    assert result["deployed"] is True
    assert host.read(host.chain_path) == chain


def test_chain_without_the_cross_does_not_end_at_the_other_root(host, capsys):
    other_key = new_key()
    other_root = sign(other_key, "Other Root", other_key, "Other Root", True, 3, 3650)
    result = run(host.args(root=pem(other_root).decode()), capsys)
    assert result["failed"] is True and "does not end at the given root" in result["msg"]
    assert "nothing was changed" in result["msg"]


@pytest.mark.parametrize("case,expect", [
    ("other_key", "does not match the staged key"),
    ("bad_chain", "the chain does not verify"),
    ("other_root", "does not end at the given root"),
    ("not_pem", "is not PEM"),
])
def test_refused_certificates_change_nothing(host, capsys, case, expect):
    kw = {}
    if case == "other_key":
        kw["certificate"] = pem(host.ca.leaf(new_key(), 0x0D)).decode()
    elif case == "bad_chain":
        kw["chain"] = pem(CA().intermediate).decode()
    elif case == "other_root":
        kw["root"] = pem(CA().root).decode()
    else:
        kw["certificate"] = "nonsense"
    result = run(host.args(**kw), capsys)
    assert result["failed"] is True and expect in result["msg"]
    snap = host.snapshot()
    for name, data in host.before.items():
        if name != "www.crt.wotrus.json":
            assert snap[name] == data, name
    assert host.backups() == []


def test_failed_backup_changes_nothing(host, capsys, monkeypatch):
    from ansible.module_utils.basic import AnsibleModule

    def preserved_copy(self, src, dest):
        if src.endswith("fullchain.pem"):
            raise IOError(28, "No space left on device")
        return real(self, src, dest)
    real = AnsibleModule.preserved_copy
    monkeypatch.setattr(AnsibleModule, "preserved_copy", preserved_copy)
    result = run(host.args(), capsys)
    monkeypatch.undo()
    assert result["failed"] is True
    assert "could not back up %s" % host.fullchain_path in result["msg"] and "No space left" in result["msg"]
    after = host.snapshot()
    for name in ("www.crt", "www.chain.pem", "www.fullchain.pem", "www.key", "www.key.pending"):
        assert after[name] == host.before[name], name
    assert not glob.glob(str(host.d / ".wotrus-*"))
