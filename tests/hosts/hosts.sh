#!/usr/bin/env bash
# Loopback test hosts for wotrus.pki: N "hosts" on one machine, each reached
# over real SSH at its own loopback address, each with its own /etc/ssl,
# /etc/nginx, /run, /var/log/nginx, /var/lib/nginx and /var/www (a private
# mount namespace made with `unshare -m` and bind mounts), and each with its
# own nginx serving TLS on that address.  See tests/hosts/README.md.
#
#   tests/hosts/hosts.sh up N [--dir STATE] [--reuse] [--python PATH] ...
#   tests/hosts/hosts.sh down [--dir STATE] [--purge]
#   tests/hosts/hosts.sh status [--dir STATE]
#   tests/hosts/hosts.sh ssh I [--dir STATE] [COMMAND...]
#   tests/hosts/hosts.sh exec I [--dir STATE] COMMAND...
#
# Must run as root (mount namespaces, bind mounts, ports 22/80/443).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
SELF="$SCRIPT_DIR/$(basename -- "${BASH_SOURCE[0]}")"
REPO_ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd)

STATE=${TEST_HOSTS_DIR:-$REPO_ROOT/.tmp/test-hosts}
SSH_PORT=${TEST_HOSTS_SSH_PORT:-22}
HTTPS_PORT=${TEST_HOSTS_HTTPS_PORT:-443}
HTTP_PORT=${TEST_HOSTS_HTTP_PORT:-80}
TIMEOUT=${TEST_HOSTS_TIMEOUT:-20}
PYTHON=${TEST_HOSTS_PYTHON:-}
INSTALL=${TEST_HOSTS_INSTALL:-1}
REUSE=0
PURGE=0
MAX_HOSTS=200

# Paths as seen *inside* every host (documented in tests/hosts/README.md).
H_CERT_DIR=/etc/ssl/test-host
H_CERT=$H_CERT_DIR/placeholder.crt
H_KEY=$H_CERT_DIR/placeholder.key
H_NGINX_SITE=/etc/nginx/conf.d/test-host-placeholder.conf
H_WEBROOT=/var/www/html
H_TOKEN=/run/wotrus-test-host
# per-host directory under STATE/host-I  ->  path inside the host
BINDS=(
	"etc-ssl:/etc/ssl"
	"etc-nginx:/etc/nginx"
	"run:/run"
	"var-log-nginx:/var/log/nginx"
	"var-lib-nginx:/var/lib/nginx"
	"var-www:/var/www"
)

log() { printf 'hosts.sh: %s\n' "$*" >&2; }
die() {
	printf 'hosts.sh: ERROR: %s\n' "$*" >&2
	exit 1
}

usage() {
	sed -n '2,14p' "$SELF" | sed 's/^# \{0,1\}//'
	cat <<'EOF'
Options:
  --dir STATE       state directory (default: $TEST_HOSTS_DIR or REPO/.tmp/test-hosts)
  --reuse           `up`: keep the running hosts if exactly N are up and healthy
                    (default: stop them and start N fresh hosts)
  --python PATH     ansible_python_interpreter written to the inventory
                    (default: /usr/bin/python3, the system's, with the
                    distribution's python3-cryptography, installed by apt if
                    missing; a managed host has that, not the project's .venv)
  --ssh-port P      sshd port on every address (default 22)
  --https-port P    nginx TLS port (default 443)
  --http-port P     nginx plain HTTP port (default 80)
  --timeout S       seconds to wait for the daemons (default 20)
  --no-install      do not apt-get install missing packages
  --purge           `down`: also delete STATE
EOF
}

# ---------------------------------------------------------------- helpers

host_addr() { printf '127.0.0.%d' "$(($1 + 1))"; }
host_name() { printf 'host%d' "$1"; }
host_fqdn() { printf 'host%d.example.test' "$1"; }
host_dir() { printf '%s/host-%d' "$STATE" "$1"; }

# alive PID: the process exists and is not a zombie.
alive() {
	local pid=$1 stat
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z && ${stat:0:1} != X ]]
}

