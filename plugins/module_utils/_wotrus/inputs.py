# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of user input, done before any API call. Each failure is an
:class:`InputError` that names the option.
"""

# No `from __future__ import annotations`: this file runs on managed hosts, and one with
# Python 3.6 or 3.7 (ansible-core 2.16 allows them) must get certificate_status's refusal, not a SyntaxError.

import base64
import collections
import datetime
import hashlib
import ipaddress
import os
import re
import traceback
import unicodedata
from urllib.parse import urlsplit

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
    from cryptography.x509.oid import NameOID
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the modules
    x509 = None
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.wotrus.pki.plugins.module_utils import _sm2
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import InputError

_DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


class Csr:
    """A parsed CSR: the PEM text, its names and its public key."""

    def __init__(self, pem, obj):
        self.pem = pem
        self.obj = obj

    @property
    def common_name(self):
        attrs = self.obj.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return attrs[0].value if attrs else None

    @property
    def dns_names(self):
        try:
            ext = self.obj.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            return []
        return [str(n) for n in ext.value.get_values_for_type(x509.DNSName)]

    @property
    def ip_addresses(self):
        try:
            ext = self.obj.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            return []
        return [str(n) for n in ext.value.get_values_for_type(x509.IPAddress)]

    @property
    def key_type(self):
        """``rsa``, ``ec``, ``ed25519``/``ed448``, ``dsa``, ``sm2``, or ``other`` (a key
        cryptography cannot load)."""
        if _sm2.is_sm2(self.pem):
            return "sm2"
        try:
            key = self.obj.public_key()
        except (UnsupportedAlgorithm, ValueError):
            return "other"
        for kind, cls in (("rsa", rsa.RSAPublicKey), ("ec", ec.EllipticCurvePublicKey),
                          ("ed25519", ed25519.Ed25519PublicKey), ("ed448", ed448.Ed448PublicKey),
                          ("dsa", dsa.DSAPublicKey)):
            if isinstance(key, cls):
                return kind
        return "other"

    def public_key_der(self):
        if _sm2.is_sm2(self.pem):
            return _sm2.public_key(self.pem)  # cryptography cannot load SM2 keys; OpenSSL reads it
        try:
            return self.obj.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        except (UnsupportedAlgorithm, ValueError):
            # a key type neither reads: hash the CSR instead.
            return self.obj.public_bytes(serialization.Encoding.DER)

    def public_key_sha256(self):
        return hashlib.sha256(self.public_key_der()).hexdigest()


def read_text_file(path, option):
    path = os.path.expanduser(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except (IOError, OSError) as exc:
        raise InputError(option, "cannot read %s: %s" % (path, exc.strerror or exc))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(option, "%s is not a PEM text file" % path)


def load_csr(text, option, require_signature=True):
    """Parse a PEM CSR and check its signature. SM2-with-SM3 signatures, which cryptography
    cannot verify, are checked by OpenSSL (``_sm2``); without an OpenSSL that does SM2 the
    error says what to install."""
    if text is None or not str(text).strip():
        raise InputError(option, "is empty")
    text = str(text).strip() + "\n"
    if "-----BEGIN" not in text:
        raise InputError(option, "is not a PEM CSR (no -----BEGIN CERTIFICATE REQUEST----- line)")
    try:
        obj = x509.load_pem_x509_csr(text.encode("utf-8"))
    except (ValueError, TypeError) as exc:
        raise InputError(option, "does not parse as a PEM certificate signing request (%s)" % exc)
    if _sm2.is_sm2(text):
        if not require_signature:
            return Csr(text, obj)
        try:
            valid = _sm2.csr_signature_ok(text)
        except _sm2.Sm2Error as exc:
            raise InputError(option, "is an SM2 CSR, and its signature cannot be checked here: %s" % exc)
    else:
        try:
            valid = obj.is_signature_valid
        except (UnsupportedAlgorithm, ValueError):
            raise InputError(option, "the CSR's signature algorithm (%s) is not supported: give an RSA, ECDSA or "
                                     "SM2 CSR" % obj.signature_algorithm_oid.dotted_string)
    if require_signature and not valid:
        raise InputError(option, "the CSR's signature does not verify; make the CSR again from its key")
    return Csr(text, obj)


def csr_from_options(params, text_option="csr", path_option="csr_path", required=True):
    text = params.get(text_option)
    path = params.get(path_option)
    if text and path:
        raise InputError(text_option, "give either %s or %s, not both" % (text_option, path_option))
    if path:
        return load_csr(read_text_file(path, path_option), path_option)
    if text:
        return load_csr(text, text_option)
    if required:
        raise InputError(text_option, "a CSR is required: give %s or %s" % (text_option, path_option))
    return None


def normalize_host(host):
    host = str(host).strip().rstrip(".")
    try:
        host = host.encode("idna").decode("ascii") if not host.startswith("*.") else \
            "*." + host[2:].encode("idna").decode("ascii")
    except UnicodeError:
        pass
    return host.lower()


def check_hosts(hosts, option="hosts"):
    """The names of ``hosts``, normalised by :func:`normalize_names` (values only)."""
    return [name.value for name in normalize_names(hosts, option)]


def check_host_name(value, option="common_name"):
    """One DNS name (a leading ``*.`` allowed) or IP address, normalised; else InputError."""
    text = "" if value is None else str(value)
    if not text.strip() or any(c.isspace() or c in ",/\\" for c in text.strip()):
        raise InputError(option, "%r is not a DNS name or IP address" % text)
    return check_hosts([text], option)[0]


def resolve_names(csr, common_name, hosts, cn_option="common_name", hosts_option="hosts", product_id=None):
    """Return ``(common_name, hosts)`` after checking them against the CSR.

    When the CSR names a CN, ``common_name`` must be that CN (case aside);
    when the CSR carries DNS/IP SANs, ``hosts`` must be the same set. Missing
    values are taken from the CSR. Without a CSR, ``common_name`` must be a
    DNS name or IP address unless ``product_id`` is a product whose CN is a
    name (protocol.NAME_CN_PRODUCTS).
    """
    hosts = check_hosts(hosts, hosts_option) if hosts else []
    if csr is None:
        if common_name and str(product_id or "").strip().upper() not in protocol.NAME_CN_PRODUCTS:
            check_host_name(common_name, cn_option)
        return common_name, hosts
    csr_cn = csr.common_name
    if common_name and csr_cn and common_name.strip().lower() != csr_cn.strip().lower():
        raise InputError(cn_option, "%r contradicts the CSR, whose subject CN is %r" % (common_name, csr_cn))
    csr_sans = [normalize_host(n) for n in csr.dns_names + csr.ip_addresses]
    if hosts and csr_sans and sorted(set(hosts)) != sorted(set(csr_sans)):
        missing = sorted(set(hosts) - set(csr_sans))
        extra = sorted(set(csr_sans) - set(hosts))
        raise InputError(hosts_option, "contradicts the CSR's subjectAltName%s%s" % (
            (": not in the CSR %s" % ", ".join(missing)) if missing else "",
            ("; in the CSR only %s" % ", ".join(extra)) if extra else ""))
    common_name = common_name or csr_cn
    if not hosts:
        hosts = csr_sans
    return common_name, hosts


def check_product_id(value, option="product_id"):
    if value is None or not re.match(protocol.PRODUCT_ID_PATTERN, str(value).strip()):
        raise InputError(option, "%r is not a product ID (a GUID like %s)" % (value, protocol.PRODUCT_SSL_EXAMPLE))
    return str(value).strip().upper()


def check_month(value, option="month"):
    try:
        month = int(value)
    except (TypeError, ValueError):
        month = None
    if month not in protocol.MONTHS:
        raise InputError(option, "must be one of %s (13 and 25 are renewals), got %r"
                         % (", ".join(str(m) for m in protocol.MONTHS), value))
    return month


def check_idempotence_id(value, option="idempotence_id"):
    """A given idempotence id; an empty one is an error (unset derives one)."""
    if value is None or not str(value).strip():
        raise InputError(option, "is empty; leave it unset to derive one from the order's inputs, or give "
                                 "1 to %d characters of A-Z a-z 0-9 . _ : -" % protocol.IDEMPOTENCE_ID_MAX_LENGTH)
    value = str(value).strip()
    if not re.match(protocol.IDEMPOTENCE_ID_PATTERN, value):
        raise InputError(option, "must be 1 to %d characters of A-Z a-z 0-9 . _ : -"
                         % protocol.IDEMPOTENCE_ID_MAX_LENGTH)
    return value


def check_order_id(value, option="order_id"):
    """One order ID (protocol.ORDER_ID_PATTERN).

    A list or a dict is refused by name: Ansible's ``type: str`` turns a YAML
    list into the text ``"['a', 'b']"``, which must never be sent."""
    if isinstance(value, (list, tuple, dict)):
        raise InputError(option, "must be one order ID, not a %s" % type(value).__name__)
    text = "" if value is None else str(value).strip()
    if text[:1] in ("[", "{"):
        raise InputError(option, "must be one order ID, not a list or a dict (got %s)" % text)
    if not re.match(protocol.ORDER_ID_PATTERN, text):
        raise InputError(option, "%r is not an order ID (letters, digits and . _ : -, such as %s)"
                         % (text, protocol.PRODUCT_SSL_EXAMPLE))
    return text


def check_api_url(value, option="api_url"):
    """The API's base URL without a trailing ``/``, under protocol.PLAIN_HTTP_RULE."""
    url = (value or protocol.DEFAULT_API_URL)
    url = str(url).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InputError(option, "must be %s; got %r" % (protocol.PLAIN_HTTP_RULE, url))
    try:
        parts.port  # pylint: disable=pointless-statement  # raises on a port out of range
    except ValueError:
        raise InputError(option, "has a port that is not a number from 1 to 65535; got %r" % url)
    if parts.scheme == "http" and not protocol.plain_http_allowed(parts.hostname):
        raise InputError(option, "must be %s (the token would travel in clear); got %r"
                         % (protocol.PLAIN_HTTP_RULE, url))
    return url


