import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LocalStack } from '../src/local/stack';
import { bundlePath } from './cold-start';
import { median, ms, round } from './common';
import { type HandlerHost, hostFunctions, separateTable } from './handler-host';
import { callbackQueue, createEndpoints, smokeTestPipeline } from './local-fixtures';

export interface CallbackBatch {
  callLatencyMs: number;
  batchMs: number;
  ratio: number;
}

export interface CallbackThroughput {
  messages: number;
  seconds: number;
  perSecond: number;
  duplicateAnswers: number;
  unanswered: number;
}

/** Answer attempts per token beyond the first, and tokens never answered. */
const answerCounts = (stack: LocalStack, tokens: string[]) => {
  const perToken = new Map<string, number>(tokens.map((t) => [t, 0]));
  for (const a of stack.cloud.pipelines.answers()) perToken.set(a.token, (perToken.get(a.token) ?? 0) + 1);
  let duplicateAnswers = 0;
  let unanswered = 0;
  for (const count of perToken.values()) {
    if (count === 0) unanswered++;
    else duplicateAnswers += count - 1;
  }
  return { duplicateAnswers, unanswered };
};

/**
 * Smoke-test CallbackSteps (claim the token, InvokeEndpoint, SendPipelineExecutionStepSuccess)
 * with 100 ms added to every SageMaker call: one message alone, then batches of 10. The consumer
 * runs from its bundle in a process of its own (requires the bundles from `buildBundles`).
 */
export const callbackBatch = async (reps = 11): Promise<CallbackBatch> => {
  const stack = await LocalStack.start();
  const table = await separateTable(stack.tableName);
  let hosts = new Map<string, HandlerHost>();
  try {
    hosts = await hostFunctions(stack, bundlePath, ['pipelineCallback'], {
      AWS_ENDPOINT_URL_DYNAMODB: table.url,
    });
    const [endpoint] = await createEndpoints(stack, 'bench-smoke', 1);
    const pipeline = smokeTestPipeline(stack, 'bench-batch', endpoint!);
    stack.cloud.faults.add({ service: 'sagemaker', operation: '*', latencyMs: 100 });
    stack.cloud.faults.add({ service: 'sagemaker-runtime', operation: '*', latencyMs: 100 });
    const timeBatch = async (size: number): Promise<number> => {
      for (let i = 0; i < size; i++) pipeline.start();
      const start = process.hrtime.bigint();
      const handled = await stack.pollQueues();
      const elapsed = ms(start);
      if (handled !== size) throw new Error(`expected a batch of ${size}, the poll handled ${handled}`);
      return elapsed;
    };
    await timeBatch(1); // warm: module load and first connections
    const single: number[] = [];
    const batch: number[] = [];
    for (let i = 0; i < reps; i++) {
      single.push(await timeBatch(1));
      batch.push(await timeBatch(10));
    }
    const failed = stack.cloud.pipelines.answers().filter((a) => a.kind !== 'success' || !a.accepted);
    if (failed.length > 0)
      throw new Error(`callback batch: ${failed.length} answers were not accepted successes`);
    const callLatencyMs = round(median(single));
    const batchMs = round(median(batch));
    return { callLatencyMs, batchMs, ratio: round(batchMs / callLatencyMs, 2) };
  } finally {
    for (const host of hosts.values()) await host.stop();
    table.stop();
    await stack.close();
  }
};

/**
 * 1,000 CallbackStep messages through the local queue and the consumer's bundle (batches of 10,
 * partial batch failures), with SQS's at-least-once delivery played out: 10 % of the messages
 * are delivered twice, and 5 % of the executions are stopped (a Stopping message follows).
 */
export const callbackThroughput = async (messages = 1000): Promise<CallbackThroughput> => {
  const stack = await LocalStack.start();
  const table = await separateTable(stack.tableName);
  let hosts = new Map<string, HandlerHost>();
  try {
    hosts = await hostFunctions(stack, bundlePath, ['pipelineCallback'], {
      AWS_ENDPOINT_URL_DYNAMODB: table.url,
    });
    const [endpoint] = await createEndpoints(stack, 'bench-throughput', 1);
    const pipeline = smokeTestPipeline(stack, 'bench-throughput', endpoint!);
    const queue = callbackQueue(stack);
    const before = new Set(stack.cloud.pipelines.tokens());
    const executions = Array.from({ length: messages }, () => pipeline.start());
    const tokens = stack.cloud.pipelines.tokens().filter((t) => !before.has(t));
    const bodies = stack.cloud.sqs.messages(queue.name).map((m) => m.body);
    const duplicates = bodies.filter((_, i) => i % 10 === 0);
    const sqs = new SQSClient({ region: 'us-east-1' });
    for (let i = 0; i < duplicates.length; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: duplicates.slice(i, i + 10).map((body, j) => ({ Id: String(j), MessageBody: body })),
        }),
      );
    }
    for (const arn of executions.filter((_, i) => i % 20 === 7)) pipeline.stop(arn);
    const delivered = stack.cloud.sqs.messages(queue.name).length;
    const start = process.hrtime.bigint();
    await stack.settle();
    const seconds = ms(start) / 1000;
    return {
      messages: delivered,
      seconds: round(seconds, 2),
      perSecond: round(delivered / seconds, 0),
      ...answerCounts(stack, tokens),
    };
  } finally {
    for (const host of hosts.values()) await host.stop();
    table.stop();
    await stack.close();
  }
};
