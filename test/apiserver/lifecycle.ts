// Pod writes for the API double, and a scheduler and kubelet that move the
// pods it creates through their stages, the way the real ones write them:
//   bind     spec.nodeName, PodScheduled=True, a Scheduled event (default-scheduler)
//   kubelet  PodReadyToStartContainers/Initialized=True, container waiting ContainerCreating
//   start    phase Running, container running
//   ready    Ready/ContainersReady=True
//   delete   deletionTimestamp set; the kubelet confirms and the object goes
// one step (stepMs, small and fixed) apart. A scenario turns it on with one object
//   {kind: PodLifecycle, apiVersion: k8s-nrpe.test/v1, metadata: {name: canary},
//    spec: {namespaces: [k8s-nrpe-canary], stepMs: 40, fault: ..., faultPods: 1, message: ...}}
// and `fault` stops the story at one stage, as in the incident:
//   unbound         the scheduler never tries (no PodScheduled condition, no event)
//   unschedulable   PodScheduled=False Unschedulable with `message`, a FailedScheduling event
//   no-sandbox      bound; FailedCreatePodSandBox "name is reserved" events, count rising
//   no-status       bound; the kubelet writes nothing (no status, no events)
//   not-ready       Running, container running, Ready never written (the datastore drops the kubelet's write)
//   delete-stuck    the kubelet never confirms a delete: the pod stays with its deletionTimestamp
// `faultPods` limits the fault to the first N pods created (the next run of a test then succeeds).
// Pods can be written only in spec.namespaces (as RBAC would allow); elsewhere it is 403.
import crypto from 'node:crypto';
import type { ResourceType, Store } from './store.js';

type Obj = Record<string, any>;

export type LifecycleFault = 'unbound' | 'unschedulable' | 'no-sandbox' | 'no-status' | 'not-ready' | 'delete-stuck';

interface LifecycleSpec {
  namespaces?: string[];
  stepMs?: number;
  fault?: LifecycleFault;
  faultPods?: number;
  message?: string;
}

const UNSCHEDULABLE = '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.';
const PODS: ResourceType = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };
const EVENTS: ResourceType = { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };
const NODES: ResourceType = { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false };

const rfc3339 = (ms = Date.now()) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const micro = (ms = Date.now()) => new Date(ms).toISOString().replace(/Z$/, '000Z');

export type Answer = [number, Obj];
type StatusOf = (code: number, message: string, reason?: string, details?: Obj) => Obj;

export class PodLifecycle {
  private created = 0;
  /** The fault each pod (by uid) was created under. */
  private readonly faults = new Map<string, LifecycleFault | undefined>();

  constructor(private readonly store: Store, private readonly spec: LifecycleSpec, private readonly status: StatusOf) {}

  /** The scenario's PodLifecycle, if it has one. */
  static from(store: Store, status: StatusOf): PodLifecycle | undefined {
    const t = [...store.types.values()].find((x) => x.kind === 'PodLifecycle');
    const o = t && store.list(t)[0];
    return o ? new PodLifecycle(store, (o.spec ?? {}) as LifecycleSpec, status) : undefined;
  }

  writable(namespace: string | undefined): boolean {
    return namespace !== undefined && (this.spec.namespaces ?? ['k8s-nrpe-canary']).includes(namespace);
  }

  private get step(): number {
    return this.spec.stepMs ?? 40;
  }

  private find(namespace: string, name: string): Obj | undefined {
    return this.store.list(PODS).find((p) => p.metadata?.namespace === namespace && p.metadata?.name === name);
  }

