import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../lib/plugin/args.js';
import type { Range } from '../../lib/plugin/range.js';
import { State } from '../../lib/plugin/state.js';
import check from '../../checks/scheduler_stall.js';
import apiserver from '../../checks/apiserver.js';
import leases from '../../checks/leases.js';
import dqlite from '../../checks/dqlite.js';
import pods from '../../checks/pods.js';
import rebootReady from '../../checks/reboot_ready.js';
import { checkOptions } from './support.js';

// The command lines an operator (or an nrpe.cfg with $ARGn$ macros) writes, and the one error line each
// mistake gets. Options reach evaluate() only through parseArgs, so these are the rules every check shares.
const run = async (c: Parameters<typeof parseArgs>[0], argv: string[]) => {
  const p = await parseArgs(c, argv);
  if (p.kind !== 'run') throw new Error(`expected options, got ${p.kind}`);
  return p.opts as Record<string, unknown>;
};

describe('parseArgs', () => {
  it('rejects -w without a value', async () => {
    await expect(parseArgs(check, ['-w'])).rejects.toThrow(/range/);
  });

  it("'-w $ARG1$ -c 5' with an empty ARG1 is an error naming the option, not the default range", async () => {
    await expect(parseArgs(apiserver, ['-w', '-c', '5'])).rejects.toThrow('-w needs a value (got the option -c instead)');
    await expect(parseArgs(apiserver, ['-c', '5', '-w'])).rejects.toThrow(/^-w needs a value$/);
    // Without a default (scheduler_stall's -w) the range's own parse refuses the empty text.
    await expect(parseArgs(check, ['-w', '-c', '5'])).rejects.toThrow("-w: invalid range '' (empty)");
    // '-w --help' is a request for help, answered before any value is judged.
    expect((await parseArgs(apiserver, ['-w', '--help'])).kind).toBe('help');
    await expect(parseArgs(dqlite, ['--window', '--no-kubelite'])).rejects.toThrow('--window needs a value (got the option --no-kubelite instead)');
    // Past '--' nothing is an option: a trailing '-w' there is a stray word, not a missing value.
    await expect(parseArgs(apiserver, ['--', '-w'])).rejects.toThrow("unexpected argument '-w'");
    await expect(parseArgs(apiserver, ['--cert-warning', '--timeout=5'])).rejects.toThrow('--cert-warning needs a value (got the option --timeout=5 instead)');
  });

  it("takes '-w -5:5' and '--warning=-5:5' as a negative range, not a missing value or an option", async () => {
    const o = await run(apiserver, ['--warning=-5:5', '-c', '10']);
    expect(String(o.warning)).toBe('-5:5');
    expect(String(o.critical)).toBe('10');
    // As the guidelines write it (and as NRPE passes '-w $ARG1$' with ARG1=-5:5): two words.
    const split = await run(apiserver, ['-w', '-5:5', '-c', '-10.5:-5']);
    expect([String(split.warning), String(split.critical)]).toEqual(['-5:5', '-10.5:-5']);
    expect((split.warning as Range).alerts(-6)).toBe(true);
    expect((split.warning as Range).alerts(0)).toBe(false);
    // A word that is an option stays an option: '-w -c 5' is still a missing value.
    await expect(parseArgs(apiserver, ['-w', '-c', '5'])).rejects.toThrow('-w needs a value');
    // Past '--' nothing is rewritten.
    await expect(parseArgs(apiserver, ['--', '-w', '-5'])).rejects.toThrow("unexpected argument '-w'");
  });

  it('gives each option its default and its typed value', async () => {
    const o = await run(apiserver, []);
    expect(o).toMatchObject({ timeout: 10, timeoutState: State.UNKNOWN, verbose: 0, format: 'nagios', pageSize: 500, certWarning: 30, certCritical: 7, aggregatedState: 'warning' });
    expect(String(o.warning)).toBe('1');
    expect(String(o.critical)).toBe('5');
    expect(o.kubeconfig).toBeUndefined();
    expect((await run(rebootReady, [])).criticalNamespace).toEqual(['kube-system']);
    const v = await run(apiserver, ['-vv', '-t', '1m', '--timeout-state', 'CRITICAL', '--page-size', '10000', '--cert-warning', '0']);
    expect(v).toMatchObject({ verbose: 2, timeout: 60, timeoutState: State.CRITICAL, pageSize: 10000, certWarning: 0 });
  });

  it('bounds -t: more than 0, at most an hour', async () => {
    expect((await run(check, ['-t', '3600'])).timeout).toBe(3600);
    expect((await run(check, ['-t', '0.5'])).timeout).toBe(0.5);
    await expect(parseArgs(check, ['-t', '0'])).rejects.toThrow("invalid --timeout '0': must be more than 0 and at most 3600 seconds");
    await expect(parseArgs(check, ['-t', '3601'])).rejects.toThrow(/at most 3600 seconds/);
    await expect(parseArgs(check, ['-t', 'soon'])).rejects.toThrow("invalid --timeout 'soon': use seconds or a duration like 90s, 5m, 1h30m");
  });

  it('takes --timeout-state as a name or an exit code, nothing else', async () => {
    expect((await run(check, ['--timeout-state', 'ok'])).timeoutState).toBe(State.OK);
    expect((await run(check, ['--timeout-state', '1'])).timeoutState).toBe(State.WARNING);
    await expect(parseArgs(check, ['--timeout-state', 'red'])).rejects.toThrow("invalid --timeout-state 'red': use ok, warning, critical or unknown");
    await expect(parseArgs(check, ['--timeout-state', '4'])).rejects.toThrow(/use ok, warning, critical or unknown/);
  });

  it('refuses whole numbers out of bounds or with a fraction, naming the bounds', async () => {
    await expect(parseArgs(apiserver, ['--page-size', '0'])).rejects.toThrow("invalid --page-size '0': use a whole number from 1 to 10000");
    await expect(parseArgs(apiserver, ['--page-size', '10001'])).rejects.toThrow(/from 1 to 10000/);
    await expect(parseArgs(apiserver, ['--page-size', '2.5'])).rejects.toThrow(/use a whole number/);
    await expect(parseArgs(apiserver, ['--cert-warning', '-1'])).rejects.toThrow("invalid --cert-warning '-1': use a whole number from 0 to 36500");
    expect((await run(apiserver, ['--page-size', '1'])).pageSize).toBe(1);
    expect((await run(apiserver, ['--page-size', '+20'])).pageSize).toBe(20);
    expect((await run(apiserver, ['--page-size', ' 30 '])).pageSize).toBe(30);
  });

  it('refuses a word outside the choices, listing them', async () => {
    await expect(parseArgs(apiserver, ['--aggregated-state', 'unknown'])).rejects.toThrow("invalid --aggregated-state 'unknown': use ok, warning, critical");
    await expect(parseArgs(apiserver, ['--format', 'xml'])).rejects.toThrow("invalid --format 'xml': use nagios, json");
    expect((await run(apiserver, ['--aggregated-state', 'critical'])).aggregatedState).toBe('critical');
  });

  it('an option given twice keeps its last value, as yargs does (docs/plugin-contract.md)', async () => {
    expect(String((await run(apiserver, ['-w', '1', '-w', '2'])).warning)).toBe('2');
  });

  it('refuses a stray word and an unknown option', async () => {
    await expect(parseArgs(check, ['5'])).rejects.toThrow(/^Unknown argument: 5$/);
    await expect(parseArgs(check, ['--critcal', '5'])).rejects.toThrow(/critcal/);
  });

  it('answers --help and --version instead of running', async () => {
    const h = await parseArgs(check, ['--help']);
    expect(h.kind).toBe('help');
    expect(h.kind === 'help' && h.text).toMatch(/-w, --warning/);
    expect(h.kind === 'help' && h.text).toMatch(/Warning range: number of stalled pods/);
    expect(h.kind === 'help' && h.text).toMatch(/Critical range: number of stalled pods/);
    const v = await parseArgs(check, ['-V']);
    expect(v.kind).toBe('version');
    expect(v.kind === 'version' && v.text).toMatch(/^check_k8s_scheduler_stall \(k8s-nrpe\)/);
  });

  it('collects a repeatable option from every occurrence and commas, once each', async () => {
    const o = await checkOptions(leases, ['--lease', 'a, b', '--lease=c', '--namespace=x', '--lease', 'a']);
    expect(o.lease).toEqual(['a', 'b', 'c']);
    expect(o.namespace).toBe('x');
    await expect(parseArgs(leases, ['--namespace', 'x', '--lease'])).rejects.toThrow('--lease needs a name');
    await expect(parseArgs(leases, ['--lease', 'a, ,b'])).rejects.toThrow('--lease needs a name');
    expect((await checkOptions(leases, [])).lease).toEqual([]);
    await expect(parseArgs(leases, ['--lease', '--namespace', 'x'])).rejects.toThrow('--lease needs a name');
    await expect(parseArgs(leases, ['--lease', 'a,,b'])).rejects.toThrow('--lease needs a name');
    await expect(parseArgs(leases, ['--lease', 'Not_A_Name'])).rejects.toThrow("invalid --lease 'Not_A_Name': not a Kubernetes object name");
    // Past '--' nothing is an option.
    await expect(parseArgs(leases, ['--', '--lease', 'a'])).rejects.toThrow(/unexpected argument/);
  });

  it('caps a repeatable option at its maximum', async () => {
    const twenty = Array.from({ length: 20 }, (_, i) => ['--pattern', `p${i}=text${i}`]).flat();
    expect(((await run(dqlite, twenty)).pattern as string[]).length).toBe(20);
    const many = Array.from({ length: 21 }, (_, i) => ['--pattern', `p${i}=text${i}`]).flat();
    await expect(parseArgs(dqlite, many)).rejects.toThrow(/too many --pattern values \(21\): at most 20/);
  });

  it('bounds a duration with the unit the operator thinks in', async () => {
    expect((await run(dqlite, ['--window', '7d'])).window).toBe(7 * 86400);
    expect((await run(dqlite, ['--window', '1s'])).window).toBe(1);
    await expect(parseArgs(dqlite, ['--window', '0'])).rejects.toThrow("invalid --window '0': must be from 1s to 7d");
    await expect(parseArgs(dqlite, ['--window', '7d1s'])).rejects.toThrow(/must be from 1s to 7d/);
    await expect(parseArgs(pods, ['--window', '0s'])).rejects.toThrow("invalid --window '0s': must be at least 1s");
    expect((await run(rebootReady, ['--settle', '0'])).settle).toBe(0);
  });

  it('refuses names that cannot go into a URL or a selector, each with what a name is', async () => {
    await expect(parseArgs(check, ['--lease-name', 'Kube_Scheduler'])).rejects.toThrow("invalid --lease-name 'Kube_Scheduler': not a Kubernetes object name (lowercase letters, digits, '-' and '.')");
    await expect(parseArgs(pods, ['--namespace', 'Kube-System'])).rejects.toThrow("invalid --namespace 'Kube-System': not a namespace name (lowercase letters, digits and '-', at most 63)");
    await expect(parseArgs(pods, ['--selector', 'k8s-app==='])).rejects.toThrow("invalid --selector 'k8s-app===': not a label selector (e.g. k8s-app=kube-dns)");
    await expect(parseArgs(rebootReady, ['--node', 'k8s_01'])).rejects.toThrow("invalid --node 'k8s_01': a node name is lowercase letters, digits, '-' and '.'");
    expect(await run(check, ['--lease-name', 'scheduler.v2'])).toMatchObject({ leaseName: 'scheduler.v2' });
    expect(await run(pods, ['--namespace', 'dns', '--selector', 'k8s-app=kube-dns'])).toMatchObject({ namespace: 'dns', selector: 'k8s-app=kube-dns' });
    expect((await run(rebootReady, ['--node', 'k8s01.lan'])).node).toBe('k8s01.lan');
    // A long bad value is shown shortened: the error stays one readable line.
    await expect(parseArgs(check, ['--lease-name', 'X'.repeat(300)])).rejects.toThrow(/^invalid --lease-name 'X{77}\.\.\.': not a Kubernetes object name/);
  });

  it('an option without a default given an empty value is an error, not unset', async () => {
    await expect(parseArgs(check, ['--kubeconfig', ''])).rejects.toThrow(/^--kubeconfig needs a value$/);
    await expect(parseArgs(check, ['--kubeconfig', '  '])).rejects.toThrow(/^--kubeconfig needs a value$/);
    await expect(parseArgs(apiserver, ['-w', ' '])).rejects.toThrow("-w: invalid range '' (empty): give a range like 10, ~:10 or @5:10");
    await expect(parseArgs(pods, ['--jobs-critical', ''])).rejects.toThrow(/^--jobs-critical: invalid range '' \(empty\)/);
    await expect(parseArgs(pods, ['--jobs-critical', '5:1'])).rejects.toThrow("--jobs-critical: invalid range '5:1': start 5 is greater than end 1");
    await expect(parseArgs(pods, ['--restarts', 'many'])).rejects.toThrow("invalid --restarts 'many': use a whole number from 0");
  });

  it('a check refuses a text its rule does not allow, saying why', async () => {
    await expect(parseArgs(dqlite, ['--unit', 'k8s dqlite'])).rejects.toThrow("invalid --unit 'k8s dqlite': not a systemd unit name");
    expect((await run(dqlite, ['--unit', 'snap.microk8s.daemon-k8s-dqlite.service'])).unit).toBe('snap.microk8s.daemon-k8s-dqlite.service');
  });

  it('flags: off unless given, --no-NAME for a default-on one', async () => {
    expect((await run(rebootReady, [])).allowSingleNode).toBe(false);
    expect((await run(rebootReady, ['--allow-single-node'])).allowSingleNode).toBe(true);
    expect((await run(dqlite, [])).unitState).toBeUndefined();
    expect((await run(dqlite, ['--no-unit-state'])).unitState).toBe(false);
    expect((await run(dqlite, ['--kubelite'])).kubelite).toBe(true);
    expect((await run(dqlite, ['--no-kubelite'])).kubelite).toBe(false);
  });
});
