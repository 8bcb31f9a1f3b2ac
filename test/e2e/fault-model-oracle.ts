import { isTerminal, type Phase } from '../../src/domain/model';
import type {
  AppliedChange,
  ApprovalChange,
  ArtifactRead,
  EndpointChange,
  VariantRecord,
} from '../../src/local/cloud';

/**
 * The fault model's invariants, as pure functions of what one run recorded: the local cloud's
 * stream of applied changes (configs, endpoints, approvals), the group records the service saved
 * (with their place in that stream), the callback answers sent and the deployments at the end.
 * Each returns the violations it finds, so a test can feed it a stream with a planted bug. An
 * endpoint is its region and name (names are unique per region only); the run names where each
 * stage's endpoint is configured, and which artifacts each version needs in each region (the
 * lookups S3 and ECR answered are placed in the same stream).
 */

export interface SavedDeployment {
  id: string;
  version: number;
  phase: Phase;
  phaseSince: number;
  createdAt: number;
  reason?: string | undefined;
  /** What asked for it (a `restore` takes a stage back) and the stage it goes to. */
  trigger?: string | undefined;
  targetStage?: string | undefined;
}

/** A group record the service saved: `seq` is how many changes the local cloud had applied by then. */
export interface SavedDecision {
  seq: number;
  deployments: SavedDeployment[];
}

/** A SendPipelineExecutionStep{Success,Failure} call that reached the local cloud. */
export interface SentAnswer {
  token: string;
  kind: 'success' | 'failure';
  clientRequestToken?: string | undefined;
  accepted: boolean;
}

/** Where a stage's endpoint is: endpoint names are unique per account and region only. */
export interface StagePlace {
  stage: string;
  endpoint: string;
  /** The stage's configured region (the service's region when it names none). */
  region: string;
}

/** An artifact (image or model data) a version's model runs in a region, as the region finds it. */
export interface NeededArtifact {
  packageArn: string;
  region: string;
  /** As the local cloud records a read of it: `s3://bucket/key` or the image URI. */
  uri: string;
}

/** What `rollback.earlierStages` the group was configured with. */
export type EarlierStages = 'keep' | 'rollBack';

/**
 * What someone outside the service did that may take QA back: a rejection in the registry, or an
 * operator's `rollback --in qa` (`applied`: the control function applied it). `seq` is how many
 * changes the local cloud had applied when it was sent.
 */
export interface OperatorAct {
  seq: number;
  act: 'reject' | 'rollbackInQa';
  /** The package rejected, or the one QA served that the rollback was about. */
  packageArn: string;
  applied: boolean;
}

export interface RunRecord {
  /** The group's stages in the order a version goes through them (QA, then prod). */
  stages: StagePlace[];
  /** The group's policy for the stages that promoted a version prod rolls back. */
  earlierStages: EarlierStages;
  /** Rejections and `rollback --in qa` sent from outside the service, in order. */
  operatorActs: OperatorAct[];
  changes: readonly AppliedChange[];
  /** Every artifact lookup S3 and ECR answered, placed in `changes` by its `seq`. */
  reads: readonly ArtifactRead[];
  /** What each version needs in each region its stages are in. */
  artifacts: readonly NeededArtifact[];
  decisions: SavedDecision[];
  /** Every callback token SageMaker handed out. */
  tokens: string[];
  answers: SentAnswer[];
  /** Virtual time at the end of the run, faults stopped at `faultsEndedAt`. */
  endedAt: number;
  faultsEndedAt: number;
  /** When every deployment had ended and prod served its version alone (undefined: never). */
  settledAt: number | undefined;
}

export interface Limits {
  /** The longest a deployment may stay in non-terminal phases: its documented timeouts plus a slack. */
  deploymentMs: number;
  /** The longest a run may take to settle once faults stop. */
  settleMs: number;
}

const MINUTE = 60_000;

export const versionOf = (packageArn: string): number => Number(packageArn.split('/').at(-1));

const share = (variants: VariantRecord[], packageArn: string, weight: (v: VariantRecord) => number) => {
  const total = variants.reduce((sum, v) => sum + weight(v), 0);
  if (total <= 0) return 0;
  return variants.filter((v) => v.packageArn === packageArn).reduce((sum, v) => sum + weight(v), 0) / total;
};

