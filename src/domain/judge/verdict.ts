import type { GateConfig } from '../../config/schema';
import type { GateReadings, JudgeEvidence, MinuteReading, VariantReadings } from '../model';
import { addDispersion, type ErrorDispersion, emptyDispersion, restrictedVariance } from './dispersion';
import { slowerChanceUnderNull } from './latency-order';
import {
  addInto,
  addScore,
  CEILING_GRID,
  CEILING_SCORE_RHO,
  ceilingMinute,
  ceilingScoreMinute,
  emptyScoreSum,
  errorRatioGrid,
  errorRatioMinute,
  errorRobustPair,
  errorScoreMinute,
  errorScoreRho,
  evidenceOf,
  firstLookLimit,
  floorWeightOf,
  type MinuteCounts,
  PASS_EVIDENCE,
  passRatioGrid,
  passRatioMinute,
  passScoreMinute,
  robustEvidence,
  robustPair,
  type ScoreSum,
  SIGN_GRID,
  signMinute,
} from './sequential';
import { describeEvidence, describeFirstLook } from './words';

const MINUTE = 60_000;

/**
 * How alpha is spent. A candidate no worse than the baseline and under the ceiling is rolled back
 * only if one of the four tests crosses its limit (the error test on settled minutes, its first
 * looks at the newest minute, the ceiling, latency); by the union bound that happens with
 * probability at most alpha over the whole canary. The 5XX comparison gets the most: it carries the
 * detection targets, and the robust part beside its exact test costs it power. First looks act
 * only on gross failures, whose evidence is so large that a smaller share costs them little, and
 * the ceiling only matters once the candidate's own rate is well above it. (From 0.55 / 0.05 / 0.15:
 * 2x regressions at the margin of the targets caught in about half a point more canaries.)
 */
export const ALPHA_SHARE = { errors: 0.63, firstLook: 0.02, ceiling: 0.1, latency: 0.25 } as const;

/**
 * One alpha per deployment: a shadow phase spends this share of the configured alpha, the canary
 * after it the rest (a canary without a shadow phase spends all of it). By the union bound a
 * candidate no worse than the baseline is rolled back by the judge with probability at most alpha
 * over the whole deployment.
 */
export const SHADOW_ALPHA_SHARE = 0.2;

/** The share of the deployment's alpha a phase spends: the shadow phase, or the canary (after a shadow phase or not). */
export const phaseAlphaShare = (phase: 'shadow' | 'canary', hadShadow: boolean): number =>
  phase === 'shadow' ? SHADOW_ALPHA_SHARE : hadShadow ? 1 - SHADOW_ALPHA_SHARE : 1;

export type JudgeVerdict =
  /** an alarm fires or a test has the evidence to roll back */
  | { status: 'rollback'; reasons: string[]; readings: GateReadings }
  /** too few candidate requests, or (while the bake may be extended) evidence neither way: the no-data policy applies at the bake's end */
  | { status: 'insufficient'; reasons: string[]; readings: GateReadings }
  | { status: 'healthy'; reasons: string[]; readings: GateReadings };

export interface CanaryTiming {
  /** the canary's first step started here; everything since is judged together */
  startedAt: number;
  /** times the current step's bake was extended */
  extensions: number;
  /** the share of the configured alpha this phase spends (phaseAlphaShare); all of it when absent */
  alphaShare?: number;
}

/** Candidate requests a step needs before it may pass: the configured number, or 3 / ceiling. */
export const minimumRequests = (gates: GateConfig): number =>
  gates.minInvocations ?? Math.ceil(3 / gates.maxErrorRate);

/** End (epoch ms) of the data the judge may use at `now`: whole minutes older than the ingestion lag. */
export const settledUntil = (now: number, gates: GateConfig): number =>
  Math.floor(now / MINUTE) * MINUTE - gates.ingestionLagMinutes * MINUTE;

export interface PairedMinute {
  at: number;
  candidate: MinuteReading;
  baseline: MinuteReading | undefined;
}

