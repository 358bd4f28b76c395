import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { gradeChapter, gradeCommand, gradeExercise, GradeError, explainError, type ExerciseResult } from './grade.ts';
import { loadManifest, findExercise } from './manifest.ts';
import { collectingWriter } from './output.ts';
import { loadProgress } from './progress.ts';
import { makeDemo, demoFiles } from '../../test/helpers/workbook-fixture.ts';

const demo = makeDemo();
after(() => demo.remove());

function statuses(results: ExerciseResult[]): string[] {
  return results.map((r) => `${r.exercise.id} ${r.status} ${r.passed}/${r.total}`);
}

function restoreLearnerFiles(): void {
  const files = demoFiles();
  for (const path of ['labs/01-math/add.ts', 'labs/01-math/double.ts']) demo.write(path, files[path] ?? '');
  rmSync(join(demo.root, '.workbook'), { recursive: true, force: true });
}

describe('gradeChapter', () => {
  beforeEach(restoreLearnerFiles);

  test('the pristine stubs are "not started", never passed', async () => {
    const result = await gradeChapter(1, { source: 'stubs', root: demo.root });
    assert.deepEqual(statuses(result.results), ['1.1 not started 0/2', '1.2 not started 0/1']);
    assert.match(result.results[0]?.message ?? '', /add in labs\/\.stubs\/01-math\/add\.ts still throws TODO/);
  });

  test('the worked solutions pass every check', async () => {
    const result = await gradeChapter(1, { source: 'solutions', root: demo.root });
    assert.deepEqual(statuses(result.results), ['1.1 passed 2/2', '1.2 passed 1/1']);
  });

  test("a wrong answer fails with the check's name and what was expected", async () => {
    demo.write('labs/01-math/add.ts', 'export function add(a: number, b: number): number {\n  return Math.abs(a) + Math.abs(b);\n}\n');
    const [add] = (await gradeChapter(1, { source: 'labs', root: demo.root })).results;
    assert.equal(add?.status, 'failed');
    assert.equal(add?.passed, 1);
    assert.equal(add?.message, 'check "adds negatives": add(-2, -3): expected -5, got 5');
  });

  test('a syntax error is reported as "does not load", with the file and line, and the grader carries on', async () => {
    demo.write('labs/01-math/add.ts', 'export function add(a: number, b: number): number {\n  return a +;\n}\n');
    const result = await gradeChapter(1, { source: 'labs', root: demo.root });
    assert.deepEqual(statuses(result.results), ['1.1 does not load 0/2', '1.2 not started 0/1']);
    assert.match(result.results[0]?.message ?? '', /^labs\/01-math\/add\.ts does not load: syntax error: .*add\.ts:2:\d+: ERROR: /);
  });

  test('a module that throws while loading does not load, and says what it threw', async () => {
    demo.write('labs/01-math/add.ts', "throw new RangeError('boom');\nexport function add() {}\n");
    const [add] = (await gradeChapter(1, { source: 'labs', root: demo.root })).results;
    assert.equal(add?.status, 'does not load');
    assert.match(add?.message ?? '', /RangeError: boom/);
  });

  test('a missing file does not load, and the message says how to get it back', async () => {
    rmSync(join(demo.root, 'labs/01-math/add.ts'));
    const [add] = (await gradeChapter(1, { source: 'labs', root: demo.root })).results;
    assert.equal(add?.status, 'does not load');
    assert.equal(add?.message, 'labs/01-math/add.ts is missing; restore the stub with `npm run reset 1.1`');
  });

  test('a module without the export fails, naming the export', async () => {
    demo.write('labs/01-math/add.ts', 'export function plus(a: number, b: number) { return a + b; }\n');
    const [add] = (await gradeChapter(1, { source: 'labs', root: demo.root })).results;
    assert.equal(add?.status, 'failed');
    assert.match(add?.message ?? '', /does not export add/);
  });

  test('a crash in the learner code names the error and the line in their file', async () => {
    demo.write('labs/01-math/add.ts', 'export function add(a: number, b: number): number {\n  const o: any = undefined;\n  return o.x + a + b;\n}\n');
    const [add] = (await gradeChapter(1, { source: 'labs', root: demo.root })).results;
    assert.match(add?.message ?? '', /^check "adds small numbers": your code threw TypeError: Cannot read properties of undefined \(reading 'x'\) \(at line 3, column \d+\)$/);
  });

  test('a re-grade after an edit sees the edit', async () => {
    demo.write('labs/01-math/add.ts', 'export function add(a: number, b: number): number { return a - b; }\n');
    assert.equal((await gradeChapter(1, { source: 'labs', root: demo.root })).results[0]?.status, 'failed');
    demo.write('labs/01-math/add.ts', 'export function add(a: number, b: number): number { return a + b; }\n');
    assert.equal((await gradeChapter(1, { source: 'labs', root: demo.root })).results[0]?.status, 'passed');
  });

  test('an asynchronous check that never settles fails after the timeout', async () => {
    demo.write('labs/01-math/double.ts', 'export function doubleLater(n: number): Promise<number> { return new Promise(() => {}); }\n');
    const manifest = loadManifest(demo.root);
    const exercise = findExercise(manifest, '1.2');
    const checks = [{ name: 'waits', run: async (impl: Record<string, unknown>) => { await (impl['doubleLater'] as () => Promise<number>)(); } }];
    const result = await gradeExercise(exercise, checks, 'labs', demo.root, 50);
    assert.equal(result.status, 'failed');
    assert.match(result.message ?? '', /did not finish within 0\.05 s/);
  });

  test('a chapter without exercises grades to an empty list', async () => {
    assert.deepEqual((await gradeChapter(0, { source: 'labs', root: demo.root })).results, []);
  });

  test('checks missing for an exercise are a workbook error, not a learner failure', async () => {
    demo.write('checks/01-math.ts', "export const checks = { '1.1': [{ name: 'x', run() {} }] };\n");
    try {
      await assert.rejects(gradeChapter(1, { source: 'labs', root: demo.root }), (err: Error) => err instanceof GradeError && /expected checks\["1\.2"\] to be a non-empty list/.test(err.message));
    } finally {
      demo.write('checks/01-math.ts', demoFiles()['checks/01-math.ts'] ?? '');
    }
  });
});

