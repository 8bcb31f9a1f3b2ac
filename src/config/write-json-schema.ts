import { writeFileSync } from 'node:fs';
import { CONFIG_SCHEMA_FILE, configJsonSchema } from './json-schema';

writeFileSync(CONFIG_SCHEMA_FILE, configJsonSchema());
process.stdout.write(`wrote ${CONFIG_SCHEMA_FILE}\n`);