/** Settled minutes of the canary, the candidate's paired with the baseline's of the same period. */
const pairMinutes = (readings: GateReadings, timing: CanaryTiming, until: number): PairedMinute[] => {
  const { candidate, baseline } = readings;
  const asMinutes = (v: VariantReadings, at: number): MinuteReading[] =>
    v.minutes ?? [{ at, invocations: v.invocations, errors5xx: v.errors5xx, latencyMs: v.latencyMs }];
  // Readings without a per-minute breakdown are one settled period (callers that total themselves).
  const legacyAt = readings.windowStart;
  const candidateMinutes = asMinutes(candidate, legacyAt);
  const baselineByMinute = new Map((baseline ? asMinutes(baseline, legacyAt) : []).map((m) => [m.at, m]));
  const ats = new Set([...candidateMinutes.map((m) => m.at), ...baselineByMinute.keys()]);
  const candidateByMinute = new Map(candidateMinutes.map((m) => [m.at, m]));
  const firstMinute = Math.floor(timing.startedAt / MINUTE) * MINUTE;
  const hasBreakdown = candidate.minutes !== undefined;
  return [...ats]
    .filter((at) => !hasBreakdown || (at >= firstMinute && at + MINUTE <= until))
    .sort((a, b) => a - b)
    .map((at) => ({
      at,
      candidate: candidateByMinute.get(at) ?? { at, invocations: 0, errors5xx: 0, latencyMs: null },
      baseline: baselineByMinute.get(at),
    }));
};

const totals = (minutes: MinuteReading[], latencyMs: number | null): VariantReadings => {
  const invocations = minutes.reduce((n, m) => n + m.invocations, 0);
  const errors5xx = minutes.reduce((n, m) => n + m.errors5xx, 0);
  return { invocations, errors5xx, errorRate: invocations > 0 ? errors5xx / invocations : null, latencyMs };
};

/** Median of the per-minute latency values: what "the candidate's latency" says in words. */
const medianLatency = (minutes: MinuteReading[]): number | null => {
  const values = minutes.map((m) => m.latencyMs).filter((v): v is number => v !== null);
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  const mid = Math.floor(values.length / 2);
  return values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
};

/**
 * Running totals of the tests: per mixture component, the sum of the minutes' log LRs; for the
 * 5XX comparison and the ceiling also the robust score sums (see robustEvidence).
 */
export interface Tally {
  /**
   * Whether the robust tests take part: only with a per-minute breakdown, the minutes being their
   * unit of variation; readings totalled by the caller (one period) are judged by the exact tests.
   */
  robust: boolean;
  minutes: number;
  errors: number[];
  errorScores: ScoreSum;
  errorDispersion: ErrorDispersion;
  pass: number[];
  passScores: ScoreSum;
  ceiling: number[];
  ceilingScores: ScoreSum;
  /** minutes left out of the ceiling test because the baseline was above the ceiling too */
  ceilingSkipped: number;
  latency: number[];
  latencyMinutes: number;
  slowerMinutes: number;
  /** sum of the latency minutes' null chances: the slower minutes a no-slower candidate averages at most */
  expectedSlowerMinutes: number;
  candidateRequests: number;
  candidateErrors: number;
  baselineRequests: number;
  baselineErrors: number;
}

export const emptyTally = (gates: GateConfig, robust = true): Tally => ({
  robust,
  minutes: 0,
  errors: errorRatioGrid(gates.detectErrorRatio).map(() => 0),
  errorScores: emptyScoreSum(),
  errorDispersion: emptyDispersion(),
  pass: passRatioGrid(gates.detectErrorRatio).map(() => 0),
  passScores: emptyScoreSum(),
  ceiling: CEILING_GRID.map(() => 0),
  ceilingScores: emptyScoreSum(),
  ceilingSkipped: 0,
  latency: SIGN_GRID.map(() => 0),
  latencyMinutes: 0,
  slowerMinutes: 0,
  expectedSlowerMinutes: 0,
  candidateRequests: 0,
  candidateErrors: 0,
  baselineRequests: 0,
  baselineErrors: 0,
});

