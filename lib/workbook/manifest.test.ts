import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { allExercises, findChapter, findExercise, loadManifest, LookupError, ManifestError, parseManifest } from './manifest.ts';
import { projectRoot } from './root.ts';
import { demoManifest } from '../../test/helpers/workbook-fixture.ts';

const root = '/project';

/** A one-chapter manifest whose only exercise has `fields` merged in (raw YAML lines). */
function withExercise(lines: string): string {
  return `chapters:
  - number: 1
    slug: 01-store
    title: Store
    chapter: chapters/01-store.md
    lab: lib/workbook/labs/01-store.ts
    checks: lib/workbook/checks/01-store.ts
    exercises:
      - id: "1.2"
        title: Range
        file: range.ts
        export: rangeEnd
        reference: lib/store/range.ts
        task: Write it.
${lines}`;
}

describe('parseManifest', () => {
  test('reads chapters, exercises and resolves every path against the root', () => {
    const manifest = parseManifest(demoManifest, root);
    assert.deepEqual(manifest.chapters.map((c) => c.number), [0, 1]);
    const chapter = findChapter(manifest, 1);
    assert.equal(chapter.paths.checks, '/project/checks/01-math.ts');
    assert.equal(chapter.paths.chapter, '/project/chapters/01-math.md');
    const exercise = findExercise(manifest, '1.1');
    assert.deepEqual(exercise.paths, {
      labs: '/project/labs/01-math/add.ts',
      stubs: '/project/labs/.stubs/01-math/add.ts',
      solutions: '/project/solutions/01-math/add.ts',
      reference: '/project/ref/math.ts',
    });
    assert.deepEqual(exercise.hints, ['Numbers add with one operator.', 'Use +.', 'return a + b;']);
    assert.equal(exercise.chapter, 1);
  });

  test('sorts chapters by number whatever their order in the file', () => {
    const text = `chapters:
  - { number: 2, slug: 02-b, title: B, chapter: chapters/02-b.md, lab: l/2.ts, exercises: [] }
  - { number: 1, slug: 01-a, title: A, chapter: chapters/01-a.md, lab: l/1.ts }
`;
    assert.deepEqual(parseManifest(text, root).chapters.map((c) => c.slug), ['01-a', '02-b']);
  });

  const invalid: [string, string, RegExp][] = [
    ['an empty list of hints', withExercise('        hints: []\n'), /^labs\/labs\.yaml: chapter 1 exercise 1\.2: expected a non-empty list of hints, got \[\]$/],
    ['no hints at all', withExercise(''), /chapter 1 exercise 1\.2: expected a non-empty list of hints, got nothing/],
    ['a blank hint', withExercise('        hints: ["ok", " "]\n'), /expected a non-empty list of hints, got \["ok"," "\]/],
    ['a misspelt field', withExercise('        hint: [a]\n'), /exercise 1\.2: unexpected field "hint"/],
    ['a file with a folder', withExercise('        hints: [a]\n').replace('file: range.ts', 'file: ../x.ts'), /expected "file" to be a plain \.ts file name/],
    ['an export that is no identifier', withExercise('        hints: [a]\n').replace('export: rangeEnd', 'export: range-end'), /expected "export" to be a JavaScript identifier/],
    ['an id of another chapter', withExercise('        hints: [a]\n').replace('id: "1.2"', 'id: "2.1"'), /exercise 2\.1: expected the id to start with "1\."/],
    ['an id that is a number', withExercise('        hints: [a]\n').replace('id: "1.2"', 'id: 1.2'), /chapter 1 exercises\[0\]: expected "id" to be a string like "1\.1", got 1\.2/],
    ['a reference outside the project', withExercise('        hints: [a]\n').replace('reference: lib/store/range.ts', 'reference: ../../etc/x.ts'), /"reference": expected a path inside the project/],
    ['a slug without its number', withExercise('        hints: [a]\n').replace('slug: 01-store', 'slug: store'), /chapter 1: expected "slug" to look like "01-topic"/],
    ['a chapter that is not Markdown', withExercise('        hints: [a]\n').replace('chapters/01-store.md', 'chapters/01-store.txt'), /expected "chapter" to be a path ending in \.md/],
    ['exercises without checks', withExercise('        hints: [a]\n').replace('    checks: lib/workbook/checks/01-store.ts\n', ''), /chapter 1: expected a "checks" module path/],
    ['a negative chapter number', 'chapters:\n  - number: -1\n', /chapters\[0\]: expected "number" to be a whole number >= 0, got -1/],
    ['no chapters', 'chapters: []\n', /expected a non-empty list of chapters, got \[\]/],
    ['a list at the top', '- 1\n', /expected a mapping with a "chapters" list/],
    ['text that is not YAML', 'chapters: [\n', /expected valid YAML/],
    ['a duplicate key', 'chapters: []\nchapters: []\n', /expected valid YAML/],
  ];
  for (const [what, text, message] of invalid) {
    test(`refuses ${what}, saying where and what`, () => {
      assert.throws(() => parseManifest(text, root), (err: Error) => err instanceof ManifestError && message.test(err.message));
    });
  }

  test('refuses the same exercise id twice', () => {
    const text = withExercise('        hints: [a]\n') + '      - { id: "1.2", title: T, file: b.ts, export: b, reference: r.ts, task: t, hints: [h] }\n';
    assert.throws(() => parseManifest(text, root), /exercise 1\.2: expected each exercise id once/);
  });

  test('refuses the same chapter number twice', () => {
    const entry = '  - { number: 1, slug: 01-a, title: A, chapter: c.md, lab: l.ts }\n';
    assert.throws(() => parseManifest(`chapters:\n${entry}${entry}`, root), /chapter 1: expected each chapter number once/);
  });

  test('refuses an alias bomb instead of expanding it', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 8; i++) bomb.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`);
    bomb.push('chapters: *i');
    assert.throws(() => parseManifest(bomb.join('\n'), root), /expected valid YAML.*[Aa]lias/s);
  });
});

describe('lookups', () => {
  const manifest = parseManifest(demoManifest, root);

  test('an unknown exercise id lists the valid ones', () => {
    assert.throws(() => findExercise(manifest, '9.9'), (err: Error) => err instanceof LookupError && err.message === 'unknown exercise "9.9": expected one of 1.1, 1.2');
  });

  test('an unknown chapter lists the chapters', () => {
    assert.throws(() => findChapter(manifest, 5), /expected a chapter number listed in labs\/labs\.yaml \(0, 1\), got 5/);
  });

  test('allExercises keeps chapter order', () => {
    assert.deepEqual(allExercises(manifest).map((e) => e.id), ['1.1', '1.2']);
  });
});

describe('the project manifest (labs/labs.yaml)', () => {
  const manifest = loadManifest(projectRoot);

  test('starts with chapter 0, the welcome, which has no exercises', () => {
    const welcome = findChapter(manifest, 0);
    assert.equal(welcome.slug, '00-welcome');
    assert.equal(welcome.exercises.length, 0);
    assert.equal(welcome.lab, 'lib/workbook/labs/00-welcome.ts');
  });

  for (const chapter of manifest.chapters) {
    test(`chapter ${chapter.number}: its Markdown ${chapter.chapter} exists`, () => {
      assert.ok(existsSync(chapter.paths.chapter), `expected ${chapter.chapter} to exist`);
    });
    test(`chapter ${chapter.number}: its lab ${chapter.lab} exists and exports a lab for chapter ${chapter.number}`, async () => {
      assert.ok(existsSync(chapter.paths.lab), `expected ${chapter.lab} to exist`);
      const module = (await import(pathToFileURL(chapter.paths.lab).href)) as { lab?: { chapter?: number } };
      assert.equal(module.lab?.chapter, chapter.number);
    });
    for (const exercise of chapter.exercises) {
      test(`exercise ${exercise.id}: its stub, solution and reference exist, and the reference exports ${exercise.export}`, async () => {
        // Why not labs/: that is the learner's copy, and their edits must never fail the suite.
        for (const path of [exercise.paths.stubs, exercise.paths.solutions, exercise.paths.reference]) {
          assert.ok(existsSync(path), `expected ${path} to exist`);
        }
        const reference = (await import(pathToFileURL(exercise.paths.reference).href)) as Record<string, unknown>;
        assert.notEqual(reference[exercise.export], undefined, `expected ${exercise.reference} to export ${exercise.export}`);
      });
    }
  }
});
