/**
 * A Coder that changes while it is read, in memory: before every read the controller makes (a list
 * page, a workspace by id or name, a build's parameters) the owners may stop, start, delete or
 * rename a workspace or change a parent's count, and an admin may rename the template. Lists come
 * in Coder's order (running first, then owner, then name: coderd/database/queries/workspaces.sql,
 * GetWorkspaces) by offset pages, so a change between two page reads skips or repeats a row, as
 * it does in Coder.
 *
 * The world also judges the controller: every build it asks for and every ledger record it drops
 * is checked against what the owners want at that moment (`violations`).
 */

import { readWholeList } from '../../lambdas/adapters/coder/operations-workspaces.js';
import type { NO_DEADLINE } from '../../lambdas/core/contracts/deadline.js';
import {
  type BuildParameter,
  type ChildRecord,
  type FamilyKey,
  type FamilyWorkspace,
  fullParameters,
} from '../../lambdas/core/families/model.js';
import type { FamilyLedger } from '../../lambdas/core/families/ports.js';
import { type FamilyWorkspacesPort, WorkspaceOpError } from '../../lambdas/core/families/ports.js';

export const CONTROLLER = 'controller';
const PERSON = 'person';
export const COUNT_PARAMETER = 'additional_workspaces';

interface ChurnWorkspace {
  id: string;
  name: string;
  owner: string;
  template: string;
  createdAt: number;
  deleted: boolean;
  buildNumber: number;
  transition: 'start' | 'stop' | 'delete';
  jobActive: boolean;
  /** Who made the first build: the controller's creates are its children. */
  creator: string;
  /** Bumped whenever what the workspace wants of its children changes (its count, its deletion). */
  wantVersion: number;
  initiator: string;
  parameters: BuildParameter[];
}

export interface ChurnOptions {
  /** Chance of an owner's or admin's change before each read. */
  readonly churn: number;
  readonly pageSize: number;
  readonly random: () => number;
}

export class ChurnWorld {
  private workspaces: ChurnWorkspace[] = [];
  private next = 0;
  templateName = 'dev';
  readonly violations: string[] = [];
  /** What the controller did, so a test can show the worlds made it work. */
  readonly done = { creates: 0, stops: 0, deletes: 0, forgets: 0, changes: 0 };
  readonly events: string[] = [];
  now = Date.parse('2030-01-01T12:00:00Z');
  /** Off while the test sets the world up or checks it. */
  churning = true;
  /** The `wantVersion` of each workspace as the controller last read it. */
  private readonly observed = new Map<string, number>();

  constructor(private readonly options: ChurnOptions) {}

  seed(owner: string, name: string, count: number | undefined): ChurnWorkspace {
    return this.add({
      name,
      owner,
      template: this.templateName,
      createdAt: this.now - 86_400_000,
      deleted: false,
      buildNumber: 1,
      transition: 'start',
      jobActive: false,
      creator: PERSON,
      initiator: PERSON,
      parameters: count === undefined ? [] : [{ name: COUNT_PARAMETER, value: String(count) }],
    });
  }

  private add(w: Omit<ChurnWorkspace, 'id' | 'wantVersion'>): ChurnWorkspace {
    const ws = { ...w, id: `ws-${++this.next}`, wantVersion: 0 };
    this.workspaces.push(ws);
    return ws;
  }

  private live(): ChurnWorkspace[] {
    return this.workspaces.filter((w) => !w.deleted);
  }

