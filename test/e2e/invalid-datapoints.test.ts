import { afterEach, describe, expect, it } from 'vitest';
import type { InvalidDatapoint } from '../../src/ports/metrics';
import { deps } from '../../src/wiring';
import { localConfigVariant } from './helpers';
import { MINUTE, type Rollouts, startRollouts, withV1InProd } from './rollout-harness';

/** The example's canary with a 40-minute limit instead of 240: the limit is what is tested, not its length. */
const shortLimit = () =>
  localConfigVariant((config) => {
    config.modelPackageGroups['churn-model'].stages.prod.strategy.maxDurationMinutes = 40;
  });

const GROUP = 'churn-model';
const PROD = 'churn-model-prod';
const V2 = `${GROUP}:v2`;
const ALARM = 'churn-model-prod-business-kpi';
const WARNING = 'invalid CloudWatch datapoint treated as missing';

describe('GetMetricData answering NaN, Infinity and negative values (finding 5)', () => {
  let r: Rollouts;
  afterEach(() => r.close());

  /** v2 in its canary, then the local cloud answers the variants' metrics with values no metric can take. */
  const canaryWithBadDatapoints = async (configPath?: string) => {
    r = await startRollouts({ configPath });
    await withV1InProd(r, GROUP, PROD);
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    await r.runUntil(async () => (await r.phase(V2)) === 'Canary');
    const canary = (await r.state(GROUP)).deployments.find((d) => d.id === V2)!.canary!;
    const cw = r.stack.cloud.cloudwatch;
    const variants = { candidate: canary.candidateVariant, baseline: canary.baselineVariant };
    cw.overrideValues({
      endpointName: PROD,
      variantName: variants.candidate,
      metricName: 'ModelLatency',
      value: Number.NaN,
    });
    cw.overrideValues({
      endpointName: PROD,
      variantName: variants.baseline,
      metricName: 'ModelLatency',
      value: Number.POSITIVE_INFINITY,
    });
    cw.overrideValues({
      endpointName: PROD,
      variantName: variants.candidate,
      metricName: 'Invocation5XXErrors',
      value: -2,
    });
    return variants;
  };

  const logs = (level: string, message?: string) =>
    r.stack.records.filter(
      (x): x is Extract<typeof x, { kind: 'log' }> =>
        x.kind === 'log' && x.level === level && (message === undefined || x.message === message),
    );

  /** Every tick saved its decision: no group failed, no decision had to drop its readings. */
  const expectEveryDecisionSaved = () => {
    expect(logs('error').map((x) => `${x.message} ${JSON.stringify(x.extra)}`)).toEqual([]);
  };

  /** Each invalid datapoint was logged as a warning naming the metric, variant and minute, once. */
  const expectWarnedOnce = (variants: { candidate: string; baseline: string }) => {
    const warnings = logs('warn', WARNING).map((x) => x.extra as unknown as InvalidDatapoint);
    const seen = (variant: string, metric: string, value: string) =>
      warnings.filter((w) => w.variantName === variant && w.metricName === metric && w.value === value);
    expect(seen(variants.candidate, 'ModelLatency', 'NaN').length).toBeGreaterThan(0);
    expect(seen(variants.baseline, 'ModelLatency', 'Infinity').length).toBeGreaterThan(0);
    expect(seen(variants.candidate, 'Invocation5XXErrors', '-2').length).toBeGreaterThan(0);
    const keys = warnings.map((w) => `${w.variantName} ${w.metricName} ${w.timestamp}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(warnings.every((w) => w.endpointName === PROD && !Number.isNaN(Date.parse(w.timestamp)))).toBe(
      true,
    );
  };

  it('the readings are saved without them, and an alarm in ALARM still rolls the canary back', async () => {
    const variants = await canaryWithBadDatapoints();
    await r.stack.run(6 * MINUTE);
    const d = (await r.state(GROUP)).deployments.find((x) => x.id === V2)!;
    expect(d.phase).toBe('Canary');
    // the minutes were judged and stored: no latency on either side, the candidate's counts unknown
    expect(d.canary!.lastReadings).toMatchObject({
      candidate: { invocations: 0, errors5xx: 0, latencyMs: null },
      baseline: { latencyMs: null },
      evidence: { latencyMinutes: 0 },
    });
    expect(d.canary!.lastReadings!.baseline!.invocations).toBeGreaterThan(0);
    r.stack.cloud.setAlarmState(ALARM, 'ALARM');
    await r.runUntil(async () => (await r.phase(V2)) === 'RolledBack', 15 * MINUTE);
    expect(r.weights(PROD)).toEqual({ v1: 100 });
    const rolledBack = (await r.state(GROUP)).deployments.find((x) => x.id === V2)!;
    expect(rolledBack.reason).toContain(ALARM);
    expectEveryDecisionSaved();
    expectWarnedOnce(variants);
  });

  it('maxDurationMinutes still ends a paused canary that reads them every minute', async () => {
    const variants = await canaryWithBadDatapoints(shortLimit());
    expect(await r.command('pause', V2, 'holding it while the metrics are odd')).toMatchObject({
      outcome: 'applied',
    });
    await r.runUntil(async () => (await r.phase(V2)) === 'RolledBack', 60 * MINUTE);
    const d = (await r.state(GROUP)).deployments.find((x) => x.id === V2)!;
    expect(d.reason).toMatch(/maximum duration of 40 min/);
    expect(r.weights(PROD)).toEqual({ v1: 100 });
    expectEveryDecisionSaved();
    expectWarnedOnce(variants);
  });

  it('a decision the table refuses is decided again without its readings: the alarm still rolls back', async () => {
    r = await startRollouts();
    await withV1InProd(r, GROUP, PROD);
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    await r.runUntil(async () => (await r.phase(V2)) === 'Canary');
    // a metrics source without the adapter's checks: every minute's latency arrives as NaN
    const real = deps().metrics;
    deps().metrics = {
      alarmsInAlarm: (names) => real.alarmsInAlarm(names),
      readVariants: async (queries, onInvalid) => {
        const readings = await real.readVariants(queries, onInvalid);
        for (const v of readings.values())
          v.minutes = v.minutes?.map((m) => ({ ...m, latencyMs: Number.NaN }));
        return readings;
      },
    };
    await r.stack.run(4 * MINUTE);
    r.stack.cloud.setAlarmState(ALARM, 'ALARM');
    await r.runUntil(async () => (await r.phase(V2)) === 'RolledBack', 15 * MINUTE);
    expect(r.weights(PROD)).toEqual({ v1: 100 });
    const d = (await r.state(GROUP)).deployments.find((x) => x.id === V2)!;
    expect(d.reason).toContain(ALARM);
    const refused = logs('error', 'could not save the decision with its readings; deciding without them');
    expect(refused.length).toBeGreaterThan(0);
    expect(String(refused[0]!.extra?.error)).toMatch(/NaN is not allowed/);
    expect(logs('error', 'tick failed for group')).toEqual([]);
  });
});
