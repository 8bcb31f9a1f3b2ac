import { authorizeCommand } from '../domain/authorization';
import { commandFingerprint, decidedCommand } from '../domain/decided-commands';
import type { DecidedCommand, OperatorCommand } from '../domain/model';
import { parseDeploymentId } from '../domain/naming';
import { ServiceFaultError } from '../errors';
import { type Deps, groupConfig } from './deps';
import { runGroup } from './group-runner';
import type { UseCaseOutcome } from './model-package-changed';

export interface CommandOutcome {
  /** `reused`: the requestId was already used for another command */
  outcome: UseCaseOutcome['outcome'] | 'unauthorized' | 'unknown' | 'reused';
  reason: string;
}

/**
 * Flow 6: promote, pause, resume, abort, rollback, retry; every command is recorded or refused
 * with a reason, once per requestId: a resend gets the first outcome back and changes nothing.
 */
export const onOperatorCommand = async (
  deps: Deps,
  command: OperatorCommand,
  now: number,
): Promise<CommandOutcome> => {
  const id = parseDeploymentId(command.deploymentId);
  const state = id && groupConfig(deps, id.group) ? await deps.store.loadGroup(id.group) : undefined;
  if (!id || !state?.deployments.some((d) => d.id === command.deploymentId)) {
    // nothing to record it against, and nobody to tell: publishing it would let any caller spam
    // the chat channel with ids of its own making
    const reason = `unknown deployment ${command.deploymentId}`;
    deps.log.warn('command for an unknown deployment', { ...describe(command), reason });
    return { outcome: 'unknown', reason };
  }
  const earlier = decidedCommand(state, command.requestId);
  if (earlier) return answer(deps, command, earlier, true);
  const verdict = authorizeCommand(groupConfig(deps, id.group)?.authorization, command.verb, command.actor);
  const checked = verdict.allowed ? command : { ...command, denied: verdict.reason };
  const run = await runGroup(deps, id.group, now, async (current) => {
    const deployment = current.deployments.find((d) => d.id === command.deploymentId);
    const pkg =
      command.verb === 'retry' && deployment && verdict.allowed && !decidedCommand(current, command.requestId)
        ? await deps.registry.describePackage(deployment.packageArn)
        : undefined;
    return [{ type: 'Operator', command: checked, pkg }];
  });
  // decided by this run, or by a concurrent send of the same requestId that saved first
  const decided = decidedCommand(run.state, command.requestId);
  if (!decided) {
    throw new ServiceFaultError(
      `command ${command.requestId} was decided but its outcome is not in the group record`,
    );
  }
  return answer(deps, command, decided, run.decision === undefined);
};

const describe = (command: OperatorCommand) => ({
  command: command.verb,
  deploymentId: command.deploymentId,
  actor: command.actor,
  requestId: command.requestId,
});

/** The outcome recorded for this requestId, if it is this very command. */
const answer = (
  deps: Deps,
  command: OperatorCommand,
  decided: DecidedCommand,
  resent: boolean,
): CommandOutcome => {
  if (decided.fingerprint !== commandFingerprint(command)) {
    const reason = `requestId ${command.requestId} was already used for another command (${decided.outcome} at ${new Date(decided.at).toISOString()}): send a new command with a new requestId`;
    deps.log.warn('command refused: requestId reused', { ...describe(command), reason });
    return { outcome: 'reused', reason };
  }
  const outcome = { outcome: decided.outcome, reason: decided.reason };
  // a refusal was already published and recorded in the deployment's history by the domain
  if (resent)
    deps.log.info('command sent again: the first outcome stands', { ...describe(command), ...outcome });
  else if (decided.outcome === 'applied')
    deps.log.info('command applied', { ...describe(command), result: decided.reason });
  else deps.log.warn('command rejected', { ...describe(command), reason: decided.reason });
  return outcome;
};
