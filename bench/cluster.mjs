// A large cluster for the API server double: the incident's objects (the
// handful each check looks for, kept by the checks' authors in
// test/fixtures/incident/) plus a few of our own, buried under N Running pods
// and M unrelated Normal events. Written as {"objects", "generate"}: the file
// stays small, the double expands it when it starts.
import fs from 'node:fs';
import path from 'node:path';

/** Every *.json of a scenario directory merged, as the double does. */
export function readScenarioDir(dir) {
  const out = { objects: [], generate: [] };
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const s = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    out.objects.push(...(s.objects ?? []));
    out.generate.push(...(s.generate ?? []));
  }
  return out;
}

/**
 * Where the bulk runs. A node holds at most ~110 pods (kubelet's default
 * max-pods), so the cluster has ceil(pods / PER_NODE) nodes: 50k pods on 455.
 * PER_NODE Running pods on each of the incident's nodes k8s01..k8s03 (a
 * node-scoped query sees a full node), the rest on worker-N nodes, whose Node
 * objects are in the cluster (Ready, as most nodes are): a check that lists
 * nodes pays for a real node list.
 */
const INCIDENT_NODES = 3;
export const PER_NODE = 110;

/**
 * When the whole cluster rebooted (a rolling reboot for a kernel update):
 * every pod got a new sandbox (SandboxChanged) and every pod evicted or
 * recreated meanwhile was scheduled again (Scheduled), some only after
 * FailedScheduling while the nodes came back. Hours ago, so inside the
 * day of events a cluster with a long --event-ttl keeps, but outside every
 * check's window: the burst costs the checks bytes, not verdicts.
 */
const BURST = '5h';

/**
 * A Running pod of a Deployment as the API returns it (no managedFields:
 * real ones are larger still). About 2.9 KB of JSON.
 */
const runningPod = (prefix, nodeName, hostIP) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: `${prefix}-{{i}}-6d4cf56db6-{{hash}}`,
    generateName: `${prefix}-{{i}}-6d4cf56db6-`,
    namespace: 'tenant-{{i%50}}',
    creationTimestamp: '$now-{{i%29+1}}d',
    labels: { app: 'svc-{{i%400}}', 'app.kubernetes.io/part-of': 'tenant-{{i%50}}', 'pod-template-hash': '6d4cf56db6' },
    annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-05T10:00:00Z' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'svc-{{i%400}}-6d4cf56db6', uid: 'b0b00000-0000-4000-8000-0000000{{i%400+10000}}', controller: true, blockOwnerDeletion: true }],
  },
  spec: {
    nodeName,
    schedulerName: 'default-scheduler',
    serviceAccountName: 'default',
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    enableServiceLinks: true,
    priority: 0,
    preemptionPolicy: 'PreemptLowerPriority',
    containers: [{
      name: 'app',
      image: 'registry.example/svc:1.4.2',
      imagePullPolicy: 'IfNotPresent',
      ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
      env: [{ name: 'LOG_LEVEL', value: 'info' }, { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } }],
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
      readinessProbe: { httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
      volumeMounts: [{ name: 'kube-api-access-{{hash}}', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
    }],
    volumes: [{
      name: 'kube-api-access-{{hash}}',
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ],
      },
    }],
    tolerations: [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
  },
  status: {
    phase: 'Running',
    qosClass: 'Burstable',
    hostIP,
    podIP: '10.1.{{i%250}}.{{i%200+2}}',
    podIPs: [{ ip: '10.1.{{i%250}}.{{i%200+2}}' }],
    startTime: '$now-{{i%29+1}}d',
    conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']
      .map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: '$now-{{i%29+1}}d' })),
    containerStatuses: [{
      name: 'app',
      ready: true,
      started: true,
      restartCount: 0,
      image: 'registry.example/svc:1.4.2',
      imageID: 'registry.example/svc@sha256:4c1f0e9b7a2d',
      containerID: 'containerd://{{hash}}0c3f9e1a7b5d{{i}}',
      state: { running: { startedAt: '$now-{{i%29+1}}d' } },
    }],
  },
});

/**
 * A core/v1 Event about bulk pod i of `prefix` on node `host`, as the
 * kubelet (source.host set, count/lastTimestamp) or a newer component
 * (events.k8s.io: eventTime, series, reportingController) writes it.
 */
