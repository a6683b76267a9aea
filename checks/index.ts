import type { AnyCheck } from '../lib/plugin/check.js';
import schedulerStall from './scheduler_stall.js';
import coredns from './coredns.js';
import sandboxChanged from './sandbox_changed.js';
import kubeletStall from './kubelet_stall.js';
import stuckTerminating from './stuck_terminating.js';
import leases from './leases.js';
import dqlite from './dqlite.js';
import calicoNat from './calico_nat.js';

/** Every check the multi-call binary knows, in the order --help lists them. */
export const CHECKS: AnyCheck[] = [schedulerStall, coredns, leases, stuckTerminating, dqlite, sandboxChanged, kubeletStall, calicoNat];
