import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type EndpointRead, endpointReads, type ReadEndpoint } from '../../src/cli/endpoint-reads';
import { colours, visibleLength } from '../../src/cli/output';
import {
  type CanaryVerdict,
  canaryVerdict,
  collectGroupStages,
  type GroupStages,
  renderStageLines,
} from '../../src/cli/stage-lines';
import { renderStatus } from '../../src/cli/status';
import { type GroupConfig, loadConfigFile } from '../../src/config';
import { emptyGroupState } from '../../src/domain/decide';
import type {
  CanaryState,
  Deployment,
  EndpointObservation,
  GateReadings,
  GroupState,
  ServingVersion,
} from '../../src/domain/model';
import type { EndpointsFactory, StageTarget } from '../../src/ports/sagemaker';
import { repoRoot } from '../foundation/fixtures';

/** The stage lines of `status` (issue 22): what each stage of a group serves, live, and what runs in it. */

const plain = colours(false);
const GROUP = 'churn-model';
const HOME = 'us-east-1';
const EU = 'eu-west-1';
const AT = Date.parse('2024-01-01T00:00:00Z');

const localGroup = (): GroupConfig =>
  loadConfigFile(join(repoRoot, 'src/local/scenarios/rollouts.local.yml')).modelPackageGroups[GROUP]!;

/** The local config's churn-model with its prod stage in eu-west-1. */
const prodInEu = (): GroupConfig => {
  const group = localGroup();
  return { ...group, stages: { ...group.stages, prod: { ...group.stages.prod, region: EU } } };
};

const serving = (version: number): ServingVersion => ({
  version,
  packageArn: `arn:aws:sagemaker:us-east-1:111122223333:model-package/${GROUP}/${version}`,
  modelName: `${GROUP}-v${version}`,
  variantName: `v${version}`,
  configName: `cfg-v${version}`,
});

const readings: GateReadings = {
  candidate: { invocations: 540, errors5xx: 1, errorRate: 1 / 540, latencyMs: 42 },
  baseline: { invocations: 4860, errors5xx: 5, errorRate: 5 / 4860, latencyMs: 40 },
  alarmsInAlarm: [],
  windowStart: 0,
  windowEnd: 600_000,
  evidence: {
    minutes: 10,
    errors: 2.37,
    errorsLimit: 200,
    pass: 4,
    passLimit: 20,
    ceiling: 0.01,
    ceilingLimit: 400,
    latency: 0.5,
    latencyLimit: 400,
    latencyMinutes: 10,
    slowerMinutes: 1,
  },
};

const canary = (overrides: Partial<CanaryState> = {}): CanaryState => ({
  configName: 'cfg-v1-v2',
  baselineVersion: 1,
  baselineVariant: 'v1',
  candidateVariant: 'v2',
  stepIndex: 0,
  stepStartedAt: AT,
  bakeUntil: AT + 600_000,
  extensions: 0,
  startedAt: AT,
  paused: false,
  weights: { v1: 90, v2: 10 },
  lastReadings: readings,
  ...overrides,
});

const deployment = (version: number, overrides: Partial<Deployment>): Deployment => ({
  id: `${GROUP}:v${version}`,
  group: GROUP,
  version,
  packageArn: serving(version).packageArn,
  attempt: 1,
  trigger: 'approval',
  targetStage: 'prod',
  phase: 'Queued',
  createdAt: AT + version,
  phaseSince: AT,
  callbacks: [],
  seq: 1,
  ...overrides,
});

/** QA serves v2; prod runs v2's canary over v1; v3 waits in the queue; v0 ended long ago. */
const canaryState = (): GroupState => ({
  ...emptyGroupState(GROUP),
  qa: serving(2),
  prod: serving(1),
  deployments: [
    deployment(0, { phase: 'Succeeded' }),
    deployment(2, { phase: 'Canary', canary: canary() }),
    deployment(3, { phase: 'Queued' }),
  ],
});

