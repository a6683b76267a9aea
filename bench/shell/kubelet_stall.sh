#!/bin/bash
# check_k8s_kubelet_stall written the usual way: pods bound to this node for
# more than a minute, still Pending, that the kubelet has said nothing about.
# Usage: kubelet_stall.sh KUBECONFIG NODE
K=(--kubeconfig "$1"); node=$2
now=$(date +%s)
DEFS='def ts: if . == null then 0 else sub("\\.[0-9]+Z$"; "Z") | fromdate end;'
pending=$(kubectl "${K[@]}" get pods -A -o json | jq -r --argjson now "$now" --arg node "$node" "$DEFS"'
  .items[] | select(.spec.nodeName == $node and .status.phase == "Pending"
                    and (.metadata.creationTimestamp | ts) < $now - 60)
  | .metadata.namespace + "/" + .metadata.name')
heard=$(kubectl "${K[@]}" get events -A -o json | jq -r '
  .items[] | select(.involvedObject.kind == "Pod" and (.source.component == "kubelet" or .reportingComponent == "kubelet"))
  | .involvedObject.namespace + "/" + .involvedObject.name' | sort -u)
stalled=$(grep -vxF -f <(grep . <<<"$heard") <<<"$pending" | grep .)
n=$(grep -c . <<<"$stalled")
if [ "$n" -gt 0 ]; then echo "CRITICAL - $n pods on $node Pending with no kubelet event | stalled_pods=$n"; echo "$stalled"; exit 2; fi
echo "OK - no stalled pods on $node | stalled_pods=0"
