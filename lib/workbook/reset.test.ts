import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { collectingWriter } from './output.ts';
import { loadProgress, saveProgress } from './progress.ts';
import { resetCommand, resetTargets } from './reset.ts';
import { demoFiles, makeDemo } from '../../test/helpers/workbook-fixture.ts';

const demo = makeDemo();
after(() => demo.remove());
const stub = (file: string) => readFileSync(join(demo.root, 'labs/.stubs/01-math', file), 'utf8');
const learner = (file: string) => readFileSync(join(demo.root, 'labs/01-math', file), 'utf8');

function reset(target: string): { code: number; text: string } {
  const out = collectingWriter();
  const code = resetCommand({ target, root: demo.root }, out.write);
  return { code, text: out.text() };
}

describe('resetCommand', () => {
  beforeEach(() => {
    demo.write('labs/01-math/add.ts', 'export const add = (a: number, b: number) => a + b;\n');
    demo.write('labs/01-math/double.ts', 'export const doubleLater = async (n: number) => n * 2;\n');
    demo.write('labs/.stubs/01-math/add.ts', demoFiles()['labs/.stubs/01-math/add.ts'] ?? '');
    saveProgress(demo.root, { version: 1, exercises: { '1.1': { passed: true, hintLevel: 2 }, '1.2': { passed: true } } });
  });

  test('an exercise id restores that stub only and clears only its progress', () => {
    const { code, text } = reset('1.1');
    assert.equal(code, 0);
    assert.equal(learner('add.ts'), stub('add.ts'));
    assert.notEqual(learner('double.ts'), stub('double.ts'));
    assert.match(text, /^restored labs\/01-math\/add\.ts \(exercise 1\.1\) from labs\/\.stubs\/01-math\/add\.ts\nProgress cleared for exercise 1\.1\.$/);
    assert.deepEqual(loadProgress(demo.root).progress.exercises, { '1.2': { passed: true } });
  });

  test('a chapter number restores every stub of the chapter', () => {
    assert.equal(reset('1').code, 0);
    assert.equal(learner('add.ts'), stub('add.ts'));
    assert.equal(learner('double.ts'), stub('double.ts'));
    assert.deepEqual(loadProgress(demo.root).progress.exercises, {});
  });

  test('"all" restores everything', () => {
    const { text } = reset('all');
    assert.match(text, /Progress cleared for 2 exercises\./);
    assert.equal(learner('double.ts'), stub('double.ts'));
  });

  test('a deleted chapter folder is recreated', () => {
    rmSync(join(demo.root, 'labs/01-math'), { recursive: true });
    assert.equal(reset('1').code, 0);
    assert.equal(learner('add.ts'), stub('add.ts'));
  });

  test('a chapter without exercises has nothing to reset', () => {
    assert.deepEqual(reset('0'), { code: 0, text: 'Chapter 0 has no exercises; nothing to reset.' });
  });

  test('a missing stub is reported, the rest is still reset, and the exit code is 1', () => {
    rmSync(join(demo.root, 'labs/.stubs/01-math/add.ts'));
    const { code, text } = reset('1');
    assert.equal(code, 1);
    assert.match(text, /could not reset 1\.1: exercise 1\.1: expected its pristine stub at .*add\.ts, but it is missing/);
    assert.equal(learner('double.ts'), stub('double.ts'));
    assert.deepEqual(Object.keys(loadProgress(demo.root).progress.exercises), ['1.1']);
  });

  test('targets are an id, a chapter or all, and anything else is refused', () => {
    assert.deepEqual(resetTargets('1.2', demo.root).map((e) => e.id), ['1.2']);
    assert.throws(() => resetTargets('1.9', demo.root), /unknown exercise "1\.9"/);
    assert.throws(() => resetTargets('everything', demo.root), /expected an exercise id \(1\.2\), a chapter number \(1\) or "all", got "everything"/);
  });
});
