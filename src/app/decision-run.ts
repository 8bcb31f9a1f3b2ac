import { type Decision, decideAll, emptyGroupState, type Input } from '../domain/decide';
import type { Command, GroupState } from '../domain/model';
import { ConflictError } from '../errors';
import { type Deps, groupConfig, UnknownGroupError } from './deps';
import { execute } from './execute';

/** Optimistic-concurrency retries before giving up (the event or tick is then retried). */
const MAX_CONFLICTS = 8;
/**
 * A run carries out the commands it saved itself at once; commands another run saved are left to
 * that run (which is carrying them out right now) until they are this old. Without the lease, two
 * concurrent runs on one group (a duplicated event) would both send every command, so events
 * would be published twice. A run that crashed leaves its commands to the next run after the lease.
 */
export const OUTBOX_LEASE_MS = 2 * 60_000;

/**
 * Effects that change SageMaker (endpoints and the model registry) or Application Auto Scaling:
 * only the executor carries them out (it alone holds those rights). The deciding functions leave
 * them in the outbox and ask for it.
 */
const EXECUTOR_EFFECTS: ReadonlySet<Command['type']> = new Set([
  'RetireResources',
  'ApplyScaling',
  'UpdateRegistry',
]);

export const isExecutorEffect = (command: Command): boolean => EXECUTOR_EFFECTS.has(command.type);

/** Who carries out a run's effects: a deciding function, or the executor (every effect). */
export type Runner = 'decider' | 'executor';

export interface GroupRun {
  state: GroupState;
  /** the decision, when the inputs changed anything */
  decision?: Decision | undefined;
}

/**
 * Load, decide, save with a version check, then carry out the saved effects: the one way any
 * trigger changes a group. `inputsFor` may look at the loaded state to gather observations; it runs
 * again after a conflict. Endpoints are left to the executor (`converge`).
 */
export const decideAndSave = async (
  deps: Deps,
  group: string,
  now: number,
  inputsFor: (state: GroupState) => Input[] | Promise<Input[]>,
  runner: Runner = 'decider',
): Promise<GroupRun> => {
  const config = groupConfig(deps, group);
  if (!config) throw new UnknownGroupError(`model package group ${group} is not configured`);
  let run: GroupRun | undefined;
  let own = new Set<string>();
  for (let attempt = 1; !run; attempt++) {
    const loaded = (await deps.store.loadGroup(group)) ?? emptyGroupState(group);
    const inputs = await inputsFor(loaded);
    const decision = decideAll(loaded, inputs, { group: config, now, serviceRegion: deps.region });
    for (const note of decision.notes) deps.log.info(note, { group });
    if (decision.commands.length === 0 && JSON.stringify(decision.state) === JSON.stringify(loaded)) {
      run = { state: loaded, decision: undefined };
      break;
    }
    try {
      // leases are stamped with the decision's time, never older than the record's latest decision:
      // a delayed event's old time would otherwise hand its effects to every other run at once
      const next = withOutbox(decision.state, decision.commands, Math.max(now, loaded.updatedAt));
      const saved = await deps.store.saveGroup(next);
      own = new Set(next.outbox.slice(loaded.outbox.length).map((e) => e.id));
      run = { state: saved, decision };
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= MAX_CONFLICTS) throw error;
      deps.log.debug('conflicting write; deciding again', { group, attempt });
    }
  }
  run.state = await drainOutbox(deps, run.state, now, own, runner);
  return run;
};

const withOutbox = (state: GroupState, commands: Command[], now: number): GroupState => ({
  ...state,
  outbox: [
    ...state.outbox,
    ...commands.map((command, i) => ({ id: `${state.revision + 1}.${i}`, command, at: now })),
  ],
});

/**
 * The executor takes the executor's effects at once (no decider ever runs them, so no lease guards
 * them; two executors on one group both sending one is harmless, each is idempotent).
 */
const claimable = (
  entry: GroupState['outbox'][number],
  now: number,
  own: ReadonlySet<string>,
  runner: Runner,
): boolean => {
  if (isExecutorEffect(entry.command)) return runner === 'executor';
  return own.has(entry.id) || entry.at === undefined || now - entry.at >= OUTBOX_LEASE_MS;
};

/**
 * Carries out the saved effects, at least once each and concurrently (each is idempotent and
 * keyed by its content). Transient errors leave an effect in the outbox for the next event or
 * tick; a permanent failure is logged and raised as the PermanentFailures metric (alarmed). A
 * registry reject that never lands leaves its block pending: the version stays out.
 */
export const drainOutbox = async (
  deps: Deps,
  state: GroupState,
  now: number,
  own: ReadonlySet<string> = new Set(),
  runner: Runner = 'decider',
): Promise<GroupState> => {
  if (state.outbox.length === 0) return state;
  const doneIds = new Set<string>();
  await Promise.all(
    state.outbox.map(async (entry) => {
      if (!claimable(entry, now, own, runner)) return;
      try {
        const outcome = await execute(deps, entry.command, now);
        doneIds.add(entry.id);
        if (outcome.status === 'failed') {
          deps.log.error('effect failed permanently', {
            group: state.group,
            command: entry.command.type,
            reason: outcome.reason,
          });
          deps.failures.raise(state.group);
        }
      } catch (error) {
        deps.log.warn('effect will be retried', {
          group: state.group,
          command: entry.command.type,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }),
  );
  // this run's effects that must wait (transient error): anyone may take them now
  const released = new Set(
    state.outbox.filter((e) => own.has(e.id) && !doneIds.has(e.id) && e.at !== undefined).map((e) => e.id),
  );
  if (doneIds.size === 0 && released.size === 0) return state;
  return removeDone(deps, state, doneIds, released);
};

/** Saves the outbox without the done effects (re-reading the record after a conflict). */
const removeDone = async (
  deps: Deps,
  current: GroupState,
  doneIds: Set<string>,
  released: ReadonlySet<string>,
): Promise<GroupState> => {
  let base = current;
  for (let attempt = 1; ; attempt++) {
    const next = {
      ...base,
      outbox: base.outbox
        .filter((e) => !doneIds.has(e.id))
        .map((e) => (released.has(e.id) ? { id: e.id, command: e.command } : e)),
    };
    try {
      return await deps.store.saveGroup(next);
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= MAX_CONFLICTS) throw error;
      base = (await deps.store.loadGroup(current.group)) ?? current;
    }
  }
};
