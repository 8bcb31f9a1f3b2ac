import { type Core, emitSageMakerEvent, type Place, sageMakerArn, type Tag } from './context';
import {
  type ApiError,
  epochSeconds,
  isoSeconds,
  paginate,
  type RequestContext,
  requireString,
  validation,
} from './protocol';

type Json = Record<string, unknown>;

export interface ModelPackageGroup {
  name: string;
  arn: string;
  description?: string;
  creationTime: number;
  nextVersion: number;
}

export interface ModelPackage {
  group: string;
  version: number;
  arn: string;
  region: string;
  description?: string;
  creationTime: number;
  lastModifiedTime: number;
  approvalStatus: string;
  approvalDescription?: string;
  inferenceSpecification?: Json;
  metadataProperties?: Json;
  modelMetrics?: Json;
  customerMetadata: Record<string, string>;
  modelLifeCycle?: Json;
  sourceUri?: string;
}

const APPROVAL_STATUSES = ['Approved', 'Rejected', 'PendingManualApproval'];

export class ModelRegistry {
  readonly groups = new Map<string, ModelPackageGroup>();
  /** By ARN. */
  readonly packages = new Map<string, ModelPackage>();

  constructor(
    private readonly core: Core,
    private readonly place: Place,
  ) {}

  /** Finds a package by versioned ARN or `<group>/<version>` name. */
  find(nameOrArn: string): ModelPackage | undefined {
    const direct = this.packages.get(nameOrArn);
    if (direct) return direct;
    const match = /(?:model-package\/)?([^/:]+)\/(\d+)$/.exec(nameOrArn);
    if (!match) return undefined;
    const [, group, version] = match;
    for (const p of this.packages.values()) {
      if (p.group.toLowerCase() === group?.toLowerCase() && p.version === Number(version)) return p;
    }
    return undefined;
  }

  require(nameOrArn: string): ModelPackage {
    const found = this.find(nameOrArn);
    if (!found) throw validation(`ModelPackage ${nameOrArn} does not exist.`);
    return found;
  }

  operations(): Record<string, (input: Json, ctx: RequestContext) => unknown> {
    return {
      CreateModelPackageGroup: (i) => this.createGroup(i),
      DescribeModelPackageGroup: (i) => this.describeGroup(i),
      ListModelPackageGroups: (i) => this.listGroups(i),
      CreateModelPackage: (i, c) => this.createPackage(i, c),
      DescribeModelPackage: (i) => this.describePackage(this.require(requireString(i, 'ModelPackageName'))),
      UpdateModelPackage: (i) => this.updatePackage(i),
      ListModelPackages: (i) => this.listPackages(i),
    };
  }

  private createGroup(input: Json): unknown {
    const name = requireString(input, 'ModelPackageGroupName');
    checkName(name, 'modelPackageGroupName');
    const arn = sageMakerArn(this.place, 'model-package-group', name);
    if (this.groups.has(name)) throw validation(`Model Package Group already exists: ${arn}`);
    this.groups.set(name, {
      name,
      arn,
      creationTime: this.core.clock.now(),
      nextVersion: 1,
      ...(typeof input.ModelPackageGroupDescription === 'string'
        ? { description: input.ModelPackageGroupDescription }
        : {}),
    });
    this.core.tags.set(arn, Array.isArray(input.Tags) ? (input.Tags as Tag[]) : []);
    return { ModelPackageGroupArn: arn };
  }

  private requireGroup(name: string): ModelPackageGroup {
    const groupName = name.includes(':model-package-group/') ? name.split('/').pop()! : name;
    const group = [...this.groups.values()].find((g) => g.name.toLowerCase() === groupName.toLowerCase());
    if (!group) throw validation(`ModelPackageGroup ${groupName} does not exist.`);
    return group;
  }

  private describeGroup(input: Json): unknown {
    const g = this.requireGroup(requireString(input, 'ModelPackageGroupName'));
    return {
      ModelPackageGroupName: g.name,
      ModelPackageGroupArn: g.arn,
      ModelPackageGroupDescription: g.description,
      CreationTime: epochSeconds(g.creationTime),
      CreatedBy: {},
      ModelPackageGroupStatus: 'Completed',
    };
  }

  private listGroups(input: Json): unknown {
    const filter = typeof input.NameContains === 'string' ? input.NameContains.toLowerCase() : '';
    const all = [...this.groups.values()].filter((g) => g.name.toLowerCase().includes(filter));
    const { page, next } = paginate(all, input.MaxResults, input.NextToken);
    return {
      ModelPackageGroupSummaryList: page.map((g) => ({
        ModelPackageGroupName: g.name,
        ModelPackageGroupArn: g.arn,
        ModelPackageGroupDescription: g.description,
        CreationTime: epochSeconds(g.creationTime),
        ModelPackageGroupStatus: 'Completed',
      })),
      NextToken: next,
    };
  }

