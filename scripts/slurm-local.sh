#!/usr/bin/env bash
# A one-machine Slurm cluster (controller and compute node on this host) for the test suite and for
# trying `rlw sweep --backend slurm`. Safe to run again: it does nothing where Slurm already answers,
# and only starts what is not running. Called by `./rlw test`. Not for a real cluster: there, put
# sbatch and squeue on PATH and use the cluster as it is (README, docs/sweeps-slurm.md).
set -euo pipefail

conf=/etc/slurm/slurm.conf
# Written into the slurm.conf this script owns, so it never overwrites one a person wrote.
marker="# Written by RLWorkbench scripts/slurm-local.sh"
state_dir=/var/lib/slurm/slurmctld
spool_dir=/var/lib/slurm/slurmd
log_dir=/var/log/slurm
ctld_pid=/run/slurmctld.pid
slurmd_pid=/run/slurmd.pid
munge_socket_dir=/run/munge

say() { echo "slurm-local: $*" >&2; }
fail() { say "$*"; exit 1; }

host="$(hostname -s)"

# A pid file left by a killed daemon may name a pid some other process has since taken.
alive() { local pid; pid="$(cat "$1" 2>/dev/null)" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]; }
ours() { [ -f "$conf" ] && grep -qxF "$marker" "$conf"; }

# Ready: the controller answers and this host's node takes jobs ("idle*" and the like, with a suffix, do not).
# For the cluster this script made, both daemons must also be alive: the controller notices a dead slurmd only minutes later.
node_state() { timeout 10 sinfo -h -N -n "$host" -o %T 2>/dev/null | head -n1; }
slurm_answers() {
  command -v sinfo >/dev/null 2>&1 && command -v scontrol >/dev/null 2>&1 || return 1
  timeout 10 scontrol ping 2>/dev/null | grep -q 'is UP' || return 1
  if ours; then
    alive "$ctld_pid" slurmctld && alive "$slurmd_pid" slurmd || return 1
    case "$(node_state)" in idle|mixed|allocated|completing) return 0 ;; *) return 1 ;; esac
  fi
}

slurm_answers && exit 0

# A cluster configured by someone else: leave it alone and say what is wrong.
if [ -f "$conf" ] && ! ours; then
  fail "Slurm does not answer here, and $conf was not written by this script, so it is left alone; start that cluster's daemons (or remove $conf to let this script set up a one-machine Slurm)."
fi

# The daemons live in sbin, which a non-login shell may not have on PATH.
export PATH="$PATH:/usr/sbin:/sbin"
missing=()
for cmd in slurmctld slurmd sbatch munged; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
. /etc/os-release 2>/dev/null || true
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "${ID:-}" = "debian" ] && [ "$(id -u)" = "0" ]; then
    say "installing slurmctld, slurmd, slurm-client and munge from Debian's repositories..."
    export DEBIAN_FRONTEND=noninteractive
    # Debian's packages try to start their services through invoke-rc.d; without systemd that is refused
    # and harmless, because this script starts the daemons itself.
    if ! apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null 2>&1; then
      apt-get update -qq >/dev/null 2>&1 || true
      apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null \
        || fail "apt-get could not install slurmctld, slurmd, slurm-client and munge (output above)."
    fi
  else
    fail "Slurm is not installed (missing: ${missing[*]}); install slurmctld, slurmd, slurm-client and munge (on Debian or Ubuntu as root: 'apt-get install slurmctld slurmd slurm-client munge') or point the workbench at an existing cluster, then run again."
  fi
fi
[ "$(id -u)" = "0" ] || fail "starting a local Slurm needs root (its daemons run as root here); run this script with sudo."

# Two test runs starting at once must not start the daemons twice.
exec 9>/run/rlworkbench-slurm-local.lock
# The daemons started below must not inherit this descriptor, or they would hold the lock for good (9>&-).
flock 9
slurm_answers && exit 0

# munge: the authentication every Slurm message carries.
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile /etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key
  chmod 600 /etc/munge/munge.key
fi
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  install -d -o munge -g munge -m 0755 "$munge_socket_dir"
  install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
  runuser -u munge -- munged 9>&- || fail "munged did not start; see /var/log/munge/munged.log."
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 || fail "munged started but does not answer; see /var/log/munge/munged.log."
fi

mem_mib=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
cpus=$(nproc)
wanted="$(cat <<CONF
$marker
# A one-machine cluster: this host is the controller and the only compute node.
ClusterName=rlworkbench
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
StateSaveLocation=$state_dir
SlurmdSpoolDir=$spool_dir
SlurmctldPidFile=$ctld_pid
SlurmdPidFile=$slurmd_pid
SlurmctldLogFile=$log_dir/slurmctld.log
SlurmdLogFile=$log_dir/slurmd.log
NodeName=$host CPUs=$cpus RealMemory=$mem_mib State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
)"
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$wanted" ]; then
  mkdir -p "$(dirname "$conf")"
  printf '%s\n' "$wanted" > "$conf"
  # A running controller would keep the old node description.
  if alive "$ctld_pid" slurmctld; then scontrol reconfigure >/dev/null 2>&1 || true; fi
fi
mkdir -p "$state_dir" "$spool_dir" "$log_dir"

alive "$ctld_pid" slurmctld || slurmctld 9>&- || fail "slurmctld did not start; see $log_dir/slurmctld.log."
alive "$slurmd_pid" slurmd || slurmd 9>&- || fail "slurmd did not start; see $log_dir/slurmd.log."

for _ in $(seq 60); do
  if slurm_answers; then
    say "a one-machine Slurm is up: node $host ($cpus CPUs, $mem_mib MiB) in partition main; logs in $log_dir."
    exit 0
  fi
  # A node the controller last saw die (say, the machine was stopped with jobs on it) stays down until resumed.
  case "$(node_state)" in down*|drain*|fail*) scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true ;; esac
  sleep 0.5
done
fail "started slurmctld and slurmd, but node $host is not idle after 30 s (state: '$(node_state)'); see $log_dir/slurmctld.log and $log_dir/slurmd.log."
