/**
 * The node's image store for the real runtime. No registry is reachable, so
 * the scenario's images (busybox, backend, frontend, an nginx stand-in) are
 * built locally from recipes in `images/<name>/recipe.json` into OCI image
 * layouts; a container's root filesystem is then the image's layer,
 * unpacked once per image and shared read-only, under an overlayfs whose
 * upper folder takes that container's writes (copy-on-write).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RuntimeError, type ImageInfo } from './cri.ts';
import {
  blobPath, readImageLayout, validateDigest, writeImageLayout, type ImageConfig, type RunConfig,
} from './oci-layout.ts';
import { validateEntryPath, writeTar, type TarEntry } from './tar.ts';

const run = promisify(execFile);

/** The recipes shipped with the project (images/ at its top level). */
export const PROJECT_RECIPES = resolvePath(dirname(fileURLToPath(import.meta.url)), '../../images');

/** The images the scenario uses, by recipe name. */
export const SCENARIO_IMAGES = ['busybox', 'backend', 'frontend', 'nginx'] as const;

// ---------------------------------------------------------------------------
// Image references

/** A parsed, validated image reference. */
export interface ImageRef {
  /** The repository path inside the registry, e.g. "backend" (docker.io's "library/" removed). */
  name: string;
  tag: string;
  /** The registry host, "docker.io" when none was given. */
  domain: string;
  /** The short form the store knows it by, e.g. "backend:v0.0.1". */
  short: string;
}

// Why these patterns: they are the distribution spec's, and they also make
// every accepted name a safe path segment (no "/", no ".." , no uppercase).
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DOMAIN = /^(?:localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?::[0-9]{1,5})?$/;

function invalid(ref: string, why: string): RuntimeError {
  return new RuntimeError('InvalidImageName', `invalid image name ${JSON.stringify(ref)}: ${why}`);
}

// #region parse-image-ref
/**
 * Parses "busybox", "backend:v0.0.1" or "docker.io/library/busybox:latest"
 * into name and tag, refusing anything that is not a well-formed reference
 * (and so anything that could name a path outside the store) before any file
 * is touched.
 */
