#!/usr/bin/env bash
# A real single-machine Slurm cluster for developing and testing gopcast's
# Slurm pipelines: munged, slurmctld and slurmd run as root from a generated
# configuration kept entirely in a state folder (nothing is written to /etc).
#
#   bash slurm/dev-cluster.sh up [--licenses SPEC]  start, wait until the node is idle
#   bash slurm/dev-cluster.sh down                  cancel running jobs, stop the daemons
#   bash slurm/dev-cluster.sh status                daemons and node state; 0 when usable
#   bash slurm/dev-cluster.sh env                   prints: export SLURM_CONF=...
#   bash slurm/dev-cluster.sh licenses SPEC         set Licenses= (e.g. a:1000,b:1000;
#                                                   '' clears) and apply it
#
# Environment:
#   GOPCAST_SLURM_STATE    state folder (default /tmp/gopcast-slurm)
#   GOPCAST_SLURM_TIMEOUT  seconds `up` waits for the node to become idle (default 60)
#   GOPCAST_SLURM_CTLD_PORT, GOPCAST_SLURM_D_PORT  ports (default 6817, 6818)
#   GOPCAST_SLURM_PROCTRACK  cgroup or linuxproc (default: cgroup when a
#                            writable cgroup v1 freezer is mounted)
#
# Clients (sbatch, squeue, scontrol, ...) find the cluster through
# SLURM_CONF=<state>/slurm.conf; its AuthInfo line points them at this
# cluster's own munge socket. See slurm/README.md.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly repo_root

