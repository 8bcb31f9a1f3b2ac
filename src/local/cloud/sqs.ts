import { createHash } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import type { Core } from './context';
import { ACCOUNT_ID, ApiError, type RequestContext, requireString } from './protocol';

type Json = Record<string, unknown>;

export interface QueueMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  receiptHandles: Set<string>;
  /** The most recent receipt handle (the one that can change visibility). */
  receiptHandle?: string;
  senderId: string;
}

interface Queue {
  name: string;
  arn: string;
  region: string;
  attributes: Record<string, string>;
  messages: QueueMessage[];
  createdAt: number;
}

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

const sqsError = (code: string, queryCode: string, message: string, status = 400): ApiError =>
  new ApiError(`com.amazonaws.sqs#${code}`, message, { queryCode: `${queryCode};Sender`, status });

const noQueue = (): ApiError =>
  sqsError(
    'QueueDoesNotExist',
    'AWS.SimpleQueueService.NonExistentQueue',
    'The specified queue does not exist.',
  );

const DEFAULT_ATTRIBUTES: Record<string, string> = {
  VisibilityTimeout: '30',
  MessageRetentionPeriod: '345600',
  DelaySeconds: '0',
  MaximumMessageSize: '262144',
  ReceiveMessageWaitTimeSeconds: '0',
};

export class Sqs {
  private readonly queues = new Map<string, Queue>();
  private port = 0;

  constructor(private readonly core: Core) {}

  setPort(port: number): void {
    this.port = port;
  }

  urlOf(name: string): string {
    return `http://127.0.0.1:${this.port}/${ACCOUNT_ID}/${name}`;
  }

  /** Messages currently stored in a queue (visible or in flight), for inspection. */
  messages(queueName: string): QueueMessage[] {
    const q = this.byName(queueName);
    this.expire(q);
    return [...q.messages];
  }

