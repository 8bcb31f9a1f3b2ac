/**
 * Builds the CloudFormation template the way `osls deploy` would (without AWS credentials) and
 * checks the contracts of serverless.yml: event patterns, the callback queue, IAM, the table.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfigFile, parseJsonConfig } from '../../src/config/load';
import { inlineRequestSetFiles } from '../../src/config/request-set-files';
import { fixture, type Json, repoRoot } from './fixtures';

type Resource = { Type: string; Properties: Record<string, Json>; DependsOn?: unknown };
type Template = { Resources: Record<string, Resource>; Outputs: Record<string, unknown> };

const FUNCTIONS = [
  'modelPackageStateChange',
  'endpointStateChange',
  'pipelineCallback',
  'canaryTick',
  'control',
];
const logicalId = (fn: string) => `${fn[0]!.toUpperCase()}${fn.slice(1)}`;

/** `osls package` with no AWS credentials or profile in the environment. */
const osls = (args: string[]) => {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AWS_')) env[key] = value;
  env.SLS_TELEMETRY_DISABLED = '1';
  env.SLS_NOTIFICATIONS_MODE = 'off';
  env.HOME = mkdtempSync(join(tmpdir(), 'rollouts-home-'));
  return spawnSync('npx', ['osls', 'package', '--stage', 'test', ...args], {
    cwd: repoRoot,
    env,
    encoding: 'utf8',
    timeout: 90_000,
  });
};

/** File names in a zip archive, from its central directory. */
const zipEntries = (path: string): Map<string, Buffer> => {
  const zip = readFileSync(path);
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  const entries = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(offset + 10);
    const size = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const local = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataStart, dataStart + size);
    entries.set(name, method === 8 ? inflateRawSync(data) : data);
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
};

const actions = (statement: { Action: string | string[] }): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];
const resources = (statement: { Resource: unknown }): unknown[] =>
  Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];

let outDir: string;
let template: Template;
let packageOutput: string;

