import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { formatValue, heading, indent, table } from './output.ts';
import { displayPath, findRoot, resolveInRoot } from './root.ts';

describe('output helpers', () => {
  test('formatValue keeps text, shows Buffers as text, and objects as indented JSON', () => {
    assert.equal(formatValue('a\nb'), 'a\nb');
    assert.equal(formatValue(Buffer.from('/registry/pods/x')), '/registry/pods/x');
    assert.equal(formatValue({ key: Buffer.from('k'), n: 10n, m: new Map([['a', 1]]), s: new Set([2]) }), '{\n  "key": "k",\n  "n": "10",\n  "m": {\n    "a": 1\n  },\n  "s": [\n    2\n  ]\n}');
    assert.equal(formatValue(undefined), 'undefined');
  });

  test('table aligns columns and trims trailing spaces', () => {
    assert.equal(table(['id', 'status'], [['1.1', 'passed'], ['1.10', 'not started']]), 'id    status\n1.1   passed\n1.10  not started');
  });

  test('indent leaves blank lines blank; heading underlines', () => {
    assert.equal(indent('a\n\nb', '> '), '> a\n\n> b');
    assert.equal(heading('Lab 1'), 'Lab 1\n=====');
  });
});

describe('project root', () => {
  test('findRoot walks up to the folder holding package.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'workbook-root-'));
    try {
      writeFileSync(join(dir, 'package.json'), '{}');
      mkdirSync(join(dir, 'a/b'), { recursive: true });
      assert.equal(findRoot(join(dir, 'a/b')), dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('resolveInRoot refuses paths that leave the project', () => {
    assert.equal(resolveInRoot('/p', 'lib/a.ts'), '/p/lib/a.ts');
    assert.throws(() => resolveInRoot('/p', '../etc/passwd'), /expected a path inside the project \(\/p\), got "\.\.\/etc\/passwd"/);
    assert.throws(() => resolveInRoot('/p', '/etc/passwd'), /expected a path inside the project/);
    assert.throws(() => resolveInRoot('/p', '.'), /expected a path inside the project/);
  });

  test('displayPath is root-relative with forward slashes', () => {
    assert.equal(displayPath('/p', '/p/labs/01-store/a.ts'), 'labs/01-store/a.ts');
    assert.equal(displayPath('/p', '/elsewhere/x'), '/elsewhere/x');
  });
});
