/**
 * serverless/stage-region-events.yml, the template a user deploys in every region a stage names:
 * valid CloudFormation (cfn-lint), forwarding exactly the events the service's own rule takes, to
 * the service region's default bus, with the role EventBridge needs for a bus in another region.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startLocalCloud } from '../../src/local/cloud';
import { readServerlessWiring } from '../../src/local/serverless-wiring';
import {
  deployStageRegionEvents,
  LocalTemplateError,
  STAGE_REGION_EVENTS_TEMPLATE,
} from '../../src/local/stage-region-events';

// biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template read as it is written
type Json = Record<string, any>;
const template = parse(readFileSync(STAGE_REGION_EVENTS_TEMPLATE, 'utf8')) as Json;
/** The service's default bus: in this account, or in HomeAccountId's when one is given. */
const HOME_BUS = [
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub
  'arn:${AWS::Partition}:events:${HomeRegion}:${HomeAccount}:event-bus/default',
  {
    HomeAccount: { 'Fn::If': ['ServiceInThisAccount', { Ref: 'AWS::AccountId' }, { Ref: 'HomeAccountId' }] },
  },
];

describe('the stage region events template', () => {
  it('passes cfn-lint with no error and no warning', () => {
    const result = spawnSync('cfn-lint', ['--format', 'parseable', '--', STAGE_REGION_EVENTS_TEMPLATE], {
      encoding: 'utf8',
      timeout: 90_000,
    });
    if (result.error || (result.status === 127 && !result.stdout)) {
      console.log(
        `cfn-lint skipped: the cfn-lint command is not available (${result.error?.message ?? result.stderr})`,
      );
      return;
    }
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.status).toBe(0);
  }, 100_000);

  it('forwards the source and detail type the service’s endpoint rule takes, for the endpoints named', () => {
    const wiring = readServerlessWiring({
      configPath: 'src/local/scenarios/rollouts.local.yml',
      stage: 'local',
    });
    const own = wiring.eventRules.find((rule) => rule.functionName === 'endpointStateChange')!
      .pattern as Json;
    const rule = template.Resources.ForwardRule.Properties;
    expect(rule.EventBusName).toBe('default');
    expect(rule.EventPattern.source).toEqual(own.source);
    expect(rule.EventPattern['detail-type']).toEqual(own['detail-type']);
    expect(rule.EventPattern.detail).toEqual({ EndpointName: { Ref: 'EndpointNames' } });
    expect(template.Parameters.EndpointNames.Type).toBe('CommaDelimitedList');
  });

  it('targets the service region’s default bus with a role that may put events there alone', () => {
    const [target] = template.Resources.ForwardRule.Properties.Targets;
    expect(target.Arn).toEqual({ 'Fn::Sub': HOME_BUS });
    expect(target.RoleArn).toEqual({ 'Fn::GetAtt': ['ForwardRole', 'Arn'] });
    const role = template.Resources.ForwardRole.Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole' }),
    ]);
    expect(role.Policies.flatMap((p: Json) => p.PolicyDocument.Statement)).toEqual([
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: { 'Fn::Sub': HOME_BUS } },
    ]);
  });

  it('targets the bus of HomeAccountId when given (a cross-account stage), else of its own account', async () => {
    expect(template.Parameters.HomeAccountId).toMatchObject({ Type: 'String', Default: '' });
    expect(template.Conditions.ServiceInThisAccount).toEqual({
      'Fn::Equals': [{ Ref: 'HomeAccountId' }, ''],
    });
    const cloud = await startLocalCloud({ separateAccounts: false });
    const saved = { ...process.env };
    Object.assign(process.env, cloud.env());
    try {
      const deploy = (parameters: { HomeRegion: string; HomeAccountId?: string; EndpointNames: string[] }) =>
        deployStageRegionEvents({
          stackName: 'events',
          region: 'eu-west-1',
          account: '111122223333',
          parameters,
        });
      const own = await deploy({ HomeRegion: 'us-east-1', EndpointNames: ['churn-model-prod'] });
      const other = await deploy({
        HomeRegion: 'us-east-1',
        HomeAccountId: '444455556666',
        EndpointNames: ['b'],
      });
      expect([...own.targets, ...other.targets]).toEqual([
        {
          Id: 'service-default-bus',
          Arn: 'arn:aws:events:us-east-1:111122223333:event-bus/default',
          RoleArn: 'arn:aws:iam::111122223333:role/events-ForwardRole',
        },
        {
          Id: 'service-default-bus',
          Arn: 'arn:aws:events:us-east-1:444455556666:event-bus/default',
          RoleArn: 'arn:aws:iam::111122223333:role/events-ForwardRole',
        },
      ]);
    } finally {
      process.env = saved;
      await cloud.close();
    }
  });

  it('the local deploy refuses a resource it would not carry out, rather than leave it out', async () => {
    // before the rule in the file, so the local deploy meets it before any API call
    const withTopic = {
      ...template,
      Resources: { Topic: { Type: 'AWS::SNS::Topic', Properties: {} }, ...template.Resources },
    };
    const path = join(mkdtempSync(join(tmpdir(), 'stage-region-events-')), 'template.yml');
    writeFileSync(path, stringify(withTopic));
    const stack = {
      stackName: 'events',
      region: 'eu-west-1',
      account: '111122223333',
      parameters: { HomeRegion: 'us-east-1', EndpointNames: ['churn-model-prod'] },
    };
    await expect(deployStageRegionEvents(stack, path)).rejects.toThrow(
      new LocalTemplateError('Topic: AWS::SNS::Topic is not deployed locally'),
    );
  });
});
