/**
 * Reads what Coder's provisioners can take on for the managed templates (core's ProvisionerCapacity):
 *
 * - Which daemons can take a template's build jobs. A build job's tags are the template version's
 *   import job tags passed through MutateTags (coderd/wsbuilder/wsbuilder.go `getProvisionerTags`),
 *   plus whatever `coder_workspace_tags` adds per build, which only a build reveals and which this
 *   leaves out. The version's tags are read from `GET /templateversions/{id}` (`job.tags`) once per
 *   version (a version never changes) and matched against the daemons list the way coderd's
 *   `provisioner_tagset_contains` matches them (coderd/database/dump.sql).
 * - The controller's own jobs: `GET /organizations/{org}/provisionerjobs?status=pending,running`
 *   with `initiator=<its user>` from coder/coder#20137 on; before it, the same listing without the
 *   filter, counted by `initiator_id`.
 * - The queue people see: the newest pending jobs (`status=pending`, one page); `queue_size` is
 *   every pending job, and the oldest one read is how long people have waited at least.
 *
 * Four requests a run once warm (templates, daemons, two job lists), plus one per template version
 * the first time it is seen and one `users/me` per container.
 */
import { type Deadline, NO_DEADLINE, type RunCall } from '../../core/contracts/deadline.js';
import type {
  ControllerJobs,
  ProvisionerCapacity,
  ProvisionerCapacitySource,
  TemplateProvisioners,
} from '../../core/families/provisioner-capacity.js';
import type { CoderClient } from './client.js';
import type { ProvisionerDaemon, ProvisionerJob } from './types.js';

type CapacityClient = Pick<
  CoderClient,
  | 'listTemplates'
  | 'getTemplateVersion'
  | 'listProvisionerDaemons'
  | 'listProvisionerJobs'
  | 'me'
  | 'release'
  | 'capability'
>;

export interface CoderProvisionerCapacityOptions {
  readonly client: CapacityClient;
  /** Name, UUID or `default`. */
  readonly organization: string;
  /** The managed template names (case-insensitive, as the families config lists them). */
  readonly templates: readonly string[];
  /** The controller's Coder user id, read within the call's deadline; from `users/me` once when not given. */
  readonly controllerUserId?: (call: RunCall) => Promise<string>;
  /** Most of the controller's active jobs one read lists; more means the count is a lower bound. @default 1000 */
  readonly controllerJobsLimit?: number;
  /** Newest pending jobs read to find the oldest waiting one. @default 200 */
  readonly pendingSample?: number;
  /** Daemons listed (Coder's default page is 50). @default 1000 */
  readonly daemonsLimit?: number;
  /** Version id → its import job's tags; kept across runs of a warm container. */
  readonly versionTags?: Map<string, Readonly<Record<string, string>>>;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The tag set of an untagged job or daemon (provisionersdk). */
const UNTAGGED: Readonly<Record<string, string>> = { scope: 'organization', owner: '' };

const sameTags = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
};

/**
 * coderd's `provisioner_tagset_contains(provisioner_tags, job_tags)`: an untagged job goes only to
 * an untagged daemon (coder/coder#12269); otherwise the daemon carries every tag of the job.
 */
export const provisionerTagsetContains = (
  daemonTags: Readonly<Record<string, string>>,
  jobTags: Readonly<Record<string, string>>,
): boolean => {
  if (sameTags(jobTags, UNTAGGED)) return sameTags(daemonTags, jobTags);
  return Object.entries(jobTags).every(([k, v]) => daemonTags[k] === v);
};

/** provisionersdk.MutateTags for an organization-scoped job: scope defaults to organization, owner "". */
export const organizationJobTags = (tags: Readonly<Record<string, string>>): Record<string, string> => {
  const out: Record<string, string> = { ...tags };
  if (out.scope === 'user') return out;
  out.scope = 'organization';
  out.owner = '';
  return out;
};

export class CoderProvisionerCapacity implements ProvisionerCapacitySource {
  private readonly versionTags: Map<string, Readonly<Record<string, string>>>;
  private userId: Promise<string> | undefined;

  constructor(private readonly options: CoderProvisionerCapacityOptions) {
    this.versionTags = options.versionTags ?? new Map();
  }

