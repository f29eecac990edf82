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
  /** Whole re-reads allowed when the list moved while it was read. @default 2 */
  rereads?: number;
}

/**
 * Every workspace matching a query, and whether the read can be trusted to be whole.
 *
 * Offset paging is not a snapshot: Coder orders the list running-first, then by owner and name
 * (coderd/database/queries/workspaces.sql, `GetWorkspaces`), so a workspace that stops, starts, is
 * renamed, created or deleted between two page reads moves within the order and the next page
 * skips or repeats a row. Every such move that crosses the page boundary shows as a row seen twice
 * or a `count` that changed between pages (coderd recomputes it per page from its summary row,
 * coderd/workspaces.go `workspaces`): then the whole list is read again, and after `rereads` more
 * moved reads it is returned with `complete: false`. A complete read is still no proof that a
 * missing workspace is gone (a delete and a create between two pages cancel out in `count`): read
 * it by id before acting on its absence.
 */
export interface WorkspaceList {
  readonly workspaces: Workspace[];
  /** False when every read of the list moved underneath: a workspace may be missing from it. */
  readonly complete: boolean;
  /** The largest total Coder reported on any page of the last read (server-side filters only). */
  readonly count: number;
  /** Whole reads made (1 when the first read held still). */
  readonly reads: number;
}

export interface GetWorkspaceOptions extends ReadOptions {
  includeDeleted?: boolean;
}

export type BuildOptions = Omit<CreateWorkspaceBuildRequest, 'transition'> & MutationOptions;

const DEFAULT_PAGE_SIZE = 100;
const DEFAULT_REREADS = 2;

/** One page of a list read by offset, with the total the server reported alongside it. */
export interface ListPage<T> {
  readonly items: readonly T[];
  readonly count: number;
}

interface ListRead<T> {
  readonly items: T[];
  readonly moved: boolean;
  readonly count: number;
}

/** One pass over every page; `moved` when a row repeated or the total changed between pages. */
const readAllPages = async <T extends { readonly id: string }>(
  readPage: (offset: number, limit: number) => Promise<ListPage<T>>,
  pageSize: number,
): Promise<ListRead<T>> => {
  const seen = new Map<string, T>();
  let moved = false;
  let firstCount: number | undefined;
  let count = 0;
  let offset = 0;
  for (;;) {
    const page = await readPage(offset, pageSize);
    firstCount ??= page.count;
    if (page.count !== firstCount) moved = true;
    count = Math.max(count, page.count);
    for (const item of page.items) {
      if (seen.has(item.id)) moved = true;
      seen.set(item.id, item);
    }
    offset += page.items.length;
    if (page.items.length < pageSize || offset >= page.count) break;
  }
  // Fewer rows than the total with no repeat: the list ended early because rows left it.
  if (seen.size < count) moved = true;
  return { items: [...seen.values()], moved, count };
};

/**
 * Reads a whole offset-paged list, again while it moves (see WorkspaceList): the rule every list
 * the controller trusts goes through, whatever reads its pages.
 */
export const readWholeList = async <T extends { readonly id: string }>(
  readPage: (offset: number, limit: number) => Promise<ListPage<T>>,
  options: { pageSize: number; rereads: number },
): Promise<{ items: T[]; complete: boolean; count: number; reads: number }> => {
  // Rows only an earlier, moved read saw: kept (they were there a moment ago), never trusted whole.
  const earlier = new Map<string, T>();
  for (let reads = 1; ; reads++) {
    const read = await readAllPages(readPage, options.pageSize);
    if (!read.moved) return { items: read.items, complete: true, count: read.count, reads };
    if (reads > options.rereads) {
      const ids = new Set(read.items.map((w) => w.id));
      const missed = [...earlier.values()].filter((w) => !ids.has(w.id));
      return { items: [...read.items, ...missed], complete: false, count: read.count, reads };
    }
    for (const item of read.items) earlier.set(item.id, item);
  }
};

export const listWorkspaces = async (
  transport: CoderTransport,
  options: ListWorkspacesOptions,
): Promise<WorkspaceList> => {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
  }
  const list = await readWholeList(
    async (offset, limit) => {
      const page = await transport.call({
        method: 'GET',
        route: CODER_ROUTES.workspaces,
        query: { q: options.q || undefined, limit, offset },
        schema: workspacesResponseSchema,
        wording: { subject: `workspace search query ${JSON.stringify(options.q ?? '')}` },
        signal: options.signal,
        deadline: options.deadline,
      });
      return { items: page.workspaces, count: page.count };
    },
    { pageSize, rereads: options.rereads ?? DEFAULT_REREADS },
  );
  return { workspaces: list.items, complete: list.complete, count: list.count, reads: list.reads };
};

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
      deadline: options.deadline,
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
    deadline: options.deadline,
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
    deadline: options.deadline,
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
    deadline: options.deadline,
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
    deadline: options.deadline,
  });

/** A build of one transition, with the build options split from the call options. */
export const transition = (
  transport: CoderTransport,
  workspaceId: string,
  transition: CreateWorkspaceBuildRequest['transition'],
  options: BuildOptions,
): Promise<WorkspaceBuild> => {
  const { idempotent, signal, deadline, ...rest } = options;
  return createBuild(transport, workspaceId, { transition, ...rest }, { idempotent, signal, deadline });
};
