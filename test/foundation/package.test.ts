/**
 * Builds the CloudFormation template the way `osls deploy` would (without AWS credentials) and
 * checks the contracts of serverless.yml: event patterns, the callback queue, IAM, the table.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfigFile, parseJsonConfig } from '../../src/config/load';
import { inlineRequestSetFiles } from '../../src/config/request-set-files';
import { deployedAs } from './cfn-conditions';
import {
  ACTIONS_BY_TYPE,
  ARTIFACT_ACTIONS,
  allowing,
  STACK_ACTIONS,
  TABLE_KEY_ACTIONS,
} from './deployer-policy';
import { fixture, type Json, repoRoot } from './fixtures';

type Resource = {
  Type: string;
  Properties: Record<string, Json>;
  DependsOn?: unknown;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};
type Template = {
  Parameters: Record<string, { Default?: string; AllowedPattern?: string }>;
  Conditions: Record<string, Json>;
  Resources: Record<string, Resource>;
  Outputs: Record<string, Json>;
};

const FUNCTIONS = [
  'modelPackageStateChange',
  'endpointStateChange',
  'pipelineCallback',
  'canaryTick',
  'control',
  'executor',
];
/** The functions that decide; they ask the executor for every change to SageMaker. */
const DECIDERS = FUNCTIONS.filter((name) => name !== 'executor');
/** SageMaker, IAM and Application Auto Scaling actions that change something: the executor's alone. */
const WRITES = [
  'sagemaker:CreateModel',
  'sagemaker:CreateEndpointConfig',
  'sagemaker:CreateEndpoint',
  'sagemaker:UpdateEndpoint',
  'sagemaker:UpdateEndpointWeightsAndCapacities',
  'sagemaker:DeleteEndpoint',
  'sagemaker:DeleteEndpointConfig',
  'sagemaker:DeleteModel',
  'sagemaker:AddTags',
  'sagemaker:UpdateModelPackage',
  'iam:PassRole',
  'application-autoscaling:RegisterScalableTarget',
  'application-autoscaling:PutScalingPolicy',
  'application-autoscaling:DeregisterScalableTarget',
  'cloudwatch:PutMetricAlarm',
  'cloudwatch:DeleteAlarms',
];
const logicalId = (fn: string) => `${fn[0]!.toUpperCase()}${fn.slice(1)}`;

/** The environment of `osls package`: no AWS credentials or profile, a HOME of its own. */
const oslsEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AWS_')) env[key] = value;
  env.SLS_TELEMETRY_DISABLED = '1';
  env.SLS_NOTIFICATIONS_MODE = 'off';
  env.HOME = mkdtempSync(join(tmpdir(), 'rollouts-home-'));
  return env;
};

/** `osls package` with no AWS credentials or profile in the environment (osls's own script, not npx). */
const osls = (args: string[]) =>
  spawnSync(
    process.execPath,
    [join(repoRoot, 'node_modules/osls/bin/serverless.js'), 'package', '--stage', 'test', ...args],
    {
      cwd: repoRoot,
      env: oslsEnv(),
      encoding: 'utf8',
      timeout: 90_000,
    },
  );

/**
 * An osls command (`package`, `print`) without blocking the worker: osls's own script rather than
 * npx, so that the timeout stops osls itself, not only npx above it. `stdout` alone, and both
 * streams together in `output`.
 */
const oslsCommand = (command: 'package' | 'print', args: string[]) =>
  new Promise<{ status: number | null; stdout: string; output: string }>((done) => {
    const bin = join(repoRoot, 'node_modules/osls/bin/serverless.js');
    const child = spawn(process.execPath, [bin, command, '--stage', 'test', ...args], {
      cwd: repoRoot,
      env: oslsEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('close', (status) => done({ status, stdout, output }));
  });

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

/**
 * EventBridge's input transformer: a placeholder inside a JSON string takes the value's text, one
 * outside takes the value as JSON (a string gets its quotes), a missing path gives null.
 */
const fillInputTemplate = (template: string, valueFor: (name: string) => unknown): string => {
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    const placeholder = ch === '<' ? /^<(\w+)>/.exec(template.slice(i)) : null;
    if (placeholder) {
      const v = valueFor(placeholder[1]!);
      out += inString
        ? v === undefined
          ? ''
          : JSON.stringify(String(v)).slice(1, -1)
        : JSON.stringify(v ?? null);
      i += placeholder[0].length - 1;
      continue;
    }
    if (ch === '"' && template[i - 1] !== '\\') inString = !inString;
    out += ch;
  }
  return out;
};

const actions = (statement: { Action: string | string[] }): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];
const resources = (statement: { Resource: unknown }): unknown[] =>
  Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];

let outDir: string;
let template: Template;
let packageOutput: string;
const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const PAGER = 'arn:aws:sns:us-east-1:111122223333:team-pager';
let paramsDir: string;
let withParams: Template;
/** The template's Parameters as `osls print` resolves them with the two --param values. */
let printedParameters: Template['Parameters'];
const TEMPLATE = 'cloudformation-template-update-stack.json';

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'rollouts-package-'));
  paramsDir = mkdtempSync(join(tmpdir(), 'rollouts-params-'));
  // Side by side: each writes the same dist/<config>.json, beside it and renamed into place
  // (serverless/config-vars.cjs), so neither reads a half-written copy; osls package waits on
  // esbuild and its zip files part of the time.
  // The two parameters reach nothing but their Default (serverless.yml, checked below), so the
  // template packaged with them is the plain one with those two Defaults: `osls print` resolves
  // them (about 4 s of CPU) where a second `osls package` bundled every function again (about 15 s).
  const [plain, params] = await Promise.all([
    oslsCommand('package', ['--package', outDir]),
    oslsCommand('print', ['--format', 'json', `--param=kmsKeyArn=${KEY}`, `--param=alarmTopicArn=${PAGER}`]),
  ]);
  packageOutput = plain.output;
  if (plain.status !== 0) throw new Error(`osls package failed (${plain.status}):\n${packageOutput}`);
  if (params.status !== 0) throw new Error(`osls print failed (${params.status}):\n${params.output}`);
  template = JSON.parse(readFileSync(join(outDir, TEMPLATE), 'utf8'));
  printedParameters = (JSON.parse(params.stdout) as { resources: { Parameters: Template['Parameters'] } })
    .resources.Parameters;
  withParams = { ...template, Parameters: printedParameters };
  // cfn-lint reads the templates from files
  writeFileSync(join(paramsDir, TEMPLATE), JSON.stringify(withParams));
}, 240_000);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
  if (paramsDir) rmSync(paramsDir, { recursive: true, force: true });
});

/**
 * cfn-lint over both packaged templates in one run (each run spends about 2 s of CPU starting
 * Python and loading its specification), once for the two tests that read it. Undefined when the
 * cfn-lint command is not available.
 */
