# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sandbox's certificate authority.

Two roots (A, and B for cross-signing), one issuing key with two certificates
(issued by A, and by B for the cross-signed chain), a cross certificate (root
B's key certified by root A), the HTTPS server certificate, CSR checking,
leaf signing and the CRL. All CA keys are EC (fast); they live under
``STATE/ca/`` with mode 0600 and survive restarts.

Beside them an SM2 root and an SM2 issuing CA (``sm2-*.pem``), made with the
OpenSSL 3 command line (the cryptography library has no SM2), sign the SM2
products' signing and encryption certificates SM2-with-SM3. The CSR checks go
through the collection's ``_sm2.py``; the signing stays here (a CA is the
sandbox's business, not the collection's).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from wotrus_sandbox.collection import sm2
from wotrus_sandbox.config import CROSS_SIGN_R2_SELF_SIGNED

# id-kp-documentSigning (RFC 9336).
EKU_DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
# The SM2 curve (GB/T 32918); the cryptography library cannot load such keys.
SM2_CURVE_OID = sm2.SM2_CURVE_OID_DER  # DER of 1.2.156.10197.1.301
# Key usages of the SM2 pair (GB/T 20518 / GM/T 0015 dual certificates): the signing certificate
# signs (TLCP's ECDHE/ECC signatures), the encryption certificate takes part in key exchange.
SM2_KEY_USAGE = {"sign": "critical,digitalSignature,nonRepudiation",
                 "encrypt": "critical,keyEncipherment,dataEncipherment,keyAgreement"}
RSA_MIN_BITS = 2048
RSA_MAX_BITS = 4096
EC_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384"}
_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

UTC = datetime.timezone.utc


class CsrError(ValueError):
    """A CSR the sandbox refuses; the message is meant for the errorMsg."""


def _now():
    return datetime.datetime.now(UTC)


