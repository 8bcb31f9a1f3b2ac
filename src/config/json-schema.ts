import * as z from '../zod';
import { rolloutsConfigSchema } from './schema';

/** Where the JSON Schema of the configuration is committed (editors read it through the modeline). */
export const CONFIG_SCHEMA_FILE = 'rollouts.config.schema.json';

/**
 * The configuration's JSON Schema, generated from the zod schema that validates it: what a file
 * may hold as written (defaults optional). Checks zod runs in code (weights that increase, names
 * unique across stages) have no JSON Schema form; `config check` and the build still apply them.
 */
export const configJsonSchema = (): string =>
  `${JSON.stringify(
    {
      ...z.toJSONSchema(rolloutsConfigSchema, { io: 'input', unrepresentable: 'any' }),
      title: 'sagemaker-rollouts configuration',
      description:
        'Generated from src/config/schema.ts by `npm run config:schema`; `npm test` fails when it is stale.',
    },
    null,
    2,
  )}\n`;
