#!/usr/bin/env bash
# Benchmarks Co-WIN availability search against a bare net/http handler that
# serves a static body of the same bytes, in the same run, on this machine.
#
#   scripts/bench-search.sh [runs] [seconds]      (defaults: 3 runs of 10 s)
#
# The server (vaxport, or the baseline) is pinned to CPU 0 and wrk to CPU 1
# with taskset. Each endpoint is measured `runs` times, alternating with its
# baseline; the median requests/s of each is reported with their ratio.
# Data: one district (Alappuzha, 301) holding 200 centres × 7 days of
# sessions, imported through the admin API into a fresh SQLite store.
set -euo pipefail
runs=${1:-3}
secs=${2:-10}
conns=${CONNS:-32}
cd "$(dirname "$0")/.."
. scripts/lib/search-server.sh
start_search_server --search-ip-per-minute -1

date_cowin=$(TZ=Asia/Kolkata date +%d-%m-%Y)
declare -A paths=(
  [calendarByDistrict]="/api/v2/appointment/sessions/public/calendarByDistrict?district_id=301&date=$date_cowin"
  [findByDistrict]="/api/v2/appointment/sessions/public/findByDistrict?district_id=301&date=$date_cowin"
  [findByPin]="/api/v2/appointment/sessions/public/findByPin?pincode=688001&date=$date_cowin"
)

rps() { # url [wrk args…] → requests/s
  local u=$1; shift
  taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" "$@" "$u" 2>/dev/null | awk '/Requests\/sec/ {print $2}'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '| endpoint | encoding | body bytes | vaxport req/s | bare handler req/s | ratio |\n|---|---|---|---|---|---|\n'
for name in calendarByDistrict findByDistrict findByPin; do
  for enc in identity gzip; do
    target="$url${paths[$name]}"
    hdr=(); sflag=()
    if [ "$enc" = gzip ]; then hdr=(-H "Accept-Encoding: gzip"); sflag=(--gzip); fi
    bytes=$(curl -fs "${hdr[@]}" "$target" | wc -c)
    bport=$((port + 1))
    taskset -c 0 "$work/vaxport" loadgen static "${sflag[@]}" --from "$target" --addr "127.0.0.1:$bport" >/dev/null &
    bpid=$!
    for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$bport/" >/dev/null 2>&1 && break; sleep 0.1; done
    : > "$work/v.txt"; : > "$work/b.txt"
    for _ in $(seq 1 "$runs"); do
      rps "$target" "${hdr[@]}" >> "$work/v.txt"
      rps "http://127.0.0.1:$bport/" "${hdr[@]}" >> "$work/b.txt"
    done
    kill "$bpid"; wait "$bpid" 2>/dev/null || true
    v=$(median < "$work/v.txt"); b=$(median < "$work/b.txt")
    awk -v n="$name" -v e="$enc" -v s="$bytes" -v v="$v" -v b="$b" \
      'BEGIN { printf "| %s | %s | %s | %.0f | %.0f | %.0f%% |\n", n, e, s, v, b, 100 * v / b }'
  done
done