  /** POST /api/v1/namespaces/NS/pods */
  create(namespace: string, body: Obj): Answer {
    const name = body?.metadata?.name;
    if (body?.kind !== 'Pod' || typeof name !== 'string' || !name) return [400, this.status(400, 'Pod in version "v1" cannot be handled as a Pod: no name', 'BadRequest')];
    if (body.metadata.namespace && body.metadata.namespace !== namespace) {
      return [400, this.status(400, 'the namespace of the provided object does not match the namespace sent on the request', 'BadRequest')];
    }
    if (this.find(namespace, name)) return [409, this.status(409, `pods "${name}" already exists`, 'AlreadyExists', { name, kind: 'pods' })];
    const pod: Obj = structuredClone(body);
    pod.metadata = { ...pod.metadata, namespace, uid: crypto.randomUUID(), creationTimestamp: rfc3339(), generation: 1 };
    pod.spec = { schedulerName: 'default-scheduler', dnsPolicy: 'ClusterFirst', ...pod.spec };
    pod.status = { phase: 'Pending', qosClass: 'Burstable' };
    this.store.put(PODS, pod);
    const fault = this.created++ < (this.spec.faultPods ?? Infinity) ? this.spec.fault : undefined;
    this.faults.set(pod.metadata.uid, fault);
    this.later(pod, () => this.schedule(pod, fault));
    return [201, pod];
  }

  /** DELETE /api/v1/namespaces/NS/pods/NAME with DeleteOptions. */
  delete(namespace: string, name: string, options: Obj | undefined): Answer {
    const pod = this.find(namespace, name);
    if (!pod) return [404, this.status(404, `pods "${name}" not found`, 'NotFound', { name, kind: 'pods' })];
    const uid = options?.preconditions?.uid;
    if (uid && uid !== pod.metadata.uid) {
      return [409, this.status(409, `Operation cannot be fulfilled on pods "${name}": Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid}`, 'Conflict', { name, kind: 'pods' })];
    }
    // Not on a node (or already done): nothing to stop, the object goes at once (pod strategy CheckGracefulDelete).
    if (!pod.spec?.nodeName) {
      this.store.remove(PODS, namespace, name);
      return [200, pod];
    }
    if (!pod.metadata.deletionTimestamp) {
      const grace = Number(options?.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30);
      const next = structuredClone(pod);
      next.metadata.deletionTimestamp = rfc3339(Date.now() + grace * 1000);
      next.metadata.deletionGracePeriodSeconds = grace;
      this.store.put(PODS, next);
      if (this.faults.get(pod.metadata.uid) !== 'delete-stuck') this.later(next, () => { this.store.remove(PODS, namespace, name); });
      return [200, next];
    }
    return [200, pod];
  }

  /** Run `f` one step later if the pod is still the same object. */
  private later(pod: Obj, f: () => void): void {
    const { namespace, name, uid } = pod.metadata;
    setTimeout(() => {
      const now = this.find(namespace, name);
      if (now && now.metadata.uid === uid) f();
    }, this.step).unref();
  }

  /** Write the current pod with changes applied to a copy (a status update). */
  private update(pod: Obj, change: (p: Obj) => void): Obj {
    const cur = this.find(pod.metadata.namespace, pod.metadata.name) ?? pod;
    const next = structuredClone(cur);
    change(next);
    return this.store.put(PODS, next);
  }

  private event(pod: Obj, reason: string, type: 'Normal' | 'Warning', message: string, from: 'scheduler' | 'kubelet', node?: string): void {
    const ns = pod.metadata.namespace;
    const key = `${pod.metadata.name}.${crypto.createHash('sha1').update(`${pod.metadata.uid}/${reason}`).digest('hex').slice(0, 16)}`;
    const old = this.store.list(EVENTS).find((e) => e.metadata?.namespace === ns && e.metadata?.name === key);
    const involvedObject = { apiVersion: 'v1', kind: 'Pod', namespace: ns, name: pod.metadata.name, uid: pod.metadata.uid };
    const e: Obj = from === 'scheduler'
      ? { apiVersion: 'v1', kind: 'Event', metadata: { name: key, namespace: ns, creationTimestamp: rfc3339() }, involvedObject, reason, message, type,
        eventTime: micro(), firstTimestamp: null, lastTimestamp: null, action: reason === 'Scheduled' ? 'Binding' : 'Scheduling',
        reportingComponent: 'default-scheduler', reportingInstance: 'default-scheduler-k8s01', source: {} }
      : { apiVersion: 'v1', kind: 'Event', metadata: { name: key, namespace: ns, creationTimestamp: old?.metadata.creationTimestamp ?? rfc3339() }, involvedObject,
        reason, message, type, count: (old?.count ?? 0) + 1, firstTimestamp: old?.firstTimestamp ?? rfc3339(), lastTimestamp: rfc3339(),
        source: { component: 'kubelet', host: node }, reportingComponent: 'kubelet', reportingInstance: node ?? '' };
    this.store.put(EVENTS, e);
  }

