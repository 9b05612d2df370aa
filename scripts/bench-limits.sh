#!/usr/bin/env bash
# Measures what one address hammering search does to everyone else: other
# callers' success rate, throughput and p99 latency with and without it.
#
#   scripts/bench-limits.sh [runs] [seconds]      (defaults: 3 runs of 10 s)
#
# The server runs with --trusted-proxy 127.0.0.1 and the default
# --search-ip-per-minute (600, bursts of 300), pinned to CPU 0; wrk runs on
# CPU 1 and sets X-Forwarded-For per request. "Callers" are CONNS (16)
# connections each pausing DELAY_MS (5) between requests, every request from
# a random address of 10.0.0.0/8, so none of them nears its limit. The
# "hammer" is HAMMER_CONNS (8) connections sending as fast as they can from
# 203.0.113.7. Each run measures the callers alone, then with the hammer
# alongside; the medians are reported. Data: 200 centres × 7 days in one
# district (as scripts/bench-search.sh), imported into a fresh SQLite store.
# SERVE_ARGS adds serve flags (e.g. "--search-ip-per-minute -1" for a run
# without the limit).
set -euo pipefail
runs=${1:-3}
secs=${2:-10}
conns=${CONNS:-16}
delay=${DELAY_MS:-5}
hconns=${HAMMER_CONNS:-8}
cd "$(dirname "$0")/.."
. scripts/lib/search-server.sh
# shellcheck disable=SC2086 # SERVE_ARGS is a list of flags
start_search_server --trusted-proxy 127.0.0.1 ${SERVE_ARGS:-}

target="$url/api/v2/appointment/sessions/public/findByPin?pincode=688001&date=$(TZ=Asia/Kolkata date +%d-%m-%Y)"
cat > "$work/callers.lua" <<LUA
math.randomseed(os.time())
request = function()
  local a = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  return wrk.format(nil, nil, {["X-Forwarded-For"] = a})
end
delay = function() return $delay end
done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %.1f %.4f %.3f\n", summary.requests / (summary.duration / 1e6),
    100 * (summary.requests - bad) / summary.requests, latency:percentile(99) / 1000))
end
LUA
cat > "$work/hammer.lua" <<'LUA'
wrk.headers["X-Forwarded-For"] = "203.0.113.7"
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.4f\n", summary.requests / (summary.duration / 1e6),
    100 * summary.errors.status / summary.requests))
end
LUA

callers() { taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" -s "$work/callers.lua" "$target" | awk '/^RESULT/ {print $2, $3, $4}'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: > "$work/alone.txt"; : > "$work/hammered.txt"; : > "$work/hammer.txt"
for _ in $(seq 1 "$runs"); do
  callers >> "$work/alone.txt"
  taskset -c "${HAMMER_CPU:-1}" wrk -t1 -c"$hconns" -d"$((secs + 2))s" -s "$work/hammer.lua" "$target" \
    | awk '/^RESULT/ {print $2, $3}' >> "$work/hammer.txt" &
  hpid=$!
  sleep 1
  callers >> "$work/hammered.txt"
  wait "$hpid"
done

col() { awk -v c="$1" '{print $c}' "$2" | median; }
printf '| callers | req/s | success %% | p99 ms |\n|---|---|---|---|\n'
for run in alone hammered; do
  printf '| %s | %s | %s | %s |\n' "$run" "$(col 1 "$work/$run.txt")" "$(col 2 "$work/$run.txt")" "$(col 3 "$work/$run.txt")"
done
printf '\nhammer (one address, %d connections): %s req/s, %s%% refused with 429\n' \
  "$hconns" "$(col 1 "$work/hammer.txt")" "$(col 2 "$work/hammer.txt")"
