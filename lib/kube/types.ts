// The few fields of Kubernetes objects the checks read, typed loosely:
// real API output omits empty fields, so everything is optional.

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  /** Keys that must be removed (by their controller) before the object can go. */
  finalizers?: string[];
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
  /** Deployment conditions: when the controller last wrote it (progress, for Progressing). */
  lastUpdateTime?: string;
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
  /** The previous run of the container (why it last restarted). */
  lastState?: { terminated?: { reason?: string; exitCode?: number; startedAt?: string; finishedAt?: string; message?: string } };
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key?: string; operator?: string; values?: string[] }[];
}

export interface PodAffinityTerm {
  labelSelector?: LabelSelector;
  topologyKey?: string;
  namespaces?: string[];
  namespaceSelector?: LabelSelector;
}

export interface TopologySpreadConstraint {
  maxSkew?: number;
  topologyKey?: string;
  whenUnsatisfiable?: string;
  labelSelector?: LabelSelector;
  matchLabelKeys?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: { key?: string; operator?: string; values?: string[] }[];
  matchFields?: { key?: string; operator?: string; values?: string[] }[];
}

export interface Taint { key?: string; value?: string; effect?: string }
export interface Toleration { key?: string; operator?: string; value?: string; effect?: string }

export interface Affinity {
  nodeAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
  };
  podAntiAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[];
    preferredDuringSchedulingIgnoredDuringExecution?: { weight?: number; podAffinityTerm?: PodAffinityTerm }[];
  };
}

/** Quantities by resource name ('cpu': '500m', 'memory': '1Gi'), as the API serializes them. */
export type ResourceList = Record<string, string | number | undefined>;

export interface Container {
  name?: string;
  image?: string;
  resources?: { requests?: ResourceList; limits?: ResourceList };
}

export interface PodSpec {
  nodeName?: string;
  schedulerName?: string;
  schedulingGates?: { name?: string }[];
  terminationGracePeriodSeconds?: number;
  affinity?: Affinity;
  topologySpreadConstraints?: TopologySpreadConstraint[];
  priorityClassName?: string;
  containers?: Container[];
  /** Init containers; restartPolicy Always makes one a sidecar that runs beside the containers. */
  initContainers?: (Container & { restartPolicy?: string })[];
  /** RuntimeClass overhead, added to the pod's requests by the scheduler. */
  overhead?: ResourceList;
  /** Pod-level resources (PodLevelResources): when set they are the pod's requests. */
  resources?: { requests?: ResourceList };
  tolerations?: Toleration[];
  nodeSelector?: Record<string, string>;
  volumes?: { name?: string; persistentVolumeClaim?: { claimName?: string }; hostPath?: { path?: string } }[];
}

export interface Pod {
  metadata?: ObjectMeta;
  spec?: PodSpec;
  status?: {
    phase?: string;
    conditions?: Condition[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
    nominatedNodeName?: string;
    reason?: string;
    /** Why the pod is in this phase (the kubelet's eviction message). */
    message?: string;
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
  spec?: { unschedulable?: boolean; taints?: Taint[] };
  status?: {
    conditions?: Condition[];
    addresses?: { type?: string; address?: string }[];
    nodeInfo?: { bootID?: string; kubeletVersion?: string; containerRuntimeVersion?: string };
    /** What the scheduler may place there: capacity minus system and kube reservations. */
    allocatable?: ResourceList;
    capacity?: ResourceList;
  };
}

export interface ServicePort {
  name?: string;
  protocol?: string;
  port?: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface Service {
  metadata?: ObjectMeta;
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    ports?: ServicePort[];
    selector?: Record<string, string>;
  };
}

/** discovery.k8s.io/v1 EndpointSlice (the Endpoints API is deprecated since 1.33). */
export interface EndpointSlice {
  metadata?: ObjectMeta;
  addressType?: string;
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean }; nodeName?: string }[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}

export interface WorkloadStatus {
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  updatedReplicas?: number;
  unavailableReplicas?: number;
  observedGeneration?: number;
  conditions?: Condition[];
  // DaemonSet
  desiredNumberScheduled?: number;
  currentNumberScheduled?: number;
  updatedNumberScheduled?: number;
  numberReady?: number;
  numberAvailable?: number;
  numberUnavailable?: number;
  numberMisscheduled?: number;
  // StatefulSet: ControllerRevision names
  currentRevision?: string;
  updateRevision?: string;
}

export interface Deployment {
  metadata?: ObjectMeta & { generation?: number };
  spec?: {
    replicas?: number;
    paused?: boolean;
    selector?: LabelSelector;
    template?: { metadata?: ObjectMeta; spec?: PodSpec };
    /** Deployment: strategy.type; StatefulSet and DaemonSet: updateStrategy. */
    strategy?: { type?: string };
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
  };
  status?: WorkloadStatus;
}

export type DaemonSet = Deployment;
export type ReplicaSet = Deployment;
export type StatefulSet = Deployment;

export interface PodDisruptionBudget {
  metadata?: ObjectMeta;
  spec?: { minAvailable?: number | string; maxUnavailable?: number | string; selector?: LabelSelector };
  status?: { currentHealthy?: number; desiredHealthy?: number; expectedPods?: number; disruptionsAllowed?: number };
}

export interface PersistentVolume {
  metadata?: ObjectMeta;
  spec?: {
    claimRef?: { namespace?: string; name?: string };
    local?: { path?: string };
    hostPath?: { path?: string };
    nodeAffinity?: { required?: { nodeSelectorTerms?: NodeSelectorTerm[] } };
  };
  status?: { phase?: string };
}
