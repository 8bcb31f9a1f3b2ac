import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { CONFIG_SCHEMA_FILE } from '../../src/config/json-schema';
import { repoRoot } from './fixtures';

/** The committed JSON Schema of the configuration, as editors read it. */
export const committedSchema = (): string => readFileSync(resolve(repoRoot, CONFIG_SCHEMA_FILE), 'utf8');

/** A real JSON Schema (2020-12) validator of it; the editor keywords are annotations to it. */
const validate = (() => {
  const ajv = new Ajv2020({ allErrors: true, strictSchema: true, strictTuples: true, strictTypes: false });
  ajv.addVocabulary(['errorMessage', 'deprecationMessage', 'doNotSuggest']);
  return ajv.compile(JSON.parse(committedSchema()));
})();

/**
 * The fields the schema finds wrong in a configuration, as the loader names them
 * (`modelPackageGroups.churn-model.stages.prod`): a missing or unknown field by its own path.
 */
export const schemaErrorPaths = (value: unknown): string[] => {
  if (validate(value)) return [];
  const paths = (validate.errors ?? []).map((error) => {
    const params = error.params as Record<string, unknown>;
    const own = params.missingProperty ?? params.additionalProperty ?? params.propertyName;
    const pointer = own === undefined ? error.instancePath : `${error.instancePath}/${String(own)}`;
    return pointer.split('/').slice(1).join('.') || '(root)';
  });
  return [...new Set(paths)];
};
