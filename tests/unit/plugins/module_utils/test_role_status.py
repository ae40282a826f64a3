# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_role_status.compute_status: every ``due`` outcome, on files in a temp dir."""

from __future__ import annotations

import datetime
import json
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.wotrus.pki.plugins.module_utils import _role_status as role_status
from ansible_collections.wotrus.pki.plugins.module_utils import _x509
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import inputs
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import record as records

NOW = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
PRODUCT = "30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D"
OTHER_PRODUCT = "8F6A3C1D-2B4E-4C5F-9A7B-1D2E3F4A5B6C"
CN = "www.example.com"
SANS = ("www.example.com", "example.com")


def new_key():
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_cert(key, cn=CN, sans=SANS, days_before=300, days_after=65, serial=0x1234ABCD):
    """A self-signed leaf, valid from NOW - days_before to NOW + days_after."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(serial)
               .not_valid_before(NOW - datetime.timedelta(days=days_before))
               .not_valid_after(NOW + datetime.timedelta(days=days_after)))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), False)
    return builder.sign(key, hashes.SHA256())


class Host(object):
    """One certificate's files on a 'host' (a temp dir)."""

    def __init__(self, tmp_path):
        self.dir = tmp_path
        self.cert_path = str(tmp_path / "www.crt")
        self.key_path = str(tmp_path / "www.key")
        self.record_path = role_status.default_record_path(self.cert_path)
        self.staged_key_path = role_status.default_staged_key_path(self.key_path)
        self.key = None
        self.cert = None

    def params(self, **kw):
        p = dict(name="www", cert_path=self.cert_path, key_path=self.key_path, record_path=self.record_path,
                 staged_key_path=self.staged_key_path, common_name=CN, subject_alt_names=list(SANS),
                 product_id=PRODUCT, month=12, renew_before_days=30, renew_before_percent=0,
                 key_rotation="always", reissue=False, revoke=False)
        p.update(kw)
        return p

    def status(self, **kw):
        return role_status.compute_status(self.params(**kw), now=NOW)

    def write_key(self, key=None):
        self.key = key or new_key()
        with open(self.key_path, "wb") as f:
            f.write(key_pem(self.key))
        return self.key

    def write_cert(self, cert):
        self.cert = cert
        with open(self.cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        return cert

    def write_record(self, **kw):
        rec = dict(order_id="ORDER-1", deployed_order_id="ORDER-1", idempotence_id="idem-1", product_id=PRODUCT,
                   status="issued", key="staged", month=12)
        if self.cert is not None:
            rec["deployed_serial"] = _x509.serial_hex(self.cert)
        rec.update(kw)
        with open(self.record_path, "w") as f:
            f.write(records.dumps(rec))
        return rec

    def deploy(self, **cert_kw):
        """A certificate deployed by the role: key, matching cert, record."""
        key = self.write_key()
        self.write_cert(make_cert(key, **cert_kw))
        return self.write_record()

    def stage_key(self):
        with open(self.staged_key_path, "wb") as f:
            f.write(key_pem(new_key()))


@pytest.fixture
def host(tmp_path):
    return Host(tmp_path)


# -- none ---------------------------------------------------------------------

def test_deployed_and_not_due(host):
    host.deploy()
    st = host.status()
    assert st["due"] == role_status.DUE_NONE, st["why"]
    assert st["deployed"] is True and st["matches_key"] is True and st["names_match"] is True
    assert st["serial"] == "1234ABCD"
    assert st["days_left"] == pytest.approx(65, abs=0.01)
    assert st["percent_left"] == pytest.approx(100.0 * 65 / 365, abs=0.01)
    assert st["new_key"] is False and st["csr_key_path"] is None and st["order_id"] is None
    assert st["replaces_serial"] is None and st["month"] == 12
    assert st["staged_csr_path"] == host.staged_key_path + ".csr"


def test_serial_comparison_ignores_case(host):
    host.deploy()
    host.write_record(deployed_serial="1234abcd")
    assert host.status()["due"] == role_status.DUE_NONE


def test_serial_shown_as_openssl_does_and_old_records_still_match(host):
    host.deploy(serial=0x59B)
    assert host.status()["serial"] == "059B"
    # A record written before serials kept their leading zero.
    host.write_record(deployed_serial="59B")
    st = host.status()
    assert st["due"] == role_status.DUE_NONE, st["why"]
    host.write_record(deployed_serial="59C")
    assert host.status()["due"] == role_status.DUE_NEW


# -- new ----------------------------------------------------------------------

def test_nothing_on_disk_is_new_with_a_new_key(host):
    st = host.status(key_rotation="never")
    assert st["due"] == role_status.DUE_NEW and "no certificate at %s" % host.cert_path in st["why"]
    assert st["deployed"] is False and st["record"] is None
    # A new certificate always gets a new key, whatever key_rotation says.
    assert st["new_key"] is True and st["key"] == "staged" and st["csr_key_path"] == host.staged_key_path
    assert st["replaces_serial"] is None and st["month"] == 12


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe\x00garbage", b"[1, 2]", b"\"a string\"", b""])
def test_missing_or_corrupt_record_means_not_deployed_by_this_role(host, content):
    key = host.write_key()
    host.write_cert(make_cert(key))
    with open(host.record_path, "wb") as f:
        f.write(content)
    st = host.status()
    assert st["record"] is None
    assert st["due"] == role_status.DUE_NEW and "was not deployed by this role" in st["why"]
    assert "serial 1234ABCD" in st["why"]
    assert st["replaces_serial"] == "1234ABCD" and st["new_key"] is True


