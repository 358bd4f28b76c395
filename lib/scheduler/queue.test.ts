import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../api/types.ts';
import type { Clock } from '../client/client.ts';
import { SchedulingQueue } from './queue.ts';

/** A clock that only moves when the test says so, firing due timers in order. */
class FakeClock implements Clock {
  private time = 0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private ids = 0;
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.timers.push({ at: this.time + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.time = next.at;
      next.fn();
    }
    this.time = end;
  }
}

function pod(name: string, priority?: number): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c' }], ...(priority === undefined ? {} : { priority }) } };
}

describe('the scheduling queue', () => {
  it('Pods of higher priority come out first, and equal priorities in the order they came.', () => {
    const clock = new FakeClock();
    const queue = new SchedulingQueue({ clock });
    queue.add(pod('a'));
    clock.advance(1);
    queue.add(pod('b', 10));
    clock.advance(1);
    queue.add(pod('c'));
    assert.deepEqual([queue.tryPop()?.key, queue.tryPop()?.key, queue.tryPop()?.key, queue.tryPop()], ['default/b', 'default/a', 'default/c', undefined]);
  });

  it('A Pod added twice is queued once.', () => {
    const queue = new SchedulingQueue({ clock: new FakeClock() });
    queue.add(pod('a'));
    queue.add(pod('a'));
    assert.equal(queue.tryPop()?.key, 'default/a');
    assert.equal(queue.tryPop(), undefined);
  });

  it('A deleted Pod is never handed out.', () => {
    const queue = new SchedulingQueue({ clock: new FakeClock() });
    queue.add(pod('a'));
    queue.delete(pod('a'));
    assert.equal(queue.tryPop(), undefined);
    assert.deepEqual(queue.counts(), { active: 0, backoff: 0, unschedulable: 0, inFlight: 0 });
  });

  it('pop() waits for a Pod and resolves when one is added.', async () => {
    const queue = new SchedulingQueue({ clock: new FakeClock() });
    const next = queue.pop();
    queue.add(pod('late'));
    assert.equal((await next)?.key, 'default/late');
  });

  it('A failed Pod backs off 1 s, then 2 s, 4 s, 8 s and at most 10 s.', () => {
    const clock = new FakeClock();
    const queue = new SchedulingQueue({ clock });
    queue.run();
    queue.add(pod('a'));
    const waits: number[] = [];
    for (let round = 0; round < 6; round++) {
      const info = queue.tryPop();
      assert.ok(info, `round ${round}: expected the pod back in activeQ`);
      waits.push(queue.backoffDuration(info));
      queue.addBackoff(info);
      assert.equal(queue.placeOf('default/a'), 'backoff');
      // Just before the backoff runs out it is still waiting (flushes run every second).
      let waited = 0;
      while (queue.placeOf('default/a') === 'backoff') {
        clock.advance(1000);
        waited += 1000;
        assert.ok(waited <= 11_000, 'expected the backoff to end within 11 s');
      }
      assert.equal(queue.placeOf('default/a'), 'active');
      assert.ok(waited >= waits[round]!, `round ${round}: left backoff after ${waited} ms, expected at least ${waits[round]} ms`);
    }
    assert.deepEqual(waits, [1000, 2000, 4000, 8000, 10_000, 10_000]);
    queue.close();
  });

  it('An unschedulable Pod waits for a cluster event, then goes back through its backoff.', () => {
    const clock = new FakeClock();
    const queue = new SchedulingQueue({ clock });
    queue.run();
    queue.add(pod('big'));
    const info = queue.tryPop()!;
    queue.addUnschedulable(info);
    clock.advance(60_000);
    assert.equal(queue.placeOf('default/big'), 'unschedulable', 'expected it to stay unschedulable without an event');
    queue.moveAllToActiveOrBackoff('NodeAdd');
    assert.equal(queue.placeOf('default/big'), 'active', 'its 1 s backoff ran out long ago, so straight to activeQ');
    assert.equal(queue.tryPop()?.lastMovedBy, 'NodeAdd');
    queue.close();
  });

  it('A cluster event right after a failure moves the Pod to backoff first.', () => {
    const clock = new FakeClock();
    const queue = new SchedulingQueue({ clock });
    queue.run();
    queue.add(pod('big'));
    queue.addUnschedulable(queue.tryPop()!);
    queue.moveAllToActiveOrBackoff('PodDelete');
    assert.equal(queue.placeOf('default/big'), 'backoff');
    clock.advance(1000);
    assert.equal(queue.placeOf('default/big'), 'active');
    queue.close();
  });

  it('A cluster event during a Pod\'s scheduling cycle sends it to backoff instead of the unschedulable set.', () => {
    const clock = new FakeClock();
    const queue = new SchedulingQueue({ clock });
    queue.add(pod('racing'));
    const info = queue.tryPop()!;
    queue.moveAllToActiveOrBackoff('NodeAdd'); // a node came while we were filtering
    queue.addUnschedulable(info);
    assert.equal(queue.placeOf('default/racing'), 'backoff');
  });

  it('The periodic flush moves a Pod that waited 5 minutes in the unschedulable set.', () => {
    const clock = new FakeClock();
    const queue = new SchedulingQueue({ clock });
    queue.run();
    queue.add(pod('forgotten'));
    queue.addUnschedulable(queue.tryPop()!);
    clock.advance(4 * 60_000);
    assert.equal(queue.placeOf('default/forgotten'), 'unschedulable');
    clock.advance(90_000);
    assert.equal(queue.placeOf('default/forgotten'), 'active');
    queue.close();
  });

  it('A spec change gives an unschedulable Pod another chance; a status change does not.', () => {
    const clock = new FakeClock();
    const queue = new SchedulingQueue({ clock });
    const before = pod('p');
    queue.add(before);
    queue.addUnschedulable(queue.tryPop()!);
    clock.advance(5000);
    const statusOnly = { ...before, status: { phase: 'Pending' as const } };
    queue.update(before, statusOnly);
    assert.equal(queue.placeOf('default/p'), 'unschedulable');
    queue.update(statusOnly, { ...statusOnly, spec: { ...statusOnly.spec, nodeSelector: { zone: 'a' } } });
    assert.equal(queue.placeOf('default/p'), 'active');
  });

  it('A closed queue hands out nothing more, even with Pods still waiting.', async () => {
    const queue = new SchedulingQueue({ clock: new FakeClock() });
    queue.add(pod('left-behind'));
    queue.close();
    assert.equal(await queue.pop(), undefined);
  });

  it('close() ends a waiting pop with undefined.', async () => {
    const queue = new SchedulingQueue({ clock: new FakeClock() });
    const next = queue.pop();
    queue.close();
    assert.equal(await next, undefined);
  });
});
