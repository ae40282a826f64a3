# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The certificate role's due logic: what its host-side modules
(certificate_status, certificate_deploy) and its controller-side action
plugin share -- where the staged key and CSR live, and how a certificate on
disk and its order record are judged (due for nothing, new, resume, renew,
reissue, revoke).

The order record's schema, reading and text are ``_wotrus/record.py``'s; the
role's record adds the fields listed there (purpose, key, replaces_serial,
deployed_*, revoke_*, dcv_*). The latest order is "pending" while
``order_id != deployed_order_id``: the next run resumes it (GET, never
Create) -- unless its product, common name or names are no longer the ones
wanted: then it is left as it is (it can be cancelled with
wotrus.pki.wotrus_order state=absent) and the certificate is judged as if
there were no pending order.

Inputs arrive checked and normalised by the role's preflight (names, months,
paths, times); nothing here checks them again. Private keys are read only to
compare public keys; nothing returns key material. Everything X.509 is in
``_x509`` (which runs with the cryptography that distributions ship).
"""

# No `from __future__ import annotations`: this file runs on managed hosts, and one with
# Python 3.6 or 3.7 (ansible-core 2.16 allows them) must get certificate_status's refusal, not a SyntaxError.

import datetime
import hashlib
import os

from ansible_collections.wotrus.pki.plugins.module_utils import _x509
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import inputs, protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import record as records

RECORD_SUFFIX = ".wotrus.json"
STAGED_KEY_SUFFIX = ".pending"
# The directory, beside cert_path, of the versions certificate_deploy keeps (.wotrus/<name>/).
STORE_DIR = ".wotrus"
STAGED_CSR_SUFFIX = ".csr"

DUE_NONE = "none"
DUE_NEW = "new"
DUE_RESUME = "resume"
DUE_RENEW = "renew"
DUE_REISSUE = "reissue"
DUE_REVOKE = "revoke"
# The deployed certificate is fine but an output asked for (combined PEM, PKCS#12, DER) is missing:
# certificate_deploy makes it from the live files, no API call.
DUE_OUTPUTS = "outputs"
# The due values that send a CSR (and so need a key and a CSR on the host).
DUE_WITH_CSR = (DUE_NEW, DUE_RENEW, DUE_REISSUE)

# An order in one of these states will never give a certificate: the next
# run orders again (with another idempotence id).
DEAD_STATUSES = protocol.DEAD_STATUSES


def store_root(cert_path, name):
    """The directory of a certificate's versions (certificate_deploy's store):
    ``<real directory of cert_path>/.wotrus/<name>/``."""
    return os.path.join(os.path.realpath(os.path.dirname(cert_path)), STORE_DIR, name)


def in_store(path, cert_path, name):
    """Whether ``path`` is a link that resolves into the certificate's store (as deployed outputs are)."""
    root = store_root(cert_path, name)
    return os.path.islink(path) and os.path.realpath(path).startswith(root + os.sep)


def default_record_path(cert_path):
    return cert_path + RECORD_SUFFIX


def default_staged_key_path(key_path):
    return key_path + STAGED_KEY_SUFFIX


def staged_csr_path(staged_key_path):
    return staged_key_path + STAGED_CSR_SUFFIX


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


iso = inputs.iso


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except (IOError, OSError):
        return None


def load_cert_file(path):
    certs = _x509.load_certs(read_bytes(path))
    return certs[0] if certs else None


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


