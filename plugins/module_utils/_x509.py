# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""X.509 for every part of the collection: PEM parsing, chains from signatures,
key matching, the facts modules return, serial numbers as openssl shows them,
and the check of the host's Python and cryptography.

Imports nothing from Ansible. It runs on managed hosts (certificate_status,
certificate_deploy) with the cryptography their distribution ships, so it
detects features instead of assuming the newest release, as community.crypto
does:

* ``x509.load_pem_x509_certificates`` (cryptography 39): before it, the PEM
  blocks are cut at their BEGIN/END lines and each is loaded with
  ``x509.load_pem_x509_certificate`` (cryptography has no loader for several
  certificates before 39; each block is still parsed by cryptography);
* ``Certificate.verify_directly_issued_by`` (40): before it, the issuer's public
  key verifies the signature over ``tbs_certificate_bytes`` with the padding and
  hash the certificate names (RSA PKCS#1 v1.5, ECDSA, DSA, Ed25519, Ed448);
* ``Certificate.not_valid_before_utc`` / ``not_valid_after_utc`` (42): before
  them, the naive UTC datetimes are made aware.

The API's chain arrays are root first, intermediate last and may hold a cross
certificate between them. A server wants the leaf, then the leaf's issuer, then
that one's issuer ..., without the self-signed root. The order is found by
verifying signatures, not by array position. SM2-with-SM3 signatures, which
cryptography cannot verify, are verified by OpenSSL through ``_sm2.py``; where
neither can verify a signature (SM2 without an OpenSSL 3 on the machine, RSA-PSS
before cryptography 40), names and key identifiers decide. ``check_path`` is the one check of a leaf-first path (``describe``'s
``chain_complete`` and certificate_deploy use it).

The outputs besides PEM that certificate_deploy renders on the host (the key
never leaves it): DER, the combined PEM (key, certificate, chain: what HAProxy
and Postfix read) and PKCS#12 (a Java keystore). PKCS#12 is written with
``PrivateFormat.PKCS12.encryption_builder`` (cryptography 38): ``modern`` is
PBES2 with AES-256-CBC, PBKDF2-SHA256 and an HMAC-SHA256 MAC (OpenSSL 3's
default, Java 8u301 / 11.0.12 and newer); ``legacy`` is 3DES with SHA1 and a
SHA1 MAC, for older Java. PKCS#12 output has random salts, so an existing file
that opens with the password and holds the same key, certificates, name and
kind of encryption is kept as it is (``pkcs12_bytes``'s ``existing``).
"""

# No `from __future__ import annotations`: this file runs on managed hosts, and one with
# Python 3.6 or 3.7 (ansible-core 2.16 allows them) must get certificate_status's refusal, not a SyntaxError.

import base64
import datetime
import ipaddress
import re
import sys
import traceback

from ansible_collections.wotrus.pki.plugins.module_utils import _sm2

# The oldest Python and cryptography the host modules run with (README, "What the hosts need").
# Python 3.8: the oldest that ansible-core 2.19 runs modules with. cryptography 3.4.8: Ubuntu 22.04's,
# the oldest that a supported distribution ships (RHEL 9: 36.0.1, Debian 12: 38.0.4); tested.
MINIMUM_PYTHON = (3, 8)
MINIMUM_CRYPTOGRAPHY = "3.4.8"

try:
    import cryptography
    CRYPTOGRAPHY_VERSION = cryptography.__version__
    CRYPTOGRAPHY_FILE = cryptography.__file__
except ImportError:
    CRYPTOGRAPHY_VERSION = CRYPTOGRAPHY_FILE = None

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
    from cryptography.x509.oid import NameOID, SignatureAlgorithmOID
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by host_requirements_problem()
    x509 = None
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

# Features of newer cryptography releases (see the module's docstring).
HAS_LOAD_PEM_X509_CERTIFICATES = x509 is not None and hasattr(x509, "load_pem_x509_certificates")  # 39
HAS_VERIFY_DIRECTLY_ISSUED_BY = x509 is not None and hasattr(x509.Certificate, "verify_directly_issued_by")  # 40
HAS_UTC_VALIDITY = x509 is not None and hasattr(x509.Certificate, "not_valid_after_utc")  # 42
# PrivateFormat.PKCS12 and its encryption_builder: 38 (before it, no PKCS12 member at all).
HAS_PKCS12_ENCRYPTION_BUILDER = x509 is not None and hasattr(
    getattr(serialization.PrivateFormat, "PKCS12", None), "encryption_builder")  # 38
PKCS12_ENCRYPTIONS = ("modern", "legacy")
MINIMUM_CRYPTOGRAPHY_PKCS12 = "38"
# DER of the OIDs that tell the two encryptions apart: PBES2 (1.2.840.113549.1.5.13) and
# pbeWithSHAAnd3-KeyTripleDES-CBC (1.2.840.113549.1.12.1.3).
_OID_PBES2 = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x05\x0d"
_OID_3DES = b"\x06\x0a\x2a\x86\x48\x86\xf7\x0d\x01\x0c\x01\x03"

PEM_CERTIFICATE_RE = re.compile(br"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


class ChainError(ValueError):
    pass


# -- the host's Python and cryptography -----------------------------------------------
def version_tuple(text):
    """(3, 4, 8) from "3.4.8"; the leading numbers of each part ("42.0.0rc1" -> (42, 0, 0))."""
    out = []
    for part in str(text).split("."):
        match = re.match(r"\d+", part)
        if not match:
            break
        out.append(int(match.group()))
    return tuple(out)


def install_hint(python=None):
    python = python or sys.executable or "python3"
    return ("install it for %s: `apt install python3-cryptography` (Debian, Ubuntu) or `dnf install "
            "python3-cryptography` (RHEL, Fedora) for the system Python, or `%s -m pip install 'cryptography>=%s'`; "
            "or set ansible_python_interpreter to a Python that has it" % (python, python, MINIMUM_CRYPTOGRAPHY))


def host_requirements_problem():
    """None when this Python and its cryptography are enough for the host modules, else a
    sentence that says what is wrong and what to install."""
    here = "%s (Python %s)" % (sys.executable or "python", ".".join(str(n) for n in sys.version_info[:3]))
    if sys.version_info[:2] < MINIMUM_PYTHON:
        return ("%s is too old: the wotrus.pki host modules need Python %s or newer; set ansible_python_interpreter "
                "to a newer Python" % (here, ".".join(str(n) for n in MINIMUM_PYTHON)))
    if CRYPTOGRAPHY_VERSION is None:
        return ("the Python library cryptography (>= %s) is not installed for %s on this host; %s"
                % (MINIMUM_CRYPTOGRAPHY, here, install_hint()))
    if version_tuple(CRYPTOGRAPHY_VERSION) < version_tuple(MINIMUM_CRYPTOGRAPHY):
        return ("cryptography %s (%s) is too old for %s on this host: the wotrus.pki host modules need %s or newer; %s"
                % (CRYPTOGRAPHY_VERSION, CRYPTOGRAPHY_FILE, here, MINIMUM_CRYPTOGRAPHY, install_hint()))
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        last = CRYPTOGRAPHY_IMPORT_ERROR.strip().splitlines()[-1]
        return ("cryptography %s (%s) is installed for %s on this host but does not load (%s); %s"
                % (CRYPTOGRAPHY_VERSION, CRYPTOGRAPHY_FILE, here, last, install_hint()))
    return None


# -- parsing ---------------------------------------------------------------------
def load_pem_certificates(data):
    """Every certificate of PEM ``data`` (bytes or str), in order. Text around the blocks
    is ignored. Raises ValueError when there is none or one does not parse."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if HAS_LOAD_PEM_X509_CERTIFICATES:
        return list(x509.load_pem_x509_certificates(data))
    blocks = PEM_CERTIFICATE_RE.findall(data or b"")
    if not blocks:
        raise ValueError("no PEM certificate found")
    return [x509.load_pem_x509_certificate(block) for block in blocks]


def load_certs(data):
    """Every certificate of a PEM file's bytes (empty list when none parse)."""
    if not data:
        return []
    try:
        return load_pem_certificates(data)
    except (ValueError, TypeError):
        return []


def split_pem(value):
    """Certificates from a PEM string (any number of blocks, newlines possibly escaped as
    ``\\n``), a list of them, or bare base64 DER, as a list of ``x509.Certificate``."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            out.extend(split_pem(item))
        return out
    text = str(value).replace("\\n", "\n").strip()
    if not text:
        return []
    try:
        if "-----BEGIN" in text:
            return load_pem_certificates(text)
        return [x509.load_der_x509_certificate(base64.b64decode(re.sub(r"\s+", "", text), validate=True))]
    except (ValueError, TypeError) as exc:
        raise ChainError("a certificate in the answer does not parse (%s)" % exc)


def to_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


# -- facts -----------------------------------------------------------------------
def not_before(cert):
    """The start of validity, an aware UTC datetime."""
    if HAS_UTC_VALIDITY:
        return cert.not_valid_before_utc
    return cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def not_after(cert):
    """The end of validity, an aware UTC datetime."""
    if HAS_UTC_VALIDITY:
        return cert.not_valid_after_utc
    return cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def format_serial(number):
    """A serial number as ``openssl x509 -serial`` shows it: upper-case hex, whole bytes
    (an even number of digits, a leading zero kept: ``059B...``)."""
    sign = "-" if number < 0 else ""
    number = abs(number)
    digits = 2 * max(1, (number.bit_length() + 7) // 8)
    return "%s%0*X" % (sign, digits, number)


def serial_hex(cert):
    return format_serial(cert.serial_number)


def normal_serial(value):
    """A serial written in any of the ways in use (``059B``, ``59b``, ``05:9B``) as one
    string, for comparing: upper-case hex without separators and leading zeros."""
    text = re.sub(r"[\s:]", "", str(value or "")).upper()
    sign = "-" if text.startswith("-") else ""
    text = text.lstrip("-").lstrip("0") or ("0" if text else "")
    return sign + text


def same_serial(a, b):
    """True when two serials (strings, as records old and new hold them) are the same number."""
    return bool(a) and bool(b) and normal_serial(a) == normal_serial(b)


def fingerprint(cert):
    return cert.fingerprint(hashes.SHA256()).hex()


def _sans(cert):
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [str(n) for n in ext.value.get_values_for_type(x509.DNSName)] + \
        [str(n) for n in ext.value.get_values_for_type(x509.IPAddress)]


def cert_names(cert):
    """(common name, sorted lower-case SANs) of a certificate."""
    try:
        attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        cn = attrs[0].value if attrs else None
    except ValueError:
        cn = None
    return cn, sorted(set(s.lower() for s in _sans(cert)))


def cert_facts(cert):
    fp = cert.fingerprint(hashes.SHA256()).hex().upper()
    return dict(
        not_before=not_before(cert).strftime("%Y-%m-%dT%H:%M:%SZ"),
        not_after=not_after(cert).strftime("%Y-%m-%dT%H:%M:%SZ"),
        serial_number=serial_hex(cert),
        fingerprint="SHA256:" + ":".join(fp[i:i + 2] for i in range(0, len(fp), 2)),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        subject_alt_names=_sans(cert),
    )


# -- keys ------------------------------------------------------------------------
def _spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def spki(obj):
    """The SubjectPublicKeyInfo DER of a certificate, CSR or private key object. The SM2 key of a
    certificate or CSR, which cryptography cannot load, is read by OpenSSL (``_sm2.public_key``)."""
    if isinstance(obj, (x509.Certificate, x509.CertificateSigningRequest)):
        return public_key_of(obj)
    return _spki(obj.public_key())


def private_key_spki(path):
    """The SubjectPublicKeyInfo of the private key at ``path`` (None when absent, unreadable
    or encrypted). The key itself is dropped at once."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError):
        return None
    if _sm2.is_sm2(data):  # cryptography cannot load SM2 keys: OpenSSL reads the public half
        try:
            return _sm2.public_key(data)
        except _sm2.Sm2Error:
            return None
    try:
        return spki(serialization.load_pem_private_key(data, password=None))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None


def public_key_of(pem_or_obj, password=None):
    """The SubjectPublicKeyInfo DER of a certificate, CSR, private or public key. SM2 keys, which
    cryptography cannot load, are read by OpenSSL (``_sm2.public_key``; unencrypted keys only)."""
    obj = pem_or_obj
    if isinstance(obj, (str, bytes)):
        data = obj.encode("utf-8") if isinstance(obj, str) else obj
        if _sm2.is_sm2(data):
            return _sm2.public_key(data)
        if b"CERTIFICATE REQUEST" in data:
            obj = x509.load_pem_x509_csr(data)
        elif b"BEGIN CERTIFICATE" in data:
            obj = load_pem_certificates(data)[0]
        elif b"PRIVATE KEY" in data:
            obj = serialization.load_pem_private_key(data, password=password)
        else:
            obj = serialization.load_pem_public_key(data)
    if isinstance(obj, (x509.Certificate, x509.CertificateSigningRequest)):
        try:
            obj = obj.public_key()
        except (UnsupportedAlgorithm, ValueError):
            return _sm2.public_key(obj.public_bytes(serialization.Encoding.PEM))
    elif hasattr(obj, "public_key"):
        obj = obj.public_key()
    return _spki(obj)


def key_matches(a, b, password=None):
    """True when two of (certificate, CSR, private key, public key) hold the same key."""
    return public_key_of(a, password) == public_key_of(b, password)


# -- new keys and CSRs (certificate_status makes them on the host) -----------------
# What community.crypto's openssl_privatekey and openssl_csr checked, kept here: RSA of at least
# RSA_MIN_BITS with public exponent 65537, ECDSA on a named curve of EC_CURVES; an existing key of
# another type, size or curve is not used (key_mismatch); a CSR is signed with SHA-256.
RSA_MIN_BITS = 2048
RSA_PUBLIC_EXPONENT = 65537
EC_CURVES = {"secp256r1": 256, "secp384r1": 384}


def key_spec_problem(key_type, key_size=None, curve=None):
    """Why a key of this type, size and curve must not be made (a sentence naming the option), or None."""
    if key_type == "rsa":
        if not isinstance(key_size, int) or isinstance(key_size, bool) or key_size < RSA_MIN_BITS:
            return "key_size: an RSA key must have at least %d bits, got %r" % (RSA_MIN_BITS, key_size)
        return None
    if key_type == "ecdsa":
        if curve not in EC_CURVES:
            return "curve: must be one of %s for an ECDSA key, got %r" % (", ".join(sorted(EC_CURVES)), curve)
        return None
    return "key_type: must be rsa or ecdsa, got %r" % (key_type,)


def _curve(name):
    return {"secp256r1": ec.SECP256R1, "secp384r1": ec.SECP384R1}[name]()


def generate_private_key(key_type, key_size=None, curve=None):
    """A new private key (checked by key_spec_problem first: ValueError with its sentence)."""
    problem = key_spec_problem(key_type, key_size, curve)
    if problem:
        raise ValueError(problem)
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=key_size)
    return ec.generate_private_key(_curve(curve))


def private_key_pem(key):
    """The unencrypted PEM of a key, in the format openssl_privatekey wrote (PKCS#1 / SEC1)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def load_private_key(data):
    """The private key of unencrypted PEM ``data``; None when there is none (absent, garbage, encrypted)."""
    if not data:
        return None
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None


def key_mismatch(key, key_type, key_size=None, curve=None):
    """Why an existing private key is not one of the type, size and curve asked for (a sentence), or None."""
    if key_type == "rsa":
        if not isinstance(key, rsa.RSAPrivateKey):
            return "it is not an RSA key"
        if key.key_size != key_size:
            return "it has %d bits, not %d" % (key.key_size, key_size)
        if key.public_key().public_numbers().e != RSA_PUBLIC_EXPONENT:
            return "its public exponent is not %d" % RSA_PUBLIC_EXPONENT
        return None
    if key_type == "ecdsa":
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            return "it is not an ECDSA key"
        if key.curve.name != curve:
            return "its curve is %s, not %s" % (key.curve.name, curve)
        return None
    return "it is not a %s key" % key_type


def _general_name(typed):
    kind, _sep, value = typed.partition(":")
    if kind == "IP":
        return x509.IPAddress(ipaddress.ip_address(value))
    return x509.DNSName(value)


def make_csr(key, common_name, typed_names):
    """The PEM of a CSR for ``key``: subject CN ``common_name``, subjectAltName ``typed_names``
    (``["DNS:www.example.com", "IP:192.0.2.1"]``), signed with SHA-256."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
    if typed_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_general_name(t) for t in typed_names]), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def csr_matches(data, key, common_name, typed_names):
    """Whether the CSR PEM ``data`` is for ``key`` and exactly these names, and its signature holds
    (a resumed run sends it again, so the order's CSR stays the same)."""
    try:
        csr = x509.load_pem_x509_csr(data)
        if not csr.is_signature_valid or spki(csr) != spki(key):
            return False
        cns = [a.value for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        try:
            sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            have = set(sans)
        except x509.ExtensionNotFound:
            have = set()
        return cns == [common_name] and have == set(_general_name(t) for t in typed_names)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False


def csr_names_match(data, common_name, typed_names):
    """Whether the CSR PEM ``data`` names exactly ``common_name`` and ``typed_names`` (its signature
    and key are not looked at: an SM2 CSR, whose key cryptography cannot load, is checked by ``_sm2``)."""
    try:
        csr = x509.load_pem_x509_csr(data)
        cns = [a.value for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        try:
            have = set(csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
        except x509.ExtensionNotFound:
            have = set()
        return cns == [common_name] and have == set(_general_name(t) for t in typed_names)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False


# -- signatures and chains -------------------------------------------------------
def _ski(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def _aki(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        return None


def verify_signature(cert, issuer):
    """Verify that ``issuer``'s key signed ``cert``. Raises InvalidSignature when it did not,
    UnsupportedAlgorithm when nothing here can tell (SM2 without an OpenSSL 3; RSA-PSS before
    cryptography 40). SM2-with-SM3 signatures are verified by OpenSSL (``_sm2.issued_by``)."""
    if cert.signature_algorithm_oid.dotted_string == _sm2.SM2_WITH_SM3_OID:
        pem = serialization.Encoding.PEM
        try:
            ok = _sm2.issued_by(cert.public_bytes(pem), issuer.public_bytes(pem))
        except _sm2.Sm2Error as exc:
            raise UnsupportedAlgorithm(str(exc))
        if not ok:
            raise InvalidSignature("the SM2 signature does not verify with the issuer's key")
        return
    if HAS_VERIFY_DIRECTLY_ISSUED_BY:
        cert.verify_directly_issued_by(issuer)
        return
    # Before cryptography 40: what verify_directly_issued_by does, with the issuer's public key.
    try:
        key = issuer.public_key()
    except ValueError as exc:  # a key type this cryptography cannot load (SM2)
        raise UnsupportedAlgorithm(str(exc))
    if cert.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS:
        raise UnsupportedAlgorithm("RSASSA-PSS signatures need cryptography 40 or newer to be verified here")
    signature, data = cert.signature, cert.tbs_certificate_bytes
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, data, padding.PKCS1v15(), cert.signature_hash_algorithm)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(cert.signature_hash_algorithm))
    elif isinstance(key, dsa.DSAPublicKey):
        key.verify(signature, data, cert.signature_hash_algorithm)
    elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        key.verify(signature, data)
    else:
        raise UnsupportedAlgorithm("cannot verify a signature made with a %s" % type(key).__name__)


def issued_by(cert, issuer):
    """True when ``issuer`` signed ``cert``. Falls back to names and key
    identifiers when the signature algorithm is not implemented (SM2)."""
    if cert.issuer != issuer.subject:
        return False
    try:
        verify_signature(cert, issuer)
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False
    except UnsupportedAlgorithm:
        aki, ski = _aki(cert), _ski(issuer)
        return aki is None or ski is None or aki == ski


def is_self_signed(cert):
    return cert.issuer == cert.subject and issued_by(cert, cert)


def same_name_and_key(a, b):
    """True when two certificates certify the same subject name and public key
    (a root and a cross certificate of it). Where the key type cannot be
    loaded (SM2 without an OpenSSL 3) the subject key identifiers decide."""
    if a.subject != b.subject:
        return False
    try:
        return public_key_of(a) == public_key_of(b)
    except (UnsupportedAlgorithm, ValueError):
        ska, skb = _ski(a), _ski(b)
        return ska is not None and ska == skb


def ends_at(top, root):
    """True when a path whose last certificate is ``top`` is anchored by
    ``root``: ``root`` signed ``top``, or ``top`` certifies ``root``'s name and
    key (it is ``root`` itself, or a cross certificate of it issued by another
    CA: the path then stops one step earlier at ``root``)."""
    return issued_by(top, root) or same_name_and_key(top, root)


def check_path(leaf, chain, roots=None):
    """Check a leaf-first path as a server sends it. Each certificate of
    ``chain`` must sign the one before it (the first signs ``leaf``); with
    ``roots`` (a list) the path must end at one of them (``ends_at``).
    Returns the last certificate of the path; raises ChainError."""
    current = leaf
    for i, c in enumerate(chain):
        if not issued_by(current, c):
            raise ChainError("the chain does not verify: certificate %d (%s) is not signed by the next one (%s)"
                             % (i, current.subject.rfc4514_string(), c.subject.rfc4514_string()))
        current = c
    if roots is not None and not any(ends_at(current, r) for r in roots):
        raise ChainError("the chain does not end at the given root (top: %s)" % current.issuer.rfc4514_string())
    return current


def build_chain(leaf, candidates):
    """Return ``(chain, root, unused)``.

    ``chain`` is leaf-issuer first, each certificate signed by the next, no
    self-signed certificate in it. ``root`` is the self-signed certificate of
    the candidates that the path reaches. Of the paths from the leaf to a
    self-signed candidate the shortest is taken: with ``[R2, cross(R2 by R1),
    intermediate]`` the intermediate is signed by R2 directly, so the chain is
    the intermediate alone and the cross certificate is left unused; with
    ``[R1, cross(R2 by R1), intermediate]`` (R2 not in the answer) the cross
    certificate is needed to reach R1 and is part of the chain.
    When no path reaches a self-signed candidate, ``chain`` is the longest path
    found and ``root`` the first self-signed candidate, if any (not complete).
    ``unused`` are candidates not on the path, in their given order.
    """
    pool = []
    seen = set([fingerprint(leaf)])
    for c in candidates:
        fp = fingerprint(c)
        if fp not in seen:
            seen.add(fp)
            pool.append(c)
    # Breadth first from the leaf: the first self-signed issuer found ends a
    # shortest path. Issuers are tried in fingerprint order, so the result
    # does not depend on the array's order.
    ordered = sorted(pool, key=fingerprint)
    level = [(leaf, [])]
    visited = set()
    longest = []
    chain, root = None, None
    while level and root is None:
        following = []
        for current, path in level:
            for c in ordered:
                fp = fingerprint(c)
                if fp in visited or not issued_by(current, c):
                    continue
                if is_self_signed(c):
                    chain, root = path, c
                    break
                visited.add(fp)
                following.append((c, path + [c]))
            if root is not None:
                break
        if following:
            longest = following[0][1]
        level = following
    if root is None:
        chain = longest
        roots = [c for c in pool if is_self_signed(c)]
        root = roots[0] if roots else None
    used = set(fingerprint(c) for c in chain)
    if root is not None:
        used.add(fingerprint(root))
    unused = [c for c in pool if fingerprint(c) not in used]
    return chain, root, unused


def describe(leaf_pem, chains):
    """The certificate facts modules return, from the API's ``pem_*`` and ``chains_*``."""
    leaves = split_pem(leaf_pem)
    if not leaves:
        raise ChainError("the answer holds no certificate")
    leaf = leaves[0]
    chain, root, unused = build_chain(leaf, leaves[1:] + split_pem(chains))
    cert_pem = to_pem(leaf)
    chain_pem = "".join(to_pem(c) for c in chain)
    info = cert_facts(leaf)
    info.update(
        certificate=cert_pem,
        chain=chain_pem,
        fullchain=cert_pem + chain_pem,
        root=to_pem(root) if root is not None else None,
        chain_complete=root is not None and ends_at(chain[-1] if chain else leaf, root),
        unused_certificates=[to_pem(c) for c in unused],
    )
    return info


# -- other encodings (rendered on the host; the key never leaves it) --------------
def to_der(cert):
    """The certificate in DER."""
    return cert.public_bytes(serialization.Encoding.DER)


def combined_pem(key_pem, cert, chain):
    """Key, certificate and chain in one PEM file, as HAProxy's ``crt`` and Postfix's
    ``smtpd_tls_chain_files`` read it. ``key_pem`` is the key file's bytes as they are."""
    key_pem = key_pem if key_pem.endswith(b"\n") else key_pem + b"\n"
    return key_pem + to_pem(cert).encode("ascii") + "".join(to_pem(c) for c in chain).encode("ascii")


def pkcs12_problem(option="pkcs12_encryption"):
    """None when this cryptography can write PKCS#12 with a chosen encryption, else a sentence
    naming ``option``."""
    if HAS_PKCS12_ENCRYPTION_BUILDER:
        return None
    return ("%s: writing a PKCS#12 file needs cryptography %s or newer on the host (to choose its encryption, "
            "modern or legacy); %s has %s; %s" % (option, MINIMUM_CRYPTOGRAPHY_PKCS12, sys.executable or "python",
                                                  CRYPTOGRAPHY_VERSION, install_hint()))


def _pkcs12_encryption(password, encryption):
    from cryptography.hazmat.primitives.serialization.pkcs12 import PBES
    builder = serialization.PrivateFormat.PKCS12.encryption_builder()
    if encryption == "legacy":
        builder = builder.kdf_rounds(2048).key_cert_algorithm(PBES.PBESv1SHA1And3KeyTripleDESCBC) \
            .hmac_hash(hashes.SHA1())
    else:
        builder = builder.kdf_rounds(100000).key_cert_algorithm(PBES.PBESv2SHA256AndAES256CBC) \
            .hmac_hash(hashes.SHA256())
    return builder.build(password)


def pkcs12_encryption_of(data):
    """``modern`` or ``legacy`` by the algorithms named in PKCS#12 ``data``; None when neither."""
    pbes2, des3 = _OID_PBES2 in data, _OID_3DES in data
    if pbes2 and not des3:
        return "modern"
    if des3 and not pbes2:
        return "legacy"
    return None


def _private_der(key):
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def pkcs12_holds(data, password, key, cert, chain, friendly_name, encryption):
    """True when PKCS#12 ``data`` opens with ``password`` and holds exactly ``key``, ``cert`` (named
    ``friendly_name``) and ``chain`` (in order), encrypted the ``encryption`` way."""
    from cryptography.hazmat.primitives.serialization import pkcs12
    if not data or pkcs12_encryption_of(data) != encryption:
        return False
    try:
        held = pkcs12.load_pkcs12(data, password)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False
    if held.key is None or held.cert is None or _private_der(held.key) != _private_der(key):
        return False
    if held.cert.certificate != cert or held.cert.friendly_name != friendly_name:
        return False
    return [c.certificate for c in held.additional_certs] == list(chain)


def pkcs12_bytes(key_pem, cert, chain, password, encryption="modern", friendly_name=None, existing=None):
    """A PKCS#12 file of the key (PEM bytes, unencrypted), the certificate and the chain, protected
    by ``password`` (str), its certificate named ``friendly_name``. ``existing``: the bytes of the
    file in place, returned as they are when they hold the same (PKCS#12 has random salts).
    Raises ValueError (naming no secret) when the key does not load."""
    from cryptography.hazmat.primitives.serialization import pkcs12
    password = password.encode("utf-8") if isinstance(password, str) else password
    name = friendly_name.encode("utf-8") if isinstance(friendly_name, str) else friendly_name
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError("the private key does not load (is it encrypted?)") from None
    if existing and pkcs12_holds(existing, password, key, cert, chain, name, encryption):
        return existing
    return pkcs12.serialize_key_and_certificates(name, key, cert, list(chain) or None,
                                                 _pkcs12_encryption(password, encryption))
