/**
 * The API server's request metrics, served at `/metrics` in Prometheus text
 * format as kube-apiserver serves them. `apiserver_request_duration_seconds`
 * is the histogram the Kubernetes API-call latency SLO is defined on: the
 * time the server spends on each request, by verb and resource, with WATCH
 * and log streams left out (they last as long as the client wants).
 */

/** kube-apiserver's buckets for apiserver_request_duration_seconds, in seconds. */
export const REQUEST_DURATION_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

/** The labels one request is counted under. */
export interface RequestLabels {
  /** LIST, GET, POST, PUT, PATCH, APPLY, DELETE, DELETECOLLECTION, as the real metric spells them. */
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  /** `resource` (one named object), `namespace` or `cluster` (a collection). */
  scope: string;
}

interface Series {
  labels: RequestLabels;
  buckets: number[];
  sum: number;
  count: number;
  codes: Map<string, number>;
}

// #region metrics
/** The latency histogram and request counter of one API server. */
export class RequestMetrics {
  private readonly series = new Map<string, Series>();

  /** Count one finished request that took `seconds` and answered `code`. */
  observe(labels: RequestLabels, seconds: number, code: number): void {
    const key = labelText(labels);
    const s = this.series.get(key) ?? { labels, buckets: REQUEST_DURATION_BUCKETS.map(() => 0), sum: 0, count: 0, codes: new Map<string, number>() };
    this.series.set(key, s);
    REQUEST_DURATION_BUCKETS.forEach((le, i) => {
      if (seconds <= le) s.buckets[i] = (s.buckets[i] ?? 0) + 1;
    });
    s.sum += seconds;
    s.count += 1;
    s.codes.set(String(code), (s.codes.get(String(code)) ?? 0) + 1);
  }

  /** Everything in Prometheus text exposition format. */
  render(): string {
    const lines = [
      '# HELP apiserver_request_duration_seconds Response latency distribution in seconds for each verb, group, version, resource, subresource and scope.',
      '# TYPE apiserver_request_duration_seconds histogram',
    ];
    for (const s of this.series.values()) {
      const base = labelText(s.labels);
      REQUEST_DURATION_BUCKETS.forEach((le, i) => lines.push(`apiserver_request_duration_seconds_bucket{${base},le="${le}"} ${s.buckets[i]}`));
      lines.push(`apiserver_request_duration_seconds_bucket{${base},le="+Inf"} ${s.count}`);
      lines.push(`apiserver_request_duration_seconds_sum{${base}} ${s.sum}`);
      lines.push(`apiserver_request_duration_seconds_count{${base}} ${s.count}`);
    }
    lines.push('# HELP apiserver_request_total Counter of apiserver requests broken out for each verb, group, version, resource, scope and HTTP response code.');
    lines.push('# TYPE apiserver_request_total counter');
    for (const s of this.series.values()) {
      for (const [code, n] of s.codes) lines.push(`apiserver_request_total{${labelText(s.labels)},code="${code}"} ${n}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
// #endregion metrics

function labelText(l: RequestLabels): string {
  return `component="apiserver",group="${l.group}",resource="${l.resource}",scope="${l.scope}",subresource="${l.subresource}",verb="${l.verb}",version="${l.version}"`;
}

/** The metric verb of a request: the API verb in capitals, with LIST for lists and APPLY for server-side apply. */
export function metricVerb(verb: string, method: string, contentType: string): string {
  if (verb === 'patch' && contentType.startsWith('application/apply-patch')) return 'APPLY';
  if (verb === 'list' || verb === 'deletecollection') return verb.toUpperCase();
  return method.toUpperCase();
}

/** One histogram read back from /metrics: cumulative counts per upper bound. */
export interface Histogram {
  buckets: Array<{ le: number; count: number }>;
  count: number;
}

/** The histogram of the series whose labels contain every `want` label, summed, from /metrics text. */
export function readHistogram(text: string, name: string, want: Record<string, string>): Histogram {
  const sums = new Map<number, number>();
  let count = 0;
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}_(bucket|count)\\{([^}]*)\\} (\\S+)$`).exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!Object.entries(want).every(([k, v]) => labels[k] === v)) continue;
    const value = Number(match[3]);
    if (match[1] === 'count') count += value;
    else {
      const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
      sums.set(le, (sums.get(le) ?? 0) + value);
    }
  }
  return { buckets: [...sums].map(([le, c]) => ({ le, count: c })).sort((a, b) => a.le - b.le), count };
}

/** The difference of two readings of the same histogram: what happened between them. */
export function histogramDelta(after: Histogram, before: Histogram): Histogram {
  return {
    buckets: after.buckets.map((b) => ({ le: b.le, count: b.count - (before.buckets.find((x) => x.le === b.le)?.count ?? 0) })),
    count: after.count - before.count,
  };
}

// #region quantile
/**
 * The q-quantile of a histogram the way Prometheus's histogram_quantile
 * estimates it (and so the way an SLO dashboard reads this metric): find the
 * bucket holding the q-th observation and interpolate linearly inside it.
 */
export function histogramQuantile(q: number, histogram: Histogram): number {
  const total = histogram.count;
  if (total === 0) return NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const { le, count } of histogram.buckets) {
    if (count >= rank) {
      // The last finite bound is the best answer for the +Inf bucket, as in Prometheus.
      if (le === Infinity) return lower;
      return lower + (le - lower) * ((rank - below) / Math.max(count - below, 1));
    }
    lower = le;
    below = count;
  }
  return lower;
}
// #endregion quantile
