import type { MinuteCounts } from '../../src/domain/judge/sequential';
import {
  binomial,
  mulberry32,
  poisson,
  sampleQuantileLogNormal,
  type Uniform,
} from '../../src/local/cloud/samplers';
import { diurnal, type Provisional, provisionalView, type TrafficModel, variantErrors } from './traffic';

/** One cell of the benchmark: the traffic and how the candidate behaves. */
export interface Cell {
  rpm: number;
  baselineErrorRate: number;
  /** candidate 5XX rate = baselineErrorRate x this */
  errorFactor: number;
  /** candidate latency = baseline latency x this */
  latencyFactor: number;
  /** how 5XX arise (see TRAFFIC_MODELS); `incidents` is the shared bursts */
  traffic: TrafficModel;
}

/** One complete minute of both variants, as CloudWatch reports it once settled. */
export interface SimMinute {
  /** minute index since the canary started */
  t: number;
  weight: number;
  candidateRequests: number;
  candidateErrors: number;
  baselineRequests: number;
  baselineErrors: number;
  /** p99 ModelLatency in ms; null without requests */
  candidateP99: number | null;
  baselineP99: number | null;
  /** the part of the minute CloudWatch shows at the first tick after it ends (ingestion lag) */
  firstLook: MinuteCounts;
  /** a minute late or revised after the settle lag: what its settled view shows before then */
  provisional?: Provisional;
}

/** What a judge sees at a tick: every complete minute so far and where the canary stands. */
export interface TickView {
  /** ticks run at the end of minute `now - 1`: minutes 0..now-1 are complete */
  now: number;
  minutes: SimMinute[];
  stepIndex: number;
  stepStartedAt: number;
  /** minute at which the current bake ends (extensions move it) */
  bakeUntil: number;
  extensions: number;
}

/** `give-up`: rolled back without a statistical verdict (no data after the extensions), counted apart. */
export type TickDecision = 'rollback' | 'give-up' | 'pass' | 'extend' | 'wait';

export interface BenchJudge {
  name: string;
  /** fresh per rollout (judges may keep running totals between ticks) */
  start(): (view: TickView) => TickDecision;
}

export const PLAN = { weights: [10, 25, 50], bakeMinutes: 10 } as const;
/** Excess errors are counted up to here: a regression promoted at minute T serves 100 % until then. */
export const HORIZON_MINUTES = 120;
export const LATENCY_MEDIAN_MS = 50;
export const LATENCY_SIGMA = 0.4;
/**
 * Ingestion lag as the local cloud models it (src/local/cloud/traffic.ts): a share of each minute's
 * requests, drawn once per minute for all variants, is visible when the minute ends; the rest 1-3
 * minutes later. Which requests arrive early does not depend on the variant or the outcome.
 */
export const ON_TIME = { min: 0.3, max: 0.8 } as const;
/** Shared incidents: a burst starts in a minute with this probability and lasts 1-3 minutes. */
export const BURST = { startProbability: 1 / 40, errorMultiplier: 10, latencyMultiplier: 1.5 } as const;
export const MAX_CANARY_MINUTES = 100;
/** The settle lag the `late-revised` model delays and revises minutes beyond (the default ingestion lag). */
const SETTLE_LAG = 3;

export interface RolloutResult {
  rolledBack: boolean;
  /** rolled back for want of data, not on evidence (a `give-up`) */
  gaveUp: boolean;
  /** minutes from the canary's start to the rollback, or to the promotion */
  minutes: number;
  /** expected 5XX served by the candidate above the baseline's rate, to the horizon */
  excessErrors: number;
}

const p99 = (u: Uniform, n: number, median: number): number | null =>
  n > 0 ? sampleQuantileLogNormal(u, n, median, LATENCY_SIGMA, 0.99) : null;

/**
 * Each request is visible early with the minute's on-time probability f, independently of its
 * variant and outcome: early 5XX ~ Binomial(errors, f), early others ~ Binomial(requests - errors, f).
 */
