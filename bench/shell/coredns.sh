#!/bin/bash
set -o pipefail
# check_k8s_coredns --resolve as a competent sysadmin writes it: the coredns
# Deployment's ready replicas, the nodes its ready pods run on (label
# selector), and one DNS query to the kube-dns ClusterIP (dig, dnsutils).
# CRITICAL when no replica is ready or the name does not resolve, WARNING
# under 2 ready replicas or on fewer than 2 nodes.
# Usage: coredns.sh KUBECONFIG
K=(--kubeconfig "$1" --request-timeout 20s)
dep=$(kubectl "${K[@]}" -n kube-system get deployment coredns -o json | jq -r '"\(.spec.replicas // 0) \(.status.readyReplicas // 0)"')
read -r want ready <<<"$dep"
nodes=$(kubectl "${K[@]}" -n kube-system get pods -l k8s-app=kube-dns -o json | jq -r '
  [.items[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True")) | .spec.nodeName] | unique | length')
ip=$(kubectl "${K[@]}" -n kube-system get service kube-dns -o jsonpath='{.spec.clusterIP}' 2>/dev/null)
answer=$( [ -n "$ip" ] && dig +time=2 +tries=1 +short "@$ip" kubernetes.default.svc.cluster.local A 2>/dev/null | grep -E '^[0-9.]+$')
if [ -z "$want" ] || [ "${ready:-0}" -lt 1 ] || [ -z "$answer" ]; then echo "CRITICAL - coredns: $ready/$want ready on ${nodes:-0} nodes, kubernetes.default via ${ip:-no service IP}: ${answer:-no answer}"; exit 2; fi
if [ "$ready" -lt 2 ] || [ "$nodes" -lt 2 ]; then echo "WARNING - coredns: $ready/$want ready on $nodes nodes"; exit 1; fi
echo "OK - coredns: $ready/$want ready on $nodes nodes, kubernetes.default is $answer"
