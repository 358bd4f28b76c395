/**
 * The cluster's certificates, as kubeadm makes them: a cluster CA, and a
 * serving certificate for the API server signed by it, valid for
 * `127.0.0.1`, `localhost`, `kubernetes`, `kubernetes.default.svc...` and the
 * `kubernetes` Service's ClusterIP. Clients trust the CA (the kubeconfig
 * carries it as `certificate-authority-data`). TLS is not optional: client-go
 * and so kubectl send a bearer token only over TLS.
 *
 * Node can sign but not build certificates, so this file writes the few
 * X.509 structures needed in DER (ASN.1) by hand, with ECDSA P-256 keys.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

// #region der
/** One DER element: a tag byte, the length, the content. */
function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

const sequence = (...items: Buffer[]) => der(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => der(0x31, Buffer.concat(items));
const explicit = (n: number, inner: Buffer) => der(0xa0 + n, inner);
const octets = (content: Buffer) => der(0x04, content);
const utf8 = (text: string) => der(0x0c, Buffer.from(text, 'utf8'));
const bool = (value: boolean) => der(0x01, Buffer.from([value ? 0xff : 0]));

/** A non-negative INTEGER: big-endian, with a leading zero when the top bit is set (else it would read as negative). */
function integer(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && ((b[1] ?? 0) & 0x80) === 0) b = b.subarray(1);
  return der(0x02, (b[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

/** An OBJECT IDENTIFIER from its dotted form: the first two arcs share a byte, the rest are base-128. */
function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes = [40 * (arcs[0] ?? 0) + (arcs[1] ?? 0)];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let rest = arc >>> 7; rest > 0; rest >>>= 7) chunk.unshift((rest & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

/** A BIT STRING of whole bytes (no unused bits). */
const bits = (content: Buffer) => der(0x03, Buffer.concat([Buffer.from([0]), content]));

/** UTCTime `YYMMDDHHMMSSZ` (valid until 2049, which the certificates' ten years stay within). */
function utcTime(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-11-22T08:00:00.000Z
  const text = iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z';
  return der(0x17, Buffer.from(text, 'ascii'));
}
// #endregion der

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

/** An X.509 Name with a common name and optional organization. */
function name(commonName: string, organization?: string): Buffer {
  const rdns = [set(sequence(oid(OID.commonName), utf8(commonName)))];
  if (organization) rdns.unshift(set(sequence(oid(OID.organization), utf8(organization))));
  return sequence(...rdns);
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), bool(true), octets(value)) : sequence(oid(id), octets(value));
}

/** A key usage BIT STRING, with the count of unused trailing bits DER asks for. */
function keyUsage(flags: number): Buffer {
  let unused = 0;
  while (unused < 7 && ((flags >> unused) & 1) === 0) unused++;
  return der(0x03, Buffer.from([unused, flags]));
}

/** subjectAltName entries: DNS names ([2]) and IPv4 addresses ([7]). */
function altNames(dnsNames: string[], ips: string[]): Buffer {
  const entries = [
    ...dnsNames.map((n) => der(0x82, Buffer.from(n, 'ascii'))),
    ...ips.map((ip) => der(0x87, Buffer.from(ip.split('.').map(Number)))),
  ];
  return sequence(...entries);
}

/** A certificate and its private key, both PEM. */
export interface CertificatePair {
  cert: string;
  key: string;
}

/** What a certificate says about its subject. */
export interface CertificateRequest {
  commonName: string;
  organization?: string;
  isCA: boolean;
  dnsNames?: string[];
  ips?: string[];
  days?: number;
}

// #region sign
/** A certificate for `request`, signed by `issuer` (or self-signed when there is none), with a fresh P-256 key. */
export function issueCertificate(request: CertificateRequest, issuer?: { cert: CertificatePair; commonName: string; organization?: string }): CertificatePair {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer: KeyObject = issuer ? createPrivateKey(issuer.cert.key) : keys.privateKey;
  const issuerName = issuer ? name(issuer.commonName, issuer.organization) : name(request.commonName, request.organization);
  const now = Date.now();
  const notBefore = new Date(now - 60 * 60 * 1000); // an hour of slack for clocks that disagree
  const notAfter = new Date(now + (request.days ?? 3650) * 24 * 60 * 60 * 1000);
  const algorithm = sequence(oid(OID.ecdsaWithSha256));

  const extensions = request.isCA
    ? [extension(OID.basicConstraints, true, sequence(bool(true))), extension(OID.keyUsage, true, keyUsage(0x80 | 0x04 | 0x02))]
    : [
        extension(OID.basicConstraints, true, sequence()),
        extension(OID.keyUsage, true, keyUsage(0x80 | 0x20)),
        extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth), oid(OID.clientAuth))),
        extension(OID.subjectAltName, false, altNames(request.dnsNames ?? [], request.ips ?? [])),
      ];

  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // version 3
    integer(randomBytes(16)),
    algorithm,
    issuerName,
    sequence(utcTime(notBefore), utcTime(notAfter)),
    name(request.commonName, request.organization),
    keys.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, signer); // ECDSA, DER-encoded (r, s)
  const certificate = sequence(tbs, algorithm, bits(signature));
  return { cert: pem('CERTIFICATE', certificate), key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}
// #endregion sign

function pem(label: string, body: Buffer): string {
  const lines = body.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The cluster's CA and the API server's serving certificate. */
export interface ClusterPki {
  ca: CertificatePair;
  apiserver: CertificatePair;
}

// #region cluster-pki
/** A new CA named `kubernetes` and an API server certificate for every name a client may use to reach it. */
export function clusterPki(serviceIP = '10.96.0.1'): ClusterPki {
  const ca = issueCertificate({ commonName: 'kubernetes', isCA: true });
  const apiserver = issueCertificate(
    {
      commonName: 'kube-apiserver',
      isCA: false,
      dnsNames: ['localhost', 'node-1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
      ips: ['127.0.0.1', serviceIP],
      days: 365,
    },
    { cert: ca, commonName: 'kubernetes' },
  );
  return { ca, apiserver };
}
// #endregion cluster-pki
