# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""certificate_deploy on a temp dir: the versioned store and its one-rename swap,
roll-back after a failed service test or reload or a failure at any step, a kill
at any step (old pair or new pair, never a mismatch), pruning, check mode, modes."""

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

from ansible_collections.wotrus.pki.plugins.module_utils import _x509
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
        d.mkdir(parents=True, exist_ok=True)
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
        """Every file of the dir as a reader of its paths sees it (through links) -> bytes."""
        return dict((os.path.basename(p), self.read(p)) for p in glob.glob(str(self.d / "*")) + glob.glob(str(self.d / ".*"))
                    if os.path.isfile(p))

    def backups(self):
        return sorted(os.path.basename(p) for p in glob.glob(str(self.d / "*~")))

    @property
    def store(self):
        return self.d / ".wotrus" / "www"

    def versions(self):
        return sorted(int(n) for n in os.listdir(self.store) if n.isdigit()) if self.store.is_dir() else []

    def pair(self):
        """(key, certificate) as read through the user's paths."""
        return self.read(self.key_path), self.read(self.cert_path)

    def temp_files(self):
        return glob.glob(str(self.d / ".wotrus-*")) + glob.glob(str(self.store / ".wotrus-*")) + \
            glob.glob(str(self.store / "*" / ".wotrus-*"))

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


USER_FILES = ("www.crt", "www.chain.pem", "www.fullchain.pem", "www.key")


def test_deploy_swaps_everything_and_records_it(host, capsys):
    result = run(host.args(services=[dict(name="web", test=["true"], reload=["true"])]), capsys)
    assert result.get("failed") is not True, result
    assert result["changed"] is True and result["deployed"] is True and result["reloaded"] == ["web"]
    assert result["serial"] == "0B"  # as openssl x509 -serial shows it
    assert host.read(host.cert_path) == pem(host.new)
    assert host.read(host.chain_path) == pem(host.ca.intermediate)
    assert host.read(host.fullchain_path) == pem(host.new) + pem(host.ca.intermediate)
    assert host.read(host.key_path) == key_pem(host.new_key)
    assert not os.path.exists(host.staged_key_path) and not os.path.exists(host.csr_path)
    rec = json.loads(host.read(host.record_path))
    assert rec["order_id"] == rec["deployed_order_id"] == "NEW" and rec["deployed_serial"] == "0B"
    # Each replaced file (the key too) has a backup holding its previous bytes.
    assert set(result["backup_files"]) == {host.cert_path, host.chain_path, host.fullchain_path, host.key_path}
    for target, backup in result["backup_files"].items():
        assert host.read(backup) == host.before[os.path.basename(target)]
    assert "PRIVATE KEY" not in json.dumps(result)
    # No temp files left behind.
    assert not host.temp_files()


def test_layout_user_paths_are_links_through_current(host, capsys):
    result = run(host.args(), capsys)
    assert result["deployed"] is True
    # Version 1 holds the files that were there (the old pair), version 2 the new ones.
    assert host.versions() == [1, 2] and os.readlink(str(host.store / "current")) == "2"
    assert result["version"] == str(host.store / "2") and result["store"] == str(host.store)
    for path, fname in ((host.key_path, "key.pem"), (host.cert_path, "cert.pem"), (host.chain_path, "chain.pem"),
                        (host.fullchain_path, "fullchain.pem")):
        assert os.readlink(path) == ".wotrus/www/current/" + fname
        assert host.read(str(host.store / "1" / fname)) == host.before[os.path.basename(path)]
    for version in ("1", "2"):
        assert mode(str(host.store / version)) == 0o755
        assert mode(str(host.store / version / "key.pem")) & 0o077 == 0
    # The record is a plain file: it describes orders, also ones that are not deployed.
    assert not os.path.islink(host.record_path)


def test_modes_keys_0600_certificates_0644(host, capsys):
    os.chmod(host.staged_key_path, 0o644)  # a staged key made too open is tightened in the new version
    os.chmod(host.key_path, 0o640)
    result = run(host.args(), capsys)
    assert result["deployed"] is True
    assert mode(host.key_path) == 0o600
    assert mode(host.record_path) == 0o600
    for path in (host.cert_path, host.chain_path, host.fullchain_path):
        assert mode(path) == 0o644
    # The copy of the replaced key keeps its mode (it is what a roll-back serves), never readable by all.
    assert mode(result["backup_files"][host.key_path]) == 0o640


def test_second_run_changes_nothing(host, capsys):
    first = run(host.args(), capsys)
    rec = json.loads(host.read(host.record_path))
    snap, versions = host.snapshot(), host.versions()
    again = run(host.args(record=rec), capsys)
    assert first["changed"] is True
    assert again["changed"] is False and again["deployed"] is False and again["record_changed"] is False
    assert host.snapshot() == snap and host.versions() == versions


