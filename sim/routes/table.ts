/** Matches a request path to a route template. */
import type { Route } from './context.js';

interface CompiledRoute {
  route: Route;
  segments: string[];
  literals: number;
}

/** Matches a path to a route template; literal segments win over parameters. */
export class RouteTable {
  private readonly compiled: CompiledRoute[];

  constructor(routes: Route[]) {
    this.compiled = routes.map((route) => {
      const segments = route.template.split('/').filter((s) => s !== '');
      return { route, segments, literals: segments.filter((s) => !s.startsWith('{')).length };
    });
  }

  match(
    method: string,
    pathname: string,
  ): { route: Route; params: Record<string, string> } | { methodNotAllowed: string } | undefined {
    const parts = pathname.split('/').filter((s) => s !== '');
    let best: { c: CompiledRoute; params: Record<string, string> } | undefined;
    let templateForOtherMethod: string | undefined;
    for (const c of this.compiled) {
      if (c.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const seg = c.segments[i] ?? '';
        const part = parts[i] ?? '';
        if (seg.startsWith('{')) params[seg.slice(1, -1)] = decodeURIComponent(part);
        else if (seg !== part) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (c.route.method !== method) {
        templateForOtherMethod ??= c.route.template;
        continue;
      }
      if (best === undefined || c.literals > best.c.literals) best = { c, params };
    }
    if (best !== undefined) return { route: best.c.route, params: best.params };
    if (templateForOtherMethod !== undefined) return { methodNotAllowed: templateForOtherMethod };
    return undefined;
  }
}
