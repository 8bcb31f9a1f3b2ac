export { sameTrafficSplit, trafficShares } from './traffic-split';
export {
  ALPHA_SHARE,
  type CanaryTiming,
  emptyTally,
  evidenceFrom,
  type FirstLook,
  firstLook,
  firstLookGrossRate,
  type JudgeVerdict,
  judgeCanary,
  minimumRequests,
  phaseAlphaShare,
  type RollbackCause,
  rollbackCauses,
  SHADOW_ALPHA_SHARE,
  settledUntil,
  stepOutcome,
  type Tally,
  tallyMinute,
} from './verdict';
export { describeEvidence, describeFirstLook, odds } from './words';
