'use strict';
/**
 * Variables derived from the rollouts configuration, for serverless.yml:
 *   ${file(./serverless/config-vars.cjs):vars.<name>}
 *
 * The file named by the `config` param (default rollouts.config.yml, relative to the service
 * directory) is validated with the real schema (src/config/schema.ts, loaded through tsx), so an
 * invalid file fails `osls package` / `osls deploy` with the path of every bad field. Everything
 * here is plain data or CloudFormation intrinsics: nothing needs AWS credentials.
 *
 * The functions are packaged with a JSON copy of the file (`packagedConfigPath`, under dist/):
 * their bundles leave the YAML parser out, and read and validate the copy at cold start.
 */
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const { require: tsRequire } = require('tsx/cjs/api');

const { loadConfigFile } = tsRequire('../src/config/load.ts', __filename);
const { inlineRequestSetFiles } = tsRequire('../src/config/request-set-files.ts', __filename);
const { modelNamePattern, endpointConfigNamePattern } = tsRequire('../src/domain/naming.ts', __filename);

const serviceDir = path.resolve(__dirname, '..');
const unique = (values) => [...new Set(values)];
/** `arn:<partition>:<service>:<region>:<this account>:<resource>` as a CloudFormation Fn::Sub. */
const arn = (service, resource) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${resource}`,
});
const statement = (Sid, Action, Resource, extra = {}) => ({
  Sid,
  Effect: 'Allow',
  Action,
  Resource,
  ...extra,
});

/** Resolves the config path and checks it can be shipped with the functions. */
const configLocation = (configParam) => {
  const absolute = path.resolve(serviceDir, configParam);
  const relative = path.relative(serviceDir, absolute);
  return {
    absolute,
    relative,
    inside: relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative),
  };
};

/** osls prints `error.stack` of a failed variable: make that the message alone. */
const withoutStack = (message) => {
  const error = new Error(message);
  error.stack = message;
  return error;
};

/**
 * dist/<config path>.json, written from the validated YAML document as the user wrote it, with
 * its request-set files inlined: the functions are shipped with the request sets they send.
 */
const writePackagedConfig = (location) => {
  const relative = path.join('dist', location.relative.replace(/\.ya?ml$/i, '') + '.json');
  const absolute = path.join(serviceDir, relative);
  const document = YAML.parse(fs.readFileSync(location.absolute, 'utf8'), { maxAliasCount: 100 });
  const value = inlineRequestSetFiles(document, location.absolute);
  fs.mkdirSync(path.dirname(absolute), { recursive: true });
  fs.writeFileSync(absolute, `${JSON.stringify(value)}\n`);
  // The copy must load exactly as the functions will load it.
  loadConfigFile(absolute);
  return relative.split(path.sep).join('/');
};

const derive = (config, stage, configPath, packagedConfigPath = configPath) => {
  const service = 'sagemaker-rollouts';
  const groups = Object.entries(config.modelPackageGroups);
  const stages = groups.flatMap(([group, groupConfig]) =>
    ['qa', 'prod'].map((stageName) => ({ group, stageName, ...groupConfig.stages[stageName] })),
  );
  // Stages in another account are driven with the assumed role's credentials: this account's
  // roles get SageMaker rights only on the endpoints that live here.
  const local = stages.filter((s) => s.crossAccount === undefined);
  // SageMaker ARNs carry resource names in lower case.
  const lower = (name) => name.toLowerCase();

  const endpointArns = local.map((s) => arn('sagemaker', `endpoint/${lower(s.endpointName)}`));
  const endpointConfigArns = local.map((s) =>
    arn('sagemaker', `endpoint-config/${lower(endpointConfigNamePattern(s.endpointName))}`),
  );
  const modelArns = unique(
    groups
      .filter(([group]) => local.some((s) => s.group === group))
      .map(([group]) => lower(modelNamePattern(group))),
  ).map((pattern) => arn('sagemaker', `model/${pattern}`));
  const groupArns = groups.map(([group]) => arn('sagemaker', `model-package-group/${lower(group)}`));
  const packageArns = groups.map(([group]) => arn('sagemaker', `model-package/${lower(group)}/*`));
  const executionRoles = unique(groups.map(([, g]) => g.executionRoleArn));
  const crossAccountRoles = unique(stages.filter((s) => s.crossAccount).map((s) => s.crossAccount.roleArn));

  const logs = (fn) =>
    statement(
      'WriteOwnLogs',
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      [arn('logs', `log-group:/aws/lambda/${service}-${stage}-${fn}:*`)],
    );
  const table = statement(
    'ReadWriteTable',
    [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:Query',
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:TransactWriteItems',
    ],
    [
      { 'Fn::GetAtt': ['RolloutsTable', 'Arn'] },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub
      { 'Fn::Sub': '${RolloutsTable.Arn}/index/active-index' },
    ],
  );
  const publish = statement(
    'PublishToServiceBus',
    ['events:PutEvents'],
    [{ 'Fn::GetAtt': ['ServiceEventBus', 'Arn'] }],
  );
  const registry = statement(
    'ReadAndMarkModelPackages',
    [
      'sagemaker:DescribeModelPackage',
      'sagemaker:DescribeModelPackageGroup',
      'sagemaker:ListModelPackages',
      'sagemaker:UpdateModelPackage',
    ],
    [...groupArns, ...packageArns],
  );
  const scalingActions = [
    'application-autoscaling:DescribeScalableTargets',
    'application-autoscaling:DescribeScalingPolicies',
    'application-autoscaling:RegisterScalableTarget',
    'application-autoscaling:PutScalingPolicy',
    'application-autoscaling:DeregisterScalableTarget',
  ];
  const deploy = [];
  if (local.length > 0) {
    deploy.push(
      statement(
        'DriveEndpoints',
        [
          'sagemaker:CreateEndpoint',
          'sagemaker:UpdateEndpoint',
          'sagemaker:DescribeEndpoint',
          'sagemaker:DeleteEndpoint',
          'sagemaker:UpdateEndpointWeightsAndCapacities',
        ],
        [...endpointArns, ...endpointConfigArns],
      ),
      statement('SmokeTestEndpoints', ['sagemaker:InvokeEndpoint'], endpointArns),
      statement(
        'ManageEndpointConfigs',
        [
          'sagemaker:CreateEndpointConfig',
          'sagemaker:DescribeEndpointConfig',
          'sagemaker:DeleteEndpointConfig',
        ],
        endpointConfigArns,
      ),
      statement(
        'ManageModels',
        ['sagemaker:CreateModel', 'sagemaker:DescribeModel', 'sagemaker:DeleteModel'],
        modelArns,
      ),
      statement(
        'TagDeployedResources',
        ['sagemaker:AddTags', 'sagemaker:ListTags'],
        [...endpointArns, ...endpointConfigArns, ...modelArns],
      ),
      statement('PassExecutionRoles', ['iam:PassRole'], executionRoles, {
        Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
      // Autoscaling carried across versions. Application Auto Scaling names no endpoint in its
      // ARNs; registering a variant needs the SageMaker rights above on that endpoint, and target
      // tracking alarms are named after the variant's resource id.
      statement('CarryAutoscaling', scalingActions, '*'),
      statement(
        'TargetTrackingAlarms',
        ['cloudwatch:PutMetricAlarm', 'cloudwatch:DescribeAlarms', 'cloudwatch:DeleteAlarms'],
        local.map((s) => arn('cloudwatch', `alarm:TargetTracking-endpoint/${s.endpointName}/*`)),
      ),
    );
  }
  const assumeRoles =
    crossAccountRoles.length > 0
      ? [statement('AssumeCrossAccountRoles', ['sts:AssumeRole'], crossAccountRoles)]
      : [];
  // GetMetricData and DescribeAlarms support no resource-level permissions.
  const metrics = statement(
    'ReadCanaryMetrics',
    ['cloudwatch:GetMetricData', 'cloudwatch:DescribeAlarms'],
    '*',
  );
  const callbackQueue = statement(
    'ConsumeCallbackQueue',
    ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
    [{ 'Fn::GetAtt': ['CallbackQueue', 'Arn'] }],
  );
  const answerCallbacks = statement(
    'AnswerCallbackSteps',
    ['sagemaker:SendPipelineExecutionStepSuccess', 'sagemaker:SendPipelineExecutionStepFailure'],
    [arn('sagemaker', 'pipeline/*/execution/*')],
  );

  const deployer = [table, publish, registry, ...deploy, ...assumeRoles];
  const policy = (fn, statements) => [
    { PolicyName: `${fn}`, PolicyDocument: { Version: '2012-10-17', Statement: [logs(fn), ...statements] } },
  ];
  return {
    configPath,
    packagedConfigPath,
    groups: groups.map(([group]) => group),
    endpointNames: stages.map((s) => s.endpointName),
    crossAccountRoleArns: crossAccountRoles,
    policies: {
      // Approvals and rejections start, abort or roll back deployments. Callback answers for
      // deployments a pipeline waits on are sent from here too, when they finish.
      modelPackageStateChange: policy('modelPackageStateChange', [...deployer, answerCallbacks]),
      // Endpoint transitions continue deployments: smoke tests, promotion, canary, callbacks.
      endpointStateChange: policy('endpointStateChange', [...deployer, answerCallbacks]),
      // Starts deploy tasks for CallbackSteps, answers Stopping messages.
      pipelineCallback: policy('pipelineCallback', [...deployer, callbackQueue, answerCallbacks]),
      // Walks canary steps on metrics, reconciles lost events, times out approvals and callbacks.
      canaryTick: policy('canaryTick', [...deployer, metrics, answerCallbacks]),
      // Operator commands: promote, pause, resume, abort, rollback, retry.
      control: policy('control', [...deployer, answerCallbacks]),
    },
  };
};

module.exports.vars = async ({ options, resolveVariable }) => {
  const configParam = (await resolveVariable('param:config')) || 'rollouts.config.yml';
  const stage = options.stage || (await resolveVariable('sls:stage'));
  const location = configLocation(configParam);
  let config;
  try {
    config = loadConfigFile(location.absolute);
  } catch (error) {
    // "Invalid configuration <file>:\n  - <field path>: <message>", without a stack trace.
    throw withoutStack(error.message);
  }
  if (!location.inside) {
    throw withoutStack(
      `The config file ${configParam} must be inside the service directory ${serviceDir}: it is packaged with the functions`,
    );
  }
  return derive(config, stage, location.relative.split(path.sep).join('/'), writePackagedConfig(location));
};

module.exports.derive = derive;