/** Adds one settled minute (candidate and, when it served, baseline) to the tally. */
export const tallyMinute = (
  tally: Tally,
  candidate: MinuteReading,
  baseline: MinuteReading | undefined,
  gates: GateConfig,
): void => {
  tally.minutes += 1;
  tally.candidateRequests += candidate.invocations;
  tally.candidateErrors += candidate.errors5xx;
  // A minute in which the baseline is above the ceiling too is a shared incident, not the
  // candidate's doing: it says nothing about the candidate. Chosen from the baseline alone, which
  // is independent of the candidate's errors, so leaving it out keeps the ceiling test valid.
  const baselineAboveCeiling =
    baseline !== undefined &&
    baseline.invocations > 0 &&
    baseline.errors5xx / baseline.invocations > gates.maxErrorRate;
  if (baselineAboveCeiling) tally.ceilingSkipped += 1;
  else {
    addInto(tally.ceiling, ceilingMinute(candidate.invocations, candidate.errors5xx, gates.maxErrorRate));
    addScore(
      tally.ceilingScores,
      ceilingScoreMinute(candidate.invocations, candidate.errors5xx, gates.maxErrorRate),
    );
  }
  if (!baseline) return;
  tally.baselineRequests += baseline.invocations;
  tally.baselineErrors += baseline.errors5xx;
  const counts = {
    candidateRequests: candidate.invocations,
    candidateErrors: candidate.errors5xx,
    baselineRequests: baseline.invocations,
    baselineErrors: baseline.errors5xx,
  };
  addInto(tally.errors, errorRatioMinute(counts, errorRatioGrid(gates.detectErrorRatio)));
  // the shared mean rate for the variance bound: the minute's pooled rate, or the baseline's so far if higher
  const baselineRate = tally.baselineRequests > 0 ? tally.baselineErrors / tally.baselineRequests : 0;
  const minuteRequests = candidate.invocations + baseline.invocations;
  const pooledRate = minuteRequests > 0 ? (candidate.errors5xx + baseline.errors5xx) / minuteRequests : 0;
  addScore(tally.errorScores, {
    ...errorScoreMinute(counts, Math.max(baselineRate, pooledRate)),
    // at the baseline's rate so far, 3 more 5XX allowed for: an early minute of low rate is not low count
    floorWeight: floorWeightOf(
      (candidate.invocations * (tally.baselineErrors + 3)) / Math.max(1, tally.baselineRequests),
    ),
  });
  addDispersion(
    tally.errorDispersion,
    candidate.invocations,
    candidate.errors5xx,
    baseline.invocations,
    baseline.errors5xx,
  );
  addInto(tally.pass, passRatioMinute(counts, gates.detectErrorRatio));
  addScore(tally.passScores, passScoreMinute(counts, gates.detectErrorRatio));
  const comparable =
    candidate.latencyMs !== null &&
    baseline.latencyMs !== null &&
    baseline.latencyMs > 0 &&
    Math.round(candidate.invocations) >= 1 &&
    Math.round(baseline.invocations) >= 1;
  if (comparable) {
    const slower = candidate.latencyMs! > gates.maxLatencyRatio * baseline.latencyMs!;
    tally.latencyMinutes += 1;
    if (slower) tally.slowerMinutes += 1;
    const nullChance = slowerChanceUnderNull(
      gates.latencyStatistic,
      candidate.invocations,
      baseline.invocations,
    );
    tally.expectedSlowerMinutes += nullChance;
    addInto(tally.latency, signMinute(slower, nullChance));
  }
};

/**
 * The 5XX comparison and the ceiling each run two tests on the same minutes and roll back only when
 * both reach the limit, so their evidence is the smaller of the two: the exact likelihood ratio
 * (valid when requests fail independently) and the robust score test (valid when the minutes are
 * the unit of variation: per-variant rates that vary from minute to minute, clustered failures). A
 * candidate no worse than the baseline is rolled back by the pair with probability at most the
 * limit's alpha whenever either test's assumption holds.
 */
export const evidenceFrom = (tally: Tally, gates: GateConfig): JudgeEvidence => ({
  minutes: tally.minutes,
  errors: Math.min(
    evidenceOf(tally.errors),
    tally.robust
      ? errorRobustPair(
          tally.errorScores,
          errorScoreRho(gates.detectErrorRatio),
          restrictedVariance(tally.errorDispersion),
        )
      : Number.POSITIVE_INFINITY,
  ),
  errorsLimit: 1 / (gates.alpha * ALPHA_SHARE.errors),
  // passing needs both too: a variance the exact test does not know of must not pass a regression
  pass: Math.min(
    evidenceOf(tally.pass),
    tally.robust
      ? robustEvidence(tally.passScores, errorScoreRho(gates.detectErrorRatio))
      : Number.POSITIVE_INFINITY,
  ),
  passLimit: PASS_EVIDENCE,
  ceiling: Math.min(
    evidenceOf(tally.ceiling),
    tally.robust ? robustPair(tally.ceilingScores, CEILING_SCORE_RHO) : Number.POSITIVE_INFINITY,
  ),
  ceilingLimit: 1 / (gates.alpha * ALPHA_SHARE.ceiling),
  latency: evidenceOf(tally.latency),
  latencyLimit: 1 / (gates.alpha * ALPHA_SHARE.latency),
  latencyMinutes: tally.latencyMinutes,
  slowerMinutes: tally.slowerMinutes,
  expectedSlowerMinutes: Number(tally.expectedSlowerMinutes.toFixed(1)),
});

