#!/bin/bash
set -o pipefail
# check_k8s_scheduler_stall as a competent sysadmin writes it: the server
# selects Pending pods with no node and FailedScheduling events; jq keeps the
# pods older than 5m that got no FailedScheduling event in 10m.
# Usage: scheduler_stall.sh KUBECONFIG
K=(--kubeconfig "$1" --request-timeout 20s)
now=$(date +%s)
failed=$(kubectl "${K[@]}" get events -A --field-selector reason=FailedScheduling,involvedObject.kind=Pod -o json | jq -c --argjson now "$now" '
  def ts: if . == null then 0 else sub("\\.[0-9]+Z$"; "Z") | fromdate end;
  [.items[] | select(((.series.lastObservedTime // .lastTimestamp // .eventTime) | ts) > $now - 600)
   | {key: (.involvedObject.namespace + "/" + .involvedObject.name), value: true}] | from_entries') || exit 3
stalled=$(kubectl "${K[@]}" get pods -A --field-selector status.phase=Pending,spec.nodeName= -o json | jq -r --argjson now "$now" --argjson failed "$failed" '
  .items[] | select(.spec.schedulerName == "default-scheduler" and (.metadata.creationTimestamp | fromdate) < $now - 300)
  | (.metadata.namespace + "/" + .metadata.name) | select($failed[.] | not)') || exit 3
n=$(grep -c . <<<"$stalled")
if [ "$n" -gt 0 ]; then
  echo "CRITICAL - $n pods unscheduled with no FailedScheduling event in 10m | stalled_pods=$n"
  echo "$stalled"
  exit 2
fi
echo "OK - no stalled pods | stalled_pods=0"
