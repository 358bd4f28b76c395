/**
 * Discovery: how a client learns what the server serves before it asks for
 * anything. kubectl reads `/version`, `/api` and `/apis` (aggregated
 * discovery when it can), then, to validate and patch what it applies, the
 * OpenAPI v3 document of each group/version. All of it is derived from the
 * resource table (resources.ts) and the schemas (schema.ts).
 */
import { createHash } from 'node:crypto';
import type { Reply } from './handlers.ts';
import { groupVersion, groupVersions, RESOURCES, type ResourceInfo } from './resources.ts';
import { openApiDocument } from './schema.ts';

/** The version this server reports: a Kubernetes minor that kubectl 1.29-1.33 talk to without warnings. */
export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-workbook',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'node' + process.versions.node,
  compiler: 'tsx',
  platform: `${process.platform}/${process.arch}`,
};

const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const AGGREGATED_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

/** The groups other than core, each with its versions. */
function groups(): Array<{ name: string; versions: string[] }> {
  const out = new Map<string, string[]>();
  for (const gv of groupVersions()) if (gv.group) out.set(gv.group, [...(out.get(gv.group) ?? []), gv.version]);
  return [...out].map(([name, versions]) => ({ name, versions }));
}

// #region resource-list
/** `/api/v1` or `/apis/apps/v1`: the APIResourceList kubectl reads short names and verbs from. */
export function resourceList(group: string, version: string): unknown {
  const resources = RESOURCES.filter((r) => r.group === group && r.version === version).flatMap((r) => [
    {
      name: r.resource,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length ? { categories: r.categories } : {}),
      storageVersionHash: hash(`${groupVersion(r)}/${r.kind}`),
    },
    ...r.subresources.map((s) => ({
      name: `${r.resource}/${s.name}`,
      singularName: '',
      namespaced: r.namespaced,
      kind: s.kind,
      verbs: s.verbs,
      ...(s.group ? { group: s.group, version: s.version } : {}),
    })),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}
// #endregion resource-list

/** A short stable hash, as the real server fills storageVersionHash and the OpenAPI `hash` parameter. */
function hash(text: string): string {
  return createHash('sha256').update(text).digest('base64').slice(0, 11);
}

/** The aggregated discovery document (apidiscovery.k8s.io) for `/api` (core) or `/apis` (the rest). */
function aggregated(core: boolean, version: 'v2' | 'v2beta1'): unknown {
  const byGroup = new Map<string, ResourceInfo[]>();
  for (const r of RESOURCES) if ((r.group === '') === core) byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), r]);
  const items = [...byGroup].map(([group, resources]) => ({
    metadata: { name: group, creationTimestamp: null },
    versions: [
      {
        version: resources[0]?.version ?? 'v1',
        freshness: 'Current',
        resources: resources.map((r) => ({
          resource: r.resource,
          responseKind: { group: r.group, version: r.version, kind: r.kind },
          scope: r.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: r.singular,
          verbs: r.verbs,
          ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
          ...(r.categories.length ? { categories: r.categories } : {}),
          subresources: r.subresources.map((s) => ({
            subresource: s.name,
            responseKind: { group: s.group ?? r.group, version: s.version ?? r.version, kind: s.kind },
            verbs: s.verbs,
          })),
        })),
      },
    ],
  }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}

// #region openapi-root
/** `/openapi/v3`: where each group/version's document is, with a hash kubectl caches by. */
function openApiRoot(): unknown {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of groupVersions()) {
    const path = gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`;
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash(JSON.stringify(openApiDocument(gv.group, gv.version)))}` };
  }
  return { paths };
}
// #endregion openapi-root

/** The answer for a path that names no resource, or undefined when nothing lives there. */
export function discoveryResponse(path: string, accept: string): Reply | undefined {
  const clean = path.length > 1 ? path.replace(/\/$/, '') : path;
  if (clean === '/healthz' || clean === '/livez' || clean === '/readyz') return { status: 200, body: 'ok', contentType: 'text/plain; charset=utf-8' };
  if (clean === '/version') return { status: 200, body: SERVER_VERSION };
  if (clean === '/api' || clean === '/apis') {
    // Aggregated discovery only in the version the client asked for; kubectl 1.27 misreads v2.
    const wanted = accept.includes('v=v2;') || accept.includes('v=v2,') ? 'v2' : accept.includes('v=v2beta1') ? 'v2beta1' : undefined;
    if (wanted) return { status: 200, body: aggregated(clean === '/api', wanted), contentType: wanted === 'v2' ? AGGREGATED_V2 : AGGREGATED_V2BETA1 };
    if (clean === '/api') return { status: 200, body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }] } };
    return {
      status: 200,
      body: {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: groups().map((g) => ({
          name: g.name,
          versions: g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v })),
          preferredVersion: { groupVersion: `${g.name}/${g.versions[0]}`, version: g.versions[0] },
        })),
      },
    };
  }
  const core = /^\/api\/([^/]+)$/.exec(clean);
  if (core && groupVersions().some((gv) => gv.group === '' && gv.version === core[1])) return { status: 200, body: resourceList('', core[1] ?? '') };
  const group = /^\/apis\/([^/]+)$/.exec(clean);
  const g = group ? groups().find((x) => x.name === group[1]) : undefined;
  if (g) {
    const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
    return { status: 200, body: { kind: 'APIGroup', apiVersion: 'v1', name: g.name, versions, preferredVersion: versions[0] } };
  }
  const gv = /^\/apis\/([^/]+)\/([^/]+)$/.exec(clean);
  if (gv && groupVersions().some((x) => x.group === gv[1] && x.version === gv[2])) return { status: 200, body: resourceList(gv[1] ?? '', gv[2] ?? '') };
  if (clean === '/openapi/v3') return { status: 200, body: openApiRoot() };
  const doc = /^\/openapi\/v3\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(clean);
  if (doc) {
    const groupName = doc[1] ? '' : doc[2] ?? '';
    const version = doc[1] ?? doc[3] ?? '';
    if (groupVersions().some((x) => x.group === groupName && x.version === version)) return { status: 200, body: openApiDocument(groupName, version) };
  }
  return undefined;
}
