import { CreateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { afterEach, describe, expect, it } from 'vitest';
import type { EndpointChange } from '../../src/local/cloud/change-log';
import { localConfigVariant } from './helpers';
import { MINUTE, type Rollouts, startRollouts } from './rollout-harness';

/**
 * The executor's pre-flight, end to end: a version's image must be where the stage's region
 * reads it (ECR DescribeImages with the stage's credentials) before anything there changes.
 */
const REGISTRY = '111122223333.dkr.ecr.us-east-1.amazonaws.com';
const image = (repository: string, tag: string) => `${REGISTRY}/${repository}:${tag}`;

/** A version whose single container runs `imageUri`; pushed to ECR first when `pushed`. */
const register = async (r: Rollouts, group: string, imageUri: string, pushed: boolean): Promise<string> => {
  const containers = [{ Image: imageUri }];
  if (pushed) r.stack.cloud.seedArtifacts(containers);
  const out = await r.sm.send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: group,
      CustomerMetadataProperties: { 'sim.errorRate': '0' },
      InferenceSpecification: {
        Containers: containers,
        SupportedContentTypes: ['application/json'],
        SupportedResponseMIMETypes: ['application/json'],
      },
      ModelApprovalStatus: 'PendingManualApproval',
    }),
  );
  return out.ModelPackageArn!;
};

const endpointChanges = (r: Rollouts, endpoint: string, after = 0): EndpointChange[] =>
  r.stack.cloud.changes.filter(
    (c): c is EndpointChange => c.kind === 'endpoint' && c.endpoint === endpoint && c.seq > after,
  );
const lastSeq = (r: Rollouts) => r.stack.cloud.changes.at(-1)?.seq ?? 0;
const callsFor = (r: Rollouts, operation: string, from = 0) =>
  r.stack.cloud.calls.slice(from).filter((c) => c.operation === operation);

