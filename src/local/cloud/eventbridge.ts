import type { VirtualClock } from '../clock';
import { type BusPolicy, checkStatement, parseBusPolicy, refusal } from './bus-policy';
import { type EventPattern, InvalidPatternError, matchesPattern, validatePattern } from './event-pattern';
import {
  ACCOUNT_ID,
  ApiError,
  isoSeconds,
  parseTimestamp,
  type RequestContext,
  type Rng,
  requireString,
} from './protocol';

export interface CloudEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export type EventTarget = (event: CloudEvent) => Promise<void> | void;

export interface RuleSpec {
  name: string;
  busName?: string;
  /** The region of the rule's bus (default: the local cloud's default region). */
  region?: string;
  /** The account of the rule's bus (default: the local cloud's own). */
  account?: string;
  pattern: EventPattern;
  target: EventTarget;
  /** Delivery attempts before the event is recorded as failed (default 3). */
  maxAttempts?: number;
}

interface Rule {
  name: string;
  account: string;
  region: string;
  busName: string;
  pattern: EventPattern;
  enabled: boolean;
  target?: EventTarget;
  maxAttempts: number;
  apiTargets: Array<{ Id: string; Arn: string; Input?: string; RoleArn?: string }>;
}

export interface DeliveryRecord {
  rule: string;
  account: string;
  region: string;
  busName: string;
  eventId: string;
  detailType: string;
  attempts: number;
  ok: boolean;
  error?: string;
}

interface Bus {
  name: string;
  arn: string;
  creationTime: number;
  /** the resource-based policy (PutPermission): which other accounts may send events here */
  policy?: BusPolicy | undefined;
}

export interface EventBridgeDeps {
  clock: VirtualClock;
  ids: Rng;
  defaultRegion: string;
  /** Delivers a rule target whose ARN is an SQS queue; returns false when the queue does not exist. */
  sendToQueue: (queueArn: string, body: string) => boolean;
  onEnqueue: () => void;
}

/**
 * PutEvents entries must be smaller than 256 KB, sized as "Calculating PutEvents event entry size"
 * says (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html); aws.*
 * sources are refused per entry with NotAuthorizedForSourceException (PutEvents API reference,
 * PutEventsResultEntry error codes).
 */
export const MAX_ENTRY_BYTES = 256 * 1024;

const utf8Bytes = (text: unknown): number => (typeof text === 'string' ? Buffer.byteLength(text, 'utf8') : 0);

const entrySize = (e: Record<string, unknown>): number =>
  (e.Time !== undefined ? 14 : 0) +
  utf8Bytes(e.Source) +
  utf8Bytes(e.DetailType) +
  utf8Bytes(e.Detail) +
  (Array.isArray(e.Resources) ? e.Resources.reduce((sum: number, r) => sum + utf8Bytes(r), 0) : 0);

export class EventBridge {
  /** Every event put on any bus, in order. */
  readonly published: CloudEvent[] = [];
  readonly deliveries: DeliveryRecord[] = [];
  readonly failedDeliveries: DeliveryRecord[] = [];
  private readonly busOfEvent = new Map<string, string>();
  /** Buses by account and region, then by name; each account has a default bus in every region. */
  private readonly buses = new Map<string, Map<string, Bus>>();
  private readonly rules: Rule[] = [];
  private readonly queue: Array<{ account: string; region: string; busName: string; event: CloudEvent }> = [];
  private draining: Promise<void> | undefined;

  constructor(private readonly deps: EventBridgeDeps) {
    this.busesIn(deps.defaultRegion, ACCOUNT_ID);
  }

  private busesIn(region: string, account: string): Map<string, Bus> {
    const key = `${account}/${region}`;
    let buses = this.buses.get(key);
    if (!buses) {
      buses = new Map([
        [
          'default',
          {
            name: 'default',
            arn: busArn(account, region, 'default'),
            creationTime: this.deps.clock.now(),
          },
        ],
      ]);
      this.buses.set(key, buses);
    }
    return buses;
  }