/**
 * The largest share of the endpoint's traffic the package has or is about to have: as served, as
 * last asked (a weight change in progress), or on the config an update in progress moves to.
 */
export const exposure = (change: EndpointChange | undefined, packageArn: string): number => {
  if (!change) return 0;
  return Math.max(
    share(change.variants, packageArn, (v) => v.currentWeight),
    share(change.variants, packageArn, (v) => v.desiredWeight),
    change.pending ? share(change.pending.variants, packageArn, (v) => v.desiredWeight) : 0,
  );
};

const percent = (x: number) => `${Math.round(x * 1000) / 10}%`;
const at = (ms: number) => new Date(ms).toISOString().slice(11, 19);

const approvals = (run: RunRecord, packageArn?: string): ApprovalChange[] =>
  run.changes.filter(
    (c): c is ApprovalChange =>
      c.kind === 'approval' && (packageArn === undefined || c.packageArn === packageArn),
  );

type Place = Pick<StagePlace, 'endpoint' | 'region'>;
const placeKey = (p: Place) => `${p.region} ${p.endpoint}`;

/** The endpoint changes of the run, or of one endpoint in one region. */
const endpointChanges = (run: RunRecord, place?: Place): EndpointChange[] =>
  run.changes.filter(
    (c): c is EndpointChange =>
      c.kind === 'endpoint' && (place === undefined || placeKey(c) === placeKey(place)),
  );

/** Every (region, endpoint) the run changed, each checked on its own. */
const placesChanged = (run: RunRecord): Place[] => [
  ...new Map(
    endpointChanges(run).map((c) => [placeKey(c), { endpoint: c.endpoint, region: c.region }]),
  ).values(),
];

const prodOf = (run: RunRecord): StagePlace => {
  const prod = run.stages.at(-1);
  if (!prod) throw new Error('a run record names at least one stage');
  return prod;
};

const packagesOn = (changes: EndpointChange[]): Set<string> =>
  new Set(
    changes.flatMap((c) =>
      [...c.variants, ...(c.pending?.variants ?? [])].flatMap((v) => (v.packageArn ? [v.packageArn] : [])),
    ),
  );

/** The package's approval status after the first `seq` changes (undefined before it exists). */
const approvalAt = (run: RunRecord, packageArn: string, seq: number): string | undefined =>
  approvals(run, packageArn).findLast((c) => c.seq < seq)?.status;

/** The seq of the first approval of the package after `seq` (a new approval lifts what a stop or reject said). */
const approvedAnewAfter = (run: RunRecord, packageArn: string, seq: number): number =>
  approvals(run, packageArn).find((c) => c.seq > seq && c.status === 'Approved')?.seq ??
  Number.POSITIVE_INFINITY;

const packageOfVersion = (run: RunRecord, version: number): string | undefined =>
  approvals(run).find((c) => versionOf(c.packageArn) === version)?.packageArn;

const SERVING = new Set(['InService', 'Updating', 'SystemUpdating', 'RollingBack', 'UpdateRollbackFailed']);

/** An endpoint that serves never has weights summing to zero: as served, as asked, or on the config it moves to. */
export function weightsNeverZero(run: RunRecord): string[] {
  const found: string[] = [];
  for (const c of endpointChanges(run)) {
    if (!SERVING.has(c.status)) continue;
    const sums = {
      current: c.variants.reduce((s, v) => s + v.currentWeight, 0),
      desired: c.variants.reduce((s, v) => s + v.desiredWeight, 0),
      ...(c.pending ? { pending: c.pending.variants.reduce((s, v) => s + v.desiredWeight, 0) } : {}),
    };
    for (const [which, sum] of Object.entries(sums)) {
      if (sum <= 0) found.push(`${c.endpoint} ${which} weights sum to zero at ${at(c.at)} (change ${c.seq})`);
    }
  }
  return found;
}

/**
 * Once a saved decision stopped a deployment (rolling back, or ended otherwise than Succeeded),
 * its version's share of any endpoint never rises again, until the version is approved anew. The
 * stop is placed in the stream where the decision was saved; its time is the decision's own.
 */
