#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for testing the array and merge scripts for real:
# munged + slurmctld + slurmd from Debian's slurm-wlm and munge (apt-get install -y slurm-wlm munge),
# with a generated slurm.conf, key, state and logs all in one folder (nothing in /etc), on free ports.
#
#   eval "$(scripts/cluster/slurm/local-cluster.sh start DIR)"   # prints export SLURM_CONF=DIR/slurm.conf
#   sbatch … ; squeue … ; sacct is not available (no accounting daemon)
#   scripts/cluster/slurm/local-cluster.sh stop DIR             # stops the three daemons it started
#
# The node is this host (hostname -s), CPUs = nproc, no cgroups (proctrack/pgid, task/none): enough to
# run job arrays, dependencies, scancel and requeue the way a real cluster does. Runs as root (the
# daemons' user is the caller); log files are DIR/*.log.
set -euo pipefail
cmd=${1:?usage: local-cluster.sh start|stop DIR}
dir=${2:?usage: local-cluster.sh start|stop DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

stop() {
  for d in slurmd slurmctld munged; do
    if [ -f "$dir/$d.pid" ]; then
      pid=$(cat "$dir/$d.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$d.pid"
    fi
  done
}

if [ "$cmd" = stop ]; then
  stop
  exit 0
fi
[ "$cmd" = start ] || { echo "local-cluster.sh: unknown command $cmd (start|stop)" >&2; exit 2; }
for b in munged slurmctld slurmd sbatch; do
  command -v "$b" >/dev/null || PATH=$PATH:/usr/sbin
  command -v "$b" >/dev/null || { echo "local-cluster.sh: $b is missing: apt-get install -y slurm-wlm munge" >&2; exit 3; }
done

# two free TCP ports for slurmctld and slurmd
read -r cport dport < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
host=$(hostname -s)
user=$(id -un)
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"
[ -f "$dir/munge/munge.key" ] || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1 count=1024 status=none
chmod 400 "$dir/munge/munge.key"
cat >"$dir/slurm.conf" <<CONF
ClusterName=samplescope-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$cport
SlurmdPort=$dport
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
# cred_expire also sets how long SLURM holds a requeued job (120 s by default): short, for tests
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=${CRED_EXPIRE:-10}
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobRequeue=1
KillWait=5
MinJobAge=600
SchedulerParameters=defer_batch
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
# slurmd 22.05 initialises a cgroup plugin even when nothing uses it: v1 when this host mounts it, else v2
if [ -d /sys/fs/cgroup/freezer ]; then cg=cgroup/v1; else cg=cgroup/v2; fi
printf 'CgroupPlugin=%s\nCgroupMountpoint=/sys/fs/cgroup\n' "$cg" >"$dir/cgroup.conf"

munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed"
export SLURM_CONF=$dir/slurm.conf
if ! slurmctld -f "$SLURM_CONF" -i || ! slurmd -f "$SLURM_CONF"; then
  echo "local-cluster.sh: a daemon failed to start; logs in $dir:" >&2
  tail -n 20 "$dir"/*.log >&2 || true
  stop
  exit 1
fi
for _ in $(seq 100); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE '^idle'; then
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.2
done
echo "local-cluster.sh: the node did not come up in 20 s; logs in $dir:" >&2
tail -n 20 "$dir"/*.log >&2 || true
stop
exit 1
