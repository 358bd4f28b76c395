import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { loadManifests, parseManifests } from './manifests.ts';

const dir = mkdtempSync(join(tmpdir(), 'manifests-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
`;
const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: web
`;

/** A YAML alias bomb: nine levels of nine aliases each, 9^9 strings once expanded. */
function aliasBomb(): string {
  const letters = 'abcdefghi';
  let text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  for (let level = 1; level < letters.length; level++) {
    const previous = `*${letters[level - 1]}`;
    text += `  ${letters[level]}: &${letters[level]} [${Array(9).fill(previous).join(',')}]\n`;
  }
  return text;
}

describe('parseManifests', () => {
  it('reads every document of a multi-document file, in order, and skips empty documents', () => {
    const manifests = parseManifests(`---\n${DEPLOYMENT}---\n# only a comment\n---\n${SERVICE}---\n`, 'app.yaml');
    assert.deepEqual(manifests.map((m) => `${m.object.kind}/${m.object.metadata.name} from ${m.document} of ${m.source}`), [
      'Deployment/web from 1 of app.yaml',
      'Service/web from 3 of app.yaml',
    ]);
  });

  it('reads JSON, which is YAML too', () => {
    const [manifest] = parseManifests('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"a":"1"}}', 'cm.json');
    assert.deepEqual(manifest?.object.data, { a: '1' });
  });

  it('expands the items of a kind: List', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' } }, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b' } }] };
    const manifests = parseManifests(JSON.stringify(list), 'list.json');
    assert.deepEqual(manifests.map((m) => [m.object.metadata.name, m.document]), [['a', '1.1'], ['b', '1.2']]);
  });

  it('accepts generateName in place of a name', () => {
    const [manifest] = parseManifests('apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: web-\n', 'pod.yaml');
    assert.equal(manifest?.object.metadata.generateName, 'web-');
  });

  it('refuses an object without a name, naming the file, the document and what was missing', () => {
    assert.throws(
      () => parseManifests(`${DEPLOYMENT}---\napiVersion: v1\nkind: Service\nmetadata: {}\n`, 'app.yaml'),
      /expected metadata\.name \(or metadata\.generateName\) in document 2 of app\.yaml, got an object with keys \["apiVersion","kind","metadata"\]/,
    );
  });

  it('refuses a document that is not an object', () => {
    assert.throws(() => parseManifests('- a\n- b\n', 'list.yaml'), /expected an object \(a YAML mapping\) in document 1 of list\.yaml, got a list/);
  });

  it('refuses malformed YAML, naming the file and the document', () => {
    assert.throws(
      () => parseManifests(`${DEPLOYMENT}---\nspec: [1\nmore: 2\n`, 'broken.yaml'),
      /expected valid YAML in document 2 of broken\.yaml, got: .+/,
    );
  });

  it('refuses an alias bomb quickly, naming the file', () => {
    assert.throws(() => parseManifests(aliasBomb(), 'bomb.yaml'), /refusing document 1 of bomb\.yaml: expected at most 100 YAML alias expansions.*alias bomb/);
  });
});

describe('loadManifests', () => {
  it('reads a folder: its yaml, yml and json files in name order, and nothing else', async () => {
    const folder = join(dir, 'app');
    mkdirSync(folder);
    writeFileSync(join(folder, 'b-service.yml'), SERVICE);
    writeFileSync(join(folder, 'a-deployment.yaml'), DEPLOYMENT);
    writeFileSync(join(folder, 'c-config.json'), '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}');
    writeFileSync(join(folder, 'README.md'), '# not a manifest');
    const manifests = await loadManifests(folder);
    assert.deepEqual(manifests.map((m) => m.object.kind), ['Deployment', 'Service', 'ConfigMap']);
    assert.equal(manifests[0]?.source, join(folder, 'a-deployment.yaml'));
  });

  it('reads standard input when the path is -', async () => {
    const manifests = await loadManifests('-', Readable.from([DEPLOYMENT]));
    assert.deepEqual(manifests.map((m) => [m.object.kind, m.source]), [['Deployment', 'stdin']]);
  });

  it('says so when the path does not exist', async () => {
    await assert.rejects(loadManifests(join(dir, 'nope.yaml')), /the path ".*nope\.yaml" does not exist/);
  });

  it('says so when a folder holds no manifests', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    await assert.rejects(loadManifests(empty), /expected manifest files \(\.json \.yaml \.yml\) in the folder .*empty, got none/);
  });

  it('names the file of a folder that holds an alias bomb', async () => {
    const folder = join(dir, 'bombed');
    mkdirSync(folder);
    writeFileSync(join(folder, 'a.yaml'), DEPLOYMENT);
    writeFileSync(join(folder, 'lol.yaml'), aliasBomb());
    await assert.rejects(loadManifests(folder), /refusing document 1 of .*lol\.yaml/);
  });
});
