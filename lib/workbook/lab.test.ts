import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, beforeEach, describe, test } from 'node:test';
import { runLab, validateLab } from './lab.ts';
import { collectingWriter } from './output.ts';
import { demoFiles, makeDemo } from '../../test/helpers/workbook-fixture.ts';

const demo = makeDemo();
after(() => demo.remove());

function count(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe('runLab on a fixture chapter', () => {
  beforeEach(() => {
    const files = demoFiles();
    for (const path of ['labs/01-math/add.ts', 'labs/01-math/double.ts', 'lab/01-math.ts']) demo.write(path, files[path] ?? '');
  });

  test('prints the intro and numbered steps, and says what is next', async () => {
    const out = collectingWriter();
    const result = await runLab(1, { root: demo.root }, out.write);
    assert.deepEqual(result, { ok: true, stepsCompleted: 2 });
    const text = out.text();
    assert.match(text, /^Lab 1: Math lab\n=+\n\nWe add things\./);
    assert.match(text, /Step 1 of 2: Add twice\n-+/);
    assert.match(text, /Step 2 of 2: Double\n-+/);
    assert.match(text, /Lab 1 done\.\nRead the chapter: `npm run read 1`/);
    assert.match(text, /`npm run grade 1`/);
  });

  test('while a stub throws TODO the reference runs, and the lab says so once per exercise', async () => {
    const out = collectingWriter();
    await runLab(1, { root: demo.root }, out.write);
    const text = out.text();
    assert.equal(count(text, 'exercise 1.1 is not written yet; using the reference implementation (ref/math.ts)'), 1);
    assert.match(text, /2 \+ 3: 5/);
    assert.match(text, /4 \+ 4: 8/);
    // An async stub rejects with TODO; the fallback still answers.
    assert.equal(count(text, 'exercise 1.2 is not written yet; using the reference implementation (ref/math.ts)'), 1);
    assert.match(text, /double 21: 42/);
  });

  test("the learner's function runs as soon as it is written, and the lab names the file once", async () => {
    demo.write('labs/01-math/add.ts', 'export function add(a: number, b: number): number { return a + b + 1000; }\n');
    const out = collectingWriter();
    await runLab(1, { root: demo.root }, out.write);
    const text = out.text();
    assert.equal(count(text, 'using your add from labs/01-math/add.ts'), 1);
    assert.match(text, /2 \+ 3: 1005/);
    assert.doesNotMatch(text, /exercise 1\.1 is not written yet/);
  });

  test('--solutions takes the worked answers', async () => {
    const out = collectingWriter();
    const result = await runLab(1, { root: demo.root, solutions: true }, out.write);
    assert.equal(result.ok, true);
    assert.match(out.text(), /Lab 1: Math lab \(with the worked solutions\)/);
    assert.match(out.text(), /using the worked solution's add from solutions\/01-math\/add\.ts/);
    assert.doesNotMatch(out.text(), /not written yet/);
  });

  test('a learner file that does not load falls back to the reference, saying why', async () => {
    demo.write('labs/01-math/add.ts', 'export function add( {\n');
    const out = collectingWriter();
    assert.equal((await runLab(1, { root: demo.root }, out.write)).ok, true);
    assert.match(out.text(), /labs\/01-math\/add\.ts does not load \(syntax error: .*\); using the reference implementation \(ref\/math\.ts\)/);
  });

  test('a failing step stops the lab, runs every cleanup last-first, removes the temp folder and reports the failure', async () => {
    demo.write('lab/01-math.ts', `export const lab = { chapter: 1, title: 'Breaks', intro: 'x', steps: [
  { title: 'Start things', async run(ctx: any) {
    (globalThis as any).labTmp = ctx.tmpDir;
    (globalThis as any).cleaned = [];
    ctx.onCleanup(() => { (globalThis as any).cleaned.push('first'); });
    ctx.onCleanup(async () => { (globalThis as any).cleaned.push('second'); });
  } },
  { title: 'Fail', async run() { throw new Error('the scheduler is missing'); } },
  { title: 'Never', async run(ctx: any) { ctx.say('unreachable'); } },
] };
`);
    const out = collectingWriter();
    const result = await runLab(1, { root: demo.root }, out.write);
    assert.equal(result.ok, false);
    assert.equal(result.failedStep, 2);
    assert.equal(result.stepsCompleted, 1);
    const g = globalThis as { labTmp?: string; cleaned?: string[] };
    assert.deepEqual(g.cleaned, ['second', 'first']);
    assert.ok(g.labTmp && !existsSync(g.labTmp), 'the temp folder must be removed');
    assert.match(out.text(), /Lab 1 failed at step 2 \(Fail\):\n  the scheduler is missing/);
    assert.doesNotMatch(out.text(), /unreachable|Step 3/);
  });

  test('a failing cleanup is reported and makes the run fail', async () => {
    demo.write('lab/01-math.ts', `export const lab = { chapter: 1, title: 'T', intro: 'x', steps: [
  { title: 'One', async run(ctx: any) { ctx.onCleanup(() => { throw new Error('could not delete namespace'); }); } },
] };
`);
    const out = collectingWriter();
    const result = await runLab(1, { root: demo.root }, out.write);
    assert.equal(result.ok, false);
    assert.match(out.text(), /Cleanup failed: could not delete namespace/);
  });

  test('show prints objects as indented JSON and text as indented lines', async () => {
    demo.write('lab/01-math.ts', `export const lab = { chapter: 1, title: 'T', intro: 'x', steps: [
  { title: 'Show', async run(ctx: any) {
    ctx.show('pod', { name: 'web', labels: { app: 'web' }, key: Buffer.from('/registry/pods/web') });
    ctx.show('rules', 'line one\\nline two');
    ctx.note('no scheduler yet');
  } },
] };
`);
    const out = collectingWriter();
    await runLab(1, { root: demo.root }, out.write);
    const text = out.text();
    assert.match(text, /  pod:\n    \{\n      "name": "web",\n      "labels": \{\n        "app": "web"\n      \},\n      "key": "\/registry\/pods\/web"\n    \}/);
    assert.match(text, /  rules:\n    line one\n    line two/);
    assert.match(text, /  Note: no scheduler yet/);
  });

  test('ctx.impl refuses an unknown exercise, listing the known ones', async () => {
    demo.write('lab/01-math.ts', `export const lab = { chapter: 1, title: 'T', intro: 'x', steps: [
  { title: 'Bad seam', async run(ctx: any) { ctx.impl('7.7'); } },
] };
`);
    const out = collectingWriter();
    const result = await runLab(1, { root: demo.root }, out.write);
    assert.equal(result.ok, false);
    assert.match(out.text(), /expected an exercise id of chapters up to 1 \(1\.1, 1\.2\), got "7\.7"/);
  });

  test('--real is refused, with the reasons, where real mode is not possible', async () => {
    const out = collectingWriter();
    const result = await runLab(1, { root: demo.root, real: true, checkRealMode: async () => ({ possible: false, reasons: ['it needs root'] }) }, out.write);
    assert.equal(result.ok, false);
    assert.match(out.text(), /--real is not possible here: it needs root\./);
    assert.doesNotMatch(out.text(), /Step 1/);
  });

  test('--real runs where it is possible, and the steps see ctx.real', async () => {
    demo.write('lab/01-math.ts', `export const lab = { chapter: 1, title: 'T', intro: 'x', steps: [
  { title: 'Mode', async run(ctx: any) { ctx.say('real=' + ctx.real); } },
] };
`);
    const out = collectingWriter();
    const result = await runLab(1, { root: demo.root, real: true, checkRealMode: async () => ({ possible: true, reasons: [] }) }, out.write);
    assert.equal(result.ok, true);
    assert.match(out.text(), /real=true/);
  });

  test('a lab that is not written yet is reported, not thrown', async () => {
    demo.write('labs/labs.yaml', demoFiles()['labs/labs.yaml']!.replace('lab: lab/00-intro.ts', 'lab: lab/00-missing.ts'));
    try {
      const out = collectingWriter();
      const result = await runLab(0, { root: demo.root }, out.write);
      assert.equal(result.ok, false);
      assert.equal(out.text(), 'Lab 0 (Intro) is not written yet: expected lab/00-missing.ts.');
    } finally {
      demo.write('labs/labs.yaml', demoFiles()['labs/labs.yaml']!);
    }
  });
});

describe('validateLab', () => {
  const step = { title: 's', run: async () => {} };
  test('accepts a well-formed lab', () => {
    const lab = { chapter: 2, title: 't', intro: 'i', steps: [step] };
    assert.equal(validateLab(lab, 'lab.ts', 2), lab);
  });
  test('refuses a lab for another chapter', () => {
    assert.throws(() => validateLab({ chapter: 3, title: 't', intro: 'i', steps: [step] }, 'lab.ts', 2), /lab\.ts: expected an export `lab` with chapter 2, got chapter 3/);
  });
  test('refuses a step without run', () => {
    assert.throws(() => validateLab({ chapter: 2, title: 't', intro: 'i', steps: [{ title: 'x' }] }, 'lab.ts', 2), /step 1 has a title and a run\(ctx\) function/);
  });
  test('refuses a missing export', () => {
    assert.throws(() => validateLab(undefined, 'lab.ts', 2), /expected an export `lab` \(a Lab object\), got undefined/);
  });
});

describe('lab 0, the welcome tour', () => {
  test('tells the scenario, shows the map, checks the machine and explains the loop', async () => {
    const out = collectingWriter();
    const result = await runLab(0, {}, out.write);
    assert.equal(result.ok, true, out.text());
    const text = out.text();
    for (const part of ['node-1', 'node-2', 'node-3', 'control plane', 'kube-apiserver', 'etcd', 'kubelet', 'kube-proxy']) assert.ok(text.includes(part), `expected the tour to mention ${part}`);
    assert.match(text, /BACKEND_ENDPOINT/);
    assert.match(text, /replicas: 3/);
    assert.match(text, /type: ClusterIP/);
    assert.match(text, /targetPort: 8080/);
    assert.match(text, /Every component talks only to the API server, and only the API server talks to etcd\./);
    assert.match(text, /The scheduler watches for Pods with no node/);
    assert.match(text, /1\s+The cluster store/);
    assert.match(text, /8\s+The whole workflow, and production/);
    assert.match(text, /Real mode is (possible here|not possible here, because:)/);
    for (const command of ['npm run read N', 'npm run lab N', 'npm run grade N', 'npm run hint ID', 'npm run reset ID|N|all', 'npm run doctor']) {
      assert.ok(text.includes(command), `expected the tour to explain ${command}`);
    }
    assert.match(text, /Step 6 of 6: How to use the workbook/);
    assert.match(text, /Then the next lab: `npm run lab 1`/);
  });
});