  addRule(spec: RuleSpec): () => void {
    const busName = spec.busName ?? 'default';
    const rule: Rule = {
      name: spec.name,
      account: spec.account ?? ACCOUNT_ID,
      region: spec.region ?? this.deps.defaultRegion,
      busName,
      pattern: validatePattern(spec.pattern),
      enabled: true,
      target: spec.target,
      maxAttempts: spec.maxAttempts ?? 3,
      apiTargets: [],
    };
    this.rules.push(rule);
    return () => {
      const i = this.rules.indexOf(rule);
      if (i >= 0) this.rules.splice(i, 1);
    };
  }

  /** The bus an event was first put on. */
  busOf(eventId: string): string | undefined {
    return this.busOfEvent.get(eventId);
  }

  private ruleOn(ctx: RequestContext, busName: string, name: string): Rule | undefined {
    return this.rules.find(
      (r) => r.name === name && r.account === ctx.account && r.region === ctx.region && r.busName === busName,
    );
  }

  /** Puts an event on a bus of `account` in `region` (the bus must exist) and queues its delivery. */
  put(
    busName: string,
    entry: {
      source: string;
      detailType: string;
      detail: Record<string, unknown>;
      resources?: string[];
      time?: number;
    },
    region = this.deps.defaultRegion,
    account = ACCOUNT_ID,
  ): CloudEvent {
    const event: CloudEvent = {
      version: '0',
      id: this.deps.ids.uuid(),
      'detail-type': entry.detailType,
      source: entry.source,
      account,
      time: isoSeconds(entry.time ?? this.deps.clock.now()),
      region,
      resources: entry.resources ?? [],
      detail: entry.detail,
    };
    this.published.push(event);
    this.enqueue(account, region, busName, event);
    return event;
  }

  private enqueue(account: string, region: string, busName: string, event: CloudEvent): void {
    if (!this.busOfEvent.has(event.id)) this.busOfEvent.set(event.id, busName);
    this.queue.push({ account, region, busName, event });
    this.deps.onEnqueue();
  }

  pendingCount(): number {
    return this.queue.length;
  }

  /** Delivers every queued event, including events produced while delivering, until the queue is empty. */
  drain(): Promise<void> {
    if (!this.draining) {
      this.draining = this.deliverAll().finally(() => {
        this.draining = undefined;
      });
    }
    return this.draining;
  }

  private async deliverAll(): Promise<void> {
    for (let item = this.queue.shift(); item; item = this.queue.shift()) {
      const { account, region, busName, event } = item;
      const rules = this.rules.filter(
        (r) =>
          r.enabled &&
          r.account === account &&
          r.region === region &&
          r.busName === busName &&
          safeMatch(r.pattern, event),
      );
      for (const rule of rules) {
        if (rule.target) await this.deliver(rule, rule.target, event);
        for (const t of rule.apiTargets) {
          const error = this.sendToTarget(rule, t, event);
          const record: DeliveryRecord = {
            rule: rule.name,
            account,
            region,
            busName,
            eventId: event.id,
            detailType: event['detail-type'],
            attempts: 1,
            ok: error === undefined,
          };
          if (error !== undefined) record.error = error;
          this.deliveries.push(record);
          if (error !== undefined) this.failedDeliveries.push(record);
        }
      }
    }
  }

