/**
 * A prod stage in another account and region (444455556666, eu-west-1), accounts kept apart: its
 * endpoint's state changes reach the service through the forwarding rule of
 * serverless/stage-region-events.yml deployed there (HomeAccountId) and the service's default bus
 * policy (StageAccountsEndpointEventsPolicy); without either, the tick catches what was lost.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../src/local/cloud';
import { deployStageRegionEvents } from '../../src/local/stage-region-events';
import { localConfigVariant } from './helpers';
import { canaryAfterInService, ECR_HOME, EU, GROUP, HOME, PROD, register } from './prod-in-eu';
import { MINUTE, type Rollouts, startRollouts } from './rollout-harness';

const HOME_ACCOUNT = '111122223333';
const HOME_BUS = `arn:aws:events:${HOME}:${HOME_ACCOUNT}:event-bus/default`;
const PROD_ACCOUNT = '444455556666';
/** an account no stage of the configuration names */
const OTHER_ACCOUNT = '999988887777';
/** the image replicated into the production account's registry in eu-west-1 */
const ECR_PROD_EU = `${PROD_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/churn`;

const prodInOtherAccount = () =>
  localConfigVariant((config) => {
    const prod = config.modelPackageGroups[GROUP].stages.prod;
    prod.region = EU;
    prod.crossAccount = {
      roleArn: `arn:aws:iam::${PROD_ACCOUNT}:role/sagemaker-rollouts-deployer`,
      observerRoleArn: `arn:aws:iam::${PROD_ACCOUNT}:role/sagemaker-rollouts-observer`,
    };
    prod.artifacts = {
      ecr: [{ from: ECR_HOME, to: ECR_PROD_EU }],
      s3: [{ from: 's3://models-use1/churn/', to: 's3://models-euw1/churn/' }],
    };
  });

/** The production account's eu-west-1. */
const prodPlace = (r: Rollouts) => r.stack.cloud.inRegion(EU, PROD_ACCOUNT);

const endpointEvents = (r: Rollouts): CloudEvent[] =>
  r.stack.cloud.events.published.filter(
    (e) =>
      e['detail-type'] === 'SageMaker Endpoint State Change' &&
      e.account === PROD_ACCOUNT &&
      e.region === EU &&
      (e.detail as { EndpointName?: string }).EndpointName === PROD,
  );

const handledIds = (r: Rollouts) =>
  new Set(
    r.stack.cloud.events.deliveries
      .filter((d) => d.rule === 'endpointStateChange-rule' && d.ok)
      .map((d) => d.eventId),
  );

/** v1 through QA at home into prod in the production account's eu-west-1; traffic there. */
const v1Live = async (r: Rollouts) => {
  await r.createGroup(GROUP);
  await r.approve(await register(r, 1, ECR_PROD_EU));
  await r.runUntil(async () => (await r.phase(`${GROUP}:v1`)) === 'Succeeded', 120 * MINUTE);
  prodPlace(r).traffic.set(PROD, 600);
};

type Loss = 'none' | 'rule disabled' | 'bus policy missing';

