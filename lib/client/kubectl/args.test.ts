import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs, UsageError, type FlagSpec } from './args.ts';

const SPECS: FlagSpec[] = [
  { name: 'namespace', short: 'n', type: 'string', description: '' },
  { name: 'filename', short: 'f', type: 'list', description: '' },
  { name: 'watch', short: 'w', type: 'boolean', description: '' },
  { name: 'v', short: 'v', type: 'string', bareValue: '6', description: '' },
];

describe('parseArgs', () => {
  it('reads every way pflag writes a value: --name value, --name=value, -n value, -n=value, -nvalue', () => {
    for (const argv of [['--namespace', 'shop'], ['--namespace=shop'], ['-n', 'shop'], ['-n=shop'], ['-nshop']]) {
      assert.equal(parseArgs(argv, SPECS).string('namespace'), 'shop', argv.join(' '));
    }
  });

  it('keeps the arguments that are not flags in order, and - as an argument', () => {
    const args = parseArgs(['get', '-w', 'pods', '-f', '-', 'web'], SPECS);
    assert.deepEqual(args.positionals, ['get', 'pods', 'web']);
    assert.equal(args.bool('watch'), true);
    assert.deepEqual(args.list('filename'), ['-']);
  });

  it('collects a list flag given several times', () => {
    assert.deepEqual(parseArgs(['-f', 'a.yaml', '--filename=b.yaml'], SPECS).list('filename'), ['a.yaml', 'b.yaml']);
  });

  it('reads a bare -v as level 6, and takes the next argument as the level only when it is a number', () => {
    assert.equal(parseArgs(['-v'], SPECS).string('v'), '6');
    assert.equal(parseArgs(['-v', '8'], SPECS).string('v'), '8');
    assert.deepEqual(parseArgs(['-v', 'web'], SPECS).positionals, ['web']);
  });

  it('stops reading flags after --', () => {
    assert.deepEqual(parseArgs(['--', '-w'], SPECS).positionals, ['-w']);
  });

  it('refuses unknown flags and missing values with pflag\'s words', () => {
    assert.throws(() => parseArgs(['--colour'], SPECS), (error: unknown) => error instanceof UsageError && error.message === 'unknown flag: --colour');
    assert.throws(() => parseArgs(['-x'], SPECS), /unknown shorthand flag: 'x' in -x/);
    assert.throws(() => parseArgs(['-n'], SPECS), /flag needs an argument: -n/);
    assert.throws(() => parseArgs(['--watch=maybe'], SPECS), /expected true or false for --watch, got "maybe"/);
  });
});
