import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { main, USAGE } from './cli.ts';
import { collectingWriter } from './output.ts';
import { projectRoot } from './root.ts';

async function run(...argv: string[]): Promise<{ code: number; text: string }> {
  const out = collectingWriter();
  const code = await main(argv, out.write);
  return { code, text: out.text() };
}

describe('cli', () => {
  const usageCases: [string[], RegExp][] = [
    [[], /error: expected a command, got nothing/],
    [['deploy'], /error: unknown command "deploy"/],
    [['lab'], /error: expected a chapter number, as in `npm run lab 1`, got nothing/],
    [['lab', 'one'], /error: expected a chapter number such as 1, got "one"/],
    [['lab', '0', '--fast'], /error: unknown option --fast; expected --solutions or --real/],
    [['grade', '1', '2'], /error: expected at most 1 argument, got 1 2/],
    [['hint'], /error: expected an exercise id, as in `npm run hint 1\.2`, got nothing/],
    [['reset'], /error: expected what to reset/],
    [['reset', 'chapter-1'], /error: expected an exercise id \(1\.2\), a chapter number \(1\) or all, got "chapter-1"/],
    [['doctor', '--fix'], /error: unknown option --fix; expected --install/],
    [['book', 'x'], /error: expected at most 0 arguments, got x/],
  ];
  for (const [argv, message] of usageCases) {
    test(`\`${argv.join(' ') || '(nothing)'}\` is bad usage: exit 2 with the usage`, async () => {
      const { code, text } = await run(...argv);
      assert.equal(code, 2);
      assert.match(text, message);
      assert.ok(text.endsWith(USAGE), 'expected the usage after the error');
    });
  }

  test('an unknown chapter is bad input too, and the message lists the chapters', async () => {
    const { code, text } = await run('grade', '99');
    assert.equal(code, 2);
    assert.match(text, /^error: expected a chapter number listed in labs\/labs\.yaml \(0, 1.*\), got 99$/);
  });

  test('an unknown exercise id lists the valid ones', async () => {
    const { code, text } = await run('hint', '0.9');
    assert.equal(code, 2);
    assert.match(text, /^error: unknown exercise "0\.9": expected /);
  });

  test('`grade 0` has nothing to grade and succeeds', async () => {
    const { code, text } = await run('grade', '0');
    assert.equal(code, 0);
    assert.match(text, /Chapter 0 \(.*\) has no exercises to grade\. Its lab: `npm run lab 0`\./);
  });

  test('`lab 0` runs the tour and exits 0', async () => {
    const { code, text } = await run('lab', '0');
    assert.equal(code, 0, text);
    assert.match(text, /Lab 0 done\./);
  });

  test('the exit code reaches the shell when run as a program', async () => {
    const code = await new Promise<number | null>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', join(projectRoot, 'lib/workbook/cli.ts'), 'nonsense'], { cwd: projectRoot }, () => resolve(child.exitCode));
    });
    assert.equal(code, 2);
  });
});
