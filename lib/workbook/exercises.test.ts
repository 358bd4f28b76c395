/**
 * The promise every exercise makes (DESIGN section 4): its checks fail on the
 * untouched stub and pass on the worked solution. Covers every exercise in
 * labs/labs.yaml, so exercises added later are proven without editing this file.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gradeChapter } from './grade.ts';
import { loadManifest } from './manifest.ts';
import { projectRoot } from './root.ts';

const manifest = loadManifest(projectRoot);
const chapters = manifest.chapters.filter((c) => c.exercises.length > 0);

describe('every exercise', () => {
  test('the manifest lists chapters to check', () => {
    assert.ok(manifest.chapters.length > 0);
  });

  for (const chapter of chapters) {
    test(`chapter ${chapter.number}: no untouched stub passes its checks`, async () => {
      const { results } = await gradeChapter(chapter.number, { source: 'stubs', root: projectRoot, manifest });
      assert.equal(results.length, chapter.exercises.length);
      for (const result of results) {
        assert.notEqual(result.status, 'passed', `exercise ${result.exercise.id}: the stub ${result.file} passes its checks untouched`);
        assert.notEqual(result.status, 'does not load', `exercise ${result.exercise.id}: the stub does not load: ${result.message}`);
      }
    });

    test(`chapter ${chapter.number}: every worked solution passes every check`, async () => {
      const { results } = await gradeChapter(chapter.number, { source: 'solutions', root: projectRoot, manifest });
      for (const result of results) {
        assert.equal(result.status, 'passed', `exercise ${result.exercise.id} (${result.file}): ${result.message}`);
        assert.equal(result.passed, result.total);
      }
    });
  }
});