state="${GOPCAST_SLURM_STATE:-/tmp/gopcast-slurm}"
case "$state" in
  /*) ;;
  *) state="$PWD/$state" ;;
esac
state="${state%/}"
readonly state
readonly conf="$state/slurm.conf"
readonly licenses_file="$state/licenses"
readonly munge_dir="$state/munge"
readonly munge_key="$munge_dir/munge.key"
readonly munge_socket="$munge_dir/munge.socket.2"
readonly munge_pid="$munge_dir/munged.pid"
readonly run_dir="$state/run"
readonly log_dir="$state/log"
readonly ctld_pid="$run_dir/slurmctld.pid"
readonly slurmd_pid="$run_dir/slurmd.pid"
readonly ctld_log="$log_dir/slurmctld.log"
readonly slurmd_log="$log_dir/slurmd.log"
readonly munge_log="$log_dir/munged.log"
readonly timeout_s="${GOPCAST_SLURM_TIMEOUT:-60}"
readonly ctld_port="${GOPCAST_SLURM_CTLD_PORT:-6817}"
readonly slurmd_port="${GOPCAST_SLURM_D_PORT:-6818}"
readonly ncpus=8
slurmd_started_at=""
ctld_started=0

# The daemons live in /usr/sbin, which a non-login PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"

# Every Slurm command this script runs (and every daemon it starts) uses the
# generated configuration.
export SLURM_CONF="$conf"

die() {
  echo "dev-cluster: $*" >&2
  exit 1
}

note() {
  echo "dev-cluster: $*" >&2
}

usage() {
  # The comment block at the top of this file, whatever its length.
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "${BASH_SOURCE[0]}" >&2
  exit 2
}

check_tools() {
  local t missing=()
  for t in munged mungekey munge unmunge slurmctld slurmd sbatch squeue scontrol scancel sinfo sdiag; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  if [ "${#missing[@]}" -ne 0 ]; then
    die "slurm-wlm and munge are not installed (missing: ${missing[*]}); run $repo_root/.ci/install-deps.sh"
  fi
}

check_root() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (the dev cluster runs slurmd and slurmctld as root)"
}

node_name() {
  hostname -s
}

# Validates a Licenses= value: name[:count] separated by commas, or empty.
check_spec() {
  local spec="$1"
  [ -z "$spec" ] && return 0
  [[ "$spec" =~ ^[A-Za-z0-9_.-]+(:[0-9]+)?(,[A-Za-z0-9_.-]+(:[0-9]+)?)*$ ]] ||
    die "bad license spec '$spec' (expected name:count[,name:count...], e.g. gopcast_web:1000)"
}

stored_licenses() {
  if [ -f "$licenses_file" ]; then
    head -n 1 "$licenses_file"
  fi
}

store_licenses() {
  check_spec "$1"
  mkdir -p "$state"
  printf '%s\n' "$1" >"$licenses_file.tmp"
  mv -f "$licenses_file.tmp" "$licenses_file"
}

make_dirs() {
  mkdir -p "$state" "$run_dir" "$log_dir" "$state/spool/slurmctld" "$state/spool/slurmd"
  # munged wants its socket folder searchable by all and none of its folders
  # writable by others; the key itself is 0600.
  mkdir -p "$munge_dir"
  chmod 0755 "$state" "$munge_dir" "$run_dir" "$log_dir"
  [ -f "$state/plugstack.conf" ] || : >"$state/plugstack.conf"
}

make_key() {
  [ -s "$munge_key" ] && return 0
  if ! mungekey --create --bits=1024 --keyfile="$munge_key" >/dev/null 2>&1; then
    dd if=/dev/urandom of="$munge_key" bs=128 count=1 status=none
  fi
  chmod 0600 "$munge_key"
}

# proctrack/cgroup (cgroup v1 freezer) finds every process of a job, even
# one that called setsid; proctrack/linuxproc follows parent pids only. The
# cgroup v2 plugin of 22.05 wants systemd, which containers rarely run.
proctrack() {
  case "${GOPCAST_SLURM_PROCTRACK:-}" in
    cgroup | linuxproc) echo "${GOPCAST_SLURM_PROCTRACK}"; return 0 ;;
    '') ;;
    *) die "GOPCAST_SLURM_PROCTRACK must be cgroup or linuxproc" ;;
  esac
  if [ -f /sys/fs/cgroup/freezer/cgroup.procs ] &&
    awk '$2 == "/sys/fs/cgroup/freezer" && $3 == "cgroup" && $4 ~ /(^|,)rw(,|$)/ { f = 1 } END { exit !f }' /proc/mounts; then
    echo cgroup
  else
    echo linuxproc
  fi
}

# Writes the configuration to $conf; returns 0 when the file changed.
write_conf() {
  local node mem_mb real_mem lic tmp pt
  node="$(node_name)"
  pt="$(proctrack)"
  mem_mb="$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)"
  # Memory is not a consumable resource here (CR_Core), so this only has to
  # be plausible; keep some for the system.
  real_mem=$((mem_mb * 9 / 10))
  [ "$real_mem" -ge 1024 ] || real_mem=1024
  lic="$(stored_licenses)"
  tmp="$conf.tmp"
  {
    cat <<EOF
# Generated by slurm/dev-cluster.sh; rewritten on every 'up' and 'licenses'.
# Edit the script, not this file.
ClusterName=gopcast-dev
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root

# Authentication: this cluster's own munged, key and socket. The socket named
# here is used by the daemons and by clients (sbatch, squeue, scontrol).
# cred_expire=10 (default 120): a requeued job waits this long (BeginTime)
# before it may start again.
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$munge_socket,cred_expire=10

StateSaveLocation=$state/spool/slurmctld
SlurmdSpoolDir=$state/spool/slurmd
SlurmctldPidFile=$ctld_pid
SlurmdPidFile=$slurmd_pid
SlurmctldLogFile=$ctld_log
SlurmdLogFile=$slurmd_log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$state/plugstack.conf
MailProg=/bin/true

# Process tracking: proctrack/cgroup uses the cgroup v1 freezer (see
# cgroup.conf next to this file), so scancel and requeue kill all of a job's
# processes; linuxproc (used where no writable cgroup v1 freezer exists)
# follows parent pids only. No CPU binding (task/none): the node advertises
# more CPUs than the machine has.
ProctrackType=proctrack/$pt
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none

# No slurmdbd.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none

# Jobs: requeueable; finished jobs stay visible to 'scontrol show job' for
# MinJobAge seconds; a node that comes back is usable again.
JobRequeue=1
MinJobAge=300
# Limits a batch must respect (gopcast reads both): arrays of at most 1001 tasks
# (Slurm's default), and room for 50000 jobs (above the default 10000, so the store
# benchmark can hold a batch of 10^4 beside the tests' jobs).
MaxArraySize=1001
MaxJobCount=50000
KillWait=10
ReturnToService=2
InactiveLimit=0
SlurmctldTimeout=120
SlurmdTimeout=300
Waittime=0

# Scheduling: strict priority order, started as soon as something changes.
# sched/builtin, not sched/backfill: backfill in 22.05 reserves nothing for
# a job that waits for licenses unless bf_licenses is set, so a lower-priority
# job could take license units a higher-priority job is waiting for; it also
# runs on its own timer (bf_interval), which would make start times in tests
# less predictable. The builtin scheduler tries jobs in priority order and
# stops at the first one in a partition that does not fit in the nodes
# (a job waiting for licenses is skipped, not blocking).
# batch_sched_delay=0 and no 'defer': a submitted job is tried at once;
# sched_interval=1: a full pass every second, which is what starts released
# jobs and the next job after one ends.
SchedulerType=sched/builtin
SchedulerParameters=batch_sched_delay=0,sched_interval=1
# priority/multifactor, not priority/basic: with sched/builtin and
# priority/basic (and equal partition tiers) slurmctld walks its job list in
# job-id order and ignores priorities, so 'sbatch --nice' would not order
# anything. Here every job's priority is the partition term (1000000) minus
# its nice value: a larger 'sbatch --nice=N' (N >= 0 needs no privilege)
# starts later, ties go by job id (submission order), and the value is the
# same after 'scontrol hold' and 'scontrol release'. No age or fair-share
# terms, so the order never drifts while jobs wait.
PriorityType=priority/multifactor
PriorityWeightPartition=1000000
PriorityWeightAge=0
PriorityWeightFairshare=0
PriorityWeightJobSize=0
PriorityWeightQOS=0
PriorityWeightAssoc=0

# One node advertising $ncpus CPUs whatever the machine has
# (config_overrides), so up to $ncpus one-CPU jobs run at once and licenses,
# not CPUs, limit concurrency. Jobs share the node core by core.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
EOF
    if [ -n "$lic" ]; then
      printf 'Licenses=%s\n' "$lic"
    else
      printf '# No Licenses= line: set one with "dev-cluster.sh licenses SPEC".\n'
    fi
    cat <<EOF

NodeName=$node NodeAddr=127.0.0.1 NodeHostname=$node CPUs=$ncpus Boards=1 SocketsPerBoard=1 CoresPerSocket=$ncpus ThreadsPerCore=1 RealMemory=$real_mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
PartitionName=batch Nodes=$node Default=NO MaxTime=INFINITE State=UP
EOF
  } >"$tmp"
  cat >"$state/cgroup.conf.tmp" <<EOF
# Generated by slurm/dev-cluster.sh. Only proctrack uses cgroups here.
CgroupPlugin=cgroup/v1
CgroupMountpoint=/sys/fs/cgroup
CgroupAutomount=no
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
EOF
  mv -f "$state/cgroup.conf.tmp" "$state/cgroup.conf"
  if [ -f "$conf" ] && cmp -s "$tmp" "$conf"; then
    rm -f "$tmp"
    return 1
  fi
  # Kept so that apply_conf can tell a licenses-only change from others.
  if [ -f "$conf" ]; then cp -f "$conf" "$conf.prev"; fi
  mv -f "$tmp" "$conf"
  return 0
}

# True when the configuration differs from the previous one only in its
# Licenses= line, which 'scontrol reconfigure' applies; most other settings
# (scheduler, priority, AuthInfo, ports) need the daemons restarted.
only_licenses_changed() {
  [ -f "$conf.prev" ] || return 1
  cmp -s <(grep -v -e '^Licenses=' -e '^# No Licenses= line' "$conf.prev") \
    <(grep -v -e '^Licenses=' -e '^# No Licenses= line' "$conf")
}

# Prints the pid of a daemon of this cluster when it runs: the pid file
# names a live process with the right name whose command line mentions this
# state folder (so a recycled pid or another cluster's daemon never counts).
daemon_pid() {
  local name="$1" pidfile="$2" pid comm
  [ -f "$pidfile" ] || return 1
  pid="$(head -n 1 "$pidfile" 2>/dev/null | tr -dc '0-9')"
  [ -n "$pid" ] || return 1
  [ -r "/proc/$pid/comm" ] || return 1
  comm="$(cat "/proc/$pid/comm" 2>/dev/null)" || return 1
  [ "$comm" = "$name" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$state/" || return 1
  printf '%s\n' "$pid"
}

munge_ok() {
  munge --socket="$munge_socket" --no-input 2>/dev/null |
    unmunge --socket="$munge_socket" >/dev/null 2>&1
}

ctld_ok() {
  scontrol ping 2>/dev/null | grep -q 'is UP'
}

# Prints the node's State= (e.g. IDLE, MIXED, IDLE+DRAIN, DOWN+NOT_RESPONDING).
node_state() {
  scontrol -o show node "$(node_name)" 2>/dev/null |
    tr ' ' '\n' | sed -n 's/^State=//p' | head -n 1
}

node_reason() {
  scontrol -o show node "$(node_name)" 2>/dev/null |
    sed -n 's/.* Reason=\(.*\)$/\1/p' | head -n 1
}

# A usable node: idle, mixed or allocated, and not drained, down or silent.
state_usable() {
  local s="$1"
  case "$s" in
    IDLE | IDLE+* | MIXED | MIXED+* | ALLOCATED | ALLOCATED+*) ;;
    *) return 1 ;;
  esac
  case "$s" in
    *DRAIN* | *NOT_RESPONDING* | *FAIL* | *DOWN* | *POWER*) return 1 ;;
  esac
  return 0
}

port_free() {
  local port="$1"
  ! ss -Htln "sport = :$port" 2>/dev/null | grep -q .
}

wait_until() {
  # wait_until SECONDS COMMAND...: polls every 0.2 s.
  local limit="$1"
  shift
  local deadline=$((SECONDS + limit))
  while :; do
    "$@" && return 0
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

start_munged() {
  if daemon_pid munged "$munge_pid" >/dev/null; then
    munge_ok && return 0
    die "munged runs (pid $(daemon_pid munged "$munge_pid")) but does not answer on $munge_socket; see $munge_log"
  fi
  rm -f "$munge_socket" "$munge_socket.lock"
  if ! munged --socket="$munge_socket" --key-file="$munge_key" --pid-file="$munge_pid" \
    --log-file="$munge_log" --seed-file="$munge_dir/munged.seed" \
    </dev/null >>"$munge_log" 2>&1; then
    die "munged failed to start; see $munge_log"
  fi
  wait_until 10 munge_ok || die "munged does not answer on $munge_socket; see $munge_log"
}

start_slurmctld() {
  if daemon_pid slurmctld "$ctld_pid" >/dev/null; then
    return 0
  fi
  port_free "$ctld_port" ||
    die "port $ctld_port is taken (another slurmctld?); set GOPCAST_SLURM_CTLD_PORT"
  ctld_started=1
  if ! slurmctld -f "$conf" </dev/null >>"$ctld_log" 2>&1; then
    die "slurmctld failed to start; see $ctld_log"
  fi
}

start_slurmd() {
  if daemon_pid slurmd "$slurmd_pid" >/dev/null; then
    return 0
  fi
  port_free "$slurmd_port" ||
    die "port $slurmd_port is taken (another slurmd?); set GOPCAST_SLURM_D_PORT"
  slurmd_started_at="$(date +%s)"
  if ! slurmd -f "$conf" -N "$(node_name)" </dev/null >>"$slurmd_log" 2>&1; then
    die "slurmd failed to start; see $slurmd_log"
  fi
}

# Prints "name:total,..." sorted, as slurmctld reports its licenses.
live_licenses() {
  scontrol -o show licenses 2>/dev/null |
    sed -n 's/^LicenseName=\([^ ]*\) .*Total=\([0-9]*\).*/\1:\2/p' | sort | paste -sd, -
}

