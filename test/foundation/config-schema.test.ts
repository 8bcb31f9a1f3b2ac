import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../../src/config';
import { CONFIG_SCHEMA_FILE, configJsonSchema } from '../../src/config/json-schema';
import { ConfigError } from '../../src/errors';
import { broken, churnProd, example } from './broken-configs';
import { committedSchema, schemaErrorPaths } from './config-json-schema';
import type { Json } from './fixtures';

const ROOT = resolve(__dirname, '../..');
const committed = committedSchema;

const schemaErrors = schemaErrorPaths;

const loaderIssues = (value: unknown): string[] => {
  try {
    parseConfig(stringify(value), 'c.yml');
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
};

type Node = { [keyword: string]: unknown };

/** Every field of the schema (a property, or a map's value), by path; conditionals are not fields. */
const fields = (node: Node, path = ''): [string, Node][] => {
  const found: [string, Node][] = [];
  for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, Node>))
    found.push([`${path}.${name}`, child], ...fields(child, `${path}.${name}`));
  const values = node.additionalProperties as Node | boolean | undefined;
  if (typeof values === 'object' && Object.keys(values).length > 0)
    found.push([`${path}.*`, values], ...fields(values, `${path}.*`));
  if (node.items) found.push(...fields(node.items as Node, `${path}[]`));
  for (const option of [...((node.anyOf ?? []) as Node[]), ...((node.oneOf ?? []) as Node[])])
    found.push(...fields(option, path));
  return found;
};

/** Every object schema of the tree, conditionals included. */
const objects = (node: unknown): Node[] => {
  if (typeof node !== 'object' || node === null) return [];
  const children = Object.values(node).flatMap(objects);
  return (node as Node).type === 'object' ? [node as Node, ...children] : children;
};

describe('the configuration JSON Schema', () => {
  it('is the one the zod schema generates (run `npm run config:schema` after changing it)', () => {
    expect(committed(), `${CONFIG_SCHEMA_FILE} is stale: run \`npm run config:schema\``).toBe(
      configJsonSchema(),
    );
  });

  it('describes the file as written: required fields, enums, limits, no unknown keys', () => {
    const schema = JSON.parse(committed());
    expect(schema.required).toEqual(['modelPackageGroups']);
    expect(schema.additionalProperties).toBe(false);
    const group = schema.properties.modelPackageGroups.additionalProperties;
    expect(group.required).toEqual(expect.arrayContaining(['executionRoleArn', 'stages']));
    expect(group.properties.concurrency.enum).toEqual(['supersede', 'queue', 'reject']);
    expect(JSON.stringify(group.properties.stages)).toContain('"bakeMinutes"');
  });

  it('has a description on every field, for editors’ hover help', () => {
    const all = fields(JSON.parse(committed()));
    expect(all.length).toBeGreaterThan(100);
    const undescribed = all.filter(([, node]) => !(typeof node.description === 'string' && node.description));
    expect(undescribed.map(([path]) => path)).toEqual([]);
  });

  it('closes every object: no key it does not know, except in free-form request bodies', () => {
    const open = objects(JSON.parse(committed())).filter(
      (node) => node.additionalProperties !== false && node.propertyNames === undefined,
    );
    expect(open).toEqual([]);
  });

  it.each([
    'rollouts.config.yml',
    ...readdirSync(join(ROOT, 'examples'))
      .filter((dir) => existsSync(join(ROOT, 'examples', dir, 'rollouts.config.yml')))
      .map((dir) => `examples/${dir}/rollouts.config.yml`),
    ...readdirSync(join(ROOT, 'src/local/scenarios'))
      .filter((file) => file.endsWith('.local.yml'))
      .map((file) => `src/local/scenarios/${file}`),
    ...readdirSync(join(ROOT, 'test/e2e/configs'))
      .filter((file) => file.endsWith('.yml'))
      .map((file) => `test/e2e/configs/${file}`),
  ])('accepts %s, as the loader does', (file) => {
    const value = parse(readFileSync(join(ROOT, file), 'utf8'));
    expect(schemaErrors(value)).toEqual([]);
  });

  const gates = (c: Record<string, Json>) => churnProd(c).strategy.gates;
  /** The bad inputs of the issue that asked for this schema. */
  const reported: [string, (c: Record<string, Json>) => void, string][] = [
    ['maxErrorRateRatio: {}', (c) => (gates(c).maxErrorRateRatio = {}), 'gates.maxErrorRateRatio: removed'],
    ['maxLatencyMs: {}', (c) => (gates(c).maxLatencyMs = {}), 'gates.maxLatencyMs: removed'],
    ['maxErrorRateRatio: 2', (c) => (gates(c).maxErrorRateRatio = 2), 'gates.maxErrorRateRatio: removed'],
    [
      'gates.maxLatencyRatoi (a typo)',
      (c) => (gates(c).maxLatencyRatoi = 1.5),
      'gates.maxLatencyRatoi: unknown field; did you mean `maxLatencyRatio`?',
    ],
  ];

  it.each(reported)('refuses %s, as the loader does', (_, mutate, expected) => {
    const config = example();
    mutate(config);
    expect(schemaErrors(config)).not.toEqual([]);
    expect(loaderIssues(config).some((issue) => issue.includes(expected))).toBe(true);
  });

  it('refuses the removed gate fields with what to write instead, and keeps them out of completion', () => {
    const schema = JSON.parse(committed());
    const canary =
      schema.properties.modelPackageGroups.additionalProperties.properties.stages.properties.prod.properties
        .strategy.oneOf[0];
    for (const field of ['maxErrorRateRatio', 'maxLatencyMs']) {
      const removed = canary.properties.gates.properties[field];
      expect(removed).toMatchObject({ not: {}, deprecated: true, doNotSuggest: true });
      expect(removed.errorMessage).toMatch(/^removed: /);
      expect(removed.description).toContain(removed.errorMessage);
    }
  });

  /**
   * Checks JSON Schema has no form for: comparisons between values of the file. The schema
   * accepts them and says in the field's description that `config check` applies them.
   */
  const NO_JSON_SCHEMA_FORM: Record<string, string> = {
    'non-increasing weights': 'Weights must increase',
    'an endpoint used by two groups': 'unique across all groups and stages',
    'the same endpoint for qa and prod': 'must differ from QA',
    'the deployer role as the observer role': 'must be another role than roleArn',
  };

  it.each(broken)(
    '%s: refused by the schema too at the same field, or said in its description',
    (name, mutate, expected) => {
      const config = example();
      mutate(config);
      expect(loaderIssues(config).some((issue) => issue.includes(`: ${expected}`))).toBe(true);
      const unsaid = NO_JSON_SCHEMA_FORM[name];
      if (unsaid === undefined)
        expect(schemaErrors(config)).toContain(expected.slice(0, expected.indexOf(': ')));
      else {
        expect(schemaErrors(config)).toEqual([]);
        expect(committed()).toContain(unsaid);
      }
    },
  );

  it.each(['rollouts.config.yml', 'src/local/scenarios/rollouts.local.yml'])(
    '%s names it in a yaml-language-server modeline',
    (file) => {
      const first = readFileSync(resolve(ROOT, file), 'utf8').split('\n')[0] ?? '';
      const match = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
      expect(match, first).not.toBeNull();
      expect(resolve(dirname(resolve(ROOT, file)), match![1]!)).toBe(resolve(ROOT, CONFIG_SCHEMA_FILE));
      expect(existsSync(resolve(ROOT, CONFIG_SCHEMA_FILE))).toBe(true);
    },
  );
});
