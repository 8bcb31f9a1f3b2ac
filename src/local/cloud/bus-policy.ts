/**
 * An event bus's resource-based policy, as EventBridge applies it to events a rule of another
 * account sends to the bus ("Permissions for event buses in Amazon EventBridge"): an explicit
 * Deny wins, else some Allow of events:PutEvents must name the sender account (or "*"), the bus,
 * and hold its conditions. The condition keys EventBridge documents for this (events:source,
 * events:detail-type, events:eventBusInvocation, aws:SourceArn, aws:SourceAccount) are evaluated;
 * any other key or operator is refused when the policy is put, rather than ignored.
 */
import { ApiError } from './protocol';

type Json = unknown;

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal: Json;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface BusPolicy {
  Version?: string;
  Statement: PolicyStatement[];
}

/** What a rule of `account` sends: the event's source and detail type, and the rule's ARN. */
export interface ForwardRequest {
  account: string;
  ruleArn: string;
  source: string;
  detailType: string;
}

const KEYS = [
  'events:source',
  'events:detail-type',
  'events:eventbusinvocation',
  'aws:sourcearn',
  'aws:sourceaccount',
];
const OPERATORS = ['StringEquals', 'ForAllValues:StringEquals', 'ArnEquals', 'ArnLike', 'StringLike', 'Bool'];

const list = (value: Json): string[] => (Array.isArray(value) ? value.map(String) : [String(value)]);

const invalid = (message: string): ApiError =>
  new ApiError('MalformedPolicyDocumentException', `The policy is not valid: ${message}`);

/** Parses and checks a policy as PutPermission (Policy) receives it; refuses what is not emulated. */
export const parseBusPolicy = (text: string): BusPolicy => {
  let policy: BusPolicy;
  try {
    policy = JSON.parse(text) as BusPolicy;
  } catch (error) {
    throw invalid(`not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!Array.isArray(policy?.Statement) || policy.Statement.length === 0)
    throw invalid('Statement must be a non-empty list');
  for (const [i, s] of policy.Statement.entries()) checkStatement(s, `Statement[${i}]`);
  return policy;
};

export const checkStatement = (s: PolicyStatement, where: string): void => {
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw invalid(`${where}.Effect must be Allow or Deny`);
  if (s.Principal === undefined) throw invalid(`${where}.Principal is required`);
  if (s.Action === undefined) throw invalid(`${where}.Action is required`);
  if (s.Resource === undefined) throw invalid(`${where}.Resource is required`);
  for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
    if (!OPERATORS.includes(operator))
      throw invalid(`${where}: condition operator ${operator} is not supported by the local EventBridge`);
    for (const key of Object.keys(keys))
      if (!KEYS.includes(key.toLowerCase()))
        throw invalid(`${where}: condition key ${key} is not supported by the local EventBridge`);
  }
};

/** IAM's `*` and `?` wildcards, the rest literal. */
const glob = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  ).test(value);

const namesAccount = (principal: Json, account: string): boolean => {
  if (principal === '*') return true;
  const aws = (principal as { AWS?: Json } | undefined)?.AWS;
  if (aws === undefined) return false;
  return list(aws).some((p) => p === '*' || p === account || p === `arn:aws:iam::${account}:root`);
};

const conditionHolds = (condition: PolicyStatement['Condition'], request: ForwardRequest): boolean => {
  const values: Record<string, string> = {
    'events:source': request.source,
    'events:detail-type': request.detailType,
    'events:eventbusinvocation': 'true',
    'aws:sourcearn': request.ruleArn,
    'aws:sourceaccount': request.account,
  };
  return Object.entries(condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, expected]) => {
      const actual = values[key.toLowerCase()]!;
      const match =
        operator === 'ArnLike' || operator === 'StringLike' ? glob : (a: string, b: string) => a === b;
      const compare =
        operator === 'Bool' ? (a: string, b: string) => a.toLowerCase() === b.toLowerCase() : match;
      return list(expected).some((e) => compare(e, actual));
    }),
  );
};

const applies = (s: PolicyStatement, busArn: string, request: ForwardRequest): boolean =>
  list(s.Action).some((a) => a === 'events:PutEvents' || a === 'events:*') &&
  list(s.Resource).some((r) => glob(r, busArn)) &&
  namesAccount(s.Principal, request.account) &&
  conditionHolds(s.Condition, request);

/** Whether the bus's policy lets this rule's event in; undefined, or else why not. */
export const refusal = (
  policy: BusPolicy | undefined,
  busArn: string,
  request: ForwardRequest,
): string | undefined => {
  const statements = policy?.Statement ?? [];
  const deny = statements.find((s) => s.Effect === 'Deny' && applies(s, busArn, request));
  if (deny) return `explicitly denied by statement ${deny.Sid ?? '(no Sid)'} of the policy of ${busArn}`;
  if (statements.some((s) => s.Effect === 'Allow' && applies(s, busArn, request))) return undefined;
  return policy
    ? `the policy of ${busArn} allows account ${request.account} no events:PutEvents of ${request.source} / ${request.detailType}`
    : `${busArn} has no resource policy: it takes no events from account ${request.account}`;
};
