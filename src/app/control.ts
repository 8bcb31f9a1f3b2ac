import type { OperatorCommand } from '../domain/model';
import { parseDeploymentId } from '../domain/naming';
import { type Deps, groupConfig } from './deps';
import { runGroup } from './group-runner';
import type { UseCaseOutcome } from './model-package-changed';

/** Flow 6: promote, pause, resume, abort, rollback, retry; every command is recorded or refused with a reason. */
export const onOperatorCommand = async (
  deps: Deps,
  command: OperatorCommand,
  now: number,
): Promise<UseCaseOutcome> => {
  const id = parseDeploymentId(command.deploymentId);
  if (!id || !groupConfig(deps, id.group)) {
    const reason = `unknown deployment ${command.deploymentId}`;
    await deps.events.publish([
      {
        type: 'Command Rejected',
        deploymentId: command.deploymentId,
        at: now,
        detail: { command: command.verb, reason, requestId: command.requestId, actor: command.actor },
      },
    ]);
    return { outcome: 'rejected', reason };
  }
  const run = await runGroup(deps, id.group, now, async (state) => {
    const deployment = state.deployments.find((d) => d.id === command.deploymentId);
    const pkg =
      command.verb === 'retry' && deployment
        ? await deps.registry.describePackage(deployment.packageArn)
        : undefined;
    return [{ type: 'Operator', command, pkg }];
  });
  const rejection = run.decision?.rejection;
  if (rejection) return { outcome: 'rejected', reason: rejection };
  return { outcome: 'applied', reason: run.decision?.notes.join('; ') ?? '' };
};
