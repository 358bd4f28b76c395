import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Event, KubeObject, LabelSelector, Node, Pod } from '../api/types.ts';
import { findResource, type ResourceInfo } from './resources.ts';
import {
  checkFieldSelector, fieldsOf, formatLabelRequirements, formatLabelSelector, labelSelectorFromSpec, matchesFields,
  matchesLabels, parseFieldSelector, parseLabelSelector, selectorFromSet, selectorMatches, type LabelRequirement,
} from './selectors.ts';
import { ApiError } from './status.ts';

function info(group: string, resource: string): ResourceInfo {
  const found = findResource(group, 'v1', resource);
  assert.ok(found, `no resource ${group}/${resource}`);
  return found;
}

/** Asserts that `run` throws a 400 BadRequest with exactly this message. */
function assertBadRequest(run: () => unknown, message: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ApiError, `expected an ApiError, got ${String(error)}`);
    assert.equal(error.code, 400);
    assert.equal(error.reason, 'BadRequest');
    assert.equal(error.message, message);
    return true;
  });
}

describe('parseLabelSelector', () => {
  const cases: Array<{ name: string; text: string; want: LabelRequirement[] }> = [
    { name: 'an empty string selects everything', text: '', want: [] },
    { name: 'a = requirement needs the key to have that value', text: 'app=web', want: [{ key: 'app', operator: '=', values: ['web'] }] },
    { name: 'a == requirement is kept apart from =', text: 'app==web', want: [{ key: 'app', operator: '==', values: ['web'] }] },
    { name: 'a != requirement is read', text: 'tier!=db', want: [{ key: 'tier', operator: '!=', values: ['db'] }] },
    { name: 'an in requirement sorts its values', text: 'env in (prod, dev)', want: [{ key: 'env', operator: 'in', values: ['dev', 'prod'] }] },
    { name: 'a notin requirement is read', text: 'env notin (test)', want: [{ key: 'env', operator: 'notin', values: ['test'] }] },
    { name: 'a bare key means the label exists', text: 'canary', want: [{ key: 'canary', operator: 'exists', values: [] }] },
    { name: 'a ! before a key means the label does not exist', text: '!canary', want: [{ key: 'canary', operator: '!', values: [] }] },
    { name: 'an empty value after = is the empty string', text: 'tier=', want: [{ key: 'tier', operator: '=', values: [''] }] },
    { name: 'the word in may be a value', text: 'mode in (in,notin)', want: [{ key: 'mode', operator: 'in', values: ['in', 'notin'] }] },
    { name: 'prefixed keys are allowed', text: 'example.com/team=core', want: [{ key: 'example.com/team', operator: '=', values: ['core'] }] },
    {
      name: 'several requirements are sorted by key whatever the spaces',
      text: ' tier != db ,app=web,  !canary',
      want: [
        { key: 'app', operator: '=', values: ['web'] },
        { key: 'canary', operator: '!', values: [] },
        { key: 'tier', operator: '!=', values: ['db'] },
      ],
    },
    {
      name: 'empty entries in a value set stand for the empty value, as in the real parser',
      text: 'x in (foo,,baz),y,z notin ()',
      want: [
        { key: 'x', operator: 'in', values: ['', 'baz', 'foo'] },
        { key: 'y', operator: 'exists', values: [] },
        { key: 'z', operator: 'notin', values: [''] },
      ],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(parseLabelSelector(c.text), c.want));

  const errors: Array<{ name: string; text: string; message: string }> = [
    { name: 'an unclosed value set says what it expected', text: 'env in (prod', message: "unable to parse requirement: found '', expected: ',' or ')'" },
    { name: 'a value set that never opens says it wanted a parenthesis', text: 'env in prod', message: "unable to parse requirement: found 'prod' expected: '('" },
    { name: 'two words with no operator list the operators', text: 'app web', message: 'unable to parse requirement: found \'web\', expected: in, notin, =, ==, !=, gt, lt' },
    { name: 'a trailing comma wants another requirement', text: 'app=web,', message: "found '', expected: identifier after ','" },
    { name: 'a second = after a value is not understood', text: 'a=b=c', message: "found '=', expected: ',' or 'end of string'" },
    { name: 'a selector may not start with a comma', text: ',app', message: "found ',', expected: !, identifier, or 'end of string'" },
    {
      name: 'a bad key is reported against the empty path, as the real parser does',
      text: '-app=web',
      message: 'unable to parse requirement: <nil>: Invalid value: "-app": name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character (e.g. \'MyName\' or \'my.name\' or \'123-abc\', regex used for validation is \'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\')',
    },
    {
      name: 'a bad value names its index and key',
      text: 'app=-web',
      message: 'unable to parse requirement: values[0][app]: Invalid value: "-web": a valid label must be an empty string or consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character (e.g. \'MyValue\' or \'my_value\' or \'12345\', regex used for validation is \'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\')',
    },
  ];
  for (const c of errors) it(c.name, () => assertBadRequest(() => parseLabelSelector(c.text), c.message));
});

describe('matchesLabels', () => {
  const labels = { app: 'web', tier: 'frontend' };
  const cases: Array<{ name: string; selector: string; labels: Record<string, string> | undefined; want: boolean }> = [
    { name: 'no requirements match any labels', selector: '', labels, want: true },
    { name: 'no requirements match an object with no labels', selector: '', labels: undefined, want: true },
    { name: 'an equality matches the same value', selector: 'app=web', labels, want: true },
    { name: 'an equality does not match another value', selector: 'app=api', labels, want: false },
    { name: 'an equality does not match a missing label', selector: 'env=prod', labels, want: false },
    { name: 'an inequality matches a missing label', selector: 'env!=prod', labels, want: true },
    { name: 'an inequality does not match the same value', selector: 'app!=web', labels, want: false },
    { name: 'in matches any listed value', selector: 'tier in (backend,frontend)', labels, want: true },
    { name: 'notin matches a missing label', selector: 'env notin (prod)', labels, want: true },
    { name: 'notin refuses a listed value', selector: 'tier notin (frontend)', labels, want: false },
    { name: 'exists needs the key', selector: 'tier', labels, want: true },
    { name: 'does-not-exist refuses the key', selector: '!tier', labels, want: false },
    { name: 'every requirement must hold', selector: 'app=web,tier=backend', labels, want: false },
    { name: 'gt compares integers', selector: 'rank>3', labels: { rank: '5' }, want: true },
    { name: 'gt never matches a value that is not an integer', selector: 'rank>3', labels: { rank: 'high' }, want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(matchesLabels(parseLabelSelector(c.selector), c.labels), c.want));
});

describe('label selectors from specs', () => {
  it('converts matchLabels and matchExpressions into one sorted list', () => {
    const selector: LabelSelector = {
      matchLabels: { tier: 'web' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'dev'] },
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'zone', operator: 'Exists' },
      ],
    };
    assert.deepEqual(labelSelectorFromSpec(selector), [
      { key: 'canary', operator: '!', values: [] },
      { key: 'env', operator: 'in', values: ['prod', 'dev'] },
      { key: 'tier', operator: '=', values: ['web'] },
      { key: 'zone', operator: 'exists', values: [] },
    ]);
  });

  it('refuses In without values', () => {
    assertBadRequest(
      () => labelSelectorFromSpec({ matchExpressions: [{ key: 'env', operator: 'In', values: [] }] }),
      "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty",
    );
  });

  it('refuses Exists with values', () => {
    assertBadRequest(
      () => labelSelectorFromSpec({ matchExpressions: [{ key: 'env', operator: 'Exists', values: ['x'] }] }),
      'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist',
    );
  });

  it('refuses an unknown operator', () => {
    const selector = { matchExpressions: [{ key: 'env', operator: 'Near' }] } as unknown as LabelSelector;
    assertBadRequest(() => labelSelectorFromSpec(selector), '"Near" is not a valid label selector operator');
  });

  it('lets an empty selector match everything but a missing selector match nothing', () => {
    assert.equal(selectorMatches({}, { app: 'web' }), true);
    assert.equal(selectorMatches(undefined, { app: 'web' }), false);
  });

  it('turns a Service selector map into equality requirements', () => {
    const requirements = selectorFromSet({ tier: 'backend', app: 'shop' });
    assert.equal(formatLabelRequirements(requirements), 'app=shop,tier=backend');
    assert.equal(matchesLabels(requirements, { app: 'shop', tier: 'backend', pod: 'x' }), true);
  });
});

