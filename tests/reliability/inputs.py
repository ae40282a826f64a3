# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad inputs: each case must fail with an error that names the option, no
traceback, and no writing API call (Create, Cancel, Revoke, Reissue, Notify).

Module cases run each module directly (lib.run_module) against a reset
sandbox; role cases run the role once for all of them, one inventory host per
case (localhost aliases), and read each host's failure from the json callback.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import subprocess
import tempfile

import lib

WRITES = ("POST /v1/Order/Create", "POST /v1/Order/Cancel", "POST /v1/Certificate/RevokeRequest",
          "POST /v1/Certificate/ReissueRequest", "POST /v1/Notification/email")
CN = "rel.example.com"
LONG = "x" * 100000


def _base(module, ctx):
    """Valid arguments for ``module`` (a case overrides one or two)."""
    if module == "create":
        return "wotrus_order", dict(product_id=lib.DV, common_name=CN, csr=ctx["csr"], month=12,
                                    organization=dict(org_name="Reliability Test Co", country_code="CN"))
    if module == "cancel":
        return "wotrus_order", dict(state="absent", order_id=ctx["oid"])
    if module == "info":
        return "wotrus_order_info", dict(order_id=ctx["oid"])
    if module == "certificate":
        return "wotrus_certificate", dict(order_id=ctx["oid"], cert_path=os.path.join(ctx["dir"], "out", "cert.pem"))
    if module == "revoke":
        return "wotrus_revoke", dict(order_id=ctx["oid"], reason="reliability test", proof_path=ctx["pdf"])
    if module == "reissue":
        return "wotrus_reissue", dict(order_id=ctx["oid"], csr=ctx["csr"], reason="reliability test")
    if module == "notify":
        return "wotrus_notify", dict(order_id=ctx["oid"], collect_url="https://collect.example.com/x")
    raise ValueError(module)


def org(**kw):
    base = dict(org_name="Reliability Test Co", country_code="CN")
    base.update(kw)
    return dict(organization=base)