  /**
   * Sends a matched event to an API-defined target; returns why it could not be. An event bus
   * target (in this or another region or account) gets the event unchanged, its `region` and
   * `account` still the source's, as cross-Region and cross-account routing do. A bus of another
   * account takes it only if its resource policy allows the rule's account (else EventBridge
   * drops it: the reason is in `failedDeliveries`).
   */
  private sendToTarget(
    rule: Rule,
    target: { Arn: string; Input?: string },
    event: CloudEvent,
  ): string | undefined {
    const bus = EVENT_BUS_ARN.exec(target.Arn);
    if (bus) {
      const [, region = '', account = '', name = ''] = bus;
      const receiver = this.buses.get(`${account}/${region}`)?.get(name);
      if (!receiver) return `target event bus ${target.Arn} does not exist`;
      if (account !== rule.account) {
        const refused = refusal(receiver.policy, receiver.arn, {
          account: rule.account,
          ruleArn: ruleArn(rule, rule.busName, rule.name),
          source: event.source,
          detailType: event['detail-type'],
        });
        if (refused) return `not authorized to put the event on ${target.Arn}: ${refused}`;
      }
      this.enqueue(account, region, name, event);
      return undefined;
    }
    const body = target.Input ?? JSON.stringify(event);
    if (target.Arn.startsWith('arn:aws:sqs:') && this.deps.sendToQueue(target.Arn, body)) return undefined;
    return `target ${target.Arn} cannot be delivered to locally (only existing SQS queues and event buses can)`;
  }

  private async deliver(rule: Rule, target: EventTarget, event: CloudEvent): Promise<void> {
    const record: DeliveryRecord = {
      rule: rule.name,
      account: rule.account,
      region: rule.region,
      busName: rule.busName,
      eventId: event.id,
      detailType: event['detail-type'],
      attempts: 0,
      ok: false,
    };
    while (record.attempts < rule.maxAttempts) {
      record.attempts++;
      try {
        await target(structuredClone(event));
        record.ok = true;
        delete record.error;
        break;
      } catch (err) {
        record.error = err instanceof Error ? err.message : String(err);
      }
    }
    this.deliveries.push(record);
    if (!record.ok) this.failedDeliveries.push(record);
  }

  private busName(nameOrArn: unknown): string {
    if (typeof nameOrArn !== 'string' || nameOrArn === '') return 'default';
    const i = nameOrArn.indexOf(':event-bus/');
    return i >= 0 ? nameOrArn.slice(i + ':event-bus/'.length) : nameOrArn;
  }

  /** A bus of the request's region, by name or ARN (an ARN of another region names no bus here). */
  private requireBus(nameOrArn: unknown, ctx: RequestContext): Bus {
    const name = this.busName(nameOrArn);
    const bus = this.busesIn(ctx.region, ctx.account).get(name);
    if (!bus || (typeof nameOrArn === 'string' && nameOrArn.startsWith('arn:') && nameOrArn !== bus.arn)) {
      throw new ApiError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    }
    return bus;
  }

  /** The operations `handle` serves. */
  static readonly OPERATIONS = [
    'PutEvents',
    'CreateEventBus',
    'DescribeEventBus',
    'PutRule',
    'PutTargets',
    'PutPermission',
    'RemovePermission',
  ];

