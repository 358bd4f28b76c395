/**
 * Lab 1: the cluster store. Starts the store, writes keys the way the API
 * server will, reads, watches, compacts, uses a lease, crashes the store
 * process and restarts it, and takes and restores a backup.
 */
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { saveSnapshot } from '../../store/backup.ts';
import { startStoreProcess } from '../../store/process.ts';
import type { StoreSeams } from '../../store/revisions.ts';
import { openStore, restoreSnapshot, type Store } from '../../store/store.ts';
import type { KeyValue, WatchResponse } from '../../store/types.ts';
import type { Lab, LabContext } from '../lab.ts';

const b = (s: string) => Buffer.from(s);
const row = (kv: KeyValue) => `${kv.key.toString().padEnd(42)} create=${kv.createRevision} mod=${kv.modRevision} version=${kv.version}`;
const eventLines = (responses: WatchResponse[]) => responses.flatMap((r) => r.events.map((e) => `${e.type.padEnd(6)} ${e.kv.key.toString()} @ revision ${e.kv.modRevision}`));

/** State shared by the steps of one run. */
let store: Store;
let prefixEnd: (prefix: Buffer) => Buffer;

function seams(ctx: LabContext): Partial<StoreSeams> {
  return {
    nextKeyValue: ctx.impl<StoreSeams['nextKeyValue']>('1.1'),
    eventsBetween: ctx.impl<StoreSeams['eventsBetween']>('1.2'),
    checkRevision: ctx.impl<StoreSeams['checkRevision']>('1.3'),
  };
}

async function list(prefix: string): Promise<KeyValue[]> {
  return (await store.range({ key: b(prefix), rangeEnd: prefixEnd(b(prefix)) })).kvs;
}

