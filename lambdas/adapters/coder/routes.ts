/** The Coder endpoints the client uses, and how a route template plus values becomes a URL path and query. */

/** Swagger path templates of every operation the client uses. */
export const CODER_ROUTES = {
  buildInfo: '/api/v2/buildinfo',
  user: '/api/v2/users/{user}',
  organizations: '/api/v2/organizations',
  organization: '/api/v2/organizations/{organization}',
  workspaces: '/api/v2/workspaces',
  workspace: '/api/v2/workspaces/{workspace}',
  workspaceByOwnerAndName: '/api/v2/users/{user}/workspace/{workspacename}',
  /** coder/coder#14048: the organization is the template's; `.../members/{user}/workspaces` is deprecated. */
  userWorkspaces: '/api/v2/users/{user}/workspaces',
  workspaceBuilds: '/api/v2/workspaces/{workspace}/builds',
  buildParameters: '/api/v2/workspacebuilds/{workspacebuild}/parameters',
  templates: '/api/v2/templates',
  template: '/api/v2/templates/{template}',
  organizationTemplates: '/api/v2/organizations/{organization}/templates',
  organizationTemplate: '/api/v2/organizations/{organization}/templates/{templatename}',
  templateVersion: '/api/v2/templateversions/{templateversion}',
  richParameters: '/api/v2/templateversions/{templateversion}/rich-parameters',
  provisionerKeys: '/api/v2/organizations/{organization}/provisionerkeys',
  provisionerKey: '/api/v2/organizations/{organization}/provisionerkeys/{provisionerkey}',
  provisionerKeyDaemons: '/api/v2/organizations/{organization}/provisionerkeys/daemons',
  provisionerKeyDetails: '/api/v2/provisionerkeys/{provisionerkey}',
  provisionerDaemons: '/api/v2/organizations/{organization}/provisionerdaemons',
  provisionerJobs: '/api/v2/organizations/{organization}/provisionerjobs',
  audit: '/api/v2/audit',
} as const;

export type CoderRoute = (typeof CODER_ROUTES)[keyof typeof CODER_ROUTES];

/**
 * Coder ignores the path segment of the key-details route and authenticates the
 * `Coder-Provisioner-Daemon-Key` header; a fixed placeholder keeps the secret out of URLs and
 * access logs (the official Go client puts the key in the path).
 */
export const PROVISIONER_KEY_PATH_PLACEHOLDER = 'current';

/** Fills `{name}` segments, URL-encoding each value; dot segments are encoded so they cannot climb. */
export const expandPath = (template: string, params: Record<string, string>): string =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined || value === '') {
      throw new TypeError(`Coder path ${template} needs a non-empty "${name}"`);
    }
    const encoded = encodeURIComponent(value);
    return encoded === '.' || encoded === '..' ? encoded.replaceAll('.', '%2E') : encoded;
  });

/** Query values; undefined ones are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

/** `?a=1&b=2`, or '' when nothing is set. */
export const queryString = (query: Query | undefined): string => {
  if (!query) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
};