  private pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(this.options.random() * items.length)];
  }

  /** Maybe one change by an owner or an admin, before a read. */
  churn(): void {
    if (!this.churning || this.options.random() >= this.options.churn) return;
    const r = this.options.random();
    const live = this.live().filter((w) => !w.jobActive);
    const w = this.pick(live);
    if (r < 0.04) {
      // An admin renames the template, or renames it back.
      this.templateName = this.templateName === 'dev' ? 'dev-renamed' : 'dev';
      for (const x of this.workspaces) x.template = this.templateName;
      this.events.push(`template renamed to ${this.templateName}`);
      return;
    }
    if (!w) return;
    this.done.changes++;
    if (r < 0.3) {
      this.personBuild(w, w.transition === 'start' ? 'stop' : 'start');
    } else if (r < 0.45) {
      w.deleted = true;
      w.transition = 'delete';
      w.wantVersion++;
      this.events.push(`${w.owner} deleted ${w.name}`);
    } else if (r < 0.65) {
      const name = `${w.name}r`;
      if (name.length <= 32 && !this.live().some((x) => x.owner === w.owner && x.name === name)) {
        this.events.push(`${w.owner} renamed ${w.name} to ${name}`);
        w.name = name;
      }
    } else {
      const count = Math.floor(this.options.random() * 5);
      w.parameters = [
        ...w.parameters.filter((p) => p.name !== COUNT_PARAMETER),
        { name: COUNT_PARAMETER, value: String(count) },
      ];
      this.personBuild(w, 'start');
      w.wantVersion++;
      this.events.push(`${w.owner} set ${w.name}'s count to ${count}`);
    }
  }

  private personBuild(w: ChurnWorkspace, transition: 'start' | 'stop'): void {
    w.buildNumber++;
    w.transition = transition;
    w.initiator = PERSON;
  }

  /** The controller's builds finish (between runs). */
  finishBuilds(): void {
    for (const w of this.workspaces) {
      if (!w.jobActive) continue;
      w.jobActive = false;
      if (w.transition === 'delete') w.deleted = true;
    }
  }

  view(w: ChurnWorkspace): FamilyWorkspace {
    const status = w.jobActive
      ? { start: 'starting', stop: 'stopping', delete: 'deleting' }[w.transition]
      : { start: 'running', stop: 'stopped', delete: 'deleted' }[w.transition];
    return {
      id: w.id,
      name: w.name,
      ownerName: w.owner,
      ownerId: `${w.owner}-id`,
      organizationId: 'org',
      templateId: 'tpl',
      templateName: w.template,
      createdAt: new Date(w.createdAt).toISOString(),
      latestBuild: {
        id: `${w.id}-b${w.buildNumber}`,
        number: w.buildNumber,
        transition: w.transition,
        status,
        jobActive: w.jobActive,
        initiatorId: w.initiator,
      },
    };
  }

  /** One page of `template:<name>` or `owner:<name>`, in Coder's order, with the total. */
  page(filter: { template?: string; owner?: string }, offset: number, limit: number) {
    this.churn();
    const running = (w: ChurnWorkspace) => (w.transition === 'start' && !w.jobActive ? 0 : 1);
    const rows = this.live()
      .filter(
        (w) =>
          (filter.template === undefined || w.template === filter.template.toLowerCase()) &&
          (filter.owner === undefined || w.owner === filter.owner.toLowerCase()),
      )
      .sort(
        (a, b) => running(a) - running(b) || a.owner.localeCompare(b.owner) || a.name.localeCompare(b.name),
      );
    const page = rows.slice(offset, offset + limit);
    for (const w of page) this.observe(w);
    return { items: page.map((w) => this.view(w)), count: rows.length };
  }

  private observe(w: ChurnWorkspace | undefined): ChurnWorkspace | undefined {
    if (w) this.observed.set(w.id, w.wantVersion);
    return w;
  }

  byId(id: string): ChurnWorkspace | undefined {
    this.churn();
    return this.observe(this.workspaces.find((w) => w.id === id));
  }

  byName(owner: string, name: string): ChurnWorkspace | undefined {
    this.churn();
    const matching = this.workspaces.filter(
      (w) => w.owner === owner.toLowerCase() && w.name.toLowerCase() === name.toLowerCase(),
    );
    return this.observe(matching.find((w) => !w.deleted) ?? matching.at(-1));
  }

  parameters(buildId: string): BuildParameter[] | undefined {
    this.churn();
    const w = this.workspaces.find((x) => `${x.id}-b${x.buildNumber}` === buildId);
    return w ? [...w.parameters] : undefined;
  }

  create(owner: string, name: string, parameters: readonly BuildParameter[]): FamilyWorkspace {
    if (this.live().some((w) => w.owner === owner && w.name.toLowerCase() === name.toLowerCase())) {
      throw new WorkspaceOpError('already_exists', `Workspace "${name}" already exists.`);
    }
    const ws = this.add({
      name,
      owner,
      template: this.templateName,
      createdAt: this.now,
      deleted: false,
      buildNumber: 1,
      transition: 'start',
      jobActive: true,
      creator: CONTROLLER,
      initiator: CONTROLLER,
      parameters: [...parameters],
    });
    this.done.creates++;
    return this.view(ws);
  }

  /**
   * A build the controller asks for, judged against the ledger's record of the child: stopping or
   * deleting a child whose parent is alive and wants it breaks the promise, unless the owner changed
   * what the parent wants after the controller last read it (no controller can know that).
   */
  controllerBuild(
    id: string,
    transition: 'start' | 'stop' | 'delete',
    ledger: () => readonly ChildRecord[],
  ): void {
    const w = this.workspaces.find((x) => x.id === id);
    if (!w || w.deleted) throw new WorkspaceOpError('gone', 'gone');
    if (w.jobActive) throw new WorkspaceOpError('build_active', 'A workspace build is already active.');
    if (transition !== 'start') {
      const record = ledger().find((c) => c.childId === id);
      if (!record)
        this.violations.push(`${transition} of ${w.owner}/${w.name}, which the ledger does not record`);
      else if (this.wants(record) && this.knewCurrentWant(record)) {
        this.violations.push(
          `${transition} of ${w.owner}/${w.name} while its parent is alive and wants child ${record.index}`,
        );
      }
    }
    if (transition === 'stop') this.done.stops++;
    if (transition === 'delete') this.done.deletes++;
    w.buildNumber++;
    w.transition = transition;
    w.jobActive = true;
    w.initiator = CONTROLLER;
  }

  /** The parent the child was created for is alive and its count still includes the child. */
  wants(record: ChildRecord): boolean {
    const parent = this.workspaces.find((w) => w.id === record.parentId);
    if (!parent || parent.deleted) return false;
    const count = Number(parent.parameters.find((p) => p.name === COUNT_PARAMETER)?.value);
    return Number.isInteger(count) && count >= record.index;
  }

  /** The controller's last read of the record's parent showed what the parent wants now. */
  private knewCurrentWant(record: ChildRecord): boolean {
    const parent = this.workspaces.find((w) => w.id === record.parentId);
    return parent !== undefined && this.observed.get(parent.id) === parent.wantVersion;
  }

  /** Judges a ledger record the controller is about to drop. */
  judgeForget(record: ChildRecord | undefined): void {
    if (!record) return;
    this.done.forgets++;
    if (record.childId) {
      const child = this.workspaces.find((w) => w.id === record.childId);
      if (child && !child.deleted) {
        this.violations.push(
          `dropped ${record.owner}/${record.childName} (${child.id}) from the ledger while it is alive`,
        );
      }
      return;
    }
    const holder = this.live().find(
      (w) =>
        w.owner === record.owner &&
        w.name.toLowerCase() === record.childName.toLowerCase() &&
        w.creator === CONTROLLER,
    );
    if (holder)
      this.violations.push(
        `dropped the intent for ${record.owner}/${record.childName}, which the controller created (${holder.id})`,
      );
  }

  /** After the runs: every live workspace the controller created is in its ledger. */
  judgeEnd(records: readonly ChildRecord[]): void {
    for (const w of this.live()) {
      if (w.creator !== CONTROLLER) continue;
      const held = records.some(
        (c) =>
          c.childId === w.id ||
          (c.state === 'intent' && c.owner === w.owner && c.childName.toLowerCase() === w.name.toLowerCase()),
      );
      if (!held)
        this.violations.push(
          `${w.owner}/${w.name} (${w.id}) was created by the controller and is alive, but no longer in its ledger`,
        );
    }
  }
}

