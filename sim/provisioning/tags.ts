/** Provisioner tags: how a job's tags are formed and which daemons may take it. */

export type Tags = Readonly<Record<string, string>>;

/** The tag set of an untagged job or daemon. */
export const UNTAGGED: Tags = { scope: 'organization', owner: '' };

/**
 * `provisionersdk.MutateTags` (provisionersdk/tags.go): `scope` defaults to `organization`; a
 * user-scoped job belongs to its owner, an organization-scoped one to nobody.
 */
export const mutateTags = (ownerId: string, ...provided: Tags[]): Record<string, string> => {
  const tags: Record<string, string> = {};
  for (const set of provided) Object.assign(tags, set);
  if (tags.scope === 'user') tags.owner = ownerId;
  else {
    tags.scope = 'organization';
    tags.owner = '';
  }
  return tags;
};

const sameTags = (a: Tags, b: Tags): boolean => {
  const ak = Object.keys(a);
  return ak.length === Object.keys(b).length && ak.every((k) => b[k] === a[k]);
};

/**
 * `provisioner_tagset_contains(provisioner_tags, job_tags)` (coderd/database/dump.sql, the function
 * behind `AcquireProvisionerJob` and the queue-position queries): an untagged job
 * (`{scope: organization, owner: ""}`) only goes to an untagged daemon (coder/coder#12269);
 * otherwise the daemon must carry every tag of the job, and may carry more.
 */
export const tagsetContains = (daemonTags: Tags, jobTags: Tags): boolean => {
  if (sameTags(jobTags, UNTAGGED)) return sameTags(daemonTags, jobTags);
  return Object.entries(jobTags).every(([k, v]) => daemonTags[k] === v);
};

/** A stable key of a tag set, for grouping daemons that serve the same jobs. */
export const tagsKey = (tags: Tags): string =>
  JSON.stringify(Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
