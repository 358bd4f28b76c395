import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alignColumns } from './tabwriter.ts';

describe('alignColumns', () => {
  it('pads each cell to the widest of its column plus the padding, and leaves the last cell alone', () => {
    assert.deepEqual(alignColumns(['NAME\tREADY\tAGE', 'web-1\t1/1\t5m'], { padding: 3 }), ['NAME    READY   AGE', 'web-1   1/1     5m']);
  });

  it('never makes a padded cell narrower than the minimum width', () => {
    assert.deepEqual(alignColumns(['A\tB', 'x\ty'], { padding: 3, minWidth: 6 }), ['A     B', 'x     y']);
  });

  it('ends a column at a line without tabs, so the sections of describe align on their own', () => {
    const lines = ['Name:\tweb', 'Containers:', '  nginx:', '    Image:\tnginx', '    Restart Count:\t0'];
    assert.deepEqual(alignColumns(lines, { padding: 2 }), ['Name:  web', 'Containers:', '  nginx:', '    Image:          nginx', '    Restart Count:  0']);
  });

  it('remembers widths across calls, so rows printed later stay under the header', () => {
    const remembered: number[] = [];
    alignColumns(['NAME\tSTATUS', 'web-1\tPending'], { padding: 3, remembered });
    assert.deepEqual(alignColumns(['w\tRunning'], { padding: 3, remembered }), ['w       Running']);
  });
});
