#!/bin/bash
set -o pipefail
# check_k8s_sandbox_changed --node NODE as a competent sysadmin writes it: the
# server selects SandboxChanged and FailedCreatePodSandBox events (two lists:
# a field selector cannot OR), jq counts this node's occurrences in 10m.
# CRITICAL on a sandbox name "reserved for" a stale sandbox (containerd kept
# the pre-reboot one) or 10+ events, WARNING on any.
# Usage: sandbox_changed.sh KUBECONFIG NODE
K=(--kubeconfig "$1" --request-timeout 20s); node=$2
now=$(date +%s)
counts=$(for reason in SandboxChanged FailedCreatePodSandBox; do
    kubectl "${K[@]}" get events -A --field-selector "reason=$reason,involvedObject.kind=Pod" -o json || exit 3
  done | jq -rs --argjson now "$now" --arg node "$node" '
  def ts: if . == null then 0 else sub("\\.[0-9]+Z$"; "Z") | fromdate end;
  [.[].items[] | select((.source.host // .reportingInstance) == $node)
   | select(((.series.lastObservedTime // .lastTimestamp // .eventTime) | ts) > $now - 600)
   | {n: (.series.count // .count // 1), reserved: (.message | test("is reserved for"))}]
  | "\(map(.n) | add // 0) \(map(select(.reserved) | .n) | add // 0)"')
read -r total reserved <<<"$counts"
[ -n "$total" ] || { echo "UNKNOWN - kubectl failed"; exit 3; }
if [ "$reserved" -gt 0 ] || [ "$total" -ge 10 ]; then echo "CRITICAL - $total sandbox events on $node in 10m, $reserved 'name is reserved' | sandbox_events=$total"; exit 2; fi
if [ "$total" -gt 0 ]; then echo "WARNING - $total sandbox events on $node in 10m | sandbox_events=$total"; exit 1; fi
echo "OK - no sandbox events on $node in 10m | sandbox_events=0"
