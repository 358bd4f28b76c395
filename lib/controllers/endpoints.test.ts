import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Endpoints, Pod, Service } from '../api/types.ts';
import { EndpointsController, endpointSubsets, findPort } from './endpoints.ts';
import { RESOURCE } from './informers.ts';
import { getOrUndefined, markPodRunning, runController, startControllerTestCluster, testPod, waitFor, type ControllerTestCluster, type RunningTestController } from './test-helpers.ts';

function service(name: string, selector: Record<string, string> | undefined, ports: Service['spec']['ports']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', labels: { app: name } }, spec: { ...(selector ? { selector } : {}), ports } };
}

function pod(name: string, ip: string, ready: boolean, extra: Partial<Pod> = {}): Pod {
  const p = testPod(name, { app: 'web' }, { nodeName: 'node-2', containers: [{ name: 'app', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] });
  return { ...p, status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] }, ...extra };
}

describe('endpointSubsets', () => {
  const web = service('web', { app: 'web' }, [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'metrics', port: 9090, targetPort: 9100 }]);
  const cases: Array<{ name: string; pods: Pod[]; expected: unknown }> = [
    {
      name: 'Ready pods go under addresses and the others under notReadyAddresses, with named and numbered ports resolved.',
      pods: [pod('a', '10.0.0.2', true), pod('b', '10.0.0.3', false)],
      expected: [
        {
          ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9100, protocol: 'TCP' }],
          addresses: [{ ip: '10.0.0.2', nodeName: 'node-2', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: undefined } }],
          notReadyAddresses: [{ ip: '10.0.0.3', nodeName: 'node-2', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: undefined } }],
        },
      ],
    },
    {
      name: 'A pod without an IP, a terminating pod and a finished pod are left out.',
      pods: [
        { ...pod('a', '10.0.0.2', true), status: { phase: 'Pending' } },
        { ...pod('b', '10.0.0.3', true), metadata: { name: 'b', namespace: 'default', deletionTimestamp: '2026-01-01T00:00:00Z' } },
        { ...pod('c', '10.0.0.4', true), status: { phase: 'Succeeded', podIP: '10.0.0.4' } },
      ],
      expected: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(endpointSubsets(web, c.pods), c.expected));
  }

  it('A named targetPort that no container declares resolves to nothing, and a missing targetPort means the port itself.', () => {
    const p = pod('a', '10.0.0.2', true);
    assert.equal(findPort(p, { port: 80, targetPort: 'grpc' }), undefined);
    assert.equal(findPort(p, { port: 80 }), 80);
    assert.equal(findPort(p, { port: 80, targetPort: 'http', protocol: 'UDP' }), undefined);
  });
});

