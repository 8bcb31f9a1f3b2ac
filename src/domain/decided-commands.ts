import { createHash } from 'node:crypto';
import type { Draft } from './draft';
import type { DecidedCommand, GroupState, OperatorCommand } from './model';

/** How long a group record remembers a command's requestId and outcome, and at most how many. */
export const DECIDED_COMMANDS_RETENTION_MS = 7 * 24 * 60 * 60_000;
export const KEPT_DECIDED_COMMANDS = 50;

/** The same command: same verb, deployment, reason, `full`, actor and stage. */
export const commandFingerprint = (command: OperatorCommand): string =>
  createHash('sha256')
    .update(
      JSON.stringify([
        command.verb,
        command.deploymentId,
        command.reason,
        command.full ?? false,
        command.actor,
        // only when named: the fingerprints of commands recorded before stages could be named stay
        ...(command.stage !== undefined ? [command.stage] : []),
      ]),
    )
    .digest('hex')
    .slice(0, 32);

export const decidedCommand = (state: GroupState, requestId: string): DecidedCommand | undefined =>
  state.decidedCommands?.find((c) => c.requestId === requestId);

/**
 * Records how a command was decided, in the same record (and so the same conditional save) as
 * the decision itself: a resend or a concurrent send of the same requestId finds it and changes
 * nothing. Entries older than seven days, and beyond the latest 50, are forgotten.
 */
export function recordDecidedCommand(t: Draft, command: OperatorCommand, notesBefore: number): void {
  const outcome: DecidedCommand = t.rejection
    ? {
        requestId: command.requestId,
        fingerprint: commandFingerprint(command),
        at: t.now,
        outcome: command.denied ? 'unauthorized' : 'rejected',
        reason: t.rejection,
      }
    : {
        requestId: command.requestId,
        fingerprint: commandFingerprint(command),
        at: t.now,
        outcome: 'applied',
        reason: t.notes.slice(notesBefore).join('; '),
      };
  const kept = (t.state.decidedCommands ?? []).filter((c) => t.now - c.at < DECIDED_COMMANDS_RETENTION_MS);
  t.state.decidedCommands = [...kept, outcome].slice(-KEPT_DECIDED_COMMANDS);
}