def test_record_for_another_serial_is_new(host):
    host.deploy()
    host.write_record(deployed_serial="DEADBEEF")
    st = host.status()
    assert st["due"] == role_status.DUE_NEW and "not deployed by this role" in st["why"]


def test_unparsable_certificate_is_new(host):
    host.write_key()
    with open(host.cert_path, "wb") as f:
        f.write(b"-----BEGIN CERTIFICATE-----\nnonsense\n-----END CERTIFICATE-----\n")
    st = host.status()
    assert st["deployed"] is False and st["due"] == role_status.DUE_NEW and "no certificate" in st["why"]


def test_certificate_and_key_mismatch_is_new(host):
    host.deploy()
    host.write_key()  # another key at key_path
    st = host.status(key_rotation="never")
    assert st["matches_key"] is False
    assert st["due"] == role_status.DUE_NEW and "does not match the key at %s" % host.key_path in st["why"]
    assert st["new_key"] is True and st["csr_key_path"] == host.staged_key_path


def test_missing_key_is_new(host):
    host.deploy()
    os.unlink(host.key_path)
    st = host.status()
    assert st["matches_key"] is False and st["due"] == role_status.DUE_NEW


def test_changed_names_are_new(host):
    host.deploy()
    st = host.status(subject_alt_names=list(SANS) + ["api.example.com"])
    assert st["names_match"] is False and st["due"] == role_status.DUE_NEW and "names differ" in st["why"]
    st = host.status(common_name="example.com", subject_alt_names=["example.com"])
    assert st["due"] == role_status.DUE_NEW
    # Case and order of the names do not matter.
    assert host.status(subject_alt_names=["EXAMPLE.com", "www.example.com"])["due"] == role_status.DUE_NONE


def test_changed_product_is_new(host):
    host.deploy()
    st = host.status(product_id=OTHER_PRODUCT)
    assert st["due"] == role_status.DUE_NEW and "product changed" in st["why"]
    assert host.status(product_id=PRODUCT.lower())["due"] == role_status.DUE_NONE


def test_revoked_certificate_is_new(host):
    host.deploy()
    host.write_record(revoked_order_id="ORDER-1", revoke_status="revoked")
    st = host.status()
    assert st["due"] == role_status.DUE_NEW and "revoked" in st["why"]


# -- resume -------------------------------------------------------------------

