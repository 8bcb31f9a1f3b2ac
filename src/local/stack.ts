import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  DescribeEventBusCommand,
  EventBridgeClient,
  PutPermissionCommand,
  RemovePermissionCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import dynalite from 'dynalite';
import { resetClients, setCredentialsClock, setSdkRetriesWait } from '../adapters/clients';
import { createTableInput } from '../adapters/dynamodb-state-store';
import type { Deps, Log } from '../app/deps';
import { setHandlerClock } from '../clock';
import { clearConfigCache, loadConfigFromEnv } from '../config/load';
import type { RolloutsConfig } from '../config/schema';
import type { GroupState } from '../domain/model';
import { setMetricsSink } from '../metrics/emf';
import { buildDeps, deps, setDeps } from '../wiring';
import { VirtualClock } from './clock';
import { type CloudEvent, type LocalCloud, type LocalCloudOptions, startLocalCloud } from './cloud';
import { type LocalWiring, type QueueSpec, readServerlessWiring } from './serverless-wiring';
import { type DeployedRule, deployStageRegionEvents, setForwarding } from './stage-region-events';

export const DEFAULT_LOCAL_CONFIG = 'src/local/scenarios/rollouts.local.yml';
const SERVICE_DIR = resolve(new URL('../..', import.meta.url).pathname);
const ACCOUNT = '111122223333';

export interface LocalStackOptions extends Omit<LocalCloudOptions, 'clock'> {
  /** The rollouts configuration, relative to the repository (default: the scenarios' config). */
  configPath?: string;
  /** Virtual start time (default 2024-01-01T00:00:00Z). */
  startMs?: number;
  /** Called for every log line and invocation, e.g. to print a timeline. */
  onRecord?: (record: StackRecord) => void;
}

export type StackRecord =
  | { kind: 'invoke'; at: number; functionName: string; summary: string }
  | { kind: 'result'; at: number; functionName: string; outcome: string; detail?: string }
  | { kind: 'log'; at: number; level: string; message: string; extra?: Record<string, unknown> }
  /** an EMF line a handler wrote */
  | { kind: 'metric'; at: number; line: string };

interface HandlerModule {
  [name: string]: (event: unknown, context: unknown) => Promise<unknown>;
}

/** The stacks open in this process, and what process.env held before the first of them set it. */
const openStacks = new Set<LocalStack>();
const envBeforeStacks = new Map<string, string | undefined>();

/**
 * The whole product on one machine: the local cloud (AWS APIs on loopback), DynamoDB in
 * dynalite, and the real handlers wired exactly as serverless.yml wires them in AWS, all on a
 * virtual clock. Only the endpoint URLs differ from a deployment.
 */
export class LocalStack {
  readonly records: StackRecord[] = [];
  readonly tableName = 'sagemaker-rollouts-local';
  busName = '';
  /** The control function's URL (AuthType AWS_IAM), where signed operator commands go. */
  commandUrl = '';
  queueUrls: Record<string, string> = {};
  private nextSchedule = new Map<string, number>();
  private readonly modules = new Map<string, Promise<HandlerModule>>();

  private constructor(
    readonly cloud: LocalCloud,
    private readonly dynamo: ReturnType<typeof dynalite>,
    readonly dynamoUrl: string,
    readonly wiring: LocalWiring,
    readonly configPath: string,
    /** accounts kept apart (LocalCloudOptions.separateAccounts): cross-account stages live in their own */
    readonly separateAccounts: boolean,
    private readonly onRecord?: (record: StackRecord) => void,
  ) {}

  static async start(options: LocalStackOptions = {}): Promise<LocalStack> {
    const configPath = options.configPath ?? DEFAULT_LOCAL_CONFIG;
    const clock = new VirtualClock(options.startMs ?? Date.UTC(2024, 0, 1));
    const cloud = await startLocalCloud({ ...options, clock });
    const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((done) => dynamo.listen(0, '127.0.0.1', () => done()));
    const dynamoUrl = `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`;
    const wiring = readServerlessWiring({
      configPath,
      stage: 'local',
      pseudo: { account: ACCOUNT, region: cloud.region },
    });
    const stack = new LocalStack(
      cloud,
      dynamo,
      dynamoUrl,
      wiring,
      configPath,
      options.separateAccounts === true,
      options.onRecord,
    );
    await stack.provision();
    return stack;
  }

