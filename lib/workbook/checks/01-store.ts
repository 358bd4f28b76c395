/**
 * Checks for chapter 1's exercises. Each exercise is checked on its own and
 * then inside the real store, so "it passes" means "etcd's rules hold when
 * your function drives the store".
 */
import { isStoreError } from '../../store/errors.ts';
import { MvccStore } from '../../store/mvcc.ts';
import type { RevisionEntry, StoreSeams } from '../../store/revisions.ts';
import type { KeyValue, WatchEvent, WatchResponse } from '../../store/types.ts';
import { CheckFailure, expectEqual, expectTrue, show } from '../expect.ts';
import { isTodo } from '../todo.ts';
import type { Check } from './types.ts';

const b = (s: string) => Buffer.from(s);

/** The exercise's function, or a clear failure when the file does not export it. */
function fn<T>(impl: Record<string, unknown>, name: string): T {
  const f = impl[name];
  if (typeof f !== 'function') throw new CheckFailure(`expected the file to export a function named ${name}, got ${show(f)}`);
  return f as T;
}

/** The revision numbers of a KeyValue, for comparing in one line. */
const numbers = (kv: KeyValue | undefined) => (kv ? { createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version } : kv);

function kv(key: string, value: string, create: number, mod: number, version: number): KeyValue {
  return { key: b(key), value: b(value), createRevision: create, modRevision: mod, version, lease: 0 };
}

function event(type: 'PUT' | 'DELETE', key: string, revision: number): WatchEvent {
  return { type, kv: kv(key, type === 'PUT' ? 'v' : '', type === 'PUT' ? revision : 0, revision, type === 'PUT' ? 1 : 0) };
}

const label = (events: WatchEvent[]) => events.map((e) => `${e.type} ${e.kv.key.toString()}@${e.kv.modRevision}`);

/** Calls `f` and returns the StoreError code it throws, or 'returned <value>'. */
function outcome(f: () => unknown): string {
  try {
    return `returned ${show(f())}`;
  } catch (err) {
    if (isTodo(err)) throw err;
    if (isStoreError(err)) return err.code;
    return `threw ${show(err instanceof Error ? err.message : err)}`;
  }
}

const seam = <K extends keyof StoreSeams>(name: K, impl: Record<string, unknown>): Partial<StoreSeams> => ({ [name]: fn(impl, name) });