/**
 * Evidence as stored and shown: 4 significant digits, within what a DynamoDB number holds (a
 * likelihood ratio can be far below 1e-130 or overflow to Infinity).
 */
const storable = (e: JudgeEvidence): JudgeEvidence => {
  const round = (x: number) =>
    x >= 1e12 || !Number.isFinite(x) ? 1e12 : x < 1e-6 ? 0 : Number(x.toPrecision(4));
  return {
    ...e,
    errors: round(e.errors),
    pass: round(e.pass),
    ceiling: round(e.ceiling),
    latency: round(e.latency),
    errorsLimit: round(e.errorsLimit),
    ceilingLimit: round(e.ceilingLimit),
    latencyLimit: round(e.latencyLimit),
  };
};

/** What a first look at the newest, not yet settled minute found (see firstLookWeight). */
export interface FirstLook {
  /** minute of the canary, 0 for its first */
  minuteOfCanary: number;
  counts: MinuteCounts;
  evidence: number;
  limit: number;
  /** the candidate's 5XX rate in the visible part at or above which a first look may roll back */
  grossRate: number;
  /** evidence at its limit and the candidate failing at the gross rate: a rollback */
  fails: boolean;
}

/**
 * The candidate's 5XX rate in one minute at which a first look may roll back: 10 x the ceiling, at
 * most 1/2. A single minute tells nothing about a candidate whose own rate varies from minute to
 * minute (with a coefficient of variation of 1 a minute at 3x its mean is common), so first looks
 * are kept for gross failures: a rate that far above the ceiling is not a fluctuation of a candidate
 * whose mean rate is the baseline's.
 */
export const firstLookGrossRate = (gates: GateConfig): number => Math.min(0.5, 10 * gates.maxErrorRate);

/** The error test on the visible part of one unsettled minute, against that minute's own limit. */
export const firstLook = (minuteOfCanary: number, counts: MinuteCounts, gates: GateConfig): FirstLook => {
  const evidence = evidenceOf(errorRatioMinute(counts, errorRatioGrid(gates.detectErrorRatio)));
  const limit = firstLookLimit(minuteOfCanary, gates.alpha * ALPHA_SHARE.firstLook);
  const grossRate = firstLookGrossRate(gates);
  const rate = counts.candidateRequests > 0 ? counts.candidateErrors / counts.candidateRequests : 0;
  return {
    minuteOfCanary,
    counts,
    evidence,
    limit,
    grossRate,
    fails: evidence >= limit && rate >= grossRate,
  };
};

/** The newest complete minute at `now` as read, when the ingestion lag has not settled it yet. */
const newestUnsettledMinute = (
  readings: GateReadings,
  timing: CanaryTiming,
  now: number,
  until: number,
  gates: GateConfig,
): FirstLook | null => {
  const at = Math.floor(now / MINUTE) * MINUTE - MINUTE;
  const firstMinute = Math.floor(timing.startedAt / MINUTE) * MINUTE;
  if (at < firstMinute || at + MINUTE <= until || !readings.baseline?.minutes) return null;
  const candidate = readings.candidate.minutes?.find((m) => m.at === at);
  const baseline = readings.baseline.minutes.find((m) => m.at === at);
  if (!candidate || !baseline) return null;
  return firstLook(
    (at - firstMinute) / MINUTE,
    {
      candidateRequests: candidate.invocations,
      candidateErrors: candidate.errors5xx,
      baselineRequests: baseline.invocations,
      baselineErrors: baseline.errors5xx,
    },
    gates,
  );
};

