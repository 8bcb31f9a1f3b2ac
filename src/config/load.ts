import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { closest } from '../closest-name';
import { type FieldIssue, fieldIssues, formatPath } from '../domain/schemas/issues';
import { ConfigError } from '../errors';
import { knownKeysAt } from './known-keys';
import { type Locate, locator } from './positions';
import { requestSetFileIssues, withRequestSets } from './request-set-files';
import { RETIRED_GATE_FIELDS, type RolloutsConfig, rolloutsConfigSchema } from './schema';

export const CONFIG_PATH_ENV = 'ROLLOUTS_CONFIG_PATH';
export const DEFAULT_CONFIG_PATH = 'rollouts.config.yml';

/** Issues whose key is the mistake (unknown, removed, badly named) point at the key, not the value. */
const keyIsWrong = (issue: FieldIssue): boolean =>
  Boolean(issue.unknownKey || issue.badKey) ||
  (issue.path.at(-2) === 'gates' && String(issue.path.at(-1)) in RETIRED_GATE_FIELDS);

/**
 * Each issue as `file:line:col: path: message` (`file: path: message` where the place is unknown),
 * in the order they are written in the file, as an editor lists them.
 */
const located = (source: string, issues: FieldIssue[], locate: Locate | undefined): string[] =>
  issues
    .map((issue) => ({
      issue,
      at:
        locate?.(issue.path, keyIsWrong(issue)) ??
        (issue.path.length === 0 ? { line: 1, col: 1 } : undefined),
    }))
    .toSorted(
      (a, b) =>
        (a.at?.line ?? Number.MAX_SAFE_INTEGER) - (b.at?.line ?? Number.MAX_SAFE_INTEGER) ||
        (a.at?.col ?? 0) - (b.at?.col ?? 0),
    )
    .map(
      ({ issue, at }) =>
        `${source}${at ? `:${at.line}:${at.col}` : ''}: ${formatPath(issue.path)}: ${issue.message}`,
    );

const fail = (source: string, issues: string[], cause?: unknown): never => {
  throw new ConfigError(`Invalid configuration ${source}:\n${issues.join('\n')}`, issues, { cause });
};

/** Unknown keys with the known key they most likely meant. */
const withSuggestions = (issues: FieldIssue[], value: unknown): FieldIssue[] =>
  issues.map((issue) => {
    if (!issue.unknownKey) return issue;
    const key = String(issue.path.at(-1));
    const meant = closest(key, knownKeysAt(rolloutsConfigSchema, value, issue.path.slice(0, -1)));
    return meant ? { ...issue, message: `${issue.message}; did you mean \`${meant}\`?` } : issue;
  });

/**
 * Validates a configuration value (parsed YAML or JSON); every invalid field is reported by its
 * path and, given `locate`, its line and column in the file.
 */
export const validateConfig = (value: unknown, source: string, locate?: Locate): RolloutsConfig => {
  if (value === null || value === undefined)
    fail(source, located(source, [{ path: [], message: 'the file is empty' }], locate));
  const result = rolloutsConfigSchema.safeParse(value);
  if (!result.success) {
    const issues = withSuggestions(fieldIssues(result.error.issues), value);
    fail(source, located(source, issues, locate), result.error);
  }
  return result.data!;
};

/**
 * `yaml` is loaded on first use: packaged functions read the JSON copy made at package time
 * (serverless/config-vars.cjs), and their bundles leave `yaml` out (serverless.yml).
 */
const yaml = (): typeof import('yaml') => require('yaml');

/** `yaml` where it is installed: packaged functions have none, and their errors go without lines. */
const optionalYaml = (): typeof import('yaml') | undefined => {
  try {
    return yaml();
  } catch {
    return undefined;
  }
};

const parseYaml = (y: typeof import('yaml'), text: string) => {
  const lines = new y.LineCounter();
  const document = y.parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter: lines });
  return { document, locate: locator(y, document, lines) };
};

/**
 * Parses and validates a configuration document (YAML, or JSON which is YAML too). `source` names
 * the document in error messages. Every invalid field is reported by its path, line and column.
 */
export const parseConfig = (text: string, source: string): RolloutsConfig =>
  parseConfigDocument(text, source).config;

const parseConfigDocument = (text: string, source: string): { config: RolloutsConfig; locate: Locate } => {
  const { document, locate } = parseYaml(yaml(), text);
  if (document.errors.length > 0) {
    fail(
      source,
      document.errors.map((error) => {
        const at = error.linePos?.[0];
        const message = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
        return `${source}${at ? `:${at.line}:${at.col}` : ''}: ${message}`;
      }),
      document.errors[0],
    );
  }
  return { config: validateConfig(document.toJS({ maxAliasCount: 100 }), source, locate), locate };
};

/**
 * A JSON document: the copy of the configuration that functions are packaged with. Lines and
 * columns come from `yaml` where it is installed (the CLI, not the packaged functions).
 */
export const parseJsonConfig = (text: string, source: string): RolloutsConfig =>
  parseJsonConfigDocument(text, source).config;

const parseJsonConfigDocument = (
  text: string,
  source: string,
): { config: RolloutsConfig; locate: Locate | undefined } => {
  // `yaml` is looked for only on a failure: the valid copy is read without it
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const y = optionalYaml();
    const at = y ? parseYaml(y, text).document.errors[0]?.linePos?.[0] : undefined;
    fail(
      source,
      [
        `${source}${at ? `:${at.line}:${at.col}` : ''}: syntax: ${(error as Error).message.replace(/\s*\n\s*/g, ' ')}`,
      ],
      error,
    );
  }
  let locate: Locate | undefined;
  const lazyLocate: Locate = (path, atKey) => {
    if (!locate) {
      const y = optionalYaml();
      locate = y ? parseYaml(y, text).locate : () => undefined;
    }
    return locate(path, atKey);
  };
  return { config: validateConfig(value, source, lazyLocate), locate: lazyLocate };
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
  const { config, locate } = path.endsWith('.json')
    ? parseJsonConfigDocument(text, path)
    : parseConfigDocument(text, path);
  const fileIssues = requestSetFileIssues(config, path);
  if (fileIssues.length > 0) fail(path, located(path, fileIssues, locate));
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
