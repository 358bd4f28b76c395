import assert from 'node:assert/strict';
import { it } from 'node:test';
import { fromPromise, not, setup } from 'xstate';
import { leaseMachine } from '../store/lease-machine.ts';
import { isMachine, machineDiagram } from './diagram.ts';

it('draws every state, transition, guard and action of a machine', () => {
  assert.equal(
    machineDiagram(leaseMachine),
    [
      'stateDiagram-v2',
      '  [*] --> alive',
      '  alive --> alive : lease.keepAlive / renew',
      '  alive --> expired : lease.tick [deadlinePassed]',
      '  alive --> revoked : lease.revoke',
      '  expired --> revoked : lease.revoke',
      '  revoked --> [*]',
    ].join('\n'),
  );
});

it('draws eventless transitions and nested states', () => {
  const machine = setup({ guards: { ready: () => true } }).createMachine({
    initial: 'a',
    states: { a: { always: [{ guard: 'ready', target: 'b' }] }, b: { initial: 'x', states: { x: { on: { go: 'y' } }, y: { type: 'final' } } } },
  });
  const text = machineDiagram(machine);
  assert.match(text, /a --> b : \(always\) \[ready\]/);
  assert.match(text, /state b \{\n {4}\[\*\] --> x\n {4}x --> y : go/);
});

it('tells a machine from something else', () => {
  assert.equal(isMachine(leaseMachine), true);
  assert.equal(isMachine({ states: {} }), false);
});

it('expands a machine directive in a chapter, and reports a wrong export', async () => {
  const { expandIncludes } = await import('./includes.ts');
  const good = expandIncludes('<!-- machine: lib/store/lease-machine.ts#leaseMachine -->', 'chapters/x.md');
  assert.deepEqual(good.problems, []);
  assert.match(good.markdown, /^```mermaid lib\/store\/lease-machine.ts#leaseMachine[^\n]*\nstateDiagram-v2\n {2}\[\*\] --> alive/);
  const bad = expandIncludes('<!-- machine: lib/store/lease-machine.ts#noSuchMachine -->', 'chapters/x.md');
  assert.match(bad.problems[0]?.message ?? '', /expected lib\/store\/lease-machine.ts to export an XState machine named noSuchMachine/);
});

it('names an invoked actor\'s outcomes done and error, and spells out not-guards', () => {
  const machine = setup({
    actors: { work: fromPromise(async () => 1) },
    guards: { full: () => false },
  }).createMachine({
    id: 'm',
    initial: 'working',
    states: {
      working: { invoke: { src: 'work', onDone: 'waiting', onError: 'failed' } },
      waiting: { always: { guard: not('full'), target: 'done' } },
      failed: { type: 'final' },
      done: { type: 'final' },
    },
  });
  const text = machineDiagram(machine);
  assert.match(text, /working --> waiting : done\n/);
  assert.match(text, /working --> failed : error\n/);
  assert.match(text, /waiting --> done : \(always\) \[not full\]/);
  assert.doesNotMatch(text, /xstate\./);
});
