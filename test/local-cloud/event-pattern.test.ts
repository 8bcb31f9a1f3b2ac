import { describe, expect, it } from 'vitest';
import { InvalidPatternError, matchesPattern, validatePattern } from '../../src/local/cloud/event-pattern';

const event = {
  version: '0',
  id: 'e1',
  'detail-type': 'SageMaker Model Package State Change',
  source: 'aws.sagemaker',
  account: '111122223333',
  region: 'us-east-1',
  resources: ['arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/3'],
  detail: {
    ModelPackageGroupName: 'churn',
    ModelPackageVersion: 3,
    ModelApprovalStatus: 'Approved',
    CertifyForMarketplace: false,
    Description: null,
    ModelLifeCycle: { Stage: 'QA', StageStatus: 'InProgress' },
    Tags: ['team-a', 'team-b'],
    SourceIp: '10.0.3.7',
  },
};

const cases: Array<[string, Record<string, unknown>, boolean]> = [
  ['exact string', { source: ['aws.sagemaker'] }, true],
  ['exact string mismatch', { source: ['aws.events'] }, false],
  ['array is OR', { detail: { ModelApprovalStatus: ['Rejected', 'Approved'] } }, true],
  ['number', { detail: { ModelPackageVersion: [3] } }, true],
  ['number mismatch', { detail: { ModelPackageVersion: [4] } }, false],
  ['string does not match number', { detail: { ModelPackageVersion: ['3'] } }, false],
  ['boolean', { detail: { CertifyForMarketplace: [false] } }, true],
  ['null', { detail: { Description: [null] } }, true],
  ['null does not match missing', { detail: { Missing: [null] } }, false],
  ['nested object', { detail: { ModelLifeCycle: { Stage: ['QA'] } } }, true],
  ['nested object mismatch', { detail: { ModelLifeCycle: { Stage: ['Production'] } } }, false],
  ['missing field', { detail: { Nope: ['x'] } }, false],
  ['event array matches any element', { detail: { Tags: ['team-b'] } }, true],
  [
    'resources array',
    { resources: [{ prefix: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/' }] },
    true,
  ],
  ['prefix', { 'detail-type': [{ prefix: 'SageMaker Model' }] }, true],
  ['prefix mismatch', { 'detail-type': [{ prefix: 'SageMaker Endpoint' }] }, false],
  ['prefix ignore case', { 'detail-type': [{ prefix: { 'equals-ignore-case': 'sagemaker model' } }] }, true],
  ['suffix', { 'detail-type': [{ suffix: 'State Change' }] }, true],
  ['suffix mismatch', { 'detail-type': [{ suffix: 'Status Change' }] }, false],
  ['anything-but value', { detail: { ModelApprovalStatus: [{ 'anything-but': 'Rejected' }] } }, true],
  [
    'anything-but value mismatch',
    { detail: { ModelApprovalStatus: [{ 'anything-but': 'Approved' }] } },
    false,
  ],
  [
    'anything-but list',
    { detail: { ModelApprovalStatus: [{ 'anything-but': ['Approved', 'Rejected'] }] } },
    false,
  ],
  ['anything-but number list', { detail: { ModelPackageVersion: [{ 'anything-but': [1, 2] }] } }, true],
  [
    'anything-but prefix',
    { detail: { ModelApprovalStatus: [{ 'anything-but': { prefix: 'Pend' } }] } },
    true,
  ],
  [
    'anything-but prefix mismatch',
    { detail: { ModelApprovalStatus: [{ 'anything-but': { prefix: 'App' } }] } },
    false,
  ],
  ['anything-but does not match missing', { detail: { Nope: [{ 'anything-but': 'x' }] } }, false],
  ['exists true', { detail: { ModelApprovalStatus: [{ exists: true }] } }, true],
  ['exists true on missing', { detail: { Nope: [{ exists: true }] } }, false],
  ['exists false on missing', { detail: { Nope: [{ exists: false }] } }, true],
  ['exists false on present', { detail: { ModelApprovalStatus: [{ exists: false }] } }, false],
  ['numeric range', { detail: { ModelPackageVersion: [{ numeric: ['>', 2, '<=', 3] }] } }, true],
  ['numeric range mismatch', { detail: { ModelPackageVersion: [{ numeric: ['>=', 4] }] } }, false],
  ['numeric equals', { detail: { ModelPackageVersion: [{ numeric: ['=', 3] }] } }, true],
  ['numeric on string', { source: [{ numeric: ['>', 0] }] }, false],
  ['equals-ignore-case', { detail: { ModelApprovalStatus: [{ 'equals-ignore-case': 'APPROVED' }] } }, true],
  ['wildcard', { resources: [{ wildcard: 'arn:aws:sagemaker:*:model-package/churn/*' }] }, true],
  ['wildcard mismatch', { resources: [{ wildcard: 'arn:aws:sagemaker:*:endpoint/*' }] }, false],
  ['cidr', { detail: { SourceIp: [{ cidr: '10.0.0.0/16' }] } }, true],
  ['cidr mismatch', { detail: { SourceIp: [{ cidr: '10.1.0.0/16' }] } }, false],
  ['$or', { $or: [{ source: ['x'] }, { detail: { ModelPackageVersion: [3] } }] }, true],
  ['$or none', { $or: [{ source: ['x'] }, { detail: { ModelPackageVersion: [4] } }] }, false],
  [
    'typical approval rule',
    {
      source: ['aws.sagemaker'],
      'detail-type': ['SageMaker Model Package State Change'],
      detail: { ModelPackageGroupName: ['churn'], ModelApprovalStatus: ['Approved'] },
    },
    true,
  ],
  [
    'every field must match',
    { source: ['aws.sagemaker'], detail: { ModelPackageGroupName: ['other'] } },
    false,
  ],
  ['empty pattern matches all', {}, true],
];

describe('event pattern matching', () => {
  it.each(cases)('%s', (_name, pattern, expected) => {
    expect(matchesPattern(validatePattern(pattern), event)).toBe(expected);
  });

  it.each([
    ['not an object', 'x'],
    ['leaf not an array', { source: 'aws.sagemaker' }],
    ['unknown matcher', { source: [{ regex: '.*' }] }],
    ['bad numeric', { detail: { n: [{ numeric: ['>'] }] } }],
    ['bad exists', { detail: { n: [{ exists: 'yes' }] } }],
  ])('rejects an invalid pattern: %s', (_name, pattern) => {
    expect(() => validatePattern(pattern)).toThrow(InvalidPatternError);
  });
});
