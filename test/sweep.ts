// Every check run as NRPE runs it: the options of its line in nrpe.d/k8s-nrpe.cfg
// (the shipped command), the double's kubeconfig instead of the node's, and
// --node for the checks that judge one node. Shared by the sweep
// (test/integration/sweep.test.ts) and the RBAC proof (rbac.test.ts).
import fs from 'node:fs';
import path from 'node:path';
import { CHECKS } from '../checks/index.js';
import { ROOT, runBuilt, type ApiServer, type CheckRun } from './harness.js';

/** The node the sweep's node-scoped checks judge (in the healthy and incident scenarios). */
export const SWEEP_NODE = 'k8s02';

/** Checks that write or cost more and run only where an operator opted in (spec.optIn): they have tests of their own. */
const OPT_IN = new Set(CHECKS.filter((c) => c.optIn).map((c) => c.name));

/** Checks that read only this host, never the API (spec.nrpe.kubeconfig false), in --list order. */
export const HOST_ONLY: string[] = CHECKS.filter((c) => c.nrpe.kubeconfig === false).map((c) => c.name);

/**
 * Checks whose verdict comes from this host's own state, in --list order: HOST_ONLY and
 * calico_nat (this host's netfilter). Tests on the API double leave them out: they have
 * tests of their own with real tools, and the host running the tests is no node.
 */
export const HOST_INPUT: string[] = CHECKS.filter((c) => c.nrpe.kubeconfig === false || c.name === 'calico_nat').map((c) => c.name);

/** Every check of `k8s-nrpe --list` that runs by default (not opt-in), in its order. */
export async function listChecks(): Promise<string[]> {
  return (await runBuilt('k8s-nrpe', ['--list'])).stdout.split('\n').filter((c) => c && !OPT_IN.has(c));
}

/** The options of check_k8s_NAME's NRPE command, without its --kubeconfig (none when it has no line). */
export function nrpeOptions(check: string): string[] {
  const cfg = fs.readFileSync(path.join(ROOT, 'nrpe.d/k8s-nrpe.cfg'), 'utf8');
  const line = new RegExp(`^command\\[check_k8s_${check}\\]=\\S+(.*)$`, 'm').exec(cfg)?.[1] ?? '';
  const words = line.trim().split(/\s+/).filter(Boolean);
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i] === '--kubeconfig') { i++; continue; }
    out.push(words[i]!);
  }
  return out;
}

/** Does the check judge one node (its --help offers --node)? Cached per check. */
const nodeScoped = new Map<string, Promise<boolean>>();
export function offersNode(check: string): Promise<boolean> {
  let p = nodeScoped.get(check);
  if (!p) nodeScoped.set(check, (p = runBuilt(check, ['--help']).then((r) => /^\s+--node\b/m.test(r.stdout))));
  return p;
}

/** Run one check against `server` as NRPE would, plus `extra` options (e.g. -vv). */
export async function runAsNrpe(check: string, server: ApiServer, extra: string[] = []): Promise<CheckRun> {
  const node = (await offersNode(check)) ? ['--node', SWEEP_NODE] : [];
  return runBuilt(check, [...nrpeOptions(check), '--kubeconfig', server.kubeconfig, ...node, ...extra]);
}