def check_text(value, option, max_length=None):
    """A free text field: no control or format characters, at most ``max_length`` characters."""
    text = str(value)
    for char in text:
        if unicodedata.category(char) in protocol.FORBIDDEN_CHAR_CATEGORIES:
            raise InputError(option, "holds the control or format character U+%04X (%s); remove it"
                             % (ord(char), unicodedata.name(char, "unnamed")))
    if max_length is not None and len(text) > max_length:
        raise InputError(option, "is %d characters long; the API takes at most %d" % (len(text), max_length))
    return text


def check_reason(value, option="reason"):
    """A cancel / revoke / reissue reason: not empty, no control or format character, at most
    protocol.REASON_MAX_LENGTH characters. Returns it stripped."""
    text = "" if value is None else str(value).strip()
    if not text:
        raise InputError(option, "is empty")
    return check_text(text, option, protocol.REASON_MAX_LENGTH)


def check_country_code(value, option="organization.country_code"):
    if value is None or value == "":
        return value
    value = str(value).strip()
    if not re.match(r"^[A-Za-z]{2}$", value):
        raise InputError(option, "must be a two-letter ISO 3166 code such as CN or US, got %r" % value)
    return value.upper()


def load_file(path, option, file_types=None, max_bytes=None):
    """Read a document or proof file and return ``(fileType, base64 text)``.

    The extension must be one the API knows (``.jpg``/``.jpeg``, ``.gif``,
    ``.pdf``), the leading bytes must match it and the size must be under
    ``protocol.MAX_FILE_BYTES``.
    """
    file_types = file_types or protocol.FILE_TYPES
    max_bytes = protocol.MAX_FILE_BYTES if max_bytes is None else max_bytes
    path = os.path.expanduser(str(path))
    ext = os.path.splitext(path)[1].lower()
    if ext == ".jpeg":
        ext = ".jpg"
    if ext not in file_types:
        raise InputError(option, "%s: the API takes %s files only" % (path, ", ".join(sorted(file_types))))
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise InputError(option, "cannot read %s: %s" % (path, exc.strerror or exc))
    if size == 0:
        raise InputError(option, "%s is empty" % path)
    if size > max_bytes:
        raise InputError(option, "%s is %d bytes; the largest file sent is %d bytes" % (path, size, max_bytes))
    try:
        with open(path, "rb") as f:
            content = f.read()
    except (IOError, OSError) as exc:
        raise InputError(option, "cannot read %s: %s" % (path, exc.strerror or exc))
    if not any(content.startswith(magic) for magic in file_types[ext]):
        kinds = [k for k, magics in protocol.FILE_TYPES.items() if any(content.startswith(m) for m in magics)]
        raise InputError(option, "%s is named %s but its content is %s" % (
            path, ext, ("a %s file" % kinds[0]) if kinds else "not a %s file" % ext))
    return ext, base64.b64encode(content).decode("ascii")


