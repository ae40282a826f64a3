# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a due certificate needs on its host before it is ordered, made in certificate_status's own run
(so a fresh or renewing certificate costs two host tasks, status and deploy): the missing directories, the
staged key and the CSR.

* Directories: each missing one, 0755, with its parents (``_files.make_dirs``).
* Key: when the status wants a new key (``new_key``), the staged key is kept when it is there, is a key of
  the type, size and curve asked for and is not the key in use (``regenerate_key``); else a new one is made
  (``_x509.generate_private_key``: RSA >= 2048 bits, ECDSA on P-256 or P-384) and written through the one
  file writer with mode 0600 from the file's creation (``_files``: a temporary file made 0600, owner and mode
  set on the open file, then renamed), owner and group as asked. A kept key whose mode, owner or group
  differ is written again the same way. With key_rotation never, the CSR is made from the key in use.
* CSR: the staged CSR is kept when it is for that key and exactly these names (so a resumed or repeated run
  sends the same CSR and gets the same idempotence id); else a new one, SHA-256, mode 0644.

In check mode nothing is made; an existing staged CSR that would be kept is returned (the issue step then
predicts from it), else none (it predicts from the status alone).

Keys are made per key type by the function of ``MAKERS``: ``rsa`` and ``ecdsa`` make one key pair and one
CSR with ``cryptography``; ``sm2`` makes the signing key pair and its CSR and, when the order sends an
encryption CSR (a reissue: the API's Create takes ``csr_Sign`` only and certifies the signing key in the
encryption certificate too), the encryption key pair and its CSR, through the OpenSSL 3 command line
(``_sm2``: cryptography has no SM2). The same rules apply to each SM2 key and CSR as above; an SM2 CSR is
kept only when its SM2-with-SM3 signature verifies (OpenSSL), so a staged CSR edited on the host is made
anew.
"""

# No `from __future__ import annotations`: this file runs on managed hosts, and one with
# Python 3.6 or 3.7 (ansible-core 2.16 allows them) must get certificate_status's refusal, not a SyntaxError.

from ansible_collections.wotrus.pki.plugins.module_utils import _files
from ansible_collections.wotrus.pki.plugins.module_utils import _role_status as role_status
from ansible_collections.wotrus.pki.plugins.module_utils import _sm2
from ansible_collections.wotrus.pki.plugins.module_utils import _x509

DIR_MODE = 0o755
STAGED_KEY_MODE = 0o600
CSR_MODE = 0o644


class HostStepError(Exception):
    """The key or CSR cannot be made: ``msg`` names the option or the file."""

    def __init__(self, msg):
        self.msg = msg
        super().__init__(msg)


def _single_key(module, p, status, check_mode):
    """One key pair and one CSR with cryptography (rsa, ecdsa). Returns dict(changed, csr, made, key_made)."""
    problem = _x509.key_spec_problem(p["key_type"], p["key_size"], p["curve"])
    if problem:
        raise HostStepError(problem)
    out = dict(changed=False, csr=None, made=[], key_made=False)
    key = None
    if status["new_key"]:
        path = status["staged_key_path"]
        data = _files.read(path)
        key = _x509.load_private_key(data)
        why = None
        if data is None:
            why = "none yet"
        elif key is None:
            why = "the file holds no unencrypted private key"
        elif status.get("regenerate_key"):
            why = "it is the key in use"
        else:
            why = _x509.key_mismatch(key, p["key_type"], p["key_size"], p["curve"])
        attrs = _files.file_attrs(STAGED_KEY_MODE, p["owner"], p["group"], owner_option="owner",
                                  group_option="group")
        if why:
            key = None
            out["key_made"] = True
            out["key_why"] = why
            if check_mode:
                out.update(changed=True)
                return out
            key = _x509.generate_private_key(p["key_type"], p["key_size"], p["curve"])
            data = _x509.private_key_pem(key)
        written = _files.ensure_file(module, path, data, attrs, option="staged_key_path", secret=True)
        if written["changed"]:
            out["changed"] = True
            out["made"].append(path)
    else:
        key = _x509.load_private_key(_files.read(status["csr_key_path"]))
        if key is None:
            raise HostStepError("key_path: %s holds no unencrypted private key to make the CSR with "
                                "(key_rotation never)" % status["csr_key_path"])
    csr_path = status["staged_csr_path"]
    csr = _files.read(csr_path)
    if csr is None or not _x509.csr_matches(csr, key, p["common_name"], p["csr_subject_alt_names"]):
        out["changed"] = True
        if check_mode:
            return out
        csr = _x509.make_csr(key, p["common_name"], p["csr_subject_alt_names"])
        _files.ensure_file(module, csr_path, csr, _files.FileAttrs(mode=CSR_MODE), option="staged_csr_path")
        out["made"].append(csr_path)
    out["csr"] = csr.decode("ascii")
    return out


def _sm2_spki(data):
    """The public key of an SM2 private key PEM (None when it is not one, or does not load)."""
    if data is None or not _sm2.is_sm2(data):
        return None
    try:
        return _sm2.public_key(data)
    except _sm2.Sm2Error:
        return None


def _sm2_one(module, p, check_mode, out, key_path, csr_path, new_key, in_use, option, csr_key_path=None):
    """One SM2 key (staged at ``key_path`` when ``new_key``, else read from ``csr_key_path``) and its CSR at
    ``csr_path``. ``in_use``: public keys a new staged key must not be. Returns the CSR PEM (None in check
    mode when it would be made) and the key's public key."""
    if new_key:
        data = _files.read(key_path)
        spki = _sm2_spki(data)
        why = None
        if data is None:
            why = "none yet"
        elif spki is None:
            why = "the file holds no unencrypted SM2 private key"
        elif spki in in_use:
            why = "it is a key in use"
        attrs = _files.file_attrs(STAGED_KEY_MODE, p["owner"], p["group"], owner_option="owner",
                                  group_option="group")
        if why:
            out["key_made"] = True
            out.setdefault("key_why", "%s: %s" % (key_path, why))
            if check_mode:
                out["changed"] = True
                return None, None
            data = _sm2.generate_key()
            spki = _sm2.public_key(data)
        written = _files.ensure_file(module, key_path, data, attrs, option=option, secret=True)
        if written["changed"]:
            out["changed"] = True
            out["made"].append(key_path)
    else:
        data = _files.read(csr_key_path)
        spki = _sm2_spki(data)
        if spki is None:
            raise HostStepError("key_path: %s holds no unencrypted SM2 private key to make the CSR with "
                                "(key_rotation never)" % csr_key_path)
    names = [n.split(":", 1)[1] if ":" in n else n for n in p["csr_subject_alt_names"]]
    csr = _files.read(csr_path)
    keep = (csr is not None and _sm2.is_sm2(csr) and _sm2.csr_signature_ok(csr) and _sm2.public_key(csr) == spki
            and _x509.csr_names_match(csr, p["common_name"], p["csr_subject_alt_names"]))
    if not keep:
        out["changed"] = True
        if check_mode:
            return None, spki
        csr = _sm2.make_csr(data, p["common_name"], names)
        _files.ensure_file(module, csr_path, csr, _files.FileAttrs(mode=CSR_MODE), option=option)
        out["made"].append(csr_path)
    return csr.decode("ascii"), spki


