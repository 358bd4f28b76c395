/**
 * Test support: builds a small workbook project in a temporary folder (a
 * manifest, stubs, learner files, solutions, checks, a lab) so the grader, the
 * lab runner, hints, reset and the book can be tested without the real chapters.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../../lib/workbook/root.ts';

/** A file: URL for a module of this project, for fixture files to import. */
export function projectModule(path: string): string {
  return pathToFileURL(join(projectRoot, path)).href;
}

/** A temporary project: its root, a way to write files into it, and its removal. */
export interface Fixture {
  root: string;
  write(path: string, text: string): void;
  remove(): void;
}

/** Creates a temporary project holding `files` (root-relative path → text) plus a package.json. */
export function makeFixture(files: Record<string, string>): Fixture {
  const root = mkdtempSync(join(tmpdir(), 'workbook-fixture-'));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write('package.json', '{ "type": "module", "private": true }\n');
  for (const [path, text] of Object.entries(files)) write(path, text);
  return { root, write, remove: () => rmSync(root, { recursive: true, force: true }) };
}

const todoUrl = projectModule('lib/workbook/todo.ts');
const expectUrl = projectModule('lib/workbook/expect.ts');

/** The manifest of the demo project: chapter 0 without exercises, chapter 1 with two. */
export const demoManifest = `chapters:
  - number: 0
    slug: 00-intro
    title: Intro
    chapter: chapters/00-intro.md
    lab: lab/00-intro.ts
    exercises: []
  - number: 1
    slug: 01-math
    title: Small math
    chapter: chapters/01-math.md
    lab: lab/01-math.ts
    checks: checks/01-math.ts
    exercises:
      - id: "1.1"
        title: Adding
        file: add.ts
        export: add
        reference: ref/math.ts
        task: Return the sum of a and b.
        hints:
          - Numbers add with one operator.
          - Use +.
          - return a + b;
      - id: "1.2"
        title: Doubling later
        file: double.ts
        export: doubleLater
        reference: ref/math.ts
        task: Resolve to twice n.
        hints:
          - It is async.
          - Multiply by two.
`;

/** Stubs, solutions, the reference, checks and labs of the demo project. */
export function demoFiles(): Record<string, string> {
  const addStub = `import { todo } from '${todoUrl}';\n\nexport function add(a: number, b: number): number {\n  // TODO: return the sum\n  return todo('1.1');\n}\n`;
  const doubleStub = `import { todo } from '${todoUrl}';\n\nexport async function doubleLater(n: number): Promise<number> {\n  return todo('1.2');\n}\n`;
  return {
    'labs/labs.yaml': demoManifest,
    'labs/.stubs/01-math/add.ts': addStub,
    'labs/.stubs/01-math/double.ts': doubleStub,
    'labs/01-math/add.ts': addStub,
    'labs/01-math/double.ts': doubleStub,
    'solutions/01-math/add.ts': 'export function add(a: number, b: number): number {\n  return a + b;\n}\n',
    'solutions/01-math/double.ts': 'export async function doubleLater(n: number): Promise<number> {\n  return n * 2;\n}\n',
    'ref/math.ts': 'export function add(a: number, b: number): number {\n  return a + b;\n}\nexport async function doubleLater(n: number): Promise<number> {\n  return 2 * n;\n}\n',
    'checks/01-math.ts': `import { expectEqual } from '${expectUrl}';
type Add = (a: number, b: number) => number;
type Double = (n: number) => Promise<number>;
export const checks = {
  '1.1': [
    { name: 'adds small numbers', run(impl: Record<string, unknown>) { expectEqual((impl.add as Add)(2, 3), 5, 'add(2, 3)'); } },
    { name: 'adds negatives', run(impl: Record<string, unknown>) { expectEqual((impl.add as Add)(-2, -3), -5, 'add(-2, -3)'); } },
  ],
  '1.2': [
    { name: 'doubles', async run(impl: Record<string, unknown>) { expectEqual(await (impl.doubleLater as Double)(4), 8, 'doubleLater(4)'); } },
  ],
};
`,
    'lab/00-intro.ts': `export const lab = { chapter: 0, title: 'Intro', intro: 'Hello.', steps: [{ title: 'Greet', async run(ctx: any) { ctx.say('hi'); } }] };\n`,
    'lab/01-math.ts': `export const lab = {
  chapter: 1,
  title: 'Math lab',
  intro: 'We add things.',
  steps: [
    { title: 'Add twice', async run(ctx: any) {
      const add = ctx.impl('1.1');
      ctx.show('2 + 3', add(2, 3));
      ctx.show('4 + 4', add(4, 4));
    } },
    { title: 'Double', async run(ctx: any) {
      const doubleLater = ctx.impl('1.2');
      ctx.show('double 21', await doubleLater(21));
    } },
  ],
};
`,
    'chapters/00-intro.md': '# Intro\n\nWelcome. Next: [math](01-math.md).\n\n## First\n\ntext\n\n## Second\n\n<!-- include: ref/math.ts -->\n',
    'chapters/01-math.md': '# Small math\n\nSome math.\n',
  };
}

/** A demo project in a temporary folder. */
export function makeDemo(): Fixture {
  return makeFixture(demoFiles());
}
