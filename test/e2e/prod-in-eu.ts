import { CreateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import type { CloudEvent } from '../../src/local/cloud';
import type { Json } from '../foundation/fixtures';
import { localConfigVariant } from './helpers';
import { MINUTE, type Rollouts } from './rollout-harness';

/**
 * A group whose QA stage is in the service's region (us-east-1) and whose prod stage is in
 * eu-west-1: the endpoint, its metrics, alarms and weights there; the registry at home; the
 * version's image and model data found in eu-west-1 through the stage's mappings.
 */
export const GROUP = 'churn-model';
export const QA = 'churn-model-qa';
export const PROD = 'churn-model-prod';
export const HOME = 'us-east-1';
export const EU = 'eu-west-1';
export const ECR_HOME = '111122223333.dkr.ecr.us-east-1.amazonaws.com/churn';
export const ECR_EU = '111122223333.dkr.ecr.eu-west-1.amazonaws.com/churn';

/** Moves the group's prod stage of a parsed local config to eu-west-1, with its artifact mappings. */
export const placeProdInEu = (config: Json): void => {
  const prod = config.modelPackageGroups[GROUP].stages.prod;
  prod.region = EU;
  prod.artifacts = {
    ecr: [{ from: ECR_HOME, to: ECR_EU }],
    s3: [{ from: 's3://models-use1/churn/', to: 's3://models-euw1/churn/' }],
  };
};

export const prodInEu = () => localConfigVariant(placeProdInEu);

/**
 * A version as CI registers it: pushed and uploaded at home, replicated to eu-west-1 (its image to
 * `euRegistry`, this account's by default).
 */
export const register = async (r: Rollouts, version: number, euRegistry = ECR_EU): Promise<string> => {
  const home = {
    Image: `${ECR_HOME}:v${version}`,
    ModelDataUrl: `s3://models-use1/churn/v${version}/model.tar.gz`,
  };
  r.stack.cloud.seedArtifacts([home], HOME);
  r.stack.cloud.seedArtifacts(
    [{ Image: `${euRegistry}:v${version}`, ModelDataUrl: `s3://models-euw1/churn/v${version}/model.tar.gz` }],
    EU,
  );
  const out = await r.sm.send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: GROUP,
      CustomerMetadataProperties: { 'sim.errorRate': '0' },
      InferenceSpecification: {
        Containers: [home],
        SupportedContentTypes: ['application/json'],
        SupportedResponseMIMETypes: ['application/json'],
      },
      ModelApprovalStatus: 'PendingManualApproval',
    }),
  );
  return out.ModelPackageArn!;
};

/** The local cloud's eu-west-1. */
export const eu = (r: Rollouts) => r.stack.cloud.inRegion(EU);

/** v1 approved, through QA at home and into prod in eu-west-1; steady traffic on prod there. */
export const v1InEuProd = async (r: Rollouts) => {
  await r.createGroup(GROUP);
  await r.approve(await register(r, 1));
  await r.runUntil(async () => (await r.phase(`${GROUP}:v1`)) === 'Succeeded', 120 * MINUTE);
  eu(r).traffic.set(PROD, 600);
};

/**
 * How v2 entered its canary: the history entries of its prod deployment and of its canary, and how
 * long after the prod endpoint's first `IN_SERVICE` event since that deployment (of those
 * `published`) the canary started, in ms.
 */
export const canaryAfterInService = async (r: Rollouts, published: CloudEvent[]) => {
  const history = await r.history(`${GROUP}:v2`);
  const deploying = history.find((h) => h.to === 'ProdDeploying')!;
  const canary = history.find((h) => h.to === 'Canary')!;
  const inService = published.find(
    (e) =>
      (e.detail as { EndpointStatus?: string }).EndpointStatus === 'IN_SERVICE' &&
      Date.parse(e.time) > deploying.at,
  )!;
  return { deploying, canary, lagMs: canary.at - Date.parse(inService.time) };
};
