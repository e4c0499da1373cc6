#!/usr/bin/env bash
# Debian packages the test suite drives for real: docker-compose (parses docker-compose.yml),
# kcat (an unkeyed Kafka producer, as senders use), prometheus (promtool), alertmanager, and
# chromium + chromedriver (the live page is tested in a real headless browser).
# Installs only what is missing; quiet and quick when everything is there.
set -euo pipefail
declare -A want=([docker-compose]=docker-compose [kcat]=kcat [promtool]=prometheus [prometheus-alertmanager]=prometheus-alertmanager
  [chromium]=chromium [chromedriver]=chromium-driver)
missing=()
for cmd in "${!want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${want[$cmd]}")
done
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "setup: missing system packages: ${missing[*]}; install them with your package manager" >&2
  exit 1
fi
echo "setup: installing ${missing[*]} (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
