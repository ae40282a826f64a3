# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""certificate_preflight: check every input of the certificate role on the
controller, before anything changes, and return ONE normalised plan: the
certificate list with every default filled in (paths computed here only), names
normalised by ``inputs.normalize_names`` (plain and ``DNS:``/``IP:`` typed), the
months from ``protocol``, times parsed once by ``inputs.parse_time``, the API
address and CA bundle resolved from the environment once (``engine``). Later
steps trust the plan. The contract is roles/certificate/meta/argument_specs.yml.
Documentation: plugins/modules/certificate_preflight.py.
"""

from __future__ import annotations

import posixpath
import re

from ansible.plugins.action import ActionBase

from ansible_collections.wotrus.pki.plugins.module_utils import _http
from ansible_collections.wotrus.pki.plugins.module_utils import _role_status as role_status
from ansible_collections.wotrus.pki.plugins.module_utils import _services
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import engine, inputs, protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import InputError

KEY_SIZES = {"rsa": (2048, 3072, 4096), "ecdsa": (256, 384), "sm2": (256,)}
CURVES = {256: "secp256r1", 384: "secp384r1"}
ITEM_KEYS = frozenset([
    "name", "common_name", "subject_alt_names", "key_type", "key_size", "product_id", "month", "organization",
    "cert_path", "key_path", "chain_path", "fullchain_path", "record_path", "owner", "group", "mode",
    "key_mode", "services", "dcv", "dcv_webroot", "outputs",
    "encrypt_cert_path", "encrypt_key_path", "encrypt_chain_path", "encrypt_fullchain_path",
])
# An SM2 item's encryption certificate files (key_type sm2): the default file name of each, in the
# directory of the signing certificate's file named beside it.
ENCRYPT_FILES = (("encrypt_cert_path", "cert_path", "%s.enc.crt"), ("encrypt_key_path", "key_path", "%s.enc.key"),
                 ("encrypt_chain_path", "chain_path", "%s.enc.chain.pem"),
                 ("encrypt_fullchain_path", "fullchain_path", "%s.enc.fullchain.pem"))
# The outputs besides key, certificate, chain and full chain: the plan's key of each path,
# its default file name (in certificate_dir) and the keys an output's dict may hold.
OUTPUTS = {
    "combined": ("combined_path", "%s.combined.pem", ("type", "path")),
    "pkcs12": ("pkcs12_path", "%s.p12", ("type", "path", "friendly_name")),
    "der": ("der_path", "%s.der", ("type", "path")),
}
PKCS12_ENCRYPTIONS = ("modern", "legacy")
DCV_MODES = ("none", "http")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_RENEW_SPREAD_DAYS = 365
MODE_RE = re.compile(r"^0?[0-7]{3,4}$")

ARGUMENT_SPEC = dict(
    certificates=dict(type="raw", required=True),
    defaults=dict(type="dict", required=True),
    settings=dict(type="dict", default={}),
)


class Checker:
    def __init__(self, defaults, settings):
        self.defaults = defaults
        self.settings = settings
        self.errors = []
        self.reissue_issued_before = None
        self.renew_spread_days = 0
        self.connection = {}

    def err(self, var, text):
        self.errors.append("%s: %s" % (var, text))

    def call(self, check, *args):
        """Run one of the collection's input checks (inputs.*); its InputError names the variable."""
        try:
            return check(*args), True
        except InputError as exc:
            self.errors.append(exc.message)
            return None, False

    def proof_file(self, var, required_text):
        """A proof file on the controller: present, and its content what its extension says."""
        proof = self.settings.get(var)
        if not proof:
            if required_text:
                self.err(var, required_text)
            return
        self.call(inputs.load_file, proof, var)

    def setting_checks(self):
        s = self.settings
        num = [("certificate_renew_before_days", 0, None), ("certificate_renew_before_percent", 0, 100),
               ("certificate_wait_timeout", 1, None), ("certificate_poll_interval", 0.1, None)]
        for var, lo, hi in num:
            if var not in s:
                continue
            try:
                v = float(s[var])
            except (TypeError, ValueError):
                self.err(var, "must be a number, got %r" % (s[var],))
                continue
            if v < lo or (hi is not None and v > hi):
                self.err(var, "must be between %s and %s, got %s" % (lo, hi if hi is not None else "any", v))
        if "certificate_renew_spread_days" in s:
            spread = str(s["certificate_renew_spread_days"]).strip()
            if not re.match(r"^[0-9]+$", spread) or int(spread) > MAX_RENEW_SPREAD_DAYS:
                self.err("certificate_renew_spread_days", "must be a whole number of days from 0 (off) to %d, got %r"
                         % (MAX_RENEW_SPREAD_DAYS, s["certificate_renew_spread_days"]))
            else:
                self.renew_spread_days = int(spread)
        if "certificate_backup_keep" in s and not re.match(r"^[0-9]+$", str(s["certificate_backup_keep"]).strip()):
            self.err("certificate_backup_keep", "must be a whole number, 0 or more, got %r" % (s["certificate_backup_keep"],))
        if s.get("certificate_pkcs12_encryption", "modern") not in PKCS12_ENCRYPTIONS:
            self.err("certificate_pkcs12_encryption", "must be modern or legacy (3DES/SHA1 for old Java), got %r"
                     % (s.get("certificate_pkcs12_encryption"),))
        if s.get("certificate_key_rotation", "always") not in ("always", "never"):
            self.err("certificate_key_rotation", "must be always or never, got %r" % s.get("certificate_key_rotation"))
        if s.get("certificate_reissue") and s.get("certificate_revoke"):
            self.err("certificate_reissue", "cannot be true together with certificate_revoke; run one at a time")
        if s.get("certificate_revoke"):
            self.proof_file("certificate_revoke_proof_path", "is required when certificate_revoke is true (the "
                            "signed revocation letter, .pdf .jpg or .gif, on the controller)")
            if not s.get("certificate_revoke_reason"):
                self.err("certificate_revoke_reason", "is required when certificate_revoke is true")
        if s.get("certificate_reissue"):
            self.proof_file("certificate_reissue_proof_path", None)
        if s.get("certificate_force_renew") and (s.get("certificate_reissue") or s.get("certificate_revoke")):
            self.err("certificate_force_renew", "cannot be true together with certificate_reissue or "
                     "certificate_revoke; run one at a time")
        # The API address and CA bundle: the role's variable, else the controller's environment (engine.ENV).
        self.connection = engine.connection_settings(s.get("certificate_api_url") or None,
                                                     ca_path=s.get("certificate_ca_path") or None)
        self.connection.pop("api_token")
        url = self.connection["api_url"]
        if url:
            # The client's own rule (protocol.PLAIN_HTTP_RULE), checked by the client's own function.
            self.call(inputs.check_api_url, url, "certificate_api_url")
        # The client's own checks of the timeout and the CA bundle, under the role's variable names,
        # so that a value that cannot work stops the play before any key, CSR or order.
        if "certificate_api_timeout" in s:
            self.call(_http.check_timeout, s["certificate_api_timeout"], "certificate_api_timeout", InputError)
        if self.connection["ca_path"]:
            ca_option = "certificate_ca_path" if s.get("certificate_ca_path") else engine.ENV["ca_path"]
            self.call(_http.check_tls, s.get("certificate_validate_certs", True) not in (False, "false", "False"),
                      self.connection["ca_path"], ca_option, InputError)
        before = s.get("certificate_reissue_issued_before")
        if before not in (None, ""):
            when = self.call(inputs.parse_time, before, "certificate_reissue_issued_before")[0]
            self.reissue_issued_before = inputs.iso(when) if when else None

    def sectigo_checks(self):
        """Only when a certificate uses dcv http: what reading its DCV values from Sectigo needs."""
        s = self.settings
        url = s.get("certificate_sectigo_api_url")
        if url and not re.match(r"^https://[^/\s]+", str(url)):
            self.err("certificate_sectigo_api_url", "must be an https:// URL (Sectigo answers -1 over plain HTTP), "
                     "got %r" % url)
        if not s.get("certificate_sectigo_login_name"):
            self.err("certificate_sectigo_login_name", "is required when certificate_dcv is http (the Sectigo login "
                     "that reads the order's DCV values); or set SECTIGO_LOGIN_NAME on the controller")
        if not s.get("certificate_sectigo_login_password_set", True):
            self.err("certificate_sectigo_login_password", "is required when certificate_dcv is http; or set "
                     "SECTIGO_LOGIN_PASSWORD on the controller")

    def path(self, var, value, required=True):
        if value in (None, ""):
            if required:
                self.err(var, "is required")
            return None
        if not isinstance(value, str) or not posixpath.isabs(value):
            self.err(var, "must be an absolute path on the host, got %r" % (value,))
            return None
        return posixpath.normpath(value)

    def names(self, values, var):
        """Names through inputs.normalize_names, every bad one listed: ``[Name]``."""
        out = []
        for j, value in enumerate(values):
            one = self.call(inputs.normalize_names, [value], "%s[%d]" % (var, j) if var.endswith("names") else var)[0]
            for name in one or []:
                if name not in out:
                    out.append(name)
        return out

    def item(self, i, raw):
        d = self.defaults
        p = "certificate_list[%d]" % i
        if not isinstance(raw, dict):
            self.err(p, "must be a dict with at least name and common_name, got %r" % (raw,))
            return None
        for k in sorted(set(raw) - ITEM_KEYS):
            self.err("%s.%s" % (p, k), "is not a known key (known: %s)" % ", ".join(sorted(ITEM_KEYS)))
        name = raw.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            self.err(p + ".name", "is required: letters, digits, '.', '_' or '-' (it names the files), got %r" % (name,))
            name = "cert%d" % i
        cn = raw.get("common_name")
        if cn in (None, ""):
            self.err(p + ".common_name", "is required (a DNS name)")
            cn_names = []
        else:
            cn_names = self.names([cn], p + ".common_name")
        cn = cn_names[0].value if cn_names else ""
        sans = raw.get("subject_alt_names", [])
        if sans is None:
            sans = []
        if not isinstance(sans, list):
            self.err(p + ".subject_alt_names", "must be a list of DNS names")
            sans = []
        names = cn_names + [n for n in self.names(sans, p + ".subject_alt_names") if n not in cn_names]
        clean = [n.value for n in names]
        key_type = str(raw.get("key_type", d.get("key_type", "rsa"))).lower()
        var_kt = p + ".key_type" if "key_type" in raw else "certificate_key_type"
        if key_type not in KEY_SIZES:
            self.err(var_kt, "must be rsa, ecdsa or sm2, got %r" % key_type)
            key_type = "rsa"
        key_size = raw.get("key_size", d.get("key_size") if "key_type" not in raw or
                           raw.get("key_type") == d.get("key_type") else None)
        if key_size is None:
            key_size = KEY_SIZES[key_type][0]
        var_ks = p + ".key_size" if "key_size" in raw else "certificate_key_size"
        try:
            key_size = int(key_size)
        except (TypeError, ValueError):
            self.err(var_ks, "must be a number, got %r" % (key_size,))
            key_size = KEY_SIZES[key_type][0]
        if key_size not in KEY_SIZES[key_type]:
            self.err(var_ks, "must be one of %s for key_type %s, got %s" % (
                ", ".join(str(x) for x in KEY_SIZES[key_type]), key_type, key_size))
        product = raw.get("product_id", d.get("product_id"))
        var_p = p + ".product_id" if "product_id" in raw else "certificate_product_id"
        product = self.call(inputs.check_product_id, product, var_p)[0] or ""
        month_in = raw.get("month", d.get("month", 12))
        var_m = p + ".month" if "month" in raw else "certificate_month"
        month, ok = self.call(inputs.check_month, month_in, var_m)
        if ok and month not in protocol.ORDER_MONTHS:
            self.err(var_m, "must be %s (the role orders %s itself on renewal), got %r" % (
                " or ".join(str(m) for m in protocol.ORDER_MONTHS),
                " or ".join(str(protocol.RENEWAL_MONTHS[m]) for m in protocol.ORDER_MONTHS), month_in))
        if month not in protocol.ORDER_MONTHS:
            month = protocol.ORDER_MONTHS[0]
        var_o = p + ".organization" if "organization" in raw else "certificate_organization"
        org = raw.get("organization", d.get("organization") or {})
        if org is None:
            org = {}
        if not isinstance(org, dict):
            self.err(var_o, "must be a dict")
            org = {}
        org = dict((k, v) for k, v in org.items() if v is not None)
        # Each field on its own through inputs.organization_post (which stops at its first
        # problem), so that every problem is listed at once; org_name is checked here.
        for k in sorted(org, key=str):
            one = {"org_name": org.get("org_name") or "-"}
            one[k] = org[k]
            self.call(inputs.organization_post, one, var_o)
        if not org.get("org_name"):
            self.err(var_o + ".org_name", "is required (the API's organizationPost.orgName is required for every order)")
        if org.get("country_code"):
            org["country_code"] = str(org["country_code"]).strip().upper()
        directory = d.get("dir") or "/etc/ssl/wotrus"
        cert_path = self.path(p + ".cert_path", raw.get("cert_path", posixpath.join(directory, name + ".crt")))
        key_path = self.path(p + ".key_path", raw.get("key_path", posixpath.join(directory, name + ".key")))
        chain_path = self.path(p + ".chain_path", raw.get("chain_path", posixpath.join(directory, name + ".chain.pem")),
                               required=False)
        fullchain_path = self.path(p + ".fullchain_path",
                                   raw.get("fullchain_path", posixpath.join(directory, name + ".fullchain.pem")),
                                   required=False)
        record_path = self.path(p + ".record_path", raw.get("record_path") or
                                (role_status.default_record_path(cert_path) if cert_path else None), required=False)
        modes = {}
        for k in ("mode", "key_mode"):
            v = raw.get(k, d.get(k))
            v = "%o" % v if isinstance(v, int) else str(v)
            if not MODE_RE.match(v):
                self.err(p + "." + k if k in raw else "certificate_" + k, "must be an octal mode string such as '0644', got %r" % v)
            modes[k] = v if v.startswith("0") else "0" + v
        services = raw.get("services", d.get("services") or [])
        var_s = p + ".services" if "services" in raw else "certificate_services"
        # The presets and rules of the services are _services's, the ones certificate_deploy applies.
        try:
            out_services = _services.check_all(services, var_s)
        except _services.ServiceError as exc:
            self.errors.append(exc.msg)
            out_services = []
        outputs = self.outputs(p, raw, directory, name)
        # A service's own files must be outputs the certificate has (a PEM preset's default reads
        # whichever of its files are there).
        has = dict(key=key_path, cert=cert_path, chain=chain_path, fullchain=fullchain_path,
                   combined=outputs["combined_path"], pkcs12=outputs["pkcs12_path"], der=outputs["der_path"])
        for j, service in enumerate(services if out_services else []):
            files = service.get("files") if isinstance(service, dict) else None
            lacking = [f for f in files or [] if not has.get(f)]
            if lacking:
                self.err("%s[%d].files" % (var_s, j), "names %s, which certificate %s does not have (its outputs "
                         "come from certificate_outputs or the item's outputs, chain and full chain from chain_path "
                         "and fullchain_path)" % (", ".join(lacking), name))
        dcv_mode = raw.get("dcv", d.get("dcv") or "none")
        var_d = p + ".dcv" if "dcv" in raw else "certificate_dcv"
        if dcv_mode not in DCV_MODES:
            self.err(var_d, "must be none or http, got %r" % (dcv_mode,))
            dcv_mode = "none"
        webroot = None
        if dcv_mode == "http":
            for name_ in clean:
                if name_.startswith("*."):
                    self.err(var_d, "http cannot validate the wildcard name %s (Sectigo takes no HTTP file for "
                             "wildcards): use none and validate it by CNAME" % name_)
            webroot = self.path(p + ".dcv_webroot" if "dcv_webroot" in raw else "certificate_dcv_webroot",
                                raw.get("dcv_webroot", d.get("dcv_webroot") or "/var/www/html"))
        encrypt = dict((k, None) for k, _b, _f in ENCRYPT_FILES)
        encrypt["encrypt_staged_key_path"] = None
        if key_type == "sm2":
            base = dict(cert_path=cert_path, key_path=key_path, chain_path=chain_path, fullchain_path=fullchain_path)
            for k, beside, fname in ENCRYPT_FILES:
                default = posixpath.join(posixpath.dirname(base[beside] or cert_path or directory + "/x"), fname % name)
                required = k in ("encrypt_cert_path", "encrypt_key_path")
                encrypt[k] = self.path(p + "." + k, raw.get(k, default), required=required)
            if encrypt["encrypt_key_path"]:
                encrypt["encrypt_staged_key_path"] = role_status.default_staged_key_path(encrypt["encrypt_key_path"])
            if outputs["pkcs12_path"]:
                self.err(p + ".outputs" if "outputs" in raw else "certificate_outputs",
                         "pkcs12 cannot hold an SM2 pair (key_type sm2): the cryptography library has no SM2")
        else:
            for k, _b, _f in ENCRYPT_FILES:
                if raw.get(k):
                    self.err("%s.%s" % (p, k), "is for an SM2 pair only (key_type sm2), not key_type %s" % key_type)
        paths = [x for x in (cert_path, key_path, chain_path, fullchain_path, record_path) if x] + \
            [outputs[k] for k in ("combined_path", "pkcs12_path", "der_path") if outputs[k]] + \
            [encrypt[k] for k, _b, _f in ENCRYPT_FILES if encrypt[k]]
        if len(set(paths)) != len(paths):
            self.err(p, "cert_path, key_path, chain_path, fullchain_path, record_path, the encrypt_* paths and the "
                        "paths of the outputs must all differ")
        return dict(
            name=name, common_name=cn, subject_alt_names=clean, csr_subject_alt_names=inputs.typed_names(names),
            key_type=key_type, key_size=key_size,
            curve=CURVES.get(key_size) if key_type == "ecdsa" else None,
            product_id=product, month=month, organization=org,
            cert_path=cert_path, key_path=key_path, chain_path=chain_path, fullchain_path=fullchain_path,
            record_path=record_path,
            staged_key_path=role_status.default_staged_key_path(key_path) if key_path else None,
            staged_csr_path=role_status.staged_csr_path(role_status.default_staged_key_path(key_path))
            if key_path else None,
            owner=raw.get("owner", d.get("owner")), group=raw.get("group", d.get("group")),
            mode=modes.get("mode"), key_mode=modes.get("key_mode"), services=out_services,
            dcv=dcv_mode, dcv_webroot=webroot, **dict(outputs, **encrypt)
        )

    def outputs(self, p, raw, directory, name):
        """The item's outputs (its own, else certificate_outputs): each path (null when the output is
        not wanted) and the PKCS#12 friendly name."""
        var = p + ".outputs" if "outputs" in raw else "certificate_outputs"
        wanted = raw.get("outputs", self.defaults.get("outputs") or [])
        out = dict(combined_path=None, pkcs12_path=None, der_path=None, pkcs12_friendly_name=None)
        if wanted is None:
            wanted = []
        if not isinstance(wanted, list):
            self.err(var, "must be a list of outputs (combined, pkcs12, der, or dicts {type, path})")
            return out
        for j, one in enumerate(wanted):
            vo = "%s[%d]" % (var, j)
            spec = dict(type=one) if isinstance(one, str) else one
            if not isinstance(spec, dict) or spec.get("type") not in OUTPUTS:
                self.err(vo, "must be combined, pkcs12 or der, or a dict {type, path} of one, got %r" % (one,))
                continue
            key, default_name, keys = OUTPUTS[spec["type"]]
            for k in sorted(set(spec) - set(keys), key=str):
                self.err("%s.%s" % (vo, k), "is not a known key of a %s output (%s)" % (spec["type"], ", ".join(keys)))
            if out[key]:
                self.err(vo, "output %s is listed twice" % spec["type"])
            out[key] = self.path(vo + ".path", spec.get("path") or posixpath.join(directory, default_name % name))
            if spec["type"] == "pkcs12":
                friendly = spec.get("friendly_name")
                if friendly is not None and (not isinstance(friendly, str) or not friendly):
                    self.err(vo + ".friendly_name", "must be a non-empty string (the keystore's alias)")
                out["pkcs12_friendly_name"] = friendly or name
                if not self.settings.get("certificate_pkcs12_password_set", False):
                    self.err("certificate_pkcs12_password", "is required when a certificate has a pkcs12 output (%s)"
                             % vo)
        return out

    def run(self, certificates):
        self.setting_checks()
        if not isinstance(certificates, list):
            self.err("certificate_list", "must be a list of certificates, got %s" % type(certificates).__name__)
            return []
        items = [self.item(i, c) for i, c in enumerate(certificates)]
        items = [x for x in items if x is not None]
        if any(it["dcv"] == "http" for it in items):
            self.sectigo_checks()
        sm2 = [it["name"] for it in items if it["key_type"] == "sm2"]
        if sm2 and self.settings.get("certificate_reissue") and not self.settings.get("certificate_reissue_proof_path"):
            self.err("certificate_reissue_proof_path", "is required to reissue an SM2 certificate (%s, key_type sm2): "
                     "the API requires the signed letter (.pdf .jpg or .gif, on the controller)" % ", ".join(sm2))
        seen = {}
        for i, it in enumerate(items):
            for key in ("name", "cert_path", "key_path"):
                v = it[key]
                if v in seen.setdefault(key, {}):
                    self.err("certificate_list[%d].%s" % (i, key), "%r is also used by certificate_list[%d]"
                             % (v, seen[key][v]))
                seen[key].setdefault(v, i)
        return items


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        checker = Checker(args["defaults"] or {}, args["settings"] or {})
        items = checker.run(args["certificates"])
        result.update(changed=False, certificates=items, reissue_issued_before=checker.reissue_issued_before,
                      renew_spread_days=checker.renew_spread_days,
                      api_url=checker.connection.get("api_url"), ca_path=checker.connection.get("ca_path"))
        if checker.errors:
            result.update(failed=True, errors=checker.errors,
                          msg="the certificate role's inputs are wrong, nothing was changed: " + "; ".join(checker.errors))
        else:
            result["msg"] = "%d certificate(s) checked" % len(items)
        return result
