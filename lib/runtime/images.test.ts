import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { requireRealMode } from '../workbook/realmode.ts';
import { bundleConfig, processSection } from './bundle.ts';
import { RuntimeError } from './cri.ts';
import { ImageStore, isMounted, mergeConfig, parseImageRef, type ResolvedImage } from './images.ts';
import { MEDIA_TYPE, REF_NAME, type ImageConfig, type ImageIndex, type ImageManifest } from './oci-layout.ts';
import { writeTar } from './tar.ts';

const run = promisify(execFile);

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function blob(layoutDir: string, digest: string): Promise<Buffer> {
  return readFile(join(layoutDir, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));
}

async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

let scratch: string;
let store: ImageStore;
let built: ResolvedImage[];

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'kbts-images-'));
  store = new ImageStore({ root: join(scratch, 'store') });
  built = await store.ensureBuilt();
});

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('OCI image layouts built from the recipes', () => {
  test('every scenario image is built: busybox:latest, backend:v0.0.1, frontend:v0.0.1 and nginx:1.14.2', () => {
    assert.deepEqual(built.map((b) => b.ref), ['busybox:latest', 'backend:v0.0.1', 'frontend:v0.0.1', 'nginx:1.14.2']);
  });

  test('each layout has oci-layout, an index naming the manifest by tag, and blobs whose names and sizes match their bytes', async () => {
    for (const image of built) {
      const layoutVersion = JSON.parse(await readFile(join(image.layoutDir, 'oci-layout'), 'utf8'));
      assert.deepEqual(layoutVersion, { imageLayoutVersion: '1.0.0' });
      const index = JSON.parse(await readFile(join(image.layoutDir, 'index.json'), 'utf8')) as ImageIndex;
      assert.equal(index.schemaVersion, 2);
      assert.equal(index.manifests.length, 1);
      const entry = index.manifests[0]!;
      assert.equal(entry.mediaType, MEDIA_TYPE.manifest);
      assert.equal(entry.annotations?.[REF_NAME], image.tag);
      assert.equal(entry.digest, image.id, `${image.ref}: the index points at the image's manifest`);
      const manifestBytes = await blob(image.layoutDir, entry.digest);
      assert.equal(sha256(manifestBytes), entry.digest);
      assert.equal(manifestBytes.length, entry.size);
      const manifest = JSON.parse(manifestBytes.toString('utf8')) as ImageManifest;
      assert.equal(manifest.mediaType, MEDIA_TYPE.manifest);
      assert.equal(manifest.config.mediaType, MEDIA_TYPE.config);
      const configBytes = await blob(image.layoutDir, manifest.config.digest);
      assert.equal(sha256(configBytes), manifest.config.digest);
      assert.equal(configBytes.length, manifest.config.size);
      assert.equal(manifest.layers.length, 1);
      const layer = manifest.layers[0]!;
      assert.equal(layer.mediaType, MEDIA_TYPE.layerTarGzip);
      const layerBytes = await blob(image.layoutDir, layer.digest);
      assert.equal(sha256(layerBytes), layer.digest);
      assert.equal(layerBytes.length, layer.size);
      const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
      assert.deepEqual(config.rootfs.diff_ids, [sha256(gunzipSync(layerBytes))], 'diff_id is the digest of the uncompressed layer');
      assert.equal(config.os, 'linux');
      assert.equal(image.size, entry.size + manifest.config.size + layer.size);
      const blobs = await readdir(join(image.layoutDir, 'blobs', 'sha256'));
      assert.deepEqual(blobs.sort(), [entry.digest, manifest.config.digest, layer.digest].map((d) => d.slice(7)).sort(), 'no stray blobs or temporary files');
    }
  });

  const expected: Array<[string, { port: string; argv: string[]; env?: string }]> = [
    ['backend:v0.0.1', { port: '8080/tcp', argv: ['/bin/pid1', '/bin/httpd', '-f', '-v', '-p', '8080', '-h', '/www'] }],
    ['frontend:v0.0.1', { port: '3000/tcp', argv: ['/bin/pid1', '/bin/httpd', '-f', '-v', '-p', '3000', '-h', '/www'], env: 'BACKEND_ENDPOINT=http://backend' }],
    ['nginx:1.14.2', { port: '80/tcp', argv: ['/bin/pid1', '/bin/httpd', '-f', '-v', '-p', '80', '-h', '/usr/share/nginx/html'] }],
  ];
  for (const [ref, want] of expected) {
    test(`the config of ${ref} exposes ${want.port}, runs busybox httpd and keeps the base image's PATH`, () => {
      const image = built.find((b) => b.ref === ref);
      assert.ok(image, `expected ${ref} built`);
      const run = image.config.config;
      assert.deepEqual(run.ExposedPorts, { [want.port]: {} });
      assert.deepEqual([...(run.Entrypoint ?? []), ...(run.Cmd ?? [])], want.argv);
      assert.ok(run.Env?.some((e) => e.startsWith('PATH=')), `expected PATH in ${JSON.stringify(run.Env)}`);
      if (want.env) assert.ok(run.Env?.includes(want.env), `expected ${want.env} in ${JSON.stringify(run.Env)}`);
    });
  }

  test('the busybox image runs sh by default and holds busybox, its applets as symlinks and nsswitch.conf', async () => {
    const busybox = built.find((b) => b.ref === 'busybox:latest')!;
    assert.deepEqual(busybox.config.config.Cmd, ['sh']);
    const { stdout } = await run('tar', ['-tvzf', join(busybox.layoutDir, 'blobs', 'sha256', busybox.layerDigest.slice(7))]);
    assert.match(stdout, /^-rwxr-xr-x root\/root .* bin\/busybox$/m);
    assert.match(stdout, /^lrwxrwxrwx root\/root .* bin\/wget -> busybox$/m);
    assert.match(stdout, /^-rw-r--r-- root\/root .* etc\/nsswitch.conf$/m);
    assert.match(stdout, /^drwxrwxrwt root\/root .* tmp\/$/m);
  });

  test('building the same recipes twice, in another store, gives the same digests', async () => {
    const other = new ImageStore({ root: join(scratch, 'other-store') });
    const again = await other.ensureBuilt();
    assert.deepEqual(again.map((b) => [b.ref, b.id, b.size]), built.map((b) => [b.ref, b.id, b.size]));
  });

  test('pullImage reports the ref, the manifest digest as id, and the size; listImages lists every built image', async () => {
    const info = await store.pullImage('docker.io/library/busybox:latest');
    const busybox = built.find((b) => b.ref === 'busybox:latest')!;
    assert.deepEqual(info, { ref: 'busybox:latest', id: busybox.id, size: busybox.size });
    const listed = await store.listImages();
    assert.deepEqual(listed.map((i) => i.ref), ['backend:v0.0.1', 'busybox:latest', 'frontend:v0.0.1', 'nginx:1.14.2']);
  });
});

