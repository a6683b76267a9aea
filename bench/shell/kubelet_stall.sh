#!/bin/bash
set -o pipefail
# check_k8s_kubelet_stall --node NODE as a competent sysadmin writes it: the
# server selects this node's Pending pods; for each bound over a minute ago
# that the kubelet has not given a status, ask for the pod's own events
# (involvedObject.name, 8 kubectl at a time). CRITICAL when the kubelet has
# said nothing about one of them.
# Usage: kubelet_stall.sh KUBECONFIG NODE
K=(--kubeconfig "$1" --request-timeout 20s); node=$2
now=$(date +%s)
silent=$(kubectl "${K[@]}" get pods -A --field-selector "spec.nodeName=$node,status.phase=Pending" -o json | jq -r --argjson now "$now" '
  .items[] | select((.metadata.creationTimestamp | fromdate) < $now - 60)
  | select(.status.startTime == null and ((.status.containerStatuses // []) | length) == 0)
  | "\(.metadata.namespace) \(.metadata.name)"') || exit 3
stalled=$(while read -r ns name; do
  [ -n "$name" ] && echo "$ns $name"
done <<<"$silent" | xargs -r -P 8 -n 2 sh -c '
  n=$(kubectl "$0" "$1" --request-timeout 20s -n "$2" get events --field-selector "involvedObject.kind=Pod,involvedObject.name=$3" -o json \
      | jq "[.items[] | select(.source.component == \"kubelet\" or .reportingComponent == \"kubelet\")] | length")
  [ "$n" = 0 ] && echo "$2/$3"; true' --kubeconfig "$1")
n=$(grep -c . <<<"$stalled")
if [ "$n" -gt 0 ]; then echo "CRITICAL - $n pods on $node Pending with no kubelet event | stalled_pods=$n"; echo "$stalled"; exit 2; fi
echo "OK - no stalled pods on $node | stalled_pods=0"
