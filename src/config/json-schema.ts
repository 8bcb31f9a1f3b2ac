import * as z from '../zod';
import { FIELD_DESCRIPTIONS } from './json-schema-descriptions';
import { RETIRED_GATE_FIELDS, rolloutsConfigSchema, STAGE_NAME } from './schema';
import { RUN_STAGES } from './stage-checks';

/** Where the JSON Schema of the configuration is committed (editors read it through the modeline). */
export const CONFIG_SCHEMA_FILE = 'rollouts.config.schema.json';

type JsonSchema = { [keyword: string]: unknown } & {
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  required?: string[];
  description?: string;
};

const GROUP = 'modelPackageGroups.*';
const STAGES = RUN_STAGES.map((stage) => `${GROUP}.stages.${stage}`);

/** The branch of a union whose `type` property is the constant `value`. */
const branch = (node: JsonSchema, value: string): JsonSchema | undefined =>
  [...(node.oneOf ?? []), ...(node.anyOf ?? [])].find((b) => b.properties?.type?.const === value);

/**
 * The node at a path of FIELD_DESCRIPTIONS' form (`a.*.b(branch).c[]`), in the generated schema.
 */
const nodeAt = (root: JsonSchema, path: string): JsonSchema => {
  let node: JsonSchema | undefined = root;
  for (const segment of path.split('.')) {
    const [, name, chosen, items] = /^([^([]+)(?:\((\w+)\))?(\[\])?$/.exec(segment) ?? [];
    if (name === '*')
      node = typeof node?.additionalProperties === 'object' ? node.additionalProperties : undefined;
    else node = node?.properties?.[name!];
    if (node && chosen) node = branch(node, chosen);
    if (node && items) node = node.items;
    if (!node) throw new Error(`the configuration JSON Schema has no ${path}`);
  }
  return node;
};

/** JSON Schema's if/then/else. */
const when = (condition: JsonSchema, then: JsonSchema, otherwise?: JsonSchema): JsonSchema => ({
  if: condition,
  then,
  ...(otherwise ? { else: otherwise } : {}),
});

/** Adds conditions a node must meet besides its own. */
const addAll = (node: JsonSchema, conditions: JsonSchema[]): void => {
  node.allOf = [...(node.allOf ?? []), ...conditions];
};

/** A schema no value matches, with the message editors show instead of "not allowed". */
const refused = (message: string): JsonSchema => ({ not: {}, errorMessage: message, doNotSuggest: true });

/**
 * The stages this version runs, qa and prod, each a stage of the general form (the zod schema's
 * map of stages); any other stage name is refused with the reason, as the loader refuses it.
 */
const runStagesOnly = (root: JsonSchema): void => {
  const stages = nodeAt(root, `${GROUP}.stages`);
  const stage = stages.additionalProperties as JsonSchema;
  stages.properties = Object.fromEntries(RUN_STAGES.map((name) => [name, structuredClone(stage)]));
  stages.required = [...RUN_STAGES];
  stages.propertyNames = { pattern: STAGE_NAME.source };
  stages.additionalProperties = refused(
    'this version runs two stages, qa then prod; a graph of other stages waits for a version that walks it',
  );
};

/**
 * Checks the loader makes in code, written in JSON Schema where it has a form: editors flag them
 * as you type. Those it has none for (weights that increase, endpoint names unique, the observer
 * role other than the deployer role, the stages' order) are said in the fields' descriptions.
 */
const addChecks = (root: JsonSchema): void => {
  nodeAt(root, 'modelPackageGroups').minProperties = 1;
  runStagesOnly(root);
  for (const stage of STAGES) addStageChecks(root, stage);
};

const addStageChecks = (root: JsonSchema, stage: string): void => {
  const canary = `${stage}.strategy(canary)`;
  const native = `${stage}.strategy(native)`;
  const gates = nodeAt(root, `${canary}.gates`);
  for (const [field, instead] of Object.entries(RETIRED_GATE_FIELDS)) {
    gates.properties![field] = {
      description: instead,
      deprecated: true,
      deprecationMessage: instead,
      ...refused(instead),
    };
  }
  addAll(nodeAt(root, stage), [
    when(
      { required: ['serverless'] },
      {
        not: { required: ['instanceType'] },
        errorMessage: 'set either instanceType (with optional instanceCount) or serverless, not both',
      },
      { required: ['instanceType'] },
    ),
  ]);
  const crossAccount = nodeAt(root, `${stage}.crossAccount`);
  crossAccount.required = [...(crossAccount.required ?? []), 'observerRoleArn'];
  const nativeShadow =
    'a shadow phase needs strategy canary: native blue/green shifting has no shadow variant';
  nodeAt(root, native).properties!.shadow = refused(nativeShadow);
  addAll(nodeAt(root, stage), [
    when(
      { required: ['serverless'] },
      {
        properties: {
          strategy: {
            properties: {
              type: {
                not: { const: 'native' },
                errorMessage:
                  'native blue/green shifting is not available for serverless endpoints; use canary',
              },
              shadow: refused(
                'SageMaker has no shadow variants on serverless endpoints; remove shadow or use instances',
              ),
            },
          },
        },
      },
    ),
    when(
      {
        not: {
          required: ['strategy'],
          properties: { strategy: { required: ['type'], properties: { type: { const: 'canary' } } } },
        },
      },
      {
        properties: {
          preTraffic: refused(
            'a pre-traffic check needs strategy canary: native shifting and replace have no candidate variant at weight 0',
          ),
        },
      },
    ),
  ]);
  const routing = (type: string, sizePercent: JsonSchema): JsonSchema =>
    when(
      { required: ['type'], properties: { type: { const: type } } },
      { required: ['sizePercent'], properties: { sizePercent } },
    );
  addAll(nodeAt(root, `${native}.trafficRouting`), [
    routing('CANARY', { maximum: 50, errorMessage: 'CANARY needs a sizePercent of at most 50' }),
    routing('LINEAR', { minimum: 10, maximum: 50, errorMessage: 'LINEAR needs a sizePercent from 10 to 50' }),
  ]);
  nodeAt(root, `${stage}.preTraffic`).oneOf = [{ required: ['requests'] }, { required: ['requestSetFile'] }];
  const valueExpectation = nodeAt(root, `${stage}.preTraffic.requests[].expect.values.*`).anyOf!.find(
    (b) => b.properties?.min,
  )!;
  valueExpectation.anyOf = [{ required: ['min'] }, { required: ['max'] }];
};

/** Puts the description first, where a reader of the file looks for it. */
const describe = (node: JsonSchema, description: string): void => {
  const rest = { ...node };
  for (const key of Object.keys(node)) delete node[key];
  Object.assign(node, { description }, rest);
};

/**
 * Gives every field its description from FIELD_DESCRIPTIONS; a field without one, or a
 * description for no field, is an error (the schema would go stale in silence).
 */
const addDescriptions = (root: JsonSchema): void => {
  const missing: string[] = [];
  const used = new Set<string>();
  const field = (node: JsonSchema, path: string) => {
    if (node.description === undefined) {
      const key = [path, path.replace(/\.stages\.(qa|prod)\./, '.stages.<stage>.')].find(
        (candidate) => FIELD_DESCRIPTIONS[candidate] !== undefined,
      );
      if (key) {
        used.add(key);
        describe(node, FIELD_DESCRIPTIONS[key]!);
      } else missing.push(path);
    }
    walk(node, path);
  };
  const walk = (node: JsonSchema, path: string) => {
    const at = (name: string) => (path ? `${path}.${name}` : name);
    for (const [name, child] of Object.entries(node.properties ?? {})) field(child, at(name));
    const values = node.additionalProperties;
    if (typeof values === 'object' && Object.keys(values).length > 0) field(values, at('*'));
    if (node.items) walk(node.items, `${path}[]`);
    for (const option of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) {
      const type = option.properties?.type?.const;
      walk(option, typeof type === 'string' ? `${path}(${type})` : path);
    }
  };
  walk(root, '');
  const unused = Object.keys(FIELD_DESCRIPTIONS).filter((key) => !used.has(key));
  if (missing.length > 0 || unused.length > 0)
    throw new Error(
      `configuration JSON Schema: fields without a description: ${missing.join(', ') || 'none'}; descriptions of no field: ${unused.join(', ') || 'none'}`,
    );
};

/**
 * The configuration's JSON Schema, generated from the zod schema that validates it: what a file
 * may hold as written (defaults optional), every field described for editors' hover help, removed
 * fields refused with what to write instead, and the loader's checks in code added where JSON
 * Schema can express them.
 */
export const configJsonSchema = (): string => {
  const schema = z.toJSONSchema(rolloutsConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  addChecks(schema);
  addDescriptions(schema);
  return `${JSON.stringify(
    {
      ...schema,
      title: 'sagemaker-rollouts configuration',
      description:
        'Generated from src/config/schema.ts and src/config/json-schema-descriptions.ts by `npm run config:schema`; `npm test` fails when it is stale. `config check` applies every check; this schema those JSON Schema can express.',
    },
    null,
    2,
  )}\n`;
};