export function stoppedNeverRises(run: RunRecord): string[] {
  const found: string[] = [];
  const stopped = new Map<string, { seq: number; since: number; version: number; phase: Phase }>();
  for (const decision of run.decisions) {
    for (const d of decision.deployments) {
      const stop = d.phase === 'RollingBack' || (isTerminal(d.phase) && d.phase !== 'Succeeded');
      if (stop && !stopped.has(d.id))
        stopped.set(d.id, { seq: decision.seq, since: d.phaseSince, version: d.version, phase: d.phase });
    }
  }
  for (const [id, stop] of stopped) {
    const packageArn = packageOfVersion(run, stop.version);
    if (!packageArn) continue;
    const until = approvedAnewAfter(run, packageArn, stop.seq);
    for (const place of placesChanged(run)) {
      const endpoint = place.endpoint;
      const changes = endpointChanges(run, place);
      let last = exposure(
        changes.findLast((c) => c.seq < stop.seq),
        packageArn,
      );
      for (const c of changes.filter((c) => c.seq >= stop.seq && c.seq < until)) {
        const now = exposure(c, packageArn);
        if (now > last + 1e-9) {
          found.push(
            `v${stop.version} rose from ${percent(last)} to ${percent(now)} on ${endpoint} at ${at(c.at)} (change ${c.seq}, ${c.status}) after ${id} was stopped (${stop.phase}) at ${at(stop.since)}`,
          );
        }
        last = now;
      }
    }
  }
  return found;
}

/**
 * Approval is tracked from the registry as it changes: no version's share of an endpoint rises
 * while its package is not Approved, and a Rejected version holds no share of prod once the group
 * has nothing in flight after the rejection (its rollback ended), until it is approved anew.
 */
export function onlyApprovedServes(run: RunRecord): string[] {
  const found: string[] = [];
  for (const place of placesChanged(run)) {
    const endpoint = place.endpoint;
    const changes = endpointChanges(run, place);
    for (const packageArn of packagesOn(changes)) {
      let last = 0;
      for (const c of changes) {
        const now = exposure(c, packageArn);
        const approval = approvalAt(run, packageArn, c.seq);
        if (now > last + 1e-9 && approval !== 'Approved') {
          found.push(
            `v${versionOf(packageArn)} rose to ${percent(now)} on ${endpoint} at ${at(c.at)} (change ${c.seq}) while ${approval ?? 'unknown'} in the registry`,
          );
        }
        last = now;
      }
    }
  }
  const prodPlace = prodOf(run);
  const prod = endpointChanges(run, prodPlace);
  for (const rejection of approvals(run)) {
    if (rejection.status !== 'Rejected') continue;
    const idle = run.decisions.find(
      (d) => d.seq >= rejection.seq && d.deployments.every((x) => isTerminal(x.phase)),
    );
    const from = idle?.seq ?? (run.settledAt !== undefined ? rejection.seq : undefined);
    if (from === undefined) continue;
    const until = approvedAnewAfter(run, rejection.packageArn, rejection.seq);
    const after = [prod.findLast((c) => c.seq < from), ...prod.filter((c) => c.seq >= from && c.seq < until)];
    for (const c of after) {
      const share = exposure(c, rejection.packageArn);
      if (c && share > 0) {
        found.push(
          `v${versionOf(rejection.packageArn)}, Rejected at ${at(rejection.at)}, holds ${percent(share)} of ${prodPlace.endpoint} at ${at(c.at)} (change ${c.seq}) after its rollback ended`,
        );
      }
    }
  }
  return found;
}

/**
 * No version is sent twice to an endpoint by CreateEndpoint/UpdateEndpoint: each accepted request
 * (an update starting on a config) is counted per endpoint (by region and name) and config, a
 * rollback to a config older than the newest one the endpoint was sent aside.
 */
