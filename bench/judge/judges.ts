import { canaryGatesSchema, type GateConfig } from '../../src/config/schema';
import { emptyTally, firstLook, rollbackCauses, stepOutcome, tallyMinute } from '../../src/domain/judge';
import { normalQuantile } from '../../src/local/cloud/samplers';
import { type BenchJudge, LATENCY_MEDIAN_MS, LATENCY_SIGMA, type SimMinute, type TickView } from './simulate';

const MAX_EXTENSIONS = 3;
/** The regression a static threshold is tuned to: 2x the baseline's known 5XX rate. */
const TUNED_ERROR_FACTOR = 2;
/** The baseline's true p99 latency, which a static latency threshold is tuned to (x 1.2). */
const BASELINE_P99_MS = LATENCY_MEDIAN_MS * Math.exp(LATENCY_SIGMA * normalQuantile(0.99));
const LATENCY_TOLERANCE = 1.2;

const bakeOver = (v: TickView) => v.now >= v.bakeUntil;
const stepMinutes = (v: TickView) => v.minutes.filter((m) => m.t >= v.stepStartedAt);

/** A settled minute as the judge sees it at tick `now` (a late or revised minute shows its provisional counts until then). */
const settledView = (m: SimMinute, now: number) =>
  m.provisional && now < m.provisional.until ? m.provisional.counts : m;

/**
 * The new judge, with the schema's defaults (and `overrides`): the same tally and rules the tick
 * uses. The tick recomputes from every settled minute each time; this keeps a running tally and
 * recomputes it only when a minute it counted has changed since (late or revised data).
 */
export const projectJudge = (
  overrides: Partial<GateConfig> = {},
  name = 'project',
  robust = true,
): BenchJudge => {
  const gates: GateConfig = { ...canaryGatesSchema.parse({}), ...overrides };
  return {
    name,
    start() {
      let tally = emptyTally(gates, robust);
      let settled = 0;
      // the first tick at which a minute counted provisionally shows its final counts
      let recountAt = Number.POSITIVE_INFINITY;
      return (v) => {
        const until = v.now - gates.ingestionLagMinutes;
        if (v.now >= recountAt) {
          tally = emptyTally(gates, robust);
          settled = 0;
          recountAt = Number.POSITIVE_INFINITY;
        }
        while (settled < until && settled < v.minutes.length) {
          const m = v.minutes[settled]!;
          const seen = settledView(m, v.now);
          if (seen !== m) recountAt = Math.min(recountAt, m.provisional!.until);
          tallyMinute(
            tally,
            {
              at: m.t,
              invocations: seen.candidateRequests,
              errors5xx: seen.candidateErrors,
              latencyMs: m.candidateP99,
            },
            {
              at: m.t,
              invocations: seen.baselineRequests,
              errors5xx: seen.baselineErrors,
              latencyMs: m.baselineP99,
            },
            gates,
          );
          settled += 1;
        }
        if (rollbackCauses(tally, gates).length > 0) return 'rollback';
        // the newest minute, read before it settles (what judgeCanary's first look sees)
        const newest = v.minutes[v.now - 1];
        if (newest && newest.t >= until) {
          const look = firstLook(newest.t, newest.firstLook, gates);
          if (look.fails) return 'rollback';
        }
        if (!bakeOver(v) || until < v.bakeUntil) return 'wait';
        const outcome = stepOutcome(tally, gates, v.extensions);
        if (outcome === 'pass' || outcome === 'pass-inconclusive') return 'pass';
        // too few requests or inconclusive: the no-data policy (extend, then fail without a verdict)
        return v.extensions < gates.noData.maxExtensions ? 'extend' : 'give-up';
      };
    },
  };
};

/** The gates before this judge (evaluateGates), with the thresholds of the old rollouts.config.yml. */
export const previousThresholdsJudge = (): BenchJudge => {
  const old = {
    maxErrorRate: 0.01,
    maxErrorRateRatio: 2,
    maxLatencyMs: 250,
    maxLatencyRatio: 1.5,
    minInvocations: 200,
  };
  const MIN_ERROR_RATE_FOR_RATIO = 0.001;
  return {
    name: 'previous-thresholds',
    start: () => (v) => {
      const window = stepMinutes(v);
      const sum = (f: (m: SimMinute) => number) => window.reduce((n, m) => n + f(m), 0);
      const nc = sum((m) => m.candidateRequests);
      const ec = sum((m) => m.candidateErrors);
      const nb = sum((m) => m.baselineRequests);
      const eb = sum((m) => m.baselineErrors);
      const maxP99 = (f: (m: SimMinute) => number | null) => {
        const values = window.map(f).filter((x): x is number => x !== null);
        return values.length > 0 ? Math.max(...values) : null;
      };
      let breach = false;
      const insufficient = nc < old.minInvocations;
      if (!insufficient) {
        const rate = ec / nc;
        if (rate > old.maxErrorRate) breach = true;
        if (nb > 0 && rate > Math.max((eb / nb) * old.maxErrorRateRatio, MIN_ERROR_RATE_FOR_RATIO))
          breach = true;
        const lc = maxP99((m) => m.candidateP99);
        const lb = maxP99((m) => m.baselineP99);
        if (lc !== null && lc > old.maxLatencyMs) breach = true;
        if (lc !== null && lb !== null && lc > lb * old.maxLatencyRatio) breach = true;
      }
      if (breach) return 'rollback';
      if (!bakeOver(v)) return 'wait';
      if (insufficient) return v.extensions < MAX_EXTENSIONS ? 'extend' : 'give-up';
      return 'pass';
    },
  };
};

