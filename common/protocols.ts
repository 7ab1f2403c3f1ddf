// The protocols sluice speaks, by name: what the generator sends (harness/load/protocols.ts declares each with
// its clients), what the backends serve (workloads/backends) and what a scenario runs on (workloads/scenarios).
// Only the names live here, so every part may import them; all else about a protocol is its part's.
export const PROTOCOL_NAMES = ['h1', 'h2', 'grpc'] as const;
export type Protocol = (typeof PROTOCOL_NAMES)[number];
