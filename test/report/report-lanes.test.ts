import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';
import type { CloudEvent } from '../../src/local/cloud';
import type { AppliedChange, EndpointChange, VariantRecord } from '../../src/local/cloud/change-log';
import { labelWidth } from '../../src/local/report-labels';
import {
  type LaneMarker,
  laneMarkers,
  laneSegments,
  laneStages,
  stageLanes,
} from '../../src/local/report-lanes';
import { placeMarkers, segmentLabels } from '../../src/local/report-lanes-chart';
import { repoRoot } from '../foundation/fixtures';

const START = 1_000_000;
const MIN = 60_000;

const variant = (name: string, currentWeight: number, desiredWeight = currentWeight): VariantRecord => ({
  name,
  modelName: `churn-model-${name}`,
  currentWeight,
  desiredWeight,
});
let seq = 0;
const change = (
  minute: number,
  status: string,
  variants: VariantRecord[],
  more: Partial<EndpointChange> = {},
): AppliedChange => ({
  kind: 'endpoint',
  seq: seq++,
  at: START + minute * MIN,
  region: 'us-east-1',
  endpoint: 'churn-model-prod',
  status,
  configName: 'c',
  variants,
  ...more,
});
const PROD = { endpoint: 'churn-model-prod', region: 'us-east-1' };
const served = (changes: AppliedChange[]) =>
  laneSegments(PROD, changes, START).map((s) => [
    s.from / MIN,
    s.to === undefined ? 'end' : s.to / MIN,
    s.serving.map((v) => `${v.variant} ${v.percent}`).join(' · '),
  ]);

describe('a stage lane: what its endpoint served', () => {
  it('follows the weights SageMaker applied, not the ones asked for, and leaves out what did not serve', () => {
    expect(
      served([
        change(0, 'Creating', [variant('v1', 1)]),
        change(5, 'InService', [variant('v1', 1)]),
        // the canary's config: asked for 90/10, still all v1 while updating
        change(10, 'Updating', [variant('v1', 1)], {
          pending: { configName: 'c2', variants: [variant('v1', 90), variant('v2', 10)] },
        }),
        change(14, 'InService', [variant('v1', 90), variant('v2', 10)]),
        // weights asked for: not yet applied
        change(20, 'Updating', [variant('v1', 90, 50), variant('v2', 10, 50)]),
        change(21, 'InService', [variant('v1', 50), variant('v2', 50)]),
        // the same endpoint name in another region, and another endpoint: not this stage's
        change(22, 'InService', [variant('v3', 1)], { region: 'eu-west-1' }),
        change(22, 'InService', [variant('v3', 1)], { endpoint: 'churn-model-qa' }),
        change(30, 'InService', [variant('v1', 0), variant('v2', 100)]),
        change(40, 'Deleting', [variant('v2', 1)]),
        change(41, 'Deleted', []),
        change(50, 'Creating', [variant('v2', 1)]),
        change(55, 'InService', [variant('v2', 1)]),
      ]),
    ).toEqual([
      [5, 14, 'v1 100'],
      [14, 21, 'v1 90 · v2 10'],
      [21, 30, 'v1 50 · v2 50'],
      [30, 40, 'v2 100'],
      [55, 'end', 'v2 100'],
    ]);
  });

  it('splits a blue/green update by the new fleet’s share, and drops a change that took no time', () => {
    expect(
      served([
        change(0, 'InService', [variant('v1', 1)]),
        change(10, 'Updating', [variant('v1', 1)], {
          pending: { configName: 'c2', variants: [variant('v2', 1)] },
          blueGreenShare: 0.25,
        }),
        change(15, 'Updating', [variant('v1', 1)], {
          pending: { configName: 'c2', variants: [variant('v2', 1)] },
          blueGreenShare: 0.5,
        }),
        change(15, 'InService', [variant('v2', 1)]),
        change(20, 'InService', [variant('v2', 1)]),
      ]),
    ).toEqual([
      [0, 10, 'v1 100'],
      [10, 15, 'v1 75 · v2 25'],
      [15, 'end', 'v2 100'],
    ]);
  });
});

let eventId = 0;
const event = (
  minute: number,
  type: string,
  detail: Record<string, unknown>,
  id = `e${eventId++}`,
): CloudEvent => ({
  version: '0',
  id,
  'detail-type': type,
  source: 'sagemaker-rollouts',
  account: '111122223333',
  time: new Date(START + minute * MIN).toISOString(),
  region: 'us-east-1',
  resources: [],
  detail: {
    group: 'churn-model',
    region: 'us-east-1',
    at: new Date(START + minute * MIN).toISOString(),
    ...detail,
  },
});

