import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LAST_APPLIED, lastApplied, threeWayMergePatch, withLastApplied } from './apply.ts';

const container = (fields: Record<string, unknown>): Record<string, unknown> => ({ spec: { containers: [{ name: 'main', ...fields }] } });

describe('threeWayMergePatch', () => {
  it('sends nothing when what the user wants is already live', () => {
    assert.equal(threeWayMergePatch({ spec: { replicas: 2 } }, { spec: { replicas: 2 } }, { spec: { replicas: 2, paused: false }, status: {} }), undefined);
  });

  it('sends only the fields that differ from the live object', () => {
    const patch = threeWayMergePatch({ spec: { replicas: 2, minReadySeconds: 5 } }, { spec: { replicas: 3, minReadySeconds: 5 } }, { spec: { replicas: 2, minReadySeconds: 5 } });
    assert.deepEqual(patch, { spec: { replicas: 3 } });
  });

  it('deletes, with null, a field the user applied before and has now removed', () => {
    const patch = threeWayMergePatch({ spec: { replicas: 2, paused: true } }, { spec: { replicas: 2 } }, { spec: { replicas: 2, paused: true } });
    assert.deepEqual(patch, { spec: { paused: null } });
  });

  it('leaves alone a field that someone else added and the user never applied', () => {
    const patch = threeWayMergePatch({ metadata: { labels: { app: 'web' } } }, { metadata: { labels: { app: 'web' } } }, { metadata: { labels: { app: 'web', team: 'shop' } } });
    assert.equal(patch, undefined);
  });

  it('treats a list as unchanged when the server only added defaults to its items', () => {
    const applied = container({ image: 'nginx' });
    assert.equal(threeWayMergePatch(applied, applied, container({ image: 'nginx', imagePullPolicy: 'IfNotPresent' })), undefined);
  });

  it('replaces a list whole when the user changed it, so a field removed from an item goes too', () => {
    const last = container({ image: 'nginx', args: ['-v'] });
    const desired = container({ image: 'nginx' });
    const live = container({ image: 'nginx', args: ['-v'], imagePullPolicy: 'IfNotPresent' });
    assert.deepEqual(threeWayMergePatch(last, desired, live), { spec: { containers: [{ name: 'main', image: 'nginx' }] } });
  });

  it('restores a list that someone else changed since the last apply', () => {
    const applied = container({ image: 'nginx:1.27' });
    assert.deepEqual(threeWayMergePatch(applied, applied, container({ image: 'nginx:1.26' })), applied);
  });

  it('without a last apply, adds and changes but never deletes', () => {
    assert.deepEqual(threeWayMergePatch(undefined, { spec: { replicas: 3 } }, { spec: { replicas: 2, paused: true } }), { spec: { replicas: 3 } });
  });
});

describe('withLastApplied', () => {
  it('records the object, minus the annotation itself, as JSON with sorted keys', () => {
    const object = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'a', annotations: { note: 'x' } }, data: { b: '2', a: '1' } };
    const annotated = withLastApplied(object);
    const text = annotated.metadata.annotations?.[LAST_APPLIED];
    assert.equal(text, '{"apiVersion":"v1","data":{"a":"1","b":"2"},"kind":"ConfigMap","metadata":{"annotations":{"note":"x"},"name":"a"}}\n');
    assert.equal(annotated.metadata.annotations?.note, 'x');
    assert.deepEqual(lastApplied(withLastApplied(annotated)), lastApplied(annotated));
  });
});
