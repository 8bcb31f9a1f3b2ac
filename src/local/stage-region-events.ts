import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import type { AwsCredentialIdentity } from '@smithy/types';
import { parse } from 'yaml';

/** The template a user deploys in every region a stage names (README, "Stages in other regions"). */
export const STAGE_REGION_EVENTS_TEMPLATE = resolve(
  new URL('../..', import.meta.url).pathname,
  'serverless/stage-region-events.yml',
);

type Json = unknown;

interface Template {
  Parameters?: Record<string, { Type: string; Default?: string }>;
  Conditions?: Record<string, Json>;
  Resources: Record<string, { Type: string; Properties: Record<string, Json> }>;
}

/** A template the local deploy cannot carry out as CloudFormation would. */
export class LocalTemplateError extends Error {}

export interface StageRegionEventsStack {
  stackName: string;
  /** Where the stack is deployed: a stage's region, in the stage's account. */
  region: string;
  account: string;
  /** HomeAccountId: the service's account, for a stack in a cross-account stage's account. */
  parameters: { HomeRegion: string; HomeAccountId?: string; EndpointNames: string[] };
}

/** The forwarding rule as deployed in a stage's region. */
export interface DeployedRule {
  region: string;
  account: string;
  /** what the rule was deployed with: the stage account's, outside the service's */
  credentials?: AwsCredentialIdentity | undefined;
  ruleName: string;
  eventBusName: string;
  eventPattern: string;
  /** where the rule sends the events, as PutTargets received them */
  targets: { Id: string; Arn: string; RoleArn?: string }[];
}

/** The physical name CloudFormation gives a resource it names itself (without its random suffix). */
const physicalName = (stack: StageRegionEventsStack, logicalId: string): string =>
  `${stack.stackName}-${logicalId}`;

/**
 * Ref, Fn::Sub (both forms), Fn::GetAtt (Arn), Fn::If, Fn::Equals and the template's Conditions as
 * CloudFormation resolves them for this stack; a parameter left out takes its Default.
 */
const resolveIntrinsics = (value: Json, stack: StageRegionEventsStack, template: Template): Json => {
  const pseudo: Record<string, string> = {
    'AWS::AccountId': stack.account,
    'AWS::Region': stack.region,
    'AWS::Partition': 'aws',
    'AWS::StackName': stack.stackName,
  };
  const ref = (name: string): Json => {
    if (name in pseudo) return pseudo[name];
    const given = stack.parameters[name as keyof typeof stack.parameters];
    if (given !== undefined) return given;
    const fallback = template.Parameters?.[name]?.Default;
    if (fallback !== undefined) return fallback;
    throw new LocalTemplateError(`Ref ${name}: neither a parameter nor a pseudo parameter`);
  };
  const condition = (name: string): boolean => {
    const definition = template.Conditions?.[name];
    if (definition === undefined) throw new LocalTemplateError(`condition ${name} is not defined`);
    const result = walk(definition);
    if (typeof result !== 'boolean') throw new LocalTemplateError(`condition ${name} is not a boolean`);
    return result;
  };
  const sub = (text: string, variables: Record<string, Json>): string =>
    text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      if (name in variables) return String(variables[name]);
      const [logicalId, attribute] = name.split('.');
      return attribute === 'Arn' ? arnOf(logicalId!) : String(ref(name));
    });
  const arnOf = (logicalId: string): string => {
    const type = template.Resources[logicalId]?.Type;
    if (type === 'AWS::IAM::Role')
      return `arn:aws:iam::${stack.account}:role/${physicalName(stack, logicalId)}`;
    if (type === 'AWS::Events::Rule')
      return `arn:aws:events:${stack.region}:${stack.account}:rule/${physicalName(stack, logicalId)}`;
    throw new LocalTemplateError(`Fn::GetAtt ${logicalId}.Arn: no resource of a known type`);
  };
  const walk = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const entries = Object.entries(node as Record<string, Json>);
    const [first] = entries;
    if (entries.length === 1 && first) {
      const [key, arg] = first;
      if (key === 'Ref') return ref(String(arg));
      if (key === 'Fn::Sub') {
        if (!Array.isArray(arg)) return sub(String(arg), {});
        const [text, variables] = arg as [string, Record<string, Json>];
        return sub(text, walk(variables) as Record<string, Json>);
      }
      if (key === 'Fn::Equals') {
        const [a, b] = (arg as [Json, Json]).map(walk);
        return JSON.stringify(a) === JSON.stringify(b);
      }
      if (key === 'Fn::If') {
        const [name, whenTrue, whenFalse] = arg as [string, Json, Json];
        return walk(condition(name) ? whenTrue : whenFalse);
      }
      if (key === 'Fn::GetAtt') {
        const [logicalId, attribute] = arg as [string, string];
        if (attribute !== 'Arn') throw new LocalTemplateError(`Fn::GetAtt ${logicalId}.${attribute}`);
        return arnOf(logicalId);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, walk(v)]));
  };
  return walk(value);
};

