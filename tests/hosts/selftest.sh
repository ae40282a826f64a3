#!/usr/bin/env bash
# Self-test of the loopback test hosts (tests/hosts/hosts.sh): brings up 3
# hosts, checks SSH + Ansible, mount-namespace isolation, nginx per host (TLS
# with SNI, plain HTTP, reload, broken config keeps the old certificate), then
# takes them down and checks nothing is left.  Run as root:
#
#   tests/hosts/selftest.sh            # state in REPO/.tmp/test-hosts-selftest
#   TEST_HOSTS_DIR=/tmp/x tests/hosts/selftest.sh
#
# Ends with a line "N passed, M failed"; exit status 0 only if M is 0.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd)
HOSTS="$SCRIPT_DIR/hosts.sh"
STATE=${TEST_HOSTS_DIR:-$REPO_ROOT/.tmp/test-hosts-selftest}
ANSIBLE=${ANSIBLE:-$REPO_ROOT/.venv/bin/ansible}
N=3
# Ports: hosts.sh reads the same variables (defaults 22/443/80).
SSH_PORT=${TEST_HOSTS_SSH_PORT:-22}
HTTPS_PORT=${TEST_HOSTS_HTTPS_PORT:-443}
HTTP_PORT=${TEST_HOSTS_HTTP_PORT:-80}
export TEST_HOSTS_SSH_PORT=$SSH_PORT TEST_HOSTS_HTTPS_PORT=$HTTPS_PORT TEST_HOSTS_HTTP_PORT=$HTTP_PORT
MARKER=wotrus-selftest-marker.$$

passed=0
failed=0
ok() {
	passed=$((passed + 1))
	printf 'ok    %s\n' "$*"
}
nok() {
	failed=$((failed + 1))
	printf 'FAIL  %s\n' "$*"
}
# check DESCRIPTION COMMAND...: passes if COMMAND exits 0.
check() {
	local desc=$1
	shift
	if "$@" >/tmp/selftest-out.$$ 2>&1; then ok "$desc"; else
		nok "$desc"
		sed 's/^/      | /' /tmp/selftest-out.$$ | tail -n 15
	fi
}
# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [[ $2 == "$3" ]]; then ok "$1"; else nok "$1: expected '$2', got '$3'"; fi
}
check_ne() {
	if [[ $2 != "$3" ]]; then ok "$1"; else nok "$1: both are '$2'"; fi
}

