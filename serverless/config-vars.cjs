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
// `osls invoke local` runs a handler in this process: without this, the SDK's notice about its
// future Node versions comes with every invocation (no deployed function is affected)
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

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
/** The same ARN in a stage's region when it names one (SageMaker and CloudWatch resources are regional). */
const arnIn = (region, service, resource) =>
  region === undefined
    ? arn(service, resource)
    : { 'Fn::Sub': `arn:\${AWS::Partition}:${service}:${region}:\${AWS::AccountId}:${resource}` };
/** Values without repeats, objects compared as JSON. */
const uniqueJson = (values) => [...new Map(values.map((v) => [JSON.stringify(v), v])).values()];
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
  // Written beside and renamed into place (atomic on one file system): two osls commands on the
  // same configuration at once (a package and an `invoke local`) never read a half-written copy.
  const temporary = absolute.replace(/\.json$/, `.${process.pid}.tmp.json`);
  fs.writeFileSync(temporary, `${JSON.stringify(value)}\n`);
  try {
    // The copy must load exactly as the functions will load it.
    loadConfigFile(temporary);
    fs.renameSync(temporary, absolute);
  } finally {
    fs.rmSync(temporary, { force: true });
  }
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

  // A stage in another region (stages.<stage>.region) has its endpoint, configs, models, alarms
  // and scalable targets there: its ARNs name its region, the others the service's.
  const localRegions = unique(local.map((s) => s.region));
  const endpointArns = local.map((s) => arnIn(s.region, 'sagemaker', `endpoint/${lower(s.endpointName)}`));
  const endpointConfigArns = local.map((s) =>
    arnIn(s.region, 'sagemaker', `endpoint-config/${lower(endpointConfigNamePattern(s.endpointName))}`),
  );
  const modelArns = uniqueJson(
    local.map((s) => arnIn(s.region, 'sagemaker', `model/${lower(modelNamePattern(s.group))}`)),
  );
  const packageArns = groups.map(([group]) => arn('sagemaker', `model-package/${lower(group)}/*`));
  const executionRoles = unique(groups.map(([, g]) => g.executionRoleArn));
  const crossAccountRoles = unique(stages.filter((s) => s.crossAccount).map((s) => s.crossAccount.roleArn));
  // the deciding functions only observe in the other account: its observer role where configured
  // (the schema requires one for every cross-account stage: they never assume the deployer role)
  const observerRoles = unique(
    stages.filter((s) => s.crossAccount).map((s) => s.crossAccount.observerRoleArn),
  );
  // The accounts the cross-account stages' endpoints live in (their deployer role's): each forwards
  // its endpoints' state changes to this account's default bus (serverless/stage-region-events.yml
  // with HomeAccountId), which lets exactly these accounts put exactly those events there.
  const stageAccounts = unique(
    stages.filter((s) => s.crossAccount).map((s) => s.crossAccount.roleArn.split(':')[4]),
  );
  const stageAccountsEndpointEvents = {
    Effect: 'Allow',
    Principal: {
      AWS: stageAccounts.map((account) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:iam::${account}:root` })),
    },
    Action: 'events:PutEvents',
    Resource: arn('events', 'event-bus/default'),
    // the EventBridge User Guide's cross-account PutEvents example conditions on these keys
    Condition: {
      'ForAllValues:StringEquals': {
        'events:source': 'aws.sagemaker',
        'events:detail-type': 'SageMaker Endpoint State Change',
      },
    },
  };
  // The canary alarms the tick reads with DescribeAlarms, in this account, each in its prod stage's region.
  const canaryAlarms = unique(
    groups.flatMap(([, g]) =>
      g.stages.prod.strategy.type === 'canary' ? g.stages.prod.strategy.alarms : [],
    ),
  );
  const canaryAlarmArns = uniqueJson(
    groups.flatMap(([, g]) =>
      g.stages.prod.strategy.type === 'canary'
        ? g.stages.prod.strategy.alarms.map((name) =>
            arnIn(g.stages.prod.region, 'cloudwatch', `alarm:${name}`),
          )
        : [],
    ),
  );
  const pipelineExecutionArns = config.callbackPipelines.map((name) =>
    arn('sagemaker', `pipeline/${lower(name)}/execution/*`),
  );

  const logs = (fn) =>
    statement(
      'WriteOwnLogs',
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      [arn('logs', `log-group:/aws/lambda/${service}-${stage}-${fn}:*`)],
    );
  // GetCommand, PutCommand, UpdateCommand, QueryCommand of the state store.
  const table = statement(
    'ReadWriteTable',
    ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
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
  const readRegistry = statement('ReadModelPackages', ['sagemaker:DescribeModelPackage'], packageArns);
  // The executor writes the registry (ModelLifeCycle, rejections) and may never approve: a request
  // that sets ModelApprovalStatus must set Rejected (the key is absent from lifecycle-only updates).
  const markPackages = statement('MarkModelPackages', ['sagemaker:UpdateModelPackage'], packageArns, {
    Condition: { StringEqualsIfExists: { 'sagemaker:ModelApprovalStatus': 'Rejected' } },
  });
  // ListModelPackages (the tick's search for approvals whose event was lost) supports no
  // resource-level permissions: it is granted on '*', read-only.
  const listVersions = statement('ListApprovedVersions', ['sagemaker:ListModelPackages'], '*');
  // Application Auto Scaling's reads support no resource or condition; its writes are authorized on
  // scalable-target/* and take the namespace and dimension condition keys (Service Authorization
  // Reference): SageMaker variants' instance counts, in this account and region, nothing else.
  const readScaling = statement(
    'ReadAutoscaling',
    ['application-autoscaling:DescribeScalableTargets', 'application-autoscaling:DescribeScalingPolicies'],
    '*',
  );
  const writeScaling = statement(
    'CarryAutoscaling',
    [
      'application-autoscaling:RegisterScalableTarget',
      'application-autoscaling:PutScalingPolicy',
      'application-autoscaling:DeregisterScalableTarget',
    ],
    (localRegions.length > 0 ? localRegions : [undefined]).map((region) =>
      arnIn(region, 'application-autoscaling', 'scalable-target/*'),
    ),
    {
      Condition: {
        StringEquals: {
          'application-autoscaling:service-namespace': 'sagemaker',
          'application-autoscaling:scalable-dimension': 'sagemaker:variant:DesiredInstanceCount',
        },
      },
    },
  );
  // DescribeEndpoint and InvokeEndpoint (smoke tests, pre-traffic checks): what deciding needs.
  const observe =
    local.length > 0
      ? [
          statement('ObserveEndpoints', ['sagemaker:DescribeEndpoint'], endpointArns),
          statement('SmokeTestEndpoints', ['sagemaker:InvokeEndpoint'], endpointArns),
        ]
      : [];
  // The writes: only the executor function holds them.
  const write = [];
  if (local.length > 0) {
    write.push(
      // CreateEndpoint and UpdateEndpoint are authorized on the endpoint and the config they use.
      statement(
        'CreateAndUpdateEndpoints',
        ['sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint'],
        [...endpointArns, ...endpointConfigArns],
      ),
      statement(
        'ShiftAndDeleteEndpoints',
        ['sagemaker:DeleteEndpoint', 'sagemaker:UpdateEndpointWeightsAndCapacities'],
        endpointArns,
      ),
      statement(
        'ManageEndpointConfigs',
        ['sagemaker:CreateEndpointConfig', 'sagemaker:DeleteEndpointConfig'],
        endpointConfigArns,
      ),
      statement('ManageModels', ['sagemaker:CreateModel', 'sagemaker:DeleteModel'], modelArns),
      // Create* calls that carry Tags need AddTags on the resource they create.
      statement('TagOnCreate', ['sagemaker:AddTags'], [...endpointArns, ...endpointConfigArns, ...modelArns]),
      statement('PassExecutionRoles', ['iam:PassRole'], executionRoles, {
        Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
      // Autoscaling carried across versions. Application Auto Scaling names no endpoint in its
      // ARNs; registering a variant needs the SageMaker rights above on that endpoint, and target
      // tracking alarms are named after the variant's resource id.
      readScaling,
      writeScaling,
      statement(
        'TargetTrackingAlarms',
        ['cloudwatch:PutMetricAlarm', 'cloudwatch:DescribeAlarms', 'cloudwatch:DeleteAlarms'],
        local.map((s) => arnIn(s.region, 'cloudwatch', `alarm:TargetTracking-endpoint/${s.endpointName}/*`)),
      ),
    );
  }
  // The pre-flight before a local stage's endpoint changes: DescribeImages and HeadObject (which IAM
  // authorizes as s3:GetObject; with s3:ListBucket a missing key answers 404, not 403). Images are
  // looked up in each local stage's region, in any account SageMaker may pull
  // from; model data in this account's buckets, and under the prefixes the stages map it to.
  const preflight = [];
  if (local.length > 0) {
    const s3Targets = unique(local.flatMap((s) => (s.artifacts?.s3 ?? []).map((m) => m.to)));
    const s3Arn = (resource) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${resource}` });
    const ownAccount = { StringEquals: { 's3:ResourceAccount': { Ref: 'AWS::AccountId' } } };
    preflight.push(
      statement(
        'PreflightImages',
        ['ecr:DescribeImages'],
        localRegions.map((region) => ({
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub
          'Fn::Sub': `arn:\${AWS::Partition}:ecr:${region ?? '${AWS::Region}'}:*:repository/*`,
        })),
      ),
      statement('PreflightOwnModelData', ['s3:GetObject'], [s3Arn('*/*')], { Condition: ownAccount }),
      statement('PreflightOwnBuckets', ['s3:ListBucket'], [s3Arn('*')], { Condition: ownAccount }),
    );
    if (s3Targets.length > 0) {
      const withoutScheme = (uri) => uri.slice('s3://'.length);
      preflight.push(
        statement(
          'PreflightMappedModelData',
          ['s3:GetObject'],
          s3Targets.map((to) => s3Arn(`${withoutScheme(to)}*`)),
        ),
        statement(
          'PreflightMappedBuckets',
          ['s3:ListBucket'],
          unique(s3Targets.map((to) => withoutScheme(to).split('/')[0])).map(s3Arn),
        ),
      );
    }
  }
  const assumeObserverRoles =
    observerRoles.length > 0
      ? [statement('AssumeCrossAccountObserverRoles', ['sts:AssumeRole'], observerRoles)]
      : [];
  const executorRoles = unique([...crossAccountRoles, ...observerRoles]);
  const assumeExecutorRoles =
    executorRoles.length > 0 ? [statement('AssumeCrossAccountRoles', ['sts:AssumeRole'], executorRoles)] : [];
  // GetMetricData supports no resource-level permissions; DescribeAlarms is scoped to the alarms.
  const metrics = [statement('ReadCanaryMetrics', ['cloudwatch:GetMetricData'], '*')];
  if (canaryAlarms.length > 0) {
    metrics.push(statement('ReadCanaryAlarms', ['cloudwatch:DescribeAlarms'], canaryAlarmArns));
  }
  // Lambda polls the queue with the function's role.
  const callbackQueue = statement(
    'ConsumeCallbackQueue',
    ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
    [{ 'Fn::GetAtt': ['CallbackQueue', 'Arn'] }],
  );
  // The deciding functions ask the executor to converge a group.
  const requestConvergence = statement(
    'RequestConvergence',
    ['sqs:SendMessage'],
    [{ 'Fn::GetAtt': ['ExecutorQueue', 'Arn'] }],
  );
  const executorQueue = statement(
    'ConsumeExecutorQueue',
    ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
    [{ 'Fn::GetAtt': ['ExecutorQueue', 'Arn'] }],
  );
  const answerCallbacks =
    pipelineExecutionArns.length > 0
      ? [
          statement(
            'AnswerCallbackSteps',
            ['sagemaker:SendPipelineExecutionStepSuccess', 'sagemaker:SendPipelineExecutionStepFailure'],
            pipelineExecutionArns,
          ),
        ]
      : [];

  // Every function saves decisions and carries out the effects it may (the outbox) after the save;
  // the deciding functions observe endpoints and ask the executor for every change to them.
  const common = [table, publish, readRegistry, listVersions, ...observe, ...answerCallbacks];
  const decider = [...common, ...assumeObserverRoles, requestConvergence];
  const policy = (fn, statements) => [
    { PolicyName: `${fn}`, PolicyDocument: { Version: '2012-10-17', Statement: [logs(fn), ...statements] } },
  ];
  return {
    configPath,
    packagedConfigPath,
    alarmMetrics: alarmMetrics(groups),
    dashboardBody: dashboardBody(groups, stages, stage),
    groups: groups.map(([group]) => group),
    endpointNames: stages.map((s) => s.endpointName),
    // the accounts whose endpoint events the endpoint rule takes: this one and the stages'
    endpointEventAccounts: [{ Ref: 'AWS::AccountId' }, ...stageAccounts],
    stageAccounts,
    hasStageAccounts: String(stageAccounts.length > 0),
    // without cross-account stages the bus policy would name no account: it cannot be turned on
    stageAccountsEndpointEventsValues: stageAccounts.length > 0 ? ['true', 'false'] : ['false'],
    stageAccountsEndpointEvents,
    // what the operator policy lets `status` describe: this account's endpoints in the service's
    // region and in each region a stage of this account names
    operatorEndpointArns: uniqueJson(
      [undefined, ...localRegions].map((region) => arnIn(region, 'sagemaker', 'endpoint/*')),
    ),
    crossAccountRoleArns: crossAccountRoles,
    canaryAlarms,
    chat: String(config.notifications.chat),
    policies: {
      // Approvals and rejections start, abort or roll back deployments.
      modelPackageStateChange: policy('modelPackageStateChange', decider),
      // Endpoint transitions continue deployments: smoke tests, promotion, canary, callbacks.
      endpointStateChange: policy('endpointStateChange', decider),
      // Starts deploy tasks for CallbackSteps, answers Stopping messages.
      pipelineCallback: policy('pipelineCallback', [...decider, callbackQueue]),
      // Walks canary steps on metrics, reconciles lost events, times out approvals and callbacks.
      canaryTick: policy('canaryTick', [...decider, ...metrics]),
      // Operator commands through the function URL.
      control: policy('control', decider),
      // Carries out what the others decided: the only role with SageMaker (endpoints and registry)
      // and autoscaling writes.
      executor: policy('executor', [
        ...common,
        markPackages,
        ...assumeExecutorRoles,
        ...write,
        ...preflight,
        executorQueue,
      ]),
    },
  };
};

