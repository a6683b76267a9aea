import { ageSeconds } from './time.js';
import type { Lease } from './types.js';

/** The namespace where each kubelet keeps its heartbeat Lease (named after its node). */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/**
 * The kubelet's default --node-lease-duration-seconds (KubeletConfiguration
 * nodeLeaseDurationSeconds): it renews every quarter of it (10s).
 */
export const DEFAULT_NODE_LEASE_SECONDS = 40;

export interface LeaseFreshness {
  /** Seconds since renewTime; undefined when the Lease was never renewed. */
  renewAge?: number;
  /** leaseDurationSeconds, or the kubelet's default when the field is absent. */
  duration: number;
  /** Renewed longer ago than its duration (or never): the kubelet stopped renewing. */
  expired: boolean;
}

/** How fresh a node's heartbeat Lease is at `now` (epoch ms, the API server's clock). */
export function leaseFreshness(lease: Lease, now: number): LeaseFreshness {
  const renewAge = ageSeconds(lease.spec?.renewTime ?? lease.spec?.acquireTime, now);
  const duration = lease.spec?.leaseDurationSeconds ?? DEFAULT_NODE_LEASE_SECONDS;
  return { renewAge, duration, expired: renewAge === undefined || renewAge > duration };
}