/** The totals a rollback on a first look reports: the settled minutes and the minute it read. */
const withFirstLook = (summary: GateReadings, look: FirstLook): GateReadings => {
  const add = (v: VariantReadings, requests: number, errors: number): VariantReadings => {
    const invocations = v.invocations + requests;
    const errors5xx = v.errors5xx + errors;
    return { ...v, invocations, errors5xx, errorRate: invocations > 0 ? errors5xx / invocations : null };
  };
  const c = look.counts;
  return {
    ...summary,
    candidate: add(summary.candidate, c.candidateRequests, c.candidateErrors),
    baseline: summary.baseline && add(summary.baseline, c.baselineRequests, c.baselineErrors),
  };
};

export type RollbackCause = 'errors' | 'ceiling' | 'latency';

/** The tests whose evidence reached their limit. */
export const rollbackCauses = (tally: Tally, gates: GateConfig): RollbackCause[] => {
  const e = evidenceFrom(tally, gates);
  const causes: RollbackCause[] = [];
  if (e.errors >= e.errorsLimit) causes.push('errors');
  if (e.ceiling >= e.ceilingLimit) causes.push('ceiling');
  if (e.latency >= e.latencyLimit) causes.push('latency');
  return causes;
};

/**
 * What the end of a bake decides when no test asks for a rollback:
 * - `too-few`: under the rule of three; the no-data policy applies;
 * - `pass`: evidence that the candidate is not detectErrorRatio times worse reached PASS_EVIDENCE,
 *   or the candidate served its requests without a single 5XX (nothing to be worse with);
 * - `inconclusive`: enough requests but not that evidence, and the bake may still be extended;
 * - `pass-inconclusive`: the same with no extension left: the step passes, saying so.
 */
export const stepOutcome = (
  tally: Tally,
  gates: GateConfig,
  extensions: number,
): 'too-few' | 'pass' | 'inconclusive' | 'pass-inconclusive' => {
  if (tally.candidateRequests < Math.max(1, minimumRequests(gates))) return 'too-few';
  if (tally.candidateErrors === 0 || evidenceFrom(tally, gates).pass >= PASS_EVIDENCE) return 'pass';
  const mayExtend = gates.noData.action === 'extend' && extensions < gates.noData.maxExtensions;
  return mayExtend ? 'inconclusive' : 'pass-inconclusive';
};

/** A fold kept for the next call: the minutes it folded, by value, and the tally they made. */
interface KeptFold {
  key: string;
  minutes: PairedMinute[];
  tally: Tally;
}

/** The folds of the latest canaries judged in this process, newest first. */
const keptFolds: KeptFold[] = [];
export const KEPT_FOLDS = 16;
/** Minutes folded in this process so far: each once, unless revised or its fold was dropped. */
let minutesFoldedCount = 0;
export const minutesFolded = (): number => minutesFoldedCount;

/** The same reading for the tally: what tallyMinute reads of it. */
const sameReading = (a: MinuteReading | undefined, b: MinuteReading | undefined): boolean =>
  a === b ||
  (a !== undefined &&
    b !== undefined &&
    a.invocations === b.invocations &&
    a.errors5xx === b.errors5xx &&
    a.latencyMs === b.latencyMs);

/**
 * Whether `minutes` begin with the kept ones, value for value (the newest first: late data revises
 * those). Their times do not matter: the fold reads the values alone, in order.
 */
const beginWith = (kept: readonly PairedMinute[], minutes: readonly PairedMinute[]): boolean => {
  if (kept.length > minutes.length) return false;
  for (let i = kept.length - 1; i >= 0; i--) {
    const [a, b] = [kept[i]!, minutes[i]!];
    if (!sameReading(a.candidate, b.candidate) || !sameReading(a.baseline, b.baseline)) return false;
  }
  return true;
};

/**
 * The tally of the settled minutes: tallyMinute folded over them in order. Every tick judges a
 * canary anew from all its minutes, so without this each tick would fold every minute again; a
 * fold is kept per canary judged lately (by its gates and minutes) and a later call whose minutes
 * begin with the same values goes on from it with the newer minutes only. A minute revised since
 * (late data) does not match, and the fold starts over. Only a cache: the tally is exactly the
 * fold of every minute (test/domain/judge/fold-cache.test.ts). The tally returned is the kept one,
 * which a later call may extend: callers read it and keep nothing of it (judgeCanary keeps numbers).
 */
