/**
 * Authentication: who is asking. The API server reads an `Authorization:
 * Bearer <token>` header and looks the token up in a static token table, the
 * way kube-apiserver's `--token-auth-file` does. A request without a token,
 * or with an unknown one, is 401 Unauthorized, except for the few public
 * paths a load balancer probes.
 */
import { randomBytes } from 'node:crypto';

/** The identity a request runs as: a user name and the groups RBAC bindings can name. */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
}

/** Paths that answer without credentials, as the real system:public-info-viewer role allows. */
export const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

// #region authenticate
/** Maps bearer tokens to users. */
export class TokenAuthenticator {
  private readonly tokens = new Map<string, UserInfo>();

  /** Accept `token` as `user`; every authenticated user is also in `system:authenticated`. */
  add(token: string, user: UserInfo): void {
    const groups = user.groups.includes('system:authenticated') ? user.groups : [...user.groups, 'system:authenticated'];
    this.tokens.set(token, { ...user, groups });
  }

  /** The user an Authorization header names, or undefined when it names nobody. */
  authenticate(header: string | undefined): UserInfo | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return match ? this.tokens.get(match[1] ?? '') : undefined;
  }
}
// #endregion authenticate

/** The anonymous identity of a request to a public path. */
export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

/** A fresh random bearer token (32 bytes, hex). */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** One line of a `--token-auth-file`: `token,user,uid,"group1,group2"`. */
export function tokenFileLine(token: string, user: UserInfo): string {
  return `${token},${user.name},${user.uid ?? user.name},"${user.groups.join(',')}"`;
}

/** Reads a token file's lines into the authenticator; a malformed line is an error naming its number. */
export function loadTokenFile(text: string, into = new TokenAuthenticator()): TokenAuthenticator {
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^([^,]+),([^,]+),([^,]*)(?:,"?([^"]*)"?)?$/.exec(line);
    if (!match) throw new Error(`token file line ${index + 1}: expected token,user,uid[,"group1,group2"], got ${JSON.stringify(line)}`);
    const groups = (match[4] ?? '').split(',').map((g) => g.trim()).filter(Boolean);
    into.add(match[1] ?? '', { name: match[2] ?? '', uid: match[3] || undefined, groups });
  });
  return into;
}