export function deployedOnce(run: RunRecord): string[] {
  const counts = new Map<string, { label: string; n: number }>();
  const newestSent = new Map<string, number>();
  const previous = new Map<string, EndpointChange>();
  for (const c of endpointChanges(run)) {
    const place = placeKey(c);
    const before = previous.get(place);
    previous.set(place, c);
    if (!c.pending || before?.pending?.configName === c.pending.configName) continue;
    const newest = Math.max(
      0,
      ...c.pending.variants.map((v) => (v.packageArn ? versionOf(v.packageArn) : 0)),
    );
    if (newest < (newestSent.get(place) ?? 0)) continue;
    newestSent.set(place, newest);
    const label = `${c.endpoint} <- ${c.pending.configName} (v${newest})`;
    counts.set(`${place} ${label}`, { label, n: (counts.get(`${place} ${label}`)?.n ?? 0) + 1 });
  }
  return [...counts.values()].filter(({ n }) => n > 1).map(({ label, n }) => `${label} sent ${n} times`);
}

/**
 * Every token SageMaker handed out gets exactly one answer: at least one accepted, and at most one
 * sent (every call that reached SageMaker counts, accepted or refused; a call repeated with the same
 * ClientRequestToken is the same answer, which SageMaker takes idempotently).
 */
export function oneAnswerPerToken(run: RunRecord): string[] {
  const found: string[] = [];
  for (const token of run.tokens) {
    const sent = run.answers.filter((a) => a.token === token);
    const distinct = new Set(sent.map((a, i) => `${a.kind} ${a.clientRequestToken ?? `call ${i}`}`));
    if (distinct.size > 1)
      found.push(`token ${token.slice(0, 4)}… answered ${distinct.size} times: ${[...distinct].join(', ')}`);
    if (!sent.some((a) => a.accepted)) found.push(`token ${token.slice(0, 4)}… never answered`);
  }
  return found;
}

/**
 * No deployment stays in non-terminal phases past its documented timeouts plus a slack, and the
 * run settles (everything ended, prod on its version alone) within a bound once faults stop.
 */
export function nothingStuck(run: RunRecord, limits: Limits): string[] {
  const found: string[] = [];
  const last = new Map<string, SavedDeployment>();
  for (const decision of run.decisions) for (const d of decision.deployments) last.set(d.id, d);
  for (const d of last.values()) {
    const end = isTerminal(d.phase) ? d.phaseSince : run.endedAt;
    if (end - d.createdAt > limits.deploymentMs) {
      found.push(
        `${d.id} was in flight for ${Math.round((end - d.createdAt) / MINUTE)} min (limit ${limits.deploymentMs / MINUTE} min), ${isTerminal(d.phase) ? `ended ${d.phase}` : `still ${d.phase}`}`,
      );
    }
  }
  if (run.settledAt === undefined)
    found.push(`the run did not settle within ${limits.settleMs / MINUTE} min after faults stopped`);
  else if (run.settledAt - run.faultsEndedAt > limits.settleMs)
    found.push(
      `the run settled ${Math.round((run.settledAt - run.faultsEndedAt) / MINUTE)} min after faults stopped`,
    );
  return found;
}

/**
 * A version enters a stage only after the stage before it served it: it never holds a share of a
 * later stage's endpoint (as served, as asked, or on the config an update moves to) before the
 * earlier stage's endpoint, in its own region, was InService with the version's weight above 0.
 */
export function stagesInOrder(run: RunRecord): string[] {
  const found: string[] = [];
  run.stages.forEach((later, i) => {
    const earlier = run.stages[i - 1];
    if (!earlier) return;
    const servedEarlierAt = new Map<string, number>();
    for (const c of endpointChanges(run, earlier)) {
      if (c.status !== 'InService') continue;
      for (const v of c.variants)
        if (v.packageArn && v.currentWeight > 0 && !servedEarlierAt.has(v.packageArn))
          servedEarlierAt.set(v.packageArn, c.seq);
    }
    const reported = new Set<string>();
    for (const c of endpointChanges(run, later)) {
      for (const packageArn of packagesOn([c])) {
        const share = exposure(c, packageArn);
        if (share <= 0 || reported.has(packageArn) || (servedEarlierAt.get(packageArn) ?? Infinity) < c.seq)
          continue;
        reported.add(packageArn);
        found.push(
          `v${versionOf(packageArn)} reached ${later.stage} (${percent(share)} of ${later.endpoint} in ${later.region}) at ${at(c.at)} (change ${c.seq}, ${c.status}) before ${earlier.stage} (${earlier.endpoint} in ${earlier.region}) served it InService`,
        );
      }
    }
  });
  return found;
}

