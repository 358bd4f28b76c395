/**
 * The OCI image layout: how an image sits on disk as plain files. A folder
 * holds `oci-layout` (the format version), `index.json` (the entry point,
 * naming manifests by tag) and `blobs/sha256/<hex>`, where every blob is
 * named by the SHA-256 of its bytes. A manifest points at one config blob
 * (how to run the image: Entrypoint, Cmd, Env, ...) and at layer blobs (tar
 * archives of files). Since every reference is a digest, an image is
 * verifiable and identified by its manifest's digest.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const MEDIA_TYPE = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerTar: 'application/vnd.oci.image.layer.v1.tar',
  layerTarGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** The annotation through which index.json names a manifest (its tag). */
export const REF_NAME = 'org.opencontainers.image.ref.name';

/** A pointer to a blob: what it is, its digest and its size in bytes (OCI descriptor). */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** How to run the image (the `config` object of the OCI image config). */
export interface RunConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  ExposedPorts?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  User?: string;
}

/** The image config blob. */
export interface ImageConfig {
  created: string;
  architecture: string;
  os: string;
  config: RunConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history: Array<{ created: string; created_by: string; comment?: string }>;
}

/** The manifest blob. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** The index.json at the top of a layout. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

/** What writing a layout produced. */
export interface WrittenImage {
  manifestDigest: string;
  configDigest: string;
  layerDigest: string;
  /** The uncompressed layer's digest (the config's diff_id). */
  diffId: string;
  /** Bytes of manifest + config + layers, as `crictl images` counts them. */
  size: number;
}

/** "sha256:<hex>" of the bytes. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Checks a digest's form before it becomes part of a path. */
export function validateDigest(digest: string): string {
  const match = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!match?.[1]) throw new Error(`expected a digest "sha256:<64 lowercase hex>", got ${JSON.stringify(digest)}`);
  return match[1];
}

/** The path of a blob inside a layout. */
export function blobPath(layoutDir: string, digest: string): string {
  return join(layoutDir, 'blobs', 'sha256', validateDigest(digest));
}

// Why write then rename: a reader (or a crash) never sees half a file.
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

async function writeBlob(layoutDir: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256Digest(bytes);
  const path = blobPath(layoutDir, digest);
  // Why skip an existing blob: content-addressed, so same name means same bytes.
  const existing = await stat(path).catch(() => undefined);
  if (existing?.size !== bytes.length) await writeAtomically(path, bytes);
  return digest;
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** The OCI name of this machine's CPU architecture. */
export function ociArchitecture(arch: string = process.arch): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[arch] ?? arch;
}

// #region write-layout
/**
 * Writes a one-layer image into an OCI layout folder: the gzip'd layer, the
 * config naming the layer's uncompressed digest, the manifest pointing at
 * both, and index.json naming the manifest by `tag`. Deterministic: the same
 * inputs give the same digests.
 */
export async function writeImageLayout(layoutDir: string, tag: string, layerTar: Buffer, run: RunConfig, createdBy: string): Promise<WrittenImage> {
  await mkdir(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  // Why level 9 and Node's zlib: the gzip header carries no time or name, so the bytes are reproducible.
  const layer = gzipSync(layerTar, { level: 9 });
  const layerDigest = await writeBlob(layoutDir, layer);
  const diffId = sha256Digest(layerTar);
  const created = '1970-01-01T00:00:00Z';
  const config: ImageConfig = {
    created, architecture: ociArchitecture(), os: 'linux', config: run,
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, created_by: createdBy }],
  };
  const configBytes = json(config);
  const configDigest = await writeBlob(layoutDir, configBytes);
  const manifest: ImageManifest = {
    schemaVersion: 2, mediaType: MEDIA_TYPE.manifest,
    config: { mediaType: MEDIA_TYPE.config, digest: configDigest, size: configBytes.length },
    layers: [{ mediaType: MEDIA_TYPE.layerTarGzip, digest: layerDigest, size: layer.length }],
  };
  const manifestBytes = json(manifest);
  const manifestDigest = await writeBlob(layoutDir, manifestBytes);
  const index: ImageIndex = {
    schemaVersion: 2, mediaType: MEDIA_TYPE.index,
    manifests: [{ mediaType: MEDIA_TYPE.manifest, digest: manifestDigest, size: manifestBytes.length, annotations: { [REF_NAME]: tag } }],
  };
  await writeAtomically(join(layoutDir, 'oci-layout'), json({ imageLayoutVersion: '1.0.0' }));
  await writeAtomically(join(layoutDir, 'index.json'), json(index));
  const size = manifestBytes.length + configBytes.length + layer.length;
  return { manifestDigest, configDigest, layerDigest, diffId, size };
}
// #endregion write-layout

/** Reads a blob and checks that its bytes match its digest. */
export async function readBlob(layoutDir: string, descriptor: Descriptor): Promise<Buffer> {
  const bytes = await readFile(blobPath(layoutDir, descriptor.digest));
  const actual = sha256Digest(bytes);
  if (actual !== descriptor.digest || bytes.length !== descriptor.size) {
    throw new Error(`expected blob ${descriptor.digest} (${descriptor.size} bytes), got ${actual} (${bytes.length} bytes)`);
  }
  return bytes;
}

/** A manifest found through index.json by its tag, with its config, both verified. */
export interface LoadedImage {
  manifestDigest: string;
  manifest: ImageManifest;
  config: ImageConfig;
  size: number;
}

/** Finds the manifest tagged `tag` in a layout and reads it and its config, verifying digests. */
export async function readImageLayout(layoutDir: string, tag: string): Promise<LoadedImage> {
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as ImageIndex;
  const entry = index.manifests.find((m) => m.annotations?.[REF_NAME] === tag);
  if (!entry) throw new Error(`expected a manifest tagged ${tag} in ${layoutDir}/index.json, got tags ${index.manifests.map((m) => m.annotations?.[REF_NAME]).join(', ') || 'none'}`);
  const manifest = JSON.parse((await readBlob(layoutDir, entry)).toString('utf8')) as ImageManifest;
  const config = JSON.parse((await readBlob(layoutDir, manifest.config)).toString('utf8')) as ImageConfig;
  const size = entry.size + manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0);
  return { manifestDigest: entry.digest, manifest, config, size };
}
