import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { chapterFiles, checkIncludes, dedent, expandIncludes, extractRegion, fence, IncludeError, parseInclude, resolveIncludes } from './includes.ts';
import { projectRoot } from './root.ts';
import { makeFixture } from '../../test/helpers/workbook-fixture.ts';

const SOURCE = `import { x } from './x.ts';

export class Store {
  // #region put
  put(key: string): number {
    // #region inner
    const rev = this.rev + 1;
    // #endregion inner
    return rev;
  }
  // #endregion put

  // #region empty
  
  // #endregion empty

  // #region open
  get(): void {}
}
// #region twice
// #endregion twice
// #region twice
`;

describe('extractRegion', () => {
  test('returns the region without its markers and without the common indentation', () => {
    assert.equal(extractRegion(SOURCE, 'put', 'store.ts'), 'put(key: string): number {\n  const rev = this.rev + 1;\n  return rev;\n}');
  });

  test('returns a nested region on its own', () => {
    assert.equal(extractRegion(SOURCE, 'inner', 'store.ts'), 'const rev = this.rev + 1;');
  });

  test('returns the whole file, minus every marker line, when no region is named', () => {
    const whole = extractRegion(SOURCE, null, 'store.ts');
    assert.ok(whole.startsWith("import { x } from './x.ts';"));
    assert.ok(!whole.includes('#region') && !whole.includes('#endregion'));
    assert.ok(whole.includes('  put(key: string): number {'));
  });

  test('accepts # comments, as in YAML or shell files', () => {
    assert.equal(extractRegion('a: 1\n# #region spec\nspec:\n  replicas: 3\n# #endregion spec\n', 'spec', 'x.yaml'), 'spec:\n  replicas: 3');
  });

  test('a missing region says which marker line it expected', () => {
    assert.throws(() => extractRegion(SOURCE, 'delete', 'store.ts'), /^Error: expected a line `\/\/ #region delete` in store\.ts, found none$/);
  });

  test('an empty region is an error', () => {
    assert.throws(() => extractRegion(SOURCE, 'empty', 'store.ts'), /expected region empty of store\.ts to hold some code, but it is empty/);
  });

  test('a region that is never closed is an error naming its line', () => {
    assert.throws(() => extractRegion(SOURCE, 'open', 'store.ts'), /region open opens at line 17 of store\.ts but is never closed: expected a line `\/\/ #endregion open`/);
  });

  test('a region opened twice is an error naming both lines', () => {
    assert.throws(() => extractRegion(SOURCE, 'twice', 'store.ts'), /expected one `\/\/ #region twice` in store\.ts, found 2 \(lines 20, 22\)/);
  });

  test('an empty file is an error', () => {
    assert.throws(() => extractRegion('\n\n', null, 'blank.ts'), /expected blank\.ts to have some content, but it is empty/);
  });

  test('a region name is matched whole, not as a prefix', () => {
    assert.throws(() => extractRegion('// #region putAll\nx\n// #endregion putAll\n', 'put', 'a.ts'), /found none/);
  });
});

describe('directives and fences', () => {
  test('parseInclude reads the path and the optional region', () => {
    assert.deepEqual(parseInclude('<!-- include: lib/store/mvcc.ts#put -->'), { path: 'lib/store/mvcc.ts', region: 'put' });
    assert.deepEqual(parseInclude('  <!--include: lib/a.ts-->  '), { path: 'lib/a.ts', region: null });
    assert.equal(parseInclude('see <!-- include: lib/a.ts --> here'), null);
    assert.equal(parseInclude('<!-- a comment -->'), null);
  });

  test('dedent keeps relative indentation and blank lines', () => {
    assert.deepEqual(dedent(['    a', '', '      b']), ['a', '', '  b']);
  });

  test('a fence is longer than any run of backticks inside the code', () => {
    assert.equal(fence('const s = `x`;', 'ts', 'a.ts'), '```ts a.ts\nconst s = `x`;\n```');
    assert.equal(fence('```md\n```', 'markdown', 'b.md'), '````markdown b.md\n```md\n```\n````');
  });
});

