import { UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { afterEach, describe, expect, it } from 'vitest';
import { MINUTE, type Rollouts, startRollouts, withV1InProd } from './rollout-harness';

const GROUP = 'churn-model';
const PROD = 'churn-model-prod';

/** Endpoint and endpoint config writes made at or after `from`. */
const endpointWritesSince = (r: Rollouts, from: number): string[] =>
  r.stack.cloud.calls
    .filter(
      (c) =>
        c.at >= from &&
        !c.error &&
        [
          'CreateEndpointConfig',
          'CreateEndpoint',
          'UpdateEndpoint',
          'UpdateEndpointWeightsAndCapacities',
        ].includes(c.operation),
    )
    .map((c) => `${c.operation} ${c.names?.EndpointName ?? c.names?.EndpointConfigName ?? ''}`);

/** A metadata edit of the package (no change of its approval status): SageMaker sends a state change event. */
const editMetadata = async (r: Rollouts, arn: string): Promise<void> => {
  await r.sm.send(
    new UpdateModelPackageCommand({
      ModelPackageArn: arn,
      CustomerMetadataProperties: { 'team.note': 'reviewed' },
    }),
  );
  await r.stack.settle();
};

const attemptsOfV2 = async (r: Rollouts): Promise<string[]> =>
  (await r.state(GROUP)).deployments.filter((d) => d.version === 2).map((d) => `${d.id} ${d.phase}`);

describe('a rolled-back version is not redeployed by a metadata edit (finding 8)', () => {
  let r: Rollouts;
  afterEach(() => r.close());

  it('the rollback fails and the registry reject is throttled: an edit handled first redeploys nothing', async () => {
    r = await startRollouts();
    await withV1InProd(r, GROUP, PROD);
    const v2 = await r.registerAndApprove(GROUP, { 'sim.errorRate': '0.25' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Canary', 60 * MINUTE);
    // the rollback's UpdateEndpoint (to v1 alone) is refused, and every UpdateModelPackage is throttled
    const refuseRollback = r.stack.cloud.faults.add({
      service: 'sagemaker',
      operation: 'UpdateEndpoint',
      error: 'ResourceLimitExceeded',
      message: "The account-level service limit 'ml.m5.xlarge for endpoint usage' is 4 Instances",
    });
    const throttle = r.stack.cloud.faults.add({
      service: 'sagemaker',
      operation: 'UpdateModelPackage',
      error: 'ThrottlingException',
    });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Failed', 60 * MINUTE);
    const failed = (await r.state(GROUP)).deployments.find((d) => d.id === `${GROUP}:v2`)!;
    expect(failed.reason).toMatch(/rollback did not complete/);
    // the reject waits in the outbox; the registry still says Approved
    const waiting = (await r.state(GROUP)).outbox.filter((e) => e.command.type === 'UpdateRegistry');
    expect(waiting.length).toBeGreaterThan(0);
    expect((await r.lifecycle(v2)).approval).toBe('Approved');
    // the ticks retry it, throttled still; then the throttling ends and, before any run retries the
    // reject, the package's metadata is edited
    await r.stack.run(3 * MINUTE);
    expect((await r.lifecycle(v2)).approval).toBe('Approved');
    refuseRollback();
    throttle();

    // the edit's event is handled before the queued reject is carried out (same run, decided first)
    const editedAt = r.stack.now;
    await editMetadata(r, v2);
    expect(await attemptsOfV2(r)).toEqual([`${GROUP}:v2 Failed`]);
    expect((await r.lifecycle(v2)).approval).toBe('Rejected');
    await r.stack.run(30 * MINUTE);
    expect(await attemptsOfV2(r)).toEqual([`${GROUP}:v2 Failed`]);
    expect(endpointWritesSince(r, editedAt)).toEqual([]);
    // prod was left as the failed rollback left it (v1 takes all traffic, v2 none); no call changed it
    expect(r.weights(PROD)).toEqual({ v1: 100, v2: 0 });
  });

  it('the registry reject is refused for good: the block holds, PermanentFailures is raised, nothing reaches an endpoint', async () => {
    r = await startRollouts();
    await withV1InProd(r, GROUP, PROD);
    const v2 = await r.registerAndApprove(GROUP, { 'sim.errorRate': '0.25' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Canary', 60 * MINUTE);
    const refuse = r.stack.cloud.faults.add({
      service: 'sagemaker',
      operation: 'UpdateModelPackage',
      error: 'AccessDeniedException',
      message: 'User is not authorized to perform: sagemaker:UpdateModelPackage',
    });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'RolledBack', 60 * MINUTE);
    await r.stack.run(5 * MINUTE);
    refuse();
    expect((await r.state(GROUP)).outbox).toEqual([]);
    expect((await r.lifecycle(v2)).approval).toBe('Approved');
    const raised = r.stack.records.filter(
      (x) =>
        x.kind === 'metric' && /"PermanentFailures"/.test(x.line) && /"group":"churn-model"/.test(x.line),
    );
    expect(raised.length).toBeGreaterThan(0);

    const editedAt = r.stack.now;
    await editMetadata(r, v2);
    await r.stack.run(30 * MINUTE);
    await editMetadata(r, v2);
    expect(await attemptsOfV2(r)).toEqual([`${GROUP}:v2 RolledBack`]);
    expect((await r.state(GROUP)).blocked.find((b) => b.version === 2)?.rejectPending).toBe(true);
    expect(endpointWritesSince(r, editedAt)).toEqual([]);
    expect(r.stack.cloud.sagemaker.endpoints.get(PROD)?.variants.map((v) => v.name)).toEqual(['v1']);
    expect((await r.command('retry', `${GROUP}:v2`)).detail).toMatch(/has not said Rejected yet/);

    // the operator rejects it, then approves it anew: that approval restarts v2
    await r.sm.send(new UpdateModelPackageCommand({ ModelPackageArn: v2, ModelApprovalStatus: 'Rejected' }));
    await r.stack.settle();
    await r.stack.run(MINUTE);
    await r.approve(v2);
    await r.stack.settle();
    expect(await attemptsOfV2(r)).toContain(`${GROUP}:v2#2 QaDeploying`);
  });
});
