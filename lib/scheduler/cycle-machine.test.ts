import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor, fromCallback, fromPromise } from 'xstate';
import type { Pod } from '../api/types.ts';
import { MAX_BINDINGS_IN_FLIGHT, schedulingCycle, type BindDoneEvent, type FilterOutcome } from './cycle-machine.ts';
import type { QueuedPod } from './queue.ts';

function queued(name: string): QueuedPod {
  const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c' }] } };
  return { key: `default/${name}`, pod, attempts: 1, timestamp: 0, initialTimestamp: 0, unschedulableSince: 0 };
}

/** Runs the machine over `pods` with the given filter answers; returns what it did, in order, and its final context. */
async function run(pods: QueuedPod[], filter: (pod: QueuedPod) => FilterOutcome, bindOutcome: (pod: QueuedPod) => BindDoneEvent['outcome'] = () => 'bound') {
  const log: string[] = [];
  const fits = (p: QueuedPod) => {
    try {
      return filter(p).feasible.length > 0;
    } catch {
      return false;
    }
  };
  const waiting = [...pods];
  let release!: () => void;
  const allBindingsDone = new Promise<void>((resolve) => (release = resolve));
  let finished = 0;
  const machine = schedulingCycle.provide({
    actors: {
      nextPod: fromPromise(async () => {
        // Why wait for the bindings before closing: the test wants to see every outcome.
        if (waiting.length === 0) await allBindingsDone;
        return waiting.shift();
      }),
      filter: fromPromise<FilterOutcome, { pod: QueuedPod }>(async ({ input }) => filter(input.pod)),
      score: fromPromise<string, { pod: QueuedPod; feasible: string[] }>(async ({ input }) => input.feasible[input.feasible.length - 1]!),
      bind: fromCallback<BindDoneEvent, { pod: QueuedPod; node: string; actorId: string }>(({ input, sendBack }) => {
        log.push(`bind ${input.pod.key} → ${input.node}`);
        setTimeout(() => {
          const outcome = bindOutcome(input.pod);
          sendBack({ type: outcome === 'bound' ? 'pod.bound' : 'pod.bindFailed', actorId: input.actorId, pod: input.pod, node: input.node, outcome, message: outcome });
        }, 5);
      }),
    },
    actions: {
      assume: (_, { pod, node }) => log.push(`assume ${pod.key} on ${node}`),
      recordUnschedulable: (_, { pod, message }) => log.push(`unschedulable ${pod.key}: ${message}`),
      finishBinding: (_, done) => {
        log.push(`${done.type} ${done.pod.key} (${done.outcome})`);
        if (++finished === pods.filter(fits).length) release();
      },
    },
  });
  const actor = createActor(machine);
  const states: string[] = [];
  actor.subscribe((snapshot) => {
    const value = String(snapshot.value);
    if (states[states.length - 1] !== value) states.push(value);
  });
  const done = new Promise<void>((resolve) => actor.subscribe({ complete: () => resolve() }));
  if (!pods.some(fits)) release();
  actor.start();
  await done;
  return { log, states, context: actor.getSnapshot().context };
}

describe('the scheduling cycle machine', () => {
  it('A Pod that fits goes through filtering and scoring, is assumed on the chosen node, and bound.', async () => {
    const { log, states, context } = await run([queued('a')], () => ({ feasible: ['node-2', 'node-3'], message: '' }));
    assert.deepEqual(log, ['assume default/a on node-3', 'bind default/a → node-3', 'pod.bound default/a (bound)']);
    assert.deepEqual(states.slice(0, 3), ['waitingForPod', 'filtering', 'scoring']);
    assert.equal(states[states.length - 1], 'stopped');
    assert.equal(context.scheduled, 1);
    assert.equal(context.binding, 0);
  });

  it('A Pod that fits nowhere is recorded unschedulable with the filter\'s message and never bound.', async () => {
    const { log, context } = await run([queued('big')], () => ({ feasible: [], message: '0/3 nodes are available: 3 Insufficient cpu.' }));
    assert.deepEqual(log, ['unschedulable default/big: 0/3 nodes are available: 3 Insufficient cpu.']);
    assert.equal(context.unschedulable, 1);
    assert.equal(context.scheduled, 0);
  });

  it('The next Pod is scheduled while the previous one is still binding.', async () => {
    const { log } = await run([queued('a'), queued('b')], () => ({ feasible: ['node-2'], message: '' }));
    // Both are assumed and sent to binding before the first binding answers.
    assert.deepEqual(log.slice(0, 4), ['assume default/a on node-2', 'bind default/a → node-2', 'assume default/b on node-2', 'bind default/b → node-2']);
    assert.deepEqual(log.slice(4).sort(), ['pod.bound default/a (bound)', 'pod.bound default/b (bound)']);
  });

  it('A refused binding comes back as pod.bindFailed with its outcome.', async () => {
    const { log } = await run([queued('a')], () => ({ feasible: ['node-2'], message: '' }), () => 'conflict');
    assert.equal(log[log.length - 1], 'pod.bindFailed default/a (conflict)');
  });

  it('A filter that throws makes the Pod unschedulable with the error, and the cycle goes on.', async () => {
    const { log } = await run([queued('bad'), queued('good')], (p) => {
      if (p.key === 'default/bad') throw new Error('boom');
      return { feasible: ['node-2'], message: '' };
    });
    assert.equal(log[0], 'unschedulable default/bad: scheduling failed: boom');
    assert.equal(log[1], 'assume default/good on node-2');
  });
  it('With every binding slot taken, the cycle waits for one to finish before it takes the next Pod.', async () => {
    const pods = Array.from({ length: MAX_BINDINGS_IN_FLIGHT + 3 }, (_, i) => queued(`p${i}`));
    const finishers: Array<() => void> = [];
    let popped = 0;
    const machine = schedulingCycle.provide({
      actors: {
        nextPod: fromPromise(async () => {
          popped++;
          return pods.shift() ?? new Promise<undefined>(() => {});
        }),
        filter: fromPromise<FilterOutcome, { pod: QueuedPod }>(async () => ({ feasible: ['node-2'], message: '' })),
        score: fromPromise<string, { pod: QueuedPod; feasible: string[] }>(async () => 'node-2'),
        bind: fromCallback<BindDoneEvent, { pod: QueuedPod; node: string; actorId: string }>(({ input, sendBack }) => {
          finishers.push(() => sendBack({ type: 'pod.bound', actorId: input.actorId, pod: input.pod, node: input.node, outcome: 'bound', message: 'bound' }));
        }),
      },
    });
    const actor = createActor(machine).start();
    const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
    await settle();
    assert.equal(finishers.length, MAX_BINDINGS_IN_FLIGHT, 'bindings started');
    assert.equal(popped, MAX_BINDINGS_IN_FLIGHT, 'Pods taken from the queue');
    assert.ok(actor.getSnapshot().matches('waitingForBindingSlot'));
    finishers[0]!();
    await settle();
    assert.equal(finishers.length, MAX_BINDINGS_IN_FLIGHT + 1, 'one finished binding lets exactly one more start');
    actor.stop();
  });
});
