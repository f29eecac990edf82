/** Search queries as Coder parses them (`coderd/searchquery/search.go`). */
import { CoderApiError, type ValidationError } from './errors.js';
import { latestBuild, latestStatus, type SimAuditRow, type SimUser, type SimWorkspace } from './model.js';
import { isUuid, type SimState } from './state.js';

export type SearchTerms = Map<string, string[]>;

/** Split on a delimiter outside double quotes; quotes are removed unless kept for a second pass. */
function splitOutsideQuotes(input: string, delimiter: string, keepQuotes: boolean): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of input) {
    if (ch === '"') {
      quoted = !quoted;
      if (keepQuotes) current += ch;
      continue;
    }
    if (ch === delimiter && !quoted) {
      if (current !== '') parts.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  if (current !== '') parts.push(current);
  return parts;
}

/**
 * Parse `key:value` terms. `bare` decides what a term without a key means. Problems come back as
 * validation entries so the caller can answer with its own message.
 */
export function parseSearchTerms(
  query: string,
  bare: (term: string, add: (key: string, value: string) => void) => void,
): { terms: SearchTerms; problems: ValidationError[] } {
  const terms: SearchTerms = new Map();
  const add = (key: string, value: string): void => {
    const list = terms.get(key) ?? [];
    list.push(value);
    terms.set(key, list);
  };
  const problems: ValidationError[] = [];
  for (const element of splitOutsideQuotes(query, ' ', true)) {
    if (element.startsWith(':') || element.endsWith(':')) {
      problems.push({ field: 'q', detail: `Query element "${element}" cannot start or end with ':'` });
      continue;
    }
    const parts = splitOutsideQuotes(element, ':', false);
    const [first, second] = parts;
    if (parts.length === 1 && first !== undefined) bare(first, add);
    else if (parts.length === 2 && first !== undefined && second !== undefined)
      add(first.toLowerCase(), second);
    else problems.push({ field: 'q', detail: `Query element "${element}" can only contain 1 ':'` });
  }
  return { terms, problems };
}

const WORKSPACE_KEYS = new Set([
  'owner',
  'template',
  'name',
  'status',
  'id',
  'param',
  'organization',
  'has-agent',
  'healthy',
  'dormant',
  'outdated',
  'last_used_after',
  'last_used_before',
  'has-ai-task',
  'has_external_agent',
  'shared',
  'shared_with_user',
  'shared_with_group',
  'include_agent_metadata',
]);

const WORKSPACE_STATUSES = new Set([
  'pending',
  'starting',
  'running',
  'stopping',
  'stopped',
  'failed',
  'canceling',
  'canceled',
  'deleting',
  'deleted',
]);

const first = (terms: SearchTerms, key: string): string | undefined => terms.get(key)?.[0];

function invalidWorkspaceQuery(validations: ValidationError[]): CoderApiError {
  return new CoderApiError(400, 'Invalid workspace search query.', { validations });
}

/** Build a predicate for `GET /api/v2/workspaces?q=`. The whole query is lowercased first. */
export function workspaceFilter(
  state: SimState,
  caller: SimUser,
  rawQuery: string,
): (ws: SimWorkspace) => boolean {
  const { terms, problems } = parseSearchTerms(rawQuery.toLowerCase(), (term, add) => {
    const slash = splitOutsideQuotes(term, '/', false);
    if (slash.length === 2 && slash[0] !== undefined && slash[1] !== undefined) {
      add('owner', slash[0]);
      add('name', slash[1]);
    } else {
      add('name', term.replaceAll('"', ''));
    }
  });
  for (const key of terms.keys()) {
    if (!WORKSPACE_KEYS.has(key))
      problems.push({ field: key, detail: `Query param "${key}" is not a valid query param` });
  }
  const checks: Array<(ws: SimWorkspace) => boolean> = [];

  const owner = first(terms, 'owner');
  if (owner !== undefined) {
    const username = owner === 'me' ? caller.username.toLowerCase() : owner;
    checks.push((ws) => state.userOf(ws.ownerId).username.toLowerCase() === username);
  }
  const template = first(terms, 'template');
  if (template !== undefined) checks.push((ws) => state.templateOf(ws.templateId).name === template);
  const name = first(terms, 'name');
  if (name !== undefined) checks.push((ws) => ws.name.toLowerCase().includes(name));
  const status = first(terms, 'status');
  if (status !== undefined) {
    if (!WORKSPACE_STATUSES.has(status)) {
      problems.push({
        field: 'status',
        detail: `Query param "status" has invalid value: "${status}" is not a valid status`,
      });
    }
    checks.push((ws) => latestStatus(ws) === status);
  }
  const ids = terms.get('id');
  if (ids !== undefined) {
    const wanted = new Set(ids.flatMap((v) => v.split(',')).filter((v) => v !== ''));
    for (const id of wanted) {
      if (!isUuid(id))
        problems.push({ field: 'id', detail: `Query param "id" has invalid value: invalid UUID "${id}"` });
    }
    checks.push((ws) => wanted.has(ws.id));
  }
  const organization = first(terms, 'organization');
  if (organization !== undefined) {
    const org = [...state.orgs.values()].find((o) => o.id === organization || o.name === organization);
    checks.push((ws) => org !== undefined && ws.orgId === org.id);
  }
  for (const param of terms.get('param') ?? []) {
    const eq = param.indexOf('=');
    const pname = eq < 0 ? param : param.slice(0, eq);
    const pvalue = eq < 0 ? undefined : param.slice(eq + 1);
    checks.push((ws) =>
      latestBuild(ws).parameters.some(
        (p) => p.name.toLowerCase() === pname && (pvalue === undefined || p.value.toLowerCase() === pvalue),
      ),
    );
  }
  const outdated = first(terms, 'outdated');
  if (outdated !== undefined) {
    const want = outdated === 'true';
    checks.push(
      (ws) =>
        (latestBuild(ws).templateVersionId !== state.templateOf(ws.templateId).activeVersionId) === want,
    );
  }
  // Simulated workspaces have no agents and are never dormant.
  if (first(terms, 'dormant') === 'true') checks.push(() => false);
  if (terms.has('has-agent')) checks.push(() => false);
  const healthy = first(terms, 'healthy');
  if (healthy !== undefined) checks.push(() => healthy === 'true');
  const after = first(terms, 'last_used_after');
  if (after !== undefined) checks.push((ws) => Date.parse(ws.lastUsedAt) > Date.parse(after));
  const before = first(terms, 'last_used_before');
  if (before !== undefined) checks.push((ws) => Date.parse(ws.lastUsedAt) < Date.parse(before));

  if (problems.length > 0) throw invalidWorkspaceQuery(problems);
  return (ws) => checks.every((check) => check(ws));
}

const AUDIT_KEYS = new Set([
  'resource_type',
  'resource_id',
  'resource_target',
  'action',
  'username',
  'email',
  'date_from',
  'date_to',
  'organization',
  'request_id',
  'build_reason',
]);

/** Build a predicate for `GET /api/v2/audit?q=`; a bare word means `resource_type:`. */
export function auditFilter(
  state: SimState,
  caller: SimUser,
  rawQuery: string,
): (row: SimAuditRow) => boolean {
  const { terms, problems } = parseSearchTerms(rawQuery.toLowerCase(), (term, add) =>
    add('resource_type', term.replaceAll('"', '')),
  );
  for (const key of terms.keys()) {
    if (!AUDIT_KEYS.has(key))
      problems.push({ field: key, detail: `Query param "${key}" is not a valid query param` });
  }
  if (problems.length > 0)
    throw new CoderApiError(400, 'Invalid audit search query.', { validations: problems });
  const checks: Array<(row: SimAuditRow) => boolean> = [];
  const eq = (key: string, get: (row: SimAuditRow) => string): void => {
    const value = first(terms, key);
    if (value !== undefined) checks.push((row) => get(row).toLowerCase() === value);
  };
  eq('resource_type', (r) => r.resourceType);
  eq('resource_id', (r) => r.resourceId);
  eq('resource_target', (r) => r.resourceTarget);
  eq('action', (r) => r.action);
  eq('request_id', (r) => r.requestId);
  eq('build_reason', (r) => r.additionalFields.build_reason ?? '');
  const username = first(terms, 'username');
  if (username !== undefined) {
    const wanted = username === 'me' ? caller.username.toLowerCase() : username;
    checks.push((r) => state.users.get(r.userId)?.username.toLowerCase() === wanted);
  }
  eq('email', (r) => state.users.get(r.userId)?.email ?? '');
  const organization = first(terms, 'organization');
  if (organization !== undefined) {
    checks.push((r) => r.orgId === organization || state.orgOf(r.orgId).name === organization);
  }
  const from = first(terms, 'date_from');
  if (from !== undefined) checks.push((r) => r.time >= `${from}T00:00:00`);
  const to = first(terms, 'date_to');
  // Whole days, inclusive: date_to runs to 23:59:59.
  if (to !== undefined) checks.push((r) => r.time <= `${to}T23:59:59.999Z`);
  return (row) => checks.every((check) => check(row));
}