def load_documents(documents, option="documents"):
    """``[{type, path}]`` -> ``documentsPost`` items."""
    out = []
    for i, doc in enumerate(documents or []):
        name = "%s[%d]" % (option, i)
        dtype = (doc or {}).get("type")
        if dtype not in protocol.DOCUMENT_TYPES:
            raise InputError(name + ".type", "must be one of %s" % ", ".join(sorted(protocol.DOCUMENT_TYPES)))
        if not doc.get("path"):
            raise InputError(name + ".path", "is required")
        file_type, content = load_file(doc["path"], name + ".path")
        out.append({"documentType": protocol.DOCUMENT_TYPES[dtype], "fileType": file_type, "fileContent": content})
    return out


def organization_post(organization, option="organization"):
    """Snake-case organisation options -> ``organizationPost`` (camelCase keys)."""
    if not organization:
        return None
    org = {}
    for key, value in organization.items():
        if value is None:
            continue
        if key not in protocol.ORGANIZATION_KEYS:
            raise InputError("%s.%s" % (option, key), "is not a known organisation field")
        name = "%s.%s" % (option, key)
        if isinstance(value, (list, dict)):
            raise InputError(name, "must be a text, not a %s" % type(value).__name__)
        value = check_text(value, name, protocol.ORGANIZATION_FIELD_MAX_LENGTH)
        if key in protocol.ORGANIZATION_EMAIL_KEYS and value and not re.match(protocol.EMAIL_PATTERN, value.strip()):
            raise InputError(name, "%r is not an e-mail address" % value)
        if key == "country_code":
            value = check_country_code(value, "%s.country_code" % option)
        if key == "business_category" and value not in protocol.BUSINESS_CATEGORIES:
            raise InputError("%s.business_category" % option,
                             "must be one of %s" % ", ".join(protocol.BUSINESS_CATEGORIES))
        org[protocol.ORGANIZATION_KEYS[key]] = value
    if org and not org.get("orgName"):
        raise InputError("%s.org_name" % option, "is required when organization is given")
    return org