type Call = { deadline: typeof NO_DEADLINE };

/** The engine's port over the world, listing through the same re-reading rule as the Coder client. */
export const churnPort = (
  world: ChurnWorld,
  pageSize: number,
  records: () => readonly ChildRecord[],
): FamilyWorkspacesPort => {
  const list = async (filter: { template?: string; owner?: string }) => {
    const read = await readWholeList(async (offset, limit) => world.page(filter, offset, limit), {
      pageSize,
      rereads: 2,
    });
    return { workspaces: read.items.filter((w) => w.templateName === 'dev'), complete: read.complete };
  };
  return {
    templateNames: async () => [world.templateName],
    listManagedWorkspaces: async (_call: Call) => list({ template: 'dev' }),
    listOwnerWorkspaces: async (owner: string) => list({ owner }),
    readWorkspace: async (ref) => {
      const w = ref.id !== undefined ? world.byId(ref.id) : world.byName(ref.owner ?? '', ref.name ?? '');
      if (!w) return { state: 'vanished' };
      return { state: w.deleted ? 'deleted' : 'present', workspace: world.view(w) };
    },
    buildParameters: async (ids) => {
      const out = new Map();
      for (const id of ids) {
        const p = world.parameters(id);
        if (p) out.set(id, fullParameters(p));
      }
      return out;
    },
    parentParameters: async (candidates) => {
      const out = new Map();
      for (const c of candidates) {
        const p = world.parameters(c.latestBuild.id);
        if (p) out.set(c.latestBuild.id, fullParameters(p));
      }
      return out;
    },
    controllerUserId: async () => CONTROLLER,
    createWorkspace: async (input) => world.create(input.ownerName, input.name, input.parameters),
    transition: async (id, t) => world.controllerBuild(id, t, records),
    stats: () => ({ requests: 0, throttled: 0 }),
  };
};

/** A ledger whose every dropped record is judged by the world first. */
export const judgedLedger = <L extends FamilyLedger>(
  ledger: L & { children: Map<string, ChildRecord> },
  world: ChurnWorld,
): L => {
  const forgetChild = ledger.forgetChild.bind(ledger);
  return Object.assign(Object.create(ledger) as L, {
    forgetChild: async (key: FamilyKey, index: number, childId: string | undefined) => {
      const record = ledger.children.get(`${key.owner}/${key.parent}#${index}`);
      const matches =
        record && (childId === undefined ? record.state === 'intent' : record.childId === childId);
      if (matches) world.judgeForget(record);
      return forgetChild(key, index, childId);
    },
  });
};
