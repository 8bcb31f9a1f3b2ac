import type { GateConfig } from '../config/schema';
import type { GateReadings, VariantReadings } from './model';

/** Below this 5XX rate, ratios to the baseline are noise and are not judged. */
export const MIN_ERROR_RATE_FOR_RATIO = 0.001;

export type GateVerdict =
  /** a threshold is crossed (with enough data to judge) or an alarm fires: roll back */
  | { status: 'breach'; reasons: string[] }
  /** too few requests to judge: the no-data policy applies when the bake ends */
  | { status: 'insufficient'; reasons: string[] }
  | { status: 'healthy'; reasons: string[] };

const pct = (rate: number): string => `${(rate * 100).toFixed(2)}%`;

const describeVariant = (name: string, r: VariantReadings): string =>
  `${name}: ${r.invocations} requests, ${r.errors5xx} 5XX` +
  (r.errorRate === null ? '' : ` (${pct(r.errorRate)})`) +
  (r.latencyMs === null ? '' : `, latency ${r.latencyMs.toFixed(1)} ms`);

/** Plain-language readings for history and events. */
export const summariseReadings = (readings: GateReadings): string =>
  [
    describeVariant('candidate', readings.candidate),
    readings.baseline ? describeVariant('baseline', readings.baseline) : 'baseline: none',
    readings.alarmsInAlarm.length > 0 ? `alarms in ALARM: ${readings.alarmsInAlarm.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');

/**
 * Judges the candidate against absolute thresholds and against the baseline's readings over the
 * same window. Thresholds are only judged once the candidate has served `minInvocations`
 * requests, so a handful of early errors cannot fail a step; alarms are judged at once.
 */
export const evaluateGates = (readings: GateReadings, gates: GateConfig): GateVerdict => {
  if (readings.alarmsInAlarm.length > 0) {
    return { status: 'breach', reasons: [`alarm in ALARM: ${readings.alarmsInAlarm.join(', ')}`] };
  }
  const { candidate, baseline } = readings;
  const needed = Math.max(1, gates.minInvocations);
  if (candidate.invocations < needed || candidate.errorRate === null) {
    return {
      status: 'insufficient',
      reasons: [`candidate served ${candidate.invocations} of the ${needed} requests needed to judge`],
    };
  }
  const reasons: string[] = [];
  const rate = candidate.errorRate;
  if (rate > gates.maxErrorRate) {
    reasons.push(`5XX rate ${pct(rate)} above the maximum ${pct(gates.maxErrorRate)}`);
  }
  if (gates.maxErrorRateRatio !== undefined && baseline?.errorRate != null) {
    const limit = Math.max(baseline.errorRate * gates.maxErrorRateRatio, MIN_ERROR_RATE_FOR_RATIO);
    if (rate > limit) {
      reasons.push(
        `5XX rate ${pct(rate)} above ${gates.maxErrorRateRatio}x the baseline's ${pct(baseline.errorRate)}`,
      );
    }
  }
  const latency = candidate.latencyMs;
  if (latency !== null) {
    if (gates.maxLatencyMs !== undefined && latency > gates.maxLatencyMs) {
      reasons.push(
        `${gates.latencyStatistic} latency ${latency.toFixed(1)} ms above the maximum ${gates.maxLatencyMs} ms`,
      );
    }
    if (gates.maxLatencyRatio !== undefined && baseline?.latencyMs != null && baseline.latencyMs > 0) {
      if (latency > baseline.latencyMs * gates.maxLatencyRatio) {
        reasons.push(
          `${gates.latencyStatistic} latency ${latency.toFixed(1)} ms above ${gates.maxLatencyRatio}x the baseline's ${baseline.latencyMs.toFixed(1)} ms`,
        );
      }
    }
  }
  if (reasons.length > 0) return { status: 'breach', reasons };
  return { status: 'healthy', reasons: [summariseReadings(readings)] };
};

/** Share of traffic (0..1) each variant gets; weights are relative. */
export const trafficShares = (weights: Record<string, number>): Record<string, number> => {
  const total = Object.values(weights).reduce((sum, w) => sum + w, 0);
  const shares: Record<string, number> = {};
  for (const [name, weight] of Object.entries(weights)) shares[name] = total > 0 ? weight / total : 0;
  return shares;
};

/** True when two weight maps send the same share of traffic to the same variants (within 1 %). */
export const sameTrafficSplit = (a: Record<string, number>, b: Record<string, number>): boolean => {
  const sa = trafficShares(a);
  const sb = trafficShares(b);
  const names = new Set([...Object.keys(sa), ...Object.keys(sb)]);
  for (const name of names) {
    if (Math.abs((sa[name] ?? 0) - (sb[name] ?? 0)) > 0.01) return false;
  }
  return true;
};
