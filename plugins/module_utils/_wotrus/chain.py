# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificate chains built from signatures, and key/certificate matching.

The API's ``chains_*`` arrays are root first, intermediate last and may hold
a cross certificate between them. A server wants the leaf, then the leaf's
issuer, then that one's issuer ..., without the self-signed root. The order is
found by verifying signatures (``verify_directly_issued_by``), not by array
position. Where cryptography cannot verify a signature (SM2), names and key
identifiers decide.
"""

from __future__ import annotations

import base64
import re
import traceback

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the modules
    x509 = None
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.S)


class ChainError(ValueError):
    pass


def split_pem(value):
    """Certificates from a PEM string (any number of blocks), a list of them, or
    bare base64 DER, as a list of ``x509.Certificate``."""
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
    blocks = PEM_RE.findall(text)
    if not blocks:
        blocks = [text]
    out = []
    for b64 in blocks:
        try:
            der = base64.b64decode(re.sub(r"\s+", "", b64), validate=True)
            out.append(x509.load_der_x509_certificate(der))
        except (ValueError, TypeError) as exc:
            raise ChainError("a certificate in the answer does not parse (%s)" % exc)
    return out


def to_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


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


def issued_by(cert, issuer):
    """True when ``issuer`` signed ``cert``. Falls back to names and key
    identifiers when the signature algorithm is not implemented (SM2)."""
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False
    except UnsupportedAlgorithm:
        aki, ski = _aki(cert), _ski(issuer)
        return aki is None or ski is None or aki == ski


def is_self_signed(cert):
    return cert.issuer == cert.subject and issued_by(cert, cert)


def fingerprint(cert):
    return cert.fingerprint(hashes.SHA256()).hex()


def build_chain(leaf, candidates):
    """Return ``(chain, root, unused)``.

    ``chain`` is leaf-issuer first, each certificate signed by the next, no
    self-signed certificate in it. ``root`` is the self-signed certificate the
    path ends at (or, when the path ends elsewhere, the first self-signed one
    among the candidates). ``unused`` are candidates not on the path.
    A non-self-signed issuer (a cross certificate) is preferred over a
    self-signed one with the same name and key, so older trust stores that
    hold only the cross-signing root still find a path.
    """
    pool = []
    seen = set([fingerprint(leaf)])
    for c in candidates:
        fp = fingerprint(c)
        if fp not in seen:
            seen.add(fp)
            pool.append(c)
    chain, root = [], None
    current = leaf
    used = set()
    while True:
        issuers = [c for c in pool if fingerprint(c) not in used and issued_by(current, c)]
        if not issuers:
            break
        issuers.sort(key=lambda c: 1 if is_self_signed(c) else 0)
        nxt = issuers[0]
        used.add(fingerprint(nxt))
        if is_self_signed(nxt):
            root = nxt
            break
        chain.append(nxt)
        current = nxt
    if root is None:
        # The path ended at a certificate whose issuer is not in the answer:
        # report the answer's self-signed certificate, if any, as the root.
        roots = [c for c in pool if is_self_signed(c)]
        root = roots[0] if roots else None
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
        chain_complete=bool(chain and root is not None and issued_by(chain[-1], root)) or
        bool(not chain and root is not None and issued_by(leaf, root)),
        unused_certificates=[to_pem(c) for c in unused],
    )
    return info


def _sans(cert):
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [str(n) for n in ext.value.get_values_for_type(x509.DNSName)] + \
        [str(n) for n in ext.value.get_values_for_type(x509.IPAddress)]


def cert_facts(cert):
    nb = getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before
    na = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after
    fp = cert.fingerprint(hashes.SHA256()).hex().upper()
    return dict(
        not_before=nb.strftime("%Y-%m-%dT%H:%M:%SZ"),
        not_after=na.strftime("%Y-%m-%dT%H:%M:%SZ"),
        serial_number="%X" % cert.serial_number,
        fingerprint="SHA256:" + ":".join(fp[i:i + 2] for i in range(0, len(fp), 2)),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        subject_alt_names=_sans(cert),
    )


def _spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_of(pem_or_obj, password=None):
    """The SubjectPublicKeyInfo DER of a certificate, CSR, private or public key."""
    obj = pem_or_obj
    if isinstance(obj, (str, bytes)):
        data = obj.encode("utf-8") if isinstance(obj, str) else obj
        if b"CERTIFICATE REQUEST" in data:
            obj = x509.load_pem_x509_csr(data)
        elif b"BEGIN CERTIFICATE" in data:
            obj = x509.load_pem_x509_certificate(data)
        elif b"PRIVATE KEY" in data:
            obj = serialization.load_pem_private_key(data, password=password)
        else:
            obj = serialization.load_pem_public_key(data)
    if hasattr(obj, "public_key"):
        obj = obj.public_key()
    return _spki(obj)


def key_matches(a, b, password=None):
    """True when two of (certificate, CSR, private key, public key) hold the same key."""
    return public_key_of(a, password) == public_key_of(b, password)