# The stored spec normalised like live_licenses (a bare name counts 1).
wanted_licenses() {
  local lic item
  lic="$(stored_licenses)"
  [ -n "$lic" ] || return 0
  tr ',' '\n' <<<"$lic" | while IFS= read -r item; do
    case "$item" in
      *:*) printf '%s\n' "$item" ;;
      *) printf '%s:1\n' "$item" ;;
    esac
  done | sort | paste -sd, -
}

licenses_match() {
  [ "$(live_licenses)" = "$(wanted_licenses)" ]
}

stop_pid() {
  # stop_pid NAME PID: SIGTERM, then SIGKILL after 20 s.
  local name="$1" pid="$2" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  note "$name (pid $pid) ignored SIGTERM for 20 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 25; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  die "$name (pid $pid) does not exit"
}

# Applies a changed configuration to running daemons: 'scontrol
# reconfigure' when only the licenses changed (checked afterwards with
# 'scontrol show licenses'; slurmctld is restarted if they did not take),
# otherwise a restart of slurmctld and slurmd. Jobs survive either way.
apply_conf() {
  local pid
  ctld_ok || return 0
  if only_licenses_changed; then
    scontrol reconfigure >/dev/null 2>&1 || die "scontrol reconfigure failed; see $ctld_log"
    wait_until 10 licenses_match && return 0
    note "licenses not applied by reconfigure; restarting slurmctld"
    if pid="$(daemon_pid slurmctld "$ctld_pid")"; then stop_pid slurmctld "$pid"; fi
  else
    note "configuration changed; restarting slurmctld and slurmd"
    if pid="$(daemon_pid slurmd "$slurmd_pid")"; then stop_pid slurmd "$pid"; fi
    if pid="$(daemon_pid slurmctld "$ctld_pid")"; then stop_pid slurmctld "$pid"; fi
  fi
  start_slurmctld
  wait_until "$timeout_s" ctld_ok || die "slurmctld did not come back; see $ctld_log"
  start_slurmd
  wait_until 10 licenses_match ||
    die "slurmctld has licenses '$(live_licenses)', wanted '$(wanted_licenses)'; see $ctld_log"
}

