import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiServers, expectContract, ROOT, runBuilt, type ApiServer } from '../harness.js';

const TITLE = 'VOLUMES';
type Obj = Record<string, any>;
const GiB = 1024 ** 3;

const fixture = (scenario: string, file: string): Obj[] =>
  JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', scenario, file), 'utf8')).objects;

/** The healthy cluster's nodes, pods, claims and volumes, changed by `edit`. */
function healthyWith(edit: (objects: Obj[]) => void): { objects: Obj[] } {
  const objects = [...fixture('healthy', 'nodes.json'), ...fixture('healthy', 'volumes.json'), ...fixture('healthy', 'workloads.json')];
  edit(objects);
  return { objects };
}
const find = (objects: Obj[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name)!;

describe('check_k8s_volumes against the API double', () => {
  const start = apiServers();
  let incident: ApiServer;
  let healthy: ApiServer;
  beforeAll(async () => { [incident, healthy] = await Promise.all([start('incident'), start('healthy')]); });

  it('warns on the incident: three hostpath volumes left Released behind the stuck provisioner pods', async () => {
    const run = await runBuilt('volumes', ['--kubeconfig', incident.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    expect(run.firstLine).toBe('K8S VOLUMES WARNING - 3 PVs not reclaimed | volume_problems=3;0;;0 pvcs=7;;;0 pvcs_pending=0;;;0 pvcs_lost=0;;;0 pvs=9;;;0 pvs_failed=0;;;0 pvs_released=3;;;0 attachment_errors=0;;;0');
    expect(run.stdout).toMatch(/\n\[WARNING\] PV pvc-3e9a1c7d-2b4f-4d6a-8e1c-5f7b9d2a4c60: Released for 40m\d*s? \(was apps\/scratch-0\) with reclaimPolicy Delete: the provisioner has not deleted it\n/);
    expect(run.stdout).toContain('\nPVC apps/web-3-cache: Pending until a pod uses it (StorageClass microk8s-hostpath is WaitForFirstConsumer)\n');
  });

  it('is OK on the healthy cluster; --usage asks only the node that mounts a claim', async () => {
    const run = await runBuilt('volumes', ['--kubeconfig', healthy.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(0);
    expect(run.firstLine).toMatch(/^K8S VOLUMES OK - 7 PVCs, 7 PVs, 0 VolumeAttachments: none lost, failed, stuck or in error \| volume_problems=0;0;;0 /);
    expect(run.stdout).toMatch(/\nPV pvc-4d7f1b3e-9a2c-4e8b-b6d0-3f5a7c9e1b23: Released for 12d \(was default\/old-postgres-data\), reclaimPolicy Retain: waits for a person/);

    const before = healthy.requests().length;
    const usage = await runBuilt('volumes', ['--kubeconfig', healthy.kubeconfig, '--usage']);
    expect(usage.code, usage.stdout).toBe(0);
    expect(usage.firstLine).toMatch(/, 1 mounted claim at most 62% full \| .* pvc_usage_max=62%;80;90;0;100$/);
    const reqs = healthy.requests().slice(before);
    expect(reqs.filter((r) => r.path.includes('/proxy/')).map((r) => r.path)).toEqual(['/api/v1/nodes/k8s03/proxy/stats/summary']);
    expect(reqs.find((r) => r.path === '/api/v1/pods')!.query).toMatchObject({ fieldSelector: 'status.phase=Running' });
  });

  it('reads StorageClasses only when a claim is Pending', async () => {
    const s = await start(healthyWith((o) => { o.splice(o.indexOf(find(o, 'PersistentVolumeClaim', 'web-3-cache')), 1); }));
    await runBuilt('volumes', ['--kubeconfig', s.kubeconfig]);
    expect(s.requests().map((r) => r.path).sort()).toEqual(['/api/v1/persistentvolumeclaims', '/api/v1/persistentvolumes', '/apis/storage.k8s.io/v1/volumeattachments']);
  });

  it('is CRITICAL for a Lost claim and a Failed volume, whatever -w/-c say', async () => {
    const s = await start(healthyWith((o) => {
      find(o, 'PersistentVolumeClaim', 'postgres-data').status = { phase: 'Lost' };
      const pv = find(o, 'PersistentVolume', 'pvc-4d7f1b3e-9a2c-4e8b-b6d0-3f5a7c9e1b23');
      pv.spec.persistentVolumeReclaimPolicy = 'Delete';
      pv.status = { phase: 'Failed', message: 'error getting deleter volume plugin for volume "pvc-4d7f1b3e-9a2c-4e8b-b6d0-3f5a7c9e1b23": no deletable volume plugin matched', lastPhaseTransitionTime: '$now-20m' };
    }));
    const run = await runBuilt('volumes', ['--kubeconfig', s.kubeconfig, '-w', '5', '-c', '9']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(2);
    expect(run.firstLine).toMatch(/^K8S VOLUMES CRITICAL - 2 volumes lost or failed: PVC default\/postgres-data Lost, PV pvc-4d7f1b3e-9a2c-4e8b-b6d0-3f5a7c9e1b23 Failed for 20m\d*s? \(was default\/old-postgres-data\) \| volume_problems=2;5;9;0 pvcs=7;;;0 pvcs_pending=0;;;0 pvcs_lost=1;;;0 pvs=7;;;0 pvs_failed=1;;;0 /);
    expect(run.stdout).toContain('\n[CRITICAL] PVC default/postgres-data: Lost: its volume pvc-c41f9e36-2d3e-4f5a-8b9c-6d5e4f3a2b06 no longer exists\n');
  });

  it('warns on a claim Pending past --window, and on VolumeAttachment errors', async () => {
    const s = await start(healthyWith((o) => {
      const c = find(o, 'PersistentVolumeClaim', 'web-3-cache');
      c.metadata.annotations['volume.kubernetes.io/selected-node'] = 'k8s02';
      o.push({
        apiVersion: 'storage.k8s.io/v1', kind: 'VolumeAttachment',
        metadata: { name: 'csi-5f0e4c1d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d', creationTimestamp: '$now-10m' },
        spec: { attacher: 'rbd.csi.ceph.com', nodeName: 'k8s02', source: { persistentVolumeName: 'pvc-05e03b60-1c2d-4e8f-9a7b-3c4d5e6f7a81' } },
        status: { attached: false, attachError: { time: '$now-90s', message: 'rpc error: code = Internal desc = rbd image replicapool/csi-vol-05e03b60 is still being used' } },
      });
    }));
    const run = await runBuilt('volumes', ['--kubeconfig', s.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    expect(run.firstLine).toMatch(/^K8S VOLUMES WARNING - 1 PVC Pending, 1 attachment error \| volume_problems=2;0;;0 .* pvcs_pending=1;;;0 .* attachment_errors=1;;;0$/);
    expect(run.stdout).toMatch(/\n\[WARNING\] PVC apps\/web-3-cache: Pending for 2h, StorageClass microk8s-hostpath \(for a pod on k8s02\)\n/);
    expect(run.stdout).toMatch(/\n\[WARNING\] VolumeAttachment csi-5f0e\w+ \(pvc-05e03b60-1c2d-4e8f-9a7b-3c4d5e6f7a81 on k8s02\): attach failed 1m3\ds ago: rpc error: code = Internal desc = rbd image replicapool\/csi-vol-05e03b60 is still being used\n/);
  });

  it('judges --namespace: its claims, and only the volumes and attachments bound to them', async () => {
    const run = await runBuilt('volumes', ['--kubeconfig', incident.kubeconfig, '--namespace', 'games']);
    expect(run.code, run.stdout).toBe(0);
    expect(run.firstLine).toMatch(/^K8S VOLUMES OK - 1 PVC in games, 1 PV, 0 VolumeAttachments: /);
    const q = incident.requests().filter((r) => r.path === '/api/v1/namespaces/games/persistentvolumeclaims');
    expect(q.length).toBe(1);
  });

  it('--usage: CRITICAL over --usage-critical (bytes or inodes), UNKNOWN for a kubelet the proxy cannot reach', async () => {
    const s = await start(healthyWith((o) => {
      const vol = find(o, 'StatsSummary', 'k8s03').summary.pods[0].volume[0];
      Object.assign(vol, { usedBytes: 19 * GiB, availableBytes: 1 * GiB });
      // Another pod with a claim, on k8s02, whose kubelet does not answer (no summary in the scenario).
      const other = JSON.parse(JSON.stringify(find(o, 'Pod', 'survive-minecraft-7d4b9c8f6-p2xkq')));
      Object.assign(other.metadata, { name: 'postgres-0', namespace: 'default', uid: '7e3a9c1d-0000-4e8a-9c6d-1f4b7e2a8c5e' });
      other.spec.nodeName = 'k8s02';
      other.spec.volumes[0].persistentVolumeClaim.claimName = 'postgres-data';
      o.push(other);
    }));
    const run = await runBuilt('volumes', ['--kubeconfig', s.kubeconfig, '--usage']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(2);
    expect(run.firstLine).toMatch(/^K8S VOLUMES CRITICAL - 1 claim over 90% full \(games\/survive-minecraft-data 95%\); usage on k8s02 not known \| .* pvc_usage_max=95%;80;90;0;100$/);
    expect(run.stdout).toContain('\n[CRITICAL] PVC games/survive-minecraft-data on k8s03: 95% used (19GiB of 20GiB), over --usage-critical 90%\n');
    expect(run.stdout).toMatch(/\n\[UNKNOWN\] usage of claims on k8s02 not known: .*error trying to reach service: dial tcp 10\.0\.0\.12:10250: connect: connection refused/);
    const loose = await runBuilt('volumes', ['--kubeconfig', s.kubeconfig, '--usage', '--usage-warning', '96', '--usage-critical', '99', '-v']);
    expect(loose.code, loose.stdout).toBe(3);
    expect(loose.firstLine).toMatch(/^K8S VOLUMES UNKNOWN - usage on k8s02 not known \| /);
  });

  it('--usage without nodes/proxy is UNKNOWN naming the RBAC to add', async () => {
    const s = await start('healthy', { rules: [{ path: '/proxy/', forbid: true }] });
    const run = await runBuilt('volumes', ['--kubeconfig', s.kubeconfig, '--usage']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(3);
    expect(run.firstLine).toMatch(/^K8S VOLUMES UNKNOWN - .*forbidden to get nodes\/proxy/);
  });

  it('refuses --usage-warning above --usage-critical', async () => {
    const run = await runBuilt('volumes', ['--kubeconfig', healthy.kubeconfig, '--usage', '--usage-warning', '95', '--usage-critical', '90']);
    expect(run.code).toBe(3);
    expect(run.firstLine).toMatch(/^K8S VOLUMES UNKNOWN - --usage-warning 95 is above --usage-critical 90/);
  });
});