sshh() { # sshh I COMMAND...: run a command on host I over real SSH
	local i=$1
	shift
	ssh -F "$STATE/ssh_config" "host$i" "$@"
}
addr() { printf '127.0.0.%d' "$(($1 + 1))"; }
# SHA-256 fingerprint of the certificate served on host I's TLS port for SNI NAME.
served_fp() {
	local out
	out=$(timeout 10 openssl s_client -connect "$(addr "$1"):$HTTPS_PORT" -servername "$2" </dev/null 2>/dev/null) || true
	openssl x509 -noout -fingerprint -sha256 <<<"$out" 2>/dev/null | cut -d= -f2
}
served_subject() {
	timeout 10 openssl s_client -connect "$(addr "$1"):$HTTPS_PORT" -servername "$2" </dev/null 2>/dev/null |
		openssl x509 -noout -subject -nameopt RFC2253 2>/dev/null || true
}
file_fp() { openssl x509 -noout -fingerprint -sha256 -in "$1" | cut -d= -f2; }
http_get() { # http_get I PATH HOSTHEADER -> body
	local i=$1 path=$2 host=$3 resp
	exec 5<>"/dev/tcp/$(addr "$i")/$HTTP_PORT" || return 0
	printf 'GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$path" "$host" >&5
	resp=$(timeout 5 cat <&5) || true
	exec 5<&-
	printf '%s' "${resp#*$'\r\n\r\n'}"
}
# live (non-zombie) processes whose mount namespace is NS
ns_procs() {
	local p st
	for p in /proc/[0-9]*; do
		[[ $(readlink "$p/ns/mnt" 2>/dev/null) == "$1" ]] || continue
		st=$(cat "$p/stat" 2>/dev/null) || continue
		st=${st##*) }
		if [[ ${st:0:1} != Z ]]; then printf '%s(%s) ' "${p#/proc/}" "$(cat "$p/comm")"; fi
	done
}

# live sshd/nginx processes that belong to these hosts: an sshd with a config
# from STATE, or any sshd/nginx whose /run holds one of our hosts' tokens
# (other state directories may run test hosts on other ports meanwhile)
our_daemons() {
	local p st tok
	for p in $(pgrep -x 'sshd|nginx' || true); do
		st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		st=${st##*) }
		[[ ${st:0:1} != Z ]] || continue
		if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$STATE/host-" ||
			{ tok=$(cat "/proc/$p/root/run/wotrus-test-host" 2>/dev/null) &&
				printf '%s\n' "${TOKENS[@]}" | grep -qxF -- "$tok"; }; then
			printf '%s(%s) ' "$p" "$(cat "/proc/$p/comm" 2>/dev/null)"
		fi
	done
}

cleanup() {
	"$HOSTS" down --dir "$STATE" >/dev/null 2>&1 || true
	rm -f /tmp/selftest-out.$$
}
trap cleanup EXIT

[[ $(id -u) -eq 0 ]] || {
	echo "selftest.sh: must run as root" >&2
	exit 1
}

# --- 0. loopback: all of 127.0.0.0/8 is local on Linux without configuration
check "127.0.0.0/8 is a local route on lo (127.0.0.2.. need no setup)" \
	bash -c "ip route show table local | grep -q '^local 127.0.0.0/8 dev lo'"

# --- 1. bring-up (packages are installed by hosts.sh if missing; not timed)
"$HOSTS" up 1 --dir "$STATE" >/dev/null 2>&1 || true # warm-up: installs packages
"$HOSTS" down --dir "$STATE" >/dev/null 2>&1 || true
t0=$(date +%s%N)
if "$HOSTS" up "$N" --dir "$STATE"; then ok "hosts.sh up $N"; else
	nok "hosts.sh up $N"
	echo "0 passed, 1 failed"
	exit 1
fi
ms=$((($(date +%s%N) - t0) / 1000000))
if ((ms < 30000)); then ok "bring-up of $N hosts took ${ms} ms (< 30 s)"; else nok "bring-up took ${ms} ms"; fi
check "status reports all hosts up" "$HOSTS" status --dir "$STATE"
check "inventory written" test -s "$STATE/inventory.ini"
check "hosts.json written" test -s "$STATE/hosts.json"
declare -A NS
TOKENS=()
for ((i = 1; i <= N; i++)); do
	NS[$i]=$(cat "$STATE/host-$i/mntns")
	TOKENS+=("$(cat "$STATE/host-$i/token")")
done
REAL_NS=$(readlink /proc/self/ns/mnt)

# --- 2. Ansible over SSH
out=$(cd "$REPO_ROOT" && ANSIBLE_DEPRECATION_WARNINGS=False "$ANSIBLE" -i "$STATE/inventory.ini" all \
	-m ansible.builtin.ping 2>&1) || true
check_eq "ansible ping: $N hosts answer pong" "$N" "$(grep -c 'SUCCESS' <<<"$out" || true)"
out=$(cd "$REPO_ROOT" && ANSIBLE_DEPRECATION_WARNINGS=False "$ANSIBLE" -i "$STATE/inventory.ini" all \
	-m ansible.builtin.command -a '{{ ansible_python_interpreter }} -c "import cryptography; print(cryptography.__version__)"' 2>&1) || true
check_eq "ansible_python_interpreter imports cryptography on every host" "$N" "$(grep -c 'CHANGED' <<<"$out" || true)"
out=$(cd "$REPO_ROOT" && ANSIBLE_DEPRECATION_WARNINGS=False "$ANSIBLE" -i "$STATE/inventory.ini" host2 \
	-m ansible.builtin.debug -a 'msg={{ test_host_address }}/{{ test_host_server_name }}' 2>&1) || true
check "inventory vars test_host_address / test_host_server_name" grep -q '127.0.0.3/host2.example.test' <<<"$out"

# --- 3. each SSH session lands in its host's own mount namespace
for ((i = 1; i <= N; i++)); do
	check_eq "ssh host$i lands in host$i's mount namespace" "${NS[$i]}" "$(sshh "$i" readlink /proc/self/ns/mnt)"
done
check_ne "host1 and host2 have different mount namespaces" "${NS[1]}" "${NS[2]}"
check_ne "host1's namespace is not the machine's" "$REAL_NS" "${NS[1]}"

# --- 4. isolation of /etc/ssl, /etc/nginx, /run
sshh 1 "echo host1 > /etc/ssl/$MARKER && echo host1 > /etc/nginx/$MARKER && echo host1 > /run/$MARKER"
check "host1 sees its own /etc/ssl file" sshh 1 test -f "/etc/ssl/$MARKER"
check "host1's /etc/ssl file lands in STATE/host-1/etc-ssl" test -f "$STATE/host-1/etc-ssl/$MARKER"
for d in /etc/ssl /etc/nginx /run; do
	check "host2 does not see host1's file in $d" sshh 2 "! test -e $d/$MARKER"
	check "the real machine does not see host1's file in $d" test ! -e "$d/$MARKER"
done
check "hosts keep the machine's CA bundle" sshh 1 test -s /etc/ssl/certs/ca-certificates.crt
check_ne "host1 and host2 have their own /run/nginx.pid" "$(sshh 1 cat /run/nginx.pid)" "$(sshh 2 cat /run/nginx.pid)"
for ((i = 1; i <= N; i++)); do
	check "nginx -t over ssh on host$i" sshh "$i" nginx -t
done

# --- 5. TLS with SNI and plain HTTP per address
declare -A FP
for ((i = 1; i <= N; i++)); do
	FP[$i]=$(served_fp "$i" "host$i.example.test")
	check_eq "host$i ($(addr "$i"):$HTTPS_PORT, SNI host$i.example.test) serves its placeholder cert" \
		"$(file_fp "$STATE/host-$i/etc-ssl/test-host/placeholder.crt")" "${FP[$i]}"
	check "host$i's cert names host$i.example.test" \
		grep -q "CN=host$i.example.test" <<<"$(served_subject "$i" "host$i.example.test")"
	check_eq "host$i serves HTTP on $(addr "$i"):$HTTP_PORT" "host$i" "$(http_get "$i" /test-host.txt "host$i.example.test" | tr -d '\n')"
done
check_ne "host1 and host2 serve different certificates" "${FP[1]}" "${FP[2]}"

# --- 6. deploy a new cert on host1 + reload; then a broken config keeps it
sshh 1 "HTTPS_PORT=$HTTPS_PORT; "'set -e; cd /etc/ssl/test-host
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=host1.example.test \
		-keyout new.key -out new.crt 2>/dev/null
	cat > /etc/nginx/conf.d/selftest.conf <<EOF
server {
	listen 127.0.0.2:$HTTPS_PORT ssl;
	server_name host1.example.test;
	ssl_certificate /etc/ssl/test-host/new.crt;
	ssl_certificate_key /etc/ssl/test-host/new.key;
}
EOF
	nginx -t 2>/dev/null && nginx -s reload 2>/dev/null'
new_fp=$(file_fp "$STATE/host-1/etc-ssl/test-host/new.crt")
fp=""
for _ in $(seq 50); do # a reload takes effect asynchronously
	fp=$(served_fp 1 host1.example.test)
	[[ $fp == "$new_fp" ]] && break
	sleep 0.1
done
check_eq "after nginx -s reload over ssh, host1 serves the new cert for its name" "$new_fp" "$fp"
check_eq "host1 still serves the placeholder to other names (default_server)" "${FP[1]}" "$(served_fp 1 other.example.test)"
check_eq "host2 is unaffected by host1's reload" "${FP[2]}" "$(served_fp 2 host2.example.test)"
sshh 1 'echo "this is not nginx syntax" > /etc/nginx/conf.d/broken.conf'
check "nginx -t on host1 fails with the broken config" sshh 1 '! nginx -t'
check "nginx -s reload on host1 refuses the broken config" sshh 1 '! nginx -s reload'
sshh 1 'kill -HUP "$(cat /run/nginx.pid)"' # force a reload: the master must keep the old config
sleep 0.5
check_eq "with a broken config, host1 still serves the last good cert" "$new_fp" "$(served_fp 1 host1.example.test)"
check "host1's error.log records the refused reload" grep -q 'emerg.*broken.conf' "$STATE/host-1/var-log-nginx/error.log"
sshh 1 'rm -f /etc/nginx/conf.d/broken.conf'
out=$(cd "$REPO_ROOT" && ANSIBLE_DEPRECATION_WARNINGS=False "$ANSIBLE" -i "$STATE/inventory.ini" host3 \
	-m ansible.builtin.service -a 'name=nginx state=restarted' 2>&1) || true
check "ansible.builtin.service restarts nginx inside host3's namespace" grep -q 'CHANGED' <<<"$out"
check_eq "host3 serves TLS after the service restart" "${FP[3]}" "$(served_fp 3 host3.example.test)"
check "a daemon (re)started over ssh stays in host3's namespace" \
	bash -c "[[ \$(readlink /proc/\$(cat $STATE/host-3/run/nginx.pid)/ns/mnt) == '${NS[3]}' ]]"

# --- 7. second up restarts cleanly (fresh hosts); --reuse keeps them
check "hosts.sh up $N again (restart)" "$HOSTS" up "$N" --dir "$STATE"
check "hosts.sh up $N --reuse (no-op)" "$HOSTS" up "$N" --dir "$STATE" --reuse
check_eq "after the restart host1 serves a fresh placeholder again" \
	"$(file_fp "$STATE/host-1/etc-ssl/test-host/placeholder.crt")" "$(served_fp 1 host1.example.test)"
for ((i = 1; i <= N; i++)); do
	NS2[$i]=$(cat "$STATE/host-$i/mntns")
	TOKENS+=("$(cat "$STATE/host-$i/token")")
done
# an SSH session left open must not survive down
ssh -F "$STATE/ssh_config" host2 'sleep 300' >/dev/null 2>&1 &
sleep 0.5

# --- 8. down: nothing left
check "hosts.sh down" "$HOSTS" down --dir "$STATE"
for ((i = 1; i <= N; i++)); do
	for ns in "${NS[$i]}" "${NS2[$i]}"; do
		check_eq "no live process left in host$i's namespace $ns" "" "$(ns_procs "$ns")"
	done
	for port in "$SSH_PORT" "$HTTP_PORT" "$HTTPS_PORT"; do
		check "nothing listens on $(addr "$i"):$port" bash -c "! ss -Hltn | awk '{print \$4}' | grep -qxF '$(addr "$i"):$port'"
	done
done
check_eq "no nginx/sshd of ours left (by command line / namespace)" "" "$(our_daemons)"
check "status after down says nothing is up" bash -c "'$HOSTS' status --dir '$STATE'; [[ \$? == 3 ]]"
check "a second down is a no-op" "$HOSTS" down --dir "$STATE"
check "the real /etc/ssl has no file from the hosts" test ! -e "/etc/ssl/$MARKER"
check "the real /etc/nginx has no file from the hosts" bash -c "! ls /etc/nginx/conf.d/selftest.conf /etc/nginx/$MARKER 2>/dev/null"
wait || true

echo "$passed passed, $failed failed"
((failed == 0))
