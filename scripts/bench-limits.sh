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
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }
command -v taskset >/dev/null || { echo "needs taskset (util-linux)" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/vaxport" ./cmd/vaxport
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$work/token"
"$work/vaxport" keys init --keys-dir "$work/keys" >/dev/null

port=$((20000 + RANDOM % 20000))
url="http://127.0.0.1:$port"
taskset -c 0 "$work/vaxport" serve --addr "127.0.0.1:$port" --data-dir "$work" \
  --admin-token-file "$work/token" --trusted-proxy 127.0.0.1 --log-level warn ${SERVE_ARGS:-} 2>"$work/serve.log" &
for _ in $(seq 1 100); do curl -fs "$url/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$url/readyz" >/dev/null || { cat "$work/serve.log"; exit 1; }

today=$(TZ=Asia/Kolkata date +%Y-%m-%d)
{
  echo "center_id,name,address,state_id,district_id,block_name,pincode,lat,long,from,to,fee_type,fees"
  for i in $(seq 1 200); do
    printf '%d,Centre %d,Ward %d Road,17,301,Block %d,%d,9.%04d,76.%04d,09:00:00,17:00:00,Free,\n' \
      $((900000 + i)) "$i" "$i" $(( i % 12 )) $((688000 + (i - 1) / 20 + 1)) "$i" "$i"
  done
} > "$work/centres.csv"
{
  echo "center_id,date,vaccine,min_age_limit,allow_all_age,capacity_dose1,capacity_dose2,slots"
  for i in $(seq 1 200); do
    for d in $(seq 0 6); do
      echo "$((900000 + i)),$(date -d "$today + $d day" +%Y-%m-%d),COVISHIELD,18,true,100,50,09:00AM-11:00AM;11:00AM-01:00PM"
    done
  done
} > "$work/sessions.csv"
for kind in centres sessions; do
  curl -fs -H "Authorization: Bearer $(cat "$work/token")" -H 'Content-Type: text/csv' \
    --data-binary "@$work/$kind.csv" "$url/api/v1/admin/$kind/import" | grep -o '"failed":[0-9]*' | grep -q '"failed":0' ||
    { echo "import of $kind failed" >&2; exit 1; }
done
sleep 2 # let the change feed bring the index up to date

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
  taskset -c 1 wrk -t1 -c"$hconns" -d"$((secs + 2))s" -s "$work/hammer.lua" "$target" \
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
