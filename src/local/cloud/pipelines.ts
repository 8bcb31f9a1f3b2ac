import { type Core, emitSageMakerEvent } from './context';
import {
  ACCOUNT_ID,
  ApiError,
  epochSeconds,
  isoSeconds,
  type RequestContext,
  requireString,
  validation,
} from './protocol';
import type { Sqs } from './sqs';

type Json = Record<string, unknown>;

export interface PipelineSpec {
  name: string;
  callbackQueueUrl: string;
  /** The callback step's arguments; `{ Get: 'Parameters.X' }` values are resolved from the execution's parameters. */
  callbackArguments?: Record<string, unknown>;
  stepName?: string;
  parameters?: Record<string, string>;
}

type ExecutionStatus = 'Executing' | 'Stopping' | 'Stopped' | 'Failed' | 'Succeeded';

interface Execution {
  arn: string;
  pipeline: PipelineSpec & { arn: string; region: string };
  displayName: string;
  status: ExecutionStatus;
  stepStatus: ExecutionStatus;
  token: string;
  arguments: Record<string, unknown>;
  creationTime: number;
  lastModifiedTime: number;
  stepEndTime?: number;
  failureReason?: string;
  outputParameters?: Array<{ Name: string; Value: string }>;
  answer?: { kind: 'success' | 'failure'; clientRequestToken?: string };
  clientRequestToken?: string;
}

export interface CallbackAnswer {
  token: string;
  kind: 'success' | 'failure';
  at: number;
  accepted: boolean;
  clientRequestToken?: string;
  outputParameters?: Array<{ Name: string; Value: string }>;
  failureReason?: string;
  error?: string;
}

const TOKEN = /^[a-zA-Z0-9]{10}$/;

export class Pipelines {
  private readonly pipelines = new Map<string, PipelineSpec & { arn: string; region: string }>();
  private readonly executions = new Map<string, Execution>();
  private readonly byToken = new Map<string, Execution>();
  private readonly answerLog: CallbackAnswer[] = [];

  constructor(
    private readonly core: Core,
    private readonly sqs: Sqs,
  ) {}

  define(spec: PipelineSpec, region = this.core.defaultRegion): string {
    const arn = `arn:aws:sagemaker:${region}:${ACCOUNT_ID}:pipeline/${spec.name.toLowerCase()}`;
    this.pipelines.set(spec.name, { ...structuredClone(spec), arn, region });
    return arn;
  }

  /** Every answer attempt for a token (or all tokens), accepted or rejected, in order. */
  answers(token?: string): CallbackAnswer[] {
    return this.answerLog.filter((a) => token === undefined || a.token === token);
  }

  /** Tokens of every execution started, in order. */
  tokens(): string[] {
    return [...this.executions.values()].map((e) => e.token);
  }

  operations(): Record<string, (input: Json, ctx: RequestContext) => unknown> {
    return {
      CreatePipeline: (i, c) => this.createPipeline(i, c),
      StartPipelineExecution: (i) => this.start(i),
      StopPipelineExecution: (i) => this.stop(i),
      DescribePipelineExecution: (i) =>
        this.describe(this.requireExecution(requireString(i, 'PipelineExecutionArn'))),
      ListPipelineExecutionSteps: (i) =>
        this.listSteps(this.requireExecution(requireString(i, 'PipelineExecutionArn'))),
      SendPipelineExecutionStepSuccess: (i) => this.answer(i, 'success'),
      SendPipelineExecutionStepFailure: (i) => this.answer(i, 'failure'),
    };
  }

  private createPipeline(input: Json, ctx: RequestContext): unknown {
    const name = requireString(input, 'PipelineName');
    const definition = JSON.parse(requireString(input, 'PipelineDefinition')) as {
      Steps?: Array<{
        Name?: string;
        Type?: string;
        Arguments?: Record<string, unknown>;
        SqsQueueUrl?: string;
      }>;
      Parameters?: Array<{ Name: string; DefaultValue?: unknown }>;
    };
    const callback = (definition.Steps ?? []).find((s) => s.Type === 'Callback');
    if (!callback?.SqsQueueUrl) {
      throw validation('The local cloud runs pipelines made of one Callback step with an SqsQueueUrl.');
    }
    if (this.pipelines.has(name))
      throw validation(
        `Pipeline names must be unique within an AWS account and region. Pipeline with name (${name}) already exists.`,
      );
    const parameters = Object.fromEntries(
      (definition.Parameters ?? [])
        .filter((p) => p.DefaultValue !== undefined)
        .map((p) => [p.Name, String(p.DefaultValue)]),
    );
    const arn = this.define(
      {
        name,
        callbackQueueUrl: callback.SqsQueueUrl,
        callbackArguments: callback.Arguments ?? {},
        stepName: callback.Name ?? 'Callback',
        parameters,
      },
      ctx.region,
    );
    return { PipelineArn: arn };
  }