# (id, module, overrides, regex naming the option) -- overrides may use {dir}, {https}, {oid}
# through fill(); the value None removes the option.
MODULE_CASES = [
    # connection options (doc fragment), on several modules
    ("ca_path nonexistent (info)", "info", dict(ca_path="/nonexistent/roots.pem"), r"ca_path"),
    ("ca_path nonexistent (create)", "create", dict(ca_path="/nonexistent/roots.pem"), r"ca_path"),
    ("ca_path nonexistent (revoke)", "revoke", dict(ca_path="/nonexistent/roots.pem"), r"ca_path"),
    ("ca_path not PEM", "info", dict(ca_path="{pdf}"), r"ca_path"),
    ("ca_path empty file", "info", dict(ca_path="{empty}"), r"ca_path"),
    ("ca_path a directory without CAs", "info", dict(ca_path="{emptydir}"), r"ca_path"),
    ("timeout 0 (info)", "info", dict(timeout=0), r"timeout"),
    ("timeout -1 (info)", "info", dict(timeout=-1), r"timeout"),
    ("timeout 0 (create)", "create", dict(timeout=0), r"timeout"),
    ("timeout -1 (cancel)", "cancel", dict(timeout=-1), r"timeout"),
    ("timeout 'abc'", "info", dict(timeout="abc"), r"timeout"),
    ("timeout nan", "info", dict(timeout="nan"), r"timeout"),
    ("timeout inf", "info", dict(timeout="inf"), r"timeout"),
    ("api_url http:// against the HTTPS port (info)", "info", dict(api_url="{http_on_https}"), r"api_url"),
    ("api_url http:// against the HTTPS port (create)", "create", dict(api_url="{http_on_https}"), r"api_url"),
    ("api_url ftp://", "info", dict(api_url="ftp://127.0.0.1/"), r"api_url"),
    ("api_url without host", "info", dict(api_url="https://"), r"api_url"),
    ("api_url not a URL", "info", dict(api_url="not a url"), r"api_url"),
    ("api_url http:// non-loopback", "info", dict(api_url="http://example.com"), r"api_url"),
    ("api_url port out of range", "info", dict(api_url="https://127.0.0.1:99999"), r"api_url"),
    ("api_token empty", "info", dict(api_token=""), r"api_token"),
    ("api_token missing", "info", dict(api_token=None), r"api_token"),
    ("api_token with a newline", "info", dict(api_token="sandbox-token\nX-Evil: 1"), r"api_token"),
    ("api_token not latin-1", "info", dict(api_token="令牌-token"), r"api_token"),
    ("validate_certs 'maybe'", "info", dict(validate_certs="maybe"), r"validate_certs"),
    ("unknown option", "info", dict(bogus_option=1), r"bogus_option"),
    # wotrus_order present: organisation
    ("org_email not an e-mail", "create", org(org_email="not-an-email"), r"org_email"),
    ("user_email not an e-mail", "create", org(user_email="ops@"), r"user_email"),
    ("org_name 100,000 chars", "create", org(org_name=LONG), r"org_name"),
    ("org_name empty", "create", org(org_name=""), r"org_name"),
    ("org_name U+202E", "create", org(org_name="Example \u202eoC"), r"org_name"),
    ("org_name U+200B", "create", org(org_name="Exam\u200bple Co"), r"org_name"),
    ("org_name NUL", "create", org(org_name="Example\x00Co"), r"org_name"),
    ("city NUL", "create", org(city="Shen\x00zhen"), r"city"),
    ("street U+202E", "create", org(street="1 Road \u202e"), r"street"),
    ("org_phone BEL", "create", org(org_phone="+86 755\x07"), r"org_phone"),
    ("user_first_name 5,000 chars", "create", org(user_first_name="y" * 5000), r"user_first_name"),
    ("country_code CHN", "create", org(country_code="CHN"), r"country_code"),
    ("country_code 1A", "create", org(country_code="1A"), r"country_code"),
    ("business_category unknown", "create", org(business_category="Club"), r"business_category"),
    ("organization unknown key", "create", dict(organization=dict(org_name="X", orgname="Y")), r"orgname"),
    ("organization missing", "create", dict(organization=None), r"organization"),
    # wotrus_order present: names, CSR, product, month, ids
    ("common_name not a hostname, no CSR", "create", dict(csr=None, common_name="not a hostname!"), r"common_name"),
    ("common_name empty", "create", dict(common_name=""), r"common_name"),
    ("common_name 300 chars", "create", dict(csr=None, common_name="a" * 290 + ".example.com"), r"common_name"),
    ("common_name with a space", "create", dict(csr=None, common_name="exa mple.com"), r"common_name"),
    ("common_name NUL", "create", dict(csr=None, common_name="www.example.com\x00.evil"), r"common_name"),
    ("hosts with a bad name", "create", dict(hosts=["bad host!"]), r"hosts"),
    ("hosts with an empty name", "create", dict(hosts=[""]), r"hosts"),
    ("hosts nested list", "create", dict(hosts=[["a.example.com"]]), r"hosts"),
    ("hosts a dict", "create", dict(hosts={"a": 1}), r"hosts"),
    ("csr garbage", "create",
     dict(csr="-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"), r"\bcsr\b"),
    ("csr names differ from common_name", "create", dict(csr="{other_csr}"), r"\bcsr\b|common_name"),
    ("csr_path nonexistent", "create", dict(csr=None, csr_path="/nonexistent/req.csr"), r"csr_path"),
    ("csr_path a directory", "create", dict(csr=None, csr_path="{emptydir}"), r"csr_path"),
    ("csr and csr_path", "create", dict(csr_path="{csr_file}"), r"csr_path"),
    ("month 11", "create", dict(month=11), r"month"),
    ("month 'twelve'", "create", dict(month="twelve"), r"month"),
    ("product_id empty", "create", dict(product_id=""), r"product_id"),
    ("product_id not a GUID", "create", dict(product_id="not-a-guid"), r"product_id"),
    ("product_id missing", "create", dict(product_id=None), r"product_id"),
    ("idempotence_id empty", "create", dict(idempotence_id=""), r"idempotence_id"),
    ("idempotence_id 300 chars", "create", dict(idempotence_id="k" * 300), r"idempotence_id"),
    ("idempotence_id newline", "create", dict(idempotence_id="abc\ndef"), r"idempotence_id"),
    ("record_path a directory", "create", dict(record_path="{emptydir}"), r"record_path"),
    ("record_path in a missing directory", "create", dict(record_path="/nonexistent/dir/rec.json"), r"record_path"),
    ("record_path not a record", "create", dict(record_path="{pdf}"), r"record_path"),
    ("documents path nonexistent", "create", dict(documents=[dict(type="business_license", path="/nonexistent.pdf")]),
     r"documents|path"),
    ("documents type unknown", "create", dict(documents=[dict(type="passport", path="{pdf}")]), r"documents|type"),
    ("documents bad file magic", "create", dict(documents=[dict(type="business_license", path="{text}")]),
     r"documents|path"),
    ("csr_sign on a DV product", "create", dict(csr_sign="{csr_text}"), r"csr_sign"),
    ("bind_rsa_product_id on a DV product", "create", dict(bind_rsa_product_id=lib.DV), r"bind_rsa_product_id"),
    ("state unknown", "create", dict(state="gone"), r"state"),
    # wotrus_order absent
    ("cancel: order_id a list", "cancel", dict(order_id=["a", "b"]), r"order_id"),
    ("cancel: order_id not a GUID", "cancel", dict(order_id="not-a-guid"), r"order_id"),
    ("cancel: order_id empty", "cancel", dict(order_id=""), r"order_id"),
    ("cancel: cancel_reason 5,000 chars", "cancel", dict(cancel_reason="r" * 5000), r"cancel_reason"),
    ("cancel: cancel_reason NUL", "cancel", dict(cancel_reason="no\x00pe"), r"cancel_reason"),
    # wotrus_order_info
    ("info: order_id a list", "info", dict(order_id=["a", "b"]), r"order_id"),
    ("info: order_id empty", "info", dict(order_id=""), r"order_id"),
    ("info: order_id a path", "info", dict(order_id="../../Certificate/RetrievePem"), r"order_id"),
    ("info: order_id a dict", "info", dict(order_id={"id": 1}), r"order_id"),
    ("info: order_id missing", "info", dict(order_id=None), r"order_id"),
    # wotrus_certificate
    ("certificate: cert_path a directory", "certificate", dict(cert_path="{emptydir}"), r"cert_path"),
    ("certificate: cert_path in a missing directory", "certificate", dict(cert_path="/nonexistent/dir/c.pem"),
     r"cert_path"),
    ("certificate: chain_path a directory", "certificate", dict(chain_path="{emptydir}"), r"chain_path"),
    ("certificate: fullchain_path a directory", "certificate", dict(fullchain_path="{emptydir}"), r"fullchain_path"),
    ("certificate: mode '999'", "certificate", dict(mode="999"), r"\bmode\b"),
    ("certificate: mode 'abc'", "certificate", dict(mode="abc"), r"\bmode\b"),
    ("certificate: owner unknown", "certificate", dict(owner="no-such-user-4711"), r"owner"),
    ("certificate: wait_timeout -5", "certificate", dict(wait_timeout=-5), r"wait_timeout"),
    ("certificate: wait 'perhaps'", "certificate", dict(wait="perhaps"), r"\bwait\b"),
    ("certificate: order_id a list", "certificate", dict(order_id=["a", "b"]), r"order_id"),
    # wotrus_revoke
    ("revoke: proof_path nonexistent", "revoke", dict(proof_path="/nonexistent/proof.pdf"), r"proof_path"),
    ("revoke: proof_path a directory", "revoke", dict(proof_path="{emptydir}"), r"proof_path"),
    ("revoke: proof_path bad file magic", "revoke", dict(proof_path="{text}"), r"proof_path"),
    ("revoke: reason empty", "revoke", dict(reason=""), r"reason"),
    ("revoke: reason 5,000 chars", "revoke", dict(reason="r" * 5000), r"reason"),
    ("revoke: reason NUL", "revoke", dict(reason="key\x00compromise"), r"reason"),
    ("revoke: order_id a list", "revoke", dict(order_id=["a", "b"]), r"order_id"),
    # wotrus_reissue
    ("reissue: CSR names differ from the order's", "reissue", dict(csr="{other_csr}"), r"\bcsr\b"),
    ("reissue: csr garbage", "reissue", dict(csr="not a csr"), r"\bcsr\b"),
    ("reissue: idempotence_id empty", "reissue", dict(idempotence_id=""), r"idempotence_id"),
    ("reissue: csr_encrypt on a DV order", "reissue", dict(csr_encrypt="{csr_text}"), r"csr_encrypt"),
    ("reissue: reason empty", "reissue", dict(reason=""), r"reason"),
    ("reissue: proof_path nonexistent", "reissue", dict(proof_path="/nonexistent/proof.pdf"), r"proof_path"),
    ("reissue: order_id a list", "reissue", dict(order_id=["a", "b"]), r"order_id"),
    ("reissue: csr_path nonexistent", "reissue", dict(csr=None, csr_path="/nonexistent/req.csr"), r"csr_path"),
    # wotrus_notify
    ("notify: collect_url not a URL", "notify", dict(collect_url="not a url"), r"collect_url"),
    ("notify: collect_url javascript:", "notify", dict(collect_url="javascript:alert(1)"), r"collect_url"),
    ("notify: order_id a list", "notify", dict(order_id=["a", "b"]), r"order_id"),
]

