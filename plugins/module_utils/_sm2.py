# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SM2 (GB/T 32918, 国密) keys, CSRs and signatures, through the OpenSSL 3 command line.

The one place of the collection that does SM2. The ``cryptography`` library has
no SM2: it parses an SM2 certificate's structure but cannot load the key or
verify a signature. OpenSSL 3.0 and newer do SM2 and SM3 natively
(``openssl genpkey -algorithm SM2``, ``openssl req -new -sm3``, ``openssl
verify``), and every distribution ships it, so it is used here as a program,
run without a shell, with private keys passed on standard input (never on a
command line, never in a temporary file): a key made here is returned as PEM
bytes for the collection's one file writer (``_files.py``) to write 0600, so
it never leaves the host. A pure-Python SM2 (PyPI ``gmssl``) was not chosen:
it is not a vetted implementation, and a host already has OpenSSL.

SM2 signatures bind a distinguishing ID; OpenSSL 3 signs and verifies
certificates and CSRs with the default ID ``1234567812345678``
(GM/T 0009), as GmSSL and Tongsuo do, so no ID option is passed.

Imports nothing from Ansible and nothing outside the standard library; runs on
Python 3.8 hosts. The sandbox imports it too (for its CSR checks).
"""

# No `from __future__ import annotations`: this file runs on managed hosts.

import base64
import ipaddress
import os
import re
import shutil
import subprocess
import tempfile

# OIDs (DER of the value) that mark SM2: the curve sm2p256v1 (1.2.156.10197.1.301) in a
# public key, and the signature algorithm SM2-with-SM3 (1.2.156.10197.1.501).
SM2_CURVE_OID_DER = bytes.fromhex("06082a811ccf5501822d")
SM2_WITH_SM3_OID = "1.2.156.10197.1.501"
SM2_WITH_SM3_OID_DER = bytes.fromhex("06082a811ccf55018375")
# The distinguishing ID OpenSSL 3 uses (documented above; no option passes another one).
DEFAULT_ID = "1234567812345678"
TIMEOUT = 60

INSTALL_HINT = ("install OpenSSL 3.0 or newer (Debian/Ubuntu: apt-get install openssl; RHEL 9: dnf install openssl), "
                "or give its path")

_NAME = re.compile(r"^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_.-]{0,251}[A-Za-z0-9_])?$")
_checked = {}


class Sm2Error(ValueError):
    """An SM2 operation failed or OpenSSL cannot do SM2; the message says what to do. A ValueError,
    as cryptography raises for a key or signature it cannot read."""


def _pem_bytes(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return data.replace(b"\r\n", b"\n").replace(b"NEW CERTIFICATE REQUEST", b"CERTIFICATE REQUEST").strip() + b"\n"


def _der_of(pem):
    """The DER of the first PEM block (None when there is none)."""
    match = re.search(rb"-----BEGIN [A-Z0-9 ]+-----(.*?)-----END", _pem_bytes(pem), re.S)
    if not match:
        return None
    try:
        return base64.b64decode(re.sub(rb"\s", b"", match.group(1)))
    except (ValueError, TypeError):
        return None


def is_sm2(pem):
    """True when a PEM certificate, CSR or key holds an SM2 key (the curve OID is in it)."""
    der = _der_of(pem)
    return bool(der) and SM2_CURVE_OID_DER in der


def find_openssl(path=None):
    """The path of an ``openssl`` that does SM2 (checked once per path); Sm2Error otherwise."""
    exe = path or shutil.which("openssl")
    if not exe:
        raise Sm2Error("SM2 needs the openssl command, which is not on this machine's PATH: " + INSTALL_HINT)
    if exe not in _checked:
        try:
            proc = subprocess.run([exe, "version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=TIMEOUT, check=False)
            version = proc.stdout.decode("utf-8", "replace").strip()
            probe = subprocess.run([exe, "genpkey", "-algorithm", "SM2"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=TIMEOUT, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            raise Sm2Error("cannot run %s (%s): %s" % (exe, exc, INSTALL_HINT))
        match = re.match(r"OpenSSL (\d+)\.", version)
        if not match or int(match.group(1)) < 3 or probe.returncode != 0:
            _checked[exe] = "%s (%s) cannot make SM2 keys and SM2-with-SM3 signatures: %s" % (
                exe, version or "unknown version", INSTALL_HINT)
        else:
            _checked[exe] = None
    if _checked[exe]:
        raise Sm2Error(_checked[exe])
    return exe


def _run(args, data=None, openssl=None, what="run openssl"):
    exe = find_openssl(openssl)
    try:
        proc = subprocess.run([exe] + list(args), input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise Sm2Error("cannot %s: %s" % (what, exc))
    return proc


def _check(proc, what):
    if proc.returncode != 0:
        # openssl's stderr names no secret (keys go in on stdin); keep its first lines.
        detail = " ".join(proc.stderr.decode("utf-8", "replace").strip().splitlines()[:2])
        raise Sm2Error("cannot %s: openssl exited with %d%s"
                       % (what, proc.returncode, (": " + detail) if detail else ""))
    return proc.stdout


def generate_key(openssl=None):
    """A new SM2 private key, PEM (PKCS#8, unencrypted) bytes, for the one file writer to write 0600."""
    return _check(_run(["genpkey", "-algorithm", "SM2"], openssl=openssl, what="make an SM2 key"),
                  "make an SM2 key")


def check_name(name):
    """``name`` as it goes into a CSR: a DNS name (wildcard allowed) or an IP address; ValueError otherwise."""
    name = str(name).strip()
    try:
        return "IP:" + str(ipaddress.ip_address(name))
    except ValueError:
        pass
    if not _NAME.match(name) or ".." in name:
        raise ValueError("%r is not a DNS name or IP address" % name)
    return "DNS:" + name.lower().rstrip(".")


def make_csr(key_pem, common_name, names=(), openssl=None):
    """An SM2-with-SM3 CSR (PEM bytes) for ``common_name``, with ``common_name`` and ``names`` as
    subjectAltName, signed by ``key_pem`` (an SM2 private key, PEM). ValueError for a bad name."""
    if not is_sm2(key_pem):
        raise Sm2Error("the key is not an SM2 key")
    check_name(common_name)
    sans = []
    for n in [common_name] + list(names or ()):
        entry = check_name(n)
        if entry not in sans:
            sans.append(entry)
    args = ["req", "-new", "-sm3", "-key", "/dev/stdin", "-subj", "/CN=" + str(common_name).strip(),
            "-addext", "subjectAltName=" + ",".join(sans)]
    return _check(_run(args, _pem_bytes(key_pem), openssl, "make an SM2 CSR"), "make an SM2 CSR")


def csr_signature_ok(csr_pem, openssl=None):
    """True when the CSR's self-signature verifies (SM2-with-SM3, default ID); False when it does
    not or the CSR does not parse. OpenSSL 3.0 exits 0 even when the signature fails, so its
    sentence decides ("Certificate request self-signature verify OK")."""
    proc = _run(["req", "-verify", "-noout"], _pem_bytes(csr_pem), openssl, "check a CSR")
    return proc.returncode == 0 and b"self-signature verify OK" in proc.stdout + proc.stderr


def public_key(pem, openssl=None):
    """The SubjectPublicKeyInfo DER of a certificate, CSR, private key or public key (PEM), for
    key/certificate matching. Sm2Error when it does not load."""
    data = _pem_bytes(pem)
    what = "read the public key"
    if b"CERTIFICATE REQUEST" in data:
        out = _check(_run(["req", "-pubkey", "-noout"], data, openssl, what), what)
    elif b"BEGIN CERTIFICATE" in data:
        out = _check(_run(["x509", "-pubkey", "-noout"], data, openssl, what), what)
    elif b"PRIVATE KEY" in data:
        out = _check(_run(["pkey", "-pubout"], data, openssl, what), what)
    else:
        out = data
    der = _der_of(out)
    if not der:
        raise Sm2Error("cannot %s: openssl gave no public key" % what)
    return der


def key_matches(a, b, openssl=None):
    """True when two of (certificate, CSR, private key, public key), PEM, hold the same public key."""
    return public_key(a, openssl) == public_key(b, openssl)


def issued_by(cert_pem, issuer_pem, openssl=None):
    """True when ``issuer_pem``'s key signed ``cert_pem`` (an SM2-with-SM3 signature, checked by
    ``openssl verify`` with the issuer as the only trust anchor, validity times ignored) and the
    issuer may sign certificates (a CA, as openssl verify requires)."""
    workdir = tempfile.mkdtemp(prefix="wotrus-sm2-")
    try:
        cert_file, ca_file = os.path.join(workdir, "cert.pem"), os.path.join(workdir, "ca.pem")
        for path, data in ((cert_file, cert_pem), (ca_file, issuer_pem)):
            with open(path, "wb") as handle:
                handle.write(_pem_bytes(data))
        proc = _run(["verify", "-partial_chain", "-no_check_time", "-no-CApath", "-no-CAstore",
                     "-CAfile", ca_file, cert_file], None, openssl, "verify a signature")
        return proc.returncode == 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def verify_chain(cert_pem, chain_pems, root_pem, openssl=None):
    """``openssl verify`` of a certificate against ``root_pem`` (trusted) with ``chain_pems``
    as untrusted intermediates. Returns None when it verifies, else openssl's reason."""
    workdir = tempfile.mkdtemp(prefix="wotrus-sm2-")
    try:
        files = {"cert.pem": _pem_bytes(cert_pem), "root.pem": _pem_bytes(root_pem),
                 "chain.pem": b"".join(_pem_bytes(c) for c in chain_pems)}
        for name, data in files.items():
            with open(os.path.join(workdir, name), "wb") as handle:
                handle.write(data)
        args = ["verify", "-no-CApath", "-no-CAstore", "-CAfile", os.path.join(workdir, "root.pem")]
        if chain_pems:
            args += ["-untrusted", os.path.join(workdir, "chain.pem")]
        proc = _run(args + [os.path.join(workdir, "cert.pem")], None, openssl, "verify a chain")
        if proc.returncode == 0:
            return None
        text = (proc.stdout + proc.stderr).decode("utf-8", "replace")
        reasons = re.findall(r"error \d+ at \d+ depth lookup: ([^\n]+)", text)
        return reasons[0] if reasons else "openssl verify failed"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