def _sm2_keys(module, p, status, check_mode):
    """The SM2 signing key and CSR; with ``encrypt_new_key`` (a reissue) the encryption key and CSR too.
    Returns dict(changed, csr, csr_encrypt, made, key_made)."""
    out = dict(changed=False, csr=None, csr_encrypt=None, made=[], key_made=False)
    in_use = set(x for x in (_x509.private_key_spki(p["key_path"]),
                             _x509.private_key_spki(p["encrypt_key_path"]) if p.get("encrypt_key_path") else None)
                 if x)
    csr, spki = _sm2_one(module, p, check_mode, out, status["staged_key_path"], status["staged_csr_path"],
                         status["new_key"], in_use, "staged_key_path", status.get("csr_key_path"))
    if status.get("encrypt_new_key"):
        enc_csr, _enc = _sm2_one(module, p, check_mode, out, status["encrypt_staged_key_path"],
                                 status["encrypt_staged_csr_path"], True, in_use | set([spki]),
                                 "encrypt_staged_key_path")
        if csr and not enc_csr:
            csr = None
        out["csr_encrypt"] = enc_csr
    out["csr"] = csr
    return out


# The function that makes the key(s) and CSR(s) of a key type (see the docstring).
MAKERS = {"rsa": _single_key, "ecdsa": _single_key, "sm2": _sm2_keys}


def prepare(module, p, status):
    """Make what ``status`` (compute_status's result) says is due, for the options ``p`` of
    certificate_status (key_type, key_size, curve, owner, group, common_name, csr_subject_alt_names).
    Returns dict(changed, csr, csr_encrypt, made, made_dirs, key_made). Raises HostStepError or _files.FileError."""
    check_mode = module.check_mode
    out = dict(changed=False, csr=None, csr_encrypt=None, made=[], made_dirs=[], key_made=False)
    if status["due"] == role_status.DUE_NONE:
        return out
    if status["missing_dirs"]:
        out["changed"] = True
        if check_mode:
            # Nothing can be read or made in a directory that is not there yet.
            return out
        out["made_dirs"] = _files.make_dirs(status["missing_dirs"], DIR_MODE)
    if status["due"] not in role_status.DUE_WITH_CSR:
        return out
    maker = MAKERS.get(p["key_type"])
    if maker is None:
        raise HostStepError("key_type: this host step cannot make %r keys" % (p["key_type"],))
    made = maker(module, p, status, check_mode)
    out.update(made, changed=out["changed"] or made["changed"])
    return out
