import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA_FILE, configJsonSchema } from '../../src/config/json-schema';

const ROOT = resolve(__dirname, '../..');
const committed = () => readFileSync(resolve(ROOT, CONFIG_SCHEMA_FILE), 'utf8');

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