  /** Environment that points SDK clients (in this process or a child) at this stack. */
  env(): Record<string, string> {
    return {
      ...this.cloud.env(),
      AWS_ENDPOINT_URL_DYNAMODB: this.dynamoUrl,
      TABLE_NAME: this.tableName,
      EVENT_BUS_NAME: this.busName,
      ROLLOUTS_COMMAND_URL: this.commandUrl,
      EXECUTOR_QUEUE_URL: this.queueUrls.ExecutorQueue ?? '',
      ROLLOUTS_CONFIG_PATH: resolve(SERVICE_DIR, this.configPath),
    };
  }

  get now(): number {
    return this.cloud.clock.now();
  }

  private async provision(): Promise<void> {
    const set = { ...this.env(), POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT' };
    for (const key of Object.keys(set))
      if (!envBeforeStacks.has(key)) envBeforeStacks.set(key, process.env[key]);
    openStacks.add(this);
    Object.assign(process.env, set);
    // the virtual clock stands still while a handler waits for the SDK's backoff: no wait then
    setSdkRetriesWait(false);
    resetClients();
    setCredentialsClock(() => this.now);
    setHandlerClock(() => this.now);
    clearConfigCache();
    const region = this.cloud.region;
    const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
    await new DynamoDBClient({ region, credentials }).send(
      new CreateTableCommand(createTableInput(this.tableName)),
    );
    this.busName = `${this.wiring.service}-local`;
    await new EventBridgeClient({ region, credentials }).send(
      new CreateEventBusCommand({ Name: this.busName }),
    );
    process.env.EVENT_BUS_NAME = this.busName;
    const sqs = new SQSClient({ region, credentials });
    const created = new Set<string>();
    const createQueue = async (spec: QueueSpec): Promise<string> => {
      const name = `${this.wiring.service}-local-${spec.logicalId}`;
      if (created.has(name)) return this.queueUrls[spec.logicalId]!;
      const attributes: Record<string, string> = { VisibilityTimeout: String(spec.visibilityTimeoutSeconds) };
      if (spec.deadLetterQueue) {
        const dlqUrl = await createQueue(spec.deadLetterQueue);
        const dlq = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
        );
        attributes.RedrivePolicy = JSON.stringify({
          deadLetterTargetArn: dlq.Attributes?.QueueArn,
          maxReceiveCount: spec.maxReceiveCount ?? 5,
        });
      }
      const out = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
      created.add(name);
      this.queueUrls[spec.logicalId] = out.QueueUrl!;
      return out.QueueUrl!;
    };
    for (const source of this.wiring.queueSources) await createQueue(source.queue);
    process.env.EXECUTOR_QUEUE_URL = this.queueUrls.ExecutorQueue ?? '';
    for (const rule of this.wiring.eventRules) {
      this.cloud.events.addRule({
        name: `${rule.functionName}-rule`,
        busName: rule.bus === 'service' ? this.busName : 'default',
        pattern: rule.pattern,
        target: (event) => this.invokeEvent(rule.functionName, event),
      });
    }
    for (const { functionName, authType } of this.wiring.functionUrls) {
      if (authType !== 'AWS_IAM')
        throw new Error(`${functionName}: the local cloud serves IAM-authenticated URLs only`);
      const url = this.cloud.functionUrls.register(`${this.wiring.service}-local-${functionName}`, (event) =>
        this.invoke(
          functionName,
          event,
          `${event.requestContext.http.method} ${event.requestContext.authorizer.iam.userArn}`,
        ),
      );
      if (functionName === 'control') this.commandUrl = url;
    }
    process.env.ROLLOUTS_COMMAND_URL = this.commandUrl;
    for (const schedule of this.wiring.schedules) {
      this.nextSchedule.set(schedule.functionName, this.now + schedule.everyMs);
    }
    // the handlers' own copy (cached per process): the stack reads the file once, as they do
    const config = loadConfigFromEnv();
    this.defineAlarms(config);
    this.useDeps();
    await this.deployStageRegionEvents(config);
  }

  /**
   * The rules forwarding endpoint events here: by region for the service's account, by
   * `<account>/<region>` for a cross-account stage's (accounts kept apart).
   */
  readonly stageRegionRules = new Map<string, DeployedRule>();

