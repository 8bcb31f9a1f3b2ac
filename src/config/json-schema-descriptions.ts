/**
 * The hover help of every field of the configuration's JSON Schema, by path: `*` is a record's
 * value (a group, a JSON pointer), `[]` a list's item, `strategy(canary)` the canary branch of the
 * strategy, `<stage>` either stage (a path under `stages.qa` or `stages.prod` falls back to it).
 * Kept out of the zod schema so that the functions' bundles do not carry the words.
 */
export const FIELD_DESCRIPTIONS: Record<string, string> = {
  tickConcurrency: 'How many rollouts one tick works on at once. Integer 1..50, default 8.',
  callbackPipelines:
    "SageMaker pipelines whose CallbackSteps send to this service's queue: the functions may answer steps of these pipelines' executions only (at most 50 names). Default: none.",
  notifications: 'Where the service reports rollouts besides EventBridge.',
  'notifications.chat':
    'Default of the stack parameter ChatNotifications: an SNS topic that receives rollouts, rollbacks, failures and approvals waiting as AWS Chatbot custom notifications. Default false.',
  modelPackageGroups:
    'The model package groups promoted by the service (at least one). Keys are SageMaker names: 1-63 letters, digits or inner hyphens. Endpoint names must be unique across all groups and stages (checked by `config check`, which JSON Schema cannot express).',
  'modelPackageGroups.*': 'One model package group: how its approved versions reach QA and production.',
  'modelPackageGroups.*.executionRoleArn':
    'IAM role ARN SageMaker assumes to run the models (CreateModel ExecutionRoleArn). Required.',
  'modelPackageGroups.*.concurrency':
    'What a version does when it wants a stage (QA on approval, prod once QA passed) that another version holds: replace it (supersede), wait for it (queue), or be refused (reject). The policy holds per stage: a newer version goes through QA while an older one is still in prod. Default supersede.',
  'modelPackageGroups.*.promotion':
    'How a version that passed QA reaches production: the promotion into every stage that waits for another, unless the stage has a promotion of its own (which wins).',
  'modelPackageGroups.*.promotion.mode':
    "After QA passes: promote at once (auto), or wait for an operator's `promote` (manual). Default auto.",
  'modelPackageGroups.*.promotion.approvalTimeoutMinutes':
    'Manual mode: a deployment waiting longer than this for `promote` expires. Integer ≥ 1, default 1440 (a day).',
  'modelPackageGroups.*.promotion.bakeMinutes':
    'The least time a version runs in QA after it passed there before it enters prod (a bake between stages); a manual `promote` within it is kept until it ends, `promote --full` ends it early. Integer 1..10080 (a week); absent: no bake.',
  'modelPackageGroups.*.rollback':
    'What a rollback in a later stage does to the stages that already promoted the version.',
  'modelPackageGroups.*.rollback.earlierStages':
    'When prod rolls a version back (gate, alarm, maximum duration, rollback, abort or failure of its canary): keep: QA keeps the version, for whoever looks into it; rollBack: QA goes back to the version prod serves after the rollback (unless QA already moved on, or prod has no other version). Default keep.',
  'modelPackageGroups.*.stages':
    'The stages of the group, in order: a stage waits for the one written before it unless it says `after`. This version runs two, qa then prod (checked by `config check`).',
  'modelPackageGroups.*.stages.*':
    'Refused: this version runs two stages, qa then prod; a graph of other stages waits for a version that walks it.',
  'modelPackageGroups.*.stages.qa':
    'The QA endpoint: every approved version is deployed and smoke-tested here first (strategy replace; it waits for no stage). Set either instanceType or serverless.',
  'modelPackageGroups.*.stages.prod':
    'The production endpoint and how a version reaches it (strategy canary or native; it waits for qa). Its endpointName must differ from QA. Set either instanceType or serverless.',
  'modelPackageGroups.*.stages.<stage>.region':
    "AWS region of the endpoint. Default: the service's region. The endpoint, its metrics, alarms and autoscaling are used there (through the stage's role when it has crossAccount); the model registry stays in the service's region, and a model is created there from the version's images and model data as the stage's region finds them (`artifacts`). Its endpoint events reach the service once you deploy serverless/stage-region-events.yml in that region; without it the tick's reconcile catches each change (see the README).",
  'modelPackageGroups.*.stages.<stage>.after':
    "The stages a version must pass before it enters this one (names of this group's stages, no cycle; checked by `config check`). Default: the stage written before this one; the first stage waits for none; `[]` makes any stage a first one. This version runs qa (after: []) then prod (after: [qa]).",
  'modelPackageGroups.*.stages.<stage>.promotion':
    "How a version that passed the stages this one waits for enters it. Default: the group's promotion. A version enters qa once approved in the registry, so this version refuses manual there.",
  'modelPackageGroups.*.stages.<stage>.promotion.mode':
    "Enter at once (auto), or wait for an operator's `promote` (manual). Default auto.",
  'modelPackageGroups.*.stages.<stage>.promotion.approvalTimeoutMinutes':
    'Manual mode: a deployment waiting longer than this for `promote` expires. Integer ≥ 1, default 1440 (a day).',
  'modelPackageGroups.*.stages.<stage>.promotion.bakeMinutes':
    'The least time a version runs in the stages this one waits for, after it succeeded in all of them, before it enters this one (a bake between waves); a manual `promote` within it is kept until it ends, `promote --full` ends it early. Integer 1..10080 (a week); absent: no bake. Refused on qa, which a version enters on approval.',
  'modelPackageGroups.*.stages.<stage>.endpointName':
    'SageMaker endpoint name (1-63 letters, digits or inner hyphens); unique across all groups and stages (checked by `config check`).',
  'modelPackageGroups.*.stages.<stage>.instanceType':
    'Instance type of the variants, such as ml.m5.large. Set either this (with optional instanceCount) or serverless.',
  'modelPackageGroups.*.stages.<stage>.instanceCount':
    "Instances per variant, with instanceType. Integer 1..100, default SageMaker's (1).",
  'modelPackageGroups.*.stages.<stage>.serverless':
    'Serverless inference instead of instances. Not with native shifting, shadow phases or instanceType.',
  'modelPackageGroups.*.stages.<stage>.serverless.memorySizeInMB':
    'Serverless inference memory: 1024, 2048, 3072, 4096, 5120 or 6144. Required with serverless.',
  'modelPackageGroups.*.stages.<stage>.serverless.maxConcurrency':
    'Serverless maximum concurrency. Integer 1..200, required with serverless.',
  'modelPackageGroups.*.stages.<stage>.serverless.provisionedConcurrency':
    'Serverless provisioned concurrency. Integer 1..200, default none.',
  'modelPackageGroups.*.stages.<stage>.crossAccount':
    'The endpoint lives in another account: the executor assumes roleArn there to change it, the deciding functions observerRoleArn to read it.',
  'modelPackageGroups.*.stages.<stage>.crossAccount.roleArn':
    'Deployer role in the account that owns this endpoint: the executor alone assumes it, for every change there. Required with crossAccount.',
  'modelPackageGroups.*.stages.<stage>.crossAccount.observerRoleArn':
    'Read-only role in the same account (DescribeEndpoint, InvokeEndpoint, GetMetricData, DescribeAlarms) that the deciding functions assume. Required with crossAccount, and must be another role than roleArn (checked by `config check`).',
  'modelPackageGroups.*.stages.<stage>.crossAccount.externalId':
    "External ID the roles' trust policies require (2..1224 characters).",
  'modelPackageGroups.*.stages.<stage>.crossAccount.sessionName':
    "STS session name, visible in the target account's CloudTrail (2..64 characters). Default: chosen by the service.",
  'modelPackageGroups.*.stages.<stage>.artifacts':
    "Where the stage's region finds a version's artifacts, for the replication you already run (S3 replication, ECR replication). Before any change to the stage's endpoint the executor checks, with the stage's credentials, that every image (ECR DescribeImages) and model data object (S3 HeadObject) is there; a missing one fails the deployment with what is missing where. Default: each artifact is looked for where the model package names it.",
  'modelPackageGroups.*.stages.<stage>.artifacts.s3':
    'S3 prefix mappings: a ModelDataUrl that starts with `from` is looked for under `to` instead (the longest matching `from` wins). At most 50; one per `from` (checked by `config check`).',
  'modelPackageGroups.*.stages.<stage>.artifacts.s3[].from':
    'The prefix as the model package names it, such as s3://models-use1/fraud/.',
  'modelPackageGroups.*.stages.<stage>.artifacts.s3[].to':
    "The copy's prefix in the stage's region, such as s3://models-euw1/fraud/.",
  'modelPackageGroups.*.stages.<stage>.artifacts.ecr':
    "ECR repository mappings: an image of repository `from` is looked for in repository `to`, with the same tag or digest. At most 50; one per `from`; every `to` in the stage's one region (checked by `config check`).",
  'modelPackageGroups.*.stages.<stage>.artifacts.ecr[].from':
    'The repository as the model package names it, without tag or digest, such as 111122223333.dkr.ecr.us-east-1.amazonaws.com/fraud.',
  'modelPackageGroups.*.stages.<stage>.artifacts.ecr[].to':
    "The replica repository in the stage's region (any account SageMaker may pull from), such as 444455556666.dkr.ecr.us-east-1.amazonaws.com/fraud.",
  'modelPackageGroups.*.stages.<stage>.smokeTest':
    'A request sent to the endpoint once it is InService; a failure stops the deployment.',
  'modelPackageGroups.*.stages.<stage>.smokeTest.contentType':
    'Content type of the smoke-test request. Default application/json.',
  'modelPackageGroups.*.stages.<stage>.smokeTest.accept': 'Accept header of the smoke-test request.',
  'modelPackageGroups.*.stages.<stage>.smokeTest.body':
    'Request body: a string, or an object or array sent as JSON. Required with smokeTest.',
  'modelPackageGroups.*.stages.<stage>.smokeTest.expectBodyContains': 'The response must contain this text.',
  'modelPackageGroups.*.stages.<stage>.strategy':
    "How the candidate takes the stage's traffic: replace the fleet at once (replace, the default), canary steps judged by this service on two variants (canary; with shadow, a shadow phase first), or SageMaker-managed blue/green shifting (native). This version runs qa with replace and prod with canary or native.",
  'modelPackageGroups.*.stages.<stage>.strategy(replace).type':
    'replace: the endpoint is updated to the candidate alone, then smoke-tested (what QA does).',
  'modelPackageGroups.*.stages.<stage>.strategy(canary).type':
    'canary: weight steps on two production variants, each judged against the baseline before the next.',
  'modelPackageGroups.*.stages.<stage>.strategy(canary).steps':
    'Weight steps (1..50). Weights must increase from step to step (checked by `config check`, which JSON Schema cannot express); after the last step passes, the candidate takes all traffic.',
  'modelPackageGroups.*.stages.<stage>.strategy(canary).steps[].weight':
    'Percent of traffic sent to the candidate during this step: more than 0, less than 100, and more than the step before.',
  'modelPackageGroups.*.stages.<stage>.strategy(canary).steps[].bakeMinutes':
    'How long the step bakes before its gates are read. 1..10080 minutes.',
  'modelPackageGroups.*.stages.<stage>.strategy(canary).gates':
    'What the judge compares between candidate and baseline at every step.',
  'modelPackageGroups.*.stages.<stage>.strategy(canary).gates.alpha':
    'Probability that the judge rolls back a candidate no worse than the baseline, over the whole deployment however often it is judged. In (0, 0.2], default 0.01.',
  'modelPackageGroups.*.stages.<stage>.strategy(canary).gates.detectErrorRatio':
    'The 5XX regression to catch, as candidate rate / baseline rate: the error test is tuned to it. In (1, 100], default 2.',
  'modelPackageGroups.*.stages.<stage>.strategy(canary).gates.maxErrorRate':
    "Absolute ceiling: evidence that the candidate's 5XX rate is above this rolls back at once. In (0, 1], default 0.05.",
  'modelPackageGroups.*.stages.<stage>.strategy(canary).gates.maxLatencyRatio':
    'Tolerated latency: the candidate may be up to this many times slower than the baseline, minute by minute. 1..100, default 1.2.',
  'modelPackageGroups.*.stages.<stage>.strategy(canary).gates.latencyStatistic':
    'ModelLatency statistic compared per minute: p50, p90, p99 or Maximum (Average is refused: no test on it keeps alpha). Default p99.',
  'modelPackageGroups.*.stages.<stage>.strategy(canary).gates.minInvocations':
    'Candidate requests (whole canary) before a step may pass. Integer ≥ 0, default 3 / maxErrorRate (rule of three).',
  'modelPackageGroups.*.stages.<stage>.strategy(canary).gates.ingestionLagMinutes':
    "Minutes CloudWatch may take to complete a minute's datapoints; newer minutes are not judged yet. Integer 0..15, default 3.",
  'modelPackageGroups.*.stages.<stage>.strategy(canary).gates.noData':
    'What the end of a bake does with too few requests (under minInvocations).',
  'modelPackageGroups.*.stages.<stage>.strategy(canary).gates.noData.action':
    'extend the bake, fail the step, or pass it. Default extend.',
  'modelPackageGroups.*.stages.<stage>.strategy(canary).gates.noData.maxExtensions':
    'With extend: how many times a bake may be extended by its own length before the step is decided. Integer 0..100, default 3.',
  'modelPackageGroups.*.stages.<stage>.strategy(canary).alarms':
    'CloudWatch alarm names (at most 10): any in ALARM fails the step. Default none.',
  'modelPackageGroups.*.stages.<stage>.strategy(canary).maxDurationMinutes':
    'The whole canary (all bakes and extensions) must end within this, or it rolls back; a pre-traffic check must complete within it too (within 60 minutes when unset), or the deployment ends Failed. Integer ≥ 1, default none.',
  'modelPackageGroups.*.stages.<stage>.strategy(canary).shadow':
    'Shadow phase before the canary steps: the candidate runs as a SageMaker shadow variant on copies of production requests and answers nobody. Not on serverless prod endpoints.',
  'modelPackageGroups.*.stages.<stage>.strategy(canary).shadow.samplingPercent':
    'Share of production requests copied to the shadow candidate. Integer 1..100, required with shadow.',
  'modelPackageGroups.*.stages.<stage>.strategy(canary).shadow.bakeMinutes':
    "How long the judge compares the shadow's answers with the production variant. 1..10080 minutes, required with shadow.",
  'modelPackageGroups.*.stages.<stage>.strategy(native).type':
    'native: SageMaker blue/green traffic shifting with alarm auto-rollback. Not for serverless endpoints.',
  'modelPackageGroups.*.stages.<stage>.strategy(native).trafficRouting':
    'SageMaker blue/green traffic routing (TrafficRoutingConfig).',
  'modelPackageGroups.*.stages.<stage>.strategy(native).trafficRouting.type':
    'ALL_AT_ONCE, CANARY (a canary, then the rest) or LINEAR (equal steps).',
  'modelPackageGroups.*.stages.<stage>.strategy(native).trafficRouting.waitIntervalSeconds':
    'Wait between traffic shifts. Integer 0..3600 seconds.',
  'modelPackageGroups.*.stages.<stage>.strategy(native).trafficRouting.sizePercent':
    "CANARY: canary size, 1..50; LINEAR: step size, 10..50; percent of the new fleet's capacity, as SageMaker validates them. Required with CANARY and LINEAR.",
  'modelPackageGroups.*.stages.<stage>.strategy(native).terminationWaitSeconds':
    'How long the old fleet is kept after all traffic moved. Integer 0..3600 seconds, default 0.',
  'modelPackageGroups.*.stages.<stage>.strategy(native).maximumExecutionTimeoutSeconds':
    'Upper bound of the whole blue/green deployment. Integer 600..28800 seconds, default none.',
  'modelPackageGroups.*.stages.<stage>.strategy(native).alarms':
    'Auto-rollback CloudWatch alarm names: 1..10, required.',
  'modelPackageGroups.*.stages.<stage>.strategy(native).shadow':
    'Refused: a shadow phase needs strategy canary (native shifting has no shadow variant).',
  'modelPackageGroups.*.stages.<stage>.preTraffic':
    'Pre-traffic check: requests sent to the candidate (at weight 0, with TargetVariant) before any user reaches it. Give either requests or requestSetFile. Needs strategy canary.',
  'modelPackageGroups.*.stages.<stage>.preTraffic.requests': 'The requests (1..50), inline.',
  'modelPackageGroups.*.stages.<stage>.preTraffic.requests[].name':
    'Names the request in failure reasons (1..64 characters); unique within the set (checked by `config check`, which JSON Schema cannot express).',
  'modelPackageGroups.*.stages.<stage>.preTraffic.requests[].contentType':
    'Content type of the request. Default application/json.',
  'modelPackageGroups.*.stages.<stage>.preTraffic.requests[].accept': 'Accept header of the request.',
  'modelPackageGroups.*.stages.<stage>.preTraffic.requests[].body':
    'Request body: a string, or an object or array sent as JSON.',
  'modelPackageGroups.*.stages.<stage>.preTraffic.requests[].expect': "What the candidate's answer must be.",
  'modelPackageGroups.*.stages.<stage>.preTraffic.requests[].expect.status':
    'HTTP status of the answer. Integer 100..599, default 200.',
  'modelPackageGroups.*.stages.<stage>.preTraffic.requests[].expect.bodyContains':
    'The answer must contain this text.',
  'modelPackageGroups.*.stages.<stage>.preTraffic.requests[].expect.values':
    'Values in the JSON answer, by JSON pointer (such as /predictions/0): an exact value, or a range {min, max}.',
  'modelPackageGroups.*.stages.<stage>.preTraffic.requests[].expect.values.*':
    'The value at this JSON pointer: a string, number, boolean or null to equal, or {min, max} (at least one) to fall within.',
  'modelPackageGroups.*.stages.<stage>.preTraffic.requests[].expect.values.*.min':
    'The value must be at least this.',
  'modelPackageGroups.*.stages.<stage>.preTraffic.requests[].expect.values.*.max':
    'The value must be at most this.',
  'modelPackageGroups.*.stages.<stage>.preTraffic.requestSetFile':
    'The request set in a JSON file ({"requests": [...], "compareWithBaseline"?: {...}}), relative to the configuration file; `config check` reads and validates it.',
  'modelPackageGroups.*.stages.<stage>.preTraffic.compareWithBaseline':
    "Also send each request to the baseline: the answers must match, numbers within absolute plus relative times the baseline's value.",
  'modelPackageGroups.*.stages.<stage>.preTraffic.compareWithBaseline.absolute':
    'Numbers may differ by this much (≥ 0, default 0) ...',
  'modelPackageGroups.*.stages.<stage>.preTraffic.compareWithBaseline.relative':
    "... plus this fraction of the baseline's value (≥ 0, default 0).",
  'modelPackageGroups.*.debug': 'Debugging aids for this group.',
  'modelPackageGroups.*.debug.payloadExcerpts':
    'Quote request bodies and model answers (shortened) in failure reasons, which reach logs, the history, events, chat and pipeline failure reasons. Off: they are named by size and SHA-256 digest only. Default false.',
  'modelPackageGroups.*.callback': 'Pipeline callback steps of this group.',
  'modelPackageGroups.*.callback.taskTimeoutMinutes':
    'A pipeline callback task still running after this is answered with failure. Integer ≥ 1, default 360.',
  'modelPackageGroups.*.authorization':
    'Who may send which command for the group (deny by default), required: `open` (every caller of the command URL may send every command; `config check` warns), or a map from a verb (promote, pause, resume, abort, rollback, retry) or default to principal ARN patterns.',
  'modelPackageGroups.*.authorization.default':
    'Principal ARN patterns allowed every verb not listed on its own. `*` matches within one ARN segment (never / or :); a role ARN also matches its sessions.',
  ...Object.fromEntries(
    ['promote', 'pause', 'resume', 'abort', 'rollback', 'retry'].map((verb) => [
      `modelPackageGroups.*.authorization.${verb}`,
      `Principal ARN patterns allowed to ${verb} (instead of the default ones). \`*\` matches within one ARN segment (never / or :); a role ARN also matches its sessions.`,
    ]),
  ),
};