@pytest.mark.parametrize("status", ["pendingDCV", "pending", "pendingCAIssued", None])
def test_pending_order_is_resumed(host, status):
    host.deploy()
    host.stage_key()
    host.write_record(order_id="ORDER-2", status=status, key="staged", pending_link="https://x/y.html")
    st = host.status()
    assert st["due"] == role_status.DUE_RESUME, st["why"]
    assert st["order_id"] == "ORDER-2" and st["key"] == "staged"
    assert st["new_key"] is False and st["csr_key_path"] is None
    assert "ORDER-2" in st["why"]


def test_pending_order_without_a_deployed_certificate_is_resumed(host):
    host.stage_key()
    with open(host.record_path, "w") as f:
        json.dump(dict(order_id="ORDER-9", idempotence_id="i", status="pendingDCV", key="staged",
                       product_id=PRODUCT), f)
    st = host.status()
    assert st["due"] == role_status.DUE_RESUME and st["order_id"] == "ORDER-9"


def test_pending_order_for_the_current_key_is_resumed_without_staged_key(host):
    host.deploy()
    host.write_record(order_id="ORDER-2", status="pendingDCV", key="current")
    st = host.status()
    assert st["due"] == role_status.DUE_RESUME and st["key"] == "current"


def test_pending_order_whose_staged_key_is_gone_is_ordered_again(host):
    host.deploy()
    host.write_record(order_id="ORDER-2", status="pendingDCV", key="staged")
    st = host.status()
    assert st["due"] == role_status.DUE_NEW and "which is gone" in st["why"]
    assert st["failed_order_id"] == "ORDER-2" and st["new_key"] is True


@pytest.mark.parametrize("status", ["rejected", "closed", "revoked", "pendingRevoke"])
def test_dead_pending_order_is_not_resumed(host, status):
    host.stage_key()
    with open(host.record_path, "w") as f:
        json.dump(dict(order_id="ORDER-3", status=status, key="staged", product_id=PRODUCT), f)
    st = host.status()
    assert st["due"] == role_status.DUE_NEW and st["failed_order_id"] == "ORDER-3" and st["order_id"] is None


def test_dead_pending_order_beside_a_good_certificate_is_nothing(host):
    host.deploy()
    host.write_record(order_id="ORDER-3", status="rejected")
    st = host.status()
    assert st["due"] == role_status.DUE_NONE and st["failed_order_id"] == "ORDER-3"


# -- the push path: only_order_id, revoked_order_id (playbooks/on_push.yml) ------------

def test_only_order_id_resumes_the_pending_order_it_names(host):
    host.deploy()
    host.stage_key()
    host.write_record(order_id="ORDER-2", status="pendingDCV", key="staged")
    st = host.status(only_order_id="ORDER-2")
    assert st["due"] == role_status.DUE_RESUME and st["order_id"] == "ORDER-2", st["why"]


def test_only_order_id_skips_a_pending_order_it_does_not_name(host):
    host.deploy()
    host.stage_key()
    host.write_record(order_id="ORDER-2", status="pendingDCV", key="staged")
    st = host.status(only_order_id="ORDER-FORGED")
    assert st["due"] == role_status.DUE_NONE and st["order_id"] is None
    assert "does not hold order ORDER-FORGED" in st["why"]


@pytest.mark.parametrize("setup", ["nothing", "renew", "staged_key_gone", "record_for_other_order"])
def test_only_order_id_never_places_an_order(host, setup):
    """What a scheduled run would order is not done by a push: a forged or replayed push causes at most a GET."""
    if setup == "nothing":
        with open(host.record_path, "w") as f:
            json.dump(dict(order_id="ORDER-1", status="issued", key="staged", product_id=PRODUCT), f)
    elif setup == "renew":
        host.deploy(days_after=5)
    elif setup == "staged_key_gone":
        host.deploy()
        host.write_record(order_id="ORDER-2", status="pendingDCV", key="staged")
    else:
        host.deploy(days_after=5)
        host.write_record(order_id="ORDER-7", deployed_order_id="ORDER-7")
    assert host.status()["due"] in (role_status.DUE_NEW, role_status.DUE_RENEW) or setup == "nothing"
    pushed = "ORDER-2" if setup == "staged_key_gone" else "ORDER-1"
    st = host.status(only_order_id=pushed)
    assert st["due"] == role_status.DUE_NONE, st["why"]
    assert st["new_key"] is False and st["csr_key_path"] is None and st["replaces_serial"] is None


