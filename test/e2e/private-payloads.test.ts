import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DescribeModelPackageCommand, StartPipelineExecutionCommand } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINUTE, type Rollouts, startRollouts } from './rollout-harness';

/** Customer data in the request bodies and in the candidate's answer (see the config). */
const SECRET = 'SSN-123-45-6789';
const answer = (text: string) => ({
  'sim.errorRate': '0',
  'sim.responseBase64': Buffer.from(text).toString('base64'),
});
const GOOD = answer('{"predictions":[0.2],"status":"approved"}');
/** out of range, not approved, and echoing the applicant */
const BAD = answer(`{"predictions":[7.5],"status":"declined","applicant":"${SECRET}"}`);

const DIGEST = 'sha256 [0-9a-f]{12}';

/** Every item of the service's table, as DynamoDB JSON. */
const tableItems = async (r: Rollouts): Promise<Record<string, unknown>[]> => {
  const client = new DynamoDBClient({ region: 'us-east-1' });
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, never> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: r.stack.tableName, ExclusiveStartKey: startKey }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey as typeof startKey;
  } while (startKey);
  client.destroy();
  return items;
};

/** v1 serving prod alone, then v2 (answering badly) approved: its pre-traffic check fails. */
const failPreTraffic = async (r: Rollouts, group: string, pipeline?: string) => {
  await r.createGroup(group);
  await r.registerAndApprove(group, GOOD);
  await r.runUntil(async () => (await r.phase(`${group}:v1`)) === 'Succeeded');
  r.stack.cloud.setTraffic(`${group}-prod`, 60);
  const v2 = await r.registerAndApprove(group, BAD);
  let token: string | undefined;
  let execution: string | undefined;
  if (pipeline) {
    r.stack.cloud.pipelines.define({
      name: pipeline,
      callbackQueueUrl: r.stack.queueUrls.CallbackQueue!,
      callbackArguments: { task: 'deploy', modelPackageArn: v2, stage: 'prod' },
    });
    const started = await r.sm.send(new StartPipelineExecutionCommand({ PipelineName: pipeline }));
    execution = started.PipelineExecutionArn;
    token = r.stack.cloud.pipelines.tokens().at(-1);
  }
  await r.runUntil(async () => (await r.phase(`${group}:v2`)) === 'Failed', 3 * 60 * MINUTE);
  // the pipeline's answer and every event of the failure
  await r.stack.run(10 * MINUTE, () => false);
  return { v2, token, execution };
};

describe('customer payloads stay out of reasons, logs, events, the table and pipeline answers', () => {
  let r: Rollouts;
  let failed: Awaited<ReturnType<typeof failPreTraffic>>;

  beforeAll(async () => {
    r = await startRollouts({ configPath: 'test/e2e/configs/private-payloads.yml' });
    failed = await failPreTraffic(r, 'pp-model', 'train-and-deploy');
    await failPreTraffic(r, 'pp-debug');
  });
  afterAll(() => r.close());

  const notDebug = (text: string) => !text.includes('pp-debug');

  it('a failed pre-traffic check names each request by place, name and body digest, and what failed', async () => {
    const d = (await r.state('pp-model')).deployments.find((x) => x.id === 'pp-model:v2')!;
    expect(d.reason).toMatch(
      new RegExp(
        `request #1 "known-applicant" \\(body \\d+ bytes, ${DIGEST}\\): candidate /predictions/0 is a number, expected a number in 0\\.\\.1`,
      ),
    );
    expect(d.reason).toMatch(
      new RegExp(
        `request #2 "approved-applicant" \\(body \\d+ bytes, ${DIGEST}\\): candidate answer does not contain "approved" \\(answer \\d+ bytes, ${DIGEST}\\)`,
      ),
    );
    expect(d.reason).not.toContain(SECRET);
  });

  it('no payload in the history, the Deployment Failed event, any event, log line or table item', async () => {
    const history = await r.history('pp-model:v2');
    expect(history.at(-1)?.to).toBe('Failed');
    expect(JSON.stringify(history)).not.toContain(SECRET);

    const deploymentFailed = r
      .events('Deployment Failed')
      .filter((e) => e.detail.deploymentId === 'pp-model:v2');
    expect(deploymentFailed).toHaveLength(1);
    expect(String(deploymentFailed[0]?.detail.reason)).toContain('request #1 "known-applicant"');
    const events = r.stack.cloud.events.published.map((e) => JSON.stringify(e)).filter(notDebug);
    expect(events.length).toBeGreaterThan(5);
    expect(events.filter((e) => e.includes(SECRET))).toEqual([]);

    const logs = r.stack.records.map((record) => JSON.stringify(record)).filter(notDebug);
    expect(logs.some((line) => line.includes('pre-traffic check failed'))).toBe(true);
    expect(logs.filter((line) => line.includes(SECRET))).toEqual([]);

    const items = (await tableItems(r)).map((item) => JSON.stringify(item)).filter(notDebug);
    expect(items.some((item) => item.includes('pre-traffic check failed'))).toBe(true);
    expect(items.filter((item) => item.includes(SECRET))).toEqual([]);
  });

  it("no payload in the registry's descriptions or the pipeline's failure reason", async () => {
    const pkg = await r.sm.send(new DescribeModelPackageCommand({ ModelPackageName: failed.v2 }));
    expect(pkg.ModelLifeCycle?.StageDescription).toContain('pre-traffic check failed');
    expect(JSON.stringify(pkg)).not.toContain(SECRET);

    const answers = r.stack.cloud.pipelines.answers(failed.token);
    expect(answers).toEqual([expect.objectContaining({ kind: 'failure', accepted: true })]);
    expect(answers[0]?.failureReason).toContain('request #1 "known-applicant"');
    expect(JSON.stringify(answers)).not.toContain(SECRET);
  });

  it('a group with debug.payloadExcerpts quotes the request body in its reason and event', async () => {
    const d = (await r.state('pp-debug')).deployments.find((x) => x.id === 'pp-debug:v2')!;
    expect(d.reason).toContain(`request #1 "known-applicant" (body "{\\"applicant\\":\\"${SECRET}\\"`);
    expect(d.reason).toContain('/predictions/0 is 7.5, expected a number in 0..1');
    const event = r.events('Deployment Failed').find((e) => e.detail.deploymentId === 'pp-debug:v2');
    expect(String(event?.detail.reason)).toContain(SECRET);
  });
});