FAST_MODULE_CASES = None  # every module case is fast (about 0.5 s each)


def fill(value, ctx):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in ctx:
        return ctx[value[1:-1]]
    if isinstance(value, dict):
        return dict((k, fill(v, ctx)) for k, v in value.items())
    if isinstance(value, list):
        return [fill(v, ctx) for v in value]
    return value


def context(api, work, kind):
    d = tempfile.mkdtemp(dir=work, prefix="case-")
    os.makedirs(os.path.join(d, "out"))
    os.makedirs(os.path.join(d, "emptydir"))
    ctx = dict(dir=d, emptydir=os.path.join(d, "emptydir"),
               pdf=lib.write(os.path.join(d, "proof.pdf"), lib.PDF),
               text=lib.write(os.path.join(d, "proof.txt"), "just text\n"),
               empty=lib.write(os.path.join(d, "empty.pem"), ""),
               csr=lib.csr(CN), other_csr=lib.csr("other.example.org"))
    ctx["csr_text"] = ctx["csr"]
    ctx["csr_file"] = lib.write(os.path.join(d, "req.csr"), ctx["csr"])
    ctx["http_on_https"] = api.sb.api_url.replace("https://", "http://")
    if kind == "cancel":
        api.reset(delays={"default": 3600})  # an order that can still be cancelled
        ctx["oid"] = api.create(CN)
    else:
        api.reset()
        ctx["oid"] = api.issued(cn=CN)
    return ctx