describe('the tar writer', () => {
  test('entries come out sorted, with their missing parent folders added first', async () => {
    const tar = writeTar([
      { type: 'file', path: 'b/c.txt', mode: 0o644, data: Buffer.from('hi') },
      { type: 'symlink', path: 'a', target: 'b/c.txt' },
    ]);
    const dir = join(scratch, 'tar-order');
    await run('mkdir', ['-p', dir]);
    await writeFile(join(dir, 'layer.tar'), tar);
    const { stdout } = await run('tar', ['-tf', join(dir, 'layer.tar')]);
    assert.deepEqual(stdout.trim().split('\n'), ['a', 'b/', 'b/c.txt']);
  });

  const badPaths = ['', '/etc/passwd', '../x', 'a/../../x', 'a//b', './a'];
  for (const path of badPaths) {
    test(`a layer entry at ${JSON.stringify(path)} is refused`, () => {
      assert.throws(() => writeTar([{ type: 'dir', path, mode: 0o755 }]), /expected a relative path/);
    });
  }
});

describe('image references', () => {
  const accepted: Array<[string, string]> = [
    ['busybox', 'busybox:latest'],
    ['backend:v0.0.1', 'backend:v0.0.1'],
    ['docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/nginx:1.14.2', 'nginx:1.14.2'],
    ['library/busybox', 'busybox:latest'],
    ['localhost:5000/app:v1', 'localhost:5000/app:v1'],
  ];
  for (const [ref, short] of accepted) {
    test(`${ref} is normalised to ${short}`, () => {
      assert.equal(parseImageRef(ref).short, short);
    });
  }

  const escaping = [
    '../etc', '../../x:latest', '/etc/passwd', 'busybox/../../etc', '..', './busybox', 'a\0b',
    'Backend:v0.0.1', 'backend:../x', 'backend:.hidden', 'backend:', '', 'busybox:la test', 'busybox\\..\\x', 'back//end',
  ];
  for (const ref of escaping) {
    test(`the reference ${JSON.stringify(ref)} is refused as InvalidImageName before anything is created`, async () => {
      const root = join(scratch, `untouched-${createHash('sha1').update(ref).digest('hex').slice(0, 8)}`);
      const untouched = new ImageStore({ root });
      await assert.rejects(untouched.resolve(ref), (err: unknown) => {
        assert.ok(err instanceof RuntimeError, `expected a RuntimeError, got ${String(err)}`);
        assert.equal(err.reason, 'InvalidImageName');
        assert.match(err.message, /^invalid image name .*: expected/);
        return true;
      });
      await assert.rejects(untouched.unpack(ref), RuntimeError);
      assert.equal(await pathExists(root), false, `expected nothing at ${root}`);
    });
  }

  const unknown: Array<[string, RegExp]> = [
    ['nosuch:v1', /no recipe images\/nosuch\/recipe\.json/],
    ['backend:v9.9.9', /tag v9\.9\.9 not found/],
    ['quay.io/someone/backend:v0.0.1', /no registry is reachable/],
    ['docker.io/someone/backend:v0.0.1', /no registry is reachable/],
  ];
  for (const [ref, why] of unknown) {
    test(`pulling the unknown image ${ref} fails with ErrImagePull naming it`, async () => {
      const root = join(scratch, 'unknown-store');
      const fresh = new ImageStore({ root });
      await assert.rejects(fresh.pullImage(ref), (err: unknown) => {
        assert.ok(err instanceof RuntimeError, `expected a RuntimeError, got ${String(err)}`);
        assert.equal(err.reason, 'ErrImagePull');
        assert.ok(err.message.includes(`"${ref}"`), `expected the message to name ${ref}, got ${err.message}`);
        assert.match(err.message, why);
        return true;
      });
      assert.equal(await pathExists(root), false);
    });
  }

  test('a recipe config merges onto its base: keys override, Env overrides by name and keeps the rest', () => {
    assert.deepEqual(
      mergeConfig({ Env: ['PATH=/bin', 'A=1'], Cmd: ['sh'] }, { Env: ['A=2', 'B=3'], Cmd: [] }),
      { Env: ['PATH=/bin', 'A=2', 'B=3'], Cmd: [] },
    );
  });
});

