// A kubeconfig `exec` credential plugin (client.authentication.k8s.io), run
// by us rather than client-node's ExecAuth: in its own process group, with
// the run's AbortSignal, so a plugin that hangs is named in the timeout line
// ("the credential plugin ...") and is killed with everything it started.
// Protocol: https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins
import path from 'node:path';
import { describeCommand, firstLine, runCommand } from '../host/command.js';
import { PluginError } from '../plugin/errors.js';
import { registerSecret, sanitize } from '../plugin/sanitize.js';

export interface ExecResult {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
}

const API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];
/** Plugins print one small JSON object. */
const MAX_OUTPUT = 256 * 1024;

export async function runExecCredential(
  exec: Record<string, unknown>,
  ctx: { source: string; user: string; signal: AbortSignal; env: NodeJS.ProcessEnv; cluster: Record<string, unknown> },
): Promise<ExecResult> {
  const where = `kubeconfig ${ctx.source}: user '${ctx.user}'`;
  const command = typeof exec.command === 'string' ? exec.command : '';
  if (!command) throw new PluginError(`${where}: exec has no command`);
  const apiVersion = typeof exec.apiVersion === 'string' ? exec.apiVersion : '';
  if (!API_VERSIONS.includes(apiVersion)) {
    throw new PluginError(`${where}: exec apiVersion '${sanitize(apiVersion, 60)}' is not supported (use ${API_VERSIONS.join(' or ')})`);
  }
  if (exec.interactiveMode === 'Always') throw new PluginError(`${where}: the credential plugin needs a terminal (interactiveMode: Always); a check has none`);
  const args = Array.isArray(exec.args) ? exec.args.map(String) : [];
  const extra: Record<string, string> = {};
  for (const e of Array.isArray(exec.env) ? exec.env : []) {
    const { name, value } = (e ?? {}) as { name?: unknown; value?: unknown };
    if (typeof name === 'string') extra[name] = String(value ?? '');
  }
  const spec: Record<string, unknown> = { interactive: false };
  if (exec.provideClusterInfo === true) spec.cluster = ctx.cluster;
  extra.KUBERNETES_EXEC_INFO = JSON.stringify({ apiVersion, kind: 'ExecCredential', spec });
  // As kubectl: a relative command with a slash is relative to the kubeconfig's directory.
  const file = command.includes('/') && !path.isAbsolute(command) ? path.resolve(path.dirname(ctx.source), command) : command;
  const shown = describeCommand(command, []);

  let r;
  try {
    r = await runCommand(file, args, {
      signal: ctx.signal,
      env: { ...(ctx.env.PATH && { PATH: ctx.env.PATH }), ...extra },
      inheritEnv: true,
      maxBytes: MAX_OUTPUT,
      label: `the credential plugin ${shown}`,
    });
  } catch (e) {
    const hint = typeof exec.installHint === 'string' ? ` (${sanitize(exec.installHint, 120)})` : '';
    throw new PluginError(`${where}: credential plugin failed: ${e instanceof Error ? e.message : String(e)}${hint}`);
  }
  if (r.exitCode !== 0) {
    const said = firstLine(r.stderr);
    throw new PluginError(`${where}: credential plugin ${shown} exited ${r.exitCode}${said ? `: ${said}` : ''}`);
  }
  let status: Record<string, unknown>;
  try {
    const out = JSON.parse(r.stdout) as { kind?: unknown; status?: unknown };
    if (out.kind !== 'ExecCredential' || typeof out.status !== 'object' || out.status === null) throw new Error('not an ExecCredential');
    status = out.status as Record<string, unknown>;
  } catch {
    throw new PluginError(`${where}: credential plugin ${shown} did not print an ExecCredential with a status`);
  }
  const s = (k: string) => (typeof status[k] === 'string' && status[k] ? (status[k] as string) : undefined);
  const result: ExecResult = { token: s('token'), clientCertificateData: s('clientCertificateData'), clientKeyData: s('clientKeyData') };
  registerSecret(result.token);
  registerSecret(result.clientKeyData);
  if (!result.token && !(result.clientCertificateData && result.clientKeyData)) {
    throw new PluginError(`${where}: credential plugin ${shown} returned neither a token nor a client certificate and key`);
  }
  return result;
}