  /** Receives like an SQS event source mapping would, returning Lambda-shaped records. */
  receiveBatch(queueName: string, max = 10, visibilityTimeoutSec?: number): SQSRecord[] {
    const q = this.byName(queueName);
    return this.receive(q, max, visibilityTimeoutSec).map((m) => ({
      messageId: m.messageId,
      receiptHandle: m.receiptHandle!,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentAt),
        SenderId: m.senderId,
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt ?? m.sentAt),
      },
      messageAttributes: {},
      md5OfBody: m.md5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: q.arn,
      awsRegion: q.region,
    }));
  }

  deleteMessages(queueName: string, receiptHandles: string[]): number {
    const q = this.byName(queueName);
    let deleted = 0;
    for (const handle of receiptHandles) {
      const i = q.messages.findIndex((m) => m.receiptHandles.has(handle));
      if (i >= 0) {
        q.messages.splice(i, 1);
        deleted++;
      }
    }
    return deleted;
  }

  /** Sends a message to a queue identified by URL or ARN; returns false if there is no such queue. */
  sendTo(urlOrArn: string, body: string): boolean {
    const name = urlOrArn.startsWith('arn:') ? urlOrArn.split(':').pop() : urlOrArn.split('/').pop();
    const q = name ? this.queues.get(name) : undefined;
    if (!q) return false;
    this.enqueue(q, body, 0, 'AROAEXAMPLE:local-cloud');
    return true;
  }

  private byName(name: string): Queue {
    const q = this.queues.get(name);
    if (!q) throw noQueue();
    return q;
  }

  private byUrl(input: Json): Queue {
    const url = requireString(input, 'QueueUrl');
    const name = url.replace(/\/+$/, '').split('/').pop() ?? '';
    return this.byName(name);
  }

  private enqueue(q: Queue, body: string, delaySec: number, senderId: string): QueueMessage {
    if (body.length === 0) {
      throw sqsError(
        'InvalidParameterValue',
        'InvalidParameterValue',
        'The request must contain the parameter MessageBody.',
      );
    }
    const now = this.core.clock.now();
    const message: QueueMessage = {
      messageId: this.core.rng.ids.uuid(),
      body,
      md5OfBody: md5(body),
      sentAt: now,
      visibleAt: now + delaySec * 1000,
      receiveCount: 0,
      receiptHandles: new Set(),
      senderId,
    };
    q.messages.push(message);
    return message;
  }

  private expire(q: Queue): void {
    const retentionMs =
      Number(q.attributes.MessageRetentionPeriod ?? DEFAULT_ATTRIBUTES.MessageRetentionPeriod) * 1000;
    const now = this.core.clock.now();
    q.messages = q.messages.filter((m) => now - m.sentAt < retentionMs);
  }

  private receive(q: Queue, max: number, visibilityTimeoutSec?: number): QueueMessage[] {
    this.expire(q);
    const now = this.core.clock.now();
    const timeout = visibilityTimeoutSec ?? Number(q.attributes.VisibilityTimeout ?? 30);
    const redrive = parseRedrive(q.attributes.RedrivePolicy);
    const out: QueueMessage[] = [];
    for (const m of [...q.messages]) {
      if (out.length >= max) break;
      if (m.visibleAt > now) continue;
      if (redrive && m.receiveCount >= redrive.maxReceiveCount) {
        const dlqName = redrive.deadLetterTargetArn.split(':').pop() ?? '';
        const dlq = this.queues.get(dlqName);
        if (dlq) {
          q.messages.splice(q.messages.indexOf(m), 1);
          // The message keeps its id, body, sent time and receive count, as SQS does on redrive.
          dlq.messages.push({ ...m, visibleAt: now, receiptHandles: new Set() });
          continue;
        }
      }
      m.receiveCount++;
      m.firstReceiveAt ??= now;
      m.visibleAt = now + timeout * 1000;
      const handle = Buffer.from(
        `${q.name}:${m.messageId}:${m.receiveCount}:${this.core.rng.ids.alphanumeric(16)}`,
      ).toString('base64');
      m.receiptHandles.add(handle);
      m.receiptHandle = handle;
      out.push(m);
    }
    return out;
  }

  operations(): Record<string, (input: Json, ctx: RequestContext) => unknown> {
    return {
      CreateQueue: (i, c) => this.createQueue(i, c),
      GetQueueUrl: (i) => ({ QueueUrl: this.urlOf(this.byName(requireString(i, 'QueueName')).name) }),
      GetQueueAttributes: (i) => this.getAttributes(i),
      SetQueueAttributes: (i) => {
        const q = this.byUrl(i);
        Object.assign(q.attributes, validateAttributes((i.Attributes ?? {}) as Record<string, string>));
        return {};
      },
      DeleteQueue: (i) => {
        this.queues.delete(this.byUrl(i).name);
        return {};
      },
      ListQueues: (i) => {
        const prefix = typeof i.QueueNamePrefix === 'string' ? i.QueueNamePrefix : '';
        return {
          QueueUrls: [...this.queues.keys()].filter((n) => n.startsWith(prefix)).map((n) => this.urlOf(n)),
        };
      },
      SendMessage: (i, c) => this.sendMessage(i, c),
      SendMessageBatch: (i, c) => this.sendMessageBatch(i, c),
      ReceiveMessage: (i) => this.receiveMessage(i),
      DeleteMessage: (i) => {
        const q = this.byUrl(i);
        const handle = requireString(i, 'ReceiptHandle');
        this.checkHandle(q, handle);
        this.deleteMessages(q.name, [handle]);
        return {};
      },
      DeleteMessageBatch: (i) => this.deleteMessageBatch(i),
      ChangeMessageVisibility: (i) => {
        const q = this.byUrl(i);
        this.changeVisibility(q, requireString(i, 'ReceiptHandle'), Number(i.VisibilityTimeout));
        return {};
      },
      PurgeQueue: (i) => {
        this.byUrl(i).messages = [];
        return {};
      },
    };
  }

  private createQueue(input: Json, ctx: RequestContext): unknown {
    const name = requireString(input, 'QueueName');
    if (!/^[a-zA-Z0-9_-]{1,80}(\.fifo)?$/.test(name)) {
      throw sqsError(
        'InvalidParameterValue',
        'InvalidParameterValue',
        'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
      );
    }
    const attributes = validateAttributes((input.Attributes ?? {}) as Record<string, string>);
    const existing = this.queues.get(name);
    if (existing) {
      const differs = Object.entries(attributes).some(([k, v]) => existing.attributes[k] !== v);
      if (differs) {
        throw sqsError(
          'QueueNameExists',
          'QueueAlreadyExists',
          `A queue already exists with the same name and a different value for attribute(s) ${Object.keys(attributes).join(', ')}`,
        );
      }
      return { QueueUrl: this.urlOf(name) };
    }
    this.queues.set(name, {
      name,
      arn: `arn:aws:sqs:${ctx.region}:${ACCOUNT_ID}:${name}`,
      region: ctx.region,
      attributes: { ...DEFAULT_ATTRIBUTES, ...attributes },
      messages: [],
      createdAt: this.core.clock.now(),
    });
    return { QueueUrl: this.urlOf(name) };
  }

  private getAttributes(input: Json): unknown {
    const q = this.byUrl(input);
    this.expire(q);
    const now = this.core.clock.now();
    const all: Record<string, string> = {
      ...q.attributes,
      QueueArn: q.arn,
      ApproximateNumberOfMessages: String(q.messages.filter((m) => m.visibleAt <= now).length),
      ApproximateNumberOfMessagesNotVisible: String(
        q.messages.filter((m) => m.visibleAt > now && m.receiveCount > 0).length,
      ),
      ApproximateNumberOfMessagesDelayed: String(
        q.messages.filter((m) => m.visibleAt > now && m.receiveCount === 0).length,
      ),
      CreatedTimestamp: String(Math.floor(q.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(q.createdAt / 1000)),
    };
    const names = (input.AttributeNames ?? []) as string[];
    const Attributes = names.includes('All')
      ? all
      : Object.fromEntries(names.filter((n) => all[n] !== undefined).map((n) => [n, all[n]!]));
    return { Attributes };
  }

  private sendMessage(input: Json, ctx: RequestContext): unknown {
    const q = this.byUrl(input);
    const body = requireString(input, 'MessageBody');
    const delay = Number(input.DelaySeconds ?? q.attributes.DelaySeconds ?? 0);
    const m = this.enqueue(q, body, delay, ctx.accessKeyId ?? 'AIDAEXAMPLE');
    return { MessageId: m.messageId, MD5OfMessageBody: m.md5OfBody };
  }

  private sendMessageBatch(input: Json, ctx: RequestContext): unknown {
    const q = this.byUrl(input);
    const entries = (Array.isArray(input.Entries) ? input.Entries : []) as Json[];
    checkBatch(entries);
    const Successful: Json[] = [];
    const Failed: Json[] = [];
    for (const e of entries) {
      if (typeof e.MessageBody !== 'string' || e.MessageBody === '') {
        Failed.push({
          Id: e.Id,
          SenderFault: true,
          Code: 'InvalidParameterValue',
          Message: 'The message body is empty.',
        });
        continue;
      }
      const delay = Number(e.DelaySeconds ?? q.attributes.DelaySeconds ?? 0);
      const m = this.enqueue(q, e.MessageBody, delay, ctx.accessKeyId ?? 'AIDAEXAMPLE');
      Successful.push({ Id: e.Id, MessageId: m.messageId, MD5OfMessageBody: m.md5OfBody });
    }
    return { Successful, Failed };
  }

  private receiveMessage(input: Json): unknown {
    const q = this.byUrl(input);
    const max = Number(input.MaxNumberOfMessages ?? 1);
    if (!Number.isInteger(max) || max < 1 || max > 10) {
      throw sqsError(
        'InvalidParameterValue',
        'InvalidParameterValue',
        `Value ${max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`,
      );
    }
    const timeout = input.VisibilityTimeout !== undefined ? Number(input.VisibilityTimeout) : undefined;
    const wanted = new Set([
      ...((input.AttributeNames ?? []) as string[]),
      ...((input.MessageSystemAttributeNames ?? []) as string[]),
    ]);
    const all = wanted.has('All');
    const messages = this.receive(q, max, timeout).map((m) => {
      const attrs: Record<string, string> = {
        SentTimestamp: String(m.sentAt),
        ApproximateReceiveCount: String(m.receiveCount),
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt ?? m.sentAt),
        SenderId: m.senderId,
      };
      const Attributes = Object.fromEntries(Object.entries(attrs).filter(([k]) => all || wanted.has(k)));
      return {
        MessageId: m.messageId,
        ReceiptHandle: m.receiptHandle,
        MD5OfBody: m.md5OfBody,
        Body: m.body,
        ...(Object.keys(Attributes).length > 0 ? { Attributes } : {}),
      };
    });
    return { Messages: messages };
  }

  private checkHandle(q: Queue, handle: string): void {
    if (!handle.includes('=') && !/^[A-Za-z0-9+/]+$/.test(handle)) {
      throw sqsError(
        'ReceiptHandleIsInvalid',
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${handle}" is not a valid receipt handle.`,
        404,
      );
    }
    const decoded = Buffer.from(handle, 'base64').toString('utf8');
    if (!decoded.startsWith(`${q.name}:`)) {
      throw sqsError(
        'ReceiptHandleIsInvalid',
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${handle}" is not a valid receipt handle.`,
        404,
      );
    }
  }

  private deleteMessageBatch(input: Json): unknown {
    const q = this.byUrl(input);
    const entries = (Array.isArray(input.Entries) ? input.Entries : []) as Json[];
    checkBatch(entries);
    const Successful: Json[] = [];
    const Failed: Json[] = [];
    for (const e of entries) {
      try {
        this.checkHandle(q, String(e.ReceiptHandle));
        this.deleteMessages(q.name, [String(e.ReceiptHandle)]);
        Successful.push({ Id: e.Id });
      } catch (err) {
        Failed.push({
          Id: e.Id,
          SenderFault: true,
          Code: 'ReceiptHandleIsInvalid',
          Message: (err as Error).message,
        });
      }
    }
    return { Successful, Failed };
  }

  private changeVisibility(q: Queue, handle: string, timeoutSec: number): void {
    this.checkHandle(q, handle);
    if (!Number.isFinite(timeoutSec) || timeoutSec < 0 || timeoutSec > 43200) {
      throw sqsError(
        'InvalidParameterValue',
        'InvalidParameterValue',
        `Value ${timeoutSec} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.`,
      );
    }
    const m = q.messages.find((x) => x.receiptHandles.has(handle));
    const now = this.core.clock.now();
    if (!m || m.visibleAt <= now) {
      throw sqsError(
        'MessageNotInflight',
        'AWS.SimpleQueueService.MessageNotInflight',
        'Message does not exist or is not available for visibility timeout change.',
      );
    }
    m.visibleAt = now + timeoutSec * 1000;
  }
}

