// Runs once, while scripts/build.mjs builds the startup snapshot, never at run
// time. V8 compiles a function when it first runs; what runs here is compiled
// into the snapshot, so a check's first parse (yargs) and its kubeconfig read
// (js-yaml) start from bytecode instead of compiling on every run. Only pure
// work: no clock, environment, file or network is read whose value the
// snapshot could keep.
import yaml from 'js-yaml';
import { CHECKS } from '../checks/index.js';
import { parseArgs } from '../lib/plugin/args.js';
import { renderJson, renderNagios } from '../lib/plugin/render.js';
import { statusOnly } from '../lib/plugin/run.js';
import { State } from '../lib/plugin/state.js';

const KUBECONFIG = `apiVersion: v1
kind: Config
current-context: warm
clusters:
- name: warm
  cluster: {server: 'https://127.0.0.1:16443', certificate-authority-data: AAAA}
users:
- name: warm
  user: {token: warm-up}
contexts:
- name: warm
  context: {cluster: warm, user: warm}
`;

export async function warmUp(): Promise<void> {
  yaml.load(KUBECONFIG);
  for (const check of CHECKS) {
    for (const argv of [['--help'], ['--kubeconfig', '/warm-up', '-t', '20', '-w', '1:', '-c', '@0:5'], ['--bogus']]) {
      try {
        await parseArgs(check, argv);
      } catch {
        // a usage error is a path worth compiling too
      }
    }
  }
  const o = statusOnly(State.UNKNOWN, 'warm-up', ['detail']);
  renderNagios(o, { title: 'WARM UP', verbose: 1 });
  renderJson(o, { check: 'warm_up', title: 'WARM UP' });
}
