// The scenarios, one file each, by name: a new one is a file here and one line below.
import { balancerExhaustion } from './balancer-exhaustion.js';
import { connectionRefused } from './connection-refused.js';
import { earlyClose } from './early-close.js';
import { keepaliveRace } from './keepalive-race.js';
import { largeBody } from './large-body.js';
import { partialPartition } from './partial-partition.js';
import { rapidReset } from './rapid-reset.js';
import { serverStreaming } from './server-streaming.js';
import { slowReader } from './slow-reader.js';
import type { ScenarioDef } from './types.js';
import { unary } from './unary.js';
import { windowExhaustion } from './window-exhaustion.js';
import { windowExhaustionClient } from './window-exhaustion-client.js';

export const SCENARIOS = {
  unary,
  'large-body': largeBody,
  'server-streaming': serverStreaming,
  'window-exhaustion': windowExhaustion,
  'window-exhaustion-client': windowExhaustionClient,
  'keepalive-race': keepaliveRace,
  'early-close': earlyClose,
  'partial-partition': partialPartition,
  'connection-refused': connectionRefused,
  'balancer-exhaustion': balancerExhaustion,
  'rapid-reset': rapidReset,
  'slow-reader': slowReader,
} as const satisfies Record<string, ScenarioDef>;

export type ScenarioName = keyof typeof SCENARIOS;
export const SCENARIO_NAMES = Object.keys(SCENARIOS) as [ScenarioName, ...ScenarioName[]];

export type { ScenarioDef } from './types.js';
