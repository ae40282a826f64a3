# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secret sentinels: tokens, passwords and private key material must not
appear in any output of a run -- stdout/stderr at -vvvvv, --diff, the
ANSIBLE_LOG_PATH file, registered results (printed and dumped), and files
the collection writes -- on success and error paths.

The sandbox accepts the sentinel token, so the success paths really run;
a second sentinel token (refused, 401) and a wrong Sectigo password drive the
error paths.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import subprocess

import lib

CN = "secret.example.com"


def sentinels():
    tag = secrets.token_hex(6)
    return dict(token="tkSENTINELparam%s" % tag, wrong_token="tkSENTINELwrong%s" % tag,
                ukey="ukeySENTINEL%s" % tag, sectigo="pwSENTINELsectigo%s" % tag,
                sectigo_wrong="pwSENTINELsectigowrong%s" % tag)


MODULE_PLAY = """\
- name: Secret sentinels through the modules
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    by_param: {by_param}
    conn: &conn
      api_url: "{api_url}"
      ca_path: "{roots}"
  tasks:
    - name: Create (token {how}, ukey_password)
      wotrus.pki.wotrus_order:
        <<: *conn
        api_token: "{{{{ '{token}' if by_param else omit }}}}"
        product_id: {product}
        common_name: {cn}
        csr: "{{{{ lookup('file', '{csr_file}') }}}}"
        organization: {{org_name: Secret Test Co, country_code: CN}}
        ukey_password: "{ukey}"
        record_path: "{work}/order.json"
      register: r_create
      diff: true

    - name: Order info
      wotrus.pki.wotrus_order_info:
        <<: *conn
        api_token: "{{{{ '{token}' if by_param else omit }}}}"
        order_id: "{{{{ r_create.order_id }}}}"
      register: r_info

    - name: Certificate (with a diff)
      wotrus.pki.wotrus_certificate:
        <<: *conn
        api_token: "{{{{ '{token}' if by_param else omit }}}}"
        order_id: "{{{{ r_create.order_id }}}}"
        cert_path: "{work}/cert.pem"
        chain_path: "{work}/chain.pem"
      register: r_cert
      diff: true

    - name: Error path -- a refused token
      wotrus.pki.wotrus_order_info:
        <<: *conn
        api_token: "{wrong_token}"
        order_id: "{{{{ r_create.order_id }}}}"
      register: r_wrong
      ignore_errors: true

    - name: Error path -- the API refuses the order (token {how})
      wotrus.pki.wotrus_order:
        <<: *conn
        api_token: "{{{{ '{token}' if by_param else omit }}}}"
        product_id: {product}
        common_name: not a hostname!
        organization: {{org_name: Secret Test Co, country_code: CN, org_email: not-an-email}}
        ukey_password: "{ukey}"
      register: r_refused
      ignore_errors: true

    - name: Error path -- a bad ca_path (token {how})
      wotrus.pki.wotrus_order_info:
        api_url: "{api_url}"
        ca_path: /nonexistent/roots.pem
        api_token: "{{{{ '{token}' if by_param else omit }}}}"
        order_id: "{{{{ r_create.order_id }}}}"
      register: r_capath
      ignore_errors: true

    - name: Token from module_defaults
      module_defaults:
        group/wotrus.pki.wotrus:
          api_url: "{api_url}"
          ca_path: "{roots}"
          api_token: "{token}"
      block:
        - name: Order info (module_defaults)
          wotrus.pki.wotrus_order_info:
            order_id: "{{{{ r_create.order_id }}}}"
          register: r_md_info
        - name: Error path -- revoke without a readable proof (module_defaults)
          wotrus.pki.wotrus_revoke:
            order_id: "{{{{ r_create.order_id }}}}"
            reason: test
            proof_path: /nonexistent/proof.pdf
          register: r_md_revoke
          ignore_errors: true
        - name: Error path -- a 503 from the API (module_defaults)
          wotrus.pki.wotrus_order_info:
            order_id: 00000000-0000-0000-0000-000000000000
            timeout: 2
          register: r_md_404
          ignore_errors: true

    - name: Sectigo status, right password {how}
      wotrus.pki.sectigo_order_status:
        api_url: "{api_url}/sectigo/products/!getPostPaymentStatus"
        ca_path: "{roots}"
        login_name: sandbox
        login_password: "{{{{ '{sectigo}' if by_param else omit }}}}"
        order_number: "424242"
      register: r_sectigo
      ignore_errors: true

    - name: Sectigo status, wrong password
      wotrus.pki.sectigo_order_status:
        api_url: "{api_url}/sectigo/products/!getPostPaymentStatus"
        ca_path: "{roots}"
        login_name: sandbox
        login_password: "{sectigo_wrong}"
        order_number: "424242"
      register: r_sectigo_wrong
      ignore_errors: true

    - name: Print what was registered
      ansible.builtin.debug:
        var: item
      loop:
        - "{{{{ r_create }}}}"
        - "{{{{ r_info }}}}"
        - "{{{{ r_cert }}}}"
        - "{{{{ r_wrong }}}}"
        - "{{{{ r_refused }}}}"
        - "{{{{ r_capath }}}}"
        - "{{{{ r_md_info }}}}"
        - "{{{{ r_md_revoke }}}}"
        - "{{{{ r_md_404 }}}}"
        - "{{{{ r_sectigo }}}}"
        - "{{{{ r_sectigo_wrong }}}}"

    - name: Dump what was registered
      ansible.builtin.copy:
        dest: "{work}/registered.json"
        mode: "0600"
        content: "{{{{ [r_create, r_info, r_cert, r_wrong, r_refused, r_capath, r_md_info, r_md_revoke, r_md_404,
                       r_sectigo, r_sectigo_wrong] | to_nice_json }}}}"
"""

