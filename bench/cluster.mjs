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
 * max-pods), so 50k pods means ~500 nodes: PER_NODE Running pods on each of
 * the incident's nodes k8s01..k8s03 (a node-scoped query sees a full node),
 * the rest on worker-N nodes. Only the incident's Node objects exist: the
 * node list is part of the handful that stays the same at every size, so
 * what grows is pods and events, nothing else.
 */
const INCIDENT_NODES = 3;
const PER_NODE = 100;

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

/** An unrelated Normal event as the kubelet or a controller writes it (core/v1). */
function normalEvent(reason, message, component, kind, workers) {
  const io = kind === 'Pod'
    ? { kind: 'Pod', namespace: 'tenant-{{i%50}}', name: 'bulkw-{{i}}-6d4cf56db6-{{hash}}', apiVersion: 'v1', fieldPath: 'spec.containers{app}' }
    : { kind: 'ReplicaSet', namespace: 'tenant-{{i%50}}', name: 'svc-{{i%400}}-6d4cf56db6', apiVersion: 'apps/v1' };
  const host = `worker-{{i%${workers}}}`;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${io.name}.${reason.toLowerCase()}.18a3{{hash}}{{i}}`, namespace: 'tenant-{{i%50}}', creationTimestamp: '$now-{{i%55+1}}m' },
    involvedObject: io,
    reason,
    message,
    source: component === 'kubelet' ? { component, host } : { component },
    firstTimestamp: '$now-{{i%55+1}}m',
    lastTimestamp: '$now-{{i%55+1}}m',
    count: 1,
    type: 'Normal',
    eventTime: null,
    reportingComponent: component,
    reportingInstance: component === 'kubelet' ? host : '',
  };
}

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
 * The scenario: incident objects + extras + `pods` Running pods + `events`
 * Normal events. Returns how the bulk was spread too.
 */
export function clusterScenario(incidentDir, pods, events) {
  const base = readScenarioDir(incidentDir);
  const onIncident = Math.min(pods, INCIDENT_NODES * PER_NODE);
  const onWorkers = pods - onIncident;
  const workers = Math.max(1, Math.ceil(onWorkers / PER_NODE));
  const kinds = [
    ['Pulled', 'Container image "registry.example/svc:1.4.2" already present on machine', 'kubelet', 'Pod'],
    ['Created', 'Created container app', 'kubelet', 'Pod'],
    ['Started', 'Started container app', 'kubelet', 'Pod'],
    ['SuccessfulCreate', 'Created pod: bulkw-{{i}}-6d4cf56db6-{{hash}}', 'replicaset-controller', 'ReplicaSet'],
  ];
  const generate = [
    ...base.generate,
    ...extras(),
    { count: onIncident, template: runningPod('bulk', `k8s0{{i%${INCIDENT_NODES}+1}}`, `10.0.0.1{{i%${INCIDENT_NODES}+1}}`) },
  ];
  if (onWorkers) generate.push({ count: onWorkers, template: runningPod('bulkw', `worker-{{i%${workers}}}`, `10.0.{{i%${workers}%250+1}}.{{i%${workers}%200+20}}`) });
  kinds.forEach(([reason, message, component, kind], k) => {
    const count = Math.floor(events / kinds.length) + (k < events % kinds.length ? 1 : 0);
    if (count) generate.push({ count, template: normalEvent(reason, message, component, kind, workers) });
  });
  return { scenario: { objects: base.objects, generate }, layout: { onIncident, onWorkers, workers: onWorkers ? workers : 0 } };
}
