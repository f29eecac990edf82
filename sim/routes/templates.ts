/** Templates and their versions' rich parameters. */
import { CoderApiError, forbidden, notFound } from '../errors.js';
import type { SimUser } from '../model.js';
import { richParameterJson, templateJson, templateVersionJson } from '../serialize.js';
import { isTemplateAdmin, isUuid, type SimState } from '../state.js';
import { asObject, param, type Route, type RouteEnv, session } from './context.js';

/** A `{template}` or `{templateversion}` segment, lower-cased; 400 when it is not a UUID. */
function uuidSegment(ref: string): string {
  if (!isUuid(ref)) throw new CoderApiError(400, `Invalid UUID "${ref}".`);
  return ref.toLowerCase();
}

export function templateRoutes({ state }: RouteEnv): Route[] {
  return [
    session('GET', '/api/v2/templates', (ctx, caller) => ({
      status: 200,
      body: listTemplates(state, caller, undefined, ctx.url),
    })),
    session('GET', '/api/v2/organizations/{organization}/templates', (ctx, caller) => {
      const org = state.resolveOrg(param(ctx, 'organization'), caller);
      return { status: 200, body: listTemplates(state, caller, org.id, ctx.url) };
    }),
    session('GET', '/api/v2/organizations/{organization}/templates/{templatename}', (ctx, caller) => {
      const org = state.resolveOrg(param(ctx, 'organization'), caller);
      const name = param(ctx, 'templatename').toLowerCase();
      const t = [...state.templates.values()].find((x) => x.orgId === org.id && x.name === name);
      if (t === undefined) throw notFound();
      return { status: 200, body: templateJson(state, t) };
    }),
    session('GET', '/api/v2/templates/{template}', (ctx, caller) => {
      const t = state.templates.get(uuidSegment(param(ctx, 'template')));
      if (t === undefined || !state.canSeeOrg(caller, t.orgId)) throw notFound();
      return { status: 200, body: templateJson(state, t) };
    }),
    session('PATCH', '/api/v2/templates/{template}', (ctx, caller) => {
      const t = state.templates.get(uuidSegment(param(ctx, 'template')));
      if (t === undefined || !state.canSeeOrg(caller, t.orgId)) throw notFound();
      if (!isTemplateAdmin(caller)) throw forbidden();
      state.renameTemplate(t, asObject(ctx.json()).name);
      return { status: 200, body: templateJson(state, t) };
    }),
    session('GET', '/api/v2/templateversions/{templateversion}', (ctx, caller) => {
      const t = state.templateByVersion(uuidSegment(param(ctx, 'templateversion')));
      if (t === undefined || !state.canSeeOrg(caller, t.orgId)) throw notFound();
      state.heartbeat();
      return { status: 200, body: templateVersionJson(state, t) };
    }),
    session('GET', '/api/v2/templateversions/{templateversion}/rich-parameters', (ctx, caller) => {
      const t = state.templateByVersion(uuidSegment(param(ctx, 'templateversion')));
      if (t === undefined || !state.canSeeOrg(caller, t.orgId)) throw notFound();
      return { status: 200, body: t.parameters.map(richParameterJson) };
    }),
  ];
}

/** Templates visible to the caller; accepts the undocumented `q` keys the controller may use. */
function listTemplates(state: SimState, caller: SimUser, orgId: string | undefined, url: URL): unknown[] {
  const q = (url.searchParams.get('q') ?? '').toLowerCase().trim();
  const terms = new Map<string, string>();
  for (const part of q.split(/\s+/).filter((p) => p !== '')) {
    const idx = part.indexOf(':');
    if (idx < 0) terms.set('display_name', part);
    else terms.set(part.slice(0, idx), part.slice(idx + 1).replaceAll('"', ''));
  }
  const known = new Set([
    'exact_name',
    'name',
    'display_name',
    'exact_display_name',
    'organization',
    'deprecated',
    'deleted',
    'ids',
  ]);
  const unknown = [...terms.keys()].filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new CoderApiError(400, 'Invalid template search query.', {
      validations: unknown.map((k) => ({
        field: k,
        detail: `Query param "${k}" is not a valid query param`,
      })),
    });
  }
  return [...state.templates.values()]
    .filter((t) => (orgId === undefined ? state.canSeeOrg(caller, t.orgId) : t.orgId === orgId))
    .filter((t) => {
      const org = state.orgOf(t.orgId);
      const exact = terms.get('exact_name');
      const fuzzy = terms.get('name');
      const display = terms.get('display_name');
      const exactDisplay = terms.get('exact_display_name');
      const organization = terms.get('organization');
      const ids = terms.get('ids');
      if (exact !== undefined && t.name !== exact) return false;
      if (fuzzy !== undefined && !t.name.includes(fuzzy)) return false;
      if (display !== undefined && !t.displayName.toLowerCase().includes(display)) return false;
      if (exactDisplay !== undefined && t.displayName.toLowerCase() !== exactDisplay) return false;
      if (organization !== undefined && org.name !== organization && org.id !== organization) return false;
      if (ids !== undefined && !ids.split(',').includes(t.id)) return false;
      // Simulated templates are never deprecated or deleted.
      if (terms.get('deprecated') === 'true' || terms.get('deleted') === 'true') return false;
      return true;
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((t) => templateJson(state, t));
}
