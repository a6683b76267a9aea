#!/bin/bash
# check_k8s_kubelet_stall written the usual way: pods bound to this node for
# more than a minute, still Pending, that the kubelet has said nothing about,
# or that it said Pulled/Created/Started about over a minute ago while the pod
# still shows no container status (its status writes fail).
# Server-side field selectors: the cost follows the node's Pending pods.
# Usage: kubelet_stall.sh KUBECONFIG NODE
set -o pipefail
K=(--kubeconfig "$1"); node=$2
fail() { echo "UNKNOWN - kubectl failed"; exit 3; }
now=$(date +%s)
DEFS='def ts: if . == null then 0 else sub("\\.[0-9]+Z$"; "Z") | fromdate end;'
pending=$(kubectl "${K[@]}" get pods -A --field-selector "spec.nodeName=$node,status.phase=Pending" -o json | jq -r --argjson now "$now" "$DEFS"'
  .items[] | select((.metadata.creationTimestamp | ts) < $now - 60 and .metadata.deletionTimestamp == null)
  | .metadata.namespace + "/" + .metadata.name + " " + (((.status.containerStatuses // []) | length) | tostring)') || fail
[ -n "$pending" ] || { echo "OK - no stalled pods on $node | stalled_pods=0"; exit 0; }
# Each Pending pod's own events, by name in its namespace, 8 at a time: the
# cost follows the node's Pending pods (a cluster-wide list of kubelet events
# grows with the cluster: 127 MB at 50k pods in bench/).
export KUBECONFIG_FILE=$1
events=$(cut -d' ' -f1 <<<"$pending" | xargs -P 8 -n 1 bash -c 'set -o pipefail
  kubectl --kubeconfig "$KUBECONFIG_FILE" get events -n "${1%%/*}" --field-selector "involvedObject.kind=Pod,involvedObject.name=${1#*/}" -o json | jq -c ".items[]"' _) || fail
kubelet='select(.source.component == "kubelet" or .reportingComponent == "kubelet")'
heard=$(jq -r "$kubelet"' | .involvedObject.namespace + "/" + .involvedObject.name' <<<"$events" | sort -u)
progressed=$(jq -r --argjson now "$now" "$DEFS$kubelet"' | select((.reason | IN("Pulled","Created","Started"))
  and ((.firstTimestamp // .eventTime) | ts) < $now - 60) | .involvedObject.namespace + "/" + .involvedObject.name' <<<"$events" | sort -u)
stalled=$(while read -r pod statuses; do
  if ! grep -qxF "$pod" <<<"$heard"; then echo "$pod"
  elif [ "$statuses" = 0 ] && grep -qxF "$pod" <<<"$progressed"; then echo "$pod (no status written)"; fi
done <<<"$pending")
n=$(grep -c . <<<"$stalled")
if [ "$n" -gt 0 ]; then echo "CRITICAL - $n pods on $node Pending with no kubelet event or no status written | stalled_pods=$n"; echo "$stalled"; exit 2; fi
echo "OK - no stalled pods on $node | stalled_pods=0"