def run_case(api, case, work):
    name, kind, overrides, option = case
    ctx = context(api, work, kind)
    module, args = _base(kind, ctx)
    args.update(lib.connection(api.sb))
    for key, value in fill(overrides, ctx).items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    before = api.counts()
    outcome = lib.run_module(module, args, ctx["dir"])
    after = api.counts()
    writes = sum(after.get(ep, 0) - before.get(ep, 0) for ep in WRITES)
    problems = []
    if not outcome.failed:
        problems.append("accepted (no error)")
    elif not re.search(option, outcome.msg):
        problems.append("msg does not name the option (%s)" % option.replace("\\b", ""))
    if outcome.traceback:
        problems.append("traceback")
    if writes:
        problems.append("%d writing API call(s)" % writes)
    if kind == "certificate" and os.listdir(os.path.join(ctx["dir"], "out")):
        problems.append("wrote %s before failing" % ", ".join(os.listdir(os.path.join(ctx["dir"], "out"))))
    return dict(name="%s: %s" % (module, name), problems=problems, msg=outcome.short(), writes=writes,
                traceback=outcome.traceback, seconds=outcome.seconds)


# -- the role ----------------------------------------------------------------------------------------------

ROLE_CASES = [
    # (id, host vars overriding the valid ones, regex naming the variable)
    ("certificate_list item without name", dict(item=dict(name=None)), r"\bname\b"),
    ("certificate_list item without common_name", dict(item=dict(common_name=None)), r"common_name"),
    ("key_type dsa", dict(item=dict(key_type="dsa")), r"key_type"),
    ("key_size 1024", dict(item=dict(key_size=1024)), r"key_size"),
    ("item month 13", dict(item=dict(month=13)), r"month"),
    ("certificate_month 36", dict(certificate_month=36), r"certificate_month"),
    ("certificate_api_timeout 0", dict(certificate_api_timeout=0), r"certificate_api_timeout"),
    ("certificate_api_timeout -1", dict(certificate_api_timeout=-1), r"certificate_api_timeout"),
    ("certificate_ca_path nonexistent", dict(certificate_ca_path="/nonexistent/roots.pem"), r"certificate_ca_path"),
    ("certificate_api_url http:// against HTTPS", dict(certificate_api_url="{http_on_https}"), r"certificate_api_url"),
    ("certificate_api_url ftp://", dict(certificate_api_url="ftp://127.0.0.1/"), r"certificate_api_url"),
    ("certificate_api_token empty", dict(certificate_api_token=""), r"certificate_api_token|api_token"),
    ("certificate_mode '999'", dict(certificate_mode="999"), r"certificate_mode|\bmode\b"),
    ("certificate_key_mode 'abc'", dict(certificate_key_mode="abc"), r"certificate_key_mode|key_mode"),
    ("item mode '999'", dict(item=dict(mode="999")), r"\bmode\b"),
    ("org_email not an e-mail", dict(certificate_organization=dict(org_name="X", country_code="CN",
                                                                   org_email="nope")), r"org_email"),
    ("org_name 100,000 chars", dict(certificate_organization=dict(org_name=LONG, country_code="CN")), r"org_name"),
    ("org_name U+202E", dict(certificate_organization=dict(org_name="Ex\u202eample", country_code="CN")),
     r"org_name"),
    ("organization unknown key", dict(certificate_organization=dict(orgname="X")), r"orgname|org_name"),
    ("common_name not a hostname", dict(item=dict(common_name="not a hostname!")), r"common_name"),
    ("subject_alt_names bad name", dict(item=dict(subject_alt_names=["bad name!"])), r"subject_alt_names"),
    ("certificate_renew_before_days -1", dict(certificate_renew_before_days=-1), r"certificate_renew_before_days"),
    ("certificate_renew_before_percent 150", dict(certificate_renew_before_percent=150),
     r"certificate_renew_before_percent"),
    ("certificate_key_rotation sometimes", dict(certificate_key_rotation="sometimes"), r"certificate_key_rotation"),
    ("certificate_reissue_issued_before not a time", dict(certificate_reissue=True,
                                                          certificate_reissue_issued_before="yesterday-ish"),
     r"certificate_reissue_issued_before"),
    ("certificate_dcv dns", dict(certificate_dcv="dns"), r"certificate_dcv"),
    ("certificate_list a string", dict(certificate_list="oops"), r"certificate_list"),
    ("cert_path relative", dict(item=dict(cert_path="site.crt")), r"cert_path"),
    ("certificate_poll_interval 0", dict(certificate_poll_interval=0), r"certificate_poll_interval"),
    ("certificate_wait_timeout -1", dict(certificate_wait_timeout=-1), r"certificate_wait_timeout"),
    ("product id empty everywhere", dict(certificate_product_id=""), r"product_id"),
    ("two items with one name", dict(twice=True), r"\bname\b"),
    ("services reload not a list", dict(item=dict(services=[dict(name="web", reload=5)])), r"services|reload"),
    ("certificate_revoke_proof_path nonexistent", dict(certificate_revoke=True,
                                                       certificate_revoke_reason="test",
                                                       certificate_revoke_proof_path="/nonexistent.pdf"),
     r"certificate_revoke_proof_path"),
]
FAST_ROLE_CASES = ("certificate_api_timeout 0", "certificate_ca_path nonexistent", "org_email not an e-mail",
                   "item mode '999'", "common_name not a hostname", "key_size 1024")