  private start(input: Json): unknown {
    const name = requireString(input, 'PipelineName');
    const pipeline = this.pipelines.get(name.includes(':pipeline/') ? name.split('/').pop()! : name);
    if (!pipeline) throw new ApiError('ResourceNotFound', `Pipeline '${name}' does not exist.`);
    const crt = typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : undefined;
    if (crt) {
      const previous = [...this.executions.values()].find(
        (e) => e.clientRequestToken === crt && e.pipeline === pipeline,
      );
      if (previous) return { PipelineExecutionArn: previous.arn };
    }
    const params: Record<string, string> = { ...(pipeline.parameters ?? {}) };
    for (const p of (input.PipelineParameters ?? []) as Array<{ Name: string; Value: string }>)
      params[p.Name] = p.Value;
    const id = this.core.rng.ids.alphanumeric(12, 'abcdefghijklmnopqrstuvwxyz0123456789');
    const now = this.core.clock.now();
    const exec: Execution = {
      arn: `${pipeline.arn}/execution/${id}`,
      pipeline,
      displayName:
        typeof input.PipelineExecutionDisplayName === 'string'
          ? input.PipelineExecutionDisplayName
          : `execution-${now}`,
      status: 'Executing',
      stepStatus: 'Executing',
      token: this.newToken(),
      arguments: resolveArguments(pipeline.callbackArguments ?? {}, params),
      creationTime: now,
      lastModifiedTime: now,
      ...(crt ? { clientRequestToken: crt } : {}),
    };
    this.executions.set(exec.arn, exec);
    this.byToken.set(exec.token, exec);
    this.emitStatus(exec, undefined);
    this.sendCallback(exec, 'Executing');
    return { PipelineExecutionArn: exec.arn };
  }

  private newToken(): string {
    for (;;) {
      const token = this.core.rng.ids.alphanumeric(10);
      if (!this.byToken.has(token)) return token;
    }
  }

  private sendCallback(exec: Execution, status: 'Executing' | 'Stopping'): void {
    const body = JSON.stringify({
      token: exec.token,
      pipelineExecutionArn: exec.arn,
      arguments: exec.arguments,
      status,
    });
    if (!this.sqs.sendTo(exec.pipeline.callbackQueueUrl, body)) {
      exec.stepStatus = 'Failed';
      this.setStatus(
        exec,
        'Failed',
        `Callback step could not send to queue ${exec.pipeline.callbackQueueUrl}: queue does not exist.`,
      );
    }
  }

  private stop(input: Json): unknown {
    const exec = this.requireExecution(requireString(input, 'PipelineExecutionArn'));
    if (exec.status === 'Executing') {
      this.setStatus(exec, 'Stopping');
      if (exec.stepStatus === 'Executing') this.sendCallback(exec, 'Stopping');
    } else if (exec.status !== 'Stopping') {
      throw validation(`Pipeline execution with ARN ${exec.arn} status ${exec.status}. Cannot be stopped.`);
    }
    return { PipelineExecutionArn: exec.arn };
  }

  private requireExecution(arn: string): Execution {
    const exec = this.executions.get(arn);
    if (!exec) throw new ApiError('ResourceNotFound', `Pipeline execution ${arn} does not exist.`);
    return exec;
  }