def _write_private(path: pathlib.Path, data: bytes):
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(str(tmp), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(str(tmp), 0o600)
    os.replace(str(tmp), str(path))


def _write_public(path: pathlib.Path, data: bytes):
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(str(tmp), str(path))


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def add_months(when: datetime.datetime, months: int) -> datetime.datetime:
    year = when.year + (when.month - 1 + months) // 12
    month = (when.month - 1 + months) % 12 + 1
    day = when.day
    while True:
        try:
            return when.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def valid_dns_name(name: str) -> bool:
    name = name.lower().rstrip(".")
    if not name or len(name) > 253:
        return False
    labels = name.split(".")
    if labels[0] == "*":
        labels = labels[1:]
        if len(labels) < 2:
            return False
    return all(_DNS_LABEL.match(label) for label in labels) and len(labels) >= 1


def pem_csr_bytes(text) -> bytes:
    """PEM CSR text as cryptography reads it (CRLF and the old NEW CERTIFICATE REQUEST header accepted)."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    return (text.strip().replace("\r\n", "\n").replace("NEW CERTIFICATE REQUEST", "CERTIFICATE REQUEST")
            .encode("ascii", "replace"))


def csr_der(text) -> bytes:
    """The DER form of a PEM CSR (what Sectigo's CSR hashes are taken of); ValueError if it is none."""
    return x509.load_pem_x509_csr(pem_csr_bytes(text)).public_bytes(serialization.Encoding.DER)


def normalise_name(name: str) -> str:
    name = name.strip()
    if is_ip(name):
        return str(ipaddress.ip_address(name))
    return name.lower().rstrip(".")


class CA:
    def __init__(self, state_dir: pathlib.Path):
        self.dir = pathlib.Path(state_dir) / "ca"
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(str(self.dir), 0o700)
        if not (self.dir / "issuing-b.pem").exists():
            self._create()
        if not (self.dir / "sm2-issuing.pem").exists():
            self._create_sm2()
        self._load()

    # -- creation / loading ------------------------------------------------
    def _create(self):
        now = _now()
        start = now - datetime.timedelta(days=1)
        end = now + datetime.timedelta(days=3650)

        def name(cn):
            return x509.Name([
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "WoTrus Sandbox (NOT A REAL CA)"),
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
            ])

        def ca_cert(subject, key, issuer, issuer_key, pathlen):
            builder = (
                x509.CertificateBuilder()
                .subject_name(subject).issuer_name(issuer)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.BasicConstraints(ca=True, path_length=pathlen), critical=True)
                .add_extension(x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                               critical=False)
            )
            return builder.sign(issuer_key, hashes.SHA384())

        root_a_key = ec.generate_private_key(ec.SECP384R1())
        root_b_key = ec.generate_private_key(ec.SECP384R1())
        issuing_key = ec.generate_private_key(ec.SECP256R1())
        root_a_name = name("WoTrus Sandbox Root CA A")
        root_b_name = name("WoTrus Sandbox Root CA B")
        issuing_name = name("WoTrus Sandbox Issuing CA")
        root_a = ca_cert(root_a_name, root_a_key, root_a_name, root_a_key, None)
        root_b = ca_cert(root_b_name, root_b_key, root_b_name, root_b_key, None)
        cross = ca_cert(root_b_name, root_b_key, root_a_name, root_a_key, None)
        issuing_a = ca_cert(issuing_name, issuing_key, root_a_name, root_a_key, 0)
        issuing_b = ca_cert(issuing_name, issuing_key, root_b_name, root_b_key, 0)
        for fname, key in (("root-a.key", root_a_key), ("root-b.key", root_b_key), ("issuing.key", issuing_key)):
            _write_private(self.dir / fname, key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        for fname, cert in (("root-a.pem", root_a), ("root-b.pem", root_b), ("cross-b-by-a.pem", cross),
                            ("issuing-a.pem", issuing_a), ("issuing-b.pem", issuing_b)):
            _write_public(self.dir / fname, _pem(cert).encode())

    def _openssl(self, args, what):
        proc = subprocess.run([sm2.find_openssl()] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=60, check=False)
        if proc.returncode != 0:
            raise RuntimeError("openssl could not %s: %s" % (what, proc.stderr.decode("utf-8", "replace")))
        return proc.stdout

    def _create_sm2(self):
        """The SM2 root and issuing CA (SM2-with-SM3), with the OpenSSL CLI."""
        root_key, issuing_key = self.dir / "sm2-root.key", self.dir / "sm2-issuing.key"
        for path in (root_key, issuing_key):
            _write_private(path, sm2.generate_key())
        subj = "/C=CN/O=WoTrus Sandbox (NOT A REAL CA)/CN=%s"
        work = pathlib.Path(tempfile.mkdtemp(prefix="sm2ca-", dir=str(self.dir)))
        try:
            ext = work / "ext.cnf"
            ext.write_text("[root]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,"
                           "keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n"
                           "[issuing]\nbasicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,"
                           "digitalSignature,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n"
                           "authorityKeyIdentifier=keyid\n")
            root = self._openssl(["req", "-new", "-x509", "-sm3", "-key", str(root_key), "-days", "3650",
                                  "-subj", subj % "WoTrus Sandbox SM2 Root CA", "-set_serial",
                                  str(x509.random_serial_number()), "-config", str(ext),
                                  "-extensions", "root"], "make the SM2 root")
            (work / "root.pem").write_bytes(root)
            csr = self._openssl(["req", "-new", "-sm3", "-key", str(issuing_key), "-subj",
                                 subj % "WoTrus Sandbox SM2 Issuing CA", "-config", str(ext)],
                                "make the SM2 issuing CA's CSR")
            (work / "issuing.csr").write_bytes(csr)
            issuing = self._openssl(["x509", "-req", "-sm3", "-in", str(work / "issuing.csr"), "-CA",
                                     str(work / "root.pem"), "-CAkey", str(root_key), "-set_serial",
                                     str(x509.random_serial_number()), "-days", "3650", "-extfile", str(ext),
                                     "-extensions", "issuing"], "certify the SM2 issuing CA")
        finally:
            shutil.rmtree(str(work), ignore_errors=True)
        _write_public(self.dir / "sm2-root.pem", root)
        _write_public(self.dir / "sm2-issuing.pem", issuing)

    def _load(self):
        def key(fname):
            return serialization.load_pem_private_key((self.dir / fname).read_bytes(), None)

        def cert(fname):
            return x509.load_pem_x509_certificate((self.dir / fname).read_bytes())

        self.root_a_key = key("root-a.key")
        self.issuing_key = key("issuing.key")
        self.root_a = cert("root-a.pem")
        self.root_b = cert("root-b.pem")
        self.cross = cert("cross-b-by-a.pem")
        self.issuing_a = cert("issuing-a.pem")
        self.issuing_b = cert("issuing-b.pem")
        self.sm2_root_pem = (self.dir / "sm2-root.pem").read_text()
        self.sm2_issuing_pem = (self.dir / "sm2-issuing.pem").read_text()

    # -- what is published -------------------------------------------------
    # ``cross`` below is the cross_sign setting: False, True or "r2-self-signed".
    def roots(self, cross) -> list:
        return [self.root_a, self.root_b] if cross else [self.root_a]

    def roots_pem(self, cross) -> str:
        return "".join(_pem(c) for c in self.roots(cross))

    def intermediates_pem(self, cross) -> str:
        certs = [self.cross, self.issuing_b] if cross else [self.issuing_a]
        return "".join(_pem(c) for c in certs)

    def chain_pems(self, cross) -> list:
        """The chains_* array: root first, (cross,) intermediate last.

        ``cross``: False = [A, issuing(A)]; True = [A, cross(B by A), issuing(B)];
        ``"r2-self-signed"`` = [B, cross(B by A), issuing(B)] -- the self-signed
        root B signs the intermediate, the cross certificate is there for
        clients that trust only A."""
        if cross == CROSS_SIGN_R2_SELF_SIGNED:
            return [_pem(self.root_b), _pem(self.cross), _pem(self.issuing_b)]
        if cross:
            return [_pem(self.root_a), _pem(self.cross), _pem(self.issuing_b)]
        return [_pem(self.root_a), _pem(self.issuing_a)]

    def write_roots(self, state_dir: pathlib.Path, cross) -> pathlib.Path:
        path = pathlib.Path(state_dir) / "roots.pem"
        _write_public(path, self.roots_pem(cross).encode())
        _write_public(pathlib.Path(state_dir) / "sm2-roots.pem", self.sm2_root_pem.encode())
        return path

    def sm2_chain_pems(self) -> list:
        """chains_Sign / chains_Encrypt: root first, intermediate last (no cross certificate for SM2)."""
        return [self.sm2_root_pem, self.sm2_issuing_pem]

    # -- the HTTPS server certificate ---------------------------------------
    def write_server_cert(self, state_dir: pathlib.Path, names=("localhost",), ips=("127.0.0.1", "::1")):
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        sans = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "WoTrus Sandbox API")]))
            .issuer_name(self.issuing_a.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self.issuing_key, hashes.SHA256())
        )
        cert_path = pathlib.Path(state_dir) / "server.pem"
        key_path = pathlib.Path(state_dir) / "server.key"
        _write_private(key_path, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        _write_public(cert_path, (_pem(cert) + _pem(self.issuing_a)).encode())
        return cert_path, key_path

    # -- CSRs ------------------------------------------------------------------
    @staticmethod
    def load_csr(text, field="csr", sm2_key=False) -> x509.CertificateSigningRequest:
        """Parse and check a CSR: PEM, valid self-signature, an allowed key. ``sm2_key``: the CSR
        must hold an SM2 key (signed SM2-with-SM3, checked by ``_sm2`` through OpenSSL); without it
        an SM2 CSR is refused."""
        if not isinstance(text, str) or not text.strip():
            raise CsrError("%s is empty" % field)
        data = text.strip().replace("\r\n", "\n").encode("ascii", "replace")
        if not any(h in data for h in (b"-----BEGIN CERTIFICATE REQUEST-----",
                                       b"-----BEGIN NEW CERTIFICATE REQUEST-----")):
            raise CsrError("%s is not a PEM certificate request (-----BEGIN CERTIFICATE REQUEST-----)" % field)
        data = data.replace(b"NEW CERTIFICATE REQUEST", b"CERTIFICATE REQUEST")
        try:
            csr = x509.load_pem_x509_csr(data)
        except ValueError as exc:
            raise CsrError("%s cannot be parsed: %s" % (field, exc)) from None
        is_sm2 = SM2_CURVE_OID in csr.tbs_certrequest_bytes
        if sm2_key and not is_sm2:
            raise CsrError("%s must hold an SM2 key (an SM2-with-SM3 CSR, e.g. openssl req -new -sm3 with a key "
                           "from openssl genpkey -algorithm SM2)" % field)
        if is_sm2:
            if not sm2_key:
                raise CsrError("%s carries an SM2 key: SM2 keys go in csr_Sign / csr_Encrypt of an SM2 product"
                               % field)
            if not sm2.csr_signature_ok(data):
                raise CsrError("%s signature does not verify (the CSR was altered or not signed by its key)"
                               % field)
            return csr
        try:
            key = csr.public_key()
        except (UnsupportedAlgorithm, ValueError):
            raise CsrError("%s has a public key type the sandbox does not accept "
                           "(RSA 2048-4096 or ECDSA P-256/P-384)" % field) from None
        if isinstance(key, rsa.RSAPublicKey):
            if not RSA_MIN_BITS <= key.key_size <= RSA_MAX_BITS:
                raise CsrError("%s has an RSA key of %d bits; accepted: %d to %d"
                               % (field, key.key_size, RSA_MIN_BITS, RSA_MAX_BITS))
        elif isinstance(key, ec.EllipticCurvePublicKey):
            if key.curve.name not in EC_CURVES:
                raise CsrError("%s has an EC key on %s; accepted curves: P-256, P-384" % (field, key.curve.name))
        else:
            raise CsrError("%s has a public key type the sandbox does not accept "
                           "(RSA 2048-4096 or ECDSA P-256/P-384)" % field)
        try:
            ok = csr.is_signature_valid
        except (UnsupportedAlgorithm, ValueError):
            ok = False
        if not ok:
            raise CsrError("%s signature does not verify (the CSR was altered or not signed by its key)" % field)
        return csr

    @staticmethod
    def csr_names(csr):
        cns = [a.value for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        sans = []
        try:
            ext = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            sans = [n for n in ext.value.get_values_for_type(x509.DNSName)]
            sans += [str(i) for i in ext.value.get_values_for_type(x509.IPAddress)]
        except x509.ExtensionNotFound:
            pass
        return cns, sans

    def check_ssl_names(self, csr, common_name, hosts, field="csr"):
        """CSR subject CN must be commonName; CN plus SANs must be commonName plus hosts."""
        cns, sans = self.csr_names(csr)
        if not cns:
            raise CsrError("%s has no subject commonName; expected %r" % (field, common_name))
        if normalise_name(cns[0]) != normalise_name(common_name):
            raise CsrError("%s commonName %r does not match commonName %r" % (field, cns[0], common_name))
        expected = {normalise_name(n) for n in [common_name] + list(hosts)}
        got = {normalise_name(n) for n in cns + sans}
        if got != expected:
            extra = sorted(got - expected)
            missing = sorted(expected - got)
            parts = []
            if extra:
                parts.append("names not in commonName/hosts: %s" % ", ".join(extra))
            if missing:
                parts.append("commonName/hosts missing from the CSR: %s" % ", ".join(missing))
            raise CsrError("%s names do not match the order (%s)" % (field, "; ".join(parts)))

    @staticmethod
    def check_subject_cn(csr, common_name, field="csr"):
        cns = [a.value for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        if not cns or cns[0].strip() != common_name.strip():
            raise CsrError("%s subject commonName %r does not match commonName %r"
                           % (field, cns[0] if cns else None, common_name))

    # -- signing ---------------------------------------------------------------
    def issue(self, csr_pem, *, kind, usage, common_name, hosts, org, months, validity_minutes, crl_url,
              not_after_cap=None):
        """Sign a leaf. kind: ssl|document|sm2; usage: rsa|sign|encrypt."""
        now = _now()
        if validity_minutes:
            start = now - datetime.timedelta(seconds=30)
            end = now + datetime.timedelta(minutes=float(validity_minutes))
        else:
            start = now - datetime.timedelta(minutes=5)
            end = add_months(now, int(months))
        if kind == "sm2":
            return self._issue_sm2(csr_pem, usage, common_name, hosts, org, start, end)
        csr = x509.load_pem_x509_csr(pem_csr_bytes(csr_pem))
        key = csr.public_key()
        attrs = []
        org = org or {}
        # A DV leaf names the domain only, as DV certificates of WoTrus and Sectigo do (the Baseline
        # Requirements forbid O/ST/L there); others carry the organisation: C, ST, L, O.
        if kind != "ssl_dv":
            if org.get("countrycode"):
                attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, org["countrycode"].upper()))
            for oid, field in ((NameOID.STATE_OR_PROVINCE_NAME, "state"), (NameOID.LOCALITY_NAME, "city")):
                if org.get(field):
                    attrs.append(x509.NameAttribute(oid, str(org[field])[:128]))
            if org.get("orgname"):
                attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, str(org["orgname"])[:64]))
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]))
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attrs))
            .issuer_name(self.issuing_a.subject)
            .public_key(key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.issuing_key.public_key()),
                           critical=False)
        )
        if crl_url:
            builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(crl_url)], relative_name=None, reasons=None,
                crl_issuer=None)]), critical=False)
        is_rsa = isinstance(key, rsa.RSAPublicKey)
        if kind in ("ssl", "ssl_dv"):
            names = []
            for n in [common_name] + [h for h in hosts if normalise_name(h) != normalise_name(common_name)]:
                names.append(x509.IPAddress(ipaddress.ip_address(n)) if is_ip(n) else x509.DNSName(n.lower()))
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
            builder = builder.add_extension(_ku(digital_signature=True, key_encipherment=is_rsa), critical=True)
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        elif kind == "document":
            email = (org or {}).get("useremail")
            if email:
                builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
            builder = builder.add_extension(_ku(digital_signature=True, content_commitment=True), critical=True)
            builder = builder.add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.EMAIL_PROTECTION, EKU_DOCUMENT_SIGNING]), critical=False)
        cert = builder.sign(self.issuing_key, hashes.SHA256())
        return cert

    def _issue_sm2(self, csr_pem, usage, common_name, hosts, org, start, end):
        """An SM2 leaf (``usage`` sign or encrypt) signed SM2-with-SM3 by the SM2 issuing CA, with
        ``openssl ca`` (the only OpenSSL 3.0 command that sets exact validity times). No CRL
        distribution point: the sandbox's CRL is signed by the EC issuing CA."""
        org = org or {}
        subject = ""
        for attr, value in (("C", (org.get("countrycode") or "").upper()), ("ST", org.get("state")),
                            ("L", org.get("city")), ("O", org.get("orgname")), ("CN", common_name)):
            if value:
                subject += "/%s=%s" % (attr, re.sub(r"([/+=\\])", r"\\\1", str(value)[:64]))
        sans = []
        for name in _dedupe([common_name] + list(hosts)):
            entry = sm2.check_name(name)
            if entry not in sans:
                sans.append(entry)
        work = pathlib.Path(tempfile.mkdtemp(prefix="sm2leaf-", dir=str(self.dir)))
        try:
            (work / "index.txt").write_text("")
            (work / "serial").write_text("%040x\n" % x509.random_serial_number())
            (work / "req.csr").write_bytes(pem_csr_bytes(csr_pem) + b"\n")
            (work / "ca.cnf").write_text(
                "[ca]\ndefault_ca = sb\n[sb]\ndatabase = %(w)s/index.txt\nnew_certs_dir = %(w)s\n"
                "serial = %(w)s/serial\ndefault_md = sm3\npolicy = any\nunique_subject = no\n"
                "[any]\ncountryName = optional\nstateOrProvinceName = optional\nlocalityName = optional\n"
                "organizationName = optional\ncommonName = supplied\n"
                "[leaf]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = %(ku)s\n"
                "extendedKeyUsage = serverAuth,clientAuth\nsubjectAltName = %(san)s\n"
                "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
                % {"w": work, "ku": SM2_KEY_USAGE[usage], "san": ",".join(sans)})
            self._openssl(["ca", "-batch", "-notext", "-utf8", "-config", str(work / "ca.cnf"),
                           "-extensions", "leaf", "-cert", str(self.dir / "sm2-issuing.pem"),
                           "-keyfile", str(self.dir / "sm2-issuing.key"), "-md", "sm3", "-subj", subject,
                           "-startdate", start.strftime("%Y%m%d%H%M%SZ"), "-enddate", end.strftime("%Y%m%d%H%M%SZ"),
                           "-in", str(work / "req.csr"), "-out", str(work / "leaf.pem")],
                          "sign an SM2 %s certificate" % usage)
            pem = (work / "leaf.pem").read_bytes()
        finally:
            shutil.rmtree(str(work), ignore_errors=True)
        return x509.load_pem_x509_certificate(pem)

    # -- revocation ------------------------------------------------------------
    def crl_pem(self, revoked):
        """revoked: iterable of (serial_int, revoked_at_epoch)."""
        now = _now()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.issuing_a.subject)
            .last_update(now - datetime.timedelta(seconds=5))
            .next_update(now + datetime.timedelta(hours=1))
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.issuing_key.public_key()),
                           critical=False)
        )
        for serial, when in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(int(serial))
                .revocation_date(datetime.datetime.fromtimestamp(when, UTC)).build())
        crl = builder.sign(self.issuing_key, hashes.SHA256())
        return crl.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _dedupe(names):
    seen, out = set(), []
    for n in names:
        k = normalise_name(n)
        if k not in seen:
            seen.add(k)
            out.append(n)
    return out


def _ku(digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False):
    return x509.KeyUsage(digital_signature=digital_signature, content_commitment=content_commitment,
                         key_encipherment=key_encipherment, data_encipherment=data_encipherment,
                         key_agreement=key_agreement, key_cert_sign=False, crl_sign=False,
                         encipher_only=False, decipher_only=False)


def cert_pem(cert) -> str:
    return _pem(cert)
