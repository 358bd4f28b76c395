import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { saveSnapshot } from './backup.ts';
import { main, parseArgs } from './main.ts';
import { startServer } from './server.ts';
import { openStore } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'kbs-backup-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const b = (s: string) => Buffer.from(s);

it('parses `snapshot save FILE --endpoints HOST:PORT`', () => {
  assert.deepEqual(parseArgs(['snapshot', 'save', 'b.db', '--endpoints', 'http://127.0.0.1:2400']), { kind: 'save', file: 'b.db', endpoint: '127.0.0.1:2400' });
  assert.deepEqual(parseArgs(['snapshot', 'save', 'b.db']), { kind: 'save', file: 'b.db', endpoint: '127.0.0.1:2379' });
});

it('saves a backup over the wire and restores it into a fresh data dir with the same keys, values and revision', async () => {
  const store = await openStore({ dataDir: join(dir, 'source'), leaseCheckMs: 0 });
  const server = await startServer({ store, host: '127.0.0.1', port: 0 });
  try {
    for (let i = 0; i < 20; i++) await store.put({ key: b(`/registry/pods/default/web-${i % 6}`), value: b(`v${i}`) });
    await store.deleteRange({ key: b('/registry/pods/default/web-5') });
    const file = join(dir, 'backup.db');
    const bytes = await saveSnapshot(`127.0.0.1:${server.port}`, file);
    assert.ok(bytes > 0);
    assert.equal(await main(['snapshot', 'restore', file, '--data-dir', join(dir, 'restored')]), 0);
    const restored = await openStore({ dataDir: join(dir, 'restored'), leaseCheckMs: 0 });
    const all = (s: typeof store) => s.range({ key: b('\0'), rangeEnd: b('\0') });
    assert.equal(restored.revision, store.revision);
    assert.deepEqual((await all(restored)).kvs, (await all(store)).kvs);
    await restored.close();
  } finally {
    await server.close();
    await store.close();
  }
});