describe('explainError', () => {
  test('a CheckFailure is shown as is', () => {
    const failure = Object.assign(new Error('add(1, 1): expected 2, got 3'), { name: 'CheckFailure' });
    assert.equal(explainError(failure, '/x/add.ts'), 'add(1, 1): expected 2, got 3');
  });

  test('anything thrown that is not an Error is shown too', () => {
    assert.equal(explainError('nope', '/x/add.ts'), 'it threw nope');
  });
});

describe('gradeCommand', () => {
  beforeEach(restoreLearnerFiles);

  test('prints the table, the first problem and the hint command, and exits 1 while anything is not passing', async () => {
    demo.write('labs/01-math/add.ts', 'export function add(a: number, b: number): number { return a + b; }\n');
    const out = collectingWriter();
    const code = await gradeCommand({ chapter: 1, solutions: false, root: demo.root }, out.write);
    assert.equal(code, 1);
    const text = out.text();
    assert.match(text, /Chapter 1: Small math \(labs\/01-math\)/);
    assert.match(text, /id\s+exercise\s+status\s+checks/);
    assert.match(text, /1\.1\s+Adding\s+passed\s+2\/2/);
    assert.match(text, /1\.2\s+Doubling later\s+not started\s+0\/1/);
    assert.match(text, /1 of 2 exercises pass\./);
    assert.match(text, /First to fix: 1\.2 Doubling later \(labs\/01-math\/double\.ts\), not started/);
    assert.match(text, /Resolve to twice n\./);
    assert.match(text, /`npm run hint 1\.2`/);
  });

  test('a failing exercise is the first to fix, ahead of one not started before it', async () => {
    demo.write('labs/01-math/double.ts', 'export async function doubleLater(n: number): Promise<number> { return n + 1; }\n');
    const out = collectingWriter();
    await gradeCommand({ chapter: 1, solutions: false, root: demo.root }, out.write);
    assert.match(out.text(), /1\.1\s+Adding\s+not started/);
    assert.match(out.text(), /First to fix: 1\.2 Doubling later \(labs\/01-math\/double\.ts\), failed/);
  });

  test('records passes in the progress file, and a later failure too', async () => {
    demo.write('labs/01-math/add.ts', 'export function add(a: number, b: number): number { return a + b; }\n');
    await gradeCommand({ chapter: 1, solutions: false, root: demo.root }, collectingWriter().write);
    let { progress } = loadProgress(demo.root);
    assert.equal(progress.exercises['1.1']?.passed, true);
    assert.ok(progress.exercises['1.1']?.passedAt);
    assert.equal(progress.exercises['1.2']?.passed, false);
    demo.write('labs/01-math/add.ts', 'export function add(a: number, b: number): number { return a * b; }\n');
    await gradeCommand({ chapter: 1, solutions: false, root: demo.root }, collectingWriter().write);
    ({ progress } = loadProgress(demo.root));
    assert.equal(progress.exercises['1.1']?.passed, false);
  });

  test('exits 0 when everything passes, and --solutions leaves the progress file alone', async () => {
    const out = collectingWriter();
    assert.equal(await gradeCommand({ chapter: 1, solutions: true, root: demo.root }, out.write), 0);
    assert.match(out.text(), /Chapter 1: Small math \(solutions\/01-math\)/);
    assert.match(out.text(), /Every worked solution passes\./);
    assert.equal(existsSync(join(demo.root, '.workbook/progress.json')), false);
  });

  test('without a chapter number it grades every chapter that has exercises', async () => {
    const out = collectingWriter();
    await gradeCommand({ solutions: false, root: demo.root }, out.write);
    assert.match(out.text(), /Chapter 1: Small math/);
    assert.doesNotMatch(out.text(), /Chapter 0/);
  });

  test('a chapter without exercises has nothing to grade and exits 0', async () => {
    const out = collectingWriter();
    assert.equal(await gradeCommand({ chapter: 0, solutions: false, root: demo.root }, out.write), 0);
    assert.equal(out.text(), 'Chapter 0 (Intro) has no exercises to grade. Its lab: `npm run lab 0`.');
  });

  test('a syntax error is shown in plain words, not as a crash', async () => {
    demo.write('labs/01-math/add.ts', 'export function add( {\n');
    const out = collectingWriter();
    assert.equal(await gradeCommand({ chapter: 1, solutions: false, root: demo.root }, out.write), 1);
    assert.match(out.text(), /1\.1\s+Adding\s+does not load/);
    assert.match(out.text(), /labs\/01-math\/add\.ts does not load: syntax error/);
    assert.ok(readFileSync(join(demo.root, 'labs/01-math/add.ts'), 'utf8').includes('add( {'), 'grading must not touch the file');
  });
});
