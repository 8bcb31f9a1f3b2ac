export { sameTrafficSplit, trafficShares } from './traffic-split';
export {
  ALPHA_SHARE,
  type CanaryTiming,
  emptyTally,
  evidenceFrom,
  type JudgeVerdict,
  judgeCanary,
  minimumRequests,
  type RollbackCause,
  rollbackCauses,
  settledUntil,
  stepOutcome,
  type Tally,
  tallyMinute,
} from './verdict';
export { describeEvidence, odds } from './words';
