#!/bin/sh
# Runs where the client runs (host, a bare network namespace, or a cell):
# three bulk transfers, then sequential small requests, through the given
# curl proxy options. Prints "tput BYTES_PER_S" and "lat SECONDS" lines.
#   measure_http.sh "CURL_PROXY_OPTIONS" SERVER_PORT BULK_BYTES REQUESTS
set -f  # Options such as --noproxy * must not glob.
opts="$1"
base="http://127.0.0.1:$2"
for _ in 1 2 3; do
  # shellcheck disable=SC2086
  curl -s $opts -o /dev/null -w 'tput %{speed_download}\n' "$base/zeros/$3"
done
urls=""
for i in $(seq "$4"); do urls="$urls $base/hello?$i"; done
# shellcheck disable=SC2086
curl -s $opts -w '\nlat %{time_total}\n' $urls | grep '^lat '