describe('the OCI runtime config', () => {
  test('the process section carries args, env and cwd, and refuses an empty command or a relative cwd', () => {
    const section = processSection({ args: ['/bin/echo', 'hello'], env: ['PATH=/bin'], cwd: '/' });
    assert.deepEqual([section.args, section.env, section.cwd], [['/bin/echo', 'hello'], ['PATH=/bin'], '/']);
    assert.throws(() => processSection({ args: [], env: [], cwd: '/' }), /expected at least one argument/);
    assert.throws(() => processSection({ args: ['sh'], env: [], cwd: 'www' }), /expected an absolute working directory/);
  });

  test('a Pod network namespace path makes the container join it instead of getting its own', () => {
    const spec = { args: ['sh'], env: [], cwd: '/', rootfsPath: 'rootfs', hostname: 'p' };
    assert.deepEqual(bundleConfig({ ...spec, networkNamespacePath: '/var/run/netns/pod-1' }).linux.namespaces.at(-1), { type: 'network', path: '/var/run/netns/pod-1' });
    assert.deepEqual(bundleConfig(spec).linux.namespaces.at(-1), { type: 'network' });
  });
});

describe('real mode: unpacking, copy-on-write roots and runc', () => {
  test('busybox unpacks once into a shared rootfs, and a container overlay takes writes without touching it', requireRealMode(['busybox']), async () => {
    const busybox = await store.resolve('busybox');
    const lower = await store.unpack('busybox');
    assert.equal(lower, store.rootfsDir(busybox.id));
    assert.equal(await store.unpack('docker.io/library/busybox:latest'), lower, 'a second unpack reuses the first');
    const containerDir = join(scratch, 'containers', 'c1');
    const root = await store.mountContainerRoot(busybox.id, containerDir);
    try {
      assert.equal(await isMounted(root), true);
      assert.ok(await pathExists(join(root, 'bin', 'busybox')), 'the image files show through');
      await writeFile(join(root, 'tmp', 'written-by-container'), 'hello');
      assert.equal(await pathExists(join(containerDir, 'upper', 'tmp', 'written-by-container')), true, 'the write lands in upper');
      assert.equal(await pathExists(join(lower, 'tmp', 'written-by-container')), false, 'the shared rootfs is untouched');
    } finally {
      await store.unmountContainerRoot(containerDir);
    }
    const mounts = await readFile('/proc/self/mounts', 'utf8');
    assert.ok(!mounts.includes(containerDir), `expected no mount under ${containerDir} in /proc/self/mounts`);
    assert.deepEqual(await readdir(containerDir), [], 'rootfs, upper and work are removed');
    await store.unmountContainerRoot(containerDir); // idempotent
  });

  test('runc runs busybox echo hello from a bundle on an overlay root, leaving no container and no mount', requireRealMode(['runc', 'busybox']), async () => {
    const busybox = await store.resolve('busybox');
    await store.unpack('busybox');
    const containerDir = join(scratch, 'containers', 'runc-1');
    const runcRoot = join(scratch, 'runc-state');
    const id = `kbts-images-test-${process.pid}`;
    await store.mountContainerRoot(busybox.id, containerDir);
    try {
      const config = bundleConfig({ args: ['/bin/echo', 'hello'], env: busybox.config.config.Env ?? [], cwd: '/', rootfsPath: 'rootfs', hostname: 'busybox' });
      await writeFile(join(containerDir, 'config.json'), JSON.stringify(config));
      const { stdout } = await run('runc', ['--root', runcRoot, 'run', '--bundle', containerDir, id]);
      assert.equal(stdout, 'hello\n');
    } finally {
      // Why delete --force: should the assertion fail mid-run, no container may be left behind.
      await run('runc', ['--root', runcRoot, 'delete', '--force', id]).catch(() => undefined);
      await store.unmountContainerRoot(containerDir);
    }
    const { stdout: list } = await run('runc', ['--root', runcRoot, 'list', '-q']);
    assert.equal(list.trim(), '');
    assert.equal(await isMounted(join(containerDir, 'rootfs')), false);
  });
});