  private createPackage(input: Json, ctx: RequestContext): unknown {
    const group = this.requireGroup(requireString(input, 'ModelPackageGroupName'));
    const status = input.ModelApprovalStatus ?? 'PendingManualApproval';
    if (typeof status !== 'string' || !APPROVAL_STATUSES.includes(status)) throw invalidApproval(status);
    const customer = (input.CustomerMetadataProperties ?? {}) as Record<string, string>;
    checkMetadata(customer);
    const version = group.nextVersion++;
    const now = this.core.clock.now();
    const pkg: ModelPackage = {
      group: group.name,
      version,
      arn: `arn:aws:sagemaker:${ctx.region}:${this.place.account}:model-package/${group.name.toLowerCase()}/${version}`,
      region: ctx.region,
      creationTime: now,
      lastModifiedTime: now,
      approvalStatus: status,
      customerMetadata: { ...customer },
    };
    if (typeof input.ModelPackageDescription === 'string') pkg.description = input.ModelPackageDescription;
    if (typeof input.ApprovalDescription === 'string') pkg.approvalDescription = input.ApprovalDescription;
    if (input.InferenceSpecification) pkg.inferenceSpecification = input.InferenceSpecification as Json;
    if (input.MetadataProperties) pkg.metadataProperties = input.MetadataProperties as Json;
    if (input.ModelMetrics) pkg.modelMetrics = input.ModelMetrics as Json;
    if (input.ModelLifeCycle) pkg.modelLifeCycle = checkLifeCycle(input.ModelLifeCycle);
    if (typeof input.SourceUri === 'string') pkg.sourceUri = input.SourceUri;
    this.packages.set(pkg.arn, pkg);
    this.core.tags.set(pkg.arn, Array.isArray(input.Tags) ? (input.Tags as Tag[]) : []);
    this.emit(pkg);
    return { ModelPackageArn: pkg.arn };
  }

  private updatePackage(input: Json): unknown {
    const pkg = this.require(requireString(input, 'ModelPackageArn'));
    if (input.ModelApprovalStatus !== undefined) {
      if (
        typeof input.ModelApprovalStatus !== 'string' ||
        !APPROVAL_STATUSES.includes(input.ModelApprovalStatus)
      ) {
        throw invalidApproval(input.ModelApprovalStatus);
      }
      pkg.approvalStatus = input.ModelApprovalStatus;
    }
    if (typeof input.ApprovalDescription === 'string') pkg.approvalDescription = input.ApprovalDescription;
    if (input.ModelLifeCycle !== undefined) pkg.modelLifeCycle = checkLifeCycle(input.ModelLifeCycle);
    if (input.CustomerMetadataProperties !== undefined) {
      const props = input.CustomerMetadataProperties as Record<string, string>;
      checkMetadata(props);
      Object.assign(pkg.customerMetadata, props);
    }
    if (Array.isArray(input.CustomerMetadataPropertiesToRemove)) {
      for (const key of input.CustomerMetadataPropertiesToRemove as string[])
        delete pkg.customerMetadata[key];
    }
    if (input.InferenceSpecification) pkg.inferenceSpecification = input.InferenceSpecification as Json;
    if (typeof input.SourceUri === 'string') pkg.sourceUri = input.SourceUri;
    pkg.lastModifiedTime = this.core.clock.now();
    this.emit(pkg);
    return { ModelPackageArn: pkg.arn };
  }

  describePackage(p: ModelPackage): Json {
    return {
      ModelPackageName: p.group,
      ModelPackageGroupName: p.group,
      ModelPackageVersion: p.version,
      ModelPackageArn: p.arn,
      ModelPackageDescription: p.description,
      CreationTime: epochSeconds(p.creationTime),
      InferenceSpecification: p.inferenceSpecification,
      ModelPackageStatus: 'Completed',
      ModelPackageStatusDetails: { ValidationStatuses: [], ImageScanStatuses: [] },
      CertifyForMarketplace: false,
      ModelApprovalStatus: p.approvalStatus,
      CreatedBy: {},
      MetadataProperties: p.metadataProperties,
      ModelMetrics: p.modelMetrics,
      LastModifiedTime: epochSeconds(p.lastModifiedTime),
      LastModifiedBy: {},
      ApprovalDescription: p.approvalDescription,
      CustomerMetadataProperties:
        Object.keys(p.customerMetadata).length > 0 ? { ...p.customerMetadata } : undefined,
      ModelLifeCycle: p.modelLifeCycle,
      SourceUri: p.sourceUri,
    };
  }

