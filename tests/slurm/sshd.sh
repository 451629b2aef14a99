# shellcheck shell=bash
# A private sshd on a loopback port for the Airflow-over-SSH test (sourced after
# tests/slurm/lib.sh). sshd_up makes a host key and a client key under $WORK/ssh, writes its own
# sshd_config there (the system's is never read or changed), starts sshd in the foreground as a
# child of the test and stops it at exit. remote CMD runs CMD as root@127.0.0.1 through it with a
# pseudo-terminal, as Airflow's SSHOperator does with get_pty=True.

SSH_DIR=$WORK/ssh
SSH_PORT=
SSHD_PID=
SSH_ARGS=()
REMOTE_PID=

sshd_stop() {
  [ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null && wait "$SSHD_PID" 2>/dev/null
  return 0
}

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

sshd_up() {
  command -v /usr/sbin/sshd >/dev/null || fail "openssh-server missing: run scripts/install-deps.sh"
  mkdir -p "$SSH_DIR" /run/sshd
  chmod 700 "$SSH_DIR"
  ssh-keygen -q -t ed25519 -N '' -C athlete-test-host -f "$SSH_DIR/host_key"
  ssh-keygen -q -t ed25519 -N '' -C athlete-test-client -f "$SSH_DIR/client_key"
  cp "$SSH_DIR/client_key.pub" "$SSH_DIR/authorized_keys"
  SSH_PORT=$(free_port)
  remote_args
  cat >"$SSH_DIR/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $SSH_DIR/host_key
PidFile $SSH_DIR/sshd.pid
AuthorizedKeysFile $SSH_DIR/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitTTY yes
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
LogLevel ERROR
EOF
  /usr/sbin/sshd -t -f "$SSH_DIR/sshd_config" || fail "sshd rejects the test's sshd_config"
  /usr/sbin/sshd -D -e -f "$SSH_DIR/sshd_config" </dev/null 2>"$SSH_DIR/sshd.log" 8>&- &
  SSHD_PID=$!
  CLEANUPS+=(sshd_stop)
  local i
  for ((i = 0; i < 100; i++)); do
    remote true >/dev/null 2>&1 && return 0
    kill -0 "$SSHD_PID" 2>/dev/null || break
    sleep 0.2
  done
  cat "$SSH_DIR/sshd.log" >&2
  fail "sshd on 127.0.0.1:$SSH_PORT does not accept the test's key"
}

# remote CMD: runs CMD through the test's sshd; returns its exit status.
remote() {
  ssh "${SSH_ARGS[@]}" "$@" </dev/null
}

# remote_bg CMD: like remote, in the background; REMOTE_PID is the ssh client's own pid.
remote_bg() {
  ssh "${SSH_ARGS[@]}" "$@" </dev/null &
  REMOTE_PID=$!
}

remote_args() {
  SSH_ARGS=(-tt -p "$SSH_PORT" -i "$SSH_DIR/client_key" -o BatchMode=yes -o IdentitiesOnly=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile="$SSH_DIR/known_hosts" -o LogLevel=ERROR \
    root@127.0.0.1)
}