/**
 * SageMaker deployment guardrails: a CloudWatch alarm on the candidate variant's error rate
 * (Invocation5XXErrors Average, 60 s periods), 3 of 5 datapoints above the threshold; the
 * deployment rolls back when the alarm is in ALARM during a bake. Missing data is not breaching.
 */
export const guardrailsAlarmJudge = (baselineErrorRate: number): BenchJudge => {
  const threshold = baselineErrorRate * TUNED_ERROR_FACTOR;
  const datapointsToAlarm = 3;
  const evaluationPeriods = 5;
  return {
    name: 'guardrails-alarm',
    start: () => (v) => {
      const recent = v.minutes.slice(-evaluationPeriods);
      const breaching = recent.filter(
        (m) => m.candidateRequests > 0 && m.candidateErrors / m.candidateRequests > threshold,
      ).length;
      if (breaching >= datapointsToAlarm) return 'rollback';
      return bakeOver(v) ? 'pass' : 'wait';
    },
  };
};

/**
 * Flagger: every interval (1 min) each metric is checked against its threshold range (5XX rate over
 * the interval at most 2x the baseline's known rate, p99 at most 1.2x the baseline's); a failed
 * check, or a check without data, counts; rollback once failed checks reach `threshold` (5).
 */
export const flaggerThresholdJudge = (baselineErrorRate: number): BenchJudge => {
  const maxErrorRate = baselineErrorRate * TUNED_ERROR_FACTOR;
  const maxP99 = BASELINE_P99_MS * LATENCY_TOLERANCE;
  const threshold = 5;
  return {
    name: 'flagger-threshold',
    start() {
      let failed = 0;
      return (v) => {
        const m = v.minutes[v.minutes.length - 1]!;
        const noData = m.candidateRequests === 0 || m.candidateP99 === null;
        if (noData || m.candidateErrors / m.candidateRequests > maxErrorRate || m.candidateP99! > maxP99)
          failed += 1;
        if (failed >= threshold) return 'rollback';
        return bakeOver(v) ? 'pass' : 'wait';
      };
    },
  };
};

/** Mann-Whitney 98 % interval for the shift x - y and the Hodges-Lehmann estimate (normal approximation). */
export const mannWhitneyShift = (x: number[], y: number[]): { lower: number; upper: number; hl: number } => {
  const diffs: number[] = [];
  for (const a of x) for (const b of y) diffs.push(a - b);
  diffs.sort((a, b) => a - b);
  const n = x.length;
  const m = y.length;
  const nm = n * m;
  const mid = Math.floor(nm / 2);
  const hl = nm % 2 ? diffs[mid]! : (diffs[mid - 1]! + diffs[mid]!) / 2;
  const k = Math.floor(nm / 2 - normalQuantile(0.99) * Math.sqrt((nm * (n + m + 1)) / 12));
  if (k < 1) return { lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY, hl };
  return { lower: diffs[k - 1]!, upper: diffs[nm - k]!, hl };
};

type Classification = 'Pass' | 'High' | 'Nodata';

/** Kayenta's NetflixACAJudge for one metric, direction increase, effect size meanRatio >= allowedIncrease. */
export const kayentaClassify = (
  candidate: number[],
  baseline: number[],
  allowedIncrease = 1,
): Classification => {
  if (candidate.length === 0 || baseline.length === 0) return 'Nodata';
  if (new Set([...candidate, ...baseline]).size <= 1) return 'Pass';
  const { lower, hl } = mannWhitneyShift(candidate, baseline);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const meanRatio = mean(candidate) / mean(baseline);
  const effectOk = Number.isNaN(meanRatio) || meanRatio >= allowedIncrease;
  return lower > 0.25 * Math.abs(hl) && effectOk ? 'High' : 'Pass';
};

/**
 * Kayenta: at the end of each step, per-minute 5XX rate and p99 of the step, Mann-Whitney per metric;
 * score = 100 x passing metrics / metrics judged; pass at 95, otherwise the canary fails.
 */
export const kayentaMannWhitneyJudge = (): BenchJudge => ({
  name: 'kayenta-mann-whitney',
  start: () => (v) => {
    if (!bakeOver(v)) return 'wait';
    const window = stepMinutes(v);
    const rates = (f: (m: SimMinute) => [number, number]) =>
      window.filter((m) => f(m)[1] > 0).map((m) => f(m)[0] / f(m)[1]);
    const values = (f: (m: SimMinute) => number | null) =>
      window.map(f).filter((x): x is number => x !== null);
    const results: Classification[] = [
      kayentaClassify(
        rates((m) => [m.candidateErrors, m.candidateRequests]),
        rates((m) => [m.baselineErrors, m.baselineRequests]),
      ),
      kayentaClassify(
        values((m) => m.candidateP99),
        values((m) => m.baselineP99),
        LATENCY_TOLERANCE,
      ),
    ];
    const judged = results.filter((r) => r !== 'Nodata');
    if (judged.length * 2 <= results.length) return 'give-up';
    const score = (100 * judged.filter((r) => r === 'Pass').length) / judged.length;
    return score >= 95 ? 'pass' : 'rollback';
  },
});
