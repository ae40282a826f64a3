# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the certificate role's target-side modules (certificate_status,
certificate_deploy) and its controller-side action plugin share: where the
order record and the staged key live, what the record holds, and how a
certificate on disk is judged (due for nothing, new, resume, renew, reissue,
revoke).

The order record is JSON next to the certificate (``<cert_path>.wotrus.json``
by default, mode 0600, no secret in it). It extends
``orders.make_record`` with what the role needs to resume and renew:

* ``order_id`` / ``idempotence_id`` / ``status`` / ``pending_link``: the latest
  order placed for this certificate and what the API last said about it;
* ``purpose`` (new, renew, reissue), ``key`` (``staged``: the CSR was made
  from ``<key_path>.pending``; ``current``: from ``key_path``),
  ``replaces_serial``;
* ``deployed_order_id`` / ``deployed_serial`` / ``deployed_not_after`` /
  ``deployed_at``: what is on disk now.

The latest order is "pending" while ``order_id != deployed_order_id``: the
next run resumes it (GET, never Create) -- unless its product, common name or
names are no longer the ones wanted: then it is left as it is (it can be
cancelled with wotrus.pki.wotrus_order state=absent) and the certificate is
judged as if there were no pending order.

Private keys are read here only to compare public keys; nothing returns
key material.
"""

from __future__ import annotations

import datetime
import json
import os
import traceback

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the modules
    x509 = None
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import protocol

RECORD_SUFFIX = ".wotrus.json"
STAGED_KEY_SUFFIX = ".pending"
STAGED_CSR_SUFFIX = ".csr"

DUE_NONE = "none"
DUE_NEW = "new"
DUE_RESUME = "resume"
DUE_RENEW = "renew"
DUE_REISSUE = "reissue"
DUE_REVOKE = "revoke"
# The due values that send a CSR (and so need a key and a CSR on the host).
DUE_WITH_CSR = (DUE_NEW, DUE_RENEW, DUE_REISSUE)

# An order in one of these states will never give a certificate: the next
# run orders again (with another idempotence id).
DEAD_STATUSES = protocol.DEAD_STATUSES


def default_record_path(cert_path):
    return cert_path + RECORD_SUFFIX


def default_staged_key_path(key_path):
    return key_path + STAGED_KEY_SUFFIX


def staged_csr_path(staged_key_path):
    return staged_key_path + STAGED_CSR_SUFFIX


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(when):
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except (IOError, OSError):
        return None


def read_record(path):
    data = read_bytes(path)
    if data is None:
        return None
    try:
        record = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) else None


def dump_record(record):
    return json.dumps(record, indent=2, sort_keys=True) + "\n"


def load_certs(data):
    """Every certificate of a PEM file's bytes (empty list when none parse)."""
    if not data:
        return []
    try:
        return list(x509.load_pem_x509_certificates(data))
    except (ValueError, TypeError):
        return []


def load_cert_file(path):
    certs = load_certs(read_bytes(path))
    return certs[0] if certs else None


def spki(obj):
    return obj.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def private_key_spki(path):
    """The SubjectPublicKeyInfo of the private key at ``path`` (None when
    absent or unreadable). The key itself is dropped at once."""
    data = read_bytes(path)
    if data is None:
        return None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, Exception):  # pylint: disable=broad-except
        return None
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def not_before(cert):
    return getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def not_after(cert):
    return getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def serial_hex(cert):
    return "%X" % cert.serial_number