def test_a_mode_change_alone_is_applied_in_place(host, capsys):
    run(host.args(), capsys)
    rec = json.loads(host.read(host.record_path))
    result = run(host.args(record=rec, mode="0640"), capsys)
    assert result["changed"] is True and result["deployed"] is False
    assert mode(host.cert_path) == 0o640 and host.versions() == [1, 2]


def test_record_with_a_serial_in_the_old_format_is_not_rewritten(host, capsys):
    # Records written before serials were shown as openssl does hold "B" for serial 0x0B.
    run(host.args(), capsys)
    rec = json.loads(host.read(host.record_path))
    rec["deployed_serial"] = "B"
    host.write(host.record_path, records.dumps(rec).encode(), 0o600)
    again = run(host.args(record=rec), capsys)
    assert again["changed"] is False and again["record_changed"] is False, again
    assert again["serial"] == "0B"
    assert json.loads(host.read(host.record_path)) == rec


def test_too_old_cryptography_fails_before_anything_changes(host, capsys, monkeypatch):
    monkeypatch.setattr(_x509, "CRYPTOGRAPHY_VERSION", "3.3.2")
    result = run(host.args(), capsys)
    assert result["failed"] is True
    assert "cryptography 3.3.2" in result["msg"] and "apt install python3-cryptography" in result["msg"]
    assert host.snapshot() == host.before


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
    for name in USER_FILES:
        assert after[name] == host.before[name], name
    # current is the old version again, the failed one is gone.
    assert host.versions() == [1] and os.readlink(str(host.store / "current")) == "1"
    # The new key is staged again (and its CSR kept): the next run deploys the same order.
    assert host.read(host.staged_key_path) == key_pem(host.new_key)
    assert os.path.exists(host.csr_path)
    assert mode(host.staged_key_path) == 0o600
    # The order is on record, not deployed: certificate_status resumes it.
    rec = json.loads(host.read(host.record_path))
    assert rec["order_id"] == "NEW" and rec["deployed_order_id"] == "OLD" and rec["deployed_serial"] == "A"
    if what == "reload":
        assert reloads.read_text().count("x") == 2  # once on the new files, once on the old
    else:
        assert not reloads.exists()
    assert not host.temp_files()
    # The next run (config fixed) deploys the same order.
    result = run(host.args(services=[dict(name="nginx", test=["true"], reload=["true"])]), capsys)
    assert result["deployed"] is True and host.pair() == (key_pem(host.new_key), pem(host.new))


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


def count_calls(host, capsys, monkeypatch, names):
    """How many times a deploy calls os.<name> for each name."""
    calls = {"n": 0}
    for name in names:
        real = getattr(os, name)

        def counted(*a, _real=real, **kw):
            calls["n"] += 1
            return _real(*a, **kw)
        monkeypatch.setattr(os, name, counted)
    result = run(host.args(services=[dict(name="nginx", test=["true"], reload=["true"])]), capsys)
    monkeypatch.undo()
    assert result.get("failed") is not True, result
    return calls["n"]


def test_a_failure_at_any_step_restores_everything(tmp_path, ca, capsys, monkeypatch):
    """os.replace / os.symlink / os.fsync failing (disk full) at each of their calls in turn: the task fails,
    the user's paths read the old pair, nothing is left behind, and the next run deploys."""
    names = ("replace", "symlink", "fsync")
    total = count_calls(Host(tmp_path / "count", ca), capsys, monkeypatch, names)
    assert total > 10
    for n in range(1, total + 1):
        h = Host(tmp_path / str(n), ca)
        calls = {"n": 0}
        for name in names:
            real = getattr(os, name)

            def failing(*a, _real=real, **kw):
                calls["n"] += 1
                if calls["n"] == n:
                    raise OSError(28, "No space left on device")
                return _real(*a, **kw)
            monkeypatch.setattr(os, name, failing)
        result = run(h.args(services=[dict(name="nginx", test=["true"], reload=["true"])]), capsys)
        monkeypatch.undo()
        assert "No space left on device" in result.get("msg", "No space left on device"), (n, result["msg"])
        if result.get("failed") and "the services were reloaded" not in result["msg"]:
            assert h.pair() == (h.before["www.key"], h.before["www.crt"]), n
            assert h.read(h.staged_key_path) == key_pem(h.new_key)
            assert not h.temp_files(), n
        else:
            # A failure once the services run on the new pair (writing the record, clean-up): the
            # new pair stays, the record still names the order as not deployed if it was not written.
            assert h.pair() == (key_pem(h.new_key), pem(h.new)), n
        again = run(h.args(), capsys)
        assert again.get("failed") is not True, (n, again)
        assert h.pair() == (key_pem(h.new_key), pem(h.new)), n
        assert json.loads(h.read(h.record_path))["deployed_serial"] == "0B"


