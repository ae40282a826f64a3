#!/usr/bin/env python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reliability as figures (issue 8): fault matrix, bad inputs, concurrency,
kills of the role, secret sentinels -- against the WoTrus sandbox, through
the real modules and the role.

    python tests/reliability/run.py --fast            # the gate in `make test`
    python tests/reliability/run.py --full --write docs/reliability.md
    python tests/reliability/run.py --fast --only matrix,inputs

Prints markdown tables and "N passed, N failed"; exits non-zero when a
count that must be zero is not, or a cell failed unclearly.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import lib  # noqa: E402  pylint: disable=wrong-import-position

SECTIONS = ("matrix", "inputs", "concurrency", "secrets", "kills")
TITLES = {
    "matrix": "Fault matrix",
    "inputs": "Bad inputs",
    "concurrency": "Concurrency",
    "secrets": "Secret sentinels",
    "kills": "Kill matrix (the role over SSH test hosts)",
}


METHOD = """\
## How the figures are taken

Everything runs against one local WoTrus sandbox per worker (the repository's sandbox, not part of the collection), reset between cells.
Modules run the way Ansible runs them (their file, an arguments file, JSON on stdout): the same argument
spec, `no_log` handling and `fail_json` path as in a playbook, without a play per call. The role runs
through `ansible-playbook`.

- **Fault matrix**: one scripted fault (`POST /faults`) on the endpoint of the operation, then the module:
  Create `wotrus_order`, Query `wotrus_order_info`, RetrievePem `wotrus_certificate`, Cancel
  `wotrus_order state=absent`, Revoke `wotrus_revoke`, Reissue `wotrus_reissue`. *Once*: `count: 1`
  (503/429 ask `Retry-After: 3`); *persistent*: `count: 12`, more than any retry budget (`Retry-After: 1`);
  *after the commit*: `execute: true` (the request takes effect, then the fault answers). `commit_then_drop`
  and `slow` always execute, so their *after the commit* cell is their *once* cell. `slow` delays 3 s against
  a module `timeout` of 1.5 s. A cell passes when the module **recovered** (success, and the sandbox shows the
  goal: one order / the status read / the certificate file with the order's serial / `closed` /
  `pendingRevoke` or `revoked` / one reissued order) or **failed clearly** (a JSON result, no traceback, a
  `msg` naming the operation, and where an HTTP answer came: its RequestID and HTTP status, and the API's
  `errorMsg` for `isSuccess: false`), and: no duplicate order (orders per idempotence id, orders made),
  a 503/429 answered once is not resent before its `Retry-After`, and Cancel/Revoke do not fail when the
  sandbox shows their goal reached (they can read it with a GET that is not faulted). The sandbox refuses a
  second Cancel/Revoke of one order, so neither takes effect twice there; the figure "requests after one
  executed" (from the sandbox's request count and which requests the fault let through; `slow` counted as
  executed, as the sandbox's README says) shows how often the client sent one more.
- **Bad inputs**: one wrong option per case; a case passes with a failed result whose `msg` names the option
  (or role variable), no traceback, no writing API call (Create, Cancel, RevokeRequest, ReissueRequest,
  Notification/email; the sandbox's counts), and for `wotrus_certificate` no file written. Role cases run in
  one `ansible-playbook` run, one inventory host per case (a localhost alias); its orders are told apart by
  common name.
- **Concurrency**: 20 module runs started at once per operation, with one key (create, reissue) or one
  order (cancel, revoke, fetch to one `cert_path`): one order, no failed run, exactly one `changed`
  (and one `created: true` for create).
- **Kill matrix**: the role over 3 SSH test hosts (`tests/hosts/hosts.sh`), each cell a new certificate
  to every host; `ansible-playbook`'s process group gets SIGKILL when the step is seen from outside (staged key
  / CSR on a host's disk, a new order on the sandbox, orders pending 2 s, the deploy's first file, nginx
  serving the new certificate), then the playbook runs again. Counted: key/cert mismatch at the kill,
  after the re-run duplicate orders, key/cert mismatch (served key vs full chain and `cert_path`), hosts whose
  TLS handshake (SNI, verified against the sandbox roots) fails or serves another certificate than deployed.
- **Secret sentinels**: playbooks at `-vvvvv --diff` with `ANSIBLE_LOG_PATH`, success and error paths,
  the API token as a parameter, from `WOTRUS_API_TOKEN` and from `module_defaults`, a refused token,
  `ukey_password`, the Sectigo password (right and wrong), and every base64 line of the private keys the
  role made; searched in stdout, stderr, the log file, registered results (printed and dumped to a file)
  and every file the run wrote (key files excepted).

`make reliability-fast` runs a subset (30 matrix cells, every module bad-input case and 6 role cases,
concurrency for create and cancel, the modules' sentinel runs; no kill matrix) as a gate.
"""


