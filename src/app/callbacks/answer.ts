import { clientRequestToken } from '../../adapters/sagemaker-pipelines';
import type { Command } from '../../domain/model';
import { PermanentError } from '../../errors';
import type { Deps } from '../deps';

export type AnswerCommand = Extract<Command, { type: 'AnswerCallback' }>;

/** SageMaker's limit on FailureReason. */
export const MAX_FAILURE_REASON = 256;

/**
 * Exactly one answer per token: the answer is fixed in the table first (a conditional write, so
 * a racing or redelivered path gets the one that stands), then sent with a ClientRequestToken
 * derived from token and outcome, so resending after a crash cannot answer twice.
 */
export const answerCallback = async (deps: Deps, command: AnswerCommand, now: number): Promise<void> => {
  const wanted = {
    outcome: command.outcome,
    outputs: command.outputs,
    reason: command.reason?.slice(0, MAX_FAILURE_REASON),
    decidedAt: now,
  };
  const stands = await deps.store.decideCallbackAnswer(command.token, wanted);
  // Only an answer fixed earlier can have been reported already: the record is read on that path
  // alone, so the first answer for a token costs one table write before it is sent.
  if (stands !== wanted) {
    const record = await deps.store.getCallback(command.token);
    if (record?.reportedAt !== undefined) {
      deps.log.info('callback already answered', { token: command.token, outcome: stands.outcome });
      return;
    }
  }
  if (stands.outcome !== wanted.outcome) {
    deps.log.warn('callback already answered differently; keeping the first answer', {
      token: command.token,
      answered: stands.outcome,
      wanted: wanted.outcome,
    });
  }
  let outcome = stands.outcome;
  let reason = stands.reason;
  let result: Awaited<ReturnType<typeof deps.pipelines.sendFailure>>;
  if (stands.outcome === 'success') {
    try {
      result = await deps.pipelines.sendSuccess(
        command.token,
        stands.outputs ?? {},
        clientRequestToken(command.token, 'success'),
      );
    } catch (error) {
      if (!(error instanceof PermanentError)) throw error;
      // SageMaker refuses this success for good (e.g. its output parameters): the step must still
      // get its one answer, so it gets a failure saying why
      outcome = 'failure';
      reason = `the success answer was refused: ${error.message}`.slice(0, MAX_FAILURE_REASON);
      deps.log.error('callback success refused; answering failure', { token: command.token, reason });
      result = await deps.pipelines.sendFailure(
        command.token,
        reason,
        clientRequestToken(command.token, 'failure'),
      );
    }
  } else {
    result = await deps.pipelines.sendFailure(
      command.token,
      stands.reason ?? 'failed',
      clientRequestToken(command.token, 'failure'),
    );
  }
  deps.log.info('callback answered', { token: command.token, outcome, result });
  // published before the record says "reported": a throttled PutEvents retries the whole answer
  // (the answer itself cannot be sent twice), instead of losing the event for good
  await deps.events.publish([
    {
      type: 'Callback Reported',
      at: now,
      detail: {
        token: command.token,
        pipelineExecutionArn: command.pipelineExecutionArn,
        outcome,
        reason,
        outputs: stands.outputs,
        alreadyAnswered: result === 'already-answered',
      },
    },
  ]);
  await deps.store.markCallbackReported(command.token, now);
};