# True once the slurmd started by this run has registered with slurmctld
# (a restarted slurmctld reports the node's saved state before that).
slurmd_registered() {
  [ -n "$slurmd_started_at" ] || return 0
  local t
  t="$(scontrol -o show node "$(node_name)" 2>/dev/null |
    tr ' ' '\n' | sed -n 's/^SlurmdStartTime=//p' | head -n 1)"
  [ -n "$t" ] && [ "$t" != "None" ] || return 1
  t="$(date -d "$t" +%s 2>/dev/null)" || return 1
  [ "$t" -ge "$((slurmd_started_at - 1))" ]
}

# True once slurmctld has run its main scheduler (sdiag counts the cycles
# since it started). A fresh slurmctld leaves submitted jobs pending for its
# first ~3 s (the default batch_sched_delay holds until the scheduler first
# reads SchedulerParameters), so 'up' waits for that first cycle.
ctld_scheduled() {
  [ "$ctld_started" -eq 1 ] || return 0
  local n
  n="$(sdiag 2>/dev/null | awk '/^Main schedule statistics/ { m = 1 } m && /Total cycles:/ { print $3; exit }')"
  [ -n "$n" ] && [ "$n" -gt 0 ]
}

wait_node_usable() {
  local deadline=$((SECONDS + timeout_s)) s resumed=0
  while :; do
    s="$(node_state)"
    if state_usable "$s" && slurmd_registered && ctld_scheduled; then
      return 0
    fi
    # A node left drained or down by an earlier run (e.g. "Kill task
    # failed", "Node unexpectedly rebooted") is resumed once slurmd answers.
    if [ "$resumed" -eq 0 ] && [[ "$s" == *DRAIN* || "$s" == DOWN* ]] &&
      [[ "$s" != *NOT_RESPONDING* ]]; then
      note "node $(node_name) was $s ($(node_reason)); resuming it"
      scontrol update NodeName="$(node_name)" State=RESUME >/dev/null 2>&1 || true
      resumed=1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "node $(node_name) not idle after ${timeout_s} s (state: ${s:-unknown}${s:+, reason: $(node_reason)}); see $slurmd_log and $ctld_log"
    fi
    if ! daemon_pid slurmd "$slurmd_pid" >/dev/null; then
      die "slurmd exited; see $slurmd_log"
    fi
    if ! daemon_pid slurmctld "$ctld_pid" >/dev/null; then
      die "slurmctld exited; see $ctld_log"
    fi
    sleep 0.2
  done
}