function checkBatch(entries: Json[]): void {
  if (entries.length === 0) {
    throw sqsError(
      'EmptyBatchRequest',
      'AWS.SimpleQueueService.EmptyBatchRequest',
      'There should be at least one SendMessageBatchRequestEntry in the request.',
    );
  }
  if (entries.length > 10) {
    throw sqsError(
      'TooManyEntriesInBatchRequest',
      'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
    );
  }
  const ids = entries.map((e) => e.Id);
  if (new Set(ids).size !== ids.length) {
    throw sqsError(
      'BatchEntryIdsNotDistinct',
      'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
      'Two or more batch entries in the request have the same Id.',
    );
  }
}

function parseRedrive(
  policy: string | undefined,
): { deadLetterTargetArn: string; maxReceiveCount: number } | undefined {
  if (!policy) return undefined;
  const parsed = JSON.parse(policy) as { deadLetterTargetArn?: string; maxReceiveCount?: number | string };
  if (!parsed.deadLetterTargetArn) return undefined;
  return {
    deadLetterTargetArn: parsed.deadLetterTargetArn,
    maxReceiveCount: Number(parsed.maxReceiveCount ?? 10),
  };
}

function validateAttributes(attributes: Record<string, string>): Record<string, string> {
  if (attributes.RedrivePolicy !== undefined) {
    try {
      const p = JSON.parse(attributes.RedrivePolicy) as Json;
      if (typeof p.deadLetterTargetArn !== 'string' || !(Number(p.maxReceiveCount) >= 1))
        throw new Error('invalid');
    } catch {
      throw sqsError(
        'InvalidAttributeValue',
        'InvalidAttributeValue',
        'Invalid value for the parameter RedrivePolicy.',
      );
    }
  }
  for (const key of ['VisibilityTimeout', 'MessageRetentionPeriod', 'DelaySeconds']) {
    if (attributes[key] !== undefined && !/^\d+$/.test(attributes[key]!)) {
      throw sqsError(
        'InvalidAttributeValue',
        'InvalidAttributeValue',
        `Invalid value for the parameter ${key}.`,
      );
    }
  }
  return { ...attributes };
}
