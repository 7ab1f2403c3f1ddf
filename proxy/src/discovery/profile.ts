// Profiles (GetProfile with --destination): per-route settings for the layers that retry and time out. A route
// matches by method and a path regex (anchored: it must match the whole path, query excluded); the first route
// that matches wins, as in linkerd's ServiceProfiles. Without a profile, or when no route matches, every
// request gets DEFAULT_ROUTE: not retryable, no timeout of its own.

/** What a route is chosen by: a request's method and path (service.ts's ProxyRequest has both). */
export interface RouteKey {
  method: string;
  path: string;
}

/** What the stack needs to know about the route of one request. */
export interface RouteSettings {
  /** The route's name in the profile (absent for DEFAULT_ROUTE). */
  name?: string;
  /** Failed requests on this route may be retried (linkerd's isRetryable). */
  retryable: boolean;
  /** The whole request, retries included, fails after this long; absent: no route timeout. */
  timeoutMs?: number;
}

export const DEFAULT_ROUTE: RouteSettings = Object.freeze({ retryable: false });

/** One route as the control plane sends it (already decoded from the proto). */
export interface ProfileRoute {
  name: string;
  /** Empty: any method. */
  method: string;
  /** Empty: any path. */
  pathRegex: string;
  retryable: boolean;
  /** 0: none. */
  timeoutMs: number;
}

/** Looks up the route of a request; the one thing a retry or timeout layer depends on. */
export interface RouteLookup {
  routeFor(req: RouteKey): RouteSettings;
}

interface CompiledRoute {
  method: string;
  path: RegExp | undefined;
  settings: RouteSettings;
}

/** The latest profile. `set` replaces it whole (a profile update is a full profile, never a delta). */
export class ProfileStore implements RouteLookup {
  private routes: CompiledRoute[] = [];

  /** Replaces the profile; returns the routes it could not use (a bad regex), to be reported. */
  set(routes: readonly ProfileRoute[]): string[] {
    const compiled: CompiledRoute[] = [];
    const rejected: string[] = [];
    for (const route of routes) {
      let path: RegExp | undefined;
      try {
        path = route.pathRegex === '' ? undefined : new RegExp(`^(?:${route.pathRegex})$`);
      } catch (err) {
        rejected.push(`route "${route.name}": bad path regex ${JSON.stringify(route.pathRegex)} (${(err as Error).message})`);
        continue;
      }
      const settings: RouteSettings = { name: route.name, retryable: route.retryable };
      if (route.timeoutMs > 0) settings.timeoutMs = route.timeoutMs;
      compiled.push({ method: route.method.toUpperCase(), path, settings: Object.freeze(settings) });
    }
    this.routes = compiled;
    return rejected;
  }

  routeFor(req: RouteKey): RouteSettings {
    if (this.routes.length === 0) return DEFAULT_ROUTE;
    const query = req.path.indexOf('?');
    const path = query === -1 ? req.path : req.path.slice(0, query);
    for (const route of this.routes) {
      if (route.method !== '' && route.method !== req.method.toUpperCase()) continue;
      if (route.path && !route.path.test(path)) continue;
      return route.settings;
    }
    return DEFAULT_ROUTE;
  }
}
