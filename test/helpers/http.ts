/**
 * A plain HTTP GET for tests that talk to a Pod at its IP, with Node's
 * strict parser (the one the kubelet's HTTP probes use), so a server that
 * sends malformed headers fails here too.
 */
import { get } from 'node:http';

/** GETs `url`; resolves to the status code and the body as text; rejects after 5 s. */
export function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}
