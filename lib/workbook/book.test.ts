import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { bookCommand, buildBook, chapterTitle, readCommand, renderForTerminal, slugify } from './book.ts';
import { IncludeError } from './includes.ts';
import { collectingWriter } from './output.ts';
import { projectRoot } from './root.ts';
import { makeDemo } from '../../test/helpers/workbook-fixture.ts';

const demo = makeDemo();
after(() => demo.remove());

describe('buildBook', () => {
  const files = buildBook(demo.root);
  const read = (name: string) => readFileSync(join(demo.root, 'book', name), 'utf8');

  test('writes the contents page and one page per chapter', () => {
    assert.deepEqual(files.map((f) => f.slice(demo.root.length + 1)), ['book/index.html', 'book/00-intro.html', 'book/01-math.html']);
  });

  test('the contents page links every chapter by its title', () => {
    const index = read('index.html');
    assert.match(index, /<li><a href="00-intro\.html">Intro<\/a><\/li>\n<li><a href="01-math\.html">Small math<\/a><\/li>/);
    assert.match(index, /<style>/);
  });

  test('chapter pages link to the previous and next chapter and back to the contents', () => {
    const first = read('00-intro.html');
    const second = read('01-math.html');
    assert.match(first, /<a href="index\.html">Contents<\/a><span><a href="01-math\.html">Small math &rarr;<\/a><\/span>/);
    assert.match(second, /<a href="00-intro\.html">&larr; Intro<\/a>/);
    assert.doesNotMatch(second, /&rarr;/);
  });

  test('includes become listings captioned with their source, and links to .md point at pages', () => {
    const page = read('00-intro.html');
    assert.match(page, /<figure class="listing"><figcaption>ref\/math\.ts<\/figcaption><pre><code class="language-ts">export function add/);
    assert.match(page, /<a href="01-math\.html">math<\/a>/);
  });

  test('headings get ids and the page lists its sections', () => {
    const page = read('00-intro.html');
    assert.match(page, /<h2 id="first">First<\/h2>/);
    assert.match(page, /<div class="contents"><strong>In this chapter<\/strong><ul>\n<li><a href="#first">First<\/a><\/li>\n<li><a href="#second">Second<\/a><\/li>/);
  });

  test('an include that does not resolve stops the build, naming the chapter and line', () => {
    const broken = makeDemo();
    try {
      broken.write('chapters/02-bad.md', '# Bad\n\n<!-- include: ref/math.ts#nothing -->\n');
      assert.throws(() => buildBook(broken.root), (err: Error) => err instanceof IncludeError && /^chapters\/02-bad\.md:3: include ref\/math\.ts#nothing: expected a line `\/\/ #region nothing`/.test(err.message));
      const out = collectingWriter();
      assert.equal(bookCommand({ root: broken.root }, out.write), 1);
      assert.match(out.text(), /The book was not built/);
    } finally {
      broken.remove();
    }
  });
});

describe('the project book', () => {
  test('builds from the real chapters', () => {
    const out = mkdtempSync(join(tmpdir(), 'workbook-book-'));
    try {
      const files = buildBook(projectRoot, out);
      assert.ok(files.some((f) => f.endsWith('00-welcome.html')));
      assert.match(readFileSync(join(out, '00-welcome.html'), 'utf8'), /<figcaption>lib\/workbook\/scenario\/backend-service\.yaml<\/figcaption>/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('terminal rendering', () => {
  test('underlines headings, sets code apart, drops HTML comments', () => {
    const text = renderForTerminal('# Title\n\nSome *text*.\n\n## Part\n\n```ts lib/a.ts#x\nconst a = 1;\n```\n<!-- a note -->\n### Small\n');
    assert.equal(text, 'TITLE\n=====\n\nSome *text*.\n\nPart\n----\n\n  .-- lib/a.ts#x\n  | const a = 1;\n  \'--\n\nSmall');
  });

  test('a fence closes only with its own kind of marker', () => {
    const text = renderForTerminal('````md\n```\ninner\n```\n````\nafter');
    assert.equal(text, "  .-- md\n  | ```\n  | inner\n  | ```\n  '--\nafter");
  });

  test('chapterTitle and slugify', () => {
    assert.equal(chapterTitle('intro\n# The store #\n', 'x.md'), 'The store');
    assert.equal(chapterTitle('no heading', 'chapters/05-kubelet.md'), '05-kubelet');
    assert.equal(slugify('What happens after `kubectl apply`?'), 'what-happens-after-kubectl-apply');
  });

  test('readCommand prints a chapter with its includes resolved', () => {
    const out = collectingWriter();
    assert.equal(readCommand({ chapter: 0, root: demo.root }, out.write), 0);
    assert.match(out.text(), /^INTRO\n=====/);
    assert.match(out.text(), /  \.-- ref\/math\.ts\n  \| export function add\(a: number, b: number\): number \{/);
  });

  test('readCommand says when a chapter is not written yet', () => {
    const out = collectingWriter();
    rmSync(join(demo.root, 'chapters/01-math.md'));
    assert.equal(readCommand({ chapter: 1, root: demo.root }, out.write), 1);
    assert.equal(out.text(), 'Chapter 1 is not written yet: expected chapters/01-math.md.');
  });
});