summary() {
  local lic
  lic="$(live_licenses)"
  echo "gopcast dev cluster up: SLURM_CONF=$conf node $(node_name) ($ncpus CPUs) partitions debug,batch licenses ${lic:-none}"
}

cmd_up() {
  local spec="" have_spec=0
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --licenses) [ "$#" -ge 2 ] || die "--licenses needs a value"; spec="$2"; have_spec=1; shift 2 ;;
      --licenses=*) spec="${1#--licenses=}"; have_spec=1; shift ;;
      *) die "unknown argument to up: $1" ;;
    esac
  done
  check_tools
  check_root
  [ "$have_spec" -eq 0 ] || store_licenses "$spec"
  make_dirs
  make_key
  local changed=0
  if write_conf; then changed=1; fi

  # Already up: apply a changed configuration, check the node, done.
  if daemon_pid munged "$munge_pid" >/dev/null && daemon_pid slurmctld "$ctld_pid" >/dev/null &&
    daemon_pid slurmd "$slurmd_pid" >/dev/null && munge_ok && ctld_ok; then
    [ "$changed" -eq 0 ] || apply_conf
    wait_node_usable
    summary
    return 0
  fi

  start_munged
  local ctld_was_running=0
  daemon_pid slurmctld "$ctld_pid" >/dev/null && ctld_was_running=1
  start_slurmctld
  wait_until "$timeout_s" ctld_ok || die "slurmctld does not answer 'scontrol ping' after ${timeout_s} s; see $ctld_log"
  if [ "$ctld_was_running" -eq 1 ] && [ "$changed" -eq 1 ]; then
    apply_conf
  fi
  start_slurmd
  wait_node_usable
  licenses_match || die "slurmctld has licenses '$(live_licenses)', wanted '$(wanted_licenses)'; see $ctld_log"
  summary
}