def test_check_mode_writes_nothing_and_runs_nothing(host, capsys):
    ran = host.d / "ran"
    result = run(host.args(_ansible_check_mode=True, _ansible_diff=True,
                           services=[dict(name="nginx", test=["touch", str(ran)], reload=["touch", str(ran)])]),
                 capsys)
    assert result["changed"] is True and result["deployed"] is True
    assert host.cert_path in result["paths"] and host.key_path in result["paths"]
    assert result["diff"]["after"] == pem(host.new).decode()
    assert host.snapshot() == host.before and not host.store.exists()
    assert not os.path.islink(host.cert_path)
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
    for name in USER_FILES + ("www.key.pending",):
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
    assert not host.store.exists()


@pytest.mark.parametrize("option,value,expect", [
    ("mode", "999", "mode: '999' is not an octal file mode"),
    ("key_mode", "rw-nonsense", "key_mode: 'rw-nonsense' is neither an octal mode"),
    ("owner", "no-such-user-wotrus", "owner: there is no user 'no-such-user-wotrus'"),
    ("group", "no-such-group-wotrus", "group: there is no group 'no-such-group-wotrus'"),
    ("backup_keep", -1, "backup_keep: must be 0 or more"),
    ("name", "../escape", "name: '../escape' cannot name a directory"),
])
def test_bad_options_fail_before_anything_is_written(host, capsys, option, value, expect):
    """Defect 9: mode "999" failed only after the certificate file was written."""
    result = run(host.args(**{option: value}), capsys)
    assert result["failed"] is True and expect in result["msg"], result["msg"]
    assert host.snapshot() == host.before and not host.store.exists()
    assert not (host.d / ".wotrus").exists()


@pytest.mark.parametrize("option", ["cert_path", "key_path", "fullchain_path", "record_path"])
def test_a_path_that_is_a_directory_is_named(host, capsys, option):
    target = host.d / ("dir-" + option)
    target.mkdir()
    result = run(host.args(**{option: str(target)}), capsys)
    assert result["failed"] is True and "%s: %s is a directory" % (option, target) in result["msg"], result["msg"]
    assert host.snapshot() == host.before and not (host.d / ".wotrus").exists()


def test_old_versions_are_pruned(host, capsys, ca):
    """backup_keep versions older than the live one stay; older ones and failed ones go."""
    rec = dict(host.old_record)
    for serial in range(0x10, 0x16):
        key = new_key()
        host.write(host.staged_key_path, key_pem(key), 0o600)
        cert = ca.leaf(key, serial)
        result = run(host.args(certificate=pem(cert).decode(), record=dict(rec, order_id="O%X" % serial),
                               backup_keep=2), capsys)
        assert result["deployed"] is True, result
        assert host.pair() == (key_pem(key), pem(cert))
        rec = json.loads(host.read(host.record_path))
    live = int(os.readlink(str(host.store / "current")))
    assert host.versions() == [live - 2, live - 1, live]
    assert result["pruned"] == [str(host.store / str(live - 3))]
    # backup: false keeps the live version only.
    key = new_key()
    host.write(host.staged_key_path, key_pem(key), 0o600)
    result = run(host.args(certificate=pem(ca.leaf(key, 0x20)).decode(), record=rec, backup=False), capsys)
    assert host.versions() == [live + 1] and result["backup_files"] == {}


def test_a_deploy_killed_after_the_swap_is_finished_by_the_next_run(host, capsys):
    """The files are live but the record and the services were not told: the resumed order's
    deploy reloads the services and writes the record, and writes no new version."""
    run(host.args(), capsys)
    with open(host.record_path, "w") as f:  # as it was before the swap: the order not deployed yet
        f.write(records.dumps(dict(host.old_record, order_id="NEW")))
    host.write(host.staged_key_path, key_pem(host.new_key), 0o600)
    reloads = host.d / "reloads"
    result = run(host.args(services=[dict(name="nginx", test=["true"], reload=["sh", "-c", "echo x >> %s" % reloads])]),
                 capsys)
    assert result["deployed"] is True and result["reloaded"] == ["nginx"] and reloads.exists()
    assert host.versions() == [1, 2]
    assert json.loads(host.read(host.record_path))["deployed_serial"] == "0B"
    assert not os.path.exists(host.staged_key_path)


# -- a kill at any instant --------------------------------------------------------------------------
KILL_POINTS = ("rename", "replace", "symlink", "fsync", "unlink", "rmdir", "mkdir", "chmod")


