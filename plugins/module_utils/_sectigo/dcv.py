# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a host publishes to prove control of a domain by CSR hash (Sectigo).

``!getPostPaymentStatus`` gives, in ``data.dcvStatus``, the ``MD5`` and
``SHA256`` hashes of the DER-encoded CSR and an optional ``uniqueValue``. The
values to publish are built the way Sectigo documents CSR-hash DCV:

* HTTP/HTTPS file, https://www.sectigo.com/knowledge-base/detail/complete-domain-validation-using-http-http-s-method
  ``/.well-known/pki-validation/<MD5 in upper case>.txt`` holding the lines
  ``<SHA256>``, ``sectigo.com`` and, when given, ``<uniqueValue>``
  (request-token components: https://docs.sectigo.com/sps/domain-control-validation/request-token).
  Not usable for wildcard names.
* CNAME, https://www.sectigo.com/faqs/detail/complete-dv-using-cname-method
  ``_<MD5>.<domain>`` CNAME ``<SHA256[:32]>.<SHA256[32:]>.[<uniqueValue>.]sectigo.com``.
  For ``*.example.com`` the record is made under ``example.com``.

The target domain is ``sectigo.com`` (WoTrus API change log V1.07; formerly
``comodoca.com``). Nothing here imports Ansible.
"""

from __future__ import annotations

import hashlib
import re

DCV_TARGET_DOMAIN = "sectigo.com"
HTTP_FILE_DIR = "/.well-known/pki-validation/"

_MD5_RE = re.compile(r"^[0-9A-Fa-f]{32}$")
_SHA256_RE = re.compile(r"^[0-9A-Fa-f]{64}$")
_UNIQUE_RE = re.compile(r"^[0-9A-Za-z]{1,20}$")


class DcvValueError(ValueError):
    """The hashes in the answer cannot make valid DCV values."""


def csr_hashes(csr_der):
    """``(MD5, SHA256)`` of a DER CSR in upper-case hex, as Sectigo shows them."""
    return (hashlib.md5(csr_der).hexdigest().upper(),
            hashlib.sha256(csr_der).hexdigest().upper())


def check_hashes(md5, sha256, unique_value=None):
    """Normalise and check the three values; raise DcvValueError with the reason."""
    md5 = (md5 or "").strip()
    sha256 = (sha256 or "").strip()
    unique_value = (unique_value or "").strip() or None
    if not _MD5_RE.match(md5):
        raise DcvValueError("MD5 %r is not 32 hex digits" % md5)
    if not _SHA256_RE.match(sha256):
        raise DcvValueError("SHA256 %r is not 64 hex digits" % sha256)
    if unique_value is not None and not _UNIQUE_RE.match(unique_value):
        raise DcvValueError("uniqueValue %r is not 1 to 20 letters and digits" % unique_value)
    return md5, sha256, unique_value


def http_file_path(md5):
    return HTTP_FILE_DIR + md5.upper() + ".txt"


def http_file_lines(sha256, unique_value=None):
    lines = [sha256, DCV_TARGET_DOMAIN]
    if unique_value:
        lines.append(unique_value)
    return lines


def cname_target(sha256, unique_value=None):
    labels = [sha256[:32], sha256[32:]]
    if unique_value:
        labels.append(unique_value)
    labels.append(DCV_TARGET_DOMAIN)
    return ".".join(labels)


def domain_values(domain, md5, sha256, unique_value=None):
    """The CSR-hash DCV values of one domain (hashes already checked).

    Wildcard names get no HTTP file (Sectigo does not accept file-based DCV for
    them); their CNAME goes under the name without ``*.``.
    """
    name = domain.strip().rstrip(".").lower()
    wildcard = name.startswith("*.")
    base = name[2:] if wildcard else name
    values = {
        "cname_name": "_%s.%s" % (md5, base),
        "cname_target": cname_target(sha256, unique_value),
        "http_file_path": None,
        "http_file_content": None,
        "http_url": None,
        "https_url": None,
    }
    if not wildcard:
        path = http_file_path(md5)
        # No trailing newline: exactly the documented lines.
        values["http_file_content"] = "\n".join(http_file_lines(sha256, unique_value))
        values["http_file_path"] = path
        values["http_url"] = "http://%s%s" % (base, path)
        values["https_url"] = "https://%s%s" % (base, path)
    return values


# -- Which CSR-hash methods a name allows, and how a served file is compared ----
# (also the sandbox's rules: sandbox/wotrus_sandbox imports these, so the
# Sectigo stand-in offers and checks exactly what the collection publishes)

# The option names of a ``csrHash`` method in the status answer's
# ``dcvStatus.domains[].methods``, and ``selectedMethod`` once one is used.
METHOD_CNAME = "CNAME CSR Hash"
METHOD_HTTP = "HTTP CSR Hash"
METHOD_HTTPS = "HTTPS CSR Hash"


def dcv_domain(name):
    """A name as DCV sees it: no surrounding space, no trailing dot, lower case."""
    return name.strip().rstrip(".").lower()


def base_domain(name):
    """The name a record or a mailbox goes under: ``*.example.com`` -> ``example.com``."""
    name = dcv_domain(name)
    return name[2:] if name.startswith("*.") else name


def http_file_allowed(name):
    """False for wildcard names: Sectigo validates them by CNAME (or e-mail) only."""
    return not dcv_domain(name).startswith("*.")


def csr_hash_methods(name):
    """The CSR-hash methods Sectigo offers for a name, as the status answer lists them."""
    if http_file_allowed(name):
        return [METHOD_CNAME, METHOD_HTTP, METHOD_HTTPS]
    return [METHOD_CNAME]


def http_file_matches(body, sha256, unique_value=None):
    """Whether a served validation file says what ``http_file_lines`` says.

    Assumption (Sectigo documents the lines, not how strictly it reads them):
    trailing whitespace of each line (so CRLF line ends) and trailing empty
    lines are ignored; anything else must be exact.
    """
    got = [line.rstrip() for line in body.splitlines()]
    while got and not got[-1]:
        got.pop()
    return got == http_file_lines(sha256, unique_value)


# -- the files an order's HTTP validation needs (the role's certificate_dcv http) --
DONE_STATES = ("completed", "validated")


def http_validation_files(summary, names, webroot):
    """``{host path: (content, [names], [http URLs])}`` of the names Sectigo has not
    validated yet, from a ``status.summarize`` result of ``!getPostPaymentStatus``.
    ``names`` are the certificate's names (used when the answer lists no domains),
    ``webroot`` the directory each name serves over plain HTTP. Raises DcvValueError
    when the answer has no usable CSR-hash values or a name is a wildcard."""
    hashes = summary["csr_hash"]
    if not hashes.get("md5") or not hashes.get("sha256"):
        raise DcvValueError("no MD5/SHA256 in dcvStatus")
    domains = summary["domains"] or [
        dict(domain_name=name, dcv_status=None,
             **domain_values(name, hashes["md5"], hashes["sha256"], hashes["unique_value"]))
        for name in names]
    files = {}
    root = "/" + webroot.strip("/") if webroot.strip("/") else ""
    for domain in domains:
        if str(domain.get("dcv_status") or "").lower() in DONE_STATES:
            continue
        if not domain.get("http_file_path"):
            raise DcvValueError("%s cannot be validated with an HTTP file (a wildcard name): use certificate_dcv "
                                "none and validate it by CNAME" % domain["domain_name"])
        path = root + "/" + domain["http_file_path"].lstrip("/")
        entry = files.setdefault(path, (domain["http_file_content"], [], []))
        entry[1].append(domain["domain_name"])
        entry[2].append(domain["http_url"])
    return files
