import { type Decision, decideAll, emptyGroupState, type Input } from '../domain/decide';
import { type Command, type GroupState, isTerminal, PROD_PHASES } from '../domain/model';
import { ConflictError } from '../errors';
import { type Deps, groupConfig, UnknownGroupError } from './deps';
import { execute } from './execute';
import { smokeTest } from './observe';

/** Optimistic-concurrency retries before giving up (the event or tick is then retried). */
const MAX_CONFLICTS = 8;
/** Rounds of "carry out, feed failures back" per run; each round strictly shrinks the work. */
const MAX_DRAIN_ROUNDS = 4;
/**
 * A run carries out the commands it saved itself at once; commands another run saved are left to
 * that run (which is carrying them out right now) until they are this old. Without the lease, two
 * concurrent runs on one group (a duplicated event) would both send every command, so events
 * would be published twice. A run that crashed leaves its commands to the next run after the lease.
 */
export const OUTBOX_LEASE_MS = 2 * 60_000;

export interface GroupRun {
  state: GroupState;
  /** the decision, when the inputs changed anything */
  decision?: Decision | undefined;
}

/**
 * Load, decide, save with a version check, then act: the one way any trigger changes a group.
 * `inputsFor` may look at the loaded state to gather observations; it runs again after a conflict.
 */
export const runGroup = async (
  deps: Deps,
  group: string,
  now: number,
  inputsFor: (state: GroupState) => Input[] | Promise<Input[]>,
): Promise<GroupRun> => {
  const config = groupConfig(deps, group);
  if (!config) throw new UnknownGroupError(`model package group ${group} is not configured`);
  let run: GroupRun | undefined;
  let own = new Set<string>();
  for (let attempt = 1; !run; attempt++) {
    const loaded = (await deps.store.loadGroup(group)) ?? emptyGroupState(group);
    const inputs = await inputsFor(loaded);
    const decision = decideAll(loaded, inputs, { group: config, now });
    for (const note of decision.notes) deps.log.info(note, { group });
    if (decision.commands.length === 0 && JSON.stringify(decision.state) === JSON.stringify(loaded)) {
      run = { state: loaded, decision: undefined };
      break;
    }
    try {
      const next = withOutbox(decision.state, decision.commands, now);
      const saved = await deps.store.saveGroup(next);
      own = new Set(next.outbox.slice(loaded.outbox.length).map((e) => e.id));
      run = { state: saved, decision };
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= MAX_CONFLICTS) throw error;
      deps.log.debug('conflicting write; deciding again', { group, attempt });
    }
  }
  run.state = await drainOutbox(deps, run.state, now, own);
  return followUps(deps, run, now);
};

const withOutbox = (state: GroupState, commands: Command[], now: number): GroupState => ({
  ...state,
  outbox: [
    ...state.outbox,
    ...commands.map((command, i) => ({ id: `${state.revision + 1}.${i}`, command, at: now })),
  ],
});

const claimable = (entry: GroupState['outbox'][number], now: number, own: ReadonlySet<string>): boolean =>
  own.has(entry.id) || entry.at === undefined || now - entry.at >= OUTBOX_LEASE_MS;

/** Work that needs a fresh observation right after a decision: smoke tests of a QA endpoint now InService. */
const followUps = async (deps: Deps, run: GroupRun, now: number): Promise<GroupRun> => {
  const verifying = run.state.deployments.filter((d) => d.phase === 'QaVerifying');
  if (verifying.length === 0) return run;
  const results = await Promise.all(
    verifying.map(async (d) => ({ d, result: await smokeTest(deps, d.group, 'qa') })),
  );
  const next = await runGroup(deps, run.state.group, now, () =>
    results.map(({ d, result }) => ({
      type: 'SmokeTested' as const,
      deploymentId: d.id,
      ok: result.ok,
      detail: result.detail,
    })),
  );
  return { state: next.state, decision: next.decision ?? run.decision };
};

const endpointKey = (command: Command): string | undefined =>
  command.type === 'DeployEndpoint' || command.type === 'SetWeights'
    ? `${command.stage}/${command.endpointName}`
    : undefined;