/**
 * Every change of a stage's endpoint happens in the stage's region: an endpoint the stages name
 * never appears in a region where no stage has it (reported once per such region).
 */
export function stageInItsRegion(run: RunRecord): string[] {
  const places = new Set(run.stages.map(placeKey));
  const strays = new Map<string, EndpointChange>();
  for (const c of endpointChanges(run)) {
    if (places.has(placeKey(c)) || strays.has(placeKey(c))) continue;
    if (run.stages.some((s) => s.endpoint === c.endpoint)) strays.set(placeKey(c), c);
  }
  return [...strays.values()].map((c) => {
    const stages = run.stages
      .filter((s) => s.endpoint === c.endpoint)
      .map((s) => `the ${s.stage} stage's is in ${s.region}`)
      .join(', ');
    return `${c.endpoint} changed in ${c.region} at ${at(c.at)} (change ${c.seq}, ${c.status}): ${stages}`;
  });
}

/** The artifacts the package needs in the region, as the run names them. */
const neededIn = (run: RunRecord, packageArn: string, region: string): string[] =>
  run.artifacts.filter((a) => a.packageArn === packageArn && a.region === region).map((a) => a.uri);

/**
 * Nothing reaches a stage's endpoint before its pre-flight passed: no version is on the endpoint
 * (served, asked, or on the config an update moves to) before every artifact it needs in the
 * stage's region was found there by a lookup S3 or ECR answered after the version's approval.
 * A version the run names no artifacts for in that region is reported too (it could not be checked).
 */
export function artifactsFoundFirst(run: RunRecord): string[] {
  const found: string[] = [];
  for (const stage of run.stages) {
    const reported = new Set<string>();
    for (const c of endpointChanges(run, stage)) {
      for (const packageArn of packagesOn([c])) {
        if (reported.has(packageArn)) continue;
        const approvedAt =
          approvals(run, packageArn).findLast((a) => a.seq < c.seq && a.status === 'Approved')?.seq ?? -1;
        const needs = neededIn(run, packageArn, stage.region);
        const unread = needs.filter(
          (uri) =>
            !run.reads.some(
              (r) =>
                r.found && r.uri === uri && r.region === stage.region && r.seq > approvedAt && r.seq <= c.seq,
            ),
        );
        if (needs.length > 0 && unread.length === 0) continue;
        reported.add(packageArn);
        const where = `${stage.stage} (${stage.endpoint} in ${stage.region}) at ${at(c.at)} (change ${c.seq}, ${c.status})`;
        found.push(
          needs.length === 0
            ? `v${versionOf(packageArn)} reached ${where}, and the run names no artifact it needs there`
            : `v${versionOf(packageArn)} reached ${where} before ${unread.join(', ')} was found there`,
        );
      }
    }
  }
  return found;
}

const PREFLIGHT_FAILED = 'artifact pre-flight failed';
const PREFLIGHT_REGION = /cannot be deployed in ([a-z0-9-]+):/;

/**
 * A deployment fails on its pre-flight only for an artifact that is truly missing: one its version
 * needs in the region the reason names was answered not found there (by S3 or ECR, not by an
 * injected fault) before the failure was saved. A throttled or failed lookup is retried, never
 * taken for an absence.
 */
export function missingMeansMissing(run: RunRecord): string[] {
  const found: string[] = [];
  const reported = new Set<string>();
  for (const decision of run.decisions) {
    for (const d of decision.deployments) {
      if (reported.has(d.id) || !d.reason?.includes(PREFLIGHT_FAILED)) continue;
      reported.add(d.id);
      const region = PREFLIGHT_REGION.exec(d.reason)?.[1];
      const packageArn = packageOfVersion(run, d.version);
      const needs = packageArn && region ? neededIn(run, packageArn, region) : [];
      const absent = needs.some((uri) =>
        run.reads.some((r) => !r.found && r.uri === uri && r.region === region && r.seq <= decision.seq),
      );
      if (!absent)
        found.push(
          `${d.id} ${d.phase} on its pre-flight in ${region ?? 'no region named'} though none of v${d.version}'s artifacts there was answered missing: ${d.reason}`,
        );
    }
  }
  return found;
}