  private listPackages(input: Json): unknown {
    let all = [...this.packages.values()];
    if (typeof input.ModelPackageGroupName === 'string') {
      const group = this.requireGroup(input.ModelPackageGroupName);
      all = all.filter((p) => p.group === group.name);
    }
    if (typeof input.ModelApprovalStatus === 'string')
      all = all.filter((p) => p.approvalStatus === input.ModelApprovalStatus);
    const descending = input.SortOrder === 'Descending';
    all.sort((a, b) => {
      const order =
        input.SortBy === 'Name'
          ? a.arn.localeCompare(b.arn)
          : a.creationTime - b.creationTime || a.version - b.version;
      return descending ? -order : order;
    });
    const { page, next } = paginate(all, input.MaxResults, input.NextToken);
    return {
      ModelPackageSummaryList: page.map((p) => ({
        ModelPackageName: p.group,
        ModelPackageGroupName: p.group,
        ModelPackageVersion: p.version,
        ModelPackageArn: p.arn,
        ModelPackageDescription: p.description,
        CreationTime: epochSeconds(p.creationTime),
        ModelPackageStatus: 'Completed',
        ModelApprovalStatus: p.approvalStatus,
        ModelLifeCycle: p.modelLifeCycle,
      })),
      NextToken: next,
    };
  }

  private emit(p: ModelPackage): void {
    this.core.changes.approval(p.arn, p.approvalStatus);
    const detail: Json = {
      ModelPackageGroupName: p.group,
      ModelPackageVersion: p.version,
      ModelPackageArn: p.arn,
      CreationTime: isoSeconds(p.creationTime),
      InferenceSpecification: p.inferenceSpecification ?? { Containers: [] },
      ModelPackageStatus: 'Completed',
      ModelPackageStatusDetails: { ValidationStatuses: [], ImageScanStatuses: [] },
      CertifyForMarketplace: false,
      ModelApprovalStatus: p.approvalStatus,
      LastModifiedTime: isoSeconds(p.lastModifiedTime),
    };
    if (p.description) detail.ModelPackageDescription = p.description;
    if (p.metadataProperties) detail.MetadataProperties = p.metadataProperties;
    if (p.modelMetrics) detail.ModelMetrics = p.modelMetrics;
    if (p.modelLifeCycle) detail.ModelLifeCycle = p.modelLifeCycle;
    emitSageMakerEvent(
      this.core,
      this.place,
      'SageMaker Model Package State Change',
      p.arn,
      structuredClone(detail),
    );
  }
}

const NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

export function checkName(name: string, field: string): void {
  if (!NAME.test(name)) {
    throw validation(
      `1 validation error detected: Value '${name}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`,
    );
  }
}

function invalidApproval(value: unknown): ApiError {
  return validation(
    `1 validation error detected: Value '${String(value)}' at 'modelApprovalStatus' failed to satisfy constraint: Member must satisfy enum value set: [Approved, Rejected, PendingManualApproval]`,
  );
}

/**
 * CustomerMetadataMap (botocore sagemaker service-2.json, aws-facts section 5): 1-50 entries, keys
 * 1-128 and values 1-256 characters of `[\p{L}\p{Z}\p{N}_.:/=+\-@]`: no JSON (no braces, quotes or commas).
 */
const METADATA_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function checkMetadata(props: Record<string, unknown>): void {
  const entries = Object.entries(props);
  if (entries.length > 50) {
    throw validation(
      `1 validation error detected: Value at 'customerMetadataProperties' failed to satisfy constraint: Member must have length less than or equal to 50`,
    );
  }
  for (const [k, v] of entries) {
    if (typeof v !== 'string' || v.length < 1 || v.length > 256 || k.length < 1 || k.length > 128) {
      throw validation(
        `1 validation error detected: Value at 'customerMetadataProperties' failed to satisfy constraint: Map value must have length between 1 and 256 (key '${k}')`,
      );
    }
    if (!METADATA_TEXT.test(k) || !METADATA_TEXT.test(v)) {
      throw validation(
        `1 validation error detected: Value at 'customerMetadataProperties' failed to satisfy constraint: Map keys and values must satisfy regular expression pattern: ${METADATA_TEXT.source} (key '${k}')`,
      );
    }
  }
}

function checkLifeCycle(value: unknown): Json {
  const lc = value as Json;
  for (const field of ['Stage', 'StageStatus']) {
    const v = lc[field];
    if (typeof v !== 'string' || !NAME.test(v)) {
      throw validation(
        `1 validation error detected: Value '${String(v)}' at 'modelLifeCycle.${field.charAt(0).toLowerCase()}${field.slice(1)}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`,
      );
    }
  }
  return { ...lc };
}