const visibleAtFirstLook = (u: Uniform, nc: number, ec: number, nb: number, eb: number): MinuteCounts => {
  const f = ON_TIME.min + (ON_TIME.max - ON_TIME.min) * u();
  const candidateErrors = binomial(u, ec, f);
  const baselineErrors = binomial(u, eb, f);
  return {
    candidateRequests: candidateErrors + binomial(u, nc - ec, f),
    candidateErrors,
    baselineRequests: baselineErrors + binomial(u, nb - eb, f),
    baselineErrors,
  };
};

/** Runs one canary: 10/25/50 % steps, a tick every minute, until rollback, promotion or the cap. */
export const runRollout = (cell: Cell, judge: BenchJudge, seed: number): RolloutResult => {
  const u = mulberry32(seed);
  // a stream of its own, so the lag leaves the traffic of a seed as it was
  const lag = mulberry32(seed ^ 0x5bd1e995);
  const decide = judge.start();
  const candidateRate = Math.min(1, cell.baselineErrorRate * cell.errorFactor);
  const minutes: SimMinute[] = [];
  let stepIndex = 0;
  let stepStartedAt = 0;
  let bakeUntil = PLAN.bakeMinutes;
  let extensions = 0;
  let burstLeft = 0;
  let excess = 0;
  for (let t = 0; t < MAX_CANARY_MINUTES; t++) {
    const weight = PLAN.weights[stepIndex]! / 100;
    const incidents = cell.traffic === 'incidents';
    if (incidents && burstLeft === 0 && u() < BURST.startProbability) burstLeft = 1 + Math.floor(u() * 3);
    const burst = burstLeft > 0;
    if (burstLeft > 0) burstLeft -= 1;
    const ramp = cell.traffic === 'diurnal' ? diurnal(t) : { traffic: 1, rate: 1 };
    const errorMultiplier = (burst ? BURST.errorMultiplier : 1) * ramp.rate;
    const latency = LATENCY_MEDIAN_MS * (burst ? BURST.latencyMultiplier : 1);
    const nc = poisson(u, cell.rpm * ramp.traffic * weight);
    const nb = poisson(u, cell.rpm * ramp.traffic * (1 - weight));
    const rc = Math.min(1, candidateRate * errorMultiplier);
    const rb = Math.min(1, cell.baselineErrorRate * errorMultiplier);
    const ec = variantErrors(u, cell.traffic, nc, rc, true);
    const eb = variantErrors(u, cell.traffic, nb, rb, false);
    const counts = { candidateRequests: nc, candidateErrors: ec, baselineRequests: nb, baselineErrors: eb };
    minutes.push({
      t,
      weight,
      ...counts,
      candidateP99: p99(u, nc, latency * cell.latencyFactor),
      baselineP99: p99(u, nb, latency),
      firstLook: visibleAtFirstLook(lag, nc, ec, nb, eb),
      provisional: cell.traffic === 'late-revised' ? provisionalView(lag, t, SETTLE_LAG, counts) : undefined,
    });
    excess += nc * (rc - rb);
    const decision = decide({ now: t + 1, minutes, stepIndex, stepStartedAt, bakeUntil, extensions });
    if (decision === 'rollback' || decision === 'give-up')
      return { rolledBack: true, gaveUp: decision === 'give-up', minutes: t + 1, excessErrors: excess };
    if (decision === 'extend') {
      extensions += 1;
      bakeUntil = t + 1 + PLAN.bakeMinutes;
    } else if (decision === 'pass') {
      if (stepIndex + 1 >= PLAN.weights.length) {
        const promotedAt = t + 1;
        const rest = Math.max(0, HORIZON_MINUTES - promotedAt);
        return {
          rolledBack: false,
          gaveUp: false,
          minutes: promotedAt,
          excessErrors: excess + rest * cell.rpm * (candidateRate - cell.baselineErrorRate),
        };
      }
      stepIndex += 1;
      stepStartedAt = t + 1;
      bakeUntil = t + 1 + PLAN.bakeMinutes;
      extensions = 0;
    }
  }
  // never decided: counted as held (neither rolled back nor promoted) up to the cap
  return { rolledBack: false, gaveUp: false, minutes: MAX_CANARY_MINUTES, excessErrors: excess };
};
