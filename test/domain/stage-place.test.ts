import { describe, expect, it } from 'vitest';
import type { Phase } from '../../src/domain/model';
import { placeOf, stageOfMove, stageOfPhase } from '../../src/domain/stage-place';
import {
  commandsOf,
  failCanary,
  groupConfig,
  id,
  MIN,
  readings,
  SERVICE_REGION,
  ship,
  toCanary,
  World,
} from './world';

/** The stage and region every history entry and service event names (issue 22, "Operators see the graph"). */

const toProd = { targetStage: 'prod' } as const;
const toQa = { targetStage: 'qa' } as const;

describe('the stage of a phase and of a transition', () => {
  it.each<[Phase, 'qa' | 'prod' | undefined]>([
    ['Queued', undefined],
    ['QaDeploying', 'qa'],
    ['QaVerifying', 'qa'],
    ['AwaitingApproval', 'qa'],
    ['ReadyForProd', 'qa'],
    ['ProdDeploying', 'prod'],
    ['ProdVerifying', 'prod'],
    ['Shadow', 'prod'],
    ['Canary', 'prod'],
    ['NativeShifting', 'prod'],
    ['Promoting', 'prod'],
    ['RollingBack', 'prod'],
    ['Succeeded', 'prod'],
    ['RolledBack', undefined],
    ['Failed', undefined],
    ['Aborted', undefined],
    ['Superseded', undefined],
  ])('%s is in %s', (phase, stage) => {
    expect(stageOfPhase(toProd, phase)).toBe(stage);
  });

  it('Succeeded is in the target stage', () => {
    expect(stageOfPhase(toQa, 'Succeeded')).toBe('qa');
  });

  it('an ending belongs to the stage of the phase it leaves; other moves to the phase they enter', () => {
    expect(stageOfMove(toProd, 'QaVerifying', 'Failed')).toBe('qa');
    expect(stageOfMove(toProd, 'Canary', 'RollingBack')).toBe('prod');
    expect(stageOfMove(toProd, 'RollingBack', 'RolledBack')).toBe('prod');
    expect(stageOfMove(toProd, 'ReadyForProd', 'ProdDeploying')).toBe('prod');
    expect(stageOfMove(toProd, 'Queued', 'QaDeploying')).toBe('qa');
    expect(stageOfMove(toProd, 'Queued', 'Superseded')).toBeUndefined();
    expect(stageOfMove(toProd, null, 'Queued')).toBeUndefined();
    expect(stageOfMove(toQa, 'QaVerifying', 'Succeeded')).toBe('qa');
    // a version that served prod, rolled back by an operator
    expect(stageOfMove(toProd, 'Succeeded', 'RolledBack')).toBe('prod');
    // a refusal after the end
    expect(stageOfMove(toProd, 'Aborted', 'Aborted')).toBeUndefined();
    expect(stageOfMove(toProd, 'Succeeded', 'Succeeded')).toBe('prod');
  });
});

describe('the region of a stage', () => {
  it("is the stage's own when it names one, else the service's", () => {
    const config = groupConfig();
    config.stages.prod.region = 'eu-west-1';
    expect(placeOf(config, 'us-east-2', 'prod')).toEqual({ stage: 'prod', region: 'eu-west-1' });
    expect(placeOf(config, 'us-east-2', 'qa')).toEqual({ stage: 'qa', region: 'us-east-2' });
    expect(placeOf(config, 'us-east-2', undefined)).toBeUndefined();
  });
});

const PROD_REGION = 'eu-west-1';

const prodElsewhere = (): World => {
  const config = groupConfig();
  config.stages.prod.region = PROD_REGION;
  return new World(config);
};

const historyOf = (w: World, d: string) =>
  commandsOf(w.commands, 'RecordHistory')
    .filter((c) => c.entry.deploymentId === d)
    .map(({ entry }) => [entry.from, entry.to, entry.stage, entry.region]);

