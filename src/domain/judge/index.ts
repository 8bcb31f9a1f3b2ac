export { sameTrafficSplit, trafficShares } from './traffic-split';
export {
  ALPHA_SHARE,
  type CanaryTiming,
  emptyTally,
  evidenceFrom,
  type FirstLook,
  firstLook,
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
export { describeEvidence, describeFirstLook, odds } from './words';
