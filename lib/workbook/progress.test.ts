import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadProgress, saveProgress, updateProgress, PROGRESS_PATH } from './progress.ts';
import { makeFixture } from '../../test/helpers/workbook-fixture.ts';

describe('progress file', () => {
  const fixture = makeFixture({});
  after(() => fixture.remove());

  test('a missing file is an empty progress, without any note', () => {
    assert.deepEqual(loadProgress(fixture.root), { progress: { version: 1, exercises: {} } });
  });

  test('saves and loads back, leaving no temporary file behind', () => {
    saveProgress(fixture.root, { version: 1, exercises: { '1.1': { passed: true, passedAt: '2024-01-01T00:00:00.000Z', hintLevel: 2 } } });
    assert.deepEqual(readdirSync(join(fixture.root, '.workbook')), ['progress.json']);
    assert.deepEqual(loadProgress(fixture.root).progress.exercises['1.1'], { passed: true, passedAt: '2024-01-01T00:00:00.000Z', hintLevel: 2 });
  });

  test('a corrupt file is reset, and the note says so', () => {
    fixture.write(PROGRESS_PATH, '{ "version": 1, "exercises": ');
    const loaded = loadProgress(fixture.root);
    assert.deepEqual(loaded.progress, { version: 1, exercises: {} });
    assert.match(loaded.resetReason ?? '', /^\.workbook\/progress\.json was not valid \(.*\); progress was reset$/);
  });

  test('a file of another shape is reset too', () => {
    fixture.write(PROGRESS_PATH, '{ "version": 7, "exercises": {} }');
    assert.match(loadProgress(fixture.root).resetReason ?? '', /expected version 1, got 7/);
  });

  test('fields of the wrong type are dropped, not trusted', () => {
    fixture.write(PROGRESS_PATH, '{ "version": 1, "exercises": { "1.1": { "passed": "yes", "hintLevel": -3 } } }');
    assert.deepEqual(loadProgress(fixture.root).progress.exercises['1.1'], {});
  });

  test('updateProgress changes and saves in one go, and reports a reset', () => {
    fixture.write(PROGRESS_PATH, 'garbage');
    const note = updateProgress(fixture.root, (p) => {
      p.exercises['2.1'] = { hintLevel: 1 };
    });
    assert.match(note ?? '', /progress was reset/);
    assert.deepEqual(JSON.parse(readFileSync(join(fixture.root, PROGRESS_PATH), 'utf8')), { version: 1, exercises: { '2.1': { hintLevel: 1 } } });
  });
});
