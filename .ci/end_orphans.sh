#!/usr/bin/env bash
# Ends the processes whose PID files are in the directory given ($1), then removes that directory.
# A PID file holds "PID START" (START: field 22 of /proc/PID/stat, the process's start time), and a
# process is signalled only when both still match: a PID reused by an unrelated process since is
# left alone. Never fails: cleanup must not change the exit status of the run it ends.
dir=${1:-}
[ -n "$dir" ] && [ -d "$dir" ] || exit 0
for f in "$dir"/*.pid; do
  [ -e "$f" ] || continue
  read -r pid started _ <"$f" || true
  case "$pid" in '' | *[!0-9]*) continue ;; esac
  [ -n "${started:-}" ] && [ -r "/proc/$pid/stat" ] || continue
  now=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f20)
  [ "$now" = "$started" ] && kill -9 "$pid" 2>/dev/null
done
rm -rf "$dir"
exit 0
