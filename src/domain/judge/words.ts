import type { GateConfig } from '../../config/schema';
import type { GateReadings, VariantReadings } from '../model';

const pct = (rate: number | null): string => (rate === null ? 'n/a' : `${(rate * 100).toFixed(2)} %`);
const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/** A likelihood ratio as odds: "150:1", "2.4:1", "0.3:1"; huge values are capped for reading. */
export const odds = (ratio: number): string => {
  if (!Number.isFinite(ratio) || ratio >= 1e9) return '>1,000,000,000:1';
  if (ratio < 0.05) return '<0.1:1';
  if (ratio >= 10) return `${count(ratio)}:1`;
  return `${ratio.toFixed(1)}:1`;
};

const rateOf = (v: VariantReadings): string =>
  `${pct(v.errorRate)} (${count(v.errors5xx)} of ${count(v.invocations)})`;

/** The evidence of each test in words, for reasons, history and events. */
export const describeEvidence = (
  readings: GateReadings,
  gates: GateConfig,
): { errors: string; pass: string; ceiling: string; latency: string } => {
  const e = readings.evidence!;
  const { candidate, baseline } = readings;
  const ms = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(1)} ms`);
  return {
    errors: baseline
      ? `candidate 5XX ${rateOf(candidate)} vs baseline ${rateOf(baseline)}, evidence ${odds(e.errors)} against the candidate, limit ${odds(e.errorsLimit)}`
      : `candidate 5XX ${rateOf(candidate)}, no baseline to compare with`,
    pass: `evidence ${odds(e.pass)} that the candidate's 5XX rate is under ${gates.detectErrorRatio}x the baseline's (${odds(e.passLimit)} passes); ${baseline ? `candidate ${pct(candidate.errorRate)} vs baseline ${pct(baseline.errorRate)} over ${count(candidate.invocations)} and ${count(baseline.invocations)} requests` : 'no baseline'}`,
    ceiling: `candidate 5XX ${rateOf(candidate)} above the ${pct(gates.maxErrorRate)} ceiling, evidence ${odds(e.ceiling)}, limit ${odds(e.ceilingLimit)}`,
    latency:
      e.latencyMinutes === 0
        ? "no minute with both variants' latency yet"
        : `candidate ${gates.latencyStatistic} latency above ${gates.maxLatencyRatio}x the baseline's in ${e.slowerMinutes} of ${e.latencyMinutes} minutes${e.expectedSlowerMinutes === undefined ? '' : `, where a candidate no slower would average at most ${e.expectedSlowerMinutes}`} (median ${ms(candidate.latencyMs)} vs ${ms(baseline?.latencyMs ?? null)}), evidence ${odds(e.latency)} against the candidate, limit ${odds(e.latencyLimit)}`,
  };
};

/** A first look that rolls back, in words: the unsettled minute's counts and its own limit. */
export const describeFirstLook = (look: {
  minuteOfCanary: number;
  counts: {
    candidateRequests: number;
    candidateErrors: number;
    baselineRequests: number;
    baselineErrors: number;
  };
  evidence: number;
  limit: number;
  grossRate: number;
}): string => {
  const c = look.counts;
  const rate = (errors: number, requests: number) =>
    `${pct(requests > 0 ? errors / requests : null)} (${count(errors)} of ${count(requests)})`;
  return `candidate 5XX ${rate(c.candidateErrors, c.candidateRequests)} vs baseline ${rate(c.baselineErrors, c.baselineRequests)} in minute ${look.minuteOfCanary + 1} of the canary as read before it settled, evidence ${odds(look.evidence)} against the candidate, limit ${odds(look.limit)} (a first look rolls back only at a 5XX rate of ${pct(look.grossRate)} or more)`;
};