/**
 * Carries out the saved commands, at least once each. Commands on one endpoint run in order and
 * stop at the first that must wait (the endpoint is busy); the rest run concurrently. Transient
 * errors leave a command in the outbox for the next event or tick.
 */
export const drainOutbox = async (
  deps: Deps,
  initial: GroupState,
  now: number,
  own: ReadonlySet<string> = new Set(),
): Promise<GroupState> => {
  let state = initial;
  const mine = new Set(own);
  for (let round = 0; round < MAX_DRAIN_ROUNDS && state.outbox.length > 0; round++) {
    const doneIds = new Set<string>();
    const failures: Input[] = [];
    const byEndpoint = new Map<string, typeof state.outbox>();
    const others: typeof state.outbox = [];
    for (const entry of state.outbox) {
      const key = endpointKey(entry.command);
      if (key) byEndpoint.set(key, [...(byEndpoint.get(key) ?? []), entry]);
      else others.push(entry);
    }
    const attempt = async (entry: (typeof state.outbox)[number]): Promise<boolean> => {
      if (!claimable(entry, now, mine)) return false;
      try {
        const outcome = await execute(deps, entry.command, now);
        if (outcome.status === 'wait') {
          deps.log.info('waiting', { group: state.group, command: entry.command.type, why: outcome.why });
          return false;
        }
        doneIds.add(entry.id);
        if (outcome.status === 'failed') {
          deps.log.error('command failed permanently', {
            group: state.group,
            command: entry.command.type,
            reason: outcome.reason,
          });
          const deploymentId = deploymentFor(state, entry.command);
          if (deploymentId) {
            failures.push({
              type: 'CommandFailed',
              deploymentId,
              command: entry.command.type,
              reason: outcome.reason,
            });
          }
        }
        return true;
      } catch (error) {
        deps.log.warn('command will be retried', {
          group: state.group,
          command: entry.command.type,
          error: error instanceof Error ? error.message : String(error),
        });
        return false;
      }
    };
    await Promise.all([
      ...[...byEndpoint.values()].map(async (entries) => {
        for (const entry of entries) if (!(await attempt(entry))) return;
      }),
      ...others.map(attempt),
    ]);
    // this run's commands that must wait (busy endpoint, transient error): anyone may take them now
    const released = new Set(
      state.outbox.filter((e) => mine.has(e.id) && !doneIds.has(e.id) && e.at !== undefined).map((e) => e.id),
    );
    if (doneIds.size === 0 && released.size === 0) return state;
    state = await removeDone(deps, state, doneIds, failures, now, released);
    // what the fed-back failures decided (saved as this revision) is this run's own work
    if (failures.length > 0) {
      for (const e of state.outbox) if (e.id.startsWith(`${state.revision}.`)) mine.add(e.id);
    }
    if (failures.length === 0) return state;
  }
  return state;
};

const deploymentFor = (state: GroupState, command: Command): string | undefined => {
  if (command.type === 'DeployEndpoint') return command.deploymentId;
  if (command.type === 'SetWeights') {
    return state.deployments.find((d) => !isTerminal(d.phase) && PROD_PHASES.has(d.phase) && d.canary)?.id;
  }
  return undefined;
};

/** Saves the outbox without the done commands, feeding permanent failures back to the domain. */
const removeDone = async (
  deps: Deps,
  current: GroupState,
  doneIds: Set<string>,
  failures: Input[],
  now: number,
  released: ReadonlySet<string> = new Set(),
): Promise<GroupState> => {
  const config = groupConfig(deps, current.group)!;
  let base = current;
  for (let attempt = 1; ; attempt++) {
    const remaining = {
      ...base,
      outbox: base.outbox
        .filter((e) => !doneIds.has(e.id))
        .map((e) => (released.has(e.id) ? { id: e.id, command: e.command } : e)),
    };
    const next =
      failures.length > 0
        ? (() => {
            const decision = decideAll(remaining, failures, { group: config, now });
            return withOutbox(decision.state, decision.commands, now);
          })()
        : remaining;
    try {
      return await deps.store.saveGroup(next);
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= MAX_CONFLICTS) throw error;
      base = (await deps.store.loadGroup(current.group)) ?? current;
    }
  }
};