let linted: { status: number | null; output: string } | undefined | null = null;
const cfnLint = () => {
  if (linted !== null) return linted;
  const result = spawnSync(
    'cfn-lint',
    [
      '--format',
      'parseable',
      '--ignore-checks',
      'W3005',
      '--',
      join(outDir, TEMPLATE),
      join(paramsDir, TEMPLATE),
    ],
    { encoding: 'utf8', timeout: 90_000 },
  );
  const missing = result.error || (result.status === 127 && !result.stdout);
  if (missing)
    console.log(
      `cfn-lint skipped: the cfn-lint command is not available (${result.error?.message ?? result.stderr})`,
    );
  linted = missing ? undefined : { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
  return linted;
};

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
  it('are the six functions, each on nodejs22.x arm64 with its own role', () => {
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

  it('gives the deciding functions the executor queue’s URL, and the executor none', () => {
    for (const name of DECIDERS) {
      expect(fn(name).Properties.Environment.Variables.EXECUTOR_QUEUE_URL).toEqual({ Ref: 'ExecutorQueue' });
    }
    expect(fn('executor').Properties.Environment.Variables.EXECUTOR_QUEUE_URL).toBeUndefined();
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
      // a linked source map naming the service's own files, without their text
      expect(code.trimEnd().endsWith(`//# sourceMappingURL=${handler.split('/').pop()}.map`)).toBe(true);
      const map = JSON.parse(entries.get(`${handler}.map`)!.toString('utf8'));
      expect(map.sources).toEqual(expect.arrayContaining([expect.stringMatching(/src\/wiring\.ts$/)]));
      expect(map.sourcesContent).toBeUndefined();
      // only the service's own files: the SDK's mappings would cost init time for frames nobody reads
      expect(map.sources.filter((source: string) => source.includes('node_modules'))).toEqual([]);
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
      // A valid command request reaches deps(): the configuration is loaded, and refused.
      const controlEvent = fixture('control-pause');
      const script = `require('./${handler}').handler(${JSON.stringify(controlEvent)}, {}).then(
        () => process.exit(3), (e) => { process.stdout.write(e.stack); process.exit(0); })`;
      const result = spawnSync(process.execPath, ['--enable-source-maps', '-e', script], {
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
      // the bundle has no `yaml` to find lines with: the file and the field, without line and column
      expect(result.stdout).toMatch(
        /\/dist\/rollouts\.config\.json: modelPackageGroups\.churn-model\.stages\.prod\.strategy\.steps: step weights must increase\n/,
      );
      // with the runtime's --enable-source-maps, the trace names the source file and line
      expect(result.stdout).toMatch(/src\/config\/load\.ts:\d+:\d+/);
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
      // this account's, and those the production account (fraud-detector's prod) forwards
      account: [{ Ref: 'AWS::AccountId' }, '444455556666'],
      detail: {
        EndpointName: ['churn-model-qa', 'churn-model-prod', 'fraud-detector-qa', 'fraud-detector-prod'],
      },
    });
    expect(rule.Targets[0].DeadLetterConfig).toBeDefined();
  });

  it('the default bus takes SageMaker endpoint state changes from the cross-account stages’ accounts alone', () => {
    expect(template.Resources.StageAccountsEndpointEventsPolicy).toEqual({
      Type: 'AWS::Events::EventBusPolicy',
      Condition: 'HasStageAccounts',
      Properties: {
        EventBusName: 'default',
        StatementId: 'sagemaker-rollouts-test-stage-endpoint-events',
        Statement: {
          Effect: 'Allow',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub
          Principal: { AWS: [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::444455556666:root' }] },
          Action: 'events:PutEvents',
          Resource: {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub
            'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default',
          },
          Condition: {
            'ForAllValues:StringEquals': {
              'events:source': 'aws.sagemaker',
              'events:detail-type': 'SageMaker Endpoint State Change',
            },
          },
        },
      },
    });
    expect(template.Parameters.StageAccountsEndpointEvents).toMatchObject({
      Default: 'true',
      AllowedValues: ['true', 'false'],
    });
    expect(template.Conditions.HasStageAccounts).toEqual({
      'Fn::Equals': [{ Ref: 'StageAccountsEndpointEvents' }, 'true'],
    });
  });

  it('operator commands: the control function’s URL with AuthType AWS_IAM, and no bus rule', () => {
    const urls = ofType('AWS::Lambda::Url');
    expect(urls).toHaveLength(1);
    expect(urls[0]![1].Properties).toMatchObject({
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': ['ControlLambdaFunction', 'Arn'] },
    });
    // no public invoke permission: only principals IAM allows lambda:InvokeFunctionUrl get in
    for (const [, permission] of ofType('AWS::Lambda::Permission')) {
      expect(permission.Properties.Principal).not.toBe('*');
    }
    const rules = ofType('AWS::Events::Rule').filter(([, rule]) =>
      JSON.stringify(rule.Properties.Targets).includes('"ControlLambdaFunction"'),
    );
    expect(rules).toEqual([]);
    expect(template.Outputs.CommandUrl).toEqual({
      Description: expect.stringContaining('SigV4'),
      Value: { 'Fn::GetAtt': ['ControlLambdaFunctionUrl', 'FunctionUrl'] },
    });
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
    const [, mapping] = ofType('AWS::Lambda::EventSourceMapping').find(([, m]) =>
      JSON.stringify(m.Properties.EventSourceArn).includes('CallbackQueue'),
    )!;
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['CallbackQueue', 'Arn'] },
      FunctionName: { 'Fn::GetAtt': ['PipelineCallbackLambdaFunction', 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(mapping.Properties.MaximumBatchingWindowInSeconds).toBeLessThanOrEqual(5);
  });

  it('is encrypted, redrives to a DLQ after 5 receives, and outlives 6 function timeouts', () => {
    const queue = deployedAs(template).Resources.CallbackQueue!.Properties;
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['CallbackDlq', 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn('pipelineCallback').Properties.Timeout);
    const dlq = deployedAs(template).Resources.CallbackDlq!.Properties;
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(dlq.SqsManagedSseEnabled).toBe(true);
  });
});

describe('executor queue', () => {
  it('feeds the executor with partial batch responses and no batching window', () => {
    const [, mapping] = ofType('AWS::Lambda::EventSourceMapping').find(([, m]) =>
      JSON.stringify(m.Properties.EventSourceArn).includes('ExecutorQueue'),
    )!;
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['ExecutorQueue', 'Arn'] },
      FunctionName: { 'Fn::GetAtt': ['ExecutorLambdaFunction', 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(mapping.Properties.MaximumBatchingWindowInSeconds ?? 0).toBe(0);
  });

  it('is a standard encrypted queue that redrives to an alarmed DLQ after 5 receives and outlives 6 executor timeouts', () => {
    const queue = deployedAs(template).Resources.ExecutorQueue!.Properties;
    expect(queue.FifoQueue).toBeUndefined();
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['ExecutorDlq', 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn('executor').Properties.Timeout);
    const dlq = deployedAs(template).Resources.ExecutorDlq!.Properties;
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(dlq.SqsManagedSseEnabled).toBe(true);
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    expect(alarms.find((a) => JSON.stringify(a.Dimensions).includes('ExecutorDlq'))).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });
});

describe('table', () => {
  it('is on demand with PITR, TTL on expiresAt, SSE and the active-index GSI', () => {
    const table = deployedAs(template).Resources.RolloutsTable!.Properties;
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

  it('grants on Resource * only reads that have no resource-level permissions', () => {
    for (const statement of allStatements()) {
      if (!resources(statement).includes('*')) continue;
      expect([
        ['cloudwatch:GetMetricData'],
        ['sagemaker:ListModelPackages'],
        [
          'application-autoscaling:DescribeScalableTargets',
          'application-autoscaling:DescribeScalingPolicies',
        ],
      ]).toContainEqual(actions(statement));
    }
  });

  it('lets no deciding function write the model registry, and the executor never approve (finding 5)', () => {
    const packages = ['churn-model', 'fraud-detector'].map((group) => ({
      'Fn::Sub': `arn:\${AWS::Partition}:sagemaker:\${AWS::Region}:\${AWS::AccountId}:model-package/${group}/*`,
    }));
    for (const name of DECIDERS) {
      expect(actionsOf(name).has('sagemaker:UpdateModelPackage')).toBe(false);
    }
    const marks = roleStatements('executor').filter((s) =>
      actions(s).includes('sagemaker:UpdateModelPackage'),
    );
    // a request that sets an approval status must set Rejected; lifecycle-only updates carry none
    expect(marks).toEqual([
      {
        Sid: 'MarkModelPackages',
        Effect: 'Allow',
        Action: ['sagemaker:UpdateModelPackage'],
        Resource: packages,
        Condition: { StringEqualsIfExists: { 'sagemaker:ModelApprovalStatus': 'Rejected' } },
      },
    ]);
  });

  it('scopes Application Auto Scaling writes to SageMaker variants’ instance counts in this account (finding 5)', () => {
    for (const name of DECIDERS) {
      expect([...actionsOf(name)].filter((a) => a.startsWith('application-autoscaling:'))).toEqual([]);
    }
    const scaling = roleStatements('executor').filter((s) =>
      actions(s).some((a) => a.startsWith('application-autoscaling:')),
    );
    expect(scaling).toEqual([
      {
        Sid: 'ReadAutoscaling',
        Effect: 'Allow',
        Action: [
          'application-autoscaling:DescribeScalableTargets',
          'application-autoscaling:DescribeScalingPolicies',
        ],
        Resource: '*',
      },
      {
        Sid: 'CarryAutoscaling',
        Effect: 'Allow',
        Action: [
          'application-autoscaling:RegisterScalableTarget',
          'application-autoscaling:PutScalingPolicy',
          'application-autoscaling:DeregisterScalableTarget',
        ],
        Resource: [
          {
            'Fn::Sub': `arn:${'$'}{AWS::Partition}:application-autoscaling:${'$'}{AWS::Region}:${'$'}{AWS::AccountId}:scalable-target/*`,
          },
        ],
        Condition: {
          StringEquals: {
            'application-autoscaling:service-namespace': 'sagemaker',
            'application-autoscaling:scalable-dimension': 'sagemaker:variant:DesiredInstanceCount',
          },
        },
      },
    ]);
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

  it('scopes SageMaker to configured endpoints, their configs and models, groups and pipelines in this account', () => {
    for (const name of FUNCTIONS) {
      for (const statement of roleStatements(name).filter((s) =>
        actions(s).some((a) => a.startsWith('sagemaker:')),
      )) {
        // ListModelPackages has no resource-level permissions (checked with the other '*' grants)
        if (actions(statement).includes('sagemaker:ListModelPackages')) continue;
        for (const resource of resources(statement)) {
          const arn: string = (resource as Json)['Fn::Sub'];
          expect(arn).toMatch(/^arn:\$\{AWS::Partition\}:sagemaker:\$\{AWS::Region\}:\$\{AWS::AccountId\}:/);
          expect(arn).toMatch(
            /:(endpoint\/(churn-model-qa|churn-model-prod|fraud-detector-qa)|endpoint-config\/(churn-model-qa|churn-model-prod|fraud-detector-qa)-v\*|model\/(churn-model|fraud-detector)-v\*|model-package\/(churn-model|fraud-detector)\/\*|pipeline\/(churn-model-train|fraud-detector-train)\/execution\/\*)$/,
          );
        }
      }
    }
  });

  it('reads only the configured canary alarms', () => {
    const KPI_ALARM = 'churn-model-prod-business-kpi';
    const alarms = roleStatements('canaryTick').find((s) => s.Sid === 'ReadCanaryAlarms');
    expect(alarms.Resource).toEqual([
      {
        'Fn::Sub': `arn:${'$'}{AWS::Partition}:cloudwatch:${'$'}{AWS::Region}:${'$'}{AWS::AccountId}:alarm:${KPI_ALARM}`,
      },
    ]);
  });

  it('invokes only configured endpoints and passes only execution roles, to SageMaker', () => {
    const invoke = roleStatements('endpointStateChange').find((s) =>
      actions(s).includes('sagemaker:InvokeEndpoint'),
    );
    expect(actions(invoke)).toEqual(['sagemaker:InvokeEndpoint']);
    expect(resources(invoke).every((r: Json) => /:endpoint\/[a-z0-9-]+$/.test(r['Fn::Sub']))).toBe(true);
    const pass = roleStatements('executor').find((s) => actions(s).includes('iam:PassRole'));
    expect(pass.Resource).toEqual([
      'arn:aws:iam::111122223333:role/churn-model-sagemaker-execution',
      'arn:aws:iam::111122223333:role/fraud-detector-sagemaker-execution',
    ]);
    expect(pass.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } });
  });

  it('only the executor holds SageMaker, PassRole and autoscaling writes; it holds them all', () => {
    for (const name of DECIDERS) {
      expect(WRITES.filter((action) => actionsOf(name).has(action))).toEqual([]);
      expect([...actionsOf(name)].some((a) => a.startsWith('application-autoscaling:'))).toBe(false);
    }
    expect(WRITES.filter((action) => !actionsOf('executor').has(action))).toEqual([]);
  });

  it('carries autoscaling with alarms scoped to the variants of the endpoints of this account', () => {
    for (const name of ['executor']) {
      const statements = roleStatements(name);
      const alarms = statements.find((s) => actions(s).includes('cloudwatch:PutMetricAlarm'));
      expect(resources(alarms).map((r) => (r as Json)['Fn::Sub'])).toEqual(
        ['churn-model-qa', 'churn-model-prod', 'fraud-detector-qa'].map(
          (endpoint) =>
            `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:TargetTracking-endpoint/${endpoint}/*`,
        ),
      );
    }
  });

  it('assumes only the configured cross-account roles: the deployer role in the executor alone', () => {
    const DEPLOYER = 'arn:aws:iam::444455556666:role/sagemaker-rollouts-deployer';
    const OBSERVER = 'arn:aws:iam::444455556666:role/sagemaker-rollouts-observer';
    for (const name of FUNCTIONS) {
      const sts = roleStatements(name).filter((s) => actions(s).includes('sts:AssumeRole'));
      expect(sts).toHaveLength(1);
      expect(sts[0].Resource).toEqual(name === 'executor' ? [DEPLOYER, OBSERVER] : [OBSERVER]);
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
    const polls = roleStatements('executor').find((s) => actions(s).includes('sqs:ReceiveMessage'));
    expect(polls.Resource).toEqual([{ 'Fn::GetAtt': ['ExecutorQueue', 'Arn'] }]);
    for (const name of DECIDERS) {
      const send = roleStatements(name).filter((s) => actions(s).includes('sqs:SendMessage'));
      expect(send).toEqual([expect.objectContaining({ Action: ['sqs:SendMessage'] })]);
      expect(send[0].Resource).toEqual([{ 'Fn::GetAtt': ['ExecutorQueue', 'Arn'] }]);
    }
  });
});

describe('least privilege: each role holds exactly the actions its bundle can send', () => {
  /** SDK client package -> IAM service prefix. */
  const PREFIX: Record<string, string> = {
    'client-sagemaker': 'sagemaker',
    'client-sagemaker-runtime': 'sagemaker',
    'client-dynamodb': 'dynamodb',
    'client-eventbridge': 'events',
    'client-sts': 'sts',
    'client-cloudwatch': 'cloudwatch',
    'client-sqs': 'sqs',
    'client-application-auto-scaling': 'application-autoscaling',
    'client-s3': 's3',
    'client-ecr': 'ecr',
  };
  /** Commands IAM authorizes under another action's name. */
  const AUTHORIZED_AS: Record<string, string> = { 's3:HeadObject': 's3:GetObject' };
  /** Actions IAM checks for parameters of a command, besides the command's own action. */
  const IMPLIED: Record<string, string[]> = {
    // ExecutionRoleArn is passed to SageMaker
    'sagemaker:CreateModel': ['iam:PassRole', 'sagemaker:AddTags'],
    // Create* with Tags needs AddTags on the new resource
    'sagemaker:CreateEndpoint': ['sagemaker:AddTags'],
    'sagemaker:CreateEndpointConfig': ['sagemaker:AddTags'],
    // a target tracking policy creates, reads and deletes its CloudWatch alarms with the caller's rights
    // without ListBucket, S3 answers a HeadObject of a missing key 403, which says nothing of the key
    's3:GetObject': ['s3:ListBucket'],
    'application-autoscaling:PutScalingPolicy': [
      'cloudwatch:PutMetricAlarm',
      'cloudwatch:DescribeAlarms',
      'cloudwatch:DeleteAlarms',
    ],
  };
  /** Commands bundled but never sent by a function, each for a reason checked below. */
  const NOT_SENT = new Set([
    // the CLI's listGroups (a StateStore method no function calls)
    'dynamodb:Scan',
    // endpoint discovery, off unless endpointDiscoveryEnabled is set
    'dynamodb:DescribeEndpoints',
    // S3 Express sessions, which the S3 client opens only for a directory bucket (`--x-s3`): not
    // granted (s3express:CreateSession), so the pre-flight of model data there fails the stage,
    // naming that permission
    's3:CreateSession',
  ]);
  const PLATFORM: Record<string, string[]> = {
    // Lambda writes the function's logs with its role
    '*': ['logs:CreateLogStream', 'logs:PutLogEvents'],
    // the SQS event source mapping polls with the function's role
    pipelineCallback: [
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ChangeMessageVisibility',
    ],
    executor: [
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ChangeMessageVisibility',
    ],
  };
  const sentBy = new Map<string, Set<string>>();

  beforeAll(async () => {
    const { build } = await import('esbuild');
    for (const name of FUNCTIONS) {
      const entry = `${fn(name).Properties.Handler.replace(/\.handler$/, '')}.ts`;
      const result = await build({
        entryPoints: [join(repoRoot, entry)],
        bundle: true,
        minify: true,
        platform: 'node',
        target: 'node22',
        mainFields: ['module', 'main'],
        external: ['yaml'],
        write: false,
        metafile: true,
        outfile: join(outDir, 'least-privilege', `${name}.js`),
        logLevel: 'error',
      });
      const inputs = Object.values(result.metafile.outputs).flatMap((o) => Object.entries(o.inputs));
      const sent = new Set<string>();
      for (const [path, { bytesInOutput }] of inputs) {
        // AssumeRole goes out as a signed STS Query request, not through an SDK client
        if (path.endsWith('src/adapters/sts-assume-role.ts') && bytesInOutput > 0) sent.add('sts:AssumeRole');
        // the credential chain's own clients (SSO, STS web identity) run before the role exists
        const match = /@aws-sdk\/(client-[a-z0-9-]+)\/dist-es\/commands\/(\w+)Command\.js$/.exec(path);
        if (!match || bytesInOutput === 0) continue;
        const prefix = PREFIX[match[1]!];
        if (!prefix) throw new Error(`no IAM prefix known for ${match[1]}`);
        const command = `${prefix}:${match[2]}`;
        const action = AUTHORIZED_AS[command] ?? command;
        if (NOT_SENT.has(action)) continue;
        sent.add(action);
        for (const implied of IMPLIED[action] ?? []) sent.add(implied);
      }
      sentBy.set(name, sent);
    }
  }, 120_000);

  it('no function calls the commands left out as not sent', () => {
    const sources = ['handlers', 'src/app', 'src/handler-support.ts', 'src/wiring.ts'];
    const grep = spawnSync('grep', ['-rln', 'listGroups\\|endpointDiscoveryEnabled', ...sources], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(grep.stdout).toBe('');
  });

  it.each(FUNCTIONS)('%s', (name) => {
    const expected = new Set([...sentBy.get(name)!, ...PLATFORM['*']!, ...(PLATFORM[name] ?? [])]);
    expect([...actionsOf(name)].sort()).toEqual([...expected].sort());
  });

  it('only the tick reads metrics; the queues’ consumers poll them, the deciding functions send to the executor', () => {
    for (const name of FUNCTIONS) {
      expect(actionsOf(name).has('cloudwatch:GetMetricData')).toBe(name === 'canaryTick');
      // the executor touches only the alarms of target tracking policies carried to a new variant
      if (name !== 'canaryTick') {
        const cloudwatch = roleStatements(name).filter((s) =>
          actions(s).some((a) => a.startsWith('cloudwatch:')),
        );
        expect(cloudwatch.map((s) => s.Sid)).toEqual(name === 'executor' ? ['TargetTrackingAlarms'] : []);
      }
      expect(actionsOf(name).has('sqs:ReceiveMessage')).toBe(
        name === 'pipelineCallback' || name === 'executor',
      );
      expect(actionsOf(name).has('sqs:SendMessage')).toBe(name !== 'executor');
    }
  });
});

describe('cfn-lint', () => {
  it('finds no error and no warning but the framework’s own W3005 in the packaged template', () => {
    const lint = cfnLint();
    if (!lint) return;
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
  }, 100_000);
});

describe('asynchronous invocations', () => {
  it('creates each event invoke config after the policy that lets its function send to the on-failure queue (finding 7)', () => {
    const configs = ofType('AWS::Lambda::EventInvokeConfig');
    expect(configs.map(([id]) => id).sort()).toEqual([
      'CanaryTickLambdaEvConf',
      'EndpointStateChangeLambdaEvConf',
      'ModelPackageStateChangeLambdaEvConf',
    ]);
    const sendPolicy = template.Resources.AsyncFailureSendPolicy!;
    for (const [id, config] of configs) {
      expect({ id, DependsOn: config.DependsOn }).toEqual({ id, DependsOn: ['AsyncFailureSendPolicy'] });
      const role = fn(id.replace(/^(\w)(\w*)LambdaEvConf$/, (_, a: string, b: string) => a.toLowerCase() + b))
        .Properties.Role['Fn::GetAtt'][0];
      expect(sendPolicy.Properties.Roles).toContainEqual({ Ref: role });
      expect(config.Properties.DestinationConfig.OnFailure.Destination).toEqual({
        'Fn::GetAtt': ['AsyncFailureQueue', 'Arn'],
      });
    }
  });

  it('drops a failed or throttled tick after 2 minutes without a retry: the next tick comes within a minute', () => {
    expect(template.Resources.CanaryTickLambdaEvConf!.Properties).toMatchObject({
      MaximumEventAgeInSeconds: 120,
      MaximumRetryAttempts: 0,
    });
  });
});

describe('retention', () => {
  it('keeps every function’s log group, with its retention, when the stack is deleted or it is replaced', () => {
    const groups = ofType('AWS::Logs::LogGroup');
    expect(groups).toHaveLength(FUNCTIONS.length);
    for (const name of FUNCTIONS) {
      expect(template.Resources[`${logicalId(name)}LogGroup`]).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: { LogGroupName: `/aws/lambda/sagemaker-rollouts-test-${name}`, RetentionInDays: 30 },
      });
    }
  });

  it('keeps the table and the queues that hold messages when the stack is deleted or they are replaced', () => {
    for (const id of [
      'RolloutsTable',
      'CallbackQueue',
      'CallbackDlq',
      'EventTargetDlq',
      'AsyncFailureQueue',
      'ExecutorQueue',
      'ExecutorDlq',
    ]) {
      expect(template.Resources[id]).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
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

  it('sends every asynchronously invoked function’s failed events to an alarmed queue (finding 6); the control function is invoked synchronously through its URL', () => {
    const configs = ofType('AWS::Lambda::EventInvokeConfig').map(([, c]) => c.Properties);
    for (const name of ['modelPackageStateChange', 'endpointStateChange', 'canaryTick']) {
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
    expect(policy?.Properties.Roles).toHaveLength(3);
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    expect(alarms.find((a) => JSON.stringify(a.Dimensions).includes('AsyncFailureQueue'))).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms on permanent failures (all groups), tick failures and an overdue callback (per group timeout)', () => {
    const alarm = (id: string) => template.Resources[id]!.Properties;
    const permanent = alarm('PermanentFailuresAlarm');
    const series = permanent.Metrics.filter((m: Json) => m.MetricStat);
    expect(series.map((m: Json) => m.MetricStat.Metric.Dimensions[1].Value).sort()).toEqual([
      'all',
      'churn-model',
      'fraud-detector',
    ]);
    for (const m of series) {
      expect(m.MetricStat.Metric).toMatchObject({
        Namespace: 'SageMakerRollouts',
        MetricName: 'PermanentFailures',
      });
      expect(m.MetricStat.Metric.Dimensions[0]).toEqual({ Name: 'service', Value: 'sagemaker-rollouts' });
    }
    expect(permanent.Metrics.filter((m: Json) => m.ReturnData)).toEqual([
      expect.objectContaining({ Expression: 'SUM([FILL(p0, 0), FILL(p1, 0), FILL(p2, 0)])' }),
    ]);
    expect(permanent).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });

    const overdue = alarm('OldestCallbackAlarm');
    // churn-model waits 240 minutes, fraud-detector the default 360
    expect(overdue.Metrics.filter((m: Json) => m.Expression).map((m: Json) => m.Expression)).toEqual([
      'FILL(a0, 0) / 14400',
      'FILL(a1, 0) / 21600',
      'MAX([s0, s1])',
    ]);
    expect(overdue).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' });
    expect(alarm('TickFailedGroupsAlarm')).toMatchObject({
      Namespace: 'SageMakerRollouts',
      MetricName: 'TickFailedGroups',
      Dimensions: [
        { Name: 'service', Value: 'sagemaker-rollouts' },
        { Name: 'group', Value: 'all' },
      ],
    });
    expect(alarm('EventTargetDlqAlarm').MetricName).toBe('ApproximateNumberOfMessagesVisible');
  });

  it('has a dashboard with, per group, rollouts in flight and each prod variant’s errors and latency', () => {
    const body = template.Resources.Dashboard!.Properties.DashboardBody['Fn::Sub'];
    const { widgets } = JSON.parse(body) as { widgets: Json[] };
    const titles = widgets.filter((w) => w.type === 'metric').map((w) => w.properties.title);
    for (const group of ['churn-model', 'fraud-detector']) {
      expect(titles).toContain(`${group}: rollouts in flight`);
      expect(titles).toContain(`${group}: gate evidence, candidate vs baseline`);
    }
    const expressions = widgets.flatMap((w) =>
      (w.properties.metrics ?? []).flatMap((m: Json[]) =>
        m.flatMap((x) => (x?.expression ? [x.expression] : [])),
      ),
    );
    expect(expressions).toContain(
      `SEARCH('{AWS/SageMaker,EndpointName,VariantName} EndpointName="churn-model-prod" MetricName="Invocation5XXErrors"', 'Sum', 60)`,
    );
    expect(expressions).toContain(
      `SEARCH('{AWS/SageMaker,EndpointName,VariantName} EndpointName="churn-model-prod" MetricName="ModelLatency"', 'p99', 60)`,
    );
    expect(body).toContain('"TickDuration"');
    // the only substitution is the region
    expect(new Set(body.match(/\$\{[^}]*\}/g))).toEqual(new Set([`${'$'}{AWS::Region}`]));
  });

  it('turns service events into AWS Chatbot custom notifications on an SNS topic', () => {
    expect(template.Resources.ChatNotificationsTopic!.Type).toBe('AWS::SNS::Topic');
    const rule = template.Resources.ChatNotificationsRule!.Properties;
    expect(rule.EventBusName).toEqual({ Ref: 'ServiceEventBus' });
    expect(rule.EventPattern['detail-type']).toEqual(
      expect.arrayContaining(['Deployment Rolled Back', 'Deployment Promoted', 'Awaiting Approval']),
    );
    const target = rule.Targets[0];
    expect(target.Arn).toEqual({ Ref: 'ChatNotificationsTopic' });
    // what EventBridge sends for a rollback: the template with its placeholders filled
    const event = {
      id: 'e-1',
      'detail-type': 'Deployment Rolled Back',
      detail: {
        deploymentId: 'churn-model:v3',
        group: 'churn-model',
        stage: 'prod',
        region: 'eu-west-1',
        phase: 'RolledBack',
        reason: 'gate failed at step 1/3',
        readings: {
          candidate: { errorRate: 0.2, latencyMs: 40 },
          baseline: { errorRate: 0.001, latencyMs: 35 },
        },
      },
    } as Json;
    const value = (path: string): unknown =>
      path
        .replace(/^\$\./, '')
        .split('.')
        .reduce((node: Json, key) => node?.[key], event);
    const filled = fillInputTemplate(target.InputTransformer.InputTemplate, (name) =>
      value(target.InputTransformer.InputPathsMap[name]),
    );
    const notification = JSON.parse(filled);
    expect(notification).toMatchObject({
      version: '1.0',
      source: 'custom',
      content: {
        textType: 'client-markdown',
        title: 'Deployment Rolled Back: churn-model:v3 prod eu-west-1',
      },
      metadata: { threadId: 'churn-model:v3' },
    });
    expect(notification.content.description).toContain('gate failed at step 1/3');
    expect(notification.content.description).toContain('candidate 5XX rate 0.2 (baseline 0.001)');
    const policy = template.Resources.ChatNotificationsTopicPolicy!.Properties.PolicyDocument.Statement[0];
    expect(policy.Principal).toEqual({ Service: 'events.amazonaws.com' });
    expect(policy.Condition.ArnEquals['aws:SourceArn']).toEqual({
      'Fn::GetAtt': ['ChatNotificationsRule', 'Arn'],
    });
    expect(template.Outputs.ChatNotificationsTopicArn).toBeDefined();
  });

  it('sends every alarm, and its return to OK, to the alarm topic: the stack’s own, or the one given (finding 3)', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(14);
    const topic = { 'Fn::If': ['CreateAlarmTopic', { Ref: 'AlarmTopic' }, { Ref: 'AlarmTopicArn' }] };
    for (const [id, alarm] of alarms) {
      const { AlarmActions, OKActions, AlarmName } = alarm.Properties;
      expect({ id, AlarmActions, OKActions }).toEqual({ id, AlarmActions: [topic], OKActions: [topic] });
      // the topic's policy lets this stack's alarms publish, by their names
      expect(AlarmName).toMatch(/^sagemaker-rollouts-test-/);
    }

    const own = deployedAs(template);
    expect(own.Resources.AlarmTopic?.Type).toBe('AWS::SNS::Topic');
    for (const [, alarm] of Object.entries(own.Resources).filter(
      ([, r]) => r.Type === 'AWS::CloudWatch::Alarm',
    )) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: 'AlarmTopic' }]);
    }
    expect(own.Resources.AlarmTopicPolicy!.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'ThisStacksAlarms',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: 'AlarmTopic' },
        Condition: {
          ArnLike: {
            'aws:SourceArn': {
              'Fn::Sub': `arn:${'$'}{AWS::Partition}:cloudwatch:${'$'}{AWS::Region}:${'$'}{AWS::AccountId}:alarm:sagemaker-rollouts-test-*`,
            },
          },
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        },
      },
    ]);
    expect(own.Outputs.AlarmTopicArn!.Value).toEqual({ Ref: 'AlarmTopic' });

    const PAGER = 'arn:aws:sns:us-east-1:111122223333:team-pager';
    const given = deployedAs(template, { AlarmTopicArn: PAGER });
    expect(given.Resources.AlarmTopic).toBeUndefined();
    expect(given.Resources.AlarmTopicPolicy).toBeUndefined();
    for (const [, alarm] of Object.entries(given.Resources).filter(
      ([, r]) => r.Type === 'AWS::CloudWatch::Alarm',
    )) {
      expect(alarm.Properties.AlarmActions).toEqual([PAGER]);
      expect(alarm.Properties.OKActions).toEqual([PAGER]);
    }
    expect(given.Outputs.AlarmTopicArn!.Value).toBe(PAGER);
    const pattern = new RegExp(template.Parameters.AlarmTopicArn!.AllowedPattern!);
    expect(['', PAGER].every((value) => pattern.test(value))).toBe(true);
    expect(pattern.test('team-pager')).toBe(false);
  });

  it('ships the operator policy: commands through the URL only, rollout reads, no direct invocation (finding 1)', () => {
    const policy = template.Resources.OperatorPolicy!;
    expect(policy.Type).toBe('AWS::IAM::ManagedPolicy');
    const control = { 'Fn::GetAtt': ['ControlLambdaFunction', 'Arn'] };
    const statements = policy.Properties.PolicyDocument.Statement as Json[];
    const bySid = (sid: string) => statements.find((s) => s.Sid === sid)!;
    expect(bySid('CommandsThroughTheUrl')).toEqual({
      Sid: 'CommandsThroughTheUrl',
      Effect: 'Allow',
      Action: 'lambda:InvokeFunctionUrl',
      Resource: control,
      Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
    });
    expect(bySid('InvokeOnlyViaTheUrl')).toEqual({
      Sid: 'InvokeOnlyViaTheUrl',
      Effect: 'Allow',
      Action: 'lambda:InvokeFunction',
      Resource: control,
      Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
    });
    // every lambda action of the policy carries a URL-only condition
    for (const statement of statements.filter((s) => JSON.stringify(s.Action ?? '').includes('lambda:'))) {
      expect(statement.Condition).toBeDefined();
    }
    expect(bySid('ReadRolloutState').Action).toBe('dynamodb:Query');
    expect(template.Outputs.OperatorPolicyArn!.Value).toEqual({ Ref: 'OperatorPolicy' });
    // with a customer managed key the operators may decrypt through DynamoDB only
    const withKey = deployedAs(template, { KmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/abc' });
    const keyStatement = (
      withKey.Resources.OperatorPolicy!.Properties.PolicyDocument.Statement as Json[]
    ).find((s) => s.Sid === 'ReadTheEncryptedTable');
    expect(keyStatement?.Action).toBe('kms:Decrypt');
    expect(keyStatement?.Condition).toBeDefined();
    const without = deployedAs(template);
    expect(
      (without.Resources.OperatorPolicy!.Properties.PolicyDocument.Statement as Json[]).some(
        (s) => s.Sid === 'ReadTheEncryptedTable',
      ),
    ).toBe(false);
  });

  it('pages on a command without a valid proof of identity (finding 1)', () => {
    const alarm = template.Resources.CommandIdentityRefusedAlarm!.Properties;
    expect(alarm.Namespace).toBe('SageMakerRollouts');
    expect(alarm.MetricName).toBe('CommandIdentityRefused');
    expect(alarm.Dimensions).toEqual(
      expect.arrayContaining([expect.objectContaining({ Name: 'group', Value: 'all' })]),
    );
    expect(alarm.Threshold).toBe(0);
    expect(alarm.ComparisonOperator).toBe('GreaterThanThreshold');
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

describe('customer managed key (parameter KmsKeyArn)', () => {
  const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const of = (t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);

  it('without it: AWS owned and SQS managed keys, as before, and no key policy', () => {
    const t = deployedAs(template);
    expect(t.Resources.RolloutsTable!.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    const queues = of(t, 'AWS::SQS::Queue');
    expect(queues).toHaveLength(6);
    for (const [id, queue] of queues) {
      expect({
        id,
        sse: queue.Properties.SqsManagedSseEnabled,
        key: queue.Properties.KmsMasterKeyId,
      }).toEqual({
        id,
        sse: true,
        key: undefined,
      });
    }
    for (const [, topic] of of(t, 'AWS::SNS::Topic')) expect(topic.Properties.KmsMasterKeyId).toBeUndefined();
    for (const [, group] of of(t, 'AWS::Logs::LogGroup')) expect(group.Properties.KmsKeyId).toBeUndefined();
    expect(t.Resources.CustomerKeyUsePolicy).toBeUndefined();
  });

  it('with it: the table, every queue, topic and log group use the key, and every role may use it through DynamoDB and SQS only', () => {
    const t = deployedAs(template, { KmsKeyArn: KEY });
    expect(t.Resources.RolloutsTable!.Properties.SSESpecification).toEqual({
      SSEEnabled: true,
      SSEType: 'KMS',
      KMSMasterKeyId: KEY,
    });
    for (const [id, queue] of of(t, 'AWS::SQS::Queue')) {
      expect({
        id,
        sse: queue.Properties.SqsManagedSseEnabled,
        key: queue.Properties.KmsMasterKeyId,
      }).toEqual({
        id,
        sse: undefined,
        key: KEY,
      });
    }
    const topics = of(t, 'AWS::SNS::Topic');
    expect(topics.map(([id]) => id).sort()).toEqual(['AlarmTopic', 'ChatNotificationsTopic']);
    for (const [, topic] of topics) expect(topic.Properties.KmsMasterKeyId).toBe(KEY);
    const groups = of(t, 'AWS::Logs::LogGroup');
    expect(groups).toHaveLength(FUNCTIONS.length);
    for (const [, group] of groups) expect(group.Properties.KmsKeyId).toBe(KEY);

    const policy = t.Resources.CustomerKeyUsePolicy!;
    expect(policy.Type).toBe('AWS::IAM::ManagedPolicy');
    expect(policy.Properties.Roles.map((r: Json) => r.Ref).sort()).toEqual(
      FUNCTIONS.map((name) => fn(name).Properties.Role['Fn::GetAtt'][0]).sort(),
    );
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'TableAndQueues',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: KEY,
        Condition: {
          StringEquals: {
            'kms:ViaService': [
              { 'Fn::Sub': `dynamodb.${'$'}{AWS::Region}.amazonaws.com` },
              { 'Fn::Sub': `sqs.${'$'}{AWS::Region}.amazonaws.com` },
            ],
          },
        },
      },
    ]);
    const pattern = new RegExp(template.Parameters.KmsKeyArn!.AllowedPattern!);
    expect(['', KEY].every((value) => pattern.test(value))).toBe(true);
    expect(pattern.test('alias/rollouts')).toBe(false);
  });
});

describe('packaged with --param=kmsKeyArn=… --param=alarmTopicArn=…', () => {
  it('changes nothing but the two parameters’ Defaults', () => {
    // each parameter is read on its Default line alone, so packaging with it changes nothing else
    const lines = readFileSync(join(repoRoot, 'serverless.yml'), 'utf8').split('\n');
    for (const name of ['kmsKeyArn', 'alarmTopicArn']) {
      const reading = lines.filter((line) => line.includes(`\${param:${name}`));
      expect(reading).toEqual([`      Default: '\${param:${name}, ""}'`]);
    }
    // and osls resolves the Parameters the plain template carries, with the values given
    const unset = Object.fromEntries(
      Object.entries(printedParameters).map(([name, parameter]) => [
        name,
        name === 'KmsKeyArn' || name === 'AlarmTopicArn' ? { ...parameter, Default: '' } : parameter,
      ]),
    );
    expect(unset).toEqual(template.Parameters);
  });

  it('deploys by default with the key on the table, queues, topic and logs, and the given alarm topic', () => {
    expect(withParams.Parameters.KmsKeyArn!.Default).toBe(KEY);
    expect(withParams.Parameters.AlarmTopicArn!.Default).toBe(PAGER);
    const t = deployedAs(withParams);
    expect(t.Resources.RolloutsTable!.Properties.SSESpecification.KMSMasterKeyId).toBe(KEY);
    const encrypted = Object.entries(t.Resources)
      .filter(([, r]) => ['AWS::SQS::Queue', 'AWS::SNS::Topic', 'AWS::Logs::LogGroup'].includes(r.Type))
      .map(([id, r]) => [id, r.Properties.KmsMasterKeyId ?? r.Properties.KmsKeyId]);
    expect(encrypted).toHaveLength(6 + 1 + FUNCTIONS.length);
    for (const [id, key] of encrypted) expect({ id, key }).toEqual({ id, key: KEY });
    expect(t.Resources.CustomerKeyUsePolicy).toBeDefined();
    expect(t.Resources.AlarmTopic).toBeUndefined();
    const alarms = Object.values(t.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(14);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([PAGER]);
  });

  it('passes cfn-lint (parameter defaults against their patterns included)', () => {
    // the same run as the plain template's: both templates in one cfn-lint
    const lint = cfnLint();
    if (!lint) return;
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
  }, 100_000);
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

describe('the deployer policy (deploy/deployer-policy.json)', () => {
  const policy = JSON.parse(readFileSync(join(repoRoot, 'deploy/deployer-policy.json'), 'utf8'));
  const REGION = 'eu-west-1';
  const ACCOUNT = '111122223333';
  const STACK = 'sagemaker-rollouts-test';
  const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

  /** A physical name as CloudFormation generates it for a resource given none. */
  const generated = (id: string) => `${STACK}-${id}-1A2B3C4D5E6F`;
  const nameOf = (id: string): string => {
    const { Type, Properties: p } = template.Resources[id]!;
    if (Type === 'AWS::S3::Bucket') return `${STACK}-serverlessdeploymentbucket-1a2b3c4d5e6f`;
    return (
      p.FunctionName ??
      p.TableName ??
      p.QueueName ??
      p.TopicName ??
      p.AlarmName ??
      p.DashboardName ??
      p.LogGroupName ??
      p.RoleName ??
      p.ManagedPolicyName ??
      p.Name ??
      generated(id)
    );
  };
  /** The resource a `Ref` or `Fn::GetAtt` points to. */
  const target = (value: Json): string => value.Ref ?? value['Fn::GetAtt'][0];
  const functionArn = (fn: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${nameOf(fn)}`;
  const queueArn = (id: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${nameOf(id)}`;
  const topicArn = (id: string) => `arn:aws:sns:${REGION}:${ACCOUNT}:${nameOf(id)}`;

  /** What the deployer acts on for a resource: its ARN(s), as IAM evaluates the call. */
  const arnsOf = (id: string): string[] => {
    const { Type, Properties: p } = template.Resources[id]!;
    switch (Type) {
      case 'AWS::S3::Bucket':
        return [`arn:aws:s3:::${nameOf(id)}`];
      case 'AWS::S3::BucketPolicy':
        return [`arn:aws:s3:::${nameOf(target(p.Bucket))}`];
      case 'AWS::Logs::LogGroup':
        return [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${nameOf(id)}`];
      case 'AWS::Lambda::Function':
        return [functionArn(id)];
      case 'AWS::Lambda::Version':
      case 'AWS::Lambda::EventInvokeConfig':
      case 'AWS::Lambda::Permission':
      case 'AWS::Lambda::EventSourceMapping':
        return [functionArn(target(p.FunctionName))];
      case 'AWS::Lambda::Url':
        return [functionArn(target(p.TargetFunctionArn))];
      case 'AWS::Events::EventBus':
        return [`arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${nameOf(id)}`];
      case 'AWS::Events::EventBusPolicy':
        return [`arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${p.EventBusName}`];
      case 'AWS::Events::Rule': {
        const bus = p.EventBusName ? `${nameOf(target(p.EventBusName))}/` : '';
        return [`arn:aws:events:${REGION}:${ACCOUNT}:rule/${bus}${nameOf(id)}`];
      }
      case 'AWS::DynamoDB::Table':
        return [`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${nameOf(id)}`];
      case 'AWS::SQS::Queue':
        return [queueArn(id)];
      case 'AWS::SQS::QueuePolicy':
        return p.Queues.map((q: Json) => queueArn(target(q)));
      case 'AWS::SNS::Topic':
        return [topicArn(id)];
      case 'AWS::SNS::TopicPolicy':
        return p.Topics.map((t: Json) => topicArn(target(t)));
      case 'AWS::IAM::Role':
        return [`arn:aws:iam::${ACCOUNT}:role/${nameOf(id)}`];
      case 'AWS::IAM::ManagedPolicy':
        return [
          `arn:aws:iam::${ACCOUNT}:policy/${nameOf(id)}`,
          ...(p.Roles ?? []).map((r: Json) => `arn:aws:iam::${ACCOUNT}:role/${nameOf(target(r))}`),
        ];
      case 'AWS::CloudWatch::Alarm':
        return [`arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${nameOf(id)}`];
      case 'AWS::CloudWatch::Dashboard':
        return [`arn:aws:cloudwatch::${ACCOUNT}:dashboard/${nameOf(id)}`];
      default:
        throw new Error(`${id}: no ARN known for ${Type}`);
    }
  };

  it('knows the actions of every resource type the packaged template holds', () => {
    const types = new Set(Object.values(template.Resources).map((r) => r.Type));
    expect([...types].filter((type) => !ACTIONS_BY_TYPE[type])).toEqual([]);
  });

  it('allows each of them on every resource of the stack, and the role passed to each function', () => {
    const missing: string[] = [];
    for (const [id, resource] of Object.entries(template.Resources)) {
      for (const action of ACTIONS_BY_TYPE[resource.Type] ?? []) {
        const arns =
          action === 'iam:PassRole'
            ? [`arn:aws:iam::${ACCOUNT}:role/${nameOf(target(resource.Properties.Role))}`]
            : action.startsWith('iam:') && resource.Type === 'AWS::IAM::ManagedPolicy'
              ? arnsOf(id).filter((arn) =>
                  arn.includes(action.endsWith('RolePolicy') ? ':role/' : ':policy/'),
                )
              : arnsOf(id);
        for (const arn of arns) {
          if (allowing(policy.Statement, action, arn).length === 0)
            missing.push(`${action} on ${arn} (${id})`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('allows osls its stack and deployment bucket calls, and no other stack', () => {
    const stack = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK}/0a1b2c3d-4e5f-6789-abcd-ef0123456789`;
    for (const action of STACK_ACTIONS) {
      expect({ action, on: allowing(policy.Statement, action, stack).length > 0 }).toEqual({
        action,
        on: true,
      });
      const other = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/other-service-prod/0a1b2c3d`;
      expect({ action, other: allowing(policy.Statement, action, other).length }).toEqual({
        action,
        other: 0,
      });
    }
    const bucket = arnsOf('ServerlessDeploymentBucket')[0]!;
    for (const action of ARTIFACT_ACTIONS) {
      const arn = action === 's3:ListBucket' ? bucket : `${bucket}/serverless/${STACK}/1-2/canaryTick.zip`;
      expect({ action, on: allowing(policy.Statement, action, arn).length > 0 }).toEqual({
        action,
        on: true,
      });
    }
  });

  it('with the key parameter: DynamoDB may check the key and create its grant for the table, and only DynamoDB', () => {
    for (const action of TABLE_KEY_ACTIONS) {
      const statements = allowing(policy.Statement, action, KEY);
      expect(statements.map((s) => s.Condition)).toEqual([
        { StringLike: { 'kms:ViaService': 'dynamodb.*.amazonaws.com' } },
      ]);
    }
    expect(
      deployedAs(template, { KmsKeyArn: KEY }).Resources.RolloutsTable!.Properties.SSESpecification,
    ).toMatchObject({
      KMSMasterKeyId: KEY,
    });
  });

  it('grants no action on all resources but those that have no resource-level permission', () => {
    const unscoped = policy.Statement.filter((s: Json) => s.Resource === '*' && !s.Condition).flatMap(
      (s: Json) => [s.Action].flat(),
    );
    expect(unscoped.sort()).toEqual([
      'cloudformation:GetTemplateSummary',
      'cloudformation:ValidateTemplate',
      'lambda:GetEventSourceMapping',
      'lambda:ListEventSourceMappings',
    ]);
  });
});
