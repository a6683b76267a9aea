import path from 'node:path';
import { CHECKS } from '../checks/index.js';
import type { AnyCheck } from '../lib/plugin/check.js';
import { runCheck } from '../lib/plugin/run.js';
import { BUGS, EXIT_STATES, WIDTH, wrap } from '../lib/plugin/help.js';
import { State } from '../lib/plugin/state.js';
import { VERSION, versionLine } from '../lib/plugin/version.js';
import { runTriage } from './triage.js';
import { runDiscover } from './discover.js';

/**
 * The multi-call entry point: invoked as check_k8s_<name> (a symlink) it runs
 * that check; invoked as k8s-nrpe it takes the check as its first argument.
 */
function pick(argv: string[]): { check?: AnyCheck; args: string[]; invoked: string } {
  const invoked = path.basename(process.argv[1] ?? 'k8s-nrpe').replace(/\.(c|m)?js$/, '');
  const byName = (n: string) => CHECKS.find((c) => c.name === n || `check_k8s_${c.name}` === n);
  const direct = byName(invoked);
  if (direct) return { check: direct, args: argv, invoked };
  const [first, ...rest] = argv;
  return { check: first ? byName(first.replace(/-/g, '_')) : undefined, args: rest, invoked };
}

function usage(): string {
  // One check a line; a summary too long for 80 columns continues under itself.
  const width = Math.max(...CHECKS.map((c) => c.name.length)) + 4;
  const checks = CHECKS.flatMap((c) => wrap(c.summary, WIDTH, ' '.repeat(width)).map((l, i) => (i ? l : `  ${c.name.padEnd(width - 2)}${l.trimStart()}`)));
  return [
    `k8s-nrpe ${VERSION}: Nagios/NRPE checks for Kubernetes`,
    '',
    'Usage:',
    '  k8s-nrpe CHECK [OPTION]...      (or: check_k8s_CHECK [OPTION]...)',
    '  k8s-nrpe triage [OPTION]...',
    '  k8s-nrpe discover [--icinga2 | --director] [OPTION]...',
    '  k8s-nrpe --list | --help | --version',
    '',
    'Checks:',
    ...checks,
    '',
    ...wrap('k8s-nrpe CHECK --help shows the options of a check; man check_k8s_CHECK has them too, with its perfdata. ' +
      'k8s-nrpe triage runs every check that applies to this host at once and prints them worst first (k8s-nrpe triage --help). ' +
      'k8s-nrpe discover prints the nodes and workloads to monitor one by one (k8s-nrpe discover --help, docs/discover.md).'),
    '',
    ...wrap(EXIT_STATES),
    '',
    ...wrap(`Report bugs: ${BUGS}`),
  ].join('\n') + '\n';
}

/** Write everything, then exit with the plugin's state. Never lose output on a pipe. */
function finish(stdout: string, stderr: string, code: number): void {
  if (stderr) process.stderr.write(stderr);
  process.exitCode = code;
  process.stdout.write(stdout, () => {
    // A hung socket may still hold the event loop: once stdout has drained, leave.
    process.exit(code);
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { check, args, invoked } = pick(argv);
  if (!check) {
    const first = argv[0];
    if (!first || first === '-h' || first === '--help') return finish(usage(), '', State.UNKNOWN);
    if (first === '-V' || first === '--version') return finish(versionLine('k8s-nrpe'), '', State.UNKNOWN);
    if (first === 'triage') {
      const r = await runTriage(CHECKS, argv.slice(1));
      return finish(r.stdout, '', r.exitCode);
    }
    if (first === 'discover') {
      const r = await runDiscover(argv.slice(1));
      return finish(r.stdout, r.stderr, r.exitCode);
    }
    // Machine-readable list of checks, for packaging, the demo and triage.
    if (first === '--list') return finish(CHECKS.map((c) => c.name).join('\n') + '\n', '', State.OK);
    return finish(`K8S UNKNOWN - unknown check '${first.replace(/[^\w.-]/g, '?').slice(0, 60)}' (invoked as ${invoked}); run k8s-nrpe --help for the list\n`, '', State.UNKNOWN);
  }
  const result = await runCheck(check, args);
  finish(result.stdout, result.stderr, result.exitCode);
}

// Last line of defence: whatever escapes is UNKNOWN with one line, never a stack trace.
const die = (e: unknown) => {
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  finish(`K8S UNKNOWN - internal error (${msg.replace(/[\x00-\x1f|]+/g, ' ').slice(0, 200)}); rerun with -vvv and report it\n`, '', State.UNKNOWN);
};
process.on('uncaughtException', die);
process.on('unhandledRejection', die);
main().catch(die);