# -- names and times: the one place each is read -----------------------------
Name = collections.namedtuple("Name", "kind value")
"""One certificate name: ``kind`` is ``DNS`` or ``IP``; ``str(name.typed)``-like
``DNS:www.example.com`` comes from :func:`typed_names`."""


def normalize_names(names, option="hosts"):
    """Check and normalise certificate names: DNS names lower case, IDNA
    (punycode), no root dot, a leading ``*.`` allowed; IP addresses in their
    canonical text. A name of digits and dots, or with ``:``, must be an IP
    address. Duplicates are dropped, order kept. Returns ``[Name]``; raises
    InputError naming ``option`` (and the index) for the first bad name."""
    out = []
    for i, raw in enumerate(names or []):
        where = "%s[%d]" % (option, i) if len(names) > 1 else option
        if not isinstance(raw, str) or not raw.strip():
            raise InputError(where, "%r is not a DNS name or IP address" % (raw,))
        text = raw.strip()
        try:
            name = Name("IP", str(ipaddress.ip_address(text.strip("[]"))))
        except ValueError:
            host = normalize_host(text)
            labels = host[2:].split(".") if host.startswith("*.") else host.split(".")
            if (":" in host or re.match(r"^[0-9.]+$", host) or len(host) > 253
                    or not all(_DNS_LABEL.match(x) for x in labels)):
                raise InputError(where, "%r is not a DNS name or IP address" % raw)
            name = Name("DNS", host)
        if name not in out:
            out.append(name)
    return out


def typed_names(names):
    """``["DNS:www.example.com", "IP:192.0.2.1"]`` (what a CSR's subjectAltName wants)."""
    return ["%s:%s" % (name.kind, name.value) for name in names]


_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def parse_time(value, option="time", default_tz=datetime.timezone.utc):
    """An aware UTC datetime from an ISO 8601 date-time (``Z``, an offset, or
    none: then ``default_tz``); None for None or "". Fractions beyond
    microseconds are cut. Raises InputError naming ``option`` otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        when = value
    else:
        text = str(value).strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        if "." in text:  # Python before 3.11 (hosts run this) takes exactly 3 or 6 fractional digits
            head, rest = text.split(".", 1)
            digits = re.match(r"^\d*", rest).group(0)
            text = head + ("." + (digits + "00000")[:6] if digits else "") + rest[len(digits):]
        try:
            if not _TIME_RE.match(text):
                raise ValueError(text)
            when = datetime.datetime.fromisoformat(text)
        except ValueError:
            raise InputError(option, "must be an ISO 8601 date-time such as 2026-03-01T08:00:00Z (UTC when it has "
                                     "no offset), got %r" % (value,))
    if when.tzinfo is None:
        when = when.replace(tzinfo=default_tz)
    return when.astimezone(datetime.timezone.utc)


def iso(when):
    """``YYYY-MM-DDTHH:MM:SSZ`` of an aware datetime (the form records and plans hold)."""
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