  handle(operation: string, input: Record<string, unknown>, ctx: RequestContext): unknown {
    switch (operation) {
      case 'PutEvents':
        return this.putEvents(input, ctx);
      case 'CreateEventBus': {
        const name = requireString(input, 'Name');
        const buses = this.busesIn(ctx.region, ctx.account);
        if (buses.has(name))
          throw new ApiError('ResourceAlreadyExistsException', `Event bus ${name} already exists.`);
        const bus = { name, arn: busArn(ctx.account, ctx.region, name), creationTime: this.deps.clock.now() };
        buses.set(name, bus);
        return { EventBusArn: bus.arn };
      }
      case 'DescribeEventBus': {
        const bus = this.requireBus(input.Name, ctx);
        return {
          Name: bus.name,
          Arn: bus.arn,
          CreationTime: bus.creationTime / 1000,
          ...(bus.policy ? { Policy: JSON.stringify(bus.policy) } : {}),
        };
      }
      case 'PutPermission':
        return this.putPermission(input, ctx);
      case 'RemovePermission': {
        const bus = this.requireBus(input.EventBusName, ctx);
        if (input.RemoveAllPermissions === true) {
          bus.policy = undefined;
          return {};
        }
        const sid = requireString(input, 'StatementId');
        const kept = (bus.policy?.Statement ?? []).filter((s) => s.Sid !== sid);
        if (kept.length === (bus.policy?.Statement ?? []).length)
          throw new ApiError('ResourceNotFoundException', 'Statement with the provided id does not exist.');
        bus.policy = kept.length > 0 ? { ...bus.policy, Statement: kept } : undefined;
        return {};
      }
      case 'PutRule': {
        const name = requireString(input, 'Name');
        const bus = this.requireBus(input.EventBusName, ctx);
        if (typeof input.EventPattern !== 'string') {
          throw new ApiError(
            'ValidationException',
            'Parameter EventPattern must be specified (schedules are not supported locally).',
          );
        }
        let pattern: EventPattern;
        try {
          pattern = validatePattern(JSON.parse(input.EventPattern));
        } catch (err) {
          const reason =
            err instanceof InvalidPatternError || err instanceof SyntaxError ? err.message : String(err);
          throw new ApiError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${reason}`);
        }
        const enabled = input.State !== 'DISABLED';
        const existing = this.ruleOn(ctx, bus.name, name);
        if (existing) {
          existing.pattern = pattern;
          existing.enabled = enabled;
        } else {
          this.rules.push({
            name,
            account: ctx.account,
            region: ctx.region,
            busName: bus.name,
            pattern,
            enabled,
            maxAttempts: 1,
            apiTargets: [],
          });
        }
        return { RuleArn: ruleArn(ctx, bus.name, name) };
      }
      case 'PutTargets': {
        const name = requireString(input, 'Rule');
        const bus = this.requireBus(input.EventBusName, ctx);
        const rule = this.ruleOn(ctx, bus.name, name);
        if (!rule)
          throw new ApiError(
            'ResourceNotFoundException',
            `Rule ${name} does not exist on EventBus ${bus.name}.`,
          );
        const targets = Array.isArray(input.Targets)
          ? (input.Targets as Array<{ Id: string; Arn: string; Input?: string; RoleArn?: string }>)
          : [];
        // an event bus of another region is a target only with a role EventBridge assumes to put
        // the events there (PutTargets: "Event Bus in different account or region" needs RoleArn);
        // without it the call is refused as CloudFormation and Terraform users report
        for (const t of targets) {
          const region = EVENT_BUS_ARN.exec(t.Arn)?.[1];
          if (region !== undefined && region !== ctx.region && typeof t.RoleArn !== 'string')
            throw new ApiError('ValidationException', 'Cross-region API call is not allowed.');
        }
        for (const t of targets) {
          rule.apiTargets = rule.apiTargets.filter((x) => x.Id !== t.Id);
          rule.apiTargets.push({
            Id: t.Id,
            Arn: t.Arn,
            ...(t.Input !== undefined ? { Input: t.Input } : {}),
            ...(t.RoleArn !== undefined ? { RoleArn: t.RoleArn } : {}),
          });
        }
        return { FailedEntryCount: 0, FailedEntries: [] };
      }
      default:
        throw new ApiError(
          'UnknownOperationException',
          `Operation ${operation} is not supported by the local EventBridge.`,
        );
    }
  }

  /**
   * PutPermission: a whole `Policy`, or one statement letting `Principal` (an account id or "*")
   * put events, under `StatementId` (replacing the statement of that id).
   */
  private putPermission(input: Record<string, unknown>, ctx: RequestContext): unknown {
    const bus = this.requireBus(input.EventBusName, ctx);
    if (typeof input.Policy === 'string') {
      bus.policy = parseBusPolicy(input.Policy);
      return {};
    }
    const sid = requireString(input, 'StatementId');
    const principal = requireString(input, 'Principal');
    if (input.Action !== 'events:PutEvents')
      throw new ApiError('ValidationException', 'Provided value in parameter Action is not supported.');
    if (principal !== '*' && !/^\d{12}$/.test(principal))
      throw new ApiError('ValidationException', 'Parameter Principal is not valid.');
    if (input.Condition !== undefined)
      throw new ApiError(
        'ValidationException',
        'Parameter Condition (organizations) is not supported by the local EventBridge.',
      );
    const statement = {
      Sid: sid,
      Effect: 'Allow' as const,
      Principal: principal === '*' ? '*' : { AWS: `arn:aws:iam::${principal}:root` },
      Action: 'events:PutEvents',
      Resource: bus.arn,
    };
    checkStatement(statement, sid);
    const others = (bus.policy?.Statement ?? []).filter((s) => s.Sid !== sid);
    bus.policy = { Version: '2012-10-17', Statement: [...others, statement] };
    return {};
  }

  private putEvents(input: Record<string, unknown>, ctx: RequestContext): unknown {
    const entries = Array.isArray(input.Entries) ? (input.Entries as Array<Record<string, unknown>>) : [];
    if (entries.length < 1 || entries.length > 10) {
      throw new ApiError(
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10`,
      );
    }
    let failed = 0;
    const results = entries.map((e) => {
      const fail = (ErrorCode: string, ErrorMessage: string) => {
        failed++;
        return { ErrorCode, ErrorMessage };
      };
      if (typeof e.Source !== 'string' || e.Source === '')
        return fail('InvalidArgument', 'Parameter Source is not valid.');
      if (typeof e.DetailType !== 'string' || e.DetailType === '') {
        return fail('InvalidArgument', 'Parameter DetailType is not valid.');
      }
      if (typeof e.Detail !== 'string') return fail('InvalidArgument', 'Parameter Detail is not valid.');
      // only AWS services put events with an aws.* source (the NotAuthorizedForSourceException entry error)
      if (e.Source.startsWith('aws.')) {
        return fail('NotAuthorizedForSourceException', `Not authorized for the source ${e.Source}.`);
      }
      // the entry size as EventBridge computes it: Time 14 bytes, Source, DetailType, Detail, Resources
      if (entrySize(e) >= MAX_ENTRY_BYTES) {
        return fail('InvalidArgument', 'Total size of the entries in the request is over the limit.');
      }
      let detail: unknown;
      try {
        detail = JSON.parse(e.Detail);
      } catch {
        return fail('MalformedDetail', 'Detail is malformed.');
      }
      if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
        return fail('MalformedDetail', 'Detail is malformed.');
      }
      const busName = this.busName(e.EventBusName);
      if (!this.busesIn(ctx.region, ctx.account).has(busName))
        return fail('ResourceNotFoundException', `Event bus ${busName} does not exist.`);
      const event = this.put(
        busName,
        {
          source: e.Source,
          detailType: e.DetailType,
          detail: detail as Record<string, unknown>,
          resources: Array.isArray(e.Resources) ? (e.Resources as string[]) : [],
          ...(e.Time !== undefined ? { time: parseTimestamp(e.Time, 'Time') } : {}),
        },
        ctx.region,
        ctx.account,
      );
      return { EventId: event.id };
    });
    return { FailedEntryCount: failed, Entries: results };
  }
}

function safeMatch(pattern: EventPattern, event: CloudEvent): boolean {
  try {
    return matchesPattern(pattern, event);
  } catch {
    return false;
  }
}

const EVENT_BUS_ARN = /^arn:aws[a-z-]*:events:([a-z0-9-]+):(\d{12}):event-bus\/(.+)$/;

const busArn = (account: string, region: string, name: string): string =>
  `arn:aws:events:${region}:${account}:event-bus/${name}`;

const ruleArn = (ctx: { region: string; account: string }, bus: string, name: string): string =>
  `arn:aws:events:${ctx.region}:${ctx.account}:rule/${bus === 'default' ? '' : `${bus}/`}${name}`;