def role_host_vars(index, overrides, sb, work):
    host_dir = os.path.join(work, "host-%02d" % index)
    os.makedirs(host_dir, exist_ok=True)
    cn = "case-%02d.example.com" % index
    item = dict(name="site", common_name=cn, key_type="ecdsa", key_size=256,
                cert_path=os.path.join(host_dir, "site.crt"), key_path=os.path.join(host_dir, "site.key"))
    vars_ = dict(ansible_connection="local", ansible_python_interpreter=os.path.join(lib.BIN, "python"),
                 certificate_api_url=sb.api_url, certificate_ca_path=sb.roots, certificate_api_token=sb.token,
                 certificate_product_id=lib.DV, certificate_dir=host_dir, certificate_poll_interval=1,
                 certificate_owner="root", certificate_group="root",
                 certificate_organization=dict(org_name="Reliability Test Co", country_code="CN"))
    overrides = dict(overrides)
    item_over = overrides.pop("item", {})
    twice = overrides.pop("twice", False)
    for key, value in item_over.items():
        if value is None:
            item.pop(key, None)
        else:
            item[key] = value
    vars_["certificate_list"] = [item, dict(item)] if twice else [item]
    ctx = dict(http_on_https=sb.api_url.replace("https://", "http://"))
    vars_.update(fill(overrides, ctx))
    return cn, vars_


