# Shared by the search benchmarks: builds vaxport, starts it on CPU 0 with
# a fresh SQLite store and the serve flags given, and imports one district
# (Alappuzha, 301) of 200 centres × 7 days of sessions through the admin
# API. Sets work (a temporary directory removed on exit) and url.
#
#   . scripts/lib/search-server.sh; start_search_server [serve flags…]

start_search_server() {
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
    --admin-token-file "$work/token" --log-level warn "$@" 2>"$work/serve.log" &
  for _ in $(seq 1 100); do curl -fs "$url/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fs "$url/readyz" >/dev/null || { cat "$work/serve.log"; exit 1; }

  # 200 centres in Alappuzha; the first 20 share PIN 688001.
  today=$(TZ=Asia/Kolkata date +%Y-%m-%d)
  {
    echo "center_id,name,address,state_id,district_id,block_name,pincode,lat,long,from,to,fee_type,fees"
    for i in $(seq 1 200); do
      pin=$((688000 + (i - 1) / 20 + 1))
      fee_type=Free fees=""
      if (( i % 4 == 0 )); then fee_type=Paid fees="COVISHIELD:780;COVAXIN:1410"; fi
      printf '%d,Centre %d,Ward %d Road,17,301,Block %d,%d,9.%04d,76.%04d,09:00:00,17:00:00,%s,%s\n' \
        $((900000 + i)) "$i" "$i" $(( i % 12 )) "$pin" "$i" "$i" "$fee_type" "$fees"
    done
  } > "$work/centres.csv"
  {
    echo "center_id,date,vaccine,min_age_limit,allow_all_age,capacity_dose1,capacity_dose2,slots"
    for i in $(seq 1 200); do
      for d in $(seq 0 6); do
        day=$(date -d "$today + $d day" +%Y-%m-%d)
        vac=COVISHIELD; (( (i + d) % 3 == 0 )) && vac=COVAXIN
        echo "$((900000 + i)),$day,$vac,$(( (i % 2) ? 18 : 45 )),true,$(( 50 + (i * 7 + d) % 150 )),$(( 20 + (i + d) % 80 )),09:00AM-11:00AM;11:00AM-01:00PM;01:00PM-03:00PM;03:00PM-05:00PM"
      done
    done
  } > "$work/sessions.csv"
  for kind in centres sessions; do
    curl -fs -H "Authorization: Bearer $(cat "$work/token")" -H 'Content-Type: text/csv' \
      --data-binary "@$work/$kind.csv" "$url/api/v1/admin/$kind/import" | grep -o '"failed":[0-9]*' | grep -q '"failed":0' ||
      { echo "import of $kind failed" >&2; exit 1; }
  done
  sleep 2 # let the change feed bring the index up to date
}
