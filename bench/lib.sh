# Helpers shared by bench/share.sh and bench/accesslog.sh (sourced, not run). They need the
# caller's `set -euo pipefail`, and these variables: work (the work directory), port_base.
# (bench/run.sh and bench/remote.sh predate this file and keep their own copies.)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "bench: $*"; exit 1; }

is_mounted() {  # exact mount point
  local src m rest
  while read -r src m rest; do
    [[ "$(printf '%b' "$m")" == "$1" ]] && return 0
  done < /proc/mounts
  return 1
}

secs_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }'; }
per_sec() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.3f", (s > 0 ? n / s : 0) }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END {
  if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
thousands() { sed -E ':a; s/([0-9])([0-9]{3})($|[,.])/\1,\2\3/; ta'; }

drop_warned=0
drop_caches() {
  sync
  if ! { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
    (( drop_warned )) || log "cannot drop the page cache here: cold reads only remount"
    drop_warned=1
  fi
}

# free_port VAR: sets VAR to a free local port, from $port_base up, not handed out before.
taken_ports=" "
free_port() {
  local p=$port_base
  while [[ "$taken_ports" == *" $p "* ]] || ss -ltnH "sport = :$p" | grep -q .; do p=$(( p + 1 )); done
  taken_ports+="$p "
  printf -v "$1" '%s' "$p"
}

# run_io OUTFILE CMD...: runs CMD as a child, waits for it to exit without reaping it (waitid
# WNOWAIT), copies its /proc/PID/io (the whole process, every thread: rchar/wchar = bytes passed
# to read/write-like system calls, syscr/syscw = their number) to OUTFILE, then reaps it.
# Returns CMD's exit status. Nothing is sampled, so nothing is missed at the end.
run_io() {
  local out=$1; shift
  python3 -c '
import os, sys
out, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execvp(argv[0], argv)
os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
try:
    with open(f"/proc/{pid}/io") as f, open(out, "w") as o:
        o.write(f.read())
except OSError as e:
    print(f"bench: cannot read /proc/{pid}/io: {e}", file=sys.stderr)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))' "$out" "$@"
}

# snapshot DIR FILE: one line per object (file) below DIR: path inode size mtime.
snapshot() { find "$1" -type f -printf '%P %i %s %T@\n' | sort >"$2"; }
# snapshot_diff BEFORE AFTER: prints "written renamed deleted bytes_written": objects with new
# contents (an inode not there before, or other size or mtime), objects only moved to another
# path (rename: same inode, size and mtime), objects gone (their path and their inode), and the
# bytes of the written ones.
snapshot_diff() {
  awk 'NR == FNR { b[$1] = $2 " " $3 " " $4; ino[$2] = $3 " " $4; path[$1] = $2; next }
       { seen[$2] = 1; now[$1] = 1
         if (($1 in b) && b[$1] == $2 " " $3 " " $4) next
         if (($2 in ino) && ino[$2] == $3 " " $4) mv++; else { w++; bytes += $3 } }
       END { d = 0; for (p in path) if (!(p in now) && !(path[p] in seen)) d++
             printf "%d %d %d %d\n", w, mv, d, bytes }' "$1" "$2"
}
