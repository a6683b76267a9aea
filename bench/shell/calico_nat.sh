#!/bin/bash
set -o pipefail
# check_k8s_calico_nat --node NODE as a competent sysadmin writes it: every
# ClusterIP Service with a ready endpoint has a KUBE-SVC rule in this host's
# nat table, and this node's calico-node pod (label and field selector) is
# Running. CRITICAL on 2+ services without rules or calico-node not Running.
# Usage: calico_nat.sh KUBECONFIG NODE
K=(--kubeconfig "$1" --request-timeout 20s); node=$2
rules=$(iptables-save -t nat 2>/dev/null)
with_endpoints=$(kubectl "${K[@]}" get endpointslices -A -l kubernetes.io/service-name -o json | jq -r '
  [.items[] | select(any(.endpoints[]?; .conditions.ready))
   | .metadata.namespace + "/" + .metadata.labels["kubernetes.io/service-name"]] | unique[]') || exit 3
cluster_ips=$(kubectl "${K[@]}" get services -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name} {.spec.clusterIP}{"\n"}{end}' \
  | awk '$2 != "" && $2 != "None"' | sort) || exit 3
missing=0; lines=""
while read -r svc ip; do
  [ -n "$ip" ] || continue
  grep -q -- "-d $ip/32 .*KUBE-SVC" <<<"$rules" || { missing=$((missing + 1)); lines="$lines
no NAT rule for $svc $ip"; }
done <<<"$(join <(echo "$with_endpoints") <(echo "$cluster_ips"))"
calico=$(kubectl "${K[@]}" -n kube-system get pods -l k8s-app=calico-node --field-selector "spec.nodeName=$node" -o jsonpath='{.items[0].status.phase}')
if [ "$missing" -ge 2 ] || [ "${calico:-missing}" != Running ]; then echo "CRITICAL - $missing services without NAT rules on $node, calico-node ${calico:-missing}$lines"; exit 2; fi
if [ "$missing" -ge 1 ]; then echo "WARNING - $missing services without NAT rules on $node$lines"; exit 1; fi
echo "OK - NAT rules for every service on $node"
