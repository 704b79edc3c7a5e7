#!/bin/sh
# deploy/prometheus/alerts.yml: valid rules, and each alert fires and stays
# silent as alerts_test.yml expects (promtool needs no server).
set -eu
dir=$(dirname "$0")/../../deploy/prometheus
promtool check rules "$dir/alerts.yml"
cd "$dir" && promtool test rules alerts_test.yml