/**
 * Deploys serverless/stage-region-events.yml to the local cloud as CloudFormation would: its
 * EventBridge rule and target through the EventBridge API of the stack's region. IAM is not
 * emulated, so the role is only named (the local cloud asks for a role on a target in another
 * region, as EventBridge does, but does not check what it allows).
 */
export const deployStageRegionEvents = async (
  stack: StageRegionEventsStack,
  templatePath = STAGE_REGION_EVENTS_TEMPLATE,
  /** the stage account's credentials (a role assumed there), for a stack outside the service's account */
  credentials?: AwsCredentialIdentity,
): Promise<DeployedRule> => {
  const template = parse(readFileSync(templatePath, 'utf8')) as Template;
  for (const [name, parameter] of Object.entries(template.Parameters ?? {}))
    if (!(name in stack.parameters) && parameter.Default === undefined)
      throw new LocalTemplateError(`parameter ${name} has no value`);
  const events = new EventBridgeClient({ region: stack.region, ...(credentials ? { credentials } : {}) });
  let deployed: DeployedRule | undefined;
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type === 'AWS::IAM::Role') continue;
    if (resource.Type !== 'AWS::Events::Rule')
      throw new LocalTemplateError(`${logicalId}: ${resource.Type} is not deployed locally`);
    const { EventBusName, EventPattern, State, Targets } = resolveIntrinsics(
      resource.Properties,
      stack,
      template,
    ) as {
      EventBusName?: string;
      EventPattern: Json;
      State?: 'ENABLED' | 'DISABLED';
      Targets: { Id: string; Arn: string; RoleArn?: string }[];
    };
    deployed = {
      region: stack.region,
      account: stack.account,
      credentials,
      ruleName: physicalName(stack, logicalId),
      eventBusName: EventBusName ?? 'default',
      eventPattern: JSON.stringify(EventPattern),
      targets: Targets,
    };
    await events.send(
      new PutRuleCommand({
        Name: deployed.ruleName,
        EventBusName: deployed.eventBusName,
        EventPattern: deployed.eventPattern,
        State: State ?? 'ENABLED',
      }),
    );
    await events.send(
      new PutTargetsCommand({ Rule: deployed.ruleName, EventBusName: deployed.eventBusName, Targets }),
    );
  }
  if (!deployed) throw new LocalTemplateError('the template has no AWS::Events::Rule');
  return deployed;
};

/** Turns a deployed forwarding rule off (its region's endpoint events are then lost) or on again. */
export const setForwarding = async (rule: DeployedRule, enabled: boolean): Promise<void> => {
  const credentials = rule.credentials;
  await new EventBridgeClient({ region: rule.region, ...(credentials ? { credentials } : {}) }).send(
    new PutRuleCommand({
      Name: rule.ruleName,
      EventBusName: rule.eventBusName,
      EventPattern: rule.eventPattern,
      State: enabled ? 'ENABLED' : 'DISABLED',
    }),
  );
};