/** Prod went back from a version: it served `packageArn` from `since`, and `ended` is the first InService change serving only older versions. */
export interface ProdRollback {
  packageArn: string;
  /** The first prod change on which the version held a share. */
  since: number;
  /** The last prod change on which it still held one. */
  lastHeld: number;
  /** The change that ended the rollback. */
  ended: EndpointChange;
}

const servingVersions = (c: EndpointChange): number[] =>
  c.variants.flatMap((v) => (v.packageArn && v.currentWeight > 0 ? [versionOf(v.packageArn)] : []));

/**
 * Every time prod went back from a version to older ones (a rollback, whatever its cause): the
 * version held a share of prod, and then prod was InService on older versions only. A version
 * that a newer one replaced went forward, not back.
 */
export function prodRollbacks(run: RunRecord): ProdRollback[] {
  const rollbacks: ProdRollback[] = [];
  const held = new Map<string, { since: number; lastHeld: number }>();
  for (const c of endpointChanges(run, prodOf(run))) {
    for (const packageArn of packagesOn([c])) {
      if (exposure(c, packageArn) <= 0) continue;
      const open = held.get(packageArn);
      held.set(packageArn, { since: open?.since ?? c.seq, lastHeld: c.seq });
    }
    const serving = servingVersions(c);
    if (c.status !== 'InService' || serving.length === 0) continue;
    for (const [packageArn, { since, lastHeld }] of held) {
      if (exposure(c, packageArn) > 0) continue;
      held.delete(packageArn);
      if (serving.every((v) => v < versionOf(packageArn)))
        rollbacks.push({ packageArn, since, lastHeld, ended: c });
    }
  }
  return rollbacks;
}

const qaOf = (run: RunRecord): StagePlace => {
  const qa = run.stages[0];
  if (!qa || run.stages.length < 2) throw new Error('a run record names QA and a later stage');
  return qa;
};

/** The first saved decision from `seq` on with nothing in flight: the group settled again. */
const idleAfter = (run: RunRecord, seq: number): SavedDecision | undefined =>
  run.decisions.find((d) => d.seq >= seq && d.deployments.every((x) => isTerminal(x.phase)));

/** The endpoint's changes from a saved decision on: the last one before it, and every one after. */
const fromDecision = (changes: EndpointChange[], decision: SavedDecision): EndpointChange[] => {
  const by = changes.findLast((c) => c.seq < decision.seq);
  return [...(by ? [by] : []), ...changes.filter((c) => c.seq >= decision.seq)];
};

/**
 * What a rollback in prod does to QA, which promoted the version, follows the group's
 * `rollback.earlierStages`, on what reached QA's endpoint:
 * - `rollBack`: once prod went back from a version and then nothing was in flight (the restore
 *   ended too), QA does not serve it, unless a newer version was sent to QA in between, after the
 *   version reached prod (it replaces it there, and a failed update leaves QA where it was), or
 *   the version was approved anew.
 * - `keep`: QA is never moved back to an older version than it serves, except after a rejection in
 *   the registry (from outside the service) or an applied `rollback --in qa` of the version it served.
 */
export function earlierStagesFollowPolicy(run: RunRecord): string[] {
  return run.earlierStages === 'rollBack' ? qaLeftRolledBack(run) : qaMovedBackUnasked(run);
}

const qaWords = (qa: StagePlace) => `${qa.stage} (${qa.endpoint} in ${qa.region})`;
const versionsWords = (versions: number[]) => versions.map((v) => `v${v}`).join(', ');

