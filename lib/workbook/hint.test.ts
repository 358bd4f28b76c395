import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { hintCommand } from './hint.ts';
import { LookupError } from './manifest.ts';
import { collectingWriter } from './output.ts';
import { loadProgress } from './progress.ts';
import { makeDemo } from '../../test/helpers/workbook-fixture.ts';

const demo = makeDemo();
after(() => demo.remove());

function hint(id: string, all = false): string {
  const out = collectingWriter();
  assert.equal(hintCommand({ id, all, root: demo.root }, out.write), 0);
  return out.text();
}

describe('hintCommand', () => {
  beforeEach(() => rmSync(join(demo.root, '.workbook'), { recursive: true, force: true }));

  test('shows level 1, then 2, then 3, then the last one again, recording each', () => {
    const first = hint('1.1');
    assert.match(first, /^Exercise 1\.1: Adding \(labs\/01-math\/add\.ts, export add\)\n  Return the sum of a and b\./);
    assert.match(first, /Hint 1 of 3:\n  Numbers add with one operator\./);
    assert.match(first, /More: `npm run hint 1\.1` for hint 2\./);
    assert.equal(loadProgress(demo.root).progress.exercises['1.1']?.hintLevel, 1);

    assert.match(hint('1.1'), /Hint 2 of 3:\n  Use \+\./);
    const third = hint('1.1');
    assert.match(third, /Hint 3 of 3:\n  return a \+ b;/);
    assert.match(third, /That was the last hint\. The worked answer, with comments: solutions\/01-math\/add\.ts/);
    assert.match(hint('1.1'), /Hint 3 of 3:/);
    assert.equal(loadProgress(demo.root).progress.exercises['1.1']?.hintLevel, 3);
  });

  test('--all shows every level and records the last', () => {
    const text = hint('1.2', true);
    assert.match(text, /Hint 1 of 2:\n  It is async\.\nHint 2 of 2:\n  Multiply by two\./);
    assert.equal(loadProgress(demo.root).progress.exercises['1.2']?.hintLevel, 2);
  });

  test('levels are kept per exercise', () => {
    hint('1.1');
    assert.match(hint('1.2'), /Hint 1 of 2/);
  });

  test('an unknown id is an error that lists the valid ids', () => {
    assert.throws(() => hintCommand({ id: '3.3', all: false, root: demo.root }, () => {}), (err: Error) => err instanceof LookupError && /unknown exercise "3\.3": expected one of 1\.1, 1\.2/.test(err.message));
  });

  test('a corrupt progress file is reset with a note, and the hint still shows', () => {
    demo.write('.workbook/progress.json', '{{{');
    const text = hint('1.1');
    assert.match(text, /\(\.workbook\/progress\.json was not valid .*; progress was reset\)/);
    assert.match(text, /Hint 1 of 3/);
  });
});