describe('EndpointsController against an API server', () => {
  let cluster: ControllerTestCluster;
  let running: RunningTestController<EndpointsController>;

  before(async () => {
    cluster = await startControllerTestCluster();
    running = await runController(cluster, (ctx, options) => new EndpointsController(ctx, options));
  });
  after(async () => {
    await running?.stop();
    await cluster?.stop();
  });

  const endpointsOf = (name: string) => getOrUndefined<Endpoints>(cluster.admin, RESOURCE.endpoints, 'default', name);

  it('A Service with a selector gets Endpoints listing its ready and not-ready Pods with resolved ports.', async () => {
    const admin = cluster.admin;
    await admin.create(RESOURCE.services, service('web', { app: 'web' }, [{ name: 'http', port: 80, targetPort: 'http' }]));
    for (const name of ['web-1', 'web-2']) {
      await admin.create(RESOURCE.pods, testPod(name, { app: 'web' }, { nodeName: 'node-2', containers: [{ name: 'app', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] }));
    }
    await admin.create(RESOURCE.pods, testPod('other', { app: 'other' }));
    await markPodRunning(admin, 'default', 'web-1', '10.244.1.5', true);
    await markPodRunning(admin, 'default', 'web-2', '10.244.1.6', false);
    await markPodRunning(admin, 'default', 'other', '10.244.1.7', true);

    const endpoints = await waitFor('Endpoints web with one ready and one not-ready address', async () => {
      const e = await endpointsOf('web');
      const subset = e?.subsets?.[0];
      return subset?.addresses?.length === 1 && subset.notReadyAddresses?.length === 1 ? e : undefined;
    });
    const subset = endpoints.subsets![0]!;
    assert.deepEqual(subset.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.equal(subset.addresses![0]!.ip, '10.244.1.5');
    assert.equal(subset.addresses![0]!.nodeName, 'node-2');
    assert.equal(subset.addresses![0]!.targetRef?.name, 'web-1');
    assert.ok(subset.addresses![0]!.targetRef?.uid, 'expected the targetRef to carry the Pod uid');
    assert.equal(subset.notReadyAddresses![0]!.ip, '10.244.1.6');
    assert.equal(endpoints.metadata.labels?.app, 'web');
    assert.ok(endpoints.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']);
  });

  it('A Pod becoming ready moves to addresses, and a terminating Pod leaves the list.', async () => {
    await markPodRunning(cluster.admin, 'default', 'web-2', '10.244.1.6', true);
    await waitFor('both web Pods ready in Endpoints', async () => (await endpointsOf('web'))?.subsets?.[0]?.addresses?.length === 2);
    // Why a bound Pod: its delete is graceful, so it stays with a deletionTimestamp (its kubelet would finish it).
    await cluster.admin.delete(RESOURCE.pods, 'default', 'web-1');
    const e = await waitFor('web-1 gone from Endpoints', async () => {
      const current = await endpointsOf('web');
      const ips = (current?.subsets ?? []).flatMap((s) => [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])]).map((a) => a.ip);
      return ips.length === 1 ? current : undefined;
    });
    assert.equal(e.subsets?.[0]?.addresses?.[0]?.ip, '10.244.1.6');
  });

  it('A Pod update that changes nothing the Endpoints show does not rewrite them.', async () => {
    const before = await endpointsOf('web');
    const writes = running.trace.filter((line) => line.startsWith('endpoints default/web:')).length;
    const current = await cluster.admin.get<Pod>(RESOURCE.pods, 'default', 'web-2');
    current.metadata.annotations = { note: 'unrelated' };
    await cluster.admin.update(RESOURCE.pods, current);
    // A real change afterwards: once it shows, the unrelated update has been handled too (the queue is in order).
    await cluster.admin.create(RESOURCE.pods, testPod('web-3', { app: 'web' }, { containers: [{ name: 'app', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] }));
    await markPodRunning(cluster.admin, 'default', 'web-3', '10.244.2.9', true);
    await waitFor('web-3 in Endpoints', async () => (await endpointsOf('web'))?.subsets?.[0]?.addresses?.length === 2);
    const after = running.trace.filter((line) => line.startsWith('endpoints default/web:')).length;
    assert.notEqual(before?.metadata.resourceVersion, undefined);
    assert.equal(after - writes, 1, `expected one write (web-3 became ready), got ${after - writes}: ${running.trace.slice(-5).join(' | ')}`);
  });

  it('A Service without a selector keeps the Endpoints its user wrote.', async () => {
    await cluster.admin.create(RESOURCE.services, service('external', undefined, [{ port: 5432 }]));
    const manual: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'external', namespace: 'default' }, subsets: [{ addresses: [{ ip: '192.168.1.10' }], ports: [{ port: 5432 }] }] };
    await cluster.admin.create(RESOURCE.endpoints, manual);
    // Touch the Service so the controller looks at it again, then show a later change was handled.
    const svc = await cluster.admin.get<Service>(RESOURCE.services, 'default', 'external');
    svc.metadata.labels = { touched: 'yes' };
    await cluster.admin.update(RESOURCE.services, svc);
    await cluster.admin.create(RESOURCE.services, service('marker', { app: 'marker' }, [{ port: 80 }]));
    await waitFor('Endpoints of the marker Service', () => endpointsOf('marker'));
    const e = await endpointsOf('external');
    assert.deepEqual(e?.subsets?.[0]?.addresses, [{ ip: '192.168.1.10' }]);
  });

  it('Deleting a Service deletes its Endpoints.', async () => {
    await cluster.admin.delete(RESOURCE.services, 'default', 'web');
    await waitFor('Endpoints web deleted', async () => (await endpointsOf('web')) === undefined);
    assert.ok(running.events.every((e) => e.type !== 'Warning'), `expected no warnings, got ${JSON.stringify(running.events)}`);
  });
});