def cert_names(cert):
    """(common name, sorted lower-case SANs) of a certificate."""
    cn = None
    try:
        attrs = cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
        cn = attrs[0].value if attrs else None
    except ValueError:
        cn = None
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        sans = [str(n) for n in ext.value.get_values_for_type(x509.DNSName)] + \
            [str(n) for n in ext.value.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        sans = []
    return cn, sorted(set(s.lower() for s in sans))


def wanted_names(common_name, subject_alt_names):
    sans = [s for s in (subject_alt_names or []) if s] or [common_name]
    if common_name not in sans:
        sans = [common_name] + list(sans)
    return sorted(set(s.strip().lower().rstrip(".") for s in sans))


def renewal_month(month, days_left):
    """13/25 when the old certificate still has time to carry over, else the month."""
    month = int(month)
    if days_left is not None and days_left > 0:
        return protocol.RENEWAL_MONTHS.get(month, month)
    return month


def missing_dirs(paths):
    """The directories of ``paths`` that do not exist, sorted, each once."""
    return sorted(set(d for d in (os.path.dirname(x) for x in paths if x) if d and not os.path.isdir(d)))


def parse_time(value):
    """A UTC datetime from ``YYYY-MM-DDTHH:MM:SSZ`` (what the role's preflight hands on), or
    from an ISO 8601 date-time with an offset; None when empty. Without an offset it is UTC."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        when = value
    else:
        text = str(value).strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        when = datetime.datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc)


def pending_order_change(rec, p):
    """How the record's pending order differs from what the certificate now wants (its product,
    common name or names), in words; None when it is the same (or the record does not say)."""
    changes = []
    if rec.get("product_id") and p.get("product_id") and \
            str(rec["product_id"]).strip().upper() != str(p["product_id"]).strip().upper():
        changes.append("product %s, not %s" % (rec["product_id"], p["product_id"]))
    if rec.get("common_name") and \
            str(rec["common_name"]).strip().lower().rstrip(".") != p["common_name"].strip().lower().rstrip("."):
        changes.append("common name %s, not %s" % (rec["common_name"], p["common_name"]))
    if rec.get("hosts"):
        had = wanted_names(rec.get("common_name") or p["common_name"], rec["hosts"])
        want = wanted_names(p["common_name"], p["subject_alt_names"])
        if set(had) != set(want):
            changes.append("names %s, not %s" % (", ".join(had), ", ".join(want)))
    return "; ".join(changes) or None


def compute_status(p, now=None):
    """The state of one certificate on this host and what is due.

    ``p`` holds the options of certificate_status (paths already defaulted). With
    ``only_order_id`` (the push path, certificate_only_order_id) something is due only for the
    certificate whose order record holds that order, and only a resume (a GET, then deploy when
    issued) or, when the API said that order is revoked (``revoked_order_id``), a new order.
    Anything else is left to the scheduled run: a forged or replayed push can place no order.
    """
    out = _compute_status(p, now)
    only = p.get("only_order_id")
    if not only or out["due"] == DUE_NONE:
        return out
    rec = out["record"] or {}
    if only not in (rec.get("order_id"), rec.get("deployed_order_id")):
        why = "skipped: its order record does not hold order %s (certificate_only_order_id)" % only
    elif out["due"] == DUE_RESUME or (out["due"] == DUE_NEW and p.get("revoked_order_id") == only):
        return out
    else:
        why = ("not done for order %s (certificate_only_order_id): %s; the next scheduled run does it"
               % (only, out["why"]))
    out.update(due=DUE_NONE, why=why, order_id=None, failed_order_id=None, month=int(p["month"]),
               replaces_serial=None, new_key=False, csr_key_path=None, key="current")
    return out


def _compute_status(p, now=None):
    """compute_status without the only_order_id filter."""
    now = now or utc_now()
    record = read_record(p["record_path"])
    cert = load_cert_file(p["cert_path"])
    staged_exists = os.path.exists(p["staged_key_path"])
    key_spki = private_key_spki(p["key_path"])
    out = dict(
        name=p["name"], cert_path=p["cert_path"], key_path=p["key_path"], record_path=p["record_path"],
        staged_key_path=p["staged_key_path"], staged_csr_path=staged_csr_path(p["staged_key_path"]),
        staged_key_exists=staged_exists, record=record, deployed=cert is not None,
        serial=None, not_before=None, not_after=None, days_left=None, percent_left=None,
        matches_key=None, names_match=None, due=DUE_NONE, why="the certificate is deployed and not due",
        order_id=None, month=int(p["month"]), replaces_serial=None, failed_order_id=None,
        new_key=False, csr_key_path=None, key="current",
    )
    if cert is not None:
        na, nb = not_after(cert), not_before(cert)
        life = (na - nb).total_seconds()
        left = (na - now).total_seconds()
        out.update(serial=serial_hex(cert), not_before=iso(nb), not_after=iso(na),
                   days_left=round(left / 86400.0, 3),
                   percent_left=round(100.0 * left / life, 2) if life > 0 else 0.0,
                   matches_key=key_spki is not None and spki(cert) == key_spki)
        cn, sans = cert_names(cert)
        want = wanted_names(p["common_name"], p["subject_alt_names"])
        out["names_match"] = ((cn or "").lower() == p["common_name"].lower() and
                              set(want) <= set(sans) and set(sans) <= set(want + [p["common_name"].lower()]))
    rec = record or {}
    deployed_here = bool(cert is not None and rec.get("deployed_serial") and
                         rec.get("deployed_serial", "").upper() == out["serial"])

    def due(value, why):
        out["due"], out["why"] = value, why

    pending = (rec.get("order_id") and rec.get("order_id") != rec.get("deployed_order_id"))
    # An order the API says is revoked (the push path reads it before it runs the role).
    revoked_now = p.get("revoked_order_id") or None
    # A pending order placed for other names or another product is not resumed (a mistyped name
    # stuck in pendingDCV would be resumed forever): the certificate is judged as if there were none.
    pending_dead = protocol.canonical_status(rec.get("status")) in DEAD_STATUSES or rec.get("order_id") == revoked_now
    stale = pending_order_change(rec, p) if pending and not pending_dead else None
    if p["revoke"]:
        target = rec.get("deployed_order_id")
        if not deployed_here or not target:
            due(DUE_NONE, "nothing to revoke: no certificate deployed by this role at %s" % p["cert_path"])
        elif rec.get("revoked_order_id") == target:
            due(DUE_NONE, "order %s is already %s" % (target, rec.get("revoke_status") or "being revoked"))
        else:
            out["order_id"] = target
            due(DUE_REVOKE, "revocation of order %s (serial %s) was asked for" % (target, out["serial"]))
        return out
    if pending and not pending_dead and not stale:
        if rec.get("key") == "staged" and not staged_exists:
            out["failed_order_id"] = rec.get("order_id")
            due(DUE_NEW, "order %s was made for the staged key %s, which is gone; ordering again"
                % (rec.get("order_id"), p["staged_key_path"]))
        else:
            out["order_id"] = rec.get("order_id")
            out["key"] = rec.get("key") or "current"
            due(DUE_RESUME, "order %s (%s) is not deployed yet; resuming it"
                % (rec.get("order_id"), rec.get("status") or "status unknown"))
            return out
    elif pending:
        out["failed_order_id"] = rec.get("order_id")
    issued_before = parse_time(p.get("reissue_issued_before"))
    skip_reissue = None
    if p["reissue"] and deployed_here and issued_before is not None and not_before(cert) >= issued_before:
        skip_reissue = "issued at %s, not before reissue_issued_before %s: not reissued" % (
            out["not_before"], iso(issued_before))
    if out["due"] == DUE_NONE:
        if p["reissue"] and deployed_here and rec.get("deployed_order_id") and not skip_reissue:
            out["order_id"] = rec.get("deployed_order_id")
            due(DUE_REISSUE, "a reissue of order %s with a new key was asked for" % rec.get("deployed_order_id"))
        elif cert is None:
            due(DUE_NEW, "no certificate at %s" % p["cert_path"])
        elif not deployed_here:
            due(DUE_NEW, "the certificate at %s was not deployed by this role (no order record for serial %s)"
                % (p["cert_path"], out["serial"]))
        elif not out["matches_key"]:
            due(DUE_NEW, "the certificate at %s does not match the key at %s" % (p["cert_path"], p["key_path"]))
        elif not out["names_match"]:
            due(DUE_NEW, "the certificate's names differ from common_name/subject_alt_names")
        elif (rec.get("product_id") or "").upper() != p["product_id"].upper():
            due(DUE_NEW, "the product changed from %s to %s" % (rec.get("product_id"), p["product_id"]))
        elif rec.get("deployed_order_id") and rec.get("deployed_order_id") in (rec.get("revoked_order_id"), revoked_now):
            due(DUE_NEW, "the deployed certificate was revoked (order %s)" % rec.get("deployed_order_id"))
        elif float(out["days_left"] or 0) < float(p["renew_before_days"]):
            due(DUE_RENEW, "%.1f days left, fewer than renew_before_days %s"
                % (float(out["days_left"] or 0), p["renew_before_days"]))
        elif p["renew_before_percent"] and float(out["percent_left"] or 0) < float(p["renew_before_percent"]):
            due(DUE_RENEW, "%.1f%% of the lifetime left, less than renew_before_percent %s"
                % (float(out["percent_left"] or 0), p["renew_before_percent"]))
    if skip_reissue:
        out["why"] = "the certificate was %s; %s" % (skip_reissue, out["why"])
    if stale:
        out["why"] = ("order %s (%s) is not resumed: it was placed for %s; it is left as it is (cancel it with "
                      "wotrus.pki.wotrus_order state=absent order_id=%s); %s" % (
                          rec.get("order_id"), rec.get("status") or "status unknown", stale, rec.get("order_id"),
                          out["why"]))
    if out["due"] in DUE_WITH_CSR:
        if out["due"] == DUE_RENEW:
            out["month"] = renewal_month(p["month"], out["days_left"])
        if cert is not None:
            out["replaces_serial"] = out["serial"]
        if out["due"] == DUE_RENEW and p["key_rotation"] == "never" and key_spki is not None:
            out["key"], out["csr_key_path"], out["new_key"] = "current", p["key_path"], False
        else:
            out["key"], out["csr_key_path"], out["new_key"] = "staged", p["staged_key_path"], True
    return out
