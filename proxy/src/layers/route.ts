// Route layer: looks a request's route up once in the --destination profile (discovery/profile.ts) and carries it
// on the request as `route`, for the layers that act on it (metrics label, route timeout, retryable). Without a
// profile source it is no layer at all, and those layers read `req.route` as absent.
import type { RouteLookup } from '../discovery/profile.js';
import type { Layer } from '../service.js';

export function layer(routes: RouteLookup | undefined): Layer {
  if (!routes) return (inner) => inner;
  return (inner) => (req) => inner({ ...req, route: routes.routeFor(req) });
}