describe('formatLabelSelector', () => {
  const cases: Array<{ name: string; selector: LabelSelector | undefined; want: string }> = [
    { name: 'matchLabels print as key=value', selector: { matchLabels: { app: 'web' } }, want: 'app=web' },
    { name: 'an In expression prints its sorted values in parentheses', selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['b', 'a'] }] }, want: 'app in (a,b)' },
    { name: 'a NotIn expression prints notin', selector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['test'] }] }, want: 'env notin (test)' },
    { name: 'Exists prints the bare key and DoesNotExist a !', selector: { matchExpressions: [{ key: 'b', operator: 'DoesNotExist' }, { key: 'a', operator: 'Exists' }] }, want: 'a,!b' },
    { name: 'a mixed selector is sorted by key', selector: { matchLabels: { tier: 'web' }, matchExpressions: [{ key: 'app', operator: 'In', values: ['x'] }] }, want: 'app in (x),tier=web' },
    { name: 'an empty selector prints <none>', selector: {}, want: '<none>' },
    { name: 'a missing selector prints <none>', selector: undefined, want: '<none>' },
    { name: 'a malformed selector prints <error>', selector: { matchExpressions: [{ key: 'a', operator: 'In' }] }, want: '<error>' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(formatLabelSelector(c.selector), c.want));
});

