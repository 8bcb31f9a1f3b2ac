import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { parse, type Tags } from 'yaml';
import { loadConfigFile } from '../config/load';

/**
 * How serverless.yml wires events to functions, read from serverless.yml itself (with its
 * variables resolved the way osls resolves them), so that the local cloud and AWS cannot drift.
 */
export interface LocalWiring {
  service: string;
  functions: Record<string, { handlerFile: string; exportName: string; timeoutSeconds: number }>;
  eventRules: { functionName: string; bus: 'default' | 'service'; pattern: Record<string, unknown> }[];
  queueSources: {
    functionName: string;
    queue: QueueSpec;
    batchSize: number;
    reportBatchItemFailures: boolean;
  }[];
  schedules: { functionName: string; everyMs: number }[];
  /** Functions with a URL (serverless.yml `url`), and its auth type. */
  functionUrls: { functionName: string; authType: 'AWS_IAM' | 'NONE' }[];
  /** The stack's AWS::Events::EventBusPolicy statements (those its conditions create). */
  busPolicies: { logicalId: string; eventBusName: string; statementId: string; statement: unknown }[];
}

/** The account and region the local stack stands for, as CloudFormation's pseudo parameters. */
export interface Pseudo {
  account: string;
  region: string;
}

/** A template value whose intrinsics the local stack cannot resolve. */
export class LocalIntrinsicError extends Error {}

/**
 * Ref and Fn::Sub of CloudFormation's pseudo parameters (AWS::AccountId, AWS::Region,
 * AWS::Partition) and of the template's parameters (their defaults), and Fn::Equals, as they
 * resolve where the local stack stands; anything else is refused.
 */
export const resolvePseudo = (
  node: unknown,
  pseudo: Pseudo,
  parameters: Record<string, string> = {},
): unknown => {
  const values: Record<string, string> = {
    ...parameters,
    'AWS::AccountId': pseudo.account,
    'AWS::Region': pseudo.region,
    'AWS::Partition': 'aws',
  };
  const value = (name: string): string => {
    const found = values[name];
    if (found === undefined) throw new LocalIntrinsicError(`cannot resolve \${${name}} locally`);
    return found;
  };
  if (Array.isArray(node)) return node.map((item) => resolvePseudo(item, pseudo, parameters));
  if (!node || typeof node !== 'object') return node;
  const entries = Object.entries(node);
  const [first] = entries;
  if (entries.length === 1 && first) {
    const [key, arg] = first;
    if (key === 'Ref') return value(String(arg));
    if (key === 'Fn::Sub' && typeof arg === 'string')
      return arg.replace(/\$\{([^}]+)\}/g, (_, name: string) => value(name));
    if (key === 'Fn::Equals') {
      const [a, b] = (arg as unknown[]).map((item) => resolvePseudo(item, pseudo, parameters));
      return JSON.stringify(a) === JSON.stringify(b);
    }
    if (key.startsWith('Fn::')) throw new LocalIntrinsicError(`${key} is not resolved locally`);
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolvePseudo(v, pseudo, parameters)]));
};

export interface QueueSpec {
  logicalId: string;
  visibilityTimeoutSeconds: number;
  maxReceiveCount?: number | undefined;
  deadLetterQueue?: QueueSpec | undefined;
}

const SERVICE_DIR = resolve(dirname(new URL(import.meta.url).pathname), '..', '..');

/** CloudFormation short-form intrinsics, kept as their long form. */
const cfnTags: Tags = [
  'Ref',
  'GetAtt',
  'Sub',
  'Join',
  'Select',
  'Split',
  'If',
  'Equals',
  'Not',
  'ImportValue',
].flatMap((name) => {
  const key = name === 'Ref' ? 'Ref' : `Fn::${name}`;
  const resolveValue = (value: unknown) => ({
    [key]: name === 'GetAtt' && typeof value === 'string' ? value.split('.') : value,
  });
  return [
    { tag: `!${name}`, resolve: (value: string) => resolveValue(value) },
    {
      tag: `!${name}`,
      collection: 'seq' as const,
      resolve: (value: { toJSON(): unknown }) => resolveValue(value.toJSON()),
    },
  ];
}) as Tags;

