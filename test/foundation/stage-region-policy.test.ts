/** biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings throughout */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../../src/config';
import { deriveStackVars as derive, type Json, repoRoot } from './fixtures';

const statementsOf = (config: Record<string, Json>, fn: string): Record<string, Json> => {
  const loaded = parseConfig(stringify(config), 'p.yml');
  const [policy] = derive(loaded, 'test', 'p.yml').policies[fn]!;
  return Object.fromEntries(policy!.PolicyDocument.Statement.map((s) => [s.Sid, s] as [string, Json]));
};

/** The example configuration with churn-model's prod stage in eu-west-1. */
const prodInEu = (): Record<string, Json> => {
  const written = parse(readFileSync(join(repoRoot, 'rollouts.config.yml'), 'utf8'));
  written.modelPackageGroups['churn-model'].stages.prod.region = 'eu-west-1';
  return written;
};

const here = (service: string, resource: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${resource}`,
});
const inEu = (service: string, resource: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:${service}:eu-west-1:\${AWS::AccountId}:${resource}`,
});

describe('the roles for a stage in another region', () => {
  it('grant the executor its endpoint, configs, models, scaling, alarms and images there', () => {
    const executor = statementsOf(prodInEu(), 'executor');
    expect(executor.CreateAndUpdateEndpoints.Resource).toEqual(
      expect.arrayContaining([
        here('sagemaker', 'endpoint/churn-model-qa'),
        inEu('sagemaker', 'endpoint/churn-model-prod'),
      ]),
    );
    expect(JSON.stringify(executor.CreateAndUpdateEndpoints.Resource)).not.toContain(
      '${AWS::Region}:${AWS::AccountId}:endpoint/churn-model-prod',
    );
    expect(executor.ManageModels.Resource).toEqual([
      here('sagemaker', 'model/churn-model-v*'),
      inEu('sagemaker', 'model/churn-model-v*'),
      here('sagemaker', 'model/fraud-detector-v*'),
    ]);
    expect(executor.CarryAutoscaling.Resource).toEqual([
      here('application-autoscaling', 'scalable-target/*'),
      inEu('application-autoscaling', 'scalable-target/*'),
    ]);
    expect(executor.TargetTrackingAlarms.Resource).toEqual(
      expect.arrayContaining([inEu('cloudwatch', 'alarm:TargetTracking-endpoint/churn-model-prod/*')]),
    );
    expect(executor.PreflightImages.Resource.map((r: Json) => r['Fn::Sub'])).toEqual([
      'arn:${AWS::Partition}:ecr:${AWS::Region}:*:repository/*',
      'arn:${AWS::Partition}:ecr:eu-west-1:*:repository/*',
    ]);
    // the registry stays in the service's region
    expect(JSON.stringify(executor.MarkModelPackages.Resource)).not.toContain('eu-west-1');
  });

  it('let the deciding functions observe the endpoint and read its canary alarm there', () => {
    for (const fn of ['endpointStateChange', 'canaryTick', 'control'])
      expect(statementsOf(prodInEu(), fn).ObserveEndpoints.Resource).toContainEqual(
        inEu('sagemaker', 'endpoint/churn-model-prod'),
      );
    expect(statementsOf(prodInEu(), 'canaryTick').ReadCanaryAlarms.Resource).toEqual([
      inEu('cloudwatch', 'alarm:churn-model-prod-business-kpi'),
    ]);
  });
});

describe('the dashboard for a prod stage in another region', () => {
  it('charts the endpoint’s variants in its region, the service’s own metrics in the service’s', () => {
    const loaded = parseConfig(stringify(prodInEu()), 'p.yml');
    const { widgets } = JSON.parse(derive(loaded, 'test', 'p.yml').dashboardBody['Fn::Sub']) as {
      widgets: { type: string; properties: { title?: string; region?: string } }[];
    };
    const regionOf = (title: string) => widgets.find((w) => w.properties.title === title)?.properties.region;
    expect(regionOf('churn-model: 5XX errors per variant')).toBe('eu-west-1');
    expect(regionOf('churn-model: ModelLatency p99 per variant (µs)')).toBe('eu-west-1');
    expect(regionOf('churn-model: rollouts in flight')).toBe('${AWS::Region}');
    expect(regionOf('fraud-detector: 5XX errors per variant')).toBe('${AWS::Region}');
  });
});

describe('the operator policy for a stage in another region', () => {
  it('lets `status` describe the endpoints of this account in the service’s region and the stage’s', () => {
    const derived = (config: Record<string, Json>) =>
      derive(parseConfig(stringify(config), 'p.yml'), 'test', 'p.yml').operatorEndpointArns;
    expect(derived(prodInEu())).toEqual([here('sagemaker', 'endpoint/*'), inEu('sagemaker', 'endpoint/*')]);
    const home = prodInEu();
    delete home.modelPackageGroups['churn-model'].stages.prod.region;
    expect(derived(home)).toEqual([here('sagemaker', 'endpoint/*')]);
  });
});

describe('the default bus policy for cross-account stages', () => {
  const vars = (config: Record<string, Json>) =>
    derive(parseConfig(stringify(config), 'p.yml'), 'test', 'p.yml') as unknown as Record<string, Json>;
  const written = (): Record<string, Json> =>
    parse(readFileSync(join(repoRoot, 'rollouts.config.yml'), 'utf8'));

  it('names each account of a cross-account stage once, and the endpoint rule takes those and this one', () => {
    const config = written();
    // churn-model's prod in a second production account, in eu-west-1
    config.modelPackageGroups['churn-model'].stages.prod.region = 'eu-west-1';
    config.modelPackageGroups['churn-model'].stages.prod.crossAccount = {
      roleArn: 'arn:aws:iam::777788889999:role/deployer',
      observerRoleArn: 'arn:aws:iam::777788889999:role/observer',
    };
    const derived = vars(config);
    expect(derived.stageAccounts).toEqual(['777788889999', '444455556666']);
    expect(derived.endpointEventAccounts).toEqual([
      { Ref: 'AWS::AccountId' },
      '777788889999',
      '444455556666',
    ]);
    expect(derived.stageAccountsEndpointEvents.Principal.AWS).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:iam::777788889999:root' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:iam::444455556666:root' },
    ]);
  });

  it('without cross-account stages: no account, the endpoint rule takes this account’s events, the policy cannot be turned on', () => {
    const config = written();
    delete config.modelPackageGroups['fraud-detector'].stages.prod.crossAccount;
    const derived = vars(config);
    expect(derived.stageAccounts).toEqual([]);
    expect(derived.endpointEventAccounts).toEqual([{ Ref: 'AWS::AccountId' }]);
    expect(derived.hasStageAccounts).toBe('false');
    expect(derived.stageAccountsEndpointEventsValues).toEqual(['false']);
  });
});
