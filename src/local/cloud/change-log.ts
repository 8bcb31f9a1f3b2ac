/**
 * Every change the local cloud applies to what could serve (endpoint configs, endpoints and their
 * weights, package approvals), in the order applied, with its virtual time: a test reads
 * `cloud.changes` after a run and checks its safety invariants on the whole stream instead of on
 * samples taken now and then.
 */

export interface VariantRecord {
  name: string;
  modelName: string;
  /** The model package the variant's model was created from (none for a model made from an image). */
  packageArn?: string | undefined;
  /** A model made from images (outside the registry's region): its containers' images. */
  images?: string[] | undefined;
  currentWeight: number;
  desiredWeight: number;
}

export interface ConfigChange {
  kind: 'config';
  seq: number;
  at: number;
  region: string;
  name: string;
  variants: VariantRecord[];
}

export interface EndpointChange {
  kind: 'endpoint';
  seq: number;
  at: number;
  /** Endpoint names are unique per account and region only. */
  region: string;
  endpoint: string;
  /** EndpointStatus after the change; `Deleted` once the endpoint is gone. */
  status: string;
  configName: string;
  /** The variants as they serve (current) and as last asked (desired). */
  variants: VariantRecord[];
  /** A CreateEndpoint or UpdateEndpoint in progress: the config it moves to. */
  pending?: { configName: string; variants: VariantRecord[] } | undefined;
  /** A blue/green update in progress: the share of traffic on the new fleet. */
  blueGreenShare?: number | undefined;
}

export interface ApprovalChange {
  kind: 'approval';
  seq: number;
  at: number;
  packageArn: string;
  status: string;
}

export type AppliedChange = ConfigChange | EndpointChange | ApprovalChange;

type Unstamped<T> = T extends AppliedChange ? Omit<T, 'seq' | 'at'> : never;

export class ChangeLog {
  readonly entries: AppliedChange[] = [];
  private readonly approvals = new Map<string, string>();

  constructor(private readonly now: () => number) {}

  record(change: Unstamped<AppliedChange>): void {
    this.entries.push({ ...change, seq: this.entries.length, at: this.now() } as AppliedChange);
  }

  /** Records an approval status only when it differs from the package's last one. */
  approval(packageArn: string, status: string): void {
    if (this.approvals.get(packageArn) === status) return;
    this.approvals.set(packageArn, status);
    this.record({ kind: 'approval', packageArn, status });
  }
}