describe('expandIncludes', () => {
  const fixture = makeFixture({
    'lib/store.ts': SOURCE,
    'lib/spec.yaml': 'kind: Service\n',
  });
  after(() => fixture.remove());

  test('replaces a directive with a fenced block of the region, labelled with its source', () => {
    const md = '# Title\n\n<!-- include: lib/store.ts#inner -->\n\nafter\n';
    assert.equal(resolveIncludes(md, 'chapters/01-x.md', fixture.root), '# Title\n\n```ts lib/store.ts#inner\nconst rev = this.rev + 1;\n```\n\nafter\n');
  });

  test('picks the fence language from the file extension', () => {
    assert.match(resolveIncludes('<!-- include: lib/spec.yaml -->', 'c.md', fixture.root), /^```yaml lib\/spec\.yaml\nkind: Service\n```$/);
  });

  test('leaves directives inside code blocks alone (they are examples)', () => {
    const md = '```md\n<!-- include: lib/missing.ts#x -->\n```\n';
    assert.equal(resolveIncludes(md, 'c.md', fixture.root), md);
  });

  test('reports every problem with the chapter file, the line and what was expected', () => {
    const md = [
      'intro',
      '<!-- include: lib/nope.ts#put -->',
      '<!-- include: lib/store.ts#delete -->',
      '<!-- include: lib/store.ts#open -->',
      '<!-- include: ../outside.ts -->',
      '<!-- include lib/store.ts -->',
      '<!-- include: lib/store.ts#put -->',
    ].join('\n');
    const { problems } = expandIncludes(md, 'chapters/09-x.md', fixture.root);
    assert.deepEqual(problems.map((p) => [p.file, p.line]), [['chapters/09-x.md', 2], ['chapters/09-x.md', 3], ['chapters/09-x.md', 4], ['chapters/09-x.md', 5], ['chapters/09-x.md', 6]]);
    assert.match(problems[0]?.message ?? '', /include lib\/nope\.ts#put: expected the file lib\/nope\.ts to exist/);
    assert.match(problems[1]?.message ?? '', /include lib\/store\.ts#delete: expected a line `\/\/ #region delete`/);
    assert.match(problems[2]?.message ?? '', /never closed/);
    assert.match(problems[3]?.message ?? '', /expected a path inside the project/);
    assert.match(problems[4]?.message ?? '', /malformed include/);
    assert.throws(() => resolveIncludes(md, 'chapters/09-x.md', fixture.root), (err: Error) => err instanceof IncludeError && err.message.startsWith('chapters/09-x.md:2: include lib/nope.ts#put'));
  });

  test('checkIncludes looks at every chapter under chapters/', () => {
    fixture.write('chapters/00-a.md', '<!-- include: lib/store.ts#put -->\n');
    fixture.write('chapters/05-b.md', 'x\n<!-- include: lib/store.ts#gone -->\n');
    assert.deepEqual(chapterFiles(fixture.root), ['chapters/00-a.md', 'chapters/05-b.md']);
    const problems = checkIncludes(fixture.root);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.file, 'chapters/05-b.md');
    assert.equal(problems[0]?.line, 2);
  });
});

describe("the project's chapters", () => {
  const files = chapterFiles(projectRoot);

  test('chapters/ holds at least the welcome chapter', () => {
    assert.ok(files.includes('chapters/00-welcome.md'), `expected chapters/00-welcome.md among ${files.join(', ') || 'no files'}`);
  });

  // Why one test per file found at run time: chapters added later are covered without editing this test.
  for (const file of files) {
    test(`every include in ${file} resolves`, () => {
      const { problems } = expandIncludes(readFileSync(join(projectRoot, file), 'utf8'), file, projectRoot);
      assert.deepEqual(problems, [], problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n'));
    });
  }

  test('checkIncludes finds no problem in the whole book', () => {
    assert.deepEqual(checkIncludes(projectRoot), []);
  });
});