def test_a_deployed_order_the_api_says_is_revoked_gets_a_new_certificate(host):
    host.deploy()
    assert host.status(only_order_id="ORDER-1")["due"] == role_status.DUE_NONE
    st = host.status(only_order_id="ORDER-1", revoked_order_id="ORDER-1")
    assert st["due"] == role_status.DUE_NEW and "revoked (order ORDER-1)" in st["why"], st["why"]
    assert st["new_key"] is True and st["replaces_serial"] == "1234ABCD"
    # The revocation of another order changes nothing here.
    assert host.status(only_order_id="ORDER-9", revoked_order_id="ORDER-9")["due"] == role_status.DUE_NONE


def test_a_pending_order_the_api_says_is_revoked_is_not_resumed(host):
    host.stage_key()
    with open(host.record_path, "w") as f:
        json.dump(dict(order_id="ORDER-3", status="pendingCAIssued", key="staged", product_id=PRODUCT), f)
    st = host.status(only_order_id="ORDER-3", revoked_order_id="ORDER-3")
    assert st["due"] == role_status.DUE_NEW and st["failed_order_id"] == "ORDER-3"


def pending_record(host, **kw):
    """A record as the role writes it: a pending order for the names and product it was placed for."""
    host.stage_key()
    rec = dict(order_id="ORDER-5", idempotence_id="idem-5", status="pendingDCV", key="staged", product_id=PRODUCT,
               common_name=CN, hosts=list(SANS), month=12, pending_link="https://x/y.html")
    rec.update(kw)
    with open(host.record_path, "w") as f:
        f.write(records.dumps(rec))
    return rec


def test_pending_order_for_the_same_inputs_is_resumed(host):
    pending_record(host, hosts=["EXAMPLE.com", "www.example.com."])  # case, order, root dot aside
    st = host.status(subject_alt_names=["example.com", "www.example.com"])
    assert st["due"] == role_status.DUE_RESUME and st["order_id"] == "ORDER-5", st["why"]


@pytest.mark.parametrize("change,kw,words", [
    ("mistyped name", dict(hosts=[CN, "exmaple.com"]), "names exmaple.com, www.example.com, not example.com, www"),
    ("other product", dict(product_id=OTHER_PRODUCT), "product %s, not %s" % (OTHER_PRODUCT, PRODUCT)),
    ("other common name", dict(common_name="example.com", hosts=["example.com"]), "common name example.com"),
])
def test_pending_order_for_other_inputs_is_not_resumed(host, change, kw, words):
    pending_record(host, **kw)
    st = host.status()
    assert st["due"] == role_status.DUE_NEW, (change, st["why"])
    assert st["order_id"] is None and st["failed_order_id"] == "ORDER-5"
    assert words in st["why"] and "order ORDER-5 (pendingDCV) is not resumed" in st["why"]
    assert "wotrus.pki.wotrus_order state=absent order_id=ORDER-5" in st["why"]
    assert "no certificate at" in st["why"]
    assert st["new_key"] is True and st["csr_key_path"] == host.staged_key_path


def test_pending_order_for_other_names_beside_a_good_certificate(host):
    host.deploy()
    rec = host.write_record(order_id="ORDER-6", status="pendingDCV", key="staged", common_name=CN,
                            hosts=["www.exmaple.com"])
    st = host.status()
    assert st["due"] == role_status.DUE_NONE and "order ORDER-6 (pendingDCV) is not resumed" in st["why"], st["why"]
    assert st["failed_order_id"] == rec["order_id"]
    st = host.status(subject_alt_names=["www.example.com", "api.example.com"])
    assert st["due"] == role_status.DUE_NEW and "names differ" in st["why"] and "not resumed" in st["why"]