  /** The account a stage's endpoint lives in here: its role's, when accounts are kept apart. */
  private stageAccount(stage: { crossAccount?: { roleArn: string } | undefined }): string {
    return this.separateAccounts && stage.crossAccount ? stage.crossAccount.roleArn.split(':')[4]! : ACCOUNT;
  }

  /**
   * What a user deploys in every account and region a stage's endpoint lives in, other than the
   * service's own (serverless/stage-region-events.yml): a rule there forwarding the stages'
   * endpoint events to this region's default bus; in a cross-account stage's account with
   * HomeAccountId, deployed with a session there. The service's stack puts the policy
   * letting those accounts in on its default bus (StageAccountsEndpointEventsPolicy).
   */
  private async deployStageRegionEvents(config: RolloutsConfig): Promise<void> {
    for (const policy of this.wiring.busPolicies) await this.putBusStatement(policy);
    const byPlace = new Map<string, { account: string; region: string; names: string[] }>();
    for (const group of Object.values(config.modelPackageGroups))
      for (const stage of Object.values(group.stages)) {
        const account = this.stageAccount(stage);
        const region = stage.region ?? this.cloud.region;
        if (account === ACCOUNT && region === this.cloud.region) continue;
        const key = account === ACCOUNT ? region : `${account}/${region}`;
        const place = byPlace.get(key) ?? { account, region, names: [] };
        place.names.push(stage.endpointName);
        byPlace.set(key, place);
      }
    for (const [key, { account, region, names }] of byPlace) {
      const rule = await deployStageRegionEvents(
        {
          stackName: `${this.wiring.service}-local-events`,
          region,
          account,
          parameters: {
            HomeRegion: this.cloud.region,
            ...(account !== ACCOUNT ? { HomeAccountId: ACCOUNT } : {}),
            EndpointNames: names,
          },
        },
        undefined,
        account !== ACCOUNT ? await this.credentialsIn(account) : undefined,
      );
      this.stageRegionRules.set(key, rule);
    }
  }