def renew_spread_fraction(host, name):
    """A number in [0, 1) that depends only on the host and the certificate's name: where in the
    spread window that certificate renews. The same on every run and every controller."""
    digest = hashlib.sha256(("%s\0%s" % (host or "", name or "")).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / float(1 << 64)


def renew_threshold(not_before, not_after, renew_before_days, renew_before_percent=0):
    """When a certificate becomes due by renew_before_days / renew_before_percent (the earlier of the two)."""
    threshold = not_after - datetime.timedelta(days=float(renew_before_days or 0))
    if renew_before_percent:
        threshold = min(threshold, not_after - (not_after - not_before) * (float(renew_before_percent) / 100.0))
    return threshold


def renew_on(not_before, not_after, renew_before_days, renew_before_percent=0, spread_days=0, host="", name=""):
    """When the certificate is renewed: the threshold, or with a spread, earlier by the certificate's own share
    (renew_spread_fraction) of the window. The window is spread_days, but at most half the time between
    notBefore and the threshold, so a certificate is never renewed before it has lived half of that time
    (short-lived certificates are spread over half their life instead)."""
    threshold = renew_threshold(not_before, not_after, renew_before_days, renew_before_percent)
    if not spread_days:
        return threshold
    window = min(datetime.timedelta(days=float(spread_days)),
                 max(datetime.timedelta(0), (threshold - not_before) / 2))
    return threshold - window * renew_spread_fraction(host, name)


def plan_line(out, spread_days=0):
    """One line for the role's output: what is due, or when the certificate renews."""
    if out["due"] != DUE_NONE:
        return "due: %s" % out["due"]
    if out.get("renew_on"):
        spread = " (spread over %s days)" % spread_days if spread_days else ""
        return "not due, renews on %s%s" % (out["renew_on"], spread)
    return "not due"


def missing_dirs(paths):
    """The directories of ``paths`` that do not exist, sorted, each once."""
    return sorted(set(d for d in (os.path.dirname(x) for x in paths if x) if d and not os.path.isdir(d)))


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


def ordered_at(rec, cert):
    """When the deployed certificate's order was placed, and what says so: the record's
    ``created`` (controller clock, when its order was placed or reissued) when the record's
    order is the deployed one, else its ``deployed_at``, else the certificate's notBefore
    (which CAs backdate, the sandbox by 5 minutes)."""
    if rec.get("order_id") and rec.get("order_id") == rec.get("deployed_order_id"):
        placed = records.placed_at(rec)
        if placed is not None:
            return placed, "ordered"
    deployed = records.placed_at(dict(created=rec.get("deployed_at")))
    if deployed is not None:
        return deployed, "deployed"
    return _x509.not_before(cert), "issued (notBefore)"


def compute_status(p, now=None):
    """The state of one certificate on this host and what is due.

    ``p`` holds the options of certificate_status (paths already defaulted). With
    ``only_order_id`` (the push path, certificate_only_order_id) something is due only for the
    certificate whose order record holds that order, and only a resume (a GET, then deploy when
    issued) or, when the API said that order is revoked (``revoked_order_id``), a new order.
    Anything else is left to the scheduled run: a forged or replayed push can place no order.
    """
    out = _compute_status(p, now)
    out["plan"] = plan_line(out, p.get("renew_spread_days") or 0)
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
    out["plan"] = plan_line(out, p.get("renew_spread_days") or 0)
    return out


def _compute_status(p, now=None):
    """compute_status without the only_order_id filter."""
    now = now or utc_now()
    record = records.read(p["record_path"])
    cert = load_cert_file(p["cert_path"])
    staged_exists = os.path.exists(p["staged_key_path"])
    key_spki = _x509.private_key_spki(p["key_path"])
    out = dict(
        name=p["name"], cert_path=p["cert_path"], key_path=p["key_path"], record_path=p["record_path"],
        staged_key_path=p["staged_key_path"], staged_csr_path=staged_csr_path(p["staged_key_path"]),
        staged_key_exists=staged_exists, record=record, deployed=cert is not None,
        serial=None, not_before=None, not_after=None, renew_on=None, days_left=None, percent_left=None,
        matches_key=None, names_match=None, due=DUE_NONE, why="the certificate is deployed and not due",
        order_id=None, month=int(p["month"]), replaces_serial=None, failed_order_id=None,
        new_key=False, regenerate_key=False, csr_key_path=None, key="current",
    )
    if cert is not None:
        na, nb = _x509.not_after(cert), _x509.not_before(cert)
        renew_at = renew_on(nb, na, p["renew_before_days"], p["renew_before_percent"],
                            p.get("renew_spread_days") or 0, p.get("renew_spread_host"), p["name"])
        life = (na - nb).total_seconds()
        left = (na - now).total_seconds()
        out.update(serial=_x509.serial_hex(cert), not_before=iso(nb), not_after=iso(na),
                   renew_on=iso(renew_at),
                   days_left=round(left / 86400.0, 3),
                   percent_left=round(100.0 * left / life, 2) if life > 0 else 0.0,
                   matches_key=key_spki is not None and _x509.spki(cert) == key_spki)
        cn, sans = _x509.cert_names(cert)
        want = wanted_names(p["common_name"], p["subject_alt_names"])
        out["names_match"] = ((cn or "").lower() == p["common_name"].lower() and
                              set(want) <= set(sans) and set(sans) <= set(want + [p["common_name"].lower()]))
    # An SM2 pair (key_type sm2): the signing certificate above decides expiry, names and renewal; the
    # encryption certificate must be there and hold the key at encrypt_key_path (public keys read by OpenSSL).
    sm2_pair = p.get("key_type") == "sm2" and bool(p.get("encrypt_cert_path"))
    enc_cert = None
    if sm2_pair:
        enc_cert = load_cert_file(p["encrypt_cert_path"])
        enc_key_spki = _x509.private_key_spki(p["encrypt_key_path"])
        enc_staged = p.get("encrypt_staged_key_path") or default_staged_key_path(p["encrypt_key_path"])
        out.update(encrypt_staged_key_path=enc_staged, encrypt_staged_csr_path=staged_csr_path(enc_staged),
                   encrypt_new_key=False, encrypt_serial=None, encrypt_matches_key=None)
        if enc_cert is not None:
            out["encrypt_serial"] = _x509.serial_hex(enc_cert)
            out["encrypt_matches_key"] = enc_key_spki is not None and _x509.spki(enc_cert) == enc_key_spki
    rec = record or {}
    # Records written before serials were shown as openssl does hold them without a leading zero.
    deployed_here = cert is not None and _x509.same_serial(rec.get("deployed_serial"), out["serial"])

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
    issued_before = inputs.parse_time(p.get("reissue_issued_before"), "reissue_issued_before")
    skip_reissue = None
    if p["reissue"] and deployed_here and issued_before is not None:
        ordered, what = ordered_at(rec, cert)
        if ordered >= issued_before:
            skip_reissue = "%s at %s, not before reissue_issued_before %s: not reissued" % (
                what, iso(ordered), iso(issued_before))
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
        elif sm2_pair and enc_cert is None:
            due(DUE_NEW, "no SM2 encryption certificate at %s" % p["encrypt_cert_path"])
        elif sm2_pair and not out["encrypt_matches_key"]:
            due(DUE_NEW, "the SM2 encryption certificate at %s does not match the key at %s"
                % (p["encrypt_cert_path"], p["encrypt_key_path"]))
        elif (rec.get("product_id") or "").upper() != p["product_id"].upper():
            due(DUE_NEW, "the product changed from %s to %s" % (rec.get("product_id"), p["product_id"]))
        elif rec.get("deployed_order_id") and rec.get("deployed_order_id") in (rec.get("revoked_order_id"), revoked_now):
            due(DUE_NEW, "the deployed certificate was revoked (order %s)" % rec.get("deployed_order_id"))
        elif p.get("force_renew"):
            due(DUE_RENEW, "a renewal was forced (force_renew)")
        elif float(out["days_left"] or 0) < float(p["renew_before_days"]):
            due(DUE_RENEW, "%.1f days left, fewer than renew_before_days %s"
                % (float(out["days_left"] or 0), p["renew_before_days"]))
        elif p["renew_before_percent"] and float(out["percent_left"] or 0) < float(p["renew_before_percent"]):
            due(DUE_RENEW, "%.1f%% of the lifetime left, less than renew_before_percent %s"
                % (float(out["percent_left"] or 0), p["renew_before_percent"]))
        elif p.get("renew_spread_days") and now >= renew_at:
            due(DUE_RENEW, "its renewal date %s is reached (renew_spread_days %s: renewed %.1f days before "
                "the renew_before_days/percent threshold)" % (
                    out["renew_on"], p["renew_spread_days"],
                    (renew_threshold(nb, na, p["renew_before_days"], p["renew_before_percent"])
                     - renew_at).total_seconds() / 86400.0))
    # An output that is there but is not a link into the store (a file made by hand, taken over) is
    # replaced as a missing one is.
    missing_outputs = [x for x in p.get("output_paths") or [] if not os.path.exists(x)]
    foreign_outputs = [x for x in p.get("output_paths") or []
                       if os.path.exists(x) and not in_store(x, p["cert_path"], p["name"])]
    if out["due"] == DUE_NONE and deployed_here and out["matches_key"] and (missing_outputs or foreign_outputs):
        why = []
        if missing_outputs:
            why.append("has no %s yet" % ", ".join(missing_outputs))
        if foreign_outputs:
            why.append("does not make %s (not a link into %s)" % (
                ", ".join(foreign_outputs), store_root(p["cert_path"], p["name"])))
        due(DUE_OUTPUTS, "the deployed certificate %s; made from the deployed files (no API call)"
            % " and ".join(why))
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
            # A staged key that is the key in use was left by a deployment killed before it removed it:
            # it must not be taken for the new key (the role makes a new one over it).
            out["regenerate_key"] = bool(staged_exists and key_spki is not None and
                                         _x509.private_key_spki(p["staged_key_path"]) == key_spki)
        # An SM2 reissue sends an encryption CSR of a new key of its own (csR_Encrypt); a Create takes the
        # signing CSR only, and the API certifies the signing key in the encryption certificate too.
        if sm2_pair:
            out["encrypt_new_key"] = out["due"] == DUE_REISSUE
    return out
