import type { LocalStack, StackRecord } from '../../src/local/stack';
import type { StateStore } from '../../src/ports/state-store';
import { deps, setDeps } from '../../src/wiring';
import { MUTATING } from './helpers';

export class Crash extends Error {}

/**
 * Makes the handler "die" right after the k-th write to AWS (SageMaker, the registry, the service
 * bus, or the table) that a handler makes once armed: every later AWS call of that invocation fails and nothing more is
 * saved, as if the Lambda had stopped there. The next invocation (the event's retry, the next event
 * or tick) runs normally. Pass `onRecord` to the stack's options, then `install` it on the stack.
 */
export interface CrashSwitch {
  onRecord(record: StackRecord): void;
  /** Wraps the stack's call records and the state store (call after the stack started). */
  install(stack: LocalStack): void;
  /** From now on, crash after the k-th write (0: never). */
  arm(k: number): void;
  writes(): number;
  crashes(): number;
}

export const crashSwitch = (): CrashSwitch => {
  let counting = false;
  let crashAt = 0;
  let writes = 0;
  let crashed = false;
  let crashes = 0;
  /** a handler is running: only its writes count (the test's own calls never crash) */
  let running = 0;
  let stack: LocalStack | undefined;
  let revive: (() => void) | undefined;
  const wrote = () => {
    if (!counting || crashed || running === 0) return;
    writes++;
    if (writes === crashAt) {
      crashed = true;
      crashes++;
      revive = stack?.cloud.faults.add({ operation: '*', error: 'InternalFailure' });
    }
  };
  const guard =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>, isWrite: boolean) =>
    async (...args: A): Promise<R> => {
      if (crashed) throw new Crash('crashed');
      const result = await fn(...args);
      if (isWrite) wrote();
      return result;
    };
  return {
    onRecord(record) {
      if (record.kind === 'invoke') running++;
      if (record.kind === 'result') running = Math.max(0, running - 1);
      if (record.kind === 'result' && crashed) {
        crashed = false;
        revive?.();
        revive = undefined;
      }
    },
    install(target) {
      stack = target;
      const calls = target.cloud.calls;
      const push = calls.push.bind(calls);
      calls.push = (...records) => {
        for (const c of records) {
          const isWrite =
            MUTATING.has(c.operation) || (c.service === 'events' && c.operation === 'PutEvents');
          if (!c.error && isWrite) wrote();
        }
        return push(...records);
      };
      const real = deps();
      const s = real.store;
      const store: StateStore = {
        loadGroup: guard(s.loadGroup.bind(s), false),
        saveGroup: guard(s.saveGroup.bind(s), true),
        listActiveGroups: guard(s.listActiveGroups.bind(s), false),
        listGroups: guard(s.listGroups.bind(s), false),
        appendHistory: guard(s.appendHistory.bind(s), true),
        history: s.history.bind(s),
        getCallback: guard(s.getCallback.bind(s), false),
        putCallbackIfAbsent: guard(s.putCallbackIfAbsent.bind(s), true),
        decideCallbackAnswer: guard(s.decideCallbackAnswer.bind(s), true),
        markCallbackReported: guard(s.markCallbackReported.bind(s), true),
        // a hint for `status`, apart from the group record: a crash after it changes no decision
        noteExecutorError: guard(s.noteExecutorError.bind(s), false),
        clearExecutorError: guard(s.clearExecutorError.bind(s), false),
      };
      setDeps({ ...real, store });
    },
    arm(k) {
      counting = true;
      crashAt = k;
      writes = 0;
    },
    writes: () => writes,
    crashes: () => crashes,
  };
};
