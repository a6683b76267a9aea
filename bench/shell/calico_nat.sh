#!/bin/bash
# check_k8s_calico_nat written the usual way: every ClusterIP Service with
# ready endpoints has a KUBE-SVC rule in this host's nat table, and this
# node's calico-node pod is Running.
# Usage: calico_nat.sh KUBECONFIG NODE
K=(--kubeconfig "$1"); node=$2
rules=$(iptables-save -t nat 2>/dev/null)
with_endpoints=$(kubectl "${K[@]}" get endpointslices -A -o json | jq -r '
  [.items[] | select(any(.endpoints[]?; .conditions.ready))
   | .metadata.namespace + "/" + .metadata.labels["kubernetes.io/service-name"]] | unique[]')
cluster_ips=$(kubectl "${K[@]}" get services -A -o json | jq -r '
  .items[] | select(.spec.clusterIP != null and .spec.clusterIP != "None")
  | "\(.metadata.namespace)/\(.metadata.name) \(.spec.clusterIP)"' | sort)
missing=0; lines=""
while read -r svc ip; do
  [ -n "$ip" ] || continue
  grep -q -- "-d $ip/32 .*KUBE-SVC" <<<"$rules" || { missing=$((missing + 1)); lines="$lines
no NAT rule for $svc $ip"; }
done <<<"$(join <(echo "$with_endpoints") <(echo "$cluster_ips"))"
calico=$(kubectl "${K[@]}" -n kube-system get pods -l k8s-app=calico-node --field-selector "spec.nodeName=$node" -o json | jq -r '.items[0].status.phase // "missing"')
if [ "$missing" -ge 2 ] || [ "$calico" != Running ]; then echo "CRITICAL - $missing services without NAT rules on $node, calico-node $calico$lines"; exit 2; fi
if [ "$missing" -ge 1 ]; then echo "WARNING - $missing services without NAT rules on $node$lines"; exit 1; fi
echo "OK - NAT rules for every service on $node"