/** Serverless variables only: `${AWS::Region}` and other Fn::Sub references stay as they are. */
const VARIABLE = /\$\{((?:self|sls|opt|param|env|file\()[^{}]*)\}/;

/** serverless.yml as parsed, by its text: each local stack reads it, and parsing took 0.1-0.2 s. */
const parsed = new Map<string, Record<string, unknown>>();
const parseServerlessYml = (text: string): Record<string, unknown> => {
  let doc = parsed.get(text);
  if (!doc) {
    doc = parse(text, { customTags: cfnTags }) as Record<string, unknown>;
    parsed.clear();
    parsed.set(text, doc);
  }
  return doc;
};

const pathGet = (root: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], root);

export const readServerlessWiring = (options: {
  configPath: string;
  stage?: string;
  serviceDir?: string;
  /** where the local stack stands (default: the local cloud's account, us-east-1) */
  pseudo?: Pseudo;
}): LocalWiring => {
  const pseudo = options.pseudo ?? { account: '111122223333', region: 'us-east-1' };
  const serviceDir = options.serviceDir ?? SERVICE_DIR;
  const stage = options.stage ?? 'local';
  // read, never changed: the resolved values below are new objects
  const doc = parseServerlessYml(readFileSync(resolve(serviceDir, 'serverless.yml'), 'utf8'));
  const require = createRequire(resolve(serviceDir, 'serverless.yml'));
  const configVars = require('./serverless/config-vars.cjs') as {
    derive: (config: unknown, stage: string, configPath: string) => unknown;
  };
  const configAbsolute = resolve(serviceDir, options.configPath);
  const derived = configVars.derive(
    loadConfigFile(configAbsolute),
    stage,
    relative(serviceDir, configAbsolute),
  );
  const params: Record<string, string> = { config: options.configPath };

  const lookup = (reference: string): unknown => {
    const [source, ...rest] = reference.split(':');
    const key = rest.join(':');
    if (source === 'self') return selfGet(key);
    if (source === 'sls' && key === 'stage') return stage;
    if (source === 'opt') return key === 'stage' ? stage : undefined;
    if (source === 'param') return params[key];
    if (source === 'env') return process.env[key];
    if (source?.startsWith('file(./serverless/config-vars.cjs)')) return pathGet({ vars: derived }, key);
    return undefined;
  };
  /** `${a:x, b:y, 'literal'}`: the first source that has a value, else the literal. */
  const variable = (expression: string): unknown => {
    for (const part of expression.split(/,\s*/)) {
      const literal = /^(['"])(.*)\1$/.exec(part);
      const value = literal ? literal[2] : lookup(part);
      if (value !== undefined) return resolveNode(value);
    }
    throw new Error(`serverless.yml: cannot resolve \${${expression}} locally`);
  };
  /** `self:` paths may run through values that are variables themselves (custom.rollouts). */
  const selfGet = (path: string): unknown =>
    path.split('.').reduce<unknown>((node, key) => {
      const here = typeof node === 'string' ? resolveString(node) : node;
      return (here as Record<string, unknown> | undefined)?.[key];
    }, doc);
  const resolveString = (text: string): unknown => {
    let current: unknown = text;
    for (let guard = 0; typeof current === 'string' && VARIABLE.test(current) && guard < 50; guard++) {
      const match = VARIABLE.exec(current)!;
      const value = variable(match[1]!);
      current = match[0] === current ? value : current.replace(match[0], String(value));
    }
    return current;
  };
  const resolveNode = (node: unknown): unknown => {
    if (typeof node === 'string') return resolveString(node);
    if (Array.isArray(node)) return node.map(resolveNode);
    if (node && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolveNode(v)]));
    }
    return node;
  };

  const service = String(resolveNode(doc.service));
  // only what the local cloud uses: the region, for one, is the local cloud's own
  const provider = { timeout: resolveNode(pathGet(doc, 'provider.timeout')) as number | undefined };
  const resources = (pathGet(doc, 'resources.Resources') ?? {}) as Record<string, { Properties?: unknown }>;
  const queue = (logicalId: string): QueueSpec => {
    const props = (resolveNode(resources[logicalId]?.Properties) ?? {}) as Record<string, unknown>;
    const redrive = props.RedrivePolicy as
      | { deadLetterTargetArn?: { 'Fn::GetAtt'?: string[] }; maxReceiveCount?: number }
      | undefined;
    const dlqId = redrive?.deadLetterTargetArn?.['Fn::GetAtt']?.[0];
    return {
      logicalId,
      visibilityTimeoutSeconds: Number(props.VisibilityTimeout ?? 30),
      maxReceiveCount: redrive?.maxReceiveCount !== undefined ? Number(redrive.maxReceiveCount) : undefined,
      deadLetterQueue: dlqId ? queue(dlqId) : undefined,
    };
  };

  const wiring: LocalWiring = {
    service,
    functions: {},
    eventRules: [],
    queueSources: [],
    schedules: [],
    functionUrls: [],
    busPolicies: [],
  };
  const conditions = (pathGet(doc, 'resources.Conditions') ?? {}) as Record<string, unknown>;
  const declared = (pathGet(doc, 'resources.Parameters') ?? {}) as Record<string, { Default?: unknown }>;
  // a stack deployed without parameter overrides: each parameter its default
  const parameters = Object.fromEntries(
    Object.entries(declared).map(([name, p]) => [name, String(resolveNode(p.Default) ?? '')]),
  );
  for (const [logicalId, resource] of Object.entries(resources)) {
    const { Type, Condition, Properties } = resource as {
      Type?: string;
      Condition?: string;
      Properties?: Record<string, unknown>;
    };
    if (Type !== 'AWS::Events::EventBusPolicy') continue;
    if (
      Condition !== undefined &&
      resolvePseudo(resolveNode(conditions[Condition]), pseudo, parameters) !== true
    )
      continue;
    const props = resolvePseudo(resolveNode(Properties), pseudo, parameters) as Record<string, unknown>;
    wiring.busPolicies.push({
      logicalId,
      eventBusName: String(props.EventBusName ?? 'default'),
      statementId: String(props.StatementId),
      statement: props.Statement,
    });
  }
  const functions = (doc.functions ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, rawFn] of Object.entries(functions)) {
    const fn = resolveNode(rawFn) as {
      handler: string;
      timeout?: number;
      events?: Record<string, unknown>[];
      url?: boolean | { authorizer?: string };
    };
    const dot = fn.handler.lastIndexOf('.');
    wiring.functions[name] = {
      handlerFile: resolve(serviceDir, `${fn.handler.slice(0, dot)}.ts`),
      exportName: fn.handler.slice(dot + 1),
      timeoutSeconds: Number(fn.timeout ?? provider.timeout ?? 6),
    };
    if (fn.url) {
      const authorizer = typeof fn.url === 'object' ? fn.url.authorizer : undefined;
      wiring.functionUrls.push({
        functionName: name,
        authType: authorizer === 'aws_iam' ? 'AWS_IAM' : 'NONE',
      });
    }
    for (const event of fn.events ?? []) {
      if (event.eventBridge) {
        const spec = event.eventBridge as { pattern: Record<string, unknown>; eventBus?: unknown };
        wiring.eventRules.push({
          functionName: name,
          bus: spec.eventBus ? 'service' : 'default',
          pattern: resolvePseudo(spec.pattern, pseudo) as Record<string, unknown>,
        });
      } else if (event.sqs) {
        const spec = event.sqs as {
          arn: { 'Fn::GetAtt': string[] };
          batchSize?: number;
          functionResponseType?: string;
        };
        wiring.queueSources.push({
          functionName: name,
          queue: queue(spec.arn['Fn::GetAtt'][0]!),
          batchSize: spec.batchSize ?? 10,
          reportBatchItemFailures: spec.functionResponseType === 'ReportBatchItemFailures',
        });
      } else if (event.schedule) {
        const expression = String(
          typeof event.schedule === 'string' ? event.schedule : (event.schedule as { rate: string }).rate,
        );
        wiring.schedules.push({ functionName: name, everyMs: rateToMs(expression) });
      }
    }
  }
  return wiring;
};

/** `rate(1 minute)`, `rate(5 minutes)`, `rate(1 hour)`. */
export const rateToMs = (expression: string): number => {
  const match = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!match) throw new Error(`unsupported schedule expression ${expression}`);
  const unit = match[2]!.startsWith('minute')
    ? 60_000
    : match[2]!.startsWith('hour')
      ? 3_600_000
      : 86_400_000;
  return Number(match[1]) * unit;
};
