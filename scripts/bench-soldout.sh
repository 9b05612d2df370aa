#!/usr/bin/env bash
# Benchmarks the sold-out answer: a signed-in citizen asking to book a full
# session over HTTP (POST /api/v2/appointment/schedule → 409 APPOIN0040),
# against a bare net/http handler answering the same bytes and status, in the
# same run.
#
#   scripts/bench-soldout.sh [runs] [seconds]      (defaults: 3 runs of 10 s)
#
# Server on CPU 0, wrk on CPU 1 (taskset); median requests/s of each.
set -euo pipefail
runs=${1:-3}
secs=${2:-10}
conns=${CONNS:-32}
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/vaxport" ./cmd/vaxport
port=$((20000 + RANDOM % 20000))
url="http://127.0.0.1:$port"
taskset -c 0 "$work/vaxport" serve --demo --centres 800 --addr "127.0.0.1:$port" --data-dir "$work" \
  --log-level warn --book-account-per-minute -1 --book-beneficiary-per-minute -1 --book-ip-per-minute -1 \
  ${DEBUG_ADDR:+--debug-addr $DEBUG_ADDR} >/dev/null 2>"$work/serve.log" &
for _ in $(seq 1 150); do curl -fs "$url/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
admin=$(cat "$work/admin-token")

# A one-seat session tomorrow at the first demo centre.
tomorrow=$(TZ=Asia/Kolkata date -d tomorrow +%d-%m-%Y)
session=$(curl -fs -H "Authorization: Bearer $admin" "$url/api/v1/admin/sessions" -d \
  "{\"center_id\":500001,\"date\":\"$tomorrow\",\"vaccine\":\"COVISHIELD\",\"min_age_limit\":18,\"allow_all_age\":true,\"capacity_dose1\":1,\"capacity_dose2\":0,\"slots\":[\"09:00AM-11:00AM\"]}" |
  sed -n 's/.*"session_id":"\([^"]*\)".*/\1/p')

signin() { # mobile → token
  local txn otp
  txn=$(curl -fs "$url/api/v2/auth/public/generateOTP" -d "{\"mobile\":\"$1\"}" | sed -n 's/.*"txnId":"\([^"]*\)".*/\1/p')
  for _ in $(seq 1 50); do
    otp=$(grep "\"to\":\"$1\"" "$work/sms.jsonl" 2>/dev/null | tail -n1 | sed -n 's/.*"text":"\([0-9]\{6\}\) .*/\1/p')
    [ -n "$otp" ] && break; sleep 0.1
  done
  curl -fs "$url/api/v2/auth/public/confirmOTP" \
    -d "{\"otp\":\"$(printf %s "$otp" | sha256sum | cut -d' ' -f1)\",\"txnId\":\"$txn\"}" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p'
}
beneficiary() { # token passport → reference id
  curl -fs -H "Authorization: Bearer $1" "$url/api/v2/registration/beneficiary/new" -d \
    "{\"name\":\"Bench Person\",\"birth_year\":\"1990\",\"gender_id\":1,\"photo_id_type\":8,\"photo_id_number\":\"$2\",\"comorbidity_ind\":\"N\",\"consent_version\":\"V1\"}" |
    sed -n 's/.*"beneficiary_reference_id":"\([^"]*\)".*/\1/p'
}
first=$(signin 9000000001); second=$(signin 9000000002)
ref1=$(beneficiary "$first" P1000001); ref2=$(beneficiary "$second" P1000002)
book() { curl -s -o "$work/answer.json" -w '%{http_code}' -H "Authorization: Bearer $1" "$url/api/v2/appointment/schedule" \
  -d "{\"dose\":1,\"session_id\":\"$session\",\"slot\":\"09:00AM-11:00AM\",\"beneficiaries\":[\"$2\"]}"; }
[ "$(book "$first" "$ref1")" = 200 ] || { echo "first booking failed: $(cat "$work/answer.json")" >&2; exit 1; }
[ "$(book "$second" "$ref2")" = 409 ] || { echo "second booking was not refused: $(cat "$work/answer.json")" >&2; exit 1; }

cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"dose":1,"session_id":"$session","slot":"09:00AM-11:00AM","beneficiaries":["$ref2"]}'
wrk.headers["Authorization"] = "Bearer $second"
LUA
bport=$((port + 1))
taskset -c 0 "$work/vaxport" loadgen static --body-file "$work/answer.json" --status 409 --addr "127.0.0.1:$bport" >/dev/null &
for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$bport/" >/dev/null 2>&1 && break; sleep 0.1; done

rps() { taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" -s "$work/post.lua" "$1" 2>/dev/null | awk '/Requests\/sec/ {print $2}'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: > "$work/v.txt"; : > "$work/b.txt"
for _ in $(seq 1 "$runs"); do
  rps "$url/api/v2/appointment/schedule" >> "$work/v.txt"
  rps "http://127.0.0.1:$bport/" >> "$work/b.txt"
done
v=$(median < "$work/v.txt"); b=$(median < "$work/b.txt")
printf '| answer | body bytes | vaxport req/s | bare handler req/s | ratio |\n|---|---|---|---|---|\n'
awk -v s="$(wc -c < "$work/answer.json")" -v v="$v" -v b="$b" \
  'BEGIN { printf "| 409 APPOIN0040 (sold out) | %s | %.0f | %.0f | %.0f%% |\n", s, v, b, 100 * v / b }'
