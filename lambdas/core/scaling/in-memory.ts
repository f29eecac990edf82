import type { RunCall } from '../contracts/deadline.js';
import type { ScalingOverride } from './calendar.js';
import type { NodeGroupRef, Sizes } from './planner.js';
import {
  NodeGroupNotFoundError,
  type NodeGroupPort,
  type NodeGroupUpdateResult,
  OverrideConflictError,
  type OverrideStore,
  type StoredOverride,
  type WorkspaceDemandReader,
} from './ports.js';
import { templateKey } from './templates.js';

/** In-memory implementations of the scaling ports, for tests and the CLI's simulator mode. */

const keyOf = (ref: NodeGroupRef): string =>
  ref.kind === 'eks-managed'
    ? `eks/${ref.clusterName}/${ref.nodegroupName}`
    : `asg/${ref.autoScalingGroupName}`;

export class InMemoryNodeGroups implements NodeGroupPort {
  readonly updates: Array<{ key: string; target: Sizes; requestToken: string }> = [];
  private readonly groups = new Map<string, { status: string; sizes: Sizes }>();
  /** Keys whose next update throws this error (once), to simulate AWS failures. */
  private readonly failures = new Map<string, Error>();

  set(ref: NodeGroupRef, sizes: Sizes, status = 'ACTIVE'): this {
    this.groups.set(keyOf(ref), { status, sizes });
    return this;
  }

  failNextUpdate(ref: NodeGroupRef, error: Error): this {
    this.failures.set(keyOf(ref), error);
    return this;
  }

  get(ref: NodeGroupRef): { status: string; sizes: Sizes } | undefined {
    return this.groups.get(keyOf(ref));
  }

  async describe(ref: NodeGroupRef): Promise<{ status: string; sizes: Sizes }> {
    const group = this.groups.get(keyOf(ref));
    if (group === undefined) throw new NodeGroupNotFoundError(ref);
    return { status: group.status, sizes: { ...group.sizes } };
  }

  async update(ref: NodeGroupRef, target: Sizes, requestToken: string): Promise<NodeGroupUpdateResult> {
    const key = keyOf(ref);
    const failure = this.failures.get(key);
    if (failure) {
      this.failures.delete(key);
      throw failure;
    }
    const group = this.groups.get(key);
    if (group === undefined) throw new NodeGroupNotFoundError(ref);
    // Like EKS: a repeated token is the same request, not a second update.
    if (this.updates.some((u) => u.requestToken === requestToken)) {
      return { outcome: 'replayed', updateId: requestToken };
    }
    this.updates.push({ key, target: { ...target }, requestToken });
    this.groups.set(key, { ...group, sizes: { ...target } });
    return { outcome: 'applied' };
  }
}

export class InMemoryOverrideStore implements OverrideStore {
  private stored: StoredOverride | undefined;
  private nextVersion = 1;

  async get(now: Date): Promise<StoredOverride | undefined> {
    if (this.stored && Date.parse(this.stored.override.until) <= now.getTime()) return undefined;
    return this.stored;
  }

  async put(override: ScalingOverride, expectedVersion: number | undefined): Promise<StoredOverride> {
    // Like the DynamoDB store: an expired override (not yet removed by TTL) counts as none.
    const live =
      this.stored && Date.parse(this.stored.override.until) > Date.parse(override.setAt)
        ? this.stored
        : undefined;
    if (live?.version !== expectedVersion) {
      throw new OverrideConflictError(
        `The scaling override changed since it was read (expected version ${expectedVersion ?? 'none'}, found ${live?.version ?? 'none'}); read it again`,
      );
    }
    this.stored = { override, version: this.nextVersion++ };
    return this.stored;
  }

  async clear(): Promise<boolean> {
    const had = this.stored !== undefined;
    this.stored = undefined;
    return had;
  }
}

/**
 * Fixed Coder demand: running and autostarting counts per template, matched case-insensitively as
 * Coder matches template names. Coder's templates are the tables' keys unless given.
 */
export class FixedWorkspaceDemand implements WorkspaceDemandReader {
  readonly calls: string[] = [];
  constructor(
    private readonly running: Readonly<Record<string, number>>,
    private readonly autostarting: Readonly<Record<string, number>> = {},
    private readonly failure?: Error,
    private readonly templates: readonly string[] = [
      ...new Set([...Object.keys(running), ...Object.keys(autostarting)]),
    ],
  ) {}

  private count(table: Readonly<Record<string, number>>, templates?: readonly string[]): number {
    if (this.failure) throw this.failure;
    const wanted = templates?.map(templateKey);
    return Object.entries(table)
      .filter(([template]) => wanted === undefined || wanted.includes(templateKey(template)))
      .reduce((sum, [, n]) => sum + n, 0);
  }

  async countRunning(templates: readonly string[] | undefined, _call: RunCall): Promise<number> {
    this.calls.push(`running:${templates?.join(',') ?? '*'}`);
    return this.count(this.running, templates);
  }

  async countAutostartingBetween(
    from: Date,
    to: Date,
    templates: readonly string[] | undefined,
    _call: RunCall,
  ): Promise<number> {
    this.calls.push(`autostart:${from.toISOString()}..${to.toISOString()}:${templates?.join(',') ?? '*'}`);
    return this.count(this.autostarting, templates);
  }

  async listTemplateNames(_call: RunCall): Promise<readonly string[]> {
    this.calls.push('templates');
    if (this.failure) throw this.failure;
    return this.templates;
  }
}