cmd_down() {
  check_tools
  local pid ids
  # Cancel running jobs first so that their slurmstepd and processes end with
  # them; pending and held jobs stay in the saved state and resume after 'up'.
  if daemon_pid slurmctld "$ctld_pid" >/dev/null && daemon_pid slurmd "$slurmd_pid" >/dev/null && ctld_ok; then
    ids="$(squeue -h -t RUNNING,SUSPENDED,COMPLETING,CONFIGURING -o '%A' 2>/dev/null | paste -sd' ' -)"
    if [ -n "$ids" ]; then
      # shellcheck disable=SC2086  # ids is a list of numbers
      scancel $ids >/dev/null 2>&1 || true
      wait_until 30 no_active_jobs || note "jobs still ending: $(squeue -h -t RUNNING,COMPLETING -o '%A %T' | paste -sd' ' -)"
    fi
  fi
  # slurmd and slurmctld take a second or two each to shut down: in parallel.
  local pid_d="" pid_c=""
  pid_d="$(daemon_pid slurmd "$slurmd_pid")" || pid_d=""
  pid_c="$(daemon_pid slurmctld "$ctld_pid")" || pid_c=""
  if [ -n "$pid_d" ]; then stop_pid slurmd "$pid_d" & fi
  if [ -n "$pid_c" ]; then stop_pid slurmctld "$pid_c" & fi
  wait_children
  kill_leftover_stepds
  if pid="$(daemon_pid munged "$munge_pid")"; then stop_pid munged "$pid"; fi
  rm -f "$slurmd_pid" "$ctld_pid"
  remove_cgroups
  echo "gopcast dev cluster down ($state)"
}