  /**
   * A session in a stage's account, as whoever deploys there has (not the service's roles, whose
   * sessions tests count).
   */
  private async credentialsIn(account: string) {
    const sts = new STSClient({ region: this.cloud.region });
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${account}:role/stack-deployer`,
        RoleSessionName: 'local-deploy',
      }),
    );
    sts.destroy();
    const c = out.Credentials!;
    return {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
    };
  }

  /** As CloudFormation does for an AWS::Events::EventBusPolicy: one statement of the bus's policy. */
  private async putBusStatement(policy: LocalWiring['busPolicies'][number]): Promise<void> {
    const events = new EventBridgeClient({ region: this.cloud.region });
    const bus = await events.send(new DescribeEventBusCommand({ Name: policy.eventBusName }));
    const statements = bus.Policy
      ? (JSON.parse(bus.Policy) as { Statement: { Sid?: string }[] }).Statement
      : [];
    const statement = { Sid: policy.statementId, ...(policy.statement as object) };
    await events.send(
      new PutPermissionCommand({
        EventBusName: policy.eventBusName,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [...statements.filter((s) => s.Sid !== policy.statementId), statement],
        }),
      }),
    );
  }

  /** Loses (or delivers again) the endpoint events of a stage region, as if its forwarding rule were gone. */
  async setStageRegionEvents(region: string, enabled: boolean, account = ACCOUNT): Promise<void> {
    const rule = this.stageRegionRules.get(account === ACCOUNT ? region : `${account}/${region}`);
    if (!rule) throw new Error(`no forwarding rule deployed in ${account} ${region}`);
    await setForwarding(rule, enabled);
  }

  /** Removes the stack's statements from the default bus's policy (or puts them back). */
  async setStageAccountsBusPolicy(present: boolean): Promise<void> {
    const events = new EventBridgeClient({ region: this.cloud.region });
    for (const policy of this.wiring.busPolicies) {
      if (present) await this.putBusStatement(policy);
      else
        await events.send(
          new RemovePermissionCommand({ EventBusName: policy.eventBusName, StatementId: policy.statementId }),
        );
    }
  }

  /**
   * The alarms the config names exist (OK) in the prod stage's account and region, as they would
   * where it is deployed.
   */
  private defineAlarms(config: RolloutsConfig): void {
    for (const group of Object.values(config.modelPackageGroups)) {
      const strategy = group.stages.prod.strategy;
      const prod = group.stages.prod;
      const cloudwatch = this.cloud.inRegion(
        prod.region ?? this.cloud.region,
        this.stageAccount(prod),
      ).cloudwatch;
      for (const alarm of strategy.alarms ?? []) {
        if (cloudwatch.alarmState(alarm) === undefined) {
          cloudwatch.setAlarmState(alarm, 'OK', 'defined by the local stack');
        }
      }
    }
  }

  /** Each group's record as the handlers last saved it (the newest revision), for `latestGroup`. */
  private readonly saved = new Map<string, GroupState>();

  /**
   * A group's record as a read of the table would return it now, without the read once the
   * handlers have saved it here: for the scenarios' and tests' polls, which ask every virtual
   * minute. What a test asserts on it reads the table.
   */
  async latestGroup(group: string): Promise<GroupState | undefined> {
    return this.saved.get(group) ?? (await deps().store.loadGroup(group));
  }

  /**
   * The handlers' dependencies: the real ones, with a log that lands in this stack's records (and
   * the table's saves noted for `latestGroup`).
   */
  private useDeps(): void {
    const log: Log = {
      debug: () => {},
      info: (message, extra) => this.record({ kind: 'log', at: this.now, level: 'info', message, extra }),
      warn: (message, extra) => this.record({ kind: 'log', at: this.now, level: 'warn', message, extra }),
      error: (message, extra) => this.record({ kind: 'log', at: this.now, level: 'error', message, extra }),
    };
    const deps: Deps = { ...buildDeps(process.env), log };
    const save = deps.store.saveGroup.bind(deps.store);
    const saveGroup = async (state: GroupState): Promise<GroupState> => {
      const saved = await save(state);
      const known = this.saved.get(saved.group);
      if (!known || known.revision < saved.revision) this.saved.set(saved.group, saved);
      return saved;
    };
    deps.store.saveGroup = saveGroup;
    setDeps(deps);
    setMetricsSink((line) => this.record({ kind: 'metric', at: this.now, line }));
  }

  private record(record: StackRecord): void {
    this.records.push(record);
    this.onRecord?.(record);
  }

  private handler(functionName: string): Promise<HandlerModule[string]> {
    const fn = this.wiring.functions[functionName];
    if (!fn) throw new Error(`serverless.yml has no function ${functionName}`);
    let module = this.modules.get(fn.handlerFile);
    if (!module) {
      module = import(pathToFileURL(fn.handlerFile).href) as Promise<HandlerModule>;
      this.modules.set(fn.handlerFile, module);
    }
    return module.then((m) => {
      const handler = m[fn.exportName];
      if (typeof handler !== 'function')
        throw new Error(`${fn.handlerFile} does not export ${fn.exportName}`);
      return handler;
    });
  }

  private context(functionName: string) {
    const timeout = (this.wiring.functions[functionName]?.timeoutSeconds ?? 60) * 1000;
    return {
      functionName: `${this.wiring.service}-local-${functionName}`,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.cloud.region}:${ACCOUNT}:function:${this.wiring.service}-local-${functionName}`,
      memoryLimitInMB: '512',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${this.wiring.service}-local-${functionName}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => timeout,
      done: () => {},
      fail: () => {},
      succeed: () => {},
    };
  }

  /** Invokes a function as Lambda would, with this event. Throws what the handler throws. */
  async invoke(functionName: string, event: unknown, summary = ''): Promise<unknown> {
    this.record({ kind: 'invoke', at: this.now, functionName, summary });
    try {
      const handler = await this.handler(functionName);
      const result = await handler(event, this.context(functionName));
      const outcome =
        result && typeof result === 'object' && 'outcome' in result
          ? String((result as { outcome: unknown }).outcome)
          : 'ok';
      this.record({ kind: 'result', at: this.now, functionName, outcome, detail: describeResult(result) });
      return result;
    } catch (error) {
      this.record({
        kind: 'result',
        at: this.now,
        functionName,
        outcome: 'error',
        detail: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
  }

  private async invokeEvent(functionName: string, event: CloudEvent): Promise<void> {
    const detail = event.detail as Record<string, unknown>;
    const summary = [
      event['detail-type'],
      detail.ModelPackageArn ?? detail.EndpointName ?? detail.deploymentId ?? '',
      detail.ModelApprovalStatus ?? detail.EndpointStatus ?? detail.command ?? '',
    ]
      .filter(Boolean)
      .join(' ');
    await this.invoke(functionName, event, summary);
  }

  /** One Lambda SQS poll per event source: a batch in, partial batch failures out. */
  async pollQueues(): Promise<number> {
    let handled = 0;
    for (const source of this.wiring.queueSources) {
      const queueName = `${this.wiring.service}-local-${source.queue.logicalId}`;
      for (;;) {
        const records = this.cloud.sqs.receiveBatch(queueName, source.batchSize);
        if (records.length === 0) break;
        handled += records.length;
        const event = { Records: records } as unknown as SQSEvent;
        let failed = new Set<string>(records.map((r) => r.messageId));
        try {
          const response = (await this.invoke(
            source.functionName,
            event,
            `${records.length} message(s) from ${source.queue.logicalId}`,
          )) as SQSBatchResponse | undefined;
          failed = source.reportBatchItemFailures
            ? new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier))
            : new Set();
        } catch {
          // the whole batch returns to the queue after its visibility timeout
        }
        const succeeded = records.filter((r) => !failed.has(r.messageId)).map((r) => r.receiptHandle);
        this.cloud.sqs.deleteMessages(queueName, succeeded);
      }
    }
    return handled;
  }

  /** Delivers every pending event and queue message, including those they cause, until quiet. */
  async settle(): Promise<void> {
    for (let round = 0; round < 1000; round++) {
      await this.cloud.drain();
      const polled = await this.pollQueues();
      if (polled === 0 && this.cloud.events.pendingCount() === 0) return;
    }
    throw new Error('local stack did not settle after 1000 rounds');
  }

  /** Fires the schedule (the tick) at its virtual time. */
  private async fireSchedules(): Promise<void> {
    for (const schedule of this.wiring.schedules) {
      const due = this.nextSchedule.get(schedule.functionName)!;
      if (this.now < due) continue;
      this.nextSchedule.set(schedule.functionName, due + schedule.everyMs);
      const event = {
        version: '0',
        id: randomUUID(),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: ACCOUNT,
        time: new Date(due).toISOString(),
        region: this.cloud.region,
        resources: [
          `arn:aws:events:${this.cloud.region}:${ACCOUNT}:rule/${this.wiring.service}-local-${schedule.functionName}`,
        ],
        detail: {},
      };
      try {
        await this.invoke(schedule.functionName, event, 'schedule');
      } catch {
        // a failed tick is simply retried by the next one
      }
      await this.settle();
    }
  }

  /**
   * Runs virtual time forward: endpoint transitions, traffic and schedules fall due in order,
   * and every event they cause is delivered before time moves on.
   */
  async run(ms: number, until?: () => boolean | Promise<boolean>): Promise<void> {
    const end = this.now + ms;
    await this.settle();
    while (this.now < end) {
      if (until && (await until())) return;
      const nextSchedule = Math.min(...this.nextSchedule.values(), end);
      const next = Math.min(nextSchedule, end, this.now + 60_000);
      this.cloud.advanceTo(next);
      await this.settle();
      await this.fireSchedules();
    }
  }

  async close(): Promise<void> {
    setDeps(undefined);
    setMetricsSink(undefined);
    setCredentialsClock();
    setHandlerClock(undefined);
    setSdkRetriesWait(true);
    // a test file sharing this process with the next must not hand it a stack's endpoints; stacks
    // open at once (scenarios played side by side) close in any order, so the last one restores
    openStacks.delete(this);
    if (openStacks.size === 0) {
      for (const [key, value] of envBeforeStacks) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      envBeforeStacks.clear();
    }
    await this.cloud.close();
    await new Promise<void>((done) => this.dynamo.close(() => done()));
  }
}

const describeResult = (result: unknown): string | undefined => {
  if (!result || typeof result !== 'object') return undefined;
  const r = result as Record<string, unknown>;
  if (Array.isArray(r.batchItemFailures)) return `${r.batchItemFailures.length} failed record(s)`;
  return typeof r.reason === 'string' ? r.reason : undefined;
};
