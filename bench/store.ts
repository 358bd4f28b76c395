/**
 * The store benchmark: one workload, through the same etcd3 client, against
 * our server and against the real etcd on the same machine. Both run as their
 * own process with their own durable data dir (ours with fsync on, etcd with
 * its defaults), so the client's work is the same on both sides. Figures:
 * puts/s with 1 and with 16 clients, single-key get latency, the delay until
 * 100 watchers have all seen a put, and the embedded in-process store's puts/s
 * with etcd over gRPC as the reference.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Etcd3 } from 'etcd3';
import { startStoreProcess } from '../lib/store/process.ts';
import { openStore } from '../lib/store/store.ts';
import { locateTool } from '../lib/workbook/doctor.ts';
import { startRealEtcd } from '../test/helpers/etcd.ts';
import { printTable } from './helpers/table.ts';

/** How long each throughput figure runs, and the most operations it does. */
const SECONDS = 2;
const MAX_OPS = 20_000;
const VALUE = Buffer.alloc(256, 'v'); // etcd's own benchmarks use 256-byte values
const GETS = 2000;
const WATCHERS = 100;
const WATCH_PUTS = 50;

/** A server under test: where to reach it and how to stop it. */
interface Target {
  endpoint: string;
  stop(): Promise<void>;
}

/** One figure of the report. `better` says which direction wins. */
interface Figure {
  name: string;
  ours: number;
  reference: number | null;
  unit: string;
  better: 'higher' | 'lower';
}

// #region targets
/** Starts `npm run etcd` (lib/store/main.ts) on a free port with a fresh data dir. */
async function startOurs(): Promise<Target> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-ours-'));
  try {
    const proc = await startStoreProcess(dataDir);
    return {
      endpoint: proc.endpoint,
      stop: async () => {
        await proc.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** Starts the real etcd, or returns null (with the reason printed) when it is not installed. */
async function startReference(): Promise<Target | null> {
  if (!locateTool('etcd')) {
    console.log('reference: etcd is not installed (apt-get install etcd-server); printing our figures only');
    return null;
  }
  const etcd = await startRealEtcd({ name: 'bench' });
  return { endpoint: etcd.endpoint, stop: () => etcd.stop() };
}
// #endregion targets

// #region workloads
/** Sequential puts from `clients` clients at once, each with its own connection, for SECONDS or MAX_OPS in all. */
async function putsPerSecond(endpoint: string, clients: number, seconds = SECONDS): Promise<number> {
  const conns = Array.from({ length: clients }, () => new Etcd3({ hosts: endpoint }));
  try {
    await Promise.all(conns.map((c) => c.put('bench/warmup').value(VALUE)));
    let done = 0;
    const start = performance.now();
    const deadline = start + seconds * 1000;
    await Promise.all(
      conns.map(async (c, i) => {
        for (let n = 0; performance.now() < deadline && done < MAX_OPS; n++) {
          await c.put(`bench/put/${i}/${n % 1000}`).value(VALUE);
          done++;
        }
      }),
    );
    return done / ((performance.now() - start) / 1000);
  } finally {
    for (const c of conns) c.close();
  }
}

/** Latency of GETS sequential single-key gets: the 50th and 99th percentile, in ms. */
async function getLatency(endpoint: string): Promise<{ p50: number; p99: number }> {
  const client = new Etcd3({ hosts: endpoint });
  try {
    await client.put('bench/get').value(VALUE);
    const samples: number[] = [];
    for (let i = 0; i < GETS; i++) {
      const t0 = performance.now();
      await client.get('bench/get').buffer();
      samples.push(performance.now() - t0);
    }
    return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
  } finally {
    client.close();
  }
}

/**
 * The delay from a put until all WATCHERS watchers have seen it, median over
 * WATCH_PUTS puts. The watchers are spread over 10 connections, as 10
 * API servers' worth of watch streams would be.
 */
async function watchFanOut(endpoint: string): Promise<number> {
  const conns = Array.from({ length: 10 }, () => new Etcd3({ hosts: endpoint }));
  let waiting: { value: string; left: number; done: () => void } | undefined;
  try {
    const watchers = await Promise.all(
      Array.from({ length: WATCHERS }, (_, i) => (conns[i % conns.length] as Etcd3).watch().key('bench/watched').create()),
    );
    for (const w of watchers) {
      w.on('put', (kv) => {
        if (waiting && kv.value.toString() === waiting.value && --waiting.left === 0) waiting.done();
      });
    }
    const delays: number[] = [];
    for (let i = 0; i < WATCH_PUTS; i++) {
      const value = `put-${i}`;
      const seen = new Promise<void>((resolve) => (waiting = { value, left: WATCHERS, done: resolve }));
      const t0 = performance.now();
      await conns[0]?.put('bench/watched').value(value);
      await seen;
      delays.push(performance.now() - t0);
    }
    await Promise.all(watchers.map((w) => w.cancel()));
    return percentile(delays, 0.5);
  } finally {
    for (const c of conns) c.close();
  }
}

/** The store embedded in this process (in memory, no gRPC): sequential puts per second. */
async function embeddedPutsPerSecond(): Promise<number> {
  const store = await openStore({ leaseCheckMs: 0 });
  try {
    let done = 0;
    const start = performance.now();
    const deadline = start + SECONDS * 1000;
    while (performance.now() < deadline && done < MAX_OPS * 10) {
      await store.put({ key: Buffer.from(`bench/embedded/${done % 1000}`), value: VALUE });
      done++;
    }
    return done / ((performance.now() - start) / 1000);
  } finally {
    await store.close();
  }
}

/** The value below which `q` of the samples fall. */
function percentile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))] ?? NaN;
}
// #endregion workloads