describe('a stage lane: the outcomes there', () => {
  const published = [
    event(1, 'Deployment Started', { deploymentId: 'churn-model:v2', version: 2, trigger: 'approval' }),
    event(5, 'Stage Deployed', { deploymentId: 'churn-model:v2', version: 2, stage: 'qa' }),
    event(6, 'Canary Step Passed', { deploymentId: 'churn-model:v2', version: 2, stage: 'prod' }),
    event(30, 'Deployment Rolled Back', {
      deploymentId: 'churn-model:v2',
      version: 2,
      stage: 'prod',
      reason: 'gate failed',
    }),
    event(30, 'Deployment Started', { deploymentId: 'churn-model:v1#2', version: 1, trigger: 'restore' }),
    event(34, 'Stage Deployed', { deploymentId: 'churn-model:v1#2', version: 1, stage: 'qa' }, 'twice'),
    // delivered twice: one marker
    event(34, 'Stage Deployed', { deploymentId: 'churn-model:v1#2', version: 1, stage: 'qa' }, 'twice'),
    event(40, 'Deployment Failed', { deploymentId: 'other:v1', version: 1, stage: 'qa', group: 'other' }),
    event(45, 'Deployment Failed', { deploymentId: 'churn-model:v3', version: 3, stage: 'qa' }),
    {
      ...event(46, 'Deployment Failed', { deploymentId: 'churn-model:v4', version: 4, stage: 'qa' }),
      source: 'x',
    },
  ];
  const outcomes = (stage: string) =>
    laneMarkers({ group: 'churn-model', stage }, published, START).map((m) => [
      m.at / MIN,
      m.outcome,
      m.version,
      m.deploymentId,
    ]);

  it('names each outcome in the stage the service’s event names, a restore as a restore, each event once', () => {
    expect(outcomes('qa')).toEqual([
      [5, 'promoted', 'v2', 'churn-model:v2'],
      [34, 'restored', 'v1', 'churn-model:v1#2'],
      [45, 'failed', 'v3', 'churn-model:v3'],
    ]);
    expect(outcomes('prod')).toEqual([[30, 'rolled back', 'v2', 'churn-model:v2']]);
    expect(laneMarkers({ group: 'churn-model', stage: 'prod' }, published, START)[0]!.reason).toBe(
      'gate failed',
    );
  });
});

describe('the lanes of a scenario', () => {
  const text = readFileSync(join(repoRoot, 'src/local/scenarios/earlier-stages.local.yml'), 'utf8');

  it('are the stages of each group it ran, in run order, naming a region other than the service’s', () => {
    const elsewhere = text.replace(
      '        endpointName: churn-model-prod\n',
      '        endpointName: churn-model-prod\n        region: eu-west-1\n',
    );
    expect(elsewhere).not.toBe(text);
    const config = parseConfig(elsewhere, 'test.yml');
    const stages = laneStages(config.modelPackageGroups, ['unknown', 'churn-model'], 'us-east-1');
    expect(stages).toEqual([
      {
        group: 'churn-model',
        stage: 'qa',
        endpoint: 'churn-model-qa',
        region: 'us-east-1',
        elsewhere: false,
      },
      {
        group: 'churn-model',
        stage: 'prod',
        endpoint: 'churn-model-prod',
        region: 'eu-west-1',
        elsewhere: true,
      },
    ]);
    // prod's changes are read in its own region
    const lanes = stageLanes({
      stages,
      changes: [
        change(0, 'InService', [variant('v1', 1)]),
        change(1, 'InService', [variant('v2', 1)], { region: 'eu-west-1' }),
      ],
      published: [],
      startMs: START,
    });
    expect(lanes.map((l) => l.segments.map((s) => s.serving[0]!.variant))).toEqual([[], ['v2']]);
  });
});

describe('a stage lane as drawn', () => {
  const marker = (minute: number, outcome: LaneMarker['outcome'], version: string): LaneMarker => ({
    at: minute * MIN,
    outcome,
    deploymentId: `m:${version}`,
    version,
    region: 'us-east-1',
    reason: '',
  });

  it('labels a split with every share, the smaller one, or the version, longest first', () => {
    expect(segmentLabels([{ variant: 'v1', percent: 100 }])).toEqual(['v1']);
    expect(
      segmentLabels([
        { variant: 'v1', percent: 90 },
        { variant: 'v2', percent: 10 },
      ]),
    ).toEqual(['v1 90% · v2 10%', 'v2 10%', 'v2']);
    expect(segmentLabels([])).toEqual([]);
  });

  it('puts markers that would touch on separate rows, their words inside the plot', () => {
    // two pixels a minute, 200 wide
    const area = { left: 0, right: 200, font: 10 };
    const placed = placeMarkers(
      [
        marker(10, 'promoted', 'v1'),
        marker(20, 'rolled back', 'v2'),
        marker(60, 'restored', 'v1'),
        marker(98, 'failed', 'v3'),
      ],
      (ms) => (ms / MIN) * 2,
      area,
    );
    expect(placed.map((m) => [m.text, m.row])).toEqual([
      ['v1 promoted', 0],
      ['v2 rolled back', 1],
      ['v1 restored', 0],
      ['v3 failed', 2],
    ]);
    // words after the glyph, but before it near the right edge
    expect(placed[0]!.textX).toBeGreaterThan(placed[0]!.x);
    const failed = placed[3]!;
    expect(failed.textX + labelWidth('v3 failed', 10)).toBeLessThan(failed.x);
    // words too long for either side: inside the area
    const [cramped] = placeMarkers([marker(50, 'rolled back', 'v2')], (ms) => ms / MIN, {
      ...area,
      right: 120,
    });
    expect(cramped!.textX).toBe(120 - labelWidth('v2 rolled back', 10));
    for (const a of placed)
      for (const b of placed)
        if (a !== b && a.row === b.row) expect(a.to <= b.from || b.to <= a.from).toBe(true);
  });
});