const live = (weights: Record<string, number>, status: EndpointObservation['status'] = 'InService') =>
  ({
    kind: 'live',
    observation: {
      endpointName: 'any',
      status,
      configName: 'cfg',
      lastModifiedTime: AT,
      variants: Object.entries(weights).map(([variantName, w]) => ({
        variantName,
        currentWeight: w,
        desiredWeight: w,
      })),
    },
  }) satisfies EndpointRead;

/** A reader answering from `endpoints` by name (missing when absent), counting its calls. */
const reader = (endpoints: Record<string, EndpointRead>) => {
  const calls: string[] = [];
  const read: ReadEndpoint = async (group, stage, name) => {
    calls.push(`${group}/${stage}/${name}`);
    return endpoints[name] ?? { kind: 'missing' };
  };
  return { read, calls };
};

describe('the stage lines of a group', () => {
  it('one line per stage in the graph’s order: its region, live weights, recorded version, deployment and verdict', async () => {
    const { read, calls } = reader({
      'churn-model-qa': live({ v2: 1 }),
      'churn-model-prod': live({ v1: 90, v2: 10 }),
    });
    const lines = await collectGroupStages(canaryState(), prodInEu(), HOME, read);
    expect(lines).toEqual({
      group: GROUP,
      stages: [
        {
          stage: 'qa',
          region: undefined,
          endpoint: { name: 'churn-model-qa', state: 'live', status: 'InService', weights: { v2: 1 } },
          servingVersion: 2,
          deployments: [],
        },
        {
          stage: 'prod',
          region: EU,
          endpoint: {
            name: 'churn-model-prod',
            state: 'live',
            status: 'InService',
            weights: { v1: 90, v2: 10 },
          },
          servingVersion: 1,
          deployments: [
            {
              deploymentId: `${GROUP}:v2`,
              version: 2,
              phase: 'Canary',
              paused: false,
              readings,
              verdict: { outcome: 'undecided', words: 'no breach so far: 5XX 0.19% vs 0.10%, n=540' },
            },
          ],
        },
      ],
    });
    expect(calls).toEqual([`${GROUP}/qa/churn-model-qa`, `${GROUP}/prod/churn-model-prod`]);

    expect(renderStageLines([lines], plain).split('\n')).toEqual([
      'GROUP        STAGE           ENDPOINT          SERVES           DEPLOYMENT  VERDICT',
      'churn-model  qa              churn-model-qa    v2 100%          -           -',
      'churn-model  prod eu-west-1  churn-model-prod  v1 90% / v2 10%  v2 Canary   no breach so far: 5XX 0.19% vs 0.10%, n=540',
    ]);
  });

  it('a QA deployment is on the qa line; queued and ended ones on none', async () => {
    const state: GroupState = {
      ...canaryState(),
      deployments: [
        deployment(4, { phase: 'QaVerifying' }),
        deployment(5, { phase: 'Queued' }),
        deployment(6, { phase: 'RolledBack', canary: canary() }),
      ],
    };
    const { read } = reader({});
    const lines = await collectGroupStages(state, localGroup(), HOME, read);
    expect(lines.stages.map((s) => [s.stage, s.deployments.map((d) => d.deploymentId)])).toEqual([
      ['qa', [`${GROUP}:v4`]],
      ['prod', []],
    ]);
    // a phase outside a canary has no verdict
    expect(lines.stages[0]?.deployments[0]?.verdict).toBeUndefined();
  });

  it('says when a stage’s endpoint does not exist yet, and when it cannot be read', async () => {
    const { read } = reader({
      'churn-model-prod': { kind: 'unreadable', error: 'AccessDenied: not allowed' },
    });
    const lines = await collectGroupStages(
      { ...emptyGroupState(GROUP), deployments: [deployment(1, { phase: 'QaDeploying' })] },
      localGroup(),
      HOME,
      read,
    );
    expect(lines.stages.map((s) => s.endpoint)).toEqual([
      { name: 'churn-model-qa', state: 'missing' },
      { name: 'churn-model-prod', state: 'unreadable', error: 'AccessDenied: not allowed' },
    ]);
    const text = renderStageLines([lines], plain);
    expect(text).toMatch(/qa\s+churn-model-qa\s+no endpoint yet\s+v1 QaDeploying/);
    expect(text).toMatch(/prod\s+churn-model-prod\s+\? \(AccessDenied: not allowed\)\s+-/);
  });

  it('without the config: qa then prod, each endpoint named by the latest decision, else the recorded version', async () => {
    const state: GroupState = {
      ...canaryState(),
      desired: {
        prod: {
          stage: 'prod',
          endpointName: 'churn-model-prod',
          configName: 'cfg-v1-v2',
          variants: [],
          weights: { v1: 90, v2: 10 },
          generation: 3,
          deploymentId: `${GROUP}:v2`,
          requestedAt: AT,
        },
      },
    };
    const { read, calls } = reader({ 'churn-model-prod': live({ v1: 90, v2: 10 }) });
    const lines = await collectGroupStages(state, undefined, HOME, read);
    expect(calls).toEqual([`${GROUP}/prod/churn-model-prod`]);
    expect(lines.stages.map((s) => [s.stage, s.endpoint?.name])).toEqual([
      ['qa', undefined],
      ['prod', 'churn-model-prod'],
    ]);
    expect(renderStageLines([lines], plain)).toMatch(/qa\s+-\s+v2 \(recorded\)\s+-/);
  });

  it('a native stage’s one variant is followed by the version the record says it serves', () => {
    const text = renderStageLines(
      [
        {
          group: GROUP,
          stages: [
            {
              stage: 'prod',
              endpoint: {
                name: 'churn-model-prod',
                state: 'live',
                status: 'Updating',
                weights: { primary: 1 },
              },
              servingVersion: 6,
              deployments: [],
            },
          ],
        },
      ],
      plain,
    );
    expect(text).toMatch(/churn-model-prod\s+primary 100% \(v6\) Updating/);
  });

  it('fits a narrow terminal: the verdict, then the weights and endpoint give way; ids and phases stay whole', async () => {
    const { read } = reader({
      'churn-model-qa': live({ v2: 1 }),
      'churn-model-prod': live({ v1: 90, v2: 10 }),
    });
    const state = canaryState();
    state.deployments[1] = deployment(2, {
      phase: 'Canary',
      attempt: 2,
      id: `${GROUP}:v2#2`,
      canary: canary({ paused: true }),
    });
    const lines = await collectGroupStages(state, prodInEu(), HOME, read);
    const text = renderStageLines([lines], plain, 80);
    for (const line of text.split('\n')) expect(visibleLength(line)).toBeLessThanOrEqual(80);
    expect(text).toMatch(/churn-model {2}prod eu-west-1 .* v2#2 Canary \(paused\) {2}/);
    expect(text).toContain('…');
  });
});

describe('a canary’s verdict in a few words', () => {
  const evidence = readings.evidence!;
  it.each([
    ['no readings', 'no readings yet', undefined],
    ['undecided', 'no breach so far: 5XX 0.19% vs 0.10%, n=540', readings],
    ['passing', 'passing: 5XX 0.19% vs 0.10%, n=540', { ...readings, evidence: { ...evidence, pass: 25 } }],
    [
      'breach',
      'limit reached: 5XX 250:1 (limit 200:1), latency 500:1 (limit 400:1)',
      { ...readings, evidence: { ...evidence, errors: 250, latency: 500 } },
    ],
    [
      'breach',
      'limit reached: ceiling 400:1 (limit 400:1)',
      { ...readings, evidence: { ...evidence, ceiling: 400 } },
    ],
    ['breach', 'alarm kpi, latency-p99', { ...readings, alarmsInAlarm: ['kpi', 'latency-p99'] }],
    // readings stored before the judge kept its evidence, with no baseline
    ['undecided', '5XX 0.19%, n=540', { ...readings, evidence: undefined, baseline: null }],
  ] satisfies [CanaryVerdict['outcome'], string, GateReadings | undefined][])(
    '%s: %s',
    (outcome, words, given) => {
      expect(canaryVerdict(given)).toEqual({ outcome, words });
    },
  );
});

describe('the endpoint reads of one status', () => {
  const observation = live({ v1: 100 }).observation;
  const factory = (answer: () => Promise<EndpointObservation | null>) => {
    const targets: StageTarget[] = [];
    const endpoints = {
      forStage: (target: StageTarget) => {
        targets.push(target);
        return { describe: answer };
      },
    } as unknown as EndpointsFactory;
    return { endpoints, targets };
  };

  it('reads an endpoint once however many lines show it, through the stage’s role and region', async () => {
    const { endpoints, targets } = factory(async () => observation);
    const group = prodInEu();
    const read = endpointReads({ endpoints }, { modelPackageGroups: { [GROUP]: group } } as never);
    const first = await read(GROUP, 'prod', 'churn-model-prod');
    const again = await read(GROUP, 'prod', 'churn-model-prod');
    await read(GROUP, 'qa', 'churn-model-qa');
    expect(first).toEqual({ kind: 'live', observation });
    expect(again).toBe(first);
    expect(targets).toEqual([
      { group: GROUP, stage: 'prod', crossAccount: undefined, region: EU },
      { group: GROUP, stage: 'qa', crossAccount: undefined, region: undefined },
    ]);
  });

  it('no endpoint by that name is missing; an error is unreadable, with its message', async () => {
    const none = endpointReads(
      factory(async () => null),
      undefined,
    );
    expect(await none(GROUP, 'qa', 'x')).toEqual({ kind: 'missing' });
    const failing = endpointReads(
      factory(async () => {
        throw new Error('ExpiredToken: the token has expired');
      }),
      undefined,
    );
    expect(await failing(GROUP, 'qa', 'x')).toEqual({
      kind: 'unreadable',
      error: 'ExpiredToken: the token has expired',
    });
  });
});

describe('status with its stage lines', () => {
  const groups: GroupStages[] = [
    {
      group: GROUP,
      stages: [
        {
          stage: 'qa',
          endpoint: { name: 'churn-model-qa', state: 'live', status: 'InService', weights: { v2: 1 } },
          servingVersion: 2,
          deployments: [],
        },
      ],
    },
  ];

  it('come after the deployments and the notes under them', () => {
    const text = renderStatus(
      {
        now: AT,
        rows: [
          {
            group: GROUP,
            deploymentId: `${GROUP}:v2`,
            version: 2,
            attempt: 1,
            stage: 'qa',
            phase: 'QaVerifying',
            paused: false,
            reason: 'smoke test running',
            phaseSince: AT,
          },
        ],
        groups,
      },
      plain,
    );
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^GROUP\s+DEPLOYMENT\s+STAGE\s+PHASE/);
    expect(lines.slice(2)).toEqual([
      '',
      `${GROUP}:v2: smoke test running`,
      '',
      'GROUP        STAGE  ENDPOINT        SERVES   DEPLOYMENT  VERDICT',
      'churn-model  qa     churn-model-qa  v2 100%  -           -',
    ]);
  });

  it('follow the note that no deployment is in flight', () => {
    const text = renderStatus({ now: AT, rows: [], groups }, plain);
    expect(text.split('\n')[0]).toMatch(/^No deployment to show/);
    expect(text).toMatch(/churn-model\s+qa\s+churn-model-qa\s+v2 100%/);
    expect(renderStatus({ now: AT, rows: [], groups: [] }, plain)).not.toContain('\n');
  });
});