  /** The node the scheduler would pick: the kubernetes.io/hostname selector's, else the first Ready node. */
  private pickNode(pod: Obj): Obj | undefined {
    const nodes = this.store.list(NODES);
    const want = pod.spec?.nodeSelector?.['kubernetes.io/hostname'];
    if (want) return nodes.find((n) => (n.metadata?.labels?.['kubernetes.io/hostname'] ?? n.metadata?.name) === want);
    return nodes.find((n) => (n.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True')) ?? nodes[0];
  }

  private schedule(pod: Obj, fault: LifecycleFault | undefined): void {
    if (fault === 'unbound') return;
    const node = this.pickNode(pod);
    if (fault === 'unschedulable' || !node) {
      const message = fault === 'unschedulable' ? this.spec.message ?? UNSCHEDULABLE : "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.";
      this.update(pod, (p) => {
        p.status.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: rfc3339() }];
      });
      this.event(pod, 'FailedScheduling', 'Warning', message, 'scheduler');
      return;
    }
    const nodeName = node.metadata.name as string;
    const bound = this.update(pod, (p) => {
      p.spec.nodeName = nodeName;
      p.status.conditions = [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339() }];
    });
    this.event(pod, 'Scheduled', 'Normal', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${nodeName}`, 'scheduler');
    if (fault === 'no-status') return;
    this.later(bound, () => this.kubeletSeesIt(bound, nodeName, fault));
  }

  private conditions(ready: boolean, sandbox: boolean): Obj[] {
    const t = rfc3339();
    const c = (type: string, ok: boolean, reason?: string) => ({ type, status: ok ? 'True' : 'False', ...(reason && !ok && { reason }), lastProbeTime: null, lastTransitionTime: t });
    return [
      c('PodReadyToStartContainers', sandbox), c('Initialized', true), c('Ready', ready, 'ContainersNotReady'),
      c('ContainersReady', ready, 'ContainersNotReady'), c('PodScheduled', true),
    ];
  }

  private kubeletSeesIt(pod: Obj, node: string, fault: LifecycleFault | undefined): void {
    const image = pod.spec?.containers?.[0]?.image ?? '';
    const waiting = this.update(pod, (p) => {
      p.status.conditions = this.conditions(false, false);
      p.status.hostIP = '10.0.0.1';
      p.status.startTime = rfc3339();
      p.status.containerStatuses = [{ name: 'canary', image, imageID: '', ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'ContainerCreating' } } }];
    });
    if (fault === 'no-sandbox') {
      const id = `${pod.metadata.name}_${pod.metadata.namespace}_${pod.metadata.uid}_0`;
      const sandbox = () => {
        this.event(pod, 'FailedCreatePodSandBox', 'Warning',
          `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to reserve sandbox name "${id}": name "${id}" is reserved for "${crypto.createHash('sha256').update(id).digest('hex')}"`,
          'kubelet', node);
        // The kubelet retries the sandbox with a back-off, not every step.
        setTimeout(() => { if (this.find(pod.metadata.namespace, pod.metadata.name)?.metadata.uid === pod.metadata.uid) sandbox(); }, this.step * 10).unref();
      };
      sandbox();
      return;
    }
    this.later(waiting, () => {
      const running = this.update(pod, (p) => {
        p.status.phase = 'Running';
        p.status.podIP = '10.1.0.10';
        p.status.conditions = this.conditions(false, true);
        p.status.containerStatuses = [{ name: 'canary', image, imageID: `${image}@sha256:${'0'.repeat(64)}`, ready: false, restartCount: 0, started: true, state: { running: { startedAt: rfc3339() } } }];
      });
      if (fault === 'not-ready') return;
      this.later(running, () => this.update(pod, (p) => {
        p.status.conditions = this.conditions(true, true);
        p.status.containerStatuses[0].ready = true;
      }));
    });
  }
}
