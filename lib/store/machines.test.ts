import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor } from 'xstate';
import { leaseMachine } from './lease-machine.ts';
import { watcherMachine } from './watcher-machine.ts';

describe('lease machine', () => {
  const start = () => createActor(leaseMachine, { input: { id: 1, ttl: 10, now: 0 } }).start();

  it('is alive until its deadline, and a keep-alive moves the deadline to now + TTL', () => {
    const lease = start();
    lease.send({ type: 'lease.tick', now: 9_999 });
    assert.ok(lease.getSnapshot().matches('alive'));
    lease.send({ type: 'lease.keepAlive', now: 5_000 });
    assert.equal(lease.getSnapshot().context.expiresAt, 15_000);
    lease.send({ type: 'lease.tick', now: 14_999 });
    assert.ok(lease.getSnapshot().matches('alive'));
    lease.send({ type: 'lease.tick', now: 15_000 });
    assert.ok(lease.getSnapshot().matches('expired'));
  });

  it('ignores keep-alives once expired, and ends when revoked', () => {
    const lease = start();
    lease.send({ type: 'lease.tick', now: 10_000 });
    assert.equal(lease.getSnapshot().can({ type: 'lease.keepAlive', now: 10_001 }), false);
    lease.send({ type: 'lease.keepAlive', now: 10_001 });
    assert.ok(lease.getSnapshot().matches('expired'));
    lease.send({ type: 'lease.revoke' });
    assert.equal(lease.getSnapshot().status, 'done');
  });

  it('can be revoked while alive', () => {
    const lease = start();
    lease.send({ type: 'lease.revoke' });
    assert.ok(lease.getSnapshot().matches('revoked'));
  });
});

describe('watcher machine', () => {
  const start = (startRevision: number, currentRevision: number) => createActor(watcherMachine, { input: { id: 1, startRevision, currentRevision } }).start();

  it('starts unsynced when its start revision is in the past, and advances as history is delivered', () => {
    const watcher = start(3, 10);
    assert.ok(watcher.getSnapshot().matches('unsynced'));
    watcher.send({ type: 'watcher.delivered', upTo: 6 });
    assert.equal(watcher.getSnapshot().context.nextRevision, 7);
    watcher.send({ type: 'watcher.caughtUp' });
    assert.ok(watcher.getSnapshot().matches('synced'));
  });

  it('starts synced when it watches from now or from the future', () => {
    assert.ok(start(11, 10).getSnapshot().matches('synced'));
    assert.ok(start(50, 10).getSnapshot().matches('synced'));
  });

  it('ends as compacted when its history is gone, and only an unsynced watcher can be', () => {
    const behind = start(2, 10);
    behind.send({ type: 'watcher.compacted' });
    assert.equal(behind.getSnapshot().value, 'compacted');
    assert.equal(start(11, 10).getSnapshot().can({ type: 'watcher.compacted' }), false);
  });

  it('blocks when its consumer stops reading, keeping its place, and resumes by catching up', () => {
    const synced = start(11, 10);
    synced.send({ type: 'watcher.blocked', nextRevision: 15 });
    assert.equal(synced.getSnapshot().value, 'blocked');
    assert.equal(synced.getSnapshot().context.nextRevision, 15, 'a synced watcher had everything up to 14');
    synced.send({ type: 'watcher.resumed' });
    assert.equal(synced.getSnapshot().value, 'unsynced');

    const behind = start(3, 10);
    behind.send({ type: 'watcher.delivered', upTo: 5 });
    behind.send({ type: 'watcher.blocked', nextRevision: 11 });
    assert.equal(behind.getSnapshot().context.nextRevision, 6, 'an unsynced watcher keeps its own place');
  });

  it('ends as canceled from any state', () => {
    const blocked = start(11, 10);
    blocked.send({ type: 'watcher.blocked', nextRevision: 11 });
    for (const watcher of [start(2, 10), start(11, 10), blocked]) {
      watcher.send({ type: 'watcher.cancel' });
      assert.equal(watcher.getSnapshot().value, 'canceled');
    }
  });
});
