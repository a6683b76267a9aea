// The one registry of what the checks read from the API: each resource once,
// with the verbs the checks use on it. The client names resources only through
// it; deploy/rbac.yaml is generated from it (scripts/rbac.mjs, npm run contrib);
// the API double (test/apiserver/store.ts) serves every resource in it, an
// empty list when a scenario holds none, as a real server does.
// test/integration/rbac.test.ts holds all three to it, and proves each verb
// granted here is one some check asks for (and nothing else is asked).
import { assertName, assertNamespace } from './names.js';

/** The read verbs a check may use: get (one object by name) and list. Never watch, never a write. */
export type Verb = 'get' | 'list';

/** Where a kind lives in the API, and what the checks do with it. */
export interface Resource {
  group: string; // '' for core
  version: string;
  plural: string;
  /** What a GET must return (a 2xx with another kind is not judged). */
  kind: string;
  namespaced: boolean;
  /** What the checks do with it: exactly what deploy/rbac.yaml grants. */
  verbs: readonly Verb[];
}

const r = (group: string, version: string, plural: string, kind: string, verbs: readonly Verb[], namespaced = true): Resource =>
  ({ group, version, plural, kind, namespaced, verbs });

const GET_LIST = ['get', 'list'] as const;
const LIST = ['list'] as const;

export const RESOURCES = {
  pods: r('', 'v1', 'pods', 'Pod', GET_LIST),
  events: r('', 'v1', 'events', 'Event', LIST),
  nodes: r('', 'v1', 'nodes', 'Node', GET_LIST, false),
  services: r('', 'v1', 'services', 'Service', GET_LIST),
  persistentvolumes: r('', 'v1', 'persistentvolumes', 'PersistentVolume', LIST, false),
  persistentvolumeclaims: r('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', LIST),
  leases: r('coordination.k8s.io', 'v1', 'leases', 'Lease', GET_LIST),
  deployments: r('apps', 'v1', 'deployments', 'Deployment', GET_LIST),
  daemonsets: r('apps', 'v1', 'daemonsets', 'DaemonSet', LIST),
  statefulsets: r('apps', 'v1', 'statefulsets', 'StatefulSet', LIST),
  controllerrevisions: r('apps', 'v1', 'controllerrevisions', 'ControllerRevision', GET_LIST),
  jobs: r('batch', 'v1', 'jobs', 'Job', LIST),
  cronjobs: r('batch', 'v1', 'cronjobs', 'CronJob', LIST),
  poddisruptionbudgets: r('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', LIST),
  endpointslices: r('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', LIST),
  apiservices: r('apiregistration.k8s.io', 'v1', 'apiservices', 'APIService', LIST, false),
  storageclasses: r('storage.k8s.io', 'v1', 'storageclasses', 'StorageClass', LIST, false),
  volumeattachments: r('storage.k8s.io', 'v1', 'volumeattachments', 'VolumeAttachment', LIST, false),
} as const satisfies Record<string, Resource>;

/**
 * Non-resource paths the checks GET (check_k8s_apiserver). The default
 * system:public-info-viewer binding grants them to everyone; the ClusterRole
 * grants them again for clusters where that binding was removed.
 */
export const NON_RESOURCE_URLS = ['/livez', '/readyz', '/version'] as const;

/**
 * A grant one option needs, left out of the default ClusterRole (written there
 * commented out, with why): nodes/proxy reaches every kubelet endpoint.
 */
export interface OptInGrant {
  resource: Resource;
  subresource: string;
  verbs: readonly Verb[];
  /** The option that needs it, and why it is not granted by default. */
  why: string;
}

export const OPT_IN_GRANTS: readonly OptInGrant[] = [
  {
    resource: RESOURCES.nodes,
    subresource: 'proxy',
    verbs: ['get'],
    why: 'Only for check_k8s_volumes --usage: the kubelet\'s stats summary through the API server (/api/v1/nodes/NODE/proxy/stats/summary). nodes/proxy reaches every kubelet endpoint, so it is not granted by default; uncomment to use --usage.',
  },
];

/** 'pods', 'leases.coordination.k8s.io': how kubectl and RBAC errors name a resource. */
export function resourceName(res: Resource): string {
  return res.group ? `${res.plural}.${res.group}` : res.plural;
}

/** The URL path of a resource; names and namespaces are checked, so nothing can redirect the request. */
export function resourcePath(res: Resource, namespace?: string, name?: string): string {
  if (namespace !== undefined && res.namespaced) assertNamespace(namespace);
  if (name !== undefined) assertName(name, `${resourceName(res)} name`);
  const base = res.group ? `/apis/${res.group}/${res.version}` : `/api/${res.version}`;
  const ns = res.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${res.plural}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
}
