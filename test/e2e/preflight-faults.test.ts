import { afterEach, describe, expect, it } from 'vitest';
import type { EndpointChange } from '../../src/local/cloud/change-log';
import { ECR_EU, EU, GROUP, PROD, prodInEu, register, v1InEuProd } from './prod-in-eu';
import { MINUTE, type Rollouts, startRollouts } from './rollout-harness';

/**
 * The pre-flight of a prod stage in eu-west-1 when S3 and ECR there fail: throttling and 5xx are
 * retried by the executor until they answer (never taken for an absence, nothing changes before),
 * a refusal fails the stage with the artifact, the region and the permission the stage needs.
 */
const lastSeq = (r: Rollouts) => r.stack.cloud.changes.at(-1)?.seq ?? 0;
const callsFor = (r: Rollouts, operation: string, from = 0) =>
  r.stack.cloud.calls.slice(from).filter((c) => c.operation === operation);

describe('a prod stage in eu-west-1: its lookups there under faults', () => {
  let r: Rollouts;
  afterEach(() => r.close());
  const euData = (v: number) => `s3://models-euw1/churn/v${v}/model.tar.gz`;
  const prodChanges = (from: number) =>
    r.stack.cloud.changes.filter(
      (c): c is EndpointChange =>
        c.kind === 'endpoint' && c.region === EU && c.endpoint === PROD && c.seq >= from,
    );

  it('S3 503 SlowDown and ECR 5xx past the SDK’s attempts are retried; prod changes only once both were found', async () => {
    r = await startRollouts({ configPath: prodInEu() });
    await v1InEuProd(r);
    const v2 = await register(r, 2);
    // every attempt of prod's first pre-flight (3 each, the SDK's own retries) fails in eu-west-1
    r.stack.cloud.faults.add({ operation: 'HeadObject', region: EU, error: 'SlowDown', times: 3 });
    r.stack.cloud.faults.add({
      operation: 'DescribeImages',
      region: EU,
      error: 'ServerException',
      times: 3,
    });
    const from = lastSeq(r) + 1;
    await r.approve(v2);
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Succeeded', 180 * MINUTE);

    const retried = r.stack.records.flatMap((x) =>
      x.kind === 'log' && x.message === 'endpoint change will be retried' ? [String(x.extra?.error)] : [],
    );
    expect(retried).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^(S3 HeadObject ${euData(2)} failed: \\w+ \\(HTTP 503\\)|ECR DescribeImages churn failed: ServerException \\(HTTP 500\\))`,
        ),
      ),
    );
    expect(r.stack.cloud.faults.list().map((f) => f.remaining)).toEqual([0, 0]);
    // nothing changed prod in eu-west-1 before S3 and ECR there answered that both exist
    const found = (uri: string) =>
      r.stack.cloud.artifactReads.find((x) => x.uri === uri && x.region === EU && x.found)?.seq ?? Infinity;
    const preflightPassed = Math.max(found(euData(2)), found(`${ECR_EU}:v2`));
    const v2Changes = prodChanges(from).filter((c) =>
      [...c.variants, ...(c.pending?.variants ?? [])].some((v) => v.images?.includes(`${ECR_EU}:v2`)),
    );
    expect(v2Changes.length).toBeGreaterThan(0);
    expect(preflightPassed).toBeLessThanOrEqual(v2Changes[0]!.seq);
    expect((await r.history(`${GROUP}:v2`)).map((h) => h.reason).join(' ')).not.toContain('pre-flight');
  });

  it('access denied on the model data in eu-west-1 fails prod naming the object, the region and the permission; prod stays on v1', async () => {
    r = await startRollouts({ configPath: prodInEu() });
    await v1InEuProd(r);
    const v2 = await register(r, 2);
    r.stack.cloud.faults.add({ operation: 'HeadObject', region: EU, error: 'AccessDenied' });
    const from = lastSeq(r) + 1;
    const calls = r.stack.cloud.calls.length;
    await r.approve(v2);
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Failed', 120 * MINUTE);

    const d = (await r.state(GROUP)).deployments.find((x) => x.id === `${GROUP}:v2`)!;
    const unreadable = `model data ${euData(2)} (bucket models-euw1, region eu-west-1) could not be read with the stage's credentials (S3 HeadObject: access denied (HTTP 403)): they need s3:GetObject on arn:aws:s3:::models-euw1/churn/v2/model.tar.gz, and s3:ListBucket on arn:aws:s3:::models-euw1 (without it a missing object is answered 403 too)`;
    expect(d.reason).toContain(
      `artifact pre-flight failed: ${v2} cannot be deployed in eu-west-1: ${unreadable}`,
    );
    // a refusal is not retried: one pre-flight (the SDK does not retry a 403)
    expect(callsFor(r, 'HeadObject', calls).filter((c) => c.region === EU)).toHaveLength(1);
    expect(prodChanges(from)).toEqual([]);
    expect((await r.state(GROUP)).prod?.version).toBe(1);
    expect(await r.lifecycle(v2)).toMatchObject({ stage: 'Production', status: 'Failed' });
  });
});