export function parseImageRef(ref: string): ImageRef {
  if (typeof ref !== 'string' || ref === '') throw invalid(String(ref), 'expected a non-empty reference');
  if (ref.length > 255) throw invalid(ref.slice(0, 40) + '...', `expected at most 255 characters, got ${ref.length}`);
  if (/[\0-\x20\x7f\\]/.test(ref)) throw invalid(ref, 'expected no NUL, whitespace, control characters or backslashes');
  if (ref.includes('@')) throw invalid(ref, 'digest references (name@sha256:...) are not supported by the local image store; use name:tag');
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  // Why only a colon after the last slash: "localhost:5000/app" has a port, not a tag.
  const hasTag = colon > slash;
  const path = hasTag ? ref.slice(0, colon) : ref;
  const tag = hasTag ? ref.slice(colon + 1) : 'latest';
  if (!TAG.test(tag)) throw invalid(ref, `expected a tag of letters, digits, "_", "." and "-" (not starting with "." or "-"), got ${JSON.stringify(tag)}`);
  const parts = path.split('/');
  let domain = 'docker.io';
  // Why this rule: like Docker, the first part is a registry only if it looks like a host.
  if (parts.length > 1 && parts[0] !== undefined && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) {
    if (!DOMAIN.test(parts[0])) throw invalid(ref, `expected a registry host, got ${JSON.stringify(parts[0])}`);
    domain = parts.shift()!;
  }
  for (const part of parts) {
    if (!PATH_COMPONENT.test(part)) {
      throw invalid(ref, `expected each path component to be lowercase letters and digits separated by ".", "_" or "-", got ${JSON.stringify(part)}`);
    }
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  // Why strip "library/": Docker Hub's official images live there, and "busybox" means "docker.io/library/busybox".
  if (domain === 'docker.io' && parts.length === 2 && parts[0] === 'library') parts.shift();
  const name = parts.join('/');
  const short = domain === 'docker.io' ? `${name}:${tag}` : `${domain}/${name}:${tag}`;
  return { name, tag, domain, short };
}
// #endregion parse-image-ref

// ---------------------------------------------------------------------------
// Recipes

/** One file of a recipe: copied from the host (`from`), from the recipe's folder (`source`), or inline (`text`). */
export interface RecipeFile {
  path: string;
  mode?: string;
  from?: string;
  source?: string;
  text?: string;
}

/** An image recipe, as `images/<name>/recipe.json` holds it. */
export interface Recipe {
  name: string;
  tag: string;
  description?: string;
  /** Another recipe whose files, directories, applets and config this one starts from. */
  base?: string;
  files?: RecipeFile[];
  directories?: Array<{ path: string; mode?: string }>;
  symlinks?: Array<{ path: string; target: string }>;
  /** Busybox applets to link as bin/<applet> → busybox. */
  busyboxApplets?: string[];
  config?: RunConfig;
}

function parseMode(mode: string | undefined, fallback: number, where: string): number {
  if (mode === undefined) return fallback;
  if (!/^[0-7]{3,4}$/.test(mode)) throw new Error(`expected an octal mode like "0755" for ${where}, got ${JSON.stringify(mode)}`);
  return parseInt(mode, 8);
}

/** Merges a recipe's config onto its base's: keys override, Env entries override by variable name. */
export function mergeConfig(base: RunConfig, over: RunConfig): RunConfig {
  const env = new Map<string, string>();
  for (const entry of [...(base.Env ?? []), ...(over.Env ?? [])]) env.set(entry.split('=')[0] ?? entry, entry);
  const merged: RunConfig = { ...base, ...over };
  if (env.size > 0) merged.Env = [...env.values()];
  return merged;
}

/** The entries of a recipe's one layer, and its run config, with its base's included. */
export interface ExpandedRecipe {
  recipe: Recipe;
  entries: TarEntry[];
  config: RunConfig;
}

// ---------------------------------------------------------------------------
// The store

/** Where the store lives and where it finds recipes. */
export interface ImageStoreOptions {
  /** A folder the project owns, e.g. <state>/images; created on first build. */
  root: string;
  /** Defaults to the project's images/ folder. */
  recipesDir?: string;
}

/** An image found in the store: where its layout is and what its config says. */
export interface ResolvedImage extends ImageInfo {
  name: string;
  tag: string;
  layoutDir: string;
  config: ImageConfig;
  layerDigest: string;
}

function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

// Why refuse "," ":" and newlines: overlayfs options separate paths with them, and /proc/mounts lines end with newlines.
function validateMountPath(path: string, what: string): void {
  if (!isAbsolute(path) || /[,:\n\0\\]/.test(path) || path.split('/').some((p) => p === '..' || p === '.')) {
    throw new Error(`expected ${what} to be an absolute path without "..", ",", ":", backslash or newline, got ${JSON.stringify(path)}`);
  }
}

/** Whether `path` is a mount point now, from /proc/self/mounts (which escapes spaces as \040). */
export async function isMounted(path: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  return mounts.split('\n').some((line) => unescape(line.split(' ')[1] ?? '') === path);
}

function requireLinuxRoot(what: string): void {
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : -1;
  if (process.platform !== 'linux' || uid !== 0) {
    throw new Error(`expected Linux and root for ${what} (real mode), got ${process.platform} as uid ${uid}`);
  }
}

/** The node's images: built from recipes into OCI layouts, unpacked once, mounted per container. */
export class ImageStore {
  readonly root: string;
  readonly recipesDir: string;
  // Why memoise per process: each process rebuilds an image once (cheap and
  // deterministic, so a changed recipe is picked up), and concurrent pulls share one build.
  private readonly builds = new Map<string, Promise<ResolvedImage>>();
  private readonly unpacks = new Map<string, Promise<string>>();

  constructor(options: ImageStoreOptions) {
    if (!isAbsolute(options.root)) throw new Error(`expected an absolute image store root, got ${options.root}`);
    this.root = options.root;
    this.recipesDir = options.recipesDir ?? PROJECT_RECIPES;
  }

  /** The layout folder of name:tag (both already validated). */
  layoutDir(name: string, tag: string): string {
    return join(this.root, 'oci', name, tag);
  }

  /** The shared, read-only root filesystem of an image, by its manifest digest. */
  rootfsDir(digest: string): string {
    return join(this.root, 'rootfs', validateDigest(digest));
  }

  private recipePath(name: string): string {
    // Why validate again: build() is public and takes a recipe name directly.
    if (!PATH_COMPONENT.test(name)) throw invalid(name, 'expected a recipe name of lowercase letters and digits');
    return join(this.recipesDir, name, 'recipe.json');
  }

  /** Reads a recipe; undefined when there is none. */
  async readRecipe(name: string): Promise<Recipe | undefined> {
    const path = this.recipePath(name);
    if (!(await exists(path))) return undefined;
    const recipe = JSON.parse(await readFile(path, 'utf8')) as Recipe;
    if (recipe.name !== name) throw new Error(`expected ${path} to name "${name}", got ${JSON.stringify(recipe.name)}`);
    if (!TAG.test(recipe.tag)) throw new Error(`expected a valid tag in ${path}, got ${JSON.stringify(recipe.tag)}`);
    return recipe;
  }

  // #region expand-recipe
  /** Turns a recipe (and its base, first) into the layer's entries and the run config. */
  async expandRecipe(name: string, seen: string[] = []): Promise<ExpandedRecipe> {
    if (seen.includes(name)) throw new Error(`expected recipes without cycles, got ${[...seen, name].join(' → ')}`);
    const recipe = await this.readRecipe(name);
    if (!recipe) throw new Error(`expected a recipe at ${this.recipePath(name)}, got none`);
    const base = recipe.base ? await this.expandRecipe(recipe.base, [...seen, name]) : undefined;
    const entries = new Map<string, TarEntry>((base?.entries ?? []).map((e) => [e.path, e]));
    const dir = dirname(this.recipePath(name));
    for (const d of recipe.directories ?? []) {
      entries.set(d.path, { type: 'dir', path: d.path, mode: parseMode(d.mode, 0o755, d.path) });
    }
    for (const file of recipe.files ?? []) entries.set(file.path, await this.readRecipeFile(dir, file));
    for (const applet of recipe.busyboxApplets ?? []) {
      // Why validate: an applet name becomes a path.
      validateEntryPath(`bin/${applet}`);
      if (applet.includes('/')) throw new Error(`expected an applet name without "/", got ${applet}`);
      entries.set(`bin/${applet}`, { type: 'symlink', path: `bin/${applet}`, target: 'busybox' });
    }
    for (const link of recipe.symlinks ?? []) entries.set(link.path, { type: 'symlink', path: link.path, target: link.target });
    const config = mergeConfig(base?.config ?? {}, recipe.config ?? {});
    return { recipe, entries: [...entries.values()], config };
  }
  // #endregion expand-recipe

  private async readRecipeFile(recipeDir: string, file: RecipeFile): Promise<TarEntry> {
    validateEntryPath(file.path);
    const mode = parseMode(file.mode, 0o644, file.path);
    const sources = [file.from, file.source, file.text].filter((s) => s !== undefined).length;
    if (sources !== 1) throw new Error(`expected exactly one of from/source/text for ${file.path}, got ${sources}`);
    let data: Buffer;
    if (file.text !== undefined) data = Buffer.from(file.text, 'utf8');
    else if (file.source !== undefined) {
      // Why validate: a recipe's own files must stay inside its folder.
      validateEntryPath(file.source);
      data = await readFile(join(recipeDir, file.source));
    } else {
      const from = file.from!;
      if (!isAbsolute(from) || from.split('/').includes('..')) throw new Error(`expected an absolute host path for ${file.path}, got ${from}`);
      data = await readFile(from).catch((err: NodeJS.ErrnoException) => {
        throw new Error(`expected ${from} on this machine for ${file.path} (${err.code}); for /bin/busybox install Debian's busybox-static`);
      });
    }
    return { type: 'file', path: file.path, mode, data };
  }

  /** Builds one recipe into its OCI layout; the same recipe always gives the same digests. */
  async build(recipeName: string): Promise<ResolvedImage> {
    const { recipe, entries, config } = await this.expandRecipe(recipeName);
    const layoutDir = this.layoutDir(recipe.name, recipe.tag);
    const written = await writeImageLayout(layoutDir, recipe.tag, writeTar(entries), config,
      `kubernetes-behind-the-scenes recipe images/${recipe.name}/recipe.json`);
    const loaded = await readImageLayout(layoutDir, recipe.tag);
    return {
      ref: `${recipe.name}:${recipe.tag}`, id: written.manifestDigest, size: written.size,
      name: recipe.name, tag: recipe.tag, layoutDir, config: loaded.config, layerDigest: written.layerDigest,
    };
  }

  /** Builds every scenario image (once per process). */
  async ensureBuilt(names: readonly string[] = SCENARIO_IMAGES): Promise<ResolvedImage[]> {
    return Promise.all(names.map(async (name) => {
      const recipe = await this.readRecipe(name);
      if (!recipe) throw new Error(`expected a recipe at ${this.recipePath(name)}, got none`);
      return this.resolve(`${recipe.name}:${recipe.tag}`);
    }));
  }

  // #region resolve
  /**
   * Finds an image by reference, building it from its recipe on first use.
   * A malformed reference is refused before the disk is touched
   * (InvalidImageName); a well-formed one the store cannot make is ErrImagePull.
   */
  async resolve(ref: string): Promise<ResolvedImage> {
    const parsed = parseImageRef(ref);
    // Why ErrImagePull for other registries: there is no network to pull from.
    if (parsed.domain !== 'docker.io' || parsed.name.includes('/')) {
      throw new RuntimeError('ErrImagePull', `failed to pull image "${ref}": only the local images built from images/<name>/recipe.json exist here, and no registry is reachable`);
    }
    const recipe = await this.readRecipe(parsed.name);
    if (!recipe) {
      throw new RuntimeError('ErrImagePull', `failed to pull image "${ref}": no such image; there is no recipe images/${parsed.name}/recipe.json and no registry is reachable`);
    }
    if (recipe.tag !== parsed.tag) {
      throw new RuntimeError('ErrImagePull', `failed to pull image "${ref}": tag ${parsed.tag} not found; the recipe images/${parsed.name}/recipe.json builds ${recipe.name}:${recipe.tag}`);
    }
    let build = this.builds.get(parsed.short);
    if (!build) {
      build = this.build(parsed.name);
      this.builds.set(parsed.short, build);
      // Why forget a failed build: the next pull should try again, not repeat the old error forever.
      build.catch(() => this.builds.delete(parsed.short));
    }
    return build;
  }
  // #endregion resolve

  /** The CRI PullImage: makes the image present and says what it is. */
  async pullImage(ref: string): Promise<ImageInfo> {
    const image = await this.resolve(ref);
    return { ref: image.ref, id: image.id, size: image.size };
  }

  /** The images whose layouts exist in the store (CRI ListImages). */
  async listImages(): Promise<ImageInfo[]> {
    const images: ImageInfo[] = [];
    const oci = join(this.root, 'oci');
    for (const name of (await readdir(oci).catch(() => [])).sort()) {
      for (const tag of (await readdir(join(oci, name)).catch(() => [])).sort()) {
        const loaded = await readImageLayout(join(oci, name, tag), tag).catch(() => undefined);
        if (loaded) images.push({ ref: `${name}:${tag}`, id: loaded.manifestDigest, size: loaded.size });
      }
    }
    return images;
  }

  // #region unpack
  /**
   * Extracts an image's layer once into rootfs/<manifest digest>, shared by
   * every container of that image (overlayfs never writes to it). Returns the folder.
   */
  async unpack(ref: string): Promise<string> {
    const image = await this.resolve(ref);
    let unpack = this.unpacks.get(image.id);
    if (!unpack) {
      unpack = this.extract(image);
      this.unpacks.set(image.id, unpack);
      unpack.catch(() => this.unpacks.delete(image.id));
    }
    return unpack;
  }
  // #endregion unpack

  private async extract(image: ResolvedImage): Promise<string> {
    const target = this.rootfsDir(image.id);
    if (await exists(target)) return target;
    // Why extract beside the target and rename: a crash leaves a .tmp folder, never a half-filled rootfs.
    const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    await mkdir(tmp, { recursive: true });
    try {
      // Why GNU tar and not our own reader: extraction is where the traps are
      // (symlinks pointing out, "..", special files); tar already refuses them.
      await run('tar', ['-x', '-z', '--numeric-owner', '-f', blobPath(image.layoutDir, image.layerDigest), '-C', tmp]);
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      // Why accept a concurrent winner: another process may have renamed its copy first.
      if (await exists(target)) return target;
      throw err;
    }
    return target;
  }

  // #region overlay
  /**
   * Gives a container its own copy-on-write root: an overlayfs at
   * <containerDir>/rootfs with the image's shared rootfs below and
   * <containerDir>/upper above (writes land there). Real mode only.
   */
  async mountContainerRoot(digest: string, containerDir: string): Promise<string> {
    requireLinuxRoot('mounting a container root');
    validateMountPath(containerDir, 'the container folder');
    validateMountPath(this.root, 'the image store root');
    const lower = this.rootfsDir(digest);
    if (!(await exists(lower))) throw new Error(`expected image ${digest} unpacked at ${lower} (call unpack first), got nothing there`);
    const [upper, work, target] = ['upper', 'work', 'rootfs'].map((d) => join(containerDir, d)) as [string, string, string];
    if (await isMounted(target)) return target; // Why: adopting a container that is already mounted.
    for (const dir of [upper, work, target]) await mkdir(dir, { recursive: true });
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, target]);
    return target;
  }

  /** Unmounts a container's root and removes the folders mountContainerRoot made; idempotent. */
  async unmountContainerRoot(containerDir: string): Promise<void> {
    validateMountPath(containerDir, 'the container folder');
    const target = join(containerDir, 'rootfs');
    if (await isMounted(target)) await run('umount', [target]);
    // Why rmdir (not rm -r) for rootfs: should it still be mounted, the image's files must not be deleted through it.
    await rmdir(target).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rm(join(containerDir, 'upper'), { recursive: true, force: true });
    await rm(join(containerDir, 'work'), { recursive: true, force: true });
  }
  // #endregion overlay
}
