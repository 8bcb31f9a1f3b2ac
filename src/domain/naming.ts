import { createHash } from 'node:crypto';
import type { VariantSpec } from './model';

/** SageMaker names: at most 63 letters, digits and hyphens. */
export const MAX_NAME_LENGTH = 63;

export const shortHash = (text: string, length = 8): string =>
  createHash('sha256').update(text).digest('hex').slice(0, length);

/**
 * A stable prefix for resources of one model package group or endpoint: the name itself when it
 * is short enough, else its head plus a hash of the whole (so two long names never collide).
 */
export const namePrefix = (name: string, maxLength: number): string =>
  name.length <= maxLength ? name : `${name.slice(0, maxLength - 9).replace(/-+$/, '')}-${shortHash(name)}`;

/** Model for one package version; the same name in every account it is deployed to. */
export const modelName = (group: string, version: number): string => `${namePrefix(group, 40)}-v${version}`;

/** Variant names are per version so that weights read as "which version gets what". */
export const variantName = (version: number): string => `v${version}`;

/** Native (SageMaker-managed) shifting needs one variant name that every config keeps. */
export const NATIVE_VARIANT_NAME = 'primary';

/**
 * Endpoint config name, content-addressed: the same variants always give the same name, so a
 * rerun after a crash finds the config it created instead of creating another.
 */
export const endpointConfigName = (endpointName: string, variants: VariantSpec[], salt = ''): string => {
  const content = JSON.stringify(
    variants
      .map((v) => [v.variantName, v.modelName, v.packageArn, v.weight, ...(v.shadow ? ['shadow'] : [])])
      .concat(salt ? [[salt]] : []),
  );
  const versions = variants.map((v) => `v${v.version}`).join('-');
  const suffix = `-${versions}-${shortHash(content, 6)}`;
  return `${namePrefix(endpointName, 40)}${suffix}`.slice(0, MAX_NAME_LENGTH);
};

/** IAM resource patterns matching every name above for a group or endpoint. */
export const modelNamePattern = (group: string): string => `${namePrefix(group, 40)}-v*`;
export const endpointConfigNamePattern = (endpointName: string): string =>
  `${namePrefix(endpointName, 40)}-v*`;

/**
 * A callback token is a credential for answering a pipeline step: it is kept only where the answer
 * needs it (the group state of a deployment a pipeline waits on), never in a key, log, event or
 * reason. The table keys callback records by its sha256 (hex) ...
 */
export const callbackKeyHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** ... and logs, events and the history name a callback by the first 8 hex digits of that hash. */
export const callbackRef = (token: string): string => `cb-${callbackKeyHash(token).slice(0, 8)}`;

export const deploymentId = (group: string, version: number, attempt = 1): string =>
  attempt === 1 ? `${group}:v${version}` : `${group}:v${version}#${attempt}`;

/** Parses `group:v3` or `group:v3#2`; undefined if it is not a deployment id. */
export const parseDeploymentId = (
  id: string,
): { group: string; version: number; attempt: number } | undefined => {
  const match = /^([a-zA-Z0-9-]{1,63}):v(\d+)(?:#(\d+))?$/.exec(id);
  if (!match) return undefined;
  return { group: match[1]!, version: Number(match[2]), attempt: match[3] ? Number(match[3]) : 1 };
};
