import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../../src/config';
import { deriveStackVars as derive, type Json, repoRoot } from './fixtures';

const statementsOf = (config: Record<string, Json>, fn: string): Record<string, Json> => {
  const loaded = parseConfig(stringify(config), 'p.yml');
  const [policy] = derive(loaded, 'test', 'p.yml').policies[fn]!;
  return Object.fromEntries(
    (policy!.PolicyDocument.Statement as unknown as Json[]).map((s) => [s.Sid, s] as [string, Json]),
  );
};

const PREFLIGHT = [
  'PreflightImages',
  'PreflightOwnModelData',
  'PreflightOwnBuckets',
  'PreflightMappedModelData',
  'PreflightMappedBuckets',
];
const ownAccount = { StringEquals: { 's3:ResourceAccount': { Ref: 'AWS::AccountId' } } };

describe("the executor's pre-flight permissions", () => {
  const config = (): Record<string, Json> => {
    const written = parse(readFileSync(join(repoRoot, 'rollouts.config.yml'), 'utf8'));
    const groups = written.modelPackageGroups;
    groups['churn-model'].stages.prod.artifacts = {
      s3: [
        { from: 's3://models-use1/churn/', to: 's3://models-replica/churn/' },
        { from: 's3://models-use1/base/', to: 's3://models-replica/base/' },
      ],
    };
    // a cross-account stage's lookups run on its deployer role: its mappings grant nothing here
    groups['fraud-detector'].stages.prod.artifacts = {
      s3: [{ from: 's3://models-use1/fraud/', to: 's3://fraud-prod-account/fraud/' }],
    };
    return written;
  };

  it('are the executor’s alone: images of this region, model data of this account and of the mapped prefixes', () => {
    const executor = statementsOf(config(), 'executor');
    expect(executor.PreflightImages).toEqual({
      Sid: 'PreflightImages',
      Effect: 'Allow',
      Action: ['ecr:DescribeImages'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub
      Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:ecr:${AWS::Region}:*:repository/*' }],
    });
    expect(executor.PreflightOwnModelData).toMatchObject({
      Action: ['s3:GetObject'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub
      Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::*/*' }],
      Condition: ownAccount,
    });
    expect(executor.PreflightOwnBuckets).toMatchObject({
      Action: ['s3:ListBucket'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub
      Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::*' }],
      Condition: ownAccount,
    });
    expect(executor.PreflightMappedModelData).toEqual({
      Sid: 'PreflightMappedModelData',
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub
        { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::models-replica/churn/*' },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub
        { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::models-replica/base/*' },
      ],
    });
    expect(executor.PreflightMappedBuckets).toEqual({
      Sid: 'PreflightMappedBuckets',
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub
      Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::models-replica' }],
    });
    for (const fn of [
      'modelPackageStateChange',
      'endpointStateChange',
      'pipelineCallback',
      'canaryTick',
      'control',
    ])
      expect(Object.keys(statementsOf(config(), fn)).filter((sid) => PREFLIGHT.includes(sid))).toEqual([]);
  });

  it('grant no mapped prefix when no stage of this account maps one, and nothing when every stage is elsewhere', () => {
    const unmapped = config();
    delete unmapped.modelPackageGroups['churn-model'].stages.prod.artifacts;
    const executor = statementsOf(unmapped, 'executor');
    expect(Object.keys(executor).filter((sid) => PREFLIGHT.includes(sid))).toEqual(PREFLIGHT.slice(0, 3));

    const elsewhere = config();
    for (const group of Object.values<Json>(elsewhere.modelPackageGroups))
      for (const stage of Object.values<Json>(group.stages))
        stage.crossAccount ??= {
          roleArn: 'arn:aws:iam::444455556666:role/deployer',
          observerRoleArn: 'arn:aws:iam::444455556666:role/observer',
        };
    // endpoint names are unique per account and region: give each its own
    elsewhere.modelPackageGroups['churn-model'].stages.qa.crossAccount.roleArn =
      'arn:aws:iam::777788889999:role/deployer';
    elsewhere.modelPackageGroups['churn-model'].stages.qa.crossAccount.observerRoleArn =
      'arn:aws:iam::777788889999:role/observer';
    expect(Object.keys(statementsOf(elsewhere, 'executor')).filter((sid) => PREFLIGHT.includes(sid))).toEqual(
      [],
    );
  });
});
