/**
 * The images the sim runtime knows, and the checks every image reference goes
 * through first. No registry is involved: "pulling" a known image makes it
 * present; any other name fails as containerd fails for a missing image.
 * Each image carries the Entrypoint and Cmd of its real recipe in images/, so
 * the sim and runc decide a container's process the same way.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../workbook/root.ts';
import { RuntimeError, type ImageInfo } from './cri.ts';
import type { SimImageProfile } from './sim-program.ts';

/** The part of an OCI image config that decides what a container runs. */
export interface SimImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
}

/** A parsed image reference: the full name containerd uses and the short one people write. */
export interface ImageRef {
  /** e.g. "docker.io/library/busybox:latest". */
  full: string;
  /** e.g. "busybox:latest" (docker.io/library/ dropped, tag made explicit). */
  familiar: string;
  /** The familiar repository without tag, e.g. "busybox". */
  repository: string;
  digest?: string;
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?';
const REFERENCE = new RegExp(`^(?:(${DOMAIN})/)?(${COMPONENT}(?:/${COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`);

// #region image-ref
/** Parses an image reference, refusing first anything that could escape an image store on disk. */
export function parseImageRef(ref: string): ImageRef {
  // Why: checked before the grammar so that the refusal says why, and before anything touches a store.
  if (ref.includes('\0') || ref.startsWith('/') || ref.includes('\\') || ref.split(/[/:@]/).includes('..')) {
    throw new RuntimeError('InvalidImageName', `expected an image reference such as "busybox:1.36", got ${JSON.stringify(ref)}: it would escape the image store`);
  }
  const match = REFERENCE.exec(ref);
  if (!match) throw new RuntimeError('InvalidImageName', `expected an image reference such as "busybox:1.36", got ${JSON.stringify(ref)}: invalid reference format`);
  let [, domain, path, tag, digest] = match;
  // Why: "library/busybox" has no dot, colon or "localhost" in its first part, so that part is a path, not a registry.
  if (domain !== undefined && !/[.:]/.test(domain) && domain !== 'localhost') {
    path = `${domain}/${path}`;
    domain = undefined;
  }
  domain ??= 'docker.io';
  if (domain === 'docker.io' && !path!.includes('/')) path = `library/${path}`;
  tag ??= digest ? undefined : 'latest';
  const suffix = `${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
  const repository = domain === 'docker.io' ? path!.replace(/^library\//, '') : `${domain}/${path}`;
  return { full: `${domain}/${path}${suffix}`, familiar: `${repository}${suffix}`, repository, ...(digest ? { digest } : {}) };
}
// #endregion image-ref

/** One image the sim can "pull". */
export interface SimImage extends SimImageProfile {
  info: ImageInfo;
  /** The image's Entrypoint and Cmd, as its OCI config has them. */
  config: SimImageConfig;
}

const SERVERS: Record<string, SimImageProfile['server']> = {
  // Why no startup line: busybox httpd, which the real images run, prints none; their CGI scripts log each request instead.
  backend: { port: 8080 },
  frontend: { port: 3000 },
  nginx: { port: 80 },
};

/** The scenario's images, by familiar name. */
export const DEFAULT_SIM_IMAGES = ['backend:v0.0.1', 'frontend:v0.0.1', 'nginx:1.14.2', 'busybox:latest'];

/**
 * The Entrypoint and Cmd of the recipe images/<name>/recipe.json, its base's
 * first (a key the recipe sets replaces the base's), as the image store builds
 * them; undefined when there is no such recipe.
 */
export function recipeRunConfig(name: string, recipesDir = join(projectRoot, 'images')): SimImageConfig | undefined {
  const path = join(recipesDir, name, 'recipe.json');
  // Why check the name: it comes from an image reference and must stay one folder inside images/.
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name) || !existsSync(path)) return undefined;
  const recipe = JSON.parse(readFileSync(path, 'utf8')) as { base?: string; config?: SimImageConfig };
  const base = recipe.base ? recipeRunConfig(recipe.base, recipesDir) : undefined;
  const merged = { ...base, ...recipe.config };
  return { ...(merged.Entrypoint ? { Entrypoint: [...merged.Entrypoint] } : {}), ...(merged.Cmd ? { Cmd: [...merged.Cmd] } : {}) };
}

/**
 * Builds the catalogue entry for a familiar name: a fake sha256 id computed
 * from the name, a fake size, and the run config of its recipe. An image
 * without a recipe (and no `config` given) runs its own program,
 * `/usr/local/bin/<name>`, as control-plane images do.
 */
export function simImage(familiar: string, server?: SimImageProfile['server'], config?: SimImageConfig): SimImage {
  const ref = parseImageRef(familiar);
  const digest = createHash('sha256').update(ref.full).digest('hex');
  const size = 1_000_000 + (parseInt(digest.slice(0, 6), 16) % 9_000_000);
  const name = ref.repository.split('/').pop()!;
  const profile = server ?? SERVERS[name];
  // Why only the scenario's recipes: an extra image that happens to share a name (say "nginx:1.25") is not our stand-in.
  const recipe = DEFAULT_SIM_IMAGES.includes(ref.familiar) ? recipeRunConfig(name) : undefined;
  const runConfig = config ?? recipe ?? { Entrypoint: [`/usr/local/bin/${name}`] };
  return { name, ...(profile ? { server: profile } : {}), config: runConfig, info: { ref: ref.familiar, id: `sha256:${digest}`, size } };
}

/** The message containerd gives when a registry has no such image, which the kubelet puts in the Pod's status. */
export function pullNotFound(ref: ImageRef): RuntimeError {
  return new RuntimeError(
    'ErrImagePull',
    `rpc error: code = NotFound desc = failed to pull and unpack image "${ref.full}": failed to resolve reference "${ref.full}": ${ref.full}: not found`,
  );
}