def host_failure(data, host):
    """(failed, message, traceback) of ``host`` in the json callback output."""
    msgs = []
    traceback = False
    for play in data.get("plays", []):
        for task in play.get("tasks", []):
            res = task.get("hosts", {}).get(host)
            if not res:
                continue
            results = res.get("results") or [res]
            for r in [res] + list(results):
                text = json.dumps(r)
                if "Traceback (most recent call last)" in text:
                    traceback = True
                if r.get("failed") and not r.get("ignore_errors"):
                    msgs.append(str(r.get("msg", "")) + " " + str(r.get("module_stderr", ""))[:300])
    return bool(msgs), " | ".join(dict.fromkeys(msgs)), traceback


def run_role(section, cases, work, sb):
    inv_dir = os.path.join(work, "inventory")
    os.makedirs(os.path.join(inv_dir, "host_vars"))
    names = {}
    with open(os.path.join(inv_dir, "hosts.ini"), "w") as f:
        f.write("[cases]\n")
        for index, (name, overrides, option) in enumerate(cases):
            host = "case%02d" % index
            cn, vars_ = role_host_vars(index, overrides, sb, work)
            names[host] = (name, option, cn)
            f.write(host + "\n")
            with open(os.path.join(inv_dir, "host_vars", host + ".json"), "w") as hv:
                json.dump(vars_, hv)
    play = os.path.join(work, "play.yml")
    with open(play, "w") as f:
        f.write("- name: Bad inputs to the role\n  hosts: cases\n  gather_facts: false\n"
                "  roles:\n    - role: wotrus.pki.certificate\n")
    env = lib.module_env(dict(ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_COLLECTIONS_PATH=lib.COLLECTIONS,
                              ANSIBLE_FORKS="10", ANSIBLE_HOST_KEY_CHECKING="false",
                              ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false"))
    sb.mgmt_post("/reset")
    proc = subprocess.run([os.path.join(lib.BIN, "ansible-playbook"), "-i", os.path.join(inv_dir, "hosts.ini"), play],
                          cwd=lib.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=900)
    try:
        data = json.loads(proc.stdout[proc.stdout.index("{"):])
    except ValueError:
        section.check(False, "role: bad inputs playbook", "no json output: %s %s" % (proc.stdout[-500:],
                                                                                      proc.stderr[-500:]))
        return []
    orders = sb.mgmt_get("/orders")
    results = []
    for host, (name, option, cn) in sorted(names.items()):
        failed, msg, traceback = host_failure(data, host)
        writes = len([o for o in orders if o["common_name"] == cn])
        problems = []
        if not failed:
            problems.append("accepted (no error)")
        elif not re.search(option, msg):
            problems.append("msg does not name the variable (%s)" % option.replace("\\b", ""))
        if traceback:
            problems.append("traceback")
        if writes:
            problems.append("%d order(s) created" % writes)
        short = msg.replace("\n", " ")
        short = short[:300] + ("..." if len(short) > 300 else "")
        results.append(dict(name="role: " + name, problems=problems, msg=short, writes=writes, traceback=traceback))
    return results


def run(section, full, work):
    boxes = lib.start_sandboxes(2, work)
    results = []
    try:
        apis = [lib.Api(sb) for sb in boxes]
        queue = list(MODULE_CASES)

        def worker(api):
            done = []
            while True:
                try:
                    case = queue.pop(0)
                except IndexError:
                    return done
                try:
                    done.append(run_case(api, case, work))
                except Exception as exc:  # pylint: disable=broad-except
                    done.append(dict(name=case[0], problems=["harness error: %r" % exc], msg="", writes=0,
                                     traceback=False))

        with concurrent.futures.ThreadPoolExecutor(len(apis)) as pool:
            for done in pool.map(worker, apis):
                results.extend(done)
        role_cases = ROLE_CASES if full else [c for c in ROLE_CASES if c[0] in FAST_ROLE_CASES]
        role_dir = os.path.join(work, "role")
        os.makedirs(role_dir)
        results.extend(run_role(section, role_cases, role_dir, boxes[0]))
    finally:
        for sb in boxes:
            sb.cleanup()
    rows = []
    for r in results:
        rows.append([r["name"], "ok" if not r["problems"] else "**FAIL**: " + "; ".join(r["problems"]), r["msg"]])
    section.add(lib.md_table(["case", "result", "message"], rows))
    section.add(lib.md_table(["cases", "clear errors", "failing", "tracebacks", "writing API calls"],
                             [[len(results), sum(1 for r in results if not r["problems"]),
                               sum(1 for r in results if r["problems"]), sum(1 for r in results if r["traceback"]),
                               sum(r["writes"] for r in results)]]))
    for r in results:
        section.check(not r["problems"], r["name"], "; ".join(r["problems"]) + " -- said: " + r["msg"])
