import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli';
import { renderHistory } from '../../src/cli/history';
import { colours } from '../../src/cli/output';
import type { GroupStages } from '../../src/cli/stage-lines';
import { renderStatus, type StatusRow, stageOf } from '../../src/cli/status';
import type { CanaryState, Deployment, HistoryEntry } from '../../src/domain/model';
import { EU, eu, GROUP, HOME, PROD, prodInEu, QA, register, v1InEuProd } from '../e2e/prod-in-eu';
import { MINUTE, type Rollouts, startRollouts } from '../e2e/rollout-harness';
import { runCliHere } from './child';

/** `history` and `status` name each stage's region (issue 22): prod in eu-west-1, QA at home. */

const plain = colours(false);
const AT = Date.parse('2024-01-01T00:00:00Z');

const entry = (seq: number, overrides: Partial<HistoryEntry> = {}): HistoryEntry => ({
  deploymentId: `${GROUP}:v2`,
  group: GROUP,
  seq,
  at: AT + seq * 60_000,
  from: 'Queued',
  to: 'QaDeploying',
  actor: 'system',
  reason: `reason ${seq}`,
  ...overrides,
});

const statusRow = (overrides: Partial<StatusRow>): StatusRow => ({
  group: GROUP,
  deploymentId: `${GROUP}:v2`,
  version: 2,
  attempt: 1,
  stage: 'prod',
  phase: 'Succeeded',
  paused: false,
  phaseSince: AT,
  ...overrides,
});

describe('history and status tables', () => {
  it('history has a STAGE column: each entry’s stage, its region when not the service’s; blank without', () => {
    const text = renderHistory(
      `${GROUP}:v2`,
      [
        entry(1, { from: null, to: 'Queued' }),
        entry(2, { stage: 'qa', region: HOME }),
        entry(3, { from: 'ReadyForProd', to: 'ProdDeploying', stage: 'prod', region: EU }),
      ],
      plain,
      undefined,
      HOME,
    );
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^TIME\s+TRANSITION\s+STAGE\s+ACTOR\s+REASON/);
    expect(lines[1]).toMatch(/Queued\s+system\s+reason 1/);
    expect(lines[2]).toMatch(/Queued → QaDeploying\s+qa\s+system\s+reason 2/);
    expect(lines[3]).toMatch(/ReadyForProd → ProdDeploying\s+prod eu-west-1\s+system\s+reason 3/);
  });

  it('history recorded before stages were named reads as before, without the column', () => {
    const text = renderHistory(`${GROUP}:v2`, [entry(1), entry(2)], plain);
    expect(text.split('\n')[0]).toMatch(/^TIME\s+TRANSITION\s+ACTOR\s+REASON/);
    expect(text).not.toContain('STAGE');
  });

  it('status names a stage’s region only when it is not the service’s own', () => {
    const text = renderStatus(
      {
        now: AT,
        rows: [
          statusRow({ region: EU }),
          statusRow({ deploymentId: `${GROUP}:v3`, stage: 'qa', phase: 'QaDeploying' }),
        ],
        groups: [],
      },
      plain,
    );
    expect(text).toMatch(new RegExp(`${GROUP}:v2\\s+prod eu-west-1\\s+Succeeded`));
    expect(text).toMatch(new RegExp(`${GROUP}:v3\\s+qa\\s+QaDeploying`));
  });
});

describe('the stage a status row shows', () => {
  const deployment = (overrides: Partial<Deployment>): Deployment => ({
    id: `${GROUP}:v2`,
    group: GROUP,
    version: 2,
    packageArn: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/churn-model/2',
    attempt: 1,
    trigger: 'approval',
    targetStage: 'prod',
    phase: 'Queued',
    createdAt: AT,
    phaseSince: AT,
    callbacks: [],
    seq: 1,
    ...overrides,
  });
  const canary = {} as CanaryState;

  it('a queued one at QA, an ending where it got to, one waiting on an endpoint at that endpoint’s stage', () => {
    expect(stageOf(deployment({ phase: 'Queued' }))).toBe('qa');
    expect(stageOf(deployment({ phase: 'AwaitingApproval' }))).toBe('qa');
    expect(stageOf(deployment({ phase: 'Canary', canary }))).toBe('prod');
    expect(stageOf(deployment({ phase: 'Failed' }))).toBe('qa');
    expect(stageOf(deployment({ phase: 'RolledBack', canary }))).toBe('prod');
    expect(stageOf(deployment({ phase: 'Succeeded', targetStage: 'qa' }))).toBe('qa');
    expect(stageOf(deployment({ phase: 'Succeeded' }))).toBe('prod');
    expect(
      stageOf(
        deployment({
          phase: 'RollingBack',
          awaiting: { stage: 'prod', endpointName: 'p', configName: 'c', variants: [], requestedAt: AT },
        }),
      ),
    ).toBe('prod');
  });
});