  private answer(input: Json, kind: 'success' | 'failure'): unknown {
    const token = input.CallbackToken;
    const crt = typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : undefined;
    const record: CallbackAnswer = {
      token: String(token),
      kind,
      at: this.core.clock.now(),
      accepted: false,
      ...(crt ? { clientRequestToken: crt } : {}),
    };
    if (kind === 'success')
      record.outputParameters = (input.OutputParameters ?? []) as Array<{ Name: string; Value: string }>;
    else if (typeof input.FailureReason === 'string') record.failureReason = input.FailureReason;
    this.answerLog.push(record);
    try {
      const exec = this.validateAnswer(input, kind, crt);
      if (exec.answer) {
        record.accepted = true;
        record.error = 'idempotent repeat';
        return { PipelineExecutionArn: exec.arn };
      }
      this.apply(exec, kind, record, crt);
      record.accepted = true;
      return { PipelineExecutionArn: exec.arn };
    } catch (err) {
      record.error = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err);
      throw err;
    }
  }

  private validateAnswer(input: Json, kind: 'success' | 'failure', crt: string | undefined): Execution {
    const token = input.CallbackToken;
    if (typeof token !== 'string' || !TOKEN.test(token)) {
      throw validation(
        `1 validation error detected: Value '${String(token)}' at 'callbackToken' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9]{10}$`,
      );
    }
    if (crt !== undefined && (crt.length < 32 || crt.length > 128)) {
      throw validation(
        `1 validation error detected: Value '${crt}' at 'clientRequestToken' failed to satisfy constraint: Member must have length between 32 and 128`,
      );
    }
    if (kind === 'failure' && typeof input.FailureReason === 'string' && input.FailureReason.length > 256) {
      throw validation(
        "1 validation error detected: Value at 'failureReason' failed to satisfy constraint: Member must have length less than or equal to 256",
      );
    }
    if (kind === 'success') {
      const params = (input.OutputParameters ?? []) as Array<{ Name?: unknown; Value?: unknown }>;
      if (
        params.length > 50 ||
        params.some((p) => typeof p.Name !== 'string' || typeof p.Value !== 'string')
      ) {
        throw validation('OutputParameters must have at most 50 entries, each with a string Name and Value.');
      }
    }
    const exec = this.byToken.get(token);
    if (!exec) throw new ApiError('ResourceNotFound', `Callback token ${token} does not exist.`);
    if (exec.answer) {
      const same = crt !== undefined && exec.answer.clientRequestToken === crt && exec.answer.kind === kind;
      if (!same) {
        throw new ApiError(
          'ConflictException',
          `Callback step with token ${token} has already been completed (${exec.stepStatus}).`,
        );
      }
    }
    return exec;
  }

  private apply(
    exec: Execution,
    kind: 'success' | 'failure',
    record: CallbackAnswer,
    crt: string | undefined,
  ): void {
    exec.answer = { kind, ...(crt ? { clientRequestToken: crt } : {}) };
    exec.stepEndTime = this.core.clock.now();
    const stopping = exec.status === 'Stopping';
    if (kind === 'success') {
      exec.stepStatus = 'Succeeded';
      exec.outputParameters = record.outputParameters ?? [];
      this.setStatus(exec, stopping ? 'Stopped' : 'Succeeded');
    } else {
      exec.stepStatus = stopping ? 'Stopped' : 'Failed';
      this.setStatus(exec, stopping ? 'Stopped' : 'Failed', record.failureReason ?? 'Callback step failed.');
    }
  }

  private setStatus(exec: Execution, status: ExecutionStatus, failureReason?: string): void {
    const previous = exec.status;
    exec.status = status;
    exec.lastModifiedTime = this.core.clock.now();
    if (failureReason) exec.failureReason = failureReason;
    this.emitStatus(exec, previous);
  }

  private emitStatus(exec: Execution, previous: ExecutionStatus | undefined): void {
    const detail: Json = {
      currentPipelineExecutionStatus: exec.status,
      executionStartTime: isoSeconds(exec.creationTime),
      pipelineExecutionDisplayName: exec.displayName,
      pipelineArn: exec.pipeline.arn,
      pipelineExecutionArn: exec.arn,
    };
    if (previous) detail.previousPipelineExecutionStatus = previous;
    if (['Stopped', 'Failed', 'Succeeded'].includes(exec.status))
      detail.executionEndTime = isoSeconds(exec.lastModifiedTime);
    emitSageMakerEvent(
      this.core,
      { account: ACCOUNT_ID, region: exec.pipeline.region },
      'SageMaker Model Building Pipeline Execution Status Change',
      exec.arn,
      detail,
    );
  }

  private describe(exec: Execution): unknown {
    return {
      PipelineArn: exec.pipeline.arn,
      PipelineExecutionArn: exec.arn,
      PipelineExecutionDisplayName: exec.displayName,
      PipelineExecutionStatus: exec.status,
      FailureReason: exec.failureReason,
      CreationTime: epochSeconds(exec.creationTime),
      LastModifiedTime: epochSeconds(exec.lastModifiedTime),
    };
  }

  private listSteps(exec: Execution): unknown {
    return {
      PipelineExecutionSteps: [
        {
          StepName: exec.pipeline.stepName ?? 'Callback',
          StepStatus: exec.stepStatus,
          StartTime: epochSeconds(exec.creationTime),
          EndTime: exec.stepEndTime !== undefined ? epochSeconds(exec.stepEndTime) : undefined,
          FailureReason: exec.stepStatus === 'Failed' ? exec.failureReason : undefined,
          Metadata: {
            Callback: {
              CallbackToken: exec.token,
              SqsQueueUrl: exec.pipeline.callbackQueueUrl,
              OutputParameters: exec.outputParameters,
            },
          },
        },
      ],
    };
  }
}

function resolveArguments(
  args: Record<string, unknown>,
  params: Record<string, string>,
): Record<string, unknown> {
  const resolve = (value: unknown): unknown => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const get = (value as Json).Get;
      if (typeof get === 'string' && get.startsWith('Parameters.') && Object.keys(value).length === 1) {
        return params[get.slice('Parameters.'.length)];
      }
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
    }
    return Array.isArray(value) ? value.map(resolve) : value;
  };
  return resolve(structuredClone(args)) as Record<string, unknown>;
}
