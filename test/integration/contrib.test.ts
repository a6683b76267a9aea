// The monitoring-server files: current with the checks, and accepted by the
// real configuration checkers (icinga2 daemon -C, nagios4 -v), which must
// instantiate each check on the hosts of its scope only (node checks on every
// node, cluster checks on the one cluster host) and the dependencies on
// check_k8s_apiserver for the checks that read the API.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DIST, ROOT } from '../harness.js';
import { icinga2Check, need } from '../icinga2.js';
// @ts-expect-error: plain JS, the generator's own model of the declarations
import { loadModel, nrpeConf } from '../../scripts/contrib.mjs';
// @ts-expect-error: plain JS
import { readmeReference } from '../../scripts/man.mjs';

interface ModelCheck { name: string; scope: 'node' | 'cluster'; optIn?: string }
const model = loadModel() as Promise<{ checks: ModelCheck[] }>;
/** The opt-in checks (the canary): the test's cluster host opts in to each, so its rules match somewhere. */
const optIn = (await model).checks.filter((c) => c.optIn).map((c) => c.name);
/** NRPE commands that name the kubeconfig: the checks that read the API. */
const readsApi = (c: string) => new RegExp(`^command\\[check_k8s_${c}\\]=.*\\s--kubeconfig[ =]`, 'm').test(fs.readFileSync(path.join(ROOT, 'nrpe.d/k8s-nrpe.cfg'), 'utf8'));

const FILES = ['icinga2/k8s-nrpe.conf', 'nagios/k8s-nrpe-commands.cfg'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-contrib-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const checks = (): Promise<string[]> => new Promise((resolve, reject) => {
  execFile(path.join(DIST, 'k8s-nrpe'), ['--list'], (err, stdout) => (err ? reject(err) : resolve(stdout.split('\n').filter(Boolean))));
});

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code) : 0, out: stdout + stderr });
    });
  });
}

