// The few fields of Kubernetes objects the checks read, typed loosely:
// real API output omits empty fields, so everything is optional.

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind?: string; name?: string; uid?: string; controller?: boolean }[];
}

export interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface ContainerStatus {
  name?: string;
  ready?: boolean;
  restartCount?: number;
  state?: {
    running?: { startedAt?: string };
    waiting?: { reason?: string; message?: string };
    terminated?: { reason?: string; exitCode?: number; startedAt?: string; finishedAt?: string };
  };
}

export interface Pod {
  metadata?: ObjectMeta;
  spec?: {
    nodeName?: string;
    schedulerName?: string;
    schedulingGates?: { name?: string }[];
    terminationGracePeriodSeconds?: number;
    affinity?: unknown;
  };
  status?: {
    phase?: string;
    conditions?: Condition[];
    containerStatuses?: ContainerStatus[];
    nominatedNodeName?: string;
    startTime?: string;
  };
}

export interface ObjectReference {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
}

/** core/v1 Event, which also shows events written through events.k8s.io/v1. */
export interface KubeEvent {
  metadata?: ObjectMeta;
  involvedObject?: ObjectReference;
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string } | null;
  source?: { component?: string; host?: string };
  reportingComponent?: string;
  reportingInstance?: string;
  action?: string;
}

export interface Lease {
  metadata?: ObjectMeta;
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface Node {
  metadata?: ObjectMeta;
  spec?: { unschedulable?: boolean; taints?: { key?: string; effect?: string }[] };
  status?: { conditions?: Condition[] };
}