ROLE_PLAY = """\
- name: Secret sentinels through the role
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    certificate_api_url: "{api_url}"
    certificate_ca_path: "{roots}"
    certificate_api_token: "{{{{ '{token}' if {by_param} else omit }}}}"
    certificate_product_id: {product}
    certificate_poll_interval: 1
    certificate_owner: root
    certificate_group: root
    certificate_dir: "{work}/role"
    certificate_organization: {{org_name: Secret Role Co, country_code: CN}}
    certificate_list:
      - name: site
        common_name: {cn}
        key_type: ecdsa
        key_size: 256
        cert_path: "{work}/role/site.crt"
        key_path: "{work}/role/site.key"
        fullchain_path: "{work}/role/site.fullchain.pem"
  pre_tasks:
    - name: Make the directory
      ansible.builtin.file:
        path: "{work}/role"
        state: directory
        mode: "0755"
  roles:
    - role: wotrus.pki.certificate
"""


def play(work, name, text, extra_env, args=("-vvvvv", "--diff")):
    path = os.path.join(work, name + ".yml")
    with open(path, "w") as f:
        f.write(text)
    log = os.path.join(work, name + ".log")
    env = lib.module_env(dict(ANSIBLE_LOG_PATH=log, ANSIBLE_COLLECTIONS_PATH=lib.COLLECTIONS,
                              ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                              ANSIBLE_PYTHON_INTERPRETER=os.path.join(lib.BIN, "python"), ANSIBLE_NOCOLOR="1"))
    env.update(extra_env)
    proc = subprocess.run([os.path.join(lib.BIN, "ansible-playbook"), "-i", "localhost,", path] + list(args),
                          cwd=lib.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=600)
    outputs = {"stdout": proc.stdout, "stderr": proc.stderr}
    if os.path.exists(log):
        outputs["log file"] = open(log, encoding="utf-8", errors="replace").read()
    return proc.returncode, outputs


def written_files(work, exclude):
    """Files the run wrote under ``work`` (registered dump, records, certificates...)."""
    out = {}
    for path in glob.glob(os.path.join(work, "**", "*"), recursive=True):
        if os.path.isfile(path) and path not in exclude and not path.endswith((".yml", ".log")):
            if path.endswith(".key"):
                continue  # the key file is meant to hold the key
            out[os.path.relpath(path, work)] = open(path, encoding="utf-8", errors="replace").read()
    return out