describe('contrib/', () => {
  it('is what npm run contrib makes from the current checks', async () => {
    for (const f of FILES) {
      const built = fs.readFileSync(path.join(DIST, 'contrib', f), 'utf8');
      const committed = fs.existsSync(path.join(ROOT, 'contrib', f)) ? fs.readFileSync(path.join(ROOT, 'contrib', f), 'utf8') : '';
      expect(committed === built, `contrib/${f} is stale: run npm run contrib and commit it`).toBe(true);
    }
    // So is the README's checks reference (scope and perfdata of every check).
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme.includes(readmeReference(await model)), 'README.md\'s checks reference is stale: run npm run contrib and commit it').toBe(true);
  });

  it('declares a scope for every check', async () => {
    const { checks: declared } = await model;
    expect(declared.map((c) => c.name)).toEqual(await checks());
    for (const c of declared) expect(['node', 'cluster'], c.name).toContain(c.scope);
  });

  it('has one Icinga 2 CheckCommand with every option, one Service per check on the hosts of its scope, and icinga2 daemon -C accepts it', async () => {
    const conf = fs.readFileSync(path.join(DIST, 'contrib/icinga2/k8s-nrpe.conf'), 'utf8');
    const names = await checks();
    for (const c of names) {
      expect(conf).toContain(`object CheckCommand "k8s_${c}" {`);
      expect(conf).toContain(`vars.nrpe_command = "check_k8s_${c}"`);
      // Every option the check's --help lists (but -h/-V) has an argument.
      const help = await run(path.join(DIST, `check_k8s_${c}`), ['--help']);
      const body = conf.slice(conf.indexOf(`object CheckCommand "k8s_${c}" {`)).split('\n}\n')[0]!;
      const common = conf.slice(conf.indexOf('template CheckCommand "k8s-nrpe-common" {')).split('\n}\n')[0]!;
      for (const [, flag] of help.out.matchAll(/^ (?:-\w, )?--(?:\[no-\])?([a-z][a-z0-9-]*)/gm)) {
        if (flag === 'help' || flag === 'version' || flag === 'format') continue;
        // -v/-vv/-vvv from k8s_nrpe_verbose_level, as the ITL's *_verbose_level
        if (flag === 'verbose') { expect(common).toContain('set_if = {{ macro("$k8s_nrpe_verbose_level$") == 3 }}'); continue; }
        expect(`${body}\n${common}`, `--${flag} of ${c}`).toContain(`"--${flag}" = {`);
      }
      expect(body).toContain(`command = [ PluginContribDir + "/check_k8s_${c}" ]`);
      expect(conf).toContain(`notes_url = "https://`);
    }
    if (!need('/usr/sbin/icinga2', 'icinga2-bin icinga2-common')) return;
    const dir = path.join(tmp, 'icinga2');
    // k8s01: a node that also runs the cluster checks; k8s02: a node whose API checks depend on
    // k8s01's apiserver check; agent-node: a node checked through the Icinga 2 agent.
    const r = await icinga2Check(dir, `include <itl>
include <plugins>
include <plugins-contrib>
const PluginDir = "/usr/lib/nagios/plugins"
const PluginContribDir = "/usr/lib/nagios/plugins"
object Endpoint "master" { }
object Zone "master" { endpoints = [ "master" ] }
object Endpoint "agent-node" { host = "127.0.0.1" }
object Zone "agent-node" { endpoints = [ "agent-node" ]; parent = "master" }
include "${path.join(DIST, 'contrib/icinga2/k8s-nrpe.conf')}"
object Host "k8s01" {
  check_command = "dummy"
  address = "127.0.0.1"
  vars.k8s_nrpe = true
  vars.k8s_nrpe_cluster = true
${optIn.map((c) => `  vars.k8s_nrpe_${c} = true`).join('\n')}
}
object Host "k8s02" {
  check_command = "dummy"
  address = "127.0.0.2"
  vars.k8s_nrpe = true
  vars.k8s_nrpe_cluster_host = "k8s01"
}
object Host "agent-node" {
  check_command = "dummy"
  zone = "master"
  vars.k8s_nrpe = true
  vars.k8s_nrpe_agent = true
}
`);
    expect(r.out).not.toMatch(/critical\/|warning\//);
    expect(r.code, r.out).toBe(0);
    const { checks: declared } = await model;
    const node = declared.filter((c) => c.scope === 'node');
    const cluster = declared.filter((c) => c.scope === 'cluster');
    // Node checks on the three nodes, cluster checks on k8s01 only: one problem, one alert.
    expect(r.out).toContain(`Instantiated ${node.length * 3 + cluster.length} Services.`);
    if (names.includes('apiserver')) {
      // On k8s01 every API reader but the apiserver check (the opt-in ones it opted in to as well: an
      // apply rule matches them there only); on k8s02 its node checks that read the API.
      const deps = declared.filter((c) => c.name !== 'apiserver' && (readsApi(c.name) || optIn.includes(c.name))).length + node.filter((c) => readsApi(c.name)).length;
      expect(r.out).toContain(`Instantiated ${deps} Dependenc${deps === 1 ? 'y' : 'ies'}.`);
    }
  }, 120000); // icinga2 daemon -C alone takes ~10 s on a quiet machine

  it('has one Nagios service per NRPE command, and nagios4 -v accepts it', async () => {
    const cfg = fs.readFileSync(path.join(DIST, 'contrib/nagios/k8s-nrpe-commands.cfg'), 'utf8');
    const nrpe = fs.readFileSync(path.join(ROOT, 'nrpe.d/k8s-nrpe.cfg'), 'utf8');
    const names = await checks();
    for (const c of names) {
      expect(cfg).toMatch(new RegExp(`check_command\\s+check_k8s_nrpe!check_k8s_${c}!\\d+\\n`));
      expect(nrpe).toContain(`command[check_k8s_${c}]=`);
    }
    if (!need('/usr/sbin/nagios4', 'nagios4-core')) return;
    const dir = path.join(tmp, 'nagios');
    fs.mkdirSync(dir, { recursive: true });
    // nagios4 reads its config and writes its check results as the nagios user, not as
    // whoever started it: mkdtemp's 0700 hides the config, and the dir must be nagios's.
    fs.chmodSync(tmp, 0o755);
    const nagios = (flag: string) => Number(execFileSync('id', [flag, 'nagios'], { encoding: 'utf8' }).trim());
    fs.chownSync(dir, nagios('-u'), nagios('-g'));
    fs.writeFileSync(path.join(dir, 'resource.cfg'), '$USER1$=/usr/lib/nagios/plugins\n');
    fs.writeFileSync(path.join(dir, 'hosts.cfg'), `define command {
    command_name    check-host-alive
    command_line    $USER1$/check_ping -H $HOSTADDRESS$ -w 3000.0,80% -c 5000.0,100% -p 1
}
define host {
    use             linux-server
    host_name       k8s01
    address         127.0.0.1
    hostgroups      ${['k8s-nodes', 'k8s-cluster', ...optIn.map((c) => `k8s-${c}`)].join(',')}
}
define host {
    use             linux-server
    host_name       k8s02
    address         127.0.0.2
    hostgroups      k8s-nodes
}
`);
    const objects = ['templates', 'timeperiods', 'contacts', 'commands'].map((o) => `cfg_file=/etc/nagios4/objects/${o}.cfg`);
    fs.writeFileSync(path.join(dir, 'nagios.cfg'), [
      ...objects,
      `cfg_file=${path.join(DIST, 'contrib/nagios/k8s-nrpe-commands.cfg')}`,
      `cfg_file=${dir}/hosts.cfg`,
      `resource_file=${dir}/resource.cfg`,
      `log_file=${dir}/nagios.log`, `check_result_path=${dir}`, `lock_file=${dir}/nagios.lock`,
      `temp_file=${dir}/nagios.tmp`, `status_file=${dir}/status.dat`,
      'illegal_macro_output_chars=`~$&|\'"<>',
      '',
    ].join('\n'));
    const r = await run('/usr/sbin/nagios4', ['-v', path.join(dir, 'nagios.cfg')]);
    expect(r.out).toMatch(/Total Warnings:\s+0\n/);
    expect(r.out).toMatch(/Total Errors:\s+0\n/);
    expect(r.code, r.out).toBe(0);
    const { checks: declared } = await model;
    const node = declared.filter((c) => c.scope === 'node').length;
    expect(r.out).toContain(`Checked ${node * 2 + (declared.length - node)} services.`);
    if (names.includes('apiserver')) {
      // Cluster API checks on k8s01 and node API checks on both nodes depend on k8s01's k8s_apiserver.
      const readers = declared.filter((c) => c.name !== 'apiserver' && readsApi(c.name));
      const deps = readers.filter((c) => c.scope === 'cluster').length + 2 * readers.filter((c) => c.scope === 'node').length;
      expect(r.out).toMatch(new RegExp(`Checked ${deps} service dependencies\\b`));
    }
  });

  it('nrpe.d/k8s-nrpe.cfg is exactly what the checks\' nrpe declarations generate', async () => {
    const committed = fs.readFileSync(path.join(ROOT, 'nrpe.d/k8s-nrpe.cfg'), 'utf8');
    expect(committed === nrpeConf(await model), 'nrpe.d/k8s-nrpe.cfg is stale: run npm run contrib and commit it').toBe(true);
  });

  it('runs every option of each NRPE command in agent mode too: the CheckCommand sets it, with the same value', async () => {
    const conf = fs.readFileSync(path.join(DIST, 'contrib/icinga2/k8s-nrpe.conf'), 'utf8');
    const common = conf.slice(conf.indexOf('template CheckCommand "k8s-nrpe-common" {')).split('\n}\n')[0]!;
    const nrpe = fs.readFileSync(path.join(ROOT, 'nrpe.d/k8s-nrpe.cfg'), 'utf8');
    const lines = [...nrpe.matchAll(/^command\[check_k8s_([a-z_]+)\]=\S+ (.*)$/gm)];
    // Opt-in checks ship commented out (and are set in agent mode only where a host opts in).
    expect(lines.map((m) => m[1]).sort()).toEqual((await checks()).filter((c) => !optIn.includes(c)).sort());
    let seen = 0;
    for (const [, c, args] of lines) {
      const body = `${conf.slice(conf.indexOf(`object CheckCommand "k8s_${c}" {`)).split('\n}\n')[0]!}\n`;
      // The short flags as the check's --help prints them ('-w, --warning=RANGE').
      const help = (await run(path.join(DIST, `check_k8s_${c}`), ['--help'])).out;
      const long = (t: string) => (t.startsWith('--') ? t.slice(2) : new RegExp(`^ ${t}, --(?:\\[no-\\])?([a-z][a-z0-9-]*)`, 'm').exec(help)?.[1]);
      const tokens = args!.trim().split(/\s+/);
      for (let i = 0; i < tokens.length; i++) {
        const flag = long(tokens[i]!);
        expect(flag, `${c}: ${tokens[i]} in nrpe.d`).toBeTruthy();
        // The argument that gives this flag, and the custom variable it reads.
        const arg = new RegExp(`"--${flag}" = \\{\\n\\s+(value|set_if) = "\\$([a-z0-9_]+)\\$"`).exec(`${body}\n${common}`);
        expect(arg, `${c}: --${flag} has no Icinga 2 argument`).not.toBeNull();
        const value = arg![1] === 'set_if' ? 'true' : JSON.stringify(tokens[++i]);
        expect(body, `${c}: agent mode does not set --${flag} as its NRPE command does`).toContain(`\n  vars.${arg![2]} = ${value}\n`);
        seen++;
      }
      // Icinga waits longer than the plugin's -t, as check_nrpe does.
      const t = /(?:^|\s)-t (\d+)/.exec(args!);
      expect(body).toContain(`\n  timeout = ${Number(t?.[1] ?? 10) + 10}\n`);
    }
    expect(seen).toBeGreaterThan(lines.length * 2);
    // The agent-mode Service runs the CheckCommand itself, so it gets these defaults.
    for (const [, c] of lines) expect(conf).toContain(`    check_command = "k8s_${c}"\n    command_endpoint`);
  }, 120000);
});