const NAMESPACE = 'SageMakerRollouts';
const SERVICE = 'sagemaker-rollouts';
/** The group dimension value of service-wide metrics (src/metrics/service-metrics.ts ALL_GROUPS). */
const ALL_GROUPS = 'all';
const metricStat = (id, name, group, stat = 'Sum') => ({
  Id: id,
  ReturnData: false,
  MetricStat: {
    Metric: {
      Namespace: NAMESPACE,
      MetricName: name,
      Dimensions: [
        { Name: 'service', Value: SERVICE },
        { Name: 'group', Value: group },
      ],
    },
    Period: 60,
    Stat: stat,
  },
});

/** Metric math over every group's series (alarms cannot SEARCH), one expression returned. */
const alarmMetrics = (groups) => {
  const all = [...groups.map(([group]) => group), ALL_GROUPS];
  const permanent = all.map((group, i) => metricStat(`p${i}`, 'PermanentFailures', group));
  // the oldest callback's age as a share of its group's timeout: above 1, it waits too long
  const ages = groups.map(([group], i) => metricStat(`a${i}`, 'OldestCallbackAge', group, 'Maximum'));
  const shares = groups.map(([, g], i) => ({
    Id: `s${i}`,
    ReturnData: false,
    Expression: `FILL(a${i}, 0) / ${g.callback.taskTimeoutMinutes * 60}`,
  }));
  return {
    permanentFailures: [
      ...permanent,
      {
        Id: 'total',
        Label: 'permanent failures, all groups',
        ReturnData: true,
        Expression: `SUM([${permanent.map((m) => `FILL(${m.Id}, 0)`).join(', ')}])`,
      },
    ],
    oldestCallback: [
      ...ages,
      ...shares,
      {
        Id: 'worst',
        Label: 'oldest callback age / its timeout',
        ReturnData: true,
        Expression: shares.length === 1 ? shares[0].Id : `MAX([${shares.map((x) => x.Id).join(', ')}])`,
      },
    ],
  };
};