describe('the CLI against a prod stage in eu-west-1', () => {
  let r: Rollouts;
  beforeAll(async () => {
    r = await startRollouts({ configPath: prodInEu() });
    await v1InEuProd(r);
  });
  afterAll(() => r?.close());

  it('history shows where each transition happened; status the prod stage’s region', async () => {
    const id = `${GROUP}:v1`;
    const history = await runCliHere(r, ['history', id, '--wide']);
    expect(history.code, history.stderr).toBe(0);
    const lines = history.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+TRANSITION\s+STAGE\s+ACTOR/);
    expect(lines.find((l) => /\bQueued\s+system/.test(l))).toBeDefined();
    expect(lines.find((l) => / Queued → QaDeploying /.test(l))).toMatch(/QaDeploying\s+qa\s+system/);
    expect(lines.find((l) => / ReadyForProd → ProdDeploying /.test(l))).toMatch(
      /ProdDeploying\s+prod eu-west-1\s+system/,
    );
    expect(lines.find((l) => / → Succeeded /.test(l))).toMatch(/Succeeded\s+prod eu-west-1\s+system/);

    const json = await runCliHere(r, ['history', id, '--json']);
    const entries = (JSON.parse(json.stdout) as { entries: HistoryEntry[] }).entries;
    expect(entries.find((e) => e.to === 'QaDeploying')).toMatchObject({ stage: 'qa', region: HOME });
    expect(entries.at(-1)).toMatchObject({ to: 'Succeeded', stage: 'prod', region: EU });

    const status = await runCliHere(r, ['status', '--all']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`${id}\\s+prod eu-west-1\\s+Succeeded`));
  });

  it('status shows each stage: QA on v2 while prod in eu-west-1 runs v2’s canary over v1, live; then both on v2', async () => {
    const id = `${GROUP}:v2`;
    await r.approve(await register(r, 2));
    const prodWeights = () =>
      Object.fromEntries(
        eu(r)
          .sagemaker.endpoints.get(PROD)
          ?.variants.map((v) => [v.name, v.currentWeight]) ?? [],
      );
    await r.runUntil(
      async () => (await r.phase(id)) === 'Canary' && (prodWeights().v2 ?? 0) > 0,
      120 * MINUTE,
    );
    // step 2 is decided but its weights cannot reach the endpoint: what the record wants is not live
    const lift = r.stack.cloud.faults.add({
      operation: 'UpdateEndpointWeightsAndCapacities',
      resource: PROD,
      error: 'ThrottlingException',
    });
    await r.runUntil(
      async () => (await r.state(GROUP)).deployments.find((d) => d.id === id)?.canary?.stepIndex === 1,
      30 * MINUTE,
    );
    expect((await r.state(GROUP)).desired?.prod?.weights).toEqual({ v1: 50, v2: 50 });
    expect(prodWeights()).toEqual({ v1: 90, v2: 10 });

    // no virtual time passes while the CLI runs: the stack only delivers events, none of which reads an endpoint
    const before = r.stack.cloud.calls.length;
    const text = await runCliHere(r, ['status', GROUP]);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(/^GROUP\s+STAGE\s+ENDPOINT\s+SERVES\s+DEPLOYMENT\s+VERDICT$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${GROUP}\\s+qa\\s+${QA}\\s+v2 100%\\s+-\\s+-$`)),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^${GROUP}\\s+prod eu-west-1\\s+${PROD}\\s+v1 90% / v2 10%\\s+v2 Canary\\s+(no breach so far|passing): 5XX .*, n=\\d+$`,
        ),
      ),
    );
    // one DescribeEndpoint per endpoint, each in its stage's region: prod's, read for the deployment row, is not read again
    expect(
      r.stack.cloud.calls.slice(before).map((c) => [c.operation, c.names?.EndpointName, c.region]),
    ).toEqual([
      ['DescribeEndpoint', PROD, EU],
      ['DescribeEndpoint', QA, HOME],
    ]);

    // --watch refreshes the same lines (stopped here after its first refresh, as by Ctrl-C)
    let watched = '';
    let interrupt = () => {};
    const interrupted = new Promise<void>((done) => {
      interrupt = done;
    });
    const watch = await runCli(['status', GROUP, '--watch', '--interval', '0.1'], {
      stdout: {
        write: (chunk: string) => {
          watched += chunk;
          interrupt();
        },
        isTTY: false,
      },
      stderr: { write: () => true },
      env: { ...process.env, ...r.stack.env() },
      interrupted,
    });
    expect(watch).toBe(0);
    expect(watched).toMatch(
      new RegExp(`\\n${GROUP}\\s+prod eu-west-1\\s+${PROD}\\s+v1 90% / v2 10%\\s+v2 Canary`),
    );

    const json = await runCliHere(r, ['status', GROUP, '--json']);
    const report = JSON.parse(json.stdout) as { rows: Record<string, unknown>[]; groups: GroupStages[] };
    expect(report.rows.map((row) => row.deploymentId)).toEqual([id]);
    expect(report.rows[0]).toMatchObject({ expectedWeights: { v1: 50, v2: 50 } });
    expect(report.groups).toMatchObject([
      {
        group: GROUP,
        stages: [
          {
            stage: 'qa',
            endpoint: { name: QA, state: 'live', status: 'InService', weights: { v2: 100 } },
            servingVersion: 2,
            deployments: [],
          },
          {
            stage: 'prod',
            region: EU,
            endpoint: { name: PROD, state: 'live', weights: { v1: 90, v2: 10 } },
            servingVersion: 1,
            deployments: [
              {
                deploymentId: id,
                phase: 'Canary',
                verdict: { words: expect.stringMatching(/^(no breach so far|passing): 5XX/) },
              },
            ],
          },
        ],
      },
    ]);

    lift();
    await r.runUntil(async () => (await r.phase(id)) === 'Succeeded', 120 * MINUTE);
    const atEnd = r.stack.cloud.calls.length;
    const after = await runCliHere(r, ['status', GROUP, '--json']);
    // a finished row reads no endpoint: both reads are the stage lines'
    expect(r.stack.cloud.calls.slice(atEnd).map((c) => [c.operation, c.names?.EndpointName])).toEqual([
      ['DescribeEndpoint', QA],
      ['DescribeEndpoint', PROD],
    ]);
    expect((JSON.parse(after.stdout) as { groups: GroupStages[] }).groups[0]?.stages).toMatchObject([
      { stage: 'qa', endpoint: { weights: { v2: 100 } }, servingVersion: 2, deployments: [] },
      { stage: 'prod', region: EU, endpoint: { weights: { v2: 100 } }, servingVersion: 2, deployments: [] },
    ]);
  });
});