/** `rollBack`: the versions prod went back from that QA still serves once nothing is in flight after. */
function qaLeftRolledBack(run: RunRecord): string[] {
  const qaPlace = qaOf(run);
  const qa = endpointChanges(run, qaPlace);
  return prodRollbacks(run).flatMap((back) => {
    const version = versionOf(back.packageArn);
    // a group that never settled again is nothingStuck's business
    const idle = idleAfter(run, back.ended.seq);
    if (!idle || approvedAnewAfter(run, back.packageArn, back.since) < Number.POSITIVE_INFINITY) return [];
    const replaced = qa.some(
      (c) =>
        c.seq > back.since &&
        c.seq < idle.seq &&
        (c.pending?.variants ?? []).some((v) => v.packageArn && versionOf(v.packageArn) > version),
    );
    if (replaced) return [];
    const still = fromDecision(qa, idle).find((c) => exposure(c, back.packageArn) > 0);
    if (!still) return [];
    const prodBack = `on ${versionsWords(servingVersions(back.ended))} at ${at(back.ended.at)}, change ${back.ended.seq}`;
    return [
      `v${version}, rolled back in prod (${prodBack}), still holds ${percent(exposure(still, back.packageArn))} of ${qaWords(qaPlace)} at ${at(still.at)} (change ${still.seq}) once nothing was in flight (rollback.earlierStages: rollBack)`,
    ];
  });
}

/** `keep`: QA's updates to an older version than it serves that no one outside the service asked for. */
function qaMovedBackUnasked(run: RunRecord): string[] {
  const qaPlace = qaOf(run);
  const found: string[] = [];
  const reported = new Set<string>();
  for (const c of endpointChanges(run, qaPlace)) {
    const served = Math.max(0, ...servingVersions(c));
    const to = Math.max(
      0,
      ...(c.pending?.variants ?? []).flatMap((v) => (v.packageArn ? [versionOf(v.packageArn)] : [])),
    );
    if (!c.pending || to === 0 || to >= served) continue;
    const packageArn = c.variants.find((v) => v.packageArn && versionOf(v.packageArn) === served)?.packageArn;
    // asked for since the approval that took the version to QA
    const approvedAt = packageArn
      ? (approvals(run, packageArn).findLast((a) => a.seq < c.seq && a.status === 'Approved')?.seq ?? -1)
      : -1;
    const asked = run.operatorActs.some(
      (o) =>
        o.packageArn === packageArn &&
        o.seq > approvedAt &&
        o.seq < c.seq &&
        (o.act === 'reject' || o.applied),
    );
    const label = `v${served} -> ${c.pending.configName}`;
    if (asked || reported.has(label)) continue;
    reported.add(label);
    found.push(
      `${qaWords(qaPlace)} moved back from v${served} to v${to} at ${at(c.at)} (change ${c.seq}, ${c.status}) with no rejection of v${served} nor rollback --in ${qaPlace.stage} (rollback.earlierStages: keep)`,
    );
  }
  return found;
}

/**
 * For each rollback in prod, whether QA held the version as prod's rollback began (the case the
 * policy is about) and whether QA still held it once nothing was in flight after.
 */
export const qaOnProdRollbacks = (
  run: RunRecord,
): { version: number; qaHeld: boolean; qaHoldsWhenIdle: boolean }[] => {
  const qa = endpointChanges(run, qaOf(run));
  return prodRollbacks(run).map((back) => {
    const held = (c: EndpointChange | undefined) => exposure(c, back.packageArn) > 0;
    const idle = idleAfter(run, back.ended.seq);
    return {
      version: versionOf(back.packageArn),
      qaHeld: held(qa.findLast((c) => c.seq <= back.lastHeld)),
      qaHoldsWhenIdle: idle !== undefined && fromDecision(qa, idle).some(held),
    };
  });
};

export const INVARIANTS = {
  stageInItsRegion,
  stagesInOrder,
  weightsNeverZero,
  stoppedNeverRises,
  onlyApprovedServes,
  deployedOnce,
  oneAnswerPerToken,
  artifactsFoundFirst,
  missingMeansMissing,
  earlierStagesFollowPolicy,
} as const;

/** Every violation of every invariant in a run. */
export const violations = (run: RunRecord, limits: Limits): string[] => [
  ...Object.values(INVARIANTS).flatMap((check) => check(run)),
  ...nothingStuck(run, limits),
];