# Waits for this shell's background jobs; fails if any failed.
wait_children() {
  local rc=0 p
  for p in $(jobs -p); do
    wait "$p" || rc=1
  done
  [ "$rc" -eq 0 ] || die "a daemon did not stop"
}

no_active_jobs() {
  [ -z "$(squeue -h -t RUNNING,SUSPENDED,COMPLETING,CONFIGURING -o '%A' 2>/dev/null)" ]
}

# slurmd (proctrack/cgroup) leaves an empty freezer cgroup slurm_<node>
# behind; remove it and its empty children. rmdir fails on a cgroup that
# still has processes, so nothing in use is touched.
remove_cgroups() {
  local cg
  cg="/sys/fs/cgroup/freezer/slurm_$(node_name)"
  [ -d "$cg" ] || return 0
  find "$cg" -depth -mindepth 0 -type d -exec rmdir {} \; 2>/dev/null || true
}

# slurmstepd processes of this cluster (their environment carries our
# SLURM_CONF) that outlived slurmd, e.g. after slurmctld was unreachable.
kill_leftover_stepds() {
  local p pids=()
  for p in $(pgrep -x slurmstepd 2>/dev/null || true); do
    if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qxF "SLURM_CONF=$conf"; then
      pids+=("$p")
    fi
  done
  [ "${#pids[@]}" -ne 0 ] || return 0
  note "killing leftover slurmstepd ${pids[*]}"
  for p in "${pids[@]}"; do stop_pid slurmstepd "$p"; done
}

cmd_status() {
  check_tools
  local ok=0 pid name pidfile s
  for name in munged slurmctld slurmd; do
    case "$name" in
      munged) pidfile="$munge_pid" ;;
      slurmctld) pidfile="$ctld_pid" ;;
      slurmd) pidfile="$slurmd_pid" ;;
    esac
    if pid="$(daemon_pid "$name" "$pidfile")"; then
      printf '%-10s running (pid %s)\n' "$name" "$pid"
    else
      printf '%-10s not running\n' "$name"
      ok=1
    fi
  done
  if [ -f "$conf" ] && daemon_pid slurmctld "$ctld_pid" >/dev/null && ctld_ok; then
    s="$(node_state)"
    printf '%-10s %s\n' "node" "$(node_name) ${s:-unknown}"
    state_usable "$s" || ok=1
    printf '%-10s %s\n' "licenses" "$(live_licenses)"
  else
    printf '%-10s %s\n' "node" "$(node_name) unknown (slurmctld not answering)"
    ok=1
  fi
  printf '%-10s %s\n' "SLURM_CONF" "$conf"
  return "$ok"
}

cmd_env() {
  printf 'export SLURM_CONF=%q\n' "$conf"
}

cmd_licenses() {
  [ "$#" -eq 1 ] || die "usage: dev-cluster.sh licenses SPEC (e.g. gopcast_web:1000,gopcast_archive:1000)"
  check_tools
  check_root
  store_licenses "$1"
  if [ ! -f "$conf" ]; then
    echo "licenses stored; they apply at the next 'up'"
    return 0
  fi
  write_conf || true
  if daemon_pid slurmctld "$ctld_pid" >/dev/null && ctld_ok; then
    apply_conf
    wait_node_usable
    echo "licenses: $(live_licenses)"
  else
    echo "licenses stored; they apply at the next 'up'"
  fi
}

main() {
  [ "$#" -ge 1 ] || usage
  local cmd="$1"
  shift
  case "$cmd" in
    up) cmd_up "$@" ;;
    down) [ "$#" -eq 0 ] || usage; cmd_down ;;
    status) [ "$#" -eq 0 ] || usage; cmd_status ;;
    env) [ "$#" -eq 0 ] || usage; cmd_env ;;
    licenses) cmd_licenses "$@" ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
