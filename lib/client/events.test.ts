import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCluster, type TestCluster } from '../../test/helpers/apiserver.ts';
import type { Event, KubeObject } from '../api/types.ts';
import { findResource } from '../apiserver/resources.ts';
import { KubeApiError, KubeClient } from './client.ts';
import { ApiEventRecorder, type RecordedEvent } from './events.ts';

const EVENTS = findResource('', 'v1', 'events')!;
const CONFIGMAPS = findResource('', 'v1', 'configmaps')!;

describe('the event recorder', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster();
  });
  after(() => cluster.stop());

  it('writes an Event about the object, and folds a repeat into its count', async () => {
    const object = await cluster.admin.create<KubeObject>(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'default' } });
    const told: RecordedEvent[] = [];
    const recorder = new ApiEventRecorder(cluster.clientAs('system:kube-controller-manager'), { component: 'test-controller' }, { onEvent: (e) => told.push(e) });
    recorder.event(object, 'Normal', 'Checked', 'Looked at configmap settings');
    recorder.event(object, 'Normal', 'Checked', 'Looked at configmap settings');
    recorder.event(object, 'Warning', 'Broken', 'Something else');
    await recorder.flush();
    const list = await cluster.admin.list<Event>(EVENTS, { namespace: 'default', fieldSelector: `involvedObject.name=settings` });
    const byReason = new Map(list.items.map((e) => [e.reason, e]));
    assert.equal(list.items.length, 2, 'two distinct events');
    const checked = byReason.get('Checked')!;
    assert.equal(checked.count, 2);
    assert.equal(checked.type, 'Normal');
    assert.equal(checked.source?.component, 'test-controller');
    assert.deepEqual([checked.involvedObject.kind, checked.involvedObject.name, checked.involvedObject.uid], ['ConfigMap', 'settings', object.metadata.uid]);
    assert.match(checked.metadata.name ?? '', /^settings\.[0-9a-f]+$/);
    assert.equal(byReason.get('Broken')?.type, 'Warning');
    assert.deepEqual(told.map((e) => `${e.reason} ${e.count}`), ['Checked 1', 'Checked 2', 'Broken 1']);
  });

  it('puts events about cluster-scoped objects in the default namespace', async () => {
    const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-9', uid: 'node-9' } };
    const recorder = new ApiEventRecorder(cluster.admin, { component: 'node-controller' });
    recorder.event(node, 'Normal', 'RegisteredNode', 'Node node-9 event: Registered Node node-9 in Controller');
    await recorder.flush();
    const list = await cluster.admin.list<Event>(EVENTS, { namespace: 'default', fieldSelector: 'involvedObject.name=node-9' });
    assert.equal(list.items.length, 1);
    assert.equal(list.items[0]?.involvedObject.kind, 'Node');
  });

  it('never throws at the caller when the API server refuses the write, and reports the error', async () => {
    const errors: unknown[] = [];
    const stranger = new KubeClient({ server: cluster.apiserver.url, ca: cluster.ca, token: 'not-a-token' });
    const recorder = new ApiEventRecorder(stranger, { component: 'nobody' }, { onError: (e) => errors.push(e) });
    const object: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' } };
    assert.doesNotThrow(() => recorder.event(object, 'Normal', 'Tried', 'a stranger cannot write events'));
    await recorder.flush();
    stranger.close();
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof KubeApiError && errors[0].status.code === 401, String(errors[0]));
  });
});