export const lab: Lab = {
  chapter: 1,
  title: 'The cluster store',
  intro:
    'Every object of the cluster - each Deployment, Pod, Service, Node - lives as one key in the store, and only the API server reads and writes it. ' +
    'This lab starts our etcd-like store and does to it what the API server will do in chapter 2.',
  steps: [
    {
      title: 'Start the store',
      async run(ctx) {
        prefixEnd = ctx.impl<(p: Buffer) => Buffer>('1.4');
        store = await openStore({ dataDir: join(ctx.tmpDir, 'store'), seams: seams(ctx) });
        ctx.onCleanup(() => store.close());
        ctx.say(`The store is open on a data dir in ${ctx.tmpDir}. An empty store is at revision ${store.revision}, as an empty etcd is.`);
      },
    },
    {
      title: 'Write keys as the API server does',
      async run(ctx) {
        ctx.say('The API server keeps each object under /registry/<resource>/<namespace>/<name>. Each write takes the next revision.');
        await store.put({ key: b('/registry/deployments/default/frontend'), value: b('{"kind":"Deployment","spec":{"replicas":3}}') });
        await store.put({ key: b('/registry/deployments/default/backend'), value: b('{"kind":"Deployment","spec":{"replicas":3}}') });
        await store.put({ key: b('/registry/services/specs/default/backend'), value: b('{"kind":"Service"}') });
        for (const name of ['web-1', 'web-2']) await store.put({ key: b(`/registry/pods/default/${name}`), value: b('{"status":{"phase":"Pending"}}') });
        await store.put({ key: b('/registry/pods/default/web-1'), value: b('{"status":{"phase":"Running"}}') });
        ctx.show('every key now', (await list('/registry/')).map(row).join('\n'));
        ctx.say('web-1 was written twice: its create revision stayed, its mod revision moved and its version is 2. Kubernetes shows the mod revision as metadata.resourceVersion.');
      },
    },
    {
      title: 'Read by prefix and at a past revision',
      async run(ctx) {
        const pods = await list('/registry/pods/');
        ctx.show(`range from /registry/pods/ to ${JSON.stringify(prefixEnd(b('/registry/pods/')).toString())} (your prefixEnd)`, pods.map(row).join('\n'));
        const then = await store.range({ key: b('/registry/pods/default/web-1'), revision: 5 });
        ctx.show('web-1 as it was at revision 5', then.kvs.map((kv) => `${kv.value.toString()} (mod=${kv.modRevision})`).join('\n'));
        ctx.say('MVCC keeps old versions until a compaction, so a reader can see a consistent past state - that is how `kubectl get` lists with a resourceVersion.');
      },
    },
    {
      title: 'Watch from a past revision',
      async run(ctx) {
        const seen: WatchResponse[] = [];
        const prefix = b('/registry/pods/');
        const handle = store.watch({ key: prefix, rangeEnd: prefixEnd(prefix), startRevision: 2 }, (r) => seen.push(r));
        ctx.say(`A watcher starting at revision 2 is ${handle.state()}: it must first replay history.`);
        await new Promise((r) => setTimeout(r, 20));
        ctx.show('replayed', eventLines(seen).join('\n'));
        ctx.say(`Now it is ${handle.state()}: new writes reach it as they happen.`);
        seen.length = 0;
        await store.put({ key: b('/registry/pods/default/web-3'), value: b('{}') });
        await store.deleteRange({ key: b('/registry/pods/default/web-2') });
        ctx.show('live', eventLines(seen).join('\n'));
        handle.cancel();
        ctx.say('This is how every controller, the scheduler and each kubelet will learn about changes: list once, then watch from the list\'s revision.');
      },
    },
    {
      title: 'Compact, and see ErrCompacted',
      async run(ctx) {
        const at = store.revision - 1;
        await store.compact({ revision: at });
        ctx.say(`Compacted at revision ${at}: history before it is gone (the API server compacts every 5 minutes).`);
        try {
          await store.range({ key: b('/registry/pods/default/web-1'), revision: 3 });
          ctx.note('The read at revision 3 succeeded - your checkRevision (exercise 1.3) should refuse it.');
        } catch (err) {
          ctx.show('a read at revision 3', (err as Error).message);
        }
        const late: WatchResponse[] = [];
        store.watch({ key: b('/registry/pods/'), rangeEnd: prefixEnd(b('/registry/pods/')), startRevision: 3 }, (r) => late.push(r));
        await new Promise((r) => setTimeout(r, 20));
        ctx.show('a watch from revision 3', late.map((r) => `canceled=${r.canceled} compact_revision=${r.compactRevision}`).join('\n'));
        ctx.say('A client that gets this must list again and watch from the new revision: the informer in chapter 2 does exactly that (HTTP 410 Gone).');
      },
    },
    {
      title: 'A lease: a key that disappears unless renewed',
      async run(ctx) {
        const { id, ttl } = await store.leaseGrant(2);
        await store.put({ key: b('/registry/leases/kube-node-lease/node-2'), value: b('{"renewTime":"now"}'), lease: id });
        ctx.say(`Lease ${id.toString(16)} granted for ${ttl} s; node-2's heartbeat key is attached to it. Nobody renews it...`);
        await new Promise((r) => setTimeout(r, ttl * 1000 + 1200));
        const left = await store.range({ key: b('/registry/leases/kube-node-lease/node-2') });
        ctx.show('the heartbeat key after the TTL', left.count === 0 ? 'gone: the lease expired and its keys were deleted' : 'still there');
        ctx.say('Kubernetes itself renews Node Lease objects and lets the node controller judge staleness, but it attaches every Event to an etcd lease so old Events vanish on their own.');
      },
    },
    {
      title: 'Kill -9 the store process, restart it, back it up and restore it',
      async run(ctx) {
        ctx.note('This step runs the reference store (lib/store) as its own process: `npm run etcd`.');
        const dataDir = join(ctx.tmpDir, 'process');
        let proc = await startStoreProcess(dataDir);
        ctx.onCleanup(() => proc.stop());
        const client = new Etcd3({ hosts: proc.endpoint });
        for (let i = 1; i <= 50; i++) await client.put(`/registry/configmaps/default/cm-${i}`).value(`v${i}`);
        const before = await client.get('/registry/configmaps/default/cm-50').exec();
        client.close();
        ctx.say(`50 writes acknowledged; revision ${before.header.revision}. Now SIGKILL: no shutdown, no flush.`);
        await proc.kill9();
        proc = await startStoreProcess(dataDir);
        const again = new Etcd3({ hosts: proc.endpoint });
        const count = await again.getAll().prefix('/registry/configmaps/').count();
        const after = await again.get('/registry/configmaps/default/cm-50').exec();
        again.close();
        ctx.show('after the restart', `${count} keys, revision ${after.header.revision}\n${proc.output.filter((l) => /recovered|torn/.test(l)).join('\n')}`);
        ctx.say('Each write was in the write-ahead log, synced to disk, before it was acknowledged; the restart replayed the log.');
        await proc.stop();
        const backupFile = join(ctx.tmpDir, 'backup.db');
        proc = await startStoreProcess(dataDir);
        const bytes = await saveSnapshot(proc.endpoint, backupFile);
        await proc.stop();
        ctx.say(`Backup taken over the wire with Maintenance.Snapshot (what \`etcdctl snapshot save\` calls): ${bytes} bytes in ${backupFile}.`);
        const restoredDir = join(ctx.tmpDir, 'restored');
        const { revision } = await restoreSnapshot(backupFile, restoredDir);
        proc = await startStoreProcess(restoredDir);
        const restored = new Etcd3({ hosts: proc.endpoint });
        const restoredCount = await restored.getAll().prefix('/registry/configmaps/').count();
        restored.close();
        ctx.show('restored into a fresh data dir', `${restoredCount} keys at revision ${revision}`);
        ctx.say('Backing up etcd backs up the whole cluster\'s state: restore it, and the API server finds every object where it left it.');
      },
    },
    {
      title: 'What is still missing',
      async run(ctx) {
        ctx.note(
          'We wrote keys by hand. Nothing checks that a Pod is valid, nobody is allowed or refused, and nothing reacts to the Deployment we stored. ' +
            'Chapter 2 puts the API server in front of the store: the only component that talks to it.',
        );
      },
    },
  ],
};
