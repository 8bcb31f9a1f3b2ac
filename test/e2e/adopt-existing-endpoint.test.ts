/**
 * Taking over a prod endpoint that already serves a model the service did not deploy (README
 * "Adopting a prod endpoint that already serves"): with no record of what serves prod, the
 * service's first version replaces it all at once, and leaves what it did not create.
 */
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { afterEach, describe, expect, it } from 'vitest';
import { MINUTE, startWorld, type World } from './helpers';

const CHURN = 'churn-model';
const PROD = 'churn-model-prod';

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** The endpoint as it was before the service: a model, a config and a variant of its own names. */
const existingProd = async (w: World): Promise<void> => {
  await w.sm.send(
    new CreateModelCommand({
      ModelName: 'churn-legacy',
      PrimaryContainer: { Image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/churn-legacy:7' },
      ExecutionRoleArn: 'arn:aws:iam::111122223333:role/SageMakerExecution',
    }),
  );
  await w.sm.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: 'churn-legacy-config',
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          ModelName: 'churn-legacy',
          InitialVariantWeight: 1,
          InitialInstanceCount: 2,
          InstanceType: 'ml.m5.xlarge',
        },
      ],
    }),
  );
  await w.sm.send(
    new CreateEndpointCommand({ EndpointName: PROD, EndpointConfigName: 'churn-legacy-config' }),
  );
  await w.stack.run(15 * MINUTE);
  const before = await w.sm.send(new DescribeEndpointCommand({ EndpointName: PROD }));
  expect(before.EndpointStatus).toBe('InService');
};

describe('adopting a prod endpoint that already serves a model', () => {
  it('the first approved version replaces it at once (no canary: nothing to compare with), and what the service did not create stays', async () => {
    const w = await startWorld();
    world = w;
    await existingProd(w);
    const ignoredBefore = w.stack.cloud.calls.filter((c) => c.operation === 'UpdateEndpoint').length;
    expect(ignoredBefore).toBe(0);

    await w.createGroup(CHURN);
    const v1 = await w.createPackage(CHURN);
    await w.approve(v1);
    await w.stack.run(40 * MINUTE);

    const state = await w.state(CHURN);
    expect(state.deployments.map((d) => [d.id, d.phase, d.prodPlan])).toEqual([
      ['churn-model:v1', 'Succeeded', 'replace'],
    ]);
    expect(state.prod).toMatchObject({ version: 1, variantName: 'v1' });
    const history = await w.history('churn-model:v1');
    expect(history.map((h) => h.reason)).toContain('first prod deployment: v1 alone');

    // one UpdateEndpoint on the existing endpoint (not a CreateEndpoint), to v1 alone
    const prodCalls = (operation: string) =>
      w.stack.cloud.calls.filter(
        (c) => c.operation === operation && !c.error && JSON.stringify(c).includes(`"${PROD}"`),
      ).length;
    expect(prodCalls('UpdateEndpoint')).toBe(1);
    expect(prodCalls('CreateEndpoint')).toBe(1); // the one this test made
    const prod = w.stack.cloud.sagemaker.endpoints.get(PROD);
    expect(prod?.status).toBe('InService');
    expect(prod?.variants.map((v) => [v.name, v.modelName, v.currentWeight])).toEqual([
      ['v1', 'churn-model-v1', 100],
    ]);
    // the former model and config are left as they were: the service retires only what it created
    expect(w.stack.cloud.sagemaker.models.has('churn-legacy')).toBe(true);
    expect(w.stack.cloud.sagemaker.configs.has('churn-legacy-config')).toBe(true);
    expect(w.calls('DeleteModel')).toBe(0);
    expect(w.calls('DeleteEndpointConfig')).toBe(0);
  }, 120_000);
});
