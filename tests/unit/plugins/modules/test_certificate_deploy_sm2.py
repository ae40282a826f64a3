# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""certificate_deploy with an SM2 pair (signing and encryption certificates, each with its key and chain),
with real SM2 keys and SM2-with-SM3 certificates made by the OpenSSL 3 CLI: the pair is swapped in one
rename, key/certificate matches and chains are checked, a host keeps its old pair on any failure."""

from __future__ import annotations

import glob
import json
import os
import subprocess

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.wotrus.pki.plugins.module_utils import _sm2
from ansible_collections.wotrus.pki.plugins.modules import certificate_deploy


class Sm2CA(object):
    """An SM2 root and issuing CA; ``leaf(key_pem, serial)`` signs a leaf SM2-with-SM3."""

    def __init__(self, d):
        self.d = d
        d.mkdir(parents=True, exist_ok=True)
        (d / "ext.cnf").write_text(
            "[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
            "subjectKeyIdentifier=hash\n[leaf]\nbasicConstraints=CA:FALSE\nsubjectAltName=DNS:sm2.example.com\n")
        for name in ("root", "int"):
            (d / (name + ".key")).write_bytes(_sm2.generate_key())
        self.sh("req", "-new", "-x509", "-sm3", "-key", "root.key", "-subj", "/CN=SM2 Test Root", "-days", "30",
                "-config", "ext.cnf", "-extensions", "ca", "-out", "root.pem")
        (d / "int.csr").write_bytes(_sm2.make_csr((d / "int.key").read_bytes(), "int.example"))
        self.sh("x509", "-req", "-sm3", "-in", "int.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial",
                "2", "-days", "30", "-extfile", "ext.cnf", "-extensions", "ca", "-out", "int.pem")
        self.root, self.intermediate = (d / "root.pem").read_text(), (d / "int.pem").read_text()

    def sh(self, *args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=str(self.d))

    def leaf(self, key_pem, serial):
        (self.d / "leaf.csr").write_bytes(_sm2.make_csr(key_pem, "sm2.example.com"))
        self.sh("x509", "-req", "-sm3", "-in", "leaf.csr", "-CA", "int.pem", "-CAkey", "int.key", "-set_serial",
                str(serial), "-days", "30", "-extfile", "ext.cnf", "-extensions", "leaf", "-out", "leaf.pem")
        return (self.d / "leaf.pem").read_text()


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return Sm2CA(tmp_path_factory.mktemp("sm2ca"))


class Host(object):
    """An old SM2 pair deployed (made by a first run), new keys staged and their new certificates."""

    def __init__(self, d, ca, capsys):
        self.d, self.ca = d, ca
        d.mkdir(parents=True, exist_ok=True)
        files = (("cert_path", "sign.crt"), ("key_path", "sign.key"), ("chain_path", "sign.chain.pem"),
                 ("encrypt_cert_path", "enc.crt"), ("encrypt_key_path", "enc.key"),
                 ("encrypt_chain_path", "enc.chain.pem"))
        self.paths = {o: str(d / f) for o, f in files}
        old_sign, old_enc = _sm2.generate_key(), _sm2.generate_key()
        write(self.paths["key_path"] + ".pending", old_sign)
        write(self.paths["encrypt_key_path"] + ".pending", old_enc)
        self.old = (ca.leaf(old_sign, 10), ca.leaf(old_enc, 11))
        first = run(self.args(certificate=self.old[0], encrypt_certificate=self.old[1]), capsys)
        assert first.get("failed") is not True, first
        self.new_sign, self.new_enc = _sm2.generate_key(), _sm2.generate_key()
        write(self.paths["key_path"] + ".pending", self.new_sign)
        write(self.paths["encrypt_key_path"] + ".pending", self.new_enc)
        self.new = (ca.leaf(self.new_sign, 12), ca.leaf(self.new_enc, 13))
        self.before = self.snapshot()

    def args(self, **kw):
        a = dict(name="sm2", certificate=self.new[0] if hasattr(self, "new") else None, chain=self.ca.intermediate,
                 encrypt_certificate=self.new[1] if hasattr(self, "new") else None, encrypt_chain=self.ca.intermediate,
                 root=self.ca.root, services=[], **self.paths)
        a.update(kw)
        return a

    def read(self, option):
        with open(self.paths[option], "rb") as f:
            return f.read()

    def snapshot(self):
        return {o: self.read(o) for o in self.paths}


def write(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            certificate_deploy.main()
    return json.loads(capsys.readouterr().out)


def verify(cert_path, chain_path, root):
    root_file = os.path.join(os.path.dirname(cert_path), "root.pem")
    with open(root_file, "w") as f:
        f.write(root)
    return subprocess.run(["openssl", "verify", "-CAfile", root_file, "-untrusted", chain_path, cert_path],
                          capture_output=True, text=True, check=False)


@pytest.fixture
def host(tmp_path, ca, capsys):
    return Host(tmp_path / "host", ca, capsys)


def test_the_new_pair_is_deployed_matched_and_verified(host, capsys):
    result = run(host.args(services=[dict(name="web", test=["true"], reload=["true"])]), capsys)
    assert result.get("failed") is not True, result
    assert result["deployed"] is True and result["reloaded"] == ["web"]
    assert host.read("cert_path").decode() == host.new[0] and host.read("encrypt_cert_path").decode() == host.new[1]
    assert host.read("key_path") == host.new_sign and host.read("encrypt_key_path") == host.new_enc
    for cert, key, chain in (("cert_path", "key_path", "chain_path"),
                             ("encrypt_cert_path", "encrypt_key_path", "encrypt_chain_path")):
        assert _sm2.key_matches(host.read(cert), host.read(key))
        proc = verify(host.paths[cert], host.paths[chain], host.ca.root)
        assert proc.returncode == 0 and ": OK" in proc.stdout, proc.stdout + proc.stderr
        # every path is a link through the one `current` link: one rename swapped the pair
        assert os.readlink(host.paths[cert]).startswith(".wotrus/sm2/current/")
    assert not glob.glob(str(host.d / "*.pending"))
    assert "PRIVATE KEY" not in json.dumps(result)
    again = run(host.args(), capsys)
    assert again["changed"] is False and again["deployed"] is False


def test_an_encryption_certificate_of_the_signing_key_takes_the_signing_key(host, capsys):
    os.unlink(host.paths["encrypt_key_path"] + ".pending")
    enc = host.ca.leaf(host.new_sign, 14)  # what an SM2 Create gives: both certificates of the csr_Sign key
    result = run(host.args(encrypt_certificate=enc), capsys)
    assert result.get("failed") is not True, result
    assert host.read("encrypt_key_path") == host.read("key_path") == host.new_sign


@pytest.mark.parametrize("case", ["other key", "chain", "service test"])
def test_any_failure_leaves_the_old_pair(host, capsys, case):
    args = host.args()
    if case == "other key":
        args["encrypt_certificate"] = host.ca.leaf(_sm2.generate_key(), 15)
    elif case == "chain":
        args["encrypt_chain"] = host.ca.root  # not the encryption certificate's issuer
    else:
        args["services"] = [dict(name="web", test=["false"], reload=["true"])]
    result = run(args, capsys)
    assert result["failed"] is True
    assert {"other key": "does not match the staged key", "chain": "the encryption certificate: the chain",
            "service test": "the test of service web failed"}[case] in result["msg"]
    assert host.snapshot() == host.before  # the old pair, both certificates and both keys
    assert _sm2.key_matches(host.read("cert_path"), host.read("key_path"))
    assert _sm2.key_matches(host.read("encrypt_cert_path"), host.read("encrypt_key_path"))


def test_options_of_a_pair_are_checked_first(host, capsys):
    args = host.args()
    del args["encrypt_key_path"]
    result = run(args, capsys)
    assert result["failed"] is True and "encrypt_key_path: is required for an SM2 pair" in result["msg"]
    result = run(host.args(encrypt_certificate=None), capsys)
    assert result["failed"] is True and "encrypt_certificate: is required with encrypt_cert_path" in result["msg"]
    result = run(host.args(pkcs12_path=str(host.d / "x.p12"), pkcs12_password="x"), capsys)
    assert result["failed"] is True and "pkcs12_path: an SM2 pair cannot be written as PKCS#12" in result["msg"]
    assert host.snapshot() == host.before