def deploy_killed_at(args, n):
    """Run the deploy in a forked child whose n-th file operation (any of KILL_POINTS) is an
    os._exit(137): no cleanup, no finally, like SIGKILL. Returns (killed, operations done)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        calls = [0]
        real = dict((name, getattr(os, name)) for name in KILL_POINTS)
        real_write, real_exit = os.write, os._exit

        def wrap(name):
            def op(*a, **kw):
                calls[0] += 1
                if calls[0] == n:
                    real_exit(137)
                return real[name](*a, **kw)
            return op
        for name in KILL_POINTS:
            setattr(os, name, wrap(name))
        try:
            with patch_module_args(args):
                certificate_deploy.main()
        except SystemExit:
            pass
        real_write(write_end, str(calls[0]).encode())
        real_exit(0)
    os.close(write_end)
    done = b""
    while True:
        chunk = os.read(read_end, 64)
        if not chunk:
            break
        done += chunk
    os.close(read_end)
    dummy, status = os.waitpid(pid, 0)
    return os.WEXITSTATUS(status) == 137, int(done or 0)


def pair_is_old_or_new(h):
    """Through the user's paths: key and certificate parse, match, and are the old pair or the new one."""
    key_bytes, cert_bytes = h.pair()
    key = serialization.load_pem_private_key(key_bytes, None)
    cert = x509.load_pem_x509_certificate(cert_bytes)
    assert _x509.spki(cert) == key.public_key().public_bytes(serialization.Encoding.DER,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    assert (key_bytes, cert_bytes) in ((h.before["www.key"], h.before["www.crt"]), (key_pem(h.new_key), pem(h.new)))
    # Chain and full chain go with the certificate.
    chain = h.read(h.chain_path)
    assert h.read(h.fullchain_path) == cert_bytes + chain
    return "new" if cert_bytes == pem(h.new) else "old"


@pytest.mark.parametrize("start", ["placeholder_files", "deployed_before"])
def test_a_kill_at_any_step_leaves_the_old_pair_or_the_new_one(tmp_path, ca, capsys, start):
    """SIGKILL (os._exit) before each file operation of a deploy, N = 1..all: the user's paths
    always read a matching pair, old or new; the next run then deploys the new pair."""
    def make(d):
        h = Host(d, ca)
        if start == "deployed_before":  # the old pair came from an earlier deploy: paths are links already
            older = Host(d / "older", ca)
            older_key = h.read(older.key_path)
            h.write(h.staged_key_path, h.read(older.staged_key_path), 0o600)
            result = run(h.args(certificate=pem(older.new).decode()), capsys)
            assert result["deployed"] is True
            assert h.read(h.key_path) != older_key
            h.write(h.staged_key_path, key_pem(h.new_key), 0o600)
            h.write(h.csr_path, b"csr", 0o644)
            h.before = h.snapshot()
        return h

    services = [dict(name="nginx", test=["true"], reload=["true"])]
    seen, n = set(), 0
    while True:
        n += 1
        h = make(tmp_path / str(n))
        args = h.args(services=services)
        killed, done = deploy_killed_at(args, n)
        seen.add(pair_is_old_or_new(h))
        if not killed:
            assert done == n - 1 and pair_is_old_or_new(h) == "new"
            break
        result = run(args, capsys)  # the re-run (the role resumes the same order)
        assert result.get("failed") is not True, (n, result)
        assert pair_is_old_or_new(h) == "new", n
        # The store is clean; next to the user's paths a kill may leave the writer's temporary file
        # (a link, or a record: 0600 from its creation), never read by anything.
        left = h.temp_files()
        assert all(os.path.dirname(p) == str(h.d) for p in left), (n, left)
        assert all(os.path.islink(p) or mode(p) == 0o600 for p in left), (n, left)
        assert not os.path.exists(h.staged_key_path)
        assert json.loads(h.read(h.record_path))["deployed_serial"] == "0B"
        assert len(h.versions()) <= 4, h.versions()
    assert seen == {"old", "new"} and n > 20


def test_a_staged_key_left_by_a_killed_run_is_removed(host, capsys):
    """Killed after the record said deployed, before the staged key was removed: the key would be
    taken for the next renewal's new key. A run of the deploy removes it (and says so)."""
    run(host.args(), capsys)
    rec = json.loads(host.read(host.record_path))
    host.write(host.staged_key_path, key_pem(host.new_key), 0o600)
    check = run(host.args(record=rec, _ansible_check_mode=True), capsys)
    assert check["changed"] is True and os.path.exists(host.staged_key_path)
    result = run(host.args(record=rec), capsys)
    assert result["changed"] is True and result["deployed"] is False
    assert not os.path.exists(host.staged_key_path) and host.pair() == (key_pem(host.new_key), pem(host.new))
    assert run(host.args(record=rec), capsys)["changed"] is False