# -- renew --------------------------------------------------------------------

def test_renew_by_days_left_orders_month_13(host):
    host.deploy(days_after=20)
    st = host.status()
    assert st["due"] == role_status.DUE_RENEW and "20.0 days left" in st["why"]
    assert st["month"] == 13 and st["replaces_serial"] == "1234ABCD"
    assert st["new_key"] is True and st["key"] == "staged" and st["csr_key_path"] == host.staged_key_path


def test_renew_of_a_24_month_certificate_orders_25(host):
    host.deploy(days_after=20)
    assert host.status(month=24)["month"] == 25


def test_renew_days_threshold_is_strict(host):
    host.deploy(days_after=30)
    assert host.status(renew_before_days=30)["due"] == role_status.DUE_NONE
    assert host.status(renew_before_days=30.01)["due"] == role_status.DUE_RENEW


def test_expired_certificate_is_renewed_without_carry_over(host):
    host.deploy(days_before=400, days_after=-2)
    st = host.status()
    assert st["days_left"] < 0
    assert st["due"] == role_status.DUE_RENEW and st["month"] == 12
    assert host.status(month=24)["month"] == 24


def test_renew_by_percent_left(host):
    # 100 days of life, 40 left: 40 %.
    host.deploy(days_before=60, days_after=40)
    st = host.status(renew_before_days=30, renew_before_percent=0)
    assert st["due"] == role_status.DUE_NONE and st["percent_left"] == pytest.approx(40.0)
    st = host.status(renew_before_days=30, renew_before_percent=50)
    assert st["due"] == role_status.DUE_RENEW and "40.0% of the lifetime left" in st["why"] and st["month"] == 13
    assert host.status(renew_before_days=30, renew_before_percent=40)["due"] == role_status.DUE_NONE


def test_renew_with_key_rotation_never_keeps_the_key(host):
    host.deploy(days_after=10)
    st = host.status(key_rotation="never")
    assert st["due"] == role_status.DUE_RENEW
    assert st["new_key"] is False and st["key"] == "current" and st["csr_key_path"] == host.key_path


def test_renew_with_key_rotation_always_makes_a_new_key(host):
    host.deploy(days_after=10)
    st = host.status(key_rotation="always")
    assert st["new_key"] is True and st["key"] == "staged" and st["csr_key_path"] == host.staged_key_path


@pytest.mark.parametrize("month,days_left,want", [
    (12, 10, 13), (24, 10, 25), (12, 0, 12), (12, -1, 12), (12, None, 12), (13, 5, 13), (25, 5, 25), ("12", 1, 13),
])
def test_renewal_month(month, days_left, want):
    assert role_status.renewal_month(month, days_left) == want


# -- reissue / revoke -----------------------------------------------------------

def test_reissue_of_the_deployed_order(host):
    host.deploy()
    st = host.status(reissue=True, key_rotation="never")
    assert st["due"] == role_status.DUE_REISSUE and st["order_id"] == "ORDER-1"
    assert st["new_key"] is True and st["csr_key_path"] == host.staged_key_path
    assert st["replaces_serial"] == "1234ABCD" and st["month"] == 12