export const checks: Record<string, Check[]> = {
  '1.1': [
    {
      name: 'a new key is created at the revision of the put, with version 1',
      run(impl) {
        const next = fn<StoreSeams['nextKeyValue']>(impl, 'nextKeyValue');
        const result = next(undefined, b('/registry/pods/default/web-1'), b('{}'), 0, 7);
        expectEqual(numbers(result), { createRevision: 7, modRevision: 7, version: 1 }, 'a put of a new key at revision 7');
        expectEqual(result.key.toString(), '/registry/pods/default/web-1', 'the key');
        expectEqual(result.value.toString(), '{}', 'the value');
      },
    },
    {
      name: 'an update keeps create_revision, moves mod_revision and counts one more version',
      run(impl) {
        const next = fn<StoreSeams['nextKeyValue']>(impl, 'nextKeyValue');
        const result = next(kv('k', 'old', 3, 5, 2), b('k'), b('new'), 0, 9);
        expectEqual(numbers(result), { createRevision: 3, modRevision: 9, version: 3 }, 'an update at revision 9 of a key created at 3, version 2');
        expectEqual(result.value.toString(), 'new', 'the value after the update');
      },
    },
    {
      name: 'the lease of the put is recorded on the key',
      run(impl) {
        const next = fn<StoreSeams['nextKeyValue']>(impl, 'nextKeyValue');
        expectEqual(next(undefined, b('k'), b('v'), 42, 2).lease, 42, 'the lease of a put with lease 42');
      },
    },
    {
      name: 'inside the store: put, update, delete and put again give etcd\'s numbers',
      run(impl) {
        const store = new MvccStore({ seams: seam('nextKeyValue', impl) });
        const put = (v: string) => store.apply({ op: 'put', request: { key: b('k'), value: b(v) } }, 0);
        put('1');
        put('2');
        expectEqual(numbers(store.range({ key: b('k') }).kvs[0]), { createRevision: 2, modRevision: 3, version: 2 }, 'after two puts on a fresh store');
        store.apply({ op: 'deleteRange', request: { key: b('k') } }, 0);
        put('3');
        expectEqual(numbers(store.range({ key: b('k') }).kvs[0]), { createRevision: 5, modRevision: 5, version: 1 }, 'after a delete and a new put');
      },
    },
  ],
  '1.2': [
    {
      name: 'returns the events from the start revision on, in order',
      run(impl) {
        const between = fn<StoreSeams['eventsBetween']>(impl, 'eventsBetween');
        const log: RevisionEntry[] = [2, 3, 4, 5].map((r) => ({ revision: r, events: [event('PUT', `k${r}`, r)] }));
        expectEqual(label(between(log, 3, 5, () => true)), ['PUT k3@3', 'PUT k4@4', 'PUT k5@5'], 'replaying revisions 3 to 5');
      },
    },
    {
      name: 'stops at the end revision',
      run(impl) {
        const between = fn<StoreSeams['eventsBetween']>(impl, 'eventsBetween');
        const log: RevisionEntry[] = [2, 3, 4, 5].map((r) => ({ revision: r, events: [event('PUT', `k${r}`, r)] }));
        expectEqual(label(between(log, 2, 3, () => true)), ['PUT k2@2', 'PUT k3@3'], 'replaying revisions 2 to 3');
      },
    },
    {
      name: 'keeps the order of the events inside one revision and applies the filter',
      run(impl) {
        const between = fn<StoreSeams['eventsBetween']>(impl, 'eventsBetween');
        const log: RevisionEntry[] = [
          { revision: 6, events: [event('DELETE', 'pods/web-1', 6), event('PUT', 'pods/web-4', 6), event('PUT', 'services/backend', 6)] },
          { revision: 7, events: [event('PUT', 'pods/web-5', 7)] },
        ];
        const onlyPods = (e: WatchEvent) => e.kv.key.toString().startsWith('pods/');
        expectEqual(label(between(log, 1, 7, onlyPods)), ['DELETE pods/web-1@6', 'PUT pods/web-4@6', 'PUT pods/web-5@7'], 'replaying only pods, from before the log begins');
      },
    },
    {
      name: 'inside the store: a watcher from a past revision sees every change once, then live ones',
      run(impl) {
        const store = new MvccStore({ seams: seam('eventsBetween', impl) });
        for (const name of ['a', 'b', 'c']) store.apply({ op: 'put', request: { key: b(name), value: b('1') } }, 0);
        const seen: WatchResponse[] = [];
        store.watch({ key: b('a'), rangeEnd: b('z'), startRevision: 3 }, (r) => seen.push(r));
        while (store.hub.syncStep(1)) {
          /* catch up one revision at a time */
        }
        store.apply({ op: 'put', request: { key: b('d'), value: b('1') } }, 0);
        expectEqual(label(seen.flatMap((r) => r.events)), ['PUT b@3', 'PUT c@4', 'PUT d@5'], 'a watch from revision 3 caught up one revision per step');
      },
    },
  ],
  '1.3': [
    {
      name: 'revision 0 means the current revision',
      run(impl) {
        const check = fn<StoreSeams['checkRevision']>(impl, 'checkRevision');
        expectEqual(outcome(() => check(0, 12, 5)), 'returned 12', 'checkRevision(0, current 12, compacted 5)');
      },
    },
    {
      name: 'a revision between the compaction point and now is read as is (the compaction point included)',
      run(impl) {
        const check = fn<StoreSeams['checkRevision']>(impl, 'checkRevision');
        expectEqual(outcome(() => check(8, 12, 5)), 'returned 8', 'checkRevision(8, current 12, compacted 5)');
        expectEqual(outcome(() => check(5, 12, 5)), 'returned 5', 'checkRevision(5, current 12, compacted 5)');
        expectEqual(outcome(() => check(12, 12, 5)), 'returned 12', 'checkRevision(12, current 12, compacted 5)');
      },
    },
    {
      name: 'a revision older than the compaction point answers ErrCompacted',
      run(impl) {
        const check = fn<StoreSeams['checkRevision']>(impl, 'checkRevision');
        expectEqual(outcome(() => check(4, 12, 5)), 'COMPACTED', 'checkRevision(4, current 12, compacted 5) should throw StoreError COMPACTED');
      },
    },
    {
      name: 'a revision after the current one answers ErrFutureRev',
      run(impl) {
        const check = fn<StoreSeams['checkRevision']>(impl, 'checkRevision');
        expectEqual(outcome(() => check(13, 12, 5)), 'FUTURE_REV', 'checkRevision(13, current 12, compacted 5) should throw StoreError FUTURE_REV');
      },
    },
    {
      name: 'inside the store: a read from before a compaction fails with etcd\'s message',
      run(impl) {
        const store = new MvccStore({ seams: seam('checkRevision', impl) });
        for (let i = 0; i < 4; i++) store.apply({ op: 'put', request: { key: b('k'), value: b(`v${i}`) } }, 0);
        store.apply({ op: 'compact', request: { revision: 4 } }, 0);
        expectEqual(outcome(() => store.range({ key: b('k'), revision: 3 })), 'COMPACTED', 'a read at revision 3 after compacting at 4');
        expectEqual(outcome(() => store.range({ key: b('k'), revision: 4 }).kvs[0]?.value.toString()), 'returned \'v2\'', 'a read at revision 4 after compacting at 4');
      },
    },
  ],
  '1.4': [
    {
      name: 'increments the last byte of an ordinary prefix',
      run(impl) {
        const end = fn<(p: Buffer) => Buffer>(impl, 'prefixEnd');
        expectEqual(end(b('/registry/pods/')).toString(), '/registry/pods0', 'prefixEnd("/registry/pods/")');
        expectEqual(end(b('a')).toString(), 'b', 'prefixEnd("a")');
      },
    },
    {
      name: 'carries past trailing 0xff bytes',
      run(impl) {
        const end = fn<(p: Buffer) => Buffer>(impl, 'prefixEnd');
        expectEqual([...end(Buffer.from([0x61, 0xff, 0xff]))], [0x62], 'prefixEnd of the bytes 61 ff ff');
      },
    },
    {
      name: 'answers "\\0" (to the end) when nothing can be incremented',
      run(impl) {
        const end = fn<(p: Buffer) => Buffer>(impl, 'prefixEnd');
        expectEqual([...end(Buffer.from([0xff]))], [0], 'prefixEnd of the byte ff');
        expectEqual([...end(Buffer.alloc(0))], [0], 'prefixEnd of an empty prefix');
      },
    },
    {
      name: 'does not change the prefix it was given',
      run(impl) {
        const end = fn<(p: Buffer) => Buffer>(impl, 'prefixEnd');
        const prefix = b('/registry/');
        end(prefix);
        expectEqual(prefix.toString(), '/registry/', 'the prefix after calling prefixEnd');
      },
    },
    {
      name: 'inside the store: lists exactly the Pods, not the Services',
      run(impl) {
        const end = fn<(p: Buffer) => Buffer>(impl, 'prefixEnd');
        const store = new MvccStore();
        for (const key of ['/registry/pods/default/web-1', '/registry/pods/kube-system/etcd-node-1', '/registry/podsecurity/x', '/registry/services/default/backend']) {
          store.apply({ op: 'put', request: { key: b(key), value: b('{}') } }, 0);
        }
        const prefix = b('/registry/pods/');
        const keys = store.range({ key: prefix, rangeEnd: end(prefix) }).kvs.map((kv) => kv.key.toString());
        expectEqual(keys, ['/registry/pods/default/web-1', '/registry/pods/kube-system/etcd-node-1'], 'the keys listed with your range end');
        expectTrue(keys.length === 2, 'exactly two Pods');
      },
    },
  ],
};