def machine():
    cpus = os.cpu_count()
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        mem = 0
    return "%s, %s, %s CPUs, %d MiB, Python %s" % (platform.node(), platform.platform(terse=True), cpus, mem,
                                                   platform.python_version())


def run_section(name, full, work):
    section = lib.Section(TITLES[name])
    started = time.monotonic()
    sub = os.path.join(work, name)
    os.makedirs(sub, exist_ok=True)
    try:
        if name == "matrix":
            import matrix
            matrix.run(section, full, sub, workers=3 if full else 2)
        elif name == "inputs":
            import inputs
            inputs.run(section, full, sub)
        elif name == "concurrency":
            import concurrency
            concurrency.run(section, full, sub)
        elif name == "secrets":
            import secrets_check
            secrets_check.run(section, full, sub)
        elif name == "kills":
            import kills
            kills.run(section, full, sub)
    except Exception as exc:  # pylint: disable=broad-except
        import traceback
        section.check(False, "%s: harness error" % name, "%r\n%s" % (exc, traceback.format_exc()))
    section.seconds = time.monotonic() - started
    section.add("_%s: %d passed, %d failed, %.0f s_" % (TITLES[name], section.passed, len(section.failures),
                                                       section.seconds))
    return section


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    level = parser.add_mutually_exclusive_group()
    level.add_argument("--fast", action="store_true", help="the subset of `make test` (default)")
    level.add_argument("--full", action="store_true", help="every cell and case")
    parser.add_argument("--only", default="", help="comma-separated sections: " + ", ".join(SECTIONS))
    parser.add_argument("--skip", default="", help="comma-separated sections to leave out")
    parser.add_argument("--write", metavar="FILE", help="also write the report (markdown) to FILE")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    full = args.full
    names = [n for n in (args.only.split(",") if args.only else SECTIONS) if n]
    unknown = [n for n in names + [n for n in args.skip.split(",") if n] if n not in SECTIONS]
    if unknown:
        parser.error("unknown section(s): %s" % ", ".join(unknown))
    names = [n for n in names if n not in args.skip.split(",")]
    if not full and "kills" in names and not args.only:
        names.remove("kills")  # needs root and the SSH hosts: full run only
    tmp_root = os.path.join(lib.ROOT, ".tmp")
    os.makedirs(tmp_root, exist_ok=True)
    work = tempfile.mkdtemp(prefix="reliability-", dir=tmp_root)
    started = time.monotonic()
    sections = []
    for name in names:
        print("== %s ..." % TITLES[name], flush=True)
        section = run_section(name, full, work)
        print(section.markdown(), flush=True)
        sections.append(section)
    seconds = time.monotonic() - started
    passed = sum(s.passed for s in sections)
    failed = sum(len(s.failures) for s in sections)
    summary = "%d passed, %d failed (%s run, %.0f s)" % (passed, failed, "full" if full else "fast", seconds)
    if args.write:
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        head = ["# Reliability figures", "",
                "Written by `make reliability` (`tests/reliability/run.py --full`); each failing cell or case",
                "is listed under its table with what the module said.", "",
                "- date: %s" % now, "- machine: %s" % machine(),
                "- result: %s" % summary, ""]
        overview = lib.md_table(["section", "passed", "failed", "seconds"],
                                [[s.title, s.passed, len(s.failures), "%.0f" % s.seconds] for s in sections])
        text = ("\n".join(head) + "\n" + overview + "\n\n" + METHOD + "\n" +
                "\n".join(s.markdown() for s in sections))
        # The report ships in the collection: no path of the machine that wrote it.
        with open(args.write, "w") as f:
            f.write(text.replace(lib.ROOT + os.sep, "<checkout>/"))
        print("wrote %s" % args.write)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("work directory kept: %s" % work)
    print(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
