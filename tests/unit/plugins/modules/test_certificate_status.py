# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""certificate_status as a module: the host check comes first, in check mode too."""

from __future__ import annotations

import json
import sys

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.wotrus.pki.plugins.module_utils import _x509
from ansible_collections.wotrus.pki.plugins.modules import certificate_status


def run(tmp_path, capsys, **extra):
    args = dict(name="www", cert_path=str(tmp_path / "www.crt"), key_path=str(tmp_path / "www.key"),
                record_path=str(tmp_path / "www.crt.wotrus.json"), staged_key_path=str(tmp_path / "www.key.pending"),
                common_name="www.example.com", product_id="30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D")
    args.update(extra)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            certificate_status.main()
    return json.loads(capsys.readouterr().out)


def test_status_says_which_python_and_cryptography_ran_it(tmp_path, capsys):
    result = run(tmp_path, capsys)
    assert result["due"] == "new", result
    assert result["python"] == dict(executable=sys.executable, version="%d.%d.%d" % sys.version_info[:3],
                                    cryptography=_x509.CRYPTOGRAPHY_VERSION)


@pytest.mark.parametrize("check_mode", [False, True])
@pytest.mark.parametrize("version, words", [(None, "is not installed"), ("3.3.2", "cryptography 3.3.2")])
def test_status_refuses_a_host_without_a_usable_cryptography(tmp_path, capsys, monkeypatch, check_mode,
                                                             version, words):
    monkeypatch.setattr(_x509, "CRYPTOGRAPHY_VERSION", version)
    result = run(tmp_path, capsys, _ansible_check_mode=check_mode)
    assert result["failed"] is True and "due" not in result
    assert words in result["msg"]
    for hint in ("apt install python3-cryptography", "dnf install python3-cryptography", "-m pip install"):
        assert hint in result["msg"]
    assert result["python"]["executable"] == sys.executable


@pytest.mark.parametrize("check_mode", [False, True])
def test_status_refuses_a_pkcs12_output_the_hosts_cryptography_cannot_write(
        tmp_path, capsys, monkeypatch, check_mode):
    monkeypatch.setattr(_x509, "HAS_PKCS12_ENCRYPTION_BUILDER", False)
    monkeypatch.setattr(_x509, "CRYPTOGRAPHY_VERSION", "37.0.2")
    p12 = str(tmp_path / "www.p12")
    result = run(tmp_path, capsys, output_paths=[p12], pkcs12=True, _ansible_check_mode=check_mode)
    assert result["failed"] is True and "due" not in result
    assert "certificate_outputs" in result["msg"] and "certificate_pkcs12_encryption" in result["msg"]
    assert "cryptography 38 or newer" in result["msg"] and "37.0.2" in result["msg"]
    assert result["msg"].startswith("www: ")
    # Without a PKCS#12 output the same host is fine.
    result = run(tmp_path, capsys, output_paths=[str(tmp_path / "www.der")], _ansible_check_mode=check_mode)
    assert result["due"] == "new", result
