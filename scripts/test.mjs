// Runs the whole test suite: every *.test.ts under lib/, test/ and bench/,
// through node's own test runner with tsx for TypeScript. Learners' folders
// (labs/, solutions/) are never searched, so a learner's edits cannot make
// `npm test` fail. The exit code is the test runner's.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SEARCHED = ['lib', 'test', 'bench'];
const SKIPPED = new Set(['node_modules', 'labs', 'solutions']);

/** Every *.test.ts below `dir`, skipping hidden folders and the skipped names. */
function findTests(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return []; // Why: a folder such as bench/ may not exist yet.
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED.has(entry.name) || entry.name.startsWith('.') ? [] : findTests(path);
    return entry.isFile() && entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = SEARCHED.flatMap((dir) => findTests(join(root, dir)))
  .map((file) => relative(root, file))
  .sort();
if (files.length === 0) {
  console.error('expected test files (*.test.ts) under lib/, test/ or bench/, found none');
  process.exit(1);
}
console.log(`running ${files.length} test files`);

const args = ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files];
// Why spawn with inherited stdio: the run is long and its output streams as it
// goes; the argument array goes to node directly, with no shell.
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
child.on('exit', (code, signal) => {
  console.log(`\n${files.length} test files run`);
  process.exit(code ?? (signal ? 1 : 0));
});