beforeAll(() => {
  outDir = mkdtempSync(join(tmpdir(), 'rollouts-package-'));
  const result = osls(['--package', outDir]);
  packageOutput = `${result.stdout}\n${result.stderr}`;
  if (result.status !== 0) throw new Error(`osls package failed (${result.status}):\n${packageOutput}`);
  template = JSON.parse(readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'));
}, 120_000);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const fn = (name: string) => template.Resources[`${logicalId(name)}LambdaFunction`]!;
const ruleFor = (name: string) => {
  const rules = ofType('AWS::Events::Rule').filter(([, rule]) =>
    JSON.stringify(rule.Properties.Targets).includes(`"${logicalId(name)}LambdaFunction"`),
  );
  expect(rules).toHaveLength(1);
  return rules[0]![1].Properties;
};
const roleStatements = (name: string): Json[] => {
  const role = template.Resources[fn(name).Properties.Role['Fn::GetAtt'][0]]!;
  expect(role.Type).toBe('AWS::IAM::Role');
  return role.Properties.Policies.flatMap((p: Json) => p.PolicyDocument.Statement);
};
const actionsOf = (name: string) => new Set(roleStatements(name).flatMap(actions));

describe('functions', () => {
  it('are the five functions, each on nodejs22.x arm64 with its own role', () => {
    const names = ofType('AWS::Lambda::Function').map(([id]) => id);
    expect(names.sort()).toEqual(FUNCTIONS.map((f) => `${logicalId(f)}LambdaFunction`).sort());
    const roles = new Set<string>();
    for (const name of FUNCTIONS) {
      const props = fn(name).Properties;
      expect(props.Runtime).toBe('nodejs22.x');
      expect(props.Architectures).toEqual(['arm64']);
      roles.add(props.Role['Fn::GetAtt'][0]);
      expect(Object.keys(props.Environment.Variables)).toEqual(
        expect.arrayContaining([
          'TABLE_NAME',
          'EVENT_BUS_NAME',
          'ROLLOUTS_CONFIG_PATH',
          'POWERTOOLS_SERVICE_NAME',
          'POWERTOOLS_LOG_LEVEL',
        ]),
      );
      // plain names, so `osls invoke local` needs no stack
      expect(props.Environment.Variables.TABLE_NAME).toBe(
        template.Resources.RolloutsTable!.Properties.TableName,
      );
      expect(props.Environment.Variables.EVENT_BUS_NAME).toBe(
        template.Resources.ServiceEventBus!.Properties.Name,
      );
      expect(props.Environment.Variables.TABLE_NAME).toBe('sagemaker-rollouts-test');
      expect(props.Environment.Variables.ROLLOUTS_CONFIG_PATH).toBe('dist/rollouts.config.json');
    }
    expect(roles.size).toBe(FUNCTIONS.length);
  });

  it('has reserved concurrency 1 on the tick, on a one-minute schedule', () => {
    expect(fn('canaryTick').Properties.ReservedConcurrentExecutions).toBe(1);
    expect(ruleFor('canaryTick').ScheduleExpression).toBe('rate(1 minute)');
  });

  it('ships a JSON copy of the config file in every function package, and no YAML parser', () => {
    const yamlPath = join(repoRoot, 'rollouts.config.yml');
    // request-set files travel inside the copy, in place of their path
    const yamlConfig = inlineRequestSetFiles(parse(readFileSync(yamlPath, 'utf8')), yamlPath) as Json;
    const churnPreTraffic = yamlConfig.modelPackageGroups['churn-model'].stages.prod.preTraffic;
    expect(churnPreTraffic.requestSetFile).toBeUndefined();
    expect(churnPreTraffic.requests.map((r: Json) => r.name)).toEqual([
      'long-tenure-customer',
      'new-customer',
    ]);
    for (const name of FUNCTIONS) {
      const entries = zipEntries(join(outDir, `${name}.zip`));
      const copy = entries.get('dist/rollouts.config.json')?.toString('utf8');
      expect(copy).toBeDefined();
      expect(JSON.parse(copy!)).toEqual(yamlConfig);
      // read the way a function reads it at cold start: validated, with the same result
      expect(parseJsonConfig(copy!, 'dist/rollouts.config.json')).toEqual(
        loadConfigFile(join(repoRoot, 'rollouts.config.yml')),
      );
      expect([...entries.keys()].filter((e) => e.endsWith('.yml'))).toEqual([]);
      const handler = fn(name).Properties.Handler.replace(/\.handler$/, '.js');
      expect([...entries.keys()]).toContain(handler);
      // yaml's parser (its `Composer`) is not bundled; only the lazy require of the YAML branch
      const code = entries.get(handler)!.toString('utf8');
      expect(code).not.toContain('Composer');
      expect(code).toContain('require("yaml")');
    }
  });

  it('loads a packaged handler with no node_modules and a bad JSON copy fails with the field path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollouts-task-'));
    try {
      const entries = zipEntries(join(outDir, 'control.zip'));
      for (const [entry, data] of entries) {
        if (entry.endsWith('/')) continue;
        mkdirSync(dirname(join(dir, entry)), { recursive: true });
        writeFileSync(join(dir, entry), data);
      }
      const config = JSON.parse(entries.get('dist/rollouts.config.json')!.toString('utf8'));
      config.modelPackageGroups['churn-model'].stages.prod.strategy.steps[1].weight = 5;
      writeFileSync(join(dir, 'dist/rollouts.config.json'), JSON.stringify(config));
      const handler = fn('control').Properties.Handler.replace(/\.handler$/, '.js');
      // A valid command event reaches deps(): the configuration is loaded, and refused.
      const controlEvent = fixture('control-pause');
      const script = `require('./${handler}').handler(${JSON.stringify(controlEvent)}, {}).then(
        () => process.exit(3), (e) => { process.stdout.write(e.message); process.exit(0); })`;
      const result = spawnSync(process.execPath, ['-e', script], {
        cwd: dir,
        env: {
          PATH: process.env.PATH ?? '',
          ROLLOUTS_CONFIG_PATH: 'dist/rollouts.config.json',
          TABLE_NAME: 't',
          EVENT_BUS_NAME: 'b',
          AWS_REGION: 'us-east-1',
          POWERTOOLS_LOG_LEVEL: 'SILENT',
        },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('Invalid configuration');
      expect(result.stdout).toContain(
        'modelPackageGroups.churn-model.stages.prod.strategy.steps: step weights must increase',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('event rules', () => {
  it('model package state changes: Approved or Rejected, configured groups, with DLQ and retries', () => {
    const rule = ruleFor('modelPackageStateChange');
    expect(rule.EventBusName).toBeUndefined();
    expect(rule.EventPattern).toEqual({
      source: ['aws.sagemaker'],
      'detail-type': ['SageMaker Model Package State Change'],
      detail: {
        ModelPackageGroupName: ['churn-model', 'fraud-detector'],
        ModelApprovalStatus: ['Approved', 'Rejected'],
      },
    });
    expect(rule.Targets[0].DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': ['EventTargetDlq', 'Arn'] } });
    expect(rule.Targets[0].RetryPolicy).toEqual({
      MaximumEventAgeInSeconds: 86400,
      MaximumRetryAttempts: 185,
    });
  });

  it('endpoint state changes: the configured endpoints only', () => {
    const rule = ruleFor('endpointStateChange');
    expect(rule.EventPattern).toEqual({
      source: ['aws.sagemaker'],
      'detail-type': ['SageMaker Endpoint State Change'],
      detail: {
        EndpointName: ['churn-model-qa', 'churn-model-prod', 'fraud-detector-qa', 'fraud-detector-prod'],
      },
    });
    expect(rule.Targets[0].DeadLetterConfig).toBeDefined();
  });

  it('operator commands: on the service bus', () => {
    const rule = ruleFor('control');
    expect(rule.EventBusName).toEqual({ 'Fn::GetAtt': ['ServiceEventBus', 'Name'] });
    expect(rule.EventPattern).toEqual({
      source: ['sagemaker-rollouts.control'],
      'detail-type': ['Rollout Command'],
    });
    expect(rule.Targets[0].DeadLetterConfig).toBeDefined();
    expect(template.Resources.ServiceEventBus).toMatchObject({
      Type: 'AWS::Events::EventBus',
      Properties: { Name: 'sagemaker-rollouts-test' },
    });
  });

  it('lets only this service’s rules write to the events DLQ', () => {
    const [, policy] = ofType('AWS::SQS::QueuePolicy')[0]!;
    const statement = policy.Properties.PolicyDocument.Statement[0];
    expect(statement.Principal).toEqual({ Service: 'events.amazonaws.com' });
    expect(statement.Action).toBe('sqs:SendMessage');
    expect(JSON.stringify(statement.Condition)).toContain(':rule/sagemaker-rollouts-test');
  });
});

describe('callback queue', () => {
  it('feeds pipelineCallback in batches with partial batch responses', () => {
    const [[, mapping]] = ofType('AWS::Lambda::EventSourceMapping') as [[string, Resource]];
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['CallbackQueue', 'Arn'] },
      FunctionName: { 'Fn::GetAtt': ['PipelineCallbackLambdaFunction', 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(mapping.Properties.MaximumBatchingWindowInSeconds).toBeLessThanOrEqual(5);
  });

  it('is encrypted, redrives to a DLQ after 5 receives, and outlives 6 function timeouts', () => {
    const queue = template.Resources.CallbackQueue!.Properties;
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['CallbackDlq', 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn('pipelineCallback').Properties.Timeout);
    const dlq = template.Resources.CallbackDlq!.Properties;
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(dlq.SqsManagedSseEnabled).toBe(true);
  });
});

describe('table', () => {
  it('is on demand with PITR, TTL on expiresAt, SSE and the active-index GSI', () => {
    const table = template.Resources.RolloutsTable!.Properties;
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(table.SSESpecification).toEqual({ SSEEnabled: true });
    expect(table.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(table.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'active-index',
        KeySchema: [
          { AttributeName: 'activeKey', KeyType: 'HASH' },
          { AttributeName: 'pk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['group', 'inFlight'] },
      },
    ]);
    expect(table.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'activeKey', AttributeType: 'S' },
      ]),
    );
  });
});

describe('IAM', () => {
  const allStatements = () =>
    ofType('AWS::IAM::Role').flatMap(([, role]) =>
      (role.Properties.Policies ?? []).flatMap((p: Json) => p.PolicyDocument.Statement),
    );

  it('has no action with a wildcard anywhere', () => {
    const statements = allStatements();
    expect(statements.length).toBeGreaterThan(20);
    for (const statement of statements)
      for (const action of actions(statement)) expect(action).not.toContain('*');
  });

  it('never grants SageMaker, DynamoDB, SQS, events, logs or STS actions on Resource *', () => {
    for (const statement of allStatements()) {
      const star = resources(statement).includes('*');
      // Application Auto Scaling has no endpoint-scoped resource to name
      if (star && actions(statement).every((a) => a.startsWith('application-autoscaling:'))) continue;
      if (star)
        expect(actions(statement).sort()).toEqual(['cloudwatch:DescribeAlarms', 'cloudwatch:GetMetricData']);
    }
  });

  it('scopes logs to the function’s own log group', () => {
    for (const name of FUNCTIONS) {
      const logs = roleStatements(name).filter((s) => actions(s).some((a) => a.startsWith('logs:')));
      expect(logs).toHaveLength(1);
      expect(JSON.stringify(logs[0].Resource)).toContain(
        `log-group:/aws/lambda/sagemaker-rollouts-test-${name}:*`,
      );
    }
  });

  it('scopes SageMaker to configured endpoints, configs, models and groups in this account', () => {
    for (const name of FUNCTIONS) {
      for (const statement of roleStatements(name).filter((s) =>
        actions(s).some((a) => a.startsWith('sagemaker:')),
      )) {
        for (const resource of resources(statement)) {
          const arn: string = (resource as Json)['Fn::Sub'];
          expect(arn).toMatch(/^arn:\$\{AWS::Partition\}:sagemaker:\$\{AWS::Region\}:\$\{AWS::AccountId\}:/);
          expect(arn).toMatch(
            /:(endpoint\/(churn-model-qa|churn-model-prod|fraud-detector-qa)|endpoint-config\/(churn-model-qa|churn-model-prod|fraud-detector-qa)\*|model\/(churn-model|fraud-detector)-v\*|model-package-group\/(churn-model|fraud-detector)|model-package\/(churn-model|fraud-detector)\/\*|pipeline\/\*\/execution\/\*)$/,
          );
        }
      }
    }
  });

  it('invokes only configured endpoints and passes only execution roles, to SageMaker', () => {
    const statements = roleStatements('endpointStateChange');
    const invoke = statements.find((s) => actions(s).includes('sagemaker:InvokeEndpoint'));
    expect(actions(invoke)).toEqual(['sagemaker:InvokeEndpoint']);
    expect(resources(invoke).every((r: Json) => /:endpoint\/[a-z0-9-]+$/.test(r['Fn::Sub']))).toBe(true);
    const pass = statements.find((s) => actions(s).includes('iam:PassRole'));
    expect(pass.Resource).toEqual([
      'arn:aws:iam::111122223333:role/churn-model-sagemaker-execution',
      'arn:aws:iam::111122223333:role/fraud-detector-sagemaker-execution',
    ]);
    expect(pass.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } });
  });

  it('carries autoscaling with alarms scoped to the variants of the endpoints of this account', () => {
    for (const name of FUNCTIONS) {
      const statements = roleStatements(name);
      const scaling = statements.find((s) =>
        actions(s).includes('application-autoscaling:RegisterScalableTarget'),
      );
      expect(actions(scaling).every((a) => a.startsWith('application-autoscaling:'))).toBe(true);
      const alarms = statements.find((s) => actions(s).includes('cloudwatch:PutMetricAlarm'));
      expect(resources(alarms).map((r) => (r as Json)['Fn::Sub'])).toEqual(
        ['churn-model-qa', 'churn-model-prod', 'fraud-detector-qa'].map(
          (endpoint) =>
            `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:TargetTracking-endpoint/${endpoint}/*`,
        ),
      );
    }
  });

  it('assumes only the configured cross-account roles', () => {
    for (const name of FUNCTIONS) {
      const sts = roleStatements(name).filter((s) => actions(s).includes('sts:AssumeRole'));
      expect(sts).toHaveLength(1);
      expect(sts[0].Resource).toEqual(['arn:aws:iam::444455556666:role/sagemaker-rollouts-deployer']);
    }
  });

  it('uses the table and its index, the service bus, and the callback queue by reference', () => {
    for (const name of FUNCTIONS) {
      const table = roleStatements(name).find((s) => actions(s).some((a) => a.startsWith('dynamodb:')));
      expect(table.Resource).toEqual([
        { 'Fn::GetAtt': ['RolloutsTable', 'Arn'] },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub
        { 'Fn::Sub': '${RolloutsTable.Arn}/index/active-index' },
      ]);
      const events = roleStatements(name).find((s) => actions(s).includes('events:PutEvents'));
      expect(events.Resource).toEqual([{ 'Fn::GetAtt': ['ServiceEventBus', 'Arn'] }]);
    }
    const sqs = roleStatements('pipelineCallback').find((s) => actions(s).includes('sqs:ReceiveMessage'));
    expect(sqs.Resource).toEqual([{ 'Fn::GetAtt': ['CallbackQueue', 'Arn'] }]);
  });

  it('gives each function only what it needs', () => {
    expect(actionsOf('pipelineCallback')).toContain('sqs:DeleteMessage');
    expect(actionsOf('pipelineCallback')).toContain('sagemaker:SendPipelineExecutionStepFailure');
    expect(actionsOf('canaryTick')).toContain('cloudwatch:GetMetricData');
    expect(actionsOf('canaryTick')).toContain('sagemaker:UpdateEndpointWeightsAndCapacities');
    for (const name of FUNCTIONS.filter((f) => f !== 'pipelineCallback')) {
      expect([...actionsOf(name)].filter((a) => a.startsWith('sqs:'))).toEqual([]);
    }
    for (const name of FUNCTIONS.filter((f) => f !== 'canaryTick')) {
      // only the alarms of target tracking policies carried to a new variant
      const cloudwatch = roleStatements(name).filter((s) =>
        actions(s).some((a) => a.startsWith('cloudwatch:')),
      );
      expect(cloudwatch.map((s) => s.Sid)).toEqual(['TargetTrackingAlarms']);
    }
  });
});

describe('alarms and outputs', () => {
  it('alarms on the callback DLQ and on every function’s errors', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const dlq = alarms.find((a) => JSON.stringify(a.Dimensions).includes('CallbackDlq'));
    expect(dlq).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    for (const name of FUNCTIONS) {
      const errors = alarms.find(
        (a) =>
          a.MetricName === 'Errors' &&
          JSON.stringify(a.Dimensions).includes(`${logicalId(name)}LambdaFunction`),
      );
      expect(errors).toMatchObject({
        Namespace: 'AWS/Lambda',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  it('sends every asynchronously invoked function’s failed events to an alarmed queue (finding 6)', () => {
    const configs = ofType('AWS::Lambda::EventInvokeConfig').map(([, c]) => c.Properties);
    for (const name of ['modelPackageStateChange', 'endpointStateChange', 'canaryTick', 'control']) {
      const config = configs.find((c) =>
        JSON.stringify(c.FunctionName).includes(`${logicalId(name)}LambdaFunction`),
      );
      expect(JSON.stringify(config?.DestinationConfig?.OnFailure?.Destination)).toContain(
        'AsyncFailureQueue',
      );
    }
    const policy = ofType('AWS::IAM::ManagedPolicy').find(([id]) => id === 'AsyncFailureSendPolicy')?.[1];
    expect(policy?.Properties.PolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': ['AsyncFailureQueue', 'Arn'] },
      },
    ]);
    expect(policy?.Properties.Roles).toHaveLength(4);
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    expect(alarms.find((a) => JSON.stringify(a.Dimensions).includes('AsyncFailureQueue'))).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('exports the queue, the bus and the table', () => {
    expect(Object.keys(template.Outputs)).toEqual(
      expect.arrayContaining([
        'CallbackQueueUrl',
        'CallbackQueueArn',
        'EventBusName',
        'EventBusArn',
        'TableName',
      ]),
    );
  });
});

describe('a broken configuration', () => {
  it('fails packaging with the field path', () => {
    const config = parse(readFileSync(join(repoRoot, 'rollouts.config.yml'), 'utf8'));
    config.modelPackageGroups['churn-model'].stages.prod.strategy.steps[1].weight = 5;
    const dir = mkdtempSync(join(tmpdir(), 'rollouts-bad-config-'));
    const file = join(dir, 'bad.yml');
    writeFileSync(file, stringify(config));
    const result = osls(['--package', join(dir, 'out'), `--param=config=${file}`]);
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain(
      'modelPackageGroups.churn-model.stages.prod.strategy.steps: step weights must increase',
    );
    expect(existsSync(join(dir, 'out', 'cloudformation-template-update-stack.json'))).toBe(false);
  }, 60_000);
});
