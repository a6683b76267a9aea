import type { AnyCheck } from '../lib/plugin/check.js';
import schedulerStall from './scheduler_stall.js';
import leases from './leases.js';
import coredns from './coredns.js';
import sandboxChanged from './sandbox_changed.js';
import kubeletStall from './kubelet_stall.js';
import stuckTerminating from './stuck_terminating.js';
import dqlite from './dqlite.js';
import calicoNat from './calico_nat.js';
import rebootReady from './reboot_ready.js';
import nodes from './nodes.js';
import apiserver from './apiserver.js';
import workloads from './workloads.js';
import pods from './pods.js';
import volumes from './volumes.js';
import dqliteCluster from './dqlite_cluster.js';
import certs from './certs.js';
import pdb from './pdb.js';
import canary from './canary.js';
import capacity from './capacity.js';
import nodeHealth from './node_health.js';

/** Every check the multi-call binary knows, in the order --help lists them. */
export const CHECKS: AnyCheck[] = [schedulerStall, leases, coredns, dqlite, dqliteCluster, certs, stuckTerminating, sandboxChanged, kubeletStall, calicoNat, nodeHealth, rebootReady, nodes, apiserver, workloads, pods, volumes, pdb, capacity, canary];