describe('artifact pre-flight before any endpoint change', () => {
  let r: Rollouts;
  afterEach(() => r.close());

  it('a version whose image was never pushed fails QA with what is missing where; QA is never created', async () => {
    r = await startRollouts();
    const group = 'churn-model';
    await r.createGroup(group);
    const arn = await register(r, group, image('churn-model', 'v1'), false);
    await r.approve(arn);
    await r.runUntil(async () => (await r.phase(`${group}:v1`)) === 'Failed', 30 * MINUTE);

    const missing = `image churn-model:v1 (ECR repository churn-model of registry 111122223333, region us-east-1) is missing (ECR DescribeImages: RepositoryNotFoundException)`;
    const d = (await r.state(group)).deployments.find((x) => x.id === `${group}:v1`)!;
    expect(d.reason).toBe(
      `QA deployment failed: artifact pre-flight failed: ${arn} cannot be deployed in us-east-1: ${missing}`,
    );
    // nothing reached SageMaker: no model, no config, no endpoint
    for (const operation of ['CreateModel', 'CreateEndpointConfig', 'CreateEndpoint', 'UpdateEndpoint'])
      expect(callsFor(r, operation)).toEqual([]);
    expect(r.stack.cloud.sagemaker.endpoints.get('churn-model-qa')).toBeUndefined();
    expect(endpointChanges(r, 'churn-model-qa')).toEqual([]);
    // the registry, the history and the events say so
    expect(await r.lifecycle(arn)).toMatchObject({ stage: 'QA', status: 'Failed' });
    const description = (
      r.stack.cloud.registry.find(arn)?.modelLifeCycle as { StageDescription?: string } | undefined
    )?.StageDescription;
    expect(description).toContain(missing);
    expect((await r.history(`${group}:v1`)).at(-1)).toMatchObject({ to: 'Failed', reason: d.reason });
    const failed = r.events('Deployment Failed').map((e) => e.detail);
    expect(failed).toEqual([expect.objectContaining({ deploymentId: `${group}:v1`, reason: d.reason })]);

    // once CI pushes the image, a retry of the same version goes through
    r.stack.cloud.seedArtifacts([{ Image: image('churn-model', 'v1') }]);
    expect((await r.command('retry', `${group}:v1`)).outcome).toBe('applied');
    await r.runUntil(async () => (await r.phase(`${group}:v1#2`)) === 'Succeeded', 60 * MINUTE);
  });

  it('throttling is retried, never taken for present; access denied fails naming the image, region and permission', async () => {
    r = await startRollouts();
    const group = 'churn-model';
    await r.createGroup(group);
    const arn = await register(r, group, image('churn-model', 'v1'), true);
    // every attempt of the executor's first run (the SDK's own retries included) is throttled
    r.stack.cloud.faults.add({
      service: 'ecr',
      operation: 'DescribeImages',
      error: 'ThrottlingException',
      message: 'Rate exceeded',
      times: 3,
    });
    await r.approve(arn);
    await r.stack.settle();
    expect(await r.phase(`${group}:v1`)).toBe('QaDeploying');
    expect(callsFor(r, 'DescribeImages').length).toBeGreaterThan(0);
    expect(callsFor(r, 'CreateModel')).toEqual([]);
    const retried = r.stack.records.filter(
      (x) => x.kind === 'log' && x.message === 'endpoint change will be retried',
    );
    expect(JSON.stringify(retried.at(-1))).toContain(
      'ECR DescribeImages churn-model failed: ThrottlingException',
    );
    // the next run (the tick's) finds the image
    await r.runUntil(async () => (await r.phase(`${group}:v1`)) === 'Succeeded', 60 * MINUTE);

    const v2 = await register(r, group, image('churn-model', 'v2'), true);
    r.stack.cloud.faults.add({
      service: 'ecr',
      operation: 'DescribeImages',
      error: 'AccessDeniedException',
      message: 'not authorized to perform: ecr:DescribeImages',
    });
    const before = lastSeq(r);
    await r.approve(v2);
    await r.runUntil(async () => (await r.phase(`${group}:v2`)) === 'Failed', 30 * MINUTE);
    const d = (await r.state(group)).deployments.find((x) => x.id === `${group}:v2`)!;
    expect(d.reason).toBe(
      `QA deployment failed: artifact pre-flight failed: ${v2} cannot be deployed in us-east-1: image churn-model:v2 (ECR repository churn-model of registry 111122223333, region us-east-1) could not be read with the stage's credentials (ECR DescribeImages: AccessDeniedException: not authorized to perform: ecr:DescribeImages): they need ecr:DescribeImages on arn:aws:ecr:us-east-1:111122223333:repository/churn-model`,
    );
    expect(endpointChanges(r, 'churn-model-qa', before)).toEqual([]);
  });

  const FRAUD = 'fraud-detector';
  const PROD = 'fraud-detector-prod';
  const DEPLOYER = 'arn:aws:iam::444455556666:role/sagemaker-rollouts-deployer';
  /** prod (in 444455556666, through the deployer role) pulls from a replica repository */
  const withReplica = () =>
    localConfigVariant((config) => {
      config.modelPackageGroups[FRAUD].stages.prod.artifacts = {
        ecr: [{ from: `${REGISTRY}/fraud`, to: `${REGISTRY}/fraud-prod` }],
      };
    });

  it('a cross-account prod stage looks in its replica with the deployer role; a missing replica fails prod, which stays on v1', async () => {
    r = await startRollouts({ configPath: withReplica() });
    await r.createGroup(FRAUD);
    const promote = async (version: number, arn: string) => {
      await r.approve(arn);
      await r.runUntil(async () => (await r.phase(`${FRAUD}:v${version}`)) === 'AwaitingApproval');
      return r.command('promote', `${FRAUD}:v${version}`);
    };
    // v1: pushed and replicated
    const v1 = await register(r, FRAUD, image('fraud', 'v1'), true);
    r.stack.cloud.seedArtifacts([{ Image: image('fraud-prod', 'v1') }]);
    await promote(1, v1);
    await r.runUntil(async () => (await r.phase(`${FRAUD}:v1`)) === 'Succeeded', 60 * MINUTE);
    r.stack.cloud.setTraffic(PROD, 600);

    // prod's lookups ran on the deployer role's sessions; QA's on the service's own credentials
    const deployer = new Set(
      r.stack.cloud.sts.calls.filter((c) => c.roleArn === DEPLOYER).map((c) => c.accessKeyId),
    );
    const lookups = callsFor(r, 'DescribeImages');
    const byDeployer = lookups.filter((c) => deployer.has(c.callerAccessKeyId ?? ''));
    expect(byDeployer).toHaveLength(1);
    expect(lookups.length - byDeployer.length).toBe(1);

    // v2: pushed, not replicated: QA passes, prod fails before its endpoint changes
    const v2 = await register(r, FRAUD, image('fraud', 'v2'), true);
    const prodBefore = r.stack.cloud.sagemaker.endpoints.get(PROD)!.configName;
    await r.approve(v2);
    await r.runUntil(async () => (await r.phase(`${FRAUD}:v2`)) === 'AwaitingApproval');
    const before = lastSeq(r);
    const calls = r.stack.cloud.calls.length;
    await r.command('promote', `${FRAUD}:v2`);
    await r.runUntil(async () => (await r.phase(`${FRAUD}:v2`)) === 'Failed', 30 * MINUTE);

    const missing = `image fraud-prod:v2 (ECR repository fraud-prod of registry 111122223333, region us-east-1) is missing (ECR DescribeImages: ImageNotFoundException)`;
    const d = (await r.state(FRAUD)).deployments.find((x) => x.id === `${FRAUD}:v2`)!;
    expect(d.reason).toContain(
      `artifact pre-flight failed: ${v2} cannot be deployed in us-east-1: ${missing}`,
    );
    // the prod endpoint never moved: no change applied, no write sent, still v1's config
    expect(endpointChanges(r, PROD, before)).toEqual([]);
    for (const operation of ['CreateModel', 'CreateEndpointConfig', 'UpdateEndpoint'])
      expect(callsFor(r, operation, calls)).toEqual([]);
    expect(r.stack.cloud.sagemaker.endpoints.get(PROD)!.configName).toBe(prodBefore);
    expect(r.weights(PROD)).toEqual({ v1: 100 });
    expect(await r.lifecycle(v2)).toMatchObject({ stage: 'Production', status: 'Failed' });
    expect(
      (r.stack.cloud.registry.find(v2)?.modelLifeCycle as { StageDescription?: string } | undefined)
        ?.StageDescription,
    ).toContain(missing);
    const failed = r.events('Deployment Failed').map((e) => e.detail);
    expect(failed).toEqual([expect.objectContaining({ deploymentId: `${FRAUD}:v2`, reason: d.reason })]);
    expect((await r.state(FRAUD)).prod?.version).toBe(1);
  });
});
