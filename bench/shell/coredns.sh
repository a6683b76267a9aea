#!/bin/bash
# check_k8s_coredns written the usual way: the coredns Deployment has its
# replicas available, on more than one node, behind a kube-dns ClusterIP.
# Usage: coredns.sh KUBECONFIG
K=(--kubeconfig "$1")
read -r want ready < <(kubectl "${K[@]}" -n kube-system get deployment coredns -o json | jq -r '"\(.spec.replicas // 0) \(.status.availableReplicas // 0)"')
nodes=$(kubectl "${K[@]}" -n kube-system get pods -l k8s-app=kube-dns -o json | jq -r '
  [.items[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True")) | .spec.nodeName] | unique | length')
ip=$(kubectl "${K[@]}" -n kube-system get service kube-dns -o jsonpath='{.spec.clusterIP}' 2>/dev/null)
if [ -z "$want" ] || [ "${ready:-0}" -lt 1 ] || [ -z "$ip" ]; then echo "CRITICAL - coredns: $ready/$want available, service IP '${ip:-none}'"; exit 2; fi
if [ "$ready" -lt "$want" ] || [ "$nodes" -lt 2 ]; then echo "WARNING - coredns: $ready/$want available on $nodes nodes"; exit 1; fi
echo "OK - coredns: $ready/$want available on $nodes nodes, service $ip"
