/** Event bus resource policies as the local EventBridge applies them to events of another account's rules. */
import { describe, expect, it } from 'vitest';
import { type BusPolicy, parseBusPolicy, refusal } from '../../src/local/cloud/bus-policy';
import { ApiError } from '../../src/local/cloud/protocol';

const BUS = 'arn:aws:events:us-east-1:111122223333:event-bus/default';
const RULE = 'arn:aws:events:eu-west-1:444455556666:rule/sagemaker-rollouts-events-ForwardRule';
const request = {
  account: '444455556666',
  ruleArn: RULE,
  source: 'aws.sagemaker',
  detailType: 'SageMaker Endpoint State Change',
};
const allow = (extra: Record<string, unknown> = {}) => ({
  Effect: 'Allow' as const,
  Principal: { AWS: 'arn:aws:iam::444455556666:root' },
  Action: 'events:PutEvents',
  Resource: BUS,
  ...extra,
});
const policy = (...Statement: BusPolicy['Statement']): BusPolicy => ({ Version: '2012-10-17', Statement });

describe('an event bus policy', () => {
  it('allows the account it names (root ARN, bare id or *), on its bus, for the action', () => {
    expect(refusal(policy(allow()), BUS, request)).toBeUndefined();
    expect(refusal(policy(allow({ Principal: { AWS: ['444455556666'] } })), BUS, request)).toBeUndefined();
    expect(refusal(policy(allow({ Principal: '*' })), BUS, request)).toBeUndefined();
    expect(
      refusal(policy(allow({ Resource: 'arn:aws:events:us-east-1:111122223333:event-bus/*' })), BUS, request),
    ).toBeUndefined();
    expect(refusal(policy(allow({ Principal: { AWS: '999988887777' } })), BUS, request)).toMatch(
      /allows account 444455556666 no/,
    );
    expect(refusal(policy(allow({ Resource: `${BUS}-other` })), BUS, request)).toMatch(/allows account/);
    expect(refusal(policy(allow({ Action: 'events:PutRule' })), BUS, request)).toMatch(/allows account/);
    expect(refusal(undefined, BUS, request)).toBe(
      `${BUS} has no resource policy: it takes no events from account 444455556666`,
    );
  });

  it('holds its conditions: source and detail type, the sending rule and its account', () => {
    const on = (Condition: Record<string, Record<string, string | string[]>>) =>
      refusal(policy(allow({ Condition })), BUS, request);
    expect(on({ 'ForAllValues:StringEquals': { 'events:source': 'aws.sagemaker' } })).toBeUndefined();
    expect(
      on({ StringEquals: { 'events:detail-type': ['Other', 'SageMaker Endpoint State Change'] } }),
    ).toBeUndefined();
    expect(on({ StringEquals: { 'events:source': 'aws.ec2' } })).toMatch(
      /no events:PutEvents of aws.sagemaker/,
    );
    expect(
      on({ ArnLike: { 'aws:SourceArn': 'arn:aws:events:*:444455556666:rule/sagemaker-rollouts-*' } }),
    ).toBeUndefined();
    expect(on({ ArnLike: { 'aws:SourceArn': 'arn:aws:events:*:444455556666:rule/other-*' } })).toBeDefined();
    expect(on({ StringEquals: { 'aws:SourceAccount': '444455556666' } })).toBeUndefined();
    expect(on({ Bool: { 'events:eventBusInvocation': 'true' } })).toBeUndefined();
  });

  it('an explicit Deny wins over an Allow', () => {
    const deny = { ...allow(), Sid: 'no-prod', Effect: 'Deny' as const };
    expect(refusal(policy(allow(), deny), BUS, request)).toBe(
      `explicitly denied by statement no-prod of the policy of ${BUS}`,
    );
  });

  it('is refused when it is not JSON, has no statement, or lacks a statement’s element', () => {
    const malformed = (text: string, message: string) => {
      expect(() => parseBusPolicy(text)).toThrow(new ApiError('MalformedPolicyDocumentException', message));
    };
    expect(() => parseBusPolicy('{')).toThrow(/^The policy is not valid: not JSON/);
    malformed('{"Statement":[]}', 'The policy is not valid: Statement must be a non-empty list');
    const { Resource: _r, ...withoutResource } = allow();
    malformed(
      JSON.stringify(policy(withoutResource as never)),
      'The policy is not valid: Statement[0].Resource is required',
    );
    malformed(
      JSON.stringify(policy(allow({ Condition: { NumericLessThan: { 'events:source': '1' } } }))),
      'The policy is not valid: Statement[0]: condition operator NumericLessThan is not supported by the local EventBridge',
    );
  });
});