describe('parseFieldSelector', () => {
  it('reads =, == and != terms, sorted as the real parser sorts them', () => {
    assert.deepEqual(parseFieldSelector('status.phase=Running,spec.nodeName!=node-1,metadata.name==web'), [
      { field: 'metadata.name', operator: '==', value: 'web' },
      { field: 'spec.nodeName', operator: '!=', value: 'node-1' },
      { field: 'status.phase', operator: '=', value: 'Running' },
    ]);
  });

  it('unescapes \\, \\= and \\\\ in values', () => {
    assert.deepEqual(parseFieldSelector('metadata.name=a\\,b\\=c\\\\d'), [{ field: 'metadata.name', operator: '=', value: 'a,b=c\\d' }]);
  });

  it('reads an empty string as no requirements', () => {
    assert.deepEqual(parseFieldSelector(''), []);
  });

  const errors: Array<{ name: string; text: string; message: string }> = [
    { name: 'a term without an operator is not understood', text: 'status.phase=Running,Pending', message: "invalid selector: 'status.phase=Running,Pending'; can't understand 'Pending'" },
    { name: 'an unknown escape is refused', text: 'metadata.name=a\\b', message: 'invalid field selector: invalid escape sequence: \\b' },
    { name: 'an unescaped = in a value is refused', text: 'metadata.name=a=b', message: 'invalid field selector: unescaped character in value: =' },
    { name: 'a lone trailing backslash is refused', text: 'metadata.name=a\\', message: 'invalid field selector: invalid escape sequence: \\' },
  ];
  for (const c of errors) it(c.name, () => assertBadRequest(() => parseFieldSelector(c.text), c.message));
});