  async read(call?: RunCall): Promise<ProvisionerCapacity> {
    const { client, organization } = this.options;
    const now = this.options.now ?? Date.now;
    const deadline = call?.deadline;
    const [templates, daemons, controllerJobs, pending] = await Promise.all([
      this.templateTags(deadline),
      client.listProvisionerDaemons(organization, { limit: this.options.daemonsLimit ?? 1000, deadline }),
      this.controllerJobs(deadline),
      client.listProvisionerJobs(organization, {
        status: ['pending'],
        limit: this.options.pendingSample ?? 200,
        deadline,
      }),
    ]);
    // Releases before coder/coder#19378 list offline daemons too.
    const online = daemons.filter((d) => d.status !== 'offline');
    const perTemplate = templates.map((t) => countDaemons(t.template, t.tags, online));
    const able = online.filter((d) => templates.some((t) => canTake(d, t.tags)));
    const observedAt = now();
    const controllerId = controllerJobs?.userId;
    const waitOf = (jobs: readonly ProvisionerJob[]): number | undefined => {
      const created = jobs.map((j) => Date.parse(j.created_at ?? '')).filter((t) => Number.isFinite(t));
      return created.length === 0 ? undefined : Math.max(0, observedAt - Math.min(...created));
    };
    const others =
      controllerId === undefined || pending.some((j) => j.initiator_id === undefined)
        ? undefined
        : pending.filter((j) => j.initiator_id !== controllerId);
    return {
      observedAt,
      onlineDaemons: able.length,
      busyDaemons: able.filter((d) => d.status === 'busy').length,
      templates: perTemplate,
      controllerJobs: controllerJobs?.jobs,
      queued: pending[0]?.queue_size ?? 0,
      othersOldestPendingMs: others === undefined ? undefined : waitOf(others),
      oldestPendingMs: waitOf(pending),
      queueSampled: pending.length >= (this.options.pendingSample ?? 200),
    };
  }

  /** The managed templates found in the organization, with their build jobs' tags. */
  private async templateTags(
    deadline: Deadline | undefined,
  ): Promise<Array<{ template: string; tags: Readonly<Record<string, string>> }>> {
    // In the configured order, so reports and metrics read the same run after run.
    const order = this.options.templates.map((t) => t.toLowerCase());
    const found = (await this.options.client.listTemplates(this.options.organization, { deadline }))
      .filter((t) => order.includes(t.name.toLowerCase()))
      .sort((a, b) => order.indexOf(a.name.toLowerCase()) - order.indexOf(b.name.toLowerCase()));
    return Promise.all(
      found.map(async (t) => {
        let tags = this.versionTags.get(t.active_version_id);
        if (tags === undefined) {
          const version = await this.options.client.getTemplateVersion(t.active_version_id, { deadline });
          tags = organizationJobTags(version.job.tags ?? {});
          this.versionTags.set(t.active_version_id, tags);
        }
        return { template: t.name, tags };
      }),
    );
  }

  private controllerUserId(deadline: Deadline | undefined): Promise<string> {
    const call = { deadline: deadline ?? NO_DEADLINE };
    this.userId ??= (
      this.options.controllerUserId?.(call) ?? this.options.client.me(call).then((user) => user.id)
    ).catch((error: unknown) => {
      this.userId = undefined;
      throw error;
    });
    return this.userId;
  }

  /** The controller's active jobs, by the `initiator` filter where Coder has it, else by `initiator_id`. */
  private async controllerJobs(
    deadline: Deadline | undefined,
  ): Promise<{ userId: string; jobs: ControllerJobs | undefined } | undefined> {
    const { client, organization } = this.options;
    const limit = this.options.controllerJobsLimit ?? 1000;
    // Learned from Coder's answer where the release table only assumes it (capabilities.ts).
    const [userId, filter] = await Promise.all([
      this.controllerUserId(deadline),
      client.capability('provisionerJobsInitiatorFilter', { deadline }),
    ]);
    const jobs = await client.listProvisionerJobs(organization, {
      deadline,
      status: ['pending', 'running'],
      limit,
      ...(filter ? { initiator: userId } : {}),
    });
    // Without the filter the page holds everyone's jobs; whose each is needs initiator_id.
    if (!filter && jobs.some((j) => j.initiator_id === undefined)) return { userId, jobs: undefined };
    const mine = filter ? jobs : jobs.filter((j) => j.initiator_id === userId);
    return {
      userId,
      jobs: {
        pending: mine.filter((j) => j.status === 'pending').length,
        running: mine.filter((j) => j.status === 'running').length,
        complete: jobs.length < limit,
      },
    };
  }
}

const canTake = (daemon: ProvisionerDaemon, jobTags: Readonly<Record<string, string>>): boolean => {
  const tags = daemon.tags ?? {};
  if (jobTags.scope === 'user') {
    // A user-scoped job needs a daemon of its owner; count user-scoped daemons with the other tags.
    const { owner: _owner, ...rest } = jobTags;
    return tags.scope === 'user' && Object.entries(rest).every(([k, v]) => tags[k] === v);
  }
  return provisionerTagsetContains(tags, jobTags);
};

const countDaemons = (
  template: string,
  tags: Readonly<Record<string, string>>,
  online: readonly ProvisionerDaemon[],
): TemplateProvisioners => {
  const able = online.filter((d) => canTake(d, tags));
  return {
    template,
    tags,
    onlineDaemons: able.length,
    busyDaemons: able.filter((d) => d.status === 'busy').length,
    tagsExact: tags.scope !== 'user',
  };
};