def test_reissue_only_certificates_issued_before(host):
    host.deploy(days_before=10)  # notBefore NOW - 10 days
    earlier = (NOW - datetime.timedelta(days=11)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = (NOW - datetime.timedelta(days=9)).strftime("%Y-%m-%dT%H:%M:%SZ")
    st = host.status(reissue=True, reissue_issued_before=earlier)
    assert st["due"] == role_status.DUE_NONE and "not reissued" in st["why"] and earlier in st["why"], st["why"]
    assert st["order_id"] is None and st["new_key"] is False
    assert host.status(reissue=True, reissue_issued_before=later)["due"] == role_status.DUE_REISSUE
    # With an offset, and unset.
    at_19_in_beijing = (NOW - datetime.timedelta(days=10)).strftime("%Y-%m-%dT19:00:00+08:00")  # 11:00Z
    assert host.status(reissue=True, reissue_issued_before=at_19_in_beijing)["due"] == role_status.DUE_NONE
    assert host.status(reissue=True, reissue_issued_before=None)["due"] == role_status.DUE_REISSUE
    # A certificate issued after the time but due for renewal is still renewed.
    host.deploy(days_before=10, days_after=5)
    assert host.status(reissue=True, reissue_issued_before=earlier)["due"] == role_status.DUE_RENEW


@pytest.mark.parametrize("text,want", [
    ("2026-03-01T08:00:00Z", "2026-03-01T08:00:00Z"), ("2026-03-01T08:00:00+08:00", "2026-03-01T00:00:00Z"),
    ("2026-03-01T08:00:00", "2026-03-01T08:00:00Z"), ("2026-03-01 08:00:00.5z", "2026-03-01T08:00:00Z"),
])
def test_parse_time(text, want):
    assert inputs.iso(inputs.parse_time(text)) == want
    assert inputs.parse_time("") is None and inputs.parse_time(None) is None


def test_reissue_cutoff_reads_when_the_order_was_placed_not_the_backdated_notbefore(host):
    """A relaunch of a reissue with the incident time as cutoff: the reissued certificate's notBefore
    is backdated (5 minutes in the sandbox) to before the cutoff, but its order was placed after it."""
    host.deploy(days_before=0)  # notBefore NOW (as if backdated from NOW + 5 min)
    cutoff = NOW + datetime.timedelta(minutes=2)
    placed = (NOW + datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    host.write_record(created=placed)
    st = host.status(reissue=True, reissue_issued_before=inputs.iso(cutoff))
    assert st["due"] == role_status.DUE_NONE, st["why"]
    assert "ordered at %s" % placed in st["why"]
    # An order placed before the cutoff is reissued; deployed_at is read when created is not there.
    host.write_record(created=(NOW - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert host.status(reissue=True, reissue_issued_before=inputs.iso(cutoff))["due"] == role_status.DUE_REISSUE
    host.write_record(deployed_at=placed)
    assert host.status(reissue=True, reissue_issued_before=inputs.iso(cutoff))["due"] == role_status.DUE_NONE


def test_force_renew_renews_a_good_certificate(host):
    host.deploy()
    assert host.status()["due"] == role_status.DUE_NONE
    st = host.status(force_renew=True)
    assert st["due"] == role_status.DUE_RENEW and "forced" in st["why"] and st["new_key"] is True
    # What is due anyway stays what it is.
    assert host.status(force_renew=True, revoke=True)["due"] == role_status.DUE_REVOKE


def test_reissue_without_a_deployed_certificate_is_new(host):
    st = host.status(reissue=True)
    assert st["due"] == role_status.DUE_NEW


def test_revoke_of_the_deployed_order(host):
    host.deploy()
    st = host.status(revoke=True)
    assert st["due"] == role_status.DUE_REVOKE and st["order_id"] == "ORDER-1" and "1234ABCD" in st["why"]
    assert st["new_key"] is False and st["csr_key_path"] is None


def test_revoke_beats_a_pending_order(host):
    host.deploy()
    host.write_record(order_id="ORDER-2", status="pendingDCV", key="current")
    st = host.status(revoke=True)
    assert st["due"] == role_status.DUE_REVOKE and st["order_id"] == "ORDER-1"


def test_revoke_when_nothing_is_deployed_by_this_role(host):
    assert host.status(revoke=True)["due"] == role_status.DUE_NONE
    key = host.write_key()
    host.write_cert(make_cert(key))
    st = host.status(revoke=True)
    assert st["due"] == role_status.DUE_NONE and "nothing to revoke" in st["why"]


def test_revoke_twice_is_nothing(host):
    host.deploy()
    host.write_record(revoked_order_id="ORDER-1", revoke_status="pendingRevoke")
    st = host.status(revoke=True)
    assert st["due"] == role_status.DUE_NONE and "already pendingRevoke" in st["why"]


# -- the files ----------------------------------------------------------------

def test_status_returns_no_key_material(host):
    host.deploy()
    host.stage_key()
    st = host.status()
    text = json.dumps(st)
    assert "PRIVATE KEY" not in text
    assert st["staged_key_exists"] is True


def test_record_round_trip(host):
    host.deploy()
    rec = records.read(host.record_path)
    assert rec["deployed_serial"] == "1234ABCD"
    assert records.dumps(rec).endswith("\n")
    assert records.read(str(host.dir / "absent.json")) is None


def test_missing_dirs_lists_each_absent_parent_once(tmp_path):
    there = tmp_path / "there"
    there.mkdir()
    paths = [str(there / "a.crt"), str(tmp_path / "gone" / "a.key"), str(tmp_path / "gone" / "a.json"),
             str(tmp_path / "also" / "x" / "chain.pem"), None, ""]
    assert role_status.missing_dirs(paths) == sorted([str(tmp_path / "also" / "x"), str(tmp_path / "gone")])


def test_a_staged_key_that_is_the_key_in_use_is_made_anew(host):
    """A deployment killed after the record said deployed, before it removed the staged key:
    the next renewal must not take the key in use for its new key."""
    host.deploy(days_after=10)
    with open(host.staged_key_path, "wb") as f:
        f.write(key_pem(host.key))
    st = host.status()
    assert st["due"] == role_status.DUE_RENEW and st["new_key"] is True and st["regenerate_key"] is True
    host.stage_key()  # a real new key is kept
    assert host.status()["regenerate_key"] is False


# -- outputs --------------------------------------------------------------------

def test_a_missing_output_of_a_deployed_certificate_is_due_without_an_order(host):
    host.deploy()
    p12 = str(host.dir / "www.p12")
    st = host.status(output_paths=[p12])
    assert st["due"] == role_status.DUE_OUTPUTS and p12 in st["why"], st["why"]
    assert st["new_key"] is False and st["order_id"] is None and st["csr_key_path"] is None
    store = role_status.store_root(host.cert_path, "www")
    os.makedirs(os.path.join(store, "7"))
    os.symlink("7", os.path.join(store, "current"))
    with open(os.path.join(store, "7", "cert.p12"), "wb") as f:
        f.write(b"x")
    os.symlink(".wotrus/www/current/cert.p12", p12)
    assert host.status(output_paths=[p12])["due"] == role_status.DUE_NONE


def test_an_output_path_held_by_a_file_of_its_own_is_due(host):
    """An output path that exists but is not a link into the store (an old hand-made
    /etc/haproxy/certs/www.pem being taken over) is made, as a missing one is."""
    host.deploy()
    pem = str(host.dir / "www.pem")
    with open(pem, "wb") as f:
        f.write(b"old hand-made combined PEM")
    st = host.status(output_paths=[pem])
    assert st["due"] == role_status.DUE_OUTPUTS and pem in st["why"] and ".wotrus" in st["why"], st["why"]
    assert st["order_id"] is None and st["new_key"] is False
    # A link elsewhere (not into this certificate's store) is no better.
    os.unlink(pem)
    other = str(host.dir / "elsewhere.pem")
    with open(other, "wb") as f:
        f.write(b"x")
    os.symlink(other, pem)
    assert host.status(output_paths=[pem])["due"] == role_status.DUE_OUTPUTS


def test_a_missing_output_does_not_hide_a_renewal(host):
    host.deploy(days_after=5)
    assert host.status(output_paths=[str(host.dir / "www.p12")])["due"] == role_status.DUE_RENEW
    host.deploy()
    host.write_record(deployed_serial="0BAD")  # not deployed by the role: new, as without outputs
    assert host.status(output_paths=[str(host.dir / "www.p12")])["due"] == role_status.DUE_NEW