describe('a prod stage in another account and region', () => {
  let r: Rollouts | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  /**
   * How long after the production account's endpoint went InService the service acted on it (the
   * canary's start), with its events forwarded or lost one way or the other. UpdateEndpoint takes
   * 3 minutes plus `offsetMs`.
   */
  const lagToCanary = async (loss: Loss, offsetMs: number): Promise<number> => {
    r = await startRollouts({
      configPath: prodInOtherAccount(),
      separateAccounts: true,
      timings: { updateMs: 3 * MINUTE + offsetMs },
    });
    await v1Live(r);
    if (loss === 'rule disabled') await r.stack.setStageRegionEvents(EU, false, PROD_ACCOUNT);
    if (loss === 'bus policy missing') await r.stack.setStageAccountsBusPolicy(false);
    const before = endpointEvents(r).length;
    await r.approve(await register(r, 2, ECR_PROD_EU));
    // the canary's start is what is measured: its bakes are not waited for
    await r.runUntil(async () => (await r!.phase(`${GROUP}:v2`)) === 'Canary', 60 * MINUTE);
    const variants = prodPlace(r)
      .sagemaker.endpoints.get(PROD)
      ?.variants.map((v) => v.name);
    expect(variants?.sort()).toEqual(['v1', 'v2']);
    expect(r.stack.cloud.sagemaker.endpoints.get(PROD)).toBeUndefined();

    const published = endpointEvents(r).slice(before);
    const handled = handledIds(r);
    expect(published.length).toBeGreaterThan(0);
    expect(published.filter((e) => handled.has(e.id)).length).toBe(loss === 'none' ? published.length : 0);
    const forward = r.stack.stageRegionRules.get(`${PROD_ACCOUNT}/${EU}`)!.ruleName;
    const refused = r.stack.cloud.events.failedDeliveries.filter((d) => d.rule === forward);
    if (loss === 'bus policy missing') {
      expect(refused.length).toBe(published.length);
      expect(refused[0]!.error).toBe(
        `not authorized to put the event on ${HOME_BUS}: ${HOME_BUS} has no resource policy: it takes no events from account ${PROD_ACCOUNT}`,
      );
    } else expect(refused).toEqual([]);

    const { deploying, canary, lagMs } = await canaryAfterInService(r, published);
    expect([deploying.region, canary.region]).toEqual([EU, EU]);
    await r.close();
    r = undefined;
    return lagMs;
  };

  it('forwarded with the bus policy, its endpoint event moves the rollout at once; with the rule disabled or the policy missing, the tick catches it within a minute', async () => {
    expect(await lagToCanary('none', 30_000)).toBe(0);
    const lost: [Loss, number][] = [
      ['rule disabled', 30_000],
      ['bus policy missing', 45_000],
    ];
    const lags: number[] = [];
    for (const [loss, offsetMs] of lost) lags.push(await lagToCanary(loss, offsetMs));
    console.log(
      `lost ${PROD_ACCOUNT} ${EU} endpoint event caught by the tick after ${lost.map(([loss], i) => `${lags[i]! / 1000} s (${loss})`).join(', ')}`,
    );
    for (const lag of lags) {
      expect(lag).toBeGreaterThan(0);
      expect(lag).toBeLessThanOrEqual(MINUTE);
    }
  });

  it('an event of a same-named endpoint of another account or region moves nothing; the stage’s own endpoint is caught by the tick', async () => {
    r = await startRollouts({
      configPath: prodInOtherAccount(),
      separateAccounts: true,
      timings: { updateMs: 3 * MINUTE + 30_000 },
    });
    await v1Live(r);
    // the stage's own events are lost; the service's account forwards its own eu-west-1 endpoints
    // of that name (say, for a stage of another service), as the template does
    await r.stack.setStageRegionEvents(EU, false, PROD_ACCOUNT);
    await deployStageRegionEvents({
      stackName: 'other-events',
      region: EU,
      account: HOME_ACCOUNT,
      parameters: { HomeRegion: HOME, EndpointNames: [PROD] },
    });
    await r.approve(await register(r, 2, ECR_PROD_EU));
    const prodStatus = () => prodPlace(r!).sagemaker.endpoints.get(PROD)?.status;
    await r.runUntil(async () => (await r!.phase(`${GROUP}:v2`)) === 'ProdDeploying', 60 * MINUTE);
    for (let i = 0; i < 60 && prodStatus() !== 'InService'; i++) await r.stack.run(5_000);
    // the stage's endpoint is InService, its event lost: the deployment waits for the tick
    expect([await r.phase(`${GROUP}:v2`), prodStatus()]).toEqual(['ProdDeploying', 'InService']);
    const own = endpointEvents(r).at(-1)!;
    expect(own.detail.EndpointStatus).toBe('IN_SERVICE');
    const resultsBefore = r.stack.records.length;
    const sameName = (account: string, region: string) => {
      const arn = `arn:aws:sagemaker:${region}:${account}:endpoint/${PROD}`;
      r!.stack.cloud.events.put(
        'default',
        {
          source: 'aws.sagemaker',
          detailType: 'SageMaker Endpoint State Change',
          detail: { ...own.detail, EndpointArn: arn },
          resources: [arn],
        },
        region,
        account,
      );
    };
    // and an account no stage names, forwarding its own endpoint of that name
    const sts = new STSClient({ region: HOME });
    const other = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${OTHER_ACCOUNT}:role/admin`,
        RoleSessionName: 'deploy',
      }),
    );
    sts.destroy();
    const otherRule = await deployStageRegionEvents(
      {
        stackName: 'other-events',
        region: EU,
        account: OTHER_ACCOUNT,
        parameters: { HomeRegion: HOME, HomeAccountId: HOME_ACCOUNT, EndpointNames: [PROD] },
      },
      undefined,
      {
        accessKeyId: other.Credentials!.AccessKeyId!,
        secretAccessKey: other.Credentials!.SecretAccessKey!,
        sessionToken: other.Credentials!.SessionToken!,
      },
    );
    const injectedAt = r.stack.now;
    sameName(HOME_ACCOUNT, EU);
    sameName(HOME_ACCOUNT, HOME);
    sameName(OTHER_ACCOUNT, EU);
    await r.stack.settle();

    // the service's bus takes no event from an account none of its stages names
    expect(
      r.stack.cloud.events.failedDeliveries.filter((d) => d.rule === otherRule.ruleName).map((d) => d.error),
    ).toEqual([
      `not authorized to put the event on ${HOME_BUS}: the policy of ${HOME_BUS} allows account ${OTHER_ACCOUNT} no events:PutEvents of aws.sagemaker / SageMaker Endpoint State Change`,
    ]);

    // neither is the stage's endpoint: the deployment still waits for its own (the tick)
    expect(await r.phase(`${GROUP}:v2`)).toBe('ProdDeploying');
    const results = r.stack.records
      .slice(resultsBefore)
      .filter((x) => x.kind === 'result' && x.functionName === 'endpointStateChange')
      .map((x) => (x.kind === 'result' ? [x.outcome, x.detail] : []));
    expect(results).toEqual([
      // the home region's own event first; the one forwarded from eu-west-1 after it
      ['ignored', `endpoint ${PROD} of ${HOME} is not stage prod of ${GROUP}, whose endpoint is in ${EU}`],
      [
        'ignored',
        `endpoint arn:aws:sagemaker:${EU}:${HOME_ACCOUNT}:endpoint/${PROD} is not stage prod of ${GROUP}, whose endpoint is arn:aws:sagemaker:${EU}:${PROD_ACCOUNT}:endpoint/${PROD}`,
      ],
    ]);
    await r.runUntil(async () => (await r!.phase(`${GROUP}:v2`)) === 'Canary', 5 * MINUTE);
    const canary = (await r.history(`${GROUP}:v2`)).find((h) => h.to === 'Canary')!;
    expect(canary.at).toBeGreaterThan(injectedAt);
    expect(canary.at - Date.parse(own.time)).toBeLessThanOrEqual(MINUTE);
  });
});