const eventsOf = (w: World, d: string) =>
  commandsOf(w.commands, 'Publish')
    .filter((c) => c.event.deploymentId === d)
    .map(({ event }) => [event.type, event.stage, event.region]);

describe('history entries and events name the stage and its region', () => {
  it('a canary promoted in a prod stage of another region', () => {
    const w = prodElsewhere();
    ship(w, 1);
    const d = toCanary(w, 2);
    for (let i = 0; i < 2; i += 1) {
      w.later(5 * MIN).canary(d, readings.healthy());
      w.settle('prod');
    }
    w.settle('prod');
    expect(w.phase(d)).toBe('Succeeded');
    expect(historyOf(w, d)).toEqual([
      [null, 'Queued', undefined, undefined],
      ['Queued', 'QaDeploying', 'qa', SERVICE_REGION],
      ['QaDeploying', 'ReadyForProd', 'qa', SERVICE_REGION],
      ['ReadyForProd', 'ProdDeploying', 'prod', PROD_REGION],
      ['ProdDeploying', 'Canary', 'prod', PROD_REGION],
      ['Canary', 'Canary', 'prod', PROD_REGION],
      ['Canary', 'Canary', 'prod', PROD_REGION],
      ['Canary', 'Canary', 'prod', PROD_REGION],
      ['Canary', 'Promoting', 'prod', PROD_REGION],
      ['Promoting', 'Succeeded', 'prod', PROD_REGION],
    ]);
    expect(eventsOf(w, d)).toEqual([
      ['Deployment Started', undefined, undefined],
      ['Stage Deployed', 'qa', SERVICE_REGION],
      ['Canary Step Passed', 'prod', PROD_REGION],
      ['Canary Step Passed', 'prod', PROD_REGION],
      ['Deployment Promoted', 'prod', PROD_REGION],
    ]);
  });

  it('a rollback names the prod stage', () => {
    const w = prodElsewhere();
    ship(w, 1);
    const d = failCanary(w, 2);
    expect(historyOf(w, d).slice(-2)).toEqual([
      ['Canary', 'RollingBack', 'prod', PROD_REGION],
      ['RollingBack', 'RolledBack', 'prod', PROD_REGION],
    ]);
    expect(eventsOf(w, d).at(-1)).toEqual(['Deployment Rolled Back', 'prod', PROD_REGION]);
  });

  it('a QA failure names the QA stage', () => {
    const config = groupConfig({ smokeTest: true });
    config.stages.prod.region = PROD_REGION;
    const w = new World(config);
    w.approve(3);
    w.settle('qa');
    const failed = id(3);
    w.send({ type: 'SmokeTested', deploymentId: failed, ok: false, detail: 'HTTP 500' });
    expect(w.phase(failed)).toBe('Failed');
    expect(historyOf(w, failed).at(-1)).toEqual(['QaVerifying', 'Failed', 'qa', SERVICE_REGION]);
    expect(eventsOf(w, failed).at(-1)).toEqual(['Deployment Failed', 'qa', SERVICE_REGION]);
  });

  it('an operator rollback of the version prod serves names prod; a refusal after the end names none', () => {
    const w = prodElsewhere();
    ship(w, 1);
    const d = toCanary(w, 2);
    w.operator('promote', d, true, true);
    w.settleAll();
    expect(w.phase(d)).toBe('Succeeded');
    w.operator('rollback', id(2));
    expect(historyOf(w, id(2)).at(-1)).toEqual(['Succeeded', 'RolledBack', 'prod', PROD_REGION]);
    expect(eventsOf(w, id(2)).at(-1)).toEqual(['Deployment Rolled Back', 'prod', PROD_REGION]);
    w.operator('pause', id(2));
    expect(historyOf(w, id(2)).at(-1)).toEqual(['RolledBack', 'RolledBack', undefined, undefined]);
    expect(eventsOf(w, id(2)).at(-1)).toEqual(['Command Rejected', undefined, undefined]);
  });
});