/**
 * The CloudWatch dashboard: per group, rollouts in flight, candidate and baseline 5XX rate and
 * latency on the prod endpoint (SageMaker's per-variant metrics, every variant found), the gate
 * evidence, then the service's own metrics.
 */
const dashboardBody = (groups, stages, stage) => {
  const widgets = [];
  const service = (name, group, stat = 'Sum') => [
    NAMESPACE,
    name,
    'service',
    SERVICE,
    'group',
    group,
    { stat },
  ];
  let y = 0;
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub
  const add = (title, x, width, properties, region = '${AWS::Region}') => {
    widgets.push({
      type: 'metric',
      x,
      y,
      width,
      height: 6,
      properties: { title, region, period: 60, view: 'timeSeries', ...properties },
    });
  };
  for (const [group] of groups) {
    const prod = stages.find((s) => s.group === group && s.stageName === 'prod');
    const search = (metric, stat) =>
      `SEARCH('{AWS/SageMaker,EndpointName,VariantName} EndpointName="${prod.endpointName}" MetricName="${metric}"', '${stat}', 60)`;
    widgets.push({
      type: 'text',
      x: 0,
      y,
      width: 24,
      height: 1,
      properties: { markdown: `## ${group} (prod endpoint ${prod.endpointName})` },
    });
    y += 1;
    add(`${group}: rollouts in flight`, 0, 6, {
      metrics: [
        service('RolloutsInFlight', group, 'Maximum'),
        service('CallbacksOutstanding', group, 'Maximum'),
      ],
    });
    // the endpoint's own metrics are in its region
    add(
      `${group}: 5XX errors per variant`,
      6,
      6,
      { metrics: [[{ expression: search('Invocation5XXErrors', 'Sum'), id: 'errors', label: '' }]] },
      prod.region,
    );
    add(
      `${group}: ModelLatency p99 per variant (µs)`,
      12,
      6,
      { metrics: [[{ expression: search('ModelLatency', 'p99'), id: 'latency', label: '' }]] },
      prod.region,
    );
    add(`${group}: gate evidence, candidate vs baseline`, 18, 6, {
      metrics: [
        service('CandidateErrorRate', group, 'Maximum'),
        service('BaselineErrorRate', group, 'Maximum'),
        service('CandidateLatency', group, 'Maximum'),
        service('BaselineLatency', group, 'Maximum'),
      ],
    });
    y += 6;
    add(`${group}: deployments`, 0, 12, {
      view: 'bar',
      stat: 'Sum',
      period: 3600,
      metrics: [
        'DeploymentsStarted',
        'DeploymentsSucceeded',
        'DeploymentsRolledBack',
        'DeploymentsFailed',
        'GateFailed',
      ].map((name) => service(name, group)),
    });
    add(`${group}: durations (s)`, 12, 12, {
      metrics: [
        'RolloutDuration',
        'StepDuration',
        'TimeToFirstTraffic',
        'TimeToFullTraffic',
        'OldestCallbackAge',
      ].map((name) => service(name, group, 'Maximum')),
    });
    y += 6;
  }
  widgets.push({ type: 'text', x: 0, y, width: 24, height: 1, properties: { markdown: '## The service' } });
  y += 1;
  add('tick', 0, 8, {
    metrics: [
      service('TickDuration', ALL_GROUPS, 'Maximum'),
      service('GroupsJudged', ALL_GROUPS, 'Maximum'),
      service('TickFailedGroups', ALL_GROUPS),
    ],
  });
  add('permanent failures', 8, 8, {
    metrics: [...groups.map(([group]) => group), ALL_GROUPS].map((group) =>
      service('PermanentFailures', group),
    ),
  });
  add('function errors', 16, 8, {
    metrics: [
      'modelPackageStateChange',
      'endpointStateChange',
      'pipelineCallback',
      'canaryTick',
      'control',
      'executor',
    ].map((fn) => ['AWS/Lambda', 'Errors', 'FunctionName', `${SERVICE}-${stage}-${fn}`, { stat: 'Sum' }]),
  });
  return { 'Fn::Sub': JSON.stringify({ widgets }) };
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