export const foldMinutes = (minutes: readonly PairedMinute[], gates: GateConfig, robust: boolean): Tally => {
  const key = `${robust}:${JSON.stringify(gates)}`;
  const index = keptFolds.findIndex((k) => k.key === key && beginWith(k.minutes, minutes));
  const fold =
    index === -1 ? { key, minutes: [], tally: emptyTally(gates, robust) } : keptFolds.splice(index, 1)[0]!;
  for (const m of minutes.slice(fold.minutes.length)) {
    tallyMinute(fold.tally, m.candidate, m.baseline, gates);
    minutesFoldedCount += 1;
  }
  fold.minutes = [...minutes];
  keptFolds.unshift(fold);
  keptFolds.length = Math.min(keptFolds.length, KEPT_FOLDS);
  return fold.tally;
};

/** Forgets the kept folds (tests that compare against a fold from nothing). */
export const forgetFolds = (): void => {
  keptFolds.length = 0;
};

/**
 * Judges the canary from every settled minute since it started (all steps together), so a tick
 * needs no state of its own and judging the same data twice gives the same verdict. Minutes newer
 * than the ingestion lag are left for a later tick.
 */
export const judgeCanary = (
  readings: GateReadings,
  configGates: GateConfig,
  timing: CanaryTiming,
  now: number,
): JudgeVerdict => {
  const gates =
    timing.alphaShare === undefined
      ? configGates
      : { ...configGates, alpha: configGates.alpha * timing.alphaShare };
  const hasBreakdown = readings.candidate.minutes !== undefined;
  const until = hasBreakdown ? settledUntil(now, gates) : now;
  const minutes = pairMinutes(readings, timing, until);
  const tally = foldMinutes(minutes, gates, hasBreakdown);
  const evidence = evidenceFrom(tally, gates);
  const candidateTotals = totals(
    minutes.map((m) => m.candidate),
    hasBreakdown ? medianLatency(minutes.map((m) => m.candidate)) : readings.candidate.latencyMs,
  );
  const baselineMinutes = minutes.flatMap((m) => (m.baseline ? [m.baseline] : []));
  const baselineTotals = readings.baseline
    ? totals(baselineMinutes, hasBreakdown ? medianLatency(baselineMinutes) : readings.baseline.latencyMs)
    : null;
  const summary: GateReadings = {
    candidate: candidateTotals,
    baseline: baselineTotals,
    alarmsInAlarm: readings.alarmsInAlarm,
    windowStart: hasBreakdown ? timing.startedAt : readings.windowStart,
    windowEnd: readings.windowEnd,
    settledUntil: until,
    evidence: storable(evidence),
  };
  const words = describeEvidence(summary, gates);
  const reasons: string[] = [];
  if (readings.alarmsInAlarm.length > 0)
    reasons.push(
      `alarm in ALARM: ${readings.alarmsInAlarm.join(', ')} (not a statistical verdict: alpha does not cover alarms)`,
    );
  for (const cause of rollbackCauses(tally, gates)) reasons.push(words[cause]);
  const look = hasBreakdown ? newestUnsettledMinute(readings, timing, now, until, gates) : null;
  const failedLook = look?.fails ? look : null;
  if (failedLook) reasons.push(describeFirstLook(failedLook));
  if (reasons.length > 0) {
    return {
      status: 'rollback',
      reasons,
      readings: failedLook ? withFirstLook(summary, failedLook) : summary,
    };
  }
  switch (stepOutcome(tally, gates, timing.extensions)) {
    case 'too-few':
      return {
        status: 'insufficient',
        reasons: [
          `candidate served ${tally.candidateRequests} of the ${minimumRequests(gates)} settled requests needed to judge (3 / maxErrorRate)`,
        ],
        readings: summary,
      };
    case 'inconclusive':
      return { status: 'insufficient', reasons: [words.pass], readings: summary };
    case 'pass-inconclusive':
      return {
        status: 'healthy',
        reasons: [`inconclusive after ${timing.extensions} extensions: ${words.pass}`, words.latency],
        readings: summary,
      };
    default: {
      const errors =
        tally.candidateErrors === 0
          ? `no 5XX from the candidate in ${tally.candidateRequests.toLocaleString('en-US')} requests`
          : words.pass;
      return { status: 'healthy', reasons: [errors, words.latency], readings: summary };
    }
  }
};
