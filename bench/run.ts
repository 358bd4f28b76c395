/**
 * `npm run bench [name]`: runs bench/<name>.ts, or every benchmark when no name
 * is given. A benchmark prints a table and one `BENCH {...}` line per figure,
 * each compared with a reference run on the same machine. Benchmarks are not
 * tests: nothing here passes or fails on a timing.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

/** The benchmarks there are: every bench/*.ts except this runner. */
export function benchmarkNames(): string[] {
  return readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.test.ts'))
    .map((f) => f.slice(0, -'.ts'.length))
    .sort();
}

/** Runs the named benchmarks one after another. */
async function main(argv: string[]): Promise<number> {
  const known = benchmarkNames();
  const wanted = argv.length > 0 ? argv : known;
  for (const name of wanted) {
    // Why check against the list: the name becomes a module path.
    if (!known.includes(name)) {
      console.error(`unknown benchmark "${name}": expected one of ${known.join(', ')}`);
      return 2;
    }
  }
  for (const name of wanted) {
    console.log(`== bench ${name} ==`);
    const module = (await import(pathToFileURL(join(BENCH_DIR, `${name}.ts`)).href)) as { run: () => Promise<void> };
    await module.run();
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
