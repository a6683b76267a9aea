import { PluginError } from '../plugin/errors.js';
import { State } from '../plugin/state.js';
import { sanitize } from '../plugin/sanitize.js';

/** What a request was for, so an error can say which verb on which resource failed. */
export interface RequestTarget {
  verb: 'get' | 'list' | 'create' | 'delete';
  resource: string; // e.g. 'events', 'leases.coordination.k8s.io'
  namespace?: string;
  name?: string;
}

export function describeTarget(t: RequestTarget): string {
  const scope = t.namespace ? ` in namespace ${t.namespace}` : t.verb === 'list' ? ' at cluster scope' : '';
  return `${t.verb} ${t.resource}${t.name ? ` ${t.name}` : ''}${scope}`;
}

/**
 * An API failure as the operator needs to read it. Every check maps API
 * problems the same way (docs/plugin-contract.md): the check could not look,
 * so the state is UNKNOWN, and the line says what to fix.
 */
export class KubeApiError extends PluginError {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly reason: string | undefined,
    readonly target: RequestTarget,
  ) {
    super(message, State.UNKNOWN);
    this.name = 'KubeApiError';
  }
}

interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
}

export function fromStatus(status: number, body: unknown, target: RequestTarget, server: string): KubeApiError {
  const s = (body && typeof body === 'object' ? body : {}) as StatusBody;
  const reason = typeof s.reason === 'string' ? s.reason : undefined;
  const message = sanitize(s.message ?? '', 300);
  const what = describeTarget(target);
  let line: string;
  switch (status) {
    case 401:
      line = `API server ${server} rejected the credentials (401 Unauthorized): token expired or revoked, or client certificate not trusted or expired`;
      break;
    case 403:
      line = `forbidden to ${what}${message ? ` (${message})` : ''}: grant it with ${target.verb === 'create' || target.verb === 'delete' ? 'the Role in deploy/rbac-canary.yaml' : 'the ClusterRole in deploy/rbac.yaml'}`;
      break;
    case 404:
      line = `not found: ${what}`;
      break;
    case 410:
      line = `list of ${target.resource} expired twice while paging (410 Expired): the API server compacted its history between pages; a larger --page-size needs fewer pages`;
      break;
    case 429:
      line = `API server is throttling requests (429 TooManyRequests) to ${what}${message ? `: ${message}` : ''}`;
      break;
    default:
      line = `API server error ${status}${reason ? ` ${reason}` : ''} on ${what}${message ? `: ${message}` : ''}`;
  }
  return new KubeApiError(line, status, reason, target);
}

/** A response that is not what a Kubernetes API server sends. */
export function malformed(server: string, target: RequestTarget, what: string): KubeApiError {
  return new KubeApiError(
    `API server ${server} sent ${what} for ${target.verb} ${target.resource}: not a Kubernetes API server, or a proxy in between?`,
    undefined, 'Malformed', target,
  );
}

/** Node's codes for a server that failed OpenSSL's verification or the name check (tls.connect's verifyError). */
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_|ERR_TLS|HOSTNAME|ALTNAME|SSL|INVALID_CA|PATH_LENGTH|INVALID_PURPOSE|^UNSPECIFIED$/;

/** Socket and TLS failures, in words. Never includes request headers. */
export function fromNetwork(err: NodeJS.ErrnoException, target: RequestTarget, server: string): KubeApiError {
  const code = err.code ?? '';
  let line: string;
  if (code === 'ECONNREFUSED') line = `cannot connect to API server ${server}: connection refused (is the apiserver/kubelite running?)`;
  else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') line = `cannot resolve API server host in ${server}`;
  else if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') line = `API server ${server} unreachable (${code})`;
  else if (code === 'ECONNRESET' || code === 'EPIPE') line = `API server ${server} closed the connection during ${describeTarget(target)}`;
  else if (TLS_CODE.test(code) || /certificate|ssl|tls/i.test(err.message ?? '')) {
    // Node names the common OpenSSL verify errors; the others (name constraints, critical extensions, weak digests) are UNSPECIFIED with OpenSSL's words.
    const why = code === 'UNSPECIFIED' ? sanitize(err.message || code, 80) : code || 'TLS error';
    line = `TLS verification of API server ${server} failed (${why}): check certificate-authority-data and the server name in the kubeconfig`;
  } else line = `request to API server ${server} failed during ${describeTarget(target)}: ${sanitize(code || err.message, 120)}`;
  return new KubeApiError(line, undefined, code || undefined, target);
}
