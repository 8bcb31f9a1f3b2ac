import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { type Json, repoRoot } from './fixtures';

export const examplePath = join(repoRoot, 'rollouts.config.yml');
export const exampleText = readFileSync(examplePath, 'utf8');
/** A fresh, mutable copy of the example configuration. */
export const example = (): Record<string, Json> => parse(exampleText);

export type Mutation = (config: Record<string, Json>) => void;
export const churnProd = (c: Record<string, Json>) => c.modelPackageGroups['churn-model'].stages.prod;

/** Configurations the loader refuses: what is wrong, how to break the example, the issue it reports. */
export const broken: [string, Mutation, string][] = [
  [
    'non-increasing weights',
    (c) => (churnProd(c).strategy.steps[1].weight = 10),
    'modelPackageGroups.churn-model.stages.prod.strategy.steps: step weights must increase',
  ],
  [
    'a weight of 100',
    (c) => (churnProd(c).strategy.steps[2].weight = 100),
    'modelPackageGroups.churn-model.stages.prod.strategy.steps.2.weight: ',
  ],
  [
    'both instanceType and serverless',
    (c) => (churnProd(c).serverless = { memorySizeInMB: 2048, maxConcurrency: 5 }),
    'modelPackageGroups.churn-model.stages.prod: set either instanceType (with optional instanceCount) or serverless, not both',
  ],
  [
    'neither instanceType nor serverless',
    (c) => delete c.modelPackageGroups['fraud-detector'].stages.qa.serverless,
    'modelPackageGroups.fraud-detector.stages.qa: set either instanceType',
  ],
  [
    'a cross-account stage without an observer role (the deciding functions would hold the deployer role)',
    (c) => delete c.modelPackageGroups['fraud-detector'].stages.prod.crossAccount.observerRoleArn,
    'modelPackageGroups.fraud-detector.stages.prod.crossAccount.observerRoleArn: a cross-account stage needs a read-only observer role',
  ],
  [
    'the deployer role as the observer role',
    (c) => {
      const crossAccount = c.modelPackageGroups['fraud-detector'].stages.prod.crossAccount;
      crossAccount.observerRoleArn = crossAccount.roleArn;
    },
    'modelPackageGroups.fraud-detector.stages.prod.crossAccount.observerRoleArn: must be another role than roleArn',
  ],
  [
    'a bad cross-account role ARN',
    (c) =>
      (c.modelPackageGroups['fraud-detector'].stages.prod.crossAccount.roleArn = 'arn:aws:iam::4444:role/x'),
    'modelPackageGroups.fraud-detector.stages.prod.crossAccount.roleArn: must be an IAM role ARN',
  ],
  [
    'a bad execution role ARN',
    (c) => (c.modelPackageGroups['churn-model'].executionRoleArn = 'churn-role'),
    'modelPackageGroups.churn-model.executionRoleArn: must be an IAM role ARN',
  ],
  [
    'an endpoint used by two groups',
    (c) => (c.modelPackageGroups['fraud-detector'].stages.qa.endpointName = 'churn-model-qa'),
    'modelPackageGroups.fraud-detector.stages.qa.endpointName: endpoint churn-model-qa is already used by churn-model.qa',
  ],
  [
    'the same endpoint for qa and prod',
    (c) => (churnProd(c).endpointName = 'churn-model-qa'),
    'modelPackageGroups.churn-model.stages.prod.endpointName: qa and prod must use different endpoints',
  ],
  [
    'an unknown key',
    (c) => (churnProd(c).strategy.gates.maxErrorPercent = 1),
    'modelPackageGroups.churn-model.stages.prod.strategy.gates.maxErrorPercent: unknown field',
  ],
  [
    'the retired ratio threshold of earlier versions',
    (c) => (churnProd(c).strategy.gates.maxErrorRateRatio = 2),
    'modelPackageGroups.churn-model.stages.prod.strategy.gates.maxErrorRateRatio: removed: the candidate is now compared with the baseline by a sequential test; write detectErrorRatio',
  ],
  [
    'the retired absolute latency threshold',
    (c) => (churnProd(c).strategy.gates.maxLatencyMs = 250),
    'modelPackageGroups.churn-model.stages.prod.strategy.gates.maxLatencyMs: removed: latency is judged relative to the baseline (maxLatencyRatio); for an absolute limit, list a CloudWatch alarm',
  ],
  [
    'an alpha of 0',
    (c) => (churnProd(c).strategy.gates.alpha = 0),
    'modelPackageGroups.churn-model.stages.prod.strategy.gates.alpha: ',
  ],
  ['an unknown top-level key', (c) => (c.groups = {}), 'groups: unknown field'],
  [
    'an unknown strategy',
    (c) => (churnProd(c).strategy.type = 'linear'),
    'modelPackageGroups.churn-model.stages.prod.strategy.type: ',
  ],
  [
    'a group name with an underscore',
    (c) => {
      c.modelPackageGroups.churn_model = c.modelPackageGroups['churn-model'];
      delete c.modelPackageGroups['churn-model'];
    },
    'modelPackageGroups.churn_model: invalid key',
  ],
  [
    'a missing prod stage',
    (c) => delete c.modelPackageGroups['churn-model'].stages.prod,
    'modelPackageGroups.churn-model.stages.prod: required',
  ],
  [
    'native shifting on a serverless endpoint',
    (c) => {
      const prod = c.modelPackageGroups['fraud-detector'].stages.prod;
      delete prod.instanceType;
      delete prod.instanceCount;
      prod.serverless = { memorySizeInMB: 2048, maxConcurrency: 5 };
    },
    'modelPackageGroups.fraud-detector.stages.prod.strategy.type: native blue/green shifting is not available',
  ],
  ['no groups', (c) => (c.modelPackageGroups = {}), 'modelPackageGroups: configure at least one group'],
  [
    'a native CANARY size over 50 % (SageMaker refuses it; finding 5)',
    (c) => {
      c.modelPackageGroups['fraud-detector'].stages.prod.strategy.trafficRouting = {
        type: 'CANARY',
        waitIntervalSeconds: 600,
        sizePercent: 60,
      };
    },
    'modelPackageGroups.fraud-detector.stages.prod.strategy.trafficRouting.sizePercent: CANARY needs a sizePercent of at most 50',
  ],
  [
    'a native LINEAR step under 10 % (finding 5)',
    (c) => {
      c.modelPackageGroups['fraud-detector'].stages.prod.strategy.trafficRouting = {
        type: 'LINEAR',
        waitIntervalSeconds: 600,
        sizePercent: 5,
      };
    },
    'modelPackageGroups.fraud-detector.stages.prod.strategy.trafficRouting.sizePercent: LINEAR needs a sizePercent from 10 to 50',
  ],
  [
    'an authorized principal that is not an ARN',
    (c) => (c.modelPackageGroups['churn-model'].authorization = { promote: ['release-team'] }),
    'modelPackageGroups.churn-model.authorization.promote.0: must be an IAM or STS principal ARN',
  ],
  [
    'a group without authorization (deny by default: say who, or `open`)',
    (c) => delete c.modelPackageGroups['churn-model'].authorization,
    'modelPackageGroups.churn-model.authorization: required: say who may send which command',
  ],
  [
    'authorization that is neither rules nor open',
    (c) => (c.modelPackageGroups['churn-model'].authorization = 'closed'),
    'modelPackageGroups.churn-model.authorization: must be `open` or rules',
  ],
  [
    'authorization for an unknown verb',
    (c) =>
      (c.modelPackageGroups['churn-model'].authorization = { deploy: ['arn:aws:iam::111122223333:role/r'] }),
    'modelPackageGroups.churn-model.authorization.deploy: unknown field',
  ],
  [
    'a callback pipeline name with a space',
    (c) => (c.callbackPipelines = ['churn train']),
    'callbackPipelines.0: must be a pipeline name',
  ],
  [
    'chat notifications that are not a flag',
    (c) => (c.notifications = { chat: 'yes' }),
    'notifications.chat: ',
  ],
];