// #region measure
/** Runs the gRPC workloads against one target. */
async function measure(target: Target, label: string) {
  console.log(`measuring ${label} at ${target.endpoint} ...`);
  const put1 = await putsPerSecond(target.endpoint, 1);
  const put16 = await putsPerSecond(target.endpoint, 16);
  const get = await getLatency(target.endpoint);
  const watch = await watchFanOut(target.endpoint);
  return { put1, put16, get, watch };
}

/** How many times each target is measured; rounds alternate between the targets and each figure is the median. */
const ROUNDS = 3;

type Measured = Awaited<ReturnType<typeof measure>>;

/** The median of each figure over the rounds. */
function medianOf(rounds: Measured[]): Measured {
  const med = (pick: (m: Measured) => number) => percentile(rounds.map(pick), 0.5);
  return { put1: med((m) => m.put1), put16: med((m) => m.put16), get: { p50: med((m) => m.get.p50), p99: med((m) => m.get.p99) }, watch: med((m) => m.watch) };
}

/**
 * Runs the store benchmark and prints the table and the BENCH lines. Both
 * servers run side by side and are measured in alternating rounds (etcd
 * first, then ours, then ours first...), after a warm-up of each, so that a
 * burst of load on this shared machine hits both rather than one.
 */
export async function run(): Promise<void> {
  const reference = await startReference();
  const ours = await startOurs().catch(async (err) => {
    await reference?.stop();
    throw err;
  });
  const mine: Measured[] = [];
  const theirs: Measured[] = [];
  try {
    console.log('warming up (the JIT of our server, both page caches) ...');
    for (const target of [ours, ...(reference ? [reference] : [])]) {
      await putsPerSecond(target.endpoint, 4, 1);
      await watchFanOut(target.endpoint);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? (['etcd', 'ours'] as const) : (['ours', 'etcd'] as const);
      for (const who of order) {
        if (who === 'ours') mine.push(await measure(ours, `round ${round}/${ROUNDS}: our server`));
        else if (reference) theirs.push(await measure(reference, `round ${round}/${ROUNDS}: the real etcd`));
      }
    }
  } finally {
    await ours.stop();
    await reference?.stop();
  }
  console.log('measuring the embedded store (in memory, in this process) ...');
  const embedded = await embeddedPutsPerSecond();
  const m = medianOf(mine);
  const t = reference ? medianOf(theirs) : null;
  report([
    { name: 'store.put.1client', ours: m.put1, reference: t?.put1 ?? null, unit: 'puts/s', better: 'higher' },
    { name: 'store.put.16clients', ours: m.put16, reference: t?.put16 ?? null, unit: 'puts/s', better: 'higher' },
    { name: 'store.get.p50', ours: m.get.p50, reference: t?.get.p50 ?? null, unit: 'ms', better: 'lower' },
    { name: 'store.get.p99', ours: m.get.p99, reference: t?.get.p99 ?? null, unit: 'ms', better: 'lower' },
    { name: 'store.watch.100watchers.p50', ours: m.watch, reference: t?.watch ?? null, unit: 'ms', better: 'lower' },
    { name: 'store.embedded.put', ours: embedded, reference: t?.put1 ?? null, unit: 'puts/s', better: 'higher' },
  ]);
}
// #endregion measure

// #region report
/** ours/reference for throughput, reference/ours for latency: above 1 always means we are better. */
function ratioOf(f: Figure): number | null {
  if (f.reference === null || f.reference === 0 || f.ours === 0) return null;
  return f.better === 'higher' ? f.ours / f.reference : f.reference / f.ours;
}

function round(n: number): number {
  return n >= 100 ? Math.round(n) : Math.round(n * 1000) / 1000;
}

/** Prints the table, then one machine-readable BENCH line per figure. */
function report(figures: Figure[]): void {
  const rows = figures.map((f) => {
    const ratio = ratioOf(f);
    return [f.name, String(round(f.ours)), f.reference === null ? '-' : String(round(f.reference)), f.unit, ratio === null ? '-' : ratio.toFixed(2)];
  });
  printTable(['figure', 'ours', 'etcd', 'unit', 'ratio'], rows);
  console.log('ratio = ours/etcd for throughput, etcd/ours for latency: above 1 means we are better.');
  console.log('store.embedded.put compares the in-process store (no network, in memory) with etcd over gRPC (1 client, durable).');
  for (const f of figures) {
    console.log(`BENCH ${JSON.stringify({ name: f.name, ours: round(f.ours), reference: f.reference === null ? null : round(f.reference), unit: f.unit, ratio: ratioOf(f) === null ? null : Number((ratioOf(f) as number).toFixed(3)) })}`);
  }
}
// #endregion report
