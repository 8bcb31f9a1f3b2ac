import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatIssues } from '../domain/schemas/issues';
import { ConfigError } from '../errors';
import { requestSetFileIssues, withRequestSets } from './request-set-files';
import { type RolloutsConfig, rolloutsConfigSchema } from './schema';

export const CONFIG_PATH_ENV = 'ROLLOUTS_CONFIG_PATH';
export const DEFAULT_CONFIG_PATH = 'rollouts.config.yml';

const fail = (source: string, issues: string[], cause?: unknown): never => {
  throw new ConfigError(
    `Invalid configuration ${source}:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`,
    issues,
    { cause },
  );
};

/** Validates a configuration value (parsed YAML or JSON); every invalid field is reported by its path. */
export const validateConfig = (value: unknown, source: string): RolloutsConfig => {
  if (value === null || value === undefined) fail(source, ['(root): the file is empty']);
  const result = rolloutsConfigSchema.safeParse(value);
  if (!result.success) fail(source, formatIssues(result.error.issues), result.error);
  return result.data!;
};

/**
 * `yaml` is loaded on first use: packaged functions read the JSON copy made at package time
 * (serverless/config-vars.cjs), and their bundles leave `yaml` out (serverless.yml).
 */
const yaml = (): typeof import('yaml') => require('yaml');

/**
 * Parses and validates a configuration document (YAML, or JSON which is YAML too). `source` names
 * the document in error messages. Every invalid field is reported by its path.
 */
export const parseConfig = (text: string, source: string): RolloutsConfig => {
  const document = yaml().parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    fail(
      source,
      document.errors.map((error) => {
        const at = error.linePos?.[0];
        const where = at ? `line ${at.line}, column ${at.col}` : 'syntax';
        return `${where}: ${(error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`;
      }),
      document.errors[0],
    );
  }
  return validateConfig(document.toJS({ maxAliasCount: 100 }), source);
};

/** A JSON document: the copy of the configuration that functions are packaged with. */
export const parseJsonConfig = (text: string, source: string): RolloutsConfig => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    fail(source, [`syntax: ${(error as Error).message}`], error);
  }
  return validateConfig(value, source);
};

/**
 * Reads and validates a configuration file: `.json` as JSON, anything else as YAML, with its
 * request-set files (relative to it) read and validated into the configuration. Errors name the
 * file as given.
 */
export const loadConfigFile = (path: string): RolloutsConfig => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
    throw new ConfigError(`Cannot read configuration ${path}: ${reason}`, [`(file): ${reason}`], {
      cause: error,
    });
  }
  const config = path.endsWith('.json') ? parseJsonConfig(text, path) : parseConfig(text, path);
  const fileIssues = requestSetFileIssues(config, path);
  if (fileIssues.length > 0) fail(path, fileIssues);
  return withRequestSets(config, path);
};

let cached: { path: string; config: RolloutsConfig } | undefined;

/** The path handlers read: `ROLLOUTS_CONFIG_PATH`, default `rollouts.config.yml`, against the cwd. */
export const configPathFromEnv = (env: NodeJS.ProcessEnv = process.env): string =>
  resolve(process.cwd(), env[CONFIG_PATH_ENV] || DEFAULT_CONFIG_PATH);

/**
 * The configuration for this process, loaded once (at cold start) and cached. A bad file throws
 * ConfigError on every call, so the failure is visible on every invocation.
 */
export const loadConfigFromEnv = (): RolloutsConfig => {
  const path = configPathFromEnv();
  if (cached?.path === path) return cached.config;
  const config = loadConfigFile(path);
  cached = { path, config };
  return config;
};

/** Forget the cached configuration (tests, local cloud reloads). */
export const clearConfigCache = (): void => {
  cached = undefined;
};
