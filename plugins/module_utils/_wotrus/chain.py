# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificate chains built from signatures, and key/certificate matching.

The API's ``chains_*`` arrays are root first, intermediate last and may hold
a cross certificate between them. A server wants the leaf, then the leaf's
issuer, then that one's issuer ..., without the self-signed root. The order is
found by verifying signatures (``verify_directly_issued_by``), not by array
position. Where cryptography cannot verify a signature (SM2), names and key
identifiers decide. ``check_path`` is the one check of a leaf-first path
(``describe``'s ``chain_complete`` and certificate_deploy use it).
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


def same_name_and_key(a, b):
    """True when two certificates certify the same subject name and public key
    (a root and a cross certificate of it). Where the key type cannot be
    loaded (SM2) the subject key identifiers decide."""
    if a.subject != b.subject:
        return False
    try:
        return _spki(a.public_key()) == _spki(b.public_key())
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
