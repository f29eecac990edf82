/** Workspace reads, creates and builds (start, stop, delete), for CoderClient. */
import { CoderApiError } from './errors.js';
import { CODER_ROUTES } from './routes.js';
import type { CoderTransport, MutationOptions, ReadOptions } from './transport.js';
import {
  type CreateWorkspaceBuildRequest,
  type CreateWorkspaceRequest,
  type Workspace,
  type WorkspaceBuild,
  type WorkspaceBuildParameter,
  workspaceBuildParameterSchema,
  workspaceBuildSchema,
  workspaceSchema,
  workspacesResponseSchema,
} from './types.js';

export interface ListWorkspacesOptions extends ReadOptions {
  /** Coder workspace search query, e.g. `owner:alice template:dev param:family=web`. */
  q?: string;
  /** Workspaces per page. @default 100 */
  pageSize?: number;
}

export interface GetWorkspaceOptions extends ReadOptions {
  includeDeleted?: boolean;
}

export type BuildOptions = Omit<CreateWorkspaceBuildRequest, 'transition'> & MutationOptions;

const DEFAULT_PAGE_SIZE = 100;

export async function* iterateWorkspaces(
  transport: CoderTransport,
  options: ListWorkspacesOptions,
): AsyncGenerator<Workspace, void, undefined> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
  }
  // Offset paging over a list that changes underneath can repeat an entry.
  const seen = new Set<string>();
  let offset = 0;
  for (;;) {
    const page = await transport.call({
      method: 'GET',
      route: CODER_ROUTES.workspaces,
      query: { q: options.q || undefined, limit: pageSize, offset },
      schema: workspacesResponseSchema,
      wording: { subject: `workspace search query ${JSON.stringify(options.q ?? '')}` },
      signal: options.signal,
    });
    for (const workspace of page.workspaces) {
      if (seen.has(workspace.id)) continue;
      seen.add(workspace.id);
      yield workspace;
    }
    offset += page.workspaces.length;
    if (page.workspaces.length < pageSize || offset >= page.count) return;
  }
}

export const getWorkspaceByOwnerAndName = async (
  transport: CoderTransport,
  owner: string,
  name: string,
  options: GetWorkspaceOptions,
): Promise<Workspace | undefined> => {
  try {
    return await transport.call({
      method: 'GET',
      route: CODER_ROUTES.workspaceByOwnerAndName,
      params: { user: owner, workspacename: name },
      query: { include_deleted: options.includeDeleted ? true : undefined },
      schema: workspaceSchema,
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof CoderApiError && error.kind === 'not_found') return undefined;
    throw error;
  }
};

export const getWorkspace = (
  transport: CoderTransport,
  id: string,
  options: GetWorkspaceOptions,
): Promise<Workspace> =>
  transport.call({
    method: 'GET',
    route: CODER_ROUTES.workspace,
    params: { workspace: id },
    query: { include_deleted: options.includeDeleted ? true : undefined },
    schema: workspaceSchema,
    wording: {
      notFound: `workspace ${id} not found (or not visible to the token's user)`,
      gone: `workspace ${id} has been deleted; pass includeDeleted to read it`,
    },
    signal: options.signal,
  });

export const getBuildParameters = (
  transport: CoderTransport,
  buildId: string,
  options: ReadOptions,
): Promise<WorkspaceBuildParameter[]> =>
  transport.call({
    method: 'GET',
    route: CODER_ROUTES.buildParameters,
    params: { workspacebuild: buildId },
    schema: workspaceBuildParameterSchema.array(),
    wording: { notFound: `workspace build ${buildId} not found` },
    signal: options.signal,
  });

export const createWorkspace = (
  transport: CoderTransport,
  organization: string,
  user: string,
  request: CreateWorkspaceRequest,
  options: MutationOptions,
): Promise<Workspace> => {
  const whole = `workspace "${request.name}" for user "${user}" in organization "${organization}"`;
  return transport.call({
    method: 'POST',
    route: CODER_ROUTES.userWorkspaces,
    params: { user },
    body: request,
    schema: workspaceSchema,
    isCreate: true,
    safeToRepeat: options.idempotent,
    wording: {
      subject: (validations) =>
        validations.length > 0 && validations.every((v) => v.field === 'name')
          ? `workspace name "${request.name}"`
          : whole,
      notFound: `cannot create ${whole}: the organization, user or template was not found`,
    },
    signal: options.signal,
  });
};

export const createBuild = (
  transport: CoderTransport,
  workspaceId: string,
  request: CreateWorkspaceBuildRequest,
  options: MutationOptions,
): Promise<WorkspaceBuild> =>
  transport.call({
    method: 'POST',
    route: CODER_ROUTES.workspaceBuilds,
    params: { workspace: workspaceId },
    body: request,
    schema: workspaceBuildSchema,
    safeToRepeat: options.idempotent,
    wording: {
      subject: `${request.transition} build for workspace ${workspaceId}`,
      notFound: `workspace ${workspaceId} not found (or not visible to the token's user)`,
      gone: `workspace ${workspaceId} has been deleted`,
    },
    signal: options.signal,
  });

/** A build of one transition, with the build options split from the call options. */
export const transition = (
  transport: CoderTransport,
  workspaceId: string,
  transition: CreateWorkspaceBuildRequest['transition'],
  options: BuildOptions,
): Promise<WorkspaceBuild> => {
  const { idempotent, signal, ...rest } = options;
  return createBuild(transport, workspaceId, { transition, ...rest }, { idempotent, signal });
};