function podEvent(prefix, host, reason, type, message, component, at, extra = {}) {
  const name = `${prefix}-{{i}}-6d4cf56db6-{{hash}}`;
  const kubelet = component === 'kubelet';
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${name}.${reason.toLowerCase()}{{i}}`, namespace: 'tenant-{{i%50}}', creationTimestamp: at },
    involvedObject: { kind: 'Pod', namespace: 'tenant-{{i%50}}', name, apiVersion: 'v1', ...(kubelet && { fieldPath: 'spec.containers{app}' }) },
    reason,
    message,
    source: kubelet ? { component, host } : {},
    firstTimestamp: kubelet ? at : null,
    lastTimestamp: kubelet ? at : null,
    ...(kubelet && { count: 1 }),
    type,
    eventTime: kubelet ? null : `${at}.micro`,
    ...(!kubelet && { action: reason === 'Scheduled' ? 'Binding' : 'Scheduling' }),
    reportingComponent: component,
    reportingInstance: kubelet ? host : `${component}-k8s02`,
    ...extra,
  };
}

/**
 * About five events per pod, as a day of a real cluster leaves them: from the
 * reboot burst its Scheduled and SandboxChanged, then Pulled, Created and
 * Started spread over the day (restarts, rollouts); one pod in ten waited
 * (FailedScheduling, a series) while the nodes came back, and one in ten was
 * created by its ReplicaSet (SuccessfulCreate).
 */
function podEvents(prefix, count, host) {
  const burst = `$now-${BURST}{{i%40}}m`;
  const day = '$now-{{i%23+1}}h{{i%60}}m';
  const tenth = Math.floor(count / 10);
  return [
    { count, template: podEvent(prefix, host, 'Scheduled', 'Normal', `Successfully assigned tenant-{{i%50}}/${prefix}-{{i}}-6d4cf56db6-{{hash}} to ${host}`, 'default-scheduler', burst) },
    { count, template: podEvent(prefix, host, 'SandboxChanged', 'Normal', 'Pod sandbox changed, it will be killed and re-created.', 'kubelet', burst) },
    { count, template: podEvent(prefix, host, 'Pulled', 'Normal', 'Container image "registry.example/svc:1.4.2" already present on machine', 'kubelet', day) },
    { count, template: podEvent(prefix, host, 'Created', 'Normal', 'Created container app', 'kubelet', day) },
    { count, template: podEvent(prefix, host, 'Started', 'Normal', 'Started container app', 'kubelet', day) },
    tenth && {
      count: tenth,
      template: podEvent(prefix, host, 'FailedScheduling', 'Warning', '0/455 nodes are available: 455 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/455 nodes are available: 455 Preemption is not helpful for scheduling.',
        'default-scheduler', burst, { series: { count: '{{=i%7+2}}', lastObservedTime: `$now-${BURST}.micro` } }),
    },
    tenth && {
      count: tenth,
      template: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `svc-{{i}}-6d4cf56db6.${prefix}create{{i}}`, namespace: 'tenant-{{i%50}}', creationTimestamp: burst },
        involvedObject: { kind: 'ReplicaSet', namespace: 'tenant-{{i%50}}', name: 'svc-{{i%400}}-6d4cf56db6', apiVersion: 'apps/v1' },
        reason: 'SuccessfulCreate',
        message: `Created pod: ${prefix}-{{i}}-6d4cf56db6-{{hash}}`,
        source: { component: 'replicaset-controller' },
        firstTimestamp: burst,
        lastTimestamp: burst,
        count: 1,
        type: 'Normal',
        eventTime: null,
        reportingComponent: 'replicaset-controller',
        reportingInstance: '',
      },
    },
  ].filter(Boolean);
}

/** A Ready worker node, as the kubelet reports it (a few images; real nodes list dozens). */
const workerNode = () => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name: 'worker-{{i}}',
    creationTimestamp: '$now-300d',
    labels: { 'kubernetes.io/hostname': 'worker-{{i}}', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': 'amd64' },
    annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true', 'projectcalico.org/IPv4Address': '10.0.{{i%250+1}}.{{i%200+20}}/16' },
  },
  spec: { podCIDR: '10.1.{{i%250}}.0/24', podCIDRs: ['10.1.{{i%250}}.0/24'] },
  status: {
    capacity: { cpu: '16', 'ephemeral-storage': '102626232Ki', memory: '65842012Ki', pods: '110' },
    allocatable: { cpu: '16', 'ephemeral-storage': '101577656Ki', memory: '65739612Ki', pods: '110' },
    addresses: [{ type: 'InternalIP', address: '10.0.{{i%250+1}}.{{i%200+20}}' }, { type: 'Hostname', address: 'worker-{{i}}' }],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: { machineID: 'c0ffee{{hash}}', systemUUID: 'c0ffee{{hash}}', bootID: 'b007{{hash}}-0000-4000-8000-000000000000', kernelVersion: '5.15.0-124-generic', osImage: 'Ubuntu 22.04.5 LTS', containerRuntimeVersion: 'containerd://1.7.27', kubeletVersion: 'v1.32.3', kubeProxyVersion: 'v1.32.3', operatingSystem: 'linux', architecture: 'amd64' },
    conditions: [
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
      ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
    ].map(([type, status, reason, message]) => ({ type, status, reason, message, lastHeartbeatTime: '$now-20s', lastTransitionTime: `$now-${BURST}` })),
    images: [
      { names: ['registry.example/svc@sha256:4c1f0e9b7a2d', 'registry.example/svc:1.4.2'], sizeBytes: 48123904 },
      { names: ['docker.io/calico/node@sha256:9a1c2e', 'docker.io/calico/node:v3.28.1'], sizeBytes: 115431234 },
      { names: ['docker.io/calico/cni@sha256:7b2d3f', 'docker.io/calico/cni:v3.28.1'], sizeBytes: 94534411 },
      { names: ['registry.k8s.io/pause@sha256:7031c1', 'registry.k8s.io/pause:3.10'], sizeBytes: 320368 },
    ],
  },
});

/**
 * A few objects of our own besides the incident's: unschedulable pods with
 * FailedScheduling events (scheduling pressure, not a stall).
 */
function extras() {
  const pending = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'bench-pending-{{i}}', namespace: 'bench', uid: 'be4c0000-0000-4000-8000-00000000000{{i}}', creationTimestamp: '$now-20m' },
    spec: { schedulerName: 'default-scheduler', containers: [{ name: 'big', image: 'registry.example/big:1', resources: { requests: { cpu: '64' } } }] },
    status: { phase: 'Pending', qosClass: 'Burstable', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', lastProbeTime: null, lastTransitionTime: '$now-20m', message: '0/3 nodes are available: 3 Insufficient cpu.' }] },
  };
  const failed = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'bench-pending-{{i}}.18a3f00000000{{i}}', namespace: 'bench', creationTimestamp: '$now-20m' },
    involvedObject: { kind: 'Pod', namespace: 'bench', name: 'bench-pending-{{i}}', uid: 'be4c0000-0000-4000-8000-00000000000{{i}}', apiVersion: 'v1' },
    reason: 'FailedScheduling',
    message: '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    source: {},
    firstTimestamp: null,
    lastTimestamp: null,
    type: 'Warning',
    eventTime: '$now-20m.micro',
    series: { count: '{{=i+3}}', lastObservedTime: '$now-2m.micro' },
    action: 'Scheduling',
    reportingComponent: 'default-scheduler',
    reportingInstance: 'default-scheduler-k8s02',
  };
  return [{ count: 3, template: pending }, { count: 3, template: failed }];
}

/**
 * The scenario: the incident's objects + extras + `pods` Running pods on
 * ceil(pods / PER_NODE) nodes + about five events per pod (podEvents).
 * Returns how the bulk was spread and how many events it has.
 */
export function clusterScenario(incidentDir, pods) {
  const base = readScenarioDir(incidentDir);
  const onIncident = Math.min(pods, INCIDENT_NODES * PER_NODE);
  const onWorkers = pods - onIncident;
  const workers = onWorkers ? Math.ceil(onWorkers / PER_NODE) : 0;
  const generate = [...base.generate, ...extras()];
  generate.push({ count: onIncident, template: runningPod('bulk', `k8s0{{i%${INCIDENT_NODES}+1}}`, `10.0.0.1{{i%${INCIDENT_NODES}+1}}`) });
  generate.push(...podEvents('bulk', onIncident, `k8s0{{i%${INCIDENT_NODES}+1}}`));
  if (onWorkers) {
    generate.push({ count: workers, template: workerNode() });
    generate.push({ count: onWorkers, template: runningPod('bulkw', `worker-{{i%${workers}}}`, `10.0.{{i%${workers}%250+1}}.{{i%${workers}%200+20}}`) });
    generate.push(...podEvents('bulkw', onWorkers, `worker-{{i%${workers}}}`));
  }
  const bulkEvents = generate.filter((g) => g.template.kind === 'Event').reduce((n, g) => n + g.count, 0);
  return { scenario: { objects: base.objects, generate }, layout: { onIncident, onWorkers, workers, nodes: INCIDENT_NODES + workers, events: bulkEvents } };
}
