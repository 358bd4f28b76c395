/**
 * The book: chapters/*.md with their includes resolved, rendered to a static
 * HTML site under book/ (`npm run book`) or to plain text for the terminal
 * (`npm run read N`).
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import MarkdownIt from 'markdown-it';
import { chapterFiles, IncludeError, resolveIncludes, formatProblem, type Problem } from './includes.ts';
import { findChapter, loadManifest } from './manifest.ts';
import type { Write } from './output.ts';
import { projectRoot } from './root.ts';

/** A chapter ready to render: its file, title and Markdown with includes resolved. */
export interface BookChapter {
  file: string;
  title: string;
  page: string;
  markdown: string;
}

/** The chapter's title: its first `# ` heading, else the file name. */
export function chapterTitle(markdown: string, file: string): string {
  const match = /^#\s+(.+?)\s*#*\s*$/m.exec(markdown);
  return match?.[1] ?? basename(file, '.md');
}

/** A URL-friendly id for a heading. */
export function slugify(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'section';
}

function markdownRenderer(): MarkdownIt {
  const md = new MarkdownIt({ html: true, linkify: false, typographer: false });
  // Give headings ids so the page's contents can link to them.
  md.core.ruler.push('heading_ids', (state) => {
    const used = new Set<string>();
    state.tokens.forEach((token, i) => {
      if (token.type !== 'heading_open') return;
      const base = slugify(state.tokens[i + 1]?.content ?? '');
      let id = base;
      for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
      used.add(id);
      token.attrSet('id', id);
    });
  });
  // Links between chapters are written to the .md files; in the book they point at the pages.
  const defaultLink = md.renderer.rules.link_open ?? ((tokens, i, options, _env, self) => self.renderToken(tokens, i, options));
  md.renderer.rules.link_open = (tokens, i, options, env, self) => {
    const href = tokens[i]?.attrGet('href');
    if (href && /^(?:\.\/)?[\w.-]+\.md(#.*)?$/.test(href)) tokens[i]?.attrSet('href', href.replace(/\.md(?=#|$)/, '.html'));
    return defaultLink(tokens, i, options, env, self);
  };
  // Listings pulled from the source show where they come from (the fence info's second word).
  const defaultFence = md.renderer.rules.fence ?? ((tokens, i, options, _env, self) => self.renderToken(tokens, i, options));
  md.renderer.rules.fence = (tokens, i, options, env, self) => {
    const token = tokens[i];
    const [language = '', source] = (token?.info ?? '').trim().split(/\s+/);
    if (token && source) {
      token.info = language;
      return `<figure class="listing"><figcaption>${md.utils.escapeHtml(source)}</figcaption>${defaultFence(tokens, i, options, env, self)}</figure>\n`;
    }
    return defaultFence(tokens, i, options, env, self);
  };
  return md;
}

const STYLE = `
body { max-width: 46rem; margin: 2rem auto; padding: 0 1rem; font: 17px/1.6 Georgia, 'Times New Roman', serif; color: #222; background: #fdfdfb; }
h1, h2, h3, h4 { font-family: system-ui, sans-serif; line-height: 1.25; margin-top: 2rem; }
a { color: #0b5cad; }
code { font: 0.88em/1.45 ui-monospace, 'DejaVu Sans Mono', Menlo, monospace; background: #f1f1ee; padding: 0.1em 0.25em; border-radius: 3px; }
pre { background: #f4f4f1; border: 1px solid #e2e2dc; border-radius: 4px; padding: 0.8rem 1rem; overflow-x: auto; }
pre code { background: none; padding: 0; }
figure.listing { margin: 1.2rem 0; }
figure.listing figcaption { font: 0.8rem system-ui, sans-serif; color: #666; margin-bottom: -0.6rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
blockquote { border-left: 3px solid #ccc; margin-left: 0; padding-left: 1rem; color: #555; }
nav { font: 0.9rem system-ui, sans-serif; display: flex; justify-content: space-between; gap: 1rem; border-bottom: 1px solid #e5e5e5; padding-bottom: 0.5rem; }
nav.bottom { border-bottom: none; border-top: 1px solid #e5e5e5; padding-top: 0.5rem; margin-top: 3rem; }
.contents { font: 0.9rem system-ui, sans-serif; background: #f6f6f3; padding: 0.5rem 1rem; border-radius: 4px; }
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** Loads every chapter under chapters/ with includes resolved; throws an IncludeError listing all problems. */
export function loadBookChapters(root: string = projectRoot): BookChapter[] {
  const problems: Problem[] = [];
  const chapters: BookChapter[] = [];
  for (const file of chapterFiles(root)) {
    const text = readFileSync(join(root, file), 'utf8');
    try {
      const markdown = resolveIncludes(text, file, root);
      chapters.push({ file, title: chapterTitle(markdown, file), page: `${basename(file, '.md')}.html`, markdown });
    } catch (err) {
      if (err instanceof IncludeError) problems.push(...err.problems);
      else throw err;
    }
  }
  if (problems.length > 0) throw new IncludeError(problems);
  return chapters;
}

/** Renders the book to `outDir` (default book/): index.html plus one page per chapter; returns the files written. */
export function buildBook(root: string = projectRoot, outDir: string = join(root, 'book')): string[] {
  const chapters = loadBookChapters(root);
  const md = markdownRenderer();
  const esc = md.utils.escapeHtml;
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  const toc = chapters.map((c) => `<li><a href="${c.page}">${esc(c.title)}</a></li>`).join('\n');
  const index = page(
    'Kubernetes, behind the scenes',
    `<h1>Kubernetes, behind the scenes</h1>\n<p>A runnable workbook: build a small Kubernetes one component per chapter, and run it at every step.</p>\n<h2>Contents</h2>\n<ol start="0">\n${toc}\n</ol>`,
  );
  writeFileSync(join(outDir, 'index.html'), index);
  written.push(join(outDir, 'index.html'));

  chapters.forEach((chapter, i) => {
    const env = {};
    const tokens = md.parse(chapter.markdown, env);
    const sections = tokens
      .map((t, j) => (t.type === 'heading_open' && t.tag === 'h2' ? `<li><a href="#${t.attrGet('id') ?? ''}">${esc(tokens[j + 1]?.content ?? '')}</a></li>` : ''))
      .filter(Boolean);
    const prev = chapters[i - 1];
    const next = chapters[i + 1];
    const nav = (cls: string) =>
      `<nav class="${cls}"><span>${prev ? `<a href="${prev.page}">&larr; ${esc(prev.title)}</a>` : ''}</span><a href="index.html">Contents</a><span>${next ? `<a href="${next.page}">${esc(next.title)} &rarr;</a>` : ''}</span></nav>`;
    let html = md.renderer.render(tokens, md.options, env);
    if (sections.length > 1) {
      // Why after the first heading: the page's own contents sit under its title.
      const contents = `<div class="contents"><strong>In this chapter</strong><ul>\n${sections.join('\n')}\n</ul></div>\n`;
      html = html.replace(/(<\/h1>\n)/, `$1${contents}`);
    }
    writeFileSync(join(outDir, chapter.page), page(esc(chapter.title), `${nav('top')}\n${html}${nav('bottom')}`));
    written.push(join(outDir, chapter.page));
  });
  return written;
}

/**
 * Turns Markdown into plain text for a terminal: headings underlined, code
 * blocks set apart with a gutter, HTML comments dropped, the rest as written.
 */
export function renderForTerminal(markdown: string): string {
  const out: string[] = [];
  let fence: string | null = null;
  for (const line of markdown.split(/\r?\n/)) {
    const fenceMatch = /^\s*(`{3,}|~{3,})\s*(.*)$/.exec(line);
    if (fence === null && fenceMatch?.[1]) {
      fence = fenceMatch[1];
      const [language = '', source] = (fenceMatch[2] ?? '').trim().split(/\s+/);
      out.push(`  .-- ${source ?? language ?? ''}`.trimEnd());
      continue;
    }
    if (fence !== null) {
      const trimmed = line.trim();
      // Why this test: a fence closes only with the same character, at least as many, and nothing else on the line.
      if (/^(`+|~+)$/.test(trimmed) && trimmed[0] === fence[0] && trimmed.length >= fence.length) {
        fence = null;
        out.push("  '--");
      } else {
        out.push(`  | ${line}`.trimEnd());
      }
      continue;
    }
    const headingMatch = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (headingMatch?.[1] && headingMatch[2] !== undefined) {
      const level = headingMatch[1].length;
      const text = level === 1 ? headingMatch[2].toUpperCase() : headingMatch[2];
      out.push('', text);
      if (level <= 2) out.push((level === 1 ? '=' : '-').repeat(Math.min(text.length, 78)));
      continue;
    }
    if (/^\s*<!--.*-->\s*$/.test(line)) continue;
    out.push(line);
  }
  // Why not trim(): a listing at the very start keeps its indentation.
  return out.join('\n').replace(/\n{3,}/g, '\n\n').replace(/^\n+|\n+$/g, '');
}

/** `npm run read N`: prints chapter N for the terminal; returns the exit code. */
export function readCommand(options: { chapter: number; root?: string }, write: Write): number {
  const root = options.root ?? projectRoot;
  const chapter = findChapter(loadManifest(root), options.chapter);
  if (!existsSync(chapter.paths.chapter)) {
    write(`Chapter ${chapter.number} is not written yet: expected ${chapter.chapter}.`);
    return 1;
  }
  try {
    write(renderForTerminal(resolveIncludes(readFileSync(chapter.paths.chapter, 'utf8'), chapter.chapter, root)));
    return 0;
  } catch (err) {
    if (!(err instanceof IncludeError)) throw err;
    write(`Chapter ${chapter.number} has includes that do not resolve:\n${err.problems.map(formatProblem).join('\n')}`);
    return 1;
  }
}

/** `npm run book`: renders the HTML book; returns the exit code. */
export function bookCommand(options: { root?: string }, write: Write): number {
  const root = options.root ?? projectRoot;
  try {
    const files = buildBook(root);
    write(`Wrote ${files.length - 1} chapter page${files.length === 2 ? '' : 's'} and the contents to book/: open book/index.html in a browser.`);
    return 0;
  } catch (err) {
    if (!(err instanceof IncludeError)) throw err;
    write(`The book was not built: some includes do not resolve:\n${err.problems.map(formatProblem).join('\n')}`);
    return 1;
  }
}