describe('field selectors per resource', () => {
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'default' },
    spec: { containers: [{ name: 'web', image: 'web:v1' }], nodeName: 'node-2', restartPolicy: 'Always', schedulerName: 'default-scheduler' },
    status: { phase: 'Running', podIP: '10.244.2.5', podIPs: [{ ip: '10.244.2.5' }] },
  };

  it('gives a pod its selectable fields as strings', () => {
    assert.deepEqual(fieldsOf(info('', 'pods'), pod), {
      'metadata.name': 'web-1',
      'metadata.namespace': 'default',
      'spec.nodeName': 'node-2',
      'spec.restartPolicy': 'Always',
      'spec.schedulerName': 'default-scheduler',
      'spec.serviceAccountName': '',
      'spec.hostNetwork': 'false',
      'status.phase': 'Running',
      'status.podIP': '10.244.2.5',
      'status.nominatedNodeName': '',
    });
  });

  it('gives a cluster-scoped node no namespace field', () => {
    const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, spec: { unschedulable: true } };
    assert.deepEqual(fieldsOf(info('', 'nodes'), node), { 'metadata.name': 'node-1', 'spec.unschedulable': 'true' });
  });

  it('gives an event its involvedObject fields and falls back to reportingComponent for source', () => {
    const event: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'web-1.17', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', uid: 'u1' },
      reason: 'Scheduled',
      type: 'Normal',
      reportingComponent: 'default-scheduler',
    };
    const fields = fieldsOf(info('', 'events'), event);
    assert.equal(fields['involvedObject.name'], 'web-1');
    assert.equal(fields['involvedObject.kind'], 'Pod');
    assert.equal(fields.source, 'default-scheduler');
    assert.equal(matchesFields(parseFieldSelector('involvedObject.name=web-1,type=Normal'), fields), true);
  });

  it('matches a pod by node and phase, the way a kubelet lists its pods', () => {
    const fields = fieldsOf(info('', 'pods'), pod);
    assert.equal(matchesFields(parseFieldSelector('spec.nodeName=node-2'), fields), true);
    assert.equal(matchesFields(parseFieldSelector('spec.nodeName=node-3'), fields), false);
    assert.equal(matchesFields(parseFieldSelector('status.phase!=Succeeded,status.phase!=Failed'), fields), true);
  });

  it('matches a missing field as the empty string, which is how the scheduler finds unbound pods', () => {
    const unbound = { ...pod, spec: { containers: [] } } as KubeObject;
    assert.equal(matchesFields(parseFieldSelector('spec.nodeName='), fieldsOf(info('', 'pods'), unbound)), true);
  });

  it('rewrites the old spec.host field to spec.nodeName', () => {
    assert.deepEqual(checkFieldSelector(info('', 'pods'), parseFieldSelector('spec.host=node-1')), [{ field: 'spec.nodeName', operator: '=', value: 'node-1' }]);
  });

  const refusals: Array<{ name: string; group: string; resource: string; selector: string; message: string }> = [
    { name: 'a pod field that is not selectable is refused with the core wording', group: '', resource: 'pods', selector: 'spec.containers=x', message: 'field label not supported: spec.containers' },
    { name: 'a node has no metadata.namespace to select on', group: '', resource: 'nodes', selector: 'metadata.namespace=default', message: 'field label not supported: metadata.namespace' },
    { name: 'a job refuses with the batch wording', group: 'batch', resource: 'jobs', selector: 'status.active=1', message: 'field label "status.active" not supported for batchv1.Job' },
    {
      name: 'a replicaset refuses status.replicas, as the real apps/v1 does',
      group: 'apps',
      resource: 'replicasets',
      selector: 'status.replicas=0',
      message: '"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
    },
    { name: 'a configmap accepts only metadata fields', group: '', resource: 'configmaps', selector: 'data.x=1', message: '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"' },
  ];
  for (const c of refusals) {
    it(c.name, () => assertBadRequest(() => fieldsOf(info(c.group, c.resource), { apiVersion: '', kind: '', metadata: {} }, parseFieldSelector(c.selector)), c.message));
  }

  it('accepts every field it lists for a resource', () => {
    assert.doesNotThrow(() => checkFieldSelector(info('batch', 'jobs'), parseFieldSelector('status.successful=1,metadata.name=pi')));
    assert.doesNotThrow(() => checkFieldSelector(info('', 'services'), parseFieldSelector('spec.type=ClusterIP,spec.clusterIP=None')));
    assert.doesNotThrow(() => checkFieldSelector(info('', 'namespaces'), parseFieldSelector('status.phase=Active')));
  });
});