# Host indexes that have a directory in STATE, sorted numerically.
state_hosts() {
	local d
	[[ -d $STATE ]] || return 0
	for d in "$STATE"/host-*; do
		[[ -d $d ]] || continue
		d=${d##*/host-}
		if [[ $d =~ ^[0-9]+$ ]]; then printf '%s\n' "$d"; fi
	done | sort -n
}

# PIDs of every live process in host I's mount namespace.  A process counts
# only if its mount namespace is the one recorded at start-up AND it sees this
# host's token in its /run (or its mount table shows this host's directory),
# so a namespace inode reused by someone else after ours died never matches.
ns_pids() {
	local d ns token p pns
	d=$(host_dir "$1")
	ns=$(cat "$d/mntns" 2>/dev/null) || return 0
	token=$(cat "$d/token" 2>/dev/null) || token=
	[[ -n $ns ]] || return 0
	for p in /proc/[0-9]*; do
		pns=$(readlink "$p/ns/mnt" 2>/dev/null) || continue
		[[ $pns == "$ns" ]] || continue
		alive "${p#/proc/}" || continue
		if [[ -n $token && $(cat "$p/root$H_TOKEN" 2>/dev/null) == "$token" ]] ||
			grep -qF -- "$d/" "$p/mountinfo" 2>/dev/null; then
			printf '%s\n' "${p#/proc/}"
		fi
	done
}

# "ADDR:PORT" of every listening TCP socket (IPv4 + IPv6 wildcard forms).
listeners() { ss -Hltn 2>/dev/null | awk '{print $4}'; }

comm_of() { cat "/proc/$1/comm" 2>/dev/null || echo '?'; }

validate_state_dir() {
	[[ -n $STATE ]] || die "empty --dir"
	[[ $STATE != *[[:space:]]* ]] || die "--dir must not contain whitespace: '$STATE'"
	mkdir -p -- "$STATE"
	STATE=$(cd -- "$STATE" && pwd -P)
	case $STATE in
	/ | /etc | /etc/* | /run | /run/* | /var/www | /var/www/* | /var/log/nginx* | /var/lib/nginx* | /usr | /usr/*)
		die "refusing to use '$STATE' as the state directory"
		;;
	esac
	if [[ ! -e $STATE/.wotrus-test-hosts ]]; then
		if [[ -n $(ls -A -- "$STATE") ]]; then
			die "'$STATE' is not empty and was not made by hosts.sh (no .wotrus-test-hosts marker); pick another --dir"
		fi
		echo "state directory of tests/hosts/hosts.sh" >"$STATE/.wotrus-test-hosts"
	fi
}

# One up/down at a time per state directory.  fd 9 is closed for the daemons
# (see cmd_up), so the lock is released when this script exits.
LOCKED=0
lock_state() {
	((LOCKED)) && return 0
	exec 9>"$STATE/.lock"
	flock -w 120 9 || die "another hosts.sh holds $STATE/.lock for more than 120 s"
	LOCKED=1
}

need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root (mount namespaces, bind mounts, ports < 1024)"; }

# ---------------------------------------------------------------- packages

PKGS=(openssh-server openssh-client nginx openssl iproute2 util-linux)
CMDS=(/usr/sbin/sshd /usr/sbin/nginx ssh ssh-keygen openssl ss unshare nsenter setsid flock)

pkg_installed() {
	[[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

ensure_packages() {
	local missing=() p c
	for p in "${PKGS[@]}"; do pkg_installed "$p" || missing+=("$p"); done
	if [[ $PYTHON == /usr/bin/python3 ]]; then
		# The system Python as a managed host has it: the distribution's cryptography;
		# python3-venv so that tests can make host interpreters from it.
		/usr/bin/python3 -c 'import cryptography' 2>/dev/null || missing+=(python3 python3-cryptography)
		pkg_installed python3-venv || missing+=(python3-venv)
	fi
	if ((${#missing[@]})); then
		[[ $INSTALL == 1 ]] || die "missing packages: ${missing[*]} (and --no-install given)"
		command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get"
		log "installing: ${missing[*]}"
		local aptlog rc=0
		aptlog=$(mktemp /tmp/wotrus-test-hosts-apt.XXXXXX)
		# Keep the packages' postinst from starting the system-wide nginx/sshd
		# (they would hold 0.0.0.0:80 / 0.0.0.0:22): a policy-rc.d that denies
		# service starts, only for the time of the install, only if none exists.
		(
			made_policy=0
			if [[ ! -e /usr/sbin/policy-rc.d ]]; then
				printf '#!/bin/sh\n# temporary, from wotrus.pki tests/hosts/hosts.sh\nexit 101\n' >/usr/sbin/policy-rc.d
				chmod 0755 /usr/sbin/policy-rc.d
				made_policy=1
			fi
			trap '[[ $made_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d' EXIT
			export DEBIAN_FRONTEND=noninteractive
			apt-get update -qq &&
				apt-get install -y -qq --no-install-recommends \
					-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
					"${missing[@]}"
		) >"$aptlog" 2>&1 || rc=$?
		if ((rc != 0)); then
			tail -n 30 "$aptlog" >&2
			die "apt-get install ${missing[*]} failed (exit $rc; full log: $aptlog)"
		fi
		rm -f "$aptlog"
	fi
	for c in "${CMDS[@]}"; do
		command -v "$c" >/dev/null || die "required command not found: $c"
	done
	getent passwd www-data >/dev/null || die "user www-data missing (nginx package should create it)"
}

# ---------------------------------------------------------------- conflicts

# The per-host daemons bind 127.0.0.X:PORT.  A listener on the wildcard
# address (0.0.0.0 / *) or on our exact address for the same port makes that
# bind fail.  A system nginx/sshd there (e.g. started by a package postinst)
# is stopped; anything else is reported and we give up.
# The per-host daemons bind 127.0.0.X:PORT.  A listener on the wildcard
# address (0.0.0.0 / *) or on our exact address for the same port makes that
# bind fail.  What holds it:
#  - test hosts of another state directory: we stop and say "down --dir X";
#    if that directory is gone (orphans), their whole namespace is killed;
#  - a system nginx/sshd (e.g. started by a package postinst): stopped;
#  - anything else: reported, and we give up.
free_ports() {
	local n=$1 port line la pids pid i want=() stopped=0 w hit other
	for port in "$SSH_PORT" "$HTTP_PORT" "$HTTPS_PORT"; do
		want+=("0.0.0.0:$port" "*:$port")
		for ((i = 1; i <= n; i++)); do want+=("$(host_addr "$i"):$port"); done
	done
	while IFS= read -r line; do
		[[ -n $line ]] || continue
		la=$(awk '{print $4}' <<<"$line")
		hit=0
		for w in "${want[@]}"; do if [[ $la == "$w" ]]; then hit=1; break; fi; done
		((hit)) || continue
		pids=$(grep -o 'pid=[0-9]*' <<<"$line" | cut -d= -f2 | sort -un | tr '\n' ' ')
		[[ -n $pids ]] || die "port conflict: something listens on $la (no pid visible); choose other ports"
		for pid in $pids; do
			alive "$pid" || continue
			if [[ -e /proc/$pid/root$H_TOKEN ]]; then
				other=$(other_state_of "$pid")
				if [[ -n $other && -e $other/up.env ]]; then
					die "$la is in use by the test hosts of $other; run: $SELF down --dir $other"
				fi
				log "WARNING: killing orphaned test-host processes (namespace of pid $pid, state '${other:-unknown}' gone) holding $la"
				kill_ns_of "$pid"
				stopped=1
				continue
			fi
			case $(comm_of "$pid") in
			nginx | sshd)
				log "WARNING: stopping $(comm_of "$pid") (pid $pid) listening on $la: it conflicts with the test hosts"
				kill -TERM "$pid" 2>/dev/null || true
				stopped=1
				;;
			*)
				die "port conflict: '$(comm_of "$pid")' (pid $pid) listens on $la; stop it or choose other ports (--ssh-port/--http-port/--https-port)"
				;;
			esac
		done
	done < <(ss -Hltnp 2>/dev/null)
	if ((stopped)); then
		local deadline=$((SECONDS + 10)) busy l
		while :; do
			busy=0
			while IFS= read -r l; do
				for w in "${want[@]}"; do if [[ $l == "$w" ]]; then busy=1; fi; done
			done < <(listeners)
			((busy)) || break
			((SECONDS < deadline)) || die "conflicting listeners did not go away: $(listeners | tr '\n' ' ')"
			sleep 0.2
		done
	fi
}

# The state directory of the test host that process PID belongs to (from the
# "-f STATE/host-I/sshd_config" of an sshd in the same mount namespace).
other_state_of() {
	local ns p args
	ns=$(readlink "/proc/$1/ns/mnt" 2>/dev/null) || return 0
	for p in /proc/[0-9]*; do
		[[ $(readlink "$p/ns/mnt" 2>/dev/null) == "$ns" ]] || continue
		args=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
		if [[ $args =~ -f\ ([^ ]+)/host-[0-9]+/sshd_config ]]; then
			printf '%s\n' "${BASH_REMATCH[1]}"
			return 0
		fi
	done
}

# Kill every process in the mount namespace of PID (a test host's).
kill_ns_of() {
	local ns p pids=() deadline
	ns=$(readlink "/proc/$1/ns/mnt" 2>/dev/null) || return 0
	[[ $ns != "$(readlink /proc/self/ns/mnt)" ]] || return 0
	for p in /proc/[0-9]*; do
		[[ $(readlink "$p/ns/mnt" 2>/dev/null) == "$ns" ]] && pids+=("${p#/proc/}")
	done
	((${#pids[@]})) || return 0
	kill -TERM "${pids[@]}" 2>/dev/null || true
	deadline=$((SECONDS + 3))
	while ((SECONDS < deadline)); do
		local any=0
		for p in "${pids[@]}"; do if alive "$p"; then any=1; fi; done
		((any)) || return 0
		sleep 0.1
	done
	kill -KILL "${pids[@]}" 2>/dev/null || true
}

# ---------------------------------------------------------------- python

# The hosts' interpreter: the system Python, as on a managed host, unless --python
# names another (a venv with another cryptography, say; see tests/hosts/README.md).
pick_python() {
	PYTHON=${PYTHON:-/usr/bin/python3}
	if [[ $PYTHON != /usr/bin/python3 ]]; then
		[[ -x $PYTHON ]] || die "--python $PYTHON is not executable"
	fi
}

# What the hosts' interpreter is, for the log: Python and cryptography versions.
describe_python() {
	"$PYTHON" -c 'import sys
try:
    import cryptography
    c = cryptography.__version__
except ImportError:
    c = "none"
print("Python %d.%d.%d, cryptography %s" % (sys.version_info[:3] + (c,)))' 2>/dev/null || echo "does not run"
}

# ---------------------------------------------------------------- host setup

prepare_host() {
	local i=$1 d addr name fqdn use_pam=no
	d=$(host_dir "$i")
	addr=$(host_addr "$i")
	name=$(host_name "$i")
	fqdn=$(host_fqdn "$i")

	rm -rf -- "$d"
	mkdir -p -- "$d"/{ssh,run,var-log-nginx,var-lib-nginx,var-www/html}
	chmod 0755 "$d" "$d/run" "$d/var-lib-nginx" "$d/var-www" "$d/var-www/html"
	chmod 0700 "$d/ssh"
	chown root:adm "$d/var-log-nginx" 2>/dev/null || true

	# /etc/ssl: a copy of the machine's (CA bundle in certs/ included).
	cp -a /etc/ssl "$d/etc-ssl"
	mkdir -p "$d/etc-ssl${H_CERT_DIR#/etc/ssl}"
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 \
		-subj "/O=wotrus.pki test host/CN=$fqdn" \
		-addext "subjectAltName=DNS:$fqdn,IP:$addr" \
		-keyout "$d/etc-ssl${H_KEY#/etc/ssl}" -out "$d/etc-ssl${H_CERT#/etc/ssl}" \
		>/dev/null 2>&1 || die "openssl could not make the placeholder certificate for $name"
	chmod 0600 "$d/etc-ssl${H_KEY#/etc/ssl}"
	chmod 0644 "$d/etc-ssl${H_CERT#/etc/ssl}"

	# /etc/nginx: the package's support files (mime.types, snippets, ...), no
	# sites from the machine (Debian's default site listens on 0.0.0.0:80).
	cp -a /etc/nginx "$d/etc-nginx"
	rm -rf "$d/etc-nginx/conf.d" "$d/etc-nginx/sites-enabled" "$d/etc-nginx/sites-available"
	mkdir -p "$d/etc-nginx/conf.d" "$d/etc-nginx/sites-enabled" "$d/etc-nginx/sites-available" \
		"$d/etc-nginx/modules-enabled"
	cat >"$d/etc-nginx/nginx.conf" <<EOF
# $name ($addr) -- written by tests/hosts/hosts.sh; Debian's layout, one worker.
user www-data;
worker_processes 1;
pid /run/nginx.pid;
error_log /var/log/nginx/error.log;
include /etc/nginx/modules-enabled/*.conf;

events {
	worker_connections 256;
}

http {
	sendfile on;
	tcp_nopush on;
	types_hash_max_size 2048;
	server_names_hash_bucket_size 64;
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	ssl_protocols TLSv1.2 TLSv1.3;
	ssl_prefer_server_ciphers on;
	access_log /var/log/nginx/access.log;
	include /etc/nginx/conf.d/*.conf;
	include /etc/nginx/sites-enabled/*;
}
EOF
	cat >"$d/etc-nginx${H_NGINX_SITE#/etc/nginx}" <<EOF
# Placeholder site of $name, written by tests/hosts/hosts.sh.
# It is the default_server with server_name "_", so a server block that a role
# adds for "$fqdn" on $addr:$HTTPS_PORT takes that name over without a
# "conflicting server name" warning.  Listen on $addr only: every test host
# shares the machine's network, so "listen $HTTPS_PORT" (all addresses) would
# collide with the other hosts.
server {
	listen $addr:$HTTP_PORT default_server;
	server_name _;
	root $H_WEBROOT;
	location / {
		try_files \$uri \$uri/ =404;
	}
}

server {
	listen $addr:$HTTPS_PORT ssl default_server;
	server_name _;
	ssl_certificate $H_CERT;
	ssl_certificate_key $H_KEY;
	root $H_WEBROOT;
	location / {
		try_files \$uri \$uri/ =404;
	}
}
EOF
	printf '%s\n' "$name" >"$d/var-www/html/test-host.txt"
	printf '<!doctype html><title>%s</title><p>%s (%s)</p>\n' "$fqdn" "$fqdn" "$addr" >"$d/var-www/html/index.html"

	# sshd: host key, config.  Root by key only; keys file outside the host.
	ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$d/ssh/ssh_host_ed25519_key"
	# Without PAM, sshd refuses an account whose password is locked with "!".
	[[ $(getent shadow root 2>/dev/null | cut -d: -f2) == '!'* ]] && use_pam=yes
	cat >"$d/sshd_config" <<EOF
# $name ($addr) -- written by tests/hosts/hosts.sh
ListenAddress $addr:$SSH_PORT
AddressFamily inet
HostKey $d/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile $STATE/ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM $use_pam
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
MaxStartups 64:30:128
MaxSessions 32
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
LogLevel INFO
EOF

	openssl rand -hex 16 >"$d/token"
	cp "$d/token" "$d/run${H_TOKEN#/run}"
	cat >"$d/host.env" <<EOF
HOST_INDEX=$i
HOST_NAME=$name
HOST_FQDN=$fqdn
HOST_ADDR=$addr
HOST_DIR=$d
EOF
}

# Runs as: setsid unshare --mount --propagation private -- bash hosts.sh __ns_init DIR OUTER_NS
# i.e. already inside the new mount namespace.  Becomes the host's sshd.
ns_init() {
	local d=$1 outer_ns=$2 ns pair src dst
	ns=$(readlink /proc/self/ns/mnt)
	echo "$$" >"$d/leader.pid"
	echo "$ns" >"$d/mntns"
	# Never bind-mount over the machine's real /etc/ssl etc.
	[[ -n $ns && $ns != "$outer_ns" ]] || die "not in a new mount namespace ($ns); refusing to mount"
	mount -n --make-rprivate /
	for pair in "${BINDS[@]}"; do
		src=$d/${pair%%:*}
		dst=${pair#*:}
		mkdir -p "$dst" # (on the real filesystem: mount points must exist)
		mount -n --bind "$src" "$dst"
	done
	mkdir -p /run/sshd /run/lock
	chmod 0755 /run/sshd
	chmod 1777 /run/lock
	[[ $(cat "$H_TOKEN") == "$(cat "$d/token")" ]] || die "bind mount of /run did not take"
	/usr/sbin/nginx -t -q || die "nginx -t failed in $d"
	/usr/sbin/nginx # daemonizes; stays in this namespace
	/usr/sbin/sshd -t -f "$d/sshd_config" || die "sshd -t failed for $d/sshd_config"
	exec /usr/sbin/sshd -D -e -f "$d/sshd_config"
}

# ---------------------------------------------------------------- down

down_host() {
	local i=$1 d pids leader deadline
	d=$(host_dir "$i")
	mapfile -t pids < <(ns_pids "$i")
	leader=$(cat "$d/leader.pid" 2>/dev/null || true)
	# A leader that died before recording its namespace: still ours by pid +
	# command line (setsid'ed, so it is its own session leader).
	if [[ -n $leader ]] && alive "$leader" && [[ ! -s $d/mntns ]] &&
		grep -qF -- "$d" "/proc/$leader/cmdline" 2>/dev/null; then
		pids+=("$leader")
	fi
	((${#pids[@]})) || return 0
	kill -TERM "${pids[@]}" 2>/dev/null || true
	deadline=$((SECONDS + 5))
	while :; do
		local left=() p
		for p in "${pids[@]}"; do alive "$p" && left+=("$p"); done
		mapfile -t -O "${#left[@]}" left < <(ns_pids "$i")
		((${#left[@]})) || break
		if ((SECONDS >= deadline)); then
			kill -KILL "${left[@]}" 2>/dev/null || true
			if ((SECONDS >= deadline + 3)); then
				log "$(host_name "$i"): processes left after SIGKILL: ${left[*]}"
				return 1
			fi
		fi
		sleep 0.1
	done
}

cmd_down() {
	need_root
	local i rc=0 addrs=() nss=() l la pid pns a
	[[ -d $STATE ]] || {
		log "nothing to stop ($STATE does not exist)"
		return 0
	}
	STATE=$(cd -- "$STATE" && pwd -P)
	[[ -e $STATE/.wotrus-test-hosts ]] && lock_state
	if [[ -f $STATE/up.env ]]; then # the ports that run used
		local UP_SSH_PORT='' UP_HTTP_PORT='' UP_HTTPS_PORT=''
		. "$STATE/up.env"
		SSH_PORT=${UP_SSH_PORT:-$SSH_PORT} HTTP_PORT=${UP_HTTP_PORT:-$HTTP_PORT} HTTPS_PORT=${UP_HTTPS_PORT:-$HTTPS_PORT}
	fi
	for i in $(state_hosts); do
		[[ -s $(host_dir "$i")/mntns ]] && nss+=("$(cat "$(host_dir "$i")/mntns")")
		down_host "$i" || rc=1
		addrs+=("$(host_addr "$i")")
		rm -f "$(host_dir "$i")/leader.pid" "$(host_dir "$i")/mntns"
	done
	rm -f "$STATE/up.env"
	# Nothing of ours may still listen on the hosts' addresses.
	while IFS= read -r l; do
		la=$(awk '{print $4}' <<<"$l")
		for a in "${addrs[@]}"; do
			case $la in "$a":"$SSH_PORT" | "$a":"$HTTP_PORT" | "$a":"$HTTPS_PORT") ;; *) continue ;; esac
			for pid in $(grep -o 'pid=[0-9]*' <<<"$l" | cut -d= -f2 | sort -un); do
				pns=$(readlink "/proc/$pid/ns/mnt" 2>/dev/null) || continue
				if printf '%s\n' "${nss[@]}" | grep -qxF -- "$pns"; then
					log "still listening after down: $la ($(comm_of "$pid") pid $pid)"
					rc=1
				else
					log "note: $la is held by $(comm_of "$pid") (pid $pid), which is not a host of $STATE"
				fi
			done
		done
	done < <(ss -Hltnp 2>/dev/null)
	if ((rc)); then die "down did not stop everything"; fi
	if ((PURGE)) && [[ -e $STATE/.wotrus-test-hosts ]]; then rm -rf -- "$STATE"; fi
	log "down: stopped ${#addrs[@]} host(s) in $STATE"
}

# ---------------------------------------------------------------- status

host_ok() { # I [quiet]: leader alive in its namespace, all three ports listening
	local i=$1 d leader addr l lst
	d=$(host_dir "$i")
	addr=$(host_addr "$i")
	leader=$(cat "$d/leader.pid" 2>/dev/null) || return 1
	alive "$leader" || return 1
	[[ $(readlink "/proc/$leader/ns/mnt" 2>/dev/null) == "$(cat "$d/mntns" 2>/dev/null)" ]] || return 1
	lst=$(listeners)
	for l in "$addr:$SSH_PORT" "$addr:$HTTP_PORT" "$addr:$HTTPS_PORT"; do
		grep -qxF -- "$l" <<<"$lst" || return 1
	done
}

cmd_status() {
	local i n=0 bad=0 d procs
	[[ -d $STATE ]] && STATE=$(cd -- "$STATE" && pwd -P)
	[[ -f $STATE/up.env ]] && . "$STATE/up.env"
	SSH_PORT=${UP_SSH_PORT:-$SSH_PORT}
	HTTP_PORT=${UP_HTTP_PORT:-$HTTP_PORT}
	HTTPS_PORT=${UP_HTTPS_PORT:-$HTTPS_PORT}
	for i in $(state_hosts); do
		d=$(host_dir "$i")
		[[ -s $d/mntns ]] || continue
		n=$((n + 1))
		procs=$(for p in $(ns_pids "$i"); do comm_of "$p"; done | sort | uniq -c | awk '{printf "%s%s×%s", sep, $2, $1; sep=" "}')
		if host_ok "$i"; then
			printf '%-6s %-10s up    leader=%s  %s\n' "$(host_name "$i")" "$(host_addr "$i")" "$(cat "$d/leader.pid")" "$procs"
		else
			printf '%-6s %-10s BROKEN leader=%s  %s\n' "$(host_name "$i")" "$(host_addr "$i")" "$(cat "$d/leader.pid" 2>/dev/null || echo -)" "${procs:-no processes}"
			bad=1
		fi
	done
	if ((n == 0)); then
		echo "no test hosts up (state: $STATE)"
		return 3
	fi
	echo "inventory: $STATE/inventory.ini"
	return "$bad"
}

# ---------------------------------------------------------------- up

write_outputs() {
	local n=$1 i addr fqdn d
	{
		echo "# Written by tests/hosts/hosts.sh up $n -- loopback test hosts, see tests/hosts/README.md"
		echo "[test_hosts]"
		for ((i = 1; i <= n; i++)); do
			addr=$(host_addr "$i")
			fqdn=$(host_fqdn "$i")
			echo "$(host_name "$i") ansible_host=$addr test_host_address=$addr test_host_server_name=$fqdn test_host_index=$i test_host_state_dir=$(host_dir "$i")"
		done
		echo
		echo "[test_hosts:vars]"
		echo "ansible_user=root"
		echo "ansible_port=$SSH_PORT"
		echo "ansible_ssh_private_key_file=$STATE/ssh/id_ed25519"
		echo "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR'"
		echo "ansible_python_interpreter=$PYTHON"
		echo "test_host_https_port=$HTTPS_PORT"
		echo "test_host_http_port=$HTTP_PORT"
		echo "test_host_placeholder_cert=$H_CERT"
		echo "test_host_placeholder_key=$H_KEY"
		echo "test_host_placeholder_site=$H_NGINX_SITE"
		echo "test_host_webroot=$H_WEBROOT"
	} >"$STATE/inventory.ini"

	{
		echo "# ssh -F $STATE/ssh_config host1"
		for ((i = 1; i <= n; i++)); do
			echo "Host $(host_name "$i") $(host_fqdn "$i") $(host_addr "$i")"
			echo "  HostName $(host_addr "$i")"
			echo "  Port $SSH_PORT"
		done
		echo "Host *"
		echo "  User root"
		echo "  IdentityFile $STATE/ssh/id_ed25519"
		echo "  IdentitiesOnly yes"
		echo "  StrictHostKeyChecking no"
		echo "  UserKnownHostsFile /dev/null"
		echo "  LogLevel ERROR"
		echo "  BatchMode yes"
		echo "  ConnectTimeout 5"
	} >"$STATE/ssh_config"

	{
		printf '{\n  "state_dir": "%s",\n  "inventory": "%s/inventory.ini",\n' "$STATE" "$STATE"
		printf '  "ssh_config": "%s/ssh_config",\n  "ssh_private_key": "%s/ssh/id_ed25519",\n' "$STATE" "$STATE"
		printf '  "python": "%s",\n  "ssh_port": %s,\n  "https_port": %s,\n  "http_port": %s,\n' "$PYTHON" "$SSH_PORT" "$HTTPS_PORT" "$HTTP_PORT"
		printf '  "placeholder_cert": "%s",\n  "placeholder_key": "%s",\n  "placeholder_site": "%s",\n  "webroot": "%s",\n' \
			"$H_CERT" "$H_KEY" "$H_NGINX_SITE" "$H_WEBROOT"
		printf '  "hosts": [\n'
		for ((i = 1; i <= n; i++)); do
			d=$(host_dir "$i")
			printf '    {"name": "%s", "address": "%s", "server_name": "%s", "dir": "%s", "leader_pid": %s}%s\n' \
				"$(host_name "$i")" "$(host_addr "$i")" "$(host_fqdn "$i")" "$d" "$(cat "$d/leader.pid")" \
				"$([[ $i -lt $n ]] && echo ,)"
		done
		printf '  ]\n}\n'
	} >"$STATE/hosts.json"
}

cmd_up() {
	local n=$1 i start_ns outer_ns
	start_ns=$(date +%s%N)
	[[ $n =~ ^[0-9]+$ ]] && ((n >= 1 && n <= MAX_HOSTS)) || die "up: N must be 1..$MAX_HOSTS, got '$n'"
	need_root
	validate_state_dir
	lock_state
	pick_python
	ensure_packages

	if ((REUSE)) && [[ -f $STATE/up.env ]]; then
		local UP_N='' UP_SSH_PORT='' UP_HTTP_PORT='' UP_HTTPS_PORT='' UP_PYTHON='' ok=1
		. "$STATE/up.env"
		if [[ $UP_N == "$n" && $UP_SSH_PORT == "$SSH_PORT" && $UP_HTTP_PORT == "$HTTP_PORT" &&
			$UP_HTTPS_PORT == "$HTTPS_PORT" && $UP_PYTHON == "$PYTHON" ]]; then
			for ((i = 1; i <= n; i++)); do host_ok "$i" || ok=0; done
			if ((ok)) && [[ -z $(state_hosts | awk -v n="$n" '$1 > n') ]]; then
				log "up: $n host(s) already up in $STATE (--reuse); inventory: $STATE/inventory.ini"
				return 0
			fi
		fi
	fi

	# Fresh start: stop whatever this STATE still runs (a subshell: cmd_down
	# reads the ports of the old run from up.env).
	if [[ -n $(state_hosts) ]]; then
		(cmd_down) || exit 1
	fi
	for i in $(state_hosts); do rm -rf -- "$(host_dir "$i")"; done

	free_ports "$n"

	# Controller key (kept across runs) and its authorized_keys.
	mkdir -p "$STATE/ssh"
	chmod 0700 "$STATE/ssh"
	if [[ ! -s $STATE/ssh/id_ed25519 || ! -s $STATE/ssh/id_ed25519.pub ]]; then
		rm -f "$STATE/ssh/id_ed25519" "$STATE/ssh/id_ed25519.pub"
		ssh-keygen -q -t ed25519 -N '' -C wotrus-test-hosts-controller -f "$STATE/ssh/id_ed25519"
	fi
	cp "$STATE/ssh/id_ed25519.pub" "$STATE/ssh/authorized_keys"
	chmod 0600 "$STATE/ssh/id_ed25519" "$STATE/ssh/authorized_keys"

	for ((i = 1; i <= n; i++)); do prepare_host "$i" 9>&- & done
	local rc=0
	for ((i = 1; i <= n; i++)); do wait -n || rc=1; done
	((rc == 0)) || die "preparing the host directories failed"

	outer_ns=$(readlink /proc/self/ns/mnt)
	# Interrupted from here on: take down what was started.
	trap '(cmd_down) >/dev/null 2>&1; exit 130' INT TERM HUP
	declare -a bg=()
	for ((i = 1; i <= n; i++)); do
		local d
		d=$(host_dir "$i")
		setsid unshare --mount --propagation private -- \
			/bin/bash "$SELF" __ns_init "$d" "$outer_ns" \
			</dev/null >>"$d/host.log" 2>&1 9>&- &
		bg[i]=$!
	done
	{
		echo "UP_N=$n"
		echo "UP_SSH_PORT=$SSH_PORT"
		echo "UP_HTTP_PORT=$HTTP_PORT"
		echo "UP_HTTPS_PORT=$HTTPS_PORT"
		echo "UP_PYTHON=$PYTHON"
	} >"$STATE/up.env"

	# Wait until every host listens on its three ports.
	local deadline=$((SECONDS + TIMEOUT)) pending lst addr l
	while :; do
		pending=()
		lst=$(listeners)
		for ((i = 1; i <= n; i++)); do
			addr=$(host_addr "$i")
			if ! alive "${bg[i]}"; then
				log "$(host_name "$i") ($addr) died while starting; its log ($(host_dir "$i")/host.log):"
				tail -n 20 "$(host_dir "$i")/host.log" >&2 || true
				tail -n 5 "$(host_dir "$i")/var-log-nginx/error.log" >&2 2>/dev/null || true
				(cmd_down) >/dev/null 2>&1 || true
				die "up: $(host_name "$i") did not come up"
			fi
			for l in "$addr:$SSH_PORT" "$addr:$HTTP_PORT" "$addr:$HTTPS_PORT"; do
				grep -qxF -- "$l" <<<"$lst" || pending+=("$(host_name "$i")=$l")
			done
		done
		((${#pending[@]})) || break
		if ((SECONDS >= deadline)); then
			for ((i = 1; i <= n; i++)); do tail -n 5 "$(host_dir "$i")/host.log" >&2 || true; done
			(cmd_down) >/dev/null 2>&1 || true
			die "up: timed out after ${TIMEOUT}s waiting for: ${pending[*]}"
		fi
		sleep 0.1
	done

	# Log in to each host and check that the session lands in that host's
	# namespace (it must see the host's own token in /run).
	for ((i = 1; i <= n; i++)); do
		local got tries=0
		while :; do
			got=$(ssh -F /dev/null -i "$STATE/ssh/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes \
				-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
				-o ConnectTimeout=5 -p "$SSH_PORT" "root@$(host_addr "$i")" "cat $H_TOKEN" 2>&1) && break
			tries=$((tries + 1))
			if ((tries >= 5 || SECONDS >= deadline + 10)); then
				(cmd_down) >/dev/null 2>&1 || true
				die "up: ssh root@$(host_addr "$i") failed: $got"
			fi
			sleep 0.2
		done
		if [[ $got != "$(cat "$(host_dir "$i")/token")" ]]; then
			(cmd_down) >/dev/null 2>&1 || true
			die "up: ssh to $(host_name "$i") did not land in its namespace (token '$got')"
		fi
	done

	write_outputs "$n"
	trap - INT TERM HUP
	local ms=$((($(date +%s%N) - start_ns) / 1000000))
	log "up: $n host(s) ready in ${ms} ms: $(for ((i = 1; i <= n; i++)); do printf '%s=%s ' "$(host_name "$i")" "$(host_addr "$i")"; done)"
	log "inventory: $STATE/inventory.ini   ssh: ssh -F $STATE/ssh_config host1"
	log "python: $PYTHON ($(describe_python))"
}

# ---------------------------------------------------------------- ssh / exec

cmd_ssh() {
	local i=$1
	shift
	[[ -f $STATE/ssh_config ]] || die "no $STATE/ssh_config: run 'up' first"
	exec ssh -F "$STATE/ssh_config" "$(host_name "$i")" "$@"
}

cmd_exec() {
	local i=$1 leader
	shift
	need_root
	(($#)) || set -- /bin/bash
	leader=$(cat "$(host_dir "$i")/leader.pid" 2>/dev/null) || die "host $i is not up"
	alive "$leader" || die "host $i is not up (leader $leader gone)"
	exec nsenter --target "$leader" --mount -- "$@"
}

# ---------------------------------------------------------------- main

main() {
	local cmd=${1:-help} args=()
	(($#)) && shift
	if [[ $cmd == __ns_init ]]; then
		ns_init "$@"
		return
	fi
	while (($#)); do
		case $1 in
		--dir) STATE=${2:?--dir needs a value}; shift 2 ;;
		--dir=*) STATE=${1#*=}; shift ;;
		--python) PYTHON=${2:?}; shift 2 ;;
		--ssh-port) SSH_PORT=${2:?}; shift 2 ;;
		--https-port) HTTPS_PORT=${2:?}; shift 2 ;;
		--http-port) HTTP_PORT=${2:?}; shift 2 ;;
		--timeout) TIMEOUT=${2:?}; shift 2 ;;
		--reuse) REUSE=1; shift ;;
		--no-install) INSTALL=0; shift ;;
		--purge) PURGE=1; shift ;;
		--) shift; args+=("$@"); break ;;
		*)
			if [[ $cmd == ssh || $cmd == exec ]] && ((${#args[@]} >= 1)); then
				args+=("$@")
				break
			fi
			args+=("$1")
			shift
			;;
		esac
	done
	local p
	for p in "$SSH_PORT" "$HTTPS_PORT" "$HTTP_PORT" "$TIMEOUT"; do
		[[ $p =~ ^[0-9]+$ ]] || die "not a number: '$p'"
	done
	case $cmd in
	up)
		((${#args[@]} == 1)) || die "usage: hosts.sh up N [--dir STATE] [options]"
		cmd_up "${args[0]}"
		;;
	down) cmd_down ;;
	status) cmd_status ;;
	ssh)
		((${#args[@]} >= 1)) || die "usage: hosts.sh ssh I [command...]"
		cmd_ssh "${args[@]}"
		;;
	exec)
		((${#args[@]} >= 1)) || die "usage: hosts.sh exec I [command...]"
		cmd_exec "${args[@]}"
		;;
	help | -h | --help) usage ;;
	*)
		usage >&2
		exit 2
		;;
	esac
}

# Run main unless sourced (tests source this file to reach its functions).
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	main "$@"
fi