def key_markers(work):
    """Lines of base64 of every private key the run made (searched like sentinels)."""
    markers = []
    for path in glob.glob(os.path.join(work, "**", "*.key"), recursive=True):
        for line in open(path, encoding="utf-8", errors="replace").read().splitlines():
            if line and not line.startswith("-----") and len(line) >= 40:
                markers.append(line)
    return markers


def run(section, full, work):
    sent = sentinels()
    config = {"sectigo": {"login_password": sent["sectigo"]}}
    sb = lib.SandboxProcess(state_dir=os.path.join(work, "sandbox"), token=sent["token"], config=config)
    sb.start()
    rows = []
    try:
        csr_file = lib.write(os.path.join(work, "req.csr"), lib.csr(CN))
        runs = []
        for how, by_param in (("as a parameter", True), ("from WOTRUS_API_TOKEN", False)):
            d = os.path.join(work, "modules-" + ("param" if by_param else "env"))
            os.makedirs(d)
            sb.mgmt_post("/reset")
            text = MODULE_PLAY.format(by_param=str(by_param).lower(), how=how, api_url=sb.api_url, roots=sb.roots,
                                      product=lib.DV, cn=CN, csr_file=csr_file, work=d, **sent)
            env = {} if by_param else {"WOTRUS_API_TOKEN": sent["token"], "SECTIGO_LOGIN_PASSWORD": sent["sectigo"]}
            rc, outputs = play(d, "modules", text, env)
            runs.append(("modules, token " + how, d, rc, outputs))
            if not full:
                continue  # the role's runs: full run only
            rd = os.path.join(work, "role-" + ("param" if by_param else "env"))
            os.makedirs(rd)
            text = ROLE_PLAY.format(api_url=sb.api_url, roots=sb.roots, token=sent["token"],
                                    by_param=str(by_param).lower(), product=lib.DV,
                                    cn=("param-" if by_param else "env-") + CN, work=rd)
            rc, outputs = play(rd, "role", text, env)
            runs.append(("role, token " + how, rd, rc, outputs))
        for name, d, rc, outputs in runs:
            outputs.update(("file " + k, v) for k, v in written_files(d, ()).items())
            markers = dict(sent)
            for i, line in enumerate(key_markers(d)):
                markers["private key line %d" % i] = line
            hits = []
            for where, text in outputs.items():
                for label, value in markers.items():
                    n = text.count(value)
                    if n:
                        hits.append("%s in %s: %d" % (label, where, n))
            total = sum(int(h.rsplit(": ", 1)[1]) for h in hits)
            ran = "rc %d" % rc
            if "modules" in name:
                ok_runs = len(json.loads(open(os.path.join(d, "registered.json")).read())) \
                    if os.path.exists(os.path.join(d, "registered.json")) else 0
                ran += ", %d results registered" % ok_runs
                expected = ok_runs == 11 and rc == 0
            else:
                expected = rc == 0 and os.path.exists(os.path.join(d, "role", "site.crt"))
                ran += ", certificate deployed" if expected else ", role FAILED"
            rows.append([name, ", ".join(sorted(outputs)[:4]) + (" + %d files" % (len(outputs) - 4)
                                                                 if len(outputs) > 4 else ""),
                         len(markers), ran, total])
            section.check(total == 0, "sentinels: " + name, "; ".join(hits))
            section.check(expected, "sentinels: %s ran its success and error paths" % name,
                          "%s -- %s" % (ran, outputs["stdout"][-600:].replace("\n", " ")))
    finally:
        sb.cleanup()
    section.add("Runs at `-vvvvv --diff` with `ANSIBLE_LOG_PATH`; sentinels: API token (accepted and refused), "
                "`ukey_password`, Sectigo password (right and wrong), every base64 line of the private keys made.")
    section.add(lib.md_table(["run", "outputs searched", "sentinels", "ran", "occurrences"], rows))
